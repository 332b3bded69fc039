"""Watching against real servers (issue 16, item 2): mastodon-mock and the Bluesky reference
PDS + AppView.

Another account posts about the topic without mentioning the agency; the agency's watch
finds it through the platform's own search (Mastodon's tag timeline and /api/v2/search,
Bluesky's app.bsky.feed.searchPosts), stores it once across syncs, and the stored post is
the one the server holds (its id and text read back from the server).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govsocial import Post
from govsocial.app import Workspace
from govsocial.client import Client
from govsocial.testing import eventually
from test_inbox_real import env_account

pytestmark = pytest.mark.slow


@pytest.fixture(params=["mastodon", "bluesky"])
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "mastodon":
        yield request.getfixturevalue("mastodon")
        return
    from govsocial_bluesky.localserver import BlueskyLocalServer

    with BlueskyLocalServer(request.getfixturevalue("bluesky_appview")) as local:
        yield local


def test_another_account_s_post_about_the_topic_is_found_once(
    server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agency, citizen = server.accounts[:2]
    platform = agency.platform
    word = f"banjir{uuid.uuid4().hex[:8]}"
    other = f"gempa{uuid.uuid4().hex[:8]}"
    with Client() as client:
        [about] = client.publish(Post(f"Air naik di jalan Merdeka #{word} tolong"), [citizen])
        [unrelated] = client.publish(Post(f"Pasar malam ramai {other}"), [citizen])
    assert about.ok and unrelated.ok and about.ref is not None
    with Workspace.open(tmp_path / "ws.db") as ws:
        ws.add_account("humas", env_account(agency, f"GS_INBOX_{platform.upper()}", monkeypatch))
        ws.watch("tag", query=f"#{word}", accounts=["humas"])
        ws.watch("word", query=word, accounts=["humas"])

        def found() -> Any:
            done = ws.sync_watches()
            assert not done.failed, done.failed
            return True if ws.watched("tag") and ws.watched("word") else None

        eventually(found, timeout=40, interval=1.0, what="the AppView indexing the post")
        assert ws.sync_watches().total == 0, "nothing new on another sync"
        for name in ("tag", "word"):
            [post] = ws.watched(name)
            stored = server.stored_post(about.ref)
            assert stored is not None
            assert post.text == server.stored_text(stored)
            assert word in post.text and other not in post.text
            assert post.author.lstrip("@") in citizen.handle.lstrip("@")
            assert post.intent is not None and post.classifier == "govsocial.lexicon"
        if platform == "bluesky":
            assert ws.watched("word")[0].remote_id == about.ref.id


def stored_count(db: str) -> int:
    """How many found posts the workspace file holds, read with sqlite3 (no govsocial)."""
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM watched_posts").fetchone()[0])


def test_syncs_killed_with_sigkill_leave_each_post_stored_once(
    mastodon: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``govsocial watch sync`` processes killed (kill -9) at random moments while
    mastodon-mock holds each tag-timeline read 0.3 s, then one sync to the end: every post
    the server holds about the topic is stored once, classified, none missing."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    agency, citizen = mastodon.accounts[:2]
    tag = f"banjir{uuid.uuid4().hex[:8]}"
    db = str(tmp_path / "ws.db")
    with Workspace.open(db) as ws:
        ws.add_account("humas", env_account(agency, "GS_INBOX_MASTODON", monkeypatch))
        ws.watch("t", query=f"#{tag}", accounts=["humas"])
    env = {**os.environ, "GOVSOCIAL_LOAD_PLUGINS": "mastodon"}
    command = [sys.executable, "-m", "govsocial.cli", "--db", db, "watch", "sync"]
    refs = []
    rng = random.Random(16)
    before = killed = 0
    mastodon.inject("latency", path="/api/v1/timelines/tag/*", delay=0.3, count=None)
    try:
        with Client() as client:
            for round_number in range(6):
                for n in range(7):
                    [sent] = client.publish(Post(f"#{tag} laporan {round_number}-{n}"), [citizen])
                    assert sent.ok and sent.ref is not None, sent.error
                    refs.append(sent.ref)
                process = subprocess.Popen(
                    command,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                if round_number == 5:  # in start-up: the last posts are left to find
                    time.sleep(0.3)
                elif round_number % 2 == 0:  # somewhere in start-up or the held reads
                    time.sleep(rng.uniform(1.5, 3.0))
                else:  # the moment its posts are committed: before classifying them
                    deadline = time.monotonic() + 30
                    while stored_count(db) <= before and time.monotonic() < deadline:
                        time.sleep(0.02)
                    assert stored_count(db) > before, "the sync never stored its posts"
                os.kill(process.pid, signal.SIGKILL)
                code = process.wait(timeout=10)
                # a sync may finish between its commit and the kill on a loaded machine:
                # that round proves nothing, the others do (counted below)
                assert code in (-signal.SIGKILL, 0), f"the sync failed: {code}"
                killed += code == -signal.SIGKILL
                before = stored_count(db)
    finally:
        mastodon.clear_faults()
    assert killed >= 2, f"only {killed} of 6 syncs were killed mid-way"
    assert 0 < before < 42, "some kills came after a commit, and posts were left to find"
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    expected = set()
    for ref in refs:
        stored = mastodon.stored_post(ref)
        assert stored is not None
        expected.add(stored["uri"])
    with Workspace.open(db) as ws:
        found = ws.watched("t")
        assert len(found) == len(expected) == 42
        assert {p.remote_id for p in found} == expected
        assert all(p.intent is not None for p in found)
