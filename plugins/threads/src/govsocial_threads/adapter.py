"""The Threads adapter: publish exactly once through media containers, measure, converse.

Threads (https://developers.facebook.com/docs/threads) publishes in two steps: make a media
*container* (``POST /{user-id}/threads``), then publish it (``POST /{user-id}/threads_publish``
with ``creation_id``). Media is never uploaded: Meta downloads each image or video from a
public URL, so local files go through the client's media host (``Platform.public_url``).

Exactly once. The container id is saved as a checkpoint the moment Meta returns it, before
anything is published, and a ``publishing`` mark is saved just before the publish call. A
retry of the same delivery (same idempotency key, same checkpoint store) therefore:

- returns the post at once when its id was saved;
- otherwise asks the saved container's status (``GET /{container-id}?fields=status``):
  ``PUBLISHED`` -> the post is looked up among the account's recent posts (matched by a hash
  of the text, the reply target and the time the container was made) and returned, never
  published again; ``FINISHED``/``IN_PROGRESS`` -> that same container is published (after
  a short wait for a publish that may still be in flight); ``EXPIRED``/``ERROR`` (never
  published) -> a new container is made.

An unpublished container is not a post (it expires after 24 h), so making a second one can
never make a second post; publishing is the only step that can, and it is guarded above.

Tokens. Long-lived tokens last 60 days and can be refreshed when at least 24 h old and not
expired (https://developers.facebook.com/docs/threads/get-started/long-lived-tokens). Run
:meth:`Threads.refresh_token` from a scheduled job; on a code-190 "expired" answer the
adapter also tries one refresh, when the token may still be refreshed, and retries once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx

from govsocial.adapters import (
    Account,
    AccountCheck,
    AccountMetrics,
    AdapterContext,
    AuthenticationError,
    ConfigurationError,
    GovSocialError,
    Interaction,
    Limits,
    Media,
    Platform,
    PlatformError,
    Post,
    PostMetrics,
    PostRef,
    Problem,
    PublishOutcomeUnknown,
    RateLimited,
    RateState,
    TokenRefresh,
    VideoLimits,
    as_dict,
    as_int,
    is_id,
    json_object,
    parse_time,
    path_segment,
    read_token_answer,
)
from govsocial_threads import meta
from govsocial_threads.meta import MetaAuthenticationError
from govsocial_threads.text import MAX_LINKS, count_characters, unique_links

__all__ = ["POST_METRICS", "PublishingQuota", "Threads"]

logger = logging.getLogger("govsocial.threads")

_MB = 1024 * 1024

#: Metrics asked of ``GET /{media-id}/insights`` (https://developers.facebook.com/docs/threads/insights).
#: ``shares`` has no field in the shared vocabulary: it is kept in ``raw`` only.
POST_METRICS: tuple[str, ...] = ("views", "likes", "replies", "reposts", "quotes", "shares")
#: Metrics asked of ``GET /{user-id}/threads_insights``; ``followers_count`` -> followers.
ACCOUNT_METRICS: tuple[str, ...] = ("followers_count", "views")
#: Fields read from replies, conversations and mentions.
INTERACTION_FIELDS = "id,text,username,permalink,timestamp,media_type,replied_to,root_post,is_reply"
#: Fields read when looking a published post up among recent ones.
POST_FIELDS = "id,text,timestamp,permalink,media_type,replied_to"

#: The earliest ``since`` the mentions endpoint accepts (its documented lower bound).
_MENTIONS_EPOCH = 1688540400
_TOKEN_LIFETIME = timedelta(days=60)
_REFRESH_MIN_AGE = timedelta(hours=24)

_REAUTHORIZE_HINT = (
    "get a new long-lived token: send the account owner through the Threads authorization "
    "window again (scopes threads_basic, threads_content_publish, threads_manage_replies, "
    "threads_read_replies, threads_manage_insights), exchange the code and then the "
    "short-lived token (GET /access_token?grant_type=th_exchange_token), and update the "
    "account's access_token credential; schedule Threads.refresh_token() so it never expires "
    "again (see docs/platforms/threads.md)"
)
_PERMISSION_HINT = (
    "the token lacks a permission this call needs: authorize the app again with "
    "threads_basic, threads_content_publish, threads_manage_replies, threads_read_replies, "
    "threads_manage_insights (and threads_delete, threads_manage_mentions for deleting and "
    "mentions), then update the account's access_token credential"
)


@dataclass(frozen=True)
class PublishingQuota:
    """``GET /{user-id}/threads_publishing_limit``: API publishing over the last 24 hours."""

    posts_used: int | None
    posts_total: int | None
    replies_used: int | None
    replies_total: int | None
    window_seconds: int | None


class Threads(Platform):
    """Threads profiles through the Threads API (one adapter per account).

    Accounts need the credentials ``user_id`` (the Threads user id, public) and
    ``access_token`` (a long-lived Threads user token, secret). An optional
    ``token_expires_at`` (ISO 8601) tells when the token expires; the adapter records it
    after each refresh. Media files need a media host (``Client(media_host=...)``).
    """

    name: ClassVar[str] = "threads"
    title: ClassVar[str] = "Threads"
    credential_fields: ClassVar[tuple[str, ...]] = ("user_id", "access_token")
    secret_fields: ClassVar[tuple[str, ...] | None] = ("access_token",)
    default_base_url: ClassVar[str | None] = "https://graph.threads.net"
    #: The API version in every path but the token endpoints.
    api_version: ClassVar[str] = "v1.0"
    #: A delivery's checkpoint (container id, publish mark) makes a repeat harmless for as
    #: long as the checkpoint is kept: a published container is never published again.
    idempotency_window: ClassVar[float | None] = math.inf
    limits: ClassVar[Limits] = Limits(
        max_characters=500,
        max_media=20,
        image_types=frozenset({"image/jpeg", "image/png"}),
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=8 * _MB,
        max_video_bytes=1024 * _MB,
        # Threads video specifications: up to 5 min, 23-60 fps, at most 1920 px wide,
        # aspect 0.01:1 to 10:1, H.264 or HEVC with AAC (mono or stereo), 25 Mbps at most.
        video=VideoLimits(
            max_duration=300,
            min_aspect_ratio=0.01,
            max_aspect_ratio=10,
            max_width=1920,
            min_frame_rate=23,
            max_frame_rate=60,
            video_codecs=frozenset({"h264", "hevc"}),
            audio_codecs=frozenset({"aac"}),
            max_audio_channels=2,
            max_bitrate=25_000_000,
            source="https://developers.facebook.com/docs/threads/overview#video-specifications",
        ),
        alt_text=True,
        # Meta's Threads collection documents alt_text without a length; third-party Threads
        # tools cap it at 1,000 characters, as Instagram and X do: the strict figure is checked
        max_alt_text=1000,
        threads=True,
        delete=True,
        post_metrics=frozenset({"views", "likes", "replies", "reposts", "quotes"}),
        account_metrics=frozenset({"followers"}),
    )

    #: First wait between container status polls; doubles up to the maximum.
    container_poll_interval: ClassVar[float] = 2.0
    #: Longest wait between polls (Meta suggests once a minute for videos).
    container_poll_max_interval: ClassVar[float] = 60.0
    #: Longest wait for a container to finish processing (Meta: no more than 5 minutes).
    container_timeout: ClassVar[float] = 300.0
    #: How long a retry waits for a publish that may still be in flight before publishing
    #: the same container again.
    publish_settle_time: ClassVar[float] = 20.0
    #: Most requests one call keeps in flight (metrics of many posts).
    max_concurrent_reads: ClassVar[int] = 8
    #: Most pages read by one replies or mentions call.
    max_pages: ClassVar[int] = 20

    def __init__(self, account: Account, context: AdapterContext) -> None:
        super().__init__(account, context)
        #: Threads has no refresh_token grant (its long-lived token refreshes itself at
        #: ``GET /refresh_access_token``): the helper gives the single flight, the reading
        #: of the answer and the expiry, not the form POST.
        self.tokens = TokenRefresh(
            self,
            token_url="/refresh_access_token",  # noqa: S106 - a path, not a password
            refused=self._refresh_refused,
            expiry_field="token_expires_at",
            rotates=False,
        )

    # -- offline ---------------------------------------------------------------------------

    @classmethod
    def count_characters(cls, text: str, limits: Limits | None = None) -> int:
        """Characters as Threads counts them: grapheme clusters, emoji by UTF-8 bytes."""
        return count_characters(text)

    @classmethod
    def check_post(cls, post: Post, limits: Limits) -> list[Problem]:
        """At most 5 distinct links (Meta refuses more at container creation)."""
        links = unique_links(post.text)
        if len(links) <= MAX_LINKS:
            return []
        return [
            Problem(
                code="too_many_links",
                message=(
                    f"text has {len(links)} different links; Threads takes at most "
                    f"{MAX_LINKS}: remove {len(links) - MAX_LINKS}"
                ),
                field="text",
                limit=MAX_LINKS,
            )
        ]

    # -- HTTP answers ----------------------------------------------------------------------

    @classmethod
    def rate_state(cls, response: httpx.Response) -> RateState | None:
        """``X-App-Usage`` / ``X-Business-Use-Case-Usage`` percentages, when sent."""
        return meta.usage_state(response.headers)

    @classmethod
    def retry_after(cls, response: httpx.Response) -> float | None:
        """``estimated_time_to_regain_access`` (minutes), else ``Retry-After``."""
        regain = meta.regain_seconds(response.headers)
        return regain if regain is not None else super().retry_after(response)

    @classmethod
    def error_message(cls, response: httpx.Response) -> str:
        error = meta.parse_error(response)
        return error.describe() if error is not None else super().error_message(response)

    @classmethod
    def is_throttled(cls, response: httpx.Response) -> bool:
        """HTTP 429, or Meta's throttling codes 4, 17, 32, 613 (sent with HTTP 400)."""
        if response.status_code == 429:
            return True
        error = meta.parse_error(response)
        return error is not None and error.is_throttle

    @classmethod
    def is_auth_failure(cls, response: httpx.Response) -> bool:
        """HTTP 401, or a token (190, 102) or permission (10, 200-299) error."""
        if response.status_code == 401:
            return True
        error = meta.parse_error(response)
        return error is not None and (error.is_token or error.is_permission)

    def error_for(self, response: httpx.Response) -> GovSocialError:
        """Meta's error object into the exception tree, keeping message, codes and trace id."""
        error = meta.parse_error(response)
        if error is None:
            return super().error_for(response)
        status = response.status_code
        described = error.describe()
        if error.is_permission and not error.is_token:
            return MetaAuthenticationError(
                f"{self.title} refused a call for {self.account.handle}: {described}",
                meta=error,
                platform=self.name,
                hint=_PERMISSION_HINT,
            )
        if error.is_token or status == 401:
            why = f" ({error.meaning})" if error.meaning else ""
            return MetaAuthenticationError(
                f"{self.title} rejected the access token of {self.account.handle}{why}: "
                f"{described}",
                meta=error,
                platform=self.name,
                hint=_REAUTHORIZE_HINT,
            )
        if status == 429 or error.is_throttle:
            return RateLimited(
                f"{self.title} rate limit reached for {self.account.handle}: {described}",
                retry_after=self.retry_after(response),
                platform=self.name,
                status=status,
                body=described,
            )
        return PlatformError(
            f"{self.title} answered {status}: {described}",
            platform=self.name,
            status=status,
            body=described,
        )

    # -- publishing ------------------------------------------------------------------------

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """Make a container (or resume the saved one), wait until it is ready, publish it."""
        key = idempotency_key or self.new_idempotency_key()
        saved = self.checkpoint(key)
        if saved.get("post"):
            return await self._ref(saved["post"], saved.get("container"))
        container: str | None = None
        if saved.get("container"):
            resumed = await self._resume(key, saved)
            if isinstance(resumed, PostRef):
                return resumed
            container = resumed
        if container is None:
            container = await self._create_container(post, key)
        await self._wait_until_ready(container, "the post")
        return await self._publish_container(key, container, is_reply=post.reply_to is not None)

    async def _resume(self, key: str, saved: dict[str, str]) -> PostRef | str | None:
        """The saved container's fate: its post, itself to publish, or None for a new one."""
        container = saved["container"]
        attempted = saved.get("publishing") == "1"
        status = await self._container_status_or_none(container)
        logger.info("resuming delivery %s: container %s is %s", key, container, status)
        if status == "PUBLISHED":
            return await self._recover(key, saved)
        if status == "IN_PROGRESS" or (status == "FINISHED" and not attempted):
            return container
        if status == "FINISHED":  # a publish was sent and its answer lost: it may be in flight
            settled = await self._settle(key, saved)
            return settled if settled is not None else container
        if status is None and attempted:  # the container is gone after a publish attempt
            found = await self._find_post(saved)
            if found is not None:
                self.save_checkpoint(key, post=found.id)
                return found
            raise self._unknown_outcome(
                key,
                container,
                "its container can no longer be read and no matching post was found",
            )
        return None  # EXPIRED or ERROR (never published), or gone before any publish

    async def _settle(self, key: str, saved: dict[str, str]) -> PostRef | None:
        """Wait a little for a publish that may be in flight; its post if it lands."""
        deadline = time.monotonic() + self.publish_settle_time
        delay = self.container_poll_interval
        while True:
            found = await self._find_post(saved)
            if found is not None:
                self.save_checkpoint(key, post=found.id)
                return found
            if time.monotonic() + delay > deadline:
                return None
            await asyncio.sleep(delay)
            if await self._container_status_or_none(saved["container"]) == "PUBLISHED":
                return await self._recover(key, saved)
            delay = min(delay * 2, self.container_poll_max_interval)

    async def _recover(self, key: str, saved: dict[str, str]) -> PostRef:
        """The post a PUBLISHED container became, found among the recent posts."""
        found = await self._find_post(saved)
        if found is None:
            raise self._unknown_outcome(
                key,
                saved["container"],
                "its container is PUBLISHED but the post was not found among the account's "
                "recent posts",
            )
        self.save_checkpoint(key, post=found.id)
        return found

    def _unknown_outcome(self, key: str, container: str, why: str) -> PublishOutcomeUnknown:
        return PublishOutcomeUnknown(
            f"{self.title} post of {self.account.handle} may exist: {why}; it was not "
            "published again",
            platform=self.name,
            account=self.account.handle,
            idempotency_key=key,
            detail={"container": container},
        )

    async def _create_container(self, post: Post, key: str) -> str:
        """``POST /{user-id}/threads``; the id is saved at once as the delivery's checkpoint."""
        urls = [
            await self.public_url(media, field=f"media[{index}]")
            for index, media in enumerate(post.media)
        ]
        payload: dict[str, str] = {}
        if post.text:
            payload["text"] = post.text
        if post.reply_to is not None:
            payload["reply_to_id"] = post.reply_to.id
        if not post.media:
            payload["media_type"] = "TEXT"
        elif len(post.media) == 1:
            payload.update(_media_fields(post.media[0], urls[0], 0))
        else:
            children = []
            for index, (media, url) in enumerate(zip(post.media, urls, strict=True)):
                child = await self._new_container(
                    {**_media_fields(media, url, index), "is_carousel_item": "true"},
                    f"media[{index}]",
                )
                children.append(child)
            for index, child in enumerate(children):
                await self._wait_until_ready(child, f"media[{index}]")
            payload["media_type"] = "CAROUSEL"
            payload["children"] = ",".join(children)
        container = await self._new_container(payload, "the post")
        values = {
            "container": container,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "text_sha256": _sha256(post.text),
            "publishing": "0",
        }
        if post.reply_to is not None:
            values["reply_to"] = post.reply_to.id
        self.save_checkpoint(key, **values)
        return container

    async def _new_container(self, payload: dict[str, str], what: str) -> str:
        # A repeated container creation leaves at most an unpublished container behind,
        # which expires after 24 h: safe to retry.
        response = await self._call(
            "POST", f"{self._user()}/threads", data=payload, idempotent=True
        )
        body = self._object(response, f"the container for {what}")
        container = body.get("id")
        if not is_id(container):
            raise self.unreadable(response, f"the container for {what}")
        return str(container)

    async def _container_status(self, container: str) -> tuple[str | None, str | None]:
        response = await self._call(
            "GET", path_segment(container), params={"fields": "id,status,error_message"}
        )
        body = self._object(response, f"container {container}")
        status, error = body.get("status"), body.get("error_message")
        return (
            status if isinstance(status, str) else None,
            error if isinstance(error, str) else None,
        )

    async def _container_status_or_none(self, container: str) -> str | None:
        """The status, or None when Meta no longer knows the container."""
        try:
            status, _ = await self._container_status(container)
        except PlatformError as error:
            if isinstance(error, RateLimited) or error.status is None or error.status >= 500:
                raise
            logger.info("container %s cannot be read: %s", container, error.body)
            return None
        return status

    async def _wait_until_ready(self, container: str, what: str) -> None:
        """Poll ``GET /{container-id}?fields=status`` until FINISHED (or PUBLISHED)."""
        deadline = time.monotonic() + self.container_timeout
        delay = self.container_poll_interval
        while True:
            status, error = await self._container_status(container)
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status in ("ERROR", "EXPIRED"):
                raise PlatformError(
                    f"{self.title} could not prepare {what} of {self.account.handle}: "
                    f"container {container} is {status}"
                    + (f" ({error})" if error else "")
                    + "; nothing was published",
                    platform=self.name,
                    body=error or status,
                    field=what if what.startswith("media[") else None,
                    hint="check that the media URL is public and the file meets Threads' "
                    "media specifications, then publish again",
                )
            if time.monotonic() + delay > deadline:
                raise PlatformError(
                    f"{self.title} was still processing {what} of {self.account.handle} "
                    f"(container {container}) after {self.container_timeout:g} s; nothing "
                    "was published",
                    platform=self.name,
                    body=status,
                    hint="publish again with the same idempotency key later: it resumes "
                    "with this container",
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.container_poll_max_interval)

    async def _publish_container(self, key: str, container: str, *, is_reply: bool) -> PostRef:
        """``POST /{user-id}/threads_publish``, marked in the checkpoint before it is sent."""
        self.save_checkpoint(key, publishing="1")
        try:
            response = await self._call(
                "POST",
                f"{self._user()}/threads_publish",
                data={"creation_id": container},
                create=True,
                idempotency_key=key,
            )
        except PlatformError as error:
            if error.status is not None and 400 <= error.status < 500:
                self.save_checkpoint(key, publishing="0")  # Meta refused: nothing was made
                if not isinstance(error, RateLimited):
                    await self._raise_if_quota_spent(error, is_reply=is_reply)
            raise
        except AuthenticationError:
            self.save_checkpoint(key, publishing="0")
            raise
        body = json_object(response)
        post_id = body.get("id") if body is not None else None
        if not is_id(post_id):
            raise PublishOutcomeUnknown(
                f"{self.title} accepted the publish call for {self.account.handle} (HTTP "
                f"{response.status_code}) but its answer could not be read, so the post id "
                "is unknown; publishing again with the same idempotency key finds it",
                platform=self.name,
                account=self.account.handle,
                idempotency_key=key,
                detail={"container": container, "body": self.snippet(response)},
            )
        self.save_checkpoint(key, post=str(post_id))
        return await self._ref(str(post_id), container)

    async def _raise_if_quota_spent(self, error: PlatformError, *, is_reply: bool) -> None:
        """Turn a refused publish into RateLimited when the 24-hour quota is spent."""
        try:
            quota = await self.publishing_quota()
        except GovSocialError:
            return
        used, total = (
            (quota.replies_used, quota.replies_total)
            if is_reply
            else (quota.posts_used, quota.posts_total)
        )
        if used is None or total is None or used < total:
            return
        kind = "replies" if is_reply else "posts"
        raise RateLimited(
            f"{self.title} allows {total} API-published {kind} per 24 hours and "
            f"{self.account.handle} has used {used}: {error.body}",
            retry_after=None,
            platform=self.name,
            status=error.status,
            body=error.body,
        ) from error

    async def publishing_quota(self) -> PublishingQuota:
        """How much of the 24-hour publishing quota (250 posts, 1000 replies) is used."""
        response = await self._call(
            "GET",
            f"{self._user()}/threads_publishing_limit",
            params={"fields": "quota_usage,config,reply_quota_usage,reply_config"},
        )
        body = self._object(response, "the publishing limit")
        data = body.get("data")
        entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        config = as_dict(entry.get("config"))
        reply_config = as_dict(entry.get("reply_config"))
        return PublishingQuota(
            posts_used=as_int(entry.get("quota_usage")),
            posts_total=as_int(config.get("quota_total")),
            replies_used=as_int(entry.get("reply_quota_usage")),
            replies_total=as_int(reply_config.get("quota_total")),
            window_seconds=as_int(config.get("quota_duration")),
        )

    async def check(self) -> AccountCheck:
        """The publishing quota (``threads_publishing_limit``: the token works, and how much of
        the 24-hour quota is left) and the account's insights (``threads_manage_insights``).
        Threads lists no token's permissions, so posting and deleting stay "cannot tell"
        unless the quota is spent."""
        with self.recording_calls() as log:
            try:
                quota = await self.publishing_quota()
            except AuthenticationError as error:
                return self.refused_check(error, log)
            try:
                await self.fetch_account_metrics()
                counted: tuple[bool | None, str, str | None] = (
                    True,
                    "threads_insights answered",
                    None,
                )
            except PlatformError as error:
                counted = (
                    False,
                    f"threads_insights was refused: {error.body or error.message}",
                    "grant threads_manage_insights to the app and issue a new token",
                )
        unknown = "Threads lists no token's permissions: the first attempt will tell"

        def left(used: int | None, total: int | None, what: str) -> tuple[bool | None, str]:
            if used is None or total is None:
                return None, unknown
            if used >= total:
                return False, f"the 24-hour quota of {total} {what} is used up"
            return None, f"{used} of {total} {what} used in 24 h; {unknown}"

        post_ok, post_detail = left(quota.posts_used, quota.posts_total, "posts")
        reply_ok, reply_detail = left(quota.replies_used, quota.replies_total, "replies")
        return self.checked(
            log,
            expires_at=self.token_expires_at(),
            post=(post_ok, post_detail, None),
            reply=(reply_ok, reply_detail, None),
            delete=(None, unknown + " (Threads allows 100 deletes a day)", None),
            metrics=counted,
            account_metrics=counted,
        )

    async def _ref(self, post_id: str, container: str | None) -> PostRef:
        """A PostRef with the permalink when Threads gives it (it may withhold it)."""
        url = None
        try:
            response = await self._call(
                "GET", path_segment(post_id), params={"fields": "permalink"}
            )
            body = json_object(response) or {}
            link = body.get("permalink")
            url = link if isinstance(link, str) and link else None
        except PlatformError as error:
            logger.info("no permalink for %s: %s", post_id, error.body)
        return PostRef(
            platform=self.name,
            account=self.account,
            id=post_id,
            url=url,
            extra={"container": container} if container else {},
        )

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """The post a delivery made, from its checkpoint (None: it was not published)."""
        saved = self.checkpoint(idempotency_key)
        if saved.get("post"):
            return await self._ref(saved["post"], saved.get("container"))
        container = saved.get("container")
        if not container:
            return None
        status = await self._container_status_or_none(container)
        if status == "PUBLISHED" or (status is None and saved.get("publishing") == "1"):
            found = await self._find_post(saved)
            if found is not None:
                self.save_checkpoint(idempotency_key, post=found.id)
                return found
            if status == "PUBLISHED":
                raise self._unknown_outcome(
                    idempotency_key,
                    container,
                    "its container is PUBLISHED but the post "
                    "was not found among the account's recent posts",
                )
        return None

    async def _find_post(self, saved: dict[str, str]) -> PostRef | None:
        """The earliest recent post matching the checkpoint (text hash, reply target, time)."""
        made = parse_time(saved.get("created_at")) or datetime.now(UTC) - timedelta(days=1)
        since = made - timedelta(minutes=5)  # clocks differ; Meta's timestamps are seconds
        reply_to = saved.get("reply_to")
        edges = ["threads", "replies"] if reply_to else ["threads"]
        candidates: list[tuple[datetime, dict[str, Any]]] = []
        for edge in edges:
            params = {"fields": POST_FIELDS, "limit": "50"}
            params["since"] = str(max(_MENTIONS_EPOCH, int(since.timestamp())))
            for item in await self._items(f"{self._user()}/{edge}", params, pages=2):
                when = parse_time(item.get("timestamp"))
                if when is None or when < since or not is_id(item.get("id")):
                    continue
                text = item.get("text")
                if _sha256(text if isinstance(text, str) else "") != saved.get("text_sha256"):
                    continue
                parent = _ref_id(item.get("replied_to"))
                if reply_to and parent is not None and parent != reply_to:
                    continue
                candidates.append((when, item))
        if not candidates:
            return None
        _, item = min(candidates, key=lambda pair: pair[0])
        link = item.get("permalink")
        return PostRef(
            platform=self.name,
            account=self.account,
            id=str(item["id"]),
            url=link if isinstance(link, str) and link else None,
            extra={"container": saved["container"]} if saved.get("container") else {},
        )

    async def delete(self, ref: PostRef) -> None:
        """``DELETE /{media-id}`` (100 deletes per account per day)."""
        try:
            response = await self._call("DELETE", path_segment(ref.id))
        except PlatformError as error:
            if isinstance(error, RateLimited) or error.status is None or error.status >= 500:
                raise
            raise PlatformError(
                f"{self.title} did not delete post {ref.id} of {self.account.handle}: {error.body}",
                platform=self.name,
                status=error.status,
                body=error.body,
                hint="it may be deleted already or belong to another account; Threads also "
                "allows only 100 deletes per account per day",
            ) from None
        body = json_object(response)
        if body is not None and body.get("success") is False:
            raise PlatformError(
                f"{self.title} answered that post {ref.id} was not deleted",
                platform=self.name,
                status=response.status_code,
                body=self.snippet(response),
            )

    # -- reading -----------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """``GET /{media-id}/insights`` per post, a few at a time (Threads has no batch)."""
        slots = asyncio.Semaphore(self.max_concurrent_reads)

        async def one(ref: PostRef) -> PostMetrics:
            async with slots:
                return await self._metrics(ref)

        return list(await asyncio.gather(*(one(ref) for ref in refs)))

    async def _metrics(self, ref: PostRef) -> PostMetrics:
        values, missing = await self._insights(f"{path_segment(ref.id)}/insights", POST_METRICS)
        raw: dict[str, Any] = dict(values)
        if missing:
            raw["unavailable"] = missing
        return PostMetrics(
            ref=ref,
            collected_at=datetime.now(UTC),
            views=values.get("views"),
            likes=values.get("likes"),
            replies=values.get("replies"),
            reposts=values.get("reposts"),
            quotes=values.get("quotes"),
            raw=raw,
        )

    async def fetch_account_metrics(self) -> AccountMetrics:
        """``GET /{user-id}/threads_insights?metric=followers_count,views``."""
        values, missing = await self._insights(f"{self._user()}/threads_insights", ACCOUNT_METRICS)
        raw: dict[str, Any] = dict(values)
        if missing:
            raw["unavailable"] = missing
        return AccountMetrics(
            account=self.account,
            collected_at=datetime.now(UTC),
            followers=values.get("followers_count"),
            raw=raw,
        )

    async def _insights(
        self, path: str, names: Sequence[str]
    ) -> tuple[dict[str, int], dict[str, str]]:
        """Metric values by name, and the metrics Meta refused with its reason.

        A metric Meta removed or renamed makes it refuse the whole request; the metrics
        are then asked one by one, so the others still come back.
        """
        try:
            response = await self._call("GET", path, params={"metric": ",".join(names)})
            return _read_insights(self._object(response, "the insights")), {}
        except PlatformError as error:
            if not _is_refusal(error) or len(names) == 1:
                raise
            first = error
        values: dict[str, int] = {}
        missing: dict[str, str] = {}
        for name in names:
            try:
                response = await self._call("GET", path, params={"metric": name})
                values.update(_read_insights(self._object(response, "the insights")))
            except PlatformError as error:
                if not _is_refusal(error):
                    raise
                missing[name] = error.body or error.message
        if not values and len(missing) == len(names):
            raise first
        logger.info("%s refused metrics %s for %s", self.title, sorted(missing), path)
        return values, missing

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """``GET /{media-id}/conversation``: every reply below the post, at any depth."""
        items = await self._items(
            f"{path_segment(ref.id)}/conversation",
            {"fields": INTERACTION_FIELDS, "reverse": "false"},
            pages=self.max_pages,
        )
        found = [i for i in self._interactions(items, "reply") if i.ref.id != ref.id]
        return sorted(found, key=lambda item: item.created_at)

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """``GET /{user-id}/mentions`` (needs the threads_manage_mentions permission)."""
        params = {"fields": INTERACTION_FIELDS}
        if since is not None:
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            params["since"] = str(max(_MENTIONS_EPOCH, int(since.timestamp())))
        items = await self._items(f"{self._user()}/mentions", params, pages=self.max_pages)
        found = {
            i.ref.id: i
            for i in self._interactions(items, "mention")
            if since is None or i.created_at > since
        }
        return sorted(found.values(), key=lambda item: item.created_at)

    def _interactions(self, items: list[dict[str, Any]], kind: str) -> list[Interaction]:
        found = []
        for item in items:
            if not is_id(item.get("id")):
                continue
            username, text, link = item.get("username"), item.get("text"), item.get("permalink")
            found.append(
                Interaction(
                    kind="reply" if kind == "reply" else "mention",
                    ref=PostRef(
                        platform=self.name,
                        account=self.account,
                        id=str(item["id"]),
                        url=link if isinstance(link, str) and link else None,
                    ),
                    author=username if isinstance(username, str) else "",
                    text=text if isinstance(text, str) else "",
                    created_at=parse_time(item.get("timestamp")) or datetime.now(UTC),
                    in_reply_to_id=_ref_id(item.get("replied_to")),
                )
            )
        return found

    async def _items(
        self, path: str, params: dict[str, str], *, pages: int
    ) -> list[dict[str, Any]]:
        """The ``data`` of up to ``pages`` pages, following ``paging.cursors.after``."""
        items: list[dict[str, Any]] = []
        query = dict(params)
        seen: set[str] = set()
        for _ in range(pages):
            response = await self._call("GET", path, params=query)
            body = self._object(response, path.rsplit("/", 1)[-1])
            data = body.get("data")
            if not isinstance(data, list):
                raise self.unreadable(response, path.rsplit("/", 1)[-1])
            items.extend(item for item in data if isinstance(item, dict))
            paging = as_dict(body.get("paging"))
            after = as_dict(paging.get("cursors")).get("after")
            if not data or not isinstance(after, str) or not after or after in seen:
                break
            seen.add(after)
            query = {**params, "after": after}
        return items

    # -- tokens ------------------------------------------------------------------------------

    async def refresh_token(self) -> datetime | None:
        """Refresh the long-lived token (``GET /refresh_access_token``); its new expiry.

        Allowed once the token is at least 24 hours old and before it expires. The new
        token (and its expiry, as ``token_expires_at``) go to ``update_credentials`` so
        the workspace stores them. Run it from a daily or weekly job.

        :raises AuthenticationError: Threads refused; the hint says how to get a new token.
        """
        try:
            response = await self.request(
                "GET",
                f"{self.base_url}/refresh_access_token",
                params={
                    "grant_type": "th_refresh_token",
                    "access_token": self.credential("access_token"),
                },
            )
        except RateLimited:
            raise
        except (AuthenticationError, PlatformError) as error:
            raise self._refresh_refused(error) from None
        answer = read_token_answer(response, self.tokens.unusable)
        self.tokens.store(answer)
        expires = answer.expires_at
        logger.info("refreshed the %s token of %s", self.title, self.account.handle)
        return expires

    async def refresh_credentials(self) -> bool:
        """Refresh the long-lived token, unless it is under 24 hours old (Threads refuses)."""
        refusal = self._refusal_to_refresh()
        if refusal is not None and "less than 24 hours" in refusal:
            return False
        try:
            await self.refresh_token()
        except AuthenticationError as error:
            if "at least 24 hours old" in error.message:  # Meta's refusal of a new token
                return False
            raise
        return True

    def token_expires_at(self) -> datetime | None:
        """When the token expires, if known (the ``token_expires_at`` credential)."""
        try:
            value = self.credential("token_expires_at")
        except ConfigurationError:
            return None
        return parse_time(value)

    def _refusal_to_refresh(self) -> str | None:
        """Why the token may not be refreshed now (None: it may, or nothing says otherwise)."""
        expires = self.token_expires_at()
        if expires is None:
            return None
        now = datetime.now(UTC)
        if expires <= now:
            return f"it expired at {expires.isoformat(timespec='minutes')}"
        if expires - now > _TOKEN_LIFETIME - _REFRESH_MIN_AGE:
            return "it is less than 24 hours old"
        return None

    def _refresh_refused(self, error: GovSocialError) -> AuthenticationError:
        return AuthenticationError(
            f"{self.title} did not refresh the access token of {self.account.handle}: "
            f"{error.message}",
            platform=self.name,
            hint=_REAUTHORIZE_HINT,
        )

    async def _refresh_after(self, error: MetaAuthenticationError, used: str) -> None:
        """One refresh after an "expired" answer, if allowed; else the next step."""

        async def refresh() -> None:
            refusal = self._refusal_to_refresh()
            if refusal is not None:
                raise AuthenticationError(
                    f"{self.title} access token of {self.account.handle} expired and cannot "
                    f"be refreshed ({refusal}): {error.meta.describe()}",
                    platform=self.name,
                    hint=_REAUTHORIZE_HINT,
                ) from None
            await self.refresh_token()

        await self.tokens.once(used, refresh)

    # -- requests ----------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        create: bool = False,
        idempotency_key: str | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """One API call with the token; after an "expired" answer, one refresh and retry."""
        used = self.credential("access_token")
        try:
            return await self._send(
                method, path, params, data, used, create, idempotency_key, idempotent
            )
        except MetaAuthenticationError as error:
            if not error.meta.is_expired:
                raise
            await self._refresh_after(error, used)
        # the first call was refused, so nothing was made: sending it again is safe
        return await self._send(
            method,
            path,
            params,
            data,
            self.credential("access_token"),
            create,
            idempotency_key,
            idempotent,
        )

    async def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        data: dict[str, str] | None,
        token: str,
        create: bool,
        idempotency_key: str | None,
        idempotent: bool | None,
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {"create": create, "idempotency_key": idempotency_key}
        if idempotent is not None:
            kwargs["idempotent"] = idempotent
        if method == "POST":  # the token goes in the form body, out of the URL
            kwargs["data"] = {**(data or {}), "access_token": token}
            if params:
                kwargs["params"] = params
        else:
            kwargs["params"] = {**(params or {}), "access_token": token}
        return await self.request(method, self._url(path), **kwargs)

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    def _user(self) -> str:
        return path_segment(self.account.credential("user_id"))

    def _object(self, response: httpx.Response, what: str) -> dict[str, Any]:
        body = json_object(response)
        if body is None:
            raise self.unreadable(response, what)
        return body


