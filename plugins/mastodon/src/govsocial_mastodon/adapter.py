"""The Mastodon adapter: publish, delete, measure and read conversations on any instance.

Every call goes through the core's :class:`govsocial.adapters.http.Http` session (pooled, timed out,
retried only when safe). What is Mastodon-specific lives here:

- limits come from the instance (``GET /api/v2/instance``, then ``/api/v1/instance``) and are
  cached per server for all adapters of the process, so fifty concurrent publishes to one
  instance ask it once;
- the create call carries ``Idempotency-Key``, so a repeat of the same delivery returns the
  status already made instead of a second one;
- media go up through ``POST /api/v2/media``; an answer of 202 means the server is still
  processing, and the adapter polls ``GET /api/v1/media/:id`` until it stops answering 206;
- ``X-RateLimit-*`` headers feed the core's rate budget.

API reference: https://docs.joinmastodon.org/methods/statuses/,
https://docs.joinmastodon.org/methods/media/, https://docs.joinmastodon.org/api/rate-limits/.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from govsocial.adapters import (
    AccountCheck,
    AccountMetrics,
    Activity,
    AuthenticationError,
    ConfigurationError,
    FoundPost,
    GovSocialError,
    Interaction,
    Limits,
    LocalServer,
    Media,
    Platform,
    PlatformError,
    Post,
    PostMetrics,
    PostRef,
    PublishOutcomeUnknown,
    RateLimited,
    RateState,
    SearchPage,
    VideoLimits,
    as_dict,
    as_int,
    header_int,
    is_id,
    json_object,
    parse_query,
    parse_time,
    path_segment,
    read_json,
)
from govsocial_mastodon.text import count_characters as _count_characters

__all__ = [
    "ACCOUNT_FIELDS_READ",
    "INSTANCE_FIELDS_READ",
    "STATUS_FIELDS_READ",
    "Mastodon",
    "html_to_text",
    "limits_from_instance",
]

logger = logging.getLogger("govsocial.mastodon")

_MB = 1024 * 1024

#: Fields the adapter reads from a Status entity (checked against the OpenAPI spec in tests).
STATUS_FIELDS_READ: tuple[str, ...] = (
    "id",
    "url",
    "uri",
    "content",
    "created_at",
    "in_reply_to_id",
    "account",
    "favourites_count",
    "reblogs_count",
    "replies_count",
    "quotes_count",
    "reblog",
)
#: Fields read from an Account / CredentialAccount entity.
ACCOUNT_FIELDS_READ: tuple[str, ...] = (
    "id",
    "acct",
    "display_name",
    "followers_count",
    "following_count",
    "statuses_count",
)
#: Paths read from an Instance (v2) entity, as (section, field) under ``configuration``.
INSTANCE_FIELDS_READ: tuple[tuple[str, str], ...] = (
    ("statuses", "max_characters"),
    ("statuses", "max_media_attachments"),
    ("statuses", "characters_reserved_per_url"),
    ("media_attachments", "description_limit"),
    ("media_attachments", "image_size_limit"),
    ("media_attachments", "video_size_limit"),
    ("media_attachments", "supported_mime_types"),
)

_COUNT_FIELDS = ("favourites_count", "reblogs_count", "replies_count", "quotes_count")
_AUTH_FAILURE_PHRASES = (
    "access token is invalid",
    "access token was revoked",
    "access token expired",
    "token is revoked",
)
_AUTH_HINT = (
    "the access token is invalid, expired or revoked: create a new one on the instance "
    "(Preferences > Development, scopes read, write:statuses, write:media) and update the "
    "account's access_token credential"
)


class Mastodon(Platform):
    """Mastodon and API-compatible servers (one adapter per account).

    Accounts need ``base_url`` (the instance) and an ``access_token`` credential with the
    scopes ``read``, ``write:statuses`` and ``write:media``.
    """

    name: ClassVar[str] = "mastodon"
    title: ClassVar[str] = "Mastodon"
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token",)
    #: The server keeps Idempotency-Key for about an hour (per account).
    idempotency_window: ClassVar[float | None] = 3600.0
    limits: ClassVar[Limits] = Limits(
        max_characters=500,
        url_length=23,
        max_media=4,
        image_types=frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
        video_types=frozenset({"video/mp4", "video/webm", "video/quicktime"}),
        max_image_bytes=16 * _MB,
        max_video_bytes=99 * _MB,
        # Mastodon's defaults (app/models/media_attachment.rb), refined by each server's
        # configuration.media_attachments; any codec ffmpeg reads is transcoded, so none
        # is required. No duration limit.
        video=VideoLimits(
            max_frame_rate=120,
            max_pixels=8_294_400,
            source="https://docs.joinmastodon.org/entities/Instance/#media_attachments",
        ),
        alt_text=True,
        max_alt_text=1500,
        threads=True,
        delete=True,
        post_metrics=frozenset({"likes", "reposts", "replies", "quotes"}),
        account_metrics=frozenset({"followers", "following", "posts"}),
    )

    #: Seconds between polls of a media attachment still being processed (doubles, up to 5 s).
    media_poll_interval: ClassVar[float] = 0.5
    #: Longest wait for the server to finish processing one media attachment.
    media_processing_timeout: ClassVar[float] = 120.0
    #: How long instance limits are trusted before they are asked again.
    limits_ttl: ClassVar[float] = 3600.0
    #: How long the declared limits stand in when the instance did not tell its own.
    limits_fallback_ttl: ClassVar[float] = 60.0
    #: Most pages of notifications read by one ``fetch_mentions`` call.
    max_mention_pages: ClassVar[int] = 25
    #: Most requests one call keeps in flight for an account (metrics of many posts).
    max_concurrent_reads: ClassVar[int] = 8
    #: Most pages (40 statuses each) one ``search`` call reads.
    max_search_pages: ClassVar[int] = 5
    search_support: ClassVar[str | None] = (
        "a #hashtag through the tag timeline (GET /api/v1/timelines/tag/:tag, every public "
        "post the server knows); words and phrases through GET /api/v2/search (type "
        "statuses), which finds only posts whose authors allow search (Mastodon 4.2+ "
        "'indexable') on servers with full-text search"
    )

    # -- offline -----------------------------------------------------------------------

    @classmethod
    def count_characters(cls, text: str, limits: Limits | None = None) -> int:
        """Length as Mastodon counts it: grapheme clusters, every URL as ``url_length``."""
        url_length = (limits or cls.limits).url_length
        return _count_characters(text, url_length=url_length if url_length is not None else 23)

    @classmethod
    def count_post(cls, post: Post, limits: Limits | None = None) -> int:
        """Text and content warning together, as the server counts a status."""
        url_length = (limits or cls.limits).url_length
        return _count_characters(
            post.text,
            url_length=url_length if url_length is not None else 23,
            spoiler_text=post.content_warning or "",
        )

    @classmethod
    def local_server(cls) -> AbstractContextManager[LocalServer]:
        """A mastodon-mock server on this machine (needs the ``test`` extra installed)."""
        from govsocial_mastodon.localserver import MastodonMockServer

        return MastodonMockServer()

    # -- HTTP answers ----------------------------------------------------------------------

    @classmethod
    def rate_state(cls, response: httpx.Response) -> RateState | None:
        """``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (an ISO 8601 time)."""
        headers = response.headers
        limit = header_int(headers.get("x-ratelimit-limit"))
        remaining = header_int(headers.get("x-ratelimit-remaining"))
        reset_at = parse_reset(headers.get("x-ratelimit-reset"))
        if limit is None and remaining is None and reset_at is None:
            return None
        return RateState(limit=limit, remaining=remaining, reset_at=reset_at)

    @classmethod
    def error_message(cls, response: httpx.Response) -> str:
        """Mastodon's ``{"error": ..., "error_description": ...}`` text."""
        try:
            body = read_json(response)
        except ValueError:
            return super().error_message(response)
        if isinstance(body, dict):
            error = body.get("error")
            description = body.get("error_description")
            if isinstance(error, str) and error:
                if isinstance(description, str) and description and description not in error:
                    return f"{error}: {description}"
                return error
        return super().error_message(response)

    @classmethod
    def is_auth_failure(cls, response: httpx.Response) -> bool:
        """401, or 403 saying the token is invalid, expired or revoked."""
        if response.status_code == 401:
            return True
        if response.status_code == 403:
            message = cls.error_message(response).lower()
            return any(phrase in message for phrase in _AUTH_FAILURE_PHRASES)
        return False

    def error_for(self, response: httpx.Response) -> GovSocialError:
        error = super().error_for(response)
        if isinstance(error, AuthenticationError):
            return AuthenticationError(error.message, platform=self.name, hint=_AUTH_HINT)
        return error

    # -- limits ------------------------------------------------------------------------------

    @classmethod
    def clear_limits_cache(cls) -> None:
        """Forget every instance's cached limits (they are asked again on next use)."""
        _LIMITS_CACHE.clear()

    async def get_limits(self) -> Limits:
        """The instance's own limits, asked once per instance and cached for ``limits_ttl``."""
        cached = _LIMITS_CACHE.get(self.base_url)
        if cached is not None:
            return cached
        async with _LIMITS_CACHE.lock(self.base_url):
            cached = _LIMITS_CACHE.get(self.base_url)
            if cached is not None:
                return cached
            limits, ttl = await self._fetch_limits()
            _LIMITS_CACHE.put(self.base_url, limits, ttl)
            return limits

    async def _fetch_limits(self) -> tuple[Limits, float]:
        for path in ("/api/v2/instance", "/api/v1/instance"):
            try:
                response = await self.request("GET", path)
                body = read_json(response)
            except (GovSocialError, ValueError) as exc:
                logger.info("%s%s gave no limits (%s)", self.base_url, path, type(exc).__name__)
                continue
            if isinstance(body, dict) and isinstance(body.get("configuration"), dict):
                return limits_from_instance(body, self.limits), self.limits_ttl
        logger.warning(
            "%s did not tell its limits; using Mastodon's defaults for now", self.base_url
        )
        return self.limits, self.limits_fallback_ttl

    # -- publishing --------------------------------------------------------------------------

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """Upload the media, then create the status with ``Idempotency-Key``."""
        key = idempotency_key or self.new_idempotency_key()
        if post.reply_to is not None:
            self._check_reply_target(post.reply_to)
        media_ids = [await self._upload(index, media) for index, media in enumerate(post.media)]
        payload: dict[str, Any] = {"visibility": "public"}
        if post.text:
            payload["status"] = post.text
        if media_ids:
            payload["media_ids"] = media_ids
        if post.reply_to is not None:
            payload["in_reply_to_id"] = post.reply_to.id
        if post.content_warning:
            payload["spoiler_text"] = post.content_warning
        if post.language:
            payload["language"] = post.language
        response = await self.request(
            "POST",
            "/api/v1/statuses",
            json=payload,
            headers={**self._auth(), "Idempotency-Key": key},
            create=True,
            idempotency_key=key,
        )
        status = json_object(response)
        if status is None or not is_id(status.get("id")):
            raise PublishOutcomeUnknown(
                f"{self.title} accepted the post for {self.account.handle} (HTTP "
                f"{response.status_code}) but its answer could not be read, so the new "
                "status id is unknown",
                platform=self.name,
                account=self.account.handle,
                idempotency_key=key,
                detail={"body": self.snippet(response)},
            )
        return self._ref(status, own=True)

    def _check_reply_target(self, target: PostRef) -> None:
        other = (target.account.base_url or "").rstrip("/")
        if other and other != self.base_url:
            raise ConfigurationError(
                f"reply_to is status {target.id} on {other}, but {self.account.handle} posts "
                f"on {self.base_url}; status ids are per instance",
                field="reply_to",
                hint="reply with an account of the same instance, or look the status up on "
                "this instance first",
            )

    async def _upload(self, index: int, media: Media) -> str:
        data = await self.read_media(media)
        mime = media.mime_type or "application/octet-stream"
        form = {"description": media.alt_text} if media.alt_text else {}
        response = await self.request(
            "POST",
            "/api/v2/media",
            files={"file": (_filename(media, index), data, mime)},
            data=form,
            headers=self._auth(),
            idempotent=True,  # a repeated upload only leaves an unattached file behind
        )
        attachment = json_object(response)
        if attachment is None or not is_id(attachment.get("id")):
            raise self.unreadable(response, f"the upload of media[{index}]")
        media_id = str(attachment["id"])
        if response.status_code == 202:
            await self._wait_for_processing(index, media_id)
        return media_id

    async def _wait_for_processing(self, index: int, media_id: str) -> None:
        timeout = self.media_processing_timeout
        deadline = time.monotonic() + timeout
        delay = self.media_poll_interval
        path = f"/api/v1/media/{path_segment(media_id)}"
        while True:
            response = await self.request("GET", path, headers=self._auth())
            if response.status_code != 206:
                return
            if time.monotonic() + delay > deadline:
                raise PlatformError(
                    f"{self.title} was still processing media[{index}] (attachment {media_id}) "
                    f"of {self.account.handle} after {timeout:g} s; nothing was published",
                    platform=self.name,
                    status=206,
                    field=f"media[{index}]",
                    hint="try again later, or upload a smaller or shorter file",
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def delete(self, ref: PostRef) -> None:
        """``DELETE /api/v1/statuses/:id``."""
        try:
            await self.request(
                "DELETE", f"/api/v1/statuses/{path_segment(ref.id)}", headers=self._auth()
            )
        except PlatformError as error:
            if error.status != 404 or isinstance(error, RateLimited):
                raise
            raise PlatformError(
                f"{self.title} has no status {ref.id} of {self.account.handle} to delete: "
                f"{error.body}",
                platform=self.name,
                status=404,
                body=error.body,
                hint="it may have been deleted already, or belong to another account",
            ) from None

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """Not yet: Mastodon cannot be asked which status an Idempotency-Key made."""
        raise NotImplementedError(
            "Mastodon reconciliation is not implemented yet: resend the same delivery with "
            "the same idempotency key within an hour, or check the account by hand"
        )

    # -- reading ---------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """``GET /api/v1/statuses/:id`` per ref, a few at a time."""
        slots = asyncio.Semaphore(self.max_concurrent_reads)

        async def one(ref: PostRef) -> PostMetrics:
            async with slots:
                return await self._metrics(ref)

        return list(await asyncio.gather(*(one(ref) for ref in refs)))

    async def _metrics(self, ref: PostRef) -> PostMetrics:
        response = await self.request(
            "GET", f"/api/v1/statuses/{path_segment(ref.id)}", headers=self._auth()
        )
        status = json_object(response)
        if status is None:
            raise self.unreadable(response, f"status {ref.id}")
        raw = {
            name: value for name in _COUNT_FIELDS if (value := as_int(status.get(name))) is not None
        }
        return PostMetrics(
            ref=ref,
            collected_at=datetime.now(UTC),
            likes=raw.get("favourites_count"),
            reposts=raw.get("reblogs_count"),
            replies=raw.get("replies_count"),
            quotes=raw.get("quotes_count"),
            raw=raw,
        )

    async def fetch_account_metrics(self) -> AccountMetrics:
        """``GET /api/v1/accounts/verify_credentials``."""
        response = await self.request(
            "GET", "/api/v1/accounts/verify_credentials", headers=self._auth()
        )
        account = json_object(response)
        if account is None:
            raise self.unreadable(response, "the account")
        names = ("followers_count", "following_count", "statuses_count")
        raw = {name: value for name in names if (value := as_int(account.get(name))) is not None}
        return AccountMetrics(
            account=self.account,
            collected_at=datetime.now(UTC),
            followers=raw.get("followers_count"),
            following=raw.get("following_count"),
            posts=raw.get("statuses_count"),
            raw=raw,
        )

    async def check(self) -> AccountCheck:
        """``GET /api/v1/accounts/verify_credentials`` (who, and that the token works) and
        ``GET /api/v1/apps/verify_credentials`` (the app's scopes, Mastodon 4.3+: a token
        has its app's scopes or fewer), mapped onto what govsocial needs: write:statuses
        (or write) to post, reply and delete, write:media for media, read for figures."""
        with self.recording_calls() as log:
            try:
                response = await self.request(
                    "GET", "/api/v1/accounts/verify_credentials", headers=self._auth()
                )
            except AuthenticationError as error:
                return self.refused_check(error, log)
            me = json_object(response) or {}
            scopes: list[str] | None = None
            try:
                app = json_object(
                    await self.request(
                        "GET", "/api/v1/apps/verify_credentials", headers=self._auth()
                    )
                )
            except GovSocialError:
                app = None
            listed = app.get("scopes") if app else None
            if isinstance(listed, list) and all(isinstance(x, str) for x in listed):
                scopes = list(listed)
        acct = me.get("acct")
        identity = f"@{acct}" if isinstance(acct, str) and acct else None
        fix = (
            "make a new access token with the scopes read, write:statuses and write:media "
            "(Preferences > Development > the app > scopes) and update the account"
        )

        def has(scope: str) -> bool:
            family = scope.split(":", 1)[0]
            return scopes is not None and (scope in scopes or family in scopes)

        def need(scope: str, what: str) -> tuple[bool | None, str, str | None]:
            if scopes is None:
                return None, f"{self.title} did not list the app's scopes (older than 4.3?)", None
            if has(scope):
                return True, f"scope {scope} granted ({what})", None
            return False, f"the token lacks the scope {scope} ({what})", fix

        post = need("write:statuses", "to post")
        notes = []
        if post[0] and not has("write:media"):
            notes.append("without write:media, posts with images fail: " + fix)
        return self.checked(
            log,
            identity=identity,
            scopes=scopes,
            notes=notes,
            post=post,
            reply=need("write:statuses", "a reply is a post"),
            delete=need("write:statuses", "to delete a post"),
            metrics=need("read:statuses", "to read posts' counts"),
            account_metrics=(True, "verify_credentials answered the account's counts", None),
        )

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """The descendants of ``GET /api/v1/statuses/:id/context``, oldest first."""
        response = await self.request(
            "GET", f"/api/v1/statuses/{path_segment(ref.id)}/context", headers=self._auth()
        )
        context = json_object(response)
        if context is None:
            raise self.unreadable(response, f"the replies to status {ref.id}")
        descendants = context.get("descendants")
        found = self._interactions(descendants if isinstance(descendants, list) else [], "reply")
        return sorted(found, key=lambda item: item.created_at)

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """``GET /api/v1/notifications?types[]=mention``, following ``Link`` pages, down to
        ``since``: by the notification's time (this server's clock, its ``received_at``),
        never by the status's ``created_at``, which the author's server writes."""
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        url = f"{self.base_url}/api/v1/notifications"
        params: dict[str, str] | None = {"types[]": "mention", "limit": "40"}
        found: dict[str, Interaction] = {}
        for _page in range(self.max_mention_pages):
            response = await self.request("GET", url, params=params, headers=self._auth())
            page = _json_list(response)
            if page is None:
                raise self.unreadable(response, "the notifications")
            reached_since = False
            for notification in page:
                if not isinstance(notification, dict) or notification.get("type") != "mention":
                    continue
                arrived = parse_time(notification.get("created_at"))
                if since is not None and arrived is not None and arrived <= since:
                    reached_since = True
                    continue
                status = notification.get("status")
                if not isinstance(status, dict):
                    continue
                for interaction in self._interactions([status], "mention"):
                    if arrived is not None:
                        interaction = interaction.model_copy(update={"received_at": arrived})
                    found.setdefault(interaction.ref.id, interaction)
            next_url = response.links.get("next", {}).get("url")
            if reached_since or not page or not next_url or not self._same_origin(next_url):
                break
            url, params = next_url, None
        return sorted(found.values(), key=lambda item: item.received_at or item.created_at)

    async def search(
        self, query: str, *, cursor: str | None = None, since: datetime | None = None
    ) -> SearchPage:
        """Public statuses about ``query`` newer than ``cursor`` (the newest status id seen).

        A ``#hashtag`` reads the tag timeline, newest first, following ``Link`` pages back
        to the cursor (or to ``since``); words and phrases ask ``/api/v2/search`` for
        statuses (``min_id`` = the cursor, then ``offset`` pages). Each post's ``key`` is
        the status's ``uri``, the same on every server, so one post seen through two
        instances is stored once.
        """
        parsed = parse_query(query)
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        found: dict[str, dict[str, Any]] = {}
        requests = 0
        complete = True
        if parsed.tag is not None:
            url = f"{self.base_url}/api/v1/timelines/tag/{path_segment(parsed.tag)}"
            params: dict[str, str] | None = {"limit": "40"}
            if cursor:
                params = {"limit": "40", "since_id": cursor}
            for page_number in range(self.max_search_pages):
                response = await self.request("GET", url, params=params, headers=self._auth())
                requests += 1
                page = _json_list(response)
                if page is None:
                    raise self.unreadable(response, f"the timeline of #{parsed.tag}")
                older = self._keep_newer(page, found, cursor, since)
                next_url = response.links.get("next", {}).get("url")
                if older or not page or not next_url or not self._same_origin(next_url):
                    break
                if page_number == self.max_search_pages - 1:
                    complete = False
                url, params = next_url, None
        else:
            base = {"q": parsed.text, "type": "statuses", "limit": "40", "resolve": "false"}
            if cursor:
                base["min_id"] = cursor
            for page_number in range(self.max_search_pages):
                params = {**base, "offset": str(page_number * 40)} if page_number else base
                response = await self.request(
                    "GET", f"{self.base_url}/api/v2/search", params=params, headers=self._auth()
                )
                requests += 1
                body = json_object(response)
                statuses = body.get("statuses") if body is not None else None
                if not isinstance(statuses, list):
                    raise self.unreadable(response, f"the search for {parsed.text!r}")
                older = self._keep_newer(statuses, found, cursor, since)
                if older or len(statuses) < 40:
                    break
                if page_number == self.max_search_pages - 1:
                    complete = False
        posts = [self._found(status) for status in found.values()]
        posts.sort(key=lambda p: (p.created_at, _id_order(p.ref.id)))
        newest = max((p.ref.id for p in posts), key=_id_order, default=None)
        return SearchPage(
            posts=posts,
            cursor=newest if newest is not None and _newer(newest, cursor) else None,
            complete=complete,
            requests=requests,
        )

    @staticmethod
    def _keep_newer(
        statuses: list[Any],
        found: dict[str, dict[str, Any]],
        cursor: str | None,
        since: datetime | None,
    ) -> bool:
        """Keep the statuses of a page newer than ``cursor`` and ``since``; whether the page
        reached older ones (paging back can stop)."""
        older = False
        for status in statuses:
            if not isinstance(status, dict) or not is_id(status.get("id")):
                continue
            if status.get("reblog") is not None:  # a boost is not someone's own words
                continue
            sid = str(status["id"])
            created = parse_time(status.get("created_at"))
            if not _newer(sid, cursor) or (
                since is not None and created is not None and created < since
            ):
                older = True
                continue
            found.setdefault(sid, status)
        return older

    def _found(self, status: dict[str, Any]) -> FoundPost:
        author = as_dict(status.get("account"))
        acct, display = author.get("acct"), author.get("display_name")
        uri = status.get("uri")
        ref = self._ref(status)
        return FoundPost(
            ref=ref,
            key=uri if isinstance(uri, str) and uri else ref.id,
            author=acct if isinstance(acct, str) else "",
            author_name=display if isinstance(display, str) and display else None,
            text=html_to_text(str(status.get("content") or "")),
            created_at=parse_time(status.get("created_at")) or datetime.now(UTC),
        )

    async def fetch_activity(
        self,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
        posts: Sequence[PostRef] = (),
    ) -> Activity:
        """Replies and mentions in two requests, whatever the number of posts:

        1. ``GET /api/v1/notifications?types[]=mention``: Mastodon notifies a reply to the
           account's post as a mention when the reply names the account, as its apps do by
           default, whatever the post's age. With a cursor, the notifications after the
           newest one read (``min_id``), then the next newer page while a page comes back
           full, up to ``max_mention_pages`` (a read the cap stopped resumes there next
           time); without one, newest first down to ``since`` (the server's clock).
        2. When ``posts`` are given: ``GET /api/v1/accounts/:id/statuses?exclude_replies=true``
           (40 a page: the account's own posts with their ``replies_count``). A reply whose
           author took the name out notifies nobody (mastodon/mastodon#10865), so a post
           whose count grew by more than the replies notified since the last call has its
           thread read (``GET /api/v1/statuses/:id/context``), that post only.

        The cursor holds the newest notification id, the account's id and the reply counts
        of ``posts`` last seen. The account's id comes from the posts (``publish`` keeps it in
        each post's ``extra["account_id"]``) when they agree on one; else, or for posts
        published before it was kept, it is asked once (``verify_credentials``).
        """
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        state = _activity_state(cursor)
        after = state["after"]
        found, newest = await self._mention_notifications(after, since)
        me = state["me"]
        known: dict[str, int] = state["replies"]
        counts: dict[str, int] = {}
        notes: list[str] = []
        if posts:
            try:
                if me is None:
                    me = _posts_account_id(posts) or await self._own_id()
                counts = await self._reply_counts(me, {str(ref.id) for ref in posts})
            except GovSocialError as error:  # the notifications still count; counts kept
                counts = dict(known)
                notes.append(f"the posts' reply counts were not read: {error.message}")
            notified: dict[str, int] = {}
            for item in found.values():
                if item.in_reply_to_id is not None:
                    notified[item.in_reply_to_id] = notified.get(item.in_reply_to_id, 0) + 1
            for ref in posts:
                post_id = str(ref.id)
                count = counts.get(post_id)
                if count is None or count <= known.get(post_id, 0) + notified.get(post_id, 0):
                    continue
                try:
                    replies = await self.fetch_replies(ref)
                except GovSocialError as error:  # read again at the next call
                    counts[post_id] = known.get(post_id, 0)
                    notes.append(f"the replies to {post_id} were not read: {error.message}")
                    continue
                for reply in replies:
                    found.setdefault(reply.ref.id, reply.model_copy(update={"thread_id": post_id}))
        ordered = sorted(found.values(), key=lambda item: item.received_at or item.created_at)
        saved = {"after": newest, "me": me, "replies": counts}
        return Activity(
            interactions=tuple(ordered),
            cursor=json.dumps(saved, sort_keys=True),
            notes=tuple(notes),
        )

    async def _mention_notifications(
        self, after: str | None, since: datetime | None
    ) -> tuple[dict[str, Interaction], str | None]:
        """Mention notifications after the id ``after`` (else newest first down to
        ``since``), by the status's id; and the newest notification id read."""
        url = f"{self.base_url}/api/v1/notifications"
        first = {"types[]": "mention", "limit": str(_NOTIFICATIONS_PAGE)}
        if after is not None:
            first["min_id"] = after
        params: dict[str, str] | None = first
        found: dict[str, Interaction] = {}
        newest = after
        for _page in range(self.max_mention_pages):
            response = await self.request("GET", url, params=params, headers=self._auth())
            page = _json_list(response)
            if page is None:
                raise self.unreadable(response, "the notifications")
            reached_since = False
            for notification in page:
                if not isinstance(notification, dict):
                    continue
                number = _digits(notification.get("id"))
                if number is not None and (newest is None or _id_order(number) > _id_order(newest)):
                    newest = number
                if notification.get("type") != "mention":
                    continue
                arrived = parse_time(notification.get("created_at"))
                if after is None and since is not None and arrived is not None and arrived <= since:
                    reached_since = True
                    continue
                status = notification.get("status")
                if not isinstance(status, dict):
                    continue
                for interaction in self._interactions([status], "mention"):
                    if arrived is not None:
                        interaction = interaction.model_copy(update={"received_at": arrived})
                    found.setdefault(interaction.ref.id, interaction)
            if after is not None:  # forward from the cursor: a full page may have newer ones
                if len(page) < _NOTIFICATIONS_PAGE or newest is None or newest == after:
                    break
                params = {"types[]": "mention", "limit": str(_NOTIFICATIONS_PAGE)}
                params["min_id"] = after = newest
                continue
            next_url = response.links.get("next", {}).get("url")
            if reached_since or not page or not next_url or not self._same_origin(next_url):
                break
            url, params = next_url, None
        return found, newest

    async def _own_id(self) -> str:
        """The account's id on its server (``verify_credentials``)."""
        response = await self.request(
            "GET", "/api/v1/accounts/verify_credentials", headers=self._auth()
        )
        me = json_object(response)
        number = _digits(me.get("id")) if me is not None else None
        if number is None:
            raise self.unreadable(response, "the account")
        return number

    async def _reply_counts(self, me: str, wanted: set[str]) -> dict[str, int]:
        """``replies_count`` of the account's own posts among ``wanted``, newest first, 40
        a page, until all are found (or the account has no older posts)."""
        counts: dict[str, int] = {}
        url = f"{self.base_url}/api/v1/accounts/{path_segment(me)}/statuses"
        params: dict[str, str] | None = {
            "exclude_replies": "true",
            "exclude_reblogs": "true",
            "limit": str(_NOTIFICATIONS_PAGE),
        }
        pages = 1 + len(wanted) // _NOTIFICATIONS_PAGE
        for _page in range(pages + 1):
            response = await self.request("GET", url, params=params, headers=self._auth())
            page = _json_list(response)
            if page is None:
                raise self.unreadable(response, "the account's posts")
            for status in page:
                if not isinstance(status, dict) or str(status.get("id")) not in wanted:
                    continue
                count = as_int(status.get("replies_count"))
                if count is not None:
                    counts[str(status["id"])] = count
            next_url = response.links.get("next", {}).get("url")
            if counts.keys() >= wanted or len(page) < _NOTIFICATIONS_PAGE or not next_url:
                break
            if not self._same_origin(next_url):
                break
            url, params = next_url, None
        return counts

    def _interactions(self, statuses: Iterable[Any], kind: str) -> list[Interaction]:
        found = []
        for status in statuses:
            if not isinstance(status, dict) or not is_id(status.get("id")):
                continue
            author = as_dict(status.get("account"))
            acct = author.get("acct")
            display = author.get("display_name")
            reply_to = status.get("in_reply_to_id")
            found.append(
                Interaction(
                    kind="reply" if kind == "reply" else "mention",
                    ref=self._ref(status),
                    author=acct if isinstance(acct, str) else "",
                    author_name=display if isinstance(display, str) and display else None,
                    text=html_to_text(str(status.get("content") or "")),
                    created_at=parse_time(status.get("created_at")) or datetime.now(UTC),
                    in_reply_to_id=str(reply_to) if is_id(reply_to) else None,
                )
            )
        return found

    # -- helpers ---------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.credential('access_token')}"}

    def _ref(self, status: dict[str, Any], *, own: bool = False) -> PostRef:
        """Where ``status`` lives. ``own``: the account's own status (what it published),
        whose ``account.id`` is kept as ``extra["account_id"]``: the account's id on its
        server, which :meth:`fetch_activity` then need not ask for. Other people's ids are
        not kept (an inbox item stores no more about its author than it shows)."""
        url = status.get("url") or status.get("uri")
        extra = {}
        if own:
            account_id = _digits(as_dict(status.get("account")).get("id"))
            if account_id is not None:
                extra["account_id"] = account_id
        return PostRef(
            platform=self.name,
            account=self.account,
            id=str(status["id"]),
            url=url if isinstance(url, str) else None,
            extra=extra,
        )

    def _same_origin(self, url: str) -> bool:
        """Whether ``url`` is on this account's instance (the token never goes elsewhere)."""
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        return (mine.scheme, mine.netloc) == (theirs.scheme, theirs.netloc)


# -- limits cache ------------------------------------------------------------------------------


class _LimitsCache:
    """Instance limits per base URL, shared by every adapter of the process.

    The values are plain data. The locks that make concurrent first uses ask only once are
    per event loop (an asyncio.Lock belongs to one loop, and the sync Client runs its own).
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Limits, float]] = {}
        self._locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def get(self, base_url: str) -> Limits | None:
        entry = self._entries.get(base_url)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, base_url: str, limits: Limits, ttl: float) -> None:
        self._entries[base_url] = (limits, time.monotonic() + ttl)

    def lock(self, base_url: str) -> asyncio.Lock:
        locks = self._locks.setdefault(asyncio.get_running_loop(), {})
        return locks.setdefault(base_url, asyncio.Lock())

    def clear(self) -> None:
        self._entries.clear()


_LIMITS_CACHE = _LimitsCache()


def limits_from_instance(instance: dict[str, Any], default: Limits) -> Limits:
    """``default`` refined by an Instance entity (v2, or v1 which lacks a few fields)."""
    config = as_dict(instance.get("configuration"))
    statuses = as_dict(config.get("statuses"))
    media = as_dict(config.get("media_attachments"))
    update: dict[str, Any] = {}
    max_characters = _positive(statuses.get("max_characters")) or _positive(
        instance.get("max_toot_chars")  # Pleroma and glitch-soc forks
    )
    fields: dict[str, int | None] = {
        "max_characters": max_characters,
        "max_media": _positive(statuses.get("max_media_attachments")),
        "url_length": _positive(statuses.get("characters_reserved_per_url")),
        "max_alt_text": _positive(media.get("description_limit")),
        "max_image_bytes": _positive(media.get("image_size_limit")),
        "max_video_bytes": _positive(media.get("video_size_limit")),
    }
    update.update({name: value for name, value in fields.items() if value is not None})
    video_rules = {
        "max_frame_rate": _positive(media.get("video_frame_rate_limit")),
        "max_pixels": _positive(media.get("video_matrix_limit")),
    }
    if default.video is not None and any(v is not None for v in video_rules.values()):
        update["video"] = default.video.model_copy(
            update={k: v for k, v in video_rules.items() if v is not None}
        )
    mime_types = media.get("supported_mime_types")
    if isinstance(mime_types, list) and mime_types:
        types = {str(mime).lower() for mime in mime_types if isinstance(mime, str)}
        update["image_types"] = frozenset(t for t in types if t.startswith("image/"))
        update["video_types"] = frozenset(t for t in types if t.startswith("video/"))
    return default.model_copy(update=update)


# -- HTML --------------------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0  # inside <script> or <style>: not text (a sanitizing server drops them)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        if tag == "br":
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":  # a self-closed <script/> holds nothing to hide
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden - 1)
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(content: str) -> str:
    """Plain text of a status's HTML ``content``: tags gone, line and paragraph breaks kept."""
    parser = _TextExtractor()
    parser.feed(content)
    parser.close()
    lines = "".join(parser.parts).split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


# -- small parsers -----------------------------------------------------------------------------


def parse_reset(value: str | None) -> float | None:
    """``X-RateLimit-Reset`` as epoch seconds: ISO 8601 (Mastodon) or a number (some forks)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        when = parse_time(value)
        return when.timestamp() if when is not None else None
    return number if number > 1_000_000_000 else time.time() + max(0.0, number)


def _positive(value: Any) -> int | None:
    number = as_int(value)
    return number if number is not None and number > 0 else None


def _id_order(status_id: str) -> tuple[int, int, str]:
    """Sort key of a status id: Mastodon's are numbers (snowflakes), other servers' may not be."""
    return (1, int(status_id), "") if status_id.isdigit() else (0, 0, status_id)


def _newer(status_id: str, cursor: str | None) -> bool:
    """Whether ``status_id`` comes after ``cursor`` (everything does when there is none)."""
    return cursor is None or _id_order(status_id) > _id_order(cursor)


#: Notifications per page (Mastodon's maximum).
_NOTIFICATIONS_PAGE = 40


def _digits(value: Any) -> str | None:
    """A Mastodon id (decimal digits, as a string or a number), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 32:
        return value
    return None


def _posts_account_id(posts: Sequence[PostRef]) -> str | None:
    """The account id the posts' refs agree on (``extra["account_id"]``, digits), or None
    when none has one or two disagree (then the server is asked)."""
    found = {_digits(ref.extra.get("account_id")) for ref in posts if "account_id" in ref.extra}
    return found.pop() if len(found) == 1 and None not in found else None


def _activity_state(cursor: str | None) -> dict[str, Any]:
    """What :meth:`Mastodon.fetch_activity` saved in its cursor (each part None or empty
    when missing or unreadable)."""
    state: dict[str, Any] = {"after": None, "me": None, "replies": {}}
    try:
        saved = json.loads(cursor) if cursor else {}
    except ValueError:
        saved = {}
    if not isinstance(saved, dict):
        saved = {"after": saved}  # a bare notification id
    state["after"] = _digits(saved.get("after"))
    state["me"] = _digits(saved.get("me"))
    replies = saved.get("replies")
    if isinstance(replies, dict):
        state["replies"] = {
            str(k): v for k, v in replies.items() if isinstance(v, int) and not isinstance(v, bool)
        }
    return state


def _json_list(response: httpx.Response) -> list[Any] | None:
    try:
        body = read_json(response)
    except ValueError:
        return None
    return body if isinstance(body, list) else None


def _filename(media: Media, index: int) -> str:
    if media.path is not None:
        return media.path.name
    if media.url is not None:
        name = PurePosixPath(urlsplit(media.url).path).name
        if name:
            return name
    extension = {
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/gif": ".gif",
        "image/webp": ".webp",
        "video/mp4": ".mp4",
        "video/webm": ".webm",
        "video/quicktime": ".mov",
    }.get(media.mime_type or "", "")
    return f"media{index}{extension}"
