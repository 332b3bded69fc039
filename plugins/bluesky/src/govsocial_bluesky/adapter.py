"""The Bluesky adapter: AT Protocol XRPC calls to the account's PDS.

Everything goes to the account's PDS (``base_url``, default ``https://bsky.social``);
``app.bsky.*`` reads (getPosts, getProfile, getPostThread, listNotifications) are proxied
by the PDS to its AppView without an ``atproto-proxy`` header (the PDS's default service
for ``app.bsky``; https://docs.bsky.app/docs/advanced-guides/api-directory). Set
``Bluesky.appview_proxy`` (``"did:web:api.bsky.app#bsky_appview"``) to name one.

Publishing is exactly-once by record key: the idempotency key is (or is mapped to) a TID
used as the post's ``rkey``, so a repeated create names the same record and fails instead
of duplicating; that failure is answered by reading the record back.

A video goes through the account's **video service** where there is one (bsky.social's is
``https://video.bsky.app``; the account option ``video_service`` names another, or
``none``), as docs.bsky.app's "Uploading video" tutorial does
(https://docs.bsky.app/docs/tutorials/video): ``app.bsky.video.getUploadLimits`` with a
service token for the video service, then ``app.bsky.video.uploadVideo?did=&name=`` with a
service token from ``com.atproto.server.getServiceAuth`` (``aud`` the PDS's DID,
``lxm`` ``com.atproto.repo.uploadBlob``, 30 minutes), then ``app.bsky.video.getJobStatus``
polled until the job holds the blob the service stored on the PDS. The job id is
checkpointed, so a later attempt polls the same job. Without a video service (a
self-hosted or local PDS) the video is a PDS blob (``uploadBlob``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal
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
    Problem,
    RateLimited,
    RateState,
    SearchPage,
    VideoLimits,
    header_int,
    json_object,
    parse_query,
    poll,
    probe_video,
    read_json,
)
from govsocial_bluesky import richtext, views
from govsocial_bluesky.aturi import POST_COLLECTION, AtUri, post_url
from govsocial_bluesky.errors import XrpcAuthenticationError, XrpcError, error_for
from govsocial_bluesky.imagesize import image_size
from govsocial_bluesky.session import Session
from govsocial_bluesky.tid import new_tid, tid_for_key

__all__ = ["Bluesky"]

logger = logging.getLogger("govsocial.bluesky")

_GET_POSTS_BATCH = 25  # app.bsky.feed.getPosts takes at most 25 URIs
_NOTIFICATIONS_PAGE = 100
_SEARCH_PAGE = 100  # app.bsky.feed.searchPosts takes at most 100
#: A search re-reads this much before its cursor: a post the AppView indexed late (its
#: ``sortAt`` a little older) is not lost; one already stored is recognised by its URI.
_SEARCH_OVERLAP = timedelta(minutes=10)
_MAX_NOTIFICATION_PAGES = 50
_THREAD_DEPTH = 1000  # the lexicon's maximum for getPostThread depth
#: What each notification reason the inbox reads becomes (a quote mentions the account).
_KINDS: dict[str, Literal["reply", "mention"]] = {
    "reply": "reply",
    "mention": "mention",
    "quote": "mention",
}
#: Most unread stretches a cursor keeps (each left by a read the page cap stopped).
_MAX_GAPS = 5
_FEED_PAGE = 100  # app.bsky.feed.getAuthorFeed's maximum
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_RECORD_MISSING = ("RecordNotFound",)
VIDEO_DOCS = "https://docs.bsky.app/docs/tutorials/video"
#: bsky.social's video service, and its DID (the ``aud`` of its getUploadLimits token)
VIDEO_SERVICE = "https://video.bsky.app"
VIDEO_SERVICE_DID = "did:web:video.bsky.app"
#: the PDS hosts whose accounts use :data:`VIDEO_SERVICE` unless told otherwise
_BSKY_HOSTS = ("bsky.social", ".bsky.network")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: the credential where the login session is kept between clients (Session.dumps)
SESSION_CREDENTIAL = "session"
#: XRPC errors after which the session is renewed and the call sent once more: the token
#: expired, or the PDS no longer knows it (a kept session revoked, or not its own)
_RENEW_ON = frozenset({"ExpiredToken", "InvalidToken"})


class Bluesky(Platform):
    """Bluesky, through the AT Protocol (app-password sessions on the account's PDS).

    Credentials: ``identifier`` (handle, DID or e-mail) and ``app_password`` (Settings >
    Privacy and security > App passwords; never the account password). The adapter adds
    ``session``: the login session it keeps (see :meth:`session`), secret like the password.
    """

    name: ClassVar[str] = "bluesky"
    title: ClassVar[str] = "Bluesky"
    default_base_url: ClassVar[str | None] = "https://bsky.social"
    credential_fields: ClassVar[tuple[str, ...]] = ("identifier", "app_password")
    secret_fields: ClassVar[tuple[str, ...] | None] = ("app_password", SESSION_CREDENTIAL)
    #: the session saves logins only: a workspace that cannot store or open it goes without
    cached_credentials: ClassVar[tuple[str, ...]] = (SESSION_CREDENTIAL,)
    #: The idempotency key is the record key: a repeat can never make a second record.
    idempotency_window: ClassVar[float | None] = math.inf
    #: Most pages (100 posts each) one ``search`` call reads.
    max_search_pages: ClassVar[int] = 5
    search_support: ClassVar[str | None] = (
        "words, #hashtags and phrases through app.bsky.feed.searchPosts (sort latest, since "
        "the last post seen), answered by the AppView the PDS proxies to"
    )
    limits: ClassVar[Limits] = Limits(
        # app.bsky.feed.post lexicon: text maxGraphemes 300, maxLength 3000 (UTF-8 bytes).
        max_characters=300,
        max_bytes=3000,
        # app.bsky.embed.images lexicon: at most 4 images, each blob maxSize 2,000,000.
        max_media=4,
        image_types=frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
        max_image_bytes=2_000_000,
        # app.bsky.embed.video lexicon: one mp4 blob, maxSize 300,000,000 (formerly 100 MB);
        # captions: up to 20 WebVTT blobs of 20,000 bytes, each with a language. Bluesky's
        # video guide: up to 3 minutes.
        video_types=frozenset({"video/mp4"}),
        max_video_bytes=300_000_000,
        video=VideoLimits(
            max_duration=180,
            captions=True,
            source="https://docs.bsky.app/docs/tutorials/video",
        ),
        alt_text=True,
        # The lexicon sets no limit; the official app (bluesky-social/social-app,
        # src/lib/constants.ts MAX_ALT_TEXT) stops at 2000 graphemes.
        max_alt_text=2000,
        post_metrics=frozenset({"likes", "reposts", "replies", "quotes"}),
        account_metrics=frozenset({"followers", "following", "posts"}),
    )
    #: ``atproto-proxy`` header for app.bsky reads (None: the PDS's default AppView).
    appview_proxy: ClassVar[str | None] = None
    #: How far below the newest notification read the next activity read goes again.
    activity_overlap: ClassVar[timedelta] = timedelta(minutes=10)

    #: seconds one attempt waits for the video service's job (then a later attempt polls
    #: the same job), the first wait between polls, and the service token's lifetime
    video_wait: ClassVar[float] = 300.0
    video_poll_first: ClassVar[float] = 1.0
    video_token_lifetime: ClassVar[int] = 30 * 60

    def __init__(self, account: Account, context: AdapterContext) -> None:
        super().__init__(account, context)
        self._session: Session | None = None
        self._kept_read = False
        self._lock = asyncio.Lock()
        self._spent_tokens: list[str] = []
        self._service_tokens: list[str] = []
        self._pds_did: str | None = None

    # -- offline ---------------------------------------------------------------------------

    @classmethod
    def count_characters(cls, text: str, limits: Limits | None = None) -> int:
        """Graphemes, as Bluesky counts them (the official RichText's graphemeLength)."""
        return richtext.grapheme_length(text)

    @classmethod
    def check_post(cls, post: Post, limits: Limits) -> list[Problem]:
        """Bluesky-specific problems: a language tag the record cannot carry; a video that is
        not alone (a post embeds one video or up to four images); captions that are not
        WebVTT with a language."""
        problems: list[Problem] = []
        videos = [i for i, media in enumerate(post.media) if media.kind == "video"]
        if videos and len(post.media) > 1:
            problems.append(
                Problem(
                    code="video_not_alone",
                    message=f"a {cls.title} post embeds one video alone, or up to 4 images; "
                    f"this one has {len(post.media)} media with {len(videos)} video(s): post "
                    "the video on its own",
                    field="media",
                    limit=1,
                )
            )
        for index in videos:
            media = post.media[index]
            if media.captions is None:
                continue
            field = f"media[{index}].captions"
            if media.captions.suffix.lower() != ".vtt":
                problems.append(
                    Problem(
                        code="captions_format",
                        message=f"{cls.title} takes captions as WebVTT (.vtt) only; "
                        f"{media.captions.name} is SubRip: convert it to WebVTT",
                        field=field,
                    )
                )
            if (media.captions_language or post.language) is None:
                problems.append(
                    Problem(
                        code="captions_language",
                        message=f"{cls.title} needs the language of the captions: give "
                        "captions_language='id' (or the post's language=)",
                        field=f"media[{index}].captions_language",
                    )
                )
        if post.language is not None and not _LANGUAGE.match(post.language):
            problems.append(
                Problem(
                    code="invalid_language",
                    message=(
                        f"language {post.language!r} is not a BCP-47 tag; Bluesky needs one "
                        "such as 'id' or 'en-US'"
                    ),
                    field="language",
                )
            )
        return problems

    @classmethod
    def new_idempotency_key(cls) -> str:
        """A fresh TID: it becomes the post's record key."""
        return new_tid()

    @classmethod
    def local_server(cls) -> AbstractContextManager[LocalServer] | None:
        """A local PLC + PDS + AppView (see ``govsocial_bluesky.localserver``)."""
        from govsocial_bluesky.localserver import BlueskyLocalServer

        return BlueskyLocalServer()

    # -- HTTP answers ----------------------------------------------------------------------

    @classmethod
    def rate_state(cls, response: httpx.Response) -> RateState | None:
        """RateLimit-Limit / -Remaining / -Reset (epoch seconds), as a PDS sends them."""
        headers = response.headers
        values = [
            header_int(headers.get(name))
            for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
        ]
        if all(value is None for value in values):
            return None
        limit, remaining, reset = values
        return RateState(
            limit=limit, remaining=remaining, reset_at=float(reset) if reset is not None else None
        )

    @classmethod
    def retry_after(cls, response: httpx.Response) -> float | None:
        """Retry-After when given, else the time left until RateLimit-Reset."""
        asked = super().retry_after(response)
        if asked is None and response.status_code == 429:
            reset = header_int(response.headers.get("ratelimit-reset"))
            if reset is not None:
                asked = max(0.0, reset - datetime.now(UTC).timestamp())
        return asked

    def error_for(self, response: httpx.Response) -> GovSocialError:
        """XRPC error answers as AuthenticationError, RateLimited or XrpcError."""
        return error_for(
            response, handle=self.account.handle, retry_after=self.retry_after(response)
        )

    def iter_credentials(self) -> Iterator[str]:
        """The app password and the session tokens this adapter holds or held.

        The identifier (a handle, DID or e-mail) is public (``secret_fields``): scrubbing it
        would blank the account's own handle out of every message.
        """
        yield from super().iter_credentials()
        if self._session is not None:
            yield from self._session.tokens()
        yield from self._spent_tokens
        yield from self._service_tokens

    # -- session ---------------------------------------------------------------------------

    async def session(self) -> Session:
        """The live session, made or renewed first when needed (one at a time).

        A new adapter starts from the session kept in the account's ``session`` credential
        (by an earlier client, through the client's ``on_credentials``: a workspace seals it
        with the other credentials): its access token while it is valid, else its refresh
        token (``refreshSession``); it logs in with the app password (``createSession``,
        which Bluesky limits to 30 per 5 minutes and 300 a day per account) only when
        neither works. Each new session is kept the same way (see :meth:`_keep`).
        """
        async with self._lock:
            if self._session is None and not self._kept_read:
                self._kept_read = True  # once: a kept session found unusable is not retried
                self._session = self._kept_session()
            if self._session is None:
                self._keep(await self._create_session())
            elif not self._session.access_usable():
                await self._renew_locked()
            assert self._session is not None
            return self._session

    def _kept_session(self) -> Session | None:
        """The session an earlier client kept for this account, if it is readable and is
        this account's (the DID or handle it was made for); None means log in."""
        try:
            text = self.credential(SESSION_CREDENTIAL)
        except GovSocialError:
            return None
        try:
            session = Session.loads(text)
        except ValueError:
            return None
        identifier = self.account.credential("identifier").strip().lower()
        if identifier.startswith("did:") and identifier != session.did.lower():
            return None
        handle = "@" not in identifier and not identifier.startswith("did:")
        if handle and identifier.lstrip("@") != session.handle.lower():
            return None  # a handle changed since, or another account's session: log in
        return session

    def _keep(self, session: Session) -> None:
        """Use ``session`` and keep it for the next client: ``update_credentials`` hands it
        to the client's ``on_credentials`` (a workspace stores it sealed, when it has a
        ``GOVSOCIAL_SECRET_KEY``: see ``cached_credentials``). A failure to store it costs a
        login later, never this call.
        """
        self._session = session
        try:
            self.update_credentials(**{SESSION_CREDENTIAL: session.dumps()})
        except Exception as error:  # noqa: BLE001 - the session is a cache
            logger.warning(
                "the Bluesky session of %s was not kept for the next client (%s)",
                self.account.handle,
                type(error).__name__,
            )

    async def _create_session(self) -> Session:
        body = {
            "identifier": self.account.credential("identifier"),
            "password": self.account.credential("app_password"),
        }
        response = await self.request(
            "POST", "/xrpc/com.atproto.server.createSession", json=body, idempotent=True
        )
        return self._new_session(response)

    def _new_session(self, response: httpx.Response) -> Session:
        try:
            return Session.from_answer(read_json(response))
        except ValueError:
            raise PlatformError(
                "Bluesky answered the login with no session in it",
                platform=self.name,
                status=response.status_code,
            ) from None

    async def _renew_locked(self) -> None:
        """Refresh the session; log in again when the refresh token is spent or refused."""
        old = self._session
        if old is not None:
            self._spent_tokens = [*self._spent_tokens[-4:], *old.tokens()]
        if old is not None and old.refresh_usable():
            try:
                response = await self.request(
                    "POST",
                    "/xrpc/com.atproto.server.refreshSession",
                    headers={"Authorization": f"Bearer {old.refresh_jwt}"},
                    idempotent=False,
                )
            except XrpcAuthenticationError:
                pass  # refresh token revoked or expired: log in again below
            else:
                self._keep(self._new_session(response))
                return
        self._session = None
        self._keep(await self._create_session())

    async def _login(self) -> Session:
        """Log in with the app password now, whatever session is kept."""
        async with self._lock:
            if self._session is not None:
                self._spent_tokens = [*self._spent_tokens[-4:], *self._session.tokens()]
            self._session = None
            session = await self._create_session()
            self._keep(session)
            return session

    async def _renew_after(self, stale_access: str) -> None:
        """Renew after the PDS called ``stale_access`` expired (unless a peer already did)."""
        async with self._lock:
            if self._session is None or self._session.access_jwt == stale_access:
                await self._renew_locked()

    # -- XRPC ------------------------------------------------------------------------------

    async def xrpc(
        self,
        method: str,
        nsid: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        create: bool = False,
        idempotency_key: str | None = None,
        idempotent: bool | None = None,
    ) -> dict[str, Any]:
        """Call XRPC method ``nsid`` as the account; its JSON answer (``{}`` when empty).

        On ``ExpiredToken`` or ``InvalidToken`` (a kept session revoked) the session is
        renewed (refreshed, else a login) and the call sent once more (the PDS refused it
        before doing anything, so a create is safe to repeat).
        """
        for attempt in (1, 2):
            session = await self.session()
            sent = {**(headers or {}), "Authorization": f"Bearer {session.access_jwt}"}
            if self.appview_proxy and nsid.startswith("app.bsky."):
                sent["atproto-proxy"] = self.appview_proxy
            kwargs: dict[str, Any] = {"headers": sent}
            if params is not None:
                kwargs["params"] = params
            if json is not None:
                kwargs["json"] = json
            if content is not None:
                kwargs["content"] = content
            try:
                response = await self.request(
                    method,
                    f"/xrpc/{nsid}",
                    create=create,
                    idempotency_key=idempotency_key,
                    idempotent=idempotent,
                    **kwargs,
                )
            except XrpcAuthenticationError as error:
                if attempt == 1 and error.xrpc_error in _RENEW_ON:
                    await self._renew_after(session.access_jwt)
                    continue
                raise
            if not response.content:
                return {}
            try:
                answer = read_json(response)
            except ValueError:  # a proxy's page, or JSON nested too deeply to read
                raise self.unreadable(response, nsid) from None
            return answer if isinstance(answer, dict) else {}
        raise AssertionError("unreachable")  # pragma: no cover

    # -- publishing ------------------------------------------------------------------------

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """Create the post with record key TID(``idempotency_key``); a repeat returns it again."""
        session = await self.session()
        rkey = tid_for_key(idempotency_key) if idempotency_key else new_tid()
        record = await self._record(post, idempotency_key)
        body = {"repo": session.did, "collection": POST_COLLECTION, "rkey": rkey, "record": record}
        try:
            answer = await self.xrpc(
                "POST",
                "com.atproto.repo.createRecord",
                json=body,
                create=True,
                idempotency_key=idempotency_key,
            )
        except PlatformError as error:
            if isinstance(error, RateLimited):
                raise
            return await self._already_published(session, rkey, record, error)
        uri, cid = answer.get("uri"), answer.get("cid")
        if not isinstance(uri, str) or not isinstance(cid, str):
            raise PlatformError(
                "Bluesky created the post but answered no uri/cid",
                platform=self.name,
                status=200,
            )
        return self._ref(uri, cid, record, session.handle)

    async def _already_published(
        self, session: Session, rkey: str, record: dict[str, Any], error: PlatformError
    ) -> PostRef:
        """A create failed: the record key may already hold this post (a repeat).

        The PDS refuses to create over an existing key (older versions answer 500, newer a
        named error); either way the record is read back and returned when its text is
        the one being published. Otherwise the original error stands.
        """
        try:
            existing = await self._get_record(session.did, rkey)
        except GovSocialError:
            raise error from None
        if existing is None:
            raise error
        value = existing.get("value")
        if not isinstance(value, dict) or value.get("text") != record["text"]:
            raise PlatformError(
                f"record key {rkey} of {self.account.handle} already holds a different post; "
                "this idempotency key was used for other content",
                platform=self.name,
                status=error.status,
                body=error.body,
                hint="use a new idempotency key for a new post",
            ) from error
        return self._ref(
            str(existing["uri"]), str(existing.get("cid") or ""), value, session.handle
        )

    def _ref(self, uri: str, cid: str, record: dict[str, Any], handle: str) -> PostRef:
        return PostRef(
            platform=self.name,
            account=self.account,
            id=uri,
            url=post_url(uri, handle),
            extra=views.ref_extra(cid, record),
        )

    async def _record(self, post: Post, idempotency_key: str = "") -> dict[str, Any]:
        """The app.bsky.feed.post record for ``post`` (images uploaded on the way)."""
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": post.text,
            "createdAt": _now_iso(),
        }
        if post.language:
            record["langs"] = [post.language]
        facets = await self._facets(post.text)
        if facets:
            record["facets"] = facets
        if post.reply_to is not None:
            record["reply"] = await self._reply(post.reply_to)
        if len(post.media) == 1 and post.media[0].kind == "video":
            record["embed"] = await self._video(post.media[0], post.language, idempotency_key)
        elif post.media:
            images = await asyncio.gather(*(self._image(media) for media in post.media))
            record["embed"] = {"$type": "app.bsky.embed.images", "images": list(images)}
        return record

    async def _facets(self, text: str) -> list[dict[str, Any]]:
        """Link, tag and mention facets; a mention whose handle does not resolve stays text."""
        spans = richtext.detect_facets(text)
        handles = sorted({span.value for span in spans if span.kind == "mention"})
        resolved = await asyncio.gather(*(self._resolve_handle(handle) for handle in handles))
        dids = {handle: did for handle, did in zip(handles, resolved, strict=True) if did}
        return richtext.to_facets(spans, dids)

    async def _resolve_handle(self, handle: str) -> str | None:
        """The DID of ``handle`` (com.atproto.identity.resolveHandle), None when unknown."""
        try:
            answer = await self.xrpc(
                "GET", "com.atproto.identity.resolveHandle", params={"handle": handle.lstrip("@")}
            )
        except XrpcError as error:
            if error.status is not None and 400 <= error.status < 500:
                return None
            raise
        did = answer.get("did")
        return did if isinstance(did, str) else None

    async def _image(self, media: Media) -> dict[str, Any]:
        """Upload one image (com.atproto.repo.uploadBlob) and describe it for the embed."""
        data = await self.read_media(media)
        mime = media.mime_type or "application/octet-stream"
        blob = await self._blob(data, mime, media.source)
        image: dict[str, Any] = {"alt": media.alt_text, "image": blob}
        size = image_size(data)
        if size is not None:
            image["aspectRatio"] = {"width": size[0], "height": size[1]}
        return image

    async def _blob(self, data: bytes, mime: str, source: str) -> dict[str, Any]:
        """Upload bytes (com.atproto.repo.uploadBlob): the blob reference for a record."""
        answer = await self.xrpc(
            "POST",
            "com.atproto.repo.uploadBlob",
            content=data,
            headers={"Content-Type": mime},
            idempotent=True,  # blobs are content-addressed: a repeat stores nothing new
        )
        blob = answer.get("blob")
        if not isinstance(blob, dict):
            raise PlatformError(
                f"Bluesky answered the upload of {source} with no blob",
                platform=self.name,
            )
        return blob

    async def _video(
        self, media: Media, language: str | None, idempotency_key: str = ""
    ) -> dict[str, Any]:
        """The app.bsky.embed.video embed: the video blob, alt, aspect ratio and captions.

        The blob comes from the account's video service when it has one (processed there,
        stored on the PDS by the service), else from the PDS itself (``uploadBlob``, up to
        the PDS's upload limit: ``PDS_BLOB_UPLOAD_LIMIT``, 5 MiB by default on the
        reference PDS).
        """
        data = await self.read_media(media)
        service = self.video_service()
        video = (
            await self._processed_video(data, media, service, idempotency_key)
            if service is not None
            else await self._blob(data, "video/mp4", media.source)
        )
        embed: dict[str, Any] = {"$type": "app.bsky.embed.video", "video": video}
        if media.alt_text:
            embed["alt"] = media.alt_text
        try:
            info = await asyncio.to_thread(probe_video, data)
        except GovSocialError:  # no PyAV here: the app works the ratio out itself
            info = None
        if info is not None:
            embed["aspectRatio"] = {"width": info.width, "height": info.height}
        if media.captions is not None:
            text = await self.read_captions(media, cap=20_000)
            lang = media.captions_language or language or "und"
            captions = await self._blob(text, "text/vtt", str(media.captions))
            embed["captions"] = [{"lang": lang, "file": captions}]
        return embed

    # -- the video service ---------------------------------------------------------------

    def video_service(self) -> tuple[str, str] | None:
        """``(url, did)`` of the account's video service, or None (the PDS blob path).

        The account option ``video_service`` names it (an ``https://`` URL, ``http://`` on
        this machine only: it receives a token that may store blobs in the account's
        repository), or ``none``; ``video_service_did`` its DID (default
        ``did:web:<host>``). Without the option, accounts on bsky.social use
        ``https://video.bsky.app``; others have none.

        :raises ConfigurationError: ``video_service`` is not such a URL.
        """
        given = _option(self.account, "video_service")
        if given is not None and given.lower() == "none":
            return None
        if given is None:
            host = (urlsplit(self.base_url).hostname or "").lower()
            if host == _BSKY_HOSTS[0] or host.endswith(_BSKY_HOSTS[1]):
                return VIDEO_SERVICE, VIDEO_SERVICE_DID
            return None
        parts = urlsplit(given)
        host = (parts.hostname or "").lower()
        secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK)
        if not host or not secure or parts.query or parts.fragment or parts.username:
            raise ConfigurationError(
                f"account {self.account.handle}: video_service {given!r} is not an https:// "
                "URL (http:// only on this machine)",
                field="credentials.video_service",
                hint=f"use {VIDEO_SERVICE}, another service's https:// address, or 'none' "
                "to upload videos to the PDS",
            )
        did = _option(self.account, "video_service_did") or f"did:web:{host}"
        return given.rstrip("/"), did

    async def _video_words(self, log: Any) -> str:
        """For ``govsocial check``: where videos go, and what the video service's
        getUploadLimits says about this account."""
        try:
            service = self.video_service()
        except ConfigurationError as error:
            return f"videos cannot be posted: {error}"
        if service is None:
            return (
                "videos are stored as PDS blobs (no video service: set the account's "
                "video_service to use one)"
            )
        where = f"videos go through the video service {service[0]} ({service[1]})"
        try:
            with self.recording_calls() as inner:
                limits = await self.upload_limits(*service)
        except GovSocialError as error:
            return f"{where}; it could not be asked for this account's limits: {error}"
        finally:
            log.calls.extend(inner.calls)
        words = str(limits.get("message") or limits.get("error") or "")
        if limits.get("canUpload") is not True:
            return (
                f"{where}, which does not let this account upload videos now"
                f"{': ' + words if words else ''} (Bluesky-hosted accounts must verify "
                f"their e-mail first; {VIDEO_DOCS})"
            )
        return (
            f"{where}: it may upload {limits.get('remainingDailyVideos', '?')} more videos "
            f"({limits.get('remainingDailyBytes', '?')} bytes) today"
        )

    async def _service_token(self, aud: str, lxm: str, *, lifetime: int | None = None) -> str:
        """com.atproto.server.getServiceAuth: a token for ``aud``, bound to ``lxm``."""
        params: dict[str, Any] = {"aud": aud, "lxm": lxm}
        if lifetime is not None:
            params["exp"] = int(time.time()) + lifetime
        answer = await self.xrpc("GET", "com.atproto.server.getServiceAuth", params=params)
        token = answer.get("token")
        if not isinstance(token, str) or not token:
            raise PlatformError(
                "Bluesky answered getServiceAuth with no token", platform=self.name, status=200
            )
        self._service_tokens = [*self._service_tokens[-8:], token]
        return token

    async def _pds_service_did(self) -> str:
        """The PDS's DID (com.atproto.server.describeServer ``did``), the ``aud`` of the
        upload token; ``did:web:<host>`` when the PDS does not say (as the tutorial has it)."""
        if self._pds_did is None:
            try:
                answer = await self.xrpc("GET", "com.atproto.server.describeServer")
            except XrpcError:
                answer = {}
            did = answer.get("did")
            host = urlsplit(self.base_url).hostname or ""
            self._pds_did = did if isinstance(did, str) and did else f"did:web:{host}"
        return self._pds_did

    async def _processed_video(
        self, data: bytes, media: Media, service: tuple[str, str], idempotency_key: str
    ) -> dict[str, Any]:
        """The video's blob from the video service: limits, upload, then the job polled.
        The job id (then the blob) is checkpointed: a later attempt polls the same job."""
        url, service_did = service
        saved = self.checkpoint(idempotency_key) if idempotency_key else {}
        if "video_blob" in saved:
            blob = json.loads(saved["video_blob"])
            if isinstance(blob, dict):
                return blob
        job_id = saved.get("video_job")
        if not job_id:
            await self._check_upload_limits(url, service_did, len(data))
            status = await self._upload_video(url, data, media)
            blob = _blob_of(status)
            job_id = str(status.get("jobId") or "")
            if blob is None and not job_id:
                raise self._video_refused(status, "uploadVideo answered no job")
            if idempotency_key and job_id:
                self.save_checkpoint(idempotency_key, video_job=job_id)
            if blob is not None:
                return self._video_done(blob, idempotency_key)

        async def check() -> dict[str, Any] | None:
            response = await self.request(
                "GET",
                f"{url}/xrpc/app.bsky.video.getJobStatus",
                params={"jobId": job_id},
                accept=(400, 409),  # "already_exists" carries the earlier video's blob
            )
            found = _job_status(json_object(response) or {})
            blob = _blob_of(found)
            if blob is not None:
                return blob
            if response.status_code >= 400 or found.get("state") == "JOB_STATE_FAILED":
                raise self._video_refused(found or (json_object(response) or {}), "")
            return None

        blob = await poll(
            check,
            what=f"{self.title}'s video job {job_id}",
            platform=self.name,
            timeout=self.video_wait,
            first=self.video_poll_first,
            most=10.0,
        )
        return self._video_done(blob, idempotency_key)

    def _video_done(self, blob: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        if idempotency_key:
            self.save_checkpoint(idempotency_key, video_blob=json.dumps(blob, sort_keys=True))
        return blob

    async def upload_limits(self, url: str, service_did: str) -> dict[str, Any]:
        """app.bsky.video.getUploadLimits on the video service at ``url`` (with a service
        token for ``service_did``): ``canUpload``, ``remainingDailyVideos``,
        ``remainingDailyBytes``, ``message``, ``error``."""
        token = await self._service_token(service_did, "app.bsky.video.getUploadLimits")
        response = await self.request(
            "GET",
            f"{url}/xrpc/app.bsky.video.getUploadLimits",
            headers={"Authorization": f"Bearer {token}"},
        )
        return json_object(response) or {}

    async def _check_upload_limits(self, url: str, service_did: str, size: int) -> None:
        """Whether this account may upload a video of ``size`` bytes now."""
        limits = await self.upload_limits(url, service_did)
        videos, size_left = limits.get("remainingDailyVideos"), limits.get("remainingDailyBytes")
        words = str(limits.get("message") or limits.get("error") or "")
        if (isinstance(videos, int) and videos <= 0) or (
            isinstance(size_left, int) and size_left < size
        ):
            raise RateLimited(
                f"{self.title}'s video service lets {self.account.handle} upload no more "
                f"videos today ({videos} videos, {size_left} bytes left; this one is {size} "
                f"bytes){': ' + words if words else ''}",
                retry_after=3600.0,
                platform=self.name,
                status=None,
            )
        if limits.get("canUpload") is not True:
            raise PlatformError(
                f"{self.title}'s video service does not let {self.account.handle} upload "
                f"videos{': ' + words if words else ''}",
                platform=self.name,
                status=200,
                body=words or None,
                hint="Bluesky-hosted accounts must verify their e-mail before uploading "
                f"video, and may post a limited number a day ({VIDEO_DOCS})",
            )

    async def _upload_video(self, url: str, data: bytes, media: Media) -> dict[str, Any]:
        """app.bsky.video.uploadVideo with a 30-minute service token for the PDS's
        uploadBlob; the job status (a video the service already holds answers
        ``already_exists`` with its blob)."""
        session = await self.session()
        aud = await self._pds_service_did()
        token = await self._service_token(
            aud, "com.atproto.repo.uploadBlob", lifetime=self.video_token_lifetime
        )
        name = media.path.name if media.path is not None else "video.mp4"
        response = await self.request(
            "POST",
            f"{url}/xrpc/app.bsky.video.uploadVideo",
            params={"did": session.did, "name": name},
            content=data,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "video/mp4"},
            accept=(409,),  # already_exists: the job status of the earlier upload
            idempotent=True,  # an upload is not a post; the service deduplicates it
        )
        return _job_status(json_object(response) or {})

    def _video_refused(self, status: dict[str, Any], why: str) -> PlatformError:
        code = str(status.get("failureCode") or status.get("error") or "")
        words = str(status.get("message") or status.get("error") or why or "failed")
        return PlatformError(
            f"{self.title}'s video service did not process the video of "
            f"{self.account.handle}: {words}" + (f" ({code})" if code else ""),
            platform=self.name,
            status=200,
            body=words,
            hint="check the video is an MP4 the service can read, within its size and "
            f"length limits ({VIDEO_DOCS})",
        )

    async def _reply(self, parent: PostRef) -> dict[str, Any]:
        """The record's ``reply``: root and parent strong refs (uri + cid)."""
        parent_cid = parent.extra.get("cid")
        root_uri, root_cid = parent.extra.get("root_uri"), parent.extra.get("root_cid")
        if not parent_cid or not (root_uri and root_cid):
            uri = AtUri.parse(parent.id, field="reply_to")
            found = await self._get_record(uri.repo, uri.rkey, collection=uri.collection)
            if found is None:
                raise PlatformError(
                    f"cannot reply: the post {parent.id} does not exist (deleted?)",
                    platform=self.name,
                    field="reply_to",
                )
            parent_cid = str(found.get("cid") or "")
            value = found.get("value")
            extra = views.ref_extra(parent_cid, value if isinstance(value, dict) else None)
            root_uri, root_cid = extra.get("root_uri"), extra.get("root_cid")
        if not (root_uri and root_cid):
            root_uri, root_cid = parent.id, parent_cid
        return {
            "root": {"uri": root_uri, "cid": root_cid},
            "parent": {"uri": parent.id, "cid": parent_cid},
        }

    async def _get_record(
        self, repo: str, rkey: str, *, collection: str = POST_COLLECTION
    ) -> dict[str, Any] | None:
        """com.atproto.repo.getRecord; None when the record does not exist."""
        try:
            return await self.xrpc(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": repo, "collection": collection, "rkey": rkey},
            )
        except XrpcError as error:
            if _record_missing(error):
                return None
            raise

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """The post this account made with ``idempotency_key``: the record at TID(key)."""
        session = await self.session()
        found = await self._get_record(session.did, tid_for_key(idempotency_key))
        if found is None:
            return None
        value = found.get("value")
        return self._ref(
            str(found["uri"]),
            str(found.get("cid") or ""),
            value if isinstance(value, dict) else {},
            session.handle,
        )

    async def delete(self, ref: PostRef) -> None:
        """com.atproto.repo.deleteRecord (succeeds when the record is already gone)."""
        uri = AtUri.parse(ref.id)
        await self.xrpc(
            "POST",
            "com.atproto.repo.deleteRecord",
            json={"repo": uri.repo, "collection": uri.collection, "rkey": uri.rkey},
            idempotent=True,
        )

    # -- reading ---------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """app.bsky.feed.getPosts, 25 URIs per call; a post not returned gets all None."""
        views_by_uri: dict[str, dict[str, Any]] = {}
        uris = list(dict.fromkeys(ref.id for ref in refs))
        for start in range(0, len(uris), _GET_POSTS_BATCH):
            batch = uris[start : start + _GET_POSTS_BATCH]
            answer = await self.xrpc("GET", "app.bsky.feed.getPosts", params={"uris": batch})
            for view in answer.get("posts") or []:
                if isinstance(view, dict) and isinstance(view.get("uri"), str):
                    views_by_uri[view["uri"]] = view
        now = datetime.now(UTC)
        return [views.metrics(ref, views_by_uri.get(ref.id), now) for ref in refs]

    async def fetch_account_metrics(self) -> AccountMetrics:
        """app.bsky.actor.getProfile: followersCount, followsCount, postsCount."""
        session = await self.session()
        profile = await self.xrpc("GET", "app.bsky.actor.getProfile", params={"actor": session.did})
        counts = {
            "followers": profile.get("followersCount"),
            "following": profile.get("followsCount"),
            "posts": profile.get("postsCount"),
        }
        return AccountMetrics(
            account=self.account,
            collected_at=datetime.now(UTC),
            raw={key: profile.get(key) for key in ("did", "handle", "displayName")},
            **{
                k: v if isinstance(v, int) and not isinstance(v, bool) else None
                for k, v in counts.items()
            },
        )

    async def check(self) -> AccountCheck:
        """Log in (``createSession``: the app password itself is checked, not a kept
        session), ask ``com.atproto.server.getSession`` whether the account is active (a
        taken-down, suspended or deactivated account cannot write), and read the profile
        through the AppView (figures come from there). An app password may post, reply and
        delete in its own repository."""
        with self.recording_calls() as log:
            try:
                await self._login()
                info = await self.xrpc("GET", "com.atproto.server.getSession")
            except AuthenticationError as error:
                return self.refused_check(error, log)
            try:
                await self.fetch_account_metrics()
                counted: tuple[bool | None, str, str | None] = (
                    True,
                    "app.bsky.actor.getProfile answered (the AppView is reachable)",
                    None,
                )
            except GovSocialError as error:
                counted = (
                    False,
                    f"the AppView did not answer the profile: {error.message}",
                    "figures come from the AppView the PDS proxies to: check that the PDS has "
                    "one (bsky.social does)",
                )
        active = info.get("active", True) is not False
        status = info.get("status")
        if active:
            write: tuple[bool | None, str, str | None] = (
                True,
                "the account is active and the app password may write its repository",
                None,
            )
        else:
            write = (
                False,
                f"the account is not active ({status or 'inactive'})",
                "reactivate the account, or ask the PDS operator why it was "
                f"{status or 'deactivated'}",
            )
        handle = info.get("handle")
        video = await self._video_words(log)
        return self.checked(
            log,
            identity=f"@{handle}" if isinstance(handle, str) and handle else None,
            notes=[video],
            post=write,
            reply=write,
            delete=write,
            metrics=(counted[0], counted[1], counted[2]),
            account_metrics=counted,
        )

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """Every reply below ``ref`` (app.bsky.feed.getPostThread), oldest first."""
        answer = await self.xrpc(
            "GET",
            "app.bsky.feed.getPostThread",
            params={"uri": ref.id, "depth": _THREAD_DEPTH, "parentHeight": 0},
        )
        thread = answer.get("thread")
        if not isinstance(thread, dict):
            return []
        now = datetime.now(UTC)
        found = [
            views.interaction(view, kind="reply", account=ref.account, fallback_time=now)
            for view in views.thread_replies(thread)
        ]
        return sorted((i for i in found if i is not None), key=_received)

    async def search(
        self, query: str, *, cursor: str | None = None, since: datetime | None = None
    ) -> SearchPage:
        """Posts about ``query`` (``app.bsky.feed.searchPosts``, newest first, ``sort=latest``)
        indexed after the cursor (the newest ``indexedAt`` seen, less a 10-minute overlap) or
        ``since``; pages back until older posts appear or :attr:`max_search_pages` is spent.

        The AppView is asked for ``since`` too; one that ignores it (the reference AppView
        without a search service matches the text with SQL ``LIKE``) is filtered here.
        """
        parsed = parse_query(query)
        start = _search_since(cursor, since)
        found: dict[str, FoundPost] = {}
        page_cursor: str | None = None
        requests, complete = 0, True
        now = datetime.now(UTC)
        for page_number in range(self.max_search_pages):
            params: dict[str, Any] = {"q": parsed.text, "sort": "latest", "limit": _SEARCH_PAGE}
            if start is not None:
                params["since"] = start.astimezone(UTC).isoformat(timespec="milliseconds")
            if page_cursor:
                params["cursor"] = page_cursor
            answer = await self.xrpc("GET", "app.bsky.feed.searchPosts", params=params)
            requests += 1
            posts = [p for p in answer.get("posts") or [] if isinstance(p, dict)]
            older = False
            for view in posts:
                item = views.interaction(
                    view, kind="mention", account=self.account, fallback_time=now
                )
                if item is None:
                    continue
                if start is not None and _received(item) <= start:
                    older = True
                    continue
                found.setdefault(
                    item.ref.id,
                    FoundPost(
                        ref=item.ref,
                        author=item.author,
                        author_name=item.author_name,
                        text=item.text,
                        created_at=item.created_at,
                        received_at=item.received_at,
                    ),
                )
            next_cursor = answer.get("cursor")
            page_cursor = next_cursor if isinstance(next_cursor, str) and next_cursor else None
            if older or not posts or page_cursor is None:
                break
            if page_number == self.max_search_pages - 1:
                complete = False
        ordered = sorted(found.values(), key=lambda p: p.received_at or p.created_at)
        newest = max((p.received_at for p in ordered if p.received_at), default=None)
        previous = views.parse_datetime(cursor) if cursor else None
        if newest is not None and previous is not None and newest <= previous:
            newest = None  # only posts of the overlap: the cursor stays where it was
        return SearchPage(
            posts=ordered,
            cursor=newest.isoformat() if newest is not None else None,
            complete=complete,
            requests=requests,
        )

    async def fetch_activity(
        self,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
        posts: Sequence[PostRef] = (),
    ) -> Activity:
        """Replies, mentions and quotes in two requests (after the login), whatever the
        number of posts:

        1. app.bsky.notification.listNotifications (reasons ``reply``, ``mention`` and
           ``quote``): the AppView notifies a reply to the account's post, at any depth of
           its thread and whatever the post's age, with the thread's root, which threads it
           in the inbox. Newest first, down to the newest ``indexedAt`` the previous call
           read (less ``activity_overlap``: a late-indexed one is not lost, and the inbox
           recognises what it has), or ``since`` on a first call; 100 a page,
           ``_MAX_NOTIFICATION_PAGES`` pages at most. When the cap stops a read before it
           gets there, the page cursor where it stopped goes into the returned cursor and
           the next call reads on from it after the new ones: nothing is skipped.
        2. When ``posts`` are given: app.bsky.feed.getAuthorFeed (``posts_no_replies``, 100
           a page: the account's posts with their ``replyCount``). The AppView lists a
           notification at its author's date when that is earlier than when it was
           indexed, so a backdated reply sits far down the list; a post whose count grew by
           more than the replies notified has its thread read (getPostThread), that post
           only.
        """
        seen, gaps, known = _activity_state(cursor)
        now = datetime.now(UTC)
        until = seen - self.activity_overlap if seen is not None else since
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        found: dict[str, Interaction] = {}
        budget = [_MAX_NOTIFICATION_PAGES]
        newest = seen
        stopped, latest = await self._notifications(None, until, found, budget)
        if latest is not None:
            newest = min(max(latest, newest) if newest is not None else latest, now)
        left: list[tuple[str, datetime]] = []
        if stopped is not None and until is not None:
            left.append((stopped, until))
        for page, down_to in gaps:
            stopped = page
            if budget[0] > 0:
                stopped, _ = await self._notifications(page, down_to, found, budget)
            if stopped is not None:
                left.append((stopped, down_to))
        notes: tuple[str, ...] = ()
        if len(left) > _MAX_GAPS:
            notes = (
                f"more notifications arrived than {len(left)} syncs of "
                f"{_MAX_NOTIFICATION_PAGES * _NOTIFICATIONS_PAGE} could read; the oldest "
                "unread ones were given up: sync more often",
            )
            left = left[:_MAX_GAPS]
        counts: dict[str, int] = {}
        if posts:
            try:
                counts = await self._reply_counts({str(ref.id) for ref in posts})
            except GovSocialError as error:  # the notifications still count; counts kept
                counts = dict(known)
                notes += (f"the posts' reply counts were not read: {error.message}",)
            notified: dict[str, int] = {}
            for item in found.values():
                if item.in_reply_to_id is not None:
                    notified[item.in_reply_to_id] = notified.get(item.in_reply_to_id, 0) + 1
            for ref in posts:
                uri = str(ref.id)
                count = counts.get(uri)
                if count is None or count <= known.get(uri, 0) + notified.get(uri, 0):
                    continue
                try:
                    replies = await self.fetch_replies(ref)
                except GovSocialError as error:  # read again at the next call
                    counts[uri] = known.get(uri, 0)
                    notes += (f"the replies to {uri} were not read: {error.message}",)
                    continue
                for reply in replies:
                    found.setdefault(reply.ref.id, reply)
        state = {
            "seen": newest.isoformat() if newest is not None else None,
            "gaps": [[page, down_to.isoformat()] for page, down_to in left],
            "replies": counts,
        }
        ordered = sorted(found.values(), key=_received)
        return Activity(
            interactions=tuple(ordered), cursor=json.dumps(state, sort_keys=True), notes=notes
        )

    async def _reply_counts(self, wanted: set[str]) -> dict[str, int]:
        """``replyCount`` of the account's posts among ``wanted`` (their URIs), from its
        feed without replies, newest first, 100 a page, until all are found."""
        session = await self.session()
        counts: dict[str, int] = {}
        cursor: str | None = None
        for _page in range(2 + len(wanted) // _FEED_PAGE):
            params: dict[str, Any] = {
                "actor": session.did,
                "filter": "posts_no_replies",
                "limit": _FEED_PAGE,
            }
            if cursor:
                params["cursor"] = cursor
            answer = await self.xrpc("GET", "app.bsky.feed.getAuthorFeed", params=params)
            feed = [item for item in answer.get("feed") or [] if isinstance(item, dict)]
            for item in feed:
                post = item.get("post")
                if not isinstance(post, dict) or post.get("uri") not in wanted:
                    continue
                count = post.get("replyCount")
                if isinstance(count, int) and not isinstance(count, bool):
                    counts[str(post["uri"])] = count
            following = answer.get("cursor")
            if counts.keys() >= wanted or not feed or not isinstance(following, str):
                break
            cursor = following
        return counts

    async def _notifications(
        self,
        cursor: str | None,
        until: datetime | None,
        found: dict[str, Interaction],
        budget: list[int],
    ) -> tuple[str | None, datetime | None]:
        """Read notifications from ``cursor`` (None: the newest) down to ``until`` into
        ``found``, spending pages of ``budget``: the page cursor where the budget ran out
        (None: read to the end), and the newest ``indexedAt`` seen."""
        now = datetime.now(UTC)
        newest: datetime | None = None
        while budget[0] > 0:
            budget[0] -= 1
            params: dict[str, Any] = {"limit": _NOTIFICATIONS_PAGE, "reasons": list(_KINDS)}
            if cursor:
                params["cursor"] = cursor
            answer = await self.xrpc(
                "GET", "app.bsky.notification.listNotifications", params=params
            )
            page = [n for n in answer.get("notifications") or [] if isinstance(n, dict)]
            reached = False
            for note in page:
                indexed = views.parse_datetime(note.get("indexedAt"))
                if indexed is not None:
                    newest = indexed if newest is None else max(newest, indexed)
                    if until is not None and indexed <= until:
                        reached = True
                        continue
                kind = _KINDS.get(str(note.get("reason")))
                if kind is None:
                    continue
                item = views.interaction(note, kind=kind, account=self.account, fallback_time=now)
                if item is not None:
                    found.setdefault(item.ref.id, item)
            following = answer.get("cursor")
            if reached or not page or not isinstance(following, str) or not following:
                return None, newest
            cursor = following
        return cursor, newest

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """Notifications with reason "mention" the AppView indexed after ``since``, oldest
        first (by ``indexedAt``: the author-written ``createdAt`` neither hides nor pages)."""
        found: list[Interaction] = []
        cursor: str | None = None
        now = datetime.now(UTC)
        for _ in range(_MAX_NOTIFICATION_PAGES):
            params: dict[str, Any] = {"limit": _NOTIFICATIONS_PAGE, "reasons": ["mention"]}
            if cursor:
                params["cursor"] = cursor
            answer = await self.xrpc(
                "GET", "app.bsky.notification.listNotifications", params=params
            )
            page = [n for n in answer.get("notifications") or [] if isinstance(n, dict)]
            older = False
            for note in page:
                indexed = views.parse_datetime(note.get("indexedAt"))
                if since is not None and indexed is not None and indexed <= since:
                    older = True
                if note.get("reason") != "mention":
                    continue
                item = views.interaction(
                    note, kind="mention", account=self.account, fallback_time=now
                )
                if item is not None and (since is None or _received(item) > since):
                    found.append(item)
            cursor = answer.get("cursor") if isinstance(answer.get("cursor"), str) else None
            if not cursor or not page or older:
                break
        unique = {item.ref.id: item for item in found}
        return sorted(unique.values(), key=_received)


def _search_since(cursor: str | None, since: datetime | None) -> datetime | None:
    """The time a search starts from: the cursor (the newest ``indexedAt`` seen) less the
    overlap, else ``since``."""
    if cursor:
        moment = views.parse_datetime(cursor)
        if moment is not None:
            return moment - _SEARCH_OVERLAP
    if since is not None and since.tzinfo is None:
        return since.replace(tzinfo=UTC)
    return since


def _activity_state(
    cursor: str | None,
) -> tuple[datetime | None, list[tuple[str, datetime]], dict[str, int]]:
    """The newest ``indexedAt`` read, the unread stretches (a page cursor, down to when)
    and the reply counts of a cursor :meth:`Bluesky.fetch_activity` wrote; nothing of one
    it cannot read."""
    try:
        state = json.loads(cursor) if cursor else {}
    except ValueError:
        return None, [], {}
    if not isinstance(state, dict):
        return None, [], {}
    replies = state.get("replies")
    counts = {
        str(uri): count
        for uri, count in (replies.items() if isinstance(replies, dict) else ())
        if isinstance(count, int) and not isinstance(count, bool)
    }
    gaps: list[tuple[str, datetime]] = []
    for gap in state.get("gaps") or []:
        if isinstance(gap, list) and len(gap) == 2 and isinstance(gap[0], str):
            until = views.parse_datetime(gap[1])
            if until is not None and gap[0]:
                gaps.append((gap[0], until))
    return views.parse_datetime(state.get("seen")), gaps, counts


def _received(item: Interaction) -> datetime:
    """When the platform received ``item`` (its own clock), else the author's date."""
    return item.received_at or item.created_at


def _record_missing(error: XrpcError) -> bool:
    if error.xrpc_error in _RECORD_MISSING:
        return True
    # Before RecordNotFound existed, a PDS answered InvalidRequest "Could not locate record".
    return error.status == 400 and "could not locate record" in (error.body or "").lower()


def _now_iso() -> str:
    """The current UTC time as AT Protocol datetimes are written (milliseconds, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _option(account: Account, name: str) -> str | None:
    """A non-secret account option kept with the credentials (None when not given)."""
    if name not in account.credentials:
        return None
    value = account.credential(name).strip()
    return value or None


def _job_status(answer: dict[str, Any]) -> dict[str, Any]:
    """The job status of an answer: the lexicon wraps it in ``jobStatus``
    (app.bsky.video.uploadVideo, getJobStatus); the tutorial reads uploadVideo's answer as
    the job status itself. Both are read."""
    inner = answer.get("jobStatus")
    return inner if isinstance(inner, dict) else answer


def _blob_of(status: dict[str, Any]) -> dict[str, Any] | None:
    """The job's blob ref when it has one (whatever its state: ``already_exists`` too)."""
    blob = status.get("blob")
    if isinstance(blob, dict) and isinstance(blob.get("ref"), dict):
        return blob
    return None
