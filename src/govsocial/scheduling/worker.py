"""Workers: publish due deliveries exactly once, whatever crashes.

The rules, in the order a delivery meets them:

1. **Claim** due deliveries under a lease (owner + expiry) in one transaction; with
   PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets many workers claim side by side.
2. **Misfire**: a delivery later than the workspace's grace period is ``missed``, never
   published hours late.
3. **Record, then send**: the attempt (status ``sending``) is committed BEFORE the request
   leaves, with the idempotency key chosen when the job was planned.
4. **Commit the remote id** the moment the platform answers.
5. **Authority at publication**: on an account under appointments, every delivery is
   checked when it is sent, against the appointments, rules, drafts, approvals and audit
   log as they stand then (:meth:`govsocial.workspace.authority.Authority.check_publication`),
   not against the authority string stored in the job. A delivery whose admin was revoked,
   whose decree ended, whose approvers no longer hold their appointments, or whose job or
   approvals were written outside govsocial ends ``refused``, with the reason, audit-logged.
   A recurring job stops there: its next occurrence is not planned (an admin in force plans
   it again), so a revoked admin's daily post ends with one refusal, not one a day.
6. **Pinned content**, checked after the authority: a job made from an approved draft
   carries the digest of the content approved (:mod:`govsocial.workspace.content`). Before
   sending, the worker reads every media file, recomputes the digests and holds the post to
   them and to the approvals in the audit log; anything different is ``refused`` (naming
   the file and both digests, audit-logged) and nothing is sent. The bytes checked are the
   bytes sent.
7. **Failures**: safe-to-retry ones (rate limits, unreachable servers, 502-504, and 5xx where
   the platform deduplicates repeats) go back to ``scheduled`` with backoff, up to the
   workspace's ``max_attempts``; the rest are ``failed`` with the platform's message.
8. **Reconcile**: a delivery found in ``sending`` (its worker died) or whose answer was lost
   is looked up before anything is sent again: the platform says whether the post exists
   (Bluesky: by record key), or, where it cannot tell, a repeat with the same key is safe
   within the platform's idempotency window (Mastodon: about an hour). Outside of that the
   delivery becomes ``unknown`` for a human: never resent.
9. **Locked accounts**: when an account's credentials cannot be opened here (a wrong, short
   or missing ``GOVSOCIAL_SECRET_KEY``, an ``env:`` variable unset or not allowed), the
   account is marked locked, naming what failed and the fix, and its delivery is given back
   before any attempt is recorded: ``scheduled`` again (or, if it was caught in ``sending``,
   left to be reconciled), never ``failed``. Locked accounts' deliveries are not claimed.
   A worker checks the locks when it starts and every :data:`LOCK_CHECK_SECONDS`, and lifts
   those it can open, so the deliveries go out (once) when the key or variable is back.
10. **Processing**: when the platform accepted the post and is still processing it (the
   adapter raises :class:`~govsocial.core.errors.PublishPending`: TikTok's moderation can
   take hours), the delivery becomes ``processing`` (audit-logged, its checkpoint kept, no
   attempt counted beyond the one that sent it) and no worker holds it. When it is due to
   be looked at again, any worker claims it and only reads its status
   (:meth:`govsocial.client.AsyncClient.resume_processing`), never sending anything: it
   ends ``published``, ``failed`` (the platform refused it after all), waits again, or,
   past the workspace's ``processing_limit``, ends ``unknown`` with a
   :class:`~govsocial.core.errors.ProcessingTimeout`. The authority and the pinned content
   are not checked again: they were checked when it was sent, and the platform already
   holds it (docs/operations.md, "Processing").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from govsocial.core.errors import (
    AccountLocked,
    AuthenticationError,
    ConfigurationError,
    GovSocialError,
    NotPermitted,
    PlatformError,
    PluginError,
    ProcessingTimeout,
    PublishOutcomeUnknown,
    PublishPending,
    RateLimited,
    ValidationError,
)
from govsocial.core.models import Account, EventContext, Post, PostRef
from govsocial.core.timing import Recurrence, from_epoch
from govsocial.scheduling.planner import new_delivery
from govsocial.store import AccountRow, DeliveryRow, Store, Tx
from govsocial.workspace import audit
from govsocial.workspace.content import PinnedContent, check_pinned
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of

if TYPE_CHECKING:
    from govsocial.client import AsyncClient
    from govsocial.workspace.authority import PublicationAuthority

__all__ = ["DEFAULT_CONCURRENCY", "Runtime", "Worker"]

_T = TypeVar("_T")


logger = logging.getLogger("govsocial.worker")

_GATEWAY = frozenset({502, 503, 504})

#: deliveries a worker has in flight at once unless told otherwise (``--concurrency``): a
#: claimed batch is checked and marked ``sending`` together, and its requests go out
#: together; a worker's HTTP pool holds 100 connections (docs/operations.md, Throughput)
DEFAULT_CONCURRENCY = 100
#: how often a running worker looks whether it can open locked accounts again (seconds)
LOCK_CHECK_SECONDS = 30.0
#: how often a worker re-reads stored credentials to notice replaced ones (seconds)
CREDENTIALS_CHECK_SECONDS = 5.0


class _Resend:
    """Reconciliation's answer: sending again with the same key cannot duplicate."""


