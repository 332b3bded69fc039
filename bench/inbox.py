"""Requests per inbox sync: 8 accounts with 35 posts each in the window, before and after.

    python bench/inbox.py                    # mastodon-mock and the Bluesky PDS + AppView
    python bench/inbox.py --only mastodon    # one platform
    python bench/inbox.py --posts 70         # more posts per account

For each platform, one workspace publishes ``--posts`` posts on each of 8 accounts (through
the worker, so they are deliveries the inbox knows), a citizen answers two posts of every
account (naming the account, as the platforms' apps do) and mentions each account once. The
workspace file is then copied, so both contenders start from the same state:

- **per post** (before): the adapter's ``fetch_activity`` is taken away, and the inbox reads
  mentions, then the replies of every post in the 7-day window, one request per post;
- **notifications** (after): ``Workspace.pull_inbox`` as shipped (``fetch_activity``).

Each contender syncs three times with the workspace's long-lived client: the first sync, a
sync with nothing new, and a sync after one more reply and one more mention per account.
Every HTTP request the client sends is counted (``govsocial.testing.traffic.record_traffic``
wraps httpx's ``send``; the bench uses httpx's own pool so that every request passes there),
and the items each contender stored are compared: the figures mean
nothing unless both found the same replies and mentions. The result is a Markdown table on
stdout (docs/performance.md keeps it); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from govsocial import Post
from govsocial.adapters import Platform, PostRef
from govsocial.app import Workspace
from govsocial.client import AsyncClient, Client
from govsocial.scheduling.worker import Worker
from govsocial.testing.traffic import record_traffic

ACCOUNTS = 8


def say(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


@contextmanager
def mastodon_server() -> Iterator[Any]:
    from govsocial_mastodon.localserver import MastodonMockServer

    names = [f"humas{i}" for i in range(ACCOUNTS)] + ["warga"]
    with MastodonMockServer(names) as server:
        yield server


@contextmanager
def bluesky_server() -> Iterator[Any]:
    from govsocial_bluesky.devserver import BlueskyDevServer
    from govsocial_bluesky.localserver import BlueskyLocalServer

    handles = [f"humas{i}.test" for i in range(ACCOUNTS)] + ["warga.test"]
    with (
        BlueskyDevServer(appview=True, accounts=handles) as dev,
        BlueskyLocalServer(dev) as server,
    ):
        yield server


SERVERS: dict[str, Callable[[], AbstractContextManager[Any]]] = {
    "mastodon": mastodon_server,
    "bluesky": bluesky_server,
}


def adapter_class(platform: str) -> type[Platform]:
    if platform == "mastodon":
        from govsocial_mastodon.adapter import Mastodon

        return Mastodon
    from govsocial_bluesky.adapter import Bluesky

    return Bluesky


def populate(path: Path, server: Any, posts: int) -> tuple[list[str], list[PostRef]]:
    """A workspace at ``path`` with 8 accounts of ``posts`` published posts each: the
    account names and every published post."""
    agencies, _citizen = server.accounts[:ACCOUNTS], server.accounts[ACCOUNTS]
    names = [f"akun{i}" for i in range(ACCOUNTS)]
    with Workspace.open(path) as ws:
        for name, account in zip(names, agencies, strict=True):
            ws.add_account(name, account)
        due = datetime.now(UTC) + timedelta(seconds=30)
        jobs = [ws.schedule(Post(f"Info layanan nomor {n}"), names, at=due) for n in range(posts)]

        async def publish() -> None:
            async with AsyncClient(**ws.core.client_options()) as client:
                await Worker(ws, clock=lambda: time.time() + 31, concurrency=4).run_due(client)

        asyncio.run(publish())
        refs = []
        for job in jobs:
            for delivery in ws.job(job.id).deliveries:
                if delivery.ref is None:
                    raise SystemExit(f"a post was not published: {delivery.error}")
                refs.append(delivery.ref)
    return names, refs


def citizens_write(server: Any, refs: Sequence[PostRef], round_: int) -> int:
    """The citizen answers two posts of every account and mentions each account once:
    how many items that makes."""
    agencies, citizen = server.accounts[:ACCOUNTS], server.accounts[ACCOUNTS]
    by_account: dict[str, list[PostRef]] = {}
    for ref in refs:
        by_account.setdefault(ref.account.handle, []).append(ref)
    made = 0
    with Client() as client:
        for agency in agencies:
            mine = by_account[agency.handle]
            picks = mine[round_ % len(mine) :: max(1, len(mine) // 2)][:2]
            for ref in picks:
                text = f"{server.mention(agency)} kapan buka? ({round_})"
                client.reply(ref.model_copy(update={"account": citizen}), text)
                made += 1
            [sent] = client.publish(
                Post(f"{server.mention(agency)} mohon info antrean ({round_})"), [citizen]
            )
            if not sent.ok:
                raise SystemExit(f"the citizen's mention failed: {sent.error}")
            made += 1
    return made


def sync_counted(ws: Workspace) -> tuple[int, int, Counter[str]]:
    """One sync: the requests sent, the new items, and the requests by path."""
    with record_traffic() as exchanges:
        result = ws.pull_inbox()
    if result.failed:
        raise SystemExit(f"the sync failed: {result.failed}")
    paths = Counter(f"{e.method} {shorten(e.path)}" for e in exchanges)
    return len(exchanges), result.total, paths


def shorten(path: str) -> str:
    parts = path.split("/")
    return "/".join(":id" if p.isdigit() or p.startswith("at:") else p for p in parts)


@contextmanager
def per_post(platform: str) -> Iterator[None]:
    """The adapter without ``fetch_activity``: the inbox falls back to reading per post."""
    cls = adapter_class(platform)
    saved = cls.__dict__["fetch_activity"]
    cls.fetch_activity = Platform.fetch_activity  # type: ignore[method-assign]
    try:
        yield
    finally:
        cls.fetch_activity = saved  # type: ignore[method-assign]


def wait_indexed(ws: Workspace, expected: int, what: str) -> None:
    """Until ``ws`` (a scratch copy, not measured) sees ``expected`` items: the AppView
    indexes asynchronously, and a count taken before it did would be meaningless."""
    deadline = time.monotonic() + 120
    while len(ws.inbox(None)) < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: {len(ws.inbox(None))} of {expected} items after 120 s")
        ws.pull_inbox()
        time.sleep(1.0)


def run(platform: str, posts: int, workdir: Path) -> list[str]:
    rows = []
    with SERVERS[platform]() as server:
        say(f"{platform}: publishing {posts} posts on each of {ACCOUNTS} accounts")
        base = workdir / f"{platform}.db"
        _names, refs = populate(base, server, posts)
        first = citizens_write(server, refs, 0)
        scratch = workdir / f"{platform}-scratch.db"
        shutil.copy(base, scratch)
        with Workspace.open(scratch) as ws:
            wait_indexed(ws, first, "first round")
        copies = {}
        for contender in ("per post", "notifications"):
            copies[contender] = workdir / f"{platform}-{contender.replace(' ', '-')}.db"
            shutil.copy(base, copies[contender])
        figures: dict[str, list[tuple[int, int]]] = {}
        paths: dict[str, Counter[str]] = {}
        stored: dict[str, set[str]] = {}
        opened = {c: Workspace.open(p) for c, p in copies.items()}
        try:
            for round_ in range(3):
                if round_ == 2:
                    more = citizens_write(server, refs, 1)
                    with Workspace.open(scratch) as ws:
                        wait_indexed(ws, first + more, "second round")
                for contender, ws in opened.items():
                    say(f"{platform}: {contender}, sync {round_ + 1}")
                    if contender == "per post":
                        with per_post(platform):
                            count, new, by_path = sync_counted(ws)
                    else:
                        count, new, by_path = sync_counted(ws)
                    figures.setdefault(contender, []).append((count, new))
                    paths.setdefault(contender, Counter()).update(by_path)
            for contender, ws in opened.items():
                stored[contender] = {i.remote_id for i in ws.inbox(None)}
        finally:
            for ws in opened.values():
                ws.close()
        if stored["per post"] != stored["notifications"]:
            raise SystemExit(
                f"{platform}: the contenders stored different items: "
                f"{len(stored['per post'])} per post, {len(stored['notifications'])} "
                f"by notifications; only per post: {stored['per post'] - stored['notifications']}"
                f"; only notifications: {stored['notifications'] - stored['per post']}"
            )
        for contender, runs in figures.items():
            cells = " | ".join(
                f"{count} ({count / ACCOUNTS:.1f}/account, {new} new)" for count, new in runs
            )
            rows.append(f"| {platform} | {contender} | {cells} |")
            say(f"{platform} {contender}: {dict(paths[contender])}")
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=35, help="posts per account (35)")
    parser.add_argument("--only", choices=sorted(SERVERS), help="one platform")
    args = parser.parse_args(argv)
    # the accounts' credentials are sealed in the workspace files under a key of this run
    os.environ.setdefault("GOVSOCIAL_SECRET_KEY", secrets.token_urlsafe(32))
    # httpx's own pool sends through httpx.AsyncClient.send, where record_traffic counts
    # (govsocial's aiohttp transport is called below it); the count is the same on either
    os.environ["GOVSOCIAL_HTTP_TRANSPORT"] = "httpx"
    platforms = [args.only] if args.only else list(SERVERS)
    rows = []
    with tempfile.TemporaryDirectory(prefix="govsocial-bench-inbox-") as tmp:
        for platform in platforms:
            rows += run(platform, args.posts, Path(tmp))
    print(f"{ACCOUNTS} accounts, {args.posts} posts each in the 7-day window; requests per sync")
    print()
    print("| platform | inbox reads | first sync | nothing new | 2 replies + 1 mention each |")
    print("|---|---|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
