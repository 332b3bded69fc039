"""Publishing to the TikTok emulator: chunks, expired uploads, moderation across attempts,
the init budget, tokens and TikTok's refusals. Every assertion reads what the emulator
received or stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import govsocial
from govsocial import Account, Media, Post
from govsocial.adapters import AdapterContext, Http, MemoryCheckpoints
from govsocial.adapters.http import new_http_client
from govsocial.adapters.media import DirectoryHost
from govsocial.core.errors import (
    AuthenticationError,
    ConfigurationError,
    PlatformError,
    RateLimited,
    ValidationError,
)
from govsocial.testing.video import make_video
from govsocial_tiktok import PublishPending, TikTok
from govsocial_tiktok.adapter import plan_chunks
from govsocial_tiktok.testing import TikTokEmulator

KIB = 1024
VIDEO = make_video(width=360, height=640, seconds=4, fps=30)


def padded(size: int) -> bytes:
    """A real MP4 (its head is what the type check reads) padded to ``size`` bytes."""
    return VIDEO + bytes(size - len(VIDEO))


@pytest.fixture
def small_chunks(server: TikTokEmulator, monkeypatch: pytest.MonkeyPatch) -> int:
    """64 KiB chunks on both sides, so a test file of a few hundred KiB has several."""
    monkeypatch.setattr(TikTok, "chunk_bytes", 64 * KIB)
    monkeypatch.setattr(TikTok, "min_chunk", 64 * KIB)
    server.min_chunk = 64 * KIB
    return 64 * KIB


class Run:
    """One adapter for one account, with a checkpoint store that outlives it and the
    credentials it renewed."""

    def __init__(self, server: TikTokEmulator, account: Account) -> None:
        self.server = server
        self.account = account
        self.checkpoints = MemoryCheckpoints()
        self.renewed: list[dict[str, str]] = []

    def adapter(self, max_wait: float = 5.0, timeout: float = 5.0) -> TikTok:
        context = AdapterContext(
            http=Http(new_http_client(timeout=httpx.Timeout(timeout)), max_wait=max_wait),
            checkpoints=self.checkpoints,
            media_host=DirectoryHost(self.server.media_dir, self.server.base_url + "/media"),
            on_credentials=lambda _account, values: self.renewed.append(values),
        )
        return TikTok(self.account, context)

    def publish(self, post: Post, key: str = "d1", **options: Any) -> Any:
        async def go() -> Any:
            adapter = self.adapter(**options)
            try:
                return await adapter.publish(post, idempotency_key=key)
            finally:
                await adapter.http.client.aclose()

        return asyncio.run(go())


@pytest.fixture
def run(server: TikTokEmulator, fresh: Account) -> Iterator[Run]:
    yield Run(server, fresh)


def video_post(data: bytes, text: str = "Sosialisasi pajak") -> Post:
    return Post(text, media=[Media(data=data, mime_type="video/mp4")])


def test_plan_chunks_follows_the_media_transfer_guide() -> None:
    assert plan_chunks(3 * 1024 * KIB, 10 * 1024 * KIB) == (3 * 1024 * KIB, 1)  # under 5 MB
    mb = 1024 * KIB
    assert plan_chunks(25 * mb, 10 * mb) == (10 * mb, 2)  # the last takes the 5 MB left over
    chunk, total = plan_chunks(4 * 1024 * mb, 10 * mb)
    assert total <= 1000 and 5 * mb <= chunk <= 64 * mb


def test_a_video_goes_in_sequential_chunks_the_last_one_longer(run: Run, small_chunks: int) -> None:
    data = padded(300_000)
    ref = run.publish(video_post(data))
    [publish] = run.server.publishes_of(run.account)
    assert (publish.chunk_size, publish.total_chunks) == (small_chunks, 4)
    puts = [(first, last) for pid, first, last in run.server.puts if pid == publish.publish_id]
    assert puts == [(0, 65535), (65536, 131071), (131072, 196607), (196608, 299_999)]
    stored = run.server.stored_post(ref)
    assert stored is not None and stored["video"] == data
    assert stored["title"] == "Sosialisasi pajak"
    # creator_info said stitches are off: the post keeps them off
    assert stored["post_info"]["disable_stitch"] is True
    assert stored["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert ref.url == f"https://www.tiktok.com/@{run.account.handle[1:]}/video/{ref.id}"


def test_an_expired_upload_url_makes_one_new_publish_and_one_post(
    run: Run, small_chunks: int
) -> None:
    """TikTok's upload URL lasts an hour. When it dies mid-file, the old publish can never
    become a post (it never gets its last byte), so a new init is safe: one post, two
    publishes, the first FAILED with part of the file."""
    data = padded(300_000)
    run.server.expire_after_chunks = 2
    try:
        ref = run.publish(video_post(data))
    finally:
        run.server.expire_after_chunks = None
    first, second = run.server.publishes_of(run.account)
    assert first.status == "FAILED" and len(first.data) == 2 * small_chunks
    assert second.status == "PUBLISH_COMPLETE"
    assert [p["id"] for p in run.server.posts_of(run.account)] == [ref.id]
    assert run.server.stored_post(ref)["video"] == data  # type: ignore[index]


def test_moderation_longer_than_an_attempt_resumes_polling_never_a_second_init(
    run: Run,
) -> None:
    run.server.hold_moderation = True
    with pytest.raises(PublishPending) as caught:
        run.publish(video_post(VIDEO))
    pending = caught.value
    assert "looking again polls publish" in str(pending)
    assert isinstance(pending, RateLimited) and pending.retry_after == TikTok.moderation_retry
    assert isinstance(pending, govsocial.PublishPending)  # the core's: the worker waits
    [publish] = run.server.publishes_of(run.account)
    assert pending.publish_id == publish.publish_id
    assert run.checkpoints.load(run.account.key, "d1")["publish_id"] == publish.publish_id
    assert run.server.posts_of(run.account) == []

    with pytest.raises(PublishPending):  # the second attempt: still in moderation
        run.publish(video_post(VIDEO))
    run.server.hold_moderation = False
    ref = run.publish(video_post(VIDEO))  # the third attempt finds it published
    assert len(run.server.publishes_of(run.account)) == 1, "one init across three attempts"
    assert [p["id"] for p in run.server.posts_of(run.account)] == [ref.id]
    assert ref.extra["publish_id"] == publish.publish_id
    again = run.publish(video_post(VIDEO))  # a fourth: answered from the checkpoint
    assert again.id == ref.id and len(run.server.publishes_of(run.account)) == 1


def test_the_seventh_init_in_a_minute_waits_instead_of_collecting_a_429(run: Run) -> None:
    for index in range(6):
        run.publish(video_post(VIDEO, f"klip {index}"), key=f"d{index}")
    inits = len(run.server.publishes_of(run.account))
    assert inits == 6
    with pytest.raises(RateLimited) as caught:
        run.publish(video_post(VIDEO, "klip 7"), key="d7", max_wait=1.0)
    assert caught.value.retry_after is not None and 50 < caught.value.retry_after <= 60
    assert len(run.server.publishes_of(run.account)) == 6, "the seventh never left"
    assert ("POST", "/v2/post/publish/video/init/") in run.server.requests


def test_an_expired_token_is_renewed_and_the_rotated_refresh_token_kept(run: Run) -> None:
    run.server.revoke(run.account.credential("access_token"))
    old_refresh = run.account.credential("refresh_token")
    ref = run.publish(video_post(VIDEO))
    assert run.server.stored_post(ref) is not None
    [renewed, audited] = run.renewed
    assert audited == {"app_audited": "true"}  # a public post went out
    assert renewed["access_token"] in run.server.tokens
    assert renewed["refresh_token"] != old_refresh
    assert renewed["refresh_token"] in run.server.refresh_tokens
    assert old_refresh not in run.server.refresh_tokens  # TikTok rotated it


def test_a_refresh_answer_without_a_refresh_token_never_wipes_ours(run: Run) -> None:
    run.server.refresh_omits_refresh_token = True
    old_refresh = run.account.credential("refresh_token")

    async def refresh() -> tuple[bool, str]:
        adapter = run.adapter()
        try:
            return await adapter.refresh_credentials(), adapter.credential("refresh_token")
        finally:
            await adapter.http.client.aclose()

    renewed, refresh_after = asyncio.run(refresh())
    assert renewed is True
    assert run.renewed == [{"access_token": run.renewed[0]["access_token"]}]
    assert refresh_after == old_refresh and old_refresh in run.server.refresh_tokens


def test_a_refused_refresh_is_an_authentication_error_without_secrets(
    server: TikTokEmulator, fresh: Account
) -> None:
    server.revoke(fresh.credential("access_token"))
    wrong = Account(
        **fresh.model_dump(exclude={"credentials"}),
        credentials={
            **{k: v.get_secret_value() for k, v in fresh.credentials.items()},
            "refresh_token": "rft.stolen-or-stale",
        },
    )
    with pytest.raises(AuthenticationError) as caught:
        Run(server, wrong).publish(video_post(VIDEO))
    text = f"{caught.value} {caught.value!r}"
    assert "Refresh token is invalid" in text
    for secret in ("rft.stolen-or-stale", "aw_client_secret", fresh.credential("access_token")):
        assert secret not in text


def test_unaudited_app_posting_publicly_is_refused_with_the_fix(run: Run) -> None:
    run.server.unaudited = True
    with pytest.raises(ConfigurationError) as caught:
        run.publish(video_post(VIDEO))
    error = caught.value
    assert error.field == "credentials.privacy_level"
    assert "unaudited_client_can_only_post_to_private_accounts" in str(error)
    assert "Unaudited clients can only post to a private account." in str(error)
    assert error.hint is not None and "SELF_ONLY" in error.hint
    assert run.server.posts_of(run.account) == []


def test_unaudited_app_posts_self_only_and_the_result_says_so(
    server: TikTokEmulator, fresh: Account
) -> None:
    server.unaudited = True
    private = Account(
        **fresh.model_dump(exclude={"credentials"}),
        credentials={
            **{k: v.get_secret_value() for k, v in fresh.credentials.items()},
            "privacy_level": "SELF_ONLY",
        },
    )
    ref = Run(server, private).publish(video_post(VIDEO))
    [stored] = server.posts_of(private)
    assert stored["privacy_level"] == "SELF_ONLY"
    assert ref.extra["privacy_level"] == "SELF_ONLY" and "private" in ref.extra["visibility"]
    assert ref.id == stored["publish_id"] and ref.url is None  # no public post id


def test_a_privacy_level_the_creator_lacks_is_refused_before_any_init(
    server: TikTokEmulator,
) -> None:
    account = server.add_account("privat_kota", privacy_level_options=["SELF_ONLY"])
    public = Account(
        **account.model_dump(exclude={"credentials"}),
        credentials={
            **{k: v.get_secret_value() for k, v in account.credentials.items()},
            "privacy_level": "PUBLIC_TO_EVERYONE",
        },
    )
    with pytest.raises(ConfigurationError, match="its options are SELF_ONLY"):
        Run(server, public).publish(video_post(VIDEO))
    assert server.publishes_of(account) == []
    # without the setting the account's own option is used
    ref = Run(server, account).publish(video_post(VIDEO))
    assert server.stored_post(ref)["privacy_level"] == "SELF_ONLY"  # type: ignore[index]


def test_tiktoks_privacy_mismatch_code_is_a_configuration_error() -> None:
    answer = httpx.Response(
        403,
        json={
            "error": {
                "code": "privacy_level_option_mismatch",
                "message": "privacy_level is not in privacy_level_options",
                "log_id": "2024",
            }
        },
    )
    account = Account(platform="tiktok", handle="@h", credentials={"access_token": "act.x"})
    adapter = TikTok(account, AdapterContext(http=Http(httpx.AsyncClient())))
    error = adapter.error_for(answer)
    assert isinstance(error, ConfigurationError)
    assert "privacy_level_option_mismatch: privacy_level is not in" in str(error)
    assert error.field == "credentials.privacy_level"


def test_the_daily_cap_is_a_platform_error_that_is_not_retried(run: Run) -> None:
    run.server.spam_cap = 0
    with pytest.raises(PlatformError) as caught:
        run.publish(video_post(VIDEO))
    error = caught.value
    assert not isinstance(error, RateLimited) and error.status == 403
    assert "spam_risk_too_many_posts: The daily post cap" in str(error)
    assert error.hint is not None and "tomorrow" in error.hint


def test_a_video_url_on_an_unverified_domain_names_the_fix(run: Run) -> None:
    post = Post("klip", media=[Media(url="https://cdn.elsewhere.example/klip.mp4")])
    with pytest.raises(ConfigurationError) as caught:
        run.publish(post)
    assert caught.value.field == "media"
    assert "url_ownership_unverified" in str(caught.value)
    assert caught.value.hint is not None and "verify" in caught.value.hint


def test_a_video_url_on_the_verified_host_is_pulled_by_tiktok(run: Run) -> None:
    (run.server.media_dir / "tarif.mp4").write_bytes(VIDEO)
    post = Post("Tarif baru", media=[Media(url=f"{run.server.base_url}/media/tarif.mp4")])
    ref = run.publish(post)
    stored = run.server.stored_post(ref)
    assert stored is not None and stored["video"] == VIDEO
    assert not [p for p in run.server.puts if p[0] == ref.extra["publish_id"]], "no upload"


def test_a_video_longer_than_the_creator_may_post_is_refused_before_the_init(
    server: TikTokEmulator,
) -> None:
    account = server.add_account("pendek_kota", max_video_post_duration_sec=3)
    with pytest.raises(ValidationError) as caught:
        Run(server, account).publish(video_post(VIDEO))
    [problem] = caught.value.problems
    assert problem.code == "video_too_long" and problem.limit == 3
    assert server.publishes_of(account) == []


def test_a_failed_publish_is_reported_with_tiktoks_reason(run: Run) -> None:
    post = Post("hilang", media=[Media(url=f"{run.server.base_url}/media/tidak-ada.mp4")])
    with pytest.raises(PlatformError) as caught:
        run.publish(post)
    assert "video_pull_failed" in str(caught.value)
    assert caught.value.hint is not None and "public" in caught.value.hint


def test_photos_and_account_figures(run: Run, server: TikTokEmulator) -> None:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 90, 200)).save(out, format="JPEG")
    photos = [Media(data=out.getvalue(), mime_type="image/jpeg") for _ in range(3)]
    ref = run.publish(Post("Galeri kegiatan", media=photos))
    stored = server.stored_post(ref)
    assert stored is not None and stored["description"] == "Galeri kegiatan"
    assert len(stored["images"]) == 3 and all(
        u.startswith(server.base_url) for u in stored["images"]
    )

    async def figures() -> Any:
        adapter = run.adapter()
        try:
            return await adapter.fetch_account_metrics()
        finally:
            await adapter.http.client.aclose()

    metrics = asyncio.run(figures())
    assert metrics.posts == 1 and metrics.following == 3 and metrics.followers == 0


def test_the_upload_host_never_receives_the_token(run: Run, small_chunks: int) -> None:
    """The upload URL may be on another host than the API: chunks go without the bearer."""
    before = len(run.server.upload_authorization)
    run.publish(video_post(padded(200_000)))
    sent = run.server.upload_authorization[before:]
    assert len(sent) == 3 and sent == [None, None, None]


def test_a_hostile_user_name_in_tiktoks_answer_makes_no_link(server: TikTokEmulator) -> None:
    account = server.add_account("nama_aneh")
    server.users[server.tokens_owner(account)].username = "x@evil.example/phish?"
    ref = Run(server, account).publish(video_post(VIDEO))
    assert server.stored_post(ref) is not None
    assert ref.url is None and ref.id.isdigit()


def test_an_upload_that_expires_twice_is_a_platform_error_and_no_post(
    run: Run, small_chunks: int
) -> None:
    run.server.expire_after_chunks, run.server.expirations = 1, 2
    with pytest.raises(PlatformError, match="expired twice in a row"):
        run.publish(video_post(padded(300_000)))
    assert [p.status for p in run.server.publishes_of(run.account)] == ["FAILED", "FAILED"]
    assert run.server.posts_of(run.account) == []


def test_a_lost_photo_init_answer_is_an_unknown_outcome_never_a_second_init(
    run: Run, server: TikTokEmulator
) -> None:
    from govsocial import PublishOutcomeUnknown

    server.init_answer_delay = 2.0
    (server.media_dir / "poster.jpg").write_bytes(_jpeg())
    post = Post("Poster", media=[Media(url=f"{server.base_url}/media/poster.jpg")])
    with pytest.raises(PublishOutcomeUnknown):
        run.publish(post, timeout=0.5)
    assert len(server.publishes_of(run.account)) == 1, "sent once, not repeated"

    async def reconcile() -> Any:
        adapter = run.adapter()
        try:
            return await adapter.find_published("d1")
        finally:
            await adapter.http.client.aclose()

    with pytest.raises(NotImplementedError, match="check the account's posts"):
        asyncio.run(reconcile())  # no publish_id was saved: a human looks


def test_reconciliation_finds_a_post_from_the_saved_publish(run: Run) -> None:
    run.server.hold_moderation = True
    with pytest.raises(PublishPending):
        run.publish(video_post(VIDEO))

    async def reconcile() -> Any:
        adapter = run.adapter()
        try:
            return await adapter.find_published("d1")
        finally:
            await adapter.http.client.aclose()

    assert asyncio.run(reconcile()) is None  # still in moderation: not found yet
    run.server.hold_moderation = False
    run.server.moderation_polls = 0
    ref = asyncio.run(reconcile())
    [post] = run.server.posts_of(run.account)
    assert ref is not None and ref.id == post["id"]


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 120, 40)).save(out, format="JPEG")
    return out.getvalue()
