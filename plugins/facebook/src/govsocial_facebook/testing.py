"""A small stateful emulator of the Graph API endpoints the Facebook adapter uses.

Facebook has no local server, so the conformance suite and the failure tests talk real HTTP
to this aiohttp app (served with ``govsocial.testing.emulator.serve``). Its answers copy the
shapes of Meta's documentation:

- ``POST /{page-id}/feed`` -> ``{"id": "{page-id}_{post-id}"}``
  (https://developers.facebook.com/docs/pages-api/posts)
- ``POST /{page-id}/photos`` -> ``{"id": "{photo-id}", "post_id": "{page-id}_{post-id}"}``,
  ``published=false`` -> ``{"id": "{photo-id}"}``; ``attached_media`` on /feed
  (https://developers.facebook.com/docs/graph-api/reference/page/photos)
- ``POST /{object-id}/comments`` -> ``{"id": "{comment-id}"}``; ``GET`` with ``filter=stream``
  (https://developers.facebook.com/docs/graph-api/reference/object/comments)
- ``GET /{page-id}/tagged`` (https://developers.facebook.com/docs/graph-api/reference/page/tagged)
- ``GET /{post-id}/insights`` (https://developers.facebook.com/docs/graph-api/reference/insights):
  one unknown metric fails the whole request with code 100, as the real API does
- ``GET /?ids=a,b&fields=...`` (multiple-id lookup), ``GET /{id}?fields=...``, ``DELETE /{id}``;
  ``comments.filter(stream).order(reverse_chronological).limit(100){...}`` in ``fields``
  answers the edge's page (https://developers.facebook.com/docs/graph-api/guides/field-expansion)
- errors as ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``
  (https://developers.facebook.com/docs/graph-api/guides/error-handling)
- Page videos, Meta's resumable upload (https://developers.facebook.com/docs/graph-api/
  video-uploads, and the facebook-business SDK's ``video_uploader.py``): ``POST
  /{page-id}/videos`` ``upload_phase=start`` + ``file_size`` -> ``{"video_id",
  "upload_session_id", "start_offset", "end_offset"}``; ``upload_phase=transfer`` +
  ``upload_session_id`` + ``start_offset`` + the ``video_file_chunk`` file -> the next
  ``{"start_offset", "end_offset"}`` (equal once every byte is held); a transfer at another
  offset -> code 6001, subcode 1363037, with the wanted window in ``error_data``;
  ``upload_phase=finish`` + ``upload_session_id`` (+ ``description``, ``title``) ->
  ``{"success": true}``, which publishes the video
- Reels (https://developers.facebook.com/docs/video-api/guides/reels-publishing): ``POST
  /{page-id}/video_reels`` ``upload_phase=start`` -> ``{"video_id", "upload_url"}``; ``POST
  {upload_url}`` (``/video-upload/{version}/{video-id}``) with the headers ``Authorization:
  OAuth {token}``, ``offset`` and ``file_size`` and the bytes -> ``{"success": true}`` (an
  ``offset`` other than the bytes held is refused); ``upload_phase=finish`` + ``video_id`` +
  ``video_state=PUBLISHED`` (+ ``description``) -> ``{"success": true}``
- ``GET /{video-id}?fields=status`` -> ``{"status": {"video_status", "uploading_phase":
  {"status", "bytes_transferred"}, "processing_phase": {"status"}, "publishing_phase":
  {"status"}}}``; a finished video reads ``processing`` for ``processing_reads`` reads, then
  ``ready``

Each Page is an identity with its own token: the second Page plays the citizen who comments
on, tags and reacts to the first. A mention is ``@[{page-id}]`` in a message; the stored
message shows the Page's name instead, with ``message_tags`` (as Facebook renders it).
Faults (an error answer, a delay after the work is done) can be injected per path.
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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from govsocial.adapters import Account, PostRef

VERSION = re.compile(r"^v\d+\.\d+$")
MENTION = re.compile(r"@\[(\d+)\]")
INVALID_METRIC = "(#100) The value must be a valid insights metric"
DEFAULT_METRICS = frozenset({"post_media_view", "post_total_media_view_unique", "post_clicks"})
#: The fields (and edges) a ``fields=`` list may name on each kind of node, by the node type
#: Meta's SDK gives it; any other name is refused with code 100, as Graph refuses it. The
#: tests hold these sets against the facebook-business SDK, so the emulator cannot answer a
#: field Meta does not have.
READABLE_FIELDS: dict[str, frozenset[str]] = {
    "Page": frozenset({"id", "name", "followers_count", "fan_count"}),
    "PagePost": frozenset(
        {
            "id",
            "message",
            "message_tags",
            "from",
            "created_time",
            "permalink_url",
            "reactions",
            "comments",
            "shares",
        }
    ),
    "Photo": frozenset({"id", "name", "alt_text_custom"}),
    "AdVideo": frozenset(
        {
            "id",
            "description",
            "title",
            "status",
            "published",
            "permalink_url",
            "from",
            "created_time",
            "likes",
            "comments",
            "views",
        }
    ),
    "Comment": frozenset(
        {
            "id",
            "message",
            "message_tags",
            "from",
            "created_time",
            "permalink_url",
            "parent",
            "like_count",
            "comment_count",
        }
    ),
}
_NODE_TYPE = {"post": "PagePost", "photo": "Photo", "comment": "Comment", "video": "AdVideo"}
#: The subcode of a video transfer at an offset the upload did not ask for.
WRONG_OFFSET = 1363037


def graph_error(
    message: str, code: int, *, subcode: int | None = None, kind: str = "OAuthException"
) -> dict[str, Any]:
    """An error body shaped like the error-handling guide's example."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "AbCdEfGhIjK"
    return {"error": error}


