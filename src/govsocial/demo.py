"""``govsocial demo``: the whole loop against real servers on this machine, nothing to configure.

For every installed platform whose adapter can start a local server (mastodon-mock for
Mastodon, the reference PDS and AppView for Bluesky), the demo starts it, publishes one
sample post with an image and alt text to every platform at once, reads the post back from
the server, has a second account like and answer it, and prints links, metrics and replies.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from typing import TextIO, TypeVar

from govsocial._png import gradient_png
from govsocial.client import Client
from govsocial.errors import GovSocialError
from govsocial.models import Account, Media, Post, PostMetrics, PostRef
from govsocial.platform import LocalServer
from govsocial.plugins import default_plugins

__all__ = ["run_demo"]

T = TypeVar("T")

SAMPLE_TEXT = (
    "Selamat pagi, warga! Vaksinasi gratis hari ini di Balai Kota pukul 08.00 WIB. "
    "Info lengkap: https://example.go.id/vaksinasi #InfoPublik #Vaksinasi"
)
SAMPLE_ALT = "Poster biru-hijau: jadwal vaksinasi gratis di Balai Kota, pukul 08.00 WIB"


def run_demo(*, only: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run the demo; return 0 when every started platform worked, 1 otherwise."""

    def say(message: str) -> None:
        print(message, file=out, flush=True)

    platforms = default_plugins().platforms()
    if not platforms:
        say("No platform adapters are installed: pip install govsocial-mastodon govsocial-bluesky")
        return 1
    chosen = {name: cls for name, cls in platforms.items() if not only or name in only}
    servers: dict[str, LocalServer] = {}
    with ExitStack() as stack:
        for name, cls in chosen.items():
            manager = cls.local_server()
            if manager is None:
                say(f"- {cls.title}: no local server available, skipped")
                continue
            say(f"- starting a local {cls.title} server ...")
            started = time.monotonic()
            try:
                servers[name] = stack.enter_context(manager)
            except Exception as exc:  # noqa: BLE001 - the demo goes on with the others
                say(f"  {cls.title} skipped: {exc}")
                continue
            say(f"  ready in {time.monotonic() - started:.1f} s")
        if not servers:
            say("No local server could be started.")
            return 1
        return _tour(servers, say)


def _tour(servers: dict[str, LocalServer], say: Callable[[str], None]) -> int:
    post = Post(SAMPLE_TEXT, media=[Media(data=gradient_png(), alt_text=SAMPLE_ALT)], language="id")
    authors = {name: server.accounts[0] for name, server in servers.items()}
    failures = 0
    with Client(max_wait=10.0) as client:
        say("\nPublishing one post to every platform at once:")
        results = client.publish(post, list(authors.values()))
        refs: dict[str, PostRef] = {}
        for name, result in zip(authors, results, strict=True):
            if result.ok and result.ref is not None:
                refs[name] = result.ref
                say(f"  {name:<9} published  {result.ref.url or result.ref.id}")
            else:
                failures += 1
                say(f"  {name:<9} FAILED     {result.error}")

        say("\nRead back from each server (not from the adapter):")
        for name, ref in refs.items():
            stored = servers[name].stored_post(ref)
            if stored is None:
                failures += 1
                say(f"  {name:<9} NOT FOUND on the server")
                continue
            text = servers[name].stored_text(stored)
            alts = servers[name].stored_alt_texts(stored)
            say(f"  {name:<9} text: {text[:60]}...  alt: {alts}")

        say("\nA citizen likes the post and asks a question; the admin answers:")
        for name, ref in refs.items():
            try:
                _converse(client, servers[name], name, ref, say)
            except GovSocialError as error:
                say(f"  {name:<9} could not converse here: {error}")

        say("\nMetrics, in one vocabulary (None = the platform does not report it):")
        for name, ref in refs.items():
            try:
                _show_metrics(client, authors[name], name, ref, say)
            except GovSocialError as error:
                say(f"  {name:<9} no metrics here: {error}")
    say("\nDone." if not failures else f"\n{failures} problem(s): see above.")
    return 1 if failures else 0


def _converse(
    client: Client, server: LocalServer, name: str, ref: PostRef, say: Callable[[str], None]
) -> None:
    citizen: Account = server.accounts[1]
    server.like(ref, citizen)
    question = client.reply(ref.model_copy(update={"account": citizen}), "Apakah buka hari Sabtu?")
    say(f"  {name:<9} question from {citizen.handle}: {question.url or question.id}")
    replies = _wait_for(partial(client.fetch_replies, ref), timeout=20)
    if replies:
        answer = client.reply(replies[-1], "Ya, buka pukul 08.00-12.00 WIB. Terima kasih!")
        say(f"  {name:<9} answered: {answer.url or answer.id}")
    else:
        say(f"  {name:<9} the question has not reached the server's index yet")


def _show_metrics(
    client: Client, author: Account, name: str, ref: PostRef, say: Callable[[str], None]
) -> None:
    metrics = _wait_for(partial(_liked, client, ref), timeout=20) or client.fetch_metrics([ref])
    shown = ("likes", "reposts", "replies", "views")
    say(f"  {name:<9} " + " ".join(f"{f}={getattr(metrics[0], f)}" for f in shown))
    account = client.fetch_account_metrics(author)
    say(f"  {'':<9} {author.handle}: followers={account.followers} posts={account.posts}")


def _liked(client: Client, ref: PostRef) -> list[PostMetrics]:
    return [m for m in client.fetch_metrics([ref]) if m.likes]


def _wait_for(fetch: Callable[[], list[T]], *, timeout: float) -> list[T]:
    """Poll ``fetch`` until it returns a non-empty list (servers that index asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = fetch()
        except Exception:  # noqa: BLE001 - the index may not know the post yet
            found = []
        if found or time.monotonic() > deadline:
            return list(found)
        time.sleep(0.5)
