"""A small stateful emulator of TikTok's documented Content Posting API, for the tests.

It answers the requests and responses of TikTok's pages (each handler names its page) and
keeps what it was asked to do: publishes that take a file in sequential chunks or pull it
from a URL, go through processing and moderation, and become posts; likes; tokens that
are renewed with a rotating refresh token. Tests read what it stored, never what the
adapter says it sent. Behaviour the documentation does not describe is marked "assumed".

- Creator info: https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info/
- Video init (Direct Post): https://developers.tiktok.com/doc/content-posting-api-reference-direct-post
- Chunks: https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide
- Photos: https://developers.tiktok.com/doc/content-posting-api-reference-photo-post
- Status: https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status
- Errors: https://developers.tiktok.com/doc/tiktok-api-v2-error-handling
- Unaudited apps: https://developers.tiktok.com/doc/content-sharing-guidelines/
- Tokens: https://developers.tiktok.com/doc/oauth-user-access-token-management
- Video query: https://developers.tiktok.com/doc/tiktok-api-v1-video-query (v2 path)

Failure modes a test switches on: ``spam_cap`` (posts a user may make before
``spam_risk_too_many_posts``), ``unaudited`` (only SELF_ONLY, else
``unaudited_client_can_only_post_to_private_accounts``), a creator's
``privacy_level_options``, ``expire_uploads()`` (every open upload URL dies: assumed 403 on
PUT and FAILED on status, as TikTok documents no answer for it), ``moderation_polls`` and
``hold_moderation`` (a post stays in processing), ``reject()`` (moderation fails a held
post with a ``fail_reason``), ``status_delay`` (a slow status answer), ``inits_per_minute``
(429 ``rate_limit_exceeded``), and ``refresh_omits_refresh_token``.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from govsocial.adapters import Account, PostRef

MB = 1024 * 1024


@dataclass
class User:
    """A TikTok creator of the emulator."""

    open_id: str
    username: str
    privacy_level_options: list[str] = field(
        default_factory=lambda: ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    )
    max_video_post_duration_sec: int = 600
    comment_disabled: bool = False
    followers: int = 0
    posted: int = 0


@dataclass
class Publish:
    """One publish (``publish_id``): its upload or pull, then processing and moderation."""

    publish_id: str
    open_id: str
    kind: str  # "video" | "photo"
    post_info: dict[str, Any]
    source: str
    video_size: int = 0
    chunk_size: int = 0
    total_chunks: int = 0
    data: bytearray = field(default_factory=bytearray)
    upload_token: str = ""
    expires_at: float = 0.0
    status: str = "PROCESSING_UPLOAD"
    fail_reason: str = ""
    polls: int = 0
    post_id: str = ""
    images: list[str] = field(default_factory=list)


class TikTokEmulator:
    """The emulator's state, its aiohttp app, and the test-side LocalServer view."""

    def __init__(self, media_dir: Path) -> None:
        self.media_dir = media_dir
        self.base_url = ""
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}  # access token -> open_id
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> open_id
        self.clients = {"aw_client_key": "aw_client_secret"}
        self.publishes: dict[str, Publish] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.init_times: dict[str, list[float]] = {}
        # failure modes
        self.unaudited = False
        self.spam_cap: int | None = None
        self.inits_per_minute = 6
        self.moderation_polls = 1
        self.hold_moderation = False
        #: seconds each status/fetch answer waits (a worker caught mid-look by a kill)
        self.status_delay = 0.0
        self.refresh_omits_refresh_token = False
        self.min_chunk = 5 * MB
        #: seconds each chunk PUT takes (a slow network, so a test can kill mid-upload)
        self.upload_delay = 0.0
        #: the next upload URL expires once it took this many chunks (None: after an hour)
        self.expire_after_chunks: int | None = None
        #: every chunk taken: (publish_id, first byte, last byte)
        self.puts: list[tuple[str, int, int]] = []
        #: seconds an init call waits, after making its publish, before it answers (an
        #: answer lost on the way back when the client gives up first)
        self.init_answer_delay = 0.0
        #: upload URLs that expire once they took ``expire_after_chunks`` (one by default)
        self.expirations = 1
        #: the Authorization header of every chunk PUT (None when there was none)
        self.upload_authorization: list[str | None] = []
        self.verified_prefixes: list[str] = []
        self._ids = itertools.count(7_300_000_000_000_000_001)
        self._accounts: list[Account] = []

    # -- set-up ------------------------------------------------------------------------------

    def add_account(self, username: str, *, followers: int = 0, **settings: Any) -> Account:
        """A creator with an access token, a refresh token and the app's client key."""
        with self.lock:
            user = User(f"open-{secrets.token_hex(6)}", username, followers=followers, **settings)
            self.users[user.open_id] = user
            access = self.issue(user.open_id)
            refresh = "rft." + secrets.token_urlsafe(18)
            self.refresh_tokens[refresh] = user.open_id
        account = Account(
            platform="tiktok",
            handle=f"@{username}",
            base_url=self.base_url,
            credentials={
                "access_token": access,
                "refresh_token": refresh,
                "client_key": "aw_client_key",
                "client_secret": "aw_client_secret",
            },
        )
        self._accounts.append(account)
        return account

    def issue(self, open_id: str) -> str:
        """A new access token for ``open_id``."""
        token = "act." + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = open_id
        return token

    def revoke(self, token: str) -> None:
        """Make an access token invalid (as if its 24 h were over)."""
        with self.lock:
            self.tokens.pop(token, None)

    def expire_uploads(self) -> None:
        """Every upload URL still open expires now."""
        with self.lock:
            for publish in self.publishes.values():
                publish.expires_at = 0.0

    def reject(self, publish_id: str, reason: str) -> None:
        """Moderation fails the publish (status FAILED with ``reason``, a fail_reason of
        the Get Post Status page such as ``spam_risk_text``)."""
        with self.lock:
            publish = self.publishes[publish_id]
            publish.status, publish.fail_reason = "FAILED", reason

    # -- LocalServer ------------------------------------------------------------------------

    @property
    def accounts(self) -> list[Account]:
        """The accounts made so far (the first two: author and citizen)."""
        return list(self._accounts)

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The post ``ref`` names (by post id, or by publish id for a private post)."""
        with self.lock:
            for post in self.posts.values():
                if ref.id in (post["id"], post["publish_id"]):
                    return post
        return None

    def stored_text(self, stored: dict[str, Any]) -> str:
        """The post's title (video) or description (photos)."""
        return str(stored.get("title") or stored.get("description") or "")

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        """TikTok takes no alt text."""
        return []

    def stored_media_kinds(self, stored: dict[str, Any]) -> list[str]:
        """``["video"]`` or one ``"image"`` per photo."""
        return ["video"] if stored["kind"] == "video" else ["image"] * len(stored["images"])

    def like(self, ref: PostRef, by: Account) -> None:
        """``by`` likes the post."""
        with self.lock:
            post = self.stored_post(ref)
            assert post is not None
            post["like_count"] += 1

    def mention(self, account: Account) -> str:
        """How a text mentions ``account``."""
        return account.handle

    def posts_of(self, account: Account) -> list[dict[str, Any]]:
        """Every post ``account`` made, oldest first."""
        open_id = self.tokens_owner(account)
        with self.lock:
            return [p for p in self.posts.values() if p["open_id"] == open_id]

    def publishes_of(self, account: Account) -> list[Publish]:
        """Every publish (init) ``account`` made, oldest first."""
        open_id = self.tokens_owner(account)
        with self.lock:
            return [p for p in self.publishes.values() if p.open_id == open_id]

    def tokens_owner(self, account: Account) -> str:
        """The open_id behind ``account`` (by its handle)."""
        for user in self.users.values():
            if f"@{user.username}" == account.handle:
                return user.open_id
        raise KeyError(account.handle)

    def calls(self, method: str, path: str) -> int:
        """How many requests were ``method path``."""
        return sum(1 for m, p in self.requests if m == method and p == path)

    # -- the app ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application serving the documented endpoints."""
        app = web.Application(middlewares=[self._record], client_max_size=200 * MB)
        post = "/v2/post/publish"
        app.router.add_post(f"{post}/creator_info/query/", self._creator_info)
        app.router.add_post(f"{post}/video/init/", self._video_init)
        app.router.add_post(f"{post}/content/init/", self._content_init)
        app.router.add_post(f"{post}/status/fetch/", self._status)
        app.router.add_put("/upload/{token}", self._upload)
        app.router.add_post("/v2/video/query/", self._video_query)
        app.router.add_get("/v2/user/info/", self._user_info)
        app.router.add_post("/v2/oauth/token/", self._token)
        app.router.add_get("/media/{name}", self._media)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        with self.lock:
            self.requests.append((request.method, request.path))
        response: web.StreamResponse = await handler(request)
        return response

    def _auth(self, request: web.Request) -> User | web.Response:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        open_id = self.tokens.get(token)
        if open_id is None:
            return _error(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        return self.users[open_id]

    async def _creator_info(self, request: web.Request) -> web.Response:
        """Query Creator Info: the creator's options (creator_info page)."""
        user = self._auth(request)
        if isinstance(user, web.Response):
            return user
        return _ok(
            {
                "creator_avatar_url": "https://p16.tiktokcdn.example/avatar.jpeg",
                "creator_username": user.username,
                "creator_nickname": user.username.title(),
                "privacy_level_options": list(user.privacy_level_options),
                "comment_disabled": user.comment_disabled,
                "duet_disabled": False,
                "stitch_disabled": True,
                "max_video_post_duration_sec": user.max_video_post_duration_sec,
            }
        )

    def _refuse_init(self, user: User, post_info: dict[str, Any]) -> web.Response | None:
        """The Direct Post page's init errors, in the order assumed here."""
        now = time.time()
        window = [t for t in self.init_times.get(user.open_id, []) if t > now - 60]
        if len(window) >= self.inits_per_minute:
            return _error(429, "rate_limit_exceeded", "The API rate limit was exceeded.")
        window.append(now)
        self.init_times[user.open_id] = window
        privacy = post_info.get("privacy_level")
        if self.unaudited and privacy != "SELF_ONLY":
            return _error(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to a private account.",
            )
        if privacy not in user.privacy_level_options:
            return _error(
                403,
                "privacy_level_option_mismatch",
                "The privacy level is not one of the creator's privacy_level_options.",
            )
        if self.spam_cap is not None and user.posted >= self.spam_cap:
            return _error(
                403,
                "spam_risk_too_many_posts",
                "The daily post cap from the API is reached for the current user.",
            )
        return None

    async def _video_init(self, request: web.Request) -> web.Response:
        """Direct Post video init: FILE_UPLOAD (an upload_url) or PULL_FROM_URL."""
        user = self._auth(request)
        if isinstance(user, web.Response):
            return user
        body = await request.json()
        post_info = dict(body.get("post_info") or {})
        source = dict(body.get("source_info") or {})
        with self.lock:
            refused = self._refuse_init(user, post_info)
            if refused is not None:
                return refused
            publish = Publish(
                publish_id=f"v_pub_file~v2-1.{next(self._ids)}",
                open_id=user.open_id,
                kind="video",
                post_info=post_info,
                source=str(source.get("source")),
            )
            if publish.source == "FILE_UPLOAD":
                problem = self._chunk_problem(source)
                if problem:
                    return _error(400, "invalid_params", problem)
                publish.video_size = int(source["video_size"])
                publish.chunk_size = int(source["chunk_size"])
                publish.total_chunks = int(source["total_chunk_count"])
                publish.upload_token = secrets.token_urlsafe(12)
                publish.expires_at = time.time() + 3600  # "valid for one hour"
                self.publishes[publish.publish_id] = publish
                upload_url = f"{self.base_url}/upload/{publish.upload_token}"
                return _ok({"publish_id": publish.publish_id, "upload_url": upload_url})
            if publish.source != "PULL_FROM_URL":
                return _error(400, "invalid_params", "source must be FILE_UPLOAD or PULL_FROM_URL")
            url = str(source.get("video_url") or "")
            if not self._verified(url):
                return _error(
                    403,
                    "url_ownership_unverified",
                    "To use PULL_FROM_URL, the developer must verify ownership of the URL "
                    "prefix or domain.",
                )
            pulled = self._read_media(url)
            publish.data = bytearray(pulled or b"")
            publish.video_size = len(publish.data)
            publish.status = "PROCESSING_DOWNLOAD" if pulled else "FAILED"
            publish.fail_reason = "" if pulled else "video_pull_failed"
            self.publishes[publish.publish_id] = publish
        return _ok({"publish_id": publish.publish_id})

    def _chunk_problem(self, source: dict[str, Any]) -> str:
        """The media transfer guide's chunk restrictions."""
        size, chunk = int(source.get("video_size", 0)), int(source.get("chunk_size", 0))
        total = int(source.get("total_chunk_count", 0))
        if size <= 0 or chunk <= 0:
            return "video_size and chunk_size are required for FILE_UPLOAD"
        if total != size // chunk or not 1 <= total <= 1000:
            return "total_chunk_count must be video_size / chunk_size rounded down (1 to 1000)"
        if size < self.min_chunk and chunk != size:
            return "videos under 5 MB must be uploaded whole"
        if total > 1 and not self.min_chunk <= chunk <= 64 * MB:
            return "chunks must be 5 MB to 64 MB"
        if size > 64 * MB and total == 1:
            return "videos over 64 MB must be uploaded in chunks"
        return ""

    async def _upload(self, request: web.Request) -> web.Response:
        """PUT one chunk to the upload_url: sequential, with Content-Range (media transfer
        guide); 206 until the file is whole, then 201."""
        token = request.match_info["token"]
        chunk = await request.read()
        with self.lock:
            self.upload_authorization.append(request.headers.get("Authorization"))
        if self.upload_delay:
            await asyncio.sleep(self.upload_delay)
        with self.lock:
            found = [p for p in self.publishes.values() if p.upload_token == token]
            if not found:
                return _error(404, "invalid_params", "unknown upload url")
            publish = found[0]
            if time.time() > publish.expires_at:  # assumed answer to an expired URL
                if publish.status == "PROCESSING_UPLOAD":
                    publish.status, publish.fail_reason = "FAILED", "upload_url_expired"
                return _error(403, "invalid_params", "The upload url has expired.")
            match = re.fullmatch(
                r"bytes (\d+)-(\d+)/(\d+)", request.headers.get("Content-Range", "")
            )
            if match is None:
                return web.Response(status=400, text="Content-Range is required")
            first, last, size = (int(g) for g in match.groups())
            index = first // publish.chunk_size
            expected_first = index * publish.chunk_size
            is_last = index == publish.total_chunks - 1
            expected_last = (size if is_last else expected_first + publish.chunk_size) - 1
            if (
                size != publish.video_size
                or first != expected_first
                or last != expected_last
                or len(chunk) != last - first + 1
                or first > len(publish.data)
            ):
                return web.Response(status=416, text="Range not satisfiable")
            del publish.data[first:]  # a chunk sent again replaces what was there
            publish.data.extend(chunk)
            self.puts.append((publish.publish_id, first, last))
            taken = sum(1 for p in self.puts if p[0] == publish.publish_id)
            if self.expire_after_chunks is not None and taken >= self.expire_after_chunks:
                publish.expires_at = 0.0
                self.expirations -= 1
                if self.expirations <= 0:  # the next publishes keep their hour
                    self.expire_after_chunks, self.expirations = None, 1
            if len(publish.data) < publish.video_size:
                return web.Response(status=206)
            publish.status = "PROCESSING_UPLOAD"
            return web.Response(status=201)

    async def _content_init(self, request: web.Request) -> web.Response:
        """Photo post init: PULL_FROM_URL of up to 35 images (Photo page)."""
        user = self._auth(request)
        if isinstance(user, web.Response):
            return user
        body = await request.json()
        post_info = dict(body.get("post_info") or {})
        source = dict(body.get("source_info") or {})
        if body.get("media_type") != "PHOTO" or body.get("post_mode") != "DIRECT_POST":
            return _error(400, "invalid_params", "media_type PHOTO and post_mode DIRECT_POST")
        images = [str(u) for u in source.get("photo_images") or []]
        if not 1 <= len(images) <= 35:
            return _error(400, "invalid_params", "photo_images holds 1 to 35 URLs")
        with self.lock:
            refused = self._refuse_init(user, post_info)
            if refused is not None:
                return refused
            if not all(self._verified(u) for u in images):
                return _error(403, "url_ownership_unverified", "Verify the URL prefix or domain.")
            pulled = all(self._read_media(u) for u in images)
            publish = Publish(
                publish_id=f"p_pub_url~v2.{next(self._ids)}",
                open_id=user.open_id,
                kind="photo",
                post_info=post_info,
                source="PULL_FROM_URL",
                images=images,
                status="PROCESSING_DOWNLOAD" if pulled else "FAILED",
                fail_reason="" if pulled else "photo_pull_failed",
            )
            self.publishes[publish.publish_id] = publish
        if self.init_answer_delay:
            await asyncio.sleep(self.init_answer_delay)
        return _ok({"publish_id": publish.publish_id})

    async def _status(self, request: web.Request) -> web.Response:
        """Get Post Status: the publish's stage; the post id only after moderation, and
        only for a public post (assumed: none for SELF_ONLY)."""
        user = self._auth(request)
        if isinstance(user, web.Response):
            return user
        body = await request.json()
        if self.status_delay:
            await asyncio.sleep(self.status_delay)
        with self.lock:
            publish = self.publishes.get(str(body.get("publish_id")))
            if publish is None or publish.open_id != user.open_id:
                return _error(400, "invalid_params", "publish_id not found")
            if (
                publish.status == "PROCESSING_UPLOAD"
                and time.time() > publish.expires_at
                and len(publish.data) < publish.video_size
            ):
                publish.status, publish.fail_reason = "FAILED", "upload_url_expired"
            whole = publish.kind == "photo" or len(publish.data) >= publish.video_size
            if publish.status.startswith("PROCESSING") and whole:
                publish.polls += 1
                if not self.hold_moderation and publish.polls > self.moderation_polls:
                    self._complete(publish)
            data: dict[str, Any] = {"status": publish.status}
            if publish.fail_reason:
                data["fail_reason"] = publish.fail_reason
            if publish.source == "FILE_UPLOAD":
                data["uploaded_bytes"] = len(publish.data)
            else:
                data["downloaded_bytes"] = len(publish.data)
            post_id = publish.post_id
            public = publish.post_info.get("privacy_level") != "SELF_ONLY"
            data["publicaly_available_post_id"] = [int(post_id)] if post_id and public else []
        return _ok(data)

    def _complete(self, publish: Publish) -> None:
        user = self.users[publish.open_id]
        publish.status = "PUBLISH_COMPLETE"
        publish.post_id = str(next(self._ids))
        user.posted += 1
        self.posts[publish.post_id] = {
            "id": publish.post_id,
            "publish_id": publish.publish_id,
            "open_id": publish.open_id,
            "kind": publish.kind,
            "title": publish.post_info.get("title", ""),
            "description": publish.post_info.get("description", ""),
            "privacy_level": publish.post_info.get("privacy_level"),
            "post_info": dict(publish.post_info),
            "video": bytes(publish.data),
            "images": list(publish.images),
            "view_count": 0,
            "like_count": 0,
            "comment_count": 0,
            "share_count": 0,
        }

    async def _video_query(self, request: web.Request) -> web.Response:
        """Query Videos: the user's own videos by id (at most 20), with the fields asked."""
        user = self._auth(request)
        if isinstance(user, web.Response):
            return user
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        body = await request.json()
        ids = [str(i) for i in (body.get("filters") or {}).get("video_ids") or []]
        if len(ids) > 20:
            return _error(400, "invalid_params", "at most 20 video_ids")
        with self.lock:
            videos = [
                {k: v for k, v in self.posts[i].items() if k in fields}
                for i in ids
                if i in self.posts and self.posts[i]["open_id"] == user.open_id
            ]
        return _ok({"videos": videos, "cursor": 0, "has_more": False})

    async def _user_info(self, request: web.Request) -> web.Response:
        """Get User Info: the fields asked of the token's user."""
        user = self._auth(request)
        if isinstance(user, web.Response):
            return user
        with self.lock:
            values = {
                "open_id": user.open_id,
                "display_name": user.username,
                "follower_count": user.followers,
                "following_count": 3,
                "likes_count": sum(p["like_count"] for p in self.posts.values()),
                "video_count": user.posted,
            }
        fields = request.query.get("fields", "").split(",")
        return _ok({"user": {k: v for k, v in values.items() if k in fields}})

    async def _token(self, request: web.Request) -> web.Response:
        """Refresh an access token; the refresh token rotates (token management page)."""
        form = await request.post()
        key, secret = str(form.get("client_key", "")), str(form.get("client_secret", ""))
        if self.clients.get(key) != secret or form.get("grant_type") != "refresh_token":
            return web.json_response(
                {"error": "invalid_client", "error_description": "Client key or secret is wrong."},
                status=401,
            )
        with self.lock:
            open_id = self.refresh_tokens.pop(str(form.get("refresh_token", "")), None)
            if open_id is None:
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Refresh token is invalid."},
                    status=400,
                )
            access = self.issue(open_id)
            answer: dict[str, Any] = {
                "access_token": access,
                "expires_in": 86400,
                "open_id": open_id,
                "refresh_expires_in": 31536000,
                "scope": "video.publish,video.upload,video.list,user.info.stats",
                "token_type": "Bearer",
            }
            if self.refresh_omits_refresh_token:  # assumed: a partial answer
                self.refresh_tokens[str(form["refresh_token"])] = open_id
            else:
                rotated = "rft." + secrets.token_urlsafe(18)
                self.refresh_tokens[rotated] = open_id
                answer["refresh_token"] = rotated
        return web.json_response(answer)

    async def _media(self, request: web.Request) -> web.StreamResponse:
        path = self.media_dir / request.match_info["name"]
        if not path.is_file():
            return web.Response(status=404)
        return web.FileResponse(path)

    def _verified(self, url: str) -> bool:
        prefixes = self.verified_prefixes or [f"{self.base_url}/media/"]
        return any(url.startswith(p) for p in prefixes)

    def _read_media(self, url: str) -> bytes | None:
        """What TikTok would download from ``url`` (here: files under /media/)."""
        prefix = f"{self.base_url}/media/"
        if not url.startswith(prefix):
            return None
        path = self.media_dir / url.removeprefix(prefix)
        return path.read_bytes() if path.is_file() else None


def _ok(data: dict[str, Any]) -> web.Response:
    return web.json_response({"data": data, "error": _error_body("ok", "")})


def _error_body(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message, "log_id": secrets.token_hex(10)}


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"data": {}, "error": _error_body(code, message)}, status=status)


@contextmanager
def local_server(media_dir: Path | None = None) -> Iterator[TikTokEmulator]:
    """Serve a fresh emulator on a local port with the accounts ``humas_kota`` (author) and
    ``warga_kota`` (citizen); local media goes to ``media_dir`` (default: a temporary one)."""
    import tempfile

    from govsocial.testing.emulator import serve

    with tempfile.TemporaryDirectory(prefix="tiktok-media-") as scratch:
        emulator = TikTokEmulator(media_dir or Path(scratch))
        with serve(emulator.app()) as url:
            emulator.base_url = url
            emulator.add_account("humas_kota", followers=1200)
            emulator.add_account("warga_kota")
            yield emulator
