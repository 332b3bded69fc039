"""A Papan server on this machine: in memory, standard library only.

The conformance suite and ``govsocial demo`` publish to it, and the plugin's tests read back
what it stored. The API (JSON, ``Authorization: Bearer <token>`` on every call)::

    POST   /api/posts                      {text, reply_to?, media: [{data_base64, mime_type, alt}]}
                                           a repeated Idempotency-Key header gets the same post
    GET    /api/posts?idempotency_key=K    {"posts": [...]}: the caller's post made with key K
    GET    /api/posts/{id}                 the post, with its likes and replies counts
    DELETE /api/posts/{id}                 (its author only)
    POST   /api/posts/{id}/like
    GET    /api/posts/{id}/replies         {"replies": [...]}: the thread below it, oldest first
    GET    /api/mentions?since=ISO-TIME    {"mentions": [...]}: posts naming @you, oldest first
    GET    /api/me                         {handle, name, followers, posts}

Errors are ``{"error": "..."}`` with status 401, 403, 404, 422 or 429. Every authenticated
answer carries ``X-Papan-Remaining`` (requests left in this window) and ``X-Papan-Reset``
(the window's end, epoch seconds).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from govsocial.adapters import Account, PostRef

__all__ = ["PapanServer"]

Answer = tuple[int, Any, dict[str, str]]  # status, JSON body (None: no body), headers


class PapanServer:
    """A Papan server in a background thread; use it as a context manager.

    It follows ``govsocial.adapters.platform.LocalServer``: ``accounts`` are ``@humas`` (an agency)
    and ``@warga`` (a citizen), and ``stored_post`` reads the server's memory directly.

    :param budget: requests each token may make per ``window`` seconds before a 429.
    :param window: the length of a rate-limit window, in seconds.
    """

    def __init__(self, *, budget: int = 1000, window: float = 60.0) -> None:
        self.budget = budget
        self.window = window
        self.base_url = ""
        self.accounts: list[Account] = []
        self.posts: dict[str, dict[str, Any]] = {}  # by id, in the order they were made
        self.answered: list[tuple[str, str, int]] = []  # (method, path, status) of each request
        self._users: dict[str, dict[str, Any]] = {}  # by token
        self._spent: dict[str, tuple[float, int]] = {}  # token -> (window start, requests)
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None

    def __repr__(self) -> str:
        return f"<PapanServer {self.base_url or 'not started'} posts={len(self.posts)}>"

    def __enter__(self) -> PapanServer:
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)  # port 0: any free port
        self._httpd.papan = self
        self.base_url = f"http://127.0.0.1:{self._httpd.server_port}"
        self.accounts = [
            self._add_user("humas", "Humas Kota", 1),
            self._add_user("warga", "Warga", 0),
        ]
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    # -- govsocial.adapters.LocalServer ------------------------------------------------

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The post as this server holds it (None: deleted or never made)."""
        with self._lock:
            post = self.posts.get(ref.id)
            return None if post is None else dict(post)

    def stored_text(self, stored: dict[str, Any]) -> str:
        return str(stored["text"])

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        return [str(media["alt"]) for media in stored["media"]]

    def like(self, ref: PostRef, by: Account) -> None:
        with self._lock:
            self._like(self.posts[ref.id], self._users[by.credential("token")]["handle"])

    def mention(self, account: Account) -> str:
        return account.handle  # "@humas"

    # -- fault injection ---------------------------------------------------------------------

    def inject(self, status: int | None = None, *, delay: float = 0.0, handle: bool = True) -> None:
        """Disturb the next request: answer ``status`` (None: the real answer) after ``delay`` s.

        With ``handle`` the request is carried out all the same, as when a gateway gives up
        on a server that did the work: a create call then stores its post.
        """
        if status is None and not handle:
            raise ValueError("a request that is not handled needs a status to answer")
        with self._lock:
            self._faults.append(_Fault(status, delay, handle))

    # -- answering ---------------------------------------------------------------------------

    def answer(self, method: str, target: str, auth: str, key: str | None, raw: bytes) -> Answer:
        """The answer to one request (called by the HTTP handler's threads)."""
        url = urlsplit(target)
        with self._lock:
            fault = self._faults.pop(0) if self._faults else _Fault()
            answer: Answer = (0, None, {})
            if fault.handle:
                answer = self._answer(method, url.path, parse_qs(url.query), auth, key, raw)
            if fault.status is not None:
                answer = (fault.status, {"error": f"injected answer {fault.status}"}, {})
            self.answered.append((method, url.path, answer[0]))
        time.sleep(fault.delay)
        return answer

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        auth: str,
        key: str | None,
        raw: bytes,
    ) -> Answer:
        token = auth.removeprefix("Bearer ")
        user = self._users.get(token)
        if user is None:
            return 401, {"error": "the token is missing, invalid or revoked"}, {}
        now = time.time()
        start, used = self._spent.get(token, (now, 0))
        if now >= start + self.window:
            start, used = now, 0
        self._spent[token] = (start, used + 1)
        rate = {"X-Papan-Remaining": str(max(0, self.budget - used - 1))}
        rate["X-Papan-Reset"] = f"{start + self.window:.3f}"
        if used >= self.budget:
            return 429, {"error": "rate limit reached: wait for X-Papan-Reset"}, rate
        try:
            status, body = self._route(method, path, query, user, key, raw)
        except _Refused as refused:
            status, body = refused.status, {"error": refused.message}
        return status, body, rate

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        user: dict[str, Any],
        key: str | None,
        raw: bytes,
    ) -> tuple[int, Any]:
        me = user["handle"]
        match method, path.strip("/").split("/"):
            case "POST", ["api", "posts"]:
                return self._create(me, key, raw)
            case "GET", ["api", "posts"]:
                wanted = query.get("idempotency_key", [""])[0]
                made = [p for p in self.posts.values() if p["author"] == me and p["key"] == wanted]
                return 200, {"posts": [self._view(p) for p in made]}
            case "GET", ["api", "posts", post_id]:
                return 200, self._view(self._post(post_id))
            case "DELETE", ["api", "posts", post_id]:
                if self._post(post_id)["author"] != me:
                    raise _Refused(403, "only its author can delete a post")
                del self.posts[post_id]
                return 204, None
            case "POST", ["api", "posts", post_id, "like"]:
                post = self._post(post_id)
                self._like(post, me)
                return 200, self._view(post)
            case "GET", ["api", "posts", post_id, "replies"]:
                thread, replies = {self._post(post_id)["id"]}, []
                for post in self.posts.values():  # replies always come after what they answer
                    if post["reply_to"] in thread:
                        thread.add(post["id"])
                        replies.append(self._view(post))
                return 200, {"replies": replies}
            case "GET", ["api", "mentions"]:
                since = _since(query)
                named = re.compile(rf"(?<![\w@])@{re.escape(me)}(?!\w)")
                found = [
                    self._view(p)
                    for p in self.posts.values()
                    if p["author"] != me
                    and named.search(p["text"])
                    and (since is None or datetime.fromisoformat(p["created_at"]) > since)
                ]
                return 200, {"mentions": found}
            case "GET", ["api", "me"]:
                posts = sum(1 for p in self.posts.values() if p["author"] == me)
                return 200, {**user, "posts": posts}
        raise _Refused(404, f"no such endpoint: {method} {path}")

    def _create(self, me: str, key: str | None, raw: bytes) -> tuple[int, Any]:
        for post in self.posts.values():
            if key and post["author"] == me and post["key"] == key:
                return 200, self._view(post)  # a repeat: the post the first call made
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _Refused(422, "the body must be a JSON object")
        text, media, reply_to = body.get("text", ""), body.get("media", []), body.get("reply_to")
        if not isinstance(text, str) or not isinstance(media, list) or len(media) > 2:
            raise _Refused(422, "text must be a string and media a list of at most 2 images")
        if not text.strip() and not media:
            raise _Refused(422, "a post needs text or an image")
        if reply_to is not None:
            reply_to = self._post(str(reply_to))["id"]
        post_id = str(next(self._ids))
        self.posts[post_id] = {
            "id": post_id,
            "author": me,
            "text": text,
            "reply_to": reply_to,
            "media": [_image(item) for item in media],
            "liked_by": [],
            "key": key or None,
            "created_at": datetime.now(UTC).isoformat(),
        }
        return 201, self._view(self.posts[post_id])

    def _post(self, post_id: str) -> dict[str, Any]:
        post = self.posts.get(post_id)
        if post is None:
            raise _Refused(404, f"no post {post_id}")
        return post

    def _view(self, post: dict[str, Any]) -> dict[str, Any]:
        """A post as the API shows it."""
        replies = sum(1 for p in self.posts.values() if p["reply_to"] == post["id"])
        shown = {k: post[k] for k in ("id", "author", "text", "reply_to", "media", "created_at")}
        url = f"{self.base_url}/@{post['author']}/{post['id']}"
        return {**shown, "url": url, "likes": len(post["liked_by"]), "replies": replies}

    def _like(self, post: dict[str, Any], handle: str) -> None:
        if handle not in post["liked_by"]:
            post["liked_by"].append(handle)

    def _add_user(self, handle: str, name: str, followers: int) -> Account:
        token = secrets.token_urlsafe(24)
        self._users[token] = {"handle": handle, "name": name, "followers": followers}
        return Account(
            platform="papan",
            handle=f"@{handle}",
            base_url=self.base_url,
            credentials={"token": token},
            name=name,
        )


