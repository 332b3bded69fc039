"""The credential tables: which key seals a workspace's credentials, and locked accounts.

- The key record (``govsocial_meta``, key ``credential_key``): JSON naming the key id (an
  HMAC of the derived key, never the key), the derivation and its salt. Credentials sealed
  by govsocial before key ids existed have only the salt (``credential_salt``).
- ``account_locks``: accounts whose credentials a worker could not open, with why; their
  deliveries are not claimed until a worker unlocks them (see :mod:`govsocial.store`).

Each method takes the transaction it runs in (see :mod:`govsocial.store.sql`), so a key
check and the account row it guards, or a re-sealing and its audit entry, commit together.
"""

from __future__ import annotations

import json

from govsocial.store.sql import Database, Tx

__all__ = ["KEY_RECORD", "LEGACY_SALT", "CredentialRows"]

#: the ``govsocial_meta`` key holding the key record (JSON)
KEY_RECORD = "credential_key"
#: the ``govsocial_meta`` key of the salt credentials were sealed with before key records
LEGACY_SALT = "credential_salt"


class CredentialRows:
    """Reads and writes of the key record and the account locks (``store.credentials``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def _for_update(self) -> str:
        # PostgreSQL: hold the row until the transaction ends, so a key check and a
        # rotation never interleave (SQLite's BEGIN IMMEDIATE already serializes them)
        return " FOR UPDATE" if self.db.engine == "postgresql" else ""

    # -- the key record ------------------------------------------------------------------

    def _meta(self, tx: Tx, key: str, *, lock: bool = False) -> str | None:
        row = self.db.execute(
            tx,
            "SELECT value FROM govsocial_meta WHERE key = ?" + (self._for_update if lock else ""),
            (key,),
        ).fetchone()
        return None if row is None else str(row[0])

    def key_record(self, tx: Tx, *, lock: bool = False) -> str | None:
        """The key record (JSON), None when no credential was sealed under a recorded key;
        ``lock`` holds it until ``tx`` ends (PostgreSQL)."""
        return self._meta(tx, KEY_RECORD, lock=lock)

    def legacy_salt(self, tx: Tx) -> str | None:
        """The salt of credentials sealed before key records existed (None: there is none)."""
        return self._meta(tx, LEGACY_SALT)

    def claim_key(self, tx: Tx, record: str) -> str:
        """Record ``record`` as the workspace's key unless one is recorded already; return
        the record in force, held until ``tx`` ends (compare it with ``record``)."""
        found = self.key_record(tx, lock=True)
        if found is not None:
            return found
        self.db.execute(
            tx,
            "INSERT INTO govsocial_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (KEY_RECORD, record),
        )
        found = self.key_record(tx, lock=True)
        assert found is not None  # just inserted, or another process's, committed
        return found

    def replace_key(self, tx: Tx, record: str) -> None:
        """Make ``record`` the key record (rotation), dropping the pre-record salt."""
        self.db.execute(
            tx, "DELETE FROM govsocial_meta WHERE key IN (?, ?)", (KEY_RECORD, LEGACY_SALT)
        )
        self.db.execute(
            tx, "INSERT INTO govsocial_meta (key, value) VALUES (?, ?)", (KEY_RECORD, record)
        )

    # -- stored credentials --------------------------------------------------------------

    def all_credentials(
        self, tx: Tx, *, lock: bool = False
    ) -> dict[str, dict[str, dict[str, str]]]:
        """Every account's stored credentials, by name; ``lock`` holds the rows (PostgreSQL)."""
        rows = self.db.execute(
            tx,
            "SELECT name, credentials FROM accounts ORDER BY name"
            + (self._for_update if lock else ""),
        ).fetchall()
        return {str(row[0]): json.loads(row[1]) for row in rows}

    def set_credentials(self, tx: Tx, name: str, credentials: dict[str, dict[str, str]]) -> None:
        """Replace account ``name``'s stored credentials inside ``tx``."""
        self.db.execute(
            tx,
            "UPDATE accounts SET credentials = ? WHERE name = ?",
            (json.dumps(credentials), name),
        )

    # -- locked accounts -----------------------------------------------------------------

    def lock(self, tx: Tx, account: str, reason: str, at: float, by: str | None) -> bool:
        """Mark ``account`` locked (why, when, by which worker); False when it already was."""
        cursor = self.db.execute(
            tx,
            "INSERT INTO account_locks (account, reason, locked_at, locked_by) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (account) DO NOTHING",
            (account, reason, at, by),
        )
        return int(cursor.rowcount) == 1

    def unlock(self, tx: Tx, account: str) -> bool:
        """Lift ``account``'s lock; False when it was not locked."""
        cursor = self.db.execute(tx, "DELETE FROM account_locks WHERE account = ?", (account,))
        return int(cursor.rowcount) == 1

    def locks(self, tx: Tx) -> dict[str, tuple[str, float, str | None]]:
        """Locked accounts: name -> ``(reason, locked_at, locked_by)``."""
        rows = self.db.execute(
            tx, "SELECT account, reason, locked_at, locked_by FROM account_locks ORDER BY account"
        ).fetchall()
        return {str(r[0]): (str(r[1]), float(r[2]), r[3]) for r in rows}
