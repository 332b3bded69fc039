"""Where a workspace keeps its accounts, jobs and deliveries: SQLite or PostgreSQL.

One interface, two engines. :func:`open_store` picks the engine from the URL:

- ``govsocial.db``, ``sqlite:///path/to/file.db``: SQLite, the embedded default (WAL,
  short write transactions, ``BEGIN IMMEDIATE`` so two processes never claim the same row);
- ``postgresql://...``: PostgreSQL through psycopg 3, for several workers on several
  machines, claiming due deliveries with ``FOR UPDATE SKIP LOCKED``.

The claim protocol is the heart of exactly-once publishing: a worker claims due deliveries
under a lease (owner + expiry); every later state change is made only by the lease owner;
a dead worker's lease expires and its deliveries are claimed again, those caught in
``sending`` flagged for reconciliation before anything is sent again. Deliveries of an
account a worker could not open the credentials of (``account_locks``) are not claimed
until it is unlocked: they wait, neither failed nor counted as attempts.

A ``processing`` delivery was accepted by its platform, which is still processing it
(moderation, transcoding): no worker holds it while it waits. Its ``due_at`` (always equal
to its ``lease_until``) is when it is looked at again, or, while a worker looks, when that
worker's lease runs out; it is then claimed, stays ``processing`` while a worker looks (only
a status read, never a send), and goes back to waiting, or ends. Its ``sending_at`` is when
the attempt the platform accepted began. Every query reads it by ``(status, due_at)``, the
index scheduled deliveries use, so deliveries waiting for hours cost the claim nothing
(``bench/processing.py``).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from govsocial.core.errors import ConfigurationError, ValidationError
from govsocial.core.models import LONE_SURROGATE, METRIC_FIELDS
from govsocial.core.problem import Problem
from govsocial.store.audit import AuditRows
from govsocial.store.credentials import CredentialRows
from govsocial.store.feeds import FeedRows
from govsocial.store.governance import GovernanceRows
from govsocial.store.inbox import InboxRows
from govsocial.store.metrics import MetricsRows, adbc_snapshot_columns
from govsocial.store.schema import MIGRATIONS, SCHEMA_VERSION
from govsocial.store.sql import Render, Tx, as_is, to_format
from govsocial.store.watches import WatchRows

__all__ = [
    "ACCOUNT_METRIC_COLUMNS",
    "FINAL_STATES",
    "METRIC_COLUMNS",
    "MeasuredPost",
    "AccountRow",
    "DeliveryRow",
    "JobRow",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "SharedConnection",
    "Tx",
    "open_store",
    "with_workspace",
    "redact_url",
]

logger = logging.getLogger("govsocial.store")

#: what a workspace's SQLite file (and its ``-wal``/``-shm`` files) is created with: it
#: holds citizens' messages and the sealed credentials, so only its owner reads it
FILE_MODE = 0o600

_warned_modes: set[str] = set()  # paths already warned about, once per process

#: Delivery states that never change again.
FINAL_STATES = frozenset({"published", "unknown", "failed", "missed", "refused", "cancelled"})

_DELIVERY_COLUMNS = (
    "id, job_id, account, occurrence, scheduled_at, due_at, status, idempotency_key, attempts, "
    "lease_owner, lease_until, sending_at, remote_id, remote_url, remote_extra, error, "
    "error_type, updated_at"
)


_ACCOUNT_COLUMNS = (
    "name, platform, handle, base_url, timezone, display_name, credentials, slots, created_at"
)
#: most parameters one ``IN (...)`` list is given (SQLite allows 32,766 in all)
_IN_CHUNK = 500

#: tables whose rows belong to an account, and what they are called in messages
_ACCOUNT_HISTORY = (
    ("deliveries", "deliveries"),
    ("inbox_items", "inbox items"),
    ("appointments", "appointments"),
    ("account_metrics", "account metrics snapshots"),
    ("approval_rules", "approval rules"),
)


@dataclass
class AccountRow:
    """An account as stored: credentials sealed or as ``env:`` references."""

    name: str
    platform: str
    handle: str
    base_url: str | None
    timezone: str
    display_name: str | None
    credentials: dict[str, dict[str, str]]  # field -> {"env": NAME} | {"sealed": token}
    slots: str | None
    created_at: float


def _account_row(row: Sequence[Any]) -> AccountRow:
    return AccountRow(
        name=row[0],
        platform=row[1],
        handle=row[2],
        base_url=row[3],
        timezone=row[4],
        display_name=row[5],
        credentials=json.loads(row[6]),
        slots=row[7],
        created_at=row[8],
    )


@dataclass
class JobRow:
    """A job as stored: the post as JSON, its recurrence and authority."""

    id: str
    post: str  # Post JSON
    recurrence: str | None
    cancelled: bool
    created_at: float
    authority: str | None = None  # JSON: who authorized it under which decree (governance)


@dataclass
class DeliveryRow:
    """A delivery as stored, with its lease and outcome."""

    id: str
    job_id: str
    account: str
    occurrence: int
    scheduled_at: float
    due_at: float
    status: str
    idempotency_key: str
    attempts: int = 0
    lease_owner: str | None = None
    lease_until: float | None = None
    sending_at: float | None = None
    remote_id: str | None = None
    remote_url: str | None = None
    remote_extra: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    updated_at: float = 0.0
    reconcile: bool = False  # claimed while in "sending": look before sending again

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> DeliveryRow:
        """A delivery from a row of the delivery columns."""
        values = list(row[:18])
        values[14] = json.loads(values[14]) if values[14] else {}
        return cls(*values)


@dataclass
class MeasuredPost:
    """A published delivery that is due to be measured."""

    delivery_id: str
    account: str
    remote_id: str
    remote_url: str | None
    remote_extra: dict[str, str]
    published_at: float


METRIC_COLUMNS = METRIC_FIELDS  # the shared vocabulary, one column per figure
ACCOUNT_METRIC_COLUMNS = ("followers", "following", "posts")


def redact_url(url: str, *, user: bool = True) -> str:
    """``url`` without its password (in the user info or a ``password=`` query parameter),
    safe to print, log and put in error messages.

    :param user: keep the user name (``postgresql://gs@db/x``); False drops it too, as
        :attr:`govsocial.workspace.core.WorkspaceCore.address` does for event hooks.
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc and "password" not in parts.query:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    if user and parts.username is not None:
        host = f"{parts.netloc.rsplit('@', 1)[0].split(':', 1)[0]}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key == "password" for key, _ in pairs):
            query = urlencode([(k, v) for k, v in pairs if k != "password"])
    return urlunsplit((parts.scheme, host, parts.path, query, parts.fragment))


class Store(ABC):
    """The storage interface the workspace and workers use (one instance per process).

    Every statement govsocial runs lives in this package, written with ``?`` for each
    parameter and put into the engine's own style by :attr:`render` (see
    :mod:`govsocial.store.sql`). The repositories group them by tables:
    :attr:`governance`, :attr:`inbox`, :attr:`audit`, :attr:`metrics`,
    :attr:`credentials`, :attr:`watches`, :attr:`feeds`; the jobs,
    deliveries, accounts and snapshots are methods of the store itself.
    """

    #: the database's URL, without its password (:func:`redact_url`)
    url: str
    engine = "sqlite"
    #: the engine's parameter marker (for code that writes its own statements, such as
    #: benchmarks; govsocial's own go through :attr:`render`)
    placeholder = "?"
    #: puts a statement written with ``?`` into the engine's parameter style
    render: Render = staticmethod(as_is)
    #: whether :func:`open_store` made this workspace (the database held none before)
    created = False
    #: the workspace's name in its registry (None: a workspace of its own, not registered)
    workspace: str | None = None
    #: the registry's base (SQLite: the base file beside which the workspace's file is)
    registry_base: str | None = None

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.governance = GovernanceRows(self)
        self.inbox = InboxRows(self)
        self.audit = AuditRows(self)
        self.metrics = MetricsRows(self)
        self.watches = WatchRows(self)
        self.credentials = CredentialRows(self)
        self.feeds = FeedRows(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {redact_url(self.url, user=False)}>"

    # -- engine specifics ----------------------------------------------------------------

    def is_workspace(self) -> bool:
        """Whether the database already holds a govsocial workspace (False: nothing yet)."""
        return True

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction; yields its cursor. Commits on success, rolls back on error.

        Nested calls in the same thread join the outer transaction, so an action and the
        audit entry recording it commit together or not at all.
        """

    lock_clause = ""

    def _claim(
        self, cursor: Tx, owner: str, now: float, lease: float, limit: int
    ) -> list[DeliveryRow]:
        # Two index-friendly queries rather than one OR: with a large backlog due, the OR
        # made both engines sort every due row before taking ``limit`` (bench/scheduler.py).
        # Expired leases first: their worker died, and they are the oldest work.
        unlocked, locked = self._not_locked(cursor)
        rows = self.execute(
            cursor,
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE status IN ('claimed', 'sending') "
            f"AND lease_until < ?{unlocked} ORDER BY lease_until LIMIT ?{self.lock_clause}",
            (now, *locked, limit),
        ).fetchall()
        if len(rows) < limit:  # due to be looked at again, or their looking worker died
            rows += self.execute(
                cursor,
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE status = 'processing' "
                f"AND due_at <= ?{unlocked} ORDER BY due_at LIMIT ?{self.lock_clause}",
                (now, *locked, limit - len(rows)),
            ).fetchall()
        if len(rows) < limit:
            rows += self.execute(
                cursor,
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE status = 'scheduled' "
                f"AND due_at <= ?{unlocked} ORDER BY due_at LIMIT ?{self.lock_clause}",
                (now, *locked, limit - len(rows)),
            ).fetchall()
        claimed = [DeliveryRow.from_row(row) for row in rows]
        for delivery in claimed:
            delivery.reconcile = delivery.status == "sending"
            if delivery.status != "processing":  # a processing one is looked at, not sent
                delivery.status = "sending" if delivery.reconcile else "claimed"
            delivery.lease_owner, delivery.lease_until = owner, now + lease
        for status in ("sending", "claimed", "processing"):
            ids = [d.id for d in claimed if d.status == status]
            if ids:
                self._mark_claimed(cursor, ids, status, owner, now + lease, now)
        return claimed

    def _not_locked(self, cursor: Tx) -> tuple[str, tuple[str, ...]]:
        """The condition (and its parameters) that keeps deliveries of locked accounts out of
        claims and due times, read in ``cursor``'s transaction; empty when none is locked,
        so the usual case keeps its index-only plans (``bench/scheduler.py``)."""
        locked = tuple(
            str(row[0])
            for row in self.execute(cursor, "SELECT account FROM account_locks").fetchall()
        )
        if not locked:
            return "", ()
        return f" AND account NOT IN ({', '.join('?' for _ in locked)})", locked

    def _mark_claimed(
        self, cursor: Tx, ids: list[str], status: str, owner: str, until: float, now: float
    ) -> None:
        marks = ", ".join("?" for _ in ids)
        # a processing delivery's due_at is kept equal to its lease_until (the new value:
        # on the right of SET, lease_until would still be the old one)
        due, kept = (", due_at = ?", (until,)) if status == "processing" else ("", ())
        self.execute(
            cursor,
            "UPDATE deliveries SET status = ?, lease_owner = ?, lease_until = ?, updated_at = ?"
            f"{due} WHERE id IN ({marks})",
            (status, owner, until, now, *kept, *ids),
        )

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    def another(self, *, beside: Store | None = None) -> Store | None:
        """A second store on the same database through a connection of its own (a worker
        records outcomes on it while it claims on this one); None where there cannot be
        one (an in-memory database). The caller closes it.

        :param beside: a store made by ``another`` before, for a workspace that shares this
            one's connection (:meth:`shares_connection`): the new store shares ``beside``'s
            second connection instead of opening one more, where the engine allows it.
        """
        return None

    def shares_connection(self, other: Store) -> bool:
        """Whether ``other`` works through this store's own connection (workspaces of one
        registry on PostgreSQL share one)."""
        return other is self

    def execute(self, tx: Tx, sql: str, params: Sequence[Any] = ()) -> Tx:
        """Run ``sql`` (written with ``?``) in ``tx``; the cursor, for its rows.

        :raises ValidationError: a text parameter holds a lone surrogate, which no database
            stores (the models refuse them first; this catches text that is not a model's).
        """
        try:
            tx.execute(self.render(sql), tuple(params))
        except UnicodeEncodeError:
            raise _lone_surrogate() from None
        return tx

    def executemany(self, tx: Tx, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``sql`` (written with ``?``) once per parameter row in ``tx`` (psycopg
        pipelines them: one round trip for the lot, not one per row)."""
        if not rows:
            return
        try:
            tx.executemany(self.render(sql), [tuple(row) for row in rows])
        except UnicodeEncodeError:
            raise _lone_surrogate() from None

    # -- schema --------------------------------------------------------------------------

    def migrate(self) -> int:
        """Bring the schema to the newest version; return the version it was at.

        Safe when several processes open the same new workspace at once: each migration
        runs under a lock and re-reads the version first.
        """
        if self.is_workspace():  # the usual case, up to date: two statements, not one a version
            found = self.meta("schema_version")
            if found is not None and int(found) == SCHEMA_VERSION:
                return SCHEMA_VERSION
        start: int | None = None
        for version in range(1, SCHEMA_VERSION + 1):
            with self.transaction() as cur:
                self._migration_lock(cur)
                self.execute(
                    cur,
                    "CREATE TABLE IF NOT EXISTS govsocial_meta "
                    "(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                )
                row = self.execute(
                    cur, "SELECT value FROM govsocial_meta WHERE key = 'schema_version'"
                ).fetchone()
                current = int(row[0]) if row else 0
                if start is None:
                    start = current
                if current > SCHEMA_VERSION:
                    raise ConfigurationError(
                        f"the workspace {self.url} has schema version {current}, newer than "
                        f"this govsocial knows ({SCHEMA_VERSION})",
                        field="db",
                        hint="upgrade govsocial",
                    )
                if current >= version:
                    continue
                for statement in MIGRATIONS[version - 1]:
                    if isinstance(statement, tuple):  # (engine, sql): one engine's dialect
                        engine, statement = statement
                        if engine != self.engine:
                            continue
                    self.execute(cur, statement)
                self.put_meta(cur, "schema_version", str(version))
        return start or 0

    def _migration_lock(self, cur: Tx) -> None:  # noqa: B027 - a no-op unless overridden
        """Serialize migrations between processes (SQLite: BEGIN IMMEDIATE already does)."""

    def scrub(self) -> bool:
        """After erasing, make sure no copy of the erased data lingers in the database's
        own files; whether that was done in full."""
        return False

    def lock_audit(self, cur: Tx) -> None:  # noqa: B027 - a no-op unless overridden
        """Serialize audit appends until the transaction ends (SQLite: its write lock does)."""

    def lock_governance(self, cur: Tx) -> None:  # noqa: B027 - a no-op unless overridden
        """Serialize changes to who may do what (heads, appointments, people, rules, accounts)
        until the transaction ends (SQLite: its write lock does)."""

    def snapshot(self, cur: Tx) -> None:  # noqa: B027 - a no-op unless overridden
        """Make the transaction read one consistent snapshot; call it first in a fresh
        transaction (SQLite's transactions always are one)."""

    def meta(self, key: str) -> str | None:
        """The workspace setting ``key`` (None when unset)."""
        with self.transaction() as cur:
            row = self.execute(
                cur, "SELECT value FROM govsocial_meta WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set the workspace setting ``key``, in a transaction of its own."""
        with self.transaction() as cur:
            self.put_meta(cur, key, value)

    def delete_meta(self, cur: Tx, key: str) -> None:
        """Remove the workspace setting ``key`` inside the caller's transaction ``cur``."""
        self.execute(cur, "DELETE FROM govsocial_meta WHERE key = ?", (key,))

    def put_meta(self, cur: Tx, key: str, value: str) -> None:
        """Set the workspace setting ``key`` inside the caller's transaction ``cur``."""
        self.execute(cur, "DELETE FROM govsocial_meta WHERE key = ?", (key,))
        self.execute(cur, "INSERT INTO govsocial_meta (key, value) VALUES (?, ?)", (key, value))

    # -- accounts ------------------------------------------------------------------------

    def put_account(self, row: AccountRow) -> None:
        """Keep ``row``, replacing the account of that name in place (``UPDATE``): its
        deliveries, inbox items, appointments and metrics keep pointing at it, so the
        credentials of an account with history can be replaced (a leaked token rotated).

        :raises ConfigurationError: the account has history and ``row`` names another
            platform, handle or server: that history would be attributed to a different
            account (add that one under a new name).
        """
        with self.transaction() as cur:
            found = self.execute(
                cur,
                "SELECT platform, handle, base_url FROM accounts WHERE name = ?",
                (row.name,),
            ).fetchone()
            if found is None:
                self.execute(
                    cur,
                    "INSERT INTO accounts (name, platform, handle, base_url, timezone, "
                    "display_name, credentials, slots, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        row.name,
                        row.platform,
                        row.handle,
                        row.base_url,
                        row.timezone,
                        row.display_name,
                        json.dumps(row.credentials),
                        row.slots,
                        row.created_at,
                    ),
                )
                return
            if tuple(found) != (row.platform, row.handle, row.base_url):
                history = self._account_history(cur, row.name)
                if history:
                    raise ConfigurationError(
                        f"account {row.name!r} ({found[1]} on {found[0]}) has history "
                        f"({', '.join(history)}): it cannot become {row.handle} on "
                        f"{row.platform}{' at ' + row.base_url if row.base_url else ''}, or that "
                        "history would be attributed to another account",
                        field="name",
                        hint="add the other account under a new name; to replace this "
                        "account's credentials, keep its platform, handle and base_url",
                    )
            self.execute(
                cur,
                "UPDATE accounts SET platform = ?, handle = ?, base_url = ?, timezone = ?, "
                "display_name = ?, credentials = ?, slots = ? WHERE name = ?",
                (
                    row.platform,
                    row.handle,
                    row.base_url,
                    row.timezone,
                    row.display_name,
                    json.dumps(row.credentials),
                    row.slots,
                    row.name,
                ),
            )

    def _account_history(self, cur: Tx, name: str) -> list[str]:
        """What refers to account ``name``: ``["3 deliveries", "2 inbox items"]``."""
        found = []
        for table, what in _ACCOUNT_HISTORY:
            row = self.execute(
                cur, f"SELECT COUNT(*) FROM {table} WHERE account = ?", (name,)
            ).fetchone()
            if row[0]:
                found.append(f"{row[0]} {what}")
        return found

    def accounts(self) -> list[AccountRow]:
        """Every account row, by name."""
        with self.transaction() as cur:
            rows = self.execute(cur, f"SELECT {_ACCOUNT_COLUMNS} FROM accounts ORDER BY name")
            return [_account_row(row) for row in rows.fetchall()]

    def account(self, name: str) -> AccountRow | None:
        """The row of account ``name`` (None: there is none), by its primary key: what a
        worker reads per delivery, whatever the number of accounts."""
        with self.transaction() as cur:
            row = self.execute(
                cur, f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else _account_row(row)

    def accounts_named(self, names: Sequence[str]) -> dict[str, AccountRow]:
        """The rows of the accounts ``names`` that exist, by name, in one query (a worker's
        batch of deliveries)."""
        with self.transaction() as cur:
            return self.accounts_in(cur, names)

    def accounts_in(self, cur: Tx, names: Sequence[str]) -> dict[str, AccountRow]:
        """:meth:`accounts_named`, inside ``cur``'s transaction."""
        found: dict[str, AccountRow] = {}
        unique = list(dict.fromkeys(names))
        for start in range(0, len(unique), _IN_CHUNK):
            chunk = unique[start : start + _IN_CHUNK]
            rows = self.execute(
                cur,
                f"SELECT {_ACCOUNT_COLUMNS} FROM accounts "
                f"WHERE name IN ({', '.join('?' for _ in chunk)})",
                chunk,
            )
            found.update((row[0], _account_row(row)) for row in rows.fetchall())
        return found

    def account_at(
        self, cur: Tx, platform: str, handle: str, base_url: str | None
    ) -> AccountRow | None:
        """The row of the account with this platform, handle and server (the first by name
        if several), read inside ``cur``'s transaction and, on PostgreSQL, locked until it
        ends: an adapter's refreshed credentials are merged into what is stored then, not
        into a copy another writer may have replaced meanwhile."""
        lock = " FOR UPDATE" if self.engine == "postgresql" else ""
        row = self.execute(
            cur,
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE platform = ? AND handle = ? "
            f"AND COALESCE(base_url, '') = ? ORDER BY name LIMIT 1{lock}",
            (platform, handle, base_url or ""),
        ).fetchone()
        return None if row is None else _account_row(row)

    def update_credentials(self, name: str, credentials: dict[str, dict[str, str]]) -> None:
        """Replace account ``name``'s stored credentials."""
        with self.transaction() as cur:
            self.execute(
                cur,
                "UPDATE accounts SET credentials = ? WHERE name = ?",
                (json.dumps(credentials), name),
            )

    # -- checkpoints ---------------------------------------------------------------------

    def checkpoint(self, idempotency_key: str) -> dict[str, str]:
        """The adapter checkpoint of the delivery with ``idempotency_key`` (empty: none)."""
        with self.transaction() as cur:
            row = self.execute(
                cur,
                "SELECT checkpoint FROM deliveries WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
        return dict(json.loads(row[0])) if row and row[0] else {}

    def save_checkpoint(self, idempotency_key: str, values: dict[str, str]) -> int:
        """Store a delivery's checkpoint, committed when this returns; how many rows matched."""
        with self.transaction() as cur:
            cursor = self.execute(
                cur,
                "UPDATE deliveries SET checkpoint = ? WHERE idempotency_key = ?",
                (json.dumps(values, sort_keys=True), idempotency_key),
            )
            return int(cursor.rowcount)

    # -- jobs ----------------------------------------------------------------------------

    def insert_job(self, job: JobRow, deliveries: Sequence[DeliveryRow]) -> None:
        """A job and its deliveries, in one transaction: all of it or nothing."""
        with self.transaction() as cur:
            self.execute(
                cur,
                "INSERT INTO jobs (id, post, recurrence, cancelled, created_at, authority) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    job.id,
                    job.post,
                    job.recurrence,
                    int(job.cancelled),
                    job.created_at,
                    job.authority,
                ),
            )
            for delivery in deliveries:
                self._insert_delivery(cur, delivery)

    def _insert_delivery(self, cur: Tx, d: DeliveryRow) -> None:
        self.execute(
            cur,
            f"INSERT INTO deliveries ({_DELIVERY_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                d.id,
                d.job_id,
                d.account,
                d.occurrence,
                d.scheduled_at,
                d.due_at,
                d.status,
                d.idempotency_key,
                d.attempts,
                d.lease_owner,
                d.lease_until,
                d.sending_at,
                d.remote_id,
                d.remote_url,
                json.dumps(d.remote_extra) if d.remote_extra else None,
                d.error,
                d.error_type,
                d.updated_at,
            ),
        )

    def add_occurrence(self, deliveries: Sequence[DeliveryRow]) -> int:
        """Insert the next occurrence of a recurring job unless a worker already did."""
        added = 0
        with self.transaction() as cur:
            for d in deliveries:
                exists = self.execute(
                    cur,
                    "SELECT 1 FROM deliveries WHERE job_id = ? AND account = ? AND occurrence = ?",
                    (d.job_id, d.account, d.occurrence),
                ).fetchone()
                if exists is None:
                    self._insert_delivery(cur, d)
                    added += 1
        return added

    def job(self, job_id: str) -> JobRow | None:
        """The job ``job_id`` (None: there is none)."""
        with self.transaction() as cur:
            row = self.execute(
                cur,
                "SELECT id, post, recurrence, cancelled, created_at, authority FROM jobs "
                "WHERE id = ?",
                (job_id,),
            ).fetchone()
        return None if row is None else JobRow(row[0], row[1], row[2], bool(row[3]), *row[4:])

    def jobs(self) -> list[JobRow]:
        """Every job, oldest first."""
        with self.transaction() as cur:
            rows = self.execute(
                cur,
                "SELECT id, post, recurrence, cancelled, created_at, authority FROM jobs "
                "ORDER BY created_at",
            ).fetchall()
        return [JobRow(r[0], r[1], r[2], bool(r[3]), *r[4:]) for r in rows]

    def deliveries(self, job_id: str | None = None) -> list[DeliveryRow]:
        """Deliveries (of one job, or all), by due time, account and occurrence."""
        sql = f"SELECT {_DELIVERY_COLUMNS} FROM deliveries"
        params: tuple[Any, ...] = ()
        if job_id is not None:
            sql += " WHERE job_id = ?"
            params = (job_id,)
        with self.transaction() as cur:
            rows = self.execute(cur, sql + " ORDER BY due_at, account, occurrence", params)
            return [DeliveryRow.from_row(row) for row in rows.fetchall()]

    def first_delivery(self, job_id: str, account: str) -> DeliveryRow | None:
        """The first occurrence of job ``job_id`` for ``account`` (None: there is none)."""
        with self.transaction() as cur:
            row = self.execute(
                cur,
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE job_id = ? AND account = ? "
                "ORDER BY occurrence LIMIT 1",
                (job_id, account),
            ).fetchone()
        return None if row is None else DeliveryRow.from_row(row)

    def cancel_job(self, job_id: str, now: float) -> int:
        """Cancel what has not started; return how many deliveries were cancelled."""
        with self.transaction() as cur:
            self.execute(cur, "UPDATE jobs SET cancelled = 1 WHERE id = ?", (job_id,))
            result = self.execute(
                cur,
                "UPDATE deliveries SET status = 'cancelled', lease_owner = NULL, "
                "lease_until = NULL, updated_at = ? WHERE job_id = ? AND status = 'scheduled'",
                (now, job_id),
            )
            return int(result.rowcount)

    def reschedule_job(self, job_id: str, due_at: float, now: float) -> int:
        """Move what has not started to ``due_at``; return how many deliveries moved."""
        with self.transaction() as cur:
            result = self.execute(
                cur,
                "UPDATE deliveries SET scheduled_at = ?, due_at = ?, updated_at = ? "
                "WHERE job_id = ? AND status = 'scheduled'",
                (due_at, due_at, now, job_id),
            )
            return int(result.rowcount)

    def deleted_at(self, delivery_id: str) -> float | None:
        """When the delivery's post was deleted on its platform (None: it was not)."""
        with self.transaction() as cur:
            row = self.execute(
                cur, "SELECT deleted_at FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def mark_deleted(self, cur: Tx, delivery_id: str, at: float) -> None:
        """Record, inside ``cur``'s transaction, that the delivery's post was deleted."""
        self.execute(cur, "UPDATE deliveries SET deleted_at = ? WHERE id = ?", (at, delivery_id))

    def booked_slots(self, account: str) -> list[float]:
        """Scheduled times of the account's deliveries that still hold their slot."""
        with self.transaction() as cur:
            rows = self.execute(
                cur,
                "SELECT scheduled_at FROM deliveries WHERE account = ? AND status NOT IN "
                "('cancelled', 'missed', 'failed', 'refused')",
                (account,),
            ).fetchall()
        return [float(r[0]) for r in rows]

    # -- the worker protocol -------------------------------------------------------------

    def claim(self, owner: str, now: float, lease: float, limit: int) -> list[DeliveryRow]:
        """Claim up to ``limit`` due deliveries (and expired leases) for ``owner``; none in
        an archived workspace."""
        with self.transaction() as cur:
            if self.archived(cur):
                return []
            return self._claim(cur, owner, now, lease, limit)

    def archived(self, cur: Tx) -> bool:
        """Whether the workspace was archived (its registry archived it: data kept,
        nothing published from it any more), read in ``cur``'s transaction."""
        row = self.execute(
            cur, "SELECT value FROM govsocial_meta WHERE key = 'archived_at'"
        ).fetchone()
        return row is not None

    def mark_sending(self, delivery_id: str, owner: str, now: float, lease: float) -> bool:
        """Record the attempt BEFORE the request leaves; False when the lease was lost."""
        with self.transaction() as cur:
            result = self.execute(
                cur,
                "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, "
                "sending_at = ?, lease_until = ?, updated_at = ? "
                "WHERE id = ? AND lease_owner = ? AND status IN ('claimed', 'sending')",
                (now, now + lease, now, delivery_id, owner),
            )
            return int(result.rowcount) == 1

    def mark_sending_many(
        self, cur: Tx, ids: Sequence[str], owner: str, now: float, lease: float
    ) -> set[str]:
        """:meth:`mark_sending` for a batch, inside ``cur``'s transaction (committed before
        any of their requests leaves); the ids whose lease was still ``owner``'s."""
        held: set[str] = set()
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = list(ids[start : start + _IN_CHUNK])
            rows = self.execute(
                cur,
                "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, "
                "sending_at = ?, lease_until = ?, updated_at = ? "
                f"WHERE id IN ({', '.join('?' for _ in chunk)}) AND lease_owner = ? "
                "AND status IN ('claimed', 'sending') RETURNING id",
                (now, now + lease, now, *chunk, owner),
            ).fetchall()
            held.update(str(row[0]) for row in rows)
        return held

    def published_many(
        self,
        cur: Tx,
        outcomes: Sequence[tuple[str, str, str | None, dict[str, str]]],
        now: float,
    ) -> None:
        """:meth:`mark_published` for ``(delivery_id, remote_id, url, extra)`` outcomes,
        inside ``cur``'s transaction (where their audit entries are appended too)."""
        self.executemany(
            cur,
            "UPDATE deliveries SET status = 'published', remote_id = ?, remote_url = ?, "
            "remote_extra = ?, error = NULL, error_type = NULL, lease_owner = NULL, "
            "lease_until = NULL, updated_at = ?, published_at = ?, metrics_next_at = ? "
            "WHERE id = ? AND status <> 'published'",
            [
                (remote_id, url, json.dumps(extra) if extra else None, now, now, now, key)
                for key, remote_id, url, extra in outcomes
            ],
        )

    def final_many(
        self,
        cur: Tx,
        outcomes: Sequence[tuple[str, str, str | None, str | None]],
        owner: str,
        now: float,
    ) -> None:
        """:meth:`mark_final` for ``(delivery_id, status, error, error_type)`` outcomes,
        inside ``cur``'s transaction."""
        for _, status, _, _ in outcomes:
            if status not in FINAL_STATES:
                raise ValueError(f"{status} is not a final state")
        self.executemany(
            cur,
            "UPDATE deliveries SET status = ?, error = ?, error_type = ?, lease_owner = NULL, "
            "lease_until = NULL, updated_at = ? "
            "WHERE id = ? AND lease_owner = ? AND status IN ('claimed', 'sending', 'processing')",
            [(status, error, kind, now, key, owner) for key, status, error, kind in outcomes],
        )

    def retry_many(
        self,
        cur: Tx,
        outcomes: Sequence[tuple[str, float, str, str]],
        owner: str,
        now: float,
    ) -> None:
        """:meth:`mark_retry` for ``(delivery_id, due_at, error, error_type)`` outcomes,
        inside ``cur``'s transaction."""
        self.executemany(
            cur,
            "UPDATE deliveries SET status = 'scheduled', due_at = ?, error = ?, "
            "error_type = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? "
            "WHERE id = ? AND lease_owner = ? AND status IN ('claimed', 'sending')",
            [(due, error, kind, now, key, owner) for key, due, error, kind in outcomes],
        )

    def mark_published(
        self,
        delivery_id: str,
        remote_id: str,
        url: str | None,
        extra: dict[str, str],
        now: float,
    ) -> None:
        """Record the remote id the moment it is known, whoever holds the lease now."""
        with self.transaction() as cur:
            self.execute(
                cur,
                "UPDATE deliveries SET status = 'published', remote_id = ?, remote_url = ?, "
                "remote_extra = ?, error = NULL, error_type = NULL, lease_owner = NULL, "
                "lease_until = NULL, updated_at = ?, published_at = ?, metrics_next_at = ? "
                "WHERE id = ? AND status <> 'published'",
                (
                    remote_id,
                    url,
                    json.dumps(extra) if extra else None,
                    now,
                    now,
                    now,  # measured at the next collection, then on the age schedule
                    delivery_id,
                ),
            )

    def mark_retry(
        self, delivery_id: str, owner: str, due_at: float, error: str, error_type: str, now: float
    ) -> bool:
        """Back to ``scheduled`` at ``due_at`` after a failure that is safe to retry."""
        with self.transaction() as cur:
            result = self.execute(
                cur,
                "UPDATE deliveries SET status = 'scheduled', due_at = ?, error = ?, "
                "error_type = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? "
                "WHERE id = ? AND lease_owner = ? AND status IN ('claimed', 'sending')",
                (due_at, error, error_type, now, delivery_id, owner),
            )
            return int(result.rowcount) == 1

    def wait_for_credentials(
        self, cur: Tx, delivery_id: str, owner: str, error: str, error_type: str, now: float
    ) -> bool:
        """Give a claimed delivery back, inside ``cur``'s transaction, because its account's
        credentials cannot be opened: no attempt counted, ``error`` kept for people to see.

        A delivery claimed from ``scheduled`` is ``scheduled`` again; one caught in
        ``sending`` (its worker died) stays ``sending`` with its lease expired, so it is
        reconciled, never resent blindly, once a worker can open the account; a
        ``processing`` one stays ``processing``, looked at again once it can be opened.
        """
        result = self.execute(
            cur,
            "UPDATE deliveries SET status = CASE WHEN status = 'claimed' THEN 'scheduled' "
            "ELSE status END, lease_until = CASE WHEN status = 'claimed' THEN NULL "
            "ELSE ? END, due_at = CASE WHEN status = 'processing' THEN ? ELSE due_at END, "
            "lease_owner = NULL, error = ?, error_type = ?, updated_at = ? "
            "WHERE id = ? AND lease_owner = ? AND status IN ('claimed', 'sending', "
            "'processing')",
            (now, now, error, error_type, now, delivery_id, owner),
        )
        return int(result.rowcount) == 1

    def mark_processing(
        self,
        cur: Tx,
        delivery_id: str,
        owner: str,
        look_at: float,
        error: str,
        error_type: str,
        now: float,
    ) -> bool:
        """Inside ``cur``'s transaction: the platform accepted the delivery and is still
        processing it; nobody holds it until ``look_at``, when a worker looks again. No
        attempt is counted (the attempt that sent it already was); the checkpoint stays."""
        result = self.execute(
            cur,
            "UPDATE deliveries SET status = 'processing', due_at = ?, lease_until = ?, "
            "lease_owner = NULL, error = ?, error_type = ?, updated_at = ? "
            "WHERE id = ? AND lease_owner = ? AND status IN ('claimed', 'sending', "
            "'processing')",
            (look_at, look_at, error, error_type, now, delivery_id, owner),
        )
        return int(result.rowcount) == 1

    def mark_final(
        self,
        delivery_id: str,
        owner: str,
        status: str,
        error: str | None,
        error_type: str | None,
        now: float,
    ) -> bool:
        """``failed``, ``missed``, ``refused`` or ``unknown``: the delivery is settled, for a
        human to see."""
        if status not in FINAL_STATES:
            raise ValueError(f"{status} is not a final state")
        with self.transaction() as cur:
            result = self.execute(
                cur,
                "UPDATE deliveries SET status = ?, error = ?, error_type = ?, lease_owner = NULL, "
                "lease_until = NULL, updated_at = ? "
                "WHERE id = ? AND lease_owner = ? AND status IN ('claimed', 'sending', "
                "'processing')",
                (status, error, error_type, now, delivery_id, owner),
            )
            return int(result.rowcount) == 1

    def extend_leases(self, owner: str, until: float) -> int:
        """Renew ``owner``'s leases until ``until``; how many."""
        with self.transaction() as cur:
            result = self.execute(
                cur,
                "UPDATE deliveries SET lease_until = ?, due_at = CASE WHEN status = 'processing' "
                "THEN ? ELSE due_at END WHERE lease_owner = ? "
                "AND status IN ('claimed', 'sending', 'processing')",
                (until, until, owner),
            )
            return int(result.rowcount)

    def release(self, owner: str, now: float) -> int:
        """Give back what ``owner`` claimed but did not start (a clean shutdown)."""
        with self.transaction() as cur:
            result = self.execute(
                cur,
                "UPDATE deliveries SET status = 'scheduled', lease_owner = NULL, "
                "lease_until = NULL, updated_at = ? WHERE lease_owner = ? AND status = 'claimed'",
                (now, owner),
            )
            return int(result.rowcount)

    def next_due(self, *, processing: bool = True) -> float | None:
        """When the next scheduled delivery falls due (None: nothing scheduled), leaving out
        those of locked accounts, which wait for a worker to unlock them.

        :param processing: count the times ``processing`` deliveries are looked at again
            (False: only what is still to be sent, as ``run(until_idle=True)`` asks).
        """
        with self.transaction() as cur:
            if self.archived(cur):
                return None
            unlocked, locked = self._not_locked(cur)
            row = self.execute(
                cur,
                f"SELECT MIN(due_at) FROM deliveries WHERE status = 'scheduled'{unlocked}",
                locked,
            ).fetchone()
            lease = self.execute(
                cur,
                "SELECT MIN(lease_until) FROM deliveries WHERE status IN ('claimed', 'sending')"
                + unlocked,
                locked,
            ).fetchone()
            look = (None,)
            if processing:
                look = self.execute(
                    cur,
                    f"SELECT MIN(due_at) FROM deliveries WHERE status = 'processing'{unlocked}",
                    locked,
                ).fetchone()
        times = [float(v) for v in (row[0], lease[0], look[0]) if v is not None]
        return min(times) if times else None

    def count_due(self, now: float) -> int:
        """How many scheduled deliveries are due at ``now`` (of accounts that are not locked)."""
        with self.transaction() as cur:
            unlocked, locked = self._not_locked(cur)
            row = self.execute(
                cur,
                f"SELECT COUNT(*) FROM deliveries WHERE status = 'scheduled' AND due_at <= ?"
                f"{unlocked}",
                (now, *locked),
            ).fetchone()
        return int(row[0])

    # -- metrics ------------------------------------------------------------------------

    def metrics_due(self, now: float, limit: int = 100_000) -> list[MeasuredPost]:
        """Published deliveries whose next measurement is due, oldest first."""
        with self.transaction() as cur:
            rows = self.execute(
                cur,
                "SELECT id, account, remote_id, remote_url, remote_extra, "
                "COALESCE(published_at, scheduled_at) FROM deliveries WHERE status = 'published' "
                "AND remote_id IS NOT NULL AND (metrics_next_at IS NULL OR metrics_next_at <= ?) "
                "ORDER BY metrics_next_at LIMIT ?",
                (now, limit),
            ).fetchall()
        return [
            MeasuredPost(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else {}, float(r[5]))
            for r in rows
        ]

    def add_post_metrics(
        self,
        snapshots: Sequence[tuple[str, float, dict[str, int | None], dict[str, Any]]],
        next_at: dict[str, float],
    ) -> None:
        """Snapshots ``(delivery_id, collected_at, figures, raw)`` and each post's next time,
        in one transaction: a crash loses a whole account's batch or nothing."""
        columns = ", ".join(METRIC_COLUMNS)
        marks = ", ".join("?" for _ in METRIC_COLUMNS)
        with self.transaction() as cur:
            for delivery_id, collected_at, figures, raw in snapshots:
                self.execute(
                    cur,
                    f"INSERT INTO post_metrics (delivery_id, collected_at, {columns}, raw) "
                    f"VALUES (?, ?, {marks}, ?)",
                    (
                        delivery_id,
                        collected_at,
                        *(figures.get(name) for name in METRIC_COLUMNS),
                        json.dumps(raw) if raw else None,
                    ),
                )
            for delivery_id, when in next_at.items():
                self.execute(
                    cur,
                    "UPDATE deliveries SET metrics_next_at = ? WHERE id = ?",
                    (when, delivery_id),
                )

    def add_account_metrics(
        self, account: str, collected_at: float, figures: dict[str, int | None], raw: Any
    ) -> None:
        """One snapshot of ``account``'s figures."""
        with self.transaction() as cur:
            self.execute(
                cur,
                "INSERT INTO account_metrics (account, collected_at, followers, following, posts, "
                "raw) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    account,
                    collected_at,
                    *(figures.get(name) for name in ACCOUNT_METRIC_COLUMNS),
                    json.dumps(raw) if raw else None,
                ),
            )

    def post_metric_snapshots(self) -> list[tuple[Any, ...]]:
        """Every post snapshot: ``(delivery_id, collected_at, *figures)``, unjoined.

        Kept to one table on purpose: this is the query a million-row frame waits on.
        """
        with self.transaction() as cur:
            return list(
                self.execute(
                    cur,
                    f"SELECT delivery_id, collected_at, {', '.join(METRIC_COLUMNS)} "
                    "FROM post_metrics",
                ).fetchall()
            )

    def measured_posts(self) -> list[tuple[Any, ...]]:
        """What describes each measured post: ``(delivery_id, platform, account, post_id,
        url, job_id, published_at)``."""
        with self.transaction() as cur:
            return list(
                self.execute(
                    cur,
                    "SELECT d.id, a.platform, d.account, d.remote_id, d.remote_url, d.job_id, "
                    "COALESCE(d.published_at, d.scheduled_at) FROM deliveries d "
                    "JOIN accounts a ON a.name = d.account WHERE d.id IN "
                    "(SELECT DISTINCT delivery_id FROM post_metrics)",
                ).fetchall()
            )

    def account_metric_rows(self) -> list[tuple[Any, ...]]:
        """Every account snapshot: ``(platform, account, collected_at, followers, following,
        posts)``."""
        with self.transaction() as cur:
            return list(
                self.execute(
                    cur,
                    "SELECT a.platform, m.account, m.collected_at, m.followers, m.following, "
                    "m.posts FROM account_metrics m JOIN accounts a ON a.name = m.account "
                    "ORDER BY m.collected_at",
                ).fetchall()
            )

    def post_metric_columns(self) -> tuple[Any, list[str], list[Any]] | None:
        """Every post snapshot as columns ``(codes, keys, columns)`` for
        :func:`govsocial.analytics.frames.posts_frame_from_columns`, where the engine can
        hand them over without a Python tuple per row; None where it cannot."""
        return None

    def job_labels(self) -> dict[str, dict[str, str]]:
        """Each job's post labels (read once per job, not once per snapshot)."""
        with self.transaction() as cur:
            rows = self.execute(cur, "SELECT id, post FROM jobs").fetchall()
        return {row[0]: json.loads(row[1]).get("labels") or {} for row in rows}


class SqliteStore(Store):
    """SQLite: the embedded default. WAL, and BEGIN IMMEDIATE for every write transaction.

    A new file (and its ``-wal``/``-shm`` files) is created readable by its owner only
    (:data:`FILE_MODE`); an existing file's mode is left alone, with one warning per process
    when other users can read it.

    :param create: False refuses a path where no workspace exists yet.
    :raises ConfigurationError: the file cannot be opened, does not exist (``create=False``),
        is not an SQLite database, is damaged, or is another program's database.
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        super().__init__()
        self.path = path
        self.url = f"sqlite:///{path}"
        self._active: sqlite3.Cursor | None = None
        created = _create_private(path, create)
        try:
            self._conn = sqlite3.connect(
                path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise ConfigurationError(
                f"cannot open the workspace database {path}: {exc}",
                field="db",
                hint="check the path and that its folder exists and is writable",
            ) from None
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=30000")
            # what is deleted or overwritten (an erased citizen's message) is zeroed in the
            # file, not left in free pages: see scrub()
            self._conn.execute("PRAGMA secure_delete=ON")
            tables = {
                row[0]
                for row in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise _damaged(path, exc) from None
        if created:
            for suffix in ("-wal", "-shm"):  # SQLite gives them the file's mode; make sure
                side = Path(f"{path}{suffix}")
                if side.exists():
                    side.chmod(FILE_MODE)
        if tables and "govsocial_meta" not in tables:
            self._conn.close()
            raise ConfigurationError(
                f"{path} is an SQLite database, but not a govsocial workspace",
                field="db",
                hint="check --db and $GOVSOCIAL_DB; `govsocial init NEW.db` creates a workspace",
            )

    def is_workspace(self) -> bool:
        """Whether the file already holds a govsocial workspace (False: new and empty)."""
        with self.transaction() as cur:
            row = self.execute(
                cur, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='govsocial_meta'"
            ).fetchone()
        return row is not None

    def post_metric_columns(self) -> tuple[Any, list[str], list[Any]] | None:
        """Through ADBC's SQLite driver (Arrow columns), when it is installed."""
        return adbc_snapshot_columns(str(self.path))

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """BEGIN IMMEDIATE: the write lock from the start, so claims never race."""
        with self._lock:
            if self._active is not None:  # nested: part of the caller's transaction
                yield self._active
                return
            cur = self._active = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException as exc:
                cur.execute("ROLLBACK")
                if type(exc) is sqlite3.DatabaseError:  # damaged file, not a constraint
                    raise _damaged(self.path, exc) from None
                raise
            else:
                cur.execute("COMMIT")
            finally:
                self._active = None
                cur.close()

    def another(self, *, beside: Store | None = None) -> Store | None:
        """The same file through a second connection (None for ``:memory:``); a file per
        workspace, so never shared (``beside`` is not used)."""
        if str(self.path) == ":memory:":
            return None
        return SqliteStore(self.path, create=False)

    def scrub(self) -> bool:
        """Copy the write-ahead log into the file and truncate it to nothing
        (``wal_checkpoint(TRUNCATE)``): with ``secure_delete`` the file holds zeros where the
        erased data was, and the log no longer holds the old pages. False when another
        connection's read kept the log from being emptied (it is emptied at a later
        checkpoint)."""
        with self._lock:
            if self._active is not None:
                raise RuntimeError("scrub() runs after the erasing transaction, not inside it")
            # a reader in another process makes the checkpoint wait: not for long (the
            # worker's other work waits on this connection), the next checkpoint finishes it
            self._conn.execute("PRAGMA busy_timeout=2000")
            try:
                busy, _frames, _done = self._conn.execute(
                    "PRAGMA wal_checkpoint(TRUNCATE)"
                ).fetchone()
            finally:
                self._conn.execute("PRAGMA busy_timeout=30000")
        return not busy

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def _lone_surrogate() -> ValidationError:
    """What a statement whose text parameter holds a lone surrogate raises."""
    message, hint = LONE_SURROGATE
    return ValidationError(
        [Problem(code="lone_surrogate", message=f"a text {message}")], subject="input", hint=hint
    )


class SharedConnection:
    """One PostgreSQL connection (autocommit between transactions) and the lock that
    serializes its use in a process, for one workspace or for many (a worker serving every
    workspace of a registry keeps one connection, not one per workspace: a server allows
    100 connections by default, and a fleet of four workers over 100 workspaces would need
    400)."""

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise ConfigurationError(
                "a postgresql:// workspace needs psycopg 3",
                field="db",
                hint="pip install 'govsocial[postgres]'",
            ) from None
        try:
            self.conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            password = urlsplit(url).password
            message = str(exc).strip()
            if password:
                message = message.replace(password, "***")
            raise ConfigurationError(
                f"cannot connect to the workspace database {redact_url(url)}: {message}",
                field="db",
                hint="check the postgresql:// URL and that the server is running",
            ) from None
        self._dsn = url  # with its password: only to open a registry on this connection
        row = self.conn.execute("SELECT current_schema()").fetchone()
        #: the schema the URL's own search path names (``public`` usually): where a registry
        #: keeps its tables, whatever workspace the connection serves now
        self.home = str(row[0]) if row and row[0] else "public"
        self.lock = threading.RLock()
        #: the schema the connection's search_path names now (None: the URL's own)
        self.current: str | None = None

    def __repr__(self) -> str:
        return f"<SharedConnection {redact_url(self._dsn, user=False)}>"

    def in_transaction(self) -> bool:
        """Whether a transaction is open on the connection."""
        from psycopg.pq import TransactionStatus

        return self.conn.info.transaction_status != TransactionStatus.IDLE

    def use(self, schema: str) -> None:
        """Point the connection's ``search_path`` at ``schema`` (quoted as an identifier;
        the registry validates workspace names before any schema is named)."""
        from psycopg import sql

        self.conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        self.current = schema

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()


def with_workspace(url: str, schema: str) -> str:
    """``url`` with its ``search_path`` option naming ``schema``: the URL that opens that
    workspace's schema directly (shown in reprs and event hooks, without its password)."""
    parts = urlsplit(url)
    pairs = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (k == "options" and "search_path" in v)
    ]
    pairs.append(("options", f"-csearch_path={schema}"))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), parts.fragment))


