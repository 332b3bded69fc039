"""X's chunked upload on the upload engine: a crash mid-upload goes on, never starts a
second post. Every assertion reads what the emulator stored (its media records, the
APPENDs it received, its tweets), not what the adapter said.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from govsocial import AsyncClient, Media, Post
from govsocial.adapters.checkpoints import MemoryCheckpoints
from govsocial.core.errors import PlatformError
from govsocial.testing import unique_text
from govsocial_x import X
from govsocial_x.adapter import ChunkedAppend
from govsocial_x.testing import Emulator

pytest.importorskip("av", reason="making a test video needs PyAV: govsocial[video]")
from govsocial.testing.video import make_video

SEGMENT = 64 * 1024


@pytest.fixture
def clip() -> bytes:
    """A real MP4, padded after its last box to 3 MiB: 48 segments of 64 KiB."""
    head = make_video(width=64, height=64, seconds=1)
    return head + os.urandom(3 * 1024 * 1024 - len(head))


@pytest.fixture(autouse=True)
def _small_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(X, "chunk_size", SEGMENT)
    monkeypatch.setattr(X, "media_poll_interval", 0.01)


def videos(emulator: Emulator) -> list[dict[str, object]]:
    return [m for m in emulator.media.values() if m["kind"] == "video/mp4"]


async def crash_after(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, post: Post, segments: int, store: object
) -> None:
    """Publish, with the worker "dying" (an error nothing retries) after ``segments``."""
    real = ChunkedAppend.send

    async def dying(
        self: ChunkedAppend, state: dict[str, str], chunk: bytes, offset: int, size: int
    ) -> int:
        if offset >= segments * SEGMENT:
            raise PlatformError("the worker died", platform="x")
        return await real(self, state, chunk, offset, size)

    monkeypatch.setattr(ChunkedAppend, "send", dying)
    async with AsyncClient(max_wait=5.0, checkpoints=store) as c:  # type: ignore[arg-type]
        result = await c.publish_one(post, emulator.accounts[0], idempotency_key="d1")
    assert not result.ok
    monkeypatch.setattr(ChunkedAppend, "send", real)


@pytest.mark.anyio
async def test_a_second_attempt_goes_on_from_the_last_acknowledged_segment(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, clip: bytes
) -> None:
    store = MemoryCheckpoints()
    post = Post(unique_text("Video layanan"), media=[Media(data=clip)])
    await crash_after(emulator, monkeypatch, post, 10, store)
    assert [i for _, i, _ in emulator.appends] == list(range(10))
    assert emulator.tweets == {}
    async with AsyncClient(max_wait=5.0, checkpoints=store) as c:
        result = await c.publish_one(post, emulator.accounts[0], idempotency_key="d1")
    assert result.ok, result.error
    [video] = videos(emulator)
    assert [i for _, i, _ in emulator.appends][10:] == list(range(10, 48)), "not sent again"
    assert emulator.media_bytes(str(video["id"])) == clip
    [tweet] = emulator.tweets.values()
    assert tweet["media_ids"] == [video["id"]]


@pytest.mark.anyio
async def test_an_upload_x_has_forgotten_starts_again_and_still_posts_once(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, clip: bytes
) -> None:
    """X keeps an upload expires_after_secs; past that (here: 30 s, inside the minute the
    adapter keeps in hand) a resumed delivery initializes a new one."""
    emulator.media_lifetime = 30
    store = MemoryCheckpoints()
    post = Post(unique_text("Video layanan"), media=[Media(data=clip)])
    await crash_after(emulator, monkeypatch, post, 5, store)
    async with AsyncClient(max_wait=5.0, checkpoints=store) as c:
        result = await c.publish_one(post, emulator.accounts[0], idempotency_key="d1")
    assert result.ok, result.error
    forgotten, second = videos(emulator)
    assert len(emulator.media_bytes(str(forgotten["id"]))) == 5 * SEGMENT, "left as it was"
    assert emulator.media_bytes(str(second["id"])) == clip
    [tweet] = emulator.tweets.values()
    assert tweet["media_ids"] == [second["id"]]


# -- a real process killed mid-upload ----------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from govsocial import Account, Client, Media, Post
    from govsocial.testing.checkpoints import FileCheckpoints
    from govsocial_x import X

    X.chunk_size = 64 * 1024
    X.media_poll_interval = 0.01
    account = Account(**json.loads(os.environ["X_ACCOUNT"]))
    path, store = Path(sys.argv[1]), sys.argv[2]
    post = Post("Klip sekali saja", media=[Media(path=path)])
    with Client(checkpoints=FileCheckpoints(store)) as client:
        [result] = client.publish(post, [account], idempotency_keys={account: "delivery-9"})
    print(json.dumps({"ok": result.ok, "id": result.ref.id if result.ref else None,
                      "error": str(result.error)}), flush=True)
    """
)


