"""A small stateful emulator of the X API v2 endpoints the adapter uses.

Answers copy the shapes of the OpenAPI spec (``shared/specs/x-api-v2-openapi.json``, beside
the clone) and of the documented examples on docs.x.com; the conformance suite runs through
Prism in front of it, so every request and answer is checked against the spec as well.
State lives in plain dicts that tests read directly (what the emulator STORED, not what the
adapter said).

Endpoints: POST/GET /2/tweets, DELETE /2/tweets/{id}, GET /2/users/me,
GET /2/users/{id}/mentions (``start_time``, ``since_id``, ``until_id``),
GET /2/users/{id}/tweets, GET /2/tweets/search/recent,
POST /2/media/upload (one shot), POST /2/media/upload/initialize, /{id}/append,
/{id}/finalize, GET /2/media/upload?command=STATUS, POST /2/media/metadata and
POST /2/oauth2/token (grant_type=refresh_token, rotating the refresh token).
"""

from __future__ import annotations

import asyncio
import base64
import html
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from govsocial.adapters import Account, PostRef

DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
#: X's answer (detail of a 403) to a reply its 2026-02-23 rule refuses, as apps have logged it.
REPLY_REFUSED = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)
#: The access tiers X's reply rule applies to (Enterprise and Public Utility are exempt).
RESTRICTED_TIERS = frozenset({"free", "basic", "pro", "pay-per-use"})
#: The most base64 characters an APPEND takes ("media_data ... must be <= 5 MB").
MAX_APPEND_BASE64 = 5_000_000


@dataclass
class User:
    """An X user of the emulator, with its tokens."""

    id: str
    username: str
    name: str
    access_token: str
    refresh_token: str
    client_id: str = "emulator-client-id"
    followers: int = 0
    following: int = 0


