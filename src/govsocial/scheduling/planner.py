"""Planning: turning a post and a time into a job with one delivery per account.

Everything is validated before anything is written, and a job, its deliveries and their
audit entries are written in one transaction: a bad request leaves nothing half-written.
A caller that must change something else in that same transaction (the draft a job is
made from) passes ``then``, run inside it after the job is written; if ``then`` raises,
nothing of the job stays.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from govsocial.core.errors import ConfigurationError, NotFound
from govsocial.core.models import Account, EventContext, Post, PostRef
from govsocial.core.timing import Recurrence, Slots, from_epoch, parse_when
from govsocial.scheduling.jobs import DELIVERY_STATES, Delivery, Job
from govsocial.store import AccountRow, DeliveryRow, JobRow
from govsocial.store.sql import Tx
from govsocial.workspace import audit
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of
from govsocial.workspace.signing import SigningKey, signed

__all__ = ["Planner", "Then", "new_delivery"]

#: Run inside the transaction that writes a job, given the transaction and the job's id.
Then = Callable[[Tx, str], None]


def new_delivery(
    core: WorkspaceCore, job_id: str, row: AccountRow, due: float, *, occurrence: int, now: float
) -> DeliveryRow:
    """A scheduled delivery of job ``job_id`` to the account of ``row`` at ``due``, with its
    idempotency key chosen now, once and for all."""
    key = core.plugins.platform(row.platform).new_idempotency_key()
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


class Planner:
    """Schedules, queues, cancels, reschedules and reads a workspace's jobs.

    :param core: the workspace core (or the :class:`govsocial.Workspace` carrying one).
    """

    def __init__(self, core: WorkspaceCore | HasCore) -> None:
        self.core = core_of(core)

    # -- planning ------------------------------------------------------------------------

    def schedule(
        self,
        post: Post,
        accounts: Sequence[str],
        at: str | datetime,
        recurrence: str | None = None,
        *,
        by: str | None = None,
    ) -> Job:
        """Plan ``post`` for ``accounts`` at ``at`` (``recurrence``: an RRULE), directly (no
        draft): on a governed account ``by`` must be an admin whose rule lets admins post
        without approval."""
        names = [row.name for row in self.core.account_rows(accounts)]
        authority = self.core.authority.direct_authority("schedule", names, by)
        return self.plan(post, names, at, recurrence, authority=authority, by=by, action="schedule")

    def plan(
        self,
        post: Post,
        accounts: Sequence[str],
        at: str | datetime,
        recurrence: str | None,
        *,
        authority: dict[str, Any],
        by: str | None,
        action: str,
        then: Then | None = None,
        note: dict[str, Any] | None = None,
    ) -> Job:
        """Write the job of ``post`` for ``accounts`` at ``at`` under ``authority`` (who, which
        draft, which decree per account); ``then`` runs inside the same transaction; ``note``
        is added to the audit entries' detail (a late draft's delay)."""
        rows = self.core.account_rows(accounts)
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
        self.core.validate(post, rows)
        text = next(iter(rules.values())).text if rules else None
        return self._insert(
            post,
            rows,
            starts,
            recurrence=text,
            authority=authority,
            by=by,
            action=action,
            then=then,
            note=note,
        )

    def enqueue(
        self,
        post: Post,
        accounts: Sequence[str],
        *,
        by: str | None = None,
        authority: dict[str, Any] | None = None,
        then: Then | None = None,
    ) -> Job:
        """Plan ``post`` for the next free posting slot of each account (its own time each).

        Without ``authority`` the post is planned directly (as :meth:`schedule` does).

        :raises ConfigurationError: an account has no posting slots.
        """
        rows = self.core.account_rows(accounts)
        names = [row.name for row in rows]
        if authority is None:
            authority = self.core.authority.direct_authority("enqueue", names, by)
        now = datetime.now(UTC)
        starts: dict[str, datetime] = {}
        for row in rows:
            if not row.slots:
                raise ConfigurationError(
                    f"account {row.name!r} has no posting slots",
                    field="slots",
                    hint="add_account(name, account, slots='Mon-Fri 08:00, 12:00, 16:00')",
                )
            taken = [from_epoch(t) for t in self.core.store.booked_slots(row.name)]
            starts[row.name] = Slots.parse(row.slots).next_free(now, zone=row.timezone, taken=taken)
        self.core.validate(post, rows)
        return self._insert(
            post,
            rows,
            starts,
            recurrence=None,
            authority=authority,
            by=by,
            action="enqueue",
            then=then,
        )

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
        then: Then | None,
        note: dict[str, Any] | None = None,
    ) -> Job:
        self.core.refuse_if_archived(action)
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
            new_delivery(
                self.core, job.id, row, starts[row.name].timestamp(), occurrence=0, now=now
            )
            for row in rows
        ]
        decrees: dict[str, str | None] = authority.get("accounts", {})
        store = self.core.store
        with store.transaction() as tx:  # the job, its audit entries and ``then``, together
            store.insert_job(job, deliveries)
            # one entry per account, chained in one batch (a broadcast plans 5,000)
            audit.append_many(
                store,
                tx,
                [
                    audit.Pending(
                        by,
                        action,
                        obj=job.id,
                        account=row.name,
                        decree=decrees.get(row.name),
                        detail={
                            "at": starts[row.name].isoformat(),
                            "draft": authority.get("draft"),
                            "recurrence": recurrence,
                            # the approved content the job carries, in the (signed) entry
                            **(
                                {"content": authority["content"]}
                                if authority.get("content")
                                else {}
                            ),
                            **(note or {}),
                        },
                    )
                    for row in rows
                ],
            )
            if then is not None:
                then(tx, job.id)
        return self.job(job.id)

    # -- changing ------------------------------------------------------------------------

    @signed
    def cancel(self, job_id: str, *, by: str | None = None, key: SigningKey | None = None) -> Job:
        """Cancel what has not started (and every later occurrence)."""
        job = self.job(job_id)
        accounts = sorted({d.account for d in job.deliveries})
        decrees = self.core.authority.authorize("cancel", by, accounts, obj=job_id)
        with self.core.store.transaction() as tx:
            self.core.store.cancel_job(job_id, time.time())
            audit.append_many(
                self.core.store,
                tx,
                [
                    audit.Pending(by, "cancel", obj=job_id, account=name, decree=decrees[name])
                    for name in accounts
                ],
            )
        return self.job(job_id)

    @signed
    def reschedule(
        self,
        job_id: str,
        at: str | datetime,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> Job:
        """Move what has not started to ``at``."""
        job = self.job(job_id)
        accounts = sorted({d.account for d in job.deliveries})
        decrees = self.core.authority.authorize("reschedule", by, accounts, obj=job_id)
        zone = (
            self.core.account_row(job.deliveries[0].account).timezone if job.deliveries else "UTC"
        )
        when = parse_when(at, zone=zone, now=datetime.now(UTC))
        with self.core.store.transaction() as tx:
            self.core.store.reschedule_job(job_id, when.timestamp(), time.time())
            # one entry per account, chained in one batch (a job for 5,000 accounts)
            audit.append_many(
                self.core.store,
                tx,
                [
                    audit.Pending(
                        by,
                        "reschedule",
                        obj=job_id,
                        account=name,
                        decree=decrees[name],
                        detail={"at": when.isoformat()},
                    )
                    for name in accounts
                ],
            )
        return self.job(job_id)

    @signed
    def delete_post(
        self,
        job_id: str,
        *,
        account: str | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
        **client_options: Any,
    ) -> list[PostRef]:
        """Delete a job's published posts on their platforms (one account's with ``account``);
        the workspace keeps them, marked deleted."""
        job = self.job(job_id)
        targets = [
            d
            for d in job.deliveries
            if d.status == "published" and d.ref is not None and d.account == (account or d.account)
        ]
        decrees = self.core.authority.authorize(
            "delete", by, sorted({d.account for d in targets}), obj=job_id
        )
        store = self.core.store
        deleted: list[PostRef] = []
        with self.core.using_client(**client_options) as client:
            for d in targets:
                assert d.ref is not None
                if store.deleted_at(d.id) is not None:
                    continue
                client.delete(
                    d.ref,
                    context=EventContext(
                        workspace=self.core.address, job_id=job_id, delivery_id=d.id, actor=by
                    ),
                )
                with store.transaction() as tx:
                    store.mark_deleted(tx, d.id, time.time())
                    self.core.record(
                        tx,
                        by,
                        "delete",
                        obj=d.id,
                        account=d.account,
                        decree=decrees[d.account],
                        detail={"job": job_id, "remote_id": d.ref.id},
                    )
                deleted.append(d.ref)
        return deleted

    # -- reading -------------------------------------------------------------------------

    def job(self, job_id: str) -> Job:
        """The job with ``job_id``.

        :raises NotFound: there is none (a ConfigurationError, as before).
        """
        row = self.core.store.job(job_id)
        if row is None:
            raise NotFound(f"no job {job_id!r} in this workspace", field="job_id")
        return self._job(row, self.core.store.deliveries(job_id))

    def jobs(self, status: str | None = None) -> list[Job]:
        """Every job, oldest first; only those whose status is ``status`` when given."""
        deliveries: dict[str, list[DeliveryRow]] = {}
        for delivery in self.core.store.deliveries():
            deliveries.setdefault(delivery.job_id, []).append(delivery)
        found = [self._job(row, deliveries.get(row.id, [])) for row in self.core.store.jobs()]
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
                accounts = self.core.accounts_lenient()
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
