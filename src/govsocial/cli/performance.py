"""``govsocial performance``: the work done per person, account or unit in a period.

A table on the terminal, or a report written as HTML (with charts), CSV or JSON, computed
from the audit log of the workspace named by ``--db`` (see docs/inbox.md).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from govsocial.cli._common import open_workspace, shown

if TYPE_CHECKING:
    from govsocial.cli._common import Commands

__all__ = ["add_parsers"]


def add_parsers(commands: Commands) -> None:
    """Add ``performance`` to the main parser."""
    performance = commands.add_parser("performance", help="work per person, account or unit")
    performance.add_argument("--period", required=True, help="2026-11, 2026-Q4, 2026 ...")
    performance.add_argument(
        "--by",
        dest="group",
        default="person",
        choices=("person", "account", "unit", "verdict"),
        help="verdict: the hoax clarifications per verdict (table and csv)",
    )
    performance.add_argument("--format", choices=("html", "csv", "json", "table"), default="table")
    performance.add_argument("--output", metavar="FILE", help="default: performance-<period>.*")
    performance.set_defaults(handler=_cmd_performance)


def _cmd_performance(args: argparse.Namespace) -> int:
    from govsocial.analytics.performance import clarification_rows, performance_rows

    with open_workspace(args) as ws:
        if args.format == "table" and args.group == "verdict":
            found = clarification_rows(ws, args.period)
            print(f"{'verdict':<16} {'published':>10} {'answers':>10}  evidence")
            for verdict, row in found.items():
                print(
                    f"{verdict:<16} {row['published']:>10} {row['answers']:>10}  {row['evidence']}"
                )
            if not found:
                print("(no clarification in this period)")
            return 0
        if args.format == "table":
            rows = performance_rows(ws, args.period, args.group)
            columns = (
                "posts_published",
                "drafts_approved",
                "requests_fulfilled",
                "replies_sent",
                "response_median_h",
                "answered_within_target",
            )
            print(f"{args.group:<20} " + " ".join(f"{c[:14]:>14}" for c in columns))
            for key, row in rows.items():
                cells = []
                for column in columns:
                    value = row[column]
                    cells.append(f"{'-' if value is None else round(value, 2):>14}")
                print(shown(f"{key:<20} ") + " ".join(cells))
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
