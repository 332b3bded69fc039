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

    def add_many(self, tx: Tx, rows: Sequence[Sequence[Any]]) -> None:
        """Append rows (:data:`AUDIT_COLUMNS`, already chained) and record the last as the
        head, in one batch."""
        if not rows:
            return
        row = f"({', '.join('?' for _ in range(11))})"
        for start in range(0, len(rows), 200):  # one statement per 200 entries
            chunk = rows[start : start + 200]
            self.db.execute(
                tx,
                f"INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES " + ", ".join(row for _ in chunk),
                [value for entry in chunk for value in entry],
            )
        self.db.execute(
            tx,
            "INSERT INTO govsocial_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_HEAD_KEY, f"{rows[-1][0]}:{rows[-1][9]}"),
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

    def of_object(
        self, tx: Tx, obj: str, actions: Sequence[str], account: str | None = None
    ) -> list[tuple[Any, ...]]:
        """Rows about ``obj`` whose action is one of ``actions`` (and, given ``account``,
        about that account), oldest first. With ``account`` the index on ``(object,
        account, action)`` finds one account's entries of a job planned for thousands."""
        marks = ", ".join("?" for _ in actions)
        mine = "" if account is None else " AND account = ?"
        return [
            tuple(r)
            for r in self.db.execute(
                tx,
                f"SELECT {AUDIT_COLUMNS} FROM audit_log WHERE object = ?{mine} "
                f"AND action IN ({marks}) ORDER BY seq",
                (obj, *(() if account is None else (account,)), *actions),
            ).fetchall()
        ]

    def of_objects(
        self, tx: Tx, objects: Sequence[str], accounts: Sequence[str], actions: Sequence[str]
    ) -> list[tuple[Any, ...]]:
        """Rows about any of ``objects`` and any of ``accounts`` whose action is one of
        ``actions``, oldest first: a worker's batch reads its jobs' planning entries for
        its accounts in one query (through the ``(object, account, action)`` index)."""
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(accounts), 400):
            chunk = accounts[start : start + 400]
            found += [
                tuple(r)
                for r in self.db.execute(
                    tx,
                    f"SELECT {AUDIT_COLUMNS} FROM audit_log "
                    f"WHERE object IN ({', '.join('?' for _ in objects)}) "
                    f"AND account IN ({', '.join('?' for _ in chunk)}) "
                    f"AND action IN ({', '.join('?' for _ in actions)}) ORDER BY seq",
                    (*objects, *chunk, *actions),
                ).fetchall()
            ]
        return sorted(found, key=lambda row: int(row[0]))

    def recorded_head(self, tx: Tx) -> str | None:
        """The head the workspace recorded with its last entry: ``"seq:hash"``."""
        row = self.db.execute(
            tx, "SELECT value FROM govsocial_meta WHERE key = ?", (_HEAD_KEY,)
        ).fetchone()
        return None if row is None else str(row[0])
