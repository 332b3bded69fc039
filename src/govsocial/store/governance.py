"""The accountability tables: people, appointments, approval rules, drafts, approvals and
content requests. Each method takes the transaction it runs in (see :mod:`govsocial.store.sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govsocial.store.sql import Database, Tx

__all__ = ["GovernanceRows"]

_DRAFT_COLUMNS = (
    "id, post, accounts, author, publish_at, recurrence, status, reason, request_id, job_id, "
    "created_at, decided_at, content"
)


class GovernanceRows:
    """Reads and writes of the accountability tables (``store.governance``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- people --------------------------------------------------------------------------

    def put_person(
        self,
        tx: Tx,
        person_id: str,
        name: str,
        unit: str | None,
        at: float,
        public_key: str | None = None,
    ) -> None:
        """Record a person (with the public key they sign with, if any), replacing one with
        that id."""
        # in place: a person with appointments or approvals is referenced by them
        self.db.execute(
            tx,
            "INSERT INTO people (id, name, unit, created_at, public_key) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, unit = excluded.unit, "
            "public_key = excluded.public_key",
            (person_id, name, unit, at, public_key),
        )

    def people(self, tx: Tx) -> list[tuple[str, str, str | None, str | None]]:
        """Everyone: ``(id, name, unit, public_key)``, by id."""
        return [
            (r[0], r[1], r[2], r[3])
            for r in self.db.execute(
                tx, "SELECT id, name, unit, public_key FROM people ORDER BY id"
            ).fetchall()
        ]

    def setting(self, tx: Tx, key: str) -> str | None:
        """The workspace setting ``key`` read in ``tx`` (a broadcast's acceptance, checked at
        publication in the check's own snapshot)."""
        row = self.db.execute(
            tx, "SELECT value FROM govsocial_meta WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else str(row[0])

    def public_key(self, tx: Tx, person_id: str) -> str | None:
        """The public key ``person_id`` signs with (None: none registered, or no such person)."""
        row = self.db.execute(
            tx, "SELECT public_key FROM people WHERE id = ?", (person_id,)
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    # -- appointments and rules ------------------------------------------------------------

    def add_appointment(self, tx: Tx, row: Sequence[Any]) -> None:
        """``(id, person, account, role, decree, valid_from, valid_until, created_at)``."""
        self.db.execute(
            tx,
            "INSERT INTO appointments (id, person, account, role, decree, valid_from, "
            "valid_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )

    def appointments(
        self,
        tx: Tx,
        *,
        account: str | None = None,
        person: str | None = None,
        role: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """``(id, person, account, role, decree, valid_from, valid_until, revoked_at,
        revoked_by, revoke_reason)`` rows, filtered (a head's account is None)."""
        clauses, params = [], []
        for column, value in (("account", account), ("person", person), ("role", role)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                "SELECT id, person, account, role, decree, valid_from, valid_until, revoked_at, "
                f"revoked_by, revoke_reason FROM appointments{where} "
                "ORDER BY account, person, valid_from, created_at",
                params,
            ).fetchall()
        ]

    def revoke_appointment(
        self, tx: Tx, appointment_id: str, at: float, by: str | None, reason: str
    ) -> bool:
        """End the appointment now (False: it was revoked already)."""
        result = self.db.execute(
            tx,
            "UPDATE appointments SET revoked_at = ?, revoked_by = ?, revoke_reason = ? "
            "WHERE id = ? AND revoked_at IS NULL",
            (at, by, reason, appointment_id),
        )
        return int(result.rowcount) == 1

    def governed(self, tx: Tx, account: str) -> bool:
        """Whether ``account`` has any appointment."""
        row = self.db.execute(
            tx, "SELECT 1 FROM appointments WHERE account = ? LIMIT 1", (account,)
        ).fetchone()
        return row is not None

    def governed_among(self, tx: Tx, accounts: Sequence[str]) -> set[str]:
        """Which of ``accounts`` have any appointment (one query per 500 names)."""
        found: set[str] = set()
        for start in range(0, len(accounts), 500):
            chunk = accounts[start : start + 500]
            rows = self.db.execute(
                tx,
                "SELECT DISTINCT account FROM appointments "
                f"WHERE account IN ({', '.join('?' for _ in chunk)})",
                chunk,
            ).fetchall()
            found.update(str(r[0]) for r in rows)
        return found

    def governed_accounts(self, tx: Tx) -> set[str]:
        """Every account with an appointment."""
        rows = self.db.execute(
            tx, "SELECT DISTINCT account FROM appointments WHERE account IS NOT NULL"
        ).fetchall()
        return {str(r[0]) for r in rows}

    def put_approval_rule(
        self,
        tx: Tx,
        account: str,
        approvers: int,
        admin_needs_approval: bool,
        self_approval: bool,
        late_drafts_need_admin: bool = False,
    ) -> None:
        """Set ``account``'s approval rule, replacing the one it had."""
        self.db.execute(tx, "DELETE FROM approval_rules WHERE account = ?", (account,))
        self.db.execute(
            tx,
            "INSERT INTO approval_rules (account, approvers, admin_needs_approval, "
            "self_approval, late_drafts_need_admin) VALUES (?, ?, ?, ?, ?)",
            (
                account,
                approvers,
                int(admin_needs_approval),
                int(self_approval),
                int(late_drafts_need_admin),
            ),
        )

    def approval_rule(self, tx: Tx, account: str) -> tuple[int, bool, bool, bool] | None:
        """``(approvers, admin_needs_approval, self_approval, late_drafts_need_admin)``, or
        None when unset."""
        row = self.db.execute(
            tx,
            "SELECT approvers, admin_needs_approval, self_approval, late_drafts_need_admin "
            "FROM approval_rules WHERE account = ?",
            (account,),
        ).fetchone()
        if row is None:
            return None
        return (int(row[0]), bool(row[1]), bool(row[2]), bool(row[3]))

    # -- drafts and approvals --------------------------------------------------------------

    def add_draft(self, tx: Tx, row: Sequence[Any]) -> None:
        """``(id, post, accounts, author, publish_at, recurrence, request_id, created_at,
        content)``, pending; ``content`` is the pinned content's JSON."""
        self.db.execute(
            tx,
            "INSERT INTO drafts (id, post, accounts, author, publish_at, recurrence, status, "
            "request_id, created_at, content) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
            row,
        )

    def drafts(
        self, tx: Tx, *, draft_id: str | None = None, status: str | None = None
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Drafts (one, those with ``status``, or all), oldest first, and their approvals
        ``(draft_id, person, decree, at, content)`` in order."""
        where, params = "", tuple[str, ...]()
        if draft_id is not None:
            where, params = "WHERE id = ?", (draft_id,)
        elif status is not None:
            where, params = "WHERE status = ?", (status,)
        rows = self.db.execute(
            tx, f"SELECT {_DRAFT_COLUMNS} FROM drafts {where} ORDER BY created_at", params
        ).fetchall()
        approvals = self.db.execute(
            tx,
            "SELECT draft_id, person, decree, at, content FROM approvals "
            f"WHERE draft_id IN (SELECT id FROM drafts {where}) ORDER BY at",
            params,
        ).fetchall()
        return [tuple(r) for r in rows], [tuple(r) for r in approvals]

    def lock_draft(self, tx: Tx, draft_id: str) -> str | None:
        """The draft's status, read under a lock held until ``tx`` ends, so approvals and
        scheduling of one draft happen one after the other (None: no such draft). SQLite's
        write transactions are serialized already; PostgreSQL locks the row."""
        lock = " FOR UPDATE" if self.db.engine == "postgresql" else ""
        row = self.db.execute(
            tx, f"SELECT status FROM drafts WHERE id = ?{lock}", (draft_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def approvals_of(self, tx: Tx, draft_id: str) -> list[tuple[str, str, float]]:
        """The draft's approvals ``(person, decree, at)``, oldest first."""
        rows = self.db.execute(
            tx,
            "SELECT person, decree, at FROM approvals WHERE draft_id = ? ORDER BY at",
            (draft_id,),
        ).fetchall()
        return [(str(r[0]), str(r[1]), float(r[2])) for r in rows]

    def drafts_of_job(self, tx: Tx, job_id: str) -> list[tuple[Any, ...]]:
        """The drafts whose job is ``job_id`` (one, normally): ``(id, post, accounts, author,
        status)``."""
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                "SELECT id, post, accounts, author, status FROM drafts WHERE job_id = ?",
                (job_id,),
            ).fetchall()
        ]

    def add_approval(
        self,
        tx: Tx,
        draft_id: str,
        person: str,
        decree: str,
        at: float,
        content: str | None = None,
    ) -> None:
        """Record ``person``'s approval of the draft under ``decree``, of the content whose
        digest is ``content``."""
        self.db.execute(
            tx,
            "INSERT INTO approvals (draft_id, person, decree, at, content) VALUES (?, ?, ?, ?, ?)",
            (draft_id, person, decree, at, content),
        )

    def all_approvals(self, tx: Tx) -> list[tuple[str, str, str | None]]:
        """Every approval row: ``(draft_id, person, content)``."""
        return [
            (str(r[0]), str(r[1]), r[2])
            for r in self.db.execute(
                tx, "SELECT draft_id, person, content FROM approvals ORDER BY draft_id, person"
            ).fetchall()
        ]

    def mark_draft_approved(self, tx: Tx, draft_id: str, at: float) -> None:
        """The draft has its approvals."""
        self.db.execute(
            tx,
            "UPDATE drafts SET status = 'approved', decided_at = ? WHERE id = ?",
            (at, draft_id),
        )

    def mark_draft_rejected(self, tx: Tx, draft_id: str, reason: str, at: float) -> None:
        """An approver said no, saying why."""
        self.db.execute(
            tx,
            "UPDATE drafts SET status = 'rejected', reason = ?, decided_at = ? WHERE id = ?",
            (reason, at, draft_id),
        )

    def mark_draft_scheduled(self, tx: Tx, draft_id: str, job_id: str) -> bool:
        """Move an approved draft to ``scheduled`` with its job; False (nothing changed)
        when the draft is no longer ``approved``."""
        result = self.db.execute(
            tx,
            "UPDATE drafts SET status = 'scheduled', job_id = ? "
            "WHERE id = ? AND status = 'approved'",
            (job_id, draft_id),
        )
        return int(result.rowcount) == 1

    def link_draft_to_request(self, tx: Tx, draft_id: str, request_id: str) -> None:
        """The draft answers the content request."""
        self.db.execute(tx, "UPDATE drafts SET request_id = ? WHERE id = ?", (request_id, draft_id))

    # -- content requests ------------------------------------------------------------------

    def add_request(self, tx: Tx, row: Sequence[Any]) -> None:
        """``(id, from_unit, topic, details, attachments, due_at, requested_by, created_at)``,
        open."""
        self.db.execute(
            tx,
            "INSERT INTO content_requests (id, from_unit, topic, details, attachments, "
            "due_at, status, requested_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
            row,
        )

    def mark_request_drafted(self, tx: Tx, request_id: str, draft_id: str, at: float) -> None:
        """The request has a draft answering it."""
        self.db.execute(
            tx,
            "UPDATE content_requests SET draft_id = ?, fulfilled_at = ?, status = 'drafted' "
            "WHERE id = ?",
            (draft_id, at, request_id),
        )

    def requests(self, tx: Tx, request_id: str | None = None) -> list[tuple[Any, ...]]:
        """Content requests (one, or all), oldest first: ``(id, from_unit, topic, details,
        attachments, due_at, status, requested_by, draft_id, created_at, fulfilled_at,
        first published_at of the draft's job)``."""
        where, params = ("WHERE r.id = ?", (request_id,)) if request_id is not None else ("", ())
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                "SELECT r.id, r.from_unit, r.topic, r.details, r.attachments, r.due_at, "
                "r.status, r.requested_by, r.draft_id, r.created_at, r.fulfilled_at, "
                "(SELECT MIN(d.published_at) FROM drafts f JOIN deliveries d "
                "ON d.job_id = f.job_id WHERE f.id = r.draft_id AND d.status = 'published') "
                f"FROM content_requests r {where} ORDER BY r.created_at",
                params,
            ).fetchall()
        ]
