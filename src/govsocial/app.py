"""A durable workspace: accounts by name, scheduled jobs, and the deliveries workers publish.

::

    ws = govsocial.Workspace.open("govsocial.db")           # or postgresql://...
    ws.add_account("humas-mastodon", account)
    job = ws.schedule(post, accounts=["humas-mastodon"], at="2026-12-01T09:00+07:00")
    ws.run_due()                                           # or: govsocial worker

:class:`Workspace` is the one friendly object for scripts and notebooks: a thin facade whose
methods each hand over to one service built on the workspace's
:class:`~govsocial.workspace.core.WorkspaceCore` (``ws.core``):

- ``ws.planner`` (:class:`~govsocial.scheduling.planner.Planner`): schedule, enqueue,
  cancel, reschedule, jobs;
- ``ws.accountability`` (:class:`~govsocial.accountability.governance.Accountability`):
  drafts, approvals, content requests; people and appointments are ``ws.core.authority``;
- ``ws.conversations`` (:class:`~govsocial.inbox.items.Inbox`): the inbox;
- ``ws.watching`` (:class:`~govsocial.inbox.watches.Watches`): watched topics;
- ``ws.analytics`` (:class:`~govsocial.analytics.service.Analytics`): metrics, frames,
  reports, performance, the archive.

Everything is validated before anything is written, and a job with its deliveries is
written in one transaction: a bad request leaves nothing half-written. Publishing follows
the exactly-once rules in :mod:`govsocial.scheduling.worker`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from govsocial.accountability.broadcast import Broadcast, Broadcasts
from govsocial.accountability.feeds import Feed, FeedItemRecord, Feeds, FeedSync
from govsocial.accountability.governance import (
    Accountability,
    Appointment,
    ApprovalRule,
    ContentRequest,
    Draft,
    Person,
)
from govsocial.analytics.service import Analytics
from govsocial.core.errors import ConfigurationError, NotPermitted
from govsocial.core.listening import Ticket
from govsocial.core.models import Account, Interaction, Post, PostRef
from govsocial.inbox.erasure import Erasure
from govsocial.inbox.items import DEFAULT_TARGET, Inbox, InboxItem, SyncResult
from govsocial.inbox.service_hours import DEFAULT_HOURS, ServiceHours
from govsocial.inbox.watches import DEFAULT_BACKFILL, Spike, Watch, WatchedPost, Watches, WatchSync
from govsocial.plugin.manager import Plugins
from govsocial.scheduling.jobs import Job
from govsocial.scheduling.planner import Planner, new_delivery
from govsocial.store import AccountRow, DeliveryRow, Store
from govsocial.workspace.anchors import publish as publish_anchor
from govsocial.workspace.audit import AuditAnchor
from govsocial.workspace.core import DEFAULT_DB, DeliveryCheckpoints, WorkspaceCore
from govsocial.workspace.signing import SigningKey, acting

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]  # no pandas-stubs

    from govsocial.adapters.media import MediaHost
    from govsocial.analytics.analysis import Period
    from govsocial.analytics.archive import ArchiveExport
    from govsocial.analytics.collection import Collected
    from govsocial.analytics.performance import PerformanceReport
    from govsocial.analytics.report import Report
    from govsocial.client import Client
    from govsocial.workspace.audit import AuditEntry, AuditHead
    from govsocial.workspace.credentials import KeyRotation

__all__ = ["DEFAULT_DB", "DeliveryCheckpoints", "Workspace"]


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"Workspace.{old} is deprecated since govsocial 0.2 and goes in 0.3: use {new}",
        DeprecationWarning,
        stacklevel=3,
    )


class Workspace:
    """Accounts, jobs and deliveries in one database (SQLite file or PostgreSQL).

    :param store: the database, or a :class:`~govsocial.workspace.core.WorkspaceCore` already
        open on it (the other parameters are then the core's own).
    :param misfire_grace: how late a delivery may still go out; later it is ``missed``.
    :param lease: seconds a worker's claim lasts without renewal.
    :param max_attempts: attempts per delivery for failures that are safe to retry.
    :param processing_limit: how long a platform may keep processing a post it accepted
        (TikTok's moderation) before the delivery ends ``unknown`` (``ProcessingTimeout``).
    :param plugins: the plugin system (default: the process-wide one).
    """

    def __init__(
        self,
        store: Store | WorkspaceCore,
        *,
        misfire_grace: timedelta = timedelta(minutes=15),
        lease: float = 60.0,
        max_attempts: int = 5,
        processing_limit: timedelta = timedelta(hours=48),
        plugins: Plugins | None = None,
    ) -> None:
        if isinstance(store, WorkspaceCore):  # already opened (Workspace.open): use it as is
            self.core = store
            return
        self.core = WorkspaceCore(
            store,
            misfire_grace=misfire_grace,
            lease=lease,
            max_attempts=max_attempts,
            processing_limit=processing_limit,
            plugins=plugins,
        )

    @classmethod
    def open(
        cls,
        url: str | Path | None = None,
        *,
        create: bool = True,
        workspace: str | None = None,
        misfire_grace: timedelta = timedelta(minutes=15),
        lease: float = 60.0,
        max_attempts: int = 5,
        processing_limit: timedelta = timedelta(hours=48),
        plugins: Plugins | None = None,
    ) -> Workspace:
        """Open (creating or upgrading) the workspace at ``url``.

        ``url`` defaults to ``$GOVSOCIAL_DB``, then ``./govsocial.db``. Where no workspace
        exists yet, one is created, as :func:`sqlite3.connect` creates a file;
        ``create=False`` refuses instead (:class:`~govsocial.ConfigurationError`), which is
        how the command line opens ``--db``. A new SQLite file is readable by its owner only.

        ``workspace`` (default ``$GOVSOCIAL_WORKSPACE``) opens one of the many workspaces
        registered in the database (:class:`govsocial.Workspaces`; docs/operations.md,
        "Many workspaces"): its own schema (PostgreSQL) or file (SQLite). It must exist:
        :class:`~govsocial.NotFound` otherwise.
        """
        core = WorkspaceCore.open(
            url,
            create=create,
            workspace=workspace,
            misfire_grace=misfire_grace,
            lease=lease,
            max_attempts=max_attempts,
            processing_limit=processing_limit,
            plugins=plugins,
        )
        return cls(core)

    # -- the services --------------------------------------------------------------------

    @cached_property
    def planner(self) -> Planner:
        """Scheduling: schedule, enqueue, cancel, reschedule, read jobs."""
        return Planner(self.core)

    @cached_property
    def accountability(self) -> Accountability:
        """Drafts, approvals and content requests."""
        return Accountability(self.core, self.planner)

    @cached_property
    def central(self) -> Feeds:
        """Followed feeds (the central narrative): follow, sync, read."""
        return Feeds(self.core, self.accountability)

    @cached_property
    def broadcasts(self) -> Broadcasts:
        """Broadcasts: sending one post into many workspaces, accepting them from others."""
        return Broadcasts(self.core)

    @cached_property
    def conversations(self) -> Inbox:
        """The inbox: sync, read, assign, reply, close."""
        return Inbox(self.core)

    @cached_property
    def watching(self) -> Watches:
        """Watched topics: watch, sync, read, spikes."""
        return Watches(self.core)

    @cached_property
    def analytics(self) -> Analytics:
        """Metrics, frames, summaries, reports, performance, the archive."""
        return Analytics(self.core)

    @property
    def store(self) -> Store:
        """The database the workspace keeps everything in."""
        return self.core.store

    @property
    def plugins(self) -> Plugins:
        """The plugin system (platforms, media hosts, event hooks)."""
        return self.core.plugins

    @property
    def misfire_grace(self) -> timedelta:
        """How late a delivery may still go out; later it is ``missed``."""
        return self.core.misfire_grace

    @property
    def lease(self) -> float:
        """Seconds a worker's claim lasts without renewal."""
        return self.core.lease

    @property
    def max_attempts(self) -> int:
        """Attempts per delivery for failures that are safe to retry."""
        return self.core.max_attempts

    @property
    def processing_limit(self) -> timedelta:
        """How long a platform may keep processing an accepted post before the delivery
        ends ``unknown`` (``ProcessingTimeout``)."""
        return self.core.processing_limit

    @property
    def url(self) -> str:
        """The database's URL, without its password (kept only in the connection)."""
        return self.core.url

    def __repr__(self) -> str:
        return f"<Workspace {self.core.address}>"

    # -- closing -------------------------------------------------------------------------

    @overload
    def close(self) -> None: ...

    @overload
    def close(
        self,
        item_id: str,
        *,
        by: str | None = None,
        reason: str,
        key: SigningKey | None = None,
    ) -> InboxItem: ...

    def close(
        self,
        item_id: str | None = None,
        *,
        by: str | None = None,
        reason: str | None = None,
        key: SigningKey | None = None,
    ) -> InboxItem | None:
        """Close the workspace: its client and its database.

        ``close(item_id, reason=...)`` (closing an inbox item) is deprecated: use
        :meth:`close_item`.
        """
        if item_id is None:
            self.core.close()
            return None
        _deprecated("close(item_id, ...)", "close_item(item_id, ...)")
        if reason is None:
            raise ConfigurationError(
                "closing an inbox item needs a reason",
                field="reason",
                hint="answered, no reply needed, or spam",
            )
        return self.close_item(item_id, by=by, reason=reason, key=key)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _acting(self, by: str | None, key: SigningKey | None) -> Iterator[None]:
        """``by`` acts with ``key`` in the block; a key for no one is refused."""
        if key is not None and by is None:
            raise NotPermitted(
                "key= was given without by=: a signature needs the person who acts",
                actor=None,
                action="sign",
                hint="pass by='<person id>' with their key",
            )
        with acting(by, key):
            yield

    # -- the institution and settings ----------------------------------------------------

    @property
    def institution(self) -> str | None:
        """The institution's name, shown in report titles (None until set)."""
        return self.core.institution

    def set_institution(
        self, name: str, *, by: str | None = None, key: SigningKey | None = None
    ) -> None:
        """Name the institution the workspace serves (``"Dinas Kominfo Kota Contoh"``)."""
        with self._acting(by, key):
            self.core.set_institution(name, by=by)

    def set_media_host(
        self,
        name: str | None,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
        **settings: str,
    ) -> MediaHost | None:
        """Name the media host (and its settings) that serves local images to Instagram and
        Threads, stored in the workspace so ``govsocial worker`` uses it too:
        ``set_media_host("directory", directory="/var/www/media",
        base_url="https://example.go.id/media")``; None removes it. See docs/media-hosts.md."""
        with self._acting(by, key):
            return self.core.set_media_host(name, by=by, key=key, **settings)

    def media_host(self) -> MediaHost | None:
        """The media host in force (``$GOVSOCIAL_MEDIA_HOST``, else the stored setting)."""
        return self.core.media_host()

    # -- accounts ------------------------------------------------------------------------

    def add_account(
        self,
        name: str,
        account: Account,
        *,
        slots: str | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> None:
        """Keep ``account`` under ``name`` (replacing one of that name in place: its
        history stays attached, so a leaked token is replaced this way).

        Credentials are stored as ``env:`` references or encrypted, never in plain text,
        under the one key the workspace is sealed with (docs/operations.md, Keys).
        ``slots`` are its posting slots for :meth:`enqueue`, e.g. ``"Mon-Fri 08:00, 12:00"``.
        Audit-logged (``add_account``, or ``change_credentials`` when it replaces one); once
        the workspace has heads of office, ``by`` must be one.

        :raises ConfigurationError: ``GOVSOCIAL_SECRET_KEY`` is unset, too short or another
            key than the workspace's; the account has history and would change platform,
            handle or server.
        :raises NotPermitted: the workspace has heads and ``by`` is none in force.
        """
        with self._acting(by, key):
            self.core.add_account(name, account, slots=slots, by=by, key=key)

    def accounts(self) -> dict[str, Account]:
        """Every account by name, credentials opened (``env:`` references stay references)."""
        return self.core.accounts()

    def account(self, name: str) -> Account:
        """The account called ``name``.

        :raises NotFound: there is none; the message lists the known names.
        """
        return self.core.account(name)

    def account_name(self, account: Account) -> str:
        """The workspace's name for ``account`` (matched by platform, handle and server).

        :raises ConfigurationError: the workspace does not hold it.
        """
        return self.core.account_name(account)

    def rotate_key(
        self,
        new_key: str,
        *,
        old_key: str | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> KeyRotation:
        """Re-seal every stored credential under ``new_key`` (at least 32 bytes; from
        ``govsocial keys secret``, or a passphrase) in one transaction: all of them, or after
        any error or a crash, none. Audit-logged as ``rotate_key`` (key ids, never keys).
        Then give every worker the new ``GOVSOCIAL_SECRET_KEY`` (docs/operations.md, Keys).

        :param old_key: the key they are sealed with now (default ``$GOVSOCIAL_SECRET_KEY``).
        :raises ConfigurationError: the new key is too short, or a credential does not open
            with the old key (naming the account): nothing changed.
        """
        with self._acting(by, key):
            return self.core.rotate_key(new_key, old_key=old_key, by=by, key=key)

    def locked_accounts(self) -> dict[str, str]:
        """Accounts a worker could not open the credentials of, with why: their deliveries
        wait (``scheduled``) until a worker with the right key or variables unlocks them."""
        return {name: lock[0] for name, lock in self.core.account_locks().items()}

    def refresh_credentials(
        self, accounts: Sequence[str] | None = None, **client_options: Any
    ) -> dict[str, str]:
        """Renew expiring tokens (X, LinkedIn, Threads) of every account, or ``accounts``;
        the new ones are stored sealed. Returns, per account, ``"renewed"``, ``"nothing to
        renew"`` or why it failed. Run it daily (``govsocial accounts refresh``)."""
        return self.core.refresh_credentials(accounts, **client_options)

    def client(
        self, *, by: str | None = None, key: SigningKey | None = None, **client_options: Any
    ) -> Client:
        """A :class:`~govsocial.Client` for direct calls, outside the draft and schedule flow.

        It works like any client (a developer's escape hatch), but every publish it makes to
        an account of this workspace is written to the audit log as ``direct_publish``, with
        ``by`` as the actor: the record shows it did not go through approval.
        """
        with self._acting(by, key):
            self.core.authority.check_signer(by, action="direct_publish")
        return self.core.direct_client(by=by, **client_options)

    # -- planning ------------------------------------------------------------------------

    def schedule(
        self,
        post: Post | Draft,
        accounts: Sequence[str] | None = None,
        at: str | datetime | None = None,
        recurrence: str | None = None,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> Job:
        """Plan ``post`` for ``accounts`` at ``at`` (aware datetime or ISO text with offset).

        ``recurrence`` is an RFC 5545 RRULE (``"FREQ=WEEKLY;BYDAY=MO"``), expanded in each
        account's local time from ``at``. ``post`` may be an approved :class:`Draft`
        (accounts and time default to the draft's). On accounts under appointments
        (see :mod:`govsocial.workspace.authority`) ``by`` names the admin doing it.

        :raises ConfigurationError: unknown account, naive or past time, bad recurrence.
        :raises ValidationError: the post does not fit an account's platform.
        :raises NotPermitted: ``by`` may not schedule on an account, or the post needs approval.
        """
        with self._acting(by, key):
            return self._schedule(post, accounts, at, recurrence, by)

    def _schedule(
        self,
        post: Post | Draft,
        accounts: Sequence[str] | None,
        at: str | datetime | None,
        recurrence: str | None,
        by: str | None,
    ) -> Job:
        if isinstance(post, Draft):
            if by is None:
                raise NotPermitted(
                    f"scheduling draft {post.id} needs by=<admin>",
                    actor=None,
                    action="schedule",
                    hint="pass by='<person id>'",
                )
            return self.accountability.schedule(post.id, by=by, at=at, accounts=accounts)
        if accounts is None or at is None:
            raise ConfigurationError(
                "schedule(post, accounts, at) needs the accounts and the time",
                field="accounts" if accounts is None else "at",
            )
        return self.planner.schedule(post, accounts, at, recurrence, by=by)

    def enqueue(
        self,
        post: Post | Draft,
        accounts: Sequence[str] | None = None,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> Job:
        """Plan ``post`` for the next free posting slot of each account (its own time each).

        ``post`` may be an approved :class:`Draft`; ``by`` as for :meth:`schedule`.

        :raises ConfigurationError: an account has no posting slots.
        """
        with self._acting(by, key):
            if isinstance(post, Draft):
                return self.accountability.enqueue(post.id, by=by, accounts=accounts)
            if accounts is None:
                raise ConfigurationError(
                    "enqueue(post, accounts) needs the accounts", field="accounts"
                )
            return self.planner.enqueue(post, accounts, by=by)

    def cancel(self, job_id: str, *, by: str | None = None, key: SigningKey | None = None) -> Job:
        """Cancel what has not started (and every later occurrence)."""
        with self._acting(by, key):
            return self.planner.cancel(job_id, by=by)

    def reschedule(
        self,
        job_id: str,
        at: str | datetime,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> Job:
        """Move what has not started to ``at``."""
        with self._acting(by, key):
            return self.planner.reschedule(job_id, at, by=by)

    def delete_post(
        self,
        job_id: str,
        *,
        account: str | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
        **client_options: Any,
    ) -> list[PostRef]:
        """Delete a job's published posts on their platforms (one account's with ``account``).

        The workspace keeps them, marked deleted: the archive still holds what was said.

        :raises NotPermitted: ``by`` may not delete on a governed account.
        :raises GovSocialError: the platform refused or cannot delete (Instagram).
        """
        with self._acting(by, key):
            return self.planner.delete_post(job_id, account=account, by=by, **client_options)

    def job(self, job_id: str) -> Job:
        """The job with ``job_id``.

        :raises NotFound: there is none (a ConfigurationError, as before).
        """
        return self.planner.job(job_id)

    def jobs(self, status: str | None = None) -> list[Job]:
        """Every job, oldest first; only those whose status is ``status`` when given."""
        return self.planner.jobs(status)

    # -- publishing ----------------------------------------------------------------------

    def run_due(self, **client_options: Any) -> int:
        """Publish every delivery due now; return how many deliveries were handled.

        Works from scripts and notebooks alike (it runs on the sync client's own loop).
        """
        from govsocial.scheduling.worker import Worker

        with self.core.using_client(**client_options) as client:
            return client.run(Worker(self.core).run_due(client.async_client))

    # -- people, appointments, approval rules --------------------------------------------

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

        ``public_key`` (a :class:`SigningKey`'s ``public_key``) makes them sign: from then
        on every action they take needs ``key=`` their key, and the audit log holds their
        signature (docs/accountability.md). A registered key stays when the person is
        recorded again without one; replacing it needs a signed action.
        """
        with self._acting(by, key):
            return self.core.authority.add_person(
                person_id, name=name, unit=unit, public_key=public_key, by=by
            )

    def people(self) -> list[Person]:
        """Everyone recorded, by id."""
        return self.core.authority.people()

    def person(self, person_id: str) -> Person:
        """The person with ``person_id``.

        :raises NotFound: there is none; the message lists who there is.
        """
        return self.core.authority.person(person_id)

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
        action on it names its actor. ``role="head"`` (head of office, *pimpinan*) is
        workspace-wide, without accounts: the first head is appointed without ``by``; from
        then on appointing, revoking, adding people and accounts, changing credentials and
        setting approval rules need ``by=`` a head in force.

        :raises NotPermitted: the workspace has heads and ``by`` is none in force.
        """
        with self._acting(by, key):
            return self.core.authority.appoint(
                person,
                accounts=accounts,
                role=role,
                decree=decree,
                valid_from=valid_from,
                valid_until=valid_until,
                by=by,
            )

    def revoke(
        self,
        person: str,
        account: str | None = None,
        *,
        by: str | None = None,
        reason: str,
        key: SigningKey | None = None,
    ) -> list[Appointment]:
        """End ``person``'s appointments now (those on ``account``, or all of them), before
        their decrees' end, saying why; returns the appointments ended. From this moment
        they allow nothing: the worker refuses deliveries that rest on them (see
        docs/accountability.md).

        :raises NotPermitted: the workspace has heads and ``by`` is none in force, or this
            would revoke the last head in force.
        :raises ConfigurationError: no reason, or nothing in force to revoke.
        """
        with self._acting(by, key):
            return self.core.authority.revoke(person, account, by=by, reason=reason)

    def heads(self) -> list[Appointment]:
        """Every head-of-office appointment ever made (revoked and ended ones too)."""
        return self.core.authority.heads()

    def appointments(
        self, *, account: str | None = None, person: str | None = None
    ) -> list[Appointment]:
        """Appointments, filtered by account and person (a head's has no account)."""
        return self.core.authority.appointments(account=account, person=person)

    def governed(self, account: str) -> bool:
        """Whether ``account`` has appointments, so every action on it needs an actor."""
        return self.core.authority.governed(account)

    def governed_accounts(self) -> set[str]:
        """Every account under governance."""
        return self.core.authority.governed_accounts()

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
        with self._acting(by, key):
            return self.core.authority.set_approval_rule(
                account,
                approvers=approvers,
                admin_needs_approval=admin_needs_approval,
                self_approval=self_approval,
                late_drafts_need_admin=late_drafts_need_admin,
                by=by,
            )

    def approval_rule(self, account: str) -> ApprovalRule:
        """``account``'s approval rule (the default one when none was set)."""
        return self.core.authority.approval_rule(account)

    # -- the audit log -------------------------------------------------------------------

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
        return self.core.audit_log(since, until=until, actor=actor, action=action, account=account)

    def verify_audit(
        self,
        anchor: AuditHead | tuple[int, str] | None = None,
        *,
        anchors: Sequence[AuditAnchor | str] = (),
    ) -> int:
        """Check the audit log: its hash chain, that entries never go back in time, every
        signature (against the keys the log registered), the people and approvals tables
        against the log, and ``anchors`` read back from the platforms (:class:`AuditAnchor`
        or the posts' text); return how many entries verified.

        :raises AuditTampered: naming the first edited, missing, inserted or wrongly signed
            entry, or one at odds with an anchor; the message lists every finding.
        """
        return self.core.verify_audit(anchor, anchors=anchors)

    def publish_audit_anchor(
        self,
        account: str,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
        **client_options: Any,
    ) -> AuditAnchor:
        """Post the audit log's head (entry number, hash, date) now, as a normal post on
        ``account`` (a dedicated transparency account is typical), so anyone can later hold
        the database to a public record: ``verify_audit(anchors=[post text, ...])``.

        On a governed account ``by`` must be an admin; the anchor skips approval (it is
        written by govsocial, not by a person) and is audit-logged as
        ``publish_audit_anchor``.

        :raises NotPermitted: ``by`` may not post on the account, or did not sign.
        :raises GovSocialError: the platform refused the post.
        """
        with self._acting(by, key):
            return publish_anchor(self.core, account, by=by, **client_options)

    def audit_head(self) -> AuditHead | None:
        """The newest entry's (seq, hash): keep it elsewhere to detect truncation later."""
        return self.core.audit_head()

    # -- drafts and approvals ------------------------------------------------------------

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
        once what does not fit. Its content is pinned now: the text, variants and the
        SHA-256 of every media file, which is what an approval covers.
        """
        with self._acting(by, key):
            return self.accountability.add_draft(
                post, accounts=accounts, by=by, at=at, recurrence=recurrence, request=request
            )

    @overload
    def draft(self, draft_id: str, /) -> Draft: ...

    @overload
    def draft(
        self,
        post: Post,
        /,
        *,
        accounts: Sequence[str],
        by: str,
        at: str | datetime | None = None,
        recurrence: str | None = None,
        request: str | None = None,
    ) -> Draft: ...

    def draft(self, draft_id: str | Post | None = None, /, **create: Any) -> Draft:
        """The draft with ``draft_id``.

        ``draft(post, accounts=..., by=...)``, creating one, is deprecated: use
        :meth:`add_draft`.

        :raises NotFound: there is none (a ConfigurationError, as before).
        """
        if draft_id is None and set(create) == {"draft_id"}:
            draft_id = create.pop("draft_id")
        if isinstance(draft_id, Post) or create:
            _deprecated("draft(post, ...) to create a draft", "add_draft(post, ...)")
            post = draft_id if isinstance(draft_id, Post) else create.pop("post")
            return self.add_draft(post, **create)
        if draft_id is None:
            raise ConfigurationError("draft(draft_id) needs the draft's id", field="draft_id")
        return self.accountability.draft(draft_id)

    def get_draft(self, draft_id: str) -> Draft:
        """Deprecated: use :meth:`draft`."""
        _deprecated("get_draft(draft_id)", "draft(draft_id)")
        return self.accountability.draft(draft_id)

    def drafts(self, status: str | None = None) -> list[Draft]:
        """Drafts, oldest first; only those with ``status`` when given."""
        return self.accountability.drafts(status)

    def approve(self, draft_id: str, *, by: str, key: SigningKey | None = None) -> Draft:
        """``by`` approves the draft. With enough approvals it is ``approved``; if it names a
        time, it is scheduled then (the approvers' decrees are its authority).

        :raises NotPermitted: not an approver on every account of the draft, or the
            appointment is not valid today, or approving one's own draft where the rule
            forbids it, or approving twice, or a draft no longer pending, or a media file
            changed since the draft was written (the approval covers the pinned content), or
            ``by`` signs and ``key`` is not theirs.
        """
        with self._acting(by, key):
            return self.accountability.approve(draft_id, by=by)

    def reject(
        self, draft_id: str, *, by: str, reason: str, key: SigningKey | None = None
    ) -> Draft:
        """``by`` rejects the draft, saying why (the author sees the reason)."""
        with self._acting(by, key):
            return self.accountability.reject(draft_id, by=by, reason=reason)

    # -- broadcasts (many workspaces) ----------------------------------------------------

    def broadcast(
        self,
        post: Post,
        *,
        workspaces: Sequence[str] | Literal["all"],
        at: str | datetime | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> Broadcast:
        """Send ``post`` from this workspace into other workspaces of its registry
        (``"all"``: every one in service): a job or a draft in each, under its own
        acceptance and approval rules, recorded in both audit logs (see
        :mod:`govsocial.accountability.broadcast`)."""
        return self.broadcasts.broadcast(post, workspaces=workspaces, at=at, by=by, key=key)

    def accept_broadcasts(
        self,
        source: str,
        *,
        automatic: bool = False,
        accounts: Sequence[str] | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> dict[str, Any]:
        """This workspace's head accepts broadcasts from the workspace ``source`` on
        ``accounts`` (None: all): as drafts, or ``automatic`` as jobs."""
        return self.broadcasts.accept_broadcasts(
            source, automatic=automatic, accounts=accounts, by=by, key=key
        )

    def stop_broadcasts(
        self, source: str, *, by: str | None = None, key: SigningKey | None = None
    ) -> None:
        """Accept no more broadcasts from ``source`` (its pending jobs are refused)."""
        self.broadcasts.stop_broadcasts(source, by=by, key=key)

    # -- content requests ----------------------------------------------------------------

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
        with self._acting(by, key):
            return self.accountability.request_content(
                from_unit=from_unit,
                topic=topic,
                due=due,
                details=details,
                attachments=attachments,
                by=by,
            )

    def fulfil(
        self,
        request_id: str,
        draft_id: str,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> ContentRequest:
        """Mark the request as answered by ``draft_id`` (its publication closes it)."""
        with self._acting(by, key):
            return self.accountability.fulfil(request_id, draft_id, by=by)

    def content_request(self, request_id: str) -> ContentRequest:
        """The content request with ``request_id``.

        :raises NotFound: there is none (a ConfigurationError, as before).
        """
        return self.accountability.content_request(request_id)

    def requests(self, status: str | None = None) -> list[ContentRequest]:
        """Content requests, oldest first, with when each was first published."""
        return self.accountability.requests(status)

    # -- the central narrative: followed feeds --------------------------------------------

    def follow_feed(
        self,
        url: str,
        *,
        accounts: Sequence[str],
        by: str,
        name: str | None = None,
        language: str = "id",
        key: SigningKey | None = None,
    ) -> Feed:
        """Follow the RSS, Atom or GPR feed at ``url``: each new item becomes a draft by
        ``by`` on ``accounts``, awaiting approval, with the source credited
        (docs/listening.md, The central narrative). Nothing is fetched until
        :meth:`sync_feeds`.

        :raises NotPermitted: ``by`` may not draft on one of the accounts.
        """
        with self._acting(by, key):
            return self.central.follow_feed(
                url, accounts=accounts, by=by, name=name, language=language
            )

    def unfollow_feed(self, name: str, *, by: str, key: SigningKey | None = None) -> Feed:
        """Stop following the feed ``name`` (its drafts stay, its items stay seen)."""
        with self._acting(by, key):
            return self.central.unfollow_feed(name, by=by)

    def feed(self, name: str) -> Feed:
        """The feed named ``name`` (its URL, accounts, planner, validators, last error)."""
        return self.central.feed(name)

    def feeds(self, *, stopped: bool = False) -> list[Feed]:
        """The followed feeds by name (and the stopped ones with ``stopped=True``)."""
        return self.central.feeds(stopped=stopped)

    def feed_items(self, name: str) -> list[FeedItemRecord]:
        """The items of feed ``name`` seen so far, oldest first, with their drafts."""
        return self.central.feed_items(name)

    def sync_feeds(
        self,
        names: Sequence[str] | None = None,
        *,
        key: SigningKey | None = None,
        transport: Any = None,
    ) -> FeedSync:
        """Poll every followed feed (conditional GET: an unchanged one costs a 304) and turn
        each new item into a draft awaiting approval, once per item even across restarts
        and syncs at the same moment. ``key``: a signing planner's key."""
        return self.central.sync_feeds(names, key=key, transport=transport)

    # -- the inbox -----------------------------------------------------------------------

    def set_service_hours(
        self,
        account: str,
        hours: str = DEFAULT_HOURS,
        *,
        holidays: str | Sequence[date | str] | None = "ID",
        target: timedelta = DEFAULT_TARGET,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> ServiceHours:
        """When ``account``'s team answers (``"Mon-Fri 08:00-16:00"``), which holidays are
        off (``"ID"``: Indonesia's public holidays; add dates for cuti bersama), and the
        response target, in service time."""
        with self._acting(by, key):
            return self.conversations.set_service_hours(
                account, hours, holidays=holidays, target=target, by=by
            )

    def service_hours(self, account: str) -> tuple[ServiceHours, timedelta]:
        """``account``'s service hours and response target (the defaults when unset)."""
        return self.conversations.service_hours(account)

    def pull_inbox(
        self,
        accounts: Sequence[str] | None = None,
        *,
        window: timedelta = timedelta(days=7),
        **client_options: Any,
    ) -> SyncResult:
        """Pull new replies and mentions from every account (or ``accounts``): new items per
        account (``.new``, ``.total``) and the accounts that failed (``.failed``). Through
        the platform's notifications where it has them (a fixed number of requests per
        account, replies to posts of any age); elsewhere replies are read post by post for
        the posts published within ``window`` (docs/inbox.md says what each costs)."""
        return self.conversations.sync(accounts, window=window, **client_options)

    def sync_inbox(
        self,
        accounts: Sequence[str] | None = None,
        *,
        window: timedelta = timedelta(days=7),
        **client_options: Any,
    ) -> int:
        """Deprecated: use ``pull_inbox(...).total``."""
        _deprecated("sync_inbox(...)", "pull_inbox(...).total")
        return self.conversations.sync(accounts, window=window, **client_options).total

    def sync_inbox_report(
        self,
        accounts: Sequence[str] | None = None,
        *,
        window: timedelta = timedelta(days=7),
        **client_options: Any,
    ) -> SyncResult:
        """Deprecated: use :meth:`pull_inbox`."""
        _deprecated("sync_inbox_report(...)", "pull_inbox(...)")
        return self.conversations.sync(accounts, window=window, **client_options)

    def inbox(
        self,
        status: str | None = "open",
        *,
        account: str | None = None,
        older_than: timedelta | None = None,
        assigned_to: str | None = None,
        intent: str | None = None,
        sentiment: str | None = None,
    ) -> list[InboxItem]:
        """Items, emergencies first, then oldest first: ``status`` ``"open"`` (default),
        ``"answered"``, ``"closed"`` or None for all; ``older_than`` keeps those waiting
        longer than that; ``intent`` (``"question"``, ``"complaint"``, ``"praise"``,
        ``"hoax_report"``, ``"emergency"``, ``"other"``) and ``sentiment`` keep those so
        classified."""
        return self.conversations.items(
            status,
            account=account,
            older_than=older_than,
            assigned_to=assigned_to,
            intent=intent,
            sentiment=sentiment,
        )

    def label(
        self,
        item_id: str,
        *,
        intent: str,
        sentiment: str | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> InboxItem:
        """Correct an item's classification (a person decides); audit-logged, and kept as
        training data (:meth:`labels_frame`, :meth:`export_labels`)."""
        with self._acting(by, key):
            return self.conversations.label(
                item_id, intent=intent, sentiment=sentiment, by=by, key=key
            )

    def opinion_frame(self, period: str | Period) -> pd.DataFrame:
        """What the public said in ``period`` (``"2026-11"``, ``"2026-W48"``...): inbox
        messages and watched posts (source ``watch:<name>``) counted per day, source,
        platform, intent and sentiment, days in the workspace's time zone (needs
        ``govsocial[notebook]``; docs/listening.md)."""
        return self.analytics.opinion_frame(period)

    def labels_frame(self) -> pd.DataFrame:
        """The re-labels as training data, one row per labelled item: the message, the
        person's intent and sentiment, the machine's before (needs ``govsocial[notebook]``)."""
        return self.analytics.labels_frame()

    def export_labels(self, path: str | Path, format: str | None = None) -> int:
        """Write the re-labels as training data to ``path`` (``.jsonl`` or ``.csv``); the
        number of rows written."""
        return self.analytics.export_labels(path, format)

    def inbox_item(self, item_id: str) -> InboxItem:
        """The item with ``item_id``.

        :raises NotFound: there is none (a ConfigurationError, as before).
        """
        return self.conversations.item(item_id)

    def assign(
        self, item_id: str, *, to: str, by: str | None = None, key: SigningKey | None = None
    ) -> InboxItem:
        """Give the item to ``to`` to answer (on a governed account, someone who may reply)."""
        with self._acting(by, key):
            return self.conversations.assign(item_id, to=to, by=by)

    def reply(
        self,
        to: str | PostRef | Interaction,
        post: Post | str,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
        **client_options: Any,
    ) -> PostRef:
        """Reply to an inbox item (its id), a post or an interaction, as the workspace account
        that received it.

        Replies are public posts: on a governed account ``by`` must be an admin. The reply,
        who sent it and, for an inbox item, how long the answer took (in clock and service
        time) go into the audit log; the item is then ``answered``.
        """
        with self._acting(by, key):
            return self.conversations.reply(to, post, by=by, **client_options)

    def answer_with_clarification(
        self,
        item_id: str,
        clarification: str | Job,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
        language: str | None = None,
        **client_options: Any,
    ) -> PostRef:
        """Answer a hoax report (an inbox item) with a published clarification's link.

        ``clarification`` is the job that published a :func:`govsocial.clarification` post
        (or its id, or one of its deliveries' ids); the answer links its delivery on the
        item's account (else on the same platform), thanks the citizen and gives the verdict
        (:func:`govsocial.clarification_reply`, in the item's language). It is the item's
        answer, timed like any reply, and its audit entry names the verdict and the job, so
        the performance report counts it. See docs/listening.md.
        """
        with self._acting(by, key):
            return self.conversations.answer_with_clarification(
                item_id, clarification, by=by, language=language, **client_options
            )

    def close_item(
        self, item_id: str, *, by: str | None = None, reason: str, key: SigningKey | None = None
    ) -> InboxItem:
        """Close the item: ``"answered"`` (elsewhere), ``"no reply needed"`` or ``"spam"``."""
        with self._acting(by, key):
            return self.conversations.close_item(item_id, by=by, reason=reason)

    # -- watched topics ------------------------------------------------------------------

    def watch(
        self,
        name: str,
        *,
        query: str,
        accounts: Sequence[str],
        spike_min: int = 10,
        spike_sd: float = 3.0,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> Watch:
        """Follow a keyword, ``#hashtag`` or ``"phrase"`` through the searches of
        ``accounts`` (Bluesky, Mastodon, X, Telegram; docs/listening.md, "Watching").

        Audit-logged; on a governed account ``by`` must be its admin. ``spike_min`` and
        ``spike_sd`` set when an hour counts as a spike.
        """
        with self._acting(by, key):
            return self.watching.watch(
                name,
                query=query,
                accounts=accounts,
                spike_min=spike_min,
                spike_sd=spike_sd,
                by=by,
            )

    def unwatch(self, name: str, *, by: str | None = None, key: SigningKey | None = None) -> Watch:
        """Stop searching for the watch ``name`` (audit-logged); what it found stays."""
        with self._acting(by, key):
            return self.watching.unwatch(name, by=by)

    def watches(self, name: str | None = None) -> list[Watch]:
        """Every watch by name (stopped ones too), or the one named ``name``."""
        return self.watching.watches(name)

    def sync_watches(
        self,
        names: Sequence[str] | None = None,
        *,
        backfill: timedelta = DEFAULT_BACKFILL,
        **client_options: Any,
    ) -> WatchSync:
        """Search for every active watch (or ``names``): each new post stored once,
        classified; spikes flagged and notified. ``backfill``: how far a first search looks
        back."""
        return self.watching.sync_watches(names, backfill=backfill, **client_options)

    def watched(
        self,
        name: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        intent: str | None = None,
    ) -> list[WatchedPost]:
        """The posts the watch ``name`` found, oldest first (by when the platform received
        them), from ``since`` and before ``until``, of ``intent`` when given."""
        return self.watching.watched(name, since=since, until=until, intent=intent)

    def spikes(self, name: str | None = None) -> list[Spike]:
        """The hours flagged as spikes, of every watch or of ``name``, oldest first."""
        return self.watching.spikes(name)

    def escalate(
        self,
        item_id: str,
        *,
        to: str,
        by: str | None = None,
        note: str | None = None,
        include_author: bool = False,
        resend: bool = False,
        key: SigningKey | None = None,
    ) -> Ticket:
        """Send the item to the escalation target ``to`` (a ticket system registered by the
        ``register_escalation_targets`` hook: :class:`govsocial.WebhookTarget`,
        :class:`govsocial.EmailTarget`, a plugin's); the ticket, also stored on the item and
        audit-logged. Escalating it there again returns the first ticket and sends nothing
        (docs/listening.md, Escalation)."""
        with self._acting(by, key):
            return self.conversations.escalate(
                item_id,
                to=to,
                by=by,
                note=note,
                include_author=include_author,
                resend=resend,
            )

    def escalations(self, item_id: str) -> list[dict[str, Any]]:
        """The item's escalations, oldest first, with their status and ticket."""
        return self.conversations.escalations(item_id)

    # -- erasure (UU PDP, GDPR) ----------------------------------------------------------

    def forget(
        self,
        who: str,
        *,
        by: str,
        reason: str,
        platform: str | None = None,
        key: SigningKey | None = None,
    ) -> Erasure:
        """Erase a citizen's inbox data on their request.

        ``who`` is the handle (``@warga@kota.example``, ``warga.bsky.social``,
        ``@warga_tg``) or author id (a Bluesky DID, a Facebook user id) as the platform
        gives it; the same handle on several platforms is forgotten on all of them unless
        ``platform`` names one. The items' text, author, name, URLs and platform data are
        erased; when they arrived and were answered, and by whom on the agency's side,
        stay, so reports stay right. The audit log records ``by``, ``reason`` (a case
        number, never the person), the counts and a keyed pseudonym of the handle.
        Idempotent: a second call erases 0 items. See docs/inbox.md, "Privacy".

        :raises ConfigurationError: ``who``, ``by`` or ``reason`` missing, or the reason
            names the person.
        :raises NotPermitted: an account with the citizen's items is run under appointments
            and ``by`` is not its admin (nothing is erased).
        """
        with self._acting(by, key):
            return self.conversations.forget(who, by=by, reason=reason, platform=platform, key=key)

    def forgotten(self, who: str) -> list[AuditEntry]:
        """Each request to forget ``who`` (the audit entries, oldest first): when, by whom,
        why and how many items; the answer to "did you erase my data?"."""
        return self.conversations.forgotten(who)

    def set_retention(
        self, *, inbox_days: int | None, by: str, key: SigningKey | None = None
    ) -> int | None:
        """Keep inbox content ``inbox_days`` days after it arrived, then erase it as
        :meth:`forget` does (None, the default: keep it). Audit-logged; ``govsocial worker``
        applies it once an hour, and :meth:`apply_retention` at once."""
        with self._acting(by, key):
            return self.conversations.set_retention(inbox_days=inbox_days, by=by, key=key)

    def retention(self) -> int | None:
        """The inbox retention in days (None: inbox content is kept)."""
        return self.conversations.retention()

    def apply_retention(self, *, by: str | None = None, key: SigningKey | None = None) -> Erasure:
        """Erase the content of inbox items older than the retention now; what was erased
        (nothing when no retention is set)."""
        with self._acting(by, key):
            return self.conversations.apply_retention(by=by, key=key)

    # -- metrics, reports, performance, the archive --------------------------------------

    def pull_metrics(
        self,
        *,
        max_age: timedelta = timedelta(days=90),
        progress: Callable[[str, int], None] | None = None,
        **client_options: Any,
    ) -> Collected:
        """Snapshot every published post still tracked, and every account: what was stored
        (``.posts``, ``.accounts``, ``.total``) and which accounts failed (``.failed``).

        Young posts are measured often, old ones rarely, none past ``max_age`` (see
        :func:`govsocial.analytics.collection.next_measurement`).
        """
        return self.analytics.collect(max_age=max_age, progress=progress, **client_options)

    def collect_metrics(
        self,
        *,
        max_age: timedelta = timedelta(days=90),
        progress: Callable[[str, int], None] | None = None,
        **client_options: Any,
    ) -> int:
        """Deprecated: use ``pull_metrics(...).total``."""
        _deprecated("collect_metrics(...)", "pull_metrics(...).total")
        return self.pull_metrics(max_age=max_age, progress=progress, **client_options).total

    def collect_metrics_report(
        self,
        *,
        max_age: timedelta = timedelta(days=90),
        progress: Callable[[str, int], None] | None = None,
        **client_options: Any,
    ) -> Collected:
        """Deprecated: use :meth:`pull_metrics`."""
        _deprecated("collect_metrics_report(...)", "pull_metrics(...)")
        return self.pull_metrics(max_age=max_age, progress=progress, **client_options)

    def metrics_frame(self, kind: str = "posts") -> pd.DataFrame:
        """Metrics snapshots as a pandas DataFrame (needs ``govsocial[notebook]``).

        ``"posts"``: one row per post snapshot: platform, account, post_id, url, labels,
        published_at, collected_at, and views, reach, likes, reposts, replies, quotes,
        bookmarks, clicks (NaN where the platform does not give the figure, never 0).
        ``"accounts"``: one row per account snapshot: platform, account, collected_at,
        followers, following, posts.
        """
        return self.analytics.metrics_frame(kind)

    def summary(
        self, period: str, by: str = "platform", *, zone: str | None = None
    ) -> pd.DataFrame:
        """Figures for ``period`` (``"2026-11"``, ``"2026-W48"``, ``"2026-Q4"``, a day or
        ``"2026-11-01..2026-11-15"``) grouped ``by`` platform, account or label, with
        engagement rate, follower growth, cadence and change against the period before.

        Needs ``govsocial[notebook]``. ``zone`` sets the calendar (default: the first
        account's zone, else Asia/Jakarta). See docs/metrics.md for every definition.
        """
        return self.analytics.summary(period, by, zone=zone)

    def report(self, period: str, *, zone: str | None = None, title: str | None = None) -> Report:
        """A report on ``period``: summaries by platform, account and label, top posts,
        follower growth and charts; write it with ``to_html``, ``to_csv`` or ``to_json``.

        Needs ``govsocial[notebook]``. ``zone`` sets the calendar and the time shown (default:
        the first account's zone, else Asia/Jakarta). See :mod:`govsocial.analytics.report`.

        :raises ConfigurationError: an unknown ``period`` (field ``period``) or ``zone``.
        """
        return self.analytics.report(period, zone=zone, title=title)

    def performance(self, period: str | Period, by: str = "person") -> pd.DataFrame:
        """Performance for ``period`` (``"2026-11"``, ``"2026-Q4"`` ...) by ``"person"``,
        ``"account"`` or ``"unit"``: posts published on time and late, drafts, approvals,
        content requests and their turnaround, replies and their median response time in
        service hours, engagement, and the audit entries behind each row. A pandas DataFrame
        (needs ``govsocial[notebook]``); see :mod:`govsocial.analytics.performance`."""
        return self.analytics.performance(period, by)

    def performance_report(
        self, period: str | Period, *, title: str | None = None
    ) -> PerformanceReport:
        """The performance report of ``period`` (HTML with charts, CSV, JSON), as SKP evidence."""
        return self.analytics.performance_report(period, title=title)

    def export_archive(
        self,
        path: str | Path,
        period: str | tuple[datetime, datetime] | None = None,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> ArchiveExport:
        """Write everything published (and received) in ``period`` into the folder ``path``:
        JSON Lines records, the period's audit entries, and a readable ``index.html``.

        ``period`` is ``"2026-11"``, ``"2026"``, a pair of aware datetimes, or None for all.
        See :mod:`govsocial.analytics.archive`.
        """
        with self._acting(by, key):
            return self.analytics.export_archive(path, period, by=by)

    # -- plumbing, moved to the core and the services (0.1 names, warning) ---------------

    def client_options(self) -> dict[str, Any]:
        """Deprecated: use ``ws.core.client_options()``."""
        _deprecated("client_options()", "ws.core.client_options()")
        return self.core.client_options()

    def store_refreshed_credentials(self, account: Account, values: dict[str, str]) -> None:
        """Deprecated: use ``ws.core.store_refreshed_credentials(...)``."""
        _deprecated("store_refreshed_credentials(...)", "ws.core.store_refreshed_credentials(...)")
        self.core.store_refreshed_credentials(account, values)

    def account_row(self, name: str) -> AccountRow:
        """Deprecated: use ``ws.core.account_row(name)``."""
        _deprecated("account_row(name)", "ws.core.account_row(name)")
        return self.core.account_row(name)

    def new_delivery(
        self, job_id: str, row: AccountRow, due: float, *, occurrence: int, now: float
    ) -> DeliveryRow:
        """Deprecated: use ``govsocial.scheduling.planner.new_delivery(ws.core, ...)``."""
        _deprecated("new_delivery(...)", "govsocial.scheduling.planner.new_delivery(ws.core, ...)")
        return new_delivery(self.core, job_id, row, due, occurrence=occurrence, now=now)

    def archived_interactions(self, start: float | None, end: float | None) -> list[dict[str, Any]]:
        """Deprecated: use ``ws.conversations.archived_interactions(start, end)``."""
        _deprecated("archived_interactions(...)", "ws.conversations.archived_interactions(...)")
        return self.conversations.archived_interactions(start, end)
