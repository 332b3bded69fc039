"""Accountability for public-service accounts: people, appointments, drafts, approvals,
content requests, and the audit trail of all of it.

In an Indonesian agency the accounts are run by civil servants (ASN) appointed by a decree
(SK). :class:`Accountability` gives a :class:`~govsocial.Workspace` that structure:

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
  ============  ==========================================================

- **Only approved posts go out.** On a governed account a post is scheduled from an approved
  draft, or by an admin directly when the account's rule lets admins skip approval. Each job
  carries its authority (who, which draft, which decrees); a worker refuses to publish a job
  on a governed account without one.
- **Everything is audit-logged** in the same transaction as the action, refusals included
  (see :mod:`govsocial.workspace.audit`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from govsocial.core.errors import ConfigurationError, NotPermitted
from govsocial.core.models import Post
from govsocial.core.timing import from_epoch, parse_when
from govsocial.workspace import audit

if TYPE_CHECKING:
    from govsocial.plugin.manager import Plugins
    from govsocial.scheduling.jobs import Job
    from govsocial.store import AccountRow, Store
    from govsocial.workspace.audit import AuditEntry, AuditHead

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

Role = Literal["admin", "approver", "contributor"]
ROLES: tuple[str, ...] = ("admin", "approver", "contributor")

#: Which roles may do each action on a governed account.
PERMITTED: dict[str, tuple[str, ...]] = {
    "draft": ("contributor", "admin"),
    "fulfil": ("contributor", "admin"),
    "approve": ("approver",),
    "reject": ("approver",),
    "schedule": ("admin",),
    "enqueue": ("admin",),
    "cancel": ("admin",),
    "reschedule": ("admin",),
    "reply": ("admin",),
    "delete": ("admin",),
}

_FROZEN = ConfigDict(frozen=True)


class Person(BaseModel):
    """Someone who acts on the accounts: an ASN, usually, in a unit (unit kerja)."""

    model_config = _FROZEN

    id: str
    name: str
    unit: str | None = None


class Appointment(BaseModel):
    """A person's role on an account under a decree (SK), valid on the dates given."""

    model_config = _FROZEN

    id: str
    person: str
    account: str
    role: Role
    decree: str
    valid_from: date
    valid_until: date | None = None

    def valid_on(self, day: date) -> bool:
        """Whether the appointment is in force on ``day`` (both ends included)."""
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class ApprovalRule(BaseModel):
    """How an account's posts are approved.

    ``approvers``: how many different approvers a draft needs. ``admin_needs_approval``:
    whether an admin's own posts need a draft and approval too. ``self_approval``: whether
    an approver may approve a draft they wrote.
    """

    model_config = _FROZEN

    approvers: int = 1
    admin_needs_approval: bool = False
    self_approval: bool = False


class Approval(BaseModel):
    """One approver's yes to a draft, under their decree."""

    model_config = _FROZEN

    person: str
    decree: str
    at: datetime


DraftStatus = Literal["pending", "approved", "rejected", "scheduled"]


class Draft(BaseModel):
    """A proposed post: ``pending`` until enough approvers say yes (``approved``, then
    ``scheduled`` once it has a job) or one says no (``rejected``, with the reason)."""

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


RequestStatus = Literal["open", "drafted", "published"]


class ContentRequest(BaseModel):
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


