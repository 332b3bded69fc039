"""Many workspaces in one database: create, list, archive, open.

::

    workspaces = govsocial.Workspaces.open("postgresql://gs@db/govsocial")
    workspaces.create("dinkes_bogor", institution="Dinas Kesehatan Kota Bogor", by="operator")
    ws = govsocial.Workspace.open("postgresql://gs@db/govsocial", workspace="dinkes_bogor")
    workspaces.archive("dinkes_bogor", by="operator", reason="merged into dinkes_jabar")

Each workspace has its own accounts, people, approval rules, audit chain and archive, in a
PostgreSQL schema of its own (or an SQLite file of its own): a person of one workspace is
unknown to every other, and nothing written in one can be read from another through
govsocial. The registry (:class:`~govsocial.store.registry.Registry`) keeps the names.

Creating and archiving are the operator's actions (the regional office that runs the
database), not a person's of the workspace: ``by`` names the operator, and each is recorded
in the workspace's own audit log (``create_workspace``, ``archive_workspace``), so its chain
says when it began and when it was closed.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import TracebackType
from typing import Any

from govsocial.core.errors import ConfigurationError
from govsocial.store.registry import Registry, WorkspaceEntry, check_workspace_name
from govsocial.workspace import audit
from govsocial.workspace.core import WorkspaceCore

__all__ = ["Workspaces"]


class Workspaces:
    """The workspaces registered in one database (or beside one SQLite file).

    :param registry: the registry (see :meth:`open`).
    :param options: passed to every :class:`~govsocial.workspace.core.WorkspaceCore` opened
        through :meth:`core` (``lease``, ``plugins``...).
    """

    def __init__(self, registry: Registry, **options: Any) -> None:
        self.registry = registry
        self.options = options
        self._open: dict[str, WorkspaceCore] = {}

    @classmethod
    def open(cls, url: str | Path, **options: Any) -> Workspaces:
        """The registry of the database ``url`` (made when it has none)."""
        return cls(Registry(url), **options)

    def __repr__(self) -> str:
        return f"<Workspaces {self.registry.url}>"

    def __enter__(self) -> Workspaces:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def create(self, name: str, *, institution: str, by: str | None = None) -> WorkspaceEntry:
        """Create workspace ``name`` for ``institution``: registered, its schema (or file)
        made and migrated, and its audit log opened with a ``create_workspace`` entry.

        :raises ConfigurationError: the name is not allowed (1 to 40 of ``a-z0-9_``, from a
            letter) or taken, or the institution is empty.
        """
        entry = self.registry.add(name, institution, by=by, now=time.time())
        store = self.registry.store(name, shared=False)
        try:
            with store.transaction() as cur:
                store.put_meta(cur, "institution", entry.institution)
                audit.append(
                    store,
                    cur,
                    actor=by,
                    action="create_workspace",
                    obj=name,
                    detail={"institution": entry.institution, "registry": self.registry.url},
                )
        finally:
            store.close()
        return entry

    def list(self, *, archived: bool = True) -> list[WorkspaceEntry]:
        """Every workspace by name (without the archived ones when ``archived`` is False)."""
        return self.registry.entries(archived=archived)

    def get(self, name: str) -> WorkspaceEntry:
        """Workspace ``name``.

        :raises NotFound: there is none.
        """
        return self.registry.entry(name)

    def archive(
        self, name: str, *, by: str | None = None, reason: str | None = None
    ) -> WorkspaceEntry:
        """Archive workspace ``name``: its data kept and readable, nothing planned or
        published from it any more (workers claim nothing there; planning is refused).
        Recorded in its audit log (``archive_workspace``) and in the registry.

        :raises ConfigurationError: it is archived already.
        :raises NotFound: there is no such workspace.
        """
        entry = self.registry.entry(name)
        if entry.archived:
            raise ConfigurationError(
                f"workspace {name!r} was archived already",
                field="workspace",
                hint="`govsocial workspaces list` shows when and by whom",
            )
        now = time.time()
        store = self.registry.store(name, shared=False)
        try:
            with store.transaction() as cur:
                store.put_meta(cur, "archived_at", repr(now))
                audit.append(
                    store,
                    cur,
                    actor=by,
                    action="archive_workspace",
                    obj=name,
                    detail={"reason": reason},
                    at=now,
                )
        finally:
            store.close()
        self.registry.mark_archived(name, by=by, reason=reason, now=now)
        return self.registry.entry(name)

    def core(self, name: str, **options: Any) -> WorkspaceCore:
        """Workspace ``name``'s core, opened once and kept (on the registry's one
        connection, with PostgreSQL); closed by :meth:`close`."""
        check_workspace_name(name)
        found = self._open.get(name)
        if found is None:
            found = WorkspaceCore(self.registry.store(name), **{**self.options, **options})
            self._open[name] = found
        return found

    def close(self) -> None:
        """Close every workspace opened here, then the registry."""
        for core in self._open.values():
            core.close()
        self._open.clear()
        self.registry.close()
