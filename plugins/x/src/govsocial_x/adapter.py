"""The X (Twitter) API v2 adapter.

Endpoints (https://docs.x.com/x-api):

- publish: ``POST /2/tweets`` {text, media: {media_ids}, reply: {in_reply_to_tweet_id}};
  images through ``POST /2/media/upload`` (one request), GIFs and videos through
  ``/2/media/upload/initialize``, ``/{id}/append``, ``/{id}/finalize`` and the ``STATUS``
  poll, driven by the upload engine (:class:`ChunkedAppend`: each acknowledged
  ``segment_index`` is checkpointed, so a worker killed mid-upload is resumed by the next
  one from the last segment X acknowledged, into the same media id); alt text through
  ``POST /2/media/metadata``;
- delete: ``DELETE /2/tweets/{id}``;
- metrics: ``GET /2/tweets?ids=`` (100 at a time) with ``tweet.fields=public_metrics``;
  ``GET /2/users/me`` with ``user.fields=public_metrics``;
- replies: recent search ``conversation_id:<id>`` (the last 7 days); mentions:
  ``GET /2/users/{id}/mentions``.

Auth is an OAuth 2.0 user token (Bearer). With a ``refresh_token`` and ``client_id`` (and
``client_secret`` for a confidential client) an expired token is renewed once through
``POST /2/oauth2/token`` and the new pair is handed to ``update_credentials`` (X rotates
refresh tokens at every use).
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx

from govsocial.adapters import (
    Account,
    AccountCheck,
    AccountMetrics,
    Activity,
    AdapterContext,
    AuthenticationError,
    ConfigurationError,
    FoundPost,
    GovSocialError,
    Interaction,
    Limits,
    Media,
    NotSupported,
    Platform,
    PlatformError,
    Post,
    PostMetrics,
    PostRef,
    Problem,
    PublishOutcomeUnknown,
    RateLimited,
    RateState,
    SearchPage,
    TokenRefresh,
    UploadExpired,
    VideoLimits,
    as_int,
    json_object,
    parse_query,
    parse_time,
    path_segment,
    read_json,
    scrub,
)
from govsocial_x import ratelimits
from govsocial_x.text import invalid_characters, weighted_length

__all__ = ["EXEMPT_TIERS", "REPLY_RULE", "RESTRICTED_TIERS", "SCOPES", "X"]

#: The OAuth 2.0 scopes the adapter needs (offline.access gives the refresh token).
SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")

_REAUTHORISE = (
    "re-authorise the app for this account (OAuth 2.0 user context, scopes "
    + " ".join(SCOPES)
    + ") and store the new access_token and refresh_token"
)
_DUPLICATE_MARK = "duplicate content"
#: X's words when it refuses a reply under the 2026-02-23 rule (see :data:`REPLY_RULE`).
_REPLY_REFUSED_MARKS = (
    "reply to this conversation is not allowed",
    "not been mentioned or otherwise engaged",
)
#: X's rule on replies through the API since 2026-02-23, in short, for messages and docs.
REPLY_RULE = (
    "since 2026-02-23 X accepts a reply made through the API only when the author of the "
    "post replied to mentions this account or quotes one of its posts; this applies to the "
    "Free, Basic, Pro and pay-per-use access tiers (Enterprise and Public Utility apps are "
    "exempt)"
)
#: The access tiers X's reply rule spares, as an account's ``access_tier`` credential names them.
EXEMPT_TIERS = frozenset({"enterprise", "public-utility"})
#: The tiers the rule applies to.
RESTRICTED_TIERS = frozenset({"free", "basic", "pro", "pay-per-use"})
#: Where X documents the create call the rule applies to (X announced the rule from its
#: @XDevelopers account on 2026-02-23; the announcement has no page of its own).
REPLY_RULE_DOCS = (
    "https://developer.x.com/en/docs/twitter-api/tweets/manage-tweets/api-reference/post-tweets"
)
_METRICS = {
    "views": "impression_count",
    "likes": "like_count",
    "reposts": "retweet_count",
    "replies": "reply_count",
    "quotes": "quote_count",
    "bookmarks": "bookmark_count",
}
#: X's newer API document (the one its own SDK, xdk 0.10.6, is generated from) renames these
#: answer fields from "tweet" to "post"; the 2.159 document keeps the old names. Read either.
_NEWER_NAME = {
    "retweet_count": "repost_count",
    "tweet_count": "post_count",
    "referenced_tweets": "referenced_posts",
}


class _NotEnrolled(PlatformError):
    """X answered 403 ``client-not-enrolled``: the app's access level lacks the endpoint."""


def _not_enrolled(response: httpx.Response) -> bool:
    """Whether an error answer is X's ClientForbiddenProblem with reason
    ``client-not-enrolled`` (the app's Project or access level does not allow the endpoint)."""
    try:
        body = read_json(response)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("reason") == "client-not-enrolled"


def _field(found: dict[str, Any], name: str) -> Any:
    """``found[name]``, or the same field under X's newer name (:data:`_NEWER_NAME`)."""
    value = found.get(name)
    return found.get(_NEWER_NAME.get(name, "")) if value is None else value


_INTERACTION_FIELDS = {
    "tweet.fields": "author_id,conversation_id,created_at,referenced_tweets",
    "expansions": "author_id",
    "user.fields": "name,username",
}
_CHUNKED_CATEGORY = {"image/gif": "tweet_gif", "video/mp4": "tweet_video"}
_ONE_SHOT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


