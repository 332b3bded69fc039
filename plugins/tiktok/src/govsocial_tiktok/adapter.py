"""The TikTok adapter: Content Posting API, Direct Post, for video and photo posts.

A post goes through these steps (each page of TikTok's documentation is named where it is
used below):

1. ``POST /v2/post/publish/creator_info/query/``: the privacy levels this creator may post
   with, the longest video they may post, and whether they turned comments, duets or
   stitches off (https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info/).
   The post's privacy must be one of the options; the video's duration within the maximum.
2. The init call, which makes a *publish* (``publish_id``):

   - a local video: ``POST /v2/post/publish/video/init/`` with ``source=FILE_UPLOAD``, then
     the file in chunks, ``PUT`` to the ``upload_url`` with ``Content-Range``
     (https://developers.tiktok.com/doc/content-posting-api-reference-direct-post,
     https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide), run by
     govsocial's upload engine through :class:`ChunkedPut`;
   - a video at a URL: the same init with ``source=PULL_FROM_URL`` (TikTok downloads it;
     the URL's domain or prefix must be verified for the app);
   - photos: ``POST /v2/post/publish/content/init/`` with ``media_type=PHOTO`` and
     ``PULL_FROM_URL`` (https://developers.tiktok.com/doc/content-posting-api-reference-photo-post);
     local images go through the client's media host (``Platform.public_url``).
3. ``POST /v2/post/publish/status/fetch/`` until ``PUBLISH_COMPLETE``
   (https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status).
   Public posts are moderated first: "usually within one minute", "in some cases a few
   hours", and the post id arrives only afterwards.

Exactly once. The publish is the post: a second init would be a second post. So:

- the ``publish_id`` is saved in the delivery's checkpoint the moment TikTok returns it
  (for a file upload, by the upload engine, with the ``upload_url``), and every later
  attempt of the same delivery resumes it: it asks TikTok what it holds
  (``uploaded_bytes`` of status/fetch), sends the rest, or only polls again;
- a new init happens only when the old publish can no longer become a post: its upload
  URL expired (TikTok gives it one hour) or TikTok reports it ``FAILED`` before it held
  every byte. A publish that never received its whole video is never posted, so the new
  init cannot make a second post;
- a URL or photo init is a *create* call (TikTok starts the post on receiving it): an
  answer lost on the way back is :class:`~govsocial.PublishOutcomeUnknown`, never a blind
  repeat;
- when the post is still processing or in moderation after :attr:`TikTok.moderation_wait`
  seconds, the attempt ends with :class:`PublishPending` (govsocial's
  :class:`~govsocial.PublishPending`): a workspace's worker keeps the delivery
  ``processing``, holding no slot, and after ``retry_after`` seconds any worker looks again
  with :meth:`TikTok.resume_processing`, one status/fetch of the same ``publish_id``
  (never an init), until the post id arrives, TikTok fails it, or the workspace's
  processing limit (48 h) runs out.

Limits. Each user token may make 6 init calls a minute (both init pages); the adapter
counts them in the client's rate budget, so a seventh waits instead of collecting a 429.
Unaudited apps post ``SELF_ONLY`` only, for at most 5 users a day, from private accounts
(https://developers.tiktok.com/doc/content-sharing-guidelines/): the result says so
(``PostRef.extra["privacy_level"]``), and TikTok's refusals are errors naming the fix.

Tokens. TikTok's access tokens are short-lived (24 h in
https://developers.tiktok.com/doc/oauth-user-access-token-management; newer pages say 2 h)
and are renewed with the refresh token, which TikTok may rotate: a new one replaces the
old, and an answer without one never wipes the one we have.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
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
    LocalServer,
    Media,
    NotSupported,
    Platform,
    PlatformError,
    Post,
    PostMetrics,
    PostRef,
    Problem,
    RateLimited,
    RateState,
    TokenRefresh,
    UploadExpired,
    ValidationError,
    VideoLimits,
    as_dict,
    as_int,
    json_object,
    poll,
    read_json,
    scrub,
)
from govsocial.adapters import (
    PublishPending as CorePublishPending,
)

__all__ = ["ChunkedPut", "PublishPending", "TikTok", "plan_chunks"]

_MB = 1024 * 1024

DIRECT_POST_DOCS = "https://developers.tiktok.com/doc/content-posting-api-reference-direct-post"
CREATOR_INFO_DOCS = (
    "https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info/"
)
MEDIA_TRANSFER_DOCS = "https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide"
PHOTO_DOCS = "https://developers.tiktok.com/doc/content-posting-api-reference-photo-post"
STATUS_DOCS = "https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status"
ERROR_DOCS = "https://developers.tiktok.com/doc/tiktok-api-v2-error-handling"
GUIDELINES_DOCS = "https://developers.tiktok.com/doc/content-sharing-guidelines/"
TOKEN_DOCS = "https://developers.tiktok.com/doc/oauth-user-access-token-management"  # noqa: S105 - a page
#: The v1 page points to the v2 endpoint ``POST /v2/video/query/`` (scope video.list).
VIDEO_QUERY_DOCS = "https://developers.tiktok.com/doc/tiktok-api-v1-video-query"
DELETE_DOCS = (
    "the Content Posting API (https://developers.tiktok.com/doc/content-posting-api-get-started/)"
    " has no endpoint that deletes or edits a post: delete it in the TikTok app"
)

CREATOR_INFO = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
STATUS_FETCH = "/v2/post/publish/status/fetch/"
VIDEO_QUERY = "/v2/video/query/"
USER_INFO = "/v2/user/info/"
TOKEN = "/v2/oauth/token/"  # noqa: S105 - a path, not a secret

#: A TikTok user name (letters, digits, underscores and dots), for the post's link.
_USERNAME = re.compile(r"[A-Za-z0-9_.]{1,64}")

#: The statuses of status/fetch after which the publish holds every byte of its video.
_RECEIVED = frozenset({"PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX", "PUBLISH_COMPLETE"})

_REAUTHORIZE = (
    "send the account owner through TikTok's authorization page again (scopes video.publish, "
    "video.upload, video.list, user.info.basic, user.info.stats), exchange the code at "
    "POST /v2/oauth/token/ and update the account's access_token and refresh_token "
    f"({TOKEN_DOCS})"
)

#: TikTok's error codes (https://developers.tiktok.com/doc/tiktok-api-v2-error-handling and
#: the error table of the Direct Post page) and what fixes each.
FIXES: dict[str, str] = {
    "spam_risk_too_many_posts": "TikTok caps the posts one user may make through the API in "
    "a day; publish the rest tomorrow (not retried automatically)",
    "spam_risk_user_banned_from_posting": "TikTok has banned this user from posting; the "
    "account owner must resolve it in the TikTok app",
    "reached_active_user_cap": "an unaudited app may be used by at most 5 users in 24 hours "
    f"({GUIDELINES_DOCS}); wait, or have the app audited",
    "unaudited_client_can_only_post_to_private_accounts": "until the app passes TikTok's "
    "audit, the account must be private at the time of posting and posts go out SELF_ONLY: "
    "make the account private and set its privacy_level credential to SELF_ONLY, or have the "
    f"app audited ({GUIDELINES_DOCS})",
    "privacy_level_option_mismatch": "the privacy level must be one of the creator's "
    "privacy_level_options (creator_info/query): change the account's privacy_level "
    "credential, or remove it to use the account's own option",
    "url_ownership_unverified": "TikTok pulls media only from a domain or URL prefix "
    "verified for the app: verify the media host's address in the TikTok developer portal "
    f"(URL properties; {MEDIA_TRANSFER_DOCS})",
    "invalid_params": "TikTok refused a field of the request; its message names it",
    "invalid_param": "TikTok refused a field of the request; its message names it",
    "scope_not_authorized": "the account owner did not grant the scope this needs (video.publish"
    " to post, video.list for metrics, user.info.stats for followers): " + _REAUTHORIZE,
    "scope_permission_missed": "the app is not approved for this scope: add the Content "
    "Posting API (Direct Post) to the app in the TikTok developer portal",
    "access_token_invalid": "the token is expired or revoked: " + _REAUTHORIZE,
    "rate_limit_exceeded": "TikTok allows 6 init calls a minute per user token",
    "internal_error": "a fault inside TikTok; try again later",
}
_CONFIGURATION = {
    "privacy_level_option_mismatch": "credentials.privacy_level",
    "unaudited_client_can_only_post_to_private_accounts": "credentials.privacy_level",
    "url_ownership_unverified": "media",
}
_AUTH = frozenset({"access_token_invalid", "scope_not_authorized", "scope_permission_missed"})

#: Why status/fetch may say FAILED (the Get Post Status page), with the fix.
FAIL_REASONS: dict[str, str] = {
    "file_format_check_failed": "export the video as MP4 with H.264 video",
    "duration_check_failed": "cut the video to the creator's maximum duration",
    "frame_rate_check_failed": "export the video at 23 to 60 frames a second",
    "picture_size_check_failed": "export the video at 360 to 4096 pixels on each side",
    "internal": "a fault inside TikTok: publish again",
    "video_pull_failed": "TikTok could not download the video: check the URL is public",
    "photo_pull_failed": "TikTok could not download a photo: check the URL is public",
    "publish_cancelled": "the post was cancelled",
    "auth_removed": "the account owner revoked the app's access: " + _REAUTHORIZE,
    "spam_risk_too_many_posts": FIXES["spam_risk_too_many_posts"],
    "spam_risk_user_banned_from_posting": FIXES["spam_risk_user_banned_from_posting"],
    "spam_risk_text": "TikTok judged the text as spam: rewrite it",
    "spam_risk": "TikTok judged the post as spam",
}


class PublishPending(CorePublishPending):
    """TikTok holds the post but has not finished processing or moderating it yet.

    The attempt ends here; the delivery's checkpoint keeps ``publish_id``, so looking again
    (:meth:`TikTok.resume_processing`, or publishing the same delivery again) polls the
    same publish and never makes a second post. A workspace's worker keeps the delivery
    ``processing`` and looks again after ``retry_after`` seconds, counting no attempt.
    """

    def __init__(self, message: str, *, publish_id: str, retry_after: float) -> None:
        super().__init__(
            message,
            retry_after=retry_after,
            platform="tiktok",
            detail={"publish_id": publish_id},
        )
        self.publish_id = publish_id
        self.hint = (
            f"TikTok may take hours to moderate a public post; looking again polls publish "
            f"{publish_id} (in {retry_after:.0f} s), never a second post"
        )
        Exception.__init__(self, self._render())


def plan_chunks(size: int, preferred: int) -> tuple[int, int]:
    """``(chunk_size, total_chunk_count)`` for ``size`` bytes under TikTok's chunk rules.

    From the media transfer guide: chunks of 5 to 64 MB except the last, which takes the
    trailing bytes (up to 128 MB); ``total_chunk_count`` is ``video_size // chunk_size``;
    a video under 5 MB goes whole; 1 to 1000 chunks.
    """
    if size <= max(preferred, TikTok.min_chunk):
        return size, 1
    chunk = max(preferred, TikTok.min_chunk, -(-size // TikTok.max_chunks))
    chunk = min(chunk, TikTok.max_chunk)
    return chunk, max(1, size // chunk)


class ChunkedPut:
    """TikTok's FILE_UPLOAD as an :class:`~govsocial.adapters.UploadProtocol`.

    ``start`` is the video init call (the publish, with its ``upload_url``); ``send`` PUTs
    each chunk with ``Content-Range`` (TikTok answers 206 until the last, then 201);
    ``received`` asks status/fetch how many bytes TikTok holds (``uploaded_bytes``), and
    raises UploadExpired when the publish can no longer be finished (its upload URL is
    past its hour, or TikTok failed it before it held the whole file), so the engine makes
    a new publish; ``finish`` returns the ``publish_id``.

    TikTok's last chunk carries the trailing bytes (longer than the others), while the
    engine reads equal chunks: the protocol holds the bytes from the last chunk's start
    back and PUTs them together when the engine hands over the end of the file.
    """

    def __init__(self, adapter: TikTok, post_info: dict[str, Any], content_type: str) -> None:
        self.adapter = adapter
        self.post_info = post_info
        self.content_type = content_type
        self.chunk_size: int | None = None
        self._tail = b""

    async def start(self, size: int) -> dict[str, str]:
        """The video init call with source FILE_UPLOAD: a new publish."""
        chunk, total = plan_chunks(size, self.adapter.chunk_bytes)
        self.chunk_size = chunk
        data = await self.adapter.init_publish(
            VIDEO_INIT,
            {
                "post_info": self.post_info,
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": size,
                    "chunk_size": chunk,
                    "total_chunk_count": total,
                },
            },
            create=False,  # nothing is posted until every byte has arrived
        )
        upload_url = data.get("upload_url")
        if not isinstance(upload_url, str) or not upload_url.startswith(("https://", "http://")):
            raise PlatformError(
                "TikTok opened no upload (its answer has no upload_url)", platform="tiktok"
            )
        return {
            "publish_id": str(data["publish_id"]),
            "upload_url": upload_url,
            "chunk_size": str(chunk),
            "total": str(total),
            "expires_at": f"{time.time() + self.adapter.upload_url_lifetime:.0f}",
        }

    async def received(self, state: dict[str, str], size: int) -> int:
        """What TikTok holds of this publish (status/fetch ``uploaded_bytes``), on a chunk
        boundary; UploadExpired when the publish can no longer take the rest."""
        chunk, total = int(state["chunk_size"]), int(state["total"])
        self.chunk_size = chunk
        data = await self.adapter.fetch_status(state["publish_id"])
        status = data.get("status")
        uploaded = as_int(data.get("uploaded_bytes")) or 0
        if status in _RECEIVED or uploaded >= size:
            return size
        if status == "FAILED":
            raise UploadExpired(f"TikTok failed publish {state['publish_id']}: {data}")
        if time.time() >= float(state.get("expires_at", "0")):
            raise UploadExpired(f"the upload URL of publish {state['publish_id']} expired")
        return min((uploaded // chunk) * chunk, (total - 1) * chunk)

    async def send(self, state: dict[str, str], chunk: bytes, offset: int, size: int) -> int:
        """PUT one chunk (or hold it back until the last chunk is whole)."""
        step, total = int(state["chunk_size"]), int(state["total"])
        last_start = (total - 1) * step
        end = offset + len(chunk)
        if offset >= last_start:
            self._tail = chunk if offset == last_start else self._tail + chunk
            if end < size:
                return end  # held back: TikTok's last chunk runs to the end of the file
            body, first = self._tail, last_start
        else:
            body, first = chunk, offset
        try:
            await self.adapter.request(
                "PUT",
                state["upload_url"],
                content=body,
                headers={
                    "Content-Type": self.content_type,
                    "Content-Range": f"bytes {first}-{first + len(body) - 1}/{size}",
                },
                idempotent=False,  # after a cut the engine asks TikTok what it holds
            )
        except PlatformError as error:
            if error.status in (403, 404, 410):
                raise UploadExpired(str(error)) from None
            raise
        finally:
            if end >= size:
                self._tail = b""
        return first + len(body)

    async def finish(self, state: dict[str, str], size: int) -> dict[str, str]:
        """The publish the file went to."""
        return {"publish_id": state["publish_id"]}


class TikTok(Platform):
    """The TikTok adapter (Content Posting API, Direct Post).

    Credentials: ``access_token`` (scopes video.publish, video.upload; video.list and
    user.info.stats for metrics); to renew it, ``refresh_token``, ``client_key`` and
    ``client_secret``; optionally ``privacy_level`` (one of the creator's
    ``privacy_level_options``; default ``PUBLIC_TO_EVERYONE`` when offered, else the first
    option). Unaudited apps must use ``SELF_ONLY`` and private accounts.
    """

    name = "tiktok"
    title = "TikTok"
    default_base_url = "https://open.tiktokapis.com"
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token",)
    #: Optional credentials that are secret (scrubbed from messages like the token).
    optional_secrets: ClassVar[tuple[str, ...]] = ("refresh_token", "client_secret")
    limits = Limits(
        # the video title: 2200 UTF-16 code units (Direct Post page); a photo post's text
        # goes in its description (4000)
        max_characters=2200,
        max_media=35,  # photos per post (Photo page); a video post holds one video
        image_types=frozenset({"image/jpeg", "image/webp"}),
        video_types=frozenset({"video/mp4", "video/webm", "video/quicktime"}),
        max_image_bytes=20 * _MB,
        max_video_bytes=4 * 1024 * _MB,
        video=VideoLimits(
            # 10 min for every creator; some may post longer: creator_info's
            # max_video_post_duration_sec is checked when publishing
            max_duration=600.0,
            min_width=360,
            min_height=360,
            max_width=4096,
            max_height=4096,
            min_frame_rate=23.0,
            max_frame_rate=60.0,
            video_codecs=frozenset({"h264", "hevc", "vp8", "vp9"}),
            source=MEDIA_TRANSFER_DOCS,
        ),
        alt_text=False,
        threads=False,
        delete=False,
        post_metrics=frozenset({"views", "likes", "replies"}),
        account_metrics=frozenset({"followers", "following", "posts"}),
    )

    #: Preferred bytes per chunk (5 to 64 MB by TikTok's rules; tests make it smaller).
    chunk_bytes: ClassVar[int] = 10 * _MB
    min_chunk: ClassVar[int] = 5 * _MB
    max_chunk: ClassVar[int] = 64 * _MB
    max_chunks: ClassVar[int] = 1000
    #: An upload URL is valid for one hour (Direct Post page, ``upload_url``).
    upload_url_lifetime: ClassVar[float] = 3600.0
    #: Seconds one attempt polls status/fetch before it ends with PublishPending.
    moderation_wait: ClassVar[float] = 120.0
    #: The ``retry_after`` of PublishPending: when the worker tries the delivery again.
    moderation_retry: ClassVar[float] = 600.0
    #: The first wait between status polls (then doubling, up to 30 s; 30 polls a minute
    #: are allowed per token).
    poll_first: ClassVar[float] = 2.0
    #: Init calls per user token and minute (Direct Post and Photo pages).
    inits_per_minute: ClassVar[int] = 6
    _inits: ClassVar[dict[str, list[float]]] = {}

    def __init__(self, account: Account, context: AdapterContext) -> None:
        super().__init__(account, context)
        #: Renewals at ``POST /v2/oauth/token/`` (client_key and client_secret in the form),
        #: never sent twice: TikTok may rotate the refresh token at each renewal.
        self.tokens = TokenRefresh(
            self,
            token_url=TOKEN,
            refused=lambda error: self._refresh_refused(error.message),
            unusable=self._renewal_unusable,
            client_id_field="client_key",
            refusals=(PlatformError, AuthenticationError, ConfigurationError),
        )

    # -- offline ---------------------------------------------------------------------------

    @classmethod
    def count_characters(cls, text: str, limits: Limits | None = None) -> int:
        """TikTok counts a title in UTF-16 code units ("runes" on the Direct Post page)."""
        return len(text.encode("utf-16-le")) // 2

    @classmethod
    def check_post(cls, post: Post, limits: Limits) -> list[Problem]:
        """A TikTok post is one video or 1 to 35 photos; text alone cannot be posted."""
        kinds = [media.kind for media in post.media]
        if not kinds:
            return [
                Problem(
                    code="media_required",
                    message="a TikTok post needs a video or photos; text alone cannot be "
                    f"posted ({DIRECT_POST_DOCS})",
                    field="media",
                )
            ]
        if "video" in kinds and len(kinds) > 1:
            return [
                Problem(
                    code="media_mix",
                    message="a TikTok post holds one video, or photos only: this one has "
                    f"{len(kinds)} media with a video among them",
                    field="media",
                    limit=1,
                )
            ]
        if post.reply_to is not None:
            return [
                Problem(
                    code="replies_unsupported",
                    message="the Content Posting API cannot post comments or replies",
                    field="reply_to",
                )
            ]
        return []

    @classmethod
    def rate_bucket(cls, method: str, url: str) -> str:
        """The init calls share a budget of 6 a minute per token; the rest one budget."""
        return "init" if url.endswith(("/video/init/", "/content/init/")) else ""

    @classmethod
    def error_message(cls, response: httpx.Response) -> str:
        """``code: message`` of TikTok's error object (``{"error": {"code", "message",
        "log_id"}}``, https://developers.tiktok.com/doc/tiktok-api-v2-error-handling)."""
        code, message = _error_of(response)
        if code:
            return f"{code}: {message}" if message else code
        return super().error_message(response)

    @classmethod
    def is_throttled(cls, response: httpx.Response) -> bool:
        """HTTP 429 or the code ``rate_limit_exceeded``."""
        return response.status_code == 429 or _error_of(response)[0] == "rate_limit_exceeded"

    @classmethod
    def is_auth_failure(cls, response: httpx.Response) -> bool:
        """HTTP 401, or a token or scope error code."""
        return response.status_code == 401 or _error_of(response)[0] in _AUTH

    def error_for(self, response: httpx.Response) -> GovSocialError:
        """TikTok's error codes as the exception tree, with TikTok's message and the fix."""
        code, _ = _error_of(response)
        message = scrub(self.error_message(response), self.iter_credentials())
        fix = FIXES.get(code)
        if code == "unaudited_client_can_only_post_to_private_accounts":
            self._record_audit("false")  # TikTok said so: govsocial check reports it
        if code in _CONFIGURATION:
            return ConfigurationError(
                f"TikTok refused the post of {self.account.handle}: {message}",
                field=_CONFIGURATION[code],
                hint=fix,
            )
        if self.is_auth_failure(response):
            return AuthenticationError(
                f"TikTok rejected the credentials of {self.account.handle}: {message}",
                platform=self.name,
                hint=fix or _REAUTHORIZE,
            )
        if self.is_throttled(response):
            return RateLimited(
                f"TikTok rate limit reached for {self.account.handle}: {message}",
                retry_after=self.retry_after(response),
                platform=self.name,
                body=message,
            )
        return PlatformError(
            f"TikTok answered {response.status_code}: {message}",
            platform=self.name,
            status=response.status_code,
            body=message,
            hint=fix,
        )

    @classmethod
    def local_server(cls) -> AbstractContextManager[LocalServer]:
        """The TikTok emulator (``govsocial_tiktok.testing``) on a local port, with two
        accounts; a context manager yielding a LocalServer."""
        from govsocial_tiktok.testing import local_server

        return local_server()

    # -- credentials -------------------------------------------------------------------------

    def _optional(self, name: str) -> str | None:
        if name in self._refreshed or name in self.account.credentials:
            value = self.credential(name)
            return value or None
        return None

    def _can_refresh(self) -> bool:
        return all(self._optional(n) for n in ("refresh_token", "client_key", "client_secret"))

    def iter_credentials(self) -> Iterator[str]:
        """The token, and the refresh token and client secret when the account has them."""
        yield from super().iter_credentials()
        for name in self.optional_secrets:
            value = self._optional(name)
            if value:
                yield value

    async def refresh_credentials(self) -> bool:
        """Renew the access token with the refresh token (``POST /v2/oauth/token/``,
        grant_type=refresh_token). A rotated refresh token replaces the old one; an answer
        without one keeps the old one (never overwritten with an empty value)."""
        if not self._can_refresh():
            return False
        await self.tokens.renew(self.credential("access_token"))
        return True

    def _renewal_unusable(self, response: httpx.Response, why: str, field: str) -> GovSocialError:
        """TikTok's reason (``error_description``) when it gave one in place of a token."""
        described = (json_object(response) or {}).get("error_description")
        return self._refresh_refused(str(described or why) if field == "access_token" else why)

    def _refresh_refused(self, why: str) -> AuthenticationError:
        return AuthenticationError(
            f"TikTok refused to renew the access token of {self.account.handle}: "
            f"{scrub(why, self.iter_credentials())}",
            platform=self.name,
            hint="the refresh token may be expired or revoked (TikTok replaces it when it "
            "renews a token; keep the newest one): " + _REAUTHORIZE,
        )

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request with the bearer token; on a 401, renew the token once and repeat
        (safe for an init call too: a 401 means TikTok did nothing)."""
        token = self.credential("access_token")
        try:
            return await self.request(method, path, headers=_bearer(token), **kwargs)
        except AuthenticationError:
            if not self._can_refresh():
                raise
        await self.tokens.renew(token)
        token = self.credential("access_token")
        return await self.request(method, path, headers=_bearer(token), **kwargs)

    async def _data(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._call(method, path, **kwargs)
        body = json_object(response)
        if body is None or not isinstance(body.get("data"), dict):
            raise self.unreadable(response, what)
        data: dict[str, Any] = body["data"]
        return data

    # -- publishing --------------------------------------------------------------------------

    def _record_audit(self, audited: str) -> None:
        """Remember what TikTok showed about the app's audit (``app_audited``, an account
        option the workspace stores): ``govsocial check`` reports it."""
        if self._optional("app_audited") != audited:
            self.update_credentials(app_audited=audited)

    async def check(self) -> AccountCheck:
        """``creator_info/query`` (who, that the token works, renewed when expired, and what
        this creator may post: privacy levels, the longest video, interactions turned off),
        then ``/v2/user/info/`` for the figures; what is known of the app's audit, and the
        init calls left this minute.

        TikTok's API does not say whether the app passed its audit: that is what TikTok
        last showed (an init refused with
        ``unaudited_client_can_only_post_to_private_accounts``, or a post other than
        SELF_ONLY published), kept as the account option ``app_audited`` (or set by the
        operator).
        """
        with self.recording_calls() as log:
            try:
                info = await self.creator_info()
            except AuthenticationError as error:
                return self.refused_check(error, log)
            figures: tuple[bool | None, str, str | None]
            try:
                await self.fetch_account_metrics()
                figures = (True, "the follower and video counts were read", None)
            except (AuthenticationError, PlatformError) as error:
                figures = (False, error.message, error.hint)
        options = [str(o) for o in info.get("privacy_level_options") or [] if o]
        username = str(info.get("creator_username") or "")
        nickname = str(info.get("creator_nickname") or "")
        identity = (f"@{username}" + (f" ({nickname})" if nickname else "")) if username else None
        longest = as_int(info.get("max_video_post_duration_sec"))
        turned_off = [
            name
            for name, key in (
                ("comments", "comment_disabled"),
                ("duets", "duet_disabled"),
                ("stitches", "stitch_disabled"),
            )
            if info.get(key)
        ]
        notes = [
            self._audit_words(),
            f"privacy levels this creator may post with: {', '.join(options) or 'none'}",
        ]
        if longest:
            notes.append(f"longest video this creator may post: {longest} s")
        if turned_off:
            notes.append(
                "turned off by the creator, so posts go out with them off: " + ", ".join(turned_off)
            )
        window = [t for t in self._inits.get(self.account.key, []) if t > time.time() - 60.0]
        log.rate["init calls"] = (
            f"{max(0, self.inits_per_minute - len(window))} of {self.inits_per_minute} left "
            "this minute (as counted by govsocial in this process)"
        )
        wanted = self._optional("privacy_level")
        post: tuple[bool | None, str, str | None]
        if not options:
            post = (
                False,
                "TikTok offers this creator no privacy level to post with",
                "the account may not post through the API now; check it in the app",
            )
        elif wanted is not None and wanted not in options:
            post = (
                False,
                f"the account's privacy_level {wanted} is not among the creator's options",
                f"use one of {', '.join(options)}, or remove privacy_level",
            )
        elif self._optional("app_audited") == "false":
            post = (
                True,
                "posts go out SELF_ONLY (seen by the account owner only): the app is not audited",
                f"have the app audited by TikTok ({GUIDELINES_DOCS})",
            )
        else:
            post = (True, f"creator_info allows posting ({wanted or 'default'} privacy)", None)
        return self.checked(
            log,
            identity=identity,
            notes=notes,
            post=post,
            reply=(False, "TikTok's API cannot post comments", None),
            delete=(False, "TikTok's API cannot delete posts", None),
            metrics=(
                None,
                "post figures need the video.list scope: the first collection will tell",
                None,
            ),
            account_metrics=figures,
        )

    def _audit_words(self) -> str:
        audited = self._optional("app_audited")
        if audited == "true":
            return "app: audited by TikTok (a post other than SELF_ONLY went out)"
        if audited == "false":
            return (
                "app: NOT audited (TikTok refused a post with "
                "unaudited_client_can_only_post_to_private_accounts): posts go out SELF_ONLY, "
                "from private accounts, for at most 5 users a day; set the account's "
                f"privacy_level to SELF_ONLY until the audit ({GUIDELINES_DOCS})"
            )
        return (
            "app: not known to be audited. TikTok's API does not say; an unaudited app "
            "posts SELF_ONLY only, from private accounts, for at most 5 users a day: the "
            "first post other than SELF_ONLY tells, and the account then records it "
            f"(app_audited) ({GUIDELINES_DOCS})"
        )

    async def creator_info(self) -> dict[str, Any]:
        """``POST /v2/post/publish/creator_info/query/``: privacy options, the longest
        video, and the interactions the creator turned off."""
        return await self._data("POST", CREATOR_INFO, "the creator info", json={})

    async def fetch_status(self, publish_id: str) -> dict[str, Any]:
        """``POST /v2/post/publish/status/fetch/`` for one publish."""
        return await self._data(
            "POST", STATUS_FETCH, "the post status", json={"publish_id": publish_id}
        )

    async def init_publish(
        self, path: str, body: dict[str, Any], *, create: bool
    ) -> dict[str, Any]:
        """An init call (6 a minute per token, counted in the rate budget): a new publish."""
        self._init_budget(record=False)  # the HTTP layer waits here when the 6 are spent
        data = await self._data(
            "POST", path, "the init call", json=body, create=create, idempotent=not create
        )
        self._init_budget(record=True)
        if not isinstance(data.get("publish_id"), str | int) or not data.get("publish_id"):
            raise PlatformError("TikTok's init answer has no publish_id", platform=self.name)
        return data

    def _init_budget(self, *, record: bool) -> None:
        """Put the init calls of the last minute (kept per account for the process, so
        every client and adapter of it counts them) into the client's rate budget; when 6
        were made, the HTTP layer holds the next until the oldest is a minute old."""
        now = time.time()
        window = [t for t in self._inits.get(self.account.key, []) if t > now - 60.0]
        if record:
            window.append(now)
        self._inits[self.account.key] = window
        if not window:
            return
        state = RateState(
            limit=self.inits_per_minute,
            remaining=max(0, self.inits_per_minute - len(window)),
            reset_at=window[0] + 60.0,
        )
        self.http.budget.update(f"{self.account.key}|init", state)

    def _privacy(self, info: dict[str, Any]) -> str:
        options = [str(o) for o in info.get("privacy_level_options") or [] if o]
        wanted = self._optional("privacy_level")
        if wanted is not None:
            if options and wanted not in options:
                raise ConfigurationError(
                    f"privacy_level {wanted} is not one {self.account.handle} may post with on "
                    f"TikTok; its options are {', '.join(options)}",
                    field="credentials.privacy_level",
                    hint=f"use one of those, or remove privacy_level ({CREATOR_INFO_DOCS})",
                )
            return wanted
        if "PUBLIC_TO_EVERYONE" in options:
            return "PUBLIC_TO_EVERYONE"
        if not options:
            raise PlatformError(
                f"TikTok offers {self.account.handle} no privacy level to post with",
                platform=self.name,
                hint="the account may not post through the API now; check it in the app",
            )
        return options[0]

    def _check_duration(self, media: Media, info: dict[str, Any]) -> None:
        longest = as_int(info.get("max_video_post_duration_sec"))
        if not longest or media.url is not None:
            return
        try:
            facts = media.video_info()
        except GovSocialError:
            return  # unreadable here (no PyAV): TikTok checks it (duration_check_failed)
        if facts.duration > longest:
            raise ValidationError(
                [
                    Problem(
                        code="video_too_long",
                        message=f"TikTok lets {self.account.handle} post videos of up to "
                        f"{longest} s; this one is {facts.duration:.0f} s",
                        field="media[0]",
                        platform=self.name,
                        limit=longest,
                    )
                ],
                platform=self.name,
                hint=f"cut the video ({CREATOR_INFO_DOCS})",
            )

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """Publish a video or photo post exactly once (see the module's description)."""
        saved = self.checkpoint(idempotency_key)
        if "post_id" in saved:
            return self._ref(saved)
        if "publish_id" not in saved:
            problems = self.check_post(post, self.limits)
            if problems:
                raise ValidationError(problems, platform=self.name)
            info = await self.creator_info()
            privacy = self._privacy(info)
            self.save_checkpoint(
                idempotency_key,
                privacy_level=privacy,
                username=str(info.get("creator_username") or ""),
            )
            media = post.media
            if media[0].kind == "video":
                self._check_duration(media[0], info)
                publish_id = await self._publish_video(post, info, privacy, idempotency_key)
            else:
                publish_id = await self._publish_photos(post, info, privacy, idempotency_key)
            self.save_checkpoint(idempotency_key, publish_id=publish_id)
        elif "privacy_level" not in saved:  # pragma: no cover - saved together above
            self.save_checkpoint(idempotency_key, privacy_level="")
        return await self._await_post(idempotency_key)

    def _interactions(self, info: dict[str, Any]) -> dict[str, bool]:
        return {
            "disable_comment": bool(info.get("comment_disabled")),
            "disable_duet": bool(info.get("duet_disabled")),
            "disable_stitch": bool(info.get("stitch_disabled")),
        }

    async def _publish_video(
        self, post: Post, info: dict[str, Any], privacy: str, idempotency_key: str
    ) -> str:
        media = post.media[0]
        post_info: dict[str, Any] = {
            "title": post.text,
            "privacy_level": privacy,
            **self._interactions(info),
        }
        if media.url is not None:  # TikTok pulls it: the init itself starts the post
            data = await self.init_publish(
                VIDEO_INIT,
                {
                    "post_info": post_info,
                    "source_info": {"source": "PULL_FROM_URL", "video_url": media.url},
                },
                create=True,
            )
            return str(data["publish_id"])
        protocol = ChunkedPut(self, post_info, media.mime_type or "video/mp4")
        try:
            result = await self.upload(media, protocol, idempotency_key=idempotency_key)
        except UploadExpired:
            # the upload URL died mid-file: the publish can never be finished, so asking
            # the engine again resumes through ``received``, which says so, and the engine
            # makes a new publish
            try:
                result = await self.upload(media, protocol, idempotency_key=idempotency_key)
            except UploadExpired as again:
                raise PlatformError(
                    f"TikTok's upload for {self.account.handle} expired twice in a row: {again}",
                    platform=self.name,
                    hint="the network may be too slow for TikTok's one-hour upload window; "
                    "publishing again starts a new upload (never a second post)",
                ) from None
        return result["publish_id"]

    async def _publish_photos(
        self, post: Post, info: dict[str, Any], privacy: str, idempotency_key: str
    ) -> str:
        urls = [
            await self.public_url(media, field=f"media[{index}]")
            for index, media in enumerate(post.media)
        ]
        data = await self.init_publish(
            CONTENT_INIT,
            {
                "post_info": {
                    "description": post.text,
                    "privacy_level": privacy,
                    "disable_comment": bool(info.get("comment_disabled")),
                },
                "source_info": {
                    "source": "PULL_FROM_URL",
                    "photo_cover_index": 0,
                    "photo_images": urls,
                },
                "post_mode": "DIRECT_POST",
                "media_type": "PHOTO",
            },
            create=True,
        )
        return str(data["publish_id"])

    async def resume_processing(self, idempotency_key: str) -> PostRef:
        """One ``status/fetch`` of the delivery's publish (from its checkpoint): the post
        once TikTok completed it, PublishPending while it is still processing or in
        moderation, TikTok's refusal when it failed. Never an init, never an upload."""
        saved = self.checkpoint(idempotency_key)
        if "post_id" in saved:
            return self._ref(saved)
        if "publish_id" not in saved:
            raise ConfigurationError(
                f"the checkpoint of delivery {idempotency_key} holds no TikTok publish to look at",
                field="idempotency_key",
                hint="check the account's posts in the TikTok app before publishing again",
            )
        return await self._await_post(idempotency_key, wait=0.0)

    async def _await_post(self, idempotency_key: str, *, wait: float | None = None) -> PostRef:
        """Poll status/fetch until the post is complete, failed, or still pending after
        ``wait`` seconds (default :attr:`moderation_wait`; 0: one read) (PublishPending;
        the checkpoint stays)."""
        saved = self.checkpoint(idempotency_key)
        publish_id = saved["publish_id"]
        wait = self.moderation_wait if wait is None else wait

        async def check() -> dict[str, Any] | None:
            data = await self.fetch_status(publish_id)
            done = data.get("status") in ("PUBLISH_COMPLETE", "FAILED", "SEND_TO_USER_INBOX")
            return data if done else None

        pending = PublishPending(
            f"TikTok is still processing or moderating the post of {self.account.handle} "
            f"(publish {publish_id})",
            publish_id=publish_id,
            retry_after=self.moderation_retry,
        )
        if wait <= 0:
            found = await check()
            if found is None:
                raise pending
            data = found
        else:
            try:
                data = await poll(
                    check,
                    what=f"TikTok post {publish_id}",
                    platform=self.name,
                    timeout=wait,
                    first=self.poll_first,
                    most=30.0,
                )
            except PlatformError as error:
                if error.status is not None or isinstance(error, RateLimited):
                    raise
                raise pending from None
        if data.get("status") == "FAILED":
            reason = str(data.get("fail_reason") or "unknown")
            raise PlatformError(
                f"TikTok did not publish the post of {self.account.handle} (publish "
                f"{publish_id}): {reason}",
                platform=self.name,
                body=reason,
                status=200,  # TikTok answered; a repeat of the same delivery polls again
                hint=FAIL_REASONS.get(reason, f"see {STATUS_DOCS}"),
            )
        ids = data.get("publicaly_available_post_id") or data.get("publicly_available_post_id")
        post_id = str(ids[0]) if isinstance(ids, list) and ids else ""
        if saved.get("privacy_level") not in ("", None, "SELF_ONLY"):
            self._record_audit("true")  # a post other than SELF_ONLY went out
        self.save_checkpoint(
            idempotency_key, post_id=post_id or publish_id, status=str(data.get("status"))
        )
        return self._ref(self.checkpoint(idempotency_key))

    def _ref(self, saved: dict[str, str]) -> PostRef:
        post_id, publish_id = saved["post_id"], saved.get("publish_id", "")
        privacy = saved.get("privacy_level", "")
        username = saved.get("username", "")
        public = post_id != publish_id
        extra = {"publish_id": publish_id, "privacy_level": privacy}
        if privacy == "SELF_ONLY":
            extra["visibility"] = (
                "private: only the account owner sees it (SELF_ONLY); an unaudited app "
                f"posts nothing else ({GUIDELINES_DOCS})"
            )
        if not public:
            extra["note"] = "TikTok gives no post id for a post that is not public"
        # both come from TikTok's answers: only a plain user name and a numeric id make a
        # link, so an odd answer cannot point the link elsewhere
        url = (
            f"https://www.tiktok.com/@{username}/video/{post_id}"
            if public and post_id.isdigit() and _USERNAME.fullmatch(username)
            else None
        )
        return PostRef(platform=self.name, account=self.account, id=post_id, url=url, extra=extra)

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """The delivery's post, when its checkpoint holds a publish TikTok completed."""
        saved = self.checkpoint(idempotency_key)
        if "post_id" in saved:
            return self._ref(saved)
        if "publish_id" not in saved:
            raise NotImplementedError(
                "TikTok cannot be asked which post a delivery made before its init answer "
                "was saved; check the account's posts in the TikTok app before sending again"
            )
        data = await self.fetch_status(saved["publish_id"])
        if data.get("status") != "PUBLISH_COMPLETE":
            return None
        ids = data.get("publicaly_available_post_id")
        post_id = str(ids[0]) if isinstance(ids, list) and ids else saved["publish_id"]
        self.save_checkpoint(idempotency_key, post_id=post_id, status="PUBLISH_COMPLETE")
        return self._ref(self.checkpoint(idempotency_key))

    async def delete(self, ref: PostRef) -> None:
        """Not possible: the Content Posting API cannot delete a post."""
        raise NotSupported(f"TikTok cannot delete posts through its API: {DELETE_DOCS}")

    # -- reading ---------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """``POST /v2/video/query/`` (scope video.list), 20 ids a request: view, like and
        comment counts (``share_count`` kept in ``raw``)."""
        now = datetime.now(UTC)
        ids = list(dict.fromkeys(r.id for r in refs if r.id != r.extra.get("publish_id")))
        found: dict[str, dict[str, Any]] = {}
        fields = "id,view_count,like_count,comment_count,share_count"
        for start in range(0, len(ids), 20):
            data = await self._data(
                "POST",
                VIDEO_QUERY,
                "the video query",
                params={"fields": fields},
                json={"filters": {"video_ids": ids[start : start + 20]}},
            )
            for video in data.get("videos") or []:
                video = as_dict(video)
                if video.get("id") is not None:
                    found[str(video["id"])] = video
        results = []
        for ref in refs:
            video = found.get(ref.id)
            if video is None:
                why = (
                    "TikTok gives no post id for a private post, so it cannot be measured"
                    if ref.id == ref.extra.get("publish_id")
                    else "TikTok did not return it"
                )
                results.append(PostMetrics(ref=ref, collected_at=now, raw={"error": why}))
                continue
            results.append(
                PostMetrics(
                    ref=ref,
                    collected_at=now,
                    views=as_int(video.get("view_count")),
                    likes=as_int(video.get("like_count")),
                    replies=as_int(video.get("comment_count")),
                    raw=video,
                )
            )
        return results

    async def fetch_account_metrics(self) -> AccountMetrics:
        """``GET /v2/user/info/`` (scope user.info.stats): followers, following, videos."""
        data = await self._data(
            "GET",
            USER_INFO,
            "the user info",
            params={"fields": "open_id,follower_count,following_count,video_count,likes_count"},
        )
        user = as_dict(data.get("user"))
        return AccountMetrics(
            account=self.account,
            collected_at=datetime.now(UTC),
            followers=as_int(user.get("follower_count")),
            following=as_int(user.get("following_count")),
            posts=as_int(user.get("video_count")),
            raw=user,
        )

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """Not offered: TikTok's public APIs for apps give no comments of a post."""
        raise NotSupported(
            "TikTok's Content Posting and Display APIs offer no comments: read them in the "
            "TikTok app"
        )

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """Not offered: TikTok's public APIs for apps give no mentions."""
        raise NotSupported(
            "TikTok's Content Posting and Display APIs offer no mentions: read them in the "
            "TikTok app"
        )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=UTF-8"}


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """``(code, message)`` of TikTok's error object, or of an OAuth error answer."""
    try:
        body = read_json(response)  # never RecursionError on a deeply nested answer
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        return ("" if code == "ok" else code), str(error.get("message") or "")
    if isinstance(error, str):  # the OAuth endpoint: {"error", "error_description"}
        return error, str(body.get("error_description") or "")
    return "", ""
