"""The inbox tables: items (replies and mentions), per-account cursors and service hours.
Each method takes the transaction it runs in (see :mod:`govsocial.store.sql`).

Erasing an item (:meth:`InboxRows.erase`) empties every column that holds what a citizen
wrote or who they are (text, author, author name, URL, the platform's reference data, the
id it answers, the author's own date, the link to the agency's answer) and replaces its
remote id with a keyed pseudonym; what service statistics need stays (account, kind, when
it was received, answered and closed, by whom on the agency's side).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govsocial.store.sql import Database, Tx

__all__ = ["ERASED_REASON", "ITEM_COLUMNS", "RETENTION_KEY", "InboxRows"]

#: The columns of an item row, in the order :meth:`InboxRows.items` returns them.
ITEM_COLUMNS = (
    "id, account, remote_id, kind, url, ref_extra, author, author_name, text, received_at, "
    "in_reply_to_id, delivery_id, status, assigned_to, responded_at, responder, response_id, "
    "response_url, closed_at, closed_by, close_reason, claimed_at, clock_skew, erased_at, "
    "intent, sentiment, confidence, classifier, language, reasons, notified_at, ticket, "
    "ticket_target, escalated_at"
)
#: The columns written when an item is stored (the others start empty).
_NEW_ITEM_COLUMNS = (
    "id, account, remote_id, kind, url, ref_extra, author, author_name, text, received_at, "
    "in_reply_to_id, delivery_id, status, claimed_at, clock_skew, synced_at"
)
_FILTERS = ("status", "account", "assigned_to", "intent", "sentiment")
#: Orders of :meth:`InboxRows.items`: the queue puts emergencies first.
_ORDERS = {
    "queue": "CASE WHEN intent = 'emergency' THEN 0 ELSE 1 END, received_at, id",
    "received": "received_at, id",
}
_LABEL_COLUMNS = (
    "id, item_id, intent, sentiment, previous_intent, previous_sentiment, "
    "previous_classifier, labelled_by, labelled_at"
)

#: The workspace setting holding the inbox retention, in days (unset: kept).
RETENTION_KEY = "inbox_retention_days"

#: The close reason of an item that was still open when its content was erased.
ERASED_REASON = "erased"


class InboxRows:
    """Reads and writes of the inbox tables (``store.inbox``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- service hours ---------------------------------------------------------------------

    def put_service_hours(self, tx: Tx, account: str, spec: str, target_seconds: float) -> None:
        """Set ``account``'s service hours (``spec``, JSON) and response target."""
        self.db.execute(tx, "DELETE FROM service_hours WHERE account = ?", (account,))
        self.db.execute(
            tx,
            "INSERT INTO service_hours (account, spec, target_seconds) VALUES (?, ?, ?)",
            (account, spec, target_seconds),
        )

    def service_hours(self, tx: Tx, account: str) -> tuple[str, float] | None:
        """``(spec, target_seconds)`` of ``account``, or None when unset."""
        row = self.db.execute(
            tx, "SELECT spec, target_seconds FROM service_hours WHERE account = ?", (account,)
        ).fetchone()
        return None if row is None else (str(row[0]), float(row[1]))

    # -- syncing ---------------------------------------------------------------------------

    def recent_posts(self, tx: Tx, account: str, since: float) -> list[tuple[Any, ...]]:
        """The account's posts published since ``since`` and not deleted: ``(delivery_id,
        remote_id, remote_url, remote_extra)``."""
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                "SELECT id, remote_id, remote_url, remote_extra FROM deliveries "
                "WHERE account = ? AND status = 'published' AND published_at >= ? "
                "AND deleted_at IS NULL",
                (account, since),
            ).fetchall()
        ]

    def own_posts(self, tx: Tx, account: str) -> dict[str, str]:
        """The account's published posts: delivery id by platform id."""
        rows = self.db.execute(
            tx,
            "SELECT remote_id, id FROM deliveries WHERE account = ? AND remote_id IS NOT NULL",
            (account,),
        ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def own_answers(self, tx: Tx, account: str) -> set[str]:
        """The platform ids of the account's answers to its items."""
        rows = self.db.execute(
            tx,
            "SELECT response_id FROM inbox_items WHERE account = ? AND response_id IS NOT NULL",
            (account,),
        ).fetchall()
        return {str(r[0]) for r in rows}

    def add_item(
        self,
        tx: Tx,
        row: Sequence[Any],
        synced_at: float,
        *,
        claimed_at: float | None = None,
        clock_skew: bool = False,
    ) -> bool:
        """An open item ``(id, account, remote_id, kind, url, ref_extra, author, author_name,
        text, received_at, in_reply_to_id, delivery_id)``, with the date its author wrote
        (``claimed_at``) and whether that date is implausible (``clock_skew``); False when the
        account already has that platform id."""
        cursor = self.db.execute(
            tx,
            f"INSERT INTO inbox_items ({_NEW_ITEM_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) "
            "ON CONFLICT (account, remote_id) DO NOTHING",
            (*row, claimed_at, int(clock_skew), synced_at),
        )
        return bool(cursor.rowcount)

    def erased_among(self, tx: Tx, account: str, pseudonyms: Sequence[str]) -> set[str]:
        """Which of ``pseudonyms`` (of remote ids) name ``account``'s erased items or the
        answers to them: a sync must not bring those back."""
        found: set[str] = set()
        chunk = 500  # well under every engine's limit of parameters
        for start in range(0, len(pseudonyms), chunk):
            part = list(pseudonyms[start : start + chunk])
            marks = ", ".join("?" for _ in part)
            rows = self.db.execute(
                tx,
                "SELECT remote_id, response_id FROM inbox_items WHERE account = ? AND "
                f"erased_at IS NOT NULL AND (remote_id IN ({marks}) OR response_id IN ({marks}))",
                (account, *part, *part),
            ).fetchall()
            found |= {str(value) for row in rows for value in row if value is not None}
        return found

    def threads_of(self, tx: Tx, account: str, remote_ids: Sequence[str]) -> dict[str, str]:
        """The delivery each of ``remote_ids`` (``account``'s items) is a reply to, for those
        threaded to one."""
        found: dict[str, str] = {}
        chunk = 500  # well under every engine's limit of parameters
        for start in range(0, len(remote_ids), chunk):
            part = list(remote_ids[start : start + chunk])
            marks = ", ".join("?" for _ in part)
            rows = self.db.execute(
                tx,
                "SELECT remote_id, delivery_id FROM inbox_items WHERE account = ? AND "
                f"delivery_id IS NOT NULL AND remote_id IN ({marks})",
                (account, *part),
            ).fetchall()
            found |= {str(row[0]): str(row[1]) for row in rows}
        return found

    def thread_reply(self, tx: Tx, account: str, remote_id: str, delivery_id: str) -> None:
        """An item first seen as a mention is a reply to ``delivery_id``."""
        self.db.execute(
            tx,
            "UPDATE inbox_items SET kind = 'reply', delivery_id = ? "
            "WHERE account = ? AND remote_id = ? AND delivery_id IS NULL",
            (delivery_id, account, remote_id),
        )

    def cursor(self, tx: Tx, account: str, kind: str) -> str | None:
        """Where the last sync of ``kind`` for ``account`` stopped."""
        row = self.db.execute(
            tx,
            "SELECT value FROM inbox_cursors WHERE account = ? AND kind = ?",
            (account, kind),
        ).fetchone()
        return None if row is None else str(row[0])

    def put_cursor(self, tx: Tx, account: str, kind: str, value: str, at: float) -> None:
        """Remember where the sync of ``kind`` for ``account`` stopped."""
        self.db.execute(
            tx, "DELETE FROM inbox_cursors WHERE account = ? AND kind = ?", (account, kind)
        )
        self.db.execute(
            tx,
            "INSERT INTO inbox_cursors (account, kind, value, updated_at) VALUES (?, ?, ?, ?)",
            (account, kind, value, at),
        )

    # -- reading and acting ----------------------------------------------------------------

    def items(
        self,
        tx: Tx,
        *,
        item_id: str | None = None,
        equal: dict[str, str] | None = None,
        received_before: float | None = None,
        received_from: float | None = None,
        order: str = "received",
    ) -> list[tuple[Any, ...]]:
        """Item rows (:data:`ITEM_COLUMNS`): one by id, or those whose ``status``,
        ``account``, ``assigned_to``, ``intent`` and ``sentiment`` equal ``equal``'s,
        received in ``[received_from, received_before)``; oldest first (``order="received"``)
        or emergencies first, then oldest (``order="queue"``)."""
        clauses: list[str] = []
        params: list[Any] = []
        if item_id is not None:
            clauses.append("id = ?")
            params.append(item_id)
        for column, value in (equal or {}).items():
            if column not in _FILTERS:
                raise ValueError(f"inbox items are not filtered by {column!r}")
            clauses.append(f"{column} = ?")
            params.append(value)
        if received_from is not None:
            clauses.append("received_at >= ?")
            params.append(received_from)
        if received_before is not None:
            clauses.append("received_at < ?")
            params.append(received_before)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        ordering = _ORDERS[order]
        return [
            tuple(r)
            for r in self.db.execute(
                tx, f"SELECT {ITEM_COLUMNS} FROM inbox_items {where} ORDER BY {ordering}", params
            ).fetchall()
        ]

    # -- classification --------------------------------------------------------------------

    def unclassified(self, tx: Tx, limit: int = 500) -> list[tuple[str, str]]:
        """Items not classified yet, oldest first: ``(id, text)``."""
        rows = self.db.execute(
            tx,
            "SELECT id, text FROM inbox_items WHERE intent IS NULL ORDER BY received_at, id "
            "LIMIT ?",
            (limit,),
        ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def classify(
        self,
        tx: Tx,
        item_id: str,
        intent: str,
        sentiment: str,
        confidence: float,
        classifier: str,
        language: str | None,
        reasons: str,
        *,
        only_unclassified: bool = False,
    ) -> bool:
        """Set the item's classification; ``reasons`` is JSON (it may quote the message).
        With ``only_unclassified``, an item already classified (a person re-labelled it
        meanwhile) is left alone. Whether the item changed."""
        cursor = self.db.execute(
            tx,
            "UPDATE inbox_items SET intent = ?, sentiment = ?, confidence = ?, classifier = ?, "
            "language = ?, reasons = ? WHERE id = ?"
            + (" AND intent IS NULL" if only_unclassified else ""),
            (intent, sentiment, confidence, classifier, language, reasons, item_id),
        )
        return bool(cursor.rowcount)

    def unnotified_emergencies(self, tx: Tx) -> list[str]:
        """Emergency items whose notice has not gone out, oldest first: their ids."""
        rows = self.db.execute(
            tx,
            "SELECT id FROM inbox_items WHERE intent = 'emergency' AND notified_at IS NULL "
            "ORDER BY received_at, id",
        ).fetchall()
        return [str(r[0]) for r in rows]

    def notified(self, tx: Tx, item_id: str, at: float) -> None:
        """The item's notice went out at ``at``."""
        self.db.execute(tx, "UPDATE inbox_items SET notified_at = ? WHERE id = ?", (at, item_id))

    def add_label(self, tx: Tx, row: Sequence[Any]) -> None:
        """A person's label ``(id, item_id, intent, sentiment, previous_intent,
        previous_sentiment, previous_classifier, labelled_by, labelled_at)``."""
        self.db.execute(
            tx,
            f"INSERT INTO inbox_labels ({_LABEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tuple(row),
        )

    def labels(self, tx: Tx) -> list[tuple[Any, ...]]:
        """Every item's latest label with the item's text and language, oldest label
        first (an item whose text was erased is left out): ``(item_id, account, text,
        language, intent, sentiment, previous_intent, previous_sentiment,
        previous_classifier, labelled_by, labelled_at)``."""
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                "SELECT i.id, i.account, i.text, i.language, l.intent, l.sentiment, "
                "l.previous_intent, l.previous_sentiment, l.previous_classifier, "
                "l.labelled_by, l.labelled_at FROM inbox_labels l "
                "JOIN inbox_items i ON i.id = l.item_id "
                "WHERE i.text <> '' AND NOT EXISTS (SELECT 1 FROM inbox_labels later WHERE "
                "later.item_id = l.item_id AND (later.labelled_at > l.labelled_at OR "
                "(later.labelled_at = l.labelled_at AND later.id > l.id))) "
                "ORDER BY l.labelled_at, l.id",
            ).fetchall()
        ]

    # -- escalation ------------------------------------------------------------------------

    def start_escalation(
        self, tx: Tx, item_id: str, target: str, escalation_id: str, by: str | None, at: float
    ) -> tuple[bool, str, str, str | None, str | None]:
        """The escalation of ``item_id`` to ``target``: a new one (``sending``) unless one
        exists. ``(new, escalation_id, status, reference, url)`` of the row as it stands."""
        cursor = self.db.execute(
            tx,
            "INSERT INTO inbox_escalations (item_id, target, escalation_id, status, "
            "escalated_by, started_at) VALUES (?, ?, ?, 'sending', ?, ?) "
            "ON CONFLICT (item_id, target) DO NOTHING",
            (item_id, target, escalation_id, by, at),
        )
        new = bool(cursor.rowcount)
        row = self.db.execute(
            tx,
            "SELECT escalation_id, status, reference, url FROM inbox_escalations "
            "WHERE item_id = ? AND target = ?",
            (item_id, target),
        ).fetchone()
        return (new, str(row[0]), str(row[1]), row[2], row[3])

    def retry_escalation(
        self, tx: Tx, item_id: str, target: str, by: str | None, at: float
    ) -> None:
        """Send a failed or interrupted escalation again (the same escalation id)."""
        self.db.execute(
            tx,
            "UPDATE inbox_escalations SET status = 'sending', escalated_by = ?, started_at = ?, "
            "error = NULL WHERE item_id = ? AND target = ? AND status <> 'sent'",
            (by, at, item_id, target),
        )

    def escalated(
        self, tx: Tx, item_id: str, target: str, reference: str, url: str | None, at: float
    ) -> None:
        """The target opened ticket ``reference``: on the escalation and on the item."""
        self.db.execute(
            tx,
            "UPDATE inbox_escalations SET status = 'sent', reference = ?, url = ?, sent_at = ? "
            "WHERE item_id = ? AND target = ?",
            (reference, url, at, item_id, target),
        )
        self.db.execute(
            tx,
            "UPDATE inbox_items SET ticket = ?, ticket_target = ?, escalated_at = ? WHERE id = ?",
            (reference, target, at, item_id),
        )

    def escalation_failed(self, tx: Tx, item_id: str, target: str, error: str) -> None:
        """The target did not take the escalation (it may be tried again)."""
        self.db.execute(
            tx,
            "UPDATE inbox_escalations SET status = 'failed', error = ? "
            "WHERE item_id = ? AND target = ? AND status = 'sending'",
            (error, item_id, target),
        )

    def escalations(self, tx: Tx, item_id: str) -> list[tuple[Any, ...]]:
        """The item's escalations, oldest first: ``(target, escalation_id, status, reference,
        url, escalated_by, started_at, sent_at, error)``."""
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                "SELECT target, escalation_id, status, reference, url, escalated_by, started_at, "
                "sent_at, error FROM inbox_escalations WHERE item_id = ? ORDER BY started_at",
                (item_id,),
            ).fetchall()
        ]

    # -- erasure ---------------------------------------------------------------------------

    def unerased(
        self,
        tx: Tx,
        *,
        accounts: Sequence[str] | None = None,
        received_before: float | None = None,
    ) -> list[tuple[str, str, str, str, str | None, str]]:
        """Items whose content is still kept: ``(id, account, remote_id, author,
        response_id, status)``, of ``accounts`` (all when None), received before
        ``received_before``."""
        clauses = ["erased_at IS NULL"]
        params: list[Any] = []
        if accounts is not None:
            if not accounts:
                return []
            clauses.append(f"account IN ({', '.join('?' for _ in accounts)})")
            params += list(accounts)
        if received_before is not None:
            clauses.append("received_at < ?")
            params.append(received_before)
        rows = self.db.execute(
            tx,
            "SELECT id, account, remote_id, author, response_id, status FROM inbox_items "
            f"WHERE {' AND '.join(clauses)} ORDER BY received_at",
            params,
        ).fetchall()
        return [
            (
                str(r[0]),
                str(r[1]),
                str(r[2]),
                str(r[3]),
                None if r[4] is None else str(r[4]),
                str(r[5]),
            )
            for r in rows
        ]

    def erase(
        self,
        tx: Tx,
        item_id: str,
        *,
        remote_id: str,
        response_id: str | None,
        at: float,
        by: str | None,
    ) -> bool:
        """Erase the citizen's content of one item (see the module's docstring); its remote
        id and answer id become the pseudonyms given. An open item is closed as
        :data:`ERASED_REASON` (it can no longer be answered). False when it was erased
        already."""
        cursor = self.db.execute(
            tx,
            "UPDATE inbox_items SET remote_id = ?, url = NULL, ref_extra = '{}', author = '', "
            "author_name = NULL, text = '', in_reply_to_id = NULL, claimed_at = NULL, "
            "reasons = NULL, response_id = ?, response_url = NULL, erased_at = ?, "
            "status = CASE WHEN status = 'open' THEN 'closed' ELSE status END, "
            "closed_at = CASE WHEN status = 'open' THEN ? ELSE closed_at END, "
            "closed_by = CASE WHEN status = 'open' THEN ? ELSE closed_by END, "
            "close_reason = CASE WHEN status = 'open' THEN ? ELSE close_reason END "
            "WHERE id = ? AND erased_at IS NULL",
            (remote_id, response_id, at, at, by, ERASED_REASON, item_id),
        )
        return bool(cursor.rowcount)

    def retention(self, tx: Tx) -> int | None:
        """The inbox retention in days (None: content is kept)."""
        row = self.db.execute(
            tx, "SELECT value FROM govsocial_meta WHERE key = ?", (RETENTION_KEY,)
        ).fetchone()
        return int(row[0]) if row is not None and row[0] else None

    def put_retention(self, tx: Tx, days: int | None) -> None:
        """Set the inbox retention in days (None: keep content)."""
        self.db.execute(tx, "DELETE FROM govsocial_meta WHERE key = ?", (RETENTION_KEY,))
        if days is not None:
            self.db.execute(
                tx,
                "INSERT INTO govsocial_meta (key, value) VALUES (?, ?)",
                (RETENTION_KEY, str(days)),
            )

    def pseudonym_key(self, tx: Tx, fresh: str) -> str:
        """The workspace's key for pseudonyms, made from ``fresh`` the first time (two
        processes doing so at once agree on the first one stored)."""
        self.db.execute(
            tx,
            "INSERT INTO govsocial_meta (key, value) VALUES ('inbox_pseudonym_key', ?) "
            "ON CONFLICT (key) DO NOTHING",
            (fresh,),
        )
        row = self.db.execute(
            tx, "SELECT value FROM govsocial_meta WHERE key = 'inbox_pseudonym_key'"
        ).fetchone()
        return str(row[0])

    def assign(self, tx: Tx, item_id: str, to: str) -> None:
        """Give the item to ``to``."""
        self.db.execute(tx, "UPDATE inbox_items SET assigned_to = ? WHERE id = ?", (to, item_id))

    def close(self, tx: Tx, item_id: str, by: str | None, reason: str, at: float) -> None:
        """Close the item."""
        self.db.execute(
            tx,
            "UPDATE inbox_items SET status = 'closed', closed_at = ?, closed_by = ?, "
            "close_reason = ? WHERE id = ?",
            (at, by, reason, item_id),
        )

    def answered(
        self, tx: Tx, item_id: str, at: float, by: str | None, response_id: str, url: str | None
    ) -> None:
        """The item's first answer (a closed item stays closed)."""
        self.db.execute(
            tx,
            "UPDATE inbox_items SET status = CASE WHEN status = 'closed' THEN status "
            "ELSE 'answered' END, responded_at = ?, responder = ?, response_id = ?, "
            "response_url = ? WHERE id = ?",
            (at, by, response_id, url, item_id),
        )