# -- helpers -----------------------------------------------------------------------------------


def _media_fields(media: Media, url: str, index: int) -> dict[str, str]:
    if media.kind == "image":
        fields = {"media_type": "IMAGE", "image_url": url}
    elif media.kind == "video":
        fields = {"media_type": "VIDEO", "video_url": url}
    else:
        raise ConfigurationError(
            f"media[{index}] is {media.mime_type or 'of unknown type'}; Threads takes images "
            "(JPEG, PNG) and videos (MP4, MOV)",
            field=f"media[{index}]",
            hint="give an image or a video, or set mime_type",
        )
    if media.alt_text:
        fields["alt_text"] = media.alt_text
    return fields


def _read_insights(body: dict[str, Any]) -> dict[str, int]:
    """``{"data": [{"name", "values": [{"value"}] | "total_value": {"value"}}]}`` by name."""
    values: dict[str, int] = {}
    data = body.get("data")
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        total = as_int(as_dict(item.get("total_value")).get("value"))
        if total is None:
            series = item.get("values")
            numbers = [
                number
                for entry in (series if isinstance(series, list) else [])
                if (number := as_int(as_dict(entry).get("value"))) is not None
            ]
            total = sum(numbers) if numbers else None
        if total is not None:
            values[item["name"]] = total
    return values


def _is_refusal(error: PlatformError) -> bool:
    """A definite 4xx refusal (not throttling, not a server or network failure)."""
    return (
        not isinstance(error, RateLimited)
        and error.status is not None
        and 400 <= error.status < 500
    )


def _ref_id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if is_id(value) else None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
