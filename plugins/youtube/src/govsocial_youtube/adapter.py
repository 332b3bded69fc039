"""The YouTube adapter: videos and Shorts uploaded exactly once, measured, and answered.

YouTube Data API v3 (https://developers.google.com/youtube/v3/docs). A post is one video,
sent with ``videos.insert`` over Google's resumable upload protocol through govsocial's
upload engine (:meth:`Platform.upload <govsocial.adapters.Platform.upload>`): the upload
session and every acknowledged offset are checkpointed, so a worker killed mid-upload is
resumed by the next one, and a repeat after the last chunk was taken (but before its answer
arrived) asks the session, which answers the video it made: the same video id, never a
second video. The id is saved before anything else is done with it; the thumbnail, the
captions and the playlist entry follow, each remembered once done.

A reply is a comment: on a video (``commentThreads.insert``) or on a comment
(``comments.insert`` with ``parentId``; YouTube threads are one level deep, so an answer to
a reply goes to its thread's top-level comment).

Credentials are OAuth 2: an access token (one hour), the refresh token, and the client's id
and secret; the adapter renews the access token at Google's token endpoint when it expires
or is refused (401), and a renewal answer without a refresh token never replaces the stored
one (Google sends one only at consent).

Quota is counted per account in the rate budget (:mod:`govsocial_youtube.quota`): a call
whose cost is not left today is refused before it is sent.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
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
    ResumableUpload,
    TokenRefresh,
    VideoLimits,
    as_dict,
    is_id,
    json_object,
    parse_time,
)
from govsocial_youtube import quota

__all__ = ["LABELS", "SCOPES", "TokenRefused", "YouTube"]

logger = logging.getLogger("govsocial.youtube")

#: The OAuth scopes the adapter needs: uploading, and comments, captions, deletes.
SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",
)
#: Google's token endpoint (the ``token_uri`` of a client secrets file).
TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a password

#: Post labels the adapter reads as publishing options (docs/platforms/youtube.md).
LABELS = {
    "youtube.title": "the video's title (default: the first line of the text)",
    "youtube.privacy": "public, unlisted or private (default: public)",
    "youtube.category_id": "a video category id (default: 25, News & Politics)",
    "youtube.playlist_id": "a playlist to add the video to",
    "youtube.notify_subscribers": "true or false (default: true)",
    "youtube.made_for_kids": "true or false (default: false)",
}
PRIVACY = ("public", "unlisted", "private")
_BOOLEANS = {"true": True, "false": False}
_MB = 1024 * 1024
_TITLE_MAX = 100
_TAGS_MAX = 500
_CAPTIONS_MAX = 100 * _MB  # captions.insert maxSize in the discovery document
_HASHTAG = re.compile(r"(?<![\w&])#(\w[\w-]*)")
_UNVERIFIED_NOTICE = (
    "YouTube made the video private although {asked} was asked: videos uploaded through "
    "unverified API projects created after 28 July 2020 are restricted to private viewing "
    "until the project passes Google's audit (see docs/platforms/youtube.md)"
)
_REAUTHORIZE = (
    "authorize the channel again (OAuth consent with the scopes "
    + " and ".join(SCOPES)
    + ", access_type=offline) and store the new refresh_token; see docs/platforms/youtube.md"
)


class TokenRefused(AuthenticationError):
    """YouTube answered 401: the access token expired or was revoked (renewable)."""


class YouTube(Platform):
    """YouTube channels through the YouTube Data API v3 (one adapter per channel).

    Accounts need ``access_token``, ``refresh_token``, ``client_id`` and ``client_secret``
    (an OAuth client of the agency's Google Cloud project). Optional, not secret:
    ``token_uri`` (default Google's), ``token_expires_at`` (recorded after each renewal),
    ``playlist_id``, ``category_id``, ``privacy``, ``made_for_kids``, and ``daily_units``
    / ``daily_uploads`` (the project's quota when Google granted more, or less when several
    channels share one project).
    """

    name: ClassVar[str] = "youtube"
    title: ClassVar[str] = "YouTube"
    credential_fields: ClassVar[tuple[str, ...]] = (
        "access_token",
        "refresh_token",
        "client_id",
        "client_secret",
    )
    secret_fields: ClassVar[tuple[str, ...] | None] = (
        "access_token",
        "refresh_token",
        "client_secret",
    )
    default_base_url: ClassVar[str | None] = "https://www.googleapis.com"
    #: The delivery's checkpoint (the upload session, then the video id) makes a repeat
    #: harmless for as long as it is kept: a finished upload is asked, never sent again.
    idempotency_window: ClassVar[float | None] = math.inf
    limits: ClassVar[Limits] = Limits(
        # snippet.description: at most 5000 bytes; the title (100 characters) is checked
        # by check_post (https://developers.google.com/youtube/v3/docs/videos#resource)
        max_characters=5000,
        max_bytes=5000,
        max_media=1,
        # images only as a video's cover (thumbnails.set: JPEG or PNG, at most 2 MB)
        image_types=frozenset({"image/jpeg", "image/png"}),
        video_types=frozenset({"video/mp4", "video/quicktime", "video/webm"}),
        max_image_bytes=2 * _MB,
        # videos.insert maxSize in the discovery document: 256 GiB
        max_video_bytes=274_877_906_944,
        # "The maximum file size you can upload is 256 GB or 12 hours, whichever is less."
        # Channels not verified by phone take up to 15 minutes (said in the docs page).
        # YouTube transcodes every upload: any codec it can read is taken.
        video=VideoLimits(
            max_duration=12 * 3600,
            captions=True,
            cover=True,
            source="https://support.google.com/youtube/answer/71673",
        ),
        alt_text=False,
        threads=True,
        delete=True,
        post_metrics=frozenset({"views", "likes", "replies"}),
        account_metrics=frozenset({"followers", "posts"}),
    )

    #: The defaults of the publishing options (labels and account options override them).
    default_privacy: ClassVar[str] = "public"
    default_category_id: ClassVar[str] = "25"  # News & Politics
    #: Seconds before the recorded expiry at which the access token is renewed ahead.
    refresh_margin: ClassVar[float] = 60.0
    #: Most comment threads pages read by one fetch_replies (100 threads a page).
    max_pages: ClassVar[int] = 10

    def __init__(self, account: Account, context: AdapterContext) -> None:
        super().__init__(account, context)
        #: Renewals at the token endpoint (sent past :meth:`request`: no bearer, no quota).
        #: Google sends a refresh token only at consent, so the stored one is kept when an
        #: answer has none.
        self.tokens = TokenRefresh(
            self,
            token_url=lambda: _token_uri(self.account),
            refused=self._renewal_refused,
            expiry_field="token_expires_at",
            margin=self.refresh_margin,
            idempotent=True,
            send=lambda *args, **kwargs: Platform.request(self, *args, **kwargs),
        )

    # -- offline ---------------------------------------------------------------------------

    @classmethod
    def check_account(cls, account: Account) -> None:
        """The four OAuth credentials, and a token endpoint that is Google's or on the
        account's own server (an emulator), never an arbitrary address."""
        super().check_account(account)
        _token_uri(account)
        for name in ("daily_units", "daily_uploads"):
            value = _option(account, name)
            if value is not None and not value.isdigit():
                raise ConfigurationError(
                    f"account {account.handle} on YouTube: {name} must be a whole number",
                    field=f"credentials.{name}",
                    hint=f"give the project's daily quota, e.g. {name}='10000'",
                )

    @classmethod
    def check_post(cls, post: Post, limits: Limits) -> list[Problem]:
        """One video per post (a reply is a text comment), a title of at most 100
        characters, no angle brackets, tags within 500 characters, valid options."""
        if post.reply_to is not None:
            if post.media:
                return [
                    Problem(
                        code="media_not_allowed",
                        message="a reply on YouTube is a comment, and comments take text only:"
                        " remove the media",
                        field="media",
                    )
                ]
            return []
        problems: list[Problem] = []
        videos = [m for m in post.media if m.kind == "video"]
        if not videos:
            problems.append(
                Problem(
                    code="media_required",
                    message="a YouTube post is a video: attach one video (an image goes as "
                    "the video's cover: Media(path='klip.mp4', cover=Media(path='sampul.jpg')))",
                    field="media",
                )
            )
        for index, media in enumerate(post.media):
            if media.kind == "image":
                problems.append(
                    Problem(
                        code="image_not_allowed",
                        message="YouTube publishes videos, not images: give the image as the "
                        "video's cover (Media(..., cover=Media(path='sampul.jpg')))",
                        field=f"media[{index}]",
                    )
                )
        title = video_title(post)
        if not title:
            problems.append(
                Problem(
                    code="title_missing",
                    message="a YouTube video needs a title: write it as the first line of the "
                    "text, or give the label youtube.title",
                    field="text",
                )
            )
        elif len(title) > _TITLE_MAX:
            problems.append(
                Problem(
                    code="title_too_long",
                    message=f"the title (the text's first line) is {len(title)} characters; "
                    f"YouTube takes at most {_TITLE_MAX}: shorten the first line, or give a "
                    "shorter label youtube.title",
                    field="labels.youtube.title" if "youtube.title" in post.labels else "text",
                    limit=_TITLE_MAX,
                )
            )
        for field, value in (("text", post.text), ("labels.youtube.title", title)):
            if "<" in value or ">" in value:
                problems.append(
                    Problem(
                        code="angle_brackets",
                        message="YouTube refuses < and > in a title or description: write "
                        "them as words or other signs",
                        field=field,
                    )
                )
                break
        tags = hashtag_tags(post.text)
        length = tags_length(tags)
        if length > _TAGS_MAX:
            problems.append(
                Problem(
                    code="too_many_tags",
                    message=f"the hashtags make tags of {length} characters as YouTube counts "
                    f"them; it takes at most {_TAGS_MAX}: remove some hashtags",
                    field="text",
                    limit=_TAGS_MAX,
                )
            )
        privacy = post.labels.get("youtube.privacy")
        if privacy is not None and privacy not in PRIVACY:
            problems.append(
                Problem(
                    code="invalid_option",
                    message=f"youtube.privacy is {privacy!r}; give public, unlisted or private",
                    field="labels.youtube.privacy",
                )
            )
        for name in ("youtube.notify_subscribers", "youtube.made_for_kids"):
            flag = post.labels.get(name)
            if flag is not None and flag not in _BOOLEANS:
                problems.append(
                    Problem(
                        code="invalid_option",
                        message=f"{name} is {flag!r}; give true or false",
                        field=f"labels.{name}",
                    )
                )
        category = post.labels.get("youtube.category_id")
        if category is not None and not category.isdigit():
            problems.append(
                Problem(
                    code="invalid_option",
                    message=f"youtube.category_id is {category!r}; give a category number "
                    "(25 is News & Politics, 29 Nonprofits & Activism)",
                    field="labels.youtube.category_id",
                )
            )
        for index, media in enumerate(videos):
            if media.captions is not None and not (media.captions_language or post.language):
                problems.append(
                    Problem(
                        code="captions_language_missing",
                        message="YouTube needs the language of a captions file: give "
                        "captions_language='id' (or the post's language)",
                        field=f"media[{index}].captions_language",
                    )
                )
        return problems

    @classmethod
    def local_server(cls) -> AbstractContextManager[LocalServer]:
        """The YouTube emulator (``govsocial_youtube.testing``) on a free local port."""
        from govsocial_youtube.testing import local_server

        return local_server()

    # -- HTTP answers ----------------------------------------------------------------------

    @classmethod
    def rate_bucket(cls, method: str, url: str) -> str:
        """``uploads`` for videos.insert, ``units`` for every other API call (Google's two
        daily buckets); upload chunks and the token endpoint spend nothing."""
        call = quota.call_for(method, url)
        return call.bucket if call is not None else ""

    @classmethod
    def retry_after(cls, response: httpx.Response) -> float | None:
        """Until midnight Pacific for a spent daily quota, else ``Retry-After``."""
        if _reason(json_object(response) or {}) in ("quotaExceeded", "dailyLimitExceeded"):
            return max(0.0, quota.next_reset().timestamp() - time.time())
        return super().retry_after(response)

    @classmethod
    def error_message(cls, response: httpx.Response) -> str:
        """Google's ``error.message`` (with the first reason), or an OAuth error."""
        body = json_object(response)
        if body is None:
            return super().error_message(response)
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message")
            reason = _reason(body)
            text = message if isinstance(message, str) and message else response.reason_phrase
            return f"{text} ({reason})" if reason else text
        if isinstance(error, str):
            described = body.get("error_description")
            return f"{error}: {described}" if isinstance(described, str) else error
        return super().error_message(response)

    @classmethod
    def is_throttled(cls, response: httpx.Response) -> bool:
        """429, or 403 with a quota or rate-limit reason (Google's way of saying it)."""
        if response.status_code == 429:
            return True
        if response.status_code != 403:
            return False
        return _reason(json_object(response) or {}) in (
            "quotaExceeded",
            "rateLimitExceeded",
            "userRateLimitExceeded",
            "dailyLimitExceeded",
        )

    def error_for(self, response: httpx.Response) -> GovSocialError:
        """Google's errors into the exception tree; a spent daily quota names the reset."""
        body = json_object(response) or {}
        reason = _reason(body)
        message = self.error_message(response)
        if reason in ("quotaExceeded", "dailyLimitExceeded"):
            call = quota.call_for(response.request.method, str(response.request.url))
            reset = quota.next_reset()
            if call is not None:
                self._spend(call, everything=True)
            return RateLimited(
                f"{self.title} quota of {self.account.handle}'s project is spent for today: "
                f"{message}; it resets at midnight Pacific Time ({_clock(reset)})",
                retry_after=max(0.0, (reset - datetime.now(UTC)).total_seconds()),
                platform=self.name,
                status=response.status_code,
                body=message,
            )
        if response.status_code == 401:
            return TokenRefused(
                f"{self.title} rejected the access token of {self.account.handle}: {message}",
                platform=self.name,
                hint="the token expired or was revoked; govsocial renews it with the refresh "
                "token, so this means the renewed one was refused too: " + _REAUTHORIZE,
            )
        if response.status_code == 403 and reason == "insufficientPermissions":
            return AuthenticationError(
                f"{self.title} refused a call for {self.account.handle}: {message}",
                platform=self.name,
                hint="the channel's authorization lacks a scope: " + _REAUTHORIZE,
            )
        return super().error_for(response)

    # -- requests --------------------------------------------------------------------------

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Every call to YouTube: the bearer token, the day's quota checked and counted,
        and one renewal of the token when it expired or was refused (401).

        The upload engine sends through here too, so the session's chunks carry the token.
        """
        url = path if "://" in path else f"{self.base_url}{path}"
        self._check_host(url)
        call = quota.call_for(method, url)
        if call is not None:
            self._check_quota(call)
        if self.tokens.expiring():
            await self.tokens.renew(self.credential("access_token"))
        token = self.credential("access_token")
        try:
            response = await self._send(method, url, token, kwargs)
        except TokenRefused:
            # a 401 means YouTube did nothing: renewing and sending again is safe
            await self.tokens.renew(token)
            response = await self._send(method, url, self.credential("access_token"), kwargs)
        except PlatformError as error:
            if call is not None and error.status is not None and not isinstance(error, RateLimited):
                self._spend(call)  # Google charges invalid requests too
            raise
        if call is not None:
            self._spend(call)
        return response

    def _check_host(self, url: str) -> None:
        """The token goes only to the account's server or Google's API hosts: an upload
        session URI (from an answer's ``Location``) elsewhere is refused, not followed."""
        parts, base = urlsplit(url), urlsplit(self.base_url)
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
            return
        if parts.scheme == "https" and (parts.hostname or "").endswith(".googleapis.com"):
            return
        raise PlatformError(
            f"{self.title} pointed a request for {self.account.handle} at {parts.scheme}://"
            f"{parts.netloc}, which is neither {base.netloc} nor a Google API host; the access "
            "token is not sent there",
            platform=self.name,
            hint="a proxy in front of YouTube may be rewriting answers; check the network",
        )

    async def _send(
        self, method: str, url: str, token: str, kwargs: dict[str, Any]
    ) -> httpx.Response:
        options = dict(kwargs)
        options["headers"] = {**(options.get("headers") or {}), "Authorization": f"Bearer {token}"}
        return await super().request(method, url, **options)

    # -- quota -------------------------------------------------------------------------------

    def _daily(self, bucket: str) -> int:
        name = "daily_uploads" if bucket == "uploads" else "daily_units"
        value = _option(self.account, name)
        if value is not None and value.isdigit():
            return int(value)
        return quota.DAILY_UPLOADS if bucket == "uploads" else quota.DAILY_UNITS

    def _budget_key(self, bucket: str) -> str:
        return f"{self.account.key}|{bucket}"

    def _quota_state(self, bucket: str) -> RateState:
        """Today's state of ``bucket``: a new day starts full."""
        state = self.http.budget.get(self._budget_key(bucket))
        if state is None or state.reset_at is None or state.reset_at <= time.time():
            daily = self._daily(bucket)
            state = RateState(limit=daily, remaining=daily, reset_at=quota.next_reset().timestamp())
            self.http.budget.update(self._budget_key(bucket), state)
        return state

    def quota_left(self) -> dict[str, int]:
        """What this account may still spend today as the adapter counted it: ``units``
        and ``uploads`` (Google does not say; a spent quota it reports sets them to 0)."""
        return {b: self._quota_state(b).remaining or 0 for b in ("units", "uploads")}

    def _check_quota(self, call: quota.Call) -> None:
        state = self._quota_state(call.bucket)
        left = state.remaining or 0
        if left >= call.cost:
            return
        reset = datetime.fromtimestamp(state.reset_at or 0, UTC)
        what = (
            f"{left} of {state.limit} video uploads"
            if call.bucket == "uploads"
            else f"{left} of {state.limit} quota units"
        )
        raise RateLimited(
            f"{self.title} quota of {self.account.handle}: {what} left today, and "
            f"{call.method} costs {call.cost}; the quota resets at midnight Pacific Time "
            f"({_clock(reset)}). Nothing was sent",
            retry_after=max(0.0, (reset - datetime.now(UTC)).total_seconds()),
            platform=self.name,
            status=None,
        )

    def _spend(self, call: quota.Call, *, everything: bool = False) -> None:
        state = self._quota_state(call.bucket)
        left = 0 if everything else max(0, (state.remaining or 0) - call.cost)
        self.http.budget.update(
            self._budget_key(call.bucket),
            RateState(limit=state.limit, remaining=left, reset_at=state.reset_at),
        )

    # -- credentials -----------------------------------------------------------------------

    def _optional(self, name: str) -> str | None:
        if name in self._refreshed:
            return self._refreshed[name]
        return _option(self.account, name)

    async def refresh_credentials(self) -> bool:
        """Renew the access token with the refresh token (run it daily, or let the adapter
        renew on demand: it does when the token expires or is refused)."""
        await self.tokens.renew(self.credential("access_token"))
        return True

    def _renewal_refused(self, error: GovSocialError) -> AuthenticationError:
        return AuthenticationError(
            f"{self.title} access token of {self.account.handle} could not be "
            f"renewed: {getattr(error, 'body', None) or error.message}",
            platform=self.name,
            hint="the refresh token was revoked or expired (a Google Cloud project "
            "whose OAuth consent screen is in Testing issues refresh tokens that last "
            "7 days; publish it to Production): " + _REAUTHORIZE,
        )

    # -- publishing --------------------------------------------------------------------------

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """Upload the video (resuming a checkpointed session), then its thumbnail, captions
        and playlist entry; a reply is a comment."""
        key = idempotency_key or self.new_idempotency_key()
        if post.reply_to is not None:
            return await self._comment(post, key)
        videos = [m for m in post.media if m.kind == "video"]
        if len(videos) != 1:
            raise ConfigurationError(
                "a YouTube post is exactly one video",
                field="media",
                hint="attach one video; give an image as its cover",
            )
        media = videos[0]
        options = self._options(post)
        saved = self.checkpoint(key)
        video_id = saved.get("video")
        if not video_id:
            params = {
                "uploadType": "resumable",
                "part": "snippet,status",
                "notifySubscribers": "true" if options["notify"] else "false",
            }
            protocol = ResumableUpload(
                self,
                f"{self.base_url}/upload/youtube/v3/videos?" + _query(params),
                content_type=media.mime_type or "video/mp4",
                metadata=self._video_resource(post, options),
                result=_video_result,
            )
            result = await self.upload(media, protocol, idempotency_key=key, name="video")
            video_id = result["id"]
            # the id first, before anything else is done with it
            self.save_checkpoint(
                key, video=video_id, privacy=result.get("privacy", ""), asked=options["privacy"]
            )
            saved = self.checkpoint(key)
        extra: dict[str, str] = {"kind": "video"}
        got, asked = saved.get("privacy", ""), saved.get("asked", options["privacy"])
        if got:
            extra["privacy"] = got
        if got == "private" and asked != "private":
            extra["requested_privacy"] = asked
            extra["notice"] = _UNVERIFIED_NOTICE.format(asked=asked)
            logger.warning("%s: %s", self.account.handle, extra["notice"])
            self._record_project("false")
        elif got in ("public", "unlisted") and got == asked:
            self._record_project("true")
        extra.update(await self._after_upload(key, video_id, media, post, options, saved))
        return PostRef(
            platform=self.name,
            account=self.account,
            id=video_id,
            url=f"https://www.youtube.com/watch?v={video_id}",
            extra=extra,
        )

    def _options(self, post: Post) -> dict[str, Any]:
        labels = post.labels
        return {
            "title": video_title(post),
            "privacy": labels.get("youtube.privacy")
            or _option(self.account, "privacy")
            or self.default_privacy,
            "category": labels.get("youtube.category_id")
            or _option(self.account, "category_id")
            or self.default_category_id,
            "playlist": labels.get("youtube.playlist_id") or _option(self.account, "playlist_id"),
            "notify": _BOOLEANS.get(labels.get("youtube.notify_subscribers", "true"), True),
            "kids": _BOOLEANS.get(
                labels.get("youtube.made_for_kids")
                or _option(self.account, "made_for_kids")
                or "false",
                False,
            ),
        }

    def _video_resource(self, post: Post, options: dict[str, Any]) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "title": options["title"],
            "description": post.text,
            "categoryId": options["category"],
        }
        tags = hashtag_tags(post.text)
        if tags:
            snippet["tags"] = tags
        if post.language:
            snippet["defaultLanguage"] = post.language
            snippet["defaultAudioLanguage"] = post.language
        return {
            "snippet": snippet,
            "status": {
                "privacyStatus": options["privacy"],
                # said every time, never left to a default: YouTube requires the answer
                "selfDeclaredMadeForKids": options["kids"],
            },
        }

    async def _after_upload(
        self,
        key: str,
        video_id: str,
        media: Media,
        post: Post,
        options: dict[str, Any],
        saved: dict[str, str],
    ) -> dict[str, str]:
        """Thumbnail, captions, playlist: each once. A refusal (a channel not verified for
        custom thumbnails) is reported in the ref's ``extra``, not raised: the video is
        published; a throttle or a failure of YouTube's is raised, and a retry resumes here."""
        notes: dict[str, str] = {}
        steps: list[tuple[str, Any]] = []
        if media.cover is not None:
            steps.append(("thumbnail", self._set_thumbnail(video_id, media.cover)))
        if media.captions is not None:
            language = media.captions_language or post.language or ""
            steps.append(("captions", self._insert_captions(video_id, media, language)))
        if options["playlist"]:
            steps.append(("playlist_item", self._add_to_playlist(video_id, options["playlist"])))
        for name, step in steps:
            if saved.get(name):
                step.close()
                notes[name] = saved[name]
                continue
            try:
                done = await step
            except (PlatformError, AuthenticationError) as error:
                if isinstance(error, RateLimited | TokenRefused) or (
                    isinstance(error, PlatformError)
                    and (error.status is None or error.status >= 500)
                ):
                    raise
                notes[f"{name}_error"] = error.message[:300]
                logger.warning("%s of video %s refused: %s", name, video_id, error.message)
                continue
            self.save_checkpoint(key, **{name: done})
            notes[name] = done
        return notes

    async def _set_thumbnail(self, video_id: str, cover: Media) -> str:
        data = await self.read_media(cover, field="media[0].cover")
        await self.request(
            "POST",
            "/upload/youtube/v3/thumbnails/set?"
            + _query({"videoId": video_id, "uploadType": "media"}),
            content=data,
            headers={"Content-Type": cover.mime_type or "image/jpeg"},
            idempotent=True,  # setting the same picture twice is harmless
        )
        return "set"

    async def _insert_captions(self, video_id: str, media: Media, language: str) -> str:
        data = await self.read_captions(media, cap=_CAPTIONS_MAX, field="media[0]")
        name = media.captions.stem if media.captions is not None else ""
        metadata = {"snippet": {"videoId": video_id, "language": language, "name": name}}
        boundary = "govsocial" + secrets.token_hex(12)
        body = b"".join(
            [
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
                json.dumps(metadata).encode(),
                f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n".encode(),
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        response = await self.request(
            "POST",
            "/upload/youtube/v3/captions?" + _query({"uploadType": "multipart", "part": "snippet"}),
            content=body,
            headers={"Content-Type": f"multipart/related; boundary={boundary}"},
            idempotent=False,
        )
        answer = json_object(response) or {}
        caption = answer.get("id")
        if not is_id(caption):
            raise self.unreadable(response, "the captions")
        return str(caption)

    async def _add_to_playlist(self, video_id: str, playlist_id: str) -> str:
        response = await self.request(
            "POST",
            "/youtube/v3/playlistItems?part=snippet",
            json={
                "snippet": {
                    "playlistId": playlist_id,
                    "resourceId": {"kind": "youtube#video", "videoId": video_id},
                }
            },
            idempotent=False,
        )
        item = (json_object(response) or {}).get("id")
        if not is_id(item):
            raise self.unreadable(response, "the playlist item")
        return str(item)

    async def _comment(self, post: Post, key: str) -> PostRef:
        """A comment on a video (commentThreads.insert) or an answer to a comment
        (comments.insert with parentId: the thread's top-level comment)."""
        target = post.reply_to
        assert target is not None
        saved = self.checkpoint(key)
        if saved.get("comment"):
            return self._comment_ref(saved["comment"], saved.get("video", ""), saved["thread"])
        if target.extra.get("kind") == "comment":
            thread = target.extra.get("thread") or target.id
            video_id = target.extra.get("video", "")
            response = await self.request(
                "POST",
                "/youtube/v3/comments?part=snippet",
                json={"snippet": {"parentId": thread, "textOriginal": post.text}},
                create=True,
                idempotency_key=key,
                idempotent=False,
            )
            comment = json_object(response) or {}
        else:
            video_id = target.id
            response = await self.request(
                "POST",
                "/youtube/v3/commentThreads?part=snippet",
                json={
                    "snippet": {
                        "videoId": video_id,
                        "topLevelComment": {"snippet": {"textOriginal": post.text}},
                    }
                },
                create=True,
                idempotency_key=key,
                idempotent=False,
            )
            answer = json_object(response) or {}
            thread = str(answer.get("id", ""))
            comment = as_dict(as_dict(answer.get("snippet")).get("topLevelComment"))
        comment_id = comment.get("id")
        if not is_id(comment_id):
            raise self.unreadable(response, "the comment")
        self.save_checkpoint(key, comment=str(comment_id), video=video_id, thread=thread)
        return self._comment_ref(str(comment_id), video_id, thread)

    def _comment_ref(self, comment_id: str, video_id: str, thread: str) -> PostRef:
        url = f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}" if video_id else None
        return PostRef(
            platform=self.name,
            account=self.account,
            id=comment_id,
            url=url,
            extra={"kind": "comment", "video": video_id, "thread": thread or comment_id},
        )

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """The video (or comment) a delivery made, from its checkpoint (None: no id was
        saved; publishing again with the same key resumes the saved upload session, which
        answers the video it made if it took every byte)."""
        saved = self.checkpoint(idempotency_key)
        video_id = saved.get("video") or saved.get("video.result.id")
        if video_id:
            return PostRef(
                platform=self.name,
                account=self.account,
                id=video_id,
                url=f"https://www.youtube.com/watch?v={video_id}",
                extra={"kind": "video"},
            )
        if saved.get("comment"):
            return self._comment_ref(saved["comment"], saved.get("video", ""), saved["thread"])
        return None

    async def delete(self, ref: PostRef) -> None:
        """``videos.delete`` (or ``comments.delete`` for a comment ref)."""
        resource = "comments" if ref.extra.get("kind") == "comment" else "videos"
        await self.request("DELETE", f"/youtube/v3/{resource}?" + _query({"id": ref.id}))

    # -- reading -------------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """``videos.list?part=statistics``, 50 ids a call: views, likes, comments (replies)."""
        stats: dict[str, dict[str, Any]] = {}
        ids = [r.id for r in refs if r.extra.get("kind") != "comment"]
        for start in range(0, len(ids), 50):
            chunk = ids[start : start + 50]
            response = await self.request(
                "GET",
                "/youtube/v3/videos?"
                + _query({"part": "statistics", "id": ",".join(chunk), "maxResults": "50"}),
            )
            for item in _items(self, response, "the statistics"):
                if is_id(item.get("id")):
                    stats[str(item["id"])] = as_dict(item.get("statistics"))
        now = datetime.now(UTC)
        found = []
        for ref in refs:
            figures = stats.get(ref.id)
            if figures is None:
                found.append(PostMetrics(ref=ref, collected_at=now, raw={"unavailable": True}))
                continue
            found.append(
                PostMetrics(
                    ref=ref,
                    collected_at=now,
                    views=_count(figures.get("viewCount")),
                    likes=_count(figures.get("likeCount")),
                    replies=_count(figures.get("commentCount")),
                    raw=dict(figures),
                )
            )
        return found

    def _record_project(self, verified: str) -> None:
        """Remember what an upload showed about the API project (``project_verified``,
        an account option the workspace stores): ``govsocial check`` reports it."""
        if self._optional("project_verified") != verified:
            self.update_credentials(project_verified=verified)

    async def check(self) -> AccountCheck:
        """``channels.list?part=snippet,statistics,status&mine=true`` (1 quota unit): the
        channel, that the token works (renewed when expired), whether the channel may upload
        videos over 15 minutes; then what is known of the API project's verification, and
        the quota left today as counted here.

        Google's API says neither whether a project passed its audit nor how much quota is
        left: the project's state is what the last public upload showed (a video locked
        private: unverified), kept as the account option ``project_verified`` (or set by
        the operator); a spent quota is known when Google refuses a call with
        ``quotaExceeded``.
        """
        with self.recording_calls() as log:
            try:
                response = await self.request(
                    "GET",
                    "/youtube/v3/channels?"
                    + _query({"part": "snippet,statistics,status", "mine": "true"}),
                )
            except AuthenticationError as error:
                return self.refused_check(error, log)
            except RateLimited as spent:
                log.rate.update(self._quota_words())
                blocked = (False, spent.message, "wait for the reset or ask Google for more quota")
                return self.checked(
                    log,
                    notes=[self._project_words()],
                    post=blocked,
                    reply=blocked,
                    delete=blocked,
                    metrics=blocked,
                    account_metrics=blocked,
                )
        items = _items(self, response, "the channel")
        if not items:
            return self.checked(
                log,
                notes=["the token works, but its Google account has no YouTube channel"],
                post=(False, "no channel to upload to", "create the channel on YouTube first"),
                reply=(False, "no channel", None),
                delete=(False, "no channel", None),
                metrics=(False, "no channel", None),
                account_metrics=(False, "no channel", None),
            )
        channel = items[0]
        snippet, status = as_dict(channel.get("snippet")), as_dict(channel.get("status"))
        title = str(snippet.get("title") or "")
        identity = f"{title} ({channel.get('id')})" if title else str(channel.get("id") or "")
        log.rate.update(self._quota_words())
        notes = [self._project_words()]
        long_uploads = str(status.get("longUploadsStatus") or "")
        if long_uploads and long_uploads != "allowed":
            notes.append(
                f"the channel may upload videos of at most 15 minutes (longUploadsStatus "
                f"{long_uploads}): verify it by phone at https://www.youtube.com/verify"
            )
        verified = self._optional("project_verified")
        if verified == "false":
            post: tuple[bool | None, str, str | None] = (
                True,
                "uploads work, private only: the API project is not verified",
                "have the Google Cloud project audited (YouTube API Services audit and quota "
                "extension form); until then every upload is private",
            )
        else:
            post = (None, "the channel was read; uploading needs the youtube.upload scope", None)
        unknown = "the channel was read; Google's answer does not say whether the token has "
        return self.checked(
            log,
            identity=identity,
            notes=notes,
            post=post,
            reply=(None, unknown + "the youtube.force-ssl scope comments need", None),
            delete=(None, unknown + "the youtube.force-ssl scope deleting needs", None),
            metrics=(None, unknown + "the scope video figures need", None),
            account_metrics=(True, "the channel's figures were read", None),
        )

    def _project_words(self) -> str:
        verified = self._optional("project_verified")
        if verified == "true":
            return (
                "API project: verified (a public or unlisted upload stayed so); uploads "
                "keep the privacy asked"
            )
        if verified == "false":
            return (
                "API project: NOT verified (an upload came back private although public was "
                "asked): every upload is private until Google audits the project"
            )
        return (
            "API project: not known to be verified. Google's API does not say; projects "
            "created after 28 July 2020 upload private only until audited. The first "
            "public upload tells (its result's notice), and the account then records it "
            "(project_verified)"
        )

    def _quota_words(self) -> dict[str, str]:
        reset = _clock(quota.next_reset())
        where = (
            "as counted by govsocial in this process; Google reports no remaining quota to "
            "the API: the Cloud Console's Quotas page has the project's figure"
        )
        units, uploads = self._quota_state("units"), self._quota_state("uploads")
        return {
            "quota units": f"{units.remaining} of {units.limit} left today, resets {reset} "
            f"({where})",
            "quota uploads": f"{uploads.remaining} of {uploads.limit} videos.insert left today",
        }

    async def fetch_account_metrics(self) -> AccountMetrics:
        """``channels.list?part=statistics&mine=true``: subscribers and videos."""
        response = await self.request(
            "GET", "/youtube/v3/channels?" + _query({"part": "statistics", "mine": "true"})
        )
        items = _items(self, response, "the channel")
        figures = as_dict(items[0].get("statistics")) if items else {}
        hidden = figures.get("hiddenSubscriberCount") is True
        return AccountMetrics(
            account=self.account,
            collected_at=datetime.now(UTC),
            followers=None if hidden else _count(figures.get("subscriberCount")),
            posts=_count(figures.get("videoCount")),
            raw=dict(figures),
        )

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """The comments on a video and their replies (``commentThreads.list?videoId=``;
        threads with more replies than the 5 included are read with ``comments.list``)."""
        if ref.extra.get("kind") == "comment":
            top_id = ref.extra.get("thread") or ref.id
            answers = await self._thread_replies(top_id)
            return sorted(
                (self._interaction(c, ref.extra.get("video", ""), top_id) for c in answers),
                key=lambda i: i.created_at,
            )
        found: list[Interaction] = []
        params = {
            "part": "snippet,replies",
            "videoId": ref.id,
            "maxResults": "100",
            "textFormat": "plainText",
            "order": "time",
        }
        for _ in range(self.max_pages):
            response = await self.request("GET", "/youtube/v3/commentThreads?" + _query(params))
            body = json_object(response) or {}
            for thread in _items(self, response, "the comments"):
                thread_id = str(thread.get("id", ""))
                snippet = as_dict(thread.get("snippet"))
                top = as_dict(snippet.get("topLevelComment"))
                if is_id(top.get("id")):
                    found.append(self._interaction(top, ref.id, thread_id))
                replies = as_dict(thread.get("replies")).get("comments")
                replies = replies if isinstance(replies, list) else []
                total = snippet.get("totalReplyCount")
                if isinstance(total, int) and total > len(replies):
                    replies = await self._thread_replies(thread_id)
                for reply in replies:
                    if isinstance(reply, dict) and is_id(reply.get("id")):
                        found.append(self._interaction(reply, ref.id, thread_id))
            token = body.get("nextPageToken")
            if not isinstance(token, str) or not token:
                break
            params["pageToken"] = token
        return sorted(found, key=lambda i: i.created_at)

    async def _thread_replies(self, thread: str) -> list[dict[str, Any]]:
        params = {"part": "snippet", "parentId": thread, "maxResults": "100"}
        params["textFormat"] = "plainText"
        replies: list[dict[str, Any]] = []
        for _ in range(self.max_pages):
            response = await self.request("GET", "/youtube/v3/comments?" + _query(params))
            replies += _items(self, response, "the replies")
            token = (json_object(response) or {}).get("nextPageToken")
            if not isinstance(token, str) or not token:
                break
            params["pageToken"] = token
        return replies

    def _interaction(self, comment: dict[str, Any], video_id: str, thread: str) -> Interaction:
        snippet = as_dict(comment.get("snippet"))
        parent = snippet.get("parentId")
        published = parse_time(snippet.get("publishedAt"))
        author = snippet.get("authorDisplayName")
        channel = as_dict(snippet.get("authorChannelId")).get("value")
        text = snippet.get("textDisplay")
        if not isinstance(text, str):
            text = snippet.get("textOriginal")
        return Interaction(
            kind="reply",
            ref=self._comment_ref(str(comment["id"]), video_id, thread),
            author=channel if isinstance(channel, str) else str(author or ""),
            author_name=author if isinstance(author, str) else None,
            text=text if isinstance(text, str) else "",
            created_at=published or datetime.now(UTC),
            in_reply_to_id=str(parent) if is_id(parent) else video_id,
            received_at=published,
        )

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """Not available: the YouTube Data API has no way to list where a channel is
        mentioned (an @handle in other channels' videos or comments)."""
        raise NotSupported(
            "YouTube cannot list mentions: the Data API has no endpoint for where a channel's "
            "@handle appears; comments on the channel's videos are read with fetch_replies",
            platform=self.name,
        )


# -- helpers -----------------------------------------------------------------------------------


def video_title(post: Post) -> str:
    """The title a post's video gets: the label ``youtube.title``, else its first line."""
    label = post.labels.get("youtube.title")
    if label is not None:
        return label.strip()
    for line in post.text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def hashtag_tags(text: str) -> list[str]:
    """The hashtags of ``text`` as tags, without ``#``, each once, in order."""
    return list(dict.fromkeys(match.group(1) for match in _HASHTAG.finditer(text)))


def tags_length(tags: list[str]) -> int:
    """Tags' length as YouTube counts it: a tag with a space counts its quotes, and the
    commas between tags count."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def _video_result(answer: dict[str, Any]) -> dict[str, str]:
    video_id = answer.get("id")
    if not isinstance(video_id, str) or not video_id:
        raise PlatformError("YouTube's finished upload answer has no video id", platform="youtube")
    result = {"id": video_id}
    privacy = as_dict(answer.get("status")).get("privacyStatus")
    if isinstance(privacy, str):
        result["privacy"] = privacy
    return result


def _items(adapter: YouTube, response: httpx.Response, what: str) -> list[dict[str, Any]]:
    body = json_object(response)
    items = body.get("items") if body is not None else None
    if not isinstance(items, list):
        raise adapter.unreadable(response, what)
    return [item for item in items if isinstance(item, dict)]


def _count(value: Any) -> int | None:
    """Google's statistics are uint64 written as strings."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _reason(body: dict[str, Any]) -> str:
    errors = as_dict(body.get("error")).get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = errors[0].get("reason")
        if isinstance(reason, str):
            return reason
    return ""


def _option(account: Account, name: str) -> str | None:
    """A non-secret account option kept with the credentials (None when not given)."""
    if name not in account.credentials:
        return None
    value = account.credential(name).strip()
    return value or None


def _token_uri(account: Account) -> str:
    """The token endpoint: Google's, or one on the account's own server (an emulator)."""
    given = _option(account, "token_uri")
    if given is None or given == TOKEN_URI:
        return TOKEN_URI
    parts = urlsplit(given)
    base = urlsplit(account.base_url or "")
    if parts.scheme == "https" and parts.netloc.endswith(".googleapis.com"):
        return given
    if (parts.scheme, parts.netloc) == (base.scheme, base.netloc) and base.netloc:
        return given
    raise ConfigurationError(
        f"account {account.handle} on YouTube: token_uri {given} is neither Google's token "
        "endpoint nor on the account's base_url",
        field="credentials.token_uri",
        hint=f"leave token_uri out (Google's {TOKEN_URI} is the default); the refresh token "
        "and client secret are sent there",
    )


def _query(params: dict[str, str]) -> str:
    return str(httpx.QueryParams(params))


def _clock(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
