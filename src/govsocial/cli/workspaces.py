"""``govsocial workspaces list|create|archive``: the many workspaces of one database.

``--db`` names the database (PostgreSQL: its schemas hold the workspaces; SQLite: the base
file beside which each workspace has a file of its own); every other command reaches one of
them with ``--workspace NAME`` (or ``$GOVSOCIAL_WORKSPACE``), and ``govsocial worker
--all-workspaces`` serves them all.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from govsocial.cli._common import print_json, shown

if TYPE_CHECKING:
    from govsocial.cli._common import Commands

__all__ = ["add_parsers"]


def add_parsers(commands: Commands) -> None:
    """Add ``workspaces`` to ``commands``."""
    spaces = commands.add_parser(
        "workspaces", help="the workspaces (institutions) of one database: list, create, archive"
    )
    spaces_do = spaces.add_subparsers(dest="workspaces_command", metavar="ACTION", required=True)
    listing = spaces_do.add_parser("list", help="every workspace, archived ones marked")
    listing.add_argument("--json", action="store_true", help="print JSON")
    create = spaces_do.add_parser("create", help="create a workspace for an institution")
    create.add_argument("name", help="1-40 of a-z, 0-9 and _, from a letter: dinkes_bogor")
    create.add_argument(
        "--institution", required=True, help="the institution's name: Dinas Kesehatan Kota Bogor"
    )
    archive = spaces_do.add_parser(
        "archive", help="archive a workspace: data kept, nothing planned or published any more"
    )
    archive.add_argument("name")
    archive.add_argument("--reason", help="why (kept in the registry and its audit log)")
    for sub in (create, archive):
        sub.add_argument(
            "--by",
            default=os.environ.get("GOVSOCIAL_ACTOR") or None,
            metavar="OPERATOR",
            help="who does this (the operator; recorded in the workspace's audit log)",
        )
    spaces.set_defaults(handler=_cmd_workspaces)


def _when(at: float | None) -> str:
    return "" if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%MZ")


def _cmd_workspaces(args: argparse.Namespace) -> int:
    from govsocial.workspace.core import DEFAULT_DB
    from govsocial.workspace.tenancy import Workspaces

    url = args.db or os.environ.get("GOVSOCIAL_DB") or DEFAULT_DB
    with Workspaces.open(url) as spaces:
        if args.workspaces_command == "create":
            entry = spaces.create(args.name, institution=args.institution, by=args.by)
            print(f"created workspace {entry.name} for {shown(entry.institution)}")
            print(f"  use it with: govsocial --db URL --workspace {entry.name} ...")
            return 0
        if args.workspaces_command == "archive":
            entry = spaces.archive(args.name, by=args.by, reason=args.reason)
            print(f"archived workspace {entry.name} at {_when(entry.archived_at)}")
            return 0
        entries = spaces.list()
        if args.json:
            print_json(
                [
                    {
                        "name": e.name,
                        "institution": e.institution,
                        "created_at": _when(e.created_at),
                        "created_by": e.created_by,
                        "archived_at": _when(e.archived_at) or None,
                        "archived_by": e.archived_by,
                        "archive_reason": e.archive_reason,
                    }
                    for e in entries
                ]
            )
            return 0
        if not entries:
            print("no workspaces yet: `govsocial workspaces create NAME --institution ...`")
        for e in entries:
            state = f"archived {_when(e.archived_at)}" if e.archived else "in service"
            print(f"{e.name:<24} {shown(e.institution)}  (created {_when(e.created_at)}; {state})")
    return 0