@dataclass
class Emulator:
    """The emulated X: users, posts, media, and switches for failure tests."""

    users: dict[str, User] = field(default_factory=dict)
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: every refresh request seen (form fields)
    refreshes: list[dict[str, str]] = field(default_factory=list)
    #: polls left before a finalized chunked upload counts as processed
    processing_polls: int = 1
    #: the access tier of the emulated app: in a RESTRICTED_TIERS tier a reply is refused
    #: unless the post replied to mentions the replying user or quotes one of its posts
    #: (whether X exempts a reply to one's own post is not documented; the emulator does)
    access_tier: str = "enterprise"
    #: answer deletes with 200 and ``"deleted": false`` (the post stays)
    refuse_deletes: bool = False
    #: every APPEND received: (media id, segment_index, decoded bytes), in order
    appends: list[tuple[str, int, int]] = field(default_factory=list)
    #: seconds each APPEND waits after storing its segment (a slow link, for crash tests)
    append_delay: float = 0.0
    #: what ``expires_after_secs`` says of a new upload (X: 86400, a day)
    media_lifetime: int = 86400
    #: whether the app's access level includes recent search of words (False: X's 403
    #: ClientForbiddenProblem, reason ``client-not-enrolled``, as the Free level answers)
    search_enrolled: bool = True
    base_url: str = ""
    _ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(1_800_000_000_000_000_001)
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- set-up and inspection (called from tests) ----------------------------------------

    def add_user(self, username: str, name: str) -> User:
        """Add a user the emulator knows."""
        user = User(
            id=str(2_244_994_945 + len(self.users)),
            username=username,
            name=name,
            access_token=f"at-{username}-{secrets.token_hex(8)}",
            refresh_token=f"rt-{username}-{secrets.token_hex(8)}",
        )
        self.users[user.id] = user
        return user

    def account(self, user: User, *, refresh: bool = False) -> Account:
        """The govsocial account of ``user`` (with refresh credentials if ``refresh``)."""
        credentials = {"access_token": user.access_token}
        if refresh:
            credentials |= {"refresh_token": user.refresh_token, "client_id": user.client_id}
        return Account(
            platform="x",
            handle=f"@{user.username}",
            base_url=self.base_url,
            credentials=credentials,
        )

    def expire_access_token(self, user: User) -> None:
        """Give ``user`` a new access token, so the old one is refused."""
        user.access_token = f"at-{user.username}-{secrets.token_hex(8)}"

    def media_bytes(self, media_id: str) -> bytes:
        """The bytes of an upload as the emulator holds them, segments in order."""
        chunks = self.media[media_id]["chunks"]
        return b"".join(chunks[i] for i in sorted(chunks))

    def user_of(self, account: Account) -> User:
        """The user behind ``account``."""
        return next(u for u in self.users.values() if f"@{u.username}" == account.handle)

    # -- LocalServer ----------------------------------------------------------------------

    @property
    def accounts(self) -> list[Account]:
        """The accounts of the first two users."""
        return [self.account(user) for user in list(self.users.values())[:2]]

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The tweet as the emulator holds it (None: deleted or never made)."""
        return self.tweets.get(ref.id)

    def stored_text(self, stored: dict[str, Any]) -> str:
        """The text of a stored tweet."""
        return str(stored["text"])

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        """The alt texts of a stored tweet's media."""
        return [self.media[m]["alt_text"] for m in stored.get("media_ids", [])]

    def like(self, ref: PostRef, by: Account) -> None:
        """``by`` likes the tweet."""
        self.tweets[ref.id]["public_metrics"]["like_count"] += 1

    def mention(self, account: Account) -> str:
        """How a tweet mentions ``account``."""
        return f"@{self.user_of(account).username}"

    # -- the application --------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application; serve it and set ``base_url``."""
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[_problems])
        app.router.add_post("/2/tweets", self.create_tweet)
        app.router.add_get("/2/tweets", self.lookup_tweets)
        app.router.add_delete("/2/tweets/{id}", self.delete_tweet)
        app.router.add_get("/2/tweets/search/recent", self.search_recent)
        app.router.add_get("/2/users/me", self.me)
        app.router.add_get("/2/users/{id}/mentions", self.mentions)
        app.router.add_get("/2/users/{id}/tweets", self.timeline)
        app.router.add_post("/2/media/upload", self.upload_one_shot)
        app.router.add_get("/2/media/upload", self.upload_status)
        app.router.add_post("/2/media/upload/initialize", self.upload_initialize)
        app.router.add_post("/2/media/upload/{id}/append", self.upload_append)
        app.router.add_post("/2/media/upload/{id}/finalize", self.upload_finalize)
        app.router.add_post("/2/media/metadata", self.media_metadata)
        app.router.add_post("/2/oauth2/token", self.oauth_token)
        return app

    def _next_id(self) -> str:
        with self._lock:
            return str(next(self._ids))

    def _user(self, request: web.Request) -> User:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        for user in self.users.values():
            if header.startswith("Bearer ") and secrets.compare_digest(token, user.access_token):
                return user
        raise _problem(401, "Unauthorized", "Unauthorized", "about:blank")

    # -- posts ------------------------------------------------------------------------------

    async def create_tweet(self, request: web.Request) -> web.Response:
        """``POST /2/tweets``."""
        user = self._user(request)
        body = await request.json()
        text = body.get("text", "")
        media_ids = body.get("media", {}).get("media_ids", [])
        for media_id in media_ids:
            if media_id not in self.media or self.media[media_id]["owner"] != user.id:
                raise _problem(
                    400,
                    "Invalid Request",
                    f"Your media IDs are invalid: {media_id}",
                    "https://api.twitter.com/2/problems/invalid-request",
                )
        if text and any(
            t["author_id"] == user.id and t["text"] == text for t in self.tweets.values()
        ):
            raise _problem(403, "Forbidden", DUPLICATE, "about:blank")
        tweet_id = self._next_id()
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "text": text,
            "author_id": user.id,
            "conversation_id": tweet_id,
            "created_at": _now(),
            "edit_history_tweet_ids": [tweet_id],
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            },
            "media_ids": media_ids,
        }
        quoted = body.get("quote_tweet_id")
        if quoted is not None and quoted in self.tweets:
            tweet["referenced_tweets"] = [{"type": "quoted", "id": quoted}]
        reply_to = body.get("reply", {}).get("in_reply_to_tweet_id")
        if reply_to is not None:
            parent = self.tweets.get(reply_to)
            if parent is None:
                raise _problem(
                    400,
                    "Invalid Request",
                    "Your Tweet cannot be replied to: it was deleted or is not visible to you.",
                    "https://api.twitter.com/2/problems/invalid-request",
                )
            if self.access_tier in RESTRICTED_TIERS and not self._engaged(parent, user):
                raise _problem(403, "Forbidden", REPLY_REFUSED, "about:blank")
            tweet["conversation_id"] = parent["conversation_id"]
            tweet["in_reply_to_user_id"] = parent["author_id"]
            tweet["referenced_tweets"] = [
                *tweet.get("referenced_tweets", []),
                {"type": "replied_to", "id": reply_to},
            ]
            parent["public_metrics"]["reply_count"] += 1
        self.tweets[tweet_id] = tweet
        return web.json_response({"data": {"id": tweet_id, "text": _escaped(text)}}, status=201)

    async def delete_tweet(self, request: web.Request) -> web.Response:
        """``DELETE /2/tweets/{id}``."""
        user = self._user(request)
        tweet = self.tweets.get(request.match_info["id"])
        if tweet is None:
            raise _problem(
                404,
                "Not Found Error",
                "Could not find tweet with id: [" + request.match_info["id"] + "].",
                "https://api.twitter.com/2/problems/resource-not-found",
            )
        if tweet["author_id"] != user.id:
            raise _problem(
                403,
                "Forbidden",
                "You are not allowed to delete a Tweet you did not author.",
                "about:blank",
            )
        if self.refuse_deletes:
            return web.json_response({"data": {"deleted": False}})
        del self.tweets[tweet["id"]]
        return web.json_response({"data": {"deleted": True}})

    def _engaged(self, parent: dict[str, Any], user: User) -> bool:
        """Whether ``parent``'s author invited ``user``'s reply: mentioned or quoted them."""
        if parent["author_id"] == user.id:
            return True
        if f"@{user.username.lower()}" in parent["text"].lower():
            return True
        return any(
            ref.get("type") == "quoted"
            and self.tweets.get(ref.get("id"), {}).get("author_id") == user.id
            for ref in parent.get("referenced_tweets", [])
        )

    def _view(self, tweet: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": tweet["id"],
            "text": _escaped(tweet["text"]),
            "edit_history_tweet_ids": tweet["edit_history_tweet_ids"],
        }
        for name in fields & {
            "author_id",
            "conversation_id",
            "created_at",
            "public_metrics",
            "referenced_tweets",
            "in_reply_to_user_id",
        }:
            if name in tweet:
                view[name] = tweet[name]
        return view

    def _listing(
        self, request: web.Request, tweets: list[dict[str, Any]], *, paged: bool
    ) -> web.Response:
        fields = set(filter(None, request.query.get("tweet.fields", "").split(",")))
        data = [self._view(t, fields) for t in tweets]
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if "author_id" in request.query.get("expansions", "").split(","):
            authors = dict.fromkeys(t["author_id"] for t in tweets)
            users = [self.users[a] for a in authors if a in self.users]
            if users:
                body["includes"] = {
                    "users": [{"id": u.id, "name": u.name, "username": u.username} for u in users]
                }
        if paged:
            meta: dict[str, Any] = {"result_count": len(data)}
            if data:
                meta["newest_id"] = data[0]["id"]
                meta["oldest_id"] = data[-1]["id"]
            body["meta"] = meta
        return web.json_response(body)

    async def lookup_tweets(self, request: web.Request) -> web.Response:
        """``GET /2/tweets?ids=``."""
        self._user(request)
        ids = request.query.get("ids", "").split(",")
        found = [self.tweets[i] for i in ids if i in self.tweets]
        response = self._listing(request, found, paged=False)
        missing = [i for i in ids if i not in self.tweets]
        if not missing:
            return response
        body = _body_of(response)
        body["errors"] = [
            {
                "value": i,
                "detail": f"Could not find tweet with ids: [{i}].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": i,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
            for i in missing
        ]
        return web.json_response(body)

    async def search_recent(self, request: web.Request) -> web.Response:
        """``GET /2/tweets/search/recent``: ``conversation_id:`` queries, and words, a
        ``#hashtag`` or a ``"phrase"`` with ``-is:retweet`` (``since_id``, ``start_time``)."""
        self._user(request)
        query = request.query.get("query", "")
        if not query.startswith("conversation_id:"):
            return self._search_words(request, query)
        conversation = query.split(":", 1)[1]
        found = [
            t
            for t in self.tweets.values()
            if t["conversation_id"] == conversation and t["id"] != conversation
        ]
        return self._listing(request, _newest_first(found), paged=True)

    def _search_words(self, request: web.Request, query: str) -> web.Response:
        if not self.search_enrolled:
            body = {
                "client_id": "emulator-client-id",
                "detail": "When authenticating requests to the Twitter API v2 endpoints, you "
                "must use keys and tokens from a Twitter developer App that is attached to a "
                "Project. You can create a project via the developer portal.",
                "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
                "title": "Client Forbidden",
                "required_enrollment": "Appropriate Level of API Access",
                "reason": "client-not-enrolled",
                "type": "https://api.twitter.com/2/problems/client-forbidden",
                "status": 403,
            }
            # code and message: the spec's other default schema (Error), as _problem adds
            raise Problem(403, {**body, "code": 403, "message": body["detail"]})
        terms = query.replace("-is:retweet", "").strip()
        if terms.startswith('"') and terms.endswith('"') and len(terms) > 1:
            wanted = [terms[1:-1].lower()]
        else:
            wanted = terms.lower().split()
        since_id = request.query.get("since_id")
        found = [
            t
            for t in self.tweets.values()
            if all(w in t["text"].lower() for w in wanted)
            and (since_id is None or int(t["id"]) > int(since_id))
            and _after(t, request.query.get("start_time"))
        ]
        return self._listing(request, _newest_first(found), paged=True)

    async def me(self, request: web.Request) -> web.Response:
        """``GET /2/users/me``."""
        user = self._user(request)
        data: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        if "public_metrics" in request.query.get("user.fields", "").split(","):
            data["public_metrics"] = {
                "followers_count": user.followers,
                "following_count": user.following,
                "tweet_count": sum(1 for t in self.tweets.values() if t["author_id"] == user.id),
                "listed_count": 0,
                "like_count": 0,
            }
        return web.json_response({"data": data})

    async def mentions(self, request: web.Request) -> web.Response:
        """``GET /2/users/{id}/mentions``."""
        self._user(request)
        user = self.users.get(request.match_info["id"])
        if user is None:
            raise _problem(
                404,
                "Not Found Error",
                "Could not find user with id: [" + request.match_info["id"] + "].",
                "https://api.twitter.com/2/problems/resource-not-found",
            )
        handle = f"@{user.username}".lower()
        found = [
            t
            for t in self.tweets.values()
            if handle in t["text"].lower()
            and _after(t, request.query.get("start_time"))
            and _between(t, request.query.get("since_id"), request.query.get("until_id"))
        ]
        return self._listing(request, _newest_first(found), paged=True)

    async def timeline(self, request: web.Request) -> web.Response:
        """``GET /2/users/{id}/tweets``."""
        self._user(request)
        found = [
            t
            for t in self.tweets.values()
            if t["author_id"] == request.match_info["id"]
            and _after(t, request.query.get("start_time"))
        ]
        return self._listing(request, _newest_first(found), paged=True)

    # -- media ------------------------------------------------------------------------------

    def _new_media(self, user: User, kind: str, size: int) -> dict[str, Any]:
        media_id = self._next_id()
        record = {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "owner": user.id,
            "kind": kind,
            "size": size,
            "alt_text": "",
            "chunks": {},
            "polls_left": 0,
        }
        self.media[media_id] = record
        return record

    def _media_answer(self, record: dict[str, Any], *, processing: bool) -> web.Response:
        data: dict[str, Any] = {
            "id": record["id"],
            "media_key": record["media_key"],
            "size": record["size"],
            "expires_after_secs": self.media_lifetime,
        }
        if processing:
            # the spec's ProcessingInfo requires a "type" it does not describe: the category
            info_type = {"image/gif": "tweet_gif"}.get(record["kind"], "tweet_video")
            if record["polls_left"] > 0:
                data["processing_info"] = {
                    "type": info_type,
                    "state": "in_progress",
                    "check_after_secs": 1,
                    "progress_percent": 50,
                }
            else:
                data["processing_info"] = {
                    "type": info_type,
                    "state": "succeeded",
                    "progress_percent": 100,
                }
        # the spec marks "meta" required on MediaUploadResponse without describing it
        return web.json_response({"data": data, "meta": {}})

    async def upload_one_shot(self, request: web.Request) -> web.Response:
        """``POST /2/media/upload``: the whole file in one request."""
        user = self._user(request)
        body = await request.json()
        data = base64.b64decode(body["media"], validate=True)
        record = self._new_media(user, body.get("media_type", "image/png"), len(data))
        return self._media_answer(record, processing=False)

    async def upload_initialize(self, request: web.Request) -> web.Response:
        """``POST /2/media/upload/initialize``."""
        user = self._user(request)
        body = await request.json()
        record = self._new_media(user, body["media_type"], int(body["total_bytes"]))
        return self._media_answer(record, processing=False)

    def _owned_media(self, request: web.Request, media_id: str) -> dict[str, Any]:
        user = self._user(request)
        record = self.media.get(media_id)
        if record is None or record["owner"] != user.id:
            raise _problem(
                400,
                "Invalid Request",
                f"Your media ID is invalid: {media_id}",
                "https://api.twitter.com/2/problems/invalid-request",
            )
        return record

    async def upload_append(self, request: web.Request) -> web.Response:
        """``POST /2/media/upload/{id}/append``."""
        record = self._owned_media(request, request.match_info["id"])
        body = await request.json()
        if len(body["media"]) > MAX_APPEND_BASE64:
            raise _problem(
                400,
                "Invalid Request",
                f"The media chunk is {len(body['media'])} base64 characters; it must be <= 5 MB",
                "https://api.twitter.com/2/problems/invalid-request",
            )
        segment = base64.b64decode(body["media"])
        record["chunks"][int(body["segment_index"])] = segment
        self.appends.append((record["id"], int(body["segment_index"]), len(segment)))
        if self.append_delay:
            await asyncio.sleep(self.append_delay)
        return web.json_response({"data": {"expires_at": int(time.time()) + 86400}, "meta": {}})

    async def upload_finalize(self, request: web.Request) -> web.Response:
        """``POST /2/media/upload/{id}/finalize``."""
        record = self._owned_media(request, request.match_info["id"])
        received = b"".join(record["chunks"][i] for i in sorted(record["chunks"]))
        if len(received) != record["size"]:
            raise _problem(
                400,
                "Invalid Request",
                f"File size mismatch: expected {record['size']} bytes, got {len(received)}",
                "https://api.twitter.com/2/problems/invalid-request",
            )
        record["polls_left"] = self.processing_polls
        record["finalized"] = True
        return self._media_answer(record, processing=True)

    async def upload_status(self, request: web.Request) -> web.Response:
        """``GET /2/media/upload?command=STATUS``."""
        record = self._owned_media(request, request.query.get("media_id", ""))
        if record["polls_left"] > 0:
            record["polls_left"] -= 1
        return self._media_answer(record, processing=True)

    async def media_metadata(self, request: web.Request) -> web.Response:
        """``POST /2/media/metadata``: the alt text."""
        body = await request.json()
        record = self._owned_media(request, body["id"])
        alt = body["metadata"]["alt_text"]["text"]
        record["alt_text"] = alt
        return web.json_response(
            {
                "data": {
                    "id": record["id"],
                    "associated_metadata": {"alt_text": {"text": alt}},
                }
            }
        )

    # -- OAuth 2.0 --------------------------------------------------------------------------

    async def oauth_token(self, request: web.Request) -> web.Response:
        """``POST /2/oauth2/token``: refresh, rotating the refresh token."""
        form = dict(await request.post())
        fields = {k: str(v) for k, v in form.items()}
        self.refreshes.append(fields)
        for user in self.users.values():
            if (
                fields.get("grant_type") == "refresh_token"
                and fields.get("client_id") == user.client_id
                and secrets.compare_digest(fields.get("refresh_token", ""), user.refresh_token)
            ):
                user.access_token = f"at-{user.username}-{secrets.token_hex(8)}"
                user.refresh_token = f"rt-{user.username}-{secrets.token_hex(8)}"
                return web.json_response(
                    {
                        "token_type": "bearer",
                        "expires_in": 7200,
                        "access_token": user.access_token,
                        "scope": "tweet.read tweet.write users.read media.write offline.access",
                        "refresh_token": user.refresh_token,
                    }
                )
        return web.json_response(
            {
                "error": "invalid_request",
                "error_description": "Value passed for the token was invalid.",
            },
            status=400,
        )


class Problem(Exception):
    """An error answer in X's problem shape (RFC 7807), raised by handlers."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("detail"))
        self.status = status
        self.body = body


def _problem(status: int, title: str, detail: str, kind: str) -> Problem:
    """X's problem body. ``code`` and ``message`` are added so the answer also satisfies the
    spec's other ``default`` schema (``Error``), the one Prism checks when the client
    accepts any type; the adapter reads ``detail`` first, as X sends it."""
    body = {"title": title, "detail": detail, "type": kind, "status": status}
    return Problem(status, {**body, "code": status, "message": detail})


@web.middleware
async def _problems(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except Problem as problem:
        return web.Response(
            body=json.dumps(problem.body).encode(),
            status=problem.status,
            content_type="application/problem+json",
        )
    return response


def _escaped(text: str) -> str:
    """X returns &, < and > as HTML entities in post text."""
    return html.escape(text, quote=False)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"


def _newest_first(tweets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(tweets, key=lambda t: int(t["id"]), reverse=True)


def _after(tweet: dict[str, Any], start_time: str | None) -> bool:
    if not start_time:
        return True
    created = datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))
    return created >= datetime.fromisoformat(start_time.replace("Z", "+00:00"))


def _between(tweet: dict[str, Any], since_id: str | None, until_id: str | None) -> bool:
    """``since_id`` (newer than) and ``until_id`` (older than), as the timelines take them
    (https://docs.x.com/x-api/posts/timelines/introduction)."""
    number = int(tweet["id"])
    if since_id and since_id.isdigit() and number <= int(since_id):
        return False
    return not (until_id and until_id.isdigit() and number >= int(until_id))


def _body_of(response: web.Response) -> dict[str, Any]:
    assert response.text is not None
    body: dict[str, Any] = json.loads(response.text)
    return body
