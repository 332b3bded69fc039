"""The upload engine against a real loopback server speaking Google's resumable protocol.

What is asserted is what the server holds: the sessions it opened, the byte ranges it was
sent, and the SHA-256 of each finished file. The crash test kills a real uploading process
with SIGKILL and starts another on the same checkpoint file.
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

from fakes import Paper
from govsocial import Media
from govsocial.adapters import AdapterContext, Http
from govsocial.adapters.checkpoints import MemoryCheckpoints
from govsocial.adapters.http import new_http_client
from govsocial.adapters.media_safety import MediaPolicy
from govsocial.adapters.upload import ResumableUpload, UploadProgress, poll
from govsocial.core.errors import PlatformError, ValidationError
from govsocial.core.models import Account
from govsocial.testing.uploads import ResumableUploadServer

pytestmark = pytest.mark.anyio
MIB = 1024 * 1024


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def server() -> Iterator[ResumableUploadServer]:
    with ResumableUploadServer() as running:
        yield running


class Tube(Paper):
    """A platform that takes videos in resumable uploads (Paper's other manners)."""

    name = "tube"
    title = "Tube"
    limits = Paper.limits.model_copy(
        update={"video_types": frozenset({"video/mp4"}), "max_video_bytes": 300 * MIB}
    )


def video_bytes(size: int) -> bytes:
    """``size`` bytes that start like an MP4 (the sniffer checks the type)."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    body = hashlib.shake_256(str(size).encode()).digest(size - len(head))
    return head + body


def tube(
    server: ResumableUploadServer, tmp_path: Path, checkpoints: MemoryCheckpoints | None = None
) -> Tube:
    account = Account(platform="tube", handle="humas", base_url=f"http://127.0.0.1:{server.port}")
    http = Http(new_http_client(), max_attempts=3)
    context = AdapterContext(
        http=http,
        checkpoints=checkpoints or MemoryCheckpoints(),
        media_policy=MediaPolicy(roots=(tmp_path,)),
    )
    return Tube(account, context)


def protocol(adapter: Tube, server: ResumableUploadServer) -> ResumableUpload:
    return ResumableUpload(
        adapter,
        server.start_url,
        content_type="video/mp4",
        metadata={"snippet": {"title": "Sosialisasi"}},
    )


async def test_a_file_goes_in_chunks_and_arrives_whole(
    server: ResumableUploadServer, tmp_path: Path
) -> None:
    data = video_bytes(5 * MIB + 12345)
    path = tmp_path / "klip.mp4"
    path.write_bytes(data)
    adapter = tube(server, tmp_path)
    seen: list[UploadProgress] = []
    result = await adapter.upload(
        Media(path=path),
        protocol(adapter, server),
        idempotency_key="k1",
        chunk_size=MIB,
        progress=seen.append,
    )
    await adapter.http.client.aclose()
    [finished] = server.finished.values()
    assert result == {"id": finished.id}
    assert finished.sha256 == hashlib.sha256(data).hexdigest() and finished.size == len(data)
    assert len(server.sessions) == 1 and server.metadata == [{"snippet": {"title": "Sosialisasi"}}]
    assert [(start, end) for _, start, end in server.puts][:2] == [(0, MIB - 1), (MIB, 2 * MIB - 1)]
    assert len(server.puts) == 6
    assert seen[-1].sent == seen[-1].size == len(data) and seen[0].sent == 0


async def test_a_finished_upload_is_not_sent_again(
    server: ResumableUploadServer, tmp_path: Path
) -> None:
    data = video_bytes(MIB)
    checkpoints = MemoryCheckpoints()
    adapter = tube(server, tmp_path, checkpoints)
    first = await adapter.upload(Media(data=data), protocol(adapter, server), idempotency_key="k")
    puts = len(server.puts)
    again = await adapter.upload(Media(data=data), protocol(adapter, server), idempotency_key="k")
    await adapter.http.client.aclose()
    assert first == again and len(server.puts) == puts and len(server.sessions) == 1


async def test_a_server_failing_every_time_ends_the_attempt_after_a_few_tries(
    server: ResumableUploadServer, tmp_path: Path
) -> None:
    adapter = tube(server, tmp_path)
    naps: list[float] = []

    async def nap(seconds: float) -> None:
        naps.append(seconds)

    class Cut(ResumableUpload):
        async def send(self, state: dict[str, str], chunk: bytes, offset: int, size: int) -> int:
            raise PlatformError("connection reset", platform="tube", transient=True)

    from govsocial.adapters.upload import ChunkSource, run_upload

    with pytest.raises(PlatformError, match="connection reset"):
        await run_upload(
            adapter,
            Cut(adapter, server.start_url, content_type="video/mp4"),
            ChunkSource.from_bytes(video_bytes(MIB)),
            idempotency_key="cut5",
            name="media[0]",
            sleep=nap,
        )
    await adapter.http.client.aclose()
    assert naps == [1.0, 2.0, 4.0, 8.0, 8.0], "five tries with backoff, then the attempt fails"


async def test_a_chunk_cut_mid_way_is_resumed_from_what_the_server_kept(
    server: ResumableUploadServer, tmp_path: Path
) -> None:
    data = video_bytes(3 * MIB)
    adapter = tube(server, tmp_path)
    server.cut_next = MIB + 300 * 1024  # the first chunk of 2 MiB arrives in part
    result = await adapter.upload(
        Media(data=data), protocol(adapter, server), idempotency_key="cut", chunk_size=2 * MIB
    )
    await adapter.http.client.aclose()
    assert server.finished[result["id"]].sha256 == hashlib.sha256(data).hexdigest()
    assert len(server.sessions) == 1
    starts = [start for _, start, _ in server.puts]
    assert starts[0] == 0 and starts[1] == 5 * 256 * 1024, "the rest went from what was kept"


class RefusedAfterOneChunk(ResumableUpload):
    """The platform refuses the second chunk (403): the attempt fails, its checkpoint stays."""

    async def send(self, state: dict[str, str], chunk: bytes, offset: int, size: int) -> int:
        if offset:
            raise PlatformError("Tube answered 403: quota", platform="tube", status=403)
        return await super().send(state, chunk, offset, size)


async def test_a_forgotten_session_starts_again_and_still_arrives_once(
    server: ResumableUploadServer, tmp_path: Path
) -> None:
    data = video_bytes(2 * MIB)
    checkpoints = MemoryCheckpoints()
    adapter = tube(server, tmp_path, checkpoints)
    refusing = RefusedAfterOneChunk(adapter, server.start_url, content_type="video/mp4")
    with pytest.raises(PlatformError, match="quota"):
        await adapter.upload(Media(data=data), refusing, idempotency_key="exp", chunk_size=MIB)
    saved = checkpoints.load(adapter.account.key, "exp")
    server.expire(saved["media.session"])
    result = await adapter.upload(
        Media(data=data), protocol(adapter, server), idempotency_key="exp"
    )
    await adapter.http.client.aclose()
    assert len(server.sessions) == 2 and len(server.finished) == 1
    assert server.finished[result["id"]].sha256 == hashlib.sha256(data).hexdigest()


async def test_media_outside_the_roots_or_not_a_video_is_refused_before_any_session(
    server: ResumableUploadServer, tmp_path: Path
) -> None:
    adapter = tube(server, tmp_path / "media")
    (tmp_path / "media").mkdir()
    secret = tmp_path / "kunci.mp4"
    secret.write_bytes(video_bytes(1000))
    with pytest.raises(ValidationError) as outside:
        await adapter.upload(Media(path=secret), protocol(adapter, server), idempotency_key="a")
    assert outside.value.problems[0].code == "media_outside_roots"
    text = tmp_path / "media" / "catatan.mp4"
    text.write_bytes(b"#!/bin/sh\necho not a video\n")
    with pytest.raises(ValidationError) as mismatch:
        await adapter.upload(
            Media(path=text, mime_type="video/mp4"), protocol(adapter, server), idempotency_key="b"
        )
    await adapter.http.client.aclose()
    assert mismatch.value.problems[0].code == "media_type_mismatch"
    assert server.sessions == []


async def test_poll_waits_with_backoff_then_names_what_was_still_processing() -> None:
    waits: list[float] = []
    now = [0.0]

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    answers = iter([None, None, "ready"])

    async def check() -> str | None:
        return next(answers)

    assert (
        await poll(
            check, what="video", platform="tube", timeout=60, sleep=sleep, clock=lambda: now[0]
        )
        == "ready"
    )
    assert waits == [1.0, 2.0]

    async def never() -> None:
        return None

    with pytest.raises(PlatformError, match="video v1 was still processing after 10 s"):
        await poll(
            never, what="video v1", platform="tube", timeout=10, sleep=sleep, clock=lambda: now[0]
        )


# -- a real process killed mid-upload ------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import asyncio, json, os, sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_upload_engine import Tube, protocol_for
    from govsocial.testing.checkpoints import FileCheckpoints
    from govsocial import Media
    from govsocial.adapters import AdapterContext, Http
    from govsocial.adapters.http import new_http_client
    from govsocial.adapters.media_safety import MediaPolicy
    from govsocial.core.models import Account

    port, path, store = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    account = Account(platform="tube", handle="humas", base_url=f"http://127.0.0.1:{{port}}")
    context = AdapterContext(
        http=Http(new_http_client()),
        checkpoints=FileCheckpoints(store),
        media_policy=MediaPolicy(roots=(path.parent,)),
    )
    adapter = Tube(account, context)

    async def main():
        result = await adapter.upload(
            Media(path=path), protocol_for(adapter, port), idempotency_key="d1",
            chunk_size=1024 * 1024,
        )
        print(json.dumps(result), flush=True)

    asyncio.run(main())
    """
)


