"""The Instagram adapter: publish through containers, measure, and answer comments.

Instagram professional accounts publish through the Instagram Graph API in three steps
(https://developers.facebook.com/docs/instagram-platform/content-publishing):

1. ``POST /{ig-user-id}/media`` makes a *container* from a PUBLIC media URL that Meta downloads
   (``image_url`` + ``caption`` + ``alt_text``; a carousel is one container per item with
   ``is_carousel_item=true``, then a ``CAROUSEL`` container with ``children``);
2. ``GET /{container-id}?fields=status_code`` until it is ``FINISHED``;
3. ``POST /{ig-user-id}/media_publish`` with ``creation_id`` makes the post.

Exactly once: the container id is saved as the delivery's checkpoint the moment it is known.
A later attempt with the same idempotency key resumes that container instead of making a new
one; when the container is already ``PUBLISHED`` (an earlier ``media_publish`` whose answer was
lost), it is never published again: the post it became is looked up in the account's recent
media (same caption, published after the container was made) and returned.

A container that expired unpublished (24 hours; subcode 2207020, "Generate a new container
ID") was never published, so it is rebuilt once: a new container from the same post.
Meta's "try again" answers (2207001 server error, 2207003 download timeout, 2207032
"re-create media") are retried by the session and end, if they persist, in an error marked
``transient`` that a worker tries again later.

A **Story** (the label ``instagram.format=story``) is one image or video in a container of
``media_type=STORIES`` (``image_url`` or ``video_url``; stories take no caption), published
the same way; a lost ``media_publish`` answer is then looked up in ``/{ig-user-id}/stories``
(IG User Stories: the stories of the last 24 hours).

Media go by URL: Meta downloads them (``image_url``, ``video_url``), so no upload of ours
goes through the upload engine; Meta's own chunked upload for Instagram is not used.

Replies are comments: ``POST /{ig-media-id}/comments`` and ``POST /{ig-comment-id}/replies``.
Posts and comments are deleted with ``DELETE /{id}`` (posts: the ``instagram_manage_contents``
permission, Facebook Login).

With the account credential ``app_secret`` every call carries ``appsecret_proof``
(govsocial_meta_graph), as apps with "Require App Secret" need.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from govsocial.adapters import (
    AccountCheck,
    AccountMetrics,
    AuthenticationError,
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
    ValidationError,
    VideoLimits,
    as_dict,
    as_int,
    is_id,
    json_object,
    parse_time,
    path_segment,
)
from govsocial.adapters.media_safety import MediaPolicy
from govsocial_instagram import meta
from govsocial_instagram.text import (
    ANNOUNCED_HASHTAGS,
    MAX_HASHTAGS,
    MAX_MENTIONS,
    hashtags,
    mentions,
    utf16_length,
)
from govsocial_meta_graph import PERMISSION_CODES, appsecret_hint, appsecret_proof

__all__ = ["INSIGHT_METRICS", "Instagram", "InstagramError"]

logger = logging.getLogger("govsocial.instagram")

DOCS = "https://developers.facebook.com/docs/instagram-platform"
PUBLISHING_DOCS = f"{DOCS}/content-publishing"
MEDIA_DOCS = f"{DOCS}/instagram-graph-api/reference/ig-user/media"
ERROR_DOCS = f"{DOCS}/instagram-graph-api/reference/error-codes"
#: The label choosing the kind of post: ``story`` (a Story) or ``post`` (the default: an
#: image post, a Reel for one video, a carousel for several).
FORMAT_LABEL = "instagram.format"
FORMATS = ("post", "story")
#: Story video specifications (IG User Media reference): MOV or MP4, 3 to 60 seconds, 23 to
#: 60 fps, at most 1920 px wide, aspect 0.1:1 to 10:1 (9:16 recommended), H.264 or HEVC
#: with AAC in mono or stereo, at most 25 Mbps and 100 MB.
STORY_RULES = VideoLimits(
    min_duration=3,
    max_duration=60,
    min_aspect_ratio=0.1,
    max_aspect_ratio=10,
    max_width=1920,
    min_frame_rate=23,
    max_frame_rate=60,
    video_codecs=frozenset({"h264", "hevc"}),
    audio_codecs=frozenset({"aac"}),
    max_audio_channels=2,
    max_bitrate=25_000_000,
    source=f"{DOCS}/instagram-graph-api/reference/ig-user/media#story-video-specifications",
)
STORY_VIDEO_BYTES = 100 * 1_000_000
DELETE_DOCS = f"{DOCS}/instagram-graph-api/reference/ig-media"
#: Subcodes Meta's error table says to retry: 2207001 "Instagram server error. Try again",
#: 2207003 "It takes too long to download the media ... Try again", 2207032 "Create media
#: fail, please try to re-create media" (https://developers.facebook.com/docs/instagram-platform/
#: instagram-graph-api/reference/error-codes).
TRANSIENT_SUBCODES: frozenset[int] = frozenset({2207001, 2207003, 2207032})
#: The subcode of an expired container: "Generate a new container ID".
EXPIRED_CONTAINER = 2207020
#: Delete refused for a post by some accounts until Meta fixed it server-side.
DELETE_REFUSED = 2207085

#: Insights asked for each post (impressions and plays were removed in 2025:
#: https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights).
INSIGHT_METRICS: tuple[str, ...] = (
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
)
#: Shared vocabulary name -> Instagram insight name.
_METRIC_MAP: dict[str, str] = {
    "views": "views",
    "reach": "reach",
    "likes": "likes",
    "replies": "comments",
    "reposts": "shares",
    "bookmarks": "saved",
}
_MIB = 2**20

#: Hints for Meta's documented publishing errors, by subcode (from the error codes reference).
_SUBCODE_HINTS: dict[int, str] = {
    2207052: "Meta could not download the media: make sure its URL is public (no login, no "
    "robots.txt block, no firewall against Meta's crawler) and stays up until the post is made",
    2207001: f"Instagram had a server error; Meta says to try again ({ERROR_DOCS})",
    2207003: "Meta timed out downloading the media: try again, or serve it from a faster host "
    f"({ERROR_DOCS})",
    2207032: f"Instagram could not create the media; Meta says to re-create it ({ERROR_DOCS})",
    2207004: "the image is over 8 MiB: send a smaller JPEG",
    2207005: "Instagram takes JPEG images only: convert the image to JPEG",
    2207009: "the image's aspect ratio must be between 4:5 and 1.91:1: crop it",
    2207010: "the caption is too long: at most 2,200 characters, 30 hashtags and 20 @ tags",
    2207040: "at most 20 @ tags per post: remove some mentions",
    2207026: "the video must be MOV or MP4 (MPEG-4 Part 14) as the Reels specification says",
    2207028: "a carousel takes 2 to 10 photos or videos",
    2207050: "the Instagram account is restricted: sign in to the Instagram app and complete "
    "what it asks",
    2207051: "Instagram suspects this publishing is spam; if it is not, tell Meta",
    2207020: "the container expired (24 hours); publishing again makes a new one, and the "
    f"expired one was never published ({ERROR_DOCS})",
}


class InstagramError(PlatformError):
    """A Graph API error answer, with Meta's code, subcode and fbtrace_id kept."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        body: str | None,
        code: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
        hint: str | None = None,
        field: str | None = None,
        transient: bool = False,
    ) -> None:
        self.code = code
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id
        super().__init__(
            message,
            platform="instagram",
            status=status,
            body=body,
            hint=hint,
            field=field,
            transient=transient,
        )


