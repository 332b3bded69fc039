"""Exactly once across a real crash: a process publishing a video to the TikTok emulator is
killed with SIGKILL between the init and the end of the upload; a second process with the
same checkpoint file resumes the same publish (no second init), sends only what TikTok
lacks, and the emulator ends with one post holding the exact file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from govsocial import Account
from govsocial.testing.video import make_video
from govsocial_tiktok.testing import TikTokEmulator

KIB = 1024

CHILD = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from govsocial.testing.checkpoints import FileCheckpoints
    from govsocial import Account, Media, Post
    from govsocial.adapters import AdapterContext, Http
    from govsocial.adapters.http import new_http_client
    from govsocial.adapters.media_safety import MediaPolicy
    from govsocial_tiktok import TikTok

    account, path, store = json.loads(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    TikTok.chunk_bytes = TikTok.min_chunk = 64 * 1024
    TikTok.poll_first = 0.01
    context = AdapterContext(
        http=Http(new_http_client()),
        checkpoints=FileCheckpoints(store),
        media_policy=MediaPolicy(roots=(path.parent,)),
    )
    adapter = TikTok(Account(**account), context)

    async def main():
        post = Post("Klip layanan", media=[Media(path=path, mime_type="video/mp4")])
        ref = await adapter.publish(post, idempotency_key="d1")
        print(json.dumps({{"id": ref.id, "publish_id": ref.extra["publish_id"]}}), flush=True)

    asyncio.run(main())
    """
)


def test_kill_9_mid_upload_then_the_next_process_resumes_the_same_publish(
    server: TikTokEmulator, fresh: Account, tmp_path: Path
) -> None:
    video = make_video(width=360, height=640, seconds=4, fps=30)
    data = video + bytes(20 * 64 * KIB - len(video))  # 20 chunks of 64 KiB
    path = tmp_path / "klip.mp4"
    path.write_bytes(data)
    store = tmp_path / "checkpoints.json"
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(Path(__file__).parent)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    account = {
        **fresh.model_dump(exclude={"credentials"}),
        "credentials": {k: v.get_secret_value() for k, v in fresh.credentials.items()},
    }
    args = [sys.executable, str(script), json.dumps(account), str(path), str(store)]
    server.min_chunk = 64 * KIB
    server.upload_delay = 0.1
    try:
        errors = tmp_path / "first.err"
        with open(errors, "wb") as stderr:
            first = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            publishes = server.publishes_of(fresh)
            if publishes and len(publishes[0].data) >= 4 * 64 * KIB:
                break
            time.sleep(0.02)
        else:
            first.kill()
            first.wait(10)
            raise AssertionError(f"the upload never got going: {errors.read_text()[-2000:]}")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert first.returncode == -signal.SIGKILL
        [publish] = server.publishes_of(fresh)
        held_at_kill = len(publish.data)
        assert held_at_kill < len(data), "killed before the end"
        puts_before = len([p for p in server.puts if p[0] == publish.publish_id])

        server.upload_delay = 0.0
        second = subprocess.run(args, env=env, capture_output=True, timeout=120, check=False)
        assert second.returncode == 0, second.stderr.decode()[-2000:]
        result = json.loads(second.stdout)
    finally:
        server.upload_delay = 0.0

    assert [p.publish_id for p in server.publishes_of(fresh)] == [publish.publish_id], (
        "one init: the second process resumed the same publish"
    )
    [post] = server.posts_of(fresh)
    assert post["video"] == data
    assert result == {"id": post["id"], "publish_id": publish.publish_id}
    resumed = [p for p in server.puts if p[0] == publish.publish_id][puts_before:]
    assert resumed[0][1] >= held_at_kill - 64 * KIB, "it went on from what TikTok holds"
    assert json.loads(store.read_text())["d1"]["post_id"] == post["id"]
