"""The inbox and performance commands of the ``govsocial`` command line.

``inbox sync|list|reply|assign|close``, ``hours`` and ``performance`` act on the workspace
named by ``--db``; ``--by`` (default ``$GOVSOCIAL_ACTOR``) names who acts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from govsocial.cli.schedule import by_arg, open_workspace

if TYPE_CHECKING:
    from govsocial.inbox import InboxItem

__all__ = ["HANDLERS", "add_parsers"]


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the inbox and performance subcommands to the main parser."""
    inbox = commands.add_parser("inbox", help="replies and mentions from every account")
    inbox_do = inbox.add_subparsers(dest="inbox_command", metavar="ACTION", required=True)
    sync = inbox_do.add_parser("sync", help="pull new replies and mentions")
    sync.add_argument("--account", action="append", metavar="NAME", help="only these accounts")
    sync.add_argument("--days", type=float, default=7, help="read replies to posts this recent")
    listed = inbox_do.add_parser("list", help="list items, oldest first")
    listed.add_argument("--status", default="open", choices=("open", "answered", "closed", "all"))
    listed.add_argument("--account", metavar="NAME")
    listed.add_argument("--older-than", type=float, metavar="HOURS", help="waiting longer")
    listed.add_argument("--json", action="store_true", help="print JSON")
    reply = inbox_do.add_parser("reply", help="answer an item on its platform")
    reply.add_argument("item_id")
    reply.add_argument("text", help="the answer ('-' reads it from standard input)")
    by_arg(reply)
    assign = inbox_do.add_parser("assign", help="give an item to someone to answer")
    assign.add_argument("item_id")
    assign.add_argument("--to", required=True, metavar="PERSON")
    by_arg(assign)
    close = inbox_do.add_parser("close", help="close an item without (another) answer")
    close.add_argument("item_id")
    close.add_argument("--reason", required=True, choices=("answered", "no reply needed", "spam"))
    by_arg(close)

    hours = commands.add_parser("hours", help="an account's service hours and response target")
    hours.add_argument("account")
    hours.add_argument("spec", help="e.g. 'Mon-Thu 07:30-16:00; Fri 07:30-16:30'")
    hours.add_argument(
        "--holidays",
        default="ID",
        help="a country code and/or dates, comma-separated (default ID; 'none' for none)",
    )
    hours.add_argument("--target-hours", type=float, default=8.0, help="in service hours")
    by_arg(hours)

    performance = commands.add_parser("performance", help="work per person, account or unit")
    performance.add_argument("--period", required=True, help="2026-11, 2026-Q4, 2026 ...")
    performance.add_argument(
        "--by", dest="group", default="person", choices=("person", "account", "unit")
    )
    performance.add_argument("--format", choices=("html", "csv", "json", "table"), default="table")
    performance.add_argument("--output", metavar="FILE", help="default: performance-<period>.*")


def _show(item: InboxItem) -> str:
    waited = ""
    if item.response_seconds is not None:
        waited = f"  answered after {item.response_seconds / 3600:.1f} h by {item.responder}"
    assigned = f"  -> {item.assigned_to}" if item.assigned_to else ""
    return (
        f"{item.id}  {item.status:<8} {item.kind:<7} {item.account:<16} "
        f"{item.received_at:%Y-%m-%d %H:%M}Z  {item.author}: {item.text[:80]}{assigned}{waited}"
    )


def _cmd_inbox(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        if args.inbox_command == "sync":
            done = ws.pull_inbox(args.account, window=timedelta(days=args.days))
            for name, count in sorted(done.new.items()):
                print(f"{name}: {count} new")
            for name, reason in sorted(done.failed.items()):
                print(f"{name}: FAILED {reason}", file=sys.stderr)
            return 1 if done.failed else 0
        if args.inbox_command == "list":
            status = None if args.status == "all" else args.status
            older = timedelta(hours=args.older_than) if args.older_than else None
            items = ws.inbox(status, account=args.account, older_than=older)
            if args.json:
                print(json.dumps([json.loads(i.model_dump_json()) for i in items], indent=2))
            else:
                print("\n".join(_show(i) for i in items) if items else "inbox empty")
            return 0
        if args.inbox_command == "reply":
            text = sys.stdin.read() if args.text == "-" else args.text
            sent = ws.reply(args.item_id, text, by=args.by)
            print(f"answered: {sent.url or sent.id}")
            return 0
        if args.inbox_command == "assign":
            print(_show(ws.assign(args.item_id, to=args.to, by=args.by)))
            return 0
        print(_show(ws.close_item(args.item_id, by=args.by, reason=args.reason)))
    return 0


def _cmd_hours(args: argparse.Namespace) -> int:
    listed = [h.strip() for h in args.holidays.split(",") if h.strip()]
    holidays = None if listed == ["none"] else listed
    with open_workspace(args) as ws:
        parsed = ws.set_service_hours(
            args.account,
            args.spec,
            holidays=holidays,
            target=timedelta(hours=args.target_hours),
            by=args.by,
        )
        extra = f", +{len(parsed.extra_holidays)} days" if parsed.extra_holidays else ""
        print(
            f"{args.account}: {parsed.text} (holidays: {parsed.country or 'none'}{extra}); "
            f"target {args.target_hours:g} service hours"
        )
    return 0


def _cmd_performance(args: argparse.Namespace) -> int:
    from govsocial.analytics.performance import performance_rows

    with open_workspace(args) as ws:
        if args.format == "table":
            rows = performance_rows(ws, args.period, args.group)
            shown = (
                "posts_published",
                "drafts_approved",
                "requests_fulfilled",
                "replies_sent",
                "response_median_h",
                "answered_within_target",
            )
            print(f"{args.group:<20} " + " ".join(f"{c[:14]:>14}" for c in shown))
            for key, row in rows.items():
                cells = []
                for column in shown:
                    value = row[column]
                    cells.append(f"{'-' if value is None else round(value, 2):>14}")
                print(f"{key:<20} " + " ".join(cells))
            if not rows:
                print("(nothing in this period)")
            return 0
        report = ws.performance_report(args.period)
        path = args.output or f"performance-{report.period.label}.{args.format}"
        if args.format == "html":
            written = report.to_html(path)
        elif args.format == "csv":
            written = report.to_csv(path, by=args.group)
        else:
            written = report.to_json(path)
        print(f"performance report written to {written}")
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "inbox": _cmd_inbox,
    "hours": _cmd_hours,
    "performance": _cmd_performance,
}
