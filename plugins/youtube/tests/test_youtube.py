"""The YouTube adapter against its emulator: what the server stored, tokens, quota, a crash.

Every request these tests make is also checked against the discovery document (conftest).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from govsocial import Account, Client, Media, Post, RateLimited, validate
from govsocial.adapters import MemoryCheckpoints
from govsocial.testing import tiny_png
from govsocial.testing.pytest_plugin import Emulators
from govsocial_youtube import YouTube
from govsocial_youtube.quota import next_reset
from govsocial_youtube.testing import Discovery, YouTubeEmulator

SRT = "1\n00:00:00,000 --> 00:00:01,500\nSelamat pagi, warga\n"


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(max_wait=5.0, timeout=httpx.Timeout(5.0)) as client:
        yield client


def publish(client: Client, post: Post, account: Account) -> Any:
    [result] = client.publish(post, [account])
    assert result.ok, repr(result.error)
    return result.ref


# -- publishing -----------------------------------------------------------------------------


def test_the_video_goes_up_with_title_description_tags_and_explicit_status(
    server: YouTubeEmulator, fresh: Account, client: Client, clip: bytes
) -> None:
    text = "Sosialisasi pajak 2026\nCara lapor SPT tahunan. #Pajak #InfoPublik #Pajak"
    ref = publish(client, Post(text, media=[Media(data=clip)], language="id"), fresh)
    [video] = server.videos_of(fresh)
    assert video["id"] == ref.id
    assert video["sha256"] == hashlib.sha256(clip).hexdigest()
    snippet, status = video["snippet"], video["status"]
    assert snippet["title"] == "Sosialisasi pajak 2026"
    assert snippet["description"] == text
    assert snippet["tags"] == ["Pajak", "InfoPublik"]
    assert snippet["categoryId"] == "25"
    assert snippet["defaultLanguage"] == "id"
    assert status["privacyStatus"] == "public"
    assert status["selfDeclaredMadeForKids"] is False  # said, not left to a default
    assert video["notified"] is True
    assert ref.extra == {"kind": "video", "privacy": "public"}


def test_labels_set_title_privacy_category_notification_kids_and_playlist(
    server: YouTubeEmulator, fresh: Account, client: Client, clip: bytes
) -> None:
    labels = {
        "youtube.title": "Judul dari label",
        "youtube.privacy": "unlisted",
        "youtube.category_id": "29",
        "youtube.notify_subscribers": "false",
        "youtube.made_for_kids": "true",
        "youtube.playlist_id": "PLhumas2026",
    }
    post = Post("Teks panjang\nbaris kedua", media=[Media(data=clip)], labels=labels)
    ref = publish(client, post, fresh)
    [video] = server.videos_of(fresh)
    assert video["snippet"]["title"] == "Judul dari label"
    assert video["snippet"]["categoryId"] == "29"
    assert video["status"]["privacyStatus"] == "unlisted"
    assert video["status"]["selfDeclaredMadeForKids"] is True
    assert video["notified"] is False
    assert server.playlists["PLhumas2026"] == [ref.id]
    assert ref.extra["playlist_item"]


def test_the_cover_becomes_the_thumbnail_and_the_captions_a_track(
    server: YouTubeEmulator,
    fresh: Account,
    client: Client,
    clip: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ROOTS", str(tmp_path))
    captions = tmp_path / "klip.id.srt"
    captions.write_text(SRT, encoding="utf-8")
    media = Media(
        data=clip, cover=Media(data=tiny_png()), captions=captions, captions_language="id"
    )
    ref = publish(client, Post("Klip bersubtitel", media=[media]), fresh)
    assert server.thumbnails[ref.id] == tiny_png()
    [track] = [c for c in server.captions.values() if c["snippet"]["videoId"] == ref.id]
    assert track["snippet"]["language"] == "id"
    assert track["data"] == SRT.encode()
    assert ref.extra["thumbnail"] == "set" and ref.extra["captions"]


def test_an_unverified_project_locks_the_upload_private_and_the_result_says_so(
    fresh_emulators: Emulators, client: Client, clip: bytes
) -> None:
    locked = YouTubeEmulator(unverified_project=True)
    locked.base_url = fresh_emulators.serve(locked.app())
    account = locked.add_channel("@dinasbaru")
    ref = publish(client, Post("Video publik", media=[Media(data=clip)]), account)
    assert locked.videos[ref.id]["status"]["privacyStatus"] == "private"
    assert ref.extra["privacy"] == "private"
    assert ref.extra["requested_privacy"] == "public"
    assert "unverified API projects created after 28 July 2020" in ref.extra["notice"]
    oracle = Discovery.load()
    assert [p for r in locked.requests for p in oracle.check(*r)] == []


def test_a_refused_thumbnail_leaves_the_video_published_and_says_why(
    server: YouTubeEmulator, fresh: Account, client: Client, clip: bytes
) -> None:
    server.inject(
        "POST",
        r"/thumbnails/set",
        status=403,
        body={
            "error": {
                "code": 403,
                "message": "The authenticated user doesn't have permissions to upload "
                "and set custom video thumbnails.",
                "errors": [{"reason": "forbidden"}],
            }
        },
    )
    post = Post("Sampul ditolak", media=[Media(data=clip, cover=Media(data=tiny_png()))])
    ref = publish(client, post, fresh)
    assert server.stored_post(ref) is not None
    assert ref.id not in server.thumbnails
    assert "custom video thumbnails" in ref.extra["thumbnail_error"]


def test_validate_says_what_youtube_refuses_before_anything_is_sent(clip: bytes) -> None:
    video = Media(data=clip)
    cases = {
        "image_not_allowed": Post("Poster", media=[Media(data=tiny_png())]),
        "title_too_long": Post("J" * 101, media=[video]),
        "angle_brackets": Post("Pajak <2026>", media=[video]),
        "invalid_option": Post("Klip", media=[video], labels={"youtube.privacy": "publik"}),
        "too_many_tags": Post(
            "Klip\n" + " ".join(f"#tag{i:03d}x" for i in range(70)), media=[video]
        ),
    }
    for code, post in cases.items():
        assert code in [p.code for p in validate(post, "youtube")], code
    assert validate(Post("Judul\nisi", media=[video]), "youtube") == []


# -- tokens -----------------------------------------------------------------------------------


def test_an_expired_token_is_renewed_and_the_refresh_token_is_never_replaced(
    server: YouTubeEmulator, fresh: Account, clip: bytes
) -> None:
    told: list[dict[str, str]] = []
    server.expire(fresh)
    with Client(on_credentials=lambda _a, values: told.append(values)) as client:
        ref = publish(client, Post("Setelah token habis", media=[Media(data=clip)]), fresh)
        adapter = client.async_client.adapter(fresh)
        assert adapter.credential("refresh_token") == fresh.credential("refresh_token")
    assert server.stored_post(ref) is not None
    [renewal, project] = told
    assert set(renewal) == {"access_token", "token_expires_at"}  # no refresh_token at all
    assert project == {"project_verified": "true"}  # the public upload stayed public
    [form] = server.token_requests[-1:]
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == fresh.credential("refresh_token")


def test_an_empty_refresh_token_in_the_answer_does_not_wipe_the_stored_one(
    server: YouTubeEmulator,
    fresh: Account,
    clip: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Postiz's daily-reconnection bug: a renewal answer with ``refresh_token: ""`` (or
    null) overwrote the stored one. Through a workspace, the stored token survives."""
    from cryptography.fernet import Fernet

    from govsocial import AsyncClient, Workspace

    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", Fernet.generate_key().decode())
    channel = next(c["id"] for c in server.channels.values() if c["handle"] == fresh.handle)
    new = server.issue_token(channel)
    server.inject(
        "POST",
        r"^/token",
        status=200,
        after=False,
        body={
            "access_token": new.value,
            "expires_in": 3599,
            "refresh_token": "",
            "token_type": "Bearer",
        },
    )
    server.expire(fresh)
    original = fresh.credential("refresh_token")
    with Workspace.open(str(tmp_path / "ws.db")) as ws:
        ws.add_account("yt", fresh)
        account = ws.account("yt")

        async def go() -> None:
            async with AsyncClient(**ws.core.client_options()) as client:
                [result] = await client.publish(
                    Post("Token baru", media=[Media(data=clip)]), [account]
                )
                assert result.ok, repr(result.error)

        import asyncio

        asyncio.run(go())
        stored = ws.account("yt")
        assert stored.credential("access_token") == new.value
        assert stored.credential("refresh_token") == original


