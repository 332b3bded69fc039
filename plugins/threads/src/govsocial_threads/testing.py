"""A small stateful emulator of the documented Threads API, for the adapter's tests.

It answers the shapes of the Meta documentation pages (each handler names its page) and keeps
what it was asked to do: containers that go IN_PROGRESS -> FINISHED -> PUBLISHED, posts with
their reply tree, likes, deletions, long-lived tokens that expire and can be refreshed. Like
Meta, it DOWNLOADS every ``image_url``/``video_url`` it is given (here: from the media
directory it also serves under ``/media``). Tests read what it stored, never what the adapter
says it sent.

Behaviour the documentation does not describe is marked "assumed" below.

- Container status: https://developers.facebook.com/docs/threads/troubleshooting
- Publishing: https://developers.facebook.com/docs/threads/posts
- Replies: https://developers.facebook.com/docs/threads/retrieve-and-manage-replies
- Insights: https://developers.facebook.com/docs/threads/insights
- Mentions: https://developers.facebook.com/docs/threads/threads-mentions
- Delete: https://developers.facebook.com/docs/threads/posts/delete-posts
- Tokens: https://developers.facebook.com/docs/threads/get-started/long-lived-tokens
- Errors: https://developers.facebook.com/docs/graph-api/guides/error-handling
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from govsocial.adapters import Account, PostRef

VERSION = "v1.0"
DAY = 86400.0


@dataclass
class Token:
    """An access token the emulator issued: its user and validity."""

    value: str
    user_id: str
    issued_at: float
    expires_at: float
    #: Meta answers "expired" although the token may still be refreshed (assumed: this
    #: models clock differences and early invalidation, to test the reactive refresh).
    report_expired: bool = False


@dataclass
class Fault:
    """A fault to inject into requests matching ``method`` and ``path``."""

    method: str
    path: re.Pattern[str]
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    count: int = 1
    #: run the real handler first, then wait ``delay`` before answering (a lost answer)
    after: bool = False
    delay: float = 0.0


@dataclass
class User:
    """A Threads user of the emulator."""

    user_id: str
    username: str
    followers: int = 0


class ThreadsEmulator:
    """The emulator's state, its aiohttp app, and the test-side LocalServer view."""

    def __init__(self, media_dir: Path) -> None:
        self.media_dir = media_dir
        self.base_url = ""
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.containers: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.usage_headers: dict[str, str] = {}
        self.removed_metrics: set[str] = set()
        #: container status reads before a container becomes FINISHED
        self.polls_to_finish = 1
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.downloads: list[str] = []
        self.issued_tokens: list[str] = []
        self.accepted: dict[str, int] = {}
        self._ids = itertools.count(17_890_000_000_000_001)
        self._accounts: list[Account] = []

    # -- set-up ------------------------------------------------------------------------------

    def add_account(self, username: str, *, followers: int = 0, age: float = 2 * DAY) -> Account:
        """A user with a long-lived token issued ``age`` seconds ago (valid 60 days)."""
        with self.lock:
            user = User(str(next(self._ids)), username, followers)
            self.users[user.user_id] = user
            token = self.issue_token(user.user_id, issued_at=time.time() - age)
        account = Account(
            platform="threads",
            handle=f"@{username}",
            base_url=self.base_url,
            credentials={"user_id": user.user_id, "access_token": token.value},
        )
        self._accounts.append(account)
        return account

    def issue_token(self, user_id: str, *, issued_at: float | None = None) -> Token:
        """Issue a long-lived token for ``user_id`` (valid 60 days from ``issued_at``)."""
        issued = time.time() if issued_at is None else issued_at
        token = Token("THAA" + secrets.token_urlsafe(24), user_id, issued, issued + 60 * DAY)
        with self.lock:
            self.tokens[token.value] = token
        return token

    def token_of(self, account: Account) -> Token:
        """The token record of ``account``'s access token."""
        return self.tokens[account.credential("access_token")]

    def inject(self, method: str, path: str, **options: Any) -> Fault:
        """Answer the next ``count`` requests whose path matches ``path`` (a regex) so."""
        fault = Fault(method.upper(), re.compile(path), **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    # -- LocalServer --------------------------------------------------------------------------

    @property
    def accounts(self) -> list[Account]:
        """The accounts added, in order."""
        return list(self._accounts)

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The post as the emulator holds it (None: deleted or never made)."""
        with self.lock:
            post = self.posts.get(ref.id)
            if post is None or post["deleted"]:
                return None
            return dict(post)

    def stored_text(self, stored: dict[str, Any]) -> str:
        """The text of a stored post."""
        return str(stored["text"])

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        """The alt texts of a stored post's media."""
        return list(stored["alt_texts"])

    def like(self, ref: PostRef, by: Account) -> None:
        """``by`` likes the post."""
        with self.lock:
            self.posts[ref.id]["likes"].add(by.credential("user_id"))

    def mention(self, account: Account) -> str:
        """How a post mentions ``account``."""
        return "@" + self.users[account.credential("user_id")].username

    # -- test-side reads -------------------------------------------------------------------------

    def posts_of(self, account: Account) -> list[dict[str, Any]]:
        """Every live post and reply ``account`` made, oldest first."""
        user_id = account.credential("user_id")
        with self.lock:
            return [p for p in self.posts.values() if p["owner"] == user_id and not p["deleted"]]

    def containers_of(self, account: Account) -> list[dict[str, Any]]:
        """The media containers ``account`` created."""
        user_id = account.credential("user_id")
        with self.lock:
            return [
                c
                for c in self.containers.values()
                if c["owner"] == user_id and not c["is_carousel_item"]
            ]

    def calls(self, method: str, suffix: str) -> int:
        """How many ``method`` requests went to a path ending in ``suffix``."""
        return sum(1 for m, p, _ in self.requests if m == method and p.endswith(suffix))

    # -- the app -------------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application; serve it and set ``base_url``."""
        app = web.Application(middlewares=[self._faults_middleware])
        v = f"/{VERSION}"
        app.router.add_get("/refresh_access_token", self._refresh)
        app.router.add_get("/media/{name}", self._media)
        app.router.add_post(v + "/{user}/threads", self._create_container)
        app.router.add_post(v + "/{user}/threads_publish", self._publish)
        app.router.add_get(v + "/{user}/threads_publishing_limit", self._publishing_limit)
        app.router.add_get(v + "/{user}/threads_insights", self._user_insights)
        app.router.add_get(v + "/{user}/threads", self._user_posts)
        app.router.add_get(v + "/{user}/replies", self._user_replies_or_direct)
        app.router.add_get(v + "/{user}/mentions", self._mentions)
        app.router.add_get(v + "/{id}/insights", self._media_insights)
        app.router.add_get(v + "/{id}/conversation", self._conversation)
        app.router.add_get(v + "/{id}", self._get_object)
        app.router.add_delete(v + "/{id}", self._delete)
        return app

    @web.middleware
    async def _faults_middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        form = dict(await request.post()) if request.method == "POST" else {}
        params = {k: str(v) for k, v in {**request.query, **form}.items() if k != "access_token"}
        with self.lock:
            self.requests.append((request.method, request.path, params))
            fault = next(
                (
                    f
                    for f in self.faults
                    if f.count > 0 and f.method == request.method and f.path.search(request.path)
                ),
                None,
            )
            if fault is not None:
                fault.count -= 1
        if fault is not None and fault.after:
            response = await handler(request)
            await asyncio.sleep(fault.delay)
            return response
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if isinstance(fault.body, str):
                return web.Response(
                    status=fault.status,
                    text=fault.body,
                    headers=fault.headers,
                    content_type="application/json",
                )
            return web.json_response(fault.body or {}, status=fault.status, headers=fault.headers)
        response = await handler(request)
        for name, value in self.usage_headers.items():
            response.headers[name] = value
        return response

    # -- auth ----------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, str]:
        form = dict(await request.post()) if request.method == "POST" else {}
        return {k: str(v) for k, v in {**request.query, **form}.items()}

    def _auth(self, params: dict[str, str], request: web.Request) -> Token | web.Response:
        value = params.get("access_token") or request.headers.get("Authorization", "")[7:]
        token = self.tokens.get(value)
        if token is None:
            return _error(
                "Invalid OAuth access token - Cannot parse access token", code=190, status=400
            )
        if token.report_expired or token.expires_at <= time.time():
            when = datetime.fromtimestamp(token.expires_at, UTC).strftime("%A, %d-%b-%y %H:%M:%S")
            return _error(
                f"Error validating access token: Session has expired on {when} UTC.",
                code=190,
                subcode=463,
                status=400,
            )
        with self.lock:
            self.accepted[token.value] = self.accepted.get(token.value, 0) + 1
        return token

    def _user(self, request: web.Request, token: Token) -> str | web.Response:
        user = request.match_info["user"]
        if user == "me":
            return token.user_id
        if user != token.user_id:
            return _error("(#100) The user id does not match the access token", code=100)
        return user

    # -- publishing ------------------------------------------------------------------------------

    async def _create_container(self, request: web.Request) -> web.Response:
        """https://developers.facebook.com/docs/threads/reference/publishing"""
        params = await self._params(request)
        token = self._auth(params, request)
        if isinstance(token, web.Response):
            return token
        user = self._user(request, token)
        if isinstance(user, web.Response):
            return user
        media_type = params.get("media_type", "")
        if media_type not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            return _error("(#100) Param media_type must be one of TEXT, IMAGE, VIDEO, CAROUSEL")
        if media_type == "TEXT" and not params.get("text"):
            return _error("(#100) The parameter text is required for media_type TEXT")
        reply_to = params.get("reply_to_id")
        if reply_to and (reply_to not in self.posts or self.posts[reply_to]["deleted"]):
            return _error(f"(#100) reply_to_id {reply_to} does not exist", code=100)
        if len(params.get("alt_text", "")) > 1000:
            # ASSUMPTION: the 1,000-character cap third-party tools document; Meta's own
            # collection gives no figure, and this wording is the emulator's, not Meta's
            return _error("(#100) Param alt_text must be at most 1000 characters long")
        children: list[str] = []
        if media_type == "CAROUSEL":
            children = [c for c in params.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 20 or any(c not in self.containers for c in children):
                return _error("(#100) children must be 2 to 20 carousel item containers")
        container: dict[str, Any] = {
            "id": str(next(self._ids)),
            "owner": user,
            "media_type": media_type,
            "text": params.get("text", ""),
            "alt_text": params.get("alt_text", ""),
            "reply_to": reply_to,
            "children": children,
            "is_carousel_item": params.get("is_carousel_item") == "true",
            "status": "IN_PROGRESS",
            "polls": 0,
            "error_message": None,
            "post": None,
            "media_sha256": None,
        }
        url = params.get("image_url") or params.get("video_url")
        if media_type in ("IMAGE", "VIDEO"):
            if not url:
                return _error(f"(#100) {media_type.lower()}_url is required")
            data = await self._download(url)  # Meta downloads the media from the public URL
            if data is None:
                container["status"] = "ERROR"
                container["error_message"] = (
                    "FAILED_DOWNLOADING_VIDEO" if media_type == "VIDEO" else "UNKNOWN"
                )
            else:
                container["media_sha256"] = hashlib.sha256(data).hexdigest()
        with self.lock:
            self.containers[container["id"]] = container
        return web.json_response({"id": container["id"]})

    async def _download(self, url: str) -> bytes | None:
        with self.lock:
            self.downloads.append(url)
        try:
            timeout = aiohttp.ClientTimeout(total=5)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(url) as response,
            ):
                if response.status != 200:
                    return None
                return await response.read()
        except (aiohttp.ClientError, TimeoutError):
            return None

    def _advance(self, container: dict[str, Any]) -> None:
        """IN_PROGRESS becomes FINISHED after ``polls_to_finish`` status reads."""
        if container["status"] == "IN_PROGRESS":
            container["polls"] += 1
            if container["polls"] >= self.polls_to_finish:
                container["status"] = "FINISHED"

    async def _publish(self, request: web.Request) -> web.Response:
        """https://developers.facebook.com/docs/threads/posts#step-2--publish-a-threads-media-container"""
        params = await self._params(request)
        token = self._auth(params, request)
        if isinstance(token, web.Response):
            return token
        user = self._user(request, token)
        if isinstance(user, web.Response):
            return user
        with self.lock:
            container = self.containers.get(params.get("creation_id", ""))
            if container is None or container["owner"] != user or container["is_carousel_item"]:
                return _media_not_found()
            if container["status"] == "PUBLISHED":  # assumed: Meta refuses a second publish
                return _error("(#10) This media container has already been published", code=10)
            if container["status"] != "FINISHED":  # the documented race: not ready yet
                return _media_not_found()
            post = self._make_post(container)
            container["status"] = "PUBLISHED"
            container["post"] = post["id"]
        return web.json_response({"id": post["id"]})

    def _make_post(self, container: dict[str, Any]) -> dict[str, Any]:
        owner = self.users[container["owner"]]
        post_id = str(next(self._ids))
        parent = self.posts.get(container["reply_to"] or "")
        if container["media_type"] == "CAROUSEL":
            items = [self.containers[c] for c in container["children"]]
            alt_texts = [c["alt_text"] for c in items if c["alt_text"]]
        elif container["media_type"] in ("IMAGE", "VIDEO"):
            alt_texts = [container["alt_text"]] if container["alt_text"] else []
        else:
            alt_texts = []
        post = {
            "id": post_id,
            "owner": owner.user_id,
            "username": owner.username,
            "text": container["text"],
            "media_type": {
                "TEXT": "TEXT_POST",
                "IMAGE": "IMAGE",
                "VIDEO": "VIDEO",
                "CAROUSEL": "CAROUSEL_ALBUM",
            }[container["media_type"]],
            "alt_texts": alt_texts,
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "created": time.time(),
            "permalink": f"https://www.threads.net/@{owner.username}/post/{post_id[-8:]}",
            "replied_to": parent["id"] if parent else None,
            "root_post": (parent["root_post"] or parent["id"]) if parent else None,
            "likes": set(),
            "views": 0,
            "deleted": False,
            "container": container["id"],
        }
        self.posts[post_id] = post
        return post

    async def _publishing_limit(self, request: web.Request) -> web.Response:
        """https://developers.facebook.com/docs/threads/overview#posts"""
        params = await self._params(request)
        token = self._auth(params, request)
        if isinstance(token, web.Response):
            return token
        user = self._user(request, token)
        if isinstance(user, web.Response):
            return user
        recent = [
            p
            for p in self.posts.values()
            if p["owner"] == user and p["created"] > time.time() - DAY
        ]
        return web.json_response(
            {
                "data": [
                    {
                        "quota_usage": sum(1 for p in recent if not p["replied_to"]),
                        "config": {"quota_total": 250, "quota_duration": 86400},
                        "reply_quota_usage": sum(1 for p in recent if p["replied_to"]),
                        "reply_config": {"quota_total": 1000, "quota_duration": 86400},
                    }
                ]
            }
        )

    async def _delete(self, request: web.Request) -> web.Response:
        """https://developers.facebook.com/docs/threads/posts/delete-posts"""
        params = await self._params(request)
        token = self._auth(params, request)
        if isinstance(token, web.Response):
            return token
        with self.lock:
            post = self.posts.get(request.match_info["id"])
            if post is None or post["deleted"] or post["owner"] != token.user_id:
                return _media_not_found()
            post["deleted"] = True
        return web.json_response({"success": True, "deleted_id": post["id"]})

    # -- reading ---------------------------------------------------------------------------------

    async def _get_object(self, request: web.Request) -> web.Response:
        """Container status (troubleshooting page), a media object, or a user profile."""
        params = await self._params(request)
        token = self._auth(params, request)
        if isinstance(token, web.Response):
            return token
        object_id = request.match_info["id"]
        fields = [f for f in params.get("fields", "id").split(",") if f]
        with self.lock:
            container = self.containers.get(object_id)
            if container is not None:
                if container["owner"] != token.user_id:
                    return _media_not_found()
                self._advance(container)
                answer: dict[str, Any] = {"id": object_id, "status": container["status"]}
                if "error_message" in fields and container["error_message"]:
                    answer["error_message"] = container["error_message"]
                return web.json_response(answer)
            post = self.posts.get(object_id)
            if post is not None and not post["deleted"]:
                return web.json_response(_fields(post, fields))
            user_id = token.user_id if object_id == "me" else object_id
            user = self.users.get(user_id)
            if user is not None:
                return web.json_response({"id": user.user_id, "username": user.username})
        return _media_not_found()

    async def _media_insights(self, request: web.Request) -> web.Response:
        """https://developers.facebook.com/docs/threads/insights#media-insights"""
        params = await self._params(request)
        token = self._auth(params, request)
        if isinstance(token, web.Response):
            return token
        names = [m for m in params.get("metric", "").split(",") if m]
        known = ["views", "likes", "replies", "reposts", "quotes", "shares"]
        allowed = [m for m in known if m not in self.removed_metrics]
        bad = [m for m in names if m not in allowed]
        if bad or not names:
            return _error(
                f"(#100) metric[{names.index(bad[0]) if bad else 0}] must be one of the "
                f"following values: {', '.join(allowed)}",
                code=100,
            )
        with self.lock:
            post = self.posts.get(request.match_info["id"])
            if post is None or post["deleted"] or post["owner"] != token.user_id:
                return _media_not_found()
            descendants = self._descendants(post["id"])
            counts = {
                "views": post["views"],
                "likes": len(post["likes"]),
                "replies": len(descendants)
                if post["replied_to"] is None
                else sum(1 for d in descendants if d["replied_to"] == post["id"]),
                "reposts": 0,
                "quotes": 0,
                "shares": 0,
            }
        return web.json_response(
            {
                "data": [
                    {
                        "name": name,
                        "period": "lifetime",
                        "values": [{"value": counts[name]}],
                        "title": name.capitalize(),
                        "description": f"The number of {name} of your post.",
                        "id": f"{post['id']}/insights/{name}/lifetime",
                    }
                    for name in names
                ]
            }
        )

    async def _user_insights(self, request: web.Request) -> web.Response:
        """https://developers.facebook.com/docs/threads/insights#user-insights (shapes assumed
        from that page: followers_count as total_value, views as a daily series)."""
        params = await self._params(request)
        token = self._auth(params, request)
        if isinstance(token, web.Response):
            return token
        user = self._user(request, token)
        if isinstance(user, web.Response):
            return user
        names = [m for m in params.get("metric", "").split(",") if m]
        allowed = [
            m
            for m in ("views", "likes", "replies", "reposts", "quotes", "followers_count")
            if m not in self.removed_metrics
        ]
        if not names or any(m not in allowed for m in names):
            return _error(f"(#100) metric must be one of: {', '.join(allowed)}", code=100)
        data = []
        for name in names:
            item: dict[str, Any] = {
                "name": name,
                "period": "day",
                "title": name,
                "description": name,
                "id": f"{user}/insights/{name}/day",
            }
            if name == "followers_count":
                item["total_value"] = {"value": self.users[user].followers}
            else:
                item["values"] = [
                    {"value": 0, "end_time": "2026-01-01T08:00:00+0000"},
                    {"value": 0, "end_time": "2026-01-02T08:00:00+0000"},
                ]
            data.append(item)
        return web.json_response({"data": data})

    async def _conversation(self, request: web.Request) -> web.Response:
        """https://developers.facebook.com/docs/threads/retrieve-and-manage-replies/replies-and-conversations"""
        params = await self._params(request)
        token = self._auth(params, request)
        if isinstance(token, web.Response):
            return token
        with self.lock:
            if request.match_info["id"] not in self.posts:
                return _media_not_found()
            items = self._descendants(request.match_info["id"])
        return self._page(items, params, reverse=params.get("reverse", "true") != "false")

    async def _user_replies_or_direct(self, request: web.Request) -> web.Response:
        """``/{user-id}/replies`` (the user's replies) or ``/{media-id}/replies`` (direct)."""
        params = await self._params(request)
        token = self._auth(params, request)
        if isinstance(token, web.Response):
            return token
        key = request.match_info["user"]
        with self.lock:
            if key in self.posts:
                items = [p for p in self._live() if p["replied_to"] == key]
                return self._page(items, params, reverse=params.get("reverse", "true") != "false")
        user = self._user(request, token)
        if isinstance(user, web.Response):
            return user
        with self.lock:
            items = [p for p in self._live() if p["owner"] == user and p["replied_to"]]
        return self._page(_since(items, params), params, reverse=True)

    async def _user_posts(self, request: web.Request) -> web.Response:
        """https://developers.facebook.com/docs/threads/retrieve-and-discover-posts"""
        params = await self._params(request)
        token = self._auth(params, request)
        if isinstance(token, web.Response):
            return token
        user = self._user(request, token)
        if isinstance(user, web.Response):
            return user
        with self.lock:
            items = [p for p in self._live() if p["owner"] == user and not p["replied_to"]]
        return self._page(_since(items, params), params, reverse=True)

    async def _mentions(self, request: web.Request) -> web.Response:
        """https://developers.facebook.com/docs/threads/threads-mentions"""
        params = await self._params(request)
        token = self._auth(params, request)
        if isinstance(token, web.Response):
            return token
        user = self._user(request, token)
        if isinstance(user, web.Response):
            return user
        handle = re.compile(rf"@{re.escape(self.users[user].username)}\b")
        with self.lock:
            items = [p for p in self._live() if p["owner"] != user and handle.search(p["text"])]
        return self._page(_since(items, params), params, reverse=True)

    async def _refresh(self, request: web.Request) -> web.Response:
        """https://developers.facebook.com/docs/threads/get-started/long-lived-tokens"""
        params = await self._params(request)
        if params.get("grant_type") != "th_refresh_token":
            return _error("(#100) grant_type must be th_refresh_token")
        token = self.tokens.get(params.get("access_token", ""))
        now = time.time()
        if token is None or token.expires_at <= now:
            return _error(
                "Error validating access token: Session has expired", code=190, subcode=463
            )
        if now - token.issued_at < DAY:
            return _error("(#10) The access token must be at least 24 hours old", code=10)
        fresh = self.issue_token(token.user_id, issued_at=now)
        with self.lock:
            self.issued_tokens.append(fresh.value)
        return web.json_response(
            {"access_token": fresh.value, "token_type": "bearer", "expires_in": 5183944}
        )

    async def _media(self, request: web.Request) -> web.StreamResponse:
        path = self.media_dir / request.match_info["name"]
        if not path.is_file():
            return web.Response(status=404)
        return web.Response(body=path.read_bytes())

    # -- helpers ---------------------------------------------------------------------------------

    def _live(self) -> list[dict[str, Any]]:
        return [p for p in self.posts.values() if not p["deleted"]]

    def _descendants(self, post_id: str) -> list[dict[str, Any]]:
        found, frontier = [], {post_id}
        for post in sorted(self._live(), key=lambda p: p["created"]):
            if post["replied_to"] in frontier:
                found.append(post)
                frontier.add(post["id"])
        return found

    def _page(
        self, items: list[dict[str, Any]], params: dict[str, str], *, reverse: bool
    ) -> web.Response:
        """Cursor pages of ``limit`` items (default 25), ``paging.cursors.after``."""
        ordered = sorted(items, key=lambda p: p["created"], reverse=reverse)
        start = int(base64.b64decode(params["after"]).decode()) if params.get("after") else 0
        limit = int(params.get("limit", "25"))
        chunk = ordered[start : start + limit]
        fields = [f for f in params.get("fields", "id").split(",") if f]
        body: dict[str, Any] = {"data": [_fields(p, fields) for p in chunk]}
        if chunk:
            cursors = {"before": base64.b64encode(str(start).encode()).decode()}
            if start + limit < len(ordered):
                cursors["after"] = base64.b64encode(str(start + limit).encode()).decode()
            body["paging"] = {"cursors": cursors}
        return web.json_response(body)


def _since(items: list[dict[str, Any]], params: dict[str, str]) -> list[dict[str, Any]]:
    since = params.get("since")
    if not since:
        return items
    return [p for p in items if p["created"] >= int(since)]


def _fields(post: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": post["id"]}
    for name in fields:
        if name in ("replied_to", "root_post"):
            if post[name]:
                answer[name] = {"id": post[name]}
        elif name == "is_reply":
            answer[name] = post["replied_to"] is not None
        elif name == "alt_text":
            if post["alt_texts"]:
                answer[name] = post["alt_texts"][0]
        elif name in ("text", "username", "permalink", "timestamp", "media_type"):
            answer[name] = post[name]
    return answer


def _error(
    message: str, *, code: int = 100, subcode: int | None = None, status: int = 400
) -> web.Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A" + secrets.token_hex(8),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return web.Response(
        status=status, text=json.dumps({"error": error}), content_type="application/json"
    )


def _media_not_found() -> web.Response:
    """The answer the community reports for a container or media Meta does not know."""
    response = _error("The requested resource does not exist", code=24, subcode=4279009)
    body = json.loads(response.text or "{}")
    body["error"]["error_user_msg"] = "Cannot find media with the given ID"
    return web.Response(status=400, text=json.dumps(body), content_type="application/json")
