"""The watch tables: watched topics, where each account's search stopped, the posts found
and the hours flagged as spikes. Each method takes the transaction it runs in (see
:mod:`govsocial.store.sql`).

A found post is stored once per (watch, platform, post id): the insert does nothing when
the row is there, so two syncs running at once, or a sync repeated after a crash, cannot
store it twice (the database's unique constraint decides, not the code).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govsocial.store.sql import Database, Tx

__all__ = ["POST_COLUMNS", "WATCH_COLUMNS", "WatchRows"]

#: The columns of a watch row, in the order :meth:`WatchRows.watches` returns them.
WATCH_COLUMNS = "name, query, accounts, spike_min, spike_sd, created_by, created_at, stopped_at"
#: The columns of a found post's row, in the order :meth:`WatchRows.posts` returns them.
POST_COLUMNS = (
    "id, watch, platform, remote_id, account, url, author, author_name, text, claimed_at, "
    "received_at, found_at, intent, sentiment, confidence, classifier, language, reasons, "
    "erased_at"
)
_NEW_POST_COLUMNS = (
    "id, watch, platform, remote_id, account, url, author, author_name, text, claimed_at, "
    "received_at, found_at"
)
_SPIKE_COLUMNS = (
    "watch, hour_start, posts, baseline_mean, baseline_sd, threshold, flagged_at, notified_at"
)


class WatchRows:
    """Reads and writes of the watch tables (``store.watches``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- watches ---------------------------------------------------------------------------

    def add(self, tx: Tx, row: Sequence[Any]) -> bool:
        """A new watch ``(name, query, accounts, spike_min, spike_sd, created_by,
        created_at)``; False when a watch of that name exists."""
        cursor = self.db.execute(
            tx,
            "INSERT INTO watches (name, query, accounts, spike_min, spike_sd, created_by, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            tuple(row),
        )
        return bool(cursor.rowcount)

    def stop(self, tx: Tx, name: str, at: float) -> bool:
        """Stop the watch (its posts stay); False when it was stopped already."""
        cursor = self.db.execute(
            tx,
            "UPDATE watches SET stopped_at = ? WHERE name = ? AND stopped_at IS NULL",
            (at, name),
        )
        return bool(cursor.rowcount)

    def watches(self, tx: Tx, name: str | None = None) -> list[tuple[Any, ...]]:
        """Watch rows (:data:`WATCH_COLUMNS`), by name; one when ``name`` is given."""
        where, params = ("WHERE name = ?", (name,)) if name is not None else ("", ())
        return [
            tuple(r)
            for r in self.db.execute(
                tx, f"SELECT {WATCH_COLUMNS} FROM watches {where} ORDER BY name", params
            ).fetchall()
        ]

    # -- cursors ---------------------------------------------------------------------------

    def cursor(self, tx: Tx, watch: str, account: str) -> tuple[str | None, float | None] | None:
        """``(cursor, covered_from)`` of the account's search for the watch; None before
        the first search."""
        row = self.db.execute(
            tx,
            "SELECT cursor, covered_from FROM watch_cursors WHERE watch = ? AND account = ?",
            (watch, account),
        ).fetchone()
        if row is None:
            return None
        return (None if row[0] is None else str(row[0]), None if row[1] is None else float(row[1]))

    def put_cursor(
        self,
        tx: Tx,
        watch: str,
        account: str,
        cursor: str | None,
        covered_from: float | None,
        at: float,
    ) -> None:
        """Remember where the account's search for the watch stopped (a None ``cursor``
        keeps the one stored) and since when its posts are all known."""
        self.db.execute(
            tx,
            "INSERT INTO watch_cursors (watch, account, cursor, covered_from, synced_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (watch, account) DO UPDATE SET "
            "cursor = COALESCE(excluded.cursor, watch_cursors.cursor), "
            "covered_from = COALESCE(watch_cursors.covered_from, excluded.covered_from), "
            "synced_at = excluded.synced_at",
            (watch, account, cursor, covered_from, at),
        )

    def covered_from(self, tx: Tx, watch: str) -> float | None:
        """Since when every account of the watch has all its posts (the latest of their
        starts); None before any search."""
        row = self.db.execute(
            tx, "SELECT MAX(covered_from) FROM watch_cursors WHERE watch = ?", (watch,)
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    # -- found posts -----------------------------------------------------------------------

    def add_post(self, tx: Tx, row: Sequence[Any]) -> bool:
        """A found post ``(id, watch, platform, remote_id, account, url, author,
        author_name, text, claimed_at, received_at, found_at)``; False when the watch has it
        (same platform and post id)."""
        cursor = self.db.execute(
            tx,
            f"INSERT INTO watched_posts ({_NEW_POST_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (watch, platform, remote_id) DO NOTHING",
            tuple(row),
        )
        return bool(cursor.rowcount)

    def erased_among(
        self, tx: Tx, watch: str, platform: str, pseudonyms: Sequence[str]
    ) -> set[str]:
        """Which of ``pseudonyms`` (of post ids) name the watch's erased posts on
        ``platform``: a sync must not bring those back."""
        found: set[str] = set()
        for start in range(0, len(pseudonyms), 500):
            part = list(pseudonyms[start : start + 500])
            marks = ", ".join("?" for _ in part)
            rows = self.db.execute(
                tx,
                "SELECT remote_id FROM watched_posts WHERE watch = ? AND platform = ? AND "
                f"erased_at IS NOT NULL AND remote_id IN ({marks})",
                (watch, platform, *part),
            ).fetchall()
            found |= {str(r[0]) for r in rows}
        return found

    def unerased(
        self, tx: Tx, *, received_before: float | None = None
    ) -> list[tuple[str, str, str, str, str, str]]:
        """Found posts whose content is kept: ``(id, watch, platform, remote_id, account,
        author)``, received before ``received_before`` when given."""
        clauses, params = ["erased_at IS NULL"], []
        if received_before is not None:
            clauses.append("received_at < ?")
            params.append(received_before)
        rows = self.db.execute(
            tx,
            "SELECT id, watch, platform, remote_id, account, author FROM watched_posts "
            f"WHERE {' AND '.join(clauses)} ORDER BY received_at",
            params,
        ).fetchall()
        return [tuple(str(v) for v in r) for r in rows]  # type: ignore[misc]

    def erase(self, tx: Tx, post_id: str, *, remote_id: str, at: float) -> bool:
        """Erase a found post's content (text, author, name, URL, the author's date, the
        reasons that may quote it); its post id becomes the pseudonym given. The
        classification and times stay (they count in the opinion frame). False when it was
        erased already."""
        cursor = self.db.execute(
            tx,
            "UPDATE watched_posts SET remote_id = ?, url = NULL, author = '', "
            "author_name = NULL, text = '', claimed_at = NULL, reasons = NULL, erased_at = ? "
            "WHERE id = ? AND erased_at IS NULL",
            (remote_id, at, post_id),
        )
        return bool(cursor.rowcount)

    def posts(
        self,
        tx: Tx,
        *,
        watch: str | None = None,
        post_id: str | None = None,
        received_from: float | None = None,
        received_before: float | None = None,
        intent: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """Found post rows (:data:`POST_COLUMNS`), oldest first, filtered as given."""
        clauses: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("watch = ?", watch),
            ("id = ?", post_id),
            ("received_at >= ?", received_from),
            ("received_at < ?", received_before),
            ("intent = ?", intent),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                f"SELECT {POST_COLUMNS} FROM watched_posts {where} ORDER BY received_at, id",
                params,
            ).fetchall()
        ]

    def unchecked_hours(
        self, tx: Tx, watch: str, overlap: float
    ) -> tuple[list[float], float | None]:
        """The ``received_at`` of the watch's posts found after its spikes were last checked
        less ``overlap`` seconds (a sync running at the same time may commit posts it found
        a little earlier), and the latest ``found_at`` among them (None: nothing new)."""
        rows = self.db.execute(
            tx,
            "SELECT p.received_at, p.found_at FROM watched_posts p JOIN watches w "
            "ON w.name = p.watch WHERE p.watch = ? AND (w.spikes_checked IS NULL OR "
            "p.found_at > w.spikes_checked - ?)",
            (watch, overlap),
        ).fetchall()
        if not rows:
            return [], None
        return [float(r[0]) for r in rows], max(float(r[1]) for r in rows)

    def spikes_checked(self, tx: Tx, watch: str, upto: float) -> None:
        """The watch's spikes were checked for every post found up to ``upto``."""
        self.db.execute(
            tx,
            "UPDATE watches SET spikes_checked = ? WHERE name = ? AND "
            "(spikes_checked IS NULL OR spikes_checked < ?)",
            (upto, watch, upto),
        )

    def hourly(self, tx: Tx, watch: str, start: float, end: float) -> list[float]:
        """The ``received_at`` of the watch's posts in ``[start, end)``."""
        rows = self.db.execute(
            tx,
            "SELECT received_at FROM watched_posts WHERE watch = ? AND received_at >= ? "
            "AND received_at < ?",
            (watch, start, end),
        ).fetchall()
        return [float(r[0]) for r in rows]

    def unclassified(self, tx: Tx, limit: int = 500) -> list[tuple[str, str]]:
        """Found posts not classified yet, oldest first: ``(id, text)``."""
        rows = self.db.execute(
            tx,
            "SELECT id, text FROM watched_posts WHERE intent IS NULL ORDER BY received_at, id "
            "LIMIT ?",
            (limit,),
        ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def classify(
        self,
        tx: Tx,
        post_id: str,
        intent: str,
        sentiment: str,
        confidence: float,
        classifier: str,
        language: str | None,
        reasons: str,
    ) -> bool:
        """Set a found post's classification, when it has none yet; whether it changed."""
        cursor = self.db.execute(
            tx,
            "UPDATE watched_posts SET intent = ?, sentiment = ?, confidence = ?, "
            "classifier = ?, language = ?, reasons = ? WHERE id = ? AND intent IS NULL",
            (intent, sentiment, confidence, classifier, language, reasons, post_id),
        )
        return bool(cursor.rowcount)

    # -- spikes ------------------------------------------------------------------------------

    def add_spike(self, tx: Tx, row: Sequence[Any]) -> bool:
        """Flag an hour ``(watch, hour_start, posts, baseline_mean, baseline_sd, threshold,
        flagged_at)``; False when that hour was flagged already."""
        cursor = self.db.execute(
            tx,
            "INSERT INTO watch_spikes (watch, hour_start, posts, baseline_mean, baseline_sd, "
            "threshold, flagged_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (watch, hour_start) DO NOTHING",
            tuple(row),
        )
        return bool(cursor.rowcount)

    def spikes(
        self, tx: Tx, watch: str | None = None, *, unnotified: bool = False
    ) -> list[tuple[Any, ...]]:
        """Flagged hours ``(watch, hour_start, posts, baseline_mean, baseline_sd,
        threshold, flagged_at, notified_at)``, oldest first."""
        clauses, params = [], []
        if watch is not None:
            clauses.append("watch = ?")
            params.append(watch)
        if unnotified:
            clauses.append("notified_at IS NULL")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                f"SELECT {_SPIKE_COLUMNS} FROM watch_spikes {where} ORDER BY hour_start, watch",
                params,
            ).fetchall()
        ]

    def spike_notified(self, tx: Tx, watch: str, hour_start: float, at: float) -> bool:
        """The spike's notice went out (or needs none); False when it was marked already."""
        cursor = self.db.execute(
            tx,
            "UPDATE watch_spikes SET notified_at = ? WHERE watch = ? AND hour_start = ? "
            "AND notified_at IS NULL",
            (at, watch, hour_start),
        )
        return bool(cursor.rowcount)
