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
import json
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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
from govsocial.store import DeliveryRow, Tx
from govsocial.workspace import audit
from govsocial.workspace.content import PinnedContent, check_pinned
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of

if TYPE_CHECKING:
    from govsocial.client import AsyncClient
    from govsocial.workspace.authority import PublicationAuthority

__all__ = ["Worker"]


logger = logging.getLogger("govsocial.worker")

_GATEWAY = frozenset({502, 503, 504})

#: how often a running worker looks whether it can open locked accounts again (seconds)
LOCK_CHECK_SECONDS = 30.0
#: how often a worker re-reads stored credentials to notice replaced ones (seconds)
CREDENTIALS_CHECK_SECONDS = 5.0


class _Resend:
    """Reconciliation's answer: sending again with the same key cannot duplicate."""


class Worker:
    """Publishes a workspace's due deliveries.

    :param concurrency: deliveries in flight at once (and claimed per batch).
    :param owner: this worker's name in leases (default: host, pid and a random part).
    :param clock: the time source (tests pass a fake one).
    """

    def __init__(
        self,
        workspace: WorkspaceCore | HasCore,
        *,
        concurrency: int = 20,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ws = core_of(workspace)
        self.store = self.ws.store
        self.concurrency = max(1, concurrency)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.handled = 0
        # name -> (account, platform, the stored credentials it was opened from)
        self._accounts: dict[str, tuple[Account, str, str]] = {}
        self._credentials_checked = -math.inf
        self._locks_checked = -math.inf
        self._posts: dict[str, tuple[Post, str | None, dict[str, Any], str]] = {}
        self._checked: dict[str, PublicationAuthority] = {}

    def __repr__(self) -> str:
        return f"<Worker {self.owner} on {self.ws!r}>"

    # -- loops ---------------------------------------------------------------------------

    async def run_due(self, client: AsyncClient) -> int:
        """Handle everything due now (in batches of ``concurrency``); return how many."""
        handled = 0
        self._check_locks()
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while True:
                batch = self.store.claim(self.owner, self.clock(), self.ws.lease, self.concurrency)
                if not batch:
                    return handled
                await asyncio.gather(*(self._handle_safely(client, d) for d in batch))
                handled += len(batch)
        finally:
            heartbeat.cancel()
            self.store.release(self.owner, self.clock())

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
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not stop.is_set():
                if self.clock() - self._locks_checked >= LOCK_CHECK_SECONDS:
                    self._check_locks()
                room = self.concurrency - len(in_flight)
                batch = (
                    self.store.claim(self.owner, self.clock(), self.ws.lease, room)
                    if room > 0
                    else []
                )
                for delivery in batch:
                    task = asyncio.create_task(self._handle_safely(client, delivery))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                handled += len(batch)
                if batch and on_handled is not None:
                    on_handled(len(batch))
                if until_idle and not batch and not in_flight and self._idle():
                    break
                if in_flight and len(batch) == room:
                    # full: wait for a slot to free up (or a stop), not for the clock
                    stopper = asyncio.ensure_future(stop.wait())
                    await asyncio.wait(
                        {*in_flight, stopper}, timeout=poll, return_when=asyncio.FIRST_COMPLETED
                    )
                    stopper.cancel()
                    continue
                wait = poll
                due = self.store.next_due()
                if due is not None:
                    wait = min(poll, max(0.0, due - self.clock()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=max(wait, 0.01))
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        finally:
            heartbeat.cancel()
            self.store.release(self.owner, self.clock())
        return handled

    def _idle(self) -> bool:
        """Nothing left to send: ``processing`` deliveries do not keep a worker run with
        ``until_idle`` going (a platform may take hours; the next run looks at them)."""
        return self.store.next_due(processing=False) is None

    async def _heartbeat(self) -> None:
        interval = max(0.5, self.ws.lease / 3)
        while True:
            await asyncio.sleep(interval)
            self.store.extend_leases(self.owner, self.clock() + self.ws.lease)

    # -- one delivery --------------------------------------------------------------------

    async def _handle_safely(self, client: AsyncClient, delivery: DeliveryRow) -> None:
        try:
            await self._handle(client, delivery)
        except Exception:
            logger.exception("delivery %s failed unexpectedly", delivery.id)
            self.store.mark_final(
                delivery.id,
                self.owner,
                "unknown" if delivery.status in ("sending", "processing") else "failed",
                "internal error while handling this delivery; see the worker's log",
                "InternalError",
                self.clock(),
            )
        finally:
            self.handled += 1

    async def _handle(self, client: AsyncClient, d: DeliveryRow) -> None:
        now = self.clock()
        try:
            account, platform = self._account(d.account)
            post, recurrence, authority, post_json = self._post(d.job_id)
        except AccountLocked as locked:
            self._wait(d, locked)
            return
        except ConfigurationError as missing:
            sent = d.reconcile or d.status == "processing"
            self._final(d, "unknown" if sent else "failed", missing)
            return
        if d.status == "processing":  # the platform holds it: look, never send
            await self._look_again(client, d, account, post, recurrence, authority)
            return
        if not d.reconcile:
            try:
                self._checked[d.id] = self.ws.authority.check_publication(
                    d.job_id, post_json, authority, d.account, now
                )
            except NotPermitted as refused:
                self._final(d, "refused", refused, series_stops=bool(recurrence))
                return
        if d.reconcile:
            verdict = await self._reconcile(client, d, account)
            if isinstance(verdict, PostRef):
                self._published(d, verdict, recurrence)
                return
            if verdict is None:
                self._final(
                    d,
                    "unknown",
                    GovSocialError(
                        f"a worker stopped while sending this post to {account.handle}; "
                        f"{platform} cannot tell whether it arrived, and a repeat could "
                        "post it twice: check the account, then cancel or re-plan"
                    ),
                    recurrence=recurrence,
                )
                return
        elif d.attempts == 0 and now - d.scheduled_at > self.ws.misfire_grace.total_seconds():
            late = (now - d.scheduled_at) / 60
            self._final(
                d,
                "missed",
                GovSocialError(
                    f"due {late:.0f} min ago, past the grace period of "
                    f"{self.ws.misfire_grace.total_seconds() / 60:.0f} min: not published late"
                ),
                recurrence=recurrence,
            )
            return
        # the content digest, after the authority: the bytes checked are the bytes sent
        pinned = self._pinned(post, authority, d.job_id)
        if isinstance(pinned, GovSocialError):
            self._final(d, "refused", pinned, recurrence=recurrence)
            return
        post = pinned
        if not self.store.mark_sending(d.id, self.owner, self.clock(), self.ws.lease):
            logger.warning("lost the lease on delivery %s before sending; skipped", d.id)
            self._checked.pop(d.id, None)
            return
        checked = self._checked.get(d.id)
        context = EventContext(
            workspace=self.ws.address,
            job_id=d.job_id,
            delivery_id=d.id,
            actor=checked.actor if checked is not None else authority.get("by"),
        )
        result = await client.publish_one(
            post, account, idempotency_key=d.idempotency_key, context=context
        )
        if result.ok and result.ref is not None:
            self._published(d, result.ref, recurrence)
            return
        failure = result.error or GovSocialError("publishing failed without an error")
        if isinstance(failure, PublishPending):
            self._processing(d, failure, failure.retry_after or 60.0, entering=True)
            self._next_occurrence(d, recurrence)  # sent: the series goes on meanwhile
            return
        if isinstance(failure, PublishOutcomeUnknown):
            verdict = await self._reconcile(client, d, account)
            if isinstance(verdict, PostRef):
                self._published(d, verdict, recurrence)
            elif isinstance(verdict, _Resend):
                self._retry(d, failure, wait=None, recurrence=recurrence)
            else:
                self._final(d, "unknown", failure, recurrence=recurrence)
            return
        wait = self._retry_wait(failure, platform)
        if wait is None:
            final = "unknown" if isinstance(failure, PluginError) else "failed"
            self._final(d, final, failure, recurrence=recurrence)
        else:
            self._retry(d, failure, wait=wait, recurrence=recurrence)

    async def _look_again(
        self,
        client: AsyncClient,
        d: DeliveryRow,
        account: Account,
        post: Post,
        recurrence: str | None,
        authority: dict[str, Any],
    ) -> None:
        """A ``processing`` delivery: read its status (never send), then settle it or let
        it wait again; past the processing limit it ends ``unknown``."""
        context = EventContext(
            workspace=self.ws.address,
            job_id=d.job_id,
            delivery_id=d.id,
            actor=authority.get("by"),
        )
        result = await client.resume_processing(
            post, account, idempotency_key=d.idempotency_key, context=context
        )
        if result.ok and result.ref is not None:
            self._published(d, result.ref, recurrence)
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
            self._final(d, "failed" if refused else "unknown", error, recurrence=recurrence)
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
            self._final(d, "unknown", timeout, recurrence=recurrence)
            return
        self._processing(d, error, wait, entering=False)

    def _processing(
        self, d: DeliveryRow, why: GovSocialError, wait: float, *, entering: bool
    ) -> None:
        """Let ``d`` wait ``processing``, held by nobody, until a worker looks again in
        ``wait`` seconds; the first time, audit-logged (the delivery and its entry
        together). No attempt is counted: the platform already holds the post."""
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
                self._audit(cur, d, "processing", detail)
        self._checked.pop(d.id, None)

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

    def _pinned(self, post: Post, authority: dict[str, Any], job_id: str) -> Post | GovSocialError:
        """The post to send, holding the bytes checked, or why it must not be sent: a media
        file (or the text) is not what was approved, or an approver's audit entry does not
        name this content, or the job no longer carries the content its planning entry (or
        its draft's approvals) name: the log, not the job row, says what must be checked."""
        digest = authority.get("content")
        planned = [
            e for e in audit.entries(self.store, obj=job_id) if e.action in ("schedule", "enqueue")
        ]
        named = {str(e.detail["content"]) for e in planned if e.detail.get("content")}
        draft = authority.get("draft") or next(
            (e.detail["draft"] for e in planned if e.detail.get("draft")), None
        )
        if draft:
            approved = audit.entries(self.store, action="approve", obj=str(draft))
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
            entries = audit.entries(self.store, action="approve", obj=str(draft))
            for entry in entries:
                broken = audit.signature_holds(self.store, entry)
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

    def _audit(self, cur: Tx, d: DeliveryRow, action: str, detail: dict[str, Any]) -> None:
        found = self._posts.get(d.job_id)
        authority = found[2] if found is not None else {}
        checked = self._checked.pop(d.id, None)
        actor, decree = authority.get("by"), authority.get("accounts", {}).get(d.account)
        if checked is not None:  # what the tables said at publication, not the stored string
            actor, decree = checked.actor, checked.decree
            if checked.draft is not None:
                detail = {**detail, "draft": checked.draft, "approvers": list(checked.approvers)}
        audit.append(
            self.store,
            cur,
            actor=actor,
            action=action,
            obj=d.id,
            account=d.account,
            decree=decree,
            detail={"job": d.job_id, "worker": self.owner, **detail},
            at=self.clock(),
        )

    def _published(self, d: DeliveryRow, ref: PostRef, recurrence: str | None) -> None:
        with self.store.transaction() as cur:  # the remote id and its audit entry, together
            self.store.mark_published(d.id, ref.id, ref.url, dict(ref.extra), self.clock())
            self._audit(cur, d, "publish", {"remote_id": ref.id, "url": ref.url})
        self._next_occurrence(d, recurrence)

    def _wait(self, d: DeliveryRow, locked: AccountLocked) -> None:
        """Lock ``d``'s account and give ``d`` back, no attempt counted: it waits for a worker
        that can open the account (the lock, its audit entry and the delivery together)."""
        with self.store.transaction() as cur:
            self.ws.lock_account(locked, by=self.owner, at=self.clock())
            self.store.wait_for_credentials(
                cur, d.id, self.owner, str(locked), type(locked).__name__, self.clock()
            )
        self._accounts.pop(d.account, None)

    def _check_locks(self) -> None:
        """Lift the locks of accounts whose credentials open here now."""
        self._locks_checked = self.clock()
        for name in self.ws.account_locks():
            try:
                self.ws.unlock_account(name, by=self.owner)
            except AccountLocked:
                continue  # still locked, still waiting: said once, when it was locked

    def _final(
        self,
        d: DeliveryRow,
        status: str,
        error: GovSocialError,
        *,
        recurrence: str | None = None,
        series_stops: bool = False,
    ) -> None:
        logger.warning("delivery %s to %s is %s: %s", d.id, d.account, status, error)
        detail: dict[str, Any] = {"error": str(error), "error_type": type(error).__name__}
        if series_stops:
            detail["series"] = "stopped: no later occurrence is planned"
        with self.store.transaction() as cur:
            self.store.mark_final(
                d.id, self.owner, status, str(error), type(error).__name__, self.clock()
            )
            self._audit(cur, d, status, detail)
        self._next_occurrence(d, recurrence)

    def _retry(
        self, d: DeliveryRow, error: GovSocialError, *, wait: float | None, recurrence: str | None
    ) -> None:
        attempts = d.attempts + 1
        if attempts >= self.ws.max_attempts:
            self._final(d, "failed", error, recurrence=recurrence)
            return
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
        self.store.mark_retry(d.id, self.owner, due, str(error), type(error).__name__, self.clock())

    def _next_occurrence(self, d: DeliveryRow, recurrence: str | None) -> None:
        """Plan the account's next occurrence of a recurring job (once, whoever gets here)."""
        if not recurrence:
            return
        job = self.store.job(d.job_id)
        if job is None or job.cancelled:
            return
        row = self.ws.account_row(d.account)
        first = min(
            (x for x in self.store.deliveries(d.job_id) if x.account == d.account),
            key=lambda x: x.occurrence,
        )
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

    def _account(self, name: str) -> tuple[Account, str]:
        """The account, opened once and kept until its stored credentials change (a token
        replaced, a key rotated); its ``env:`` variables are checked every time.

        :raises AccountLocked: its credentials cannot be opened here.
        """
        if self.clock() - self._credentials_checked >= CREDENTIALS_CHECK_SECONDS:
            self._credentials_checked = self.clock()
            stored = {row.name: _stored(row.credentials) for row in self.store.accounts()}
            for cached in list(self._accounts):
                if stored.get(cached) != self._accounts[cached][2]:
                    del self._accounts[cached]
        found = self._accounts.get(name)
        if found is not None:
            self.ws.check_environment(name, found[0])
            return found[0], found[1]
        row = self.ws.account_row(name)
        account = self.ws.open_account(name, row)
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
