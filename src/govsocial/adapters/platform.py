"""The adapter contract: a :class:`Platform` subclass per social network.

An adapter declares its limits as a typed :class:`Limits` value (used offline by
``validate`` and ``count_characters``) and implements async methods that talk to the
platform through the :class:`govsocial.adapters.http.Http` session of its
:class:`AdapterContext`. One adapter instance serves one account; the client creates and
caches them, each with the context that carries the client's collaborators.

Writing one is described in docs/writing-a-plugin.md; docs/sdk.md lists what
:mod:`govsocial.adapters` offers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

import httpx
from pydantic import ConfigDict

from govsocial.adapters.answers import read_json
from govsocial.adapters.checkpoints import Checkpoints, MemoryCheckpoints
from govsocial.adapters.http import Http, RateState
from govsocial.adapters.media import MediaHost
from govsocial.adapters.media_safety import MediaPolicy, media_cap
from govsocial.adapters.upload import UploadProgress, UploadProtocol
from govsocial.core._secrets import scrub
from govsocial.core.errors import (
    AuthenticationError,
    ConfigurationError,
    GovSocialError,
    NotSupported,
    PlatformError,
    PublishPending,
    RateLimited,
    ValidationError,
)
from govsocial.core.listening import SearchPage
from govsocial.core.models import (
    METRIC_FIELDS,
    Account,
    AccountCheck,
    AccountMetrics,
    Activity,
    Capability,
    Interaction,
    Media,
    Model,
    Post,
    PostMetrics,
    PostRef,
    Problem,
)
from govsocial.core.text import find_urls, grapheme_count


class CredentialsListener(Protocol):
    """Told ``(account, values)`` when an adapter refreshes a credential, so it can be stored.

    Any callable of that shape will do (a workspace stores the values, encrypted).
    """

    def __call__(self, account: Account, values: dict[str, str], /) -> None:
        """Receive the refreshed credential values of ``account``."""
        ...


__all__ = [
    "METRIC_FIELDS",
    "AdapterContext",
    "CallLog",
    "CredentialsListener",
    "Limits",
    "LocalServer",
    "Platform",
    "VideoLimits",
]


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What the client gives every adapter it makes: the services an adapter works with.

    An adapter receives it at construction (``Platform(account, context)``) and reads it as
    ``self.http``, ``self.checkpoints``, ``self.media_host`` and ``self.on_credentials``.
    It is frozen: one client shares one context between all its adapters, and nothing
    changes it afterwards. A test builds one with only ``http``.

    :param http: the shared HTTP session (connection pool, retries, rate budgets).
    :param checkpoints: where a delivery's finished steps are kept (default: in memory;
        a workspace gives its database, so a crashed worker's successor resumes).
    :param media_host: where local media go for platforms that fetch media from a public
        URL (None: no host, and :meth:`Platform.public_url` says how to configure one).
    :param on_credentials: told ``(account, values)`` when the adapter refreshes a credential.
    :param media_policy: the media roots and allowed address ranges media is read under
        (None: from ``GOVSOCIAL_MEDIA_ROOTS`` and ``GOVSOCIAL_MEDIA_ALLOW_NETS`` at each
        read; see :mod:`govsocial.adapters.media_safety`).
    :param on_progress: told each :class:`~govsocial.adapters.upload.UploadProgress` of a
        chunked upload (the command line draws a bar with it).
    """

    http: Http
    checkpoints: Checkpoints = dataclasses.field(default_factory=MemoryCheckpoints)
    media_host: MediaHost | None = None
    on_credentials: CredentialsListener | None = None
    media_policy: MediaPolicy | None = None
    on_progress: Callable[[UploadProgress], None] | None = None


