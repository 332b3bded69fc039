"""A durable workspace: accounts by name, scheduled jobs, and the deliveries workers publish.

::

    ws = govsocial.Workspace.open("govsocial.db")           # or postgresql://...
    ws.add_account("humas-mastodon", account)
    job = ws.schedule(post, accounts=["humas-mastodon"], at="2026-12-01T09:00+07:00")
    ws.run_due()                                           # or: govsocial worker

Everything is validated before anything is written, and a job with its deliveries is
written in one transaction: a bad request leaves nothing half-written. Publishing follows
the exactly-once rules in :mod:`govsocial.scheduling.worker`.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, overload

from govsocial.accountability.governance import Accountability, Draft
from govsocial.adapters.checkpoints import MemoryCheckpoints
from govsocial.client.validation import blocking, validate
from govsocial.core.errors import ConfigurationError, NotPermitted, ValidationError
from govsocial.core.models import Account, Interaction, Post, PostRef, PublishResult
from govsocial.core.timing import Recurrence, Slots, check_zone, from_epoch, parse_when
from govsocial.inbox.items import Conversations, InboxItem
from govsocial.plugin.manager import Plugins, default_plugins
from govsocial.scheduling.jobs import DELIVERY_STATES, Delivery, Job
from govsocial.store import AccountRow, DeliveryRow, JobRow, SqliteStore, Store, open_store
from govsocial.workspace.credentials import Sealer

if TYPE_CHECKING:
    from govsocial.analytics.analysis import Period
    from govsocial.analytics.archive import ArchiveExport
    from govsocial.analytics.collection import Collected
    from govsocial.analytics.performance import PerformanceReport
    from govsocial.analytics.report import Report
    from govsocial.client import Client

logger = logging.getLogger("govsocial.workspace")

__all__ = ["DEFAULT_DB", "Workspace"]

#: Where a workspace lives when nothing says otherwise.
DEFAULT_DB = "govsocial.db"


class Workspace(Accountability, Conversations):
    """Accounts, jobs and deliveries in one database (SQLite file or PostgreSQL).

    :param misfire_grace: how late a delivery may still go out; later it is ``missed``.
    :param lease: seconds a worker's claim lasts without renewal.
    :param max_attempts: attempts per delivery for failures that are safe to retry.
    """

    def __init__(
        self,
        store: Store,
        *,
        misfire_grace: timedelta = timedelta(minutes=15),
        lease: float = 60.0,
        max_attempts: int = 5,
        plugins: Plugins | None = None,
    ) -> None:
        self.store = store
        self.misfire_grace = misfire_grace
        self.lease = lease
        self.max_attempts = max_attempts
        self.plugins = plugins or default_plugins()
        self._sealer = Sealer(
            lambda: store.meta("credential_salt"), lambda s: store.set_meta("credential_salt", s)
        )

    @classmethod
    def open(
        cls,
        url: str | Path | None = None,
        *,
        misfire_grace: timedelta = timedelta(minutes=15),
        lease: float = 60.0,
        max_attempts: int = 5,
        plugins: Plugins | None = None,
    ) -> Workspace:
        """Open (creating or upgrading) the workspace at ``url``.

        ``url`` defaults to ``$GOVSOCIAL_DB``, then ``./govsocial.db``.
        """
        url = url or os.environ.get("GOVSOCIAL_DB") or DEFAULT_DB
        return cls(
            open_store(url),
            misfire_grace=misfire_grace,
            lease=lease,
            max_attempts=max_attempts,
            plugins=plugins,
        )

    @property
    def url(self) -> str:
        return self.store.url

    def __repr__(self) -> str:
        return f"<Workspace {self.store.url.split('@')[-1]}>"

    @overload
    def close(self) -> None: ...

    @overload
    def close(self, item_id: str, *, by: str | None = None, reason: str) -> InboxItem: ...

    def close(
        self, item_id: str | None = None, *, by: str | None = None, reason: str | None = None
    ) -> InboxItem | None:
        """Close the workspace's database (no arguments), or, given an inbox item's id, close
        that item (``reason``: ``"answered"``, ``"no reply needed"`` or ``"spam"``)."""
        if item_id is None:
            self.store.close()
            return None
        if reason is None:
            raise ConfigurationError(
                "closing an inbox item needs a reason",
                field="reason",
                hint="answered, no reply needed, or spam",
            )
        return self.close_item(item_id, by=by, reason=reason)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the institution -----------------------------------------------------------------

    @property
    def institution(self) -> str | None:
        """The institution's name, shown in report titles (None until set)."""
        return self.store.meta("institution")

    def set_institution(self, name: str, *, by: str | None = None) -> None:
        """Name the institution the workspace serves (``"Dinas Kominfo Kota Contoh"``)."""
        if not name or not name.strip():
            raise ConfigurationError("the institution needs a name", field="institution")
        with self.store.transaction() as cur:
            self.store._set_meta(cur, "institution", name.strip())
            self._audit(cur, by, "set_institution", detail={"name": name.strip()})

    # -- accounts ------------------------------------------------------------------------

    def add_account(self, name: str, account: Account, *, slots: str | None = None) -> None:
        """Keep ``account`` under ``name`` (replacing one of that name).

        Credentials are stored as ``env:`` references or encrypted, never in plain text.
        ``slots`` are its posting slots for :meth:`enqueue`, e.g. ``"Mon-Fri 08:00, 12:00"``.
        """
        if not name or not name.strip():
            raise ConfigurationError("an account needs a name", field="name")
        cls = self.plugins.platform(account.platform)
        missing = [f for f in cls.credential_fields if f not in account.credentials]
        if missing:  # env: references are resolved where the worker runs, not here
            raise ConfigurationError(
                f"account {account.handle} on {cls.name} lacks credential {missing[0]!r}",
                field=f"credentials.{missing[0]}",
                hint=f"{cls.title} needs: {', '.join(cls.credential_fields)}",
            )
        if account.base_url is None and cls.default_base_url is None:
            raise ConfigurationError(
                f"account {account.handle} on {cls.name} has no base_url", field="base_url"
            )
        check_zone(account.timezone)
        slot_text = Slots.parse(slots).text if slots else None
        row = AccountRow(
            name=name,
            platform=account.platform,
            handle=account.handle,
            base_url=account.base_url,
            timezone=account.timezone,
            display_name=account.name,
            credentials=self._sealer.seal(
                account.credentials,
                public=[n for n in account.credentials if n not in cls.secret_names()],
            ),
            slots=slot_text,
            created_at=time.time(),
        )
        self.store.put_account(row)

    def accounts(self) -> dict[str, Account]:
        """Every account by name, credentials opened (``env:`` references stay references)."""
        return {row.name: self._account(row) for row in self.store.accounts()}

    def account(self, name: str) -> Account:
        """The account called ``name``.

        :raises ConfigurationError: there is none (the message lists the known names).
        """
        return self._account(self._account_row(name))

    def client_options(self) -> dict[str, Any]:
        """What a client working for this workspace is given: its plugins, the delivery
        checkpoints (committed to the database, so a crashed worker's successor resumes a
        multi-step publish) and a listener that stores credentials an adapter refreshed.

        ``AsyncClient(**ws.client_options())`` is how workers and the CLI build theirs.
        """
        return {
            "plugins": self.plugins,
            "checkpoints": DeliveryCheckpoints(self.store),
            "on_credentials": self.store_refreshed_credentials,
        }

    def store_refreshed_credentials(self, account: Account, values: dict[str, str]) -> None:
        """Keep credentials an adapter refreshed (a rotated OAuth token) with their account.

        They are sealed like any credential; without ``GOVSOCIAL_SECRET_KEY`` they cannot be
        stored, and a warning says so (the next process would use the old, maybe revoked, one).
        """
        from pydantic import SecretStr

        for row in self.store.accounts():
            if (row.platform, row.handle, row.base_url) != (
                account.platform,
                account.handle,
                account.base_url,
            ):
                continue
            try:
                sealed = self._sealer.seal({k: SecretStr(v) for k, v in values.items()})
            except ConfigurationError as exc:
                logger.warning(
                    "refreshed credentials of %s (%s) were not stored: %s",
                    row.name,
                    ", ".join(sorted(values)),
                    exc,
                )
                return
            self.store.update_credentials(row.name, {**row.credentials, **sealed})
            return

    def refresh_credentials(
        self, accounts: Sequence[str] | None = None, **client_options: Any
    ) -> dict[str, str]:
        """Renew expiring tokens (X, LinkedIn, Threads) of every account, or ``accounts``;
        the new ones are stored sealed. Returns, per account, ``"renewed"``, ``"nothing to
        renew"`` or why it failed. Run it daily (``govsocial accounts refresh``)."""
        from govsocial.client import Client
        from govsocial.core.errors import GovSocialError

        names = list(accounts) if accounts else [row.name for row in self.store.accounts()]
        outcome: dict[str, str] = {}
        with Client(**{**self.client_options(), **client_options}) as client:
            for name in names:
                try:
                    renewed = client.refresh_credentials(self.account(name))
                except GovSocialError as error:
                    outcome[name] = f"failed: {error}"
                    continue
                outcome[name] = "renewed" if renewed else "nothing to renew"
        return outcome

    def _account(self, row: AccountRow) -> Account:
        return Account(
            platform=row.platform,
            handle=row.handle,
            base_url=row.base_url,
            timezone=row.timezone,
            name=row.display_name,
            credentials=self._sealer.open(row.credentials),
        )

    def account_row(self, name: str) -> AccountRow:
        """The stored row of account ``name`` (platform, handle, zone, slots; credentials
        still sealed), for code that plans deliveries, such as workers.

        :raises ConfigurationError: there is none (the message lists the known names).
        """
        return self._account_row(name)

    def _account_row(self, name: str, rows: Sequence[AccountRow] | None = None) -> AccountRow:
        rows = self.store.accounts() if rows is None else rows
        for row in rows:
            if row.name == name:
                return row
        known = ", ".join(r.name for r in rows) or "none yet: add one with add_account"
        raise ConfigurationError(
            f"no account named {name!r} in this workspace (known: {known})",
            field="accounts",
        )

    # -- planning ------------------------------------------------------------------------

    def schedule(
        self,
        post: Post | Draft,
        accounts: Sequence[str] | None = None,
        at: str | datetime | None = None,
        recurrence: str | None = None,
        *,
        by: str | None = None,
    ) -> Job:
        """Plan ``post`` for ``accounts`` at ``at`` (aware datetime or ISO text with offset).

        ``recurrence`` is an RFC 5545 RRULE (``"FREQ=WEEKLY;BYDAY=MO"``), expanded in each
        account's local time from ``at``. ``post`` may be an approved :class:`Draft`
        (accounts and time default to the draft's). On accounts under appointments
        (see :mod:`govsocial.accountability.governance`) ``by`` names the admin doing it.

        :raises ConfigurationError: unknown account, naive or past time, bad recurrence.
        :raises ValidationError: the post does not fit an account's platform.
        :raises NotPermitted: ``by`` may not schedule on an account, or the post needs approval.
        """
        if isinstance(post, Draft):
            if by is None:
                raise NotPermitted(
                    f"scheduling draft {post.id} needs by=<admin>",
                    actor=None,
                    action="schedule",
                    hint="pass by='<person id>'",
                )
            self._authorize("schedule", by, list(accounts or post.accounts), obj=post.id)
            return self._schedule_draft(
                self.get_draft(post.id), at=at, by=by, action="schedule", accounts=accounts
            )
        if accounts is None or at is None:
            raise ConfigurationError(
                "schedule(post, accounts, at) needs the accounts and the time",
                field="accounts" if accounts is None else "at",
            )
        names = [row.name for row in self._rows_for(accounts)]
        authority = self._direct_authority("schedule", names, by)
        return self._plan(
            post, names, at, recurrence, authority=authority, by=by, action="schedule"
        )

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
    ) -> Job:
        rows = self._rows_for(accounts)
        now = datetime.now(UTC)
        starts: dict[str, datetime] = {}
        rules: dict[str, Recurrence] = {}
        for row in rows:
            start = parse_when(at, zone=row.timezone, now=now)
            if recurrence:
                rule = Recurrence.parse(recurrence, zone=row.timezone, start=start)
                first = rule.first()
                if first is None:
                    raise ConfigurationError(
                        f"recurrence {recurrence!r} has no occurrence from {at}",
                        field="recurrence",
                    )
                rules[row.name] = rule
                start = first
            starts[row.name] = start
        self._validate(post, rows)
        text = next(iter(rules.values())).text if rules else None
        return self._insert(
            post, rows, starts, recurrence=text, authority=authority, by=by, action=action
        )

    def enqueue(
        self, post: Post | Draft, accounts: Sequence[str] | None = None, *, by: str | None = None
    ) -> Job:
        """Plan ``post`` for the next free posting slot of each account (its own time each).

        ``post`` may be an approved :class:`Draft`; ``by`` as for :meth:`schedule`.

        :raises ConfigurationError: an account has no posting slots.
        """
        draft: Draft | None = None
        if isinstance(post, Draft):
            draft = self.get_draft(post.id)
            accounts = list(accounts or draft.accounts)
        if accounts is None:
            raise ConfigurationError("enqueue(post, accounts) needs the accounts", field="accounts")
        rows = self._rows_for(accounts)
        names = [row.name for row in rows]
        if draft is not None:
            self._authorize("enqueue", by, names, obj=draft.id)
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
            }
        else:
            authority = self._direct_authority("enqueue", names, by)
        now = datetime.now(UTC)
        starts: dict[str, datetime] = {}
        for row in rows:
            if not row.slots:
                raise ConfigurationError(
                    f"account {row.name!r} has no posting slots",
                    field="slots",
                    hint="add_account(name, account, slots='Mon-Fri 08:00, 12:00, 16:00')",
                )
            taken = [from_epoch(t) for t in self.store.booked_slots(row.name)]
            starts[row.name] = Slots.parse(row.slots).next_free(now, zone=row.timezone, taken=taken)
        content = draft.post if draft is not None else post
        assert isinstance(content, Post)
        self._validate(content, rows)
        job = self._insert(
            content, rows, starts, recurrence=None, authority=authority, by=by, action="enqueue"
        )
        if draft is not None:
            with self.store.transaction() as cur:
                self.store.execute(
                    cur,
                    "UPDATE drafts SET status = 'scheduled', job_id = ? WHERE id = ?",
                    (job.id, draft.id),
                )
        return job

    def _rows_for(self, accounts: Sequence[str]) -> list[AccountRow]:
        if isinstance(accounts, str):
            accounts = [accounts]
        if not accounts:
            raise ConfigurationError("name at least one account", field="accounts")
        known = self.store.accounts()
        names = list(dict.fromkeys(accounts))
        return [self._account_row(name, known) for name in names]

    def _validate(self, post: Post, rows: Sequence[AccountRow]) -> None:
        for platform in dict.fromkeys(row.platform for row in rows):
            problems = blocking(validate(post, platform, plugins=self.plugins))
            if problems:
                raise ValidationError(problems, platform=platform)

    def _insert(
        self,
        post: Post,
        rows: Sequence[AccountRow],
        starts: dict[str, datetime],
        *,
        recurrence: str | None,
        authority: dict[str, Any],
        by: str | None,
        action: str,
    ) -> Job:
        now = time.time()
        job = JobRow(
            id=uuid.uuid4().hex,
            post=post.model_dump_json(),
            recurrence=recurrence,
            cancelled=False,
            created_at=now,
            authority=json.dumps(authority, sort_keys=True),
        )
        deliveries = [
            self.new_delivery(job.id, row, starts[row.name].timestamp(), occurrence=0, now=now)
            for row in rows
        ]
        decrees: dict[str, str | None] = authority.get("accounts", {})
        with self.store.transaction() as cur:  # the job and its audit entries, together
            self.store.insert_job(job, deliveries)
            for row in rows:
                self._audit(
                    cur,
                    by,
                    action,
                    obj=job.id,
                    account=row.name,
                    decree=decrees.get(row.name),
                    detail={
                        "at": starts[row.name].isoformat(),
                        "draft": authority.get("draft"),
                        "recurrence": recurrence,
                    },
                )
        return self.job(job.id)

    def new_delivery(
        self, job_id: str, row: AccountRow, due: float, *, occurrence: int, now: float
    ) -> DeliveryRow:
        """A scheduled delivery with its idempotency key chosen now, once and for all."""
        key = self.plugins.platform(row.platform).new_idempotency_key()
        return DeliveryRow(
            id=uuid.uuid4().hex,
            job_id=job_id,
            account=row.name,
            occurrence=occurrence,
            scheduled_at=due,
            due_at=due,
            status="scheduled",
            idempotency_key=key,
            updated_at=now,
        )

    def cancel(self, job_id: str, *, by: str | None = None) -> Job:
        """Cancel what has not started (and every later occurrence)."""
        job = self.job(job_id)
        accounts = sorted({d.account for d in job.deliveries})
        decrees = self._authorize("cancel", by, accounts, obj=job_id)
        with self.store.transaction() as cur:
            self.store.cancel_job(job_id, time.time())
            for name in accounts:
                self._audit(cur, by, "cancel", obj=job_id, account=name, decree=decrees[name])
        return self.job(job_id)

    def reschedule(self, job_id: str, at: str | datetime, *, by: str | None = None) -> Job:
        """Move what has not started to ``at``."""
        job = self.job(job_id)
        accounts = sorted({d.account for d in job.deliveries})
        decrees = self._authorize("reschedule", by, accounts, obj=job_id)
        zone = self._account_row(job.deliveries[0].account).timezone if job.deliveries else "UTC"
        when = parse_when(at, zone=zone, now=datetime.now(UTC))
        with self.store.transaction() as cur:
            self.store.reschedule_job(job_id, when.timestamp(), time.time())
            for name in accounts:
                self._audit(
                    cur,
                    by,
                    "reschedule",
                    obj=job_id,
                    account=name,
                    decree=decrees[name],
                    detail={"at": when.isoformat()},
                )
        return self.job(job_id)

    def reply(
        self,
        to: str | PostRef | Interaction,
        post: Post | str,
        *,
        by: str | None = None,
        **client_options: Any,
    ) -> PostRef:
        """Reply to an inbox item (its id), a post or an interaction, as the workspace account
        that received it.

        Replies are public posts: on a governed account ``by`` must be an admin. The reply,
        who sent it and, for an inbox item, how long the answer took (in clock and service
        time) go into the audit log; the item is then ``answered``.
        """
        from govsocial.client import Client

        item = None
        if isinstance(to, str):
            item = self.inbox_item(to)
            to = item.interaction(self.account(item.account))
        ref = to.ref if isinstance(to, Interaction) else to
        name = item.account if item is not None else self.account_name(ref.account)
        decrees = self._authorize("reply", by, [name], obj=item.id if item else ref.id)
        account = self.account(name)
        target = ref.model_copy(update={"account": account})  # with opened credentials
        with Client(**{**self.client_options(), **client_options}) as client:
            sent = client.reply(target, post)
        with self.store.transaction() as cur:
            detail: dict[str, Any] = {"in_reply_to": ref.id, "url": sent.url}
            if item is not None:
                detail |= self._record_response(cur, item, sent, by, time.time())
            self._audit(
                cur, by, "reply", obj=sent.id, account=name, decree=decrees[name], detail=detail
            )
        return sent

    def delete_post(
        self,
        job_id: str,
        *,
        account: str | None = None,
        by: str | None = None,
        **client_options: Any,
    ) -> list[PostRef]:
        """Delete a job's published posts on their platforms (one account's with ``account``).

        The workspace keeps them, marked deleted: the archive still holds what was said.

        :raises NotPermitted: ``by`` may not delete on a governed account.
        :raises GovSocialError: the platform refused or cannot delete (Instagram).
        """
        from govsocial.client import Client

        job = self.job(job_id)
        targets = [
            d
            for d in job.deliveries
            if d.status == "published" and d.ref is not None and d.account == (account or d.account)
        ]
        decrees = self._authorize("delete", by, sorted({d.account for d in targets}), obj=job_id)
        deleted: list[PostRef] = []
        with Client(**{**self.client_options(), **client_options}) as client:
            for d in targets:
                assert d.ref is not None
                if self._deleted_at(d.id) is not None:
                    continue
                client.delete(d.ref)
                with self.store.transaction() as cur:
                    self.store.execute(
                        cur,
                        "UPDATE deliveries SET deleted_at = ? WHERE id = ?",
                        (time.time(), d.id),
                    )
                    self._audit(
                        cur,
                        by,
                        "delete",
                        obj=d.id,
                        account=d.account,
                        decree=decrees[d.account],
                        detail={"job": job_id, "remote_id": d.ref.id},
                    )
                deleted.append(d.ref)
        return deleted

    def _deleted_at(self, delivery_id: str) -> float | None:
        with self.store.transaction() as cur:
            row = self.store.execute(
                cur, "SELECT deleted_at FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def export_archive(
        self,
        path: str | Path,
        period: str | tuple[datetime, datetime] | None = None,
        *,
        by: str | None = None,
    ) -> ArchiveExport:
        """Write everything published (and received) in ``period`` into the folder ``path``:
        JSON Lines records, the period's audit entries, and a readable ``index.html``.

        ``period`` is ``"2026-11"``, ``"2026"``, a pair of aware datetimes, or None for all.
        See :mod:`govsocial.analytics.archive`.
        """
        from govsocial.analytics.archive import export_archive

        return export_archive(self, path, period, by=by)

    def performance(self, period: str | Period, by: str = "person") -> Any:
        """Performance for ``period`` (``"2026-11"``, ``"2026-Q4"`` ...) by ``"person"``,
        ``"account"`` or ``"unit"``: posts published on time and late, drafts, approvals,
        content requests and their turnaround, replies and their median response time in
        service hours, engagement, and the audit entries behind each row. A pandas DataFrame
        (needs ``govsocial[notebook]``); see :mod:`govsocial.analytics.performance`."""
        from govsocial.analytics.performance import performance_frame

        return performance_frame(self, period, by)

    def performance_report(
        self, period: str | Period, *, title: str | None = None
    ) -> PerformanceReport:
        """The performance report of ``period`` (HTML with charts, CSV, JSON), as SKP evidence."""
        from govsocial.analytics.performance import PerformanceReport

        return PerformanceReport(self, period, title=title)

    def client(self, *, by: str | None = None, **client_options: Any) -> Client:
        """A :class:`~govsocial.Client` for direct calls, outside the draft and schedule flow.

        It works like any client (a developer's escape hatch), but every publish it makes to
        an account of this workspace is written to the audit log as ``direct_publish``, with
        ``by`` as the actor: the record shows it did not go through approval.
        """
        from govsocial.client import Client

        def record(post: Post, result: PublishResult) -> None:
            try:
                name = self.account_name(result.account)
            except ConfigurationError:
                name = None
            with self.store.transaction() as cur:
                self._audit(
                    cur,
                    by,
                    "direct_publish" if result.ok else "direct_publish_failed",
                    obj=result.ref.id if result.ref else None,
                    account=name,
                    detail={
                        "platform": result.account.platform,
                        "handle": result.account.handle,
                        "url": result.ref.url if result.ref else None,
                        "text": post.text[:500],
                        "error": str(result.error) if result.error else None,
                    },
                )

        return Client(**{**self.client_options(), "on_published": record, **client_options})

    def account_name(self, account: Account) -> str:
        """The workspace's name for ``account`` (matched by platform, handle and server).

        :raises ConfigurationError: the workspace does not hold it.
        """
        for row in self.store.accounts():
            if (row.platform, row.handle, row.base_url) == (
                account.platform,
                account.handle,
                account.base_url,
            ):
                return row.name
        raise ConfigurationError(
            f"{account.handle} on {account.platform} is not an account of this workspace",
            field="account",
        )

    # -- reading -------------------------------------------------------------------------

    def job(self, job_id: str) -> Job:
        """The job with ``job_id``.

        :raises ConfigurationError: there is none.
        """
        row = self.store.job(job_id)
        if row is None:
            raise ConfigurationError(f"no job {job_id!r} in this workspace", field="job_id")
        return self._job(row, self.store.deliveries(job_id))

    def jobs(self, status: str | None = None) -> list[Job]:
        """Every job, oldest first; only those whose status is ``status`` when given."""
        deliveries: dict[str, list[DeliveryRow]] = {}
        for delivery in self.store.deliveries():
            deliveries.setdefault(delivery.job_id, []).append(delivery)
        found = [self._job(row, deliveries.get(row.id, [])) for row in self.store.jobs()]
        if status is not None:
            if status not in DELIVERY_STATES and status not in ("running", "partial"):
                raise ConfigurationError(f"unknown job status {status!r}", field="status")
            found = [job for job in found if job.status == status]
        return found

    def _job(self, row: JobRow, deliveries: Sequence[DeliveryRow]) -> Job:
        accounts: dict[str, Account] | None = None

        def ref(d: DeliveryRow) -> PostRef | None:
            nonlocal accounts
            if d.remote_id is None:
                return None
            if accounts is None:
                accounts = self._accounts_lenient()
            account = accounts.get(d.account)
            if account is None:
                return None
            return PostRef(
                platform=account.platform,
                account=account,
                id=d.remote_id,
                url=d.remote_url,
                extra=d.remote_extra,
            )

        return Job(
            id=row.id,
            post=Post.model_validate_json(row.post),
            recurrence=row.recurrence,
            cancelled=row.cancelled,
            created_at=from_epoch(row.created_at),
            deliveries=tuple(
                Delivery(
                    id=d.id,
                    account=d.account,
                    status=d.status,
                    scheduled_at=from_epoch(d.scheduled_at),
                    due_at=from_epoch(d.due_at),
                    occurrence=d.occurrence,
                    attempts=d.attempts,
                    ref=ref(d),
                    error=d.error,
                    error_type=d.error_type,
                    idempotency_key=d.idempotency_key,
                )
                for d in deliveries
            ),
        )

    def _accounts_lenient(self) -> dict[str, Account]:
        """Accounts for display: one whose credentials cannot be opened shows without them."""
        found: dict[str, Account] = {}
        for row in self.store.accounts():
            try:
                found[row.name] = self._account(row)
            except ConfigurationError:
                found[row.name] = Account(
                    platform=row.platform,
                    handle=row.handle,
                    base_url=row.base_url,
                    timezone=row.timezone,
                )
        return found

    # -- metrics -------------------------------------------------------------------------

    def collect_metrics(
        self,
        *,
        max_age: timedelta = timedelta(days=90),
        progress: Callable[[str, int], None] | None = None,
        **client_options: Any,
    ) -> int:
        """Snapshot every published post still tracked, and every account; return how many.

        Young posts are measured often, old ones rarely, none past ``max_age`` (see
        :func:`govsocial.analytics.collection.next_measurement`). Accounts that fail are logged and
        skipped; :meth:`collect_metrics_report` gives the details.
        """
        return self.collect_metrics_report(
            max_age=max_age, progress=progress, **client_options
        ).total

    def collect_metrics_report(
        self,
        *,
        max_age: timedelta = timedelta(days=90),
        progress: Callable[[str, int], None] | None = None,
        **client_options: Any,
    ) -> Collected:
        """Like :meth:`collect_metrics`, returning what was stored and which accounts failed."""
        from govsocial.analytics.collection import collect
        from govsocial.client import Client

        with Client(**{**self.client_options(), **client_options}) as client:
            return client.run(
                collect(self, client.async_client, max_age=max_age, progress=progress)
            )

    def metrics_frame(self, kind: str = "posts") -> Any:
        """Metrics snapshots as a pandas DataFrame (needs ``govsocial[notebook]``).

        ``"posts"``: one row per post snapshot: platform, account, post_id, url, labels,
        published_at, collected_at, and views, reach, likes, reposts, replies, quotes,
        bookmarks, clicks (NaN where the platform does not give the figure, never 0).
        ``"accounts"``: one row per account snapshot: platform, account, collected_at,
        followers, following, posts.
        """
        from govsocial.analytics.frames import (
            accounts_frame,
            posts_frame,
            posts_frame_from_columns,
            sqlite_snapshot_columns,
        )

        if kind == "posts":
            if isinstance(self.store, SqliteStore):
                read = sqlite_snapshot_columns(str(self.store.path))
                if read is not None:
                    codes, keys, columns = read
                    return posts_frame_from_columns(
                        codes, keys, columns, self.store.measured_posts(), self.store.job_labels()
                    )
            gc_was_on = gc.isenabled()
            gc.disable()  # a million fresh tuples would wake the cycle collector again and again
            try:
                snapshots = self.store.post_metric_snapshots()
                return posts_frame(snapshots, self.store.measured_posts(), self.store.job_labels())
            finally:
                if gc_was_on:
                    gc.enable()
        if kind == "accounts":
            return accounts_frame(self.store.account_metric_rows())
        raise ConfigurationError(
            f"unknown metrics frame {kind!r}", field="kind", hint="use 'posts' or 'accounts'"
        )

    def summary(self, period: str, by: str = "platform", *, zone: str | None = None) -> Any:
        """Figures for ``period`` (``"2026-11"``, ``"2026-W48"``, ``"2026-Q4"``, a day or
        ``"2026-11-01..2026-11-15"``) grouped ``by`` platform, account or label, with
        engagement rate, follower growth, cadence and change against the period before.

        Needs ``govsocial[notebook]``. ``zone`` sets the calendar (default: the first
        account's zone, else Asia/Jakarta). See docs/metrics.md for every definition.
        """
        from govsocial.analytics.analysis import summary

        return summary(
            self.metrics_frame("posts"),
            self.metrics_frame("accounts"),
            period,
            by=by,
            zone=zone or self._calendar_zone(),
        )

    def report(self, period: str, *, zone: str | None = None, title: str | None = None) -> Report:
        """A report on ``period``: summaries by platform, account and label, top posts,
        follower growth and charts; write it with ``to_html``, ``to_csv`` or ``to_json``.

        Needs ``govsocial[notebook]``. ``zone`` sets the calendar and the time shown (default:
        the first account's zone, else Asia/Jakarta). See :mod:`govsocial.analytics.report`.

        :raises ConfigurationError: an unknown ``period`` (field ``period``) or ``zone``.
        """
        try:
            from govsocial.analytics.report import workspace_report
        except ImportError:
            raise ConfigurationError(
                "reports need pandas and matplotlib",
                field="report",
                hint="pip install 'govsocial[notebook]'",
            ) from None
        return workspace_report(self, period, zone=zone, title=title)

    def _calendar_zone(self) -> str:
        rows = self.store.accounts()
        return rows[0].timezone if rows else "Asia/Jakarta"

    # -- publishing ----------------------------------------------------------------------

    def run_due(self, **client_options: Any) -> int:
        """Publish every delivery due now; return how many deliveries were handled.

        Works from scripts and notebooks alike (it runs on the sync client's own loop).
        """
        from govsocial.client import Client
        from govsocial.scheduling.worker import Worker

        with Client(**{**self.client_options(), **client_options}) as client:
            worker = Worker(self)
            return client.run(worker.run_due(client.async_client))


class DeliveryCheckpoints:
    """Adapter checkpoints stored with their delivery (see :mod:`govsocial.adapters.checkpoints`).

    A save is committed before it returns. A client call made through the workspace that is
    no delivery (a reply, say) has no row: its checkpoints stay in memory.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._memory = MemoryCheckpoints()

    def load(self, account_key: str, idempotency_key: str) -> dict[str, str]:
        return self.store.checkpoint(idempotency_key) or self._memory.load(
            account_key, idempotency_key
        )

    def save(self, account_key: str, idempotency_key: str, values: dict[str, str]) -> None:
        if not self.store.save_checkpoint(idempotency_key, values):
            self._memory.save(account_key, idempotency_key, values)
