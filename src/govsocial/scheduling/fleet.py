"""One worker for every workspace of a registry: fair turns, shared rate budgets.

``govsocial worker --all-workspaces`` runs a :class:`Fleet`. Each process serves every
workspace in service (archived ones are left alone), and any number of processes on any
number of machines can run side by side: each workspace's deliveries are claimed with the
same leases and ``FOR UPDATE SKIP LOCKED`` as a lone worker's, and published by the same
:class:`~govsocial.scheduling.worker.Worker` rules, so exactly once holds as it does there.

**Fairness.** The fleet works in turns. A turn first asks, in one statement, which
workspaces have work due (:meth:`~govsocial.store.registry.Registry.next_due`), then visits
each of them once, from a starting point that moves by one each turn, and claims its share
from each: ``per_turn``, or ``concurrency`` divided among the workspaces with work when
that is more (fewer when the fleet's ``concurrency`` is used up: it then waits for free
slots before the next workspaces). The workspaces a turn visits together are claimed in one
statement (:meth:`~govsocial.store.registry.Registry.claim`). While a turn goes on, the
fleet asks every :data:`DUE_REFRESH_SECONDS` which workspaces it has not visited yet fell
due, and visits them next. One agency's backlog of 5,000 therefore takes its share of the
slots per turn, and another agency's post due now is claimed as soon as the fleet sees it,
not after the backlog nor at the end of a long turn.

**Rate budgets** shared by every process (:class:`RateBudgets`): requests per second per
platform server (``platform_rates``) and per account (``account_rate``), kept as token
buckets in the registry's database (PostgreSQL, or the SQLite registry), on the database
server's clock. A delivery waits for both tokens before it is handled; its lease is renewed
while it waits.

Two connections and two threads per process, whatever the number of workspaces: with
PostgreSQL every workspace is served through the registry's one connection, switching
``search_path`` per transaction (:class:`~govsocial.store.SharedConnection`), in one store
thread; the outcomes of every workspace are recorded through a second one, in a thread of
its own, those that come back together committed together (one transaction per workspace).
Every workspace's :class:`~govsocial.scheduling.worker.Worker` shares the process's
:class:`~govsocial.scheduling.worker.Runtime`; the fleet claims, and hands each claimed
batch to the worker (:meth:`~govsocial.scheduling.worker.Worker.start`), which checks it,
marks it ``sending`` and publishes it by the same rules as a lone worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
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
from govsocial.scheduling.worker import LOCK_CHECK_SECONDS, Runtime, Worker
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
#: while busy, how often the fleet asks again which workspaces have work due (seconds): a
#: post falling due in a workspace not yet visited this turn is claimed this long after,
#: at most, however long the turn (between, claims that came back short tell it which
#: workspaces have nothing left)
DUE_REFRESH_SECONDS = 0.25


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
    :param per_turn: the deliveries claimed from one workspace per turn (more when few
        workspaces have work); each claimed batch costs the same few transactions
        whatever its size, so larger turns send more a second, smaller ones are finer.
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
        per_turn: int = 25,
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
        #: the store thread, the outcomes thread and the committer every workspace shares
        self.runtime = Runtime()
        self._workers: dict[str, Worker] = {}
        self._clients: dict[str, AsyncClient] = {}
        self._names: list[str] = []
        self._refreshed = -math.inf
        self._locks_checked: dict[str, float] = {}
        self._start = 0
        # which workspaces have work when (asked at most every DUE_REFRESH_SECONDS while
        # busy), and those whose last claim came back short since
        self._times_cache: dict[str, float | None] = {}
        self._times_read = -math.inf
        self._rest_read = -math.inf
        self._short: set[str] = set()
        #: ``(workspace, delivery id)`` in the order claimed (tests read the order)
        self.claimed: list[tuple[str, str]] = []

    def __repr__(self) -> str:
        return f"<Fleet {self.owner} on {self.workspaces.registry.url}>"

    # -- workspaces ------------------------------------------------------------------------

    def _refresh(self) -> list[str]:
        """In the store thread: the workspaces in service, re-read every
        :data:`REFRESH_SECONDS`."""
        if self.clock() - self._refreshed >= REFRESH_SECONDS:
            self._refreshed = self.clock()
            self._names = [e.name for e in self.workspaces.list(archived=False)]
            for gone in set(self._workers) - set(self._names):
                self._workers.pop(gone)  # archived: its leases run out, nothing new claimed
        return self._names

    async def _worker(self, name: str) -> Worker:
        """Workspace ``name``'s worker (opened once, on the fleet's runtime), its account
        locks looked at every :data:`LOCK_CHECK_SECONDS`."""
        found = self._workers.get(name)
        if found is None:
            core = await self.runtime.call(self.workspaces.core, name)
            found = Worker(core, concurrency=self.per_turn, owner=self.owner, runtime=self.runtime)
            found.clock = self.clock
            await found.begin()
            self._workers[name] = found
        if self.clock() - self._locks_checked.get(name, -math.inf) >= LOCK_CHECK_SECONDS:
            self._locks_checked[name] = self.clock()
            await self.runtime.call(found.check_locks)
        return found

    async def _client(self, worker: Worker, name: str, http: httpx.AsyncClient) -> AsyncClient:
        from govsocial.client import AsyncClient

        found = self._clients.get(name)
        if found is None:
            stored = await self.runtime.call(worker.ws.client_options)
            found = AsyncClient(http_client=http, **{**stored, **self._client_options})
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
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(self.runtime.run())
            stack.push_async_callback(self._close_clients, http)
            stack.push_async_callback(self.runtime.call, self._release)
            heartbeat = asyncio.create_task(self._heartbeat())
            stack.callback(heartbeat.cancel)
            handled = await self._turns(http, in_flight, stop, until_idle, poll, on_claimed)
        return handled

    async def _turns(
        self,
        http: httpx.AsyncClient,
        in_flight: set[asyncio.Task[None]],
        stop: asyncio.Event,
        until_idle: bool,
        poll: float,
        on_claimed: Callable[[str, int], None] | None,
    ) -> int:
        """The turns, until ``stop`` (or idle); then the deliveries in flight finish."""
        handled = 0
        try:
            while not stop.is_set():
                names = await self.runtime.call(self._refresh)
                claimed = 0
                count = len(names)
                rotated = [names[(self._start + step) % count] for step in range(count)]
                waiting = await self._due(rotated)
                visited: set[str] = set()
                # a turn's share: per_turn each when many have work, more when few do
                share = max(self.per_turn, self.concurrency // max(1, len(waiting)))
                while waiting and not stop.is_set():
                    while len(in_flight) >= self.concurrency and not stop.is_set():
                        await self._wait_for_slot(in_flight, stop, poll)
                    if stop.is_set():
                        break
                    if self.clock() - self._rest_read >= DUE_REFRESH_SECONDS:
                        # a workspace that fell due meanwhile, neither visited this turn nor
                        # waiting for its visit, goes first: it waits no longer than the
                        # refresh, however long the backlog elsewhere
                        waiting = await self._fallen_due(rotated, visited, waiting) + waiting
                    # as many of the next workspaces as the free slots allow, each its
                    # share, claimed together
                    room = self.concurrency - len(in_flight)
                    wanted: dict[str, int] = {}
                    while waiting and room > 0:
                        name = waiting.pop(0)
                        wanted[name] = min(share, room)
                        room -= wanted[name]
                    visited.update(wanted)
                    batches = await self._claim(wanted)
                    for name, batch in batches.items():
                        if len(batch) < wanted[name]:
                            self._short.add(name)  # nothing more due there for now
                        if not batch:
                            continue
                        claimed += len(batch)
                        if on_claimed is not None:
                            on_claimed(name, len(batch))
                        worker = await self._worker(name)
                        client = await self._client(worker, name, http)
                        self.claimed += [(name, d.id) for d in batch]
                        # without budgets the batch is checked and marked sending together,
                        # as one worker does; with them each delivery is, once its budget
                        # allows
                        if self.budgets is None or not self.budgets.active:
                            tasks = worker.start(client, batch)
                        else:
                            tasks = [
                                asyncio.create_task(self._budgeted(worker, client, name, d, stop))
                                for d in batch
                            ]
                        for task in tasks:
                            in_flight.add(task)
                            task.add_done_callback(in_flight.discard)
                self._start = (self._start + 1) % max(1, count)
                handled += claimed
                if claimed:
                    continue  # the next turn at once: there may be more due
                self._times_read = -math.inf  # idle: ask afresh each poll
                later = [
                    t
                    for t in (await self._times(names, processing=False)).values()
                    if t is not None
                ]
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
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        return handled

    def _release(self) -> None:
        """In the store thread: give back what this process claimed and did not start;
        the workers are made again by the next run, on its runtime."""
        for worker in list(self._workers.values()):
            with contextlib.suppress(GovSocialError):
                worker.store.release(self.owner, self.clock())
        self._workers.clear()
        self._locks_checked.clear()

    async def _close_clients(self, http: httpx.AsyncClient) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        if self._http_client is None:
            await http.aclose()

    async def _claim(self, wanted: dict[str, int]) -> dict[str, list[DeliveryRow]]:
        """Up to ``wanted[name]`` deliveries of each workspace, in ``wanted``'s order: one
        statement for them all on PostgreSQL (:meth:`Registry.claim`), each store's claim
        on SQLite."""
        workers = {name: await self._worker(name) for name in wanted}
        plan = {name: (limit, workers[name].ws.lease) for name, limit in wanted.items()}
        found = await self.runtime.call(
            self.workspaces.registry.claim, plan, self.owner, self.clock()
        )
        if found is None:
            found = {}
            for name, (limit, lease) in plan.items():
                found[name] = await self.runtime.call(
                    workers[name].store.claim, self.owner, self.clock(), lease, limit
                )
        return {name: found.get(name, []) for name in wanted}

    async def _due(self, rotated: list[str]) -> list[str]:
        """The workspaces of ``rotated`` with work due now, in that order: asked again
        when the last answer is :data:`DUE_REFRESH_SECONDS` old, else that answer less the
        workspaces whose claims came back short since."""
        if self.clock() - self._times_read >= DUE_REFRESH_SECONDS:
            self._times_cache = await self._times(rotated)
            self._times_read = self._rest_read = self.clock()
            self._short.clear()
        now = self.clock()
        return [
            name
            for name in rotated
            if (t := self._times_cache.get(name)) is not None
            and t <= now
            and name not in self._short
        ]

    async def _fallen_due(
        self, rotated: list[str], visited: set[str], waiting: list[str]
    ) -> list[str]:
        """In the middle of a turn: the workspaces of ``rotated`` neither ``visited`` nor
        ``waiting`` that have work due now (asked about those only: in a broadcast to every
        workspace, none, and no statement is made)."""
        self._rest_read = self.clock()
        rest = [n for n in rotated if n not in visited and n not in waiting]
        if not rest:
            return []
        times = await self._times(rest)
        now = self.clock()
        return [n for n in rest if (t := times.get(n)) is not None and t <= now]

    async def _times(self, names: list[str], *, processing: bool = True) -> dict[str, float | None]:
        """When each workspace next has work (None: nothing scheduled; ``processing``:
        counting when processing deliveries are looked at again): one statement for them
        all on PostgreSQL, each store asked on SQLite."""
        names = sorted(names)  # the same workspaces, the same statement (prepared once)
        registry = self.workspaces.registry
        found = await self.runtime.call(
            functools.partial(registry.next_due, names, processing=processing)
        )
        for name in names:  # opened before its first claim: its locks checked, its leases renewed
            await self._worker(name)
        if found is None:
            found = {
                n: await self.runtime.call(
                    functools.partial(self._workers[n].store.next_due, processing=processing)
                )
                for n in names
            }
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

    async def _budgeted(
        self,
        worker: Worker,
        client: AsyncClient,
        name: str,
        delivery: DeliveryRow,
        stop: asyncio.Event,
    ) -> None:
        """One delivery, once its rate budgets give it a token: checked (authority, grace,
        content) and marked ``sending`` on its own then, so a delivery waiting for a budget
        is never left ``sending``."""
        assert self.budgets is not None
        try:
            row = await self.runtime.call(worker.ws.account_row, delivery.account)
        except GovSocialError:
            scopes: list[tuple[str, float]] = []  # the worker says what is wrong
        else:
            scopes = self.budgets.scopes(name, row.name, row.platform, row.base_url)
        if not await self.budgets.acquire(scopes, stop):
            return  # stopping: the claim is released, another worker takes it
        await asyncio.gather(*worker.start(client, [delivery]))

    async def _heartbeat(self) -> None:
        """Renew this process's leases in every workspace it claimed from."""
        while True:
            default = float(self.workspaces.options.get("lease", 60.0))
            lease = min((w.ws.lease for w in self._workers.values()), default=default)
            await asyncio.sleep(max(0.5, lease / 3))
            await self.runtime.call(self._extend)

    def _extend(self) -> None:
        for worker in list(self._workers.values()):
            worker.store.extend_leases(self.owner, self.clock() + worker.ws.lease)