class VideoLimits(Model):
    """What a platform accepts of a video, beyond its type and size. None: no limit known.

    Durations are seconds; aspect ratios are width over height (9:16 portrait is 0.5625);
    codecs use FFmpeg's names (``h264``, ``hevc``, ``vp9``; ``aac``, ``opus``), as
    :class:`~govsocial.core.video.VideoInfo` reports them. ``source`` is the page of the
    platform's docs the figures come from: validation messages point to it.
    ``max_pixels`` is width times height (Mastodon's ``video_matrix_limit``).
    ``captions`` and ``cover``: whether the adapter sends a video's captions file and cover
    image (when False, validation warns that they are left behind).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_duration: float | None = None
    max_duration: float | None = None
    min_aspect_ratio: float | None = None
    max_aspect_ratio: float | None = None
    min_width: int | None = None
    min_height: int | None = None
    max_width: int | None = None
    max_height: int | None = None
    max_pixels: int | None = None
    min_frame_rate: float | None = None
    max_frame_rate: float | None = None
    video_codecs: frozenset[str] = frozenset()
    audio_codecs: frozenset[str] = frozenset()
    max_audio_channels: int | None = None
    max_bitrate: int | None = None
    captions: bool = False
    cover: bool = False
    source: str = ""


@dataclass
class CallLog:
    """The requests an adapter made while :meth:`Platform.recording_calls` was on.

    ``calls`` holds ``"GET /api/v1/accounts/verify_credentials"`` lines (no query, secrets
    scrubbed); ``rate`` the rate-limit position each answered path reported, in words.
    """

    calls: list[str] = dataclasses.field(default_factory=list)
    rate: dict[str, str] = dataclasses.field(default_factory=dict)


class Limits(Model):
    """What a platform accepts, declared by its adapter. None means "no limit known".

    ``max_image_bytes`` caps still images, ``max_gif_bytes`` animated GIFs (None: the
    image cap), ``max_video_bytes`` videos; ``video`` holds the rest of the platform's
    video rules (:class:`VideoLimits`), checked offline by ``govsocial.validate``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_characters: int
    max_bytes: int | None = None
    url_length: int | None = None
    max_media: int = 4
    image_types: frozenset[str] = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
    video_types: frozenset[str] = frozenset()
    max_image_bytes: int | None = None
    max_video_bytes: int | None = None
    max_gif_bytes: int | None = None
    video: VideoLimits | None = None
    alt_text: bool = True
    max_alt_text: int | None = None
    alt_text_required: bool = False
    threads: bool = True
    #: why the platform may refuse a reply this account sends (None: it does not); when
    #: set, ``validate`` gives every reply a ``reply_restricted`` warning saying this
    reply_restriction: str | None = None
    delete: bool = True
    post_metrics: frozenset[str] = frozenset()
    account_metrics: frozenset[str] = frozenset({"followers"})

    def summary(self) -> str:
        """One line for ``govsocial platforms``."""
        parts = [f"{self.max_characters} chars"]
        if self.max_bytes:
            parts.append(f"{self.max_bytes} bytes")
        parts.append(f"{self.max_media} media")
        if self.max_image_bytes:
            size = self.max_image_bytes
            shown = f"{size // 2**20} MiB" if size % 2**20 == 0 else f"{size / 1e6:g} MB"
            parts.append(f"images <= {shown}")
        if self.alt_text and self.max_alt_text:
            parts.append(f"alt text <= {self.max_alt_text}")
        elif not self.alt_text:
            parts.append("no alt text")
        return ", ".join(parts)


class LocalServer(Protocol):
    """A platform server running on this machine, for the demo and the conformance suite.

    ``accounts`` holds at least two accounts (the second replies to, mentions and likes the
    first). ``stored_post`` reads a post as the server stored it, without the adapter,
    returning None when the server does not have it (deleted or never made);
    ``stored_text`` and ``stored_alt_texts`` read the text and alt texts out of that answer.
    ``like`` makes ``by`` like a post, and ``mention`` gives the text that mentions an account.

    A server where a second *account* cannot answer a post (a Telegram bot never sees another
    bot's messages; people comment there) may also offer ``comment(ref, text) -> PostRef``:
    a person comments on the post. The demo uses it when it is there.
    """

    @property
    def accounts(self) -> Sequence[Account]:
        """Two or more accounts on this server, with working credentials."""
        ...

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The post as the server stored it, read without the adapter (None: not there)."""
        ...

    def stored_text(self, stored: dict[str, Any]) -> str:
        """The text of a post :meth:`stored_post` returned."""
        ...

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        """The alt texts of a stored post's media, in order."""
        ...

    def like(self, ref: PostRef, by: Account) -> None:
        """Make ``by`` like the post at ``ref``."""
        ...

    def mention(self, account: Account) -> str:
        """The text that mentions ``account`` on this platform (``"@humas"``)."""
        ...