@pytest.mark.slow
def test_kill_9_mid_append_then_the_next_process_goes_on_and_posts_once(
    emulator: Emulator, clip: bytes, tmp_path: Path
) -> None:
    """APPENDs answered slowly; the publishing process is killed (SIGKILL) once X holds 16 of
    48 segments. The next process, on the same checkpoint file, goes on into the same media
    id from the last segment the checkpoint says X acknowledged, and posts once."""
    video = tmp_path / "klip.mp4"
    video.write_bytes(clip)
    store = tmp_path / "checkpoints.json"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    account = emulator.accounts[0]
    plain = {k: v.get_secret_value() for k, v in account.credentials.items()}
    env = {
        **os.environ,
        "X_ACCOUNT": json.dumps(
            {**account.model_dump(exclude={"credentials"}), "credentials": plain}
        ),
        "GOVSOCIAL_MEDIA_ROOTS": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    emulator.append_delay = 0.05
    args = [sys.executable, str(script), str(video), str(store)]
    errors = tmp_path / "first.err"
    with open(errors, "wb") as stderr:
        first = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while len(emulator.appends) < 16:
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
    held = {i for _, i, _ in emulator.appends}
    appended_before = len(emulator.appends)
    assert len(held) < 48 and emulator.tweets == {}
    saved = json.loads(store.read_text())["delivery-9"]
    acknowledged = int(saved["x_media0.segments"])
    assert acknowledged >= len(held) - 1, "every segment X answered but the last is saved"

    emulator.append_delay = 0.0
    second = subprocess.run(args, env=env, capture_output=True, timeout=120, check=False)
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    answer = json.loads(second.stdout)
    [video_record] = videos(emulator)
    assert video_record["id"] == saved["x_media0.id"], "the same upload went on"
    assert emulator.media_bytes(str(video_record["id"])) == clip
    [tweet] = emulator.tweets.values()
    assert answer == {"ok": True, "id": tweet["id"], "error": "None"}
    assert tweet["media_ids"] == [video_record["id"]]
    resumed = [i for _, i, _ in emulator.appends[appended_before:]]
    assert resumed == list(range(acknowledged, 48)), "from the last acknowledged segment"


@pytest.mark.anyio
async def test_a_gif_over_the_image_cap_but_within_x_gif_size_goes_up(emulator: Emulator) -> None:
    """X takes GIFs up to 15 MiB and other images up to 5 MiB: a 6 MiB GIF is read with the
    GIF cap (it was refused by the image cap before the engine read media by kind)."""
    gif = b"GIF89a" + os.urandom(6 * 1024 * 1024)
    post = Post(unique_text(), media=[Media(data=gif, alt_text="Animasi jadwal")])
    async with AsyncClient(max_wait=5.0) as c:
        result = await c.publish_one(post, emulator.accounts[0])
    assert result.ok, result.error
    [record] = [m for m in emulator.media.values() if m["kind"] == "image/gif"]
    assert emulator.media_bytes(str(record["id"])) == gif
