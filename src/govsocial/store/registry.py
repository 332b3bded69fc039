"""The registry of workspaces in one database, and the rate budgets workers share.

Many institutions, one PostgreSQL: each workspace lives in a schema of its own
(``<prefix>_<name>``), with the same tables a lone workspace has, so the accounts, people,
approval rules, audit chain and archive of one agency are never in the same table as
another's: isolation by construction, not by a ``WHERE tenant = ?`` every statement must
remember. The registry itself is two tables in the schema the URL points at (``public``
usually): ``govsocial_workspaces`` (name, institution, created, archived) and
``govsocial_rate_budgets`` (the token buckets every worker process shares). See
docs/operations.md, "Many workspaces", for why a schema and not a tenant column.

With SQLite, one file per workspace: ``agencies.db`` names the registry
``agencies.registry.db`` and the workspace ``kota`` ``agencies.ws-kota.db``, side by side.

A workspace name is 1 to 40 characters of ``a-z``, ``0-9`` and ``_``, starting with a
letter (:func:`check_workspace_name`): it becomes part of a schema or a file name, so
nothing else is let through; the schema is still quoted as an identifier wherever it is
named.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govsocial.core.errors import ConfigurationError, NotFound
from govsocial.store import (
    _DELIVERY_COLUMNS,
    DeliveryRow,
    PostgresStore,
    SharedConnection,
    Store,
    open_store,
    redact_url,
)
from govsocial.store.sql import Tx, to_format

__all__ = [
    "NAME_LIMIT",
    "Registry",
    "WorkspaceEntry",
    "check_workspace_name",
    "open_workspace_store",
]

#: the longest workspace name (a PostgreSQL identifier holds 63 bytes: prefix, ``_``, name)
NAME_LIMIT = 40
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def check_workspace_name(name: object) -> str:
    """``name`` when it can name a workspace: 1 to :data:`NAME_LIMIT` characters of
    ``a-z``, ``0-9`` and ``_``, starting with a letter.

    :raises ConfigurationError: it cannot (field ``workspace``), naming the limit and the fix.
    """
    if (
        not isinstance(name, str)
        or not name.isascii()
        or len(name) > NAME_LIMIT
        or _NAME.fullmatch(name) is None
    ):
        shown = repr(name)[:60]
        raise ConfigurationError(
            f"{shown} cannot name a workspace: a name is 1 to {NAME_LIMIT} characters of "
            "a-z, 0-9 and _, starting with a letter",
            field="workspace",
            hint="choose a name such as 'dinkes_kota_bogor'",
        )
    return name


@dataclass(frozen=True)
class WorkspaceEntry:
    """A workspace as the registry knows it."""

    name: str
    institution: str
    created_at: float
    created_by: str | None
    archived_at: float | None = None
    archived_by: str | None = None
    archive_reason: str | None = None
    #: where it lives: the PostgreSQL schema, or the SQLite file
    location: str = ""

    @property
    def archived(self) -> bool:
        """Whether it was archived (data kept; nothing is published from it any more)."""
        return self.archived_at is not None


_COLUMNS = (
    "name, institution, created_at, created_by, archived_at, archived_by, archive_reason, location"
)


class Registry:
    """The workspaces of one database (PostgreSQL) or one folder (SQLite), and the rate
    budgets their workers share. One per process; :meth:`store` opens a workspace's store.

    On PostgreSQL every workspace opened through :meth:`store` shares the registry's one
    connection (``shared=True``, the default), switching its ``search_path`` per transaction.

    :param url: the database (``postgresql://...``), or the SQLite registry's base file.
    """

    def __init__(self, url: str | Path, *, shared: SharedConnection | None = None) -> None:
        text = str(url)
        self.url = redact_url(text)
        self._url = text
        self.engine = (
            "postgresql" if text.startswith(("postgresql://", "postgres://")) else "sqlite"
        )
        self._shared: SharedConnection | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._owns = shared is None
        if self.engine == "postgresql":
            self._shared = shared or SharedConnection(text)
            self._lock = self._shared.lock
            home = self._shared.home
            self.home = home
            self.prefix = "gsw" if home == "public" else home
            quoted = '"' + home.replace('"', '""') + '"'
            self._workspaces = f"{quoted}.govsocial_workspaces"
            self._budgets = f"{quoted}.govsocial_rate_budgets"
        else:
            base = Path(text[len("sqlite:///") :] if text.startswith("sqlite:///") else text)
            self.base = base
            self.home = str(base)
            self.prefix = base.stem
            registry = base.with_name(f"{base.stem}.registry.db")
            try:
                self._sqlite = sqlite3.connect(
                    registry, timeout=30.0, isolation_level=None, check_same_thread=False
                )
                self._sqlite.execute("PRAGMA journal_mode=WAL")
                self._sqlite.execute("PRAGMA busy_timeout=30000")
            except sqlite3.Error as exc:
                raise ConfigurationError(
                    f"cannot open the workspace registry {registry}: {exc}",
                    field="db",
                    hint="check the path and that its folder exists and is writable",
                ) from None
            self._workspaces = "govsocial_workspaces"
            self._budgets = "govsocial_rate_budgets"
        self._create_tables()

    def __repr__(self) -> str:
        return f"<Registry {redact_url(self.url, user=False)}>"

    # -- plumbing ------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Tx]:
        with self._lock:
            if self._shared is not None:
                with self._shared.conn.transaction(), self._shared.conn.cursor() as pg:
                    yield pg
                return
            assert self._sqlite is not None
            cur: Any = self._sqlite.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    def _run(self, cur: Tx, sql: str, params: tuple[Any, ...] = (), *, prepare: bool = False) -> Tx:
        if self.engine != "postgresql":
            cur.execute(sql, params)
        elif prepare:  # planned once per connection, run again by name
            cur.execute(to_format(sql), params, prepare=True)  # type: ignore[call-arg]
        else:
            cur.execute(to_format(sql), params)
        return cur

    def _create_tables(self) -> None:
        with self._transaction() as cur:
            if self.engine == "postgresql":
                cur.execute("SELECT pg_advisory_xact_lock(7152026, hashtext(current_schema()))")
            self._run(
                cur,
                f"CREATE TABLE IF NOT EXISTS {self._workspaces} ("
                "name TEXT PRIMARY KEY, institution TEXT NOT NULL, "
                "created_at DOUBLE PRECISION NOT NULL, created_by TEXT, "
                "archived_at DOUBLE PRECISION, archived_by TEXT, archive_reason TEXT, "
                "location TEXT NOT NULL)",
            )
            self._run(
                cur,
                f"CREATE TABLE IF NOT EXISTS {self._budgets} ("
                "scope TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, "
                "updated_at DOUBLE PRECISION NOT NULL)",
            )

    def location(self, name: str) -> str:
        """Where workspace ``name`` lives: its schema (PostgreSQL) or file (SQLite)."""
        check_workspace_name(name)
        if self.engine == "postgresql":
            return f"{self.prefix}_{name}"
        return str(self.base.with_name(f"{self.base.stem}.ws-{name}.db"))

    # -- the registry --------------------------------------------------------------------

    def add(self, name: str, institution: str, *, by: str | None, now: float) -> WorkspaceEntry:
        """Register workspace ``name`` and make its schema (or file): empty, for
        :meth:`store` to migrate.

        :raises ConfigurationError: the name is not allowed, the institution is empty, or
            a workspace of that name exists (archived ones too: a name is never reused).
        """
        check_workspace_name(name)
        if not isinstance(institution, str) or not institution.strip():
            raise ConfigurationError(
                "a workspace needs the name of its institution",
                field="institution",
                hint="pass institution='Dinas Kesehatan Kota Bogor'",
            )
        location = self.location(name)
        if self.engine == "postgresql" and len(location.encode()) > 63:
            raise ConfigurationError(
                f"the schema {location!r} would be longer than PostgreSQL's 63 bytes",
                field="workspace",
                hint="choose a shorter workspace name",
            )
        with self._transaction() as cur:
            found = self._run(
                cur, f"SELECT name FROM {self._workspaces} WHERE name = ?", (name,)
            ).fetchone()
            if found is not None:
                raise ConfigurationError(
                    f"a workspace called {name!r} already exists in {self.url}",
                    field="workspace",
                    hint="choose another name (an archived workspace keeps its name)",
                )
            self._run(
                cur,
                f"INSERT INTO {self._workspaces} (name, institution, created_at, created_by, "
                "location) VALUES (?, ?, ?, ?, ?)",
                (name, institution.strip(), now, by, location),
            )
            if self.engine == "postgresql":
                from psycopg import sql

                cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(location)))
        return self.entry(name)

    def entries(self, *, archived: bool = True) -> list[WorkspaceEntry]:
        """Every workspace, by name (without the archived ones when ``archived`` is False)."""
        where = "" if archived else " WHERE archived_at IS NULL"
        with self._transaction() as cur:
            rows = self._run(
                cur, f"SELECT {_COLUMNS} FROM {self._workspaces}{where} ORDER BY name"
            ).fetchall()
        return [WorkspaceEntry(*row) for row in rows]

    def entry(self, name: str) -> WorkspaceEntry:
        """Workspace ``name``.

        :raises NotFound: there is none (the name is checked first).
        """
        check_workspace_name(name)
        with self._transaction() as cur:
            row = self._run(
                cur, f"SELECT {_COLUMNS} FROM {self._workspaces} WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            raise NotFound(
                f"no workspace called {name!r} in {self.url}",
                field="workspace",
                hint="`govsocial workspaces list` shows them; `workspaces create` adds one",
            )
        return WorkspaceEntry(*row)

    def mark_archived(self, name: str, *, by: str | None, reason: str | None, now: float) -> bool:
        """Mark workspace ``name`` archived; False when it already was."""
        with self._transaction() as cur:
            result = self._run(
                cur,
                f"UPDATE {self._workspaces} SET archived_at = ?, archived_by = ?, "
                "archive_reason = ? WHERE name = ? AND archived_at IS NULL",
                (now, by, reason, name),
            )
            return int(result.rowcount) == 1

    def store(self, name: str, *, shared: bool = True) -> Store:
        """The store of workspace ``name`` (migrated to the newest schema).

        :param shared: on PostgreSQL, use the registry's connection (False: a connection of
            its own, for a workspace used from another thread).
        :raises NotFound: no such workspace.
        """
        entry = self.entry(name)
        store: Store
        if self.engine == "postgresql":
            store = PostgresStore(
                self._url, schema=entry.location, shared=self._shared if shared else None
            )
            try:
                store.created = store.migrate() == 0
            except BaseException:
                store.close()
                raise
        else:
            store = open_store(entry.location)
            store.registry_base = str(self.base)
        store.workspace = name
        return store

    @classmethod
    def of(cls, store: Store) -> Registry:
        """The registry ``store``'s workspace is registered in, on the store's own
        connection with PostgreSQL (close it when done: the connection stays open).

        :raises ConfigurationError: the store is a workspace of its own, not registered.
        """
        if store.workspace is None:
            raise ConfigurationError(
                f"{store.url} is not a workspace of a registry: it has no other workspaces",
                field="workspace",
                hint="open it with Workspace.open(url, workspace=NAME)",
            )
        if isinstance(store, PostgresStore):
            return cls(store.connection._dsn, shared=store.connection)
        assert store.registry_base is not None
        return cls(store.registry_base)

    # -- what is due where ------------------------------------------------------------------

    #: workspaces asked about in one statement by :meth:`next_due`
    DUE_CHUNK = 200

    def next_due(
        self, names: list[str], *, processing: bool = True
    ) -> dict[str, float | None] | None:
        """When each workspace of ``names`` next has work: its earliest scheduled delivery,
        claim lease or (``processing``) look at a ``processing`` delivery, leaving out
        locked accounts, as :meth:`Store.next_due` does; None where nothing is scheduled.
        One statement per :data:`DUE_CHUNK` workspaces, so a worker serving hundreds of
        workspaces skips the idle ones without a transaction each. None on SQLite (a file
        per workspace: ask each store).
        """
        if self._shared is None:
            return None
        found: dict[str, float | None] = {}
        for start in range(0, len(names), self.DUE_CHUNK):
            chunk = names[start : start + self.DUE_CHUNK]
            parts = []
            params: list[Any] = []
            for name in chunk:
                schema = self._schema(name)
                unlocked = f"account NOT IN (SELECT account FROM {schema}.account_locks)"
                look = (
                    f"(SELECT min(due_at) FROM {schema}.deliveries "
                    f"WHERE status = 'processing' AND {unlocked})"
                    if processing
                    else "NULL"
                )
                parts.append(
                    f"SELECT ?, (SELECT min(due_at) FROM {schema}.deliveries "
                    f"WHERE status = 'scheduled' AND {unlocked}), "
                    f"(SELECT min(lease_until) FROM {schema}.deliveries "
                    f"WHERE status IN ('claimed', 'sending') AND {unlocked}), {look}"
                )
                params.append(name)
            with self._transaction() as cur:
                # planning the UNION of hundreds of small reads takes far longer than running
                # it (52 ms against 8 ms for 100 workspaces): prepared with a generic plan,
                # it is planned once per connection (the same workspaces make the same
                # text), then runs in 3 to 4 ms (PostgreSQL would otherwise plan it again
                # each time, its generic plan's estimate being the higher)
                self._run(cur, "SET LOCAL plan_cache_mode = force_generic_plan")
                sql = " UNION ALL ".join(parts)
                rows = self._run(cur, sql, tuple(params), prepare=True).fetchall()
            for name, scheduled, lease, looked in rows:
                times = [float(t) for t in (scheduled, lease, looked) if t is not None]
                found[str(name)] = min(times) if times else None
        return found

    def _schema(self, name: str) -> str:
        """Workspace ``name``'s schema, quoted as an identifier."""
        return '"' + self.location(name).replace('"', '""') + '"'

    def claim(
        self, wanted: dict[str, tuple[int, float]], owner: str, now: float
    ) -> dict[str, list[DeliveryRow]] | None:
        """Claim for ``owner``, in each workspace of ``wanted`` (``{name: (limit,
        lease)}``), up to ``limit`` deliveries, as :meth:`Store.claim` does in one: expired
        leases first (their worker died), then ``processing`` ones due to be looked at,
        then scheduled ones due, leaving out locked accounts and archived workspaces, each
        under a lease of ``lease`` seconds. One statement for them all, so a fleet serving
        hundreds of workspaces claims a turn's share of each in one round trip instead of a
        transaction per workspace; ``FOR UPDATE SKIP LOCKED`` as in a lone claim, so
        processes claiming side by side never wait for each other nor take the same row.
        None on SQLite (a file per workspace: claim in each store).
        """
        if self._shared is None:
            return None
        found: dict[str, list[DeliveryRow]] = {name: [] for name in wanted}
        names = [name for name, (limit, _) in wanted.items() if limit > 0]
        for start in range(0, len(names), self.DUE_CHUNK):
            chunk = names[start : start + self.DUE_CHUNK]
            ctes: list[str] = []
            params: list[Any] = []
            for index, name in enumerate(chunk):
                limit, lease = wanted[name]
                ctes.append(self._claim_ctes(index, name))
                params += [now, limit, now, limit, now, limit, limit]
                params += [owner, now + lease, now, now + lease]
            selects = " UNION ALL ".join(
                f"SELECT {index} AS workspace, * FROM c{index}u" for index in range(len(chunk))
            )
            with self._transaction() as cur:
                rows = self._run(cur, f"WITH {', '.join(ctes)} {selects}", tuple(params))
                claimed = rows.fetchall()
            ordered = sorted(claimed, key=lambda row: (int(row[0]), int(row[2]), float(row[3])))
            for row in ordered:
                delivery = DeliveryRow.from_row(row[4:])
                delivery.reconcile = str(row[1]) == "sending"
                found[chunk[int(row[0])]].append(delivery)
        return found

    def _claim_ctes(self, index: int, name: str) -> str:
        """Workspace ``name``'s part of :meth:`claim`: three index-friendly limited reads,
        as :meth:`Store.claim` makes (one OR would sort the whole backlog), the ``limit``
        first of them, and the UPDATE that claims those (``c{index}u``, returning the
        state each was in, its rank and time, then the delivery's columns). Parameters:
        now, limit (three times), limit, owner, lease end, now, lease end."""
        schema = self._schema(name)
        table = f"{schema}.deliveries"
        kept = (
            f"account NOT IN (SELECT account FROM {schema}.account_locks) AND NOT EXISTS "
            f"(SELECT 1 FROM {schema}.govsocial_meta WHERE key = 'archived_at')"
        )
        c = f"c{index}"
        columns = ", ".join(f"d.{column.strip()}" for column in _DELIVERY_COLUMNS.split(","))
        return (
            f"{c}e AS (SELECT id, status, 0 AS rank, lease_until AS at FROM {table} "
            f"WHERE status IN ('claimed', 'sending') AND lease_until < ? AND {kept} "
            f"ORDER BY lease_until LIMIT ? FOR UPDATE SKIP LOCKED), "
            f"{c}p AS (SELECT id, status, 1 AS rank, due_at AS at FROM {table} "
            f"WHERE status = 'processing' AND due_at <= ? AND {kept} "
            f"ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED), "
            f"{c}s AS (SELECT id, status, 2 AS rank, due_at AS at FROM {table} "
            f"WHERE status = 'scheduled' AND due_at <= ? AND {kept} "
            f"ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED), "
            f"{c} AS (SELECT * FROM (SELECT * FROM {c}e UNION ALL SELECT * FROM {c}p "
            f"UNION ALL SELECT * FROM {c}s) AS found ORDER BY rank, at LIMIT ?), "
            f"{c}u AS (UPDATE {table} AS d SET "
            "status = CASE d.status WHEN 'scheduled' THEN 'claimed' ELSE d.status END, "
            "lease_owner = ?, lease_until = ?, updated_at = ?, "
            "due_at = CASE d.status WHEN 'processing' THEN ? ELSE d.due_at END "
            f"FROM {c} WHERE d.id = {c}.id "
            f"RETURNING {c}.status AS before, {c}.rank, {c}.at, {columns})"
        )

    # -- rate budgets ----------------------------------------------------------------------

    def take(self, scope: str, *, rate: float, burst: float) -> float:
        """Take one request from the token bucket ``scope`` (``rate`` per second, holding up
        to ``burst``), shared by every worker on this database: 0.0 when granted, else the
        seconds to wait before asking again (nothing is taken then).

        The bucket's clock is the database server's (PostgreSQL), so workers on machines
        whose clocks differ share one budget.
        """
        with self._transaction() as cur:
            if self.engine == "postgresql":
                # a budget lost in a crash costs nothing: no need to wait for the disk
                cur.execute("SET LOCAL synchronous_commit TO OFF")
                row = cur.execute("SELECT extract(epoch FROM clock_timestamp())").fetchone()
                now = float(row[0])
            else:
                now = time.time()
            self._run(
                cur,
                f"INSERT INTO {self._budgets} (scope, tokens, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (scope) DO NOTHING",
                (scope, float(burst), now),
            )
            lock = " FOR UPDATE" if self.engine == "postgresql" else ""
            tokens, updated = self._run(
                cur,
                f"SELECT tokens, updated_at FROM {self._budgets} WHERE scope = ?{lock}",
                (scope,),
            ).fetchone()
            tokens = min(float(burst), float(tokens) + max(0.0, now - float(updated)) * rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / rate
            self._run(
                cur,
                f"UPDATE {self._budgets} SET tokens = ?, updated_at = ? WHERE scope = ?",
                (tokens, now, scope),
            )
        return wait

    def budgets(self) -> dict[str, float]:
        """Every rate budget's tokens left (as last taken from), by scope."""
        with self._transaction() as cur:
            rows = self._run(cur, f"SELECT scope, tokens FROM {self._budgets}").fetchall()
        return {str(scope): float(tokens) for scope, tokens in rows}

    def close(self) -> None:
        """Close the registry's connection (and with it the workspaces sharing it)."""
        if self._shared is not None and self._owns:
            self._shared.close()
        if self._sqlite is not None:
            self._sqlite.close()


def open_workspace_store(url: str | Path, name: str) -> Store:
    """The store of the registered workspace ``name`` in the database (or beside the SQLite
    file) ``url``, on a connection of its own. Opening never registers a workspace (a typo
    would make a new, empty one): :meth:`Registry.add` does.

    :raises NotFound: ``name`` is not registered there.
    :raises ConfigurationError: ``name`` is not a workspace name, or the database is unusable.
    """
    check_workspace_name(name)
    registry = Registry(url)
    try:
        store = registry.store(name)
    except BaseException:
        registry.close()
        raise
    if isinstance(store, PostgresStore):
        store.adopt()  # the registry's connection is the store's own from now on
    else:
        registry.close()
    return store
