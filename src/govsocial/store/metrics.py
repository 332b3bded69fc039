"""Reads for performance tables and the archive, and the fast columnar read of metrics
snapshots on SQLite. Each method takes the transaction it runs in (see
:mod:`govsocial.store.sql`).
"""

from __future__ import annotations

from typing import Any

from govsocial.core.models import METRIC_FIELDS
from govsocial.store.sql import Database, Tx

__all__ = ["MetricsRows", "adbc_snapshot_columns"]


class MetricsRows:
    """Reads across deliveries, jobs and snapshots (``store.metrics``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def published_times(self, tx: Tx) -> dict[str, tuple[float, float | None]]:
        """Each published delivery's ``(scheduled_at, published_at)``."""
        rows = self.db.execute(
            tx,
            "SELECT id, scheduled_at, published_at FROM deliveries WHERE published_at IS NOT NULL",
        ).fetchall()
        return {str(r[0]): (float(r[1]), float(r[2]) if r[2] is not None else None) for r in rows}

    def latest_engagement(self, tx: Tx) -> dict[str, int]:
        """Each delivery's latest likes + reposts + replies + quotes (the known ones)."""
        rows = self.db.execute(
            tx,
            "SELECT m.delivery_id, m.likes, m.reposts, m.replies, m.quotes FROM post_metrics m "
            "JOIN (SELECT delivery_id, MAX(collected_at) AS last FROM post_metrics "
            "GROUP BY delivery_id) latest ON latest.delivery_id = m.delivery_id "
            "AND latest.last = m.collected_at",
        ).fetchall()
        return {str(r[0]): sum(int(v) for v in r[1:] if v is not None) for r in rows}

    def published_posts(self, tx: Tx) -> list[tuple[Any, ...]]:
        """Every published delivery with its job, by publication time: ``(id, job_id,
        account, remote_id, remote_url, scheduled_at, published_at, deleted_at, status,
        post, authority, occurrence)``."""
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                "SELECT d.id, d.job_id, d.account, d.remote_id, d.remote_url, d.scheduled_at, "
                "d.published_at, d.deleted_at, d.status, j.post, j.authority, d.occurrence "
                "FROM deliveries d JOIN jobs j ON j.id = d.job_id "
                "WHERE d.published_at IS NOT NULL ORDER BY d.published_at",
            ).fetchall()
        ]


def adbc_snapshot_columns(path: str) -> tuple[Any, list[str], list[Any]] | None:
    """Every post snapshot of the SQLite file at ``path`` as ``(codes, keys, columns)``, read
    through Arrow (ADBC's SQLite driver); None when that driver is not installed or cannot
    read the file (the caller then reads row by row).

    Why: Python's sqlite3 module spends about a second turning a million rows into tuples
    before any analysis starts; ADBC hands the columns over as Arrow arrays, and the
    delivery ids arrive dictionary-encoded, never as a million Python strings.
    """
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:
        return None
    # built from the constant column list only: no value is ever put into the text
    query = f"SELECT delivery_id, collected_at, {', '.join(METRIC_FIELDS)} FROM post_metrics"
    try:
        with adbc.connect(path) as connection, connection.cursor() as cursor:
            cursor.execute(query)
            table = cursor.fetch_arrow_table()
        ids = table.column(0).combine_chunks().dictionary_encode()
        codes = ids.indices.to_numpy(zero_copy_only=False)
        keys = ids.dictionary.to_pylist()
        columns = [
            column.to_numpy(zero_copy_only=False).astype("float64") for column in table.columns[1:]
        ]
    except Exception:  # noqa: BLE001 - any failure: the row-by-row reader still works
        return None
    return codes, keys, columns
