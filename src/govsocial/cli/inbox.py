"""The inbox commands of the ``govsocial`` command line.

``inbox sync|list|reply|clarify|assign|close|label|labels|escalate|forget|retention`` and
``hours`` act on the workspace named by ``--db``; ``--by`` (default ``$GOVSOCIAL_ACTOR``) names who
acts.
``performance`` is in :mod:`govsocial.cli.performance`; ``worker`` (in
:mod:`govsocial.cli.schedule`) applies the inbox retention.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from govsocial.cli._common import (
    by_arg,
    models_json,
    needs_by,
    open_workspace,
    print_json,
    shown,
    signing_key,
    text_from_args,
)
from govsocial.core.listening import INTENTS, SENTIMENTS

if TYPE_CHECKING:
    from govsocial.app import Workspace
    from govsocial.cli._common import Commands
    from govsocial.inbox import Erasure, InboxItem

__all__ = ["add_parsers"]


def add_parsers(commands: Commands) -> None:
    """Add ``inbox`` and ``hours`` to the main parser."""
    inbox = commands.add_parser("inbox", help="replies and mentions from every account")
    inbox_do = inbox.add_subparsers(dest="inbox_command", metavar="ACTION", required=True)
    sync = inbox_do.add_parser("sync", help="pull new replies and mentions")
    sync.add_argument("--account", action="append", metavar="NAME", help="only these accounts")
    sync.add_argument("--days", type=float, default=7, help="read replies to posts this recent")
    listed = inbox_do.add_parser("list", help="list items, emergencies first, then oldest first")
    listed.add_argument("--status", default="open", choices=("open", "answered", "closed", "all"))
    listed.add_argument("--account", metavar="NAME")
    listed.add_argument("--intent", choices=INTENTS, help="only items classified so")
    listed.add_argument("--older-than", type=float, metavar="HOURS", help="waiting longer")
    listed.add_argument("--json", action="store_true", help="print JSON")
    reply = inbox_do.add_parser("reply", help="answer an item on its platform")
    reply.add_argument("item_id")
    reply.add_argument("text", help="the answer ('-' reads it from standard input)")
    by_arg(reply)
    clarify = inbox_do.add_parser(
        "clarify", help="answer a hoax report with a published clarification's link"
    )
    clarify.add_argument("item_id")
    clarify.add_argument("clarification", help="the job that published the clarification")
    clarify.add_argument("--language", choices=("id", "en"), help="default: the item's")
    by_arg(clarify)
    assign = inbox_do.add_parser("assign", help="give an item to someone to answer")
    assign.add_argument("item_id")
    assign.add_argument("--to", required=True, metavar="PERSON")
    by_arg(assign)
    close = inbox_do.add_parser("close", help="close an item without (another) answer")
    close.add_argument("item_id")
    close.add_argument("--reason", required=True, choices=("answered", "no reply needed", "spam"))
    by_arg(close)
    forget = inbox_do.add_parser(
        "forget",
        help="erase a citizen's messages on their request (UU PDP / GDPR)",
        description="Erase what HANDLE wrote to the workspace's accounts (text, name, "
        "handle, URLs, platform data), on every platform unless --platform; response times "
        "and counts stay. Audit-logged with a pseudonym of the handle, never the handle.",
    )
    forget.add_argument("handle", help="the handle or author id, as the platform shows it")
    forget.add_argument("--platform", help="only on this platform (default: all)")
    forget.add_argument(
        "--reason", required=True, help="the request's case or letter number (not the name)"
    )
    by_arg(forget)
    retention = inbox_do.add_parser(
        "retention",
        help="show or set how long inbox content is kept; apply it",
        description="Without DAYS, show the setting. DAYS (or 'off') sets it: inbox content "
        "older than that is erased, as forget does, by every `govsocial worker` once an hour "
        "and by --apply now. Default: off (kept).",
    )
    retention.add_argument("days", nargs="?", help="days to keep inbox content, or 'off'")
    retention.add_argument("--apply", action="store_true", help="erase what is older now")
    by_arg(retention)
    label = inbox_do.add_parser("label", help="correct an item's classification")
    label.add_argument("item_id")
    label.add_argument("--intent", required=True, choices=INTENTS)
    label.add_argument("--sentiment", choices=SENTIMENTS)
    by_arg(label)
    escalate = inbox_do.add_parser(
        "escalate",
        help="send an item to a ticket system (a target a plugin registers)",
        description="Send ITEM to the escalation target --to (a signed webhook, email, or "
        "a plugin's: docs/listening.md, Escalation). Once per item and target: again, it "
        "prints the first ticket and sends nothing. The ticket is stored on the item.",
    )
    escalate.add_argument("item_id")
    escalate.add_argument("--to", required=True, metavar="TARGET")
    escalate.add_argument("--note", help="a note to the case officer")
    escalate.add_argument(
        "--include-author", action="store_true", help="send the author's handle and name too"
    )
    escalate.add_argument(
        "--resend",
        action="store_true",
        help="send again a case whose sending was interrupted (email)",
    )
    by_arg(escalate)
    labels = inbox_do.add_parser("labels", help="export the re-labels as training data")
    labels.add_argument("--output", required=True, metavar="PATH", help="a .jsonl or .csv file")
    labels.add_argument("--format", choices=("jsonl", "csv"), help="default: from the suffix")
    inbox.set_defaults(handler=_cmd_inbox)

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
    hours.set_defaults(handler=_cmd_hours)


def _show(item: InboxItem) -> str:
    waited = ""
    if item.response_seconds is not None:
        waited = f"  answered after {item.response_seconds / 3600:.1f} h by {item.responder}"
    assigned = f"  -> {item.assigned_to}" if item.assigned_to else ""
    intent = (item.intent or "?").upper() if item.intent == "emergency" else item.intent or "?"
    if item.erased:
        return shown(
            f"{item.id}  {item.status:<8} {intent:<11} {item.kind:<7} {item.account:<16} "
            f"{item.received_at:%Y-%m-%d %H:%M}Z  [erased]{assigned}{waited}"
        )
    return shown(
        f"{item.id}  {item.status:<8} {intent:<11} {item.kind:<7} {item.account:<16} "
        f"{item.received_at:%Y-%m-%d %H:%M}Z  {item.author}: {item.text[:80]}{assigned}{waited}"
    )


_NOT_SCRUBBED = {
    "postgresql": "PostgreSQL keeps the old row versions until the table is rewritten: run "
    "VACUUM FULL inbox_items; as its owner (docs/inbox.md)",
    "sqlite": "another process is reading the workspace: its write-ahead log is emptied at "
    "the next checkpoint",
}


def _erased(done: Erasure) -> str:
    where = ", ".join(f"{name}: {count}" for name, count in sorted(done.by_platform.items()))
    closed = f", {done.closed} open closed" if done.closed else ""
    return f"erased {done.items} items" + (f" ({where}{closed})" if where else "")


def _retention(args: argparse.Namespace, ws: Workspace) -> int:
    if args.days is not None:
        if args.by is None:
            raise needs_by("inbox retention DAYS")
        text = args.days.strip().casefold()
        days = None if text in ("off", "none", "0") else _days(args.days)
        ws.set_retention(inbox_days=days, by=args.by, key=signing_key(args))
    days = ws.retention()
    print(f"inbox retention: {f'{days} days' if days else 'off (inbox content is kept)'}")
    if args.apply:
        print(_erased(ws.apply_retention(by=args.by, key=signing_key(args))))
    return 0


def _days(text: str) -> int:
    from govsocial.core.errors import ConfigurationError

    try:
        return int(text)
    except ValueError:
        raise ConfigurationError(
            f"retention {text!r} is not a number of days",
            field="days",
            hint="e.g. 365, or off to keep inbox content",
        ) from None


def _cmd_inbox(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        if args.inbox_command == "forget":
            if args.by is None:
                raise needs_by("inbox forget")
            erased = ws.forget(
                args.handle,
                by=args.by,
                key=signing_key(args),
                reason=args.reason,
                platform=args.platform,
            )
            print(_erased(erased))
            print(f"audit: forget, pseudonym {erased.pseudonym} (the handle is not kept)")
            if not erased.scrubbed:
                print(_NOT_SCRUBBED[ws.store.engine], file=sys.stderr)
            return 0
        if args.inbox_command == "retention":
            return _retention(args, ws)
        if args.inbox_command == "sync":
            done = ws.pull_inbox(args.account, window=timedelta(days=args.days))
            for name, count in sorted(done.new.items()):
                print(shown(f"{name}: {count} new"))
            for name, reason in sorted(done.failed.items()):
                print(shown(f"{name}: FAILED {reason}"), file=sys.stderr)
            for item_id in done.emergencies:
                print(shown(f"EMERGENCY: {_show(ws.inbox_item(item_id))}"))
            return 1 if done.failed else 0
        if args.inbox_command == "list":
            status = None if args.status == "all" else args.status
            older = timedelta(hours=args.older_than) if args.older_than else None
            items = ws.inbox(status, account=args.account, older_than=older, intent=args.intent)
            if args.json:
                print_json(models_json(items))
            else:
                print("\n".join(_show(i) for i in items) if items else "inbox empty")
            return 0
        if args.inbox_command == "reply":
            sent = ws.reply(
                args.item_id, text_from_args(args.text), by=args.by, key=signing_key(args)
            )
            print(shown(f"answered: {sent.url or sent.id}"))
            return 0
        if args.inbox_command == "clarify":
            sent = ws.answer_with_clarification(
                args.item_id,
                args.clarification,
                by=args.by,
                key=signing_key(args),
                language=args.language,
            )
            print(shown(f"answered with the clarification: {sent.url or sent.id}"))
            return 0
        if args.inbox_command == "label":
            item = ws.label(
                args.item_id,
                intent=args.intent,
                sentiment=args.sentiment,
                by=args.by,
                key=signing_key(args),
            )
            print(_show(item))
            return 0
        if args.inbox_command == "labels":
            count = ws.export_labels(args.output, args.format)
            print(shown(f"{count} labelled items written to {args.output}"))
            return 0
        if args.inbox_command == "escalate":
            ticket = ws.escalate(
                args.item_id,
                to=args.to,
                by=args.by,
                note=args.note,
                include_author=args.include_author,
                resend=args.resend,
                key=signing_key(args),
            )
            print(shown(f"ticket {ticket.reference}" + (f"  {ticket.url}" if ticket.url else "")))
            return 0
        if args.inbox_command == "assign":
            print(_show(ws.assign(args.item_id, to=args.to, by=args.by, key=signing_key(args))))
            return 0
        print(
            _show(
                ws.close_item(args.item_id, by=args.by, key=signing_key(args), reason=args.reason)
            )
        )
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
            key=signing_key(args),
        )
        extra = f", +{len(parsed.extra_holidays)} days" if parsed.extra_holidays else ""
        print(
            shown(
                f"{args.account}: {parsed.text} (holidays: {parsed.country or 'none'}{extra}); "
                f"target {args.target_hours:g} service hours"
            )
        )
    return 0