class Instagram(Platform):
    """Instagram professional accounts (business or creator) through the Instagram Graph API.

    Credentials: ``ig_user_id`` (the Instagram professional account id, public) and
    ``access_token`` (secret): a Facebook Login user or system-user token with
    instagram_basic, instagram_content_publish, instagram_manage_comments,
    instagram_manage_insights, instagram_manage_contents (to delete posts) and
    pages_read_engagement; ``app_secret`` (secret, optional) when the app requires an
    appsecret_proof. With Instagram Login instead, set
    ``base_url="https://graph.instagram.com"`` and use a token with the instagram_business_*
    scopes. Local media need a media host (Instagram downloads media from public URLs).
    """

    name: ClassVar[str] = "instagram"
    title: ClassVar[str] = "Instagram"
    credential_fields: ClassVar[tuple[str, ...]] = ("ig_user_id", "access_token")
    secret_fields: ClassVar[tuple[str, ...] | None] = ("access_token", "app_secret")
    default_base_url: ClassVar[str | None] = "https://graph.facebook.com"
    #: The Graph API version every path is pinned to (the one the IG references document).
    api_version: ClassVar[str] = "v25.0"
    #: A delivery's container is saved before it is published and resumed on every repeat;
    #: a PUBLISHED container is never published again (see the module docstring).
    idempotency_window: ClassVar[float | None] = math.inf
    limits: ClassVar[Limits] = Limits(
        max_characters=2200,
        max_media=10,
        image_types=frozenset({"image/jpeg"}),
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=8 * _MIB,
        max_video_bytes=300 * 1_000_000,
        # Reels specifications (IG User Media reference): 3 s to 15 min, 23-60 fps, at most
        # 1920 px wide, aspect 0.01:1 to 10:1, H.264 or HEVC with AAC (mono or stereo),
        # video bit rate at most 25 Mbps.
        video=VideoLimits(
            min_duration=3,
            max_duration=15 * 60,
            min_aspect_ratio=0.01,
            max_aspect_ratio=10,
            max_width=1920,
            min_frame_rate=23,
            max_frame_rate=60,
            video_codecs=frozenset({"h264", "hevc"}),
            audio_codecs=frozenset({"aac"}),
            max_audio_channels=2,
            max_bitrate=25_000_000,
            source="https://developers.facebook.com/docs/instagram-platform/"
            "instagram-graph-api/reference/ig-user/media#reel-specifications",
        ),
        alt_text=True,
        max_alt_text=1000,
        threads=True,
        delete=True,
        post_metrics=frozenset(_METRIC_MAP),
        account_metrics=frozenset({"followers", "following", "posts"}),
    )

    #: First wait between container status checks (doubles up to ``container_poll_max``).
    container_poll_interval: ClassVar[float] = 1.0
    container_poll_max: ClassVar[float] = 10.0
    #: Longest wait for a container to become FINISHED.
    container_timeout: ClassVar[float] = 300.0
    #: Most pages read from one list (comments, tags, recent media).
    max_pages: ClassVar[int] = 20
    #: Most requests kept in flight by one call (metrics of many posts, replies of many comments).
    max_concurrent_reads: ClassVar[int] = 8

    # -- offline -----------------------------------------------------------------------

    @classmethod
    def video_rules(cls, post: Post, limits: Limits) -> VideoLimits | None:
        """A Story's video rules with the label ``instagram.format=story``, else the Reel's."""
        return STORY_RULES if post.labels.get(FORMAT_LABEL) == "story" else limits.video

    @classmethod
    def count_characters(cls, text: str, limits: Limits | None = None) -> int:
        """UTF-16 code units: Meta does not say how it counts, and this count is the strictest."""
        return utf16_length(text)

    @classmethod
    def check_post(cls, post: Post, limits: Limits) -> list[Problem]:
        """Media required (no text-only posts), hashtag and @ tag limits, no media on comments."""
        problems: list[Problem] = []
        if post.reply_to is None and not post.media:
            problems.append(
                Problem(
                    code="media_required",
                    message="Instagram needs an image or video for every post; text-only posts "
                    "are impossible: attach a JPEG image or an MP4/MOV video",
                    field="media",
                )
            )
        if post.reply_to is not None and post.media:
            problems.append(
                Problem(
                    code="media_not_allowed",
                    message="a reply on Instagram is a comment, and comments take text only: "
                    "remove the media",
                    field="media",
                )
            )
        tags = hashtags(post.text)
        if ANNOUNCED_HASHTAGS < len(tags) <= MAX_HASHTAGS:
            problems.append(
                Problem(
                    code="many_hashtags",
                    message=f"{len(tags)} hashtags; Instagram announced (December 2025) that "
                    f"captions take at most {ANNOUNCED_HASHTAGS}, while its API reference "
                    f"still says {MAX_HASHTAGS}, and whether the API refuses or trims more is "
                    f"not documented: keep {ANNOUNCED_HASHTAGS} or fewer to be safe "
                    f"({MEDIA_DOCS})",
                    field="text",
                    limit=ANNOUNCED_HASHTAGS,
                    severity="warning",
                )
            )
        if len(tags) > MAX_HASHTAGS:
            problems.append(
                Problem(
                    code="too_many_hashtags",
                    message=f"{len(tags)} hashtags; Instagram takes at most {MAX_HASHTAGS} per "
                    f"caption: remove {len(tags) - MAX_HASHTAGS}",
                    field="text",
                    limit=MAX_HASHTAGS,
                )
            )
        names = mentions(post.text)
        if len(names) > MAX_MENTIONS:
            problems.append(
                Problem(
                    code="too_many_mentions",
                    message=f"{len(names)} @ tags; Instagram takes at most {MAX_MENTIONS} per "
                    f"caption: remove {len(names) - MAX_MENTIONS}",
                    field="text",
                    limit=MAX_MENTIONS,
                )
            )
        problems += _story_problems(post)
        for index, media in enumerate(post.media):
            if media.kind == "video" and media.alt_text:
                problems.append(
                    Problem(
                        code="alt_text_unsupported",
                        message="Instagram takes alt text for images only (not Reels or "
                        "videos); describe the video in the caption and remove the alt text",
                        field=f"media[{index}].alt_text",
                    )
                )
        return problems

    # -- HTTP answers ----------------------------------------------------------------------

    @classmethod
    def rate_state(cls, response: httpx.Response) -> RateState | None:
        """The tightest figure of ``X-Business-Use-Case-Usage`` and ``X-App-Usage``."""
        return meta.usage_state(response.headers)

    @classmethod
    def retry_after(cls, response: httpx.Response) -> float | None:
        """``Retry-After``, else the business use case ``estimated_time_to_regain_access``."""
        asked = super().retry_after(response)
        return asked if asked is not None else meta.regain_seconds(response.headers)

    @classmethod
    def error_message(cls, response: httpx.Response) -> str:
        """Meta's message, user message, code, subcode and fbtrace_id."""
        error = meta.parse_error(response)
        if error is None:
            return super().error_message(response)
        return error.describe()

    @classmethod
    def is_throttled(cls, response: httpx.Response) -> bool:
        """HTTP 429, or Meta's throttling codes (4, 17, 32, 613, 80000-80014) on any status."""
        if response.status_code == 429:
            return True
        error = meta.parse_error(response)
        return error is not None and error.is_throttle

    @classmethod
    def is_transient(cls, response: httpx.Response) -> bool:
        """Meta's "try again" publishing errors (2207001, 2207003, 2207032)."""
        error = meta.parse_error(response)
        return error is not None and error.subcode in TRANSIENT_SUBCODES

    @classmethod
    def is_auth_failure(cls, response: httpx.Response) -> bool:
        """HTTP 401, or error code 190 (invalid, expired or revoked token) or 102."""
        if response.status_code == 401:
            return True
        error = meta.parse_error(response)
        return error is not None and error.is_token

    def error_for(self, response: httpx.Response) -> GovSocialError:
        message = self.error_message(response)
        error = meta.parse_error(response)
        status = response.status_code
        if self.is_auth_failure(response):
            return AuthenticationError(
                f"{self.title} rejected the access token of {self.account.handle}: {message}",
                platform=self.name,
                hint=_auth_hint(error),
            )
        if self.is_throttled(response) or meta.is_publishing_limit(error):
            return RateLimited(
                f"{self.title} rate limit reached for {self.account.handle}: {message}",
                retry_after=self.retry_after(response),
                platform=self.name,
                status=status,
                body=message,
            )
        hint = _SUBCODE_HINTS.get(error.subcode or 0) if error is not None else None
        field = None
        if error is not None and error.is_appsecret_proof:
            hint = appsecret_hint(error, has_secret=self._app_secret() is not None)
            field = "credentials.app_secret"
        return InstagramError(
            f"{self.title} answered {status}: {message}",
            status=status,
            body=message,
            code=error.code if error else None,
            subcode=error.subcode if error else None,
            fbtrace_id=error.fbtrace_id if error else None,
            hint=hint,
            field=field,
            transient=error is not None and error.subcode in TRANSIENT_SUBCODES,
        )

    # -- the app secret proof ----------------------------------------------------------------

    def _app_secret(self) -> str | None:
        if "app_secret" not in self.account.credentials:
            return None
        return self.credential("app_secret") or None

    def _proof(self) -> str | None:
        secret = self._app_secret()
        return appsecret_proof(self.credential("access_token"), secret) if secret else None

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Every Graph call, with ``appsecret_proof`` when the account has an ``app_secret``."""
        proof = self._proof()
        if proof is not None:
            kwargs["params"] = httpx.QueryParams(kwargs.get("params")).set("appsecret_proof", proof)
        return await super().request(method, path, **kwargs)

    def iter_credentials(self) -> Iterator[str]:
        """The token, the app secret, and the proof made from them (scrubbed from messages)."""
        yield from super().iter_credentials()
        try:
            proof = self._proof()
        except GovSocialError:
            proof = None
        if proof:
            yield proof

    # -- publishing --------------------------------------------------------------------------

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """A comment when ``post.reply_to`` is set, else the container flow (resumed if saved)."""
        key = idempotency_key or self.new_idempotency_key()
        problems = [p for p in self.check_post(post, self.limits) if p.severity == "error"]
        if problems:
            raise ValidationError(problems, platform=self.name)
        if post.reply_to is not None:
            return await self._comment(post, post.reply_to, key)
        for rebuilt in (False, True):
            try:
                return await self._publish_post(post, key)
            except InstagramError as error:
                if error.subcode != EXPIRED_CONTAINER or rebuilt:
                    raise
                # An expired container was never published ("Generate a new container ID"):
                # a new one from the same post cannot make a second post.
                logger.info("container of %s expired; making a new one", self.account.handle)
                self.save_checkpoint(key, container="", children="")
        raise AssertionError("unreachable")  # pragma: no cover

    async def _publish_post(self, post: Post, key: str) -> PostRef:
        saved = self.checkpoint(key)
        if saved.get("media"):
            return self._media_ref(saved["media"], saved.get("permalink"))
        container = saved.get("container") or None
        if container is not None:
            status, detail = await self._container_status(container)
            if status == "PUBLISHED":
                return await self._published_post(key)
            if status in ("ERROR", "EXPIRED"):
                raise self._container_failed(key, container, status, detail)
        if container is None:
            container = await self._make_container(post, key)
        status = await self._wait_until_finished(key, container)
        if status == "PUBLISHED":
            return await self._published_post(key)
        return await self._publish_container(key, container)

    async def _make_container(self, post: Post, key: str) -> str:
        """Create the container (carousel: its items first), saving each id at once."""
        caption = post.text
        if post.labels.get(FORMAT_LABEL) == "story":
            media = post.media[0]
            url = await self.public_url(media, field="media[0]")
            name = "video_url" if media.kind == "video" else "image_url"
            # a Story takes no caption (IG User Media reference); validate warned about it
            container = await self._create_container(key, {"media_type": "STORIES", name: url})
            self.save_checkpoint(
                key, container=container, created_at=f"{time.time():.3f}", format="story"
            )
            return container
        if len(post.media) == 1:
            fields = await self._media_fields(post.media[0], 0, carousel_item=False)
            if caption:
                fields["caption"] = caption
            container = await self._create_container(key, fields)
        else:
            saved = self.checkpoint(key)
            children = [c for c in saved.get("children", "").split(",") if c]
            for index, media in enumerate(post.media):
                if index < len(children):
                    continue  # made by an earlier attempt: reuse it
                fields = await self._media_fields(media, index, carousel_item=True)
                child = await self._create_container(key, fields)
                children.append(child)
                self.save_checkpoint(key, children=",".join(children))
            for child in children:
                status = await self._wait_until_finished(key, child, item=True)
                if status != "FINISHED":
                    raise self._container_failed(key, child, status, None)
            fields = {"media_type": "CAROUSEL", "children": ",".join(children)}
            if caption:
                fields["caption"] = caption
            container = await self._create_container(key, fields)
        self.save_checkpoint(
            key,
            container=container,
            created_at=f"{time.time():.3f}",
            caption_sha256=_sha256(caption),
        )
        return container

    async def _media_fields(
        self, media: Media, index: int, *, carousel_item: bool
    ) -> dict[str, str]:
        url = await self.public_url(media, field=f"media[{index}]")
        fields: dict[str, str] = {}
        if media.kind == "video":
            fields["video_url"] = url
            fields["media_type"] = "VIDEO" if carousel_item else "REELS"
        else:
            fields["image_url"] = url
            if media.alt_text:
                fields["alt_text"] = media.alt_text
        if carousel_item:
            fields["is_carousel_item"] = "true"
        return fields

    async def _create_container(self, key: str, fields: dict[str, str]) -> str:
        # Not a post: a container that is never published expires after 24 hours, so a
        # repeat after a lost answer is harmless (idempotent=True allows the retry).
        response = await self.request(
            "POST",
            self._path(self._user_id(), "media"),
            data=fields,
            headers=self._auth(),
            idempotent=True,
        )
        body = json_object(response)
        container = body.get("id") if body else None
        if not is_id(container):
            raise self.unreadable(response, "the new media container")
        return str(container)

    async def _container_status(self, container: str) -> tuple[str, str | None]:
        response = await self.request(
            "GET",
            self._path(container),
            params={"fields": "status_code,status"},
            headers=self._auth(),
        )
        body = json_object(response)
        status = body.get("status_code") if body else None
        if not isinstance(status, str):
            raise self.unreadable(response, f"the status of container {container}")
        detail = body.get("status") if body else None
        return status, detail if isinstance(detail, str) else None

    async def _wait_until_finished(self, key: str, container: str, *, item: bool = False) -> str:
        """Poll until FINISHED (or PUBLISHED); ERROR, EXPIRED and the timeout raise."""
        deadline = time.monotonic() + self.container_timeout
        delay = self.container_poll_interval
        while True:
            status, detail = await self._container_status(container)
            if status in ("FINISHED", "PUBLISHED"):
                return status
            if status in ("ERROR", "EXPIRED"):
                raise self._container_failed(key, container, status, detail, item=item)
            if time.monotonic() + delay > deadline:
                raise PlatformError(
                    f"{self.title} was still processing container {container} of "
                    f"{self.account.handle} after {self.container_timeout:g} s (status "
                    f"{status}); nothing was published",
                    platform=self.name,
                    hint="publish again with the same idempotency key later: the same "
                    "container is resumed, never a second one",
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.container_poll_max)

    def _container_failed(
        self, key: str, container: str, status: str, detail: str | None, *, item: bool = False
    ) -> PlatformError:
        # Neither state was ever published, so the next attempt may start afresh.
        self.save_checkpoint(key, container="", children="", failed_container=container)
        what = "carousel item container" if item else "container"
        if status == "EXPIRED":
            message = (
                f"{self.title} {what} {container} of {self.account.handle} expired unpublished "
                "(containers live 24 hours)"
            )
            hint = "nothing was published; publish again to make a new container"
            return InstagramError(
                message, status=400, body=detail, hint=hint, subcode=EXPIRED_CONTAINER
            )
        else:
            message = (
                f"{self.title} could not process {what} {container} of {self.account.handle} "
                f"(status ERROR{f': {detail}' if detail else ''})"
            )
            hint = (
                "nothing was published; check the media against Instagram's specifications "
                f"(JPEG up to 8 MiB, aspect ratio 4:5 to 1.91:1; {MEDIA_DOCS})"
            )
        return InstagramError(message, status=400, body=detail, hint=hint)

    async def _publish_container(self, key: str, container: str) -> PostRef:
        try:
            response = await self.request(
                "POST",
                self._path(self._user_id(), "media_publish"),
                data={"creation_id": container},
                headers=self._auth(),
                create=True,
                idempotency_key=key,
            )
        except RateLimited as limited:
            if f"subcode {meta.PUBLISHING_LIMIT[1]}" not in limited.message:
                raise
            raise await self._explain_publishing_limit(limited) from None
        except InstagramError:
            # A repeat of a media_publish whose answer was lost is refused; the container
            # then says PUBLISHED, and the post it became is the answer.
            try:
                status, _ = await self._container_status(container)
            except GovSocialError:
                status = "UNKNOWN"
            if status == "PUBLISHED":
                return await self._published_post(key)
            raise
        body = json_object(response)
        media_id = body.get("id") if body else None
        if not is_id(media_id):
            raise PublishOutcomeUnknown(
                f"{self.title} accepted media_publish for {self.account.handle} (HTTP "
                f"{response.status_code}) but its answer could not be read",
                platform=self.name,
                account=self.account.handle,
                idempotency_key=key,
                detail={"container": container, "body": self.snippet(response)},
            )
        self.save_checkpoint(key, media=str(media_id))
        permalink = await self._permalink(str(media_id))
        if permalink:
            self.save_checkpoint(key, permalink=permalink)
        return self._media_ref(str(media_id), permalink)

    async def _permalink(self, media_id: str) -> str | None:
        try:
            response = await self.request(
                "GET", self._path(media_id), params={"fields": "permalink"}, headers=self._auth()
            )
        except GovSocialError as error:  # the post exists; its link can wait
            logger.info("no permalink for %s: %s", media_id, error)
            return None
        body = json_object(response)
        link = body.get("permalink") if body else None
        return link if isinstance(link, str) else None

    async def _published_post(self, key: str) -> PostRef:
        """The post a PUBLISHED container became, found in the account's recent media.

        ``media_publish`` answers with the new media id, but when that answer was lost the
        container does not name its media (IG Container fields: id, status, status_code). The
        post is the earliest recent media with the caption that was sent, published after the
        container was made.
        """
        saved = self.checkpoint(key)
        created = _float(saved.get("created_at")) or 0.0
        story = saved.get("format") == "story"
        # a Story is not among the account's media: it is in /stories (the last 24 hours),
        # and has no caption to recognise it by
        wanted = None if story else saved.get("caption_sha256")
        params: dict[str, str] = {
            "fields": "id,timestamp,permalink,media_type"
            if story
            else "id,caption,timestamp,permalink,media_type",
            "limit": "50",
        }
        if created and not story:
            params["since"] = str(int(created) - 300)
        candidates: list[tuple[datetime, dict[str, Any]]] = []
        edge = "stories" if story else "media"
        async for item in self._pages(self._path(self._user_id(), edge), params):
            when = parse_time(item.get("timestamp"))
            caption = item.get("caption")
            if when is None or not is_id(item.get("id")):
                continue
            if (
                wanted is not None
                and _sha256(caption if isinstance(caption, str) else "") != wanted
            ):
                continue
            if created and when.timestamp() < created - 120:  # clocks differ a little
                continue
            candidates.append((when, item))
        if not candidates:
            raise PlatformError(
                f"{self.title} says the container of this delivery for {self.account.handle} "
                "was published, but the post is not among the account's recent media yet",
                platform=self.name,
                hint="it was published once and will not be published again; look again in "
                "a minute, or find it in the Instagram app",
            )
        _, found = min(candidates, key=lambda pair: pair[0])
        media_id = str(found["id"])
        link = found.get("permalink") if isinstance(found.get("permalink"), str) else None
        self.save_checkpoint(key, media=media_id, **({"permalink": link} if link else {}))
        return self._media_ref(media_id, link)

    async def _explain_publishing_limit(self, limited: RateLimited) -> RateLimited:
        """Add the account's quota (``GET /{ig-user-id}/content_publishing_limit``) to the error.

        Read only when Meta refused a publish for the limit: a call per publish would spend the
        rate budget for a number the error already implies.
        """
        quota = await self.publishing_limit()
        if quota is None:
            return limited
        usage, total, duration = quota
        limited.message = (
            f"{limited.message}; {usage} of {total} posts used in the last "
            f"{duration / 3600:g} h (content_publishing_limit)"
        )
        limited.args = (limited._render(),)
        return limited

    async def publishing_limit(self) -> tuple[int, int, int] | None:
        """(quota_usage, quota_total, quota_duration seconds) of this account, or None."""
        try:
            response = await self.request(
                "GET",
                self._path(self._user_id(), "content_publishing_limit"),
                params={"fields": "quota_usage,config"},
                headers=self._auth(),
            )
        except GovSocialError as error:
            logger.info("content_publishing_limit unavailable: %s", error)
            return None
        body = json_object(response)
        data = body.get("data") if body else None
        entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        config = as_dict(entry.get("config"))
        usage = as_int(entry.get("quota_usage"))
        total = as_int(config.get("quota_total"))
        duration = as_int(config.get("quota_duration"))
        if usage is None:
            return None
        return usage, total if total is not None else 50, duration if duration else 86400

    # -- comments ------------------------------------------------------------------------------

    async def _comment(self, post: Post, target: PostRef, key: str) -> PostRef:
        """A comment on a post, or a reply to a (top-level) comment."""
        if target.extra.get("kind") == "comment":
            # Replies to a reply land on the top-level comment (IG Comment Replies reference).
            parent = target.extra.get("parent_id") or target.id
            path = self._path(parent, "replies")
            media_id = target.extra.get("media_id", "")
        else:
            parent = ""
            path = self._path(target.id, "comments")
            media_id = target.id
        saved = self.checkpoint(key)
        if saved.get("comment"):
            return self._comment_ref(saved["comment"], media_id, parent or None)
        if saved.get("comment_sent_at"):
            found = await self._find_comment(saved)
            if found is not None:
                return found
        self.save_checkpoint(
            key,
            comment_path=path,
            comment_media=media_id,
            comment_parent=parent,
            comment_sent_at=f"{time.time():.3f}",
            text_sha256=_sha256(post.text),
        )
        response = await self.request(
            "POST",
            path,
            data={"message": post.text},
            headers=self._auth(),
            create=True,
            idempotency_key=key,
            idempotent=False,  # the container checkpoint covers posts, not comments
        )
        body = json_object(response)
        comment = body.get("id") if body else None
        if not is_id(comment):
            raise PublishOutcomeUnknown(
                f"{self.title} accepted the comment for {self.account.handle} but its answer "
                "could not be read",
                platform=self.name,
                account=self.account.handle,
                idempotency_key=key,
                detail={"body": self.snippet(response)},
            )
        self.save_checkpoint(key, comment=str(comment))
        return self._comment_ref(str(comment), media_id, parent or None)

    async def _find_comment(self, saved: dict[str, str]) -> PostRef | None:
        """This account's comment with the text sent, made after the attempt started."""
        sent_at = _float(saved.get("comment_sent_at")) or 0.0
        path = saved.get("comment_path", "")
        params = {"fields": "id,text,timestamp,username,from"}
        async for item in self._pages(path, params):
            author = as_dict(item.get("from"))
            text = item.get("text")
            when = parse_time(item.get("timestamp"))
            if (
                str(author.get("id", "")) == self._user_id()
                and _sha256(text if isinstance(text, str) else "") == saved.get("text_sha256")
                and (when is None or when.timestamp() >= sent_at - 120)
                and is_id(item.get("id"))
            ):
                parent = saved.get("comment_parent") or None
                return self._comment_ref(str(item["id"]), saved.get("comment_media", ""), parent)
        return None

    async def delete(self, ref: PostRef) -> None:
        """``DELETE /{ig-comment-id}`` or ``DELETE /{ig-media-id}``.

        Deleting a post needs the ``instagram_manage_contents`` permission on a Facebook
        Login token (``IGMedia.api_delete`` in Meta's facebook-business SDK 26.0); a refusal
        for a missing permission, or Meta's 2207085, says so and how to delete by hand.
        """
        if ref.extra.get("kind") == "comment":
            await self.request("DELETE", self._path(ref.id), headers=self._auth())
            return
        try:
            response = await self.request("DELETE", self._path(ref.id), headers=self._auth())
        except InstagramError as error:
            if error.code in PERMISSION_CODES or error.subcode == DELETE_REFUSED:
                error.hint = (
                    "deleting a post needs the instagram_manage_contents permission on a "
                    "Facebook Login token (add it to the app's use case and issue a new token; "
                    f"{DELETE_DOCS}); meanwhile delete it in the Instagram app: open the post, "
                    "tap ... and choose Delete"
                )
                error.field = "ref"
                error.args = (error._render(),)
            raise
        body = json_object(response)
        if body is not None and body.get("success") is False:
            raise InstagramError(
                f"{self.title} answered the delete of {ref.id} of {self.account.handle} with "
                f'"success": false: the post was not deleted',
                status=response.status_code,
                body=self.snippet(response),
                field="ref",
                hint="try again later, or delete it in the Instagram app",
            )

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """The post a delivery made, from its checkpoint (None: it cannot have been made).

        No container saved: nothing was published. A container not PUBLISHED: not yet (a
        repeat resumes it). A PUBLISHED container: the post it became, looked up as
        :meth:`publish` does; raises PlatformError when Meta does not list it yet.
        """
        saved = self.checkpoint(idempotency_key)
        if saved.get("media"):
            return self._media_ref(saved["media"], saved.get("permalink"))
        if saved.get("comment"):
            return self._comment_ref(
                saved["comment"],
                saved.get("comment_media", ""),
                saved.get("comment_parent") or None,
            )
        if saved.get("comment_sent_at"):
            found = await self._find_comment(saved)
            if found is not None:
                self.save_checkpoint(idempotency_key, comment=found.id)
            return found
        container = saved.get("container")
        if not container:
            return None
        status, _ = await self._container_status(container)
        if status != "PUBLISHED":
            return None
        return await self._published_post(idempotency_key)

    # -- reading ---------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """Insights and like/comment counts per post, a few posts at a time."""
        slots = asyncio.Semaphore(self.max_concurrent_reads)

        async def one(ref: PostRef) -> PostMetrics:
            async with slots:
                return await self._metrics(ref)

        return list(await asyncio.gather(*(one(ref) for ref in refs)))

    async def _metrics(self, ref: PostRef) -> PostMetrics:
        if ref.extra.get("kind") == "comment":
            fields = await self._fields(ref.id, "like_count")
            raw: dict[str, Any] = {k: v for k, v in fields.items() if as_int(v) is not None}
            return PostMetrics(
                ref=ref,
                collected_at=datetime.now(UTC),
                likes=as_int(raw.get("like_count")),
                raw=raw,
            )
        counts = await self._fields(ref.id, "like_count,comments_count")
        insights = await self._insights(ref.id)
        raw = {name: value for name, value in counts.items() if as_int(value) is not None}
        raw.update({f"insights.{name}": value for name, value in insights.items()})
        values: dict[str, int | None] = {
            ours: insights.get(theirs) for ours, theirs in _METRIC_MAP.items()
        }
        if values["likes"] is None:
            values["likes"] = as_int(counts.get("like_count"))
        if values["replies"] is None:
            values["replies"] = as_int(counts.get("comments_count"))
        return PostMetrics(ref=ref, collected_at=datetime.now(UTC), raw=raw, **values)

    async def _fields(self, node: str, fields: str) -> dict[str, Any]:
        response = await self.request(
            "GET", self._path(node), params={"fields": fields}, headers=self._auth()
        )
        body = json_object(response)
        if body is None:
            raise self.unreadable(response, f"{node}")
        return body

    async def _insights(self, media_id: str) -> dict[str, int]:
        """``GET /{ig-media-id}/insights``: missing data stays missing, never 0.

        A metric this media does not support makes Meta refuse the whole request (code 100);
        the metrics are then asked one by one so the others still come back. Code 10 ("not
        enough viewers") means no insights yet.
        """
        try:
            return await self._insights_for(media_id, INSIGHT_METRICS)
        except InstagramError as error:
            if error.code == 10:
                return {}
            if error.code != 100:
                raise
        found: dict[str, int] = {}
        for metric in INSIGHT_METRICS:
            try:
                found.update(await self._insights_for(media_id, (metric,)))
            except InstagramError as error:
                if error.code not in (10, 100):
                    raise
                logger.info("insight %s of %s unavailable: %s", metric, media_id, error)
        return found

    async def _insights_for(self, media_id: str, metrics: Sequence[str]) -> dict[str, int]:
        response = await self.request(
            "GET",
            self._path(media_id, "insights"),
            params={"metric": ",".join(metrics)},
            headers=self._auth(),
        )
        body = json_object(response)
        data = body.get("data") if body else None
        if not isinstance(data, list):
            raise self.unreadable(response, f"the insights of {media_id}")
        found: dict[str, int] = {}
        for entry in data:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            value = _insight_value(entry)
            if value is not None:
                found[entry["name"]] = value
        return found

    async def check(self) -> AccountCheck:
        """``GET /{ig-user-id}?fields=id,username`` (the token reaches the account),
        ``GET /me/permissions`` (Facebook Login: what was granted) and the publishing quota
        (``content_publishing_limit``), mapped onto the permissions each action needs."""
        with self.recording_calls() as log:
            try:
                me = await self._fields(self._user_id(), "id,username")
            except AuthenticationError as error:
                return self.refused_check(error, log)
            granted: list[str] | None = None
            if urlsplit(self.base_url).hostname != "graph.instagram.com":
                try:
                    response = await self.request(
                        "GET", self._path("me", "permissions"), headers=self._auth()
                    )
                    body = json_object(response) or {}
                    data = body.get("data")
                    granted = [
                        str(item["permission"])
                        for item in (data if isinstance(data, list) else [])
                        if isinstance(item, dict) and item.get("status") == "granted"
                    ]
                except GovSocialError as error:
                    logger.info("permissions of %s unreadable: %s", self.account.handle, error)
            quota = await self.publishing_limit()
        username = me.get("username")
        fix = (
            "add {0} to the app's Instagram use case (App Review for people without a role "
            "on the app), issue a new token with it and update the account's access_token"
        )

        def need(permission: str, what: str) -> tuple[bool | None, str, str | None]:
            if granted is None:
                return None, "this host does not list a token's permissions", None
            if permission in granted:
                return True, f"{permission} granted ({what})", None
            return False, f"the token lacks {permission} ({what})", fix.format(permission)

        post = need("instagram_content_publish", "to publish")
        notes = []
        if quota is not None:
            usage, total, duration = quota
            notes.append(
                f"{usage} of {total} posts used in the last {duration / 3600:g} h "
                "(content_publishing_limit)"
            )
            if post[0] and usage >= total:
                post = (False, f"the publishing limit is used up ({usage} of {total})", None)
        return self.checked(
            log,
            identity=f"@{username}" if isinstance(username, str) and username else None,
            scopes=granted,
            notes=notes,
            post=post,
            reply=need("instagram_manage_comments", "a reply is a comment"),
            delete=need("instagram_manage_contents", "to delete a post"),
            metrics=need("instagram_manage_insights", "for insights"),
            account_metrics=(True, "the account's node answered", None),
        )

    async def fetch_account_metrics(self) -> AccountMetrics:
        """``GET /{ig-user-id}?fields=followers_count,follows_count,media_count``."""
        body = await self._fields(self._user_id(), "followers_count,follows_count,media_count")
        raw = {
            name: value
            for name in ("followers_count", "follows_count", "media_count")
            if (value := as_int(body.get(name))) is not None
        }
        return AccountMetrics(
            account=self.account,
            collected_at=datetime.now(UTC),
            followers=raw.get("followers_count"),
            following=raw.get("follows_count"),
            posts=raw.get("media_count"),
            raw=raw,
        )

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """Comments on a post and their replies (or the replies of a comment), oldest first."""
        fields = {"fields": "id,text,timestamp,username,from"}
        if ref.extra.get("kind") == "comment":
            media_id = ref.extra.get("media_id", "")
            parent = ref.extra.get("parent_id") or ref.id
            found = [
                self._interaction(item, media_id, parent)
                async for item in self._pages(self._path(parent, "replies"), fields)
            ]
            return sorted((i for i in found if i is not None), key=lambda i: i.created_at)
        top = [item async for item in self._pages(self._path(ref.id, "comments"), fields)]
        slots = asyncio.Semaphore(self.max_concurrent_reads)

        async def replies(comment_id: str) -> list[dict[str, Any]]:
            async with slots:
                path = self._path(comment_id, "replies")
                return [item async for item in self._pages(path, fields)]

        ids = [str(item["id"]) for item in top if is_id(item.get("id"))]
        nested = await asyncio.gather(*(replies(cid) for cid in ids))
        interactions = [self._interaction(item, ref.id, None) for item in top]
        for parent, items in zip(ids, nested, strict=True):
            interactions += [self._interaction(item, ref.id, parent) for item in items]
        return sorted((i for i in interactions if i is not None), key=lambda i: i.created_at)

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """Posts this account is tagged in (``GET /{ig-user-id}/tags``), oldest first.

        @mentions in other people's captions and comments reach an app only as webhooks
        (the ``mentions`` field); they cannot be listed afterwards, so they are not here.
        """
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        params = {"fields": "id,caption,timestamp,username,permalink"}
        found: list[Interaction] = []
        async for item in self._pages(self._path(self._user_id(), "tags"), params):
            when = parse_time(item.get("timestamp"))
            if not is_id(item.get("id")) or when is None:
                continue
            if since is not None and when <= since:
                continue
            author = item.get("username")
            caption = item.get("caption")
            link = item.get("permalink")
            found.append(
                Interaction(
                    kind="mention",
                    ref=self._media_ref(str(item["id"]), link if isinstance(link, str) else None),
                    author=author if isinstance(author, str) else "",
                    text=caption if isinstance(caption, str) else "",
                    created_at=when,
                )
            )
        return sorted(found, key=lambda i: i.created_at)

    def _interaction(
        self, item: dict[str, Any], media_id: str, parent: str | None
    ) -> Interaction | None:
        if not is_id(item.get("id")):
            return None
        author = item.get("username")
        if not isinstance(author, str):
            sender = as_dict(item.get("from"))
            author = sender.get("username") if isinstance(sender.get("username"), str) else ""
        text = item.get("text")
        return Interaction(
            kind="reply",
            ref=self._comment_ref(str(item["id"]), media_id, parent),
            author=author,
            text=text if isinstance(text, str) else "",
            created_at=parse_time(item.get("timestamp")) or datetime.now(UTC),
            in_reply_to_id=parent or media_id,
        )

    async def _pages(self, path: str, params: dict[str, str]) -> AsyncIterator[dict[str, Any]]:
        """The items of a Graph API list, following ``paging.next`` on the same host."""
        url: str = path if "://" in path else f"{self.base_url}{path}"
        query: dict[str, str] | None = params
        for _page in range(self.max_pages):
            response = await self.request("GET", url, params=query, headers=self._auth())
            body = json_object(response)
            data = body.get("data") if body else None
            if not isinstance(data, list):
                raise self.unreadable(response, f"the list at {urlsplit(url).path}")
            for item in data:
                if isinstance(item, dict):
                    yield item
            paging = body.get("paging") if body and isinstance(body.get("paging"), dict) else {}
            next_url = paging.get("next") if isinstance(paging, dict) else None
            if not data or not isinstance(next_url, str) or not self._same_origin(next_url):
                return
            url, query = _without_token(next_url), None

    # -- helpers ---------------------------------------------------------------------------

    def _user_id(self) -> str:
        return self.credential("ig_user_id")

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential('access_token')}"}

    def _path(self, node: str, edge: str | None = None) -> str:
        path = f"/{self.api_version}/{path_segment(node)}"
        return f"{path}/{edge}" if edge else path

    def _media_ref(self, media_id: str, permalink: str | None) -> PostRef:
        return PostRef(platform=self.name, account=self.account, id=media_id, url=permalink)

    def _comment_ref(self, comment_id: str, media_id: str, parent: str | None) -> PostRef:
        extra = {"kind": "comment", "media_id": media_id}
        if parent:
            extra["parent_id"] = parent
        return PostRef(platform=self.name, account=self.account, id=comment_id, extra=extra)

    def _same_origin(self, url: str) -> bool:
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        return (mine.scheme, mine.netloc) == (theirs.scheme, theirs.netloc)


