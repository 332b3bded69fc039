"""``govsocial check`` for a YouTube channel, against the emulator: the channel, whether the
API project is verified (as the last upload showed it), the quota left today, a spent
quota and a channel limited to 15-minute uploads. Every request is also held against the
discovery document (conftest)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from govsocial import Account, Client, Media, Post
from govsocial.testing.pytest_plugin import Emulators
from govsocial_youtube.testing import Discovery, YouTubeEmulator


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(max_wait=5.0, timeout=httpx.Timeout(5.0)) as client:
        yield client


def test_check_names_the_channel_and_the_quota_the_server_charged(
    server: YouTubeEmulator, fresh: Account, client: Client
) -> None:
    before = server.units_left
    found = client.check(fresh)
    assert found.token_ok
    spent = before - server.units_left  # what the emulator charged for the check
    assert spent == 1
    channel = next(c for c in server.channels.values() if c["handle"] == fresh.handle)
    assert found.identity == f"{channel['title']} ({channel['id']})"
    assert found.rate["quota units"].startswith(f"{10_000 - spent} of 10000 left today")
    assert "Google reports no remaining quota" in found.rate["quota units"]
    assert found.rate["quota uploads"].startswith("100 of 100")
    [project] = [n for n in found.notes if n.startswith("API project")]
    assert "not known to be verified" in project
    figures = found.capability("account_metrics")
    assert figures is not None and figures.ok is True


def test_after_a_locked_upload_check_says_the_project_is_not_verified(
    fresh_emulators: Emulators, client: Client, clip: bytes
) -> None:
    locked = YouTubeEmulator(unverified_project=True)
    locked.base_url = fresh_emulators.serve(locked.app())
    account = locked.add_channel("@dinasbaru")
    [result] = client.publish(Post("Video publik", media=[Media(data=clip)]), [account])
    assert result.ok and result.ref is not None
    assert locked.videos[result.ref.id]["status"]["privacyStatus"] == "private"
    found = client.check(account)
    [project] = [n for n in found.notes if n.startswith("API project")]
    assert "NOT verified" in project and "private" in project
    post = found.capability("post")
    assert post is not None and "private only" in post.detail
    assert post.fix is not None and "audit" in post.fix
    assert [p for r in locked.requests for p in Discovery.load().check(*r)] == []


def test_after_a_public_upload_check_says_the_project_is_verified(
    server: YouTubeEmulator, fresh: Account, client: Client, clip: bytes
) -> None:
    [result] = client.publish(Post("Video publik", media=[Media(data=clip)]), [fresh])
    assert result.ok and result.ref is not None
    assert server.videos[result.ref.id]["status"]["privacyStatus"] == "public"
    found = client.check(fresh)
    [project] = [n for n in found.notes if n.startswith("API project")]
    assert project.startswith("API project: verified")
    assert found.rate["quota uploads"].startswith("99 of 100")  # the upload was counted


def test_a_spent_quota_and_a_channel_limited_to_15_minutes_are_said(
    server: YouTubeEmulator, fresh: Account, client: Client
) -> None:
    channel = next(c for c in server.channels.values() if c["handle"] == fresh.handle)
    channel["long_uploads"] = "eligible"
    found = client.check(fresh)
    assert any("at most 15 minutes" in n and "eligible" in n for n in found.notes)

    server.units_left = 0  # Google refuses the next call with quotaExceeded
    spent = client.check(fresh)
    post = spent.capability("post")
    assert post is not None and post.ok is False and "quota" in post.detail
    assert spent.rate["quota units"].startswith("0 of 10000")
