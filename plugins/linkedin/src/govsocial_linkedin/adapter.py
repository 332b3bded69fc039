"""The LinkedIn adapter: publish to an organization Page, delete, measure and read comments.

Every request to the versioned REST API carries ``LinkedIn-Version`` (pinned in
:attr:`LinkedIn.api_version`) and ``X-Restli-Protocol-Version: 2.0.0``, and goes through the
core's :class:`govsocial.adapters.http.Http` session (pooled, timed out, retried only when safe).

- Posts: ``POST /rest/posts``; the new post's URN comes back in the ``x-restli-id`` header of
  a 201 with an empty body. The text is sent in LinkedIn's "little" format (see
  :mod:`govsocial_linkedin.little`), or LinkedIn silently cuts it at the first reserved
  character. There is no idempotency key: a repeat of the same text answers 422
  ``DUPLICATE_POST``, naming the existing post ("Content is a duplicate of urn:li:share:N").
  When this delivery's checkpoint shows an earlier attempt sent the create (its answer was
  lost), that post is this delivery's and is returned; otherwise the error names it.
- Images: ``POST /rest/images?action=initializeUpload`` gives an upload URL and an image URN;
  the bytes go to that URL with ``PUT``; the post references the URN (one image, or
  ``multiImage`` for 2 to 20). Each uploaded image is checkpointed, so a retried delivery
  does not upload it again.
- A video: ``POST /rest/videos?action=initializeUpload`` (with the file's size) gives the
  video URN and one upload URL per part; each part is ``PUT`` through the upload engine
  (:meth:`~govsocial.adapters.platform.Platform.upload`), its ``ETag`` checkpointed, so a
  retried delivery sends only the parts not yet acknowledged; ``finalizeUpload`` with the
  ETags, then ``GET /rest/videos/{urn}`` until ``AVAILABLE``, then the post references it.
- Replies are comments: ``POST /rest/socialActions/{post}/comments``, and a reply to a comment
  is a nested comment (``parentComment``).
- Metrics: ``organizationalEntityShareStatistics`` (batched), followers from ``networkSizes``.
- Mentions: ``organizationalEntityNotifications`` with the ``SHARE_MENTION`` action.
- Tokens: a 401 with refresh credentials configured refreshes the access token once
  (``grant_type=refresh_token``) and repeats the request; the new tokens are handed to
  :meth:`~govsocial.adapters.platform.Platform.update_credentials`.
- Throttling: LinkedIn sends no rate-limit headers; its limits are daily and reset at
  midnight UTC, so a 429 is retried no sooner than then (i.e. it fails fast).

API reference: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

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
    RateLimited,
    TokenRefresh,
    VideoLimits,
    as_int,
    json_object,
    path_segment,
    poll,
)
from govsocial_linkedin.little import display_text, from_little, to_little, utf16_length
from govsocial_linkedin.urns import (
    comment_parts,
    encode,
    is_comment,
    organization_urn,
    post_url,
    restli_list,
    restli_object,
)

__all__ = ["STATISTICS_FIELDS", "LinkedIn", "seconds_to_midnight_utc"]

logger = logging.getLogger("govsocial.linkedin")

#: totalShareStatistics fields, by the shared metric they fill.
STATISTICS_FIELDS: dict[str, str] = {
    "views": "impressionCount",
    "reach": "uniqueImpressionsCount",
    "likes": "likeCount",
    "replies": "commentCount",
    "reposts": "shareCount",
    "clicks": "clickCount",
}

_SCOPES = "w_organization_social, r_organization_social and rw_organization_admin"
_REAUTHORISE = (
    "re-authorise the LinkedIn app as a Page admin (scopes "
    f"{_SCOPES}) and update the account's access_token"
)
_AUTH_HINT = (
    "the access token is expired or revoked (LinkedIn tokens live 60 days): "
    + _REAUTHORISE
    + "; with refresh_token, client_id and client_secret set, govsocial refreshes it itself"
)


#: The longest comment (a reply) LinkedIn takes, in characters. Not on a LinkedIn page that
#: could be found: third-party references agree on it (Ayrshare, Upload-Post, a LinkedIn MCP
#: schema ``max(1250)``, Buffer's "LinkedIn first comment cannot exceed 1250 characters").
MAX_COMMENT = 1250
#: The Comments API reference.
COMMENTS_DOCS = (
    "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api"
)
_DUPLICATE_OF = re.compile(r"duplicate of (urn:li:(?:share|ugcPost):\d+)")


def seconds_to_midnight_utc(now: datetime | None = None) -> float:
    """Seconds from ``now`` to the next 00:00 UTC, when LinkedIn's daily limits reset."""
    now = datetime.now(UTC) if now is None else now.astimezone(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


class LinkedIn(Platform):
    """A LinkedIn organization Page, through the Community Management API (one per account).

    Credentials: ``organization`` (the Page's URN or numeric id; public), ``access_token``
    (a member token of a Page admin), and optionally ``refresh_token``, ``client_id`` and
    ``client_secret`` for programmatic refresh.
    """

    name: ClassVar[str] = "linkedin"
    title: ClassVar[str] = "LinkedIn"
    credential_fields: ClassVar[tuple[str, ...]] = ("organization", "access_token")
    secret_fields: ClassVar[tuple[str, ...] | None] = (
        "access_token",
        "refresh_token",
        "client_secret",
    )
    default_base_url: ClassVar[str | None] = "https://api.linkedin.com"
    #: No idempotency key exists; a repeat of the same text is refused as DUPLICATE_POST.
    idempotency_window: ClassVar[float | None] = None
    limits: ClassVar[Limits] = Limits(
        max_characters=3000,
        max_media=20,
        image_types=frozenset({"image/png", "image/jpeg", "image/gif"}),
        # Videos API: MP4, 3 s to 30 min, 75 KB to 500 MB
        video_types=frozenset({"video/mp4"}),
        max_video_bytes=500 * 1024 * 1024,
        video=VideoLimits(
            min_duration=3,
            max_duration=30 * 60,
            source="https://learn.microsoft.com/en-us/linkedin/marketing/community-management/"
            "shares/videos-api",
        ),
        alt_text=True,
        max_alt_text=4086,
        threads=True,
        delete=True,
        post_metrics=frozenset(STATISTICS_FIELDS),
        account_metrics=frozenset({"followers"}),
    )

    #: The pinned API version (YYYYMM). LinkedIn serves each version for about a year.
    api_version: ClassVar[str] = "202605"
    #: LinkedIn's OAuth token endpoint (another host than the API; tests point it elsewhere).
    token_url: ClassVar[str] = "https://www.linkedin.com/oauth/v2/accessToken"  # noqa: S105
    #: Hosts the access token may be sent to when uploading bytes (besides the API's own).
    upload_hosts: ClassVar[tuple[str, ...]] = ("linkedin.com", "licdn.com")
    #: First wait between checks of a video's processing (doubles), and the longest wait.
    video_poll_interval: ClassVar[float] = 2.0
    video_processing_timeout: ClassVar[float] = 600.0
    #: Posts per organizationalEntityShareStatistics call.
    statistics_batch: ClassVar[int] = 20
    #: Comments or notifications per page, and the most pages one call reads.
    page_size: ClassVar[int] = 100
    max_pages: ClassVar[int] = 10
    #: How far back fetch_mentions looks without ``since`` (LinkedIn keeps notifications 60 days).
    mention_days: ClassVar[int] = 60

    def __init__(self, account: Account, context: AdapterContext) -> None:
        super().__init__(account, context)
        #: Refreshes of the access token, once for concurrent callers (a rotated refresh
        #: token, when LinkedIn sends a new one, replaces the stored one).
        self.tokens = TokenRefresh(
            self,
            token_url=lambda: self.token_url,
            refused=self._refresh_refused,
            unusable=self._refresh_unusable,
            idempotent=True,
        )

    # -- offline -----------------------------------------------------------------------

    @classmethod
    def count_characters(cls, text: str, limits: Limits | None = None) -> int:
        """Length of the text as readers see it, in UTF-16 code units (escapes not counted)."""
        return utf16_length(display_text(text))

    @classmethod
    def check_post(cls, post: Post, limits: Limits) -> list[Problem]:
        """A reply is a comment: text only, at most :data:`MAX_COMMENT` characters."""
        problems: list[Problem] = []
        if post.reply_to is not None and post.media:
            problems.append(
                Problem(
                    code="media_in_reply_unsupported",
                    message="a LinkedIn reply is a comment, and govsocial sends comments as "
                    "text only: remove the media or publish a separate post",
                    field="media",
                    platform=cls.name,
                )
            )
        if post.reply_to is not None:
            length = cls.count_characters(post.text, limits)
            if length > MAX_COMMENT:
                problems.append(
                    Problem(
                        code="reply_too_long",
                        message=f"a LinkedIn reply is a comment, and comments take at most "
                        f"{MAX_COMMENT:,} characters (posts take 3,000); this one is "
                        f"{length:,}: shorten it by {length - MAX_COMMENT:,} ({COMMENTS_DOCS})",
                        field="text",
                        platform=cls.name,
                        limit=MAX_COMMENT,
                    )
                )
        return problems

    @classmethod
    def check_account(cls, account: Account) -> None:
        super().check_account(account)
        organization_urn(account.credential("organization"))

    # -- HTTP answers ----------------------------------------------------------------------

    @classmethod
    def retry_after(cls, response: httpx.Response) -> float | None:
        """``Retry-After`` when sent; for a 429 without it, the time to midnight UTC."""
        asked = super().retry_after(response)
        if asked is None and response.status_code == 429:
            return seconds_to_midnight_utc()
        return asked

    @classmethod
    def error_message(cls, response: httpx.Response) -> str:
        """LinkedIn's ``message``, with its ``code`` and input error codes when it gives them."""
        body = json_object(response)
        if body is None:
            return super().error_message(response)
        message = body.get("message")
        text = message if isinstance(message, str) and message else ""
        codes = []
        if isinstance(body.get("code"), str):
            codes.append(body["code"])
        codes.extend(_input_error_codes(body))
        if codes:
            text = f"{text} ({', '.join(codes)})" if text else ", ".join(codes)
        return text or super().error_message(response)

    def error_for(self, response: httpx.Response) -> GovSocialError:
        error = super().error_for(response)
        status = response.status_code
        message = self.error_message(response)
        body = json_object(response) or {}
        if isinstance(error, AuthenticationError):
            return AuthenticationError(error.message, platform=self.name, hint=_AUTH_HINT)
        if isinstance(error, RateLimited):
            return RateLimited(
                f"{self.title} rate limit reached for {self.account.handle}: {message}; "
                "LinkedIn's limits are daily and reset at midnight UTC",
                retry_after=error.retry_after,
                platform=self.name,
                body=message,
            )
        if status == 422 and "DUPLICATE_POST" in _input_error_codes(body):
            existing = duplicate_of(message)
            where = f" ({post_url(existing)})" if existing else ""
            return PlatformError(
                f"{self.title} refused the post for {self.account.handle}: a post with the "
                f"same content already exists{where} ({message})",
                platform=self.name,
                status=status,
                body=message,
                hint="LinkedIn has no idempotency key and refuses repeated content: check the "
                "Page; to post again, change the text or delete the earlier post",
            )
        if status == 426:
            return PlatformError(
                f"{self.title} no longer serves API version {self.api_version}: {message}",
                platform=self.name,
                status=status,
                body=message,
                hint="upgrade govsocial-linkedin (it pins a LinkedIn-Version LinkedIn supports)",
            )
        if status == 403:
            return PlatformError(
                f"{self.title} refused {self.account.handle} access: {message}",
                platform=self.name,
                status=status,
                body=message,
                hint="the member who authorised the app must be an ADMINISTRATOR or "
                f"CONTENT_ADMIN of the Page, and the token needs the scopes {_SCOPES}",
            )
        return error

    # -- credentials -------------------------------------------------------------------------

    @property
    def organization(self) -> str:
        """This account's ``urn:li:organization:N``."""
        return organization_urn(self.credential("organization"))

    def _optional(self, name: str) -> str | None:
        try:
            return self.credential(name)
        except ConfigurationError:
            return None

    def _can_refresh(self) -> bool:
        return all(self._optional(name) for name in ("refresh_token", "client_id", "client_secret"))

    def _refresh_refused(self, error: GovSocialError) -> AuthenticationError:
        return AuthenticationError(
            f"{self.title} refused to refresh the access token of "
            f"{self.account.handle}: {error.message}",
            platform=self.name,
            hint="the refresh token is expired (they live a year) or revoked: "
            + _REAUTHORISE
            + " and refresh_token",
        )

    def _refresh_unusable(self, response: httpx.Response, why: str, field: str) -> GovSocialError:
        return AuthenticationError(
            f"{self.title} answered the token refresh of {self.account.handle} "
            f"without a usable {field} ({why})",
            platform=self.name,
            hint=_REAUTHORISE,
        )

    # -- requests ----------------------------------------------------------------------------

    def _headers(self, *, versioned: bool = True) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.credential('access_token')}"}
        if versioned:
            headers["LinkedIn-Version"] = self.api_version
            headers["X-Restli-Protocol-Version"] = "2.0.0"
        return headers

    async def _api(
        self,
        method: str,
        path: str,
        *,
        versioned: bool = True,
        authorised: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """A request with LinkedIn's headers; on a 401, refresh the token once and repeat.

        A 401 means the request was refused, so repeating it (even a create) is safe.
        """
        refreshed = False
        while True:
            token = self.credential("access_token")
            headers = self._headers(versioned=versioned) if authorised else {}
            try:
                return await self.request(method, path, headers=headers, **kwargs)
            except AuthenticationError:
                if refreshed or not authorised or not self._can_refresh():
                    raise
                await self.tokens.renew(token)
                refreshed = True

    # -- publishing --------------------------------------------------------------------------

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """Upload the images, then create the post; a reply becomes a comment."""
        key = idempotency_key or self.new_idempotency_key()
        if post.reply_to is not None:
            return await self._comment(post, key)
        body: dict[str, Any] = {
            "author": self.organization,
            "commentary": to_little(post.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if len(post.media) == 1 and post.media[0].kind == "video":
            body["content"] = {"media": {"id": await self._video(post.media[0], key)}}
        else:
            images = [
                {"id": await self._image(index, media, key), "altText": media.alt_text}
                for index, media in enumerate(post.media)
            ]
            for image in images:
                if not image["altText"]:
                    del image["altText"]
            if len(images) == 1:
                body["content"] = {"media": images[0]}
            elif images:
                body["content"] = {"multiImage": {"images": images}}
        saved = self.checkpoint(key)
        if saved.get("post"):
            return PostRef(
                platform=self.name,
                account=self.account,
                id=saved["post"],
                url=post_url(saved["post"]),
            )
        sent_before = bool(saved.get("create_sent"))
        self.save_checkpoint(key, create_sent="1")
        try:
            response = await self._api(
                "POST", "/rest/posts", json=body, create=True, idempotency_key=key
            )
        except PlatformError as error:
            existing = duplicate_of(error.body or "") if error.status == 422 else None
            if existing is None or not sent_before:
                raise
            # An earlier attempt of THIS delivery sent the create and lost its answer; LinkedIn
            # names the post it made, so that post is this delivery's: found, not made twice.
            logger.info(
                "%s: earlier attempt made %s (DUPLICATE_POST)", self.account.handle, existing
            )
            self.save_checkpoint(key, post=existing)
            return PostRef(
                platform=self.name, account=self.account, id=existing, url=post_url(existing)
            )
        urn = response.headers.get("x-restli-id", "").strip()
        if not urn:
            raise PlatformError(
                f"{self.title} answered the post of {self.account.handle} with HTTP "
                f"{response.status_code} but without the x-restli-id header, so the new "
                "post's id is unknown",
                platform=self.name,
                status=response.status_code,
                hint="the post was probably created: check the Page before publishing again "
                "(LinkedIn would refuse the same text as DUPLICATE_POST)",
            )
        self.save_checkpoint(key, post=urn)
        return PostRef(platform=self.name, account=self.account, id=urn, url=post_url(urn))

    async def _image(self, index: int, media: Media, key: str) -> str:
        """The image URN of ``media``: uploaded now, or taken from this delivery's checkpoint."""
        step = f"image{index}"
        done = self.checkpoint(key).get(step)
        if done:
            return done
        data = await self.read_media(media)
        response = await self._api(
            "POST",
            "/rest/images?action=initializeUpload",
            json={"initializeUploadRequest": {"owner": self.organization}},
            idempotent=True,  # a repeat only leaves an unused upload slot behind
        )
        value = (json_object(response) or {}).get("value")
        upload_url = value.get("uploadUrl") if isinstance(value, dict) else None
        image = value.get("image") if isinstance(value, dict) else None
        if not isinstance(upload_url, str) or not isinstance(image, str) or not image:
            raise self.unreadable(response, f"the upload of media[{index}]")
        if "://" not in upload_url:
            raise self.unreadable(response, f"the upload address of media[{index}]")
        await self._api(
            "PUT",
            upload_url,
            versioned=False,
            authorised=self._trusted_upload_host(upload_url),
            content=data,
            headers_extra={"Content-Type": media.mime_type or "application/octet-stream"},
        )
        self.save_checkpoint(key, **{step: image})
        return image

    async def _video(self, media: Media, key: str) -> str:
        """The video URN of ``media``: uploaded in parts (resumed from this delivery's
        checkpoint), finalized, and waited for until LinkedIn has processed it."""
        done = await self.upload(media, _VideoParts(self), idempotency_key=key, name="video")
        urn = done["video"]

        async def available() -> str | None:
            response = await self._api("GET", f"/rest/videos/{path_segment(urn)}")
            status = (json_object(response) or {}).get("status")
            if status == "PROCESSING_FAILED":
                raise PlatformError(
                    f"{self.title} could not process the video {urn} of "
                    f"{self.account.handle} (PROCESSING_FAILED)",
                    platform=self.name,
                    hint="export it again as MP4 (H.264, AAC) and publish again",
                )
            return urn if status == "AVAILABLE" else None

        return await poll(
            available,
            what=f"{self.title}'s processing of video {urn}",
            platform=self.name,
            timeout=self.video_processing_timeout,
            first=self.video_poll_interval,
        )

    def _trusted_upload_host(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        if host == (urlsplit(self.base_url).hostname or "").lower():
            return True
        return any(host == domain or host.endswith("." + domain) for domain in self.upload_hosts)

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The core's request, merging ``headers_extra`` into the headers."""
        extra = kwargs.pop("headers_extra", None)
        if extra:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), **extra}
        return await super().request(method, path, **kwargs)

    async def _comment(self, post: Post, key: str) -> PostRef:
        target = post.reply_to
        assert target is not None
        parent: str | None = None
        if is_comment(target.id):
            parts = comment_parts(target.id)
            if parts is None:
                raise ConfigurationError(
                    f"reply_to {target.id!r} is not a LinkedIn comment URN",
                    field="reply_to",
                    hint="reply to a PostRef or Interaction govsocial returned",
                )
            obj = target.extra.get("object") or parts[0]
            # LinkedIn nests one level: a reply to a reply joins its top-level comment
            parent = target.extra.get("parentComment") or target.id
        else:
            obj = target.id
        body: dict[str, Any] = {
            "actor": self.organization,
            "object": obj,
            "message": {"text": post.text},
        }
        if parent is not None:
            body["parentComment"] = parent
        response = await self._api(
            "POST",
            f"/rest/socialActions/{encode(parent or obj)}/comments",
            json=body,
            create=True,
            idempotency_key=key,
        )
        comment = json_object(response) or {}
        urn = _comment_urn(comment, obj) or _header_comment_urn(response, obj)
        if urn is None:
            raise PlatformError(
                f"{self.title} answered the comment of {self.account.handle} with HTTP "
                f"{response.status_code} but did not say which comment it made",
                platform=self.name,
                status=response.status_code,
                hint="the comment was probably created: check the post before replying again",
            )
        return self._comment_ref(urn, comment, obj, parent)

    def _comment_ref(
        self, urn: str, comment: dict[str, Any], obj: str, parent: str | None
    ) -> PostRef:
        parts = comment_parts(urn)
        extra = {"object": str(comment.get("object") or (parts[0] if parts else obj))}
        if parent:
            extra["parentComment"] = parent
        return PostRef(
            platform=self.name, account=self.account, id=urn, url=post_url(obj), extra=extra
        )

    async def delete(self, ref: PostRef) -> None:
        """``DELETE /rest/posts/{urn}``, or the comments endpoint for a comment."""
        if is_comment(ref.id):
            parts = comment_parts(ref.id)
            if parts is None:
                raise ConfigurationError(
                    f"{ref.id!r} is not a LinkedIn comment URN", field="ref.id"
                )
            obj = ref.extra.get("object") or parts[0]
            path = (
                f"/rest/socialActions/{encode(obj)}/comments/{encode(parts[1])}"
                f"?actor={encode(self.organization)}"
            )
        else:
            path = f"/rest/posts/{encode(ref.id)}"
        try:
            await self._api("DELETE", path)
        except PlatformError as error:
            if error.status != 404 or isinstance(error, RateLimited):
                raise
            raise PlatformError(
                f"{self.title} has no {ref.id} of {self.account.handle} to delete: {error.body}",
                platform=self.name,
                status=404,
                body=error.body,
                hint="it may have been deleted already",
            ) from None

    async def refresh_credentials(self) -> bool:
        """Renew the access token with the refresh token (where LinkedIn granted one)."""
        if not self._can_refresh():
            return False
        await self.tokens.renew(self.credential("access_token"))
        return True

    async def check(self) -> AccountCheck:
        """The Page's follower count (``networkSizes``: the token works and reaches the Page)
        and, with ``client_id`` and ``client_secret``, the token's scopes and expiry from
        LinkedIn's token introspection (``POST /oauth/v2/introspectToken``)."""
        with self.recording_calls() as log:
            try:
                await self.fetch_account_metrics()
            except AuthenticationError as error:
                return self.refused_check(error, log)
            client_id, secret = self._optional("client_id"), self._optional("client_secret")
            answer: dict[str, Any] | None = None
            if client_id and secret:
                try:
                    response = await self.request(
                        "POST",
                        self.token_url.rsplit("/", 1)[0] + "/introspectToken",
                        data={
                            "client_id": client_id,
                            "client_secret": secret,
                            "token": self.credential("access_token"),
                        },
                        idempotent=True,
                    )
                    answer = json_object(response)
                except GovSocialError as error:
                    logger.info("introspection failed for %s: %s", self.account.handle, error)
        scopes: list[str] | None = None
        expires: datetime | None = None
        if answer is not None and isinstance(answer.get("scope"), str):
            scopes = [s.strip() for s in str(answer["scope"]).split(",") if s.strip()]
            when = answer.get("expires_at")
            if isinstance(when, int) and not isinstance(when, bool):
                expires = datetime.fromtimestamp(when, UTC)

        def need(scope: str, what: str) -> tuple[bool | None, str, str | None]:
            if scopes is None:
                return (
                    None,
                    "give the account client_id and client_secret so check can read the "
                    "token's scopes (token introspection)",
                    None,
                )
            if scope in scopes:
                return True, f"scope {scope} granted ({what})", None
            return False, f"the token lacks the scope {scope} ({what})", _REAUTHORISE

        return self.checked(
            log,
            scopes=scopes,
            expires_at=expires,
            post=need("w_organization_social", "to post as the Page"),
            reply=need("w_organization_social", "a reply is a comment"),
            delete=need("w_organization_social", "to delete"),
            metrics=need("rw_organization_admin", "share statistics"),
            account_metrics=(True, "networkSizes answered the Page's followers", None),
        )

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """The post this delivery's checkpoint saved; otherwise LinkedIn cannot be asked
        (posts carry no idempotency key). Publishing again with the same key finds a post
        whose answer was lost through LinkedIn's DUPLICATE_POST answer instead."""
        saved = self.checkpoint(idempotency_key).get("post")
        if saved:
            return PostRef(platform=self.name, account=self.account, id=saved, url=post_url(saved))
        raise NotImplementedError(
            "LinkedIn posts carry no idempotency key, so a delivery cannot be looked up: "
            "check the Page by hand (sending the same text again is refused as DUPLICATE_POST)"
        )

    # -- reading ---------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """``organizationalEntityShareStatistics``, up to ``statistics_batch`` posts a call."""
        found: dict[str, dict[str, Any]] = {}
        kinds = (("shares", "urn:li:share:"), ("ugcPosts", "urn:li:ugcPost:"))
        for parameter, prefix in kinds:
            urns = list(dict.fromkeys(ref.id for ref in refs if ref.id.startswith(prefix)))
            for start in range(0, len(urns), self.statistics_batch):
                chunk = urns[start : start + self.statistics_batch]
                path = (
                    "/rest/organizationalEntityShareStatistics?q=organizationalEntity"
                    f"&organizationalEntity={encode(self.organization)}"
                    f"&{parameter}={restli_list(chunk)}"
                )
                response = await self._api("GET", path)
                elements = (json_object(response) or {}).get("elements")
                if not isinstance(elements, list):
                    raise self.unreadable(response, "the share statistics")
                for element in elements:
                    if not isinstance(element, dict):
                        continue
                    urn = element.get("share") or element.get("ugcPost")
                    stats = element.get("totalShareStatistics")
                    if isinstance(urn, str) and isinstance(stats, dict):
                        found[urn] = stats
        now = datetime.now(UTC)
        metrics = []
        for ref in refs:
            stats = found.get(ref.id, {})
            values = {name: as_int(stats.get(field)) for name, field in STATISTICS_FIELDS.items()}
            metrics.append(PostMetrics(ref=ref, collected_at=now, raw=dict(stats), **values))
        return metrics

    async def fetch_account_metrics(self) -> AccountMetrics:
        """Followers: ``GET /rest/networkSizes/{org}?edgeType=COMPANY_FOLLOWED_BY_MEMBER``."""
        response = await self._api(
            "GET",
            f"/rest/networkSizes/{encode(self.organization)}?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
        )
        body = json_object(response)
        if body is None:
            raise self.unreadable(response, "the follower count")
        followers = as_int(body.get("firstDegreeSize"))
        return AccountMetrics(
            account=self.account,
            collected_at=datetime.now(UTC),
            followers=followers,
            raw={"firstDegreeSize": followers} if followers is not None else {},
        )

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """Comments on ``ref`` and the replies to them, oldest first."""
        found: list[Interaction] = []
        for comment in await self._comments(ref.id):
            top = self._interaction(comment, ref.id, parent=None)
            if top is None:
                continue
            found.append(top)
            if _has_replies(comment):
                for nested in await self._comments(top.ref.id):
                    reply = self._interaction(nested, ref.id, parent=top.ref.id)
                    if reply is not None:
                        found.append(reply)
        return sorted(found, key=lambda item: item.created_at)

    async def _comments(self, target: str) -> list[dict[str, Any]]:
        comments: list[dict[str, Any]] = []
        for page in range(self.max_pages):
            start = page * self.page_size
            response = await self._api(
                "GET",
                f"/rest/socialActions/{encode(target)}/comments"
                f"?start={start}&count={self.page_size}",
            )
            elements = (json_object(response) or {}).get("elements")
            if not isinstance(elements, list):
                raise self.unreadable(response, f"the comments on {target}")
            comments.extend(item for item in elements if isinstance(item, dict))
            if len(elements) < self.page_size:
                break
        return comments

    def _interaction(
        self, comment: dict[str, Any], post: str, *, parent: str | None
    ) -> Interaction | None:
        obj = str(comment.get("object") or post)
        urn = _comment_urn(comment, obj)
        if urn is None:
            return None
        message = comment.get("message")
        text = message.get("text") if isinstance(message, dict) else None
        actor = comment.get("actor")
        created = comment.get("created")
        when = _millis(created.get("time")) if isinstance(created, dict) else None
        return Interaction(
            kind="reply",
            ref=self._comment_ref(urn, comment, obj, parent),
            author=actor if isinstance(actor, str) else "",
            text=text if isinstance(text, str) else "",
            created_at=when or datetime.now(UTC),
            in_reply_to_id=parent or post,
        )

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """Posts that mention the Page (``SHARE_MENTION`` notifications), oldest first.

        LinkedIn keeps these notifications 60 days. Mentions inside comments are not in
        the documented notification actions, so they are not found.
        """
        now = datetime.now(UTC)
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        start = since or now - timedelta(days=self.mention_days)
        found: dict[str, Interaction] = {}
        for page in range(self.max_pages):
            path = (
                "/rest/organizationalEntityNotifications?q=criteria"
                f"&organizationalEntity={encode(self.organization)}"
                "&actions=List(SHARE_MENTION)"
                f"&timeRange={restli_object({'start': _to_millis(start), 'end': _to_millis(now)})}"
                f"&start={page * self.page_size}&count={self.page_size}"
            )
            response = await self._api("GET", path)
            elements = (json_object(response) or {}).get("elements")
            if not isinstance(elements, list):
                raise self.unreadable(response, "the Page's notifications")
            for element in elements:
                if not isinstance(element, dict) or element.get("action") != "SHARE_MENTION":
                    continue
                source = element.get("sourcePost")
                if not isinstance(source, str) or not source or source in found:
                    continue
                mention = await self._mention(source, _millis(element.get("lastModifiedAt")))
                if since is None or mention.created_at > since:
                    found[source] = mention
            if len(elements) < self.page_size:
                break
        return sorted(found.values(), key=lambda item: item.created_at)

    async def _mention(self, urn: str, notified: datetime | None) -> Interaction:
        post: dict[str, Any] = {}
        try:
            response = await self._api("GET", f"/rest/posts/{encode(urn)}")
            post = json_object(response) or {}
        except PlatformError as error:  # the post may be gone or not readable by the Page
            if isinstance(error, RateLimited) or error.status not in (403, 404):
                raise
            logger.info("cannot read post %s that mentions %s", urn, self.account.handle)
        commentary = post.get("commentary")
        author = post.get("author")
        created = _millis(post.get("publishedAt")) or _millis(post.get("createdAt"))
        return Interaction(
            kind="mention",
            ref=PostRef(platform=self.name, account=self.account, id=urn, url=post_url(urn)),
            author=author if isinstance(author, str) else "",
            text=from_little(commentary, mentions="name") if isinstance(commentary, str) else "",
            created_at=notified or created or datetime.now(UTC),
        )

    # -- helpers ---------------------------------------------------------------------------


# -- small parsers -------------------------------------------------------------------------------


def duplicate_of(message: str) -> str | None:
    """The post URN a DUPLICATE_POST message names ("Content is a duplicate of urn:li:share:N")."""
    found = _DUPLICATE_OF.search(message)
    return found.group(1) if found else None


def _input_error_codes(body: dict[str, Any]) -> list[str]:
    details = body.get("errorDetails")
    errors = details.get("inputErrors") if isinstance(details, dict) else None
    if not isinstance(errors, list):
        return []
    return [e["code"] for e in errors if isinstance(e, dict) and isinstance(e.get("code"), str)]


def _millis(value: Any) -> datetime | None:
    number = as_int(value)
    return datetime.fromtimestamp(number / 1000, UTC) if number is not None else None


def _to_millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _comment_urn(comment: dict[str, Any], obj: str) -> str | None:
    for key in ("commentUrn", "$URN"):
        value = comment.get(key)
        if isinstance(value, str) and is_comment(value):
            return value
    native = comment.get("id")
    if isinstance(native, str | int) and not isinstance(native, bool) and str(native):
        return f"urn:li:comment:({obj},{native})"
    return None


def _header_comment_urn(response: httpx.Response, obj: str) -> str | None:
    value = response.headers.get("x-restli-id", "").strip()
    if not value:
        return None
    return value if is_comment(value) else f"urn:li:comment:({obj},{value})"


def _has_replies(comment: dict[str, Any]) -> bool:
    summary = comment.get("commentsSummary")
    total = summary.get("aggregatedTotalComments") if isinstance(summary, dict) else None
    number = as_int(total)
    return number is None or number > 0


class _VideoParts:
    """LinkedIn's multipart video upload as an :class:`~govsocial.adapters.UploadProtocol`.

    ``initializeUpload`` says where each part goes (``uploadInstructions``: ``firstByte``,
    ``lastByte``, ``uploadUrl``); each part's ``ETag`` is kept in the state, which the upload
    engine checkpoints, and ``finalizeUpload`` names them all. LinkedIn cannot be asked what
    it holds, so a resumed upload goes on after the last part whose ETag was kept (sending a
    part again only replaces it).
    https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/videos-api
    """

    #: LinkedIn's parts are 4 MiB (4,194,304 bytes), the last one shorter.
    chunk_size: int | None = 4 * 1024 * 1024

    def __init__(self, adapter: LinkedIn) -> None:
        self.adapter = adapter

    async def start(self, size: int) -> dict[str, str]:
        """``initializeUpload`` for ``size`` bytes, without captions or thumbnail."""
        response = await self.adapter._api(
            "POST",
            "/rest/videos?action=initializeUpload",
            json={
                "initializeUploadRequest": {
                    "owner": self.adapter.organization,
                    "fileSizeBytes": size,
                    "uploadCaptions": False,
                    "uploadThumbnail": False,
                }
            },
            idempotent=True,  # a repeat only leaves an unused upload behind
        )
        value = (json_object(response) or {}).get("value")
        video = value.get("video") if isinstance(value, dict) else None
        instructions = value.get("uploadInstructions") if isinstance(value, dict) else None
        parts = [
            (as_int(part.get("firstByte")), as_int(part.get("lastByte")), part.get("uploadUrl"))
            for part in instructions or []
            if isinstance(part, dict)
        ]
        if (
            not isinstance(video, str)
            or not parts
            or any(a is None or b is None or not isinstance(u, str) for a, b, u in parts)
        ):
            raise self.adapter.unreadable(response, "the video upload")
        token = value.get("uploadToken") if isinstance(value, dict) else ""
        return {
            "video": video,
            "token": token if isinstance(token, str) else "",
            "parts": json.dumps(parts),
            "etags": "[]",
        }

    def _parts(self, state: dict[str, str]) -> list[tuple[int, int, str]]:
        return [(int(a), int(b), str(u)) for a, b, u in json.loads(state["parts"])]

    async def received(self, state: dict[str, str], size: int) -> int:
        """The end of the last part whose ETag was kept."""
        kept = len(json.loads(state["etags"]))
        parts = self._parts(state)
        return parts[kept - 1][1] + 1 if kept else 0

    async def send(self, state: dict[str, str], chunk: bytes, offset: int, size: int) -> int:
        """``PUT`` the part that starts at ``offset`` (the chunk's first bytes of it)."""
        etags: list[str] = json.loads(state["etags"])
        parts = self._parts(state)
        index = next((i for i, (first, _, _) in enumerate(parts) if first == offset), None)
        if index is None or index != len(etags):
            raise PlatformError(
                f"{self.adapter.title} gave no upload part starting at byte {offset:,}",
                platform=self.adapter.name,
            )
        first, last, url = parts[index]
        if not self.adapter._trusted_upload_host(url):
            raise PlatformError(
                f"{self.adapter.title} gave an upload address on an unexpected host: {url[:80]}",
                platform=self.adapter.name,
            )
        response = await self.adapter._api(
            "PUT",
            url,
            versioned=False,
            content=chunk[: last - first + 1],
            headers_extra={"Content-Type": "application/octet-stream"},
            idempotent=True,  # a part sent again replaces itself
        )
        etag = response.headers.get("etag", "").strip()
        if not etag:
            raise self.adapter.unreadable(response, f"the upload of part {index + 1}")
        etags.append(etag)
        state["etags"] = json.dumps(etags)
        return last + 1

    async def finish(self, state: dict[str, str], size: int) -> dict[str, str]:
        """``finalizeUpload`` with every part's ETag, in order."""
        await self.adapter._api(
            "POST",
            "/rest/videos?action=finalizeUpload",
            json={
                "finalizeUploadRequest": {
                    "video": state["video"],
                    "uploadToken": state["token"],
                    "uploadedPartIds": json.loads(state["etags"]),
                }
            },
            idempotent=True,  # finalizing the same parts again changes nothing
        )
        return {"video": state["video"]}
