"""People, their appointments under decrees (SK), approval rules, and who may do what.

In an Indonesian agency the accounts are run by civil servants (ASN) appointed by a decree
(SK). :class:`Authority` keeps that structure for a workspace:

- **Governance is opt-in per account.** An account with no appointments works as the
  scheduler always did. Once it has one, every action on it names its actor (``by=``), and
  the actor's appointment must be valid that day (in the account's zone) for that account,
  in a role that allows the action:

  ============  ==========================================================
  role          may
  ============  ==========================================================
  contributor   draft posts, fulfil content requests
  approver      approve or reject drafts
  admin         draft, schedule, enqueue, cancel, reschedule, reply, delete,
                publish an audit anchor
  ============  ==========================================================

- **A refusal is audit-logged** (in its own transaction, so it stays) and raised as
  :class:`~govsocial.NotPermitted`.
- **Who acts, is it signed, is it permitted** is one check, :meth:`Authority.authorize`:
  a person registered with a public key (:mod:`govsocial.workspace.signing`) must act with
  the matching key (``key=``), on every account, governed or not.

Services reach it as ``core.authority`` (see :class:`govsocial.workspace.core.WorkspaceCore`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ConfigDict

from govsocial.core.errors import ConfigurationError, NotFound, NotPermitted
from govsocial.core.models import Model
from govsocial.workspace import audit
from govsocial.workspace.signing import SigningKey, acting_key, check_public_key

if TYPE_CHECKING:
    from govsocial.store import AccountRow, Store
    from govsocial.store.sql import Tx
    from govsocial.workspace.audit import AuditEntry

__all__ = ["PERMITTED", "ROLES", "as_date", "Appointment", "ApprovalRule", "Authority", "Person"]

_FROZEN = ConfigDict(frozen=True)

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
    "publish_audit_anchor": ("admin",),
}


class Person(Model):
    """Someone who acts on the accounts: an ASN, usually, in a unit (unit kerja)."""

    model_config = _FROZEN

    id: str
    name: str
    unit: str | None = None
    #: the Ed25519 public key they sign their actions with (None: they do not sign)
    public_key: str | None = None


class Appointment(Model):
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


class ApprovalRule(Model):
    """How an account's posts are approved.

    ``approvers``: how many different approvers a draft needs. ``admin_needs_approval``:
    whether an admin's own posts need a draft and approval too. ``self_approval``: whether
    an approver may approve a draft they wrote.
    """

    model_config = _FROZEN

    approvers: int = 1
    admin_needs_approval: bool = False
    self_approval: bool = False


def as_date(value: str | date, field: str) -> date:
    """``value`` (a date, a datetime, or ISO text) as a date; ``field`` names it in errors."""
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


class Authority:
    """People, appointments, approval rules and permission checks of one workspace.

    :param store: the workspace's store.
    :param account_row: looks an account's stored row up by name (raising
        :class:`~govsocial.ConfigurationError` for an unknown one).
    """

    def __init__(self, store: Store, account_row: Callable[[str], AccountRow]) -> None:
        self.store = store
        self._account_row = account_row

    def _audit(self, cur: Tx, actor: str | None, action: str, **fields: Any) -> AuditEntry:
        return audit.append(self.store, cur, actor=actor, action=action, **fields)

    # -- people and appointments -------------------------------------------------------------

    def add_person(
        self,
        person_id: str,
        *,
        name: str,
        unit: str | None = None,
        public_key: str | None = None,
        by: str | None = None,
    ) -> Person:
        """Record a person (replacing the name and unit of one with that id).

        ``public_key`` (a :attr:`SigningKey.public_key`) makes them sign every action from
        now on. A person's key, once registered, stays when they are recorded again without
        one; replacing it needs an action signed by someone who signs (the person with their
        old key, or, say, a head of office).
        """
        if not person_id or not person_id.strip() or " " in person_id:
            raise ConfigurationError(
                f"person id {person_id!r} must be one word",
                field="person",
                hint="use a short handle such as 'siti'",
            )
        if not name.strip():
            raise ConfigurationError("a person needs a name", field="name")
        if public_key is not None:
            check_public_key(public_key)
        self.authorize("add_person", by, (), obj=person_id)
        with self.store.transaction() as cur:
            existing = self.store.governance.public_key(cur, person_id)
        key = public_key or existing
        person = Person(id=person_id, name=name, unit=unit, public_key=key)  # no lone surrogate
        if existing is not None and key != existing and acting_key(by) is None:
            message = (
                f"replacing {person_id}'s public key needs an action signed by someone who "
                "signs: the person with their old key, or another signing person"
            )
            self._refused(by, "add_person", person_id, None, message)
            raise NotPermitted(message, actor=by, action="add_person", hint="pass by= and key=")
        detail: dict[str, Any] = {"name": name, "unit": unit}
        if key is not None:
            detail["public_key"] = key
        with self.store.transaction() as cur:
            # the entry first: it is signed with the key ``by`` holds now, before a new one
            self._audit(cur, by, "add_person", obj=person_id, detail=detail)
            self.store.governance.put_person(cur, person_id, name, unit, time.time(), key)
        return person

    def people(self) -> list[Person]:
        """Everyone recorded, by id."""
        with self.store.transaction() as cur:
            rows = self.store.governance.people(cur)
        return [Person(id=r[0], name=r[1], unit=r[2], public_key=r[3]) for r in rows]

    def person(self, person_id: str) -> Person:
        """The person with ``person_id``.

        :raises NotFound: there is none; the message lists who there is.
        """
        found = {p.id: p for p in self.people()}
        if person_id not in found:
            known = ", ".join(found) or "none yet: add one with add_person"
            raise NotFound(
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
        start = as_date(valid_from, "valid_from")
        end = as_date(valid_until, "valid_until") if valid_until is not None else None
        if end is not None and end < start:
            raise ConfigurationError(
                f"valid_until {end} is before valid_from {start}", field="valid_until"
            )
        names = [accounts] if isinstance(accounts, str) else list(dict.fromkeys(accounts))
        if not names:
            raise ConfigurationError("name at least one account", field="accounts")
        for name in names:
            self._account_row(name)
        self.authorize("appoint", by, (), obj=person)
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
                self.store.governance.add_appointment(
                    cur,
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
        with self.store.transaction() as cur:
            rows = self.store.governance.appointments(cur, account=account, person=person)
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
            return self.store.governance.governed(cur, account)

    def governed_accounts(self) -> set[str]:
        """Every account under governance."""
        with self.store.transaction() as cur:
            return self.store.governance.governed_accounts(cur)

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
        self.authorize("set_approval_rule", by, (), obj=account)
        with self.store.transaction() as cur:
            self.store.governance.put_approval_rule(
                cur, account, approvers, admin_needs_approval, self_approval
            )
            self._audit(cur, by, "set_approval_rule", account=account, detail=rule.model_dump())
        return rule

    def approval_rule(self, account: str) -> ApprovalRule:
        """``account``'s approval rule (the default one when none was set)."""
        with self.store.transaction() as cur:
            row = self.store.governance.approval_rule(cur, account)
        if row is None:
            return ApprovalRule()
        return ApprovalRule(approvers=row[0], admin_needs_approval=row[1], self_approval=row[2])

    # -- permission ------------------------------------------------------------------------

    def authorize(
        self,
        action: str,
        by: str | None,
        accounts: Sequence[str],
        *,
        obj: str | None = None,
    ) -> dict[str, str | None]:
        """Who acts, is it signed, is it permitted: the one check every ``by=`` action passes.

        Returns the decree that lets ``by`` do ``action`` on each of ``accounts`` (None: the
        account is not governed); ``accounts`` may be empty for a workspace-wide action
        (then only who acts and the signature are checked). The key is the one ``by`` acts
        with in this block (:func:`govsocial.workspace.signing.acting`; every ``by=`` method
        of :class:`govsocial.Workspace` takes ``key=`` and does it).

        A refusal is audit-logged (in its own transaction, so it stays) and raised.

        :raises NotPermitted: ``by`` signs and gave no key or the wrong one, or gave a key
            without signing, or has no appointment allowing ``action`` on an account.
        """
        where = ",".join(accounts) or None
        try:
            self.check_signer(by, action=action)
        except NotPermitted as refused:
            self._refused(by, action, obj, where, refused.message)
            raise
        decrees: dict[str, str | None] = {}
        for account in accounts:
            try:
                decrees[account] = self.decree_for(action, by, account)
            except NotPermitted as refused:
                self._refused(by, action, obj, account, refused.message)
                raise
        return decrees

    def check_signer(
        self, by: str | None, key: SigningKey | None = None, *, action: str = "act"
    ) -> SigningKey | None:
        """The key ``by`` acts with, after checking it is the one registered for them.

        ``key`` defaults to the key ``by`` acts with in this block. Nothing is needed of a
        person with no public key, or of an action without ``by``.

        :raises NotPermitted: ``by`` signs and the key is missing or another's, or a key is
            given for someone who has none registered.
        """
        if by is None:
            return None
        key = key if key is not None else acting_key(by)
        with self.store.transaction() as cur:
            registered = self.store.governance.public_key(cur, by)
        logged = audit.registered_key(self.store, by)
        if (logged[0] if logged else None) != registered:
            raise NotPermitted(
                f"{by}'s public key in the people table is not the one the audit log "
                f"registered{f' in entry {logged[1]}' if logged else ''}: it was changed "
                "outside govsocial; nothing is done as them until it is put right",
                actor=by,
                action=action,
                hint="run verify_audit() and investigate who wrote to the database",
            )
        if registered is None:
            if key is not None:
                raise NotPermitted(
                    f"a signing key was given for {by}, who has no public key registered: "
                    "the action would not be signed",
                    actor=by,
                    action=action,
                    hint=f"register it first: add_person({by!r}, ..., public_key=key.public_key)"
                    ", or act without key=",
                )
            return None
        if key is None:
            raise NotPermitted(
                f"{by} signs their actions (a public key is registered for them): pass their key",
                actor=by,
                action=action,
                hint="key=govsocial.SigningKey.load(path); on the command line --key PATH or "
                "GOVSOCIAL_KEY",
            )
        if key.public_key != registered:
            raise NotPermitted(
                f"the key given is not {by}'s: it is {key.public_key[:20]}..., and {by} signs "
                f"with {registered[:20]}...",
                actor=by,
                action=action,
                hint=f"load {by}'s own key file",
            )
        return key

    def _refused(
        self, by: str | None, action: str, obj: str | None, account: str | None, reason: str
    ) -> None:
        with self.store.transaction() as cur:
            self._audit(
                cur, by, f"refused:{action}", obj=obj, account=account, detail={"reason": reason}
            )

    def decree_for(self, action: str, by: str | None, account: str) -> str | None:
        """The decree under which ``by`` may do ``action`` on ``account`` today (None: the
        account is not governed), raising :class:`~govsocial.NotPermitted` without audit."""
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

    def direct_authority(self, action: str, names: Sequence[str], by: str | None) -> dict[str, Any]:
        """The authority for ``by`` planning a post directly (no draft) on ``names``: the
        decree per account; refused where the account's rule wants even an admin's posts
        approved."""
        decrees = self.authorize(action, by, names)
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
