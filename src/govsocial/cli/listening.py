"""The listening commands of the ``govsocial`` command line: ``classify``, ``watch`` and
``feeds``.

``classify TEXT`` says what a message is (intent, sentiment, confidence, the classifier
that decided and why), offline; ``watch add|list|sync|stop`` follows a topic on the
platforms that allow search (docs/listening.md, "Watching"); ``feeds add|list|sync|remove``
follows the central narrative (GPR, a ministry's RSS or Atom): each new item becomes a
draft awaiting approval. The inbox's ``list --intent``, ``label``, ``labels`` and
``escalate`` are in :mod:`govsocial.cli.inbox`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
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
from govsocial.core.listening import INTENTS

if TYPE_CHECKING:
    from govsocial.cli._common import Commands
    from govsocial.inbox.watches import Watch, WatchedPost

__all__ = ["add_parsers"]


def add_parsers(commands: Commands) -> None:
    """Add ``classify``, ``watch`` and ``feeds`` to the main parser."""
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
    watch = commands.add_parser(
        "watch", help="follow a keyword, #hashtag or phrase on platforms that allow search"
    )
    watch_do = watch.add_subparsers(dest="watch_command", metavar="ACTION", required=True)
    add = watch_do.add_parser(
        "add",
        help="watch a topic through the searches of some accounts",
        description='Follow QUERY (words, all of them; a #hashtag; or a "quoted phrase") '
        "through the searches of each --account. Audit-logged.",
    )
    add.add_argument("name", help="a short name: letters, digits, - _ .")
    add.add_argument("query", help='words, a #hashtag or a "phrase"')
    add.add_argument("--account", action="append", required=True, metavar="NAME", help="repeatable")
    add.add_argument("--spike-min", type=int, default=10, help="fewest posts an hour to flag")
    add.add_argument("--spike-sd", type=float, default=3.0, help="spreads above the baseline")
    by_arg(add)
    listed = watch_do.add_parser(
        "list", help="the watches, or with NAME the posts it found (oldest first)"
    )
    listed.add_argument("name", nargs="?", help="a watch: list its posts")
    listed.add_argument("--hours", type=float, metavar="H", help="only posts this recent")
    listed.add_argument("--intent", choices=INTENTS, help="only posts classified so")
    listed.add_argument("--json", action="store_true", help="print JSON")
    sync = watch_do.add_parser("sync", help="search for every watch (or NAME...) now")
    sync.add_argument("names", nargs="*", metavar="NAME")
    sync.add_argument(
        "--backfill-hours", type=float, default=24, help="how far a first search looks back"
    )
    stop = watch_do.add_parser("stop", help="stop a watch (what it found stays)")
    stop.add_argument("name")
    by_arg(stop)
    watch.set_defaults(handler=_cmd_watch)


def _watch_line(watch: Watch) -> str:
    state = "active" if watch.active else "stopped"
    return shown(
        f"{watch.name:<16} {state:<8} {watch.query!r} on {', '.join(watch.accounts)}  "
        f"(spike: >= {watch.spike_min} posts, {watch.spike_sd:g} sd)"
    )


def _post_line(post: WatchedPost) -> str:
    intent = (post.intent or "?").upper() if post.intent == "emergency" else post.intent or "?"
    return shown(
        f"{post.received_at:%Y-%m-%d %H:%M}Z  {post.platform:<9} {intent:<11} "
        f"{post.author}: {post.text[:100]}  {post.url or ''}"
    )


def _cmd_watch(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        if args.watch_command == "add":
            print(
                _watch_line(
                    ws.watch(
                        args.name,
                        query=args.query,
                        accounts=args.account,
                        spike_min=args.spike_min,
                        spike_sd=args.spike_sd,
                        by=args.by,
                        key=signing_key(args),
                    )
                )
            )
            return 0
        if args.watch_command == "stop":
            print(_watch_line(ws.unwatch(args.name, by=args.by, key=signing_key(args))))
            return 0
        if args.watch_command == "list":
            if args.name is None:
                watches = ws.watches()
                if args.json:
                    print_json(models_json(watches))
                else:
                    print("\n".join(map(_watch_line, watches)) if watches else "no watches")
                return 0
            since = datetime.now(UTC) - timedelta(hours=args.hours) if args.hours else None
            posts = ws.watched(args.name, since=since, intent=args.intent)
            if args.json:
                print_json(models_json(posts))
            else:
                print("\n".join(map(_post_line, posts)) if posts else "nothing found yet")
            return 0
        done = ws.sync_watches(args.names or None, backfill=timedelta(hours=args.backfill_hours))
        for name, count in sorted(done.new.items()):
            print(shown(f"{name}: {count} new"))
        for where, why in sorted(done.unsupported.items()):
            print(shown(f"{where}: no search there ({why})"))
        for where in done.truncated:
            print(shown(f"{where}: more than one sync reads; the rest next time"))
        for spike in done.spikes:
            print(
                shown(
                    f"SPIKE: {spike.watch} {spike.posts} posts in the hour from "
                    f"{spike.hour:%Y-%m-%d %H:%M}Z (usually {spike.baseline_mean:.1f})"
                )
            )
        for where, why in sorted(done.failed.items()):
            print(shown(f"{where}: FAILED {why}"), file=sys.stderr)
        return 1 if done.failed else 0


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
