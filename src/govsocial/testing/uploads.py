"""A local server speaking Google's resumable upload protocol, for tests and benchmarks.

It follows https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol
(the same protocol as Google Cloud Storage's resumable uploads): ``POST`` opens a session
and answers its URI in ``Location``; each ``PUT`` carries ``Content-Range: bytes a-b/size``
and is answered ``308`` with ``Range: bytes=0-N`` (what the server holds) until the last
byte, then ``201`` with the resource; ``PUT`` of ``bytes */size`` asks what is held;
an unknown or expired session is ``404``. Like Google, it keeps only whole 256 KiB units of
a chunk that arrived in part, and it writes what it receives to disk, never to memory, so a
200 MB benchmark costs no RAM.

What it received is what tests assert on: :attr:`sessions`, each ``PUT``'s range
(:attr:`puts`), and each finished file's SHA-256 and size (:attr:`finished`).

::

    with ResumableUploadServer() as server:
        url = server.start_url        # POST here (with uploadType=resumable)
        ...
        assert server.finished["v1"].sha256 == hashlib.sha256(data).hexdigest()
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["Finished", "ResumableUploadServer"]

_UNIT = 256 * 1024
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)|bytes \*/(\d+)")


@dataclass
class _Session:
    size: int
    path: Path
    held: int = 0
    expired: bool = False
    resource: dict[str, Any] | None = None


@dataclass(frozen=True)
class Finished:
    """A file the server holds entirely: its resource id, size and SHA-256."""

    id: str
    size: int
    sha256: str


@dataclass
class ResumableUploadServer:
    """The server, on a free port of 127.0.0.1, in a thread of its own.

    :param delay: seconds to wait before answering each chunk (to kill a client mid-upload).
    :param cut_next: when set to N, the next chunk's connection is cut after N bytes were
        read (the server keeps the whole 256 KiB units of them, as Google does).
    """

    delay: float = 0.0
    cut_next: int | None = None
    sessions: list[str] = field(default_factory=list)
    puts: list[tuple[str, int, int]] = field(default_factory=list)
    finished: dict[str, Finished] = field(default_factory=dict)
    metadata: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sessions: dict[str, _Session] = {}
        self._folder = Path(tempfile.mkdtemp(prefix="govsocial-uploads-"))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.port = 0

    @property
    def start_url(self) -> str:
        """Where a client opens a session."""
        return f"http://127.0.0.1:{self.port}/upload/videos?uploadType=resumable"

    def expire(self, session_url: str) -> None:
        """Forget a session, as Google does after a week: its next PUT is answered 404."""
        self._sessions[session_url.rsplit("/", 1)[1]].expired = True

    def held(self, session_url: str) -> int:
        """Bytes the server holds for a session."""
        return self._sessions[session_url.rsplit("/", 1)[1]].held

    # -- the server ----------------------------------------------------------------------

    def __enter__(self) -> ResumableUploadServer:
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the upload server did not start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        for path in self._folder.glob("*"):
            path.unlink(missing_ok=True)
        self._folder.rmdir()

    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from aiohttp import web

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = web.Application(client_max_size=1024**4)
        app.router.add_post("/upload/videos", self._open)
        app.router.add_put("/upload/sessions/{id}", self._put)
        app.router.add_get("/upload/_finished", self._finished)
        app.router.add_get("/upload/_held", self._held)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(runner.addresses[0][1])
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    async def _finished(self, request: Any) -> Any:
        """What the server holds, for a client in another process (the benchmark)."""
        from aiohttp import web

        return web.json_response(
            {key: {"size": f.size, "sha256": f.sha256} for key, f in self.finished.items()}
        )

    async def _held(self, request: Any) -> Any:
        """Bytes held per session and bytes received in all (a benchmark in another process)."""
        from aiohttp import web

        received = sum(end - start + 1 for _, start, end in self.puts)
        return web.json_response(
            {
                "sessions": {url: self.held(url) for url in self.sessions},
                "received": received,
            }
        )

    async def _open(self, request: Any) -> Any:
        from aiohttp import web

        size = int(request.headers.get("X-Upload-Content-Length", "-1"))
        if size < 0:
            return web.json_response({"error": "X-Upload-Content-Length missing"}, status=400)
        self.metadata.append(await request.json() if request.can_read_body else {})
        session_id = os.urandom(8).hex()
        path = self._folder / session_id
        path.write_bytes(b"")
        self._sessions[session_id] = _Session(size=size, path=path)
        url = f"http://127.0.0.1:{self.port}/upload/sessions/{session_id}"
        self.sessions.append(url)
        return web.Response(status=200, headers={"Location": url})

    async def _put(self, request: Any) -> Any:
        from aiohttp import web

        session_id = request.match_info["id"]
        session = self._sessions.get(session_id)
        if session is None or session.expired:
            return web.json_response({"error": {"code": 404, "message": "Not Found"}}, status=404)
        match = _RANGE.fullmatch(request.headers.get("Content-Range", ""))
        if match is None:
            return web.json_response({"error": "bad Content-Range"}, status=400)
        if match.group(4) is not None:  # bytes */size: what is held?
            await request.read()
            return self._answer(session_id, session)
        start, end, size = (int(match.group(i)) for i in (1, 2, 3))
        if size != session.size or start != session.held or end < start or end >= size:
            return web.json_response(
                {"error": f"range {start}-{end}/{size} does not follow {session.held}"},
                status=400,
            )
        if self.delay:
            await asyncio.sleep(self.delay)
        self.puts.append((session_id, start, end))
        cut, self.cut_next = self.cut_next, None
        want = end - start + 1
        got = 0
        digest_path = session.path
        with open(digest_path, "ab") as handle:
            while got < want:
                piece = await request.content.read(min(1024 * 1024, want - got))
                if not piece:
                    break
                if cut is not None and got + len(piece) >= cut:
                    piece = piece[: cut - got]
                    keep = ((got + len(piece)) // _UNIT) * _UNIT
                    handle.write(piece)
                    handle.truncate(session.held + keep)
                    session.held += keep
                    request.transport.close()  # the connection drops mid-chunk
                    return web.Response(status=500)
                handle.write(piece)
                got += len(piece)
        if got < want:  # the client went away mid-chunk
            keep = (got // _UNIT) * _UNIT
            with open(digest_path, "r+b") as handle:
                handle.truncate(session.held + keep)
            session.held += keep
            return web.Response(status=400)
        session.held += got
        return self._answer(session_id, session)

    def _answer(self, session_id: str, session: _Session) -> Any:
        from aiohttp import web

        if session.held < session.size:
            headers = {"Range": f"bytes=0-{session.held - 1}"} if session.held else {}
            return web.Response(status=308, headers=headers)
        if session.resource is None:
            digest = hashlib.sha256()
            with open(session.path, "rb") as handle:
                for block in iter(lambda: handle.read(1024 * 1024), b""):
                    digest.update(block)
            resource_id = f"v{len(self.finished) + 1}"
            self.finished[resource_id] = Finished(resource_id, session.size, digest.hexdigest())
            session.resource = {"kind": "youtube#video", "id": resource_id}
            session.path.unlink(missing_ok=True)
        return web.json_response(session.resource, status=201)


def _serve_forever() -> None:  # pragma: no cover - the benchmark's server process
    """``python -m govsocial.testing.uploads``: serve until stdin closes; print the port."""
    import sys

    with ResumableUploadServer() as server:
        print(server.port, flush=True)
        sys.stdin.read()


if __name__ == "__main__":  # pragma: no cover
    _serve_forever()