@dataclass
class _Plan:
    """A claimed delivery that passed its checks, with what sending it needs."""

    d: DeliveryRow
    account: Account
    platform: str
    post: Post
    recurrence: str | None
    authority: dict[str, Any]
    post_json: str


@dataclass
class _Writes:
    """Outcomes to record together: each state change with its audit entry, in one
    transaction (see :meth:`Worker._commit`)."""

    published: list[tuple[str, str, str | None, dict[str, str]]] = field(default_factory=list)
    finals: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    retries: list[tuple[str, float, str, str]] = field(default_factory=list)
    waits: list[tuple[DeliveryRow, AccountLocked]] = field(default_factory=list)
    entries: list[audit.Pending] = field(default_factory=list)
    after: list[Callable[[], None]] = field(default_factory=list)

    def merge(self, other: _Writes) -> None:
        self.published += other.published
        self.finals += other.finals
        self.retries += other.retries
        self.waits += other.waits
        self.entries += other.entries
        self.after += other.after

    def __bool__(self) -> bool:
        return bool(self.published or self.finals or self.retries or self.waits)


class _ContentReads:
    """The audit entries one batch's content checks read, each read once: the planning
    entries of every (job, account) in one query, a draft's approvals and an entry's
    signature check once per batch however many deliveries share them."""

    def __init__(self, store: Store, cur: Tx, pairs: list[tuple[str, str]]) -> None:
        self.store = store
        self._planned = audit.planning_entries(store, cur, pairs)
        self._approvals: dict[str, list[audit.AuditEntry]] = {}
        self._holds: dict[int, str | None] = {}

    def planned(self, job_id: str, account: str) -> list[audit.AuditEntry]:
        return self._planned.get((job_id, account), [])

    def approvals(self, draft: str) -> list[audit.AuditEntry]:
        if draft not in self._approvals:
            self._approvals[draft] = audit.entries(self.store, action="approve", obj=draft)
        return self._approvals[draft]

    def holds(self, entry: audit.AuditEntry) -> str | None:
        if entry.seq not in self._holds:
            self._holds[entry.seq] = audit.signature_holds(self.store, entry)
        return self._holds[entry.seq]


class Runtime:
    """The threads and the committer that the workers of one process share for a run.

    Every call a worker makes to its store runs in the runtime's store thread (one: the
    calls keep their order, one connection serves them, the event loop never waits on the
    database). Outcomes are recorded by a committer on a second connection, in a thread of
    its own: those that come back while a commit is under way are committed together in the
    next one, one transaction per workspace, each state change with its audit entry.

    A lone :class:`Worker` makes its own. The fleet (:class:`~govsocial.scheduling.fleet.Fleet`)
    makes one for all the workspaces it serves and hands it to each of their workers, so a
    process serving 100 workspaces keeps two connections and two threads, not 200 of each.
    """

    def __init__(self) -> None:
        self._db: ThreadPoolExecutor | None = None
        self._outcomes_db: ThreadPoolExecutor | None = None
        self._queue: asyncio.Queue[tuple[Worker, _Writes, asyncio.Future[None]]] | None = None
        # (a workspace's store, its store on the second connection), in the order opened
        self._twins: list[tuple[Store, Store]] = []

    @property
    def running(self) -> bool:
        """Whether :meth:`run` is under way."""
        return self._db is not None

    async def call(self, call: Callable[..., _T], *args: Any) -> _T:
        """``call(*args)`` in the store thread, while the event loop goes on (called in
        place when the runtime is not running)."""
        if self._db is None:
            return call(*args)
        return await asyncio.get_running_loop().run_in_executor(
            self._db, functools.partial(call, *args)
        )

    def twin(self, store: Store) -> Store:
        """In the store thread: the store outcomes of ``store``'s workspace are recorded
        on: the same workspace through the runtime's second connection (opened with the
        first workspace; the others share it where the database allows), or ``store``
        itself where there can be no second connection (an in-memory database)."""
        beside = next((t for s, t in self._twins if s.shares_connection(store)), None)
        found = store.another(beside=beside)
        if found is None:
            return store
        self._twins.append((store, found))
        if self._outcomes_db is None:
            self._outcomes_db = ThreadPoolExecutor(1, thread_name_prefix="govsocial-outcomes")
        return found

    async def settle(self, worker: Worker, writes: _Writes) -> None:
        """Record ``writes`` of ``worker``; return once they are committed."""
        if self._queue is None:
            failure = worker._commit([writes])[0]
            if failure is not None:
                raise failure
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((worker, writes, done))
        await done

    @contextlib.asynccontextmanager
    async def run(self) -> AsyncIterator[Runtime]:
        """Start the threads and the committer; stop them (and close the second
        connections) at the end."""
        if self._db is not None:
            raise RuntimeError("this runtime is already running")
        self._db = ThreadPoolExecutor(1, thread_name_prefix="govsocial-worker-store")
        self._queue = asyncio.Queue()
        committer = asyncio.create_task(self._committer(self._queue))
        try:
            yield self
        finally:
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer
            db, self._db, self._queue = self._db, None, None
            db.shutdown(wait=True)
            if self._outcomes_db is not None:
                self._outcomes_db.shutdown(wait=True)
                self._outcomes_db = None
            for _, twin in reversed(self._twins):  # those sharing one before its owner
                twin.close()
            self._twins.clear()

    async def _committer(
        self, queue: asyncio.Queue[tuple[Worker, _Writes, asyncio.Future[None]]]
    ) -> None:
        while True:
            waiting = [await queue.get()]
            while not queue.empty():
                waiting.append(queue.get_nowait())
            groups: dict[int, tuple[Worker, list[_Writes]]] = {}
            for worker, writes, _ in waiting:
                groups.setdefault(id(worker), (worker, []))[1].append(writes)
            try:
                failed = await asyncio.get_running_loop().run_in_executor(
                    self._outcomes_db or self._db, _commit_groups, list(groups.values())
                )
            except Exception as error:  # noqa: BLE001 - each delivery handles it
                failed = {id(w): [error] * len(ws) for w, ws in groups.values()}
            positions: dict[int, int] = {}
            for worker, _, done in waiting:
                at = positions.get(id(worker), 0)
                positions[id(worker)] = at + 1
                failure = failed[id(worker)][at]
                if done.done():
                    continue
                if failure is None:
                    done.set_result(None)
                else:
                    done.set_exception(failure)