def _story_problems(post: Post) -> list[Problem]:
    """A Story: one image or video, no caption, no alt text, a video of at most 100 MB."""
    chosen = post.labels.get(FORMAT_LABEL)
    if chosen is not None and chosen not in FORMATS:
        return [
            Problem(
                code="invalid_option",
                message=f"{FORMAT_LABEL} is {chosen!r}; give story (a Story) or post (the "
                "default: an image post, a Reel or a carousel)",
                field=f"labels.{FORMAT_LABEL}",
            )
        ]
    if chosen != "story" or post.reply_to is not None:
        return []
    problems: list[Problem] = []
    if len(post.media) != 1:
        problems.append(
            Problem(
                code="story_one_media",
                message=f"an Instagram Story is one image or one video; this post has "
                f"{len(post.media)}: publish each as its own Story",
                field="media",
            )
        )
    if post.text:
        problems.append(
            Problem(
                code="story_caption_dropped",
                message="an Instagram Story takes no caption through the API: the text is "
                "not published (put it in the image or video)",
                field="text",
                severity="warning",
            )
        )
    for index, media in enumerate(post.media):
        if media.kind == "image" and media.alt_text:
            problems.append(
                Problem(
                    code="alt_text_unsupported",
                    message="an Instagram Story takes no alt text through the API: the "
                    "description is not published",
                    field=f"media[{index}].alt_text",
                    severity="warning",
                )
            )
        # a path outside the media roots is not looked at (validate reports it as such)
        readable = media.path is None or MediaPolicy.from_environment().resolve_path(media.path)
        size = media.size() if media.kind == "video" and readable else None
        if size is not None and size > STORY_VIDEO_BYTES:
            problems.append(
                Problem(
                    code="media_too_large",
                    message=f"{media.source} is {size:,} bytes; an Instagram Story video "
                    f"takes up to {STORY_VIDEO_BYTES:,} ({MEDIA_DOCS}): recompress it",
                    field=f"media[{index}]",
                    limit=STORY_VIDEO_BYTES,
                )
            )
    return problems