class X(Platform):
    """X (formerly Twitter), through the API v2 with an OAuth 2.0 user token."""

    name: ClassVar[str] = "x"
    title: ClassVar[str] = "X"
    limits: ClassVar[Limits] = Limits(
        max_characters=280,
        url_length=23,
        max_media=4,
        image_types=frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
        video_types=frozenset({"video/mp4"}),
        max_image_bytes=5 * 1024 * 1024,
        max_video_bytes=512 * 1024 * 1024,
        max_gif_bytes=15 * 1024 * 1024,
        # Media best practices (accounts without X Premium, whose limits are longer):
        # 0.5 s to 140 s, at most 60 fps, aspect 1:3 to 3:1, H.264 with AAC, mono or stereo.
        video=VideoLimits(
            min_duration=0.5,
            max_duration=140,
            min_aspect_ratio=1 / 3,
            max_aspect_ratio=3,
            max_frame_rate=60,
            video_codecs=frozenset({"h264"}),
            audio_codecs=frozenset({"aac"}),
            max_audio_channels=2,
            source="https://docs.x.com/x-api/media/quickstart/best-practices",
        ),
        alt_text=True,
        max_alt_text=1000,
        threads=True,
        reply_restriction=REPLY_RULE,
        delete=True,
        post_metrics=frozenset(_METRICS),
        account_metrics=frozenset({"followers", "following", "posts"}),
    )
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token",)
    #: optional credentials for renewing the token (client_id is not secret)
    optional_secrets: ClassVar[tuple[str, ...]] = ("refresh_token", "client_secret")
    default_base_url: ClassVar[str | None] = "https://api.x.com"
    idempotency_window: ClassVar[float | None] = None  # X has no idempotency key

    #: seconds between media STATUS polls when X does not say (check_after_secs)
    media_poll_interval: ClassVar[float] = 1.0
    #: the longest wait for media processing before giving up
    media_processing_timeout: ClassVar[float] = 300.0
    #: bytes per APPEND segment of a chunked upload: each goes base64-encoded in JSON, and X
    #: takes a base64 chunk of at most 5 MB (APPEND reference: "media_data ... must be <= 5
    #: MB"); 3 MiB encodes to 4 MiB of base64, under that limit however MB is counted
    chunk_size: ClassVar[int] = 3 * 1024 * 1024
    #: pages of 100 read at most by fetch_replies and fetch_mentions
    max_pages: ClassVar[int] = 10
    #: Most pages (100 posts each) one ``search`` call reads: recent search has its own
    #: 15-minute window (its rate budget), and on pay-per-use every post read is billed
    max_search_pages: ClassVar[int] = 2
    search_support: ClassVar[str | None] = (
        "words, #hashtags and phrases through GET /2/tweets/search/recent (the last 7 days, "
        "reposts left out), where the app's access level includes search (X answers 403 "
        "client-not-enrolled where it does not)"
    )

    def __init__(self, account: Account, context: AdapterContext) -> None:
        super().__init__(account, context)
        self._user: dict[str, str] | None = None
        #: Renewals at ``POST /2/oauth2/token``: the client secret (of a confidential client)
        #: as HTTP Basic, never sent twice (X burns a refresh token at its first use and
        #: rotates it at every renewal).
        self.tokens = TokenRefresh(
            self,
            token_url="/2/oauth2/token",  # noqa: S106 - a path, not a password
            refused=self._renewal_refused,
            unusable=self._renewal_unusable,
            client_auth="basic",
        )

    # -- offline -------------------------------------------------------------------------

    @classmethod
    def count_characters(cls, text: str, limits: Limits | None = None) -> int:
        """The weighted length twitter-text gives ``text`` (URLs 23, CJK and emoji 2)."""
        return weighted_length(text)

    @classmethod
    def check_post(cls, post: Post, limits: Limits) -> list[Problem]:
        """X takes up to four images, or one GIF, or one video, never a mix; no text holding
        U+FFFE, U+FEFF or U+FFFF (twitter-text counts such a post invalid); and a reply gets a
        warning about X's rule on API replies (offline, govsocial cannot tell whether the
        author mentioned the account, nor the app's access tier)."""
        problems: list[Problem] = []
        refused = invalid_characters(post.text)
        if refused:
            problems.append(
                Problem(
                    code="invalid_characters",
                    message="X refuses a post holding "
                    + ", ".join(f"U+{ord(c):04X}" for c in refused)
                    + " (twitter-text's invalid characters): remove "
                    + ("it" if len(refused) == 1 else "them"),
                    field="text",
                    platform=cls.name,
                )
            )
        if post.reply_to is not None and limits.reply_restriction:
            problems.append(
                Problem(
                    code="reply_restricted",
                    message=f"X may refuse this reply: {REPLY_RULE}. It goes through when the "
                    "post replied to mentions this account (a citizen writing @humas_kota), "
                    f"or when the app is Enterprise or Public Utility ({REPLY_RULE_DOCS})",
                    field="reply_to",
                    platform=cls.name,
                    severity="warning",
                )
            )
        moving = [
            i for i, m in enumerate(post.media) if m.kind == "video" or m.mime_type == "image/gif"
        ]
        if moving and len(post.media) > 1:
            problems.append(
                Problem(
                    code="media_mix",
                    message="X takes up to 4 images, or 1 GIF, or 1 video in a post, "
                    f"not {len(post.media)} items with a GIF or video among them",
                    field=f"media[{moving[0]}]",
                    platform=cls.name,
                    limit=1,
                )
            )
        return problems

    async def get_limits(self) -> Limits:
        """The declared limits; an account whose ``access_tier`` is ``enterprise`` or
        ``public-utility`` (exempt from X's reply rule) gets no reply warning."""
        if self.access_tier() in EXEMPT_TIERS:
            return self.limits.model_copy(update={"reply_restriction": None})
        return self.limits

    def access_tier(self) -> str | None:
        """The app's X API access tier, as the account's optional ``access_tier`` credential
        says (free, basic, pro, pay-per-use, enterprise, public-utility; not secret). X tells
        no app its tier on a read, so govsocial takes the account's word for it."""
        if "access_tier" not in self.account.credentials:
            return None
        return self.account.credential("access_tier").strip().lower() or None

    @classmethod
    def check_account(cls, account: Account) -> None:
        super().check_account(account)
        if "access_tier" in account.credentials:
            tier = account.credential("access_tier").strip().lower()
            if tier not in EXEMPT_TIERS | RESTRICTED_TIERS:
                raise ConfigurationError(
                    f"account {account.handle} on X has access_tier {tier!r}",
                    field="credentials.access_tier",
                    hint="use one of " + ", ".join(sorted(EXEMPT_TIERS | RESTRICTED_TIERS)),
                )
        if "refresh_token" in account.credentials and "client_id" not in account.credentials:
            raise ConfigurationError(
                f"account {account.handle} on X has a refresh_token but no client_id",
                field="credentials.client_id",
                hint="add the OAuth 2.0 Client ID of the app (developer portal, Keys and "
                "tokens); add client_secret too for a confidential client",
            )

    # -- HTTP answers --------------------------------------------------------------------

    @classmethod
    def rate_state(cls, response: httpx.Response) -> RateState | None:
        """The endpoint's 15-minute window (x-rate-limit-*)."""
        return ratelimits.window_state(response)

    @classmethod
    def rate_bucket(cls, method: str, url: str) -> str:
        """X limits each endpoint in its own 15-minute window: one budget per method and
        path, ids replaced (``GET /2/users/:id/mentions``), so spending the mentions window
        never holds back publishing."""
        return ratelimits.endpoint(method, url)

    @classmethod
    def retry_after(cls, response: httpx.Response) -> float | None:
        """Seconds until the spent limit resets: the 24-hour cap when it is spent, else the
        15-minute window (X sends no Retry-After)."""
        daily = ratelimits.exhausted_daily_limit(response)
        if daily is not None:
            return ratelimits.seconds_until(daily.reset_at)
        state = ratelimits.window_state(response)
        if state is None or state.reset_at is None:
            return super().retry_after(response)
        if response.status_code == 429 or state.remaining == 0:
            return ratelimits.seconds_until(state.reset_at)
        return None

    @classmethod
    def error_message(cls, response: httpx.Response) -> str:
        """X's own words: a problem's detail, an errors[] message, or an OAuth error."""
        try:
            body = read_json(response)
        except ValueError:
            return response.text[:300].strip() or response.reason_phrase
        if not isinstance(body, dict):
            return response.text[:300]
        for key in ("detail", "error_description"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            for key in ("message", "detail", "title"):
                value = first.get(key)
                if isinstance(value, str) and value:
                    return value
        for key in ("title", "error", "message"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        return response.text[:300]

    def error_for(self, response: httpx.Response) -> GovSocialError:
        message = self.error_message(response)
        status = response.status_code
        handle = self.account.handle
        if status == 401:
            renew = (
                "the refresh token was used and the new token was refused as well: "
                if self._can_refresh()
                else "the token expired (OAuth 2.0 user tokens last 2 hours) or was revoked: "
                "add refresh_token and client_id to the account so govsocial renews it, or "
            )
            return AuthenticationError(
                f"X rejected the access token of {handle}: {message}",
                platform=self.name,
                hint=renew + _REAUTHORISE,
            )
        if status == 429 or self.is_throttled(response):
            daily = ratelimits.exhausted_daily_limit(response)
            if daily is not None:
                why = daily.describe()
            else:
                state = ratelimits.window_state(response)
                reset = state.reset_at if state is not None else None
                why = "the 15-minute limit of this endpoint is used up" + (
                    f" until {_clock(reset)}" if reset is not None else ""
                )
            return RateLimited(
                f"X rate limit reached for {handle}: {why} ({message})",
                retry_after=self.retry_after(response),
                platform=self.name,
                body=message,
            )
        if status == 403 and _DUPLICATE_MARK in message.lower():
            return PlatformError(
                f"X refused the post for {handle} as a duplicate: {message} The same text "
                "was already published by this account, so the earlier post exists",
                platform=self.name,
                status=status,
                body=message,
                field="text",
                hint="X has no idempotency key and rejects a repeated text: look for the "
                "earlier post on the account before changing the text and sending again",
            )
        if status == 403 and any(mark in message.lower() for mark in _REPLY_REFUSED_MARKS):
            return PlatformError(
                f"X refused the reply of {handle}: {message}",
                platform=self.name,
                status=status,
                body=message,
                field="reply_to",
                hint=(
                    f"the account says access_tier {self.access_tier()}, but X applied the "
                    "rule, so check the app's tier on the developer portal; "
                    if self.access_tier() in EXEMPT_TIERS
                    else ""
                )
                + f"this is X's reply rule, not a problem with the token: {REPLY_RULE}. "
                "Answer in a new post that mentions the citizen instead (not a reply), reply "
                "in the X app, or apply for the Public Utility tier, which government "
                f"accounts may (see {REPLY_RULE_DOCS})",
            )
        if status == 403 and _not_enrolled(response):
            return _NotEnrolled(
                f"X refused the request for {handle} (403 client-not-enrolled): {message}",
                platform=self.name,
                status=status,
                body=message,
                hint="the app's access level does not include this endpoint: move the app "
                "into a Project with a level that does (developer portal)",
            )
        if status == 403:
            return PlatformError(
                f"X refused the request for {handle} (403): {message}",
                platform=self.name,
                status=status,
                body=message,
                hint="check that the app sits in a Project with an access level that allows "
                "this endpoint, and that the token has the scopes " + " ".join(SCOPES),
            )
        return PlatformError(
            f"X answered {status} for {handle}: {message}",
            platform=self.name,
            status=status,
            body=message,
        )

    # -- credentials -----------------------------------------------------------------------

    def _optional(self, name: str) -> str | None:
        if name in self._refreshed or name in self.account.credentials:
            return self.credential(name)
        return None

    def _can_refresh(self) -> bool:
        return "refresh_token" in self.account.credentials and (
            "client_id" in self.account.credentials
        )

    def iter_credentials(self) -> Iterator[str]:
        yield from super().iter_credentials()
        for name in self.optional_secrets:
            try:
                value = self._optional(name)
            except GovSocialError:
                continue
            if value:
                yield value

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request with the bearer token; on 401 renew the token once and repeat it.

        Repeating is safe even for a create: a 401 means X did nothing.
        """
        token = self.credential("access_token")
        try:
            return await self.request(method, path, headers=self._auth(token), **kwargs)
        except AuthenticationError:
            if not self._can_refresh():
                raise
        await self.tokens.renew(token)
        return await self.request(
            method, path, headers=self._auth(self.credential("access_token")), **kwargs
        )

    def _renewal_refused(self, error: GovSocialError) -> AuthenticationError:
        if isinstance(error, PlatformError):
            return self._refresh_refused(error.body or error.message)
        return self._refresh_refused(error.message)

    def _renewal_unusable(self, response: httpx.Response, why: str, field: str) -> GovSocialError:
        return self._refresh_refused(why)

    def _refresh_refused(self, why: str) -> AuthenticationError:
        return AuthenticationError(
            f"X rejected the access token of {self.account.handle} and refused to renew it: "
            f"{scrub(why, self.iter_credentials())}",
            platform=self.name,
            hint="the refresh token may be revoked, expired or already used (X replaces it "
            "at every renewal; keep the newest one): " + _REAUTHORISE,
        )

    # -- publishing ------------------------------------------------------------------------

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """Upload the media (reusing uploads a checkpoint remembers), then ``POST /2/tweets``."""
        key = idempotency_key or self.new_idempotency_key()
        payload: dict[str, Any] = {}
        if post.text:
            payload["text"] = post.text
        if post.reply_to is not None:
            if post.reply_to.platform != self.name:
                raise ConfigurationError(
                    f"reply_to is a {post.reply_to.platform} post; X can only reply to X posts",
                    field="reply_to",
                )
            payload["reply"] = {"in_reply_to_tweet_id": post.reply_to.id}
        if post.media:
            saved = self.checkpoint(key)
            media_ids = []
            for index, media in enumerate(post.media):
                media_id = saved.get(f"media_id[{index}]")
                if media_id is None:
                    media_id = await self._upload(index, media, key)
                    self.save_checkpoint(key, **{f"media_id[{index}]": media_id})
                media_ids.append(media_id)
            payload["media"] = {"media_ids": media_ids}
        response = await self._call(
            "POST", "/2/tweets", json=payload, create=True, idempotency_key=key
        )
        body = json_object(response)
        data = body.get("data") if body else None
        if not isinstance(data, dict) or not _is_id(data.get("id")):
            raise PublishOutcomeUnknown(
                f"X accepted the post for {self.account.handle} (HTTP {response.status_code}) "
                "but its answer could not be read, so the new post id is unknown",
                platform=self.name,
                account=self.account.handle,
                idempotency_key=key,
                detail={"body": scrub(response.text, self.iter_credentials())[:200]},
            )
        return self._ref(str(data["id"]))

    async def _upload(self, index: int, media: Media, key: str) -> str:
        mime = media.mime_type or "application/octet-stream"
        if mime in _ONE_SHOT_TYPES:
            data = await self.read_media(media)
            response = await self._call(
                "POST",
                "/2/media/upload",
                json={
                    "media": base64.b64encode(data).decode("ascii"),
                    "media_category": "tweet_image",
                    "media_type": mime,
                },
                idempotent=True,  # a repeat only leaves an unused upload behind
            )
            media_id = self._media_id(response, index)
            info = _processing(response)
        elif mime in _CHUNKED_CATEGORY:
            protocol = ChunkedAppend(self, mime, index)
            done = await self.upload(media, protocol, idempotency_key=key, name=f"x_media{index}")
            media_id = done["id"]
            # the FINALIZE answer says how processing goes; after a crash it was not seen,
            # and STATUS says it again
            info = protocol.processing if protocol.finalized else await self._status(media_id)
        else:
            raise ConfigurationError(
                f"X cannot take media[{index}] of type {mime}",
                field=f"media[{index}]",
                hint="use PNG, JPEG, WebP or GIF images, or an MP4 video",
            )
        if info is not None:
            await self._wait_for_processing(index, media_id, info)
        if media.alt_text and media.kind == "image":
            await self._call(
                "POST",
                "/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": media.alt_text}}},
                idempotent=True,  # setting the same alt text twice is harmless
            )
        return media_id

    async def _status(self, media_id: str) -> dict[str, Any] | None:
        response = await self._call(
            "GET", "/2/media/upload", params={"media_id": media_id, "command": "STATUS"}
        )
        return _processing(response)

    async def _wait_for_processing(self, index: int, media_id: str, info: dict[str, Any]) -> None:
        deadline = time.monotonic() + self.media_processing_timeout
        while True:
            state = info.get("state")
            if state == "succeeded" or state is None:
                return
            if state == "failed":
                error = info.get("error")
                why = error.get("message") if isinstance(error, dict) else None
                raise PlatformError(
                    f"X could not process media[{index}] of {self.account.handle}"
                    + (f": {why}" if why else ""),
                    platform=self.name,
                    field=f"media[{index}]",
                    hint="check the file's format, size and duration against X's media rules",
                )
            delay = info.get("check_after_secs")
            wait = float(delay) if isinstance(delay, int) and delay >= 0 else 0.0
            wait = min(max(wait, self.media_poll_interval), 30.0)
            if time.monotonic() + wait > deadline:
                raise PlatformError(
                    f"X was still processing media[{index}] (media {media_id}) of "
                    f"{self.account.handle} after {self.media_processing_timeout:g} s; "
                    "nothing was published",
                    platform=self.name,
                    field=f"media[{index}]",
                    hint="try again later, or upload a smaller or shorter file",
                )
            await asyncio.sleep(wait)
            info = await self._status(media_id) or {"state": "succeeded"}

    def _media_id(self, response: httpx.Response, index: int) -> str:
        body = json_object(response)
        data = body.get("data") if body else None
        media_id = data.get("id") if isinstance(data, dict) else None
        if not _is_id(media_id):
            raise self.unreadable(response, f"the upload of media[{index}]")
        return str(media_id)

    async def delete(self, ref: PostRef) -> None:
        """``DELETE /2/tweets/{id}``; X answers 200 with ``data.deleted`` true or false, and
        false is a failure (the post is still there)."""
        _check_id(ref.id)
        try:
            response = await self._call("DELETE", f"/2/tweets/{path_segment(ref.id)}")
        except PlatformError as error:
            if error.status != 404 or isinstance(error, RateLimited):
                raise
            raise PlatformError(
                f"X has no post {ref.id} of {self.account.handle} to delete: {error.body}",
                platform=self.name,
                status=404,
                body=error.body,
                hint="it may have been deleted already, or belong to another account",
            ) from None
        body = json_object(response)
        data = body.get("data") if body else None
        deleted = data.get("deleted") if isinstance(data, dict) else None
        if deleted is True:
            return
        if deleted is False:
            raise PlatformError(
                f"X answered the delete of post {ref.id} of {self.account.handle} with "
                f'"deleted": false: the post was not deleted',
                platform=self.name,
                status=response.status_code,
                body=self.snippet(response),
                field="ref",
                hint="try again later; if it persists, delete the post in the X app "
                "(https://developer.twitter.com/en/docs/twitter-api/tweets/manage-tweets/"
                "api-reference/delete-tweets-id)",
            )
        raise self.unreadable(response, f"the delete of post {ref.id}")

    async def refresh_credentials(self) -> bool:
        """Renew the OAuth 2 access token with the refresh token (X rotates both)."""
        if not self._can_refresh():
            return False
        await self.tokens.renew(self.credential("access_token"))
        return True

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """Not available: X keeps no idempotency key, so a post cannot be found by one."""
        raise NotImplementedError(
            "X cannot be asked which post a delivery made (it has no idempotency key); a "
            "repeated text is refused as a duplicate, so check the account's recent posts "
            "by hand before sending again"
        )

    # -- reading ---------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """``GET /2/tweets?ids=...&tweet.fields=public_metrics``, 100 ids a request."""
        for ref in refs:
            _check_id(ref.id)
        found: dict[str, dict[str, Any]] = {}
        missing: dict[str, str] = {}
        ids = list(dict.fromkeys(ref.id for ref in refs))
        for start in range(0, len(ids), 100):
            batch = ids[start : start + 100]
            response = await self._call(
                "GET",
                "/2/tweets",
                params={"ids": ",".join(batch), "tweet.fields": "public_metrics"},
            )
            body = json_object(response)
            if body is None:
                raise self.unreadable(response, "the post lookup")
            for tweet in _dicts(body.get("data")):
                found[str(tweet.get("id"))] = tweet
            for error in _dicts(body.get("errors")):
                resource = error.get("resource_id") or error.get("value")
                if isinstance(resource, str):
                    missing[resource] = str(error.get("detail") or error.get("title") or "")
        now = datetime.now(UTC)
        results = []
        for ref in refs:
            if ref.id not in found:
                why = missing.get(ref.id, "X did not return it")
                results.append(PostMetrics(ref=ref, collected_at=now, raw={"error": why}))
                continue
            public = found[ref.id].get("public_metrics")
            public = public if isinstance(public, dict) else {}
            values = {name: as_int(_field(public, field)) for name, field in _METRICS.items()}
            results.append(
                PostMetrics(ref=ref, collected_at=now, raw={"public_metrics": public}, **values)
            )
        return results

    async def fetch_account_metrics(self) -> AccountMetrics:
        """``GET /2/users/me?user.fields=public_metrics``."""
        user = await self._me(fields="public_metrics")
        public = user.get("public_metrics")
        public = public if isinstance(public, dict) else {}
        return AccountMetrics(
            account=self.account,
            collected_at=datetime.now(UTC),
            followers=as_int(public.get("followers_count")),
            following=as_int(public.get("following_count")),
            posts=as_int(_field(public, "tweet_count")),
            raw={"public_metrics": public},
        )

    async def check(self) -> AccountCheck:
        """``GET /2/users/me``: that the token works, whose it is, and the endpoint's rate
        window. X tells neither the token's scopes nor the app's access tier on a read, so
        posting, deleting and post figures stay "cannot tell"; replies carry X's reply rule."""
        with self.recording_calls() as log:
            try:
                user = await self._me(fields="public_metrics")
            except AuthenticationError as error:
                return self.refused_check(error, log)
        username = user.get("username")
        declared = self.access_tier()
        if declared in EXEMPT_TIERS:
            reply: tuple[bool | None, str, str | None] = (
                True,
                f"the account says the app is {declared}, which X's reply rule of "
                "2026-02-23 spares (X does not tell; the first refused reply would)",
                None,
            )
        else:
            said = f" (access_tier {declared})" if declared else ""
            reply = (
                None,
                f"only to posts that mention or quote this account{said}, unless the app is "
                f"Enterprise or Public Utility ({REPLY_RULE_DOCS})",
                None,
            )
        tier = (
            "X's answer tells neither the token's scopes nor the app's access tier: the first "
            "post shows them (a 403 names what is missing)"
        )
        return self.checked(
            log,
            identity=f"@{username}" if isinstance(username, str) and username else None,
            notes=[f"replies: {REPLY_RULE}"],
            post=(None, tier, None),
            reply=reply,
            delete=(None, tier, None),
            metrics=(None, "reading posts' figures depends on the app's access tier", None),
            account_metrics=(True, "GET /2/users/me answered the account's figures", None),
        )

    async def _me(self, fields: str | None = None) -> dict[str, Any]:
        params = {"user.fields": fields} if fields else {}
        response = await self._call("GET", "/2/users/me", params=params)
        body = json_object(response)
        data = body.get("data") if body else None
        if not isinstance(data, dict) or not _is_id(data.get("id")):
            raise self.unreadable(response, "the account lookup")
        self._user = {"id": str(data["id"]), "username": str(data.get("username") or "")}
        return data

    async def _user_id(self) -> str:
        if self._user is None:
            await self._me()
        assert self._user is not None
        return self._user["id"]

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """Recent search ``conversation_id:<id>`` (X's recent search covers 7 days)."""
        _check_id(ref.id)
        params = {"query": f"conversation_id:{ref.id}", "max_results": "100"}
        tweets = await self._pages("/2/tweets/search/recent", params, "next_token")
        replies = [t for t in tweets if t[0].get("id") != ref.id]
        return self._interactions(replies, "reply")

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """``GET /2/users/{id}/mentions`` (start_time from ``since``)."""
        user_id = await self._user_id()
        params = {"max_results": "100"}
        if since is not None:
            moment = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
            params["start_time"] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        tweets = await self._pages(
            f"/2/users/{path_segment(user_id)}/mentions", params, "pagination_token"
        )
        found = self._interactions(tweets, "mention")
        if since is not None:
            moment = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
            found = [i for i in found if i.created_at > moment]
        return found

    async def search(
        self, query: str, *, cursor: str | None = None, since: datetime | None = None
    ) -> SearchPage:
        """Posts about ``query`` from ``GET /2/tweets/search/recent``, newer than the
        cursor (``since_id``: the newest post id seen) or, on a first search, ``start_time``
        (``since``, at most 7 days back: recent search covers no more); reposts left out.
        At most :attr:`max_search_pages` pages of 100.

        :raises NotSupported: X answered 403 client-not-enrolled: the app's access level
            has no search.
        """
        parsed = parse_query(query)
        params = {"query": f"{parsed.text} -is:retweet", "max_results": "100"}
        if cursor and cursor.isdigit():
            params["since_id"] = cursor
        elif since is not None:
            moment = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
            floor = datetime.now(UTC) - timedelta(days=7) + timedelta(minutes=1)
            params["start_time"] = max(moment, floor).strftime("%Y-%m-%dT%H:%M:%SZ")
        query_params = {**params, **_INTERACTION_FIELDS}
        found: list[tuple[dict[str, Any], dict[str, dict[str, Any]]]] = []
        requests, complete, newest = 0, True, None
        for page_number in range(self.max_search_pages):
            try:
                response = await self._call("GET", "/2/tweets/search/recent", params=query_params)
            except _NotEnrolled as refused:
                raise NotSupported(
                    f"X does not let this app search: {refused.body} (recent search needs an "
                    "access level that includes it; the Free level does not)",
                    platform=self.name,
                    action="search",
                    hint="upgrade the app's access level on the X developer portal, or "
                    "watch the topic on another platform",
                ) from None
            requests += 1
            body = json_object(response)
            if body is None:
                raise self.unreadable(response, "the recent search")
            includes = body.get("includes")
            users = {
                str(u.get("id")): u
                for u in _dicts(includes.get("users") if isinstance(includes, dict) else None)
            }
            found.extend((tweet, users) for tweet in _dicts(body.get("data")))
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            assert isinstance(meta, dict)
            if page_number == 0 and _is_id(meta.get("newest_id")):
                newest = str(meta["newest_id"])
            next_token = meta.get("next_token")
            if not isinstance(next_token, str) or not next_token:
                break
            if page_number == self.max_search_pages - 1:
                complete = False
            query_params = {**query_params, "next_token": next_token}
        posts = [
            FoundPost(
                ref=i.ref,
                author=i.author,
                author_name=i.author_name,
                text=i.text,
                created_at=i.created_at,
            )
            for i in self._interactions(found, "mention")
        ]
        if newest is None and posts:
            newest = max((p.ref.id for p in posts), key=int)
        return SearchPage(posts=posts, cursor=newest, complete=complete, requests=requests)

    async def fetch_activity(
        self,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
        posts: Sequence[PostRef] = (),
    ) -> Activity:
        """Replies and mentions in one read of the mentions timeline
        (``GET /2/users/:id/mentions``): X lists there every post that names the account,
        and a reply names the author it answers, so replies to the account's posts (of any
        age) are in it; ``conversation_id`` threads them. ``posts`` is not needed.

        ``since_id`` after the newest id read (without a cursor, ``start_time`` from
        ``since``), newest first, 100 a page, ``max_pages`` pages. When the cap stops the
        read before it reaches the previous cursor, the stretch left (``since_id`` to
        ``until_id``, the oldest id read) goes into the cursor and is read next time: nothing
        is skipped. One request per sync while fewer than 100 arrive: the account's user id
        is asked once (``GET /2/users/me``) and kept in the cursor. X bills reads by the
        post returned, so a sync costs what arrived, not what was published.
        """
        user, after, gaps = _activity_state(cursor)
        if user is None:
            user = await self._user_id()
        budget = [self.max_pages]
        found: dict[str, Interaction] = {}
        start = None if after is not None else since
        newest, stopped = await self._mention_stretch(user, after, None, start, found, budget)
        left: list[tuple[str, str]] = []
        if stopped is not None and after is not None:
            left.append((after, stopped))
        for low, high in gaps:
            end: str | None = high
            if budget[0] > 0:
                _, end = await self._mention_stretch(user, low, high, None, found, budget)
            if end is not None:
                left.append((low, end))
        newest = max((i for i in (newest, after) if i is not None), key=int, default=None)
        state = {"user": user, "since_id": newest, "gaps": [list(g) for g in left[:5]]}
        notes: tuple[str, ...] = ()
        if len(left) > 5:
            notes = (
                "more mentions arrived than five syncs could read; the oldest unread "
                "ones were given up: sync more often",
            )
        ordered = sorted(found.values(), key=lambda i: (i.created_at, int(i.ref.id)))
        return Activity(
            interactions=tuple(ordered), cursor=json.dumps(state, sort_keys=True), notes=notes
        )

    async def _mention_stretch(
        self,
        user: str,
        since_id: str | None,
        until_id: str | None,
        start: datetime | None,
        found: dict[str, Interaction],
        budget: list[int],
    ) -> tuple[str | None, str | None]:
        """Mentions between ``since_id`` and ``until_id`` (or from ``start``) into
        ``found``, spending pages of ``budget``: the newest id read, and the oldest when the
        budget ran out with more to read (None: read to the end)."""
        params = {"max_results": "100", **_INTERACTION_FIELDS}
        if since_id is not None:
            params["since_id"] = since_id
        if until_id is not None:
            params["until_id"] = until_id
        if start is not None:
            moment = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
            params["start_time"] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        newest: str | None = None
        oldest: str | None = None
        while budget[0] > 0:
            budget[0] -= 1
            response = await self._call(
                "GET", f"/2/users/{path_segment(user)}/mentions", params=params
            )
            body = json_object(response)
            if body is None:
                raise self.unreadable(response, "the mentions timeline")
            includes = body.get("includes")
            users = {
                str(u.get("id")): u
                for u in _dicts(includes.get("users") if isinstance(includes, dict) else None)
            }
            tweets = [(tweet, users) for tweet in _dicts(body.get("data"))]
            for item in self._interactions(tweets, "mention"):
                found.setdefault(item.ref.id, item)
                if newest is None or int(item.ref.id) > int(newest):
                    newest = item.ref.id
                if oldest is None or int(item.ref.id) < int(oldest):
                    oldest = item.ref.id
            meta = body.get("meta")
            next_token = meta.get("next_token") if isinstance(meta, dict) else None
            if not isinstance(next_token, str) or not next_token or not tweets:
                return newest, None
            params = {**params, "pagination_token": next_token}
        return newest, oldest

    async def _pages(
        self, path: str, params: dict[str, str], token_name: str
    ) -> list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]:
        """Tweets of every page (up to ``max_pages``), each with the users it expands."""
        found: list[tuple[dict[str, Any], dict[str, dict[str, Any]]]] = []
        query = {**params, **_INTERACTION_FIELDS}
        for _ in range(self.max_pages):
            response = await self._call("GET", path, params=query)
            body = json_object(response)
            if body is None:
                raise self.unreadable(response, f"the read of {path}")
            includes = body.get("includes")
            users = {
                str(u.get("id")): u
                for u in _dicts(includes.get("users") if isinstance(includes, dict) else None)
            }
            found.extend((tweet, users) for tweet in _dicts(body.get("data")))
            meta = body.get("meta")
            next_token = meta.get("next_token") if isinstance(meta, dict) else None
            if not isinstance(next_token, str) or not next_token:
                break
            query = {**query, token_name: next_token}
        return found

    def _interactions(
        self, tweets: Iterable[tuple[dict[str, Any], dict[str, dict[str, Any]]]], kind: str
    ) -> list[Interaction]:
        found = []
        for tweet, users in tweets:
            tweet_id = tweet.get("id")
            created = parse_time(tweet.get("created_at"))
            if not _is_id(tweet_id) or created is None:
                continue
            author = users.get(str(tweet.get("author_id")), {})
            username = author.get("username")
            replied = [
                r.get("id")
                for r in _dicts(_field(tweet, "referenced_tweets"))
                if r.get("type") == "replied_to"
            ]
            conversation = tweet.get("conversation_id")
            found.append(
                Interaction(
                    kind="reply" if kind == "reply" else "mention",
                    ref=self._ref(str(tweet_id)),
                    author=f"@{username}" if username else str(tweet.get("author_id") or ""),
                    author_name=author.get("name") if isinstance(author.get("name"), str) else None,
                    text=html.unescape(str(tweet.get("text") or "")),
                    created_at=created,
                    in_reply_to_id=str(replied[0]) if replied else None,
                    thread_id=str(conversation) if _is_id(conversation) else None,
                )
            )
        found.sort(key=lambda i: (i.created_at, int(i.ref.id)))
        return found

    # -- helpers ---------------------------------------------------------------------------

    def _ref(self, post_id: str) -> PostRef:
        return PostRef(
            platform=self.name,
            account=self.account,
            id=post_id,
            url=f"https://x.com/i/web/status/{post_id}",
        )


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M UTC")


def _processing(response: httpx.Response) -> dict[str, Any] | None:
    body = json_object(response)
    data = body.get("data") if body else None
    info = data.get("processing_info") if isinstance(data, dict) else None
    return info if isinstance(info, dict) else None


def _activity_state(cursor: str | None) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    """The user id, the newest mention id read and the unread stretches (since id, until
    id) of a cursor :meth:`X.fetch_activity` wrote; nothing of one it cannot read."""
    try:
        state = json.loads(cursor) if cursor else {}
    except ValueError:
        return None, None, []
    if not isinstance(state, dict):
        return None, None, []
    user, after = state.get("user"), state.get("since_id")
    gaps = [
        (str(g[0]), str(g[1]))
        for g in state.get("gaps") or []
        if isinstance(g, list) and len(g) == 2 and all(_is_id(i) for i in g)
    ]
    return (
        str(user) if _is_id(user) else None,
        str(after) if _is_id(after) else None,
        gaps,
    )


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _is_id(value: Any) -> bool:
    text = str(value)
    return (
        isinstance(value, str | int)
        and not isinstance(value, bool)
        and text.isascii()
        and text.isdigit()
    )


def _check_id(value: str) -> None:
    if not value.isdigit() or len(value) > 19:
        raise ConfigurationError(
            f"{value!r} is not an X post id (X ids are up to 19 digits)", field="ref.id"
        )


class ChunkedAppend:
    """X's chunked media upload (INIT, APPEND, FINALIZE) as an
    :class:`~govsocial.adapters.UploadProtocol` for the upload engine.

    ``POST /2/media/upload/initialize`` with ``total_bytes`` gives the media id; each
    ``/{id}/append`` sends one segment (``segment_index``, base64 in JSON); ``/{id}/finalize``
    closes it (https://docs.x.com/x-api/media/quickstart/media-upload-chunked). Segments are
    :attr:`X.chunk_size` bytes, so an offset is a segment index times that size. X cannot be
    asked which segments it holds before FINALIZE, so a resumed upload goes on after the last
    segment the checkpoint says X acknowledged (a segment sent again replaces itself); an
    upload older than X keeps it (``expires_after_secs``, 24 hours) is started again.
    """

    def __init__(self, adapter: X, mime: str, index: int) -> None:
        self.adapter = adapter
        self.mime = mime
        self.index = index
        self.chunk_size: int | None = adapter.chunk_size
        self.processing: dict[str, Any] | None = None
        self.finalized = False

    async def start(self, size: int) -> dict[str, str]:
        """INIT: the media id, and when X forgets it."""
        response = await self.adapter._call(
            "POST",
            "/2/media/upload/initialize",
            json={
                "media_type": self.mime,
                "media_category": _CHUNKED_CATEGORY[self.mime],
                "total_bytes": size,
            },
            idempotent=True,  # an unused upload publishes nothing and expires
        )
        media_id = self.adapter._media_id(response, self.index)
        body = json_object(response) or {}
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        lifetime = as_int(data.get("expires_after_secs")) if isinstance(data, dict) else None
        expires = time.time() + (lifetime if lifetime is not None else 86400)
        return {"id": media_id, "expires_at": f"{expires:.0f}", "segments": "0"}

    async def received(self, state: dict[str, str], size: int) -> int:
        """The end of the last segment X acknowledged, from the checkpoint."""
        if time.time() > float(state["expires_at"]) - 60:
            raise UploadExpired(f"X's upload {state['id']} expired")
        step = self.chunk_size or self.adapter.chunk_size
        return min(int(state["segments"]) * step, size)

    async def send(self, state: dict[str, str], chunk: bytes, offset: int, size: int) -> int:
        """APPEND the segment at ``offset`` (``segment_index`` = offset / segment size)."""
        step = self.chunk_size or self.adapter.chunk_size
        segment, rest = divmod(offset, step)
        if rest or len(chunk) > step:
            raise PlatformError(
                f"X's segments are {step:,} bytes; the chunk at {offset:,} is not one",
                platform=self.adapter.name,
            )
        await self.adapter._call(
            "POST",
            f"/2/media/upload/{path_segment(state['id'])}/append",
            json={"media": base64.b64encode(chunk).decode("ascii"), "segment_index": segment},
            idempotent=True,  # a segment sent twice replaces itself
        )
        state["segments"] = str(segment + 1)
        return offset + len(chunk)

    async def finish(self, state: dict[str, str], size: int) -> dict[str, str]:
        """FINALIZE; its processing answer is kept for the adapter's wait."""
        response = await self.adapter._call(
            "POST", f"/2/media/upload/{path_segment(state['id'])}/finalize"
        )
        self.adapter._media_id(response, self.index)
        self.processing = _processing(response)
        self.finalized = True
        return {"id": state["id"]}
