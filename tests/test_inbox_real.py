"""The inbox against real servers (issue 7): mastodon-mock, and the Bluesky PDS + AppView.

A second account replies to the workspace's post and mentions its account; sync picks both
up exactly once across repeated syncs, the admin's answer reaches the server (read back from
the server), and the response time is counted in the account's zone and service hours,
checked against an independent computation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from govsocial import Post
from govsocial.app import Workspace
from govsocial.client import AsyncClient, Client
from govsocial.core.models import Account
from govsocial.inbox.service_hours import ServiceHours
from govsocial.scheduling.worker import Worker
from govsocial.testing import eventually, unique_text

pytestmark = pytest.mark.slow

HOURS = "Mon-Fri 08:00-16:00"


@pytest.fixture(params=["mastodon", "bluesky"])
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "mastodon":
        yield request.getfixturevalue("mastodon")
        return
    from govsocial_bluesky.localserver import BlueskyLocalServer

    with BlueskyLocalServer(request.getfixturevalue("bluesky_appview")) as local:
        yield local


def env_account(account: Account, prefix: str, monkeypatch: pytest.MonkeyPatch) -> Account:
    references = {}
    for field, secret in account.credentials.items():
        monkeypatch.setenv(f"{prefix}_{field.upper()}", secret.get_secret_value())
        references[field] = f"env:{prefix}_{field.upper()}"
    return Account(**account.model_dump(exclude={"credentials"}), credentials=references)


def test_replies_and_mentions_synced_once_answered_and_timed(
    server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    author, citizen = server.accounts[:2]
    platform = author.platform
    with Workspace.open(tmp_path / "ws.db") as ws:
        ws.add_account("humas", env_account(author, f"GS_INBOX_{platform.upper()}", monkeypatch))
        ws.set_service_hours("humas", HOURS, holidays="ID", target=timedelta(hours=8))
        job = ws.schedule(
            Post(unique_text("Jadwal posyandu")),
            ["humas"],
            at=datetime.now(UTC) + timedelta(seconds=30),
        )

        async def publish() -> None:
            async with AsyncClient(**ws.core.client_options()) as client:
                await Worker(ws, clock=lambda: time.time() + 31).run_due(client)

        asyncio.run(publish())
        [delivery] = ws.job(job.id).deliveries
        assert delivery.ref is not None, delivery.error

        question_text = unique_text("Apakah buka hari Sabtu?")
        mention_text = f"{server.mention(author)} {unique_text('mohon info antrean')}"
        with Client() as client:
            question = client.reply(
                delivery.ref.model_copy(update={"account": citizen}), question_text
            )
            [mentioned] = client.publish(Post(mention_text), [citizen])
            assert mentioned.ok, mentioned.error

        def both() -> Any:
            ws.pull_inbox()
            found = ws.inbox()
            texts = " ".join(i.text for i in found)
            mine = question_text in texts and mention_text.split(" ", 1)[1] in texts
            return found if mine else None

        items = eventually(both, timeout=40, interval=1.0)
        assert ws.pull_inbox().total == 0, "nothing new on a second sync"
        # the server's accounts are shared by the session's tests: count this test's own
        ours = [
            i
            for i in ws.inbox(None)
            if question_text in i.text or mention_text.split(" ", 1)[1] in i.text
        ]
        assert len(ours) == 2, "each reply or mention once"
        reply = next(i for i in items if question_text in i.text)
        mention = next(i for i in items if mention_text.split(" ", 1)[1] in i.text)
        assert reply.kind == "reply" and reply.delivery_id == delivery.id
        assert reply.remote_id == question.id
        assert mention.kind == "mention"
        # classified as the platform delivered them (Mastodon's HTML, Bluesky's facets)
        assert (reply.intent, mention.intent) == ("question", "question")
        assert reply.classifier == "govsocial.lexicon" and reply.language == "id"

        answer_text = unique_text("Ya, buka pukul 08.00")
        sent = ws.reply(reply.id, answer_text)
        stored = server.stored_post(sent)
        assert stored is not None and answer_text in server.stored_text(stored)
        assert ws.pull_inbox().total == 0, "the answer is not a new question"
        answered = ws.inbox_item(reply.id)
        assert answered.status == "answered" and answered.response_id == sent.id

        [entry] = ws.audit_log(action="reply")
        assert answered.responded_at is not None
        expected = ServiceHours.parse(HOURS, holidays="ID").elapsed(
            answered.received_at, answered.responded_at, "Asia/Jakarta"
        )
        assert entry.detail["service_seconds"] == pytest.approx(expected, abs=1.0)
        assert entry.detail["response_seconds"] == pytest.approx(
            (answered.responded_at - answered.received_at).total_seconds(), abs=1.0
        )


# -- hostile dates (issue 13, security review finding 4) -------------------------------------


def _bluesky_post(local: Any, by: Account, record: dict[str, Any]) -> dict[str, Any]:
    """Write a post record into ``by``'s repo on the PDS as a hostile app would: any date."""
    import httpx

    pds = local.server.pds_url
    session = httpx.post(
        f"{pds}/xrpc/com.atproto.server.createSession",
        json={"identifier": by.credential("identifier"), "password": by.credential("app_password")},
        timeout=30,
    )
    session.raise_for_status()
    login = session.json()
    created = httpx.post(
        f"{pds}/xrpc/com.atproto.repo.createRecord",
        json={
            "repo": login["did"],
            "collection": "app.bsky.feed.post",
            "record": {"$type": "app.bsky.feed.post", **record},
        },
        headers={"Authorization": f"Bearer {login['accessJwt']}"},
        timeout=30,
    )
    created.raise_for_status()
    answer: dict[str, Any] = created.json()
    return answer


