"""A scheduled TikTok delivery through a Workspace and its worker: moderation longer than one
attempt leaves the delivery ``processing`` (checkpointed, audit-logged, no attempt counted,
no worker holding it); later runs only read its status, never init again, until the post
id arrives, TikTok fails it, or the workspace's processing limit ends it; a rotated refresh
token is stored by the workspace. (Both engines and a worker killed with SIGKILL while a
delivery is processing: tests/test_processing.py.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from govsocial import Account, Media, Post
from govsocial.app import Workspace
from govsocial.cli import main
from govsocial.client import AsyncClient
from govsocial.plugin.manager import Plugins
from govsocial.scheduling.worker import Worker
from govsocial.testing.video import make_video
from govsocial_tiktok import TikTok
from govsocial_tiktok.adapter import STATUS_FETCH
from govsocial_tiktok.testing import TikTokEmulator


def run_worker(ws: Workspace, ahead: float) -> int:
    async def go() -> int:
        async with AsyncClient(**ws.core.client_options()) as client:
            return await Worker(ws, clock=lambda: time.time() + ahead).run_due(client)

    return asyncio.run(go())


@pytest.fixture
def workspace(
    server: TikTokEmulator,
    fresh: Account,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Workspace]:
    """A workspace with ``fresh`` as the account ``humas`` (its token renewed at the first
    call), whose processing limit a test may set with ``@pytest.mark.parametrize``."""
    for name in ("access_token", "refresh_token", "client_secret"):
        monkeypatch.setenv(f"HUMAS_TIKTOK_{name.upper()}", fresh.credential(name))
    # TikTok rotates the refresh token at every renewal: the workspace must be able to store
    # the new one (encrypted), or the next run holds a spent one
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "uji-" + "k" * 40)
    server.revoke(fresh.credential("access_token"))  # the first call renews it
    limit = getattr(request, "param", timedelta(hours=48))
    ws = Workspace.open(
        tmp_path / "ws.db", plugins=Plugins(only=["tiktok"]), processing_limit=limit
    )
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
        yield ws
    finally:
        ws.close()


def schedule_video(ws: Workspace) -> str:
    video = make_video(width=360, height=640, seconds=4, fps=30)
    at = datetime.now(UTC) + timedelta(seconds=5)
    return ws.schedule(Post("Jadwal layanan", media=[Media(data=video)]), ["humas"], at=at).id


def test_a_held_post_waits_processing_and_later_runs_only_poll_the_same_publish(
    server: TikTokEmulator, fresh: Account, workspace: Workspace
) -> None:
    ws = workspace
    job_id = schedule_video(ws)
    server.hold_moderation = True
    run_worker(ws, ahead=6)
    [delivery] = ws.job(job_id).deliveries
    assert delivery.status == "processing" and delivery.attempts == 1
    assert delivery.error_type == "PublishPending"
    assert ws.job(job_id).status == "processing"
    assert [j.id for j in ws.jobs(status="processing")] == [job_id]
    [publish] = server.publishes_of(fresh)
    assert server.posts_of(fresh) == []
    [entry] = ws.audit_log(action="processing")
    assert entry.object == delivery.id and entry.detail["publish_id"] == publish.publish_id
    # due again after TikTok.moderation_retry, not before: nobody holds it meanwhile
    assert delivery.due_at.timestamp() >= time.time() + TikTok.moderation_retry - 1

    polls = server.calls("POST", STATUS_FETCH)
    run_worker(ws, ahead=6 + 1)  # not due yet: not looked at
    assert server.calls("POST", STATUS_FETCH) == polls

    # more looks than the workspace's max_attempts: none of them is an attempt
    ahead = 6.0
    for _ in range(ws.max_attempts + 2):
        ahead += TikTok.moderation_retry + 1
        run_worker(ws, ahead=ahead)
        [delivery] = ws.job(job_id).deliveries
        assert delivery.status == "processing" and delivery.attempts == 1
    assert server.calls("POST", STATUS_FETCH) - polls == ws.max_attempts + 2, "one read a look"
    assert [p.publish_id for p in server.publishes_of(fresh)] == [publish.publish_id]

    server.hold_moderation = False
    server.moderation_polls = 0
    run_worker(ws, ahead=ahead + TikTok.moderation_retry + 1)
    [delivery] = ws.job(job_id).deliveries
    assert delivery.status == "published", delivery.error
    assert delivery.attempts == 1 and delivery.error is None
    assert [p.publish_id for p in server.publishes_of(fresh)] == [publish.publish_id]
    [post] = server.posts_of(fresh)
    assert delivery.ref is not None and delivery.ref.id == post["id"]
    assert len(ws.audit_log(action="processing")) == 1
    [published] = ws.audit_log(action="publish")
    assert published.detail["remote_id"] == post["id"]
    stored = ws.accounts()["humas"]
    assert stored.credential("refresh_token") in server.refresh_tokens  # the newest one


def test_moderation_that_fails_the_post_ends_failed_with_tiktoks_reason(
    server: TikTokEmulator, fresh: Account, workspace: Workspace
) -> None:
    job_id = schedule_video(workspace)
    server.hold_moderation = True
    run_worker(workspace, ahead=6)
    [publish] = server.publishes_of(fresh)
    server.reject(publish.publish_id, "spam_risk_text")
    run_worker(workspace, ahead=6 + TikTok.moderation_retry + 1)
    [delivery] = workspace.job(job_id).deliveries
    assert delivery.status == "failed" and delivery.attempts == 1
    assert delivery.error is not None and "spam_risk_text" in delivery.error
    assert "rewrite" in delivery.error  # the fix
    assert server.posts_of(fresh) == [] and len(server.publishes_of(fresh)) == 1
    [entry] = workspace.audit_log(action="failed")
    assert entry.object == delivery.id


@pytest.mark.parametrize("workspace", [timedelta(hours=1)], indirect=True)
def test_a_post_still_processing_past_the_limit_ends_unknown_and_is_never_resent(
    server: TikTokEmulator, fresh: Account, workspace: Workspace
) -> None:
    job_id = schedule_video(workspace)
    server.hold_moderation = True
    run_worker(workspace, ahead=6)
    run_worker(workspace, ahead=6 + TikTok.moderation_retry + 1)
    [delivery] = workspace.job(job_id).deliveries
    assert delivery.status == "processing"
    run_worker(workspace, ahead=6 + 3600 + 1)
    [delivery] = workspace.job(job_id).deliveries
    assert delivery.status == "unknown" and delivery.error_type == "ProcessingTimeout"
    assert delivery.error is not None
    assert "processing limit of 1 h" in delivery.error and "may yet appear" in delivery.error
    polls = server.calls("POST", STATUS_FETCH)
    run_worker(workspace, ahead=6 + 7200)  # settled: nobody looks or sends again
    assert server.calls("POST", STATUS_FETCH) == polls
    assert len(server.publishes_of(fresh)) == 1 and server.posts_of(fresh) == []
    [entry] = workspace.audit_log(action="unknown")
    assert entry.detail["error_type"] == "ProcessingTimeout"


def test_a_processing_delivery_of_a_locked_account_stays_processing_and_is_listed(
    server: TikTokEmulator,
    fresh: Account,
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    job_id = schedule_video(workspace)
    server.hold_moderation = True
    run_worker(workspace, ahead=6)
    assert main(["--db", workspace.url.removeprefix("sqlite:///"), "jobs"]) == 0
    listed = capsys.readouterr().out
    assert "processing" in listed and "looks again" in listed and "attempts=1" in listed

    secret = fresh.credential("client_secret")
    monkeypatch.delenv("HUMAS_TIKTOK_CLIENT_SECRET")  # this worker cannot open the account
    server.hold_moderation = False
    server.moderation_polls = 0
    run_worker(workspace, ahead=6 + TikTok.moderation_retry + 1)
    [delivery] = workspace.job(job_id).deliveries
    assert delivery.status == "processing" and delivery.attempts == 1
    assert "HUMAS_TIKTOK_CLIENT_SECRET" in (delivery.error or "")
    assert server.posts_of(fresh) == []

    monkeypatch.setenv("HUMAS_TIKTOK_CLIENT_SECRET", secret)
    run_worker(workspace, ahead=6 + TikTok.moderation_retry + 2)
    [delivery] = workspace.job(job_id).deliveries
    assert delivery.status == "published", delivery.error
    assert len(server.publishes_of(fresh)) == 1 and len(server.posts_of(fresh)) == 1


def test_a_post_tiktok_holds_is_not_refused_by_a_later_revocation_but_an_unsent_one_is(
    server: TikTokEmulator, fresh: Account, workspace: Workspace
) -> None:
    """The documented decision (docs/operations.md, "Processing"): the authority is checked
    when a delivery is sent; a post TikTok already holds is only looked at afterwards, so
    revoking its admin cannot un-send it, while a delivery not yet sent is refused."""
    ws = workspace
    start = datetime.now(UTC).date() - timedelta(days=30)
    ws.add_person("kepala", name="Kepala Dinas", unit="Diskominfo")
    ws.appoint("kepala", role="head", decree="100/1/SK/2026", valid_from=start)
    ws.add_person("siti", name="Siti", by="kepala")
    ws.appoint(
        "siti",
        accounts=["humas"],
        role="admin",
        decree="800/123/SK/2026",
        valid_from=start,
        by="kepala",
    )
    video = make_video(width=360, height=640, seconds=4, fps=30)
    at = datetime.now(UTC) + timedelta(seconds=5)
    sent = ws.schedule(Post("Terkirim", media=[Media(data=video)]), ["humas"], at=at, by="siti")
    later = ws.schedule(
        Post("Belum", media=[Media(data=video)]),
        ["humas"],
        at=at + timedelta(hours=1),
        by="siti",
    )
    server.hold_moderation = True
    run_worker(ws, ahead=6)
    [held] = ws.job(sent.id).deliveries
    assert held.status == "processing"
    [entered] = ws.audit_log(action="processing")
    assert entered.actor == "siti" and entered.decree == "800/123/SK/2026"

    ws.revoke("siti", "humas", by="kepala", reason="mutasi")
    server.hold_moderation = False
    server.moderation_polls = 0
    run_worker(ws, ahead=3600 + 6)
    [done] = ws.job(sent.id).deliveries
    assert done.status == "published", done.error
    [refused] = ws.job(later.id).deliveries
    assert refused.status == "refused" and "revoked" in (refused.error or "")
    assert len(server.posts_of(fresh)) == 1 and len(server.publishes_of(fresh)) == 1


def test_a_recurring_jobs_next_occurrence_is_planned_while_one_is_processing(
    server: TikTokEmulator, fresh: Account, workspace: Workspace
) -> None:
    video = make_video(width=360, height=640, seconds=4, fps=30)
    at = datetime.now(UTC) + timedelta(seconds=5)
    job = workspace.schedule(
        Post("Harian", media=[Media(data=video)]),
        ["humas"],
        at=at,
        recurrence="FREQ=DAILY;COUNT=3",
    )
    server.hold_moderation = True
    run_worker(workspace, ahead=6)
    first, second = sorted(workspace.job(job.id).deliveries, key=lambda d: d.occurrence)
    assert first.status == "processing"
    assert second.status == "scheduled" and second.occurrence == 1
    assert second.scheduled_at - first.scheduled_at == timedelta(days=1)
