"""One worker for every workspace of a registry: fair turns, shared rate budgets.

``govsocial worker --all-workspaces`` runs a :class:`Fleet`. Each process serves every
workspace in service (archived ones are left alone), and any number of processes on any
number of machines can run side by side: each workspace's deliveries are claimed with the
same leases and ``FOR UPDATE SKIP LOCKED`` as a lone worker's, and published by the same
:class:`~govsocial.scheduling.worker.Worker` rules, so exactly once holds as it does there.

**Fairness.** The fleet works in turns. A turn first asks, in one statement, which
workspaces have work due (:meth:`~govsocial.store.registry.Registry.next_due`), then visits
each of them once, from a starting point that moves by one each turn, and claims at most
its share from each: ``per_turn``, or ``concurrency`` divided among the workspaces with work
when that is more (fewer when the fleet's ``concurrency`` is used up: it then waits for a
slot before the next workspace). One agency's backlog of 5,000 therefore takes its share
of the slots per turn, and another agency's post due now is claimed in the first turn that
reaches it, not after the backlog.

**Rate budgets** shared by every process (:class:`RateBudgets`): requests per second per
platform server (``platform_rates``) and per account (``account_rate``), kept as token
buckets in the registry's database (PostgreSQL, or the SQLite registry), on the database
server's clock. A delivery waits for both tokens before it is handled; its lease is renewed
while it waits.

One connection per process: with PostgreSQL every workspace is served through the
registry's one connection, switching ``search_path`` per transaction
(:class:`~govsocial.store.SharedConnection`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from govsocial.adapters.http import new_http_client
from govsocial.core.errors import ConfigurationError, GovSocialError
from govsocial.scheduling.worker import LOCK_CHECK_SECONDS, Worker, _Plan
from govsocial.store import DeliveryRow
from govsocial.store.registry import Registry
from govsocial.workspace.tenancy import Workspaces

if TYPE_CHECKING:
    import httpx

    from govsocial.client import AsyncClient

__all__ = ["Fleet", "RateBudgets"]

logger = logging.getLogger("govsocial.fleet")

#: how often the fleet re-reads the registry for workspaces created or archived (seconds)
REFRESH_SECONDS = 5.0


class RateBudgets:
    """Requests per second per platform server and per account, shared by every worker
    process on the registry's database (token buckets, :meth:`Registry.take`).

    :param platform_rates: ``{platform: requests per second}`` for each server of that
        platform (``mastodon`` at ``social.go.id`` and at ``mastodon.social`` are two
        budgets); a platform not named has no fleet budget (its adapter still honours the
        server's own rate-limit headers).
    :param account_rate: requests per second per account (None: no budget per account).
    :param burst: how many requests a full bucket lets through at once (default: one
        second's worth, at least 1).
    """

    def __init__(
        self,
        registry: Registry,
        *,
        platform_rates: dict[str, float] | None = None,
        account_rate: float | None = None,
        burst: float | None = None,
    ) -> None:
        for name, rate in {**(platform_rates or {}), "account": account_rate or 1.0}.items():
            if not (isinstance(rate, int | float) and rate > 0 and math.isfinite(rate)):
                raise ConfigurationError(
                    f"the rate of {name} must be a positive number of requests per second, "
                    f"not {rate!r}",
                    field="rate",
                    hint="for example --platform-rate mastodon=5 (five a second per server)",
                )
        self.registry = registry
        self.platform_rates = dict(platform_rates or {})
        self.account_rate = account_rate
        self.burst = burst

    @property
    def active(self) -> bool:
        """Whether any budget is set."""
        return bool(self.platform_rates) or self.account_rate is not None

    def scopes(
        self, workspace: str, account: str, platform: str, base_url: str | None
    ) -> list[tuple[str, float]]:
        """The buckets a request of ``account`` takes from, with their rates."""
        found: list[tuple[str, float]] = []
        if self.account_rate is not None:
            found.append((f"account:{workspace}:{account}", self.account_rate))
        rate = self.platform_rates.get(platform)
        if rate is not None:
            host = urlsplit(base_url).hostname if base_url else None
            found.append((f"platform:{platform}:{host or '-'}", rate))
        return found

    async def acquire(self, scopes: list[tuple[str, float]], stop: asyncio.Event) -> bool:
        """Wait until every bucket of ``scopes`` gave a token (False: ``stop`` came first)."""
        for scope, rate in scopes:
            burst = self.burst if self.burst is not None else max(1.0, rate)
            while True:
                wait = await asyncio.to_thread(self.registry.take, scope, rate=rate, burst=burst)
                if wait <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=min(wait, 5.0))
                if stop.is_set():
                    return False
        return True


class Fleet:
    """Publishes the due deliveries of every workspace in a registry, fairly.

    :param workspaces: the registry's workspaces (:class:`~govsocial.Workspaces`).
    :param concurrency: deliveries in flight at once, over all workspaces.
    :param per_turn: the most deliveries claimed from one workspace per turn.
    :param budgets: rate budgets shared with the other processes (None: none).
    :param http_client: one ``httpx.AsyncClient`` for every workspace's client (default:
        one built here); ``client_options`` are given to each workspace's client too.
    :param owner: this process's name in leases (default: host, pid and a random part).
    :param clock: the time source.
    """

    def __init__(
        self,
        workspaces: Workspaces,
        *,
        concurrency: int = 20,
        per_turn: int = 5,
        budgets: RateBudgets | None = None,
        http_client: httpx.AsyncClient | None = None,
        client_options: dict[str, Any] | None = None,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if per_turn < 1 or concurrency < 1:
            raise ConfigurationError(
                f"per_turn and concurrency must be at least 1 (got {per_turn}, {concurrency})",
                field="per_turn" if per_turn < 1 else "concurrency",
            )
        self.workspaces = workspaces
        self.concurrency = concurrency
        self.per_turn = per_turn
        self.budgets = budgets
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self._http_client = http_client
        self._client_options = dict(client_options or {})
        self._workers: dict[str, Worker] = {}
        self._clients: dict[str, AsyncClient] = {}
        self._names: list[str] = []
        self._refreshed = -math.inf
        self._locks_checked: dict[str, float] = {}
        self._start = 0
        #: ``(workspace, delivery id)`` in the order claimed (tests read the order)
        self.claimed: list[tuple[str, str]] = []

    def __repr__(self) -> str:
        return f"<Fleet {self.owner} on {self.workspaces.registry.url}>"

    # -- workspaces ------------------------------------------------------------------------

    def _refresh(self) -> list[str]:
        """The workspaces in service, re-read every :data:`REFRESH_SECONDS`."""
        if self.clock() - self._refreshed >= REFRESH_SECONDS:
            self._refreshed = self.clock()
            self._names = [e.name for e in self.workspaces.list(archived=False)]
            for gone in set(self._workers) - set(self._names):
                self._workers.pop(gone)  # archived: its leases run out, nothing new claimed
        return self._names

    def _worker(self, name: str) -> Worker:
        found = self._workers.get(name)
        if found is None:
            found = Worker(self.workspaces.core(name), concurrency=self.per_turn, owner=self.owner)
            found.clock = self.clock
            self._workers[name] = found
        if self.clock() - self._locks_checked.get(name, -math.inf) >= LOCK_CHECK_SECONDS:
            self._locks_checked[name] = self.clock()
            found._check_locks()
        return found

    def _client(self, name: str, http: httpx.AsyncClient) -> AsyncClient:
        from govsocial.client import AsyncClient

        found = self._clients.get(name)
        if found is None:
            options = {**self.workspaces.core(name).client_options(), **self._client_options}
            found = AsyncClient(http_client=http, **options)
            self._clients[name] = found
        return found

    # -- the loop --------------------------------------------------------------------------

    async def run(
        self,
        *,
        stop: asyncio.Event,
        until_idle: bool = False,
        poll: float = 0.5,
        on_claimed: Callable[[str, int], None] | None = None,
    ) -> int:
        """Publish what falls due in every workspace until ``stop`` is set (or,
        ``until_idle``, nothing is scheduled in any of them). In-flight deliveries finish;
        claimed ones are released. Returns how many deliveries were handled."""
        http = self._http_client or new_http_client()
        handled = 0
        in_flight: set[asyncio.Task[None]] = set()
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not stop.is_set():
                names = self._refresh()
                claimed = 0
                count = len(names)
                times = self._times(names)
                now = self.clock()
                rotated = [names[(self._start + step) % count] for step in range(count)]
                due = [n for n in rotated if (t := times.get(n)) is not None and t <= now]
                # a turn's share: per_turn each when many have work, more when few do
                share = max(self.per_turn, self.concurrency // max(1, len(due)))
                for name in due:
                    if stop.is_set():
                        break
                    while len(in_flight) >= self.concurrency and not stop.is_set():
                        await self._wait_for_slot(in_flight, stop, poll)
                    if stop.is_set():
                        break
                    room = min(share, self.concurrency - len(in_flight))
                    batch = await self._claim(name, room)
                    if not batch:
                        continue
                    claimed += len(batch)
                    if on_claimed is not None:
                        on_claimed(name, len(batch))
                    client = self._client(name, http)
                    worker = self._worker(name)
                    # without budgets the batch is checked and marked sending together, as
                    # one worker does; with them each delivery is, once its budget allows
                    checks = None
                    if self.budgets is None or not self.budgets.active:
                        checks = asyncio.ensure_future(
                            worker._store(worker._prepare, batch, worker.clock())
                        )
                    for delivery in batch:
                        self.claimed.append((name, delivery.id))
                        task = asyncio.create_task(
                            self._handle(worker, client, name, delivery, stop, checks)
                        )
                        in_flight.add(task)
                        task.add_done_callback(in_flight.discard)
                self._start = (self._start + 1) % max(1, count)
                handled += claimed
                if claimed:
                    continue  # the next turn at once: there may be more due
                later = [t for t in self._times(names).values() if t is not None]
                if until_idle and not in_flight and not later:
                    break
                wait = poll
                if later:
                    wait = min(poll, max(0.0, min(later) - self.clock()))
                if in_flight:
                    await self._wait_for_slot(in_flight, stop, max(wait, 0.01))
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=max(wait, 0.01))
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        finally:
            heartbeat.cancel()
            for name in list(self._workers):
                with contextlib.suppress(GovSocialError):
                    self._workers[name].store.release(self.owner, self.clock())
            for client in self._clients.values():
                await client.aclose()
            self._clients.clear()
            if self._http_client is None:
                await http.aclose()
        return handled

    async def _claim(self, name: str, limit: int) -> list[DeliveryRow]:
        worker = self._worker(name)
        return worker.store.claim(self.owner, self.clock(), worker.ws.lease, limit)

    def _times(self, names: list[str]) -> dict[str, float | None]:
        """When each workspace next has work (None: nothing scheduled): one statement for
        them all on PostgreSQL, each store asked on SQLite."""
        found = self.workspaces.registry.next_due(names)
        if found is None:
            found = {n: self._worker(n).store.next_due() for n in names}
        for name in names:  # opened before its first claim: its locks checked, its leases renewed
            self._worker(name)
        return found

    async def _wait_for_slot(
        self, in_flight: set[asyncio.Task[None]], stop: asyncio.Event, timeout: float
    ) -> None:
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait(
                {*in_flight, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stopper.cancel()

    async def _handle(
        self,
        worker: Worker,
        client: AsyncClient,
        name: str,
        delivery: DeliveryRow,
        stop: asyncio.Event,
        checks: asyncio.Future[dict[str, _Plan]] | None = None,
    ) -> None:
        if checks is not None:
            await worker._handle_safely(client, delivery, checks)
            return
        if self.budgets is not None and self.budgets.active:
            try:
                row = worker.ws.account_row(delivery.account)
            except GovSocialError:
                scopes: list[tuple[str, float]] = []  # the worker says what is wrong
            else:
                scopes = self.budgets.scopes(name, row.name, row.platform, row.base_url)
            if not await self.budgets.acquire(scopes, stop):
                return  # stopping: the claim is released, another worker takes it
        # checked (authority, grace, content) and marked sending on its own, once its
        # budget allows it: a delivery waiting for a budget is never left ``sending``
        checks = asyncio.ensure_future(worker._store(worker._prepare, [delivery], worker.clock()))
        await worker._handle_safely(client, delivery, checks)

    async def _heartbeat(self) -> None:
        """Renew this process's leases in every workspace it claimed from."""
        while True:
            default = float(self.workspaces.options.get("lease", 60.0))
            lease = min((w.ws.lease for w in self._workers.values()), default=default)
            await asyncio.sleep(max(0.5, lease / 3))
            for worker in list(self._workers.values()):
                worker.store.extend_leases(self.owner, self.clock() + worker.ws.lease)