def _auth_hint(error: meta.MetaError | None) -> str:
    reason = (
        {
            463: "it has expired",
            460: "the password of the Facebook account changed",
            467: "it is invalid (revoked, or the user logged out)",
            458: "the user removed the app",
        }.get(error.subcode or 0, "it is invalid, expired or revoked")
        if error
        else "it was refused"
    )
    return (
        f"the access token cannot be used: {reason}. Make a new long-lived token (Facebook "
        "Login: a System User token from Business Settings, or exchange a user token at "
        "/oauth/access_token; Instagram Login: sign in again, and refresh it with "
        "GET graph.instagram.com/refresh_access_token before its 60 days end) and update the "
        "account's access_token credential"
    )


def _insight_value(entry: dict[str, Any]) -> int | None:
    values = entry.get("values")
    if isinstance(values, list) and values and isinstance(values[0], dict):
        return as_int(values[0].get("value"))
    total = entry.get("total_value")
    if isinstance(total, dict):
        return as_int(total.get("value"))
    return None


def _without_token(url: str) -> str:
    """``paging.next`` may carry the token as a query parameter; it goes in the header."""
    parts = httpx.URL(url)
    params = [(k, v) for k, v in parts.params.multi_items() if k != "access_token"]
    return str(parts.copy_with(params=params))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
