"""A small stateful emulator of the LinkedIn REST endpoints the adapter uses (aiohttp).

Built from the documented shapes, each cited where it is answered:

- posts: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
  (201, empty body, new URN in ``x-restli-id``; a repeat of the text answers 422
  DUPLICATE_POST with the body LinkedIn sends, as reported in
  https://github.com/Arisamiga/Linkedin-RSS/issues/5);
- little text: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format
  (an unescaped reserved character cuts the stored commentary there, as LinkedIn does);
- images: .../community-management/shares/images-api (initializeUpload, then PUT the bytes);
- comments: .../community-management/shares/comments-api (nested with ``parentComment``);
- statistics: .../community-management/organizations/share-statistics;
- followers: .../community-management/organizations/organization-network-size;
- mentions: .../community-management/organizations/organization-social-action-notifications;
- versions: a request without ``LinkedIn-Version`` is refused (400, unverified shape), one
  with a version LinkedIn does not serve answers 426 NONEXISTENT_VERSION (the shape seen in
  https://github.com/n8n-io/n8n/issues/14737);
- tokens: https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens

It records every request (method, raw path, headers) so tests can check what went over the
wire, and it can inject faults (status, body, latency after the work is done).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from govsocial.adapters import Account, PostRef

SUPPORTED_VERSIONS = frozenset({"202511", "202512", "202601", "202603", "202605", "202608"})
RESERVED = frozenset("|{}@[]()<>#*_~\\")
_TEMPLATE = re.compile(r"\{hashtag\|(?:\\#|#|\uff03)\|(?:\\.|[^\\{}|])*\}")
_MENTION = re.compile(r"@\[([^\[\]|{}@()<>#*_~\\]+)\]\((urn:li:(?:person|organization):[\w-]+)\)")
_HASHTAG = re.compile(r"#\w+")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def little_prefix(commentary: str) -> str:
    """What LinkedIn keeps of ``commentary``: everything before the first unescaped reserved
    character that starts no little element (the documented silent truncation)."""
    position = 0
    while position < len(commentary):
        char = commentary[position]
        if char == "\\" and position + 1 < len(commentary) and commentary[position + 1] in RESERVED:
            position += 2
            continue
        if char in RESERVED:
            for pattern in (_TEMPLATE, _MENTION, _HASHTAG):
                match = pattern.match(commentary, position)
                if match is not None:
                    position = match.end()
                    break
            else:
                return commentary[:position]
            continue
        position += 1
    return commentary


def little_plain(commentary: str) -> str:
    """Plain text of stored commentary: escapes undone, ``{hashtag|\\#|x}`` as ``#x``,
    mentions kept in their markup (written here independently of the adapter's parser)."""
    text = re.sub(
        r"\{hashtag\|(?:\\#|#|\uff03)\|((?:\\.|[^\\{}|])*)\}",
        lambda m: "#" + re.sub(r"\\(.)", r"\1", m.group(1)),
        commentary,
    )
    out, position = [], 0
    while position < len(text):
        if text[position] == "\\" and position + 1 < len(text):
            out.append(text[position + 1])
            position += 2
        else:
            out.append(text[position])
            position += 1
    return "".join(out)


#: The scopes an emulated token has unless a test changes them.
SCOPES = ("r_organization_social", "rw_organization_admin", "w_organization_social")


@dataclass
class Fault:
    """A fault to inject into the next request matching ``method`` and ``path``."""

    method: str
    path: str
    status: int | None = None
    body: Any = None
    raw: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_after: float = 0.0
    count: int | None = 1


@dataclass
class Org:
    """An organization Page of the emulator, with its member's tokens and client."""

    urn: str
    name: str
    token: str
    refresh_token: str
    client_id: str
    client_secret: str
    followers: int


class LinkedInEmulator:
    """The emulator's state and its aiohttp application."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.base_url = ""
        self.orgs: dict[str, Org] = {}
        self.tokens: dict[str, str] = {}  # access token -> organization URN
        self.expired: set[str] = set()
        self.posts: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.images: dict[str, dict[str, Any]] = {}
        #: video URN -> {status, owner, size, parts: {index: bytes}, etags: [..], bytes}
        self.videos: dict[str, dict[str, Any]] = {}
        #: bytes per upload part the emulator hands out (LinkedIn: 4 MiB)
        self.video_part_size = 4 * 1024 * 1024
        self.stats: dict[str, dict[str, int]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.ids = itertools.count(7_100_000_000_000_000_001)
        #: the scopes of a token, for token introspection (default: SCOPES)
        self.scopes: dict[str, list[str]] = {}

    # -- set-up --------------------------------------------------------------------------------

    def add_org(self, number: int, name: str, followers: int = 0) -> Org:
        """Add an organization Page the emulator knows."""
        org = Org(
            urn=f"urn:li:organization:{number}",
            name=name,
            token=f"AQV-emulated-{number}-{next(self.ids)}",
            refresh_token=f"AQW-refresh-{number}-{next(self.ids)}",
            client_id=f"client{number}",
            client_secret=f"secret-{number}-{next(self.ids)}",
            followers=followers,
        )
        self.orgs[org.urn] = org
        self.tokens[org.token] = org.urn
        return org

    def expire(self, token: str) -> None:
        """Make ``token`` answer 401 from now on (as LinkedIn does after 60 days)."""
        with self.lock:
            self.expired.add(token)

    def inject(self, method: str, path: str, **options: Any) -> None:
        """Make the next matching request fail as ``options`` say."""
        with self.lock:
            self.faults.append(Fault(method=method, path=path, **options))

    def clear(self) -> None:
        """Forget injected faults and the request log."""
        with self.lock:
            self.faults.clear()
            self.requests.clear()

    # -- application ---------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application; serve it and set ``base_url``."""
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 2**20)
        app.router.add_post("/rest/posts", self._create_post)
        app.router.add_get("/rest/posts/{urn}", self._get_post)
        app.router.add_delete("/rest/posts/{urn}", self._delete_post)
        app.router.add_post("/rest/images", self._initialize_upload)
        app.router.add_put("/dms-uploads/{image}", self._upload)
        app.router.add_post("/rest/videos", self._video_action)
        app.router.add_get("/rest/videos/{urn}", self._get_video)
        app.router.add_put("/dms-uploads/video/{key}/part/{index}", self._upload_part)
        app.router.add_get("/rest/socialActions/{target}/comments", self._list_comments)
        app.router.add_post("/rest/socialActions/{target}/comments", self._create_comment)
        app.router.add_delete("/rest/socialActions/{target}/comments/{id}", self._delete_comment)
        app.router.add_get("/rest/organizationalEntityShareStatistics", self._statistics)
        app.router.add_get("/rest/networkSizes/{urn}", self._network_size)
        app.router.add_get("/rest/organizationalEntityNotifications", self._notifications)
        app.router.add_post("/oauth/v2/accessToken", self._token)
        app.router.add_post("/oauth/v2/introspectToken", self._introspect)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        with self.lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.raw_path,
                    "headers": {k.lower(): v for k, v in request.headers.items()},
                }
            )
            fault = self._take_fault(request)
        if fault is not None and fault.delay_after == 0:
            if fault.raw is not None:
                return web.Response(
                    status=fault.status or 200, text=fault.raw, content_type="application/json"
                )
            return web.json_response(
                fault.body if fault.body is not None else {"message": "injected"},
                status=fault.status or 500,
                headers=fault.headers,
            )
        if request.path.startswith("/rest/"):
            refused = self._check_headers(request)
            if refused is not None:
                return refused
        response = await handler(request)
        if fault is not None:
            await asyncio.sleep(fault.delay_after)  # the work is done; the answer comes late
        return response

    def _take_fault(self, request: web.Request) -> Fault | None:
        for fault in self.faults:
            if fault.method == request.method and request.path.startswith(fault.path):
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def _check_headers(self, request: web.Request) -> web.Response | None:
        version = request.headers.get("LinkedIn-Version")
        if not version:
            return _error(
                400,
                "A version must be present. Please specify a version by adding "
                "the LinkedIn-Version header.",
                code="VERSION_MISSING",
            )
        if version not in SUPPORTED_VERSIONS:
            return _error(
                426, f"Requested version {version} is not active", code="NONEXISTENT_VERSION"
            )
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return _error(400, "this emulator requires X-Restli-Protocol-Version: 2.0.0")
        # Rest.li 2.0: URNs in the path are URL-encoded
        if re.search(r"/urn:li:", request.raw_path):
            return _error(400, "Syntax exception in path variables: encode the URN")
        return self._check_token(request)

    def _check_token(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or token not in self.tokens:
            return _error(401, "Invalid access token", service_code=65600)
        if token in self.expired:
            return _error(401, "The token used in the request has expired", service_code=65601)
        return None

    def _org_of(self, request: web.Request) -> str:
        return self.tokens[request.headers["Authorization"].removeprefix("Bearer ")]

    # -- posts ---------------------------------------------------------------------------------

    async def _create_post(self, request: web.Request) -> web.Response:
        body = await request.json()
        author = body.get("author")
        if author != self._org_of(request):
            return _error(403, f"Not enough permissions to post as {author}")
        commentary = body.get("commentary", "")
        if (
            body.get("visibility") != "PUBLIC"
            or body.get("lifecycleState") != "PUBLISHED"
            or body.get("distribution", {}).get("feedDistribution") != "MAIN_FEED"
            or not isinstance(commentary, str)
        ):
            return _error(422, "invalid post", code="UNPROCESSABLE_ENTITY")
        content = body.get("content")
        if content is not None:
            images = [content["media"]] if "media" in content else content["multiImage"]["images"]
            for image in images:
                held = self.videos if image["id"].startswith("urn:li:video:") else self.images
                if held.get(image["id"], {}).get("status") != "AVAILABLE":
                    return _error(400, f"media {image['id']} is not uploaded")
        with self.lock:
            for urn, existing in self.posts.items():
                if existing["author"] == author and existing["commentary"] == commentary:
                    return web.json_response(
                        {
                            "errorDetailType": "com.linkedin.common.error.BadRequest",
                            "message": "com.linkedin.content.common.exception."
                            f"BadRequestResponseException: Content is a duplicate of {urn}",
                            "errorDetails": {
                                "inputErrors": [
                                    {
                                        "description": "Duplicate post is detected",
                                        "input": {},
                                        "code": "DUPLICATE_POST",
                                    }
                                ]
                            },
                            "status": 422,
                        },
                        status=422,
                    )
            urn = f"urn:li:share:{next(self.ids)}"
            now = int(time.time() * 1000)
            stored = dict(body)
            stored.update(
                id=urn,
                sent_commentary=commentary,
                commentary=little_prefix(commentary),
                createdAt=now,
                publishedAt=now,
                lastModifiedAt=now,
            )
            self.posts[urn] = stored
            self.stats[urn] = {
                "impressionCount": 0,
                "uniqueImpressionsCount": 0,
                "likeCount": 0,
                "commentCount": 0,
                "shareCount": 0,
                "clickCount": 0,
            }
            for _name, mentioned in _MENTION.findall(stored["commentary"]):
                if mentioned.startswith("urn:li:organization:"):
                    self.notifications.append(
                        {
                            "action": "SHARE_MENTION",
                            "organizationalEntity": mentioned,
                            "sourcePost": urn,
                            "lastModifiedAt": now,
                        }
                    )
        return web.Response(status=201, headers={"x-restli-id": urn})

    async def _get_post(self, request: web.Request) -> web.Response:
        post = self.posts.get(request.match_info["urn"])
        if post is None:
            return _error(404, "Not Found")
        shown = {k: v for k, v in post.items() if k != "sent_commentary"}
        return web.json_response(shown)

    async def _delete_post(self, request: web.Request) -> web.Response:
        urn = request.match_info["urn"]
        with self.lock:
            post = self.posts.get(urn)
            if post is None:
                return _error(404, "Not Found")
            if post["author"] != self._org_of(request):
                return _error(403, "Not enough permissions to delete this post")
            del self.posts[urn]
        return web.Response(status=204)

    # -- images --------------------------------------------------------------------------------

    async def _initialize_upload(self, request: web.Request) -> web.Response:
        if request.query.get("action") != "initializeUpload":
            return _error(400, "unknown action")
        body = await request.json()
        owner = body.get("initializeUploadRequest", {}).get("owner")
        if owner != self._org_of(request):
            return _error(403, f"Not enough permissions to upload as {owner}")
        key = f"D4E10AQ{next(self.ids)}"
        urn = f"urn:li:image:{key}"
        with self.lock:
            self.images[urn] = {"status": "WAITING_UPLOAD", "owner": owner, "bytes": b""}
        return web.json_response(
            {
                "value": {
                    "uploadUrlExpiresAt": int(time.time() * 1000) + 3_600_000,
                    "uploadUrl": f"{self.base_url}/dms-uploads/{key}?ca=vector_ads&cn=uploads",
                    "image": urn,
                }
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        refused = self._check_token(request)
        if refused is not None:
            return refused
        urn = f"urn:li:image:{request.match_info['image']}"
        data = await request.read()
        with self.lock:
            image = self.images.get(urn)
            if image is None:
                return _error(404, "no such upload")
            image.update(status="AVAILABLE", bytes=data)
        return web.Response(status=201)

    # -- videos (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/
    #    shares/videos-api): initializeUpload, PUT each part (answered with an ETag),
    #    finalizeUpload with the ETags in order, GET the video's status) --------------------------

    async def _video_action(self, request: web.Request) -> web.Response:
        action = request.query.get("action")
        body = await request.json()
        if action == "initializeUpload":
            asked = body.get("initializeUploadRequest", {})
            owner, size = asked.get("owner"), asked.get("fileSizeBytes")
            if owner != self._org_of(request):
                return _error(403, f"Not enough permissions to upload as {owner}")
            if not isinstance(size, int) or size <= 0:
                return _error(400, "fileSizeBytes must be a positive number")
            key = f"C5505AQ{next(self.ids)}"
            urn = f"urn:li:video:{key}"
            step = self.video_part_size
            instructions = [
                {
                    "uploadUrl": f"{self.base_url}/dms-uploads/video/{key}/part/{n}",
                    "firstByte": first,
                    "lastByte": min(first + step, size) - 1,
                }
                for n, first in enumerate(range(0, size, step))
            ]
            with self.lock:
                self.videos[urn] = {
                    "status": "WAITING_UPLOAD",
                    "owner": owner,
                    "size": size,
                    "parts": {},
                    "etags": {},
                    "bytes": b"",
                }
            return web.json_response(
                {
                    "value": {
                        "uploadUrlsExpireAt": int(time.time() * 1000) + 3_600_000,
                        "video": urn,
                        "uploadInstructions": instructions,
                        "uploadToken": "",
                    }
                }
            )
        if action == "finalizeUpload":
            asked = body.get("finalizeUploadRequest", {})
            with self.lock:
                video = self.videos.get(asked.get("video"))
                if video is None:
                    return _error(404, "no such video")
                parts = sorted(video["parts"])
                etags = [video["etags"][n] for n in parts]
                if (
                    asked.get("uploadedPartIds") != etags
                    or sum(len(video["parts"][n]) for n in parts) != video["size"]
                ):
                    return _error(400, "uploadedPartIds do not match the uploaded parts")
                video.update(status="AVAILABLE", bytes=b"".join(video["parts"][n] for n in parts))
            return web.json_response({})
        return _error(400, "unknown action")

    async def _upload_part(self, request: web.Request) -> web.Response:
        refused = self._check_token(request)
        if refused is not None:
            return refused
        urn = f"urn:li:video:{request.match_info['key']}"
        index = int(request.match_info["index"])
        data = await request.read()
        with self.lock:
            video = self.videos.get(urn)
            if video is None:
                return _error(404, "no such upload")
            video["parts"][index] = data
            etag = f"/ambry-video/signedId/{hashlib.sha256(data).hexdigest()[:24]}"
            video["etags"][index] = etag
        return web.Response(status=200, headers={"ETag": etag})

    async def _get_video(self, request: web.Request) -> web.Response:
        with self.lock:
            video = self.videos.get(request.match_info["urn"])
            if video is None:
                return _error(404, "no such video")
            return web.json_response(
                {
                    "id": request.match_info["urn"],
                    "owner": video["owner"],
                    "status": video["status"],
                }
            )

    # -- comments ------------------------------------------------------------------------------

    async def _create_comment(self, request: web.Request) -> web.Response:
        target = request.match_info["target"]
        body = await request.json()
        actor = body.get("actor")
        if actor != self._org_of(request):
            return _error(403, f"Not enough permissions to comment as {actor}")
        obj = body.get("object")
        parent = body.get("parentComment")
        text = (body.get("message") or {}).get("text")
        if obj not in self.posts or not isinstance(text, str):
            return _error(400, "object must be an existing post and message.text a string")
        if len(text.encode("utf-16-le")) // 2 > 1250:
            # the 1,250-character comment limit third-party references agree on; LinkedIn's
            # own wording of the refusal is not published, so this message is the emulator's
            return _error(422, "message.text is longer than 1250 characters")
        if target.startswith("urn:li:comment:"):
            if parent != target or target not in self.comments:
                return _error(400, "a nested comment names its parent in the path and body")
        elif target != obj or parent is not None:
            return _error(400, "the path names the object commented on")
        with self.lock:
            native = str(next(self.ids))
            urn = f"urn:li:comment:({obj},{native})"
            now = int(time.time() * 1000)
            comment = {
                "actor": actor,
                "agent": actor,
                "object": obj,
                "message": {"text": text, "attributes": []},
                "id": native,
                "commentUrn": urn,
                "$URN": urn,
                "created": {"actor": actor, "time": now},
                "lastModified": {"actor": actor, "time": now},
                "commentsSummary": {"aggregatedTotalComments": 0, "selectedComments": []},
            }
            if parent is not None:
                comment["parentComment"] = parent
                summary = self.comments[parent]["commentsSummary"]
                summary["aggregatedTotalComments"] += 1
            self.comments[urn] = comment
            self.stats[obj]["commentCount"] += 1
        return web.json_response(comment, status=201, headers={"x-restli-id": native})

    async def _list_comments(self, request: web.Request) -> web.Response:
        target = request.match_info["target"]
        if target.startswith("urn:li:comment:"):
            found = [c for c in self.comments.values() if c.get("parentComment") == target]
        else:
            found = [
                c
                for c in self.comments.values()
                if c["object"] == target and "parentComment" not in c
            ]
        start = int(request.query.get("start", "0"))
        count = int(request.query.get("count", "10"))
        page = found[start : start + count]
        return web.json_response(
            {
                "paging": {"start": start, "count": count, "total": len(found), "links": []},
                "elements": page,
            }
        )

    async def _delete_comment(self, request: web.Request) -> web.Response:
        obj = request.match_info["target"]
        urn = f"urn:li:comment:({obj},{request.match_info['id']})"
        actor = request.query.get("actor")
        with self.lock:
            comment = self.comments.get(urn)
            if comment is None:
                return _error(404, "Not Found")
            if actor != comment["actor"] or actor != self._org_of(request):
                return _error(403, "Not enough permissions to delete this comment")
            del self.comments[urn]
        return web.Response(status=204)

    # -- statistics, followers, notifications --------------------------------------------------

    async def _statistics(self, request: web.Request) -> web.Response:
        query = request.query
        org = query.get("organizationalEntity")
        if query.get("q") != "organizationalEntity" or org != self._org_of(request):
            return _error(403, "Not enough permissions to access share statistics")
        elements = []
        for parameter, key in (("shares", "share"), ("ugcPosts", "ugcPost")):
            listed = query.get(parameter)
            if listed is None:
                continue
            if not (listed.startswith("List(") and listed.endswith(")")):
                return _error(400, f"{parameter} must be a List(...)")
            for urn in listed[5:-1].split(","):
                post = self.posts.get(unquote(urn))
                if post is None or post["author"] != org:
                    continue
                stats: dict[str, float] = dict(self.stats[post["id"]])
                stats["engagement"] = 0.0
                elements.append(
                    {"totalShareStatistics": stats, key: post["id"], "organizationalEntity": org}
                )
        return web.json_response(
            {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements}
        )

    async def _network_size(self, request: web.Request) -> web.Response:
        if request.query.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
            return _error(400, "edgeType must be COMPANY_FOLLOWED_BY_MEMBER")
        org = self.orgs.get(request.match_info["urn"])
        if org is None:
            return _error(404, "Not Found")
        return web.json_response({"firstDegreeSize": org.followers})

    async def _notifications(self, request: web.Request) -> web.Response:
        query = request.query
        org = query.get("organizationalEntity")
        if query.get("q") != "criteria" or org != self._org_of(request):
            return _error(403, "Not enough permissions to access notifications")
        actions = query.get("actions", "")
        wanted = set(actions[5:-1].split(",")) if actions.startswith("List(") else set()
        # a Rest.li object: its keys in any order (LinkedIn's own client sorts them)
        pairs = re.fullmatch(r"\((\w+):(\d+),(\w+):(\d+)\)", query.get("timeRange", ""))
        span = {pairs[1]: int(pairs[2]), pairs[3]: int(pairs[4])} if pairs else {}
        if set(span) != {"start", "end"}:
            return _error(400, "timeRange must be (start:...,end:...)")
        start_ms, end_ms = span["start"], span["end"]
        found = [
            n
            for n in self.notifications
            if n["organizationalEntity"] == org
            and n["action"] in wanted
            and start_ms <= n["lastModifiedAt"] <= end_ms
        ]
        start = int(query.get("start", "0"))
        count = int(query.get("count", "10"))
        return web.json_response(
            {"paging": {"start": start, "count": count}, "elements": found[start : start + count]}
        )

    # -- OAuth ---------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        for org in self.orgs.values():
            if (
                form.get("grant_type") == "refresh_token"
                and form.get("refresh_token") == org.refresh_token
                and form.get("client_id") == org.client_id
                and form.get("client_secret") == org.client_secret
            ):
                with self.lock:
                    token = f"AQV-refreshed-{next(self.ids)}"
                    self.tokens[token] = org.urn
                return web.json_response(
                    {
                        "access_token": token,
                        "expires_in": 5184000,
                        "refresh_token": org.refresh_token,
                        "refresh_token_expires_in": 31_000_000,
                    }
                )
        return web.json_response(
            {
                "error": "invalid_request",
                "error_description": "The provided authorization grant or refresh token is "
                "invalid, expired or revoked",
            },
            status=400,
        )

    async def _introspect(self, request: web.Request) -> web.Response:
        """``POST /oauth/v2/introspectToken`` (client_id, client_secret, token), answered as
        https://learn.microsoft.com/en-us/linkedin/shared/authentication/token-introspection
        describes: ``active``, ``status``, ``scope`` (comma-separated), ``expires_at``..."""
        form = await request.post()
        org = next(
            (
                o
                for o in self.orgs.values()
                if form.get("client_id") == o.client_id
                and form.get("client_secret") == o.client_secret
            ),
            None,
        )
        if org is None:
            return web.json_response(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                status=401,
            )
        token = str(form.get("token", ""))
        if token not in self.tokens or token in self.expired:
            return web.json_response({"active": False})
        now = int(time.time())
        return web.json_response(
            {
                "active": True,
                "client_id": org.client_id,
                "authorized_at": now - 86400,
                "created_at": now - 86400,
                "status": "active",
                "expires_at": now + 59 * 86400,
                "scope": ",".join(self.scopes.get(token, SCOPES)),
                "auth_type": "3L",
            }
        )

    # -- reading the state, for tests ----------------------------------------------------------

    def posts_of(self, org: str) -> list[dict[str, Any]]:
        """The posts authored by organization ``org`` (its URN)."""
        return [p for p in self.posts.values() if p["author"] == org]

    def api_requests(self) -> list[dict[str, Any]]:
        """The logged requests to the REST API (not to uploads)."""
        return [r for r in self.requests if r["path"].startswith("/rest/")]


def _error(
    status: int, message: str, *, code: str | None = None, service_code: int | None = None
) -> web.Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if code:
        body["code"] = code
    if service_code:
        body["serviceErrorCode"] = service_code
    return web.json_response(body, status=status)


class EmulatedLinkedIn:
    """The emulator served over HTTP, as a govsocial LocalServer with two Pages."""

    def __init__(self, emulator: LinkedInEmulator, base_url: str) -> None:
        self.emulator = emulator
        self.base_url = base_url
        self.kominfo = emulator.orgs["urn:li:organization:1001"]
        self.warga = emulator.orgs["urn:li:organization:2002"]

    def account(self, org: Org, **changes: str) -> Account:
        """The govsocial account of ``org``, with credentials changed by ``changes``."""
        credentials = {
            "organization": org.urn,
            "access_token": org.token,
            "refresh_token": org.refresh_token,
            "client_id": org.client_id,
            "client_secret": org.client_secret,
        }
        credentials.update(changes)
        return Account(
            platform="linkedin",
            handle=org.name,
            base_url=self.base_url,
            credentials=credentials,
        )

    @property
    def accounts(self) -> list[Account]:
        """The accounts of Dinas Kominfo and Warga Peduli."""
        return [self.account(self.kominfo), self.account(self.warga)]

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The post or comment as the emulator holds it (None: not there)."""
        stored = self.emulator.posts.get(ref.id) or self.emulator.comments.get(ref.id)
        return json.loads(json.dumps(stored, default=str)) if stored is not None else None

    def stored_text(self, stored: dict[str, Any]) -> str:
        """The text of a stored post or comment, without little-text escapes."""
        if "commentary" in stored:
            return little_plain(stored["commentary"])
        return str(stored["message"]["text"])

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        """The alt texts of a stored post's images."""
        content = stored.get("content") or {}
        images = (
            [content["media"]]
            if "media" in content
            else content.get("multiImage", {}).get("images", [])
        )
        return [image.get("altText", "") for image in images]

    def stored_media_kinds(self, stored: dict[str, Any]) -> list[str]:
        """``image`` or ``video`` for each stored media, by its URN."""
        content = stored.get("content") or {}
        media = (
            [content["media"]]
            if "media" in content
            else content.get("multiImage", {}).get("images", [])
        )
        return ["video" if m["id"].startswith("urn:li:video:") else "image" for m in media]

    def like(self, ref: PostRef, by: Account) -> None:
        """``by`` likes the post (its like count goes up)."""
        with self.emulator.lock:
            self.emulator.stats[ref.id]["likeCount"] += 1

    def mention(self, account: Account) -> str:
        """How a post mentions ``account``'s organization."""
        org = self.emulator.orgs[account.credential("organization")]
        return f"@[{org.name.replace(' ', '')}]({org.urn})"


def start(serve: Callable[[web.Application], str]) -> EmulatedLinkedIn:
    """The emulator with the Pages Dinas Kominfo (1001) and Warga Peduli (2002), served by
    ``serve`` (the ``emulators`` fixture's ``serve``), which returns the base URL."""
    emulator = LinkedInEmulator()
    emulator.add_org(1001, "Dinas Kominfo", followers=5120)
    emulator.add_org(2002, "Warga Peduli", followers=37)
    emulator.base_url = serve(emulator.app())
    return EmulatedLinkedIn(emulator, emulator.base_url)