def protocol_for(adapter: Tube, port: int) -> ResumableUpload:
    return ResumableUpload(
        adapter,
        f"http://127.0.0.1:{port}/upload/videos?uploadType=resumable",
        content_type="video/mp4",
    )


@pytest.mark.slow
def test_kill_9_mid_upload_then_the_next_process_goes_on_from_the_servers_offset(
    tmp_path: Path,
) -> None:
    data = video_bytes(24 * MIB)
    video = tmp_path / "klip.mp4"
    video.write_bytes(data)
    store = tmp_path / "checkpoints.json"
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(Path(__file__).parent)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with ResumableUploadServer(delay=0.05) as server:
        args = [sys.executable, str(script), str(server.port), str(video), str(store)]
        errors = tmp_path / "first.err"
        with open(errors, "wb") as stderr:
            first = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.sessions and server.held(server.sessions[0]) >= 6 * MIB:
                break
            time.sleep(0.02)
        else:
            first.kill()
            first.wait(10)
            raise AssertionError(f"the upload never got going: {errors.read_text()[-2000:]}")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert first.returncode == -signal.SIGKILL
        held_at_kill = server.held(server.sessions[0])
        puts_before = len(server.puts)
        assert held_at_kill < len(data), "killed before the end"

        server.delay = 0.0
        second = subprocess.run(args, env=env, capture_output=True, timeout=120, check=False)
        assert second.returncode == 0, second.stderr.decode()[-2000:]
        result = json.loads(second.stdout)

    assert len(server.sessions) == 1, "the second process resumed the same session"
    [finished] = server.finished.values()
    assert result == {"id": finished.id}
    assert finished.sha256 == hashlib.sha256(data).hexdigest()
    resumed = server.puts[puts_before:]
    assert resumed[0][1] >= held_at_kill - 1 * MIB, "it went on from the server's offset"
    sent_after = sum(end - start + 1 for _, start, end in resumed)
    assert sent_after <= len(data) - held_at_kill + 1 * MIB, "not the whole file again"
    assert json.loads(store.read_text())["d1"]["media.result.id"] == finished.id


def test_the_loopback_server_refuses_a_range_that_does_not_follow(
    server: ResumableUploadServer,
) -> None:
    opened = httpx.post(server.start_url, headers={"X-Upload-Content-Length": "10"}, json={})
    session = opened.headers["location"]
    wrong = httpx.put(session, content=b"12345", headers={"Content-Range": "bytes 5-9/10"})
    assert wrong.status_code == 400
    ok = httpx.put(session, content=b"12345", headers={"Content-Range": "bytes 0-4/10"})
    assert ok.status_code == 308 and ok.headers["range"] == "bytes=0-4"


def test_the_command_line_bar_draws_on_a_terminal_and_stays_silent_in_a_pipe() -> None:
    import io

    from govsocial.cli._common import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = ProgressBar(screen, width=10)
    bar(UploadProgress("media[0]", 50 * MIB, 200 * MIB))
    bar(UploadProgress("media[0]", 200 * MIB, 200 * MIB))
    assert "\rmedia[0]  [##--------]  52.4 of 209.7 MB   25%" in screen.getvalue()
    assert screen.getvalue().endswith("100%\n")
    pipe = io.StringIO()
    ProgressBar(pipe)(UploadProgress("media[0]", 1, 2))
    assert pipe.getvalue() == ""
