"""The Facebook Pages adapter: publish, delete, measure and read comments through the Graph API.

One adapter serves one Page. Every call goes through the core's
:class:`govsocial.adapters.http.Http` session with the Page access token in an
``Authorization: Bearer`` header (never in a URL, so it cannot reach a log line).
What is Facebook-specific lives here:

- text posts go to ``POST /{page-id}/feed``; one image to ``POST /{page-id}/photos`` (a public
  ``url`` or a multipart ``source`` upload, ``caption``, ``alt_text_custom``); several images are
  uploaded unpublished (``published=false``) and attached to one feed post with
  ``attached_media``; the uploaded photo ids are checkpointed so a retry does not upload twice;
- one video is a Reel (``/{page-id}/video_reels``) when it meets Meta's Reels specification
  (9:16, 3 to 90 s...) or the label ``facebook.format`` says ``reel``, else a Page video
  (``/{page-id}/videos`` on graph-video.facebook.com); either is uploaded in resumable
  chunks through the upload engine and published exactly once (see
  :mod:`govsocial_facebook.video`);
- a reply is a comment: ``POST /{post-id}/comments``, or ``POST /{comment-id}/comments``;
- counts come from the post itself (reactions, comments, shares), batched with ``?ids=``;
  views, reach and clicks from ``/{post-id}/insights``, read so that a metric Meta renamed
  or removed leaves the others intact (see :mod:`govsocial_facebook.insights`);
- throttling (HTTP 400/403 with error codes 4, 17, 32, 613, 80001...) and the usage headers
  feed the core's budget (see :mod:`govsocial_facebook.meta`).

API reference: https://developers.facebook.com/docs/pages-api/posts,
https://developers.facebook.com/docs/graph-api/reference/page/feed,
https://developers.facebook.com/docs/graph-api/reference/page/photos,
https://developers.facebook.com/docs/graph-api/reference/object/comments,
https://developers.facebook.com/docs/graph-api/reference/page/tagged,
https://developers.facebook.com/docs/graph-api/video-uploads,
https://developers.facebook.com/docs/video-api/guides/reels-publishing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from govsocial.adapters import (
    Account,
    AccountCheck,
    AccountMetrics,
    Activity,
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
    RateState,
    UploadExpired,
    ValidationError,
    VideoLimits,
    as_int,
    json_object,
    parse_time,
    path_segment,
    poll,
    probe_video,
)
from govsocial.adapters.media_safety import MediaPolicy
from govsocial_facebook.insights import InsightsReader
from govsocial_facebook.meta import (
    GraphError,
    GraphPlatformError,
    GraphRateLimited,
    graph_error,
    is_auth_code,
    is_throttle_code,
    regain_access_seconds,
    usage_rate_state,
)
from govsocial_facebook.video import (
    FORMAT_LABEL,
    FORMATS,
    PAGE_VIDEO_RULES,
    REEL_RULES,
    TITLE_LABEL,
    PageVideoUpload,
    ReelUpload,
    fits_reel,
    upload_host_trusted,
    video_finished,
    video_status,
)
from govsocial_meta_graph import appsecret_hint, appsecret_proof

__all__ = ["COUNT_FIELDS", "Facebook"]

logger = logging.getLogger("govsocial.facebook")

#: The counts read from a Page post, in Graph field-expansion syntax.
COUNT_FIELDS = (
    "reactions.limit(0).summary(true),comments.limit(0).filter(stream).summary(true),shares"
)
#: The counts read from a video or Reel (a Video node has likes and comments, not reactions).
VIDEO_COUNT_FIELDS = "likes.limit(0).summary(true),comments.limit(0).summary(true),views"
_VIDEO_KINDS = ("video", "reel")
#: The counts read from a comment (a reply made through ``Post.reply_to``).
COMMENT_COUNT_FIELDS = "like_count,comment_count"
_COMMENT_FIELDS = "id,message,from{id,name},created_time,parent{id},permalink_url"
_TAGGED_FIELDS = "id,message,from{id,name},created_time,permalink_url"
#: The most ids one multiple-id lookup (``GET /?ids=``) takes.
_IDS_PER_LOOKUP = 50

_PERMISSIONS = (
    "pages_manage_posts, pages_read_engagement, pages_manage_engagement, "
    "pages_read_user_content and read_insights"
)
_REISSUE_HINTS: dict[int | None, str] = {
    463: "the Page access token has expired: get a new Page token (one taken from a "
    "long-lived User token does not expire, see docs/platforms/facebook.md) and update the "
    "account's page_access_token",
    460: "the person who issued the token changed their Facebook password: have them log in "
    "to the app again, get a new Page token and update page_access_token",
    458: "the person who issued the token removed the app: have them authorize it again, get "
    "a new Page token and update page_access_token",
    459: "the person who issued the token must log in at https://www.facebook.com to clear a "
    "security checkpoint, then get a new Page token",
    464: "the person who issued the token has an unconfirmed Facebook account: confirm it, "
    "then get a new Page token",
    467: "the Page access token is invalid: get a new Page token and update page_access_token",
}
_DEFAULT_REISSUE_HINT = (
    "the Page access token is invalid, expired or revoked: get a new Page token for this Page "
    "(see docs/platforms/facebook.md) and update the account's page_access_token"
)


class Facebook(Platform):
    """Facebook Pages through the Meta Graph API (one adapter per Page).

    Accounts need the credentials ``page_id`` (public) and ``page_access_token`` (secret),
    a Page token with the permissions pages_manage_posts, pages_read_engagement,
    pages_manage_engagement, pages_read_user_content and read_insights. ``base_url`` replaces
    the Graph host (default https://graph.facebook.com); the API version is ``api_version``.
    """

    name: ClassVar[str] = "facebook"
    title: ClassVar[str] = "Facebook"
    #: The Graph API version every request names (the newest in the changelog, July 2026).
    api_version: ClassVar[str] = "v26.0"
    default_base_url: ClassVar[str | None] = "https://graph.facebook.com"
    credential_fields: ClassVar[tuple[str, ...]] = ("page_id", "page_access_token")
    secret_fields: ClassVar[tuple[str, ...] | None] = ("page_access_token", "app_secret")
    #: Facebook has no idempotency key: a create whose answer was lost cannot be repeated safely.
    idempotency_window: ClassVar[float | None] = None
    limits: ClassVar[Limits] = Limits(
        max_characters=63206,  # the long-standing post limit; not in the Graph reference
        max_media=10,  # the reference gives no maximum for attached_media; kept modest
        image_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff"}),
        # "We support the following formats for uploaded videos: ... mov, mp4 ..."
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=10_000_000,  # "a photo must be less than 10MB" (Photo reference)
        # "Resumable uploading supports videos that are up to 10GB and 4 hours long"
        max_video_bytes=10_000_000_000,
        video=PAGE_VIDEO_RULES,
        alt_text=True,  # alt_text_custom on photo creation
        max_alt_text=None,
        threads=True,  # replies are comments
        delete=True,
        post_metrics=frozenset({"views", "reach", "likes", "reposts", "replies", "clicks"}),
        account_metrics=frozenset({"followers"}),
    )

    #: Shared metric -> insights metric name. Meta renames these: change them here.
    post_insights: ClassVar[dict[str, str]] = {
        "views": "post_media_view",
        "reach": "post_total_media_view_unique",
        "clicks": "post_clicks",
    }
    #: Most ids in one ``?ids=`` lookup (Graph accepts up to 50).
    ids_per_request: ClassVar[int] = 50
    #: Most insights requests one call keeps in flight.
    max_concurrent_reads: ClassVar[int] = 8
    #: Most pages of comments or tagged posts one call reads.
    max_pages: ClassVar[int] = 20
    #: How far below the newest comment read the next activity read goes again.
    activity_overlap: ClassVar[timedelta] = timedelta(minutes=10)
    #: How long uploaded unpublished photo ids are reused by a retry (Facebook keeps them
    #: about 24 hours before deleting them).
    unpublished_photo_ttl: ClassVar[float] = 23 * 3600.0
    #: Where videos go when the account uses Meta's own Graph host ("Videos must be
    #: published to graph-video.facebook.com", video-uploads guide).
    video_host: ClassVar[str] = "https://graph-video.facebook.com"
    #: First wait between checks of a video's processing (doubles), and the longest wait
    #: before the post is returned while Meta is still processing it.
    video_poll_interval: ClassVar[float] = 2.0
    video_processing_timeout: ClassVar[float] = 600.0

    def __init__(self, account: Account, context: AdapterContext) -> None:
        super().__init__(account, context)
        self.insights = InsightsReader(f"{self.base_url}/{self.api_version}", self._get)

    # -- offline -----------------------------------------------------------------------

    @classmethod
    def video_rules(cls, post: Post, limits: Limits) -> VideoLimits | None:
        """Reels' rules with the label ``facebook.format=reel``, else the Page video's."""
        if post.labels.get(FORMAT_LABEL) == "reel":
            return REEL_RULES
        return limits.video

    @classmethod
    def check_post(cls, post: Post, limits: Limits) -> list[Problem]:
        """A reply is a comment (text only); a video goes alone; the format label's values."""
        problems: list[Problem] = []
        chosen = post.labels.get(FORMAT_LABEL)
        if chosen is not None and chosen not in FORMATS:
            problems.append(
                Problem(
                    code="invalid_option",
                    message=f"{FORMAT_LABEL} is {chosen!r}; give reel (a Reel: 9:16, 3 to 90 "
                    "s) or video (a Page video)",
                    field=f"labels.{FORMAT_LABEL}",
                    platform=cls.name,
                )
            )
        videos = [m for m in post.media if m.kind == "video"]
        if videos and len(post.media) > 1:
            problems.append(
                Problem(
                    code="video_not_alone",
                    message="a Facebook video post holds one video and nothing else: publish "
                    "the images as another post",
                    field="media",
                    platform=cls.name,
                )
            )
        if chosen == "reel" and not videos and post.reply_to is None:
            problems.append(
                Problem(
                    code="reel_needs_video",
                    message=f"{FORMAT_LABEL}=reel needs a video: attach one, or remove the label",
                    field=f"labels.{FORMAT_LABEL}",
                    platform=cls.name,
                )
            )
        if post.reply_to is not None and post.media:
            problems.append(
                Problem(
                    code="reply_media_unsupported",
                    message=(
                        "a Facebook reply is a comment, and comments are sent as text only "
                        "(the Graph API takes no alt text for a comment's image): remove the "
                        "media from the reply or publish it as a post"
                    ),
                    field="media",
                    platform=cls.name,
                )
            )
        return problems

    # -- HTTP answers ------------------------------------------------------------------

    @classmethod
    def rate_state(cls, response: httpx.Response) -> RateState | None:
        """X-App-Usage / X-Business-Use-Case-Usage as a budget of 100 (see meta.py)."""
        return usage_rate_state(response)

    @classmethod
    def retry_after(cls, response: httpx.Response) -> float | None:
        """Retry-After when sent, else ``estimated_time_to_regain_access`` (minutes)."""
        asked = super().retry_after(response)
        return asked if asked is not None else regain_access_seconds(response)

    @classmethod
    def error_message(cls, response: httpx.Response) -> str:
        """Meta's ``error.message`` with its code, subcode and fbtrace_id."""
        graph = graph_error(response)
        if graph is None or not graph.message:
            return super().error_message(response)
        return graph.describe()

    @classmethod
    def is_throttled(cls, response: httpx.Response) -> bool:
        """HTTP 429, or a Graph error code meaning "slow down" (4, 17, 32, 613, 80000-80014...)."""
        if response.status_code == 429:
            return True
        graph = graph_error(response)
        return graph is not None and is_throttle_code(graph.code)

    @classmethod
    def is_auth_failure(cls, response: httpx.Response) -> bool:
        """HTTP 401, or Graph error code 190 (token expired or invalid) or 102."""
        if response.status_code == 401:
            return True
        graph = graph_error(response)
        return graph is not None and is_auth_code(graph.code)

    def error_for(self, response: httpx.Response) -> GovSocialError:
        graph = graph_error(response)
        if graph is None:
            return super().error_for(response)
        status = response.status_code
        text = graph.describe()
        who = self.account.handle
        if self.is_auth_failure(response):
            return AuthenticationError(
                f"Facebook rejected the Page access token of {who}: {text}",
                platform=self.name,
                hint=_REISSUE_HINTS.get(graph.subcode, _DEFAULT_REISSUE_HINT),
            )
        if self.is_throttled(response):
            return GraphRateLimited(
                f"Facebook rate limit reached for {who}: {text}",
                graph=graph,
                retry_after=self.retry_after(response),
                platform=self.name,
                status=status,
                body=text,
            )
        if graph.is_appsecret_proof:
            return GraphPlatformError(
                f"Facebook answered {status} for {who}: {text}",
                graph=graph,
                platform=self.name,
                status=status,
                body=text,
                field="credentials.app_secret",
                hint=appsecret_hint(graph, has_secret=self._app_secret() is not None),
            )
        return GraphPlatformError(
            f"Facebook answered {status} for {who}: {text}",
            graph=graph,
            platform=self.name,
            status=status,
            body=text,
            hint=_hint_for(graph),
        )

    # -- the app secret proof ----------------------------------------------------------------

    def _app_secret(self) -> str | None:
        if "app_secret" not in self.account.credentials:
            return None
        return self.credential("app_secret") or None

    def _proof(self) -> str | None:
        secret = self._app_secret()
        return appsecret_proof(self.credential("page_access_token"), secret) if secret else None

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Every Graph call, with ``appsecret_proof`` when the account has an ``app_secret``
        (https://developers.facebook.com/docs/graph-api/securing-requests)."""
        proof = self._proof()
        if proof is not None:
            kwargs["params"] = httpx.QueryParams(kwargs.get("params")).set("appsecret_proof", proof)
        return await super().request(method, path, **kwargs)

    def iter_credentials(self) -> Iterator[str]:
        """The Page token, the app secret, and the proof made from them."""
        yield from super().iter_credentials()
        try:
            proof = self._proof()
        except GovSocialError:
            proof = None
        if proof:
            yield proof

    # -- publishing --------------------------------------------------------------------

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """A feed post, a photo post, a multi-photo post, or (with reply_to) a comment."""
        key = idempotency_key or self.new_idempotency_key()
        if post.reply_to is not None:
            return await self._comment(post, key)
        if not post.media:
            return await self._create_feed_post({"message": post.text}, key)
        if any(media.kind == "video" for media in post.media):
            problems = [p for p in self.check_post(post, self.limits) if p.severity == "error"]
            if problems:
                raise ValidationError(problems, platform=self.name)
            return await self._video_post(post, key)
        if len(post.media) == 1:
            return await self._single_photo(post, key)
        return await self._multi_photo(post, key)

    async def _comment(self, post: Post, key: str) -> PostRef:
        target = post.reply_to
        assert target is not None
        if post.media:
            raise ConfigurationError(
                "a Facebook reply is a comment, sent as text only: remove the media",
                field="media",
            )
        response = await self._call(
            "POST",
            f"/{path_segment(target.id)}/comments",
            data={"message": post.text},
            create=True,
            idempotency_key=key,
        )
        comment_id = self._created_id(response, key, "id")
        return PostRef(
            platform=self.name,
            account=self.account,
            id=comment_id,
            extra={"kind": "comment", "parent": target.id},
        )

    async def _create_feed_post(self, data: dict[str, str], key: str) -> PostRef:
        response = await self._call(
            "POST", f"/{self._page()}/feed", data=data, create=True, idempotency_key=key
        )
        return self._post_ref(self._created_id(response, key, "id"))

    async def _single_photo(self, post: Post, key: str) -> PostRef:
        media = post.media[0]
        fields = {"caption": post.text} if post.text else {}
        response = await self._upload_photo(media, 0, fields, create=True, key=key)
        photo_id = self._created_id(response, key, "id")
        body = json_object(response) or {}
        post_id = body.get("post_id")
        ref_id = post_id if isinstance(post_id, str) and post_id else photo_id
        return self._post_ref(ref_id, photo_id=photo_id)

    async def _multi_photo(self, post: Post, key: str) -> PostRef:
        saved = self.checkpoint(key)
        uploaded_at = _float(saved.get("photos_at"))
        if uploaded_at is None or time.time() - uploaded_at > self.unpublished_photo_ttl:
            saved = {}  # Facebook deletes unpublished uploads after about 24 hours
            self.save_checkpoint(key, photos_at=str(time.time()))
        photo_ids: list[str] = []
        for index, media in enumerate(post.media):
            photo_id = saved.get(f"photo_{index}")
            if not photo_id:
                response = await self._upload_photo(
                    media, index, {"published": "false"}, create=False, key=key
                )
                photo_id = self._created_id(response, key, "id", step=f"media[{index}]")
                self.save_checkpoint(key, **{f"photo_{index}": photo_id})
            photo_ids.append(photo_id)
        data = {"message": post.text} if post.text else {}
        for index, photo_id in enumerate(photo_ids):
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        return await self._create_feed_post(data, key)

    # -- video ------------------------------------------------------------------------------

    async def _video_post(self, post: Post, key: str) -> PostRef:
        """A Reel or a Page video: uploaded (resumed from the checkpoint), finished once,
        then waited for until Meta has processed it."""
        media = post.media[0]
        saved = self.checkpoint(key)
        kind = saved.get("video_format") or await self._video_format(post, media)
        if saved.get("video_post"):
            return self._video_ref(saved["video_post"], kind)
        self.save_checkpoint(key, video_format=kind)
        protocol: ReelUpload | PageVideoUpload = (
            ReelUpload(self) if kind == "reel" else PageVideoUpload(self)
        )
        done = await self.upload(media, protocol, idempotency_key=key, name="video")
        video_id = done["video_id"]
        finished = False
        if self.checkpoint(key).get("video_finish_sent"):
            # an earlier attempt sent the finish and lost its answer: a video past its
            # upload phase was finished (published) then, and is not finished again
            finished = video_finished(await protocol.status(video_id))
            if finished:
                logger.info("%s: video %s was finished before", self.account.handle, video_id)
        if not finished:
            self.save_checkpoint(key, video_finish_sent="1")
            await self._finish_video(post, kind, done, key)
        self.save_checkpoint(key, video_post=video_id)
        await self._wait_for_video(protocol, video_id)
        return self._video_ref(video_id, kind)

    async def _video_format(self, post: Post, media: Media) -> str:
        """``reel`` or ``video``: the label's choice, else a Reel when the video meets the
        Reels specification (read from the file), else a Page video."""
        chosen = post.labels.get(FORMAT_LABEL)
        if chosen in FORMATS:
            return chosen
        if media.url is not None:
            return "video"  # its facts are unknown here: a Page video takes any shape
        try:
            if media.path is not None:
                policy = self.context.media_policy or MediaPolicy.from_environment()
                path = policy.check_path(media.path, field="media[0].path")
                info = await asyncio.to_thread(probe_video, path)
            else:
                info = await asyncio.to_thread(probe_video, media.data or b"")
        except GovSocialError as error:  # no PyAV, or unreadable: Meta will judge it
            logger.info("video facts unknown (%s): publishing a Page video", error.message)
            return "video"
        return "reel" if fits_reel(info) else "video"

    async def _finish_video(self, post: Post, kind: str, done: dict[str, str], key: str) -> None:
        """The request that publishes: ``upload_phase=finish``."""
        data = {"upload_phase": "finish"}
        if kind == "reel":
            data.update(video_id=done["video_id"], video_state="PUBLISHED")
            path = f"/{self._page()}/video_reels"
        else:
            data["upload_session_id"] = done["session"]
            title = post.labels.get(TITLE_LABEL)
            if title:
                data["title"] = title
            path = f"/{self._page()}/videos"
        if post.text:
            data["description"] = post.text
        response = await self._call(
            "POST", path, data=data, create=True, idempotency_key=key, video=kind != "reel"
        )
        body = json_object(response) or {}
        if body.get("success") is not True:
            raise PublishOutcomeUnknown(
                f"Facebook answered the finish of video {done['video_id']} for "
                f"{self.account.handle} (HTTP {response.status_code}) without success",
                platform=self.name,
                account=self.account.handle,
                idempotency_key=key,
                detail={"body": self.snippet(response)},
            )

    async def _wait_for_video(self, protocol: ReelUpload | PageVideoUpload, video_id: str) -> None:
        """``GET /{video-id}?fields=status`` until ``ready``; ``error`` raises. A video still
        processing after ``video_processing_timeout`` is published all the same: the post
        is returned and Meta finishes it later."""

        async def ready() -> str | None:
            body = await protocol.status(video_id)
            state, _, _ = video_status(body)
            if state == "error":
                raise PlatformError(
                    f"Facebook could not process video {video_id} of {self.account.handle}: "
                    f"{json.dumps((body or {}).get('status'))[:300]}",
                    platform=self.name,
                    hint="check the file against Meta's video specifications "
                    "(docs/platforms/facebook.md) and publish it again as a new post",
                )
            return video_id if state == "ready" else None

        try:
            await poll(
                ready,
                what=f"Facebook's processing of video {video_id}",
                platform=self.name,
                timeout=self.video_processing_timeout,
                first=self.video_poll_interval,
            )
        except PlatformError as error:
            if "still processing" not in error.message:
                raise
            logger.warning("%s: %s; the post is published", self.account.handle, error.message)

    def _video_ref(self, video_id: str, kind: str) -> PostRef:
        url = (
            f"https://www.facebook.com/reel/{video_id}"
            if kind == "reel"
            else f"https://www.facebook.com/{self.credential('page_id')}/videos/{video_id}"
        )
        return PostRef(
            platform=self.name,
            account=self.account,
            id=video_id,
            url=url,
            extra={"kind": kind},
        )

    def _trusted_upload_host(self, url: str) -> bool:
        """Whether the Page token may go to ``url`` (Meta's hosts, or the account's server)."""
        return upload_host_trusted(url, self.base_url)

    def _video_base(self) -> str:
        host = (urlsplit(self.base_url).hostname or "").lower()
        return self.video_host if host == "graph.facebook.com" else self.base_url

    async def _upload_photo(
        self, media: Media, index: int, fields: dict[str, str], *, create: bool, key: str
    ) -> httpx.Response:
        data = dict(fields)
        if media.alt_text:
            data["alt_text_custom"] = media.alt_text
        files: dict[str, tuple[str, bytes, str]] | None = None
        if media.url is not None:
            data["url"] = media.url  # Facebook downloads it
        else:
            mime = media.mime_type or "application/octet-stream"
            files = {"source": (_filename(media, index), await self.read_media(media), mime)}
        return await self._call(
            "POST",
            f"/{self._page()}/photos",
            data=data,
            files=files,
            create=create,
            idempotency_key=key,
            # an unpublished upload that is repeated only leaves an unused photo, which
            # Facebook deletes after about 24 hours
            idempotent=None if create else True,
        )

    def _created_id(
        self, response: httpx.Response, key: str, field: str, *, step: str = "the post"
    ) -> str:
        body = json_object(response)
        value = body.get(field) if body is not None else None
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise PublishOutcomeUnknown(
            f"Facebook accepted {step} for {self.account.handle} (HTTP "
            f"{response.status_code}) but its answer could not be read, so the new id is "
            "unknown",
            platform=self.name,
            account=self.account.handle,
            idempotency_key=key,
            detail={"body": self.snippet(response)},
        )

    async def delete(self, ref: PostRef) -> None:
        """``DELETE /{post-id}`` (or a comment id)."""
        try:
            await self._call("DELETE", f"/{path_segment(ref.id)}")
        except GraphPlatformError as error:
            graph = error.graph
            if graph is None or graph.code != 100 or graph.subcode != 33:
                raise
            raise PlatformError(
                f"Facebook has no post {ref.id} of {self.account.handle} to delete: {error.body}",
                platform=self.name,
                status=error.status,
                body=error.body,
                hint="it may have been deleted already, or belong to another Page",
            ) from None

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """A video delivery is answered from its checkpoint and the video's status: the
        video when the finish (which publishes) was taken, None when it was never sent or
        not taken (publishing again resumes the upload). Other posts cannot be looked up:
        Facebook keeps no idempotency key to find them by."""
        saved = self.checkpoint(idempotency_key)
        kind = saved.get("video_format")
        if kind:
            if saved.get("video_post"):
                return self._video_ref(saved["video_post"], kind)
            video_id = saved.get("video.video_id")
            if not saved.get("video_finish_sent") or not video_id:
                return None  # the finish was never sent: nothing is published
            protocol = ReelUpload(self) if kind == "reel" else PageVideoUpload(self)
            try:
                body = await protocol.status(video_id)
            except UploadExpired:
                return None  # Meta no longer knows the upload: it was never published
            if video_finished(body):
                self.save_checkpoint(idempotency_key, video_post=video_id)
                return self._video_ref(video_id, kind)
            return None
        raise NotImplementedError(
            "Facebook cannot be asked which post a delivery made (it has no idempotency "
            "key): check the Page's recent posts by hand before publishing again"
        )

    # -- reading ---------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """Counts for all refs through ``?ids=`` lookups, insights per post, a few at a time."""
        posts = [ref for ref in refs if ref.extra.get("kind") not in ("comment", *_VIDEO_KINDS)]
        comments = [ref for ref in refs if ref.extra.get("kind") == "comment"]
        videos = [ref for ref in refs if ref.extra.get("kind") in _VIDEO_KINDS]
        counts: dict[str, dict[str, Any]] = {}
        counts.update(await self._lookup([r.id for r in posts], COUNT_FIELDS))
        counts.update(await self._lookup([r.id for r in comments], COMMENT_COUNT_FIELDS))
        counts.update(await self._lookup([r.id for r in videos], VIDEO_COUNT_FIELDS))
        slots = asyncio.Semaphore(self.max_concurrent_reads)

        async def one(ref: PostRef) -> PostMetrics:
            async with slots:
                return await self._metrics(ref, counts.get(ref.id, {}))

        return list(await asyncio.gather(*(one(ref) for ref in refs)))

    async def _lookup(self, ids: list[str], fields: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), self.ids_per_request):
            chunk = unique[start : start + self.ids_per_request]
            try:
                found.update(await self._lookup_chunk(chunk, fields))
            except GraphPlatformError as error:
                if len(chunk) == 1 or error.graph is None or error.graph.code != 100:
                    if len(chunk) == 1 and _is_missing(error):
                        found[chunk[0]] = {"error": error.body}
                        continue
                    raise
                for object_id in chunk:  # one bad id fails the whole lookup: ask one by one
                    try:
                        found.update(await self._lookup_chunk([object_id], fields))
                    except GraphPlatformError as single:
                        if not _is_missing(single):
                            raise
                        found[object_id] = {"error": single.body}
        return found

    async def _lookup_chunk(self, ids: list[str], fields: str) -> dict[str, dict[str, Any]]:
        response = await self._get("/", {"ids": ",".join(ids), "fields": fields})
        body = json_object(response)
        if body is None:
            raise self.unreadable(response, "the post counts")
        return {key: value for key, value in body.items() if isinstance(value, dict)}

    async def _metrics(self, ref: PostRef, node: dict[str, Any]) -> PostMetrics:
        raw: dict[str, Any] = {}
        if "error" in node:
            raw["error"] = node["error"]
        if ref.extra.get("kind") == "comment":
            values: dict[str, int | None] = {
                "likes": as_int(node.get("like_count")),
                "replies": as_int(node.get("comment_count")),
            }
        elif ref.extra.get("kind") in _VIDEO_KINDS:
            values = {
                "likes": _summary_count(node.get("likes")),
                "replies": _summary_count(node.get("comments")),
                "views": as_int(node.get("views")),
            }
        else:
            shares = node.get("shares")
            values = {
                "likes": _summary_count(node.get("reactions")),
                "replies": _summary_count(node.get("comments")),
                # Facebook leaves "shares" out when a post has none (so: unknown, None)
                "reposts": as_int(shares.get("count")) if isinstance(shares, dict) else None,
            }
            values.update(await self._insights(ref, raw))
        raw.update({name: value for name, value in values.items() if value is not None})
        return PostMetrics(
            ref=ref,
            collected_at=datetime.now(UTC),
            views=values.get("views"),
            reach=values.get("reach"),
            likes=values.get("likes"),
            reposts=values.get("reposts"),
            replies=values.get("replies"),
            clicks=values.get("clicks"),
            raw=raw,
        )

    async def _insights(self, ref: PostRef, raw: dict[str, Any]) -> dict[str, int | None]:
        names = self.post_insights
        try:
            found, refused = await self.insights.read(ref.id, list(names.values()))
        except GraphPlatformError as error:  # no read_insights permission, a missing post...
            logger.warning("Facebook insights of %s are unavailable: %s", ref.id, error.message)
            raw["insights_error"] = error.body
            return {}
        if refused:
            raw["insights_refused"] = refused
        raw["insights"] = found
        return {shared: found.get(metric) for shared, metric in names.items()}

    async def check(self) -> AccountCheck:
        """``GET /{page-id}?fields=id,name,followers_count,fan_count``: the Page token works
        and reaches this Page, with the usage headers. A Page token cannot list its own
        permissions (``debug_token`` needs the app's token), so the actions stay "cannot
        tell", with the permissions each needs."""
        with self.recording_calls() as log:
            try:
                response = await self._get(
                    f"/{self._page()}", {"fields": "id,name,followers_count,fan_count"}
                )
            except AuthenticationError as error:
                return self.refused_check(error, log)
        page = json_object(response) or {}
        name = page.get("name")

        def needs(permissions: str) -> tuple[bool | None, str, str | None]:
            return (
                None,
                f"needs {permissions} on the Page token; Facebook does not list a Page "
                "token's permissions to the token itself (debug_token needs the app's own "
                "token): the first attempt will tell",
                None,
            )

        return self.checked(
            log,
            identity=name if isinstance(name, str) and name else None,
            post=needs("pages_manage_posts"),
            reply=needs("pages_manage_engagement"),
            delete=needs("pages_manage_posts"),
            metrics=needs("read_insights and pages_read_engagement"),
            account_metrics=(True, "the Page's followers were read", None),
        )

    async def fetch_account_metrics(self) -> AccountMetrics:
        """``GET /{page-id}?fields=followers_count,fan_count``."""
        response = await self._get(f"/{self._page()}", {"fields": "followers_count,fan_count"})
        page = json_object(response)
        if page is None:
            raise self.unreadable(response, "the Page")
        raw = {
            name: value
            for name in ("followers_count", "fan_count")
            if (value := as_int(page.get(name))) is not None
        }
        return AccountMetrics(
            account=self.account,
            collected_at=datetime.now(UTC),
            followers=raw.get("followers_count"),
            raw=raw,
        )

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """Every comment below ``ref`` (``filter=stream``: replies to comments too), oldest first.

        ``GET /{post-id}/comments?filter=stream&order=chronological``.
        """
        params = {
            "fields": _COMMENT_FIELDS,
            "filter": "stream",
            "order": "chronological",
            "limit": "100",
        }
        found: list[Interaction] = []
        for item in await self._pages(f"/{path_segment(ref.id)}/comments", params, "the comments"):
            parent = item.get("parent")
            parent_id = parent.get("id") if isinstance(parent, dict) else None
            interaction = self._interaction(
                item, "reply", in_reply_to=parent_id if isinstance(parent_id, str) else ref.id
            )
            if interaction is not None:
                found.append(interaction)
        return sorted(found, key=lambda item: item.created_at)

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """Public posts in which the Page is tagged (``GET /{page-id}/tagged``), oldest first."""
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        params = {"fields": _TAGGED_FIELDS, "limit": "100"}
        if since is not None:
            params["since"] = str(int(since.timestamp()))
        found: dict[str, Interaction] = {}
        for item in await self._pages(f"/{self._page()}/tagged", params, "the tagged posts"):
            interaction = self._interaction(item, "mention", in_reply_to=None)
            if interaction is None or (since is not None and interaction.created_at <= since):
                continue
            found.setdefault(interaction.ref.id, interaction)
        return sorted(found.values(), key=lambda item: item.created_at)

    async def fetch_activity(
        self,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
        posts: Sequence[PostRef] = (),
    ) -> Activity:
        """Comments on ``posts`` in one Graph request per 50 posts, and the posts the Page
        is tagged in: 2 requests for up to 50 posts, where reading post by post cost one
        each. A Page has no notifications an app can list (they come only as webhooks).

        - ``GET /?ids={post},...&fields=comments.filter(stream).order(reverse_chronological)
          .limit(100){...}`` (the multiple-id lookup, at most 50 ids, with field expansion:
          https://developers.facebook.com/docs/graph-api/guides/field-expansion): each post's
          newest comments, replies to comments included; a post with more new ones than the
          first 100 reads its further pages with ``GET /{post-id}/comments?after=``.
        - ``GET /{page-id}/tagged?since=``: the mentions.

        The cursor is the newest ``created_time`` read (Facebook's clock, capped at the time
        of the call); the next call keeps what is newer than it less ``activity_overlap``.
        """
        floor = _activity_floor(cursor)
        floor = floor - self.activity_overlap if floor is not None else since
        if floor is not None and floor.tzinfo is None:
            floor = floor.replace(tzinfo=UTC)
        now = datetime.now(UTC)
        found: dict[str, Interaction] = {}
        ids = [str(ref.id) for ref in posts]
        for start in range(0, len(ids), _IDS_PER_LOOKUP):
            chunk = ids[start : start + _IDS_PER_LOOKUP]
            for interaction in await self._comments_of(chunk, floor):
                found.setdefault(interaction.ref.id, interaction)
        for interaction in await self.fetch_mentions(since=floor):
            found.setdefault(interaction.ref.id, interaction)
        times = [min(i.created_at, now) for i in found.values()]
        newest = max(times, default=None)
        previous = _activity_floor(cursor)
        if previous is not None and (newest is None or previous > newest):
            newest = previous
        state = {"seen": newest.isoformat() if newest is not None else None}
        ordered = sorted(found.values(), key=lambda item: item.created_at)
        return Activity(interactions=tuple(ordered), cursor=json.dumps(state))

    async def _comments_of(self, ids: list[str], floor: datetime | None) -> list[Interaction]:
        """The comments newer than ``floor`` on the posts ``ids`` (one lookup for them all,
        then further pages of a post whose first page was all new)."""
        expansion = (
            f"comments.filter(stream).order(reverse_chronological).limit(100){{{_COMMENT_FIELDS}}}"
        )
        response = await self._get("/", {"ids": ",".join(ids), "fields": f"id,{expansion}"})
        body = json_object(response)
        if body is None:
            raise self.unreadable(response, "the comments of the posts")
        found: list[Interaction] = []
        for post_id in ids:
            node = body.get(post_id)
            edge = node.get("comments") if isinstance(node, dict) else None
            if not isinstance(edge, dict):
                continue
            items = [item for item in edge.get("data") or [] if isinstance(item, dict)]
            fresh = self._new_comments(items, post_id, floor)
            found += fresh
            paging = edge.get("paging")
            cursors = paging.get("cursors") if isinstance(paging, dict) else None
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if len(fresh) < len(items) or not isinstance(paging, dict) or "next" not in paging:
                continue
            for _page in range(self.max_pages - 1):  # more new ones than one page held
                if not isinstance(after, str) or not after:
                    break
                more = json_object(
                    await self._get(
                        f"/{path_segment(post_id)}/comments",
                        {
                            "fields": _COMMENT_FIELDS,
                            "filter": "stream",
                            "order": "reverse_chronological",
                            "limit": "100",
                            "after": after,
                        },
                    )
                )
                items = [i for i in (more or {}).get("data") or [] if isinstance(i, dict)]
                fresh = self._new_comments(items, post_id, floor)
                found += fresh
                paging = (more or {}).get("paging")
                cursors = paging.get("cursors") if isinstance(paging, dict) else None
                after = cursors.get("after") if isinstance(cursors, dict) else None
                if len(fresh) < len(items) or not isinstance(paging, dict) or "next" not in paging:
                    break
        return found

    def _new_comments(
        self, items: list[dict[str, Any]], post_id: str, floor: datetime | None
    ) -> list[Interaction]:
        """The comments of ``items`` newer than ``floor``, threaded to ``post_id``."""
        fresh = []
        for item in items:
            parent = item.get("parent")
            parent_id = parent.get("id") if isinstance(parent, dict) else None
            interaction = self._interaction(
                item, "reply", in_reply_to=parent_id if isinstance(parent_id, str) else post_id
            )
            if interaction is None:
                continue
            if floor is not None and interaction.created_at <= floor:
                continue
            fresh.append(interaction.model_copy(update={"thread_id": post_id}))
        return fresh

    async def _pages(self, path: str, params: dict[str, str], what: str) -> list[dict[str, Any]]:
        """The ``data`` of every page of an edge, following ``paging.cursors.after``.

        The ``paging.next`` URL is not followed as given: it carries the access token in its
        query string, and the adapter keeps the token in the Authorization header only.
        """
        items: list[dict[str, Any]] = []
        query = dict(params)
        for _page in range(self.max_pages):
            response = await self._get(path, query)
            body = json_object(response)
            if body is None or not isinstance(body.get("data"), list):
                raise self.unreadable(response, what)
            items.extend(item for item in body["data"] if isinstance(item, dict))
            paging = body.get("paging")
            cursors = paging.get("cursors") if isinstance(paging, dict) else None
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if not body["data"] or not isinstance(paging, dict) or "next" not in paging:
                break
            if not isinstance(after, str) or not after:
                break
            query = {**params, "after": after}
        return items

    def _interaction(
        self, item: dict[str, Any], kind: str, *, in_reply_to: str | None
    ) -> Interaction | None:
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            return None
        author = item.get("from")
        author_id = author.get("id") if isinstance(author, dict) else None
        author_name = author.get("name") if isinstance(author, dict) else None
        url = item.get("permalink_url")
        extra = {"kind": "comment"} if kind == "reply" else {}
        return Interaction(
            kind="reply" if kind == "reply" else "mention",
            ref=PostRef(
                platform=self.name,
                account=self.account,
                id=item_id,
                url=url if isinstance(url, str) else None,
                extra=extra,
            ),
            # Facebook leaves "from" out for people who have not authorized the app
            author=author_id if isinstance(author_id, str) else "",
            author_name=author_name if isinstance(author_name, str) and author_name else None,
            text=str(item.get("message") or ""),
            created_at=parse_time(item.get("created_time")) or datetime.now(UTC),
            in_reply_to_id=in_reply_to,
        )

    # -- helpers ---------------------------------------------------------------------------

    def _page(self) -> str:
        return path_segment(self.credential("page_id"))

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential('page_access_token')}"}

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        create: bool = False,
        idempotency_key: str | None = None,
        idempotent: bool | None = None,
        video: bool = False,
    ) -> httpx.Response:
        options: dict[str, Any] = {}
        if params:
            options["params"] = params
        if data:
            options["data"] = data
        if files:
            options["files"] = files
        return await self.request(
            method,
            f"{self._video_base() if video else ''}/{self.api_version}{path}",
            headers=self._auth(),
            create=create,
            idempotency_key=idempotency_key,
            idempotent=idempotent,
            **options,
        )

    async def _get(self, path: str, params: dict[str, str]) -> httpx.Response:
        return await self._call("GET", path, params=params)

    def _post_ref(self, post_id: str, *, photo_id: str | None = None) -> PostRef:
        page, _, story = post_id.partition("_")
        url = (
            f"https://www.facebook.com/{page}/posts/{story}"
            if story
            else f"https://www.facebook.com/{post_id}"
        )
        return PostRef(
            platform=self.name,
            account=self.account,
            id=post_id,
            url=url,
            extra={"photo_id": photo_id} if photo_id else {},
        )


