"""Accountability for public-service accounts: people, appointments, drafts, approvals,
content requests, and the audit trail of all of it.

In an Indonesian agency the accounts are run by civil servants (ASN) appointed by a decree
(SK). :class:`Accountability` is the workspace service for drafts, approvals and content
requests; people, appointments and permissions are the core's
(:mod:`govsocial.workspace.authority`):

- **Governance is opt-in per account.** An account with no appointments works as the
  scheduler always did. Once it has one, every action on it names its actor (``by=``), and
  the actor's appointment must be valid that day (in the account's zone) for that account,
  in a role that allows the action:

  ============  ==========================================================
  role          may
  ============  ==========================================================
  contributor   draft posts, fulfil content requests
  approver      approve or reject drafts
  admin         draft, schedule, enqueue, cancel, reschedule, reply, delete
  head          (workspace-wide) add people and accounts, change credentials,
                appoint, revoke, set approval rules, once the workspace has a head
  ============  ==========================================================

- **Only approved posts go out.** On a governed account a post is scheduled from an approved
  draft, or by an admin directly when the account's rule lets admins skip approval. Each job
  carries its authority (who, which draft, which decrees), but the worker does not trust
  it: at publication it checks the appointments, rules, drafts, approvals and audit log as
  they stand then (:meth:`govsocial.workspace.authority.Authority.check_publication`).
- **One draft, one decision at a time.** Approving and scheduling a draft each happen in one
  transaction that holds the draft: two approvers at once both count, two admins at once
  make one job.
- **Late drafts.** A draft whose time passed while it waited is published at once when
  approved (the audit entry notes the delay), unless the account's rule has late drafts
  rescheduled by an admin: then it stays ``approved`` and :attr:`Draft.next_step` says so.
- **An approval covers one exact content** (:mod:`govsocial.workspace.content`): the draft
  pins its text, variants and the SHA-256 of every media file when it is written; an
  approval names that digest (and a signing approver signs it); a file changed before
  approval is refused then, and one changed after it is refused by the worker.
- **Everything is audit-logged** in the same transaction as the action, refusals included
  (see :mod:`govsocial.workspace.audit`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ConfigDict

from govsocial.core.errors import ConfigurationError, GovSocialError, NotFound, NotPermitted
from govsocial.core.models import Model, Post, refuse_lone_surrogates
from govsocial.core.timing import Recurrence, from_epoch, parse_when
from govsocial.scheduling.planner import Planner, Then
from govsocial.workspace.authority import ROLES, Appointment, ApprovalRule, Person, as_date
from govsocial.workspace.content import PinnedContent, pin
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of
from govsocial.workspace.signing import SigningKey, signed

if TYPE_CHECKING:
    from govsocial.scheduling.jobs import Job
    from govsocial.store.sql import Tx

__all__ = [
    "ROLES",
    "Accountability",
    "Appointment",
    "Approval",
    "ApprovalRule",
    "ContentRequest",
    "Draft",
    "Person",
]

_FROZEN = ConfigDict(frozen=True)


class Approval(Model):
    """One approver's yes to a draft, under their decree."""

    model_config = _FROZEN

    person: str
    decree: str
    at: datetime
    #: the digest of the content approved (None for approvals made before content was pinned)
    content: str | None = None


DraftStatus = Literal["pending", "approved", "rejected", "scheduled"]


class Draft(Model):
    """A proposed post: ``pending`` until enough approvers say yes (``approved``, then
    ``scheduled`` once it has a job) or one says no (``rejected``, with the reason).

    ``next_step`` says what someone must do for an approved draft that has no job yet (an
    admin schedules it, or reschedules it when its time passed while it waited).
    """

    model_config = _FROZEN

    id: str
    post: Post
    accounts: tuple[str, ...]
    author: str
    publish_at: datetime | None = None
    recurrence: str | None = None
    status: DraftStatus
    reason: str | None = None
    request_id: str | None = None
    job_id: str | None = None
    created_at: datetime
    decided_at: datetime | None = None
    approvals: tuple[Approval, ...] = ()
    #: what an approval covers: the post's digest and each media file's (None for drafts
    #: written before content was pinned)
    content: PinnedContent | None = None
    next_step: str | None = None


