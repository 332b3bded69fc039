"""A small stateful emulator of the YouTube Data API v3, for the adapter's tests and the demo.

It follows the discovery document of the API (the methods, paths, parameters and resource
shapes of ``youtube.v3.json``, which the tests use as an oracle: see :class:`Discovery`)
and the guides each handler names. It keeps what it was asked to do: resumable upload
sessions (``Content-Range`` chunks, ``308 Resume Incomplete`` with ``Range``, whole
256 KiB units kept of a cut chunk, the finished video answered again to a status query),
videos with their thumbnail, captions and playlist entries, comment threads, statistics,
OAuth tokens that expire (401) and are renewed at ``/token``, and the project's daily
quota (403 ``quotaExceeded`` in Google's error shape). Tests read what it stored, never
what the adapter says it sent.

Behaviour no Google page describes is marked "assumed".

- Resumable uploads: https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol
- Videos: https://developers.google.com/youtube/v3/docs/videos
- Thumbnails: https://developers.google.com/youtube/v3/docs/thumbnails/set
- Captions: https://developers.google.com/youtube/v3/docs/captions/insert
- Comments: https://developers.google.com/youtube/v3/docs/commentThreads, .../comments
- Errors: https://developers.google.com/youtube/v3/docs/errors
- Tokens: https://developers.google.com/identity/protocols/oauth2/web-server#offline
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.resources
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from govsocial.adapters import Account, PostRef

__all__ = ["Discovery", "Fault", "YouTubeEmulator", "local_server"]

_UNIT = 256 * 1024
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)|bytes \*/(\d+)")
HOUR = 3600.0


@dataclass
class Token:
    """An access token the emulator issued: its channel and expiry."""

    value: str
    channel: str
    expires_at: float


@dataclass
class Fault:
    """Answer the next ``count`` requests matching ``method`` and ``path`` (a regex on the
    path and query) with ``status``/``body``; with ``after``, run the real handler first
    and then hold the answer ``delay`` seconds (an answer lost in a crash or a timeout)."""

    method: str
    path: re.Pattern[str]
    status: int = 500
    body: Any = None
    count: int = 1
    after: bool = False
    delay: float = 0.0
    #: set to end a held answer early (a test that killed its client releases it)
    released: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Session:
    """A resumable upload session."""

    channel: str
    size: int
    metadata: dict[str, Any]
    notify: bool
    data: bytearray = field(default_factory=bytearray)
    video: dict[str, Any] | None = None


class YouTubeEmulator:
    """The emulator's state, its aiohttp app, and the test-side LocalServer view.

    :param unverified_project: uploads are locked private, as for an unverified API
        project created after 28 July 2020.
    """

    def __init__(self, *, unverified_project: bool = False) -> None:
        self.base_url = ""
        self.lock = threading.RLock()
        self.unverified_project = unverified_project
        self.client_id = "1234567890-emulator.apps.googleusercontent.com"
        self.client_secret = "GOCSPX-" + secrets.token_urlsafe(18)
        self.channels: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> channel
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.captions: dict[str, dict[str, Any]] = {}
        self.playlists: dict[str, list[str]] = {}
        self.thumbnails: dict[str, bytes] = {}
        self.faults: list[Fault] = []
        #: every request: (method, path, query, JSON body or None)
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.token_requests: list[dict[str, str]] = []
        #: the project's quota left today (units, and videos.insert calls)
        self.units_left = 10_000
        self.uploads_left = 100
        self._ids = itertools.count(1)
        self._accounts: list[Account] = []

    # -- set-up ------------------------------------------------------------------------------

    def add_channel(self, handle: str, *, subscribers: int = 0) -> Account:
        """A channel with a fresh access token (one hour) and a refresh token."""
        channel_id = "UC" + secrets.token_urlsafe(16)[:22]
        with self.lock:
            self.channels[channel_id] = {
                "id": channel_id,
                "handle": handle,
                "title": handle.lstrip("@"),
                "subscribers": subscribers,
                # channels.list status.longUploadsStatus: "allowed" once phone-verified
                "long_uploads": "allowed",
            }
            token = self.issue_token(channel_id)
            refresh = "1//" + secrets.token_urlsafe(30)
            self.refresh_tokens[refresh] = channel_id
        account = Account(
            platform="youtube",
            handle=handle,
            base_url=self.base_url,
            credentials={
                "access_token": token.value,
                "refresh_token": refresh,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "token_uri": f"{self.base_url}/token",
            },
        )
        self._accounts.append(account)
        return account

    def issue_token(self, channel: str, *, lifetime: float = HOUR) -> Token:
        """An access token for ``channel`` valid ``lifetime`` seconds."""
        token = Token("ya29." + secrets.token_urlsafe(32), channel, time.time() + lifetime)
        with self.lock:
            self.tokens[token.value] = token
        return token

    def expire(self, account: Account) -> None:
        """Make the account's current access token expired (its next call gets 401)."""
        with self.lock:
            self.tokens[account.credential("access_token")].expires_at = time.time() - 1

    def inject(self, method: str, path: str, **options: Any) -> Fault:
        """Answer the next requests matching ``method`` and ``path`` (a regex) so."""
        fault = Fault(method.upper(), re.compile(path), **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    # -- LocalServer -------------------------------------------------------------------------

    @property
    def accounts(self) -> list[Account]:
        """The channels added, in order."""
        return list(self._accounts)

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The video or comment as the emulator holds it (None: deleted or never made)."""
        with self.lock:
            video = self.videos.get(ref.id)
            if video is not None:
                return None if video["deleted"] else dict(video)
            comment = self.comments.get(ref.id)
            if comment is not None and not comment["deleted"]:
                return dict(comment)
        return None

    def stored_text(self, stored: dict[str, Any]) -> str:
        """A video's title and description, or a comment's text."""
        if "snippet" in stored and "textOriginal" not in stored:
            snippet = stored["snippet"]
            return f"{snippet.get('title', '')}\n{snippet.get('description', '')}"
        return str(stored["textOriginal"])

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        """YouTube has no alt text."""
        return []

    def stored_media_kinds(self, stored: dict[str, Any]) -> list[str]:
        """A video holds one video."""
        return ["video"] if "sha256" in stored else []

    def like(self, ref: PostRef, by: Account) -> None:
        """``by`` likes the video."""
        with self.lock:
            self.videos[ref.id]["likes"].add(by.handle)

    def mention(self, account: Account) -> str:
        """How a text names a channel."""
        return account.handle

    # -- test-side reads ---------------------------------------------------------------------

    def videos_of(self, account: Account) -> list[dict[str, Any]]:
        """The live videos of ``account``'s channel."""
        channel = self._channel_of(account)
        with self.lock:
            return [v for v in self.videos.values() if v["channel"] == channel and not v["deleted"]]

    def _channel_of(self, account: Account) -> str:
        for channel in self.channels.values():
            if channel["handle"] == account.handle:
                return str(channel["id"])
        raise KeyError(account.handle)

    # -- the app -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application; serve it and set ``base_url``."""
        app = web.Application(middlewares=[self._middleware], client_max_size=1024**3)
        v3 = "/youtube/v3"
        app.router.add_post("/token", self._token)
        app.router.add_post("/upload" + v3 + "/videos", self._open_session)
        app.router.add_put("/upload" + v3 + "/videos", self._put_chunk)
        app.router.add_post("/upload" + v3 + "/thumbnails/set", self._thumbnail)
        app.router.add_post("/upload" + v3 + "/captions", self._caption)
        app.router.add_get(v3 + "/videos", self._videos_list)
        app.router.add_delete(v3 + "/videos", self._videos_delete)
        app.router.add_get(v3 + "/channels", self._channels_list)
        app.router.add_post(v3 + "/playlistItems", self._playlist_item)
        app.router.add_get(v3 + "/commentThreads", self._threads_list)
        app.router.add_post(v3 + "/commentThreads", self._thread_insert)
        app.router.add_get(v3 + "/comments", self._comments_list)
        app.router.add_post(v3 + "/comments", self._comment_insert)
        app.router.add_delete(v3 + "/comments", self._comment_delete)
        return app

    @web.middleware
    async def _middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        body: Any = None
        if request.content_type == "application/json" and request.can_read_body:
            body = json.loads(await request.read() or b"null")
        with self.lock:
            self.requests.append((request.method, request.path, dict(request.query), body))
            target = f"{request.path}?{request.query_string}"
            fault = next(
                (
                    f
                    for f in self.faults
                    if f.count > 0 and f.method == request.method and f.path.search(target)
                ),
                None,
            )
            if fault is not None:
                fault.count -= 1
        if fault is not None and fault.after:
            response = await handler(request)
            deadline = time.monotonic() + fault.delay
            while not fault.released and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return response
        if fault is not None:
            await asyncio.sleep(fault.delay)
            return web.json_response(fault.body or {}, status=fault.status, headers=fault.headers)
        return await handler(request)

    # -- auth and quota ----------------------------------------------------------------------

    def _auth(self, request: web.Request) -> str | web.Response:
        header = request.headers.get("Authorization", "")
        token = self.tokens.get(header.removeprefix("Bearer "))
        if token is None or token.expires_at <= time.time():
            return google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                "authError",
                "global",
                status="UNAUTHENTICATED",
            )
        return token.channel

    def _spend(self, method: str) -> web.Response | None:
        """Charge the project's quota (assumed: the emulator charges before the call is
        checked, as Google charges invalid requests too)."""
        from govsocial_youtube.quota import call_for

        call = call_for(method.split(" ")[0], method.split(" ")[1])
        if call is None:
            return None
        with self.lock:
            if call.bucket == "uploads":
                if self.uploads_left < call.cost:
                    return _quota_exceeded()
                self.uploads_left -= call.cost
            else:
                if self.units_left < call.cost:
                    return _quota_exceeded()
                self.units_left -= call.cost
        return None

    async def _guard(self, request: web.Request) -> str | web.Response:
        channel = self._auth(request)
        if isinstance(channel, web.Response):
            return channel
        refused = self._spend(f"{request.method} {request.path_qs}")
        return refused if refused is not None else channel

    async def _token(self, request: web.Request) -> web.Response:
        """https://developers.google.com/identity/protocols/oauth2/web-server#offline:
        a renewal answers an access token and NO refresh token."""
        form = {k: str(v) for k, v in (await request.post()).items()}
        with self.lock:
            self.token_requests.append(form)
        if form.get("grant_type") != "refresh_token":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return web.json_response(
                {"error": "invalid_client", "error_description": "The OAuth client was not found."},
                status=401,
            )
        channel = self.refresh_tokens.get(form.get("refresh_token", ""))
        if channel is None:
            return web.json_response(
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
                status=400,
            )
        token = self.issue_token(channel)
        return web.json_response(
            {
                "access_token": token.value,
                "expires_in": 3599,
                "scope": "https://www.googleapis.com/auth/youtube.upload "
                "https://www.googleapis.com/auth/youtube.force-ssl",
                "token_type": "Bearer",
            }
        )

    # -- uploads -----------------------------------------------------------------------------

    async def _open_session(self, request: web.Request) -> web.Response:
        """videos.insert, uploadType=resumable: the session URI in ``Location``."""
        if request.query.get("uploadType") != "resumable":
            return google_error(400, "uploadType must be resumable here (assumed)", "badRequest")
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        size = request.headers.get("X-Upload-Content-Length", "")
        kind = request.headers.get("X-Upload-Content-Type", "")
        if not size.isdigit() or not kind.startswith("video/"):
            return google_error(400, "X-Upload-Content-Length and -Type needed", "badRequest")
        metadata = json.loads(await request.read() or b"{}")
        snippet = metadata.get("snippet") or {}
        title = snippet.get("title")
        if not isinstance(title, str) or not title.strip():
            return google_error(
                400, "The request metadata does not specify a valid video title.", "invalidTitle"
            )
        if len(title) > 100 or any(c in title for c in "<>"):
            return google_error(
                400, "The request metadata specifies an invalid video title.", "invalidTitle"
            )
        description = snippet.get("description", "")
        if len(description.encode()) > 5000 or any(c in description for c in "<>"):
            return google_error(
                400,
                "The request metadata specifies an invalid video description.",
                "invalidDescription",
            )
        status = metadata.get("status") or {}
        if status.get("privacyStatus", "public") not in ("public", "unlisted", "private"):
            return google_error(400, "invalid privacy status", "invalidVideoMetadata")
        session_id = secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[session_id] = Session(
                channel=channel,
                size=int(size),
                metadata=metadata,
                notify=request.query.get("notifySubscribers", "true") != "false",
            )
        location = (
            f"{self.base_url}/upload/youtube/v3/videos?uploadType=resumable"
            f"&upload_id={session_id}&part={request.query.get('part', '')}"
        )
        return web.Response(status=200, headers={"Location": location})

    async def _put_chunk(self, request: web.Request) -> web.StreamResponse:
        """A chunk, or ``bytes */size`` (what is held?): 308 with Range, then the video."""
        session = self.sessions.get(request.query.get("upload_id", ""))
        if session is None:
            return google_error(404, "Not Found", "notFound")
        channel = self._auth(request)
        if isinstance(channel, web.Response):
            return channel
        match = _RANGE.fullmatch(request.headers.get("Content-Range", ""))
        if match is None:
            return google_error(400, "bad Content-Range", "badRequest")
        if match.group(4) is None:
            start, end, size = (int(match.group(i)) for i in (1, 2, 3))
            if size != session.size or start != len(session.data) or end >= size:
                return google_error(
                    400, f"range {start}-{end}/{size} does not follow", "badRequest"
                )
            want = end - start + 1
            got = bytearray()
            while len(got) < want:
                piece = await request.content.read(min(_MB, want - len(got)))
                if not piece:
                    break
                got += piece
            if len(got) < want:  # cut mid-chunk: Google keeps whole 256 KiB units
                keep = (len(got) // _UNIT) * _UNIT
                session.data += got[:keep]
                return web.Response(status=400)
            session.data += got
        else:
            await request.read()
        if len(session.data) < session.size:
            headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
            return web.Response(status=308, headers=headers)
        with self.lock:
            if session.video is None:
                session.video = self._make_video(session)
            video = self.videos[session.video["id"]]
        return web.json_response(self._video_resource(video, ("snippet", "status")), status=201)

    def _make_video(self, session: Session) -> dict[str, Any]:
        video_id = secrets.token_urlsafe(8)[:11]
        snippet = dict(session.metadata.get("snippet") or {})
        status = dict(session.metadata.get("status") or {})
        asked = status.get("privacyStatus", "public")
        video = {
            "id": video_id,
            "channel": session.channel,
            "snippet": {
                **snippet,
                "channelId": session.channel,
                "publishedAt": _now(),
                "categoryId": snippet.get("categoryId", "22"),
            },
            "status": {
                **status,
                "uploadStatus": "uploaded",
                "privacyStatus": "private" if self.unverified_project else asked,
            },
            "notified": session.notify,
            "size": session.size,
            "sha256": hashlib.sha256(session.data).hexdigest(),
            "likes": set(),
            "views": 0,
            "deleted": False,
        }
        self.videos[video_id] = video
        return video

    def _video_resource(self, video: dict[str, Any], parts: tuple[str, ...]) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "kind": "youtube#video",
            "etag": hashlib.md5(video["id"].encode()).hexdigest(),  # noqa: S324 - an etag
            "id": video["id"],
        }
        if "snippet" in parts:
            answer["snippet"] = video["snippet"]
        if "status" in parts:
            answer["status"] = video["status"]
        if "statistics" in parts:
            comments = sum(
                1 for c in self.comments.values() if c["video"] == video["id"] and not c["deleted"]
            )
            answer["statistics"] = {
                "viewCount": str(video["views"]),
                "likeCount": str(len(video["likes"])),
                "favoriteCount": "0",
                "commentCount": str(comments),
            }
        return answer

    async def _thumbnail(self, request: web.Request) -> web.Response:
        """thumbnails.set: a JPEG or PNG of at most 2 MB for a video of the channel."""
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        video = self.videos.get(request.query.get("videoId", ""))
        if video is None or video["channel"] != channel or video["deleted"]:
            return google_error(
                404, "The video you are trying to update cannot be found.", "videoNotFound"
            )
        data = await request.read()
        if request.content_type not in ("image/jpeg", "image/png"):
            return google_error(400, "The image has an invalid format.", "invalidImage")
        if len(data) > 2 * _MB:
            return google_error(
                400, "The provided image content is too large.", "mediaBodyTooLarge"
            )
        with self.lock:
            self.thumbnails[video["id"]] = data
        url = f"https://i.ytimg.com/vi/{video['id']}/default.jpg"
        return web.json_response(
            {
                "kind": "youtube#thumbnailSetResponse",
                "items": [{"default": {"url": url, "width": 120, "height": 90}}],
            }
        )

    async def _caption(self, request: web.Request) -> web.Response:
        """captions.insert, multipart: the caption's snippet, then the file."""
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        parts = _multipart(request.headers.get("Content-Type", ""), await request.read())
        if len(parts) != 2:
            return google_error(400, "expected metadata and media parts", "badRequest")
        metadata = json.loads(parts[0])
        with self.lock:
            self.requests[-1] = (*self.requests[-1][:3], metadata)
        snippet = metadata.get("snippet") or {}
        video = self.videos.get(snippet.get("videoId", ""))
        if video is None or video["channel"] != channel:
            return google_error(
                404, "The video identified by videoId could not be found.", "videoNotFound"
            )
        if not snippet.get("language"):
            return google_error(
                400, "The caption track language is not specified.", "invalidMetadata"
            )
        caption_id = "AUieDa" + secrets.token_urlsafe(12)
        with self.lock:
            self.captions[caption_id] = {"snippet": snippet, "data": parts[1]}
        return web.json_response(
            {
                "kind": "youtube#caption",
                "id": caption_id,
                "snippet": {**snippet, "status": "serving"},
            }
        )

    # -- videos and channels -----------------------------------------------------------------

    async def _videos_list(self, request: web.Request) -> web.Response:
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        parts = tuple(request.query.get("part", "").split(","))
        ids = [i for i in request.query.get("id", "").split(",") if i]
        with self.lock:
            items = [
                self._video_resource(self.videos[i], parts)
                for i in ids
                if i in self.videos and not self.videos[i]["deleted"]
            ]
        return web.json_response(
            {
                "kind": "youtube#videoListResponse",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            }
        )

    async def _videos_delete(self, request: web.Request) -> web.Response:
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        with self.lock:
            video = self.videos.get(request.query.get("id", ""))
            if video is None or video["deleted"] or video["channel"] != channel:
                return google_error(
                    404,
                    "The video identified by the id parameter could not be found.",
                    "videoNotFound",
                )
            video["deleted"] = True
        return web.Response(status=204)

    async def _channels_list(self, request: web.Request) -> web.Response:
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        if request.query.get("mine") != "true":
            return google_error(400, "mine=true expected here (assumed)", "badRequest")
        parts = set(request.query.get("part", "").split(","))
        with self.lock:
            data = self.channels[channel]
            videos = sum(
                1 for v in self.videos.values() if v["channel"] == channel and not v["deleted"]
            )
        item: dict[str, Any] = {"kind": "youtube#channel", "id": channel}
        if "statistics" in parts:
            item["statistics"] = {
                "viewCount": "0",
                "subscriberCount": str(data["subscribers"]),
                "hiddenSubscriberCount": False,
                "videoCount": str(videos),
            }
        if "snippet" in parts:
            item["snippet"] = {"title": data["title"], "customUrl": data["handle"].lower()}
        if "status" in parts:
            item["status"] = {
                "privacyStatus": "public",
                "isLinked": True,
                "longUploadsStatus": data["long_uploads"],
                "madeForKids": False,
            }
        return web.json_response({"kind": "youtube#channelListResponse", "items": [item]})

    async def _playlist_item(self, request: web.Request) -> web.Response:
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        body = json.loads(await request.read() or b"{}")
        snippet = body.get("snippet") or {}
        video_id = (snippet.get("resourceId") or {}).get("videoId", "")
        playlist = snippet.get("playlistId", "")
        if not playlist.startswith("PL"):
            return google_error(
                404,
                "The playlist identified with the request's playlistId parameter cannot be found.",
                "playlistNotFound",
            )
        if video_id not in self.videos:
            return google_error(
                404,
                "The video that you are trying to add to the playlist cannot be found.",
                "videoNotFound",
            )
        item_id = "UExh" + secrets.token_urlsafe(12)
        with self.lock:
            self.playlists.setdefault(playlist, []).append(video_id)
        return web.json_response(
            {"kind": "youtube#playlistItem", "id": item_id, "snippet": snippet}
        )

    # -- comments ----------------------------------------------------------------------------

    async def _threads_list(self, request: web.Request) -> web.Response:
        """commentThreads.list?videoId=: top-level comments with up to 5 replies each."""
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        video_id = request.query.get("videoId", "")
        if video_id not in self.videos:
            return google_error(
                404,
                "The video identified by the videoId parameter could not be found.",
                "videoNotFound",
            )
        with self.lock:
            tops = [
                c
                for c in self.comments.values()
                if c["video"] == video_id and c["parent"] is None and not c["deleted"]
            ]
            items = []
            for top in sorted(tops, key=lambda c: c["created"], reverse=True):
                replies = self._replies(top["id"])
                thread: dict[str, Any] = {
                    "kind": "youtube#commentThread",
                    "id": top["id"],
                    "snippet": {
                        "channelId": self.videos[video_id]["channel"],
                        "videoId": video_id,
                        "topLevelComment": self._comment_resource(top),
                        "canReply": True,
                        "totalReplyCount": len(replies),
                        "isPublic": True,
                    },
                }
                if replies:
                    thread["replies"] = {
                        "comments": [self._comment_resource(r) for r in replies[:5]]
                    }
                items.append(thread)
        return self._page(items, request, "youtube#commentThreadListResponse")

    def _page(self, items: list[dict[str, Any]], request: web.Request, kind: str) -> web.Response:
        start = int(request.query.get("pageToken", "0") or 0)
        size = int(request.query.get("maxResults", "20"))
        body: dict[str, Any] = {"kind": kind, "items": items[start : start + size]}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return web.json_response(body)

    def _replies(self, parent: str) -> list[dict[str, Any]]:
        return sorted(
            (c for c in self.comments.values() if c["parent"] == parent and not c["deleted"]),
            key=lambda c: c["created"],
        )

    def _comment_resource(self, comment: dict[str, Any]) -> dict[str, Any]:
        author = self.channels[comment["channel"]]
        snippet: dict[str, Any] = {
            "authorDisplayName": author["handle"],
            "authorChannelId": {"value": author["id"]},
            "channelId": self.videos[comment["video"]]["channel"],
            "videoId": comment["video"],
            "textDisplay": comment["textOriginal"],
            "textOriginal": comment["textOriginal"],
            "canRate": True,
            "viewerRating": "none",
            "likeCount": 0,
            "publishedAt": comment["publishedAt"],
            "updatedAt": comment["publishedAt"],
        }
        if comment["parent"] is not None:
            snippet["parentId"] = comment["parent"]
        return {"kind": "youtube#comment", "id": comment["id"], "snippet": snippet}

    def _new_comment(
        self, channel: str, video: str, text: str, parent: str | None
    ) -> dict[str, Any]:
        base = parent or "Ugz" + secrets.token_urlsafe(15)
        comment_id = f"{parent}.{secrets.token_urlsafe(15)}" if parent else base
        comment = {
            "id": comment_id,
            "channel": channel,
            "video": video,
            "parent": parent,
            "textOriginal": text,
            "publishedAt": _now(),
            "created": next(self._ids),
            "deleted": False,
        }
        self.comments[comment_id] = comment
        return comment

    async def _thread_insert(self, request: web.Request) -> web.Response:
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        body = json.loads(await request.read() or b"{}")
        snippet = body.get("snippet") or {}
        video_id = snippet.get("videoId", "")
        text = ((snippet.get("topLevelComment") or {}).get("snippet") or {}).get("textOriginal")
        if video_id not in self.videos or self.videos[video_id]["deleted"]:
            return google_error(
                404,
                "The video identified by the videoId parameter could not be found.",
                "videoNotFound",
            )
        if not isinstance(text, str) or not text:
            return google_error(400, "The comment's text is empty.", "commentTextRequired")
        with self.lock:
            comment = self._new_comment(channel, video_id, text, None)
        return web.json_response(
            {
                "kind": "youtube#commentThread",
                "id": comment["id"],
                "snippet": {
                    "videoId": video_id,
                    "topLevelComment": self._comment_resource(comment),
                    "totalReplyCount": 0,
                },
            }
        )

    async def _comment_insert(self, request: web.Request) -> web.Response:
        """comments.insert: a reply to a top-level comment (``snippet.parentId``)."""
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        body = json.loads(await request.read() or b"{}")
        snippet = body.get("snippet") or {}
        parent = self.comments.get(snippet.get("parentId", ""))
        if parent is None or parent["deleted"]:
            return google_error(
                404,
                "The comment identified by the parentId parameter could not be found.",
                "parentCommentNotFound",
            )
        if parent["parent"] is not None:
            return google_error(
                400,
                "The parentId identifies a reply; replies are one level deep.",
                "operationNotSupported",
            )
        with self.lock:
            comment = self._new_comment(
                channel, parent["video"], snippet.get("textOriginal", ""), parent["id"]
            )
        return web.json_response(self._comment_resource(comment))

    async def _comments_list(self, request: web.Request) -> web.Response:
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        with self.lock:
            items = [
                self._comment_resource(c) for c in self._replies(request.query.get("parentId", ""))
            ]
        return self._page(items, request, "youtube#commentListResponse")

    async def _comment_delete(self, request: web.Request) -> web.Response:
        channel = await self._guard(request)
        if isinstance(channel, web.Response):
            return channel
        with self.lock:
            comment = self.comments.get(request.query.get("id", ""))
            if comment is None or comment["deleted"] or comment["channel"] != channel:
                return google_error(404, "The comment could not be found.", "commentNotFound")
            comment["deleted"] = True
        return web.Response(status=204)

    # -- test-side shortcuts -----------------------------------------------------------------

    def comment(self, ref: PostRef, text: str, by: Account) -> PostRef:
        """``by`` comments on the video at ``ref`` (a citizen, without the adapter)."""
        with self.lock:
            comment = self._new_comment(self._channel_of(by), ref.id, text, None)
        return PostRef(platform="youtube", account=by, id=comment["id"], extra={"kind": "comment"})