def test_a_revoked_refresh_token_says_to_authorize_again(
    server: YouTubeEmulator, fresh: Account, client: Client, clip: bytes
) -> None:
    server.refresh_tokens.pop(fresh.credential("refresh_token"))
    server.expire(fresh)
    [result] = client.publish(Post("Ditolak", media=[Media(data=clip)]), [fresh])
    assert not result.ok
    assert "Token has been expired or revoked" in str(result.error)
    assert "authorize the channel again" in str(result.error)
    assert fresh.credential("refresh_token") not in str(result.error)
    assert server.videos_of(fresh) == []


def test_a_token_uri_elsewhere_is_refused_so_the_refresh_token_never_goes_there(
    server: YouTubeEmulator,
    fresh: Account,
    client: Client,
    clip: bytes,
    fresh_emulators: Emulators,
) -> None:
    """An accounts file names an attacker's token endpoint, hoping an expired token makes
    the worker send it the refresh token and client secret. Refused; nothing arrives."""
    from aiohttp import web

    from govsocial import ConfigurationError

    received: list[str] = []

    async def record(request: web.Request) -> web.Response:
        received.append(await request.text())
        return web.json_response({"access_token": "stolen"})

    trap = web.Application()
    trap.router.add_post("/token", record)
    elsewhere = fresh_emulators.serve(trap) + "/token"
    account = with_option(fresh, token_uri=elsewhere)
    with pytest.raises(ConfigurationError, match="token_uri"):
        YouTube.check_account(account)
    server.expire(fresh)
    [result] = client.publish(Post("Klip", media=[Media(data=clip)]), [account])
    assert isinstance(result.error, ConfigurationError)
    assert received == []
    assert fresh.credential("refresh_token") not in str(result.error)


