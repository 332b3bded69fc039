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
  head          (workspace-wide) add people and accounts, change credentials,
                appoint, revoke, set approval rules, once the workspace has a head
  ============  ==========================================================

- **Heads of office** (role ``head``, *pimpinan*: the official who signs the decrees) are
  appointed workspace-wide, to no account. A workspace that never had a head works as it
  always did. The first head is appointed without ``by=``; from then on adding people and
  accounts, changing credentials, appointing, revoking and setting approval rules need
  ``by=`` a person whose head appointment is in force (:data:`HEAD_ACTIONS`).
- **Revocation** (:meth:`Authority.revoke`) ends appointments early; a revoked appointment
  allows nothing from that moment on, and the worker checks every delivery against the
  appointments as they stand when it is published (:meth:`Authority.check_publication`).
- **A refusal is audit-logged** (in its own transaction, so it stays) and raised as
  :class:`~govsocial.NotPermitted`.
- **Who acts, is it signed** is checked in one place, :meth:`Authority.verify_actor`, which
  every ``by=`` action passes before its head or appointment check: a person registered
  with a public key (:mod:`govsocial.workspace.signing`) must act with the matching key
  (``key=``), on every account, governed or not, and on every workspace-wide action.

Services reach it as ``core.authority`` (see :class:`govsocial.workspace.core.WorkspaceCore`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import ConfigDict

from govsocial.core.errors import ConfigurationError, NotFound, NotPermitted
from govsocial.core.models import Model, Post, refuse_lone_surrogates
from govsocial.core.timing import from_epoch
from govsocial.workspace import audit
from govsocial.workspace.signing import SigningKey, acting_key, check_public_key, signed

if TYPE_CHECKING:
    from govsocial.store import AccountRow, Store
    from govsocial.store.sql import Tx
    from govsocial.workspace.audit import AuditEntry

__all__ = [
    "BROADCAST_ACTOR",
    "HEAD_ACTIONS",
    "PERMITTED",
    "ROLES",
    "as_date",
    "Appointment",
    "ApprovalRule",
    "Authority",
    "Person",
    "PublicationAuthority",
]

_FROZEN = ConfigDict(frozen=True)
_T = TypeVar("_T")

Role = Literal["head", "admin", "approver", "contributor"]
ROLES: tuple[str, ...] = ("head", "admin", "approver", "contributor")

#: What needs ``by=`` a head of office once the workspace has had one.
HEAD_ACTIONS: tuple[str, ...] = (
    "add_person",
    "add_account",
    "change_credentials",
    "appoint",
    "revoke",
    "set_approval_rule",
    "accept_broadcasts",
)

#: How the actor of a broadcast's planning reads in a target workspace's audit log: the
#: coordinating workspace, not a person (its people are not this workspace's).
BROADCAST_ACTOR = "broadcast:"

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
    "watch": ("admin",),
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
    """A person's role on an account under a decree (SK), valid on the dates given.

    A head's appointment is workspace-wide: its ``account`` is None. ``revoked_at`` (with
    ``revoked_by`` and ``revoke_reason``) is when it was ended early; from then on it allows
    nothing.
    """

    model_config = _FROZEN

    id: str
    person: str
    account: str | None
    role: Role
    decree: str
    valid_from: date
    valid_until: date | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    def valid_on(self, day: date) -> bool:
        """Whether ``day`` lies within the decree's dates (both ends included), revoked or
        not: see :meth:`in_force`."""
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def in_force(self, day: date) -> bool:
        """Whether the appointment allows anything on ``day``: within its dates and not
        revoked (a revocation ends it at once)."""
        return self.revoked_at is None and self.valid_on(day)

    def lapse(self, day: date) -> str:
        """Why it is not in force on ``day``, in words (for refusals)."""
        if self.revoked_at is not None:
            return (
                f"was revoked on {self.revoked_at:%Y-%m-%d %H:%M} UTC by "
                f"{self.revoked_by or 'someone unnamed'}: {self.revoke_reason}"
            )
        if self.valid_from > day:
            return f"starts {self.valid_from.isoformat()}"
        return f"ended {self.valid_until.isoformat() if self.valid_until else '?'}"


class PublicationAuthority(Model):
    """What lets a delivery go out, found at publication from the tables as they stand:
    who planned it (``actor``), under which decrees, and the draft it comes from."""

    model_config = _FROZEN

    actor: str | None
    decree: str | None
    draft: str | None = None
    approvers: tuple[str, ...] = ()


class ApprovalRule(Model):
    """How an account's posts are approved.

    ``approvers``: how many different approvers a draft needs. ``admin_needs_approval``:
    whether an admin's own posts need a draft and approval too. ``self_approval``: whether
    an approver may approve a draft they wrote. ``late_drafts_need_admin``: a draft whose
    time passed while it waited for approval stays approved for an admin to reschedule
    (otherwise it is published at once, the delay in the audit log).
    """

    model_config = _FROZEN

    approvers: int = 1
    admin_needs_approval: bool = False
    self_approval: bool = False
    late_drafts_need_admin: bool = False


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
    :param calendar_zone: the zone a head's appointment is dated in (the workspace's
        calendar zone); default Asia/Jakarta.
    """

    def __init__(
        self,
        store: Store,
        account_row: Callable[[str], AccountRow],
        calendar_zone: Callable[[], str] | None = None,
    ) -> None:
        self.store = store
        self._account_row = account_row
        self._calendar_zone = calendar_zone or (lambda: "Asia/Jakarta")

    def _audit(self, cur: Tx, actor: str | None, action: str, **fields: Any) -> AuditEntry:
        return audit.append(self.store, cur, actor=actor, action=action, **fields)

    # -- who acts, and heads of office -------------------------------------------------------

    def verify_actor(
        self, tx: Tx, by: str, action: str, *, recorded: bool = True
    ) -> SigningKey | None:
        """Check that ``by`` is who acts: the one place the identity behind ``by=`` is
        checked, before any head or appointment check. First the signature: a person
        registered with a public key acts with the matching key (:meth:`check_signer`, with
        the key ``by`` acts with in this block); then, when ``recorded``, that ``by`` is a
        recorded person (an ungoverned account's actions check the signature only, as
        anyone may act there). Returns the key ``by`` acts with (None: they do not sign).

        :raises NotPermitted: naming the person, the action and the fix.
        """
        key = self._signer(tx, by, acting_key(by), action)
        if recorded and by not in {row[0] for row in self.store.governance.people(tx)}:
            raise NotPermitted(
                f"{by!r} is not a person of this workspace, so may not {action}",
                actor=by,
                action=action,
                hint="check the spelling of by=, or have a head add them with add_person",
            )
        return key

    def heads(self) -> list[Appointment]:
        """Every head-of-office appointment ever made (revoked and ended ones too)."""
        with self.store.transaction() as tx:
            return self._appointments(tx, role="head")

    def head_decree(self, tx: Tx, action: str, by: str | None) -> str | None:
        """The decree under which ``by`` does ``action`` as head of office (None: the
        workspace never had a head, so anyone may, as before heads existed).

        :raises NotPermitted: the workspace has heads and ``by`` is none of those in force
            today (in the workspace's calendar zone); names the person, the action, the fix.
        """
        heads = self._appointments(tx, role="head")
        if not heads:
            return None
        today = datetime.now(ZoneInfo(self._calendar_zone())).date()
        serving = sorted({a.person for a in heads if a.in_force(today)})
        named = ", ".join(serving) or "none in force today"
        if by is None:
            raise NotPermitted(
                f"this workspace has heads of office: {action} needs by=<head> with a head "
                "appointment in force",
                actor=None,
                action=action,
                hint=f"pass by='<person id>' of a head (heads today: {named})",
            )
        mine = [a for a in heads if a.person == by]
        valid = [a for a in mine if a.in_force(today)]
        if valid:
            self.verify_actor(tx, by, action)
            return valid[0].decree
        if mine:
            latest = max(mine, key=lambda a: (a.valid_until or date.max, a.valid_from))
            why = (
                f"{by}'s head appointment under decree {latest.decree} {latest.lapse(today)}; "
                f"today is {today.isoformat()}"
            )
        else:
            why = f"{by} is not a head of office"
        raise NotPermitted(
            f"{by} may not {action}: that needs a head of office, and {why}",
            actor=by,
            action=action,
            hint=f"ask a head of office (heads today: {named}) to do it, or to appoint "
            f"{by} head with the decree (SK) that makes it",
        )

    def as_head(
        self,
        action: str,
        by: str | None,
        write: Callable[[Tx, str | None], _T],
        *,
        obj: str | None = None,
        account: str | None = None,
    ) -> _T:
        """Run ``write(tx, head_decree)`` in one transaction if ``by`` may do ``action``
        (:meth:`head_decree`), serialized with every other change of who may do what.
        ``write`` records its own audit entry. A refusal (by the check, or a
        :class:`~govsocial.NotPermitted` from ``write``) is audit-logged as
        ``refused:<action>`` in its own transaction and raised."""
        try:
            with self.store.transaction() as tx:
                self.store.lock_governance(tx)
                if by is not None:  # signed or not, whether or not the workspace has heads
                    self.verify_actor(tx, by, action, recorded=False)
                decree = self.head_decree(tx, action, by)
                return write(tx, decree)
        except NotPermitted as refused:
            self._refused(by, action, obj, account, refused.message)
            raise

    # -- people and appointments -------------------------------------------------------------

    @signed
    def add_person(
        self,
        person_id: str,
        *,
        name: str,
        unit: str | None = None,
        public_key: str | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> Person:
        """Record a person (replacing the name and unit of one with that id); once the
        workspace has heads of office, ``by`` must be one.

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
        Person(id=person_id, name=name, unit=unit)  # refuses a lone surrogate

        def write(tx: Tx, decree: str | None) -> Person:
            existing = self.store.governance.public_key(tx, person_id)
            key = public_key or existing
            if existing is not None and key != existing and acting_key(by) is None:
                raise NotPermitted(
                    f"replacing {person_id}'s public key needs an action signed by someone who "
                    "signs: the person with their old key, or another signing person",
                    actor=by,
                    action="add_person",
                    hint="pass by= and key=",
                )
            detail: dict[str, Any] = {"name": name, "unit": unit}
            if key is not None:
                detail["public_key"] = key
            # the entry first: it is signed with the key ``by`` holds now, before a new one
            self._audit(tx, by, "add_person", obj=person_id, decree=decree, detail=detail)
            self.store.governance.put_person(tx, person_id, name, unit, time.time(), key)
            return Person(id=person_id, name=name, unit=unit, public_key=key)

        return self.as_head("add_person", by, write, obj=person_id)

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

    @signed
    def appoint(
        self,
        person: str,
        *,
        accounts: Sequence[str] | None = None,
        role: str,
        decree: str,
        valid_from: str | date,
        valid_until: str | date | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> list[Appointment]:
        """Appoint ``person`` to ``role`` on ``accounts`` under ``decree`` (the SK number).

        The first appointment on an account puts it under governance: from then on every
        action on it names its actor. ``role="head"`` (head of office) is workspace-wide
        and takes no accounts; the first head is appointed without ``by``, and from then on
        every appointment needs ``by=`` a head.
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
        names: list[str | None]
        if role == "head":
            if accounts:
                raise ConfigurationError(
                    "a head of office is appointed to the whole workspace, not to accounts",
                    field="accounts",
                    hint="leave accounts out for role='head'",
                )
            names = [None]
        else:
            listed = (
                [accounts] if isinstance(accounts, str) else list(dict.fromkeys(accounts or ()))
            )
            if not listed:
                raise ConfigurationError("name at least one account", field="accounts")
            for name in listed:
                self._account_row(name)
            names = list(listed)

        def write(tx: Tx, head: str | None) -> list[Appointment]:
            made: list[Appointment] = []
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
                    tx,
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
                    tx,
                    by,
                    "appoint",
                    obj=person,
                    account=name,
                    decree=appointment.decree,
                    detail={
                        "role": role,
                        "valid_from": start.isoformat(),
                        "valid_until": end.isoformat() if end else None,
                        "head_decree": head,
                    },
                )
                made.append(appointment)
            return made

        return self.as_head("appoint", by, write, obj=person)

    @signed
    def revoke(
        self,
        person: str,
        account: str | None = None,
        *,
        by: str | None = None,
        reason: str,
        key: SigningKey | None = None,
    ) -> list[Appointment]:
        """End ``person``'s appointments now, before their decrees' end: those on
        ``account``, or (None) all of them, a head appointment included. From this moment
        they allow nothing, and the worker refuses deliveries that rest on them.

        :raises ConfigurationError: no reason, or nothing in force (or to come) to revoke.
        :raises NotPermitted: ``by`` is no head of office (once the workspace has one), or
            this would revoke the last head in force (appoint the successor first).
        """
        if not reason or not reason.strip():
            raise ConfigurationError(
                "a revocation needs a reason for the record",
                field="reason",
                hint="e.g. reason='moved to another unit (SK 800/9/SK/2026)'",
            )
        refuse_lone_surrogates(reason, "reason", subject="revocation")
        self.person(person)
        if account is not None:
            self._account_row(account)

        def write(tx: Tx, head: str | None) -> list[Appointment]:
            today = datetime.now(ZoneInfo(self._calendar_zone())).date()
            held = [
                a
                for a in self._appointments(tx, person=person)
                if a.revoked_at is None
                and (a.valid_until is None or a.valid_until >= today)
                and (account is None or a.account == account)
            ]
            if not held:
                where = f" on {account!r}" if account else ""
                raise ConfigurationError(
                    f"{person} holds no appointment in force{where} to revoke",
                    field="person",
                    hint="see appointments(person=...)",
                )
            if any(a.role == "head" for a in held):
                others = {
                    a.person
                    for a in self._appointments(tx, role="head")
                    if a.in_force(today) and a.person != person
                }
                if not others:
                    raise NotPermitted(
                        f"{person} is the last head of office in force: revoking them would "
                        "leave no one to appoint or revoke",
                        actor=by,
                        action="revoke",
                        hint="appoint the successor head first, then revoke",
                    )
            now = time.time()
            for a in held:
                self.store.governance.revoke_appointment(tx, a.id, now, by, reason.strip())
                self._audit(
                    tx,
                    by,
                    "revoke",
                    obj=person,
                    account=a.account,
                    decree=a.decree,
                    detail={"role": a.role, "reason": reason.strip(), "head_decree": head},
                )
            ids = {a.id for a in held}
            return [a for a in self._appointments(tx, person=person) if a.id in ids]

        return self.as_head("revoke", by, write, obj=person, account=account)

    def appointments(
        self, *, account: str | None = None, person: str | None = None
    ) -> list[Appointment]:
        """Appointments, filtered by account and person (heads' have no account)."""
        with self.store.transaction() as cur:
            return self._appointments(cur, account=account, person=person)

    def _appointments(self, tx: Tx, **where: str | None) -> list[Appointment]:
        return [
            Appointment(
                id=r[0],
                person=r[1],
                account=r[2],
                role=r[3],
                decree=r[4],
                valid_from=date.fromisoformat(r[5]),
                valid_until=date.fromisoformat(r[6]) if r[6] else None,
                revoked_at=from_epoch(r[7]) if r[7] is not None else None,
                revoked_by=r[8],
                revoke_reason=r[9],
            )
            for r in self.store.governance.appointments(tx, **where)
        ]

    def governed(self, account: str) -> bool:
        """Whether ``account`` has appointments, so every action on it needs an actor."""
        with self.store.transaction() as cur:
            return self.store.governance.governed(cur, account)

    def governed_accounts(self) -> set[str]:
        """Every account under governance."""
        with self.store.transaction() as cur:
            return self.store.governance.governed_accounts(cur)

    @signed
    def set_approval_rule(
        self,
        account: str,
        *,
        approvers: int = 1,
        admin_needs_approval: bool = False,
        self_approval: bool = False,
        late_drafts_need_admin: bool = False,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> ApprovalRule:
        """Set how ``account``'s posts are approved (see :class:`ApprovalRule`); once the
        workspace has heads of office, ``by`` must be one."""
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
            late_drafts_need_admin=late_drafts_need_admin,
        )

        def write(tx: Tx, decree: str | None) -> ApprovalRule:
            self.store.governance.put_approval_rule(
                tx, account, approvers, admin_needs_approval, self_approval, late_drafts_need_admin
            )
            self._audit(
                tx,
                by,
                "set_approval_rule",
                account=account,
                decree=decree,
                detail=rule.model_dump(),
            )
            return rule

        return self.as_head("set_approval_rule", by, write, account=account)

    def approval_rule(self, account: str) -> ApprovalRule:
        """``account``'s approval rule (the default one when none was set)."""
        with self.store.transaction() as cur:
            return self._rule(cur, account)

    def _rule(self, tx: Tx, account: str) -> ApprovalRule:
        row = self.store.governance.approval_rule(tx, account)
        if row is None:
            return ApprovalRule()
        return ApprovalRule(
            approvers=row[0],
            admin_needs_approval=row[1],
            self_approval=row[2],
            late_drafts_need_admin=row[3],
        )

    # -- permission ------------------------------------------------------------------------

    def authorize(
        self,
        action: str,
        by: str | None,
        accounts: Sequence[str],
        *,
        obj: str | None = None,
    ) -> dict[str, str | None]:
        """Who acts, is it signed, is it permitted: the one check every account action passes.

        Returns the decree that lets ``by`` do ``action`` on each of ``accounts`` (None: the
        account is not governed). ``by``'s signature is checked first, on every account,
        governed or not (:meth:`verify_actor`); the key is the one ``by`` acts with in this
        block (:func:`govsocial.workspace.signing.acting`; every ``by=`` method of
        :class:`govsocial.Workspace` takes ``key=`` and does it). Workspace-wide actions
        (people, accounts, appointments, rules) go through :meth:`as_head` instead.

        A refusal is audit-logged (in its own transaction, so it stays) and raised.

        :raises NotPermitted: ``by`` signs and gave no key or the wrong one, or gave a key
            without signing, or has no appointment allowing ``action`` on an account.
        """
        if by is not None:
            try:
                with self.store.transaction() as tx:
                    self.verify_actor(tx, by, action, recorded=False)
            except NotPermitted as refused:
                self._refused(by, action, obj, ",".join(accounts) or None, refused.message)
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
        """The key ``by`` acts with, after checking it is the one registered for them (the
        signature part of :meth:`verify_actor`, without audit).

        ``key`` defaults to the key ``by`` acts with in this block. Nothing is needed of a
        person with no public key, or of an action without ``by``.

        :raises NotPermitted: ``by`` signs and the key is missing or another's, or a key is
            given for someone who has none registered.
        """
        if by is None:
            return None
        with self.store.transaction() as tx:
            return self._signer(tx, by, key if key is not None else acting_key(by), action)

    def _signer(self, tx: Tx, by: str, key: SigningKey | None, action: str) -> SigningKey | None:
        try:
            by.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no recorded person, nothing to look up
            registered, logged = None, None
        else:
            registered = self.store.governance.public_key(tx, by)
            logged = audit.registered_key(self.store, by, tx=tx)
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
        with self.store.transaction() as tx:
            self.verify_actor(tx, by, action)
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
        valid = [a for a in fitting if a.in_force(today)]
        if valid:
            return valid[0].decree
        latest = max(fitting, key=lambda a: (a.valid_until or date.max, a.valid_from))
        raise NotPermitted(
            f"{by}'s {latest.role} appointment on {account!r} under decree {latest.decree} "
            f"{latest.lapse(today)}; today is {today.isoformat()} there",
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

    # -- at publication --------------------------------------------------------------------

    def check_publication(
        self, job_id: str, post: str, stored: dict[str, Any], account: str, at: float
    ) -> PublicationAuthority:
        """What lets job ``job_id`` (its ``post`` JSON and the authority ``stored`` with it)
        go out to ``account`` at ``at`` (epoch seconds), found from the tables as they stand
        then, not from ``stored``, which is only compared with them.

        On an account with no appointments everything may go out, as before. On a governed
        one the job must have been planned through govsocial (its planning is in the audit
        log, by the actor ``stored`` names) and, as of ``at`` in the account's zone:

        - from a draft: the job's post is the draft's, each approval is in the audit log,
          enough approvers (the account's rule today; the author only where it allows
          self-approval) hold approver appointments in force, and the planner is one of
          them or holds an admin appointment in force;
        - directly: the planner holds an admin appointment in force and the rule does not
          want even admins' posts approved;
        - and the job was never cancelled (a cancelled job's delivery put back by hand).

        :raises NotPermitted: naming what is missing; the delivery is then refused.
        """
        with self.store.transaction() as tx:
            self.store.snapshot(tx)
            if stored.get("broadcast") is not None and not stored.get("draft"):
                reads = _BroadcastReads(self, tx, [(job_id, account)], None)
                return self._broadcast(tx, job_id, stored, account, at, reads)
            if not self.store.governance.governed(tx, account):
                decrees = stored.get("accounts", {})
                return PublicationAuthority(
                    actor=stored.get("by"), decree=decrees.get(account), draft=stored.get("draft")
                )
            return self._publication(tx, job_id, post, stored, account, at)

    def check_publications(
        self,
        tx: Tx,
        deliveries: Sequence[tuple[str, str, dict[str, Any], str]],
        at: float,
    ) -> list[PublicationAuthority | NotPermitted]:
        """:meth:`check_publication` for each ``(job_id, post, stored, account)`` of a
        worker's batch, in order, inside ``tx`` (which the caller made one snapshot with
        :meth:`govsocial.store.Store.snapshot`): every delivery is checked, each against
        the tables as they stand then, with one query for which accounts have
        appointments. A refusal is returned in its place, not raised, so one refused
        delivery does not hold back the others."""
        found: list[PublicationAuthority | NotPermitted] = []
        governed = self.store.governance.governed_among(
            tx, list(dict.fromkeys(account for *_, account in deliveries))
        )
        broadcasts = [
            (job_id, account)
            for job_id, _, stored, account in deliveries
            if stored.get("broadcast") is not None and not stored.get("draft")
        ]
        reads = _BroadcastReads(self, tx, broadcasts, governed) if broadcasts else None
        for job_id, post, stored, account in deliveries:
            if (
                reads is not None
                and stored.get("broadcast") is not None
                and not stored.get("draft")
            ):
                try:  # a coordinating workspace's broadcast, published automatically
                    found.append(self._broadcast(tx, job_id, stored, account, at, reads))
                except NotPermitted as refused:
                    found.append(refused)
                continue
            if account not in governed:
                decrees = stored.get("accounts", {})
                found.append(
                    PublicationAuthority(
                        actor=stored.get("by"),
                        decree=decrees.get(account),
                        draft=stored.get("draft"),
                    )
                )
                continue
            try:
                found.append(self._publication(tx, job_id, post, stored, account, at))
            except NotPermitted as refused:
                found.append(refused)
        return found

    def broadcast_acceptance(self, source: str) -> dict[str, Any] | None:
        """What this workspace's head accepted from the coordinating workspace ``source``
        (``{"automatic", "accounts", "by", "decree", "at"}``), or None: nothing."""
        value = self.store.meta(f"broadcasts_from:{source}")
        return None if value is None else dict(json.loads(value))

    def _broadcast(
        self,
        tx: Tx,
        job_id: str,
        stored: dict[str, Any],
        account: str,
        at: float,
        reads: _BroadcastReads,
    ) -> PublicationAuthority:
        """A job a coordinating workspace's broadcast planned here (automatic publication):
        it goes out only while this workspace's acceptance of that workspace's broadcasts
        still allows it, its head who accepted still holds a head appointment in force (once
        the workspace has heads), the account's rule does not want even admins' posts
        approved, and the audit log records the broadcast's planning and no cancel."""
        source = str(stored["broadcast"].get("from"))
        planner = stored.get("by")

        def refuse(reason: str) -> NotPermitted:
            return NotPermitted(
                f"not published on {account!r}: {reason}",
                actor=planner,
                action="publish",
                account=account,
                hint="a head of office accepts broadcasts with accept_broadcasts(...)",
            )

        if planner != BROADCAST_ACTOR + source:
            raise refuse(f"the job names {planner!r}, not the broadcast of {source!r}")
        planned = reads.planned(job_id, account)
        if any(row[3] == "cancel" for row in planned):
            raise refuse("the job was cancelled: its delivery was put back outside govsocial")
        planners = {row[2] for row in planned if row[3] != "cancel"}
        if planners != {planner}:
            raise refuse(
                "the audit log does not record this broadcast's planning "
                f"(it records {', '.join(sorted(str(p) for p in planners)) or 'nothing'})"
            )
        accepted = reads.acceptance(source)
        if accepted is None or not accepted.get("automatic"):
            raise refuse(
                f"this workspace no longer publishes broadcasts of {source!r} automatically"
            )
        names = accepted.get("accounts")
        if names is not None and account not in names:
            raise refuse(f"the acceptance of {source!r}'s broadcasts does not name {account!r}")
        day = from_epoch(at).astimezone(ZoneInfo(reads.zone(account))).date()
        decree: str | None = None
        heads = reads.heads()
        if heads:
            head = accepted.get("by")
            serving = [a for a in heads if a.person == head and a.in_force(day)]
            if not serving:
                raise refuse(
                    f"{head} accepted {source!r}'s broadcasts as head of office, and holds no "
                    "head appointment in force now"
                )
            decree = serving[0].decree
        if reads.governed(account) and self._rule(tx, account).admin_needs_approval:
            raise refuse(f"the rule of {account!r} wants every post approved")
        return PublicationAuthority(actor=planner, decree=decree)

    def _publication(
        self, tx: Tx, job_id: str, post: str, stored: dict[str, Any], account: str, at: float
    ) -> PublicationAuthority:
        day = from_epoch(at).astimezone(ZoneInfo(self._account_row(account).timezone)).date()
        rule = self._rule(tx, account)
        held = self._appointments(tx, account=account)

        def refuse(reason: str, hint: str | None = None) -> NotPermitted:
            return NotPermitted(
                f"not published on {account!r}: {reason}",
                actor=stored.get("by"),
                action="publish",
                account=account,
                hint=hint or "plan it again through a draft and its approvers, or by an admin",
            )

        def in_force(person: str, role: str) -> Appointment | None:
            return next(
                (a for a in held if a.person == person and a.role == role and a.in_force(day)),
                None,
            )

        def why_not(person: str, role: str) -> str:
            theirs = [a for a in held if a.person == person and a.role == role]
            if not theirs:
                return f"{person} holds no {role} appointment on {account!r}"
            latest = max(theirs, key=lambda a: (a.revoked_at is None, a.valid_until or date.max))
            return f"{person}'s {role} appointment under decree {latest.decree} {latest.lapse(day)}"

        planned = self.store.audit.of_object(
            tx, job_id, ("schedule", "enqueue", "cancel"), account=account
        )
        cancelled = [row for row in planned if row[3] == "cancel" and row[5] == account]
        if cancelled:
            raise refuse(
                f"the job was cancelled (audit entry {cancelled[0][0]}, by "
                f"{cancelled[0][2] or 'someone unnamed'}): its delivery was put back in the "
                "database outside govsocial"
            )
        planners = {row[2] for row in planned if row[3] != "cancel"}
        if not planners:
            raise refuse(
                "the job's planning is not in the audit log: it was written into the database "
                "outside govsocial, or before the account had appointments"
            )
        planner = stored.get("by")
        if planners != {planner}:
            raise refuse(
                f"the job names {planner!r} as its planner, but the audit log records "
                f"{', '.join(sorted(str(p) for p in planners))}: its authority was changed "
                "in the database"
            )
        drafts = self.store.governance.drafts_of_job(tx, job_id)
        if stored.get("draft") != (drafts[0][0] if drafts else None) or len(drafts) > 1:
            raise refuse(
                f"the job names draft {stored.get('draft')!r}, but the drafts table links "
                f"{', '.join(d[0] for d in drafts) or 'none'} to it: changed in the database"
            )
        if planner is None:
            raise refuse("the job was planned without an admin's or approvers' authority")
        if not drafts:
            admin = in_force(planner, "admin")
            if admin is None:
                raise refuse(
                    f"the job was planned directly by {planner}, and " + why_not(planner, "admin")
                )
            if rule.admin_needs_approval:
                raise refuse(
                    f"the rule of {account!r} now wants even an admin's posts approved",
                    hint="draft it and have it approved",
                )
            return PublicationAuthority(actor=planner, decree=admin.decree)
        draft_id, draft_post, draft_accounts, author, _ = drafts[0]
        if account not in json.loads(draft_accounts):
            raise refuse(f"draft {draft_id} was not approved for {account!r}")
        if Post.model_validate_json(draft_post) != Post.model_validate_json(post):
            raise refuse(
                f"the job's post is not the one draft {draft_id} holds: changed after approval"
            )
        approvals = self.store.governance.approvals_of(tx, draft_id)
        logged = {
            row[2]
            for row in self.store.audit.of_object(tx, draft_id, ("approve",), account=account)
            if row[5] == account
        }
        valid: list[Appointment] = []
        lapsed: list[str] = []
        for person, _decree, _when in approvals:
            if person not in logged:
                raise refuse(
                    f"the approval of draft {draft_id} by {person} is not in the audit log: "
                    "it was written into the database outside govsocial"
                )
            if person == author and not rule.self_approval:
                lapsed.append(f"{person} wrote the draft, and the rule wants someone else")
                continue
            appointment = in_force(person, "approver")
            if appointment is None:
                lapsed.append(why_not(person, "approver"))
            else:
                valid.append(appointment)
        if len(valid) < rule.approvers:
            missing = "; ".join(lapsed) or "it has no approvals"
            raise refuse(
                f"draft {draft_id} needs {rule.approvers} approver(s) in force, has "
                f"{len(valid)}: {missing}",
                hint="have approvers in force approve it again as a new draft",
            )
        approvers = tuple(a.person for a in valid)
        decrees = [a.decree for a in valid]
        if planner not in approvers:
            admin = in_force(planner, "admin")
            if admin is None:
                raise refuse(
                    f"draft {draft_id} was scheduled by {planner}, and " + why_not(planner, "admin")
                )
            decrees.insert(0, admin.decree)
        return PublicationAuthority(
            actor=planner,
            decree=", ".join(dict.fromkeys(decrees)),
            draft=draft_id,
            approvers=approvers,
        )


class _BroadcastReads:
    """What the broadcast checks of one batch read, each read once inside the batch's
    snapshot: the planning and cancel entries of every (job, account) in one query, each
    coordinating workspace's acceptance, the heads of office, the accounts' zones, and
    which accounts have appointments. (Checked one by one, a broadcast's 50 deliveries
    read the job's 50 planning entries 50 times, and five more queries each.)"""

    def __init__(
        self,
        authority: Authority,
        tx: Tx,
        pairs: Sequence[tuple[str, str]],
        governed: set[str] | None,
    ) -> None:
        self._authority = authority
        self._tx = tx
        store = authority.store
        jobs = list(dict.fromkeys(job for job, _ in pairs))
        accounts = list(dict.fromkeys(account for _, account in pairs))
        self._planned: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for row in store.audit.of_objects(tx, jobs, accounts, ("schedule", "enqueue", "cancel")):
            self._planned.setdefault((str(row[4]), str(row[5])), []).append(row)
        self._rows = store.accounts_in(tx, accounts)
        self._governed = governed
        self._acceptances: dict[str, dict[str, Any] | None] = {}
        self._heads: list[Appointment] | None = None

    def planned(self, job_id: str, account: str) -> list[tuple[Any, ...]]:
        """The job's schedule, enqueue and cancel entries about ``account``, oldest first."""
        return self._planned.get((job_id, account), [])

    def acceptance(self, source: str) -> dict[str, Any] | None:
        if source not in self._acceptances:
            found = self._authority.store.governance.setting(self._tx, f"broadcasts_from:{source}")
            self._acceptances[source] = None if found is None else dict(json.loads(found))
        return self._acceptances[source]

    def heads(self) -> list[Appointment]:
        if self._heads is None:
            self._heads = self._authority._appointments(self._tx, role="head")
        return self._heads

    def zone(self, account: str) -> str:
        row = self._rows.get(account)
        return (row if row is not None else self._authority._account_row(account)).timezone

    def governed(self, account: str) -> bool:
        if self._governed is None:
            return self._authority.store.governance.governed(self._tx, account)
        return account in self._governed
