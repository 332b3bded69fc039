"""The audit log table and its recorded head. Hashing and verification live in
:mod:`govsocial.workspace.audit`; this module only reads and writes rows, each method in the
transaction it is given (see :mod:`govsocial.store.sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govsocial.store.sql import Database, Tx

__all__ = ["AUDIT_COLUMNS", "AuditRows"]

#: The columns of an audit row, in the order :meth:`AuditRows.rows` returns them.
AUDIT_COLUMNS = (
    "seq, at, actor, action, object, account, decree, detail, prev_hash, hash, signature"
)
_HEAD_KEY = "audit_head"
_FILTERS = {"since": ("at", ">="), "until": ("at", "<"), "actor": ("actor", "=")}
_FILTERS |= {"action": ("action", "="), "account": ("account", "="), "object": ("object", "=")}


class AuditRows:
    """Reads and writes of the audit log (``store.audit``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def last(self, tx: Tx) -> tuple[int, str, float] | None:
        """The newest entry's ``(seq, hash, at)``, or None while the log is empty."""
        row = self.db.execute(
            tx, "SELECT seq, hash, at FROM audit_log ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]), float(row[2]))

    def add(self, tx: Tx, row: Sequence[Any]) -> None:
        """Append a row (:data:`AUDIT_COLUMNS`) and record it as the head."""
        self.db.execute(
            tx,
            f"INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        self.db.execute(tx, "DELETE FROM govsocial_meta WHERE key = ?", (_HEAD_KEY,))
        self.db.execute(
            tx,
            "INSERT INTO govsocial_meta (key, value) VALUES (?, ?)",
            (_HEAD_KEY, f"{row[0]}:{row[9]}"),
        )

    def rows(self, tx: Tx, **where: Any) -> list[tuple[Any, ...]]:
        """Rows, oldest first, filtered by ``since``/``until`` (epoch seconds), ``actor``,
        ``action``, ``account`` and ``object`` (None: no filter)."""
        clauses: list[str] = []
        params: list[Any] = []
        for name, value in where.items():
            if value is None:
                continue
            column, op = _FILTERS[name]
            clauses.append(f"{column} {op} ?")
            params.append(value)
        text = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return [
            tuple(r)
            for r in self.db.execute(
                tx, f"SELECT {AUDIT_COLUMNS} FROM audit_log {text} ORDER BY seq", params
            ).fetchall()
        ]

    def of_object(self, tx: Tx, obj: str, actions: Sequence[str]) -> list[tuple[Any, ...]]:
        """Rows about ``obj`` whose action is one of ``actions``, oldest first."""
        marks = ", ".join("?" for _ in actions)
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                f"SELECT {AUDIT_COLUMNS} FROM audit_log WHERE object = ? AND action IN ({marks}) "
                "ORDER BY seq",
                (obj, *actions),
            ).fetchall()
        ]

    def recorded_head(self, tx: Tx) -> str | None:
        """The head the workspace recorded with its last entry: ``"seq:hash"``."""
        row = self.db.execute(
            tx, "SELECT value FROM govsocial_meta WHERE key = ?", (_HEAD_KEY,)
        ).fetchone()
        return None if row is None else str(row[0])