# -- quota ------------------------------------------------------------------------------------


def with_option(account: Account, **options: str) -> Account:
    credentials = {k: v.get_secret_value() for k, v in account.credentials.items()}
    return Account(
        **account.model_dump(exclude={"credentials"}), credentials={**credentials, **options}
    )


def test_an_upload_beyond_the_days_quota_is_refused_before_sending_naming_the_reset(
    server: YouTubeEmulator, fresh: Account, client: Client, clip: bytes
) -> None:
    account = with_option(fresh, daily_uploads="1")
    publish(client, Post("Video pertama", media=[Media(data=clip)]), account)
    sessions = sum(1 for m, p, *_ in server.requests if m == "POST" and p.endswith("/videos"))
    [result] = client.publish(Post("Video kedua", media=[Media(data=clip)]), [account])
    assert isinstance(result.error, RateLimited)
    assert "0 of 1 video uploads left today" in str(result.error)
    assert "midnight Pacific Time" in str(result.error)
    assert result.error.retry_after is not None
    assert abs(result.error.retry_after - (next_reset().timestamp() - time.time())) < 60
    after = sum(1 for m, p, *_ in server.requests if m == "POST" and p.endswith("/videos"))
    assert after == sessions, "nothing was sent"
    assert len(server.videos_of(fresh)) == 1


