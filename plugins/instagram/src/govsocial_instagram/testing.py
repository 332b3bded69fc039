"""A small stateful emulator of the Instagram Graph API, for the adapter's tests.

Built from Meta's documentation; every answer copies a documented shape:

- containers: ``POST /{v}/{ig-user-id}/media`` DOWNLOADS ``image_url``/``video_url`` as Meta
  does ("We cURL media used in publishing attempts"), refusing an unfetchable URL with
  code 9004 / subcode 2207052 and a non-JPEG image with 36001 / 2207005; a container reads
  ``IN_PROGRESS`` first, then ``FINISHED``
  (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media,
  .../reference/ig-container, .../reference/error-codes);
- ``POST /{v}/{ig-user-id}/media_publish`` makes the media and marks the container
  ``PUBLISHED``; the 50-per-24-h limit answers code 9 / subcode 2207042. A second
  media_publish of a PUBLISHED container is refused with 24 / 2207008 ("does not exist or has
  been expired"): Meta does not document what a repeat does, so this is an ASSUMPTION that
  the tests of the adapter do not rely on (it checks the container's status first);
- Stories: a container of ``media_type=STORIES`` takes one ``image_url`` or ``video_url``
  ("Support either video URL or Reels URL but not both"; IG User Media reference, Story
  limitations) and, once published, is a media with ``media_product_type`` ``STORY``, listed
  by ``GET /{v}/{ig-user-id}/stories`` (IG User Stories, the last 24 hours), not by ``/media``;
- ``GET /{v}/{ig-user-id}/media`` (with ``since``), ``/content_publishing_limit``, ``/tags``;
- ``GET /{v}/{ig-media-id}/insights`` (an unknown or removed metric such as ``impressions``
  fails the whole request with code 100, as Meta does), ``/comments``; ``/{ig-comment-id}/replies``;
- ``DELETE /{v}/{ig-media-id}`` (``IGMedia.api_delete`` in Meta's facebook-business SDK 26.0)
  needs ``instagram_manage_contents``, refused without it with code 10; ``GET
  /{v}/me/permissions`` lists the token's permissions (``{"permission", "status"}``);
- with :attr:`InstagramEmulator.app_secret` set ("Require App Secret"), every call needs
  ``appsecret_proof`` = hex HMAC-SHA256(app secret, token), refused with code 100 and Meta's
  words ("API calls from the server require an appsecret_proof argument", "Invalid
  appsecret_proof provided in the API argument");
- errors as ``{"error": {message, type, code, error_subcode, fbtrace_id}}``, an unknown token
  as code 190, usage in ``X-Business-Use-Case-Usage``.

State is read by the tests directly (``stored_post``, ``media_count``, ``containers``), never
through the adapter. Faults are injected with :meth:`InstagramEmulator.inject`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from govsocial.adapters import Account, PostRef

API_VERSION = "v25.0"
#: The permissions a new token has (Facebook Login, content publishing and comments).
PERMISSIONS = frozenset(
    {
        "instagram_basic",
        "instagram_content_publish",
        "instagram_manage_comments",
        "instagram_manage_insights",
        "instagram_manage_contents",
        "pages_read_engagement",
    }
)
VALID_METRICS = (
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
    "profile_visits",
    "follows",
    "profile_activity",
)
_JPEG = b"\xff\xd8\xff"
# A 1x1 baseline JPEG (Instagram takes JPEG images only), for the tests to publish.
_TINY_JPEG = (
    base64.b64decode(
        "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////"
        "////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/a"
        "AAgBAQABPxA="
    )
    + b"\xff\xd9"
)


def tiny_jpeg() -> bytes:
    """The bytes of a 1x1 JPEG image."""
    return _TINY_JPEG


@dataclass
class Fault:
    """One injected misbehaviour: matched on method and a path substring."""

    method: str
    path: str
    kind: str  # "error" | "hang" | "malformed" | "publish_then_hang"
    status: int = 400
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    count: int | None = 1


class InstagramEmulator:
    """The emulator's state and its aiohttp application (serve it with :meth:`running`)."""

    def __init__(self, media_dir: Path) -> None:
        self.media_dir = media_dir
        self.base_url = ""
        self.lock = threading.RLock()
        self._ids = itertools.count(17841400000000001)
        self.users: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, str] = {}
        self.expired_tokens: set[str] = set()
        self.containers: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, list[str]] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        #: status reads that say IN_PROGRESS before a container is FINISHED
        self.in_progress_reads = 1
        #: what a new container ends as ("FINISHED", "ERROR", "EXPIRED" or "IN_PROGRESS" forever)
        self.container_outcome = "FINISHED"
        self.quota_total = 50
        self.usage_percent = 5
        self.accounts: list[Account] = []
        #: permissions granted per token (every token starts with PERMISSIONS)
        self.permissions: dict[str, set[str]] = {}
        #: the app's secret when "Require App Secret" is on (None: off)
        self.app_secret: str | None = None
        #: every appsecret_proof received, in order
        self.proofs: list[str] = []

    # -- set-up ----------------------------------------------------------------------------

    def add_account(self, username: str) -> Account:
        """A professional account with a token; returns the govsocial Account for it."""
        with self.lock:
            user_id = str(next(self._ids))
            token = "EAAG" + uuid.uuid4().hex + uuid.uuid4().hex
            self.users[user_id] = {
                "id": user_id,
                "username": username,
                "followers_count": 1200,
                "follows_count": 35,
            }
            self.tokens[token] = user_id
            self.permissions[token] = set(PERMISSIONS)
        account = Account(
            platform="instagram",
            handle=f"@{username}",
            base_url=self.base_url,
            credentials={"ig_user_id": user_id, "access_token": token},
        )
        self.accounts.append(account)
        return account

    def revoke(self, account: Account, permission: str) -> None:
        """Take ``permission`` away from ``account``'s token."""
        with self.lock:
            self.permissions[account.credential("access_token")].discard(permission)

    def expire_container(self, container_id: str) -> None:
        """Make a container expired (as 24 hours unpublished would)."""
        with self.lock:
            self.containers[container_id]["status_code"] = "EXPIRED"
            self.containers[container_id]["outcome"] = "EXPIRED"

    def expire_token(self, account: Account) -> None:
        """Make ``account``'s access token expired from now on."""
        self.expired_tokens.add(account.credential("access_token"))

    def inject(
        self,
        kind: str = "error",
        *,
        method: str,
        path: str,
        status: int = 400,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        count: int | None = 1,
    ) -> None:
        """Misbehave on the next ``count`` requests (None: all) whose path contains ``path``."""
        with self.lock:
            self.faults.append(
                Fault(method, path, kind, status, body, dict(headers or {}), delay, count)
            )

    def clear_faults(self) -> None:
        """Forget every injected fault."""
        with self.lock:
            self.faults.clear()

    # -- what the tests read (LocalServer and more) ----------------------------------------

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The media or comment as the emulator holds it (None: not there)."""
        with self.lock:
            if ref.extra.get("kind") == "comment":
                found = self.comments.get(ref.id)
            else:
                found = self.media.get(ref.id)
            return dict(found) if found is not None else None

    def stored_text(self, stored: dict[str, Any]) -> str:
        """The caption or comment text of a stored item."""
        return str(stored.get("caption") or stored.get("text") or "")

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        """The alt texts of a stored media item."""
        return list(stored.get("alt_texts", []))

    def like(self, ref: PostRef, by: Account) -> None:
        """``by`` likes the media."""
        with self.lock:
            self.media[ref.id]["like_count"] += 1

    def mention(self, account: Account) -> str:
        """How a caption mentions ``account``."""
        return account.handle

    def tag(self, media_id: str, account: Account) -> None:
        """``account`` is tagged in ``media_id`` (as the Instagram app's photo tags do)."""
        with self.lock:
            self.tags.setdefault(account.credential("ig_user_id"), []).append(media_id)

    def media_of(self, account: Account) -> list[dict[str, Any]]:
        """Copies of the media ``account`` published."""
        owner = account.credential("ig_user_id")
        with self.lock:
            return [dict(m) for m in self.media.values() if m["owner"] == owner]

    def media_count(self, account: Account) -> int:
        """How many media ``account`` published."""
        return len(self.media_of(account))

    def containers_of(self, account: Account) -> list[dict[str, Any]]:
        """Copies of the media containers ``account`` created."""
        owner = account.credential("ig_user_id")
        with self.lock:
            return [dict(c) for c in self.containers.values() if c["owner"] == owner]

    # -- serving -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application; serve it and set ``base_url`` to where it answers."""
        app = web.Application(middlewares=[self._faults_middleware])
        app.router.add_get("/media/{name}", self._serve_file)
        app.router.add_route("*", "/{version}/{node}", self._node)
        app.router.add_route("*", "/{version}/{node}/{edge}", self._edge)
        return app

    async def _serve_file(self, request: web.Request) -> web.StreamResponse:
        target = self.media_dir / request.match_info["name"]
        if "/" in request.match_info["name"] or not target.is_file():
            return web.Response(status=404, text="not found")
        return web.FileResponse(target)

    @web.middleware
    async def _faults_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        fault = self._take_fault(request.method, request.path, exclude="publish_then_hang")
        if fault is not None:
            if fault.kind == "hang":
                await asyncio.sleep(fault.delay)
            elif fault.kind == "malformed":
                return web.Response(
                    status=200, text='{"id": "1789', content_type="application/json"
                )
            else:
                return web.json_response(
                    fault.body or {}, status=fault.status, headers=fault.headers
                )
        response: web.StreamResponse = await handler(request)
        return response

    def _take_fault(
        self, method: str, path: str, *, exclude: str | None = None, only: str | None = None
    ) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method != method or fault.path not in path:
                    continue
                if exclude is not None and fault.kind == exclude:
                    continue
                if only is not None and fault.kind != only:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    # -- request plumbing -----------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, str]:
        params = dict(request.query)
        if request.method == "POST":
            form = await request.post()
            params.update({k: str(v) for k, v in form.items()})
        return params

    def _caller(self, request: web.Request, params: dict[str, str]) -> str | web.Response:
        header = request.headers.get("Authorization", "")
        token = header.split(" ", 1)[1] if " " in header else params.get("access_token", "")
        if token in self.expired_tokens:
            return _error(
                400,
                "Error validating access token: Session has expired on Tuesday, 01-Jan-2030 "
                "00:00:00 PST.",
                190,
                subcode=463,
            )
        user = self.tokens.get(token)
        if user is None:
            return _error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        if self.app_secret is not None:
            proof = params.get("appsecret_proof")
            if proof is None:
                return _error(
                    400,
                    "API calls from the server require an appsecret_proof argument",
                    100,
                    kind="GraphMethodException",
                )
            self.proofs.append(proof)
            wanted = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(proof, wanted):
                return _error(
                    400,
                    "Invalid appsecret_proof provided in the API argument",
                    100,
                    kind="GraphMethodException",
                )
        return user

    def _token(self, request: web.Request, params: dict[str, str]) -> str:
        header = request.headers.get("Authorization", "")
        return header.split(" ", 1)[1] if " " in header else params.get("access_token", "")

    def _json(self, body: dict[str, Any], user: str, status: int = 200) -> web.Response:
        usage = {
            user: [
                {
                    "type": "instagram",
                    "call_count": self.usage_percent,
                    "total_cputime": 1,
                    "total_time": 1,
                    "estimated_time_to_regain_access": 0,
                }
            ]
        }
        return web.json_response(
            body, status=status, headers={"X-Business-Use-Case-Usage": json.dumps(usage)}
        )

    async def _node(self, request: web.Request) -> web.StreamResponse:
        params = await self._params(request)
        caller = self._caller(request, params)
        if isinstance(caller, web.Response):
            return caller
        node = request.match_info["node"]
        fields = [f for f in params.get("fields", "").split(",") if f]
        with self.lock:
            if request.method == "GET" and node in self.containers:
                container = self._advance(self.containers[node])
                body = {"id": node, "status_code": container["status_code"]}
                if container["status_code"] == "ERROR":
                    body["status"] = "Error: 2207001"
                return self._json(_pick(body, fields or ["id"], always=("id",)), caller)
            if request.method == "GET" and node in self.media:
                return self._json(
                    _pick(self._media_view(self.media[node]), fields or ["id"], always=("id",)),
                    caller,
                )
            if request.method == "GET" and node in self.comments:
                return self._json(
                    _pick(
                        self._comment_view(self.comments[node]),
                        fields or ["id", "text", "timestamp"],
                        always=("id",),
                    ),
                    caller,
                )
            if request.method == "DELETE" and node in self.media:
                if self.media[node]["owner"] != caller:
                    return _unsupported(request.method, node)
                granted = self.permissions.get(self._token(request, params), set())
                if "instagram_manage_contents" not in granted:
                    return _error(
                        400, "(#10) Application does not have permission for this action", 10
                    )
                del self.media[node]
                for comment_id in [
                    c for c, comment in self.comments.items() if comment["media_id"] == node
                ]:
                    del self.comments[comment_id]
                return self._json({"success": True}, caller)
            if request.method == "DELETE" and node in self.comments:
                comment = self.comments[node]
                media = self.media.get(comment["media_id"])
                if caller not in (comment["from"]["id"], media["owner"] if media else None):
                    return _unsupported(request.method, node)
                del self.comments[node]
                return self._json({"success": True}, caller)
            if request.method == "GET" and node in self.users:
                if node != caller:
                    return _unsupported(request.method, node)
                user = dict(self.users[node])
                user["media_count"] = sum(1 for m in self.media.values() if m["owner"] == node)
                return self._json(_pick(user, fields or ["id"], always=("id",)), caller)
        return _unsupported(request.method, node)

    async def _edge(self, request: web.Request) -> web.StreamResponse:
        params = await self._params(request)
        caller = self._caller(request, params)
        if isinstance(caller, web.Response):
            return caller
        node, edge = request.match_info["node"], request.match_info["edge"]
        method = request.method
        if method == "GET" and node == "me" and edge == "permissions":
            granted = sorted(self.permissions.get(self._token(request, params), set()))
            data = [{"permission": name, "status": "granted"} for name in granted]
            return self._json({"data": data}, caller)
        if node in self.users and node != caller:
            return _unsupported(method, node)
        if method == "POST" and edge == "media" and node in self.users:
            return await self._create_container(caller, params)
        if method == "POST" and edge == "media_publish" and node in self.users:
            return await self._publish(request, caller, params)
        with self.lock:
            if method == "GET" and edge == "media" and node in self.users:
                since = float(params.get("since", "0") or 0)
                items = [
                    self._media_view(m)
                    for m in sorted(self.media.values(), key=lambda m: -m["created"])
                    if m["owner"] == node
                    and m["created"] >= since
                    and m.get("media_product_type") != "STORY"
                ]
                return self._page(request, items, params, caller)
            if method == "GET" and edge == "stories" and node in self.users:
                day_ago = time.time() - 86400
                items = [
                    {k: v for k, v in self._media_view(m).items() if k != "caption"}
                    for m in sorted(self.media.values(), key=lambda m: -m["created"])
                    if m["owner"] == node
                    and m.get("media_product_type") == "STORY"
                    and m["created"] >= day_ago
                ]
                return self._page(request, items, params, caller)
            if method == "GET" and edge == "content_publishing_limit" and node in self.users:
                return self._json(
                    {
                        "data": [
                            {
                                "quota_usage": self._published_last_day(node),
                                "config": {
                                    "quota_total": self.quota_total,
                                    "quota_duration": 86400,
                                },
                            }
                        ]
                    },
                    caller,
                )
            if method == "GET" and edge == "tags" and node in self.users:
                items = [
                    self._media_view(self.media[m])
                    for m in reversed(self.tags.get(node, []))
                    if m in self.media
                ]
                return self._page(request, items, params, caller)
            if method == "GET" and edge == "insights" and node in self.media:
                return self._insights(self.media[node], params, caller)
            if edge == "comments" and node in self.media:
                if method == "POST":
                    return self._add_comment(caller, node, None, params)
                items = [self._comment_view(c) for c in self._comments_on(node, None)]
                return self._page(request, items, params, caller)
            if edge == "replies" and node in self.comments:
                top = self.comments[node]["parent_id"] or node
                if method == "POST":
                    return self._add_comment(caller, self.comments[node]["media_id"], top, params)
                items = [
                    self._comment_view(c)
                    for c in self._comments_on(self.comments[node]["media_id"], node)
                ]
                return self._page(request, items, params, caller)
        return _unsupported(method, f"{node}/{edge}")

    # -- containers and publishing ------------------------------------------------------------

    async def _create_container(self, owner: str, params: dict[str, str]) -> web.Response:
        media_type = params.get("media_type", "IMAGE")
        caption = params.get("caption", "")
        if utf16(caption) > 2200:
            return _error(
                400,
                "The caption is too long.",
                36004,
                subcode=2207010,
                user_title="Caption too long",
                user_msg=f"The submitted image's caption was {utf16(caption)} characters long. "
                "The maximum number of characters permitted for a caption is 2200. "
                "Please submit media with a shorter caption.",
            )
        if len(re.findall(r"(?<![\w.@])@[A-Za-z0-9._]+", caption)) > 20:
            return _error(
                400, "Cannot use more than 20 tags per created media.", 100, subcode=2207040
            )
        if len(params.get("alt_text", "")) > 1000:
            return _error(400, "(#100) Param alt_text must be at most 1000 characters long.", 100)
        container: dict[str, Any] = {
            "owner": owner,
            "media_type": media_type,
            "caption": caption,
            "alt_text": params.get("alt_text"),
            "is_carousel_item": params.get("is_carousel_item") == "true",
            "children": [],
            "status_code": "IN_PROGRESS",
            "reads": 0,
            "outcome": self.container_outcome,
            "created": time.time(),
            "media_id": None,
        }
        if media_type == "CAROUSEL":
            children = [c for c in params.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 10:
                return _error(
                    400,
                    "Your post won't work as a carousel. Carousels need at least 2 photos/videos "
                    "and no more than 10 photos/videos.",
                    100,
                    subcode=2207028,
                )
            with self.lock:
                for child in children:
                    found = self.containers.get(child)
                    if found is None or found["owner"] != owner or not found["is_carousel_item"]:
                        return _error(
                            400,
                            f"(#100) Param children[{child}] is not a valid carousel item "
                            "container",
                            100,
                        )
                    if found["status_code"] != "FINISHED":
                        return _error(
                            400,
                            "The media is not ready for publishing, please wait for a moment",
                            9007,
                            subcode=2207027,
                        )
            container["children"] = children
        else:
            if media_type == "STORIES":
                given = [n for n in ("image_url", "video_url") if params.get(n)]
                if len(given) != 1:
                    return _error(400, "(#100) A story takes one image_url or one video_url", 100)
                container["story_of"] = "VIDEO" if given == ["video_url"] else "IMAGE"
            videoish = media_type in ("REELS", "VIDEO") or container.get("story_of") == "VIDEO"
            url = params.get("video_url") if videoish else params.get("image_url")
            if not url:
                name = "video_url" if videoish else "image_url"
                return _error(400, f"(#100) The parameter {name} is required", 100)
            data = await _download(url)
            if data is None:
                return _error(
                    400,
                    "Only photo or video can be accepted as media type.",
                    9004,
                    subcode=2207052,
                    user_title="Media download has failed. The media URI doesn't meet our "
                    "requirements.",
                    user_msg=f"The media could not be fetched from this URI: {url}. Please check "
                    "the URI and try again.",
                )
            if videoish:
                if data[4:8] != b"ftyp":
                    return _error(
                        400,
                        "The video format is not supported. Please check spec for supported "
                        "video format",
                        352,
                        subcode=2207026,
                    )
            elif not data.startswith(_JPEG):
                return _error(
                    400,
                    "The image format is not supported.",
                    36001,
                    subcode=2207005,
                    user_msg="The image format is not supported. Supported formats are: JPEG.",
                )
            elif len(data) > 8 * 2**20:
                return _error(
                    400,
                    "The image size is too large.",
                    36000,
                    subcode=2207004,
                    user_msg="The image is too large to download. It should be less than 8 MiB.",
                )
            container["url"] = url
            container["sha256"] = hashlib.sha256(data).hexdigest()
        with self.lock:
            container_id = str(next(self._ids))
            container["id"] = container_id
            self.containers[container_id] = container
        return self._json({"id": container_id}, owner)

    def _advance(self, container: dict[str, Any]) -> dict[str, Any]:
        """A status read: IN_PROGRESS for ``in_progress_reads`` reads, then the outcome."""
        if container["status_code"] == "IN_PROGRESS" and container["outcome"] != "IN_PROGRESS":
            container["reads"] += 1
            if container["reads"] > self.in_progress_reads:
                container["status_code"] = container["outcome"]
        return container

    async def _publish(
        self, request: web.Request, owner: str, params: dict[str, str]
    ) -> web.StreamResponse:
        creation = params.get("creation_id", "")
        with self.lock:
            container = self.containers.get(creation)
            if container is None or container["owner"] != owner:
                return _error(
                    400,
                    f"The media builder with creation id = {creation} does not exist or has "
                    "been expired.",
                    24,
                    subcode=2207008,
                )
            status = container["status_code"]
            if status == "PUBLISHED":  # ASSUMPTION: Meta does not document a repeat
                return _error(
                    400,
                    f"The media builder with creation id = {creation} does not exist or has "
                    "been expired.",
                    24,
                    subcode=2207008,
                )
            if status == "IN_PROGRESS":
                return _error(
                    400,
                    "The media is not ready for publishing, please wait for a moment",
                    9007,
                    subcode=2207027,
                )
            if status == "EXPIRED":
                return _error(
                    400,
                    "The media you are trying to access has expired. Please try to upload again.",
                    -2,
                    subcode=2207020,
                )
            if status == "ERROR":
                return _error(
                    400, f"The media with {creation} cannot be found", 24, subcode=2207006
                )
            if self._published_last_day(owner) >= self.quota_total:
                return _error(
                    400,
                    "Application request limit reached",
                    9,
                    subcode=2207042,
                    user_title="Maximum number of posts reached",
                    user_msg="You reached maximum number of posts that is allowed to be published "
                    "by Content Publishing API.",
                )
            media_id = str(next(self._ids))
            alt_texts = []
            children = [self.containers[c] for c in container["children"]]
            for part in children or [container]:
                if part.get("alt_text"):
                    alt_texts.append(part["alt_text"])
            now = time.time()
            self.media[media_id] = {
                "id": media_id,
                "owner": owner,
                "caption": container["caption"],
                "media_type": "CAROUSEL_ALBUM"
                if children
                else container.get("story_of")
                or ("VIDEO" if container["media_type"] in ("REELS", "VIDEO") else "IMAGE"),
                "media_product_type": "STORY"
                if container["media_type"] == "STORIES"
                else ("REELS" if container["media_type"] == "REELS" else "FEED"),
                "sha256": container.get("sha256"),
                "alt_texts": alt_texts,
                "children": list(container["children"]),
                "container_id": creation,
                "created": now,
                "timestamp": _timestamp(now),
                "permalink": f"https://www.instagram.com/p/{base64.urlsafe_b64encode(media_id.encode()).decode()[:11]}/",
                "like_count": 0,
                "insights": {"views": 40, "reach": 31, "shares": 2, "saved": 3},
                "insights_ready": True,
            }
            container["status_code"] = "PUBLISHED"
            container["media_id"] = media_id
        fault = self._take_fault(request.method, request.path, only="publish_then_hang")
        if fault is not None:  # the post exists, but its answer comes too late
            await asyncio.sleep(fault.delay)
        return self._json({"id": media_id}, owner)

    def _published_last_day(self, owner: str) -> int:
        since = time.time() - 86400
        return sum(1 for m in self.media.values() if m["owner"] == owner and m["created"] >= since)

    # -- reading ------------------------------------------------------------------------------

    def _media_view(self, media: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": media["id"],
            "caption": media["caption"],
            "media_type": media["media_type"],
            "timestamp": media["timestamp"],
            "permalink": media["permalink"],
            "username": self.users[media["owner"]]["username"],
            "like_count": media["like_count"],
            "comments_count": sum(
                1 for c in self.comments.values() if c["media_id"] == media["id"]
            ),
        }

    def _comment_view(self, comment: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": comment["id"],
            "text": comment["text"],
            "timestamp": comment["timestamp"],
            "username": comment["from"]["username"],
            "from": dict(comment["from"]),
            "like_count": comment["like_count"],
        }

    def _comments_on(self, media_id: str, parent: str | None) -> list[dict[str, Any]]:
        return sorted(
            (
                c
                for c in self.comments.values()
                if c["media_id"] == media_id and c["parent_id"] == parent
            ),
            key=lambda c: c["created"],
        )

    def _add_comment(
        self, author: str, media_id: str, parent: str | None, params: dict[str, str]
    ) -> web.Response:
        message = params.get("message", "")
        if not message:
            return _error(400, "(#100) The parameter message is required", 100)
        comment_id = str(next(self._ids))
        now = time.time()
        self.comments[comment_id] = {
            "id": comment_id,
            "media_id": media_id,
            "parent_id": parent,
            "text": message,
            "from": {"id": author, "username": self.users[author]["username"]},
            "created": now,
            "timestamp": _timestamp(now),
            "like_count": 0,
        }
        return self._json({"id": comment_id}, author)

    def _insights(self, media: dict[str, Any], params: dict[str, str], caller: str) -> web.Response:
        if media["owner"] != caller:
            return _error(400, "(#10) Application does not have permission for this action", 10)
        metrics = [m for m in params.get("metric", "").split(",") if m]
        for index, metric in enumerate(metrics):
            if metric not in VALID_METRICS:
                return _error(
                    400,
                    f"(#100) metric[{index}] must be one of the following values: "
                    f"{', '.join(VALID_METRICS)}",
                    100,
                )
        if not media["insights_ready"]:
            return self._json({"data": []}, caller)  # no data yet: an empty set, not zeros
        values = dict(media["insights"])
        values["likes"] = media["like_count"]
        values["comments"] = sum(1 for c in self.comments.values() if c["media_id"] == media["id"])
        values["total_interactions"] = (
            values["likes"] + values["comments"] + values["shares"] + values["saved"]
        )
        data = [
            {
                "name": metric,
                "period": "lifetime",
                "values": [{"value": values[metric]}],
                "title": metric.replace("_", " ").title(),
                "description": f"The number of {metric} of the media",
                "id": f"{media['id']}/insights/{metric}/lifetime",
            }
            for metric in metrics
            if metric in values
        ]
        return self._json({"data": data}, caller)

    def _page(
        self, request: web.Request, items: list[dict[str, Any]], params: dict[str, str], caller: str
    ) -> web.Response:
        limit = int(params.get("limit", "25") or 25)
        start = int(base64.b64decode(params["after"]).decode()) if params.get("after") else 0
        fields = [f for f in params.get("fields", "").split(",") if f]
        chunk = [
            _pick(item, fields or ["id"], always=("id",)) for item in items[start : start + limit]
        ]
        body: dict[str, Any] = {"data": chunk}
        if start + limit < len(items):
            after = base64.b64encode(str(start + limit).encode()).decode()
            query = {k: v for k, v in params.items() if k not in ("after", "access_token")}
            query["after"] = after
            next_url = str(request.url.with_query(query))
            body["paging"] = {"cursors": {"after": after}, "next": next_url}
        return self._json(body, caller)


# -- helpers ------------------------------------------------------------------------------------


def utf16(text: str) -> int:
    """The length of ``text`` in UTF-16 code units, as Meta counts caption offsets."""
    return len(text.encode("utf-16-le")) // 2


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _pick(
    item: dict[str, Any], fields: list[str], *, always: tuple[str, ...] = ()
) -> dict[str, Any]:
    wanted = set(fields) | set(always)
    return {k: v for k, v in item.items() if k in wanted}


def _error(
    status: int,
    message: str,
    code: int,
    *,
    subcode: int | None = None,
    user_title: str | None = None,
    user_msg: str | None = None,
    kind: str = "OAuthException",
) -> web.Response:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
        error["is_transient"] = False
    if user_title:
        error["error_user_title"] = user_title
    if user_msg:
        error["error_user_msg"] = user_msg
    error["fbtrace_id"] = "A" + uuid.uuid4().hex[:22]
    return web.json_response({"error": error}, status=status)


def _unsupported(method: str, node: str) -> web.Response:
    verb = "get" if method == "GET" else "post" if method == "POST" else method.lower()
    return _error(
        400,
        f"Unsupported {verb} request. Object with ID '{node}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation.",
        100,
        subcode=33,
    )


async def _download(url: str) -> bytes | None:
    """GET ``url`` as Meta's crawler would; None when it cannot be fetched."""
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as answer,
        ):
            if answer.status != 200:
                return None
            return await answer.read()
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
