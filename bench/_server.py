"""A minimal, fast loopback Mastodon server for the publishing benchmark.

It speaks just enough HTTP/1.1 (keep-alive, Content-Length or chunked bodies)
on a raw asyncio protocol (uvloop when installed) to stay far from being the
bottleneck.  Run it in its own process::

    python bench/_server.py [--port 0]

It prints ``READY <port>`` on stdout once listening and stops when its stdin
closes (the benchmark keeps a pipe to it) or on SIGTERM.

Endpoints:

* ``POST /api/v1/statuses``  a small Status JSON with a unique id; the request
  must carry ``Authorization: Bearer <token>`` for a token the bench announced,
  and a non-empty ``status`` (JSON or form-encoded body).  Otherwise 401/422.
* ``GET /api/v2/instance`` and ``GET /api/v1/instance``  minimal instance JSON
  (500 characters, 4 media attachments, 23 characters reserved per URL).
* ``POST /_bench/reset``  body ``{"tokens": [...], "delay": seconds}``: clears
  the counters, sets the accepted tokens and the delay of every ``/api/`` reply;
  with ``"log": true`` every accepted create is also logged (see below); with
  ``"dedupe": true`` a create repeating an ``Idempotency-Key`` the same token already
  used gets the status made the first time, as Mastodon answers within an hour
  (counted in ``repeats``, not in ``creates``).
* ``GET /_bench/stats``  counters since the last reset: ``creates``,
  ``per_token`` (create count per token, in announced order; tokens are not
  echoed), ``bad_auth``, ``bad_body``, ``not_found``, ``connections``,
  ``instance`` (instance requests, v1 and v2), ``repeats``; when
  logging, ``log``: one ``[time.time() on receipt, Idempotency-Key, token
  index]`` per accepted create, in arrival order (bench/scheduler.py).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs

_CRLF2 = b"\r\n\r\n"
_MAX_HEAD = 64 * 1024

_STATUS_TEMPLATE = (
    '{{"id":"{id}","created_at":"2024-01-01T00:00:00.000Z","in_reply_to_id":null,'
    '"in_reply_to_account_id":null,"sensitive":false,"spoiler_text":"","visibility":"public",'
    '"language":"en","uri":"http://127.0.0.1/users/u{acct}/statuses/{id}",'
    '"url":"http://127.0.0.1/@u{acct}/{id}","replies_count":0,"reblogs_count":0,'
    '"favourites_count":0,"edited_at":null,"content":"<p>bench</p>","reblog":null,'
    '"application":null,"account":{{"id":"{acct}","username":"u{acct}","acct":"u{acct}",'
    '"display_name":"u{acct}","locked":false,"bot":false,'
    '"created_at":"2024-01-01T00:00:00.000Z","note":"","url":"http://127.0.0.1/@u{acct}",'
    '"avatar":"","avatar_static":"","header":"","header_static":"","followers_count":0,'
    '"following_count":0,"statuses_count":1,"last_status_at":"2024-01-01","emojis":[],'
    '"fields":[]}},"media_attachments":[],"mentions":[],"tags":[],"emojis":[],'
    '"card":null,"poll":null}}'
)

_INSTANCE_V2 = json.dumps(
    {
        "domain": "127.0.0.1",
        "title": "govsocial bench",
        "version": "4.3.0",
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "Loopback server for govsocial benchmarks",
        "usage": {"users": {"active_month": 50}},
        "thumbnail": {"url": "http://127.0.0.1/thumb.png"},
        "languages": ["en", "id"],
        "configuration": {
            "urls": {"streaming": "ws://127.0.0.1"},
            "accounts": {"max_featured_tags": 10},
            "statuses": {
                "max_characters": 500,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23,
            },
            "media_attachments": {
                "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "video/mp4"],
                "image_size_limit": 16777216,
                "image_matrix_limit": 33177600,
                "video_size_limit": 103809024,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2629746,
            },
        },
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "contact": {"email": "bench@127.0.0.1", "account": None},
        "rules": [],
    }
).encode()

_INSTANCE_V1 = json.dumps(
    {
        "uri": "127.0.0.1",
        "title": "govsocial bench",
        "short_description": "Loopback server for govsocial benchmarks",
        "description": "",
        "email": "bench@127.0.0.1",
        "version": "4.3.0",
        "urls": {"streaming_api": "ws://127.0.0.1"},
        "stats": {"user_count": 50, "status_count": 0, "domain_count": 1},
        "thumbnail": None,
        "languages": ["en", "id"],
        "registrations": False,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": {
            "statuses": {
                "max_characters": 500,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23,
            },
        },
        "contact_account": None,
        "rules": [],
    }
).encode()

_REASONS = {200: b"OK", 401: b"Unauthorized", 404: b"Not Found", 422: b"Unprocessable Entity"}


@dataclass
class State:
    """Counters and settings shared by every connection of the server."""

    delay: float = 0.0
    token_index: dict[str, int] = field(default_factory=dict)
    per_token: list[int] = field(default_factory=list)
    creates: int = 0
    bad_auth: int = 0
    bad_body: int = 0
    not_found: int = 0
    connections: int = 0
    instance: int = 0
    repeats: int = 0
    dedupe: dict[tuple[int, str], bytes] | None = None
    log: list[tuple[float, str, int]] | None = None
    ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(110_000_000_000_000_000)
    )

    def reset(
        self, tokens: list[str], delay: float, log: bool = False, dedupe: bool = False
    ) -> None:
        """Forget every counter and accept exactly ``tokens`` from now on."""
        self.delay = delay
        self.log = [] if log else None
        self.dedupe = {} if dedupe else None
        self.instance = self.repeats = 0
        self.token_index = {f"Bearer {tok}": i for i, tok in enumerate(tokens)}
        self.per_token = [0] * len(tokens)
        self.creates = self.bad_auth = self.bad_body = self.not_found = self.connections = 0

    def stats(self) -> dict[str, Any]:
        """Counters since the last reset (never the tokens themselves)."""
        stats: dict[str, Any] = {
            "creates": self.creates,
            "per_token": self.per_token,
            "bad_auth": self.bad_auth,
            "bad_body": self.bad_body,
            "not_found": self.not_found,
            "connections": self.connections,
            "instance": self.instance,
            "repeats": self.repeats,
        }
        if self.log is not None:
            stats["log"] = self.log
        return stats


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


def _dechunk(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """Decode a chunked body starting at ``start``; ``None`` if incomplete."""
    out = bytearray()
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";", 1)[0], 16)
        pos = eol + 2
        if size == 0:
            end = buf.find(b"\r\n", pos)  # no trailers expected; skip any
            while end >= 0 and end != pos:
                pos = end + 2
                end = buf.find(b"\r\n", pos)
            if end < 0:
                return None
            return bytes(out), end + 2
        if len(buf) < pos + size + 2:
            return None
        out += buf[pos : pos + size]
        pos += size + 2


def parse_request(buf: bytearray) -> tuple[Request, int] | None:
    """Parse one request from the start of ``buf``; ``None`` if incomplete."""
    head_end = buf.find(_CRLF2)
    if head_end < 0:
        if len(buf) > _MAX_HEAD:
            raise ValueError("request head too large")
        return None
    lines = bytes(buf[:head_end]).decode("latin-1").split("\r\n")
    method, path, version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body_start = head_end + 4
    if headers.get("transfer-encoding", "").lower() == "chunked":
        decoded = _dechunk(buf, body_start)
        if decoded is None:
            return None
        body, consumed = decoded
    else:
        length = int(headers.get("content-length", "0"))
        if len(buf) < body_start + length:
            return None
        body, consumed = bytes(buf[body_start : body_start + length]), body_start + length
    conn = headers.get("connection", "").lower()
    keep_alive = conn != "close" if version == "HTTP/1.1" else conn == "keep-alive"
    return Request(method, path.split("?", 1)[0], headers, body, keep_alive), consumed


def _status_text(req: Request) -> str:
    """The ``status`` parameter of a create request, JSON or form-encoded."""
    ctype = req.headers.get("content-type", "")
    try:
        if ctype.startswith("application/json"):
            value = json.loads(req.body).get("status", "")
            return value if isinstance(value, str) else ""
        form = parse_qs(req.body.decode())
        return form.get("status", [""])[0]
    except (ValueError, AttributeError):
        return ""


class HttpProtocol(asyncio.Protocol):
    """One keep-alive connection; requests are answered in order, one at a time."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.state.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._drain()

    def _drain(self) -> None:
        while not self.busy and not self.closing and self.transport is not None:
            try:
                parsed = parse_request(self.buf)
            except ValueError:
                self.transport.close()
                return
            if parsed is None:
                return
            req, consumed = parsed
            del self.buf[:consumed]
            status, body = self._handle(req)
            delay = self.state.delay if req.path.startswith("/api/") else 0.0
            if delay > 0:
                self.busy = True
                asyncio.get_running_loop().call_later(
                    delay, self._send, status, body, req.keep_alive
                )
            else:
                self._send(status, body, req.keep_alive)

    def _send(self, status: int, body: bytes, keep_alive: bool) -> None:
        self.busy = False
        if self.transport is None:
            return
        head = (
            b"HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
            b"Content-Length: %d\r\n%s\r\n"
            % (
                status,
                _REASONS.get(status, b"OK"),
                len(body),
                b"" if keep_alive else b"Connection: close\r\n",
            )
        )
        self.transport.write(head + body)
        if not keep_alive:
            self.closing = True
            self.transport.close()
            return
        if self.buf:
            self._drain()

    def _handle(self, req: Request) -> tuple[int, bytes]:
        st = self.state
        if req.method == "POST" and req.path == "/api/v1/statuses":
            idx = st.token_index.get(req.headers.get("authorization", ""))
            if idx is None:
                st.bad_auth += 1
                return 401, b'{"error":"The access token is invalid"}'
            if not _status_text(req):
                st.bad_body += 1
                return 422, b'{"error":"Validation failed: Text can\'t be blank"}'
            key = req.headers.get("idempotency-key", "")
            if st.dedupe is not None and key and (idx, key) in st.dedupe:
                st.repeats += 1  # Mastodon answers a repeat with the status already made
                return 200, st.dedupe[idx, key]
            st.creates += 1
            st.per_token[idx] += 1
            if st.log is not None:
                st.log.append((time.time(), key, idx))
            body = _STATUS_TEMPLATE.format(id=next(st.ids), acct=idx).encode()
            if st.dedupe is not None and key:
                st.dedupe[idx, key] = body
            return 200, body
        if req.method == "GET" and req.path == "/api/v2/instance":
            st.instance += 1
            return 200, _INSTANCE_V2
        if req.method == "GET" and req.path == "/api/v1/instance":
            st.instance += 1
            return 200, _INSTANCE_V1
        if req.method == "POST" and req.path == "/_bench/reset":
            conf = json.loads(req.body)
            st.reset(
                [str(t) for t in conf["tokens"]],
                float(conf.get("delay", 0.0)),
                bool(conf.get("log", False)),
                bool(conf.get("dedupe", False)),
            )
            return 200, b"{}"
        if req.method == "GET" and req.path == "/_bench/stats":
            return 200, json.dumps(st.stats()).encode()
        st.not_found += 1
        return 404, b'{"error":"Record not found"}'


async def serve(host: str, port: int) -> None:
    """Listen on ``host:port`` and serve until stdin closes or SIGTERM arrives."""
    loop = asyncio.get_running_loop()
    state = State()
    server = await loop.create_server(lambda: HttpProtocol(state), host, port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    def watch_stdin() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    async with server:
        await stop.wait()


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.host, args.port))
    else:
        uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
