"""Page videos and Reels against the Graph emulator: what Meta's side stored, byte for byte.

The emulator follows Meta's documented requests and answers (the video-uploads guide, the
Reels Publishing API, the facebook-business SDK's video_uploader.py: see
``govsocial_facebook.testing``); every request of these tests is also held against Meta's
SDK by the ``_held_against_meta_sdk`` fixture. The crash tests kill a real publishing
process with SIGKILL mid-upload and run another on the same checkpoint file.
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

import httpx
import pytest

from govsocial import Account, Client, Media, Post, validate
from govsocial.core.errors import PublishOutcomeUnknown
from govsocial.testing import unique_text
from govsocial.testing.checkpoints import FileCheckpoints
from govsocial.testing.pytest_plugin import Emulators
from govsocial_facebook import Facebook
from govsocial_facebook.testing import GraphEmulator, graph_error

av = pytest.importorskip("av", reason="making test videos needs PyAV: govsocial[video]")
from govsocial.testing.video import make_video  # noqa: E402

_pages = iter(range(105000000000001, 106000000000000))


@pytest.fixture
def page(emulator: GraphEmulator) -> str:
    """A Page of its own for each test (the session's emulator keeps what others made)."""
    number = next(_pages)
    return emulator.add_page(str(number), f"Dinas Video {number}", f"EAAGvideo{number}").id


@pytest.fixture
def humas(emulator: GraphEmulator, page: str) -> Account:
    return emulator.account(page)


@pytest.fixture(autouse=True)
def _quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Processing checks every 50 ms, not every 2 s."""
    monkeypatch.setattr(Facebook, "video_poll_interval", 0.05)


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(timeout=httpx.Timeout(5.0), max_wait=5.0, max_attempts=3) as client:
        yield client


@pytest.fixture(scope="module")
def vertical() -> bytes:
    """9:16, 540x960, 4 s, 30 fps, H.264 and AAC: within Meta's Reels specification."""
    return make_video(width=540, height=960, seconds=4, fps=30)


@pytest.fixture(scope="module")
def landscape() -> bytes:
    """16:9, 640x360: a Page video (Reels are 9:16 only)."""
    return make_video(width=640, height=360, seconds=2, fps=30)


def published(client: Client, post: Post, account: Account, **kwargs: object) -> object:
    [result] = client.publish(post, [account], **kwargs)  # type: ignore[arg-type]
    assert result.ok, result.error
    return result.ref


def sha(data: bytes | bytearray) -> str:
    return hashlib.sha256(bytes(data)).hexdigest()


# -- what arrives ------------------------------------------------------------------------------


def test_a_vertical_short_video_becomes_a_reel_whole_and_described(
    emulator: GraphEmulator, humas: Account, page: str, client: Client, vertical: bytes
) -> None:
    text = unique_text("Cara daftar vaksin")
    ref = published(client, Post(text, media=[Media(data=vertical)]), humas)
    [video] = emulator.videos_of(page)
    assert video["format"] == "reel"
    assert video["id"] == ref.id  # type: ignore[attr-defined]
    assert sha(video["data"]) == sha(vertical)
    assert video["description"] == text
    [start] = emulator.requests("POST", "/video_reels")[:1]
    assert start.form == {"upload_phase": "start"}
    finish = emulator.requests("POST", "/video_reels")[-1].form
    assert finish["upload_phase"] == "finish" and finish["video_state"] == "PUBLISHED"
    [upload] = emulator.requests("POST", "/video-upload/")
    assert upload.authorization == f"OAuth {humas.credential('page_access_token')}"
    assert (upload.headers["offset"], upload.headers["file_size"]) == ("0", str(len(vertical)))
    assert ref.url == f"https://www.facebook.com/reel/{ref.id}"  # type: ignore[attr-defined]
    assert not emulator.requests("POST", "/videos"), "a Reel is not also a Page video"


def test_a_landscape_video_is_a_page_video_sent_in_the_windows_meta_asks_for(
    emulator: GraphEmulator, humas: Account, page: str, client: Client, landscape: bytes
) -> None:
    emulator.video_window = 4096
    text = unique_text("Liputan rapat")
    post = Post(text, media=[Media(data=landscape)], labels={"facebook.title": "Rapat"})
    ref = published(client, post, humas)
    [video] = emulator.videos_of(page)
    assert (video["format"], video["id"]) == ("video", ref.id)  # type: ignore[attr-defined]
    assert sha(video["data"]) == sha(landscape)
    assert (video["description"], video["title"]) == (text, "Rapat")
    transfers = [s for s in emulator.requests("POST", "/videos")]
    phases = [s.form["upload_phase"] for s in transfers]
    expected = -(-len(landscape) // 4096)
    assert phases == ["start"] + ["transfer"] * expected + ["finish"]
    offsets = [
        int(s.form["start_offset"]) for s in transfers if s.form["upload_phase"] == "transfer"
    ]
    assert offsets == list(range(0, len(landscape), 4096))
    assert all(s.size <= 4096 for s in transfers)
    assert not emulator.requests("POST", "/video_reels")


def test_the_label_chooses_a_page_video_for_a_vertical_clip(
    emulator: GraphEmulator, humas: Account, page: str, client: Client, vertical: bytes
) -> None:
    post = Post(unique_text(), media=[Media(data=vertical)], labels={"facebook.format": "video"})
    published(client, post, humas)
    assert [v["format"] for v in emulator.videos_of(page)] == ["video"]


def test_a_reel_label_on_a_landscape_video_is_refused_offline_naming_the_reels_rules(
    emulator: GraphEmulator, humas: Account, page: str, client: Client, landscape: bytes
) -> None:
    post = Post(unique_text(), media=[Media(data=landscape)], labels={"facebook.format": "reel"})
    problems = [p for p in validate(post, "facebook") if p.severity == "error"]
    ratio = [p for p in problems if p.code == "video_aspect_ratio"]
    assert ratio and "reels-publishing" in ratio[0].message and "9:16" in ratio[0].message
    # the Page video rules take the same clip without the label
    plain = post.model_copy(update={"labels": {}})
    assert [p for p in validate(plain, "facebook") if p.severity == "error"] == []
    bad = post.model_copy(update={"labels": {"facebook.format": "story"}})
    assert [p.code for p in validate(bad, "facebook")] == ["invalid_option"]


def test_a_video_goes_alone(humas: Account, vertical: bytes) -> None:
    from govsocial.testing import tiny_png

    post = Post("x", media=[Media(data=vertical), Media(data=tiny_png(), alt_text="peta")])
    assert "video_not_alone" in [p.code for p in validate(post, "facebook")]


def test_a_video_whose_processing_fails_says_so(
    emulator: GraphEmulator, humas: Account, page: str, client: Client, landscape: bytes
) -> None:
    emulator.fail_processing = True
    [result] = client.publish(Post(unique_text(), media=[Media(data=landscape)]), [humas])
    assert result.error is not None and "could not process video" in str(result.error)


def test_video_metrics_read_likes_comments_and_views(
    emulator: GraphEmulator, humas: Account, page: str, client: Client, vertical: bytes
) -> None:
    ref = published(client, Post(unique_text(), media=[Media(data=vertical)]), humas)
    emulator.like(ref, emulator.accounts[1])  # type: ignore[arg-type]
    [metrics] = client.fetch_metrics([ref])  # type: ignore[list-item]
    assert (metrics.likes, metrics.replies, metrics.views) == (1, 0, 4)


def test_a_video_is_deleted(
    emulator: GraphEmulator, humas: Account, page: str, client: Client, vertical: bytes
) -> None:
    ref = published(client, Post(unique_text(), media=[Media(data=vertical)]), humas)
    client.delete(ref)  # type: ignore[arg-type]
    assert emulator.videos_of(page) == []


# -- exactly once ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "path", "phase"), [("reel", "/video_reels", "finish"), ("video", "/videos", "finish")]
)
def test_a_lost_finish_answer_is_found_again_not_sent_again(
    emulator: GraphEmulator,
    humas: Account,
    page: str,
    vertical: bytes,
    tmp_path: Path,
    fmt: str,
    path: str,
    phase: str,
) -> None:
    """Meta takes the finish (which publishes) but its answer is lost: the outcome is
    unknown. A repeat of the delivery asks the video's status, sees it finished, and returns
    that video without finishing (publishing) anything again."""
    emulator.inject("POST", path, delay=1.5, body=None, form={"upload_phase": phase})
    store = FileCheckpoints(tmp_path / "checkpoints.json")
    post = Post(unique_text(), media=[Media(data=vertical)], labels={"facebook.format": fmt})
    keys = {humas: "delivery-1"}
    with Client(timeout=httpx.Timeout(0.5), max_attempts=3, checkpoints=store) as client:
        [first] = client.publish(post, [humas], idempotency_keys=keys)
    assert isinstance(first.error, PublishOutcomeUnknown)
    with Client(timeout=httpx.Timeout(5.0), max_attempts=3, checkpoints=store) as client:
        [second] = client.publish(post, [humas], idempotency_keys=keys)
    assert second.ok, second.error
    [video] = emulator.videos_of(page)
    assert second.ref is not None and second.ref.id == video["id"]
    finishes = [s for s in emulator.requests("POST", path) if s.form.get("upload_phase") == phase]
    assert len(finishes) == 1, "the finish was sent once"
    assert len(emulator.uploads_of(page)) == 1, "nor was the video uploaded twice"


def test_find_published_settles_a_lost_finish_and_clears_an_unsent_one(
    emulator: GraphEmulator, humas: Account, page: str, vertical: bytes, tmp_path: Path
) -> None:
    """A worker reconciles an unknown outcome with find_published: the video when Meta took
    the finish, None (safe to publish again) when the finish was never sent."""
    emulator.inject("POST", "/video_reels", delay=1.5, body=None, form={"upload_phase": "finish"})
    store = FileCheckpoints(tmp_path / "checkpoints.json")
    post = Post(unique_text(), media=[Media(data=vertical)])
    with Client(timeout=httpx.Timeout(0.5), max_attempts=3, checkpoints=store) as client:
        [lost] = client.publish(post, [humas], idempotency_keys={humas: "lost-1"})
        assert isinstance(lost.error, PublishOutcomeUnknown)
        found = client.find_published(humas, "lost-1")
        refusal = graph_error("(#100) The upload failed", 100)
        emulator.inject("POST", "/video-upload/", status=400, body=refusal)
        [cut] = client.publish(post, [humas], idempotency_keys={humas: "cut-1"})
        assert not cut.ok
        nothing = client.find_published(humas, "cut-1")
    [video] = emulator.videos_of(page)
    assert found is not None and found.id == video["id"] and found.extra["kind"] == "reel"
    assert nothing is None
    assert len(emulator.uploads_of(page)) == 2 and len(emulator.videos_of(page)) == 1


def test_an_upload_address_on_another_host_gets_neither_bytes_nor_token(
    emulator: GraphEmulator,
    humas: Account,
    page: str,
    client: Client,
    vertical: bytes,
    emulators: Emulators,
) -> None:
    """A start answer naming an upload URL off Meta's hosts (and off the account's server)
    is refused before the Page token or a byte goes there."""
    from aiohttp import web

    arrived: list[str] = []

    async def record(request: web.Request) -> web.Response:
        arrived.append(request.headers.get("Authorization", ""))
        return web.json_response({"success": True})

    elsewhere = web.Application()
    elsewhere.router.add_route("*", "/{tail:.*}", record)
    # the same machine under another name: a different host to the adapter
    other = emulators.serve(elsewhere).replace("127.0.0.1", "localhost")
    answer = {"video_id": "424242", "upload_url": f"{other}/video-upload/v26.0/424242"}
    emulator.inject("POST", "/video_reels", status=200, body=answer, form={"upload_phase": "start"})
    [result] = client.publish(Post(unique_text(), media=[Media(data=vertical)]), [humas])
    assert result.error is not None and "unexpected host" in str(result.error)
    assert arrived == []
    assert emulator.videos_of(page) == []


def test_an_upload_meta_forgot_starts_again_and_publishes_once(
    emulator: GraphEmulator, humas: Account, page: str, vertical: bytes, tmp_path: Path
) -> None:
    """The upload is cut after the start (the bytes never arrive), and Meta forgets it: the
    next attempt opens a new upload, and one Reel is published."""
    refusal = graph_error("(#100) The upload failed", 100)
    emulator.inject("POST", "/video-upload/", status=400, body=refusal)
    store = FileCheckpoints(tmp_path / "checkpoints.json")
    post = Post(unique_text(), media=[Media(data=vertical)])
    keys = {humas: "delivery-2"}
    with Client(timeout=httpx.Timeout(5.0), max_attempts=1, max_wait=0.1, checkpoints=store) as c:
        [first] = c.publish(post, [humas], idempotency_keys=keys)
    assert not first.ok
    [forgotten] = emulator.uploads_of(page)
    emulator.faults.clear()
    emulator.forget(forgotten["id"])
    with Client(timeout=httpx.Timeout(5.0), max_attempts=3, checkpoints=store) as client:
        [second] = client.publish(post, [humas], idempotency_keys=keys)
    assert second.ok, second.error
    [video] = emulator.videos_of(page)
    assert video["id"] != forgotten["id"] and sha(video["data"]) == sha(vertical)


# -- a real process killed mid-upload --------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from govsocial import Account, Client, Media, Post
    from govsocial.testing.checkpoints import FileCheckpoints
    from govsocial_facebook import video

    video.ReelUpload.chunk_size = 64 * 1024
    video.PageVideoUpload.chunk_size = 64 * 1024
    account = Account(**json.loads(os.environ["FB_ACCOUNT"]))
    path, store, fmt = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    post = Post("Klip sekali saja", media=[Media(path=path)], labels={"facebook.format": fmt})
    with Client(checkpoints=FileCheckpoints(store)) as client:
        [result] = client.publish(post, [account], idempotency_keys={account: "delivery-9"})
    print(json.dumps({"ok": result.ok, "id": result.ref.id if result.ref else None,
                      "error": str(result.error)}), flush=True)
    """
)


def offsets_sent(emulator: GraphEmulator, fmt: str) -> list[tuple[int, int]]:
    """(offset, bytes) of every chunk the emulator received, in order."""
    if fmt == "reel":
        return [
            (int(s.headers["offset"]), s.size) for s in emulator.requests("POST", "/video-upload/")
        ]
    return [
        (int(s.form["start_offset"]), s.size)
        for s in emulator.requests("POST", "/videos")
        if s.form.get("upload_phase") == "transfer"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["reel", "video"])
def test_kill_9_mid_upload_then_the_next_process_goes_on_and_publishes_once(
    emulator: GraphEmulator, humas: Account, page: str, vertical: bytes, tmp_path: Path, fmt: str
) -> None:
    """An MP4 (a real clip, padded to 3 MiB) goes up in 64 KiB chunks, each answered
    slowly; the publishing process is killed (SIGKILL) a third of the way. The next
    process, on the same checkpoint file, asks Meta how many bytes it holds, sends only the
    rest into the same upload, and publishes one video."""
    data = vertical + os.urandom(3 * 1024 * 1024 - len(vertical))
    clip = tmp_path / "klip.mp4"
    clip.write_bytes(data)
    store = tmp_path / "checkpoints.json"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    emulator.video_window = 64 * 1024
    plain = {k: v.get_secret_value() for k, v in humas.credentials.items()}
    env = {
        **os.environ,
        "FB_ACCOUNT": json.dumps(
            {**humas.model_dump(exclude={"credentials"}), "credentials": plain}
        ),
        "GOVSOCIAL_MEDIA_ROOTS": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    chunk_path = "/video-upload/" if fmt == "reel" else "/videos"
    slow = emulator.inject("POST", chunk_path, delay=0.05, body=None, count=None)
    args = [sys.executable, str(script), str(clip), str(store), fmt]
    errors = tmp_path / "first.err"
    with open(errors, "wb") as stderr:
        first = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while True:
            uploads = emulator.uploads_of(page)
            if uploads and len(uploads[0]["data"]) >= len(data) // 3:
                break
            assert first.poll() is None, errors.read_text()[-2000:]
            assert time.monotonic() < deadline, "the upload never got a third of the way"
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    assert first.returncode == -signal.SIGKILL
    [upload] = emulator.uploads_of(page)
    held_at_kill = len(upload["data"])
    assert held_at_kill < len(data), "killed before the end"
    assert emulator.videos_of(page) == [], "nothing published yet"
    sent_before = len(offsets_sent(emulator, fmt))
    emulator.faults.remove(slow)

    second = subprocess.run(args, env=env, capture_output=True, timeout=120, check=False)
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    answer = json.loads(second.stdout)
    assert answer == {"ok": True, "id": upload["id"], "error": "None"}
    [video] = emulator.videos_of(page)
    assert video["id"] == upload["id"], "the same upload went on; no second one"
    assert len(emulator.uploads_of(page)) == 1
    assert sha(video["data"]) == sha(data)
    resumed = offsets_sent(emulator, fmt)[sent_before:]
    assert resumed[0][0] >= held_at_kill - 64 * 1024, "it went on from Meta's offset"
    assert sum(size for _, size in resumed) <= len(data) - held_at_kill + 64 * 1024
    assert json.loads(store.read_text())["delivery-9"]["video_post"] == upload["id"]