class Platform(ABC):
    """Base class of every adapter. Subclass it, set the class attributes, implement the methods.

    Class attributes:

    - ``name``: the platform's short name, as users type it (``"mastodon"``).
    - ``title``: its display name.
    - ``limits``: the default :class:`Limits` (an instance may refine them, see ``get_limits``).
    - ``credential_fields``: the credential names an account needs.
    - ``secret_fields``: those of them that are secret (default: all). A public one, such
      as Bluesky's ``identifier`` (a handle), is then not scrubbed from messages.
    - ``cached_credentials``: credentials the adapter keeps itself (through
      :meth:`update_credentials`) only to save work, such as Bluesky's login session. A
      workspace stores them sealed when it can; one it cannot store (no
      ``GOVSOCIAL_SECRET_KEY``) or open (another key) is left out without a warning or a
      locked account, and the adapter does the work again. List them in ``secret_fields``
      too when they are secret.
    - ``default_base_url``: the server when an account gives none (None: it must give one).
    - ``idempotency_window``: seconds during which repeating a create with the same
      idempotency key cannot make a second post (Mastodon keeps keys about an hour;
      ``math.inf`` where the key itself makes duplicates impossible, as Bluesky's record
      key does; None where the platform has no such thing). Workers use it to decide
      whether a create whose answer was lost may be sent again.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    limits: ClassVar[Limits]
    credential_fields: ClassVar[tuple[str, ...]] = ()
    secret_fields: ClassVar[tuple[str, ...] | None] = None
    cached_credentials: ClassVar[tuple[str, ...]] = ()
    default_base_url: ClassVar[str | None] = None
    idempotency_window: ClassVar[float | None] = None
    #: what :meth:`search` reads, in a sentence for ``govsocial platforms`` and the docs
    #: (None: the platform lets no one search public posts through its API)
    search_support: ClassVar[str | None] = None

    def __init__(self, account: Account, context: AdapterContext) -> None:
        """Serve ``account`` with the client's services in ``context``.

        A subclass that needs its own set-up takes the same two arguments and passes them
        on: ``def __init__(self, account: Account, context: AdapterContext) -> None:
        super().__init__(account, context)``.
        """
        if not isinstance(context, AdapterContext):  # the 0.1 way: Platform(account, http)
            warnings.warn(
                f"{type(self).__name__}(account, http) is deprecated since govsocial 0.2 and "
                "goes in 0.3: pass a govsocial.adapters.AdapterContext(http=...) instead",
                DeprecationWarning,
                stacklevel=2,
            )
            context = AdapterContext(http=context)
        self.account = account
        self._context = context
        self.base_url = (account.base_url or self.default_base_url or "").rstrip("/")
        self._refreshed: dict[str, str] = {}
        self._call_log: CallLog | None = None

    @property
    def context(self) -> AdapterContext:
        """The services this adapter was made with (see :class:`AdapterContext`)."""
        return self._context

    @property
    def http(self) -> Http:
        """The shared HTTP session; adapters send through :meth:`request`."""
        return self._context.http

    @http.setter
    def http(self, value: Http) -> None:
        self._replace_in_context(http=value)

    @property
    def checkpoints(self) -> Checkpoints:
        """Where this adapter's delivery checkpoints go (the client's store)."""
        return self._context.checkpoints

    @checkpoints.setter
    def checkpoints(self, value: Checkpoints) -> None:
        self._replace_in_context(checkpoints=value)

    @property
    def media_host(self) -> MediaHost | None:
        """The client's media host, for platforms that fetch media from public URLs."""
        return self._context.media_host

    @media_host.setter
    def media_host(self, value: MediaHost | None) -> None:
        self._replace_in_context(media_host=value)

    @property
    def on_credentials(self) -> CredentialsListener | None:
        """Told when a credential is refreshed, so it can be stored (a workspace does)."""
        return self._context.on_credentials

    @on_credentials.setter
    def on_credentials(self, value: CredentialsListener | None) -> None:
        self._replace_in_context(on_credentials=value)

    def _replace_in_context(self, **values: Any) -> None:
        """The 0.1 way of giving an adapter its collaborators: setting them afterwards."""
        names = ", ".join(values)
        warnings.warn(
            f"setting {names} on an adapter is deprecated since govsocial 0.2 and goes in "
            f"0.3: give it in the AdapterContext the adapter is made with",
            DeprecationWarning,
            stacklevel=3,
        )
        self._context = dataclasses.replace(self._context, **values)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.account.handle} at {self.base_url}>"

    # -- offline -----------------------------------------------------------------------

    @classmethod
    def count_characters(cls, text: str, limits: Limits | None = None) -> int:
        """``text``'s length as this platform counts it.

        Default: grapheme clusters; when ``url_length`` is set (in ``limits``, else the class's
        limits), every URL with a scheme (``https://...``, found by
        :func:`govsocial.core.text.find_urls`) counts as ``url_length`` characters instead,
        as X and Mastodon count links.
        """
        url_length = (limits or cls.limits).url_length
        if url_length is None or ":" not in text:
            return grapheme_count(text)
        total, start = 0, 0
        for span in find_urls(text, require_scheme=True):
            total += grapheme_count(text[start : span.start]) + url_length
            start = span.end
        return total + grapheme_count(text[start:])

    @classmethod
    def count_post(cls, post: Post, limits: Limits | None = None) -> int:
        """The length the platform checks against ``max_characters`` for the whole post.

        Default: the text alone (the content warning is not sent). A platform that counts
        a content warning with the text (Mastodon's spoiler_text) overrides this.
        """
        return cls.count_characters(post.text, limits)

    @classmethod
    def count_alt_text(cls, text: str) -> int:
        """Alt text's length as this platform counts it (default: code points, the safe count)."""
        return len(text)

    @classmethod
    def check_post(cls, post: Post, limits: Limits) -> list[Problem]:
        """Platform-specific problems beyond the generic checks (default: none)."""
        return []

    @classmethod
    def video_rules(cls, post: Post, limits: Limits) -> VideoLimits | None:
        """The video rules ``post``'s videos are held to offline (default: ``limits.video``).

        A platform with more than one kind of video post, each with its own rules
        (Facebook Reels and Page videos, Instagram Reels and Stories), returns the rules of
        the kind ``post`` will be published as, chosen from its labels.
        """
        return limits.video

    @classmethod
    def check_account(cls, account: Account) -> None:
        """Raise ConfigurationError when ``account`` lacks what this platform needs."""
        for field in cls.credential_fields:
            account.credential(field)
        if account.base_url is None and cls.default_base_url is None:
            raise ConfigurationError(
                f"account {account.handle} on {cls.name} has no base_url",
                field="base_url",
                hint="give the server address, e.g. base_url='https://mastodon.example'",
            )

    @classmethod
    def local_server(cls) -> AbstractContextManager[LocalServer] | None:
        """A context manager that starts a local server of this platform, or None if none exists."""
        return None

    @classmethod
    def new_idempotency_key(cls) -> str:
        """A fresh key for one delivery (a platform may need a format, e.g. Bluesky's TID)."""
        return uuid.uuid4().hex

    # -- HTTP answers --------------------------------------------------------------------

    @classmethod
    def rate_state(cls, response: httpx.Response) -> RateState | None:
        """Read this platform's rate-limit headers (default: none understood)."""
        return None

    @classmethod
    def rate_bucket(cls, method: str, url: str) -> str:
        """Which of the account's rate budgets a request spends (default: one per account).

        A platform that limits each endpoint separately (X: a 15-minute window per
        endpoint) returns a name per endpoint, so a spent window on one endpoint never holds
        back requests to another.
        """
        return ""

    @classmethod
    def retry_after(cls, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying a throttled request, when the answer says."""
        value = response.headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())

    @classmethod
    def error_message(cls, response: httpx.Response) -> str:
        """The platform's own error text from an error answer."""
        try:
            body = read_json(response)
        except ValueError:
            return response.text[:500].strip() or response.reason_phrase
        if isinstance(body, dict):
            for key in ("error_description", "error", "message", "detail"):
                value = body.get(key)
                if isinstance(value, str) and value:
                    return value
        return response.text[:500]

    @classmethod
    def is_throttled(cls, response: httpx.Response) -> bool:
        """Whether an error answer means "slow down" (default: HTTP 429).

        Meta answers throttling with HTTP 400 and an error code (4, 17, 32, 613, 80001);
        its adapters override this. A throttled answer is retried after ``retry_after``
        and becomes :class:`~govsocial.core.errors.RateLimited` when retries run out.
        """
        return response.status_code == 429

    @classmethod
    def is_transient(cls, response: httpx.Response) -> bool:
        """Whether an error answer says "this failed for now, try again" (default: never).

        HTTP 429, 502, 503 and 504 are retried anyway; this is for platforms that say
        "try again" in the body of another status (Instagram answers 400 with code -1,
        subcode 2207001, "Instagram server error. Try again"). The session retries such an
        answer with backoff, except on a create call the platform cannot deduplicate, and
        the error it ends in carries ``transient=True`` so a worker tries the delivery again
        later. Added in govsocial 0.2 (no contract change: it has a default).
        """
        return False

    @classmethod
    def is_auth_failure(cls, response: httpx.Response) -> bool:
        """Whether an error answer means the credentials are bad (default: HTTP 401)."""
        return response.status_code == 401

    def snippet(self, response: httpx.Response) -> str:
        """The start of an answer's body, secrets scrubbed: for messages about odd answers.

        The whole body is scrubbed before it is cut to 200 characters, so a secret that
        straddles the cut is not left half in the message."""
        return scrub(response.text, self.iter_credentials())[:200]

    def unreadable(self, response: httpx.Response, what: str) -> PlatformError:
        """The error for a successful answer whose body is not what the platform documents
        (a proxy's HTML page, a truncated body): ``what`` names the call, e.g. "the post"."""
        return PlatformError(
            f"{self.title} answered {what} for {self.account.handle} with a body that is not "
            f"the JSON expected: {self.snippet(response)!r}",
            platform=self.name,
            status=response.status_code,
            body=self.snippet(response),
            hint=f"{self.title} or a proxy in front of it may be failing; try again later",
        )

    def error_for(self, response: httpx.Response) -> GovSocialError:
        """Translate an error answer into the exception tree."""
        message = self.error_message(response)
        status = response.status_code
        if self.is_auth_failure(response):
            return AuthenticationError(
                f"{self.title} rejected the credentials of {self.account.handle}: {message}",
                platform=self.name,
                hint="the token may be expired or revoked: issue a new one and update the account",
            )
        if status == 429 or self.is_throttled(response):
            return RateLimited(
                f"{self.title} rate limit reached for {self.account.handle}: {message}",
                retry_after=self.retry_after(response),
                platform=self.name,
                body=message,
            )
        return PlatformError(
            f"{self.title} answered {status}: {message}",
            platform=self.name,
            status=status,
            body=message,
        )

    # -- online --------------------------------------------------------------------------

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request to ``base_url + path`` (or a full ``http(s)://`` URL) through the
        shared session.

        Keyword arguments go to :meth:`govsocial.adapters.http.Http.request` (``create=``,
        ``idempotency_key=``, ``idempotent=``) and on to httpx (``json=``, ``headers=``...).
        A path holding ``://`` further on (an id such as ``at://...`` put into it) is still
        a path under ``base_url``.
        """
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        log = self._call_log
        if log is None:
            return await self.http.request(self, method, url, **kwargs)
        shown = scrub(httpx.URL(url).copy_with(query=None).path, self.iter_credentials())
        log.calls.append(f"{method.upper()} {shown}")
        response = await self.http.request(self, method, url, **kwargs)
        state = self.rate_state(response)
        if state is not None and (state.limit is not None or state.remaining is not None):
            log.rate[shown] = _rate_words(state.remaining, state.limit, state.reset_at)
        return response

    async def get_limits(self) -> Limits:
        """The limits that apply to this account (default: the declared ``limits``)."""
        return self.limits

    @abstractmethod
    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """Create ``post`` (already validated) and return where it lives.

        ``idempotency_key`` is unique per (post, account) delivery; use it so that a repeat
        cannot duplicate the post (Mastodon Idempotency-Key, Bluesky record key).
        """

    @abstractmethod
    async def delete(self, ref: PostRef) -> None:
        """Delete a post this account made."""

    @abstractmethod
    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """Figures for ``refs`` (all of this account), one per ref, in the same order."""

    @abstractmethod
    async def fetch_account_metrics(self) -> AccountMetrics:
        """This account's figures."""

    @abstractmethod
    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """Replies to ``ref`` (the whole thread below it), oldest first."""

    @abstractmethod
    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """Posts that mention this account, oldest first, newer than ``since`` when given."""

    async def search(
        self, query: str, *, cursor: str | None = None, since: datetime | None = None
    ) -> SearchPage:
        """Public posts matching ``query`` that are newer than the last search, oldest first.

        ``query`` is a keyword or words (every one must appear), a ``#hashtag`` or a
        ``"quoted phrase"`` (:func:`govsocial.core.listening.parse_query` reads it).
        ``cursor`` is what the previous search returned as :attr:`SearchPage.cursor` (None:
        the first search); ``since`` bounds a first search (posts older are not wanted).
        Read at most a few pages: the workspace calls it on every sync, and a page the
        budget left is read by the next call from the cursor. Added in govsocial 0.2 (no
        contract change: it has a default).

        :raises NotSupported: the platform has no search (the default); the message says
            why, and the watch sync skips this account quietly.
        """
        raise NotSupported(
            f"{self.title} offers no search of public posts through its API",
            platform=self.name,
            action="search",
            hint="watch the topic on a platform that allows search (docs/listening.md)",
        )

    async def fetch_activity(
        self,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
        posts: Sequence[PostRef] = (),
    ) -> Activity:
        """The replies and mentions that arrived after ``cursor``, read in as few requests
        as the platform allows (its notifications, or one batch for ``posts``): what an
        inbox sync costs, whatever the number of posts.

        :param cursor: what the previous call returned as ``Activity.cursor`` (None: the
            first call for this account).
        :param since: without a cursor, how far back to read (the platform's clock).
        :param posts: the account's recent posts, for a platform whose replies can only be
            read for given posts (in one batch where it can); others ignore it.

        The default raises :class:`NotSupported`: the inbox then reads mentions with
        :meth:`fetch_mentions` and replies post by post with :meth:`fetch_replies`. An
        adapter implements it where the platform's notifications carry replies to the
        account's posts as well as mentions (Mastodon, Bluesky, X) or can read many posts'
        replies in one request (Facebook). Pages read per call are bounded; a cursor must
        never skip what was not read (resume where the cap stopped). Added in govsocial
        0.2 (no contract change: it has a default).
        """
        raise NotSupported(
            f"{self.title} has no notifications or batch read of replies and mentions",
            platform=self.name,
            action="fetch_activity",
        )

    @contextmanager
    def recording_calls(self) -> Iterator[CallLog]:
        """Record the requests made inside the ``with`` block, and the rate figures their
        answers carried (for :meth:`check`, which says what it asked)."""
        log = CallLog()
        previous, self._call_log = self._call_log, log
        try:
            yield log
        finally:
            self._call_log = previous

    async def check(self) -> AccountCheck:
        """What this account can do, from the platform's cheapest reads (``govsocial check``).

        The default reads the account's figures (:meth:`fetch_account_metrics`): that proves
        the credentials work, and says nothing about posting, so post, reply and delete are
        "cannot tell" unless :attr:`limits` says the platform cannot do them at all. An
        adapter whose platform reports a token's permissions, scopes or rights overrides it
        (Instagram ``GET /me/permissions``, Telegram ``getChatMember``) and builds the
        answer with :meth:`checked` and :meth:`refused_check`. Added in govsocial 0.2 (no
        contract change: it has a default). Never raises for a refused token: the answer
        says so.
        """
        with self.recording_calls() as log:
            try:
                await self.fetch_account_metrics()
            except AuthenticationError as error:
                return self.refused_check(error, log)
        unknown = (
            f"the credentials work, and {self.title}'s answer does not say whether they may "
            "do this (this adapter has no cheaper check): the first attempt will tell"
        )
        return self.checked(
            log,
            post=(None, unknown, None),
            reply=(None, unknown, None),
            delete=(None, unknown, None),
            metrics=(None, unknown, None),
            account_metrics=(True, "the account's figures were read", None),
        )

    def checked(
        self,
        log: CallLog,
        *,
        identity: str | None = None,
        scopes: list[str] | None = None,
        expires_at: datetime | None = None,
        notes: Sequence[str] = (),
        **found: tuple[bool | None, str, str | None],
    ) -> AccountCheck:
        """An :class:`AccountCheck` for credentials that work: ``found`` maps each action
        (post, reply, delete, metrics, account_metrics) to ``(ok, detail, fix)``. An action
        :attr:`limits` rules out (no replies, no delete, no post figures) is reported as
        impossible whatever ``found`` says."""
        limits = self.limits
        impossible = {
            "reply": None if limits.threads else f"{self.title} has no replies",
            "delete": None if limits.delete else f"{self.title}'s API cannot delete posts",
            "metrics": None
            if limits.post_metrics
            else f"{self.title} reports no figures for posts",
        }
        capabilities = []
        for name, (ok, detail, fix) in found.items():
            cannot = impossible.get(name)
            if cannot is not None:
                ok, detail, fix = False, cannot, None
            capabilities.append(Capability(name=name, ok=ok, detail=detail, fix=fix))
        return AccountCheck(
            account=self.account,
            checked_at=datetime.now(UTC),
            token_ok=True,
            identity=identity,
            scopes=scopes,
            expires_at=expires_at,
            rate=dict(log.rate),
            capabilities=capabilities,
            calls=list(log.calls),
            notes=list(notes),
        )

    def refused_check(self, error: GovSocialError, log: CallLog) -> AccountCheck:
        """An :class:`AccountCheck` for credentials the platform refused: nothing can be
        done, and the fix is the error's hint."""
        fix = error.hint or "issue new credentials and update the account"
        capabilities = [
            Capability(name=name, ok=False, detail="the credentials were refused", fix=fix)
            for name in ("post", "reply", "delete", "metrics", "account_metrics")
        ]
        return AccountCheck(
            account=self.account,
            checked_at=datetime.now(UTC),
            token_ok=False,
            rate=dict(log.rate),
            capabilities=capabilities,
            calls=list(log.calls),
            error=error.message,
        )

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """Look up a post made with ``idempotency_key``, for reconciliation (None: not found).

        Raise NotImplementedError where the platform cannot be asked.
        """
        raise NotImplementedError

    async def resume_processing(self, idempotency_key: str) -> PostRef:
        """Look again at a post this adapter's :meth:`publish` left with
        :class:`~govsocial.core.errors.PublishPending` (the platform accepted it and was
        still processing it): its ref once it is done; ``PublishPending`` again while it is
        not; the platform's error when it refused the post after all.

        It only looks, from what the delivery's checkpoint holds: it never creates, uploads
        or initialises anything, so a worker may call it any number of times, from any
        process. The default asks :meth:`find_published` (None: still processing, look
        again in 60 s); an adapter that raises ``PublishPending`` overrides it with one
        cheap status read. Added in govsocial 0.2 (no contract change: it has a default).
        """
        found = await self.find_published(idempotency_key)
        if found is not None:
            return found
        raise PublishPending(
            f"{self.title} is still processing the post of {self.account.handle}",
            retry_after=60.0,
            platform=self.name,
        )

    # -- credentials, checkpoints and media -------------------------------------------------

    def credential(self, name: str) -> str:
        """The current value of credential ``name``: a refreshed one when there is one."""
        value = self._refreshed.get(name)
        return value if value is not None else self.account.credential(name)

    def update_credentials(self, **values: str) -> None:
        """Record credentials the adapter refreshed (a new access token, a rotated refresh token).

        Later :meth:`credential` calls return them, they are scrubbed from messages like the
        originals, and the client's listener is told so a workspace can store them.
        """
        self._refreshed.update(values)
        if self.on_credentials is not None:
            self.on_credentials(self.account, dict(values))

    async def refresh_credentials(self) -> bool:
        """Renew the account's tokens before they expire, where the platform allows it.

        Returns True when new credentials were obtained (and handed to
        :meth:`update_credentials`, so a workspace stores them), False when there is nothing
        to renew (the default: the platform's tokens do not expire, or the account has no
        refresh credentials). Run it from a daily job: ``govsocial accounts refresh``.

        :raises AuthenticationError: the platform refused; the hint says how to re-authorize.
        """
        return False

    def checkpoint(self, idempotency_key: str) -> dict[str, str]:
        """What :meth:`save_checkpoint` saved for this delivery (empty on a first attempt)."""
        return self.checkpoints.load(self.account.key, idempotency_key)

    def save_checkpoint(self, idempotency_key: str, **values: str) -> None:
        """Remember a finished step of this delivery (merged into what is saved), durably.

        Save a step's result (Instagram's container id) the moment it is known, before the
        next request, so a retry after a crash resumes instead of repeating the step.
        """
        merged = self.checkpoint(idempotency_key)
        merged.update(values)
        self.checkpoints.save(self.account.key, idempotency_key, merged)

    async def public_url(self, media: Media, *, field: str = "media") -> str:
        """A URL the platform can download ``media`` from (for platforms that fetch media).

        ``Media(url=...)`` is used as given; a local file or bytes go through the client's
        media host. Without a host, a ConfigurationError says how to provide one.
        """
        if media.url is not None:
            return media.url
        if self.media_host is None:
            raise ConfigurationError(
                f"{self.title} fetches media from a public URL, and {field} is a local "
                "file with no media host configured",
                field=field,
                hint="give Media(url='https://...') or a media host: "
                "Client(media_host=DirectoryHost('/var/www/media', 'https://example.go.id/media'))"
                " (see docs/media-hosts.md)",
            )
        filename = media.path.name if media.path is not None else None
        data = await self.read_media(media, field=field)
        return await self.media_host.upload(data, mime_type=media.mime_type, filename=filename)

    async def read_media(self, media: Media, *, field: str | None = None) -> bytes:
        """The bytes of ``media``: read from its path or data, or downloaded from its URL.

        Every read is checked here, in the process that publishes (docs/security.md): a
        path must lie under a media root (``GOVSOCIAL_MEDIA_ROOTS``, default the working
        directory), a URL must reach a public address (``GOVSOCIAL_MEDIA_ALLOW_NETS`` allows
        more), no more than the platform's size limit is read or decoded, and the bytes
        must be an image or video of the declared type.

        :param field: the media's field for errors (default: ``media[i]`` of the post being
            published, else ``media``).
        :raises ValidationError: a check refused the media; the problem names the field
            (``media[0].url``), what was found and how to fix it.
        :raises ConfigurationError: the file cannot be read.
        :raises PlatformError: the URL's server cannot be reached or answered an error.
        """
        from govsocial.adapters import media_safety

        field = field or media_safety.media_field(media)
        policy = self.context.media_policy or media_safety.MediaPolicy.from_environment()
        limits = await self.get_limits()
        cap = media_cap(
            media,
            image=limits.max_image_bytes,
            video=limits.max_video_bytes,
            gif=limits.max_gif_bytes,
        )
        if media.url is not None:
            data = await self._download(media.url, policy=policy, cap=cap, field=field)
        elif media.path is not None:
            path = policy.check_path(media.path, field=f"{field}.path")
            try:
                data = await asyncio.to_thread(media_safety.read_file, path, cap, field=field)
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot read media file {media.path}: {exc.strerror or exc}",
                    field=f"{field}.path",
                    hint="check the path and its permissions",
                ) from None
        else:
            data = media.read_bytes()
        problem = media_safety.mismatch_problem(data[:32], media, field=field)
        if problem is not None:
            raise ValidationError(
                [problem],
                platform=self.name,
                hint="attach an image or video, and declare its real type or none",
            )
        return data

    async def upload(
        self,
        media: Media,
        protocol: UploadProtocol,
        *,
        idempotency_key: str,
        name: str | None = None,
        chunk_size: int | None = None,
        progress: Callable[[UploadProgress], None] | None = None,
    ) -> dict[str, str]:
        """Send ``media`` in chunks with ``protocol``, resumable (:mod:`govsocial.adapters.upload`).

        The file is checked as :meth:`read_media` checks it (media roots, size limit, bytes
        of the declared type) but read one chunk at a time; the session and each
        acknowledged offset are saved in the delivery's checkpoint under ``name`` (default:
        the media's field, ``media[0]``), so a repeat after a crash resumes where the
        platform says it stopped, and a finished upload is never sent again.

        :returns: what ``protocol.finish`` returned (the platform's media id).
        """
        from govsocial.adapters import media_safety
        from govsocial.adapters.upload import ChunkSource, run_upload

        field = media_safety.media_field(media)
        policy = self.context.media_policy or media_safety.MediaPolicy.from_environment()
        limits = await self.get_limits()
        cap = media_cap(
            media,
            image=limits.max_image_bytes,
            video=limits.max_video_bytes,
            gif=limits.max_gif_bytes,
        )
        if media.path is not None:
            path = policy.check_path(media.path, field=f"{field}.path")
            source = await asyncio.to_thread(ChunkSource.from_path, path, cap=cap, field=field)
            head = await source.read(0, 32)
        else:  # bytes in memory, or a URL downloaded (bounded) by read_media
            data = media.data if media.data is not None else await self.read_media(media)
            if len(data) > cap:
                raise ValidationError(
                    [
                        Problem(
                            code="media_too_large",
                            message=f"{media.source} is {len(data):,} bytes; {self.title} "
                            f"takes up to {cap:,}",
                            field=f"{field}.data",
                            limit=cap,
                        )
                    ],
                    platform=self.name,
                )
            source = ChunkSource.from_bytes(data)
            head = data[:32]
        problem = media_safety.mismatch_problem(head, media, field=field)
        if problem is not None:
            raise ValidationError(
                [problem],
                platform=self.name,
                hint="attach an image or video, and declare its real type or none",
            )
        return await run_upload(
            self,
            protocol,
            source,
            idempotency_key=idempotency_key,
            name=name or field,
            chunk_size=chunk_size,
            progress=progress or self.context.on_progress,
        )

    async def read_captions(self, media: Media, *, cap: int, field: str | None = None) -> bytes:
        """The bytes of ``media``'s captions file, checked as media files are: under a media
        root, a regular file of at most ``cap`` bytes, SubRip or WebVTT in UTF-8.

        :raises ValidationError: a check refused it; the problem names ``<field>.captions``.
        :raises ConfigurationError: there are no captions, or the file cannot be read.
        """
        from govsocial.adapters import media_safety

        field = f"{field or media_safety.media_field(media)}.captions"
        if media.captions is None:
            raise ConfigurationError("this media has no captions", field=field)
        policy = self.context.media_policy or media_safety.MediaPolicy.from_environment()
        path = policy.check_path(media.captions, field=field)
        try:
            data = await asyncio.to_thread(media_safety.read_file, path, cap, field=field)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read captions file {media.captions}: {exc.strerror or exc}",
                field=field,
                hint="check the path and its permissions",
            ) from None
        problem = media_safety.captions_problem(media.captions, data, field=field)
        if problem is not None:
            raise ValidationError([problem], platform=self.name)
        return data

    async def _download(self, url: str, *, policy: MediaPolicy, cap: int, field: str) -> bytes:
        from govsocial.adapters import media_safety

        try:
            status, _, body = await media_safety.fetch(
                url, policy=policy, cap=cap, field=field, headers=_user_agent(self.http)
            )
        except (TimeoutError, OSError) as exc:
            raise PlatformError(
                f"could not download media {url}: {type(exc).__name__}: {exc}",
                platform=self.name,
                hint="check the URL and that its server is up",
            ) from None
        except ValidationError:
            raise
        except Exception as exc:  # aiohttp's own errors: import-light, so caught broadly
            if type(exc).__module__.split(".")[0] != "aiohttp":
                raise
            raise PlatformError(
                f"could not download media {url}: {type(exc).__name__}: {exc}",
                platform=self.name,
                hint="check the URL and that its server is up",
            ) from None
        if not 200 <= status < 300:
            raise PlatformError(
                f"media {url} answered {status}"
                + (" (a redirect; redirects are not followed)" if 300 <= status < 400 else ""),
                platform=self.name,
                status=status,
                hint="give the media's final, direct URL",
            )
        return body

    async def aclose(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release what the adapter holds (sessions); the HTTP pool belongs to the client."""

    @classmethod
    def secret_names(cls) -> tuple[str, ...]:
        """The credential names whose values are secret."""
        return cls.credential_fields if cls.secret_fields is None else cls.secret_fields

    def iter_credentials(self) -> Iterator[str]:
        """Every secret value this adapter may put on the wire, so logs can be scrubbed.

        Adapters holding more secrets (session tokens) extend it.
        """
        for field in self.secret_names():
            try:
                yield self.account.credential(field)
            except GovSocialError:
                continue
        public = set(self.credential_fields) - set(self.secret_names())
        for field, value in self._refreshed.items():
            if field not in public:  # refreshed tokens are secret even if undeclared
                yield value


def _user_agent(http: Http) -> list[tuple[str, str]]:
    agent = http.client.headers.get("user-agent")
    return [("User-Agent", agent)] if agent else []


def _rate_words(remaining: int | None, limit: int | None, reset_at: float | None) -> str:
    """``299 of 300 left, resets 2026-12-06 08:15 UTC`` (parts left out when unknown)."""
    if remaining is not None and limit is not None:
        words = f"{remaining} of {limit} left"
    elif remaining is not None:
        words = f"{remaining} left"
    else:
        words = f"limit {limit}"
    if reset_at is not None:
        when = datetime.fromtimestamp(reset_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        words += f", resets {when}"
    return words