@dataclass
class Fault:
    """An injected fault for requests whose method and path match."""

    method: str
    path: str  # a substring of the path after the version
    status: int = 500
    body: Any = None  # a dict (JSON), a str (sent raw), or None (no error: see delay)
    headers: dict[str, str] = field(default_factory=dict)
    count: int | None = 1  # None: every matching request
    delay: float = 0.0  # seconds to wait AFTER doing the work, before answering
    served: int = 0
    form: dict[str, str] = field(default_factory=dict)  # only requests with these fields


@dataclass
class Page:
    """A Facebook Page of the emulator: its id, name and Page access token."""

    id: str
    name: str
    token: str
    followers_count: int = 1200
    fan_count: int = 1100


@dataclass
class Seen:
    """One request as the emulator received it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    files: list[str]
    authorization: str | None
    headers: dict[str, str] = field(default_factory=dict)
    size: int = 0  # bytes of the body (a video chunk's length)


class GraphEmulator:
    """The emulator's state and its aiohttp app; serve ``app()`` and set ``base_url``."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.usage_headers: dict[str, str] = {}
        self.insights_metrics: set[str] = set(DEFAULT_METRICS)
        #: bytes per window of a Page video upload (Meta chooses them; the tests small)
        self.video_window = 1024 * 1024
        #: status reads a finished video stays "processing" before it is "ready"
        self.processing_reads = 1
        #: a finished video's processing fails (video_status "error")
        self.fail_processing = False
        self.base_url = ""
        #: the app's secret when "Require App Secret" is on: every call then needs
        #: appsecret_proof = hex HMAC-SHA256(app secret, token), else code 100 (None: off)
        self.app_secret: str | None = None
        self._ids = itertools.count(1000)
        self._clock = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)
        self._lock = threading.Lock()
        self.add_page("104000000000001", "Humas Kota Contoh", "EAAGfakeTokenHumas0001")
        self.add_page("104000000000002", "Warga Peduli", "EAAGfakeTokenWarga0002")

    # -- set-up and inspection (called from tests, another thread) --------------------------

    def add_page(self, page_id: str, name: str, token: str) -> Page:
        """Add a Page the emulator knows, with its Page access token."""
        page = Page(page_id, name, token)
        self.pages[page_id] = page
        return page

    def account(self, page_id: str) -> Account:
        """The govsocial account that publishes as Page ``page_id``."""
        page = self.pages[page_id]
        return Account(
            platform="facebook",
            handle=page.name.lower().replace(" ", "."),
            base_url=self.base_url,
            credentials={"page_id": page.id, "page_access_token": page.token},
        )

    @property
    def accounts(self) -> list[Account]:
        """An account for every Page, in the order they were added."""
        return [self.account(page_id) for page_id in self.pages]

    def reset(self) -> None:
        """Remove faults, usage headers and the request log; restore the insights metrics."""
        with self._lock:
            self.faults.clear()
            self.seen.clear()
            self.usage_headers = {}
            self.insights_metrics = set(DEFAULT_METRICS)
            self.app_secret = None
            self.expired_tokens.clear()
            self.video_window = 1024 * 1024
            self.processing_reads = 1
            self.fail_processing = False

    def inject(self, method: str, path: str, **kwargs: Any) -> Fault:
        """Make the next matching request fail or be delayed; returns the fault."""
        fault = Fault(method.upper(), path, **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        """The requests received, optionally only those of ``method`` and ``path``."""
        return [
            s
            for s in list(self.seen)
            if (method is None or s.method == method) and (path is None or path in s.path)
        ]

    def posts_of(self, page_id: str) -> list[dict[str, Any]]:
        """The live posts (not photos or comments) on ``page_id``'s feed, oldest first."""
        return [
            o
            for o in self.objects.values()
            if o["kind"] == "post" and o["page_id"] == page_id and o["id"] not in self.deleted
        ]

    def videos_of(self, page_id: str) -> list[dict[str, Any]]:
        """The published videos and Reels of ``page_id``, oldest first."""
        return [
            o
            for o in self.objects.values()
            if o["kind"] == "video"
            and o["page_id"] == page_id
            and o["published"]
            and o["id"] not in self.deleted
        ]

    def uploads_of(self, page_id: str) -> list[dict[str, Any]]:
        """Every video upload ``page_id`` started (published or not), oldest first."""
        return [
            o for o in self.objects.values() if o["kind"] == "video" and o["page_id"] == page_id
        ]

    def forget(self, video_id: str) -> None:
        """Meta forgets an unfinished upload (the session expired)."""
        with self._lock:
            self.objects.pop(video_id, None)

    def stored_media_kinds(self, stored: dict[str, Any]) -> list[str]:
        """What media a stored post holds: ``["video"]`` for a video or Reel."""
        if stored["kind"] == "video":
            return ["video"]
        return ["image" for _ in stored.get("attached_media", [])]

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The post as the emulator holds it (None: deleted or never made)."""
        found = self.objects.get(ref.id)
        if found is None or ref.id in self.deleted:
            return None
        return found

    def stored_text(self, stored: dict[str, Any]) -> str:
        """The text of a stored post (a video's description)."""
        return str(stored.get("message") or stored.get("description") or "")

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        """The alt texts of a stored post's photos."""
        photos = [self.objects[i] for i in stored.get("attached_media", [])]
        return [str(p.get("alt_text_custom") or "") for p in photos]

    def like(self, ref: PostRef, by: Account) -> None:
        """``by`` (a Page) reacts to the post."""
        self.objects[ref.id]["reactions"].append(by.credential("page_id"))

    def mention(self, account: Account) -> str:
        """How a post tags ``account``'s Page."""
        return f"@[{account.credential('page_id')}]"

    # -- serving ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application answering every Graph path; serve it and set ``base_url``."""
        app = web.Application(client_max_size=20 * 2**20)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if len(parts) == 3 and parts[0] == "video-upload" and VERSION.match(parts[1]):
            return await self._rupload(request, parts[2])
        if not parts or not VERSION.match(parts[0]):
            return _json(graph_error("Unknown path components", 2500), 400)
        path = "/" + "/".join(parts[1:])
        form, files, blobs = await _read_form(request)
        query = dict(request.query)
        self.seen.append(
            Seen(
                request.method,
                path,
                query,
                form,
                files,
                request.headers.get("Authorization"),
                size=sum(len(b) for b in blobs.values()),
            )
        )
        fault = self._fault(request.method, path, form)
        if fault is not None and fault.body is not None:
            return _answer(fault.body, fault.status, {**self.usage_headers, **fault.headers})
        token = _token(request, query, form)
        page = next((p for p in self.pages.values() if p.token == token), None)
        if token in self.expired_tokens:
            body = graph_error(
                "Error validating access token: Session has expired on Friday, 31-Jul-26 "
                "10:00:00 PDT. The current time is Saturday, 01-Aug-26 08:00:00 PDT.",
                190,
                subcode=463,
            )
            status = 400
        elif page is None:
            body, status = (
                graph_error("Invalid OAuth access token - Cannot parse access token", 190),
                400,
            )
        elif self.app_secret is not None and (refusal := self._proof_refusal(token, query, form)):
            body, status = refusal, 400
        else:
            with self._lock:
                body, status = self._route(
                    request.method, parts[1:], query, form, files, page, blobs
                )
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        return _answer(body, status, self.usage_headers)

    def _proof_refusal(
        self, token: str | None, query: dict[str, str], form: dict[str, str]
    ) -> dict[str, Any] | None:
        """Meta's answer to a call without the right appsecret_proof (None: it is right)."""
        assert self.app_secret is not None
        proof = query.get("appsecret_proof") or form.get("appsecret_proof")
        if proof is None:
            return graph_error(
                "API calls from the server require an appsecret_proof argument",
                100,
                kind="GraphMethodException",
            )
        key, message = self.app_secret.encode(), (token or "").encode()
        if not hmac.compare_digest(proof, hmac.new(key, message, hashlib.sha256).hexdigest()):
            return graph_error(
                "Invalid appsecret_proof provided in the API argument",
                100,
                kind="GraphMethodException",
            )
        return None

    def _fault(self, method: str, path: str, form: dict[str, str] | None = None) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.form and any((form or {}).get(k) != v for k, v in fault.form.items()):
                    continue
                if fault.method == method and fault.path in path:
                    if fault.count is not None and fault.served >= fault.count:
                        continue
                    fault.served += 1
                    return fault
        return None

    # -- the Graph API ---------------------------------------------------------------------

    def _route(
        self,
        method: str,
        parts: list[str],
        query: dict[str, str],
        form: dict[str, str],
        files: list[str],
        me: Page,
        blobs: dict[str, bytes] | None = None,
    ) -> tuple[Any, int]:
        if method == "GET" and not parts:
            return self._multi(query, me)
        if len(parts) == 1:
            if method == "GET":
                return self._node(parts[0], query.get("fields", ""), me)
            if method == "DELETE":
                return self._delete(parts[0], me)
        if len(parts) == 2:
            object_id, edge = parts
            if method == "POST" and edge == "feed":
                return self._create_post(object_id, form, me)
            if method == "POST" and edge == "photos":
                return self._create_photo(object_id, form, files, me)
            if method == "POST" and edge == "videos":
                return self._page_video(object_id, form, blobs or {}, me)
            if method == "POST" and edge == "video_reels":
                return self._reel(object_id, form, me)
            if method == "POST" and edge == "comments":
                return self._create_comment(object_id, form, me)
            if method == "GET" and edge == "comments":
                return self._list_comments(object_id, query)
            if method == "GET" and edge == "insights":
                return self._insights(object_id, query)
            if method == "GET" and edge == "tagged":
                return self._tagged(object_id, query)
        return graph_error(
            f"Unsupported {method} request.", 100, subcode=33, kind="GraphMethodException"
        ), 400

    def _now(self) -> str:
        self._clock += timedelta(seconds=1)
        return self._clock.strftime("%Y-%m-%dT%H:%M:%S+0000")

    def _new_id(self) -> str:
        return str(next(self._ids))

    def _missing(self, object_id: str) -> tuple[Any, int]:
        return (
            graph_error(
                f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot "
                "be loaded due to missing permissions, or does not support this operation.",
                100,
                subcode=33,
                kind="GraphMethodException",
            ),
            400,
        )

    def _live(self, object_id: str) -> dict[str, Any] | None:
        found = self.objects.get(object_id)
        return None if found is None or object_id in self.deleted else found

    def _author(self, page: Page) -> dict[str, str]:
        return {"id": page.id, "name": page.name}

    def _render(self, message: str) -> tuple[str, list[dict[str, Any]]]:
        """``@[id]`` replaced by the Page's name, with ``message_tags`` pointing at it."""
        tags: list[dict[str, Any]] = []
        out = ""
        last = 0
        for match in MENTION.finditer(message):
            page = self.pages.get(match.group(1))
            if page is None:
                continue
            out += message[last : match.start()]
            tags.append(
                {
                    "id": page.id,
                    "name": page.name,
                    "type": "page",
                    "offset": len(out),
                    "length": len(page.name),
                }
            )
            out += page.name
            last = match.end()
        return out + message[last:], tags

    def _create_post(self, page_id: str, form: dict[str, str], me: Page) -> tuple[Any, int]:
        if page_id != me.id:
            return graph_error(
                "(#200) The user hasn't authorized the application to perform this action", 200
            ), 403
        attached: list[str] = []
        for key in sorted(k for k in form if k.startswith("attached_media[")):
            try:
                fbid = str(json.loads(form[key])["media_fbid"])
            except (ValueError, KeyError, TypeError):
                return graph_error("(#100) param attached_media must be an array.", 100), 400
            photo = self.objects.get(fbid)
            if (
                photo is None
                or photo["kind"] != "photo"
                or photo["page_id"] != me.id
                or photo["published"]
            ):
                return graph_error(f"(#100) Invalid media_fbid {fbid}", 100), 400
            attached.append(fbid)
        message = form.get("message", "")
        if not message and not attached:
            return graph_error("(#100) Missing message or attachment", 100), 400
        post = self._store_post(me, message, attached)
        for fbid in attached:
            self.objects[fbid]["post_id"] = post["id"]
        return {"id": post["id"]}, 200

    def _store_post(self, me: Page, message: str, attached: list[str]) -> dict[str, Any]:
        text, tags = self._render(message)
        post_id = f"{me.id}_{self._new_id()}"
        post: dict[str, Any] = {
            "id": post_id,
            "kind": "post",
            "page_id": me.id,
            "from": self._author(me),
            "message": text,
            "message_tags": tags,
            "created_time": self._now(),
            "attached_media": attached,
            "reactions": [],
            "shares": 0,
            "permalink_url": f"https://www.facebook.com/{me.id}/posts/{post_id.split('_')[1]}",
        }
        self.objects[post_id] = post
        return post

    def _create_photo(
        self, page_id: str, form: dict[str, str], files: list[str], me: Page
    ) -> tuple[Any, int]:
        if page_id != me.id:
            return graph_error("(#200) Permissions error", 200), 403
        if "source" not in files and not form.get("url"):
            return graph_error("(#324) Requires upload file", 324), 400
        published = form.get("published", "true").lower() != "false"
        photo_id = self._new_id()
        caption = form.get("caption", form.get("message", ""))
        photo: dict[str, Any] = {
            "id": photo_id,
            "kind": "photo",
            "page_id": me.id,
            "published": published,
            "name": caption,
            "alt_text_custom": form.get("alt_text_custom", ""),
            "url": form.get("url"),
            "uploaded": "source" in files,
        }
        self.objects[photo_id] = photo
        if not published:
            return {"id": photo_id}, 200
        post = self._store_post(me, caption, [photo_id])
        photo["post_id"] = post["id"]
        return {"id": photo_id, "post_id": post["id"]}, 200

    # -- videos and Reels ----------------------------------------------------------------------

    def _new_video(self, me: Page, kind: str, size: int | None) -> dict[str, Any]:
        video_id = self._new_id()
        video: dict[str, Any] = {
            "id": video_id,
            "kind": "video",
            "format": kind,
            "page_id": me.id,
            "from": self._author(me),
            "size": size,
            "data": bytearray(),
            "session": self._new_id() if kind == "video" else None,
            "published": False,
            "finished": False,
            "processing_left": 0,
            "description": "",
            "title": "",
            "created_time": self._now(),
            "reactions": [],
            "permalink_url": f"https://www.facebook.com/{me.id}/videos/{video_id}"
            if kind == "video"
            else f"https://www.facebook.com/reel/{video_id}",
        }
        self.objects[video_id] = video
        return video

    def _window(self, video: dict[str, Any]) -> dict[str, str]:
        start = len(video["data"])
        end = min(start + self.video_window, video["size"])
        return {"start_offset": str(start), "end_offset": str(end)}

    def _page_video(
        self, page_id: str, form: dict[str, str], blobs: dict[str, bytes], me: Page
    ) -> tuple[Any, int]:
        """``/{page-id}/videos`` in its three upload phases (video-uploads guide)."""
        if page_id != me.id:
            return graph_error("(#200) Permissions error", 200), 403
        phase = form.get("upload_phase")
        if phase == "start":
            size = form.get("file_size", "")
            if not size.isdigit() or int(size) == 0:
                return graph_error("(#100) file_size must be a positive integer", 100), 400
            made = self._new_video(me, "video", int(size))
            return {"video_id": made["id"], "upload_session_id": made["session"]} | (
                self._window(made)
            ), 200
        video: dict[str, Any] | None = next(
            (
                o
                for o in self.objects.values()
                if o["kind"] == "video" and o["session"] == form.get("upload_session_id")
            ),
            None,
        )
        if video is None or video["page_id"] != me.id:
            return graph_error("(#100) Invalid upload_session_id", 100), 400
        if phase == "transfer":
            chunk = blobs.get("video_file_chunk")
            if chunk is None:
                return graph_error("(#100) video_file_chunk is required", 100), 400
            held = len(video["data"])
            if form.get("start_offset") != str(held) or held + len(chunk) > video["size"]:
                error = graph_error(
                    "There was a problem uploading your video file. Please try again.",
                    6001,
                    subcode=WRONG_OFFSET,
                )
                error["error"]["error_data"] = self._window(video)
                return error, 400
            video["data"] += chunk
            return self._window(video), 200
        if phase == "finish":
            if len(video["data"]) != video["size"]:
                return graph_error("(#100) The video file is incomplete", 100), 400
            if video["finished"]:
                return graph_error("(#100) This upload session was already finished", 100), 400
            video["description"] = form.get("description", "")
            video["title"] = form.get("title", "")
            self._finish(video)
            return {"success": True}, 200
        return graph_error("(#100) This emulator takes resumable uploads only", 100), 400

    def _reel(self, page_id: str, form: dict[str, str], me: Page) -> tuple[Any, int]:
        """``/{page-id}/video_reels``: start and finish (Reels Publishing API)."""
        if page_id != me.id:
            return graph_error("(#200) Permissions error", 200), 403
        phase = form.get("upload_phase")
        if phase == "start":
            made = self._new_video(me, "reel", None)
            url = f"{self.base_url}/video-upload/v26.0/{made['id']}"
            return {"video_id": made["id"], "upload_url": url}, 200
        video = self.objects.get(form.get("video_id", ""))
        if video is None or video["kind"] != "video" or video["page_id"] != me.id:
            return self._missing(form.get("video_id", ""))
        if phase == "finish":
            if video["size"] is None or len(video["data"]) != video["size"]:
                return graph_error("(#100) The video has not been uploaded", 100), 400
            if form.get("video_state") != "PUBLISHED":
                return graph_error("(#100) video_state must be PUBLISHED here", 100), 400
            if video["finished"]:
                return graph_error("(#100) The video was already published", 100), 400
            video["description"] = form.get("description", "")
            self._finish(video)
            return {"success": True}, 200
        return graph_error("(#100) upload_phase must be start or finish", 100), 400

    def _finish(self, video: dict[str, Any]) -> None:
        video["finished"] = True
        video["published"] = True
        video["processing_left"] = self.processing_reads
        video["failed"] = self.fail_processing

    async def _rupload(self, request: web.Request, video_id: str) -> web.StreamResponse:
        """``POST rupload.facebook.com/video-upload/{version}/{video-id}``."""
        data = await request.read()
        path = f"/video-upload/{video_id}"
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.seen.append(
            Seen(
                request.method,
                path,
                dict(request.query),
                {},
                [],
                request.headers.get("Authorization"),
                headers=headers,
                size=len(data),
            )
        )
        fault = self._fault(request.method, path)
        if fault is not None and fault.body is not None:
            return _answer(fault.body, fault.status, fault.headers)
        authorization = request.headers.get("Authorization", "")
        token = authorization[6:] if authorization.startswith("OAuth ") else None
        with self._lock:
            video = self.objects.get(video_id)
            page = next((p for p in self.pages.values() if p.token == token), None)
            if page is None:
                body: Any = graph_error("Invalid OAuth access token", 190)
                status = 400
            elif video is None or video["kind"] != "video" or video["page_id"] != page.id:
                body, status = self._missing(video_id)
            else:
                offset, size = headers.get("offset", ""), headers.get("file_size", "")
                held = len(video["data"])
                if not offset.isdigit() or not size.isdigit():
                    body, status = graph_error("offset and file_size headers needed", 100), 400
                elif int(offset) != held or held + len(data) > int(size):
                    body = {
                        "debug_info": {
                            "retriable": False,
                            "type": "ProcessingFailedError",
                            "message": f"offset {offset} does not follow {held}",
                        }
                    }
                    status = 400
                elif video["size"] not in (None, int(size)):
                    body, status = graph_error("file_size changed", 100), 400
                else:
                    video["size"] = int(size)
                    video["data"] += data
                    body, status = {"success": True}, 200
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        return _answer(body, status, {})

    def _video_status(self, video: dict[str, Any]) -> dict[str, Any]:
        held = len(video["data"])
        complete = video["size"] is not None and held == video["size"]
        uploading = {"status": "complete" if complete else "in_progress", "bytes_transferred": held}
        if not video["finished"]:
            processing, publishing, overall = "not_started", "not_started", "processing"
        elif video.get("failed"):
            processing, publishing, overall = "error", "not_started", "error"
        elif video["processing_left"] > 0:
            video["processing_left"] -= 1
            processing, publishing, overall = "in_progress", "not_started", "processing"
        else:
            processing, publishing, overall = "complete", "complete", "ready"
        return {
            "video_status": overall,
            "uploading_phase": uploading,
            "processing_phase": {"status": processing},
            "publishing_phase": {"status": publishing},
        }

    def _create_comment(self, object_id: str, form: dict[str, str], me: Page) -> tuple[Any, int]:
        target = self._live(object_id)
        if target is None:
            return self._missing(object_id)
        message = form.get("message", "")
        if not message:
            return graph_error("(#100) Missing message", 100), 400
        text, tags = self._render(message)
        root = target["post_id"] if target["kind"] == "comment" else object_id
        comment_id = f"{root.split('_')[-1]}_{self._new_id()}"
        self.objects[comment_id] = {
            "id": comment_id,
            "kind": "comment",
            "on": object_id,
            "post_id": root,
            "parent": object_id if target["kind"] == "comment" else None,
            "from": self._author(me),
            "message": text,
            "message_tags": tags,
            "created_time": self._now(),
            "likes": [],
            "permalink_url": f"https://www.facebook.com/{root}?comment_id={comment_id}",
        }
        return {"id": comment_id}, 200

    def _delete(self, object_id: str, me: Page) -> tuple[Any, int]:
        target = self._live(object_id)
        if target is None:
            return self._missing(object_id)
        owner = target["from"]["id"] if "from" in target else target["page_id"]
        if owner != me.id:
            return graph_error("(#200) Permissions error", 200), 403
        self.deleted.add(object_id)
        return {"success": True}, 200

    def _comments_below(self, object_id: str, stream: bool) -> list[dict[str, Any]]:
        live = [
            o
            for o in self.objects.values()
            if o["kind"] == "comment" and o["id"] not in self.deleted
        ]
        if not stream:
            return [o for o in live if o["on"] == object_id]
        target = self.objects.get(object_id)
        if target is not None and target["kind"] == "comment":
            return [o for o in live if o["parent"] == object_id]
        return [o for o in live if o["post_id"] == object_id]

    def _list_comments(self, object_id: str, query: dict[str, str]) -> tuple[Any, int]:
        if self._live(object_id) is None:
            return self._missing(object_id)
        stream = query.get("filter") == "stream"
        items = [self._comment_view(c, stream) for c in self._comments_below(object_id, stream)]
        if query.get("order") == "reverse_chronological":
            items.reverse()
        return self._paged(items, query, f"/{object_id}/comments")

    def _comment_view(self, comment: dict[str, Any], with_parent: bool) -> dict[str, Any]:
        view = {k: comment[k] for k in ("id", "message", "from", "created_time", "permalink_url")}
        if with_parent and comment["parent"] is not None:
            view["parent"] = {"id": comment["parent"]}
        return view

    def _tagged(self, page_id: str, query: dict[str, str]) -> tuple[Any, int]:
        if page_id not in self.pages:
            return self._missing(page_id)
        since = int(query["since"]) if query.get("since", "").isdigit() else None
        items = []
        for post in reversed(list(self.objects.values())):  # newest first, like a feed
            if post["kind"] != "post" or post["id"] in self.deleted:
                continue
            if not any(tag["id"] == page_id for tag in post["message_tags"]):
                continue
            created = datetime.strptime(post["created_time"], "%Y-%m-%dT%H:%M:%S%z")
            if since is not None and created.timestamp() < since:
                continue
            items.append(
                {k: post[k] for k in ("id", "message", "from", "created_time", "permalink_url")}
            )
        return self._paged(items, query, f"/{page_id}/tagged")

    def _paged(
        self, items: list[dict[str, Any]], query: dict[str, str], path: str
    ) -> tuple[Any, int]:
        limit = int(query.get("limit", "25"))
        start = int(base64.b64decode(query["after"]).decode()) if query.get("after") else 0
        chunk = items[start : start + limit]
        body: dict[str, Any] = {"data": chunk}
        if chunk:
            before = base64.b64encode(str(start).encode()).decode()
            after = base64.b64encode(str(start + len(chunk)).encode()).decode()
            body["paging"] = {"cursors": {"before": before, "after": after}}
            if start + len(chunk) < len(items):
                token = next(iter(self.pages.values())).token
                # like Meta's, the next link carries an access_token in its query string
                body["paging"]["next"] = (
                    f"{self.base_url}/v26.0{path}?access_token={token}&limit={limit}&after={after}"
                )
        return body, 200

    def _insights(self, object_id: str, query: dict[str, str]) -> tuple[Any, int]:
        post = self._live(object_id)
        if post is None:
            return self._missing(object_id)
        metrics = [m for m in query.get("metric", "").split(",") if m]
        if not metrics:
            return graph_error(
                "No metric was specified to be fetched. Please specify one or more metrics "
                "to be fetched and try again.",
                3001,
                subcode=1504028,
            ), 400
        if any(m not in self.insights_metrics for m in metrics):
            return graph_error(INVALID_METRIC, 100), 400
        reactions = len(post.get("reactions", []))
        values = {
            "post_media_view": 100 + 10 * reactions,
            "post_total_media_view_unique": 60 + 5 * reactions,
            "post_clicks": 7,
        }
        data = [
            {
                "name": m,
                "period": query.get("period", "lifetime"),
                "values": [{"value": values.get(m, 0)}],
                "title": m.replace("_", " "),
                "description": f"Lifetime: {m}",
                "id": f"{object_id}/insights/{m}/lifetime",
            }
            for m in metrics
        ]
        return {"data": data}, 200

    def _multi(self, query: dict[str, str], me: Page) -> tuple[Any, int]:
        ids = [i for i in query.get("ids", "").split(",") if i]
        found: dict[str, Any] = {}
        for object_id in ids:
            body, status = self._node(object_id, query.get("fields", ""), me)
            if status != 200:
                return body, status
            found[object_id] = body
        return found, 200

    def _node(self, object_id: str, fields: str, me: Page) -> tuple[Any, int]:
        obj = self._live(object_id)
        node_type = "Page" if object_id in self.pages else _NODE_TYPE[obj["kind"]] if obj else ""
        for spec in _top_fields(fields) if node_type else []:
            name = re.split(r"[.{]", spec, maxsplit=1)[0]
            if name not in READABLE_FIELDS[node_type]:
                return graph_error(
                    f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})",
                    100,
                ), 400
        if object_id in self.pages:
            page = self.pages[object_id]
            node: dict[str, Any] = {"id": page.id}
            for name in _top_fields(fields):
                if name in ("followers_count", "fan_count", "name"):
                    node[name] = getattr(page, name)
            return node, 200
        if obj is None:
            return self._missing(object_id)
        node = {"id": object_id}
        for spec in _top_fields(fields):
            name = re.split(r"[.{]", spec, maxsplit=1)[0]
            if obj["kind"] == "post" and name == "reactions":
                node["reactions"] = {
                    "data": [],
                    "summary": {"total_count": len(obj["reactions"]), "viewer_reaction": "NONE"},
                }
            elif obj["kind"] == "post" and name == "comments" and "{" in spec:
                # field expansion: the edge's own page, modifiers as its parameters
                head = spec.split("{", 1)[0]
                query = dict(re.findall(r"\.(\w+)\(([^)]*)\)", head))
                node["comments"], _ = self._list_comments(object_id, query)
            elif obj["kind"] == "post" and name == "comments":
                stream = "filter(stream)" in spec
                count = len(self._comments_below(object_id, stream))
                node["comments"] = {
                    "data": [],
                    "summary": {"order": "ranked", "total_count": count, "can_comment": True},
                }
            elif obj["kind"] == "post" and name == "shares":
                if obj["shares"]:  # Facebook leaves the field out when there are none
                    node["shares"] = {"count": obj["shares"]}
            elif obj["kind"] == "video" and name == "status":
                node["status"] = self._video_status(obj)
            elif obj["kind"] == "video" and name in ("likes", "comments"):
                count = (
                    len(obj["reactions"])
                    if name == "likes"
                    else len(self._comments_below(object_id, False))
                )
                node[name] = {"data": [], "summary": {"total_count": count}}
            elif obj["kind"] == "video" and name == "views":
                node["views"] = 3 + len(obj["reactions"])
            elif obj["kind"] == "comment" and name == "like_count":
                node["like_count"] = len(obj["likes"])
            elif obj["kind"] == "comment" and name == "comment_count":
                node["comment_count"] = len(self._comments_below(object_id, False))
            elif name in obj and name not in ("kind", "page_id", "on", "data", "session"):
                node[name] = obj[name]
        return node, 200