def _commit_groups(groups: list[tuple[Worker, list[_Writes]]]) -> dict[int, list[Exception | None]]:
    """In the outcomes thread: each worker's outcomes in a transaction of its own."""
    return {id(worker): worker._commit(writes) for worker, writes in groups}


class Worker:
    """Publishes a workspace's due deliveries.

    A claimed batch is checked (accounts opened, the authority at publication, the content
    digest) and marked ``sending`` in one transaction before any of its requests leaves;
    the requests go out concurrently, and their outcomes are recorded as they come back,
    those that arrive together in one transaction, each with its audit entry. Every call
    to the store runs in one thread of the worker's own, never on the event loop.

    :param concurrency: deliveries in flight at once (and claimed per batch).
    :param owner: this worker's name in leases (default: host, pid and a random part).
    :param clock: the time source (tests pass a fake one).
    :param runtime: the threads and committer to work with (default: its own, for
        :meth:`run` and :meth:`run_due`); the fleet gives every workspace's worker the
        process's one, runs it, and hands batches to :meth:`start`.
    """

    def __init__(
        self,
        workspace: WorkspaceCore | HasCore,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
        runtime: Runtime | None = None,
    ) -> None:
        self.ws = core_of(workspace)
        self.store = self.ws.store
        self.concurrency = max(1, concurrency)
        # while deliveries are in flight, claim again once half the slots are free: each
        # batch costs a few transactions whatever its size
        self._batch_floor = max(1, self.concurrency // 2)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.handled = 0
        # name -> (account, platform, the stored credentials it was opened from)
        self._accounts: dict[str, tuple[Account, str, str]] = {}
        self._credentials_checked = -math.inf
        self._locks_checked = -math.inf
        self._posts: dict[str, tuple[Post, str | None, dict[str, Any], str]] = {}
        self._checked: dict[str, PublicationAuthority] = {}
        self.runtime = runtime or Runtime()
        # outcomes are recorded on a connection and in a thread of their own, so that a
        # batch being claimed and checked does not hold them up (and the other way round)
        self._outcomes_store: Store | None = None

    def __repr__(self) -> str:
        return f"<Worker {self.owner} on {self.ws!r}>"

    # -- the store, off the event loop ---------------------------------------------------

    async def _store(self, call: Callable[..., _T], *args: Any) -> _T:
        """``call(*args)`` in the runtime's store thread, while the event loop goes on."""
        return await self.runtime.call(call, *args)

    async def begin(self) -> None:
        """Open the store this worker records outcomes on (its runtime running): its
        workspace through the runtime's second connection."""
        if self._outcomes_store is None:
            self._outcomes_store = await self._store(self.runtime.twin, self.store)

    @contextlib.asynccontextmanager
    async def _running(self) -> AsyncIterator[None]:
        """The runtime (its threads and committer), the outcomes store and the lease
        heartbeat for one run."""
        async with contextlib.AsyncExitStack() as stack:
            if not self.runtime.running:
                await stack.enter_async_context(self.runtime.run())
            await self.begin()
            heartbeat = asyncio.create_task(self._heartbeat())
            try:
                yield
            finally:
                heartbeat.cancel()
                try:
                    await self._store(self.store.release, self.owner, self.clock())
                finally:
                    self._outcomes_store = None  # closed with the runtime

    # -- loops ---------------------------------------------------------------------------

    async def run_due(self, client: AsyncClient) -> int:
        """Handle everything due now (in batches of ``concurrency``); return how many."""
        handled = 0
        async with self._running():
            await self._store(self.check_locks)
            while True:
                batch = await self._store(
                    self.store.claim, self.owner, self.clock(), self.ws.lease, self.concurrency
                )
                if not batch:
                    return handled
                await asyncio.gather(*self.start(client, batch))
                handled += len(batch)

    async def run(
        self,
        client: AsyncClient,
        *,
        stop: asyncio.Event,
        until_idle: bool = False,
        poll: float = 0.5,
        on_handled: Callable[[int], None] | None = None,
    ) -> int:
        """Keep publishing what falls due until ``stop`` is set (or, ``until_idle``, nothing
        is scheduled any more). In-flight deliveries finish; claimed ones are released.
        """
        handled = 0
        in_flight: set[asyncio.Task[None]] = set()
        async with self._running():
            while not stop.is_set():
                if self.clock() - self._locks_checked >= LOCK_CHECK_SECONDS:
                    await self._store(self.check_locks)
                room = self.concurrency - len(in_flight)
                if in_flight and room < self._batch_floor:
                    room = 0  # claim in batches, not one by one as each slot frees up
                batch = (
                    await self._store(
                        self.store.claim, self.owner, self.clock(), self.ws.lease, room
                    )
                    if room > 0
                    else []
                )
                for task in self.start(client, batch):
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                handled += len(batch)
                if batch and on_handled is not None:
                    on_handled(len(batch))
                if batch and len(batch) == room:
                    continue  # more may be due: claim again while these are checked
                if in_flight and room <= 0:
                    # full: wait for a slot to free up (or a stop), not for the clock
                    stopper = asyncio.ensure_future(stop.wait())
                    await asyncio.wait(
                        {*in_flight, stopper}, timeout=poll, return_when=asyncio.FIRST_COMPLETED
                    )
                    stopper.cancel()
                    continue
                due = await self._store(self.store.next_due)
                if (
                    until_idle
                    and not batch
                    and not in_flight
                    and (due is None or await self._store(self._idle))
                ):
                    break
                wait = poll
                if due is not None:
                    wait = min(poll, max(0.0, due - self.clock()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=max(wait, 0.01))
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        return handled

    def _idle(self) -> bool:
        """Nothing left to send: ``processing`` deliveries do not keep a worker run with
        ``until_idle`` going (a platform may take hours; the next run looks at them)."""
        return self.store.next_due(processing=False) is None

    async def _heartbeat(self) -> None:
        interval = max(0.5, self.ws.lease / 3)
        while True:
            await asyncio.sleep(interval)
            await self._store(self.store.extend_leases, self.owner, self.clock() + self.ws.lease)

    def start(self, client: AsyncClient, batch: list[DeliveryRow]) -> list[asyncio.Task[None]]:
        """Handle a claimed ``batch``: one task per delivery, all waiting on the batch's
        checks (authority, grace, content), made and marked ``sending`` together in the
        store thread before any request leaves. The tasks end once each outcome is
        committed."""
        if not batch:
            return []
        checks = asyncio.ensure_future(self._store(self._prepare, batch, self.clock()))
        return [asyncio.create_task(self._handle_safely(client, d, checks)) for d in batch]

    # -- one delivery --------------------------------------------------------------------

    async def _handle_safely(
        self,
        client: AsyncClient,
        delivery: DeliveryRow,
        checks: asyncio.Future[dict[str, _Plan]],
    ) -> None:
        # caught in sending, or held by the platform: it may be out there
        sent = delivery.status in ("sending", "processing")
        try:
            plan = (await asyncio.shield(checks)).get(delivery.id)
            if plan is not None:
                sent = True  # marked sending: from here on the request may be out
                await self._deliver(client, plan)
        except Exception:
            logger.exception("delivery %s failed unexpectedly", delivery.id)
            await self._store(
                self.store.mark_final,
                delivery.id,
                self.owner,
                "unknown" if sent else "failed",
                "internal error while handling this delivery; see the worker's log",
                "InternalError",
                self.clock(),
            )
        finally:
            self.handled += 1

    def _prepare(self, batch: list[DeliveryRow], now: float) -> dict[str, _Plan]:
        """In the store thread: open the batch's accounts, check the authority at
        publication of every delivery, the misfire grace and the content digest, then
        mark those that may go out ``sending``, in the transaction that records the
        outcomes of those that may not. The deliveries to send (and to reconcile)."""
        writes = _Writes()
        plans: dict[str, _Plan] = {}
        self._refresh_credentials()
        with self.store.transaction() as tx:  # every read of the checks: one snapshot
            self.store.snapshot(tx)
            rows = self.store.accounts_in(
                tx, [d.account for d in batch if d.account not in self._accounts]
            )
            opening: dict[str, Any] = {}  # the key, derived once for the batch
            for d in batch:
                try:
                    account, platform = self._account(d.account, rows, opening)
                    post, recurrence, authority, post_json = self._post(d.job_id)
                except AccountLocked as locked:
                    writes.waits.append((d, locked))
                    continue
                except ConfigurationError as missing:
                    sent = d.reconcile or d.status == "processing"
                    self._final(writes, d, "unknown" if sent else "failed", missing)
                    continue
                plans[d.id] = _Plan(d, account, platform, post, recurrence, authority, post_json)
            # a processing delivery is only looked at (the platform holds it), a reconciled
            # one asked about: neither is checked nor marked sending here
            fresh = [p for p in plans.values() if not p.d.reconcile and p.d.status != "processing"]
            verdicts = self.ws.authority.check_publications(
                tx, [(p.d.job_id, p.post_json, p.authority, p.d.account) for p in fresh], now
            )
            for p, verdict in zip(fresh, verdicts, strict=True):
                if isinstance(verdict, NotPermitted):
                    del plans[p.d.id]
                    self._final(writes, p.d, "refused", verdict, series_stops=bool(p.recurrence))
                else:
                    self._checked[p.d.id] = verdict
            grace = self.ws.misfire_grace.total_seconds()
            for p in [p for p in fresh if p.d.id in plans]:
                if p.d.attempts == 0 and now - p.d.scheduled_at > grace:
                    del plans[p.d.id]
                    late = (now - p.d.scheduled_at) / 60
                    self._final(
                        writes,
                        p.d,
                        "missed",
                        GovSocialError(
                            f"due {late:.0f} min ago, past the grace period of "
                            f"{grace / 60:.0f} min: not published late"
                        ),
                        recurrence=p.recurrence,
                    )
            ready = [p for p in fresh if p.d.id in plans]
            reads = _ContentReads(self.store, tx, [(p.d.job_id, p.d.account) for p in ready])
            for p in ready:
                # the content digest, after the authority: the bytes checked are the bytes sent
                pinned = self._pinned(p.post, p.authority, p.d.job_id, p.d.account, reads)
                if isinstance(pinned, GovSocialError):
                    del plans[p.d.id]
                    self._final(writes, p.d, "refused", pinned, recurrence=p.recurrence)
                else:
                    p.post = pinned
        sending = [p.d.id for p in ready if p.d.id in plans]
        with self.store.transaction() as cur:  # sending committed before any request leaves
            held = self.store.mark_sending_many(cur, sending, self.owner, now, self.ws.lease)
            self._record(cur, writes, now, self.store)
        self._after(writes)
        for key in sending:
            if key not in held:
                logger.warning("lost the lease on delivery %s before sending; skipped", key)
                self._checked.pop(key, None)
                del plans[key]
        return plans

    async def _deliver(self, client: AsyncClient, plan: _Plan) -> None:
        d, account, platform, recurrence = plan.d, plan.account, plan.platform, plan.recurrence
        post = plan.post
        if d.status == "processing":  # the platform holds it: look, never send
            await self._look_again(client, plan)
            return
        if d.reconcile:
            verdict = await self._reconcile(client, d, account)
            if isinstance(verdict, PostRef):
                await self._settle(self._published(d, verdict, recurrence))
                return
            if verdict is None:
                await self._settle(
                    self._final(
                        _Writes(),
                        d,
                        "unknown",
                        GovSocialError(
                            f"a worker stopped while sending this post to {account.handle}; "
                            f"{platform} cannot tell whether it arrived, and a repeat could "
                            "post it twice: check the account, then cancel or re-plan"
                        ),
                        recurrence=recurrence,
                    )
                )
                return
            sendable = await self._store(self._resend, plan)
            if sendable is None:
                return
            post = sendable
        checked = self._checked.get(d.id)
        context = EventContext(
            workspace=self.ws.address,
            job_id=d.job_id,
            delivery_id=d.id,
            actor=checked.actor if checked is not None else plan.authority.get("by"),
        )
        result = await client.publish_one(
            post, account, idempotency_key=d.idempotency_key, context=context
        )
        if result.ok and result.ref is not None:
            await self._settle(self._published(d, result.ref, recurrence))
            return
        failure = result.error or GovSocialError("publishing failed without an error")
        if isinstance(failure, PublishPending):
            await self._store(self._processing, d, failure, failure.retry_after or 60.0, True)
            # sent: the series goes on meanwhile
            await self._store(self._next_occurrence, d, recurrence)
            return
        if isinstance(failure, PublishOutcomeUnknown):
            verdict = await self._reconcile(client, d, account)
            if isinstance(verdict, PostRef):
                await self._settle(self._published(d, verdict, recurrence))
            elif isinstance(verdict, _Resend):
                await self._settle(self._retry(d, failure, wait=None, recurrence=recurrence))
            else:
                await self._settle(
                    self._final(_Writes(), d, "unknown", failure, recurrence=recurrence)
                )
            return
        wait = self._retry_wait(failure, platform)
        if wait is None:
            final = "unknown" if isinstance(failure, PluginError) else "failed"
            await self._settle(self._final(_Writes(), d, final, failure, recurrence=recurrence))
        else:
            await self._settle(self._retry(d, failure, wait=wait, recurrence=recurrence))

    async def _look_again(self, client: AsyncClient, plan: _Plan) -> None:
        """A ``processing`` delivery: read its status (never send), then settle it or let
        it wait again; past the processing limit it ends ``unknown``."""
        d, account, post, recurrence = plan.d, plan.account, plan.post, plan.recurrence
        context = EventContext(
            workspace=self.ws.address,
            job_id=d.job_id,
            delivery_id=d.id,
            actor=plan.authority.get("by"),
        )
        result = await client.resume_processing(
            post, account, idempotency_key=d.idempotency_key, context=context
        )
        if result.ok and result.ref is not None:
            await self._settle(self._published(d, result.ref, recurrence))
            return
        error = result.error or GovSocialError("looking at the post failed without an error")
        wait: float | None = None
        if isinstance(error, RateLimited):  # PublishPending is one: still processing
            wait = error.retry_after if error.retry_after is not None else 60.0
        elif isinstance(error, PlatformError) and (
            error.status is None or error.status >= 500 or error.transient
        ):
            wait = 60.0  # the status read did not get through: a read is safe to repeat
        elif isinstance(error, AuthenticationError):
            wait = 3600.0  # the platform may still publish it: look again once renewed
        if wait is None:
            # the platform refused the post after all ("failed"), or something that may
            # have posted it cannot be asked any more ("unknown"): a person looks
            refused = isinstance(error, PlatformError) and error.status is not None
            status = "failed" if refused else "unknown"
            await self._settle(self._final(_Writes(), d, status, error, recurrence=recurrence))
            return
        started = d.sending_at if d.sending_at is not None else d.updated_at
        limit = self.ws.processing_limit.total_seconds()
        if self.clock() - started >= limit:
            hours = limit / 3600
            timeout = ProcessingTimeout(
                f"{account.platform} accepted the post to {account.handle} "
                f"{(self.clock() - started) / 3600:.1f} h ago and was still processing it, "
                f"past the workspace's processing limit of {hours:g} h ({error.message}); "
                "it may yet appear: check the account in the platform's app",
                platform=account.platform,
                account=account.handle,
                idempotency_key=d.idempotency_key,
                detail=getattr(error, "detail", None),
            )
            await self._settle(self._final(_Writes(), d, "unknown", timeout, recurrence=recurrence))
            return
        await self._store(self._processing, d, error, wait, False)

    def _processing(self, d: DeliveryRow, why: GovSocialError, wait: float, entering: bool) -> None:
        """In the store thread: let ``d`` wait ``processing``, held by nobody, until a
        worker looks again in ``wait`` seconds; the first time, audit-logged (the delivery
        and its entry together). No attempt is counted: the platform already holds it."""
        now = self.clock()
        look_at = now + max(1.0, wait)
        logger.info(
            "delivery %s to %s is processing on the platform (%s); looking again in %.0f s",
            d.id,
            d.account,
            why,
            look_at - now,
        )
        with self.store.transaction() as cur:
            held = self.store.mark_processing(
                cur, d.id, self.owner, look_at, str(why), type(why).__name__, now
            )
            if held and entering:
                detail: dict[str, Any] = {"look_again_at": look_at}
                detail.update(getattr(why, "detail", {}) or {})
                audit.append_many(self.store, cur, [self._entry(d, "processing", detail)])
            else:
                self._checked.pop(d.id, None)

    def _resend(self, plan: _Plan) -> Post | None:
        """In the store thread: a delivery reconciliation says is safe to send again gets
        its content checked and is marked ``sending`` again (None: refused or lost)."""
        d = plan.d
        with self.store.transaction() as tx:
            self.store.snapshot(tx)
            reads = _ContentReads(self.store, tx, [(d.job_id, d.account)])
            pinned = self._pinned(plan.post, plan.authority, d.job_id, d.account, reads)
        if isinstance(pinned, GovSocialError):
            writes = self._final(_Writes(), d, "refused", pinned, recurrence=plan.recurrence)
            failure = self._commit([writes])[0]
            if failure is not None:
                raise failure
            return None
        if not self.store.mark_sending(d.id, self.owner, self.clock(), self.ws.lease):
            logger.warning("lost the lease on delivery %s before sending; skipped", d.id)
            self._checked.pop(d.id, None)
            return None
        return pinned

    def _retry_wait(self, error: GovSocialError, platform: str) -> float | None:
        """Seconds to wait before retrying, or None when ``error`` must not be retried."""
        if isinstance(error, ValidationError | ConfigurationError | AuthenticationError):
            return None
        if isinstance(error, RateLimited):
            return error.retry_after if error.retry_after is not None else 60.0
        if isinstance(error, PlatformError):
            if error.status is None or error.status in _GATEWAY:
                return 0.0  # never reached the platform, or its gateway refused it
            if (error.status >= 500 or error.transient) and self._deduplicates(platform):
                return 0.0
        return None

    def _deduplicates(self, platform: str) -> bool:
        cls = self.ws.plugins.platform(platform)
        return bool(cls.idempotency_window)

    async def _reconcile(
        self, client: AsyncClient, d: DeliveryRow, account: Account
    ) -> PostRef | _Resend | None:
        """Whether the post exists: its ref, _Resend (safe to send again), or None (unknown)."""
        cls = self.ws.plugins.platform(account.platform)
        try:
            found = await client.find_published(account, d.idempotency_key)
        except NotImplementedError:
            window = cls.idempotency_window or 0.0
            started = d.sending_at if d.sending_at is not None else d.updated_at
            if math.isinf(window) or self.clock() - started < 0.9 * window:
                return _Resend()
            return None
        except GovSocialError as error:
            logger.warning("could not look delivery %s up: %s", d.id, error)
            return None
        return found if found is not None else _Resend()

    # -- outcomes ------------------------------------------------------------------------

    def _pinned(
        self,
        post: Post,
        authority: dict[str, Any],
        job_id: str,
        account: str,
        reads: _ContentReads,
    ) -> Post | GovSocialError:
        """The post to send, holding the bytes checked, or why it must not be sent: a media
        file (or the text) is not what was approved, or an approver's audit entry does not
        name this content, or the job no longer carries the content its planning entry (or
        its draft's approvals) name: the log, not the job row, says what must be checked.
        The planning entries read are those of this delivery's account, the ones that
        authorized it."""
        digest = authority.get("content")
        planned = reads.planned(job_id, account)
        named = {str(e.detail["content"]) for e in planned if e.detail.get("content")}
        draft = authority.get("draft") or next(
            (e.detail["draft"] for e in planned if e.detail.get("draft")), None
        )
        if draft:
            approved = reads.approvals(str(draft))
            named |= {str(e.detail["content"]) for e in approved if e.detail.get("content")}
        if named and digest not in named:
            return NotPermitted(
                f"the audit log says this job carries approved content {', '.join(sorted(named))}"
                f", and the job row says {digest or 'none'}: it was changed outside govsocial; "
                "not published",
                actor=authority.get("by"),
                action="publish",
                hint="run verify_audit() and investigate who wrote to the database",
            )
        if not digest:
            return post
        authority = {**authority, "draft": draft}
        pinned = PinnedContent(digest=digest, media=authority.get("media", []))
        try:
            sent, mismatches, found = check_pinned(post, pinned)
        except GovSocialError as error:
            return error
        if mismatches:
            return NotPermitted(
                "; ".join(m.message() for m in mismatches) + ": not published",
                actor=authority.get("by"),
                action="publish",
                hint="draft the new file and have it approved",
            )
        if found != digest:
            return NotPermitted(
                f"the job's post is not the content approved (its digest is {found}, the "
                f"approved one {digest}): it was changed after approval; not published",
                actor=authority.get("by"),
                action="publish",
            )
        draft = authority.get("draft")
        approvers = set(authority.get("approved_by", []))
        if draft:
            entries = reads.approvals(str(draft))
            for entry in entries:
                broken = reads.holds(entry)
                if broken is not None:
                    return NotPermitted(
                        f"{broken}: the approval of draft {draft} cannot be trusted; not published",
                        actor=authority.get("by"),
                        action="publish",
                        hint="run verify_audit() and investigate who wrote to the database",
                    )
            recorded = {e.actor for e in entries if e.detail.get("content") == digest}
            missing = sorted(approvers - recorded) or ([] if recorded else ["anyone"])
            if missing:
                return NotPermitted(
                    f"the audit log holds no approval of content {digest} of draft {draft} by "
                    f"{', '.join(missing)}: the job's authority does not match the approvals "
                    "recorded; not published",
                    actor=authority.get("by"),
                    action="publish",
                    hint="run verify_audit() and investigate who wrote to the database",
                )
        return sent

    def _entry(self, d: DeliveryRow, action: str, detail: dict[str, Any]) -> audit.Pending:
        """The audit entry recording ``action`` on ``d`` (written with its state change)."""
        found = self._posts.get(d.job_id)
        authority = found[2] if found is not None else {}
        checked = self._checked.pop(d.id, None)
        actor, decree = authority.get("by"), authority.get("accounts", {}).get(d.account)
        if checked is not None:  # what the tables said at publication, not the stored string
            actor, decree = checked.actor, checked.decree
            if checked.draft is not None:
                detail = {**detail, "draft": checked.draft, "approvers": list(checked.approvers)}
        return audit.Pending(
            actor=actor,
            action=action,
            obj=d.id,
            account=d.account,
            decree=decree,
            detail={"job": d.job_id, "worker": self.owner, **detail},
            at=self.clock(),
        )

    def _published(self, d: DeliveryRow, ref: PostRef, recurrence: str | None) -> _Writes:
        writes = _Writes()  # the remote id and its audit entry, together
        writes.published.append((d.id, ref.id, ref.url, dict(ref.extra)))
        writes.entries.append(self._entry(d, "publish", {"remote_id": ref.id, "url": ref.url}))
        if recurrence:
            writes.after.append(functools.partial(self._next_occurrence, d, recurrence))
        return writes

    def check_locks(self) -> None:
        """Lift the locks of accounts whose credentials open here now (a store call: run
        it in the store thread, ``await worker.runtime.call(worker.check_locks)``)."""
        self._locks_checked = self.clock()
        for name in self.ws.account_locks():
            try:
                self.ws.unlock_account(name, by=self.owner)
            except AccountLocked:
                continue  # still locked, still waiting: said once, when it was locked

    def _final(
        self,
        writes: _Writes,
        d: DeliveryRow,
        status: str,
        error: GovSocialError,
        *,
        recurrence: str | None = None,
        series_stops: bool = False,
    ) -> _Writes:
        """Add ``d`` settled as ``status`` (with its audit entry) to ``writes``."""
        logger.warning("delivery %s to %s is %s: %s", d.id, d.account, status, error)
        detail: dict[str, Any] = {"error": str(error), "error_type": type(error).__name__}
        if series_stops:
            detail["series"] = "stopped: no later occurrence is planned"
        writes.finals.append((d.id, status, str(error), type(error).__name__))
        writes.entries.append(self._entry(d, status, detail))
        if recurrence:
            writes.after.append(functools.partial(self._next_occurrence, d, recurrence))
        return writes

    def _retry(
        self, d: DeliveryRow, error: GovSocialError, *, wait: float | None, recurrence: str | None
    ) -> _Writes:
        attempts = d.attempts + 1
        if attempts >= self.ws.max_attempts:
            return self._final(_Writes(), d, "failed", error, recurrence=recurrence)
        self._checked.pop(d.id, None)  # checked again at the next attempt
        delay = wait if wait else min(600.0, 5.0 * 2 ** (attempts - 1))
        due = self.clock() + delay
        logger.info(
            "delivery %s to %s: attempt %d failed (%s: %s); retrying in %.0f s",
            d.id,
            d.account,
            attempts,
            type(error).__name__,
            error,
            delay,
        )
        writes = _Writes()
        writes.retries.append((d.id, due, str(error), type(error).__name__))
        return writes

    # -- recording outcomes --------------------------------------------------------------

    async def _settle(self, writes: _Writes) -> None:
        """Record ``writes``; return once they are committed. Outcomes that come back
        while another commit is under way are committed together in the next one."""
        await self.runtime.settle(self, writes)

    def _commit(self, batch: list[_Writes]) -> list[Exception | None]:
        """In the outcomes thread, on the outcomes connection: every outcome of ``batch``
        in one transaction, each state change with its audit entry; if that fails, each
        one in its own (so one bad outcome holds back no other). What failed, in order."""
        now = self.clock()
        merged = _Writes()
        for writes in batch:
            merged.merge(writes)
        store = self._outcomes_store or self.store
        try:
            with store.transaction() as cur:
                self._record(cur, merged, now, store)
        except Exception as error:  # noqa: BLE001 - returned to the delivery it belongs to
            if len(batch) == 1:
                return [error]
            return [self._commit([writes])[0] for writes in batch]
        self._after(merged)
        return [None] * len(batch)

    def _record(self, cur: Tx, writes: _Writes, now: float, store: Store) -> None:
        """The state changes of ``writes`` and their audit entries, inside ``cur`` (a
        transaction of ``store``)."""
        store.published_many(cur, writes.published, now)
        store.final_many(cur, writes.finals, self.owner, now)
        store.retry_many(cur, writes.retries, self.owner, now)
        if writes.waits and store is not self.store:
            raise RuntimeError("locked accounts are recorded on the worker's own connection")
        for d, locked in writes.waits:
            # the lock, its audit entry and the delivery given back, together
            self.ws.lock_account(locked, by=self.owner, at=now)
            self.store.wait_for_credentials(
                cur, d.id, self.owner, str(locked), type(locked).__name__, now
            )
        audit.append_many(store, cur, writes.entries)

    def _after(self, writes: _Writes) -> None:
        """What follows committed outcomes: the next occurrences of recurring jobs, and
        locked accounts dropped from the cache."""
        for d, _ in writes.waits:
            self._accounts.pop(d.account, None)
        for then in writes.after:
            try:
                then()
            except Exception:
                logger.exception("planning the next occurrence failed")

    def _next_occurrence(self, d: DeliveryRow, recurrence: str | None) -> None:
        """Plan the account's next occurrence of a recurring job (once, whoever gets here)."""
        if not recurrence:
            return
        job = self.store.job(d.job_id)
        if job is None or job.cancelled:
            return
        row = self.ws.account_row(d.account)
        first = self.store.first_delivery(d.job_id, d.account) or d
        rule = Recurrence.parse(recurrence, zone=row.timezone, start=from_epoch(first.scheduled_at))
        following = rule.after(from_epoch(d.scheduled_at))
        if following is None:
            return
        now = self.clock()
        self.store.add_occurrence(
            [
                new_delivery(
                    self.ws,
                    d.job_id,
                    row,
                    following.timestamp(),
                    occurrence=d.occurrence + 1,
                    now=now,
                )
            ]
        )

    # -- caches --------------------------------------------------------------------------

    def _refresh_credentials(self) -> None:
        """Every :data:`CREDENTIALS_CHECK_SECONDS`, forget opened accounts whose stored
        credentials changed (a token replaced, a key rotated) or that are gone."""
        if self.clock() - self._credentials_checked < CREDENTIALS_CHECK_SECONDS:
            return
        self._credentials_checked = self.clock()
        if not self._accounts:
            return
        rows = self.store.accounts_named(list(self._accounts))
        for cached in list(self._accounts):
            row = rows.get(cached)
            if row is None or _stored(row.credentials) != self._accounts[cached][2]:
                del self._accounts[cached]

    def _account(
        self, name: str, rows: dict[str, AccountRow], opening: dict[str, Any]
    ) -> tuple[Account, str]:
        """The account, opened once and kept until its stored credentials change (see
        :meth:`_refresh_credentials`); its ``env:`` variables are checked every time.
        ``rows``: the batch's account rows read in one query.

        :raises AccountLocked: its credentials cannot be opened here.
        """
        found = self._accounts.get(name)
        if found is not None:
            self.ws.check_environment(name, found[0])
            return found[0], found[1]
        row = rows.get(name) or self.ws.account_row(name)  # NotFound names the known ones
        account = self.ws.open_account(name, row, batch=opening)
        self._accounts[name] = (account, account.platform, _stored(row.credentials))
        return account, account.platform

    def _post(self, job_id: str) -> tuple[Post, str | None, dict[str, Any], str]:
        found = self._posts.get(job_id)
        if found is None:
            job = self.store.job(job_id)
            if job is None:
                raise ConfigurationError(f"job {job_id} is gone", field="job_id")
            authority = json.loads(job.authority) if job.authority else {}
            found = (Post.model_validate_json(job.post), job.recurrence, authority, job.post)
            self._posts[job_id] = found
        return found


def _stored(credentials: dict[str, dict[str, str]]) -> str:
    return json.dumps(credentials, sort_keys=True)
