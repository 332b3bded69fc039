"""The listening commands of the ``govsocial`` command line: ``classify`` and ``feeds``.

``classify TEXT`` says what a message is (intent, sentiment, confidence, the classifier
that decided and why), offline. ``feeds add|list|sync`` follows the central narrative (GPR,
a ministry's RSS or Atom): each new item becomes a draft awaiting approval. The inbox's
``list --intent``, ``label``, ``labels`` and ``escalate`` are in :mod:`govsocial.cli.inbox`.
"""

from __future__ import annotations

import argparse
import sys
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

if TYPE_CHECKING:
    from govsocial.cli._common import Commands

__all__ = ["add_parsers"]


def add_parsers(commands: Commands) -> None:
    """Add ``classify`` and ``feeds`` to the main parser."""
    classify = commands.add_parser(
        "classify", help="what a message is: question, complaint, praise, hoax report..."
    )
    classify.add_argument("text", help="the message ('-' reads it from standard input)")
    classify.add_argument("--language", choices=("id", "en"), help="default: detected")
    classify.add_argument("--json", action="store_true", help="print JSON")
    classify.set_defaults(handler=_cmd_classify)

    feeds = commands.add_parser(
        "feeds", help="follow the central narrative (GPR, RSS, Atom): items become drafts"
    )
    feeds_do = feeds.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    add = feeds_do.add_parser(
        "add",
        help="follow a feed: each new item becomes a draft by --by on the accounts",
        description="Follow the RSS, Atom or GPR feed at URL. Each item not seen before "
        "becomes a draft awaiting approval on every --account, written by --by, crediting "
        "the source (title and link). Nothing is fetched until `feeds sync`.",
    )
    add.add_argument("url", help="the feed's http(s) address")
    add.add_argument("--account", action="append", required=True, metavar="NAME", help="repeatable")
    add.add_argument("--name", help="how the workspace calls it (default: the host name)")
    add.add_argument(
        "--language", choices=("id", "en"), default="id", help="of the credit line (Sumber:)"
    )
    by_arg(add)
    listed = feeds_do.add_parser("list", help="the followed feeds and their last poll")
    listed.add_argument("--all", action="store_true", help="with the stopped ones")
    listed.add_argument("--json", action="store_true", help="print JSON")
    sync = feeds_do.add_parser(
        "sync",
        help="poll the feeds (conditional GET) and draft each new item",
        description="Poll every followed feed, or those NAMEd, with If-None-Match and "
        "If-Modified-Since, and turn each new item into a draft awaiting approval. Exit 1 "
        "when a feed failed (it is tried again next time). --key: the signing key of a "
        "planner who signs.",
    )
    sync.add_argument("names", nargs="*", metavar="NAME", help="only these feeds")
    sync.add_argument(
        "--key",
        default=None,
        metavar="PATH",
        help="the signing key file of a feed's planner, when they sign",
    )
    stop = feeds_do.add_parser("remove", help="stop following a feed (its drafts stay)")
    stop.add_argument("name")
    by_arg(stop)
    feeds.set_defaults(handler=_cmd_feeds)


def _cmd_classify(args: argparse.Namespace) -> int:
    from govsocial.listening.classify import classify

    found = classify(text_from_args(args.text), args.language)
    if args.json:
        print_json(found.model_dump(mode="json"))
        return 0
    print(
        f"{found.intent}  sentiment {found.sentiment}  confidence {found.confidence:.2f}  "
        f"language {found.language or '?'}  by {shown(found.classifier)}"
    )
    for reason in found.reasons:
        print(f"  - {shown(reason)}")
    return 0


def _cmd_feeds(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        if args.feeds_command == "add":
            if args.by is None:
                raise needs_by("feeds add")
            feed = ws.follow_feed(
                args.url,
                accounts=args.account,
                by=args.by,
                name=args.name,
                language=args.language,
                key=signing_key(args),
            )
            print(shown(f"following {feed.name}: {feed.url} -> {', '.join(feed.accounts)}"))
            return 0
        if args.feeds_command == "remove":
            if args.by is None:
                raise needs_by("feeds remove")
            feed = ws.unfollow_feed(args.name, by=args.by, key=signing_key(args))
            print(shown(f"stopped following {feed.name}"))
            return 0
        if args.feeds_command == "list":
            feeds = ws.feeds(stopped=args.all)
            if args.json:
                print_json(models_json(feeds))
                return 0
            if not feeds:
                print("no feeds followed")
            for feed in feeds:
                checked = f"{feed.checked_at:%Y-%m-%d %H:%M}Z" if feed.checked_at else "never"
                state = "" if feed.following else "  [stopped]"
                error = f"  FAILED {feed.error}" if feed.error else ""
                print(
                    shown(
                        f"{feed.name:<16} {feed.url}  -> {', '.join(feed.accounts)}  by "
                        f"{feed.by}  checked {checked}{state}{error}"
                    )
                )
            return 0
        done = ws.sync_feeds(args.names or None, key=signing_key(args))
        for name, ids in sorted(done.drafts.items()):
            print(shown(f"{name}: {len(ids)} new drafts ({', '.join(ids)})"))
        for name in sorted(done.unchanged):
            print(shown(f"{name}: unchanged"))
        for name, keys in sorted(done.skipped.items()):
            print(shown(f"{name}: {len(keys)} items fit no platform of its accounts (skipped)"))
        for name, reason in sorted(done.failed.items()):
            print(shown(f"{name}: FAILED {reason}"), file=sys.stderr)
        return 1 if done.failed else 0