RequestStatus = Literal["open", "drafted", "published"]


class ContentRequest(Model):
    """A request to another unit for material to publish (or from it), and its progress.

    ``turnaround`` is the time from the request to the first published post made from it.
    """

    model_config = _FROZEN

    id: str
    from_unit: str
    topic: str
    details: str | None = None
    attachments: tuple[str, ...] = ()
    due: datetime | None = None
    status: RequestStatus
    requested_by: str | None = None
    draft_id: str | None = None
    created_at: datetime
    fulfilled_at: datetime | None = None
    published_at: datetime | None = None

    @property
    def turnaround(self) -> float | None:
        """Seconds from request to the first publication (None until published)."""
        if self.published_at is None:
            return None
        return (self.published_at - self.created_at).total_seconds()

    @property
    def late(self) -> bool:
        """Published after the due date, or not yet published and past it."""
        if self.due is None:
            return False
        done = self.published_at or datetime.now(UTC)
        return done > self.due


class Accountability:
    """Drafts, approvals and content requests of a workspace.

    :param core: the workspace core (or the :class:`govsocial.Workspace` carrying one).
    :param planner: schedules approved drafts (default: a planner over the same core).
    """

    def __init__(self, core: WorkspaceCore | HasCore, planner: Planner | None = None) -> None:
        self.core = core_of(core)
        self.store = self.core.store
        self.planner = planner or Planner(self.core)

    # -- drafts and approvals -----------------------------------------------------------------

    @signed
    def add_draft(
        self,
        post: Post,
        *,
        accounts: Sequence[str],
        by: str,
        at: str | datetime | None = None,
        recurrence: str | None = None,
        request: str | None = None,
        key: SigningKey | None = None,
    ) -> Draft:
        """Propose ``post`` for ``accounts`` (at ``at`` when given), for approval.

        The post is validated for every account's platform now, so a contributor learns at
        once what does not fit.
        """
        self.core.authority.person(by)
        rows = self.core.account_rows(accounts)
        names = [row.name for row in rows]
        decrees = self.core.authority.authorize("draft", by, names)
        self.core.validate(post, rows)
        pinned = pin(post)
        publish_at: float | None = None
        if at is not None:
            publish_at = parse_when(at, zone=rows[0].timezone, now=datetime.now(UTC)).timestamp()
        if request is not None:
            self.content_request(request)
        draft_id = uuid.uuid4().hex[:12]
        with self.store.transaction() as cur:
            self.store.governance.add_draft(
                cur,
                (
                    draft_id,
                    post.model_dump_json(),
                    json.dumps(names),
                    by,
                    publish_at,
                    recurrence,
                    request,
                    time.time(),
                    pinned.model_dump_json(),
                ),
            )
            for name in names:
                detail: dict[str, Any] = {"content": pinned.digest}
                if request:
                    detail["request"] = request
                self.core.record(
                    cur,
                    by,
                    "draft",
                    obj=draft_id,
                    account=name,
                    decree=decrees[name],
                    detail=detail,
                )
            if request is not None:
                self._link_request(cur, request, draft_id, by)
        return self.draft(draft_id)

    def draft(self, draft_id: str) -> Draft:
        """The draft with ``draft_id``.

        :raises NotFound: there is none (a ConfigurationError, as before).
        """
        found = self._drafts(draft_id=draft_id)
        if not found:
            raise NotFound(f"no draft {draft_id!r} in this workspace", field="draft_id")
        return found[0]

    def drafts(self, status: str | None = None) -> list[Draft]:
        """Drafts, oldest first; only those with ``status`` when given."""
        if status is None:
            return self._drafts()
        return self._drafts(status=status)

    def _drafts(self, *, draft_id: str | None = None, status: str | None = None) -> list[Draft]:
        with self.store.transaction() as cur:
            rows, approved = self.store.governance.drafts(cur, draft_id=draft_id, status=status)
        approvals: dict[str, list[Approval]] = {}
        for of_draft, person, decree, at, content in approved:
            approvals.setdefault(of_draft, []).append(
                Approval(person=person, decree=decree, at=from_epoch(at), content=content)
            )
        now = datetime.now(UTC)
        return [
            Draft(
                id=r[0],
                post=Post.model_validate_json(r[1]),
                accounts=tuple(json.loads(r[2])),
                author=r[3],
                publish_at=from_epoch(r[4]) if r[4] is not None else None,
                recurrence=r[5],
                status=r[6],
                reason=r[7],
                request_id=r[8],
                job_id=r[9],
                created_at=from_epoch(r[10]),
                decided_at=from_epoch(r[11]) if r[11] is not None else None,
                approvals=tuple(approvals.get(r[0], ())),
                content=PinnedContent.model_validate_json(r[12]) if r[12] else None,
                next_step=_next_step(r[6], r[9], r[4], now),
            )
            for r in rows
        ]

    @signed
    def approve(self, draft_id: str, *, by: str, key: SigningKey | None = None) -> Draft:
        """``by`` approves the draft. With enough approvals it is ``approved``; if it names a
        time, it is scheduled then (the approvers' decrees are its authority).

        The check and the approval are one transaction holding the draft, so approvers
        acting at once are counted one after the other. A draft whose time passed while it
        waited is scheduled at once (a recurring one at its next time), the delay in the
        audit log, unless the account's rule has late drafts rescheduled by an admin: the
        draft then stays ``approved`` and its ``next_step`` says so.

        :raises NotPermitted: not an approver on every account of the draft, or the
            appointment is not valid today, or approving one's own draft where the rule
            forbids it, or approving twice, or a draft no longer pending.
        """
        draft = self.draft(draft_id)
        self.core.authority.person(by)
        decrees = self.core.authority.authorize("approve", by, draft.accounts, obj=draft_id)
        rules = [self.core.authority.approval_rule(name) for name in draft.accounts]
        needed = max(rule.approvers for rule in rules)
        decree = ", ".join(sorted({d for d in decrees.values() if d})) or "-"
        content = self._content_now(draft, by)
        try:
            with self.store.transaction() as cur:
                status = self.store.governance.lock_draft(cur, draft_id)
                approved = {p for p, _, _ in self.store.governance.approvals_of(cur, draft_id)}
                if status != "pending":
                    raise _Refused(f"draft {draft_id} is {status}, not pending")
                if by in approved:
                    raise _Refused(f"{by} already approved draft {draft_id}")
                if by == draft.author and not all(rule.self_approval for rule in rules):
                    raise _Refused(
                        f"{by} wrote draft {draft_id} and may not approve it: the approval "
                        f"rule of {', '.join(draft.accounts)} needs someone else"
                    )
                now = time.time()
                self.store.governance.add_approval(cur, draft_id, by, decree, now, content)
                count = len(approved) + 1
                for name in draft.accounts:
                    self.core.record(
                        cur,
                        by,
                        "approve",
                        obj=draft_id,
                        account=name,
                        decree=decrees[name],
                        detail={"approvals": count, "needed": needed, "content": content},
                    )
                if count >= needed:
                    self.store.governance.mark_draft_approved(cur, draft_id, now)
        except _Refused as refused:
            self._refuse(draft, by, "approve", refused.message)
            raise NotPermitted(
                refused.message, actor=by, action="approve", account=",".join(draft.accounts)
            ) from None
        draft = self.draft(draft_id)
        if draft.status == "approved" and draft.publish_at is not None:
            now_at = datetime.now(UTC)
            if draft.publish_at > now_at:
                self._schedule(draft, at=draft.publish_at, by=by, action="schedule")
            elif not any(rule.late_drafts_need_admin for rule in rules):
                self._schedule_late(draft, by, now_at)
            draft = self.draft(draft_id)
        return draft

    def _content_now(self, draft: Draft, by: str) -> str:
        """The digest of the draft's content as it is now, refused (NotPermitted, audit-logged)
        when a media file changed since the draft pinned it: the approver would approve bytes
        they were not shown."""
        try:
            now = pin(draft.post)
        except GovSocialError as error:
            reason = f"draft {draft.id}'s content cannot be read to approve it: {error}"
        else:
            if draft.content is None or now.digest == draft.content.digest:
                return now.digest
            drafted = {m.field: m for m in draft.content.media}
            changed = [
                f"{m.field} {m.source}: drafted sha256 {drafted[m.field].sha256}, now {m.sha256}"
                for m in now.media
                if m.field in drafted and drafted[m.field].sha256 != m.sha256
            ] or [f"content drafted as {draft.content.digest}, now {now.digest}"]
            reason = (
                f"draft {draft.id} changed since it was written ({'; '.join(changed)}): it "
                "cannot be approved; write the draft again"
            )
        self._refuse(draft, by, "approve", reason)
        raise NotPermitted(reason, actor=by, action="approve", account=",".join(draft.accounts))

    def _schedule_late(self, draft: Draft, by: str, now: datetime) -> None:
        """Schedule an approved draft whose time passed while it waited: now, or a recurring
        one at its next time; the audit entries note the delay."""
        assert draft.publish_at is not None
        at: datetime | None = now
        if draft.recurrence:
            zone = self.core.account_row(draft.accounts[0]).timezone
            rule = Recurrence.parse(draft.recurrence, zone=zone, start=draft.publish_at)
            at = rule.after(now)
            if at is None:  # the whole series lies in the past: next_step says so
                return
        note = {
            "late": True,
            "requested_at": draft.publish_at.isoformat(),
            "delay_seconds": round((now - draft.publish_at).total_seconds()),
        }
        self._schedule(draft, at=at, by=by, action="schedule", note=note)

    @signed
    def reject(
        self, draft_id: str, *, by: str, reason: str, key: SigningKey | None = None
    ) -> Draft:
        """``by`` rejects the draft, saying why (the author sees the reason)."""
        if not reason or not reason.strip():
            raise ConfigurationError(
                "a rejection needs a reason the author can act on", field="reason"
            )
        refuse_lone_surrogates(reason, "reason", subject="rejection")
        draft = self.draft(draft_id)
        self.core.authority.person(by)
        decrees = self.core.authority.authorize("reject", by, draft.accounts, obj=draft_id)
        self._refuse_unless(
            draft.status == "pending",
            "reject",
            by,
            draft,
            f"draft {draft_id} is {draft.status}, not pending",
        )
        with self.store.transaction() as cur:
            self.store.governance.mark_draft_rejected(cur, draft_id, reason, time.time())
            for name in draft.accounts:
                self.core.record(
                    cur,
                    by,
                    "reject",
                    obj=draft_id,
                    account=name,
                    decree=decrees[name],
                    detail={"reason": reason},
                )
        return self.draft(draft_id)

    def _refuse_unless(
        self, condition: bool, action: str, by: str | None, draft: Draft, message: str
    ) -> None:
        if condition:
            return
        self._refuse(draft, by, action, message)
        raise NotPermitted(message, actor=by, action=action, account=",".join(draft.accounts))

    def _approved_accounts(
        self, draft: Draft, accounts: Sequence[str] | None, by: str | None, action: str
    ) -> list[str]:
        """``accounts`` (default: the draft's), refused (and audit-logged) where one is not
        an account the draft was approved for."""
        names = list(dict.fromkeys([accounts] if isinstance(accounts, str) else accounts or ()))
        names = names or list(draft.accounts)
        extra = [n for n in names if n not in draft.accounts]
        self._refuse_unless(
            not extra,
            action,
            by,
            draft,
            f"draft {draft.id} was approved for {', '.join(draft.accounts)}, not for "
            f"{', '.join(extra)}: draft it again for those accounts",
        )
        return names

    def schedule(
        self,
        draft_id: str,
        *,
        by: str,
        at: str | datetime | None = None,
        accounts: Sequence[str] | None = None,
    ) -> Job:
        """Schedule the approved draft ``draft_id`` at ``at`` (default: the draft's time) on
        its accounts (or some of them), ``by`` an admin of each.

        The job and the draft's move to ``scheduled`` are one transaction guarded by the
        draft still being ``approved``: two admins at once, or a crash between the steps,
        can never make two jobs of one draft.

        :raises NotPermitted: ``by`` may not schedule, the draft is not approved (or was
            scheduled meanwhile), or an account is not one it was approved for.
        """
        draft = self.draft(draft_id)
        names = self._approved_accounts(draft, accounts, by, "schedule")
        self.core.authority.authorize("schedule", by, names, obj=draft_id)
        return self._schedule(draft, at=at, by=by, action="schedule", accounts=names)

    def enqueue(
        self, draft_id: str, *, by: str | None = None, accounts: Sequence[str] | None = None
    ) -> Job:
        """Queue the approved draft ``draft_id`` in the next free posting slot of each of its
        accounts (or ``accounts``), in one transaction guarded like :meth:`schedule`."""
        draft = self.draft(draft_id)
        names = self._approved_accounts(draft, accounts, by, "enqueue")
        self.core.authority.authorize("enqueue", by, names, obj=draft.id)
        if draft.status != "approved":
            raise NotPermitted(
                f"draft {draft.id} is {draft.status}: only an approved draft can be queued",
                actor=by,
                action="enqueue",
            )
        authority: dict[str, Any] = {
            "by": by,
            "draft": draft.id,
            "approved_by": [a.person for a in draft.approvals],
            "accounts": {n: ", ".join(a.decree for a in draft.approvals) for n in names},
            **_pinned_authority(draft),
        }
        return self._guarded(
            draft,
            by,
            "enqueue",
            lambda then: self.planner.enqueue(
                draft.post, names, by=by, authority=authority, then=then
            ),
        )

    def _schedule(
        self,
        draft: Draft,
        *,
        at: str | datetime | None,
        by: str,
        action: str,
        accounts: Sequence[str] | None = None,
        note: dict[str, Any] | None = None,
    ) -> Job:
        if draft.status != "approved":
            self._refuse(draft, by, action, f"draft is {draft.status}")
            raise NotPermitted(
                f"draft {draft.id} is {draft.status}: only an approved draft can be scheduled",
                actor=by,
                action=action,
                hint="get it approved first (approve(draft_id, by=...))",
            )
        names = self._approved_accounts(draft, accounts, by, action)
        when = at if at is not None else draft.publish_at
        if when is None:
            raise ConfigurationError(
                f"draft {draft.id} names no time", field="at", hint="schedule(draft, at=...)"
            )
        authority = {
            "by": by,
            "draft": draft.id,
            "approved_by": [a.person for a in draft.approvals],
            "accounts": {name: ", ".join(a.decree for a in draft.approvals) for name in names},
            **_pinned_authority(draft),
        }
        return self._guarded(
            draft,
            by,
            action,
            lambda then: self.planner.plan(
                draft.post,
                names,
                when,
                draft.recurrence,
                authority=authority,
                by=by,
                action=action,
                then=then,
                note=note,
            ),
        )

    def _guarded(
        self,
        draft: Draft,
        by: str | None,
        action: str,
        plan: Callable[[Then], Job],
    ) -> Job:
        """Run ``plan`` with a ``then`` that moves the draft from approved to scheduled in
        the job's own transaction, or aborts it when another process got there first."""

        def then(tx: Tx, job_id: str) -> None:
            if not self.store.governance.mark_draft_scheduled(tx, draft.id, job_id):
                raise _NoLongerApproved

        try:
            return plan(then)
        except _NoLongerApproved:
            status = self.draft(draft.id).status
            self._refuse(draft, by, action, f"draft is {status}")
            raise NotPermitted(
                f"draft {draft.id} is {status}: it was scheduled meanwhile, and a draft makes "
                "one job",
                actor=by,
                action=action,
            ) from None

    def _refuse(self, draft: Draft, by: str | None, action: str, reason: str) -> None:
        with self.store.transaction() as cur:
            self.core.record(
                cur,
                by,
                f"refused:{action}",
                obj=draft.id,
                account=",".join(draft.accounts),
                detail={"reason": reason},
            )

    # -- content requests ---------------------------------------------------------------------

    @signed
    def request_content(
        self,
        *,
        from_unit: str,
        topic: str,
        due: str | date | datetime | None = None,
        details: str | None = None,
        attachments: Sequence[str] = (),
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> ContentRequest:
        """Record a request for material between the admins and another unit.

        ``due`` is a date (the end of that day in the workspace's calendar zone) or an
        aware datetime. Its turnaround to the first published post feeds the reports.
        """
        if not from_unit.strip() or not topic.strip():
            raise ConfigurationError(
                "a content request needs the unit and the topic", field="topic"
            )
        due_at: float | None = None
        if due is not None:
            if isinstance(due, datetime):
                due_at = parse_when(due, zone="UTC", now=datetime.now(UTC), field="due").timestamp()
            else:
                day = as_date(due, "due")
                zone = ZoneInfo(self.core.calendar_zone())
                due_at = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=zone).timestamp()
        request_id = uuid.uuid4().hex[:12]
        with self.store.transaction() as cur:
            self.store.governance.add_request(
                cur,
                (
                    request_id,
                    from_unit,
                    topic,
                    details,
                    json.dumps(list(attachments)),
                    due_at,
                    by,
                    time.time(),
                ),
            )
            self.core.record(
                cur,
                by,
                "request_content",
                obj=request_id,
                detail={"from_unit": from_unit, "topic": topic, "due": due_at},
            )
        return self.content_request(request_id)

    @signed
    def fulfil(
        self,
        request_id: str,
        draft_id: str,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> ContentRequest:
        """Mark the request as answered by ``draft_id`` (its publication closes it)."""
        self.content_request(request_id)
        draft = self.draft(draft_id)
        actor = by or draft.author
        self.core.authority.authorize("fulfil", actor, draft.accounts, obj=request_id)
        with self.store.transaction() as cur:
            self.store.governance.link_draft_to_request(cur, draft_id, request_id)
            self._link_request(cur, request_id, draft_id, actor)
        return self.content_request(request_id)

    def _link_request(self, cur: Tx, request_id: str, draft_id: str, by: str | None) -> None:
        self.store.governance.mark_request_drafted(cur, request_id, draft_id, time.time())
        self.core.record(cur, by, "fulfil", obj=request_id, detail={"draft": draft_id})

    def content_request(self, request_id: str) -> ContentRequest:
        """The content request with ``request_id``.

        :raises NotFound: there is none (a ConfigurationError, as before).
        """
        found = self._requests(request_id)
        if not found:
            raise NotFound(
                f"no content request {request_id!r} in this workspace", field="request_id"
            )
        return found[0]

    def requests(self, status: str | None = None) -> list[ContentRequest]:
        """Content requests, oldest first, with when each was first published."""
        found = self._requests()
        if status is not None:
            found = [r for r in found if r.status == status]
        return found

    def _requests(self, request_id: str | None = None) -> list[ContentRequest]:
        with self.store.transaction() as cur:
            rows = self.store.governance.requests(cur, request_id)
        found = []
        for r in rows:
            published = r[11]
            found.append(
                ContentRequest(
                    id=r[0],
                    from_unit=r[1],
                    topic=r[2],
                    details=r[3],
                    attachments=tuple(json.loads(r[4])),
                    due=from_epoch(r[5]) if r[5] is not None else None,
                    status="published" if published is not None else r[6],
                    requested_by=r[7],
                    draft_id=r[8],
                    created_at=from_epoch(r[9]),
                    fulfilled_at=from_epoch(r[10]) if r[10] is not None else None,
                    published_at=from_epoch(published) if published is not None else None,
                )
            )
        return found


def _pinned_authority(draft: Draft) -> dict[str, Any]:
    """What a job from ``draft`` carries of the approved content: its digest and each media
    file's (nothing for a draft approved before content was pinned)."""
    approved = {a.content for a in draft.approvals if a.content}
    if draft.content is None or approved != {draft.content.digest}:
        return {}
    return {
        "content": draft.content.digest,
        "media": [m.model_dump(mode="json") for m in draft.content.media],
    }


class _NoLongerApproved(Exception):
    """The draft left ``approved`` between reading it and writing its job."""


class _Refused(Exception):
    """A check made inside a transaction failed: roll it back, then log the refusal."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _next_step(
    status: str, job_id: str | None, publish_at: float | None, now: datetime
) -> str | None:
    """What someone must do for an approved draft without a job (None: nothing)."""
    if status != "approved" or job_id is not None:
        return None
    if publish_at is None:
        return "approved without a time: an admin schedules it with schedule(draft, at=..., by=...)"
    if publish_at <= now.timestamp():
        return (
            f"its time {from_epoch(publish_at):%Y-%m-%d %H:%M} UTC passed while it waited for "
            "approval, and it is not scheduled: an admin reschedules it with "
            "schedule(draft, at=..., by=...)"
        )
    return None
