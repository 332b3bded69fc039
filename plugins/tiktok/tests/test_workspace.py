"""A scheduled TikTok delivery through a Workspace and its worker: moderation longer than one
attempt sends the delivery back to ``scheduled`` with its checkpoint in the database, the
next run polls the same publish, and a rotated refresh token is stored by the workspace."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from govsocial import Account, Media, Post
from govsocial.app import Workspace
from govsocial.client import AsyncClient
from govsocial.plugin.manager import Plugins
from govsocial.scheduling.worker import Worker
from govsocial.testing.video import make_video
from govsocial_tiktok import TikTok
from govsocial_tiktok.testing import TikTokEmulator


def run_worker(ws: Workspace, ahead: float) -> int:
    async def go() -> int:
        async with AsyncClient(**ws.core.client_options()) as client:
            return await Worker(ws, clock=lambda: time.time() + ahead).run_due(client)

    return asyncio.run(go())


def test_a_held_post_goes_back_to_scheduled_and_the_next_run_polls_the_same_publish(
    server: TikTokEmulator, fresh: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("access_token", "refresh_token", "client_secret"):
        monkeypatch.setenv(f"HUMAS_TIKTOK_{name.upper()}", fresh.credential(name))
    # TikTok rotates the refresh token at every renewal: the workspace must be able to store
    # the new one (encrypted), or the next run holds a spent one
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "uji-" + "k" * 40)
    server.revoke(fresh.credential("access_token"))  # the first call renews it
    ws = Workspace.open(tmp_path / "ws.db", plugins=Plugins(only=["tiktok"]))
    try:
        ws.add_account(
            "humas",
            Account(
                platform="tiktok",
                handle=fresh.handle,
                base_url=server.base_url,
                credentials={
                    "access_token": "env:HUMAS_TIKTOK_ACCESS_TOKEN",
                    "refresh_token": "env:HUMAS_TIKTOK_REFRESH_TOKEN",
                    "client_key": "aw_client_key",
                    "client_secret": "env:HUMAS_TIKTOK_CLIENT_SECRET",
                },
            ),
        )
        video = make_video(width=360, height=640, seconds=4, fps=30)
        at = datetime.now(UTC) + timedelta(seconds=5)
        job = ws.schedule(Post("Jadwal layanan", media=[Media(data=video)]), ["humas"], at=at)
        server.hold_moderation = True
        run_worker(ws, ahead=6)
        [delivery] = ws.job(job.id).deliveries
        assert delivery.status == "scheduled" and delivery.attempts == 1
        assert delivery.error_type == "PublishPending"
        [publish] = server.publishes_of(fresh)
        assert server.posts_of(fresh) == []

        server.hold_moderation = False
        run_worker(ws, ahead=6 + TikTok.moderation_retry + 1)
        [delivery] = ws.job(job.id).deliveries
        assert delivery.status == "published", delivery.error
        assert [p.publish_id for p in server.publishes_of(fresh)] == [publish.publish_id]
        [post] = server.posts_of(fresh)
        assert delivery.ref is not None and delivery.ref.id == post["id"]
        stored = ws.accounts()["humas"]
        assert stored.credential("refresh_token") in server.refresh_tokens  # the newest one
    finally:
        ws.close()