def _did(local: Any, account: Account) -> str:
    import httpx

    found = httpx.get(
        f"{local.server.pds_url}/xrpc/com.atproto.identity.resolveHandle",
        params={"handle": account.handle.lstrip("@")},
        timeout=30,
    )
    found.raise_for_status()
    return str(found.json()["did"])


def test_bluesky_a_mention_dated_2099_hides_nothing_and_a_backdated_reply_takes_minutes(
    bluesky_appview: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govsocial_bluesky.localserver import BlueskyLocalServer

    with BlueskyLocalServer(bluesky_appview) as local, Workspace.open(tmp_path / "ws.db") as ws:
        author, citizen = local.accounts[:2]
        ws.add_account("humas", env_account(author, "GS_INBOX_HOSTILE_BLUESKY", monkeypatch))
        job = ws.schedule(
            Post(unique_text("Jadwal posyandu")),
            ["humas"],
            at=datetime.now(UTC) + timedelta(seconds=30),
        )

        async def publish() -> None:
            async with AsyncClient(**ws.core.client_options()) as client:
                await Worker(ws, clock=lambda: time.time() + 31).run_due(client)

        asyncio.run(publish())
        [published] = ws.job(job.id).deliveries
        assert published.ref is not None, published.error
        ws.pull_inbox()  # the workspace's sync before the citizens write

        mention = local.mention(author)
        facet = {
            "index": {"byteStart": 0, "byteEnd": len(mention.encode())},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": _did(local, author)}],
        }
        future_text = f"{mention} {unique_text('dari masa depan')}"
        _bluesky_post(
            local,
            citizen,
            {"text": future_text, "facets": [facet], "createdAt": "2099-01-01T00:00:00.000Z"},
        )

        def texts() -> set[str]:
            ws.pull_inbox()
            return {i.text for i in ws.inbox()}

        eventually(lambda: future_text in texts(), timeout=40, interval=1.0)
        real_text = f"{mention} {unique_text('pertanyaan sungguhan')}"
        with Client() as client:
            [sent] = client.publish(Post(real_text), [citizen])
        assert sent.ok, sent.error
        eventually(lambda: real_text in texts(), timeout=40, interval=1.0)

        stored = local.stored_post(published.ref)
        assert stored is not None
        parent = {"uri": published.ref.id, "cid": stored["cid"]}
        late_text = unique_text("Kenapa belum dijawab?")
        _bluesky_post(
            local,
            citizen,
            {
                "text": late_text,
                "reply": {"root": parent, "parent": parent},
                "createdAt": "2025-01-01T00:00:00.000Z",
            },
        )
        eventually(lambda: late_text in texts(), timeout=40, interval=1.0)

        items = {i.text: i for i in ws.inbox()}
        future, real, late = items[future_text], items[real_text], items[late_text]
        now = datetime.now(UTC)
        assert future.clock_skew and future.claimed_at == datetime(2099, 1, 1, tzinfo=UTC)
        assert future.received_at <= now
        assert not real.clock_skew
        assert late.kind == "reply" and late.clock_skew
        assert now - late.received_at < timedelta(minutes=15), "received when it arrived"
        ws.reply(late.id, unique_text("Sudah dijawab"))
        [entry] = ws.audit_log(action="reply")
        assert 0 <= entry.detail["response_seconds"] < 15 * 60, "minutes, not 4,110 hours"
