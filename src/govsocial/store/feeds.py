"""The feed tables: followed feeds with their HTTP validators, and the items seen of each.
Each method takes the transaction it runs in (see :mod:`govsocial.store.sql`).

An item is *seen* once per feed: :meth:`FeedRows.claim_item` inserts its row and says
whether it was new, in the transaction that also writes the item's draft, so a second sync
(after a restart, or running at the same moment) skips it, and a sync killed before its
commit leaves neither the draft nor the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govsocial.store.sql import Database, Tx

__all__ = ["FEED_COLUMNS", "FeedRows"]

#: The columns of a feed row, in the order :meth:`FeedRows.feeds` returns them.
FEED_COLUMNS = (
    "name, url, accounts, planner, language, source, etag, last_modified, checked_at, error, "
    "created_at, stopped_at"
)


class FeedRows:
    """Reads and writes of the feed tables (``store.feeds``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put_feed(self, tx: Tx, row: Sequence[Any]) -> bool:
        """A new feed ``(name, url, accounts, planner, language, created_at)``; False when a
        feed already has that name."""
        cursor = self.db.execute(
            tx,
            "INSERT INTO feeds (name, url, accounts, planner, language, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            tuple(row),
        )
        return bool(cursor.rowcount)

    def refollow(self, tx: Tx, row: Sequence[Any]) -> None:
        """Follow again a stopped feed, with new settings ``(url, accounts, planner,
        language, name)``; its seen items stay seen."""
        self.db.execute(
            tx,
            "UPDATE feeds SET url = ?, accounts = ?, planner = ?, language = ?, "
            "stopped_at = NULL, etag = NULL, last_modified = NULL WHERE name = ?",
            tuple(row),
        )

    def stop(self, tx: Tx, name: str, at: float) -> bool:
        """Stop following ``name``; False when there is no such feed followed."""
        cursor = self.db.execute(
            tx,
            "UPDATE feeds SET stopped_at = ? WHERE name = ? AND stopped_at IS NULL",
            (at, name),
        )
        return bool(cursor.rowcount)

    def feeds(self, tx: Tx, name: str | None = None) -> list[tuple[Any, ...]]:
        """Feed rows (:data:`FEED_COLUMNS`), by name; only ``name`` when given."""
        where, params = ("WHERE name = ?", (name,)) if name is not None else ("", ())
        return [
            tuple(r)
            for r in self.db.execute(
                tx, f"SELECT {FEED_COLUMNS} FROM feeds {where} ORDER BY name", params
            ).fetchall()
        ]

    def checked(
        self,
        tx: Tx,
        name: str,
        at: float,
        *,
        etag: str | None,
        last_modified: str | None,
        source: str | None,
        error: str | None,
        validators: bool,
    ) -> None:
        """Record a poll of ``name``: when, what went wrong (None: nothing), the feed's title,
        and (with ``validators``) the ETag and Last-Modified to send next time."""
        if validators:
            self.db.execute(
                tx,
                "UPDATE feeds SET checked_at = ?, error = ?, etag = ?, last_modified = ?, "
                "source = COALESCE(?, source) WHERE name = ?",
                (at, error, etag, last_modified, source, name),
            )
        else:
            self.db.execute(
                tx,
                "UPDATE feeds SET checked_at = ?, error = ?, source = COALESCE(?, source) "
                "WHERE name = ?",
                (at, error, source, name),
            )

    def claim_item(
        self,
        tx: Tx,
        feed: str,
        item_key: str,
        title: str,
        link: str | None,
        at: float,
    ) -> bool:
        """Mark the item seen; True when it was new (this transaction makes its draft),
        False when another sync saw it first (it waits for that one to commit)."""
        cursor = self.db.execute(
            tx,
            "INSERT INTO feed_items (feed, item_key, title, link, seen_at) VALUES "
            "(?, ?, ?, ?, ?) ON CONFLICT (feed, item_key) DO NOTHING",
            (feed, item_key, title, link, at),
        )
        return bool(cursor.rowcount)

    def item_done(
        self, tx: Tx, feed: str, item_key: str, draft_id: str | None, error: str | None
    ) -> None:
        """The seen item's draft (or why none could be made)."""
        self.db.execute(
            tx,
            "UPDATE feed_items SET draft_id = ?, error = ? WHERE feed = ? AND item_key = ?",
            (draft_id, error, feed, item_key),
        )

    def seen(self, tx: Tx, feed: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` the feed has seen."""
        found: set[str] = set()
        chunk = 500
        for start in range(0, len(keys), chunk):
            part = list(keys[start : start + chunk])
            marks = ", ".join("?" for _ in part)
            rows = self.db.execute(
                tx,
                f"SELECT item_key FROM feed_items WHERE feed = ? AND item_key IN ({marks})",
                (feed, *part),
            ).fetchall()
            found |= {str(r[0]) for r in rows}
        return found

    def items(self, tx: Tx, feed: str) -> list[tuple[Any, ...]]:
        """The feed's seen items, oldest first: ``(item_key, draft_id, title, link, error,
        seen_at)``."""
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                "SELECT item_key, draft_id, title, link, error, seen_at FROM feed_items "
                "WHERE feed = ? ORDER BY seen_at, item_key",
                (feed,),
            ).fetchall()
        ]
