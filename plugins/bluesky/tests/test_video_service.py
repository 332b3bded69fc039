"""Bluesky video through the video service: the adapter against the emulator built from
@atproto/api's lexicons (``govsocial_bluesky.videoservice``), which stores each video on the
real reference PDS with the user's service token, as video.bsky.app does. Assertions read
what the emulator received (the service tokens' claims) and what the PDS stored.

The PDS blob path (no video service, as for the local reference PDS) is tested in
test_adapter_server.py against the same PDS.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from govsocial import Client, RateLimited
from govsocial.adapters import AdapterContext, Http, MemoryCheckpoints
from govsocial.adapters.http import new_http_client
from govsocial.core.errors import ConfigurationError, PlatformError
from govsocial.core.models import Account, Media, Post
from govsocial.testing import unique_text
from govsocial.testing.pytest_plugin import Emulators
from govsocial_bluesky import Bluesky
from govsocial_bluesky.adapter import VIDEO_SERVICE, VIDEO_SERVICE_DID
from govsocial_bluesky.aturi import AtUri
from govsocial_bluesky.devserver import BlueskyDevServer, DevAccount
from govsocial_bluesky.videoservice import LIMITS, STATUS, UPLOAD, VideoServiceEmulator

# -- which service, offline ---------------------------------------------------------------


def adapter_for(base_url: str, **options: str) -> Bluesky:
    account = Account(
        platform="bluesky",
        handle="@humas.example",
        base_url=base_url,
        credentials={"identifier": "humas.example", "app_password": "a-b-c-d", **options},
    )
    return Bluesky(account, AdapterContext(http=Http(new_http_client())))


@pytest.mark.parametrize(
    "base_url",
    ["https://bsky.social", "https://morel.us-east.host.bsky.network", "https://BSKY.social/"],
)
def test_bsky_social_accounts_use_video_bsky_app(base_url: str) -> None:
    assert adapter_for(base_url).video_service() == (VIDEO_SERVICE, VIDEO_SERVICE_DID)


@pytest.mark.parametrize(
    "base_url", ["https://pds.kominfo.go.id", "http://localhost:2583", "https://bsky.social.evil"]
)
def test_other_pds_accounts_have_no_video_service(base_url: str) -> None:
    assert adapter_for(base_url).video_service() is None


def test_the_account_names_its_video_service_or_none() -> None:
    named = adapter_for("https://pds.example", video_service="https://video.pds.example/")
    assert named.video_service() == ("https://video.pds.example", "did:web:video.pds.example")
    assert adapter_for("https://bsky.social", video_service="none").video_service() is None
    local = adapter_for(
        "https://pds.example", video_service="http://127.0.0.1:9", video_service_did="did:web:v"
    )
    assert local.video_service() == ("http://127.0.0.1:9", "did:web:v")


@pytest.mark.parametrize(
    "hostile",
    [
        "http://video.example",  # a token able to store blobs, in clear text
        "https://user@video.example",
        "javascript:alert(1)",
        "https://video.example/?x=1",
        "ftp://video.example",
    ],
)
def test_a_video_service_that_could_leak_the_token_is_refused(hostile: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        adapter_for("https://pds.example", video_service=hostile).video_service()
    assert caught.value.field == "credentials.video_service"
    assert "https://" in str(caught.value)


# -- against the emulator and the reference PDS ------------------------------------------


@pytest.fixture
def service(bluesky_server: BlueskyDevServer, emulators: Emulators) -> VideoServiceEmulator:
    emulator = VideoServiceEmulator(pds_url=bluesky_server.pds_url)
    emulator.base_url = emulators.serve(emulator.app())
    return emulator


@pytest.fixture
def pds(bluesky_server: BlueskyDevServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bluesky_server.pds_url, timeout=30) as raw:
        yield raw


@pytest.fixture
def alice(bluesky_server: BlueskyDevServer) -> DevAccount:
    return bluesky_server.accounts[0]


@pytest.fixture
def account(
    bluesky_server: BlueskyDevServer, alice: DevAccount, service: VideoServiceEmulator
) -> Account:
    return Account(
        platform="bluesky",
        handle=alice.handle,
        base_url=bluesky_server.pds_url,
        credentials={
            "identifier": alice.handle,
            "app_password": alice.app_password or alice.password,
            "video_service": service.base_url,
            "video_service_did": service.did,
        },
    )


@pytest.fixture
def clip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("av")
    from govsocial.testing.video import make_video

    monkeypatch.setenv("GOVSOCIAL_MEDIA_ROOTS", str(tmp_path))
    path = tmp_path / "klip.mp4"
    make_video(path, width=360, height=640, seconds=1)
    return path


@pytest.fixture
def fast() -> Iterator[None]:
    saved = Bluesky.video_poll_first
    Bluesky.video_poll_first = 0.01
    yield
    Bluesky.video_poll_first = saved


def stored_embed(pds: httpx.Client, uri: str) -> dict[str, Any]:
    parts = AtUri.parse(uri)
    response = pds.get(
        "/xrpc/com.atproto.repo.getRecord",
        params={"repo": parts.repo, "collection": parts.collection, "rkey": parts.rkey},
    )
    response.raise_for_status()
    embed: dict[str, Any] = response.json()["value"]["embed"]
    return embed


def blob_bytes(pds: httpx.Client, did: str, blob: dict[str, Any]) -> bytes:
    response = pds.get(
        "/xrpc/com.atproto.sync.getBlob", params={"did": did, "cid": blob["ref"]["$link"]}
    )
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.usefixtures("fast")
def test_a_video_goes_through_the_service_and_the_post_holds_the_blob_it_stored(
    service: VideoServiceEmulator,
    account: Account,
    alice: DevAccount,
    pds: httpx.Client,
    clip: Path,
) -> None:
    post = Post(unique_text("Video layanan"), media=[Media(path=clip, alt_text="Petugas")])
    with Client() as client:
        [result] = client.publish(post, [account])
    assert result.ok, result.error
    assert result.ref is not None
    embed = stored_embed(pds, result.ref.id)
    [job] = service.jobs.values()
    assert job.state == "JOB_STATE_COMPLETED" and job.blob is not None
    assert embed["video"]["ref"] == job.blob["ref"], "the blob the service stored"
    assert blob_bytes(pds, alice.did, embed["video"]) == clip.read_bytes()

    [(_, _, _, limits)] = service.calls(LIMITS)
    assert limits is not None
    assert limits["aud"] == service.did and limits["lxm"] == LIMITS
    assert limits["iss"] == alice.did
    [(_, _, query, upload)] = service.calls(UPLOAD)
    assert query == {"did": alice.did, "name": "klip.mp4"}
    assert upload is not None and upload["iss"] == alice.did
    pds_did = pds.get("/xrpc/com.atproto.server.describeServer").json()["did"]
    assert upload["aud"] == pds_did and upload["lxm"] == "com.atproto.repo.uploadBlob"
    assert upload["exp"] - upload["iat"] > 600, "longer than the 60 s default, for processing"
    assert len(service.calls(STATUS)) == service.processing_polls + 1
    assert all(claims is None for *_, claims in service.calls(STATUS))  # no token needed


@pytest.mark.usefixtures("fast")
def test_a_job_still_processing_is_polled_again_by_the_next_attempt_never_reuploaded(
    service: VideoServiceEmulator,
    account: Account,
    pds: httpx.Client,
    clip: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Bluesky, "video_wait", 0.05)
    service.processing_polls = 10**6
    post = Post(unique_text("Video lambat"), media=[Media(path=clip)])
    key = uuid.uuid4().hex
    checkpoints = MemoryCheckpoints()
    with Client(checkpoints=checkpoints) as client:
        first = client.publish_one(post, account, idempotency_key=key)
        assert isinstance(first.error, PlatformError) and first.error.status is None
        assert "still processing" in str(first.error)
        [job] = service.jobs.values()
        service.processing_polls = 0
        second = client.publish_one(post, account, idempotency_key=key)
    assert second.ok, second.error
    assert second.ref is not None
    assert len(service.calls(UPLOAD)) == 1 and list(service.jobs) == [job.job_id]
    assert stored_embed(pds, second.ref.id)["video"]["ref"] == job.blob["ref"]  # type: ignore[index]


@pytest.mark.usefixtures("fast")
def test_the_same_video_again_is_already_exists_and_uses_the_earlier_blob(
    service: VideoServiceEmulator, account: Account, pds: httpx.Client, clip: Path
) -> None:
    with Client() as client:
        [one] = client.publish(Post(unique_text("Satu"), media=[Media(path=clip)]), [account])
        [two] = client.publish(Post(unique_text("Dua"), media=[Media(path=clip)]), [account])
    assert one.ok and two.ok, (one.error, two.error)
    assert one.ref is not None and two.ref is not None
    assert len(service.jobs) == 1 and len(service.calls(UPLOAD)) == 2
    first, second = stored_embed(pds, one.ref.id), stored_embed(pds, two.ref.id)
    assert first["video"]["ref"] == second["video"]["ref"]


@pytest.mark.usefixtures("fast")
def test_a_failed_job_fails_the_post_with_the_services_code_and_nothing_is_posted(
    service: VideoServiceEmulator,
    account: Account,
    alice: DevAccount,
    pds: httpx.Client,
    clip: Path,
) -> None:
    service.fail_with = "encoding_failure"
    text = unique_text("Video rusak")
    with Client() as client:
        [result] = client.publish(Post(text, media=[Media(path=clip)]), [account])
    assert isinstance(result.error, PlatformError)
    assert "encoding_failure" in str(result.error)
    records = pds.get(
        "/xrpc/com.atproto.repo.listRecords",
        params={"repo": alice.did, "collection": "app.bsky.feed.post", "limit": 100},
    ).json()["records"]
    assert all(r["value"]["text"] != text for r in records)


def test_no_videos_left_today_is_a_rate_limit_and_nothing_is_uploaded(
    service: VideoServiceEmulator, account: Account, clip: Path
) -> None:
    service.limits = {"canUpload": False, "remainingDailyVideos": 0, "message": "daily limit"}
    with Client() as client:
        [result] = client.publish(Post(unique_text("Habis"), media=[Media(path=clip)]), [account])
    assert isinstance(result.error, RateLimited)
    assert "daily limit" in str(result.error)
    assert service.calls(UPLOAD) == [] and service.jobs == {}


def test_an_unverified_email_says_so(
    service: VideoServiceEmulator, account: Account, clip: Path
) -> None:
    service.limits = {"canUpload": False, "error": "unconfirmed_email"}
    with Client() as client:
        [result] = client.publish(Post(unique_text("Belum"), media=[Media(path=clip)]), [account])
    assert isinstance(result.error, PlatformError) and not isinstance(result.error, RateLimited)
    assert "unconfirmed_email" in str(result.error)
    assert result.error.hint is not None and "e-mail" in result.error.hint
    assert service.calls(UPLOAD) == []


def test_check_says_where_videos_go(
    service: VideoServiceEmulator, account: Account, bluesky_server: BlueskyDevServer
) -> None:
    with Client() as client:
        found = client.check(account)
        plain = client.check(
            account.model_copy(
                update={
                    "credentials": {
                        k: v for k, v in account.credentials.items() if k == "identifier"
                    }
                    | {"app_password": account.credentials["app_password"]}
                }
            )
        )
    [video] = [n for n in found.notes if n.startswith("videos go through")]
    assert service.base_url in video and service.did in video
    assert "may upload 25 more videos" in video  # what the emulator's limits answered
    assert "GET /xrpc/app.bsky.video.getUploadLimits" in found.calls
    [(_, _, _, claims)] = service.calls(LIMITS)
    assert claims is not None and claims["aud"] == service.did
    assert any("PDS blobs" in note for note in plain.notes)

    service.limits = {"canUpload": False, "error": "unconfirmed_email"}
    with Client() as client:
        refused = client.check(account)
    [video] = [n for n in refused.notes if n.startswith("videos go through")]
    assert "does not let this account upload" in video and "unconfirmed_email" in video