def _top_fields(fields: str) -> list[str]:
    """``a,b.summary(x,y),c{d,e}`` split at top-level commas."""
    out, depth, current = [], 0, ""
    for char in fields:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if char == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += char
    if current:
        out.append(current)
    return [f.strip() for f in out if f.strip()]


def _token(request: web.Request, query: dict[str, str], form: dict[str, str]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:]
    if header.startswith("OAuth "):
        return header[6:]
    return query.get("access_token") or form.get("access_token")


async def _read_form(
    request: web.Request,
) -> tuple[dict[str, str], list[str], dict[str, bytes]]:
    if request.method not in ("POST", "DELETE"):
        return {}, [], {}
    content_type = request.content_type
    form: dict[str, str] = {}
    files: list[str] = []
    blobs: dict[str, bytes] = {}
    if content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            name = getattr(part, "name", None)
            if name is None:
                continue
            if getattr(part, "filename", None):
                blobs[name] = bytes(await part.read())  # type: ignore[union-attr]
                files.append(name)
            else:
                form[name] = await part.text()  # type: ignore[union-attr]
    elif content_type == "application/x-www-form-urlencoded":
        posted = await request.post()
        form = {k: str(v) for k, v in posted.items()}
    return form, files, blobs


def _json(body: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(body), status=status, content_type="application/json", headers=headers
    )


def _answer(body: Any, status: int, headers: dict[str, str]) -> web.Response:
    if isinstance(body, str):
        return web.Response(text=body, status=status, content_type="text/html", headers=headers)
    return _json(body, status, headers)