_MB = 1024 * 1024


def google_error(
    code: int, message: str, reason: str, domain: str = "youtube.api", *, status: str = ""
) -> web.Response:
    """Google's JSON error shape (https://developers.google.com/youtube/v3/docs/errors)."""
    names = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
    }
    body = {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": status or names.get(code, "UNKNOWN"),
        }
    }
    return web.json_response(body, status=code)


def _quota_exceeded() -> web.Response:
    return google_error(
        403,
        "The request cannot be completed because you have exceeded your "
        '<a href="/youtube/v3/getting-started#quota">quota</a>.',
        "quotaExceeded",
        "youtube.quota",
    )


def _multipart(content_type: str, body: bytes) -> list[bytes]:
    match = re.search(r"boundary=([^;]+)", content_type)
    if match is None:
        return []
    boundary = b"--" + match.group(1).strip('"').encode()
    parts = []
    for chunk in body.split(boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        _, _, content = chunk.partition(b"\r\n\r\n")
        parts.append(content.removesuffix(b"\r\n"))
    return parts


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- serving -----------------------------------------------------------------------------------


@contextmanager
def serve(app: web.Application) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 in a thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(app, access_log=None)
    port: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(int(runner.addresses[0][1]))

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="youtube-emulator", daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("the YouTube emulator did not start within 30 s")
    try:
        yield f"http://127.0.0.1:{port[0]}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@contextmanager
def local_server() -> Iterator[YouTubeEmulator]:
    """The emulator with two channels (``@humaskota``, ``@wargakota``), served until the
    block ends: ``YouTube.local_server()`` returns this."""
    emulator = YouTubeEmulator()
    with serve(emulator.app()) as url:
        emulator.base_url = url
        emulator.add_channel("@humaskota", subscribers=1200)
        emulator.add_channel("@wargakota")
        yield emulator


# -- the oracle --------------------------------------------------------------------------------


class Discovery:
    """The YouTube Data API v3 discovery document shipped in ``google-api-python-client``
    (``googleapiclient/discovery_cache/documents/youtube.v3.json``; the ``test`` extra),
    and a check of one request against it: its method and path, its parameters (names,
    location, enums, required ones), its ``part`` values and its JSON body's properties.
    """

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document["schemas"]

    @classmethod
    def load(cls) -> Discovery:
        """Read the document from the installed package."""
        files = importlib.resources.files("googleapiclient.discovery_cache")
        text = (files / "documents" / "youtube.v3.json").read_text(encoding="utf-8")
        return cls(json.loads(text))

    def methods(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every method as (``resource.method``, its description)."""
        for resource, spec in self.document["resources"].items():
            for name, method in spec.get("methods", {}).items():
                yield f"{resource}.{name}", method

    def method_for(self, http_method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """The method an HTTP request calls (API path, or an upload protocol's path)."""
        for name, method in self.methods():
            if method["httpMethod"] != http_method:
                continue
            if path == "/" + method["path"]:
                return name, method
            protocols = method.get("mediaUpload", {}).get("protocols", {})
            if any(path == p["path"] for p in protocols.values()):
                return name, method
        return None

    def check(self, http_method: str, path: str, query: dict[str, str], body: Any) -> list[str]:
        """What is wrong with one request (empty: it follows the document)."""
        if path == "/token":
            return []  # Google's OAuth endpoint, not part of the Data API
        if http_method == "PUT" and "upload_id" in query:
            return []  # a chunk of a resumable session (the upload protocol, not a method)
        found = self.method_for(http_method, path)
        if found is None:
            return [f"{http_method} {path}: no such method in the discovery document"]
        name, method = found
        problems = []
        known = {**self.document["parameters"], **method.get("parameters", {})}
        uploads = "mediaUpload" in method
        for param, value in query.items():
            spec = known.get(param)
            if spec is None and not (uploads and param == "upload_id"):
                problems.append(f"{name}: unknown parameter {param!r}")
                continue
            if spec is None:
                continue
            if spec.get("location") != "query":
                problems.append(f"{name}: {param} belongs in the {spec.get('location')}")
            values = value.split(",") if spec.get("repeated") else [value]
            enum = spec.get("enum")
            if enum and any(v not in enum for v in values):
                problems.append(f"{name}: {param}={value!r} is not one of {enum}")
            if spec.get("type") == "boolean" and value not in ("true", "false"):
                problems.append(f"{name}: {param}={value!r} is not a boolean")
        for param, spec in method.get("parameters", {}).items():
            if spec.get("required") and param not in query:
                problems.append(f"{name}: required parameter {param!r} missing")
        if uploads and query.get("uploadType") not in (None, "resumable", "multipart", "media"):
            problems.append(f"{name}: uploadType {query.get('uploadType')!r}")
        response_ref = (method.get("response") or method.get("request") or {}).get("$ref")
        if "part" in query and response_ref:
            properties = self.schemas[response_ref].get("properties", {})
            item_ref = properties.get("items", {}).get("items", {}).get("$ref")
            resource = self.schemas[item_ref] if item_ref else self.schemas[response_ref]
            for part in query["part"].split(","):
                if part not in resource.get("properties", {}):
                    problems.append(f"{name}: part {part!r} is not a property of {resource['id']}")
        request_ref = (method.get("request") or {}).get("$ref")
        if body is not None:
            if request_ref is None:
                problems.append(f"{name} takes no JSON body")
            else:
                problems += self._check_object(body, self.schemas[request_ref], f"{name} body")
        return problems

    def _check_object(self, value: Any, schema: dict[str, Any], where: str) -> list[str]:
        if "$ref" in schema:
            schema = self.schemas[schema["$ref"]]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            if not isinstance(value, dict):
                return [f"{where}: expected an object"]
            problems = []
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if key in properties:
                    problems += self._check_object(item, properties[key], f"{where}.{key}")
                elif extra is not None:
                    problems += self._check_object(item, extra, f"{where}.{key}")
                else:
                    problems.append(f"{where}: unknown property {key!r}")
            return problems
        if kind == "array":
            if not isinstance(value, list):
                return [f"{where}: expected an array"]
            return [
                p
                for i, v in enumerate(value)
                for p in self._check_object(v, schema["items"], f"{where}[{i}]")
            ]
        if kind == "string":
            if not isinstance(value, str):
                return [f"{where}: expected a string, got {type(value).__name__}"]
            enum = schema.get("enum")
            if enum and value not in enum:
                return [f"{where}: {value!r} is not one of {enum}"]
        if kind == "boolean" and not isinstance(value, bool):
            return [f"{where}: expected a boolean"]
        return []
