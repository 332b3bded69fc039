"""Upload a 200 MB video through the upload engine, against curl, on a loopback server.

The server (govsocial.testing.uploads, Google's resumable protocol) runs in its own process
and writes what it receives to disk. Every contender uploads the same file to its own
session; the server's SHA-256 of each finished file is checked against the file's.

- ``curl``: one ``PUT`` of the whole file to the session (``--data-binary @file``): the
  floor for one stream over loopback;
- ``httpx``: a raw ``httpx.AsyncClient`` PUT of the whole file, streamed from disk;
- ``govsocial <N> MiB``: ``Platform.upload`` with chunks of N MiB (each acknowledged,
  checkpointed, resumable), through govsocial's default transport.

Memory: each govsocial run is a fresh process; its peak RSS (``ru_maxrss``) is compared
with a process that does everything but the upload. Goal (issue "Short video"): within
1.2x of curl's time, memory bounded by the chunk size.

    .venv/bin/python bench/upload.py              # 200 MB, 3 runs each, medians
    .venv/bin/python bench/upload.py --mb 50 --repeat 1
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CHILD = """
import asyncio, json, os, resource, sys, time
from pathlib import Path
from govsocial import Media
from govsocial.adapters import AdapterContext, Http, Limits, Platform
from govsocial.adapters.http import new_http_client
from govsocial.adapters.media_safety import MediaPolicy
from govsocial.adapters.upload import ResumableUpload
from govsocial.testing.checkpoints import FileCheckpoints
from govsocial.core.models import Account

