"""Hostile and broken input to the inbox (issue 13; security review findings 4, 15, 21).

Against the fake platform's server (tests/fakes.py), on SQLite and PostgreSQL. The fake
adapter gives no platform receive time (``received_at``), as a third-party adapter written
for 0.2 would not: the inbox must still not let an author-written date steer it. The real
servers' versions (the Bluesky PDS + AppView) are in test_inbox_real.py.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from fakes import Clock, PaperServer, run, soon
from govsocial import Post
from govsocial.app import Workspace

FAR_FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
BACKDATED = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def published(ws: Workspace, humas: str) -> tuple[Workspace, PaperServer, str]:
    """humas has published one post on the fake server: (ws, server, its remote id)."""
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("Jadwal vaksin"), [humas], at=soon())
    clock.now += 300
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.ref is not None
    return ws, server, delivery.ref.id


# -- finding 4: author-written dates steer neither the cursor nor the response time -------


def test_a_mention_dated_2099_does_not_hide_later_mentions(
    published: tuple[Workspace, PaperServer, str],
) -> None:
    ws, server, _ = published
    transport = server.transport()
    server.citizen_post("@humas dari masa depan", author="ani", at=FAR_FUTURE)
    assert ws.pull_inbox(transport=transport).total == 1
    server.citizen_post("@humas pertanyaan sungguhan", author="budi")
    assert ws.pull_inbox(transport=transport).total == 1, "the later mention arrives"
    assert ws.pull_inbox(transport=transport).total == 0, "each once"
    future, real = sorted(ws.inbox(), key=lambda i: i.text)
    assert future.text == "@humas dari masa depan"
    assert future.clock_skew and future.claimed_at == FAR_FUTURE
    assert future.received_at <= datetime.now(UTC), "kept, received when it was seen"
    assert not real.clock_skew


def test_a_cursor_poisoned_by_an_earlier_version_heals(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, _ = published
    with ws.store.transaction() as cur:  # what 0.2 saved after a mention dated 2099
        ws.store.inbox.put_cursor(cur, humas, "mentions", FAR_FUTURE.isoformat(), 0.0)
    server.citizen_post("@humas masih terdengar?", author="ani")
    assert ws.pull_inbox(transport=server.transport()).total == 1


def test_a_backdated_reply_answered_in_minutes_records_minutes(
    published: tuple[Workspace, PaperServer, str],
) -> None:
    ws, server, post_id = published
    transport = server.transport()
    assert ws.pull_inbox(transport=transport).total == 0  # the sync before it arrived
    server.citizen_post("Kenapa belum dijawab?", in_reply_to=post_id, at=BACKDATED)
    assert ws.pull_inbox(transport=transport).total == 1, "a backdated reply is kept"
    [item] = ws.inbox()
    assert item.clock_skew and item.claimed_at == BACKDATED
    assert datetime.now(UTC) - item.received_at < timedelta(minutes=15)
    ws.reply(item.id, "Sudah, terima kasih", transport=transport)
    [entry] = ws.audit_log(action="reply")
    assert 0 <= entry.detail["response_seconds"] < 15 * 60, "minutes, not 4,110 hours"
    answered = ws.inbox_item(item.id)
    assert answered.response_seconds is not None and answered.response_seconds < 15 * 60


def test_items_of_a_first_sync_keep_their_age(
    published: tuple[Workspace, PaperServer, str],
) -> None:
    ws, server, post_id = published
    two_days = datetime.now(UTC) - timedelta(days=2)
    server.citizen_post("Lama", in_reply_to=post_id, at=two_days)
    ws.pull_inbox(transport=server.transport())
    [item] = ws.inbox()
    assert abs((item.received_at - two_days).total_seconds()) < 1
    assert not item.clock_skew


# -- finding 15: one bad page or item is reported and skipped -----------------------------


def _not_json(request: httpx.Request) -> httpx.Response | None:
    if request.url.path == "/mentions":
        return httpx.Response(200, text="<html>502 Bad Gateway</html>")
    return None


def test_a_non_json_page_is_reported_and_the_replies_still_arrive(
    published: tuple[Workspace, PaperServer, str], humas: str, caplog: pytest.LogCaptureFixture
) -> None:
    ws, server, post_id = published
    server.citizen_post("Buka hari Sabtu?", in_reply_to=post_id)
    server.citizen_post("@humas antrean?", author="ani")
    server.script.append(_not_json)
    with caplog.at_level(logging.WARNING, logger="govsocial.inbox"):
        result = ws.pull_inbox(transport=server.transport())
    assert "mentions not read" in result.failed[humas]
    assert "JSONDecodeError" in result.failed[humas]
    assert result.new[humas] == 1
    assert [i.text for i in ws.inbox()] == ["Buka hari Sabtu?"]
    assert any("mentions not read" in r.getMessage() for r in caplog.records)
    again = ws.pull_inbox(transport=server.transport())
    assert again.failed == {} and again.total == 1, "the next sync reads the mention"


def test_an_item_with_a_missing_field_is_reported_not_raised(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, post_id = published
    broken = server.citizen_post("@humas tanpa penulis", author="ani")
    del server.posts[broken]["author"]
    server.citizen_post("Buka hari Sabtu?", in_reply_to=post_id)
    result = ws.pull_inbox(transport=server.transport())
    assert "KeyError" in result.failed[humas]
    assert [i.text for i in ws.inbox()] == ["Buka hari Sabtu?"]


def test_a_lone_surrogate_is_stored_replaced_and_the_others_arrive(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, post_id = published
    server.citizen_post("Buka hari Sabtu?", in_reply_to=post_id)
    mention = {
        "id": "m1",
        "author": "ani\udfff",
        "text": "@humas halo \ud800 dunia",
        "created_at": datetime.now(UTC).isoformat(),
    }

    def surrogates(request: httpx.Request) -> httpx.Response | None:
        # JSON may escape a lone surrogate (\\ud800); Python's json reads it back as one
        body = json.dumps([mention]).encode()
        return httpx.Response(200, content=body) if request.url.path == "/mentions" else None

    server.script.append(surrogates)
    result = ws.pull_inbox(transport=server.transport())
    assert result.failed == {} and result.total == 2
    texts = sorted(i.text for i in ws.inbox())
    assert texts == ["@humas halo \ufffd dunia", "Buka hari Sabtu?"]
    assert [i.author for i in ws.inbox("open") if i.remote_id == "m1"] == ["ani\ufffd"]


def test_an_unexpected_crash_in_an_accounts_sync_is_reported_not_raised(
    published: tuple[Workspace, PaperServer, str], humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, server, post_id = published
    server.citizen_post("Buka hari Sabtu?", in_reply_to=post_id)
    from govsocial.inbox.items import Inbox

    original = Inbox._recent_posts

    def broken(self: Inbox, name: str, *args: object, **kwargs: object) -> object:
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(Inbox, "_recent_posts", broken)
    result = ws.pull_inbox(transport=server.transport())
    assert "UnicodeEncodeError" in result.failed[humas]
    monkeypatch.setattr(Inbox, "_recent_posts", original)
    assert ws.pull_inbox(transport=server.transport()).total == 1


# -- finding 21: only the account's own posts are left out --------------------------------


def test_a_namesake_on_another_server_is_a_citizen(
    published: tuple[Workspace, PaperServer, str],
) -> None:
    ws, server, post_id = published
    server.citizen_post("@humas saya humas juga", author="humas@evil.example")
    server.citizen_post("Saya humas_channel", in_reply_to=post_id, author="humas_channel@x")
    server.citizen_post("Dari server sendiri", in_reply_to=post_id, author="humas@paper.test")
    ws.pull_inbox(transport=server.transport())
    authors = sorted(i.author for i in ws.inbox())
    assert authors == ["humas@evil.example", "humas_channel@x"]