def _day(value: str | date, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise ConfigurationError(
            f"{field} {value!r} is not a date",
            field=field,
            hint="write it as YYYY-MM-DD, e.g. 2026-01-01",
        ) from None


class Accountability:
    """The accountability half of :class:`~govsocial.Workspace` (mixed into it)."""

    store: Store
    plugins: Plugins

    if TYPE_CHECKING:  # provided by Workspace

        def _account_row(
            self, name: str, rows: Sequence[AccountRow] | None = None
        ) -> AccountRow: ...

        def _rows_for(self, accounts: Sequence[str]) -> list[AccountRow]: ...

        def _validate(self, post: Post, rows: Sequence[AccountRow]) -> None: ...

        def _calendar_zone(self) -> str: ...

        def _plan(
            self,
            post: Post,
            accounts: Sequence[str],
            at: str | datetime,
            recurrence: str | None,
            *,
            authority: dict[str, Any],
            by: str | None,
            action: str,
        ) -> Job: ...

    # -- audit -----------------------------------------------------------------------------

    def _audit(self, cur: Any, actor: str | None, action: str, **fields: Any) -> AuditEntry:
        return audit.append(self.store, cur, actor=actor, action=action, **fields)

    def audit_log(
        self,
        since: str | datetime | None = None,
        *,
        until: str | datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        account: str | None = None,
    ) -> list[AuditEntry]:
        """Audit entries, oldest first: who did what, when, under which decree."""
        return audit.entries(
            self.store,
            since=_epoch(since, "since"),
            until=_epoch(until, "until"),
            actor=actor,
            action=action,
            account=account,
        )

    def verify_audit(self, anchor: AuditHead | tuple[int, str] | None = None) -> int:
        """Check the audit log's hash chain; return how many entries verified.

        :raises AuditTampered: naming the first edited, missing or inserted entry.
        """
        return audit.verify(self.store, anchor=anchor)

    def audit_head(self) -> AuditHead | None:
        """The newest entry's (seq, hash): keep it elsewhere to detect truncation later."""
        return audit.head(self.store)

    # -- people and appointments -------------------------------------------------------------

    def add_person(
        self, person_id: str, *, name: str, unit: str | None = None, by: str | None = None
    ) -> Person:
        """Record a person (replacing the name and unit of one with that id)."""
        if not person_id or not person_id.strip() or " " in person_id:
            raise ConfigurationError(
                f"person id {person_id!r} must be one word",
                field="person",
                hint="use a short handle such as 'siti'",
            )
        if not name.strip():
            raise ConfigurationError("a person needs a name", field="name")
        with self.store.transaction() as cur:
            self.store.execute(cur, "DELETE FROM people WHERE id = ?", (person_id,))
            self.store.execute(
                cur,
                "INSERT INTO people (id, name, unit, created_at) VALUES (?, ?, ?, ?)",
                (person_id, name, unit, time.time()),
            )
            self._audit(cur, by, "add_person", obj=person_id, detail={"name": name, "unit": unit})
        return Person(id=person_id, name=name, unit=unit)

    def people(self) -> list[Person]:
        """Everyone recorded, by id."""
        with self.store.transaction() as cur:
            rows = self.store.execute(cur, "SELECT id, name, unit FROM people ORDER BY id")
            return [Person(id=r[0], name=r[1], unit=r[2]) for r in rows.fetchall()]

    def person(self, person_id: str) -> Person:
        """The person with ``person_id``.

        :raises ConfigurationError: there is none (the message lists who there is).
        """
        found = {p.id: p for p in self.people()}
        if person_id not in found:
            known = ", ".join(found) or "none yet: add one with add_person"
            raise ConfigurationError(
                f"no person {person_id!r} in this workspace (known: {known})", field="person"
            )
        return found[person_id]

    def appoint(
        self,
        person: str,
        *,
        accounts: Sequence[str],
        role: str,
        decree: str,
        valid_from: str | date,
        valid_until: str | date | None = None,
        by: str | None = None,
    ) -> list[Appointment]:
        """Appoint ``person`` to ``role`` on ``accounts`` under ``decree`` (the SK number).

        The first appointment on an account puts it under governance: from then on every
        action on it names its actor.
        """
        self.person(person)
        if role not in ROLES:
            raise ConfigurationError(
                f"unknown role {role!r}", field="role", hint=f"one of {', '.join(ROLES)}"
            )
        if not decree or not decree.strip():
            raise ConfigurationError(
                "an appointment needs the decree (SK) number that makes it",
                field="decree",
                hint="e.g. decree='800/123/SK/2026'",
            )
        start = _day(valid_from, "valid_from")
        end = _day(valid_until, "valid_until") if valid_until is not None else None
        if end is not None and end < start:
            raise ConfigurationError(
                f"valid_until {end} is before valid_from {start}", field="valid_until"
            )
        names = [accounts] if isinstance(accounts, str) else list(dict.fromkeys(accounts))
        if not names:
            raise ConfigurationError("name at least one account", field="accounts")
        for name in names:
            self._account_row(name)
        made: list[Appointment] = []
        with self.store.transaction() as cur:
            for name in names:
                appointment = Appointment(
                    id=uuid.uuid4().hex[:12],
                    person=person,
                    account=name,
                    role=role,  # checked against ROLES above
                    decree=decree.strip(),
                    valid_from=start,
                    valid_until=end,
                )
                self.store.execute(
                    cur,
                    "INSERT INTO appointments (id, person, account, role, decree, valid_from, "
                    "valid_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        appointment.id,
                        person,
                        name,
                        role,
                        appointment.decree,
                        start.isoformat(),
                        end.isoformat() if end else None,
                        time.time(),
                    ),
                )
                self._audit(
                    cur,
                    by,
                    "appoint",
                    obj=person,
                    account=name,
                    decree=appointment.decree,
                    detail={
                        "role": role,
                        "valid_from": start.isoformat(),
                        "valid_until": end.isoformat() if end else None,
                    },
                )
                made.append(appointment)
        return made

    def appointments(
        self, *, account: str | None = None, person: str | None = None
    ) -> list[Appointment]:
        """Appointments, filtered by account and person."""
        clauses, params = [], []
        if account is not None:
            clauses.append("account = ?")
            params.append(account)
        if person is not None:
            clauses.append("person = ?")
            params.append(person)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.store.transaction() as cur:
            rows = self.store.execute(
                cur,
                "SELECT id, person, account, role, decree, valid_from, valid_until "
                f"FROM appointments{where} ORDER BY account, person, valid_from",
                params,
            ).fetchall()
        return [
            Appointment(
                id=r[0],
                person=r[1],
                account=r[2],
                role=r[3],
                decree=r[4],
                valid_from=date.fromisoformat(r[5]),
                valid_until=date.fromisoformat(r[6]) if r[6] else None,
            )
            for r in rows
        ]

    def governed(self, account: str) -> bool:
        """Whether ``account`` has appointments, so every action on it needs an actor."""
        with self.store.transaction() as cur:
            row = self.store.execute(
                cur, "SELECT 1 FROM appointments WHERE account = ? LIMIT 1", (account,)
            ).fetchone()
        return row is not None

    def governed_accounts(self) -> set[str]:
        """Every account under governance."""
        with self.store.transaction() as cur:
            rows = self.store.execute(cur, "SELECT DISTINCT account FROM appointments")
            return {r[0] for r in rows.fetchall()}

    def set_approval_rule(
        self,
        account: str,
        *,
        approvers: int = 1,
        admin_needs_approval: bool = False,
        self_approval: bool = False,
        by: str | None = None,
    ) -> ApprovalRule:
        """Set how ``account``'s posts are approved (see :class:`ApprovalRule`)."""
        self._account_row(account)
        if approvers < 1:
            raise ConfigurationError(
                f"approvers must be at least 1, not {approvers}",
                field="approvers",
                hint="a draft always needs one approver; use admin_needs_approval=False "
                "to let admins post without a draft",
            )
        rule = ApprovalRule(
            approvers=approvers,
            admin_needs_approval=admin_needs_approval,
            self_approval=self_approval,
        )
        with self.store.transaction() as cur:
            self.store.execute(cur, "DELETE FROM approval_rules WHERE account = ?", (account,))
            self.store.execute(
                cur,
                "INSERT INTO approval_rules (account, approvers, admin_needs_approval, "
                "self_approval) VALUES (?, ?, ?, ?)",
                (account, approvers, int(admin_needs_approval), int(self_approval)),
            )
            self._audit(cur, by, "set_approval_rule", account=account, detail=rule.model_dump())
        return rule

    def approval_rule(self, account: str) -> ApprovalRule:
        """``account``'s approval rule (the default one when none was set)."""
        with self.store.transaction() as cur:
            row = self.store.execute(
                cur,
                "SELECT approvers, admin_needs_approval, self_approval FROM approval_rules "
                "WHERE account = ?",
                (account,),
            ).fetchone()
        if row is None:
            return ApprovalRule()
        return ApprovalRule(
            approvers=int(row[0]), admin_needs_approval=bool(row[1]), self_approval=bool(row[2])
        )

    # -- permission ------------------------------------------------------------------------

    def _authorize(
        self, action: str, by: str | None, accounts: Sequence[str], *, obj: str | None = None
    ) -> dict[str, str | None]:
        """The decree that lets ``by`` do ``action`` on each account (None: not governed).

        A refusal is audit-logged (in its own transaction, so it stays) and raised.
        """
        decrees: dict[str, str | None] = {}
        for account in accounts:
            try:
                decrees[account] = self._decree_for(action, by, account)
            except NotPermitted as refused:
                with self.store.transaction() as cur:
                    self._audit(
                        cur,
                        by,
                        f"refused:{action}",
                        obj=obj,
                        account=account,
                        detail={"reason": refused.message},
                    )
                raise
        return decrees

    def _decree_for(self, action: str, by: str | None, account: str) -> str | None:
        found = self.appointments(account=account)
        if not found:
            return None
        roles = PERMITTED[action]
        needed = " or ".join(roles)
        article = "an" if needed[0] in "aeiou" else "a"
        if by is None:
            raise NotPermitted(
                f"account {account!r} is run under appointments (SK): {action} needs "
                f"by=<person> with a valid {needed} appointment",
                actor=None,
                action=action,
                account=account,
                hint=f"pass by='<person id>'; {needed}s of {account}: "
                + (", ".join(sorted({a.person for a in found if a.role in roles})) or "none"),
            )
        mine = [a for a in found if a.person == by]
        fitting = [a for a in mine if a.role in roles]
        if not fitting:
            held = ", ".join(f"{a.role} under {a.decree}" for a in mine) or "no appointment"
            raise NotPermitted(
                f"{by} may not {action} on {account!r}: that needs {article} {needed} "
                "appointment, "
                f"and {by} has {held} there",
                actor=by,
                action=action,
                account=account,
                hint=f"appoint {by} as {roles[0]} on {account} with the decree (SK) that "
                "grants it, or ask someone who holds that role",
            )
        today = datetime.now(ZoneInfo(self._account_row(account).timezone)).date()
        valid = [a for a in fitting if a.valid_on(today)]
        if valid:
            return valid[0].decree
        latest = max(fitting, key=lambda a: a.valid_until or date.max)
        if latest.valid_from > today:
            when = f"starts {latest.valid_from.isoformat()}"
        else:
            when = f"ended {latest.valid_until.isoformat() if latest.valid_until else '?'}"
        raise NotPermitted(
            f"{by}'s {latest.role} appointment on {account!r} under decree {latest.decree} "
            f"{when}; today is {today.isoformat()} there",
            actor=by,
            action=action,
            account=account,
            hint="record the decree that renews the appointment with appoint(...)",
        )

    # -- drafts and approvals -----------------------------------------------------------------

    def draft(
        self,
        post: Post,
        *,
        accounts: Sequence[str],
        by: str,
        at: str | datetime | None = None,
        recurrence: str | None = None,
        request: str | None = None,
    ) -> Draft:
        """Propose ``post`` for ``accounts`` (at ``at`` when given), for approval.

        The post is validated for every account's platform now, so a contributor learns at
        once what does not fit.
        """
        self.person(by)
        rows = self._rows_for(accounts)
        names = [row.name for row in rows]
        decrees = self._authorize("draft", by, names)
        self._validate(post, rows)
        publish_at: float | None = None
        if at is not None:
            publish_at = parse_when(at, zone=rows[0].timezone, now=datetime.now(UTC)).timestamp()
        if request is not None:
            self.content_request(request)
        draft_id = uuid.uuid4().hex[:12]
        with self.store.transaction() as cur:
            self.store.execute(
                cur,
                "INSERT INTO drafts (id, post, accounts, author, publish_at, recurrence, status, "
                "request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                (
                    draft_id,
                    post.model_dump_json(),
                    json.dumps(names),
                    by,
                    publish_at,
                    recurrence,
                    request,
                    time.time(),
                ),
            )
            for name in names:
                self._audit(
                    cur,
                    by,
                    "draft",
                    obj=draft_id,
                    account=name,
                    decree=decrees[name],
                    detail={"request": request} if request else None,
                )
            if request is not None:
                self._link_request(cur, request, draft_id, by)
        return self.get_draft(draft_id)

    def get_draft(self, draft_id: str) -> Draft:
        """The draft with ``draft_id``.

        :raises ConfigurationError: there is none.
        """
        found = self._drafts("WHERE id = ?", (draft_id,))
        if not found:
            raise ConfigurationError(f"no draft {draft_id!r} in this workspace", field="draft_id")
        return found[0]

    def drafts(self, status: str | None = None) -> list[Draft]:
        """Drafts, oldest first; only those with ``status`` when given."""
        if status is None:
            return self._drafts("", ())
        return self._drafts("WHERE status = ?", (status,))

    def _drafts(self, where: str, params: Sequence[Any]) -> list[Draft]:
        with self.store.transaction() as cur:
            rows = self.store.execute(
                cur,
                "SELECT id, post, accounts, author, publish_at, recurrence, status, reason, "
                f"request_id, job_id, created_at, decided_at FROM drafts {where} "
                "ORDER BY created_at",
                params,
            ).fetchall()
            approvals: dict[str, list[Approval]] = {}
            for draft_id, person, decree, at in self.store.execute(
                cur,
                "SELECT draft_id, person, decree, at FROM approvals "
                f"WHERE draft_id IN (SELECT id FROM drafts {where}) ORDER BY at",
                params,
            ).fetchall():
                approvals.setdefault(draft_id, []).append(
                    Approval(person=person, decree=decree, at=from_epoch(at))
                )
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
            )
            for r in rows
        ]

    def approve(self, draft_id: str, *, by: str) -> Draft:
        """``by`` approves the draft. With enough approvals it is ``approved``; if it names a
        time, it is scheduled then (the approvers' decrees are its authority).

        :raises NotPermitted: not an approver on every account of the draft, or the
            appointment is not valid today, or approving one's own draft where the rule
            forbids it, or approving twice, or a draft no longer pending.
        """
        draft = self.get_draft(draft_id)
        self.person(by)
        decrees = self._authorize("approve", by, draft.accounts, obj=draft_id)
        self._refuse_unless(
            draft.status == "pending",
            "approve",
            by,
            draft,
            f"draft {draft_id} is {draft.status}, not pending",
        )
        self._refuse_unless(
            by not in {a.person for a in draft.approvals},
            "approve",
            by,
            draft,
            f"{by} already approved draft {draft_id}",
        )
        rules = [self.approval_rule(name) for name in draft.accounts]
        self._refuse_unless(
            by != draft.author or all(rule.self_approval for rule in rules),
            "approve",
            by,
            draft,
            f"{by} wrote draft {draft_id} and may not approve it: the approval rule of "
            f"{', '.join(draft.accounts)} needs someone else",
        )
        needed = max(rule.approvers for rule in rules)
        decree = ", ".join(sorted({d for d in decrees.values() if d})) or "-"
        now = time.time()
        with self.store.transaction() as cur:
            self.store.execute(
                cur,
                "INSERT INTO approvals (draft_id, person, decree, at) VALUES (?, ?, ?, ?)",
                (draft_id, by, decree, now),
            )
            count = len(draft.approvals) + 1
            for name in draft.accounts:
                self._audit(
                    cur,
                    by,
                    "approve",
                    obj=draft_id,
                    account=name,
                    decree=decrees[name],
                    detail={"approvals": count, "needed": needed},
                )
            if count >= needed:
                self.store.execute(
                    cur,
                    "UPDATE drafts SET status = 'approved', decided_at = ? WHERE id = ?",
                    (now, draft_id),
                )
        draft = self.get_draft(draft_id)
        if draft.status == "approved" and draft.publish_at is not None:
            if draft.publish_at > datetime.now(UTC):
                self._schedule_draft(draft, at=draft.publish_at, by=by, action="schedule")
            draft = self.get_draft(draft_id)
        return draft

    def reject(self, draft_id: str, *, by: str, reason: str) -> Draft:
        """``by`` rejects the draft, saying why (the author sees the reason)."""
        if not reason or not reason.strip():
            raise ConfigurationError(
                "a rejection needs a reason the author can act on", field="reason"
            )
        draft = self.get_draft(draft_id)
        self.person(by)
        decrees = self._authorize("reject", by, draft.accounts, obj=draft_id)
        self._refuse_unless(
            draft.status == "pending",
            "reject",
            by,
            draft,
            f"draft {draft_id} is {draft.status}, not pending",
        )
        with self.store.transaction() as cur:
            self.store.execute(
                cur,
                "UPDATE drafts SET status = 'rejected', reason = ?, decided_at = ? WHERE id = ?",
                (reason, time.time(), draft_id),
            )
            for name in draft.accounts:
                self._audit(
                    cur,
                    by,
                    "reject",
                    obj=draft_id,
                    account=name,
                    decree=decrees[name],
                    detail={"reason": reason},
                )
        return self.get_draft(draft_id)

    def _refuse_unless(
        self, condition: bool, action: str, by: str, draft: Draft, message: str
    ) -> None:
        if condition:
            return
        with self.store.transaction() as cur:
            self._audit(
                cur,
                by,
                f"refused:{action}",
                obj=draft.id,
                account=",".join(draft.accounts),
                detail={"reason": message},
            )
        raise NotPermitted(message, actor=by, action=action, account=",".join(draft.accounts))

    def _schedule_draft(
        self,
        draft: Draft,
        *,
        at: str | datetime | None,
        by: str,
        action: str,
        accounts: Sequence[str] | None = None,
    ) -> Job:
        if draft.status != "approved":
            with self.store.transaction() as cur:
                self._audit(
                    cur,
                    by,
                    f"refused:{action}",
                    obj=draft.id,
                    account=",".join(draft.accounts),
                    detail={"reason": f"draft is {draft.status}"},
                )
            raise NotPermitted(
                f"draft {draft.id} is {draft.status}: only an approved draft can be scheduled",
                actor=by,
                action=action,
                hint="get it approved first (approve(draft_id, by=...))",
            )
        names = list(accounts) if accounts else list(draft.accounts)
        extra = [n for n in names if n not in draft.accounts]
        if extra:
            raise NotPermitted(
                f"draft {draft.id} was approved for {', '.join(draft.accounts)}, not for "
                f"{', '.join(extra)}",
                actor=by,
                action=action,
                hint="draft it again for those accounts",
            )
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
        }
        job = self._plan(
            draft.post,
            names,
            when,
            draft.recurrence,
            authority=authority,
            by=by,
            action=action,
        )
        with self.store.transaction() as cur:
            self.store.execute(
                cur,
                "UPDATE drafts SET status = 'scheduled', job_id = ? WHERE id = ?",
                (job.id, draft.id),
            )
        return job

    def _direct_authority(
        self, action: str, names: Sequence[str], by: str | None
    ) -> dict[str, Any]:
        """The authority for an admin planning ``post`` directly (no draft)."""
        decrees = self._authorize(action, by, names)
        for name in names:
            if decrees[name] is not None and self.approval_rule(name).admin_needs_approval:
                message = (
                    f"posts on {name!r} need approval, even an admin's: draft it with "
                    f"draft(post, accounts=[...], by={by!r}) and have an approver approve it"
                )
                with self.store.transaction() as cur:
                    self._audit(
                        cur, by, f"refused:{action}", account=name, detail={"reason": message}
                    )
                raise NotPermitted(message, actor=by, action=action, account=name)
        return {"by": by, "draft": None, "approved_by": [], "accounts": decrees}

    # -- content requests ---------------------------------------------------------------------

    def request_content(
        self,
        *,
        from_unit: str,
        topic: str,
        due: str | date | datetime | None = None,
        details: str | None = None,
        attachments: Sequence[str] = (),
        by: str | None = None,
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
                day = _day(due, "due")
                zone = ZoneInfo(self._calendar_zone())
                due_at = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=zone).timestamp()
        request_id = uuid.uuid4().hex[:12]
        with self.store.transaction() as cur:
            self.store.execute(
                cur,
                "INSERT INTO content_requests (id, from_unit, topic, details, attachments, "
                "due_at, status, requested_by, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
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
            self._audit(
                cur,
                by,
                "request_content",
                obj=request_id,
                detail={"from_unit": from_unit, "topic": topic, "due": due_at},
            )
        return self.content_request(request_id)

    def fulfil(self, request_id: str, draft_id: str, *, by: str | None = None) -> ContentRequest:
        """Mark the request as answered by ``draft_id`` (its publication closes it)."""
        self.content_request(request_id)
        draft = self.get_draft(draft_id)
        actor = by or draft.author
        self._authorize("fulfil", actor, draft.accounts, obj=request_id)
        with self.store.transaction() as cur:
            self.store.execute(
                cur, "UPDATE drafts SET request_id = ? WHERE id = ?", (request_id, draft_id)
            )
            self._link_request(cur, request_id, draft_id, actor)
        return self.content_request(request_id)

    def _link_request(self, cur: Any, request_id: str, draft_id: str, by: str | None) -> None:
        self.store.execute(
            cur,
            "UPDATE content_requests SET draft_id = ?, fulfilled_at = ?, status = 'drafted' "
            "WHERE id = ?",
            (draft_id, time.time(), request_id),
        )
        self._audit(cur, by, "fulfil", obj=request_id, detail={"draft": draft_id})

    def content_request(self, request_id: str) -> ContentRequest:
        """The content request with ``request_id``.

        :raises ConfigurationError: there is none.
        """
        found = self._requests("WHERE r.id = ?", (request_id,))
        if not found:
            raise ConfigurationError(
                f"no content request {request_id!r} in this workspace", field="request_id"
            )
        return found[0]

    def requests(self, status: str | None = None) -> list[ContentRequest]:
        """Content requests, oldest first, with when each was first published."""
        found = self._requests("", ())
        if status is not None:
            found = [r for r in found if r.status == status]
        return found

    def _requests(self, where: str, params: Sequence[Any]) -> list[ContentRequest]:
        with self.store.transaction() as cur:
            rows = self.store.execute(
                cur,
                "SELECT r.id, r.from_unit, r.topic, r.details, r.attachments, r.due_at, "
                "r.status, r.requested_by, r.draft_id, r.created_at, r.fulfilled_at, "
                "(SELECT MIN(d.published_at) FROM drafts f JOIN deliveries d "
                "ON d.job_id = f.job_id WHERE f.id = r.draft_id AND d.status = 'published') "
                f"FROM content_requests r {where} ORDER BY r.created_at",
                params,
            ).fetchall()
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


def _epoch(value: str | datetime | None, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigurationError(
                f"{field} {value!r} is not a date or time",
                field=field,
                hint="ISO 8601, e.g. 2026-11-01 or 2026-11-01T00:00+07:00",
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