port, path, chunk = int(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
upload = sys.argv[4] == "1"
store = Path(sys.argv[5]) if len(sys.argv) > 5 else None

class Tube(Platform):
    name = "tube"
    title = "Tube"
    limits = Limits(max_characters=100, video_types=frozenset({"video/mp4"}),
                    max_video_bytes=2**40)
    async def publish(self, post, *, idempotency_key): raise NotImplementedError
    async def delete(self, ref): raise NotImplementedError
    async def fetch_metrics(self, refs): raise NotImplementedError
    async def fetch_account_metrics(self): raise NotImplementedError
    async def fetch_replies(self, ref): raise NotImplementedError
    async def fetch_mentions(self, *, since=None): raise NotImplementedError

async def main():
    account = Account(platform="tube", handle="bench", base_url=f"http://127.0.0.1:{port}")
    http = Http(new_http_client())
    policy = MediaPolicy(roots=(path.parent,))
    context = AdapterContext(http=http, media_policy=policy)
    if store is not None:
        context = AdapterContext(http=http, media_policy=policy, checkpoints=FileCheckpoints(store))
    adapter = Tube(account, context)
    import aiohttp  # loaded on a client's first request: a running worker has it already
    start = time.perf_counter()
    result = {}
    if upload:
        protocol = ResumableUpload(adapter, f"http://127.0.0.1:{port}/upload/videos?uploadType=resumable",
                                   content_type="video/mp4")
        result = await adapter.upload(Media(path=path), protocol, idempotency_key="bench",
                                      chunk_size=chunk)
    seconds = time.perf_counter() - start
    await http.client.aclose()
    print(json.dumps({"seconds": seconds, "result": result,
                      "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))

asyncio.run(main())
"""

MIB = 1024 * 1024


def make_file(folder: Path, megabytes: int) -> tuple[Path, str]:
    path = folder / "bench.mp4"
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        handle.write(head)
        digest.update(head)
        block = os.urandom(MIB)
        written = len(head)
        while written < megabytes * 1_000_000:
            piece = block[: megabytes * 1_000_000 - written]
            handle.write(piece)
            digest.update(piece)
            written += len(piece)
    return path, digest.hexdigest()


def open_session(port: int, size: int) -> str:
    answer = httpx.post(
        f"http://127.0.0.1:{port}/upload/videos?uploadType=resumable",
        headers={"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": "video/mp4"},
        json={},
    )
    return answer.headers["location"]


def finished(port: int) -> dict[str, dict[str, object]]:
    answer: dict[str, dict[str, object]] = httpx.get(
        f"http://127.0.0.1:{port}/upload/_finished"
    ).json()
    return answer


def run_curl(port: int, path: Path) -> float:
    size = path.stat().st_size
    session = open_session(port, size)
    start = time.perf_counter()
    subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            os.devnull,
            "-X",
            "PUT",
            "--data-binary",
            f"@{path}",
            "-H",
            f"Content-Range: bytes 0-{size - 1}/{size}",
            "-H",
            "Expect:",
            session,
        ],
        check=True,
    )
    return time.perf_counter() - start


def run_httpx(port: int, path: Path) -> float:
    size = path.stat().st_size
    session = open_session(port, size)

    async def go() -> float:
        async def body():  # type: ignore[no-untyped-def]
            with open(path, "rb") as handle:
                while block := handle.read(MIB):
                    yield block

        async with httpx.AsyncClient(timeout=120) as client:
            start = time.perf_counter()
            answer = await client.put(
                session,
                content=body(),
                headers={
                    "Content-Range": f"bytes 0-{size - 1}/{size}",
                    "Content-Length": str(size),
                },
            )
            answer.raise_for_status()
            return time.perf_counter() - start

    return asyncio.run(go())


def run_child(port: int, path: Path, chunk: int, upload: bool) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(port), str(path), str(chunk), "1" if upload else "0"],
        capture_output=True,
        check=True,
        text=True,
    )
    answer: dict[str, object] = json.loads(out.stdout)
    return answer


def held(port: int) -> dict[str, object]:
    answer: dict[str, object] = httpx.get(f"http://127.0.0.1:{port}/upload/_held").json()
    return answer


def run_resume(port: int, path: Path, chunk: int, folder: Path) -> tuple[float, float, int]:
    """Kill an upload with SIGKILL once half is held, then time a new process finishing it.

    Returns (seconds to finish after the restart, MB sent again beyond what was held, sessions).
    """
    store = folder / "checkpoints.json"
    store.unlink(missing_ok=True)
    size = path.stat().st_size
    before = held(port)
    known = set(before["sessions"])  # type: ignore[arg-type]
    args = [sys.executable, "-c", CHILD, str(port), str(path), str(chunk), "1", str(store)]
    first = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    session = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        now = held(port)["sessions"]
        assert isinstance(now, dict)
        fresh = [url for url in now if url not in known]
        if fresh and now[fresh[0]] >= size // 2:
            session = fresh[0]
            break
        time.sleep(0.01)
    first.kill()
    first.wait()
    assert session is not None, "the upload never reached half"
    at_kill = held(port)
    held_at_kill = at_kill["sessions"][session]  # type: ignore[index]
    received_before = int(str(at_kill["received"]))
    start = time.perf_counter()
    run = subprocess.run(args, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    assert json.loads(run.stdout)["result"], run.stdout
    after = held(port)
    sessions = len([url for url in after["sessions"] if url not in known])  # type: ignore[union-attr]
    resent = int(str(after["received"])) - received_before - (size - int(held_at_kill))
    return seconds, resent / 1e6, sessions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=200, help="file size in MB (default 200)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunks", default="8,32", help="chunk sizes in MiB")
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "govsocial.testing.uploads"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    port = int(server.stdout.readline())
    rows: list[tuple[str, float, str]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            path, digest = make_file(Path(folder), args.mb)
            print(f"# {args.mb} MB, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
            curl = statistics.median(run_curl(port, path) for _ in range(args.repeat))
            rows.append(("curl (one PUT)", curl, "-"))
            raw = statistics.median(run_httpx(port, path) for _ in range(args.repeat))
            rows.append(("httpx (one streamed PUT)", raw, "-"))
            idle = run_child(port, path, MIB, upload=False)["maxrss_kib"]
            assert isinstance(idle, int)
            for mib in (int(c) for c in args.chunks.split(",")):
                runs = [run_child(port, path, mib * MIB, upload=True) for _ in range(args.repeat)]
                seconds = statistics.median(float(str(r["seconds"])) for r in runs)
                peak = max(int(str(r["maxrss_kib"])) for r in runs)
                rows.append(
                    (f"govsocial, {mib} MiB chunks", seconds, f"+{(peak - idle) / 1024:.0f} MiB")
                )
            resume_s, resent_mb, sessions = run_resume(port, path, 8 * MIB, Path(folder))
            done = finished(port)
            wrong = [key for key, f in done.items() if f["sha256"] != digest]
            if wrong:
                raise SystemExit(f"the server holds a different file for {wrong}")
            print(f"# {len(done)} uploads, all with the file's SHA-256", file=sys.stderr)
    finally:
        server.stdin.close()
        server.wait(10)
    print(f"| {args.mb} MB upload | seconds (median) | MB/s | x curl | peak RSS over idle |")
    print("|---|---|---|---|---|")
    for label, seconds, memory in rows:
        print(
            f"| {label} | {seconds:.2f} | {args.mb / seconds:.0f} | {seconds / curl:.2f} | "
            f"{memory} |"
        )
    half = args.mb / 2
    print(
        f"\nResume after `kill -9` at half ({half:.0f} MB held), 8 MiB chunks: the new "
        f"process finished in {resume_s:.2f} s (start-up included), sent {resent_mb:.1f} MB "
        f"beyond what the server held, in {sessions} session(s)."
    )
    _ = resource  # peak RSS is read in the child processes


if __name__ == "__main__":
    main()