@dataclass(frozen=True)
class _Fault:
    status: int | None = None
    delay: float = 0.0
    handle: bool = True


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _image(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or item.get("mime_type") not in ("image/png", "image/jpeg"):
        raise _Refused(422, "each image needs mime_type image/png or image/jpeg")
    try:
        size = len(base64.b64decode(str(item.get("data_base64", "")), validate=True))
    except binascii.Error:
        raise _Refused(422, "data_base64 is not base64") from None
    alt = str(item.get("alt") or "")
    if size > 1_000_000 or len(alt) > 500:
        raise _Refused(422, "an image may have 1000000 bytes and 500 characters of alt text")
    return {"mime_type": item["mime_type"], "alt": alt, "bytes": size}


def _since(query: dict[str, list[str]]) -> datetime | None:
    if "since" not in query:
        return None
    try:
        since = datetime.fromisoformat(query["since"][0])
    except ValueError:
        raise _Refused(422, "since must be an ISO 8601 time") from None
    return since if since.tzinfo is not None else since.replace(tzinfo=UTC)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    papan: PapanServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up first (a test's timeout, on purpose) is no server error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs do
    timeout = 30  # an idle connection's thread ends after this long
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth, key = self.headers.get("Authorization", ""), self.headers.get("Idempotency-Key")
        status, body, headers = self.server.papan.answer(method, self.path, auth, key, raw)
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Type": "application/json"}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests and the demo print what matters."""
