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