class PostgresStore(Store):
    """PostgreSQL through psycopg 3: workers on several machines, FOR UPDATE SKIP LOCKED."""

    engine = "postgresql"
    placeholder = "%s"
    render: Render = staticmethod(to_format)
    lock_clause = " FOR UPDATE SKIP LOCKED"

    def __init__(
        self,
        url: str,
        *,
        create: bool = True,
        schema: str | None = None,
        shared: SharedConnection | None = None,
    ) -> None:
        super().__init__()
        self.url = redact_url(url)  # the password stays in the connection only
        #: the PostgreSQL schema this workspace lives in (None: the URL's search path)
        self.schema = schema
        if schema is not None:
            self.url = with_workspace(self.url, schema)
        self._owns = shared is None
        if shared is None:
            shared = SharedConnection(url)
        self._shared = shared
        self._lock = shared.lock
        self._conn = shared.conn

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One database transaction on the connection, serialized within the process.

        A workspace of a registry (``schema``) switches the connection's ``search_path`` to
        its schema first. On a connection several workspaces share (one worker serving
        many), the switch is made outside any transaction when none is open, so it holds
        for the whole of it; inside one (a broadcast writing to several workspaces in one
        transaction), for this block only, and the outer workspace's is put back after.
        """
        with self._lock:
            shared = self._shared
            if self.schema is None or shared.current == self.schema:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    yield cur
                return
            outer = shared.current if shared.in_transaction() else None
            shared.use(self.schema)
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    yield cur
            finally:
                if outer is not None and not self._conn.closed:
                    shared.use(outer)
                else:  # the outer transaction's end decides what search_path holds: ask again
                    shared.current = None

    def is_workspace(self) -> bool:
        """Whether the schema on the search path holds a govsocial workspace."""
        with self.transaction() as cur:
            row = self.execute(cur, "SELECT to_regclass('govsocial_meta')").fetchone()
        return row is not None and row[0] is not None

    def scrub(self) -> bool:
        """False: an UPDATE leaves the old row versions in the table's pages, and even
        ``VACUUM`` does not overwrite them; the operator's ``VACUUM FULL inbox_items``
        rewrites the table (it needs the table's owner and locks it; docs/inbox.md)."""
        return False

    def another(self, *, beside: Store | None = None) -> Store | None:
        """The same database and schema through a second connection, opened with this
        connection's own parameters (the password is taken from it, not kept anywhere);
        with ``beside`` (a PostgreSQL store of the same server), through ``beside``'s
        connection, switching its ``search_path`` per transaction as the registry's does."""
        if isinstance(beside, PostgresStore) and not beside._shared.conn.closed:
            twin = PostgresStore(self.url, shared=beside._shared)
        else:
            from psycopg.conninfo import make_conninfo

            info = self._conn.info
            conninfo = info.dsn
            if info.password:
                conninfo = make_conninfo(info.dsn, password=info.password)
            twin = PostgresStore(self.url, shared=SharedConnection(conninfo))
            twin._owns = True  # its own connection, closed with it
        twin.schema, twin.url = self.schema, self.url  # the same workspace's schema
        twin.workspace = self.workspace
        return twin

    def shares_connection(self, other: Store) -> bool:
        """Whether ``other`` is a PostgreSQL store on this one's connection."""
        return isinstance(other, PostgresStore) and other._shared is self._shared

    # The advisory locks are keyed by the workspace's schema as well as by what they guard:
    # workspaces in one database never wait for each other's audit appends or migrations.

    def _migration_lock(self, cur: Tx) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(7152023, hashtext(current_schema()))")

    def lock_audit(self, cur: Tx) -> None:
        """A transaction-scoped advisory lock: one audit append at a time (per workspace)."""
        cur.execute("SELECT pg_advisory_xact_lock(7152024, hashtext(current_schema()))")

    def lock_governance(self, cur: Tx) -> None:
        """A transaction-scoped advisory lock: one change of who may do what at a time (per
        workspace)."""
        cur.execute("SELECT pg_advisory_xact_lock(7152025, hashtext(current_schema()))")

    def snapshot(self, cur: Tx) -> None:
        """REPEATABLE READ for the rest of the transaction."""
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # the first statement

    @property
    def connection(self) -> SharedConnection:
        """The connection (perhaps shared with other workspaces of a registry)."""
        return self._shared

    def adopt(self) -> None:
        """Take the shared connection over: :meth:`close` closes it."""
        self._owns = True

    def close(self) -> None:
        """Close the connection (one shared by several workspaces: its owner closes it)."""
        if self._owns:
            self._shared.close()


def open_store(url: str | Path, *, create: bool = True) -> Store:
    """The store at ``url``: a file path or ``sqlite:///path``, or ``postgresql://...``.

    The schema is created or upgraded in place.

    :param create: True (the default) makes a new workspace where there is none, as
        :func:`sqlite3.connect` creates a file; False refuses, with an error naming the fix
        (the command line opens workspaces this way, so a mistyped ``--db`` creates nothing).
    :raises ConfigurationError: the URL, the file or the server is unusable, or no
        workspace exists and ``create`` is False.
    """
    text = str(url)
    store: Store
    if text.startswith(("postgresql://", "postgres://")):
        store = PostgresStore(text, create=create)
    elif text.startswith("sqlite:///"):
        store = SqliteStore(Path(text[len("sqlite:///") :]), create=create)
    elif "://" in text:
        raise ConfigurationError(
            f"unknown workspace URL {redact_url(text)!r}",
            field="db",
            hint="use a file path (govsocial.db), sqlite:///path or postgresql://...",
        )
    else:
        store = SqliteStore(Path(text), create=create)
    try:
        if not create and not store.is_workspace():
            raise _missing(store.url)
        store.created = store.migrate() == 0
    except BaseException:
        store.close()
        raise
    return store


def _missing(where: str) -> ConfigurationError:
    return ConfigurationError(
        f"no workspace at {where}",
        field="db",
        hint="check --db and $GOVSOCIAL_DB for a typo; `govsocial init` creates a new workspace",
    )


def _damaged(path: Path, exc: sqlite3.DatabaseError) -> ConfigurationError:
    return ConfigurationError(
        f"the workspace database {path} is damaged or not an SQLite file ({exc})",
        field="db",
        hint="check --db and $GOVSOCIAL_DB for a typo, or restore the file from a backup",
    )


def _create_private(path: Path, create: bool) -> bool:
    """Create ``path`` empty with :data:`FILE_MODE` unless it exists; whether it was created.

    An existing file keeps its mode; if other users can read it, say so once per process.
    """
    if str(path) == ":memory:":
        return False
    if not create:
        if not path.exists():
            raise _missing(str(path))
        _warn_if_readable(path)
        return False
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        _warn_if_readable(path)
        return False
    except OSError:
        return False  # sqlite3.connect says why, in the error the caller raises
    try:
        os.chmod(path, FILE_MODE)  # whatever the umask took away or let through
    finally:
        os.close(fd)
    return True


def _warn_if_readable(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    key = str(path.resolve())
    if mode & 0o077 and key not in _warned_modes:
        _warned_modes.add(key)
        logger.warning(
            "the workspace database %s can be read by other users (mode %s); it holds "
            "citizens' messages and sealed credentials: chmod 600 %s",
            path,
            oct(mode),
            path,
        )
