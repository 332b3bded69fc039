"""``govsocial workspaces list|create|archive``: the many workspaces of one database, and
``broadcast`` / ``broadcasts accept|stop`` between them.

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

from govsocial.cli._common import (
    by_arg,
    media_args,
    open_workspace,
    post_from_args,
    print_json,
    shown,
    signing_key,
)

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

    cast = commands.add_parser(
        "broadcast",
        help="from the --workspace coordinating, send a post into other workspaces",
    )
    cast.add_argument("text", help="the post text ('-' reads it from standard input)")
    whom = cast.add_mutually_exclusive_group(required=True)
    whom.add_argument("--to", action="append", metavar="WORKSPACE", help="a target (repeatable)")
    whom.add_argument("--all", action="store_true", help="every workspace in service")
    cast.add_argument("--at", help="when, with its offset (default: now)")
    cast.add_argument("--language", help="language code of the post, e.g. id")
    cast.add_argument("--json", action="store_true", help="print JSON")
    by_arg(cast)
    media_args(cast)
    cast.set_defaults(handler=_cmd_broadcast)

    accepts = commands.add_parser(
        "broadcasts", help="accept or stop broadcasts from a coordinating workspace"
    )
    accepts_do = accepts.add_subparsers(dest="broadcasts_command", metavar="ACTION", required=True)
    accept = accepts_do.add_parser("accept", help="accept broadcasts from SOURCE (head of office)")
    accept.add_argument("source", help="the coordinating workspace")
    accept.add_argument(
        "--automatic",
        action="store_true",
        help="publish them at their time as jobs (default: drafts for the approvers)",
    )
    accept.add_argument(
        "--account", action="append", metavar="NAME", help="only on this account (repeatable)"
    )
    by_arg(accept)
    stop = accepts_do.add_parser("stop", help="accept no more broadcasts from SOURCE")
    stop.add_argument("source")
    by_arg(stop)
    accepts.set_defaults(handler=_cmd_broadcasts)


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


def _cmd_broadcast(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        sent = ws.broadcast(
            post_from_args(args),
            workspaces="all" if args.all else args.to,
            at=args.at,
            by=args.by,
            key=signing_key(args),
        )
    if args.json:
        print_json(sent.model_dump(mode="json"))
        return 0
    print(f"broadcast {sent.id} from {sent.source} (content {sent.content[:19]}...)")
    for target in sent.targets:
        what = target.job or target.draft or shown(target.reason or "")
        if target.outcome == "job+draft":
            what = f"job {target.job}, draft {target.draft}"
        print(f"  {target.workspace:<24} {target.outcome:<9} {what}")
    return 0


def _cmd_broadcasts(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        if args.broadcasts_command == "accept":
            accepted = ws.accept_broadcasts(
                args.source,
                automatic=args.automatic,
                accounts=args.account,
                by=args.by,
                key=signing_key(args),
            )
            how = "as jobs, published at their time" if accepted["automatic"] else "as drafts"
            on = ", ".join(accepted["accounts"] or []) or "every account"
            print(f"accepting broadcasts from {args.source} {how}, on {on}")
        else:
            ws.stop_broadcasts(args.source, by=args.by, key=signing_key(args))
            print(f"no more broadcasts from {args.source}")
    return 0