def test_captions_that_cost_more_units_than_are_left_are_not_sent(
    server: YouTubeEmulator,
    fresh: Account,
    client: Client,
    clip: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """captions.insert costs 400 units: with 399 left the video goes, the captions do not."""
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ROOTS", str(tmp_path))
    captions = tmp_path / "a.srt"
    captions.write_text(SRT, encoding="utf-8")
    account = with_option(fresh, daily_units="399")
    media = Media(data=clip, captions=captions, captions_language="id")
    checkpoints = MemoryCheckpoints()
    with Client(checkpoints=checkpoints) as first:
        [result] = first.publish(
            Post("Klip", media=[media]), [account], idempotency_keys={account: "d"}
        )
    assert isinstance(result.error, RateLimited)
    assert "captions.insert costs 400" in str(result.error)
    [video] = server.videos_of(fresh)
    assert not [c for c in server.captions.values() if c["snippet"]["videoId"] == video["id"]]
    # the next day (here: a process with more quota) resumes the delivery: no second upload
    retry = with_option(fresh, daily_units="10000")
    with Client(checkpoints=checkpoints) as later:
        [done] = later.publish(Post("Klip", media=[media]), [retry], idempotency_keys={retry: "d"})
    assert done.ok and done.ref is not None and done.ref.id == video["id"]
    assert len(server.videos_of(fresh)) == 1
    [track] = [c for c in server.captions.values() if c["snippet"]["videoId"] == video["id"]]
    assert track["data"] == SRT.encode()


def test_googles_quota_exceeded_is_rate_limited_until_midnight_pacific(
    server: YouTubeEmulator, fresh: Account, client: Client, clip: bytes
) -> None:
    server.uploads_left = 0
    [result] = client.publish(Post("Kuota habis", media=[Media(data=clip)]), [fresh])
    assert isinstance(result.error, RateLimited)
    assert "quotaExceeded" in str(result.error) and "midnight Pacific" in str(result.error)
    before = len(server.requests)
    [again] = client.publish(Post("Lagi", media=[Media(data=clip)]), [fresh])
    assert isinstance(again.error, RateLimited)
    assert len(server.requests) == before, "the spent bucket is not asked again today"


# -- exactly once -------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from govsocial import Account, Client, Media, Post

    class FileCheckpoints:
        def __init__(self, path):
            self.path = Path(path)
        def load(self, account_key, key):
            if not self.path.exists():
                return {}
            return json.loads(self.path.read_text()).get(key, {})
        def save(self, account_key, key, values):
            data = json.loads(self.path.read_text()) if self.path.exists() else {}
            data[key] = values
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "w") as handle:
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)

    account = Account(**json.loads(os.environ["YT_ACCOUNT"]))
    clip = Path(sys.argv[1]).read_bytes()
    with Client(checkpoints=FileCheckpoints(sys.argv[2])) as client:
        [result] = client.publish(
            Post("Klip sekali saja", media=[Media(data=clip)]), [account],
            idempotency_keys={account: "delivery-1"},
        )
    print(json.dumps({"ok": result.ok, "id": result.ref.id if result.ref else None,
                      "error": str(result.error)}), flush=True)
    """
)


def test_kill_9_after_the_last_chunk_then_a_repeat_gets_the_same_video(
    server: YouTubeEmulator, fresh: Account, clip: bytes, tmp_path: Path
) -> None:
    """The last chunk is taken and the video made, but the answer never reaches the
    process: it is killed (SIGKILL) while waiting. The next process, on the same
    checkpoints, asks the upload session, which answers the video it made."""
    video = tmp_path / "klip.mp4"
    video.write_bytes(clip)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    store = tmp_path / "checkpoints.json"
    plain = {k: v.get_secret_value() for k, v in fresh.credentials.items()}
    env = {
        **os.environ,
        "YT_ACCOUNT": json.dumps(
            {**fresh.model_dump(exclude={"credentials"}), "credentials": plain}
        ),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    # the last (here: only) chunk is handled, then its answer is held for a minute
    held = server.inject("PUT", r"upload_id=", after=True, delay=60.0)
    args = [sys.executable, str(script), str(video), str(store)]
    errors = tmp_path / "first.err"
    with open(errors, "wb") as stderr:
        first = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while not server.videos_of(fresh):
            assert first.poll() is None, errors.read_text()[-2000:]
            assert time.monotonic() < deadline, "the upload never finished"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
        held.released = True
    assert first.returncode == -signal.SIGKILL
    [made] = server.videos_of(fresh)
    saved = json.loads(store.read_text())["delivery-1"]
    assert "video.session" in saved and "video" not in saved, "killed before the id came back"

    second = subprocess.run(args, env=env, capture_output=True, timeout=120, check=False)
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    answer = json.loads(second.stdout)
    assert answer == {"ok": True, "id": made["id"], "error": "None"}
    assert len(server.videos_of(fresh)) == 1, "one video, not two"
    opened = [q for m, p, q, _ in server.requests if m == "POST" and p.endswith("/videos")]
    assert len([q for q in opened if q.get("uploadType") == "resumable"]) >= 1
    assert json.loads(store.read_text())["delivery-1"]["video"] == made["id"]


# -- reading ------------------------------------------------------------------------------------


def test_replies_beyond_the_five_in_a_thread_are_read_and_account_figures_counted(
    server: YouTubeEmulator, fresh: Account, client: Client, clip: bytes
) -> None:
    ref = publish(client, Post("Tanya jawab", media=[Media(data=clip)]), fresh)
    citizen = server.accounts[1]
    question = server.comment(ref, "Kapan dibuka?", citizen)
    for i in range(7):
        client.reply(question.model_copy(update={"account": fresh}), f"Jawaban {i}")
    found = client.fetch_replies(ref)
    assert [i.text for i in found] == ["Kapan dibuka?"] + [f"Jawaban {i}" for i in range(7)]
    assert all(i.in_reply_to_id == question.id for i in found[1:])
    metrics = client.fetch_account_metrics(fresh)
    assert (metrics.followers, metrics.posts) == (0, 1)


# -- the oracle can fail --------------------------------------------------------------------------


def test_the_oracle_refuses_a_renamed_field_part_parameter_or_path() -> None:
    oracle = Discovery.load()
    good = {
        "snippet": {"title": "t", "categoryId": "25"},
        "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": False},
    }
    query = {"uploadType": "resumable", "part": "snippet,status", "notifySubscribers": "true"}
    assert oracle.check("POST", "/upload/youtube/v3/videos", query, good) == []
    renamed = {"snippet": {"title": "t"}, "status": {"privacy_status": "public"}}
    assert oracle.check("POST", "/upload/youtube/v3/videos", query, renamed) != []
    wrong_enum = {"status": {"privacyStatus": "publik"}}
    assert oracle.check("POST", "/upload/youtube/v3/videos", query, wrong_enum) != []
    assert oracle.check("GET", "/youtube/v3/videos", {"part": "stats", "id": "x"}, None) != []
    assert oracle.check("GET", "/youtube/v3/videos", {"id": "x"}, None) != []  # part required
    assert oracle.check("GET", "/youtube/v3/video", {"part": "statistics"}, None) != []
    assert (
        oracle.check(
            "GET", "/youtube/v3/commentThreads", {"part": "snippet", "order": "newest"}, None
        )
        != []
    )


def test_a_401_on_a_chunk_renews_the_token_and_the_upload_goes_on(
    server: YouTubeEmulator, fresh: Account, client: Client, clip: bytes
) -> None:
    """The token expires mid-upload: the chunk is refused (401, nothing taken), the token
    is renewed once, the same chunk is sent again, and one video is made."""
    unauthorized = {
        "error": {
            "code": 401,
            "message": "Invalid Credentials",
            "errors": [{"reason": "authError"}],
        }
    }
    server.inject("PUT", r"upload_id=", status=401, body=unauthorized)
    renewals = len(server.token_requests)
    ref = publish(client, Post("Token habis di tengah", media=[Media(data=clip)]), fresh)
    assert len(server.token_requests) == renewals + 1
    [video] = server.videos_of(fresh)
    assert video["id"] == ref.id and video["sha256"] == hashlib.sha256(clip).hexdigest()


def test_an_upload_session_on_another_host_never_gets_the_token(
    server: YouTubeEmulator,
    fresh: Account,
    client: Client,
    clip: bytes,
    fresh_emulators: Emulators,
) -> None:
    """An answer (a rewriting proxy) puts the upload session on another host: the token
    is not sent there; the attempt fails saying why."""
    from aiohttp import web

    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.Response(status=308)

    trap = web.Application()
    trap.router.add_put("/upload", record)
    elsewhere = fresh_emulators.serve(trap) + "/upload?upload_id=x"
    server.inject("POST", r"/upload/youtube/v3/videos", status=200, headers={"Location": elsewhere})
    [result] = client.publish(Post("Klip", media=[Media(data=clip)]), [fresh])
    assert result.error is not None and "the access token is not sent there" in str(result.error)
    assert seen == []
    assert server.videos_of(fresh) == []