def _hint_for(graph: GraphError) -> str | None:
    code = graph.code
    if code == 10 or (code is not None and 200 <= code <= 299):
        return (
            f"the Page token lacks a permission: grant the app {_PERMISSIONS} for this Page "
            "and issue a new Page token"
        )
    if code == 506:
        return "Facebook refuses the same text twice in a row: change the post and retry"
    if code == 368:
        return "Facebook blocked the action as abusive or against policy: wait and retry later"
    if code == 100 and graph.subcode == 33:
        return "the object does not exist or this Page cannot see it: check the id"
    return None


def _is_missing(error: GraphPlatformError) -> bool:
    return error.graph is not None and error.graph.code == 100 and error.graph.subcode == 33


def _summary_count(edge: Any) -> int | None:
    summary = edge.get("summary") if isinstance(edge, dict) else None
    return as_int(summary.get("total_count")) if isinstance(summary, dict) else None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _filename(media: Media, index: int) -> str:
    if media.path is not None:
        return media.path.name
    extension = {
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/gif": ".gif",
        "image/bmp": ".bmp",
        "image/tiff": ".tiff",
    }.get(media.mime_type or "", "")
    return f"photo{index}{extension}"


def _activity_floor(cursor: str | None) -> datetime | None:
    """The newest comment time a cursor of :meth:`Facebook.fetch_activity` holds (None
    when it holds nothing readable)."""
    try:
        state = json.loads(cursor) if cursor else {}
    except ValueError:
        return None
    seen = state.get("seen") if isinstance(state, dict) else None
    return parse_time(seen) if isinstance(seen, str) else None
