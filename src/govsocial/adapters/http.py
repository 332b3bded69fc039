"""The HTTP layer adapters talk through: pooled, timed out, retried only when safe.

One :class:`Http` wraps one ``httpx.AsyncClient`` (one connection pool per govsocial client)
and adds what every adapter needs:

- **Safe retries** (tenacity): a 429 or a 502/503/504 answer, and a connection that failed
  before the request left (connect error, connect or pool timeout), are retried with
  backoff (except a 502/504 to a create call on a platform with no idempotency, which may
  have posted: that is PublishOutcomeUnknown), waiting as long as ``Retry-After`` or the
  rate-limit reset header says, capped by ``max_wait``. A request whose bytes may have
  reached the server (read timeout, dropped connection) is retried only when it is
  idempotent. A *create* call in that state is
  never retried: it raises :class:`~govsocial.core.errors.PublishOutcomeUnknown`.
- **Transient answers**: an answer the adapter's ``is_transient`` calls temporary (Meta's
  "server error, try again" codes on Instagram) is retried the same way, except on a create
  call the platform cannot deduplicate.
- **Rate budget**: the adapter reads its platform's rate-limit headers into a
  :class:`RateState`; when an account has no requests left before the reset, the next
  request waits for the reset (up to ``max_wait``) instead of collecting a 429.
- **Error translation**: an error answer becomes the adapter's ``error_for(response)``
  (AuthenticationError, RateLimited, PlatformError keeping the platform's message);
  transport failures become PlatformError; secrets are scrubbed from every message.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import random
import sys
import time
import weakref
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from http.cookiejar import Cookie, CookieJar
from typing import Any, Protocol

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from govsocial.adapters.transport import AnswerTooLarge
from govsocial.core._secrets import scrub
from govsocial.core.errors import (
    ConfigurationError,
    GovSocialError,
    PlatformError,
    PublishOutcomeUnknown,
    RateLimited,
)
from govsocial.core.models import Account

__all__ = [
    "DEFAULT_TIMEOUT",
    "Endpoint",
    "Http",
    "RateBudget",
    "RateState",
    "header_int",
    "new_http_client",
    "scrub",
]

logger = logging.getLogger("govsocial.http")

#: Explicit timeouts: a platform that does not answer in time never hangs a publish.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=30.0)

_RETRY_STATUSES = frozenset({429, 502, 503, 504})
# A gateway that timed out or failed behind the platform's front door: the request may have
# been processed. 503 (and 429) mean it was refused, so those stay safe to repeat.
_GATEWAY_LOST = frozenset({502, 504})
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RateState:
    """An account's rate-limit position as the platform last reported it."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # epoch seconds


class Endpoint(Protocol):
    """What :meth:`Http.request` needs from the adapter it sends for: who, and how to read answers.

    :class:`govsocial.adapters.Platform` has all of it, so every adapter is an Endpoint; the
    HTTP layer depends on this small protocol, not on the adapter base class.
    """

    @property
    def name(self) -> str:
        """The platform's short name, for errors."""
        ...

    @property
    def title(self) -> str:
        """The platform's display name, for messages."""
        ...

    @property
    def account(self) -> Account:
        """The account the request is sent for (its key names the rate budget)."""
        ...

    @property
    def idempotency_window(self) -> float | None:
        """Seconds a repeated create is harmless; falsy when the platform has no idempotency."""
        ...

    def rate_bucket(self, method: str, url: str) -> str:
        """Which of the account's rate budgets the request spends."""
        ...

    def rate_state(self, response: httpx.Response) -> RateState | None:
        """The rate-limit position an answer reports, if any."""
        ...

    def retry_after(self, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying a throttled answer, when it says."""
        ...

    def is_throttled(self, response: httpx.Response) -> bool:
        """Whether an error answer means "slow down"."""
        ...

    def error_for(self, response: httpx.Response) -> GovSocialError:
        """The exception for an error answer."""
        ...

    def iter_credentials(self) -> Iterable[str]:
        """Every secret that may appear on the wire, to scrub from messages."""
        ...


class RateBudget:
    """Rate states per account key; tells how long to wait before the next request."""

    def __init__(self) -> None:
        self._states: dict[str, RateState] = {}

    def update(self, key: str, state: RateState) -> None:
        """Record the rate state the platform last reported for ``key``."""
        self._states[key] = state

    def get(self, key: str) -> RateState | None:
        """The last rate state recorded for ``key``, if any."""
        return self._states.get(key)

    def wait_time(self, key: str, now: float | None = None) -> float:
        """Seconds to wait before spending from ``key``'s budget (0 when there is budget)."""
        state = self._states.get(key)
        if state is None or state.remaining is None or state.reset_at is None:
            return 0.0
        now = time.time() if now is None else now
        if state.remaining > 0 or state.reset_at <= now:
            return 0.0
        return state.reset_at - now


def header_int(value: str | None) -> int | None:
    """A rate-limit header's integer value, or None when it is absent or not a number."""
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


#: The transport each client made by :func:`new_http_client` was given, so that an
#: :class:`Http` on such a client can send straight to it (see ``Http._send``).
_TRANSPORTS: weakref.WeakKeyDictionary[httpx.AsyncClient, httpx.AsyncBaseTransport] = (
    weakref.WeakKeyDictionary()
)


def new_http_client(
    *, timeout: httpx.Timeout = DEFAULT_TIMEOUT, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The pooled client govsocial uses when the caller gives none.

    Its transport is :class:`govsocial.adapters.transport.AiohttpTransport` (see docs/performance.md
    for why), or httpx's own pool when ``GOVSOCIAL_HTTP_TRANSPORT=httpx``. No cookies are
    kept: one pool serves many accounts. An :class:`Http` on this client sends each request
    straight to ``transport`` (the aiohttp one, or the one given), skipping httpx's
    per-request client layer, which such a client does not need.
    """
    if transport is None and os.environ.get("GOVSOCIAL_HTTP_TRANSPORT", "aiohttp") != "httpx":
        from govsocial.adapters.transport import AiohttpTransport

        transport = AiohttpTransport(limit=100)
    headers = {"User-Agent": _user_agent()}
    client = httpx.AsyncClient(
        timeout=timeout, transport=transport, headers=headers, cookies=_NoCookies()
    )
    if transport is not None:  # None: httpx's own pool, with proxy mounts from the environment
        _TRANSPORTS[client] = transport
    return client


#: The secrets of the request govsocial is sending through httpx's client layer, if any.
_SECRETS_IN_FLIGHT: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "govsocial_secrets_in_flight", default=()
)


class _ScrubHttpxLog(logging.Filter):
    """Scrubs the secrets of the request in flight from httpx's own log lines.

    httpx's client layer logs every request's URL at INFO, and some platforms put a token in
    the URL (Telegram's bot token is in the path). It acts only inside :meth:`Http._send`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _SECRETS_IN_FLIGHT.get()
        if secrets:
            record.msg = scrub(record.getMessage(), secrets)
            record.args = None
        return True


_HTTPX_LOG_FILTER = _ScrubHttpxLog()


def _client_layer_mocked() -> bool:
    """Whether respx mocks httpx's client layer (``respx.mock(using="httpx")``).

    That mode intercepts requests inside ``httpx.AsyncClient``, so while it is on, requests
    must go through the client; plugin tests rely on it (docs/testing-plugins.md). respx is
    a test tool: a process that never imported it pays one dictionary lookup.
    """
    mocks = sys.modules.get("respx.mocks")
    if mocks is None:
        return False
    routers = getattr(getattr(mocks, "HTTPXMocker", None), "routers", None)
    return routers is None or bool(routers)  # unknown respx internals: take the safe path


class _NoCookies(CookieJar):
    """A cookie jar that keeps nothing, so no cookie crosses from one account to another."""

    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def _user_agent() -> str:
    from govsocial._version import __version__

    return f"govsocial/{__version__} (+https://pypi.org/project/govsocial/)"


class _Retryable(Exception):
    """Internal: an attempt that may be repeated, with the wait the platform asked for."""

    def __init__(self, final: GovSocialError, wait: float | None) -> None:
        super().__init__(str(final))
        self.final = final
        self.wait = wait


class Http:
    """An adapter's view of the shared connection pool, with retries and rate budgets.

    :param client: the pooled ``httpx.AsyncClient`` (inject one with a MockTransport in tests).
    :param transport: the transport ``client`` was built with, when the caller built both
        and wants requests to go straight to it (as they do on a client made by
        :func:`new_http_client`). Leave it out for a client of your own: requests then go
        through ``client.send``, so its mounts, proxies, auth and event hooks apply.
    :param max_wait: the longest single wait for a rate limit or backoff, in seconds; a
        platform asking for longer gets a RateLimited error instead of a stalled call.
    :param max_attempts: attempts per request, the first included.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_wait: float = 60.0,
        max_attempts: int = 4,
        budget: RateBudget | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self._transport = transport if transport is not None else _TRANSPORTS.get(client)
        self.max_wait = max_wait
        self.max_attempts = max_attempts
        self.budget = budget or RateBudget()
        self._sleep = sleep
        self._defaults: tuple[dict[str, str], dict[str, float | None]] | None = None
        self._urls: dict[str, httpx.URL] = {}

    async def request(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        *,
        create: bool = False,
        idempotency_key: str | None = None,
        idempotent: bool | None = None,
        accept: Collection[int] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request for ``endpoint``'s account; return the 2xx answer or raise.

        :param endpoint: the adapter sending it (any :class:`Endpoint`; every ``Platform`` is one).
        :param create: this call creates a post: never retried once it may have been received.
        :param idempotency_key: carried into PublishOutcomeUnknown for reconciliation.
        :param max_bytes: the most bytes of the answer read, after decompression (default:
            ``govsocial.adapters.transport.MAX_ANSWER_BYTES``; the default transport enforces
            it, a larger answer is a PlatformError).
        :param idempotent: override the method-based guess of whether a repeat is harmless.
            ``create=True, idempotent=False`` says this create is not covered by the
            platform's idempotency (an Instagram comment), so a gateway failure is an
            unknown outcome even on a platform that deduplicates posts.
        :param accept: other statuses returned as answers, not errors (a resumable upload's
            ``308 Resume Incomplete``).
        :raises GovSocialError: a subclass for every failure; never a bare httpx error (a
            request that cannot be built, such as an address too long, is a
            ConfigurationError, and nothing is sent).
        """
        method = method.upper()
        unprotected = create and (not endpoint.idempotency_window or idempotent is False)
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS and not create
        args = (
            endpoint,
            method,
            url,
            create,
            idempotency_key,
            idempotent,
            unprotected,
            frozenset(accept),
            kwargs,
        )
        try:  # the first attempt goes without tenacity: most requests need no retry
            return await self._attempt(*args)
        except _Retryable as first:
            if self.max_attempts <= 1:
                raise first.final from None
            await self._sleep(self._backoff(first.wait, 1))
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts - 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(*args)
        except _Retryable as exhausted:
            raise exhausted.final from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self, endpoint: Endpoint, method: str, url: str, kwargs: dict[str, Any]
    ) -> httpx.Response:
        """One HTTP exchange: straight to govsocial's transport when it can, else through httpx.

        The request is built here either way: the client's default headers and timeouts
        apply, and no cookies are sent (one pool serves many accounts) nor redirects
        followed. On a client made by :func:`new_http_client` (or given with
        ``transport=``) it then goes straight to that transport, without httpx's
        per-request client layer, whose cost showed in the benchmark on the hot path (one
        post to 50 accounts). It goes through ``client.send`` instead when the client is the
        caller's own (its mounts, proxies and auth then apply), has event hooks, or is
        mocked by respx's ``using="httpx"`` mode; the endpoint's secrets are then scrubbed
        from the line httpx logs for it.
        """
        client = self.client
        options = dict(kwargs)  # the caller's kwargs are reused by a retry: leave them whole
        headers = options.pop("headers", None)
        timeout = options.pop("timeout", None)
        max_bytes = options.pop("max_bytes", None)
        if self._defaults is None:  # computed once: the client's headers and timeouts
            self._defaults = (dict(client.headers), client.timeout.as_dict())
        default_headers, default_timeout = self._defaults
        extensions: dict[str, Any] = {
            "timeout": httpx.Timeout(timeout).as_dict() if timeout else default_timeout
        }
        if max_bytes is not None:  # read by AiohttpTransport, the default transport
            extensions["govsocial.max_bytes"] = max_bytes
        try:
            parsed = self._urls.get(url)
            if parsed is None:  # parsing a URL is a visible cost on the hot path: keep a few
                if len(self._urls) > 512:
                    self._urls.clear()
                parsed = self._urls[url] = httpx.URL(url)
            request = httpx.Request(
                method,
                parsed,
                headers={**default_headers, **headers} if headers else default_headers,
                extensions=extensions,
                **options,
            )
        except (httpx.InvalidURL, UnicodeEncodeError) as exc:
            raise self._unsendable(endpoint, exc) from None
        transport = self._transport
        if (
            transport is None
            or client.event_hooks["request"]
            or client.event_hooks["response"]
            or _client_layer_mocked()
        ):
            httpx_log = logging.getLogger("httpx")
            if _HTTPX_LOG_FILTER not in httpx_log.filters:
                httpx_log.addFilter(_HTTPX_LOG_FILTER)
            in_flight = _SECRETS_IN_FLIGHT.set(tuple(endpoint.iter_credentials()))
            try:
                return await client.send(request, follow_redirects=False)
            finally:
                _SECRETS_IN_FLIGHT.reset(in_flight)
        response = await transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        asked = error.wait if isinstance(error, _Retryable) else None
        return self._backoff(asked, state.attempt_number + 1)

    def _backoff(self, asked: float | None, failed_attempts: int) -> float:
        """The wait after ``failed_attempts``: what the platform asked, else jittered backoff."""
        if asked is None:
            base = min(8.0, 0.25 * 2 ** (failed_attempts - 1))
            asked = base * (0.5 + random.random())  # noqa: S311 - jitter, not crypto
        return min(asked, self.max_wait)

    async def _attempt(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        create: bool,
        idempotency_key: str | None,
        idempotent: bool,
        unprotected: bool,
        accept: frozenset[int],
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        bucket = endpoint.rate_bucket(method, url)
        key = f"{endpoint.account.key}|{bucket}" if bucket else endpoint.account.key
        wait = self.budget.wait_time(key)
        if wait > self.max_wait:
            raise RateLimited(
                f"{endpoint.title} rate budget of {endpoint.account.handle} is spent "
                f"until the reset in {wait:.0f} s",
                retry_after=wait,
                platform=endpoint.name,
                status=None,
            )
        if wait > 0:
            logger.info("waiting %.1f s for %s's rate budget", wait, endpoint.account.handle)
            await self._sleep(wait)
        try:
            response = await self._send(endpoint, method, url, kwargs)
        except _NOT_SENT as exc:
            raise _Retryable(self._transport_error(endpoint, url, exc), None) from None
        except AnswerTooLarge as exc:
            if not create:  # a repeat would read the same flood: never retried
                raise PlatformError(
                    f"{endpoint.title} answered {self._public_url(endpoint, url)} with more "
                    f"than {exc.cap:,} bytes (after decompression); reading stopped there",
                    platform=endpoint.name,
                    hint="a proxy or the server is misbehaving; report it if it persists",
                ) from None
            raise PublishOutcomeUnknown(
                f"{endpoint.title} answered the create call for {endpoint.account.handle} "
                f"with more than {exc.cap:,} bytes; the post may exist",
                platform=endpoint.name,
                account=endpoint.account.handle,
                idempotency_key=idempotency_key,
                detail={"method": method, "url": self._public_url(endpoint, url)},
            ) from None
        except httpx.TransportError as exc:
            if create:
                raise PublishOutcomeUnknown(
                    f"{endpoint.title} did not answer the create call for "
                    f"{endpoint.account.handle} ({type(exc).__name__}); the post may exist",
                    platform=endpoint.name,
                    account=endpoint.account.handle,
                    idempotency_key=idempotency_key,
                    detail={"method": method, "url": self._public_url(endpoint, url)},
                ) from None
            failure = self._transport_error(endpoint, url, exc)
            if idempotent:
                raise _Retryable(failure, None) from None
            raise failure from None
        state = endpoint.rate_state(response)
        if state is not None:
            self.budget.update(key, state)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s", method, self._public_url(endpoint, url), response.status_code
            )
        if response.is_success or response.status_code in accept:
            return response
        await response.aread()
        error = self._scrubbed(endpoint, endpoint.error_for(response))
        if unprotected and response.status_code in _GATEWAY_LOST:
            # a gateway answered, so the platform itself may have made the post: without a
            # way to make a repeat harmless, this is an unknown outcome, never a retry
            raise PublishOutcomeUnknown(
                f"{endpoint.title} answered {response.status_code} from a gateway to the "
                f"create call for {endpoint.account.handle}; the post may exist",
                platform=endpoint.name,
                account=endpoint.account.handle,
                idempotency_key=idempotency_key,
                detail={"method": method, "url": self._public_url(endpoint, url)},
            )
        transient = getattr(endpoint, "is_transient", None)  # optional: added in 0.2
        if transient is not None and transient(response):
            if isinstance(error, PlatformError):
                error.transient = True  # so a worker tries the delivery again later
            if not unprotected:
                raise _Retryable(error, endpoint.retry_after(response))
        if response.status_code in _RETRY_STATUSES or endpoint.is_throttled(response):
            asked = self._asked_wait(endpoint, response, state)
            if asked is not None and asked > self.max_wait:
                if isinstance(error, RateLimited):
                    error.retry_after = asked
                raise error
            raise _Retryable(error, asked)
        raise error

    @staticmethod
    def _asked_wait(
        endpoint: Endpoint, response: httpx.Response, state: RateState | None
    ) -> float | None:
        asked = endpoint.retry_after(response)
        if (
            asked is None
            and state is not None
            and state.reset_at is not None
            and (
                response.status_code == 429
                or state.remaining == 0
                or endpoint.is_throttled(response)
            )
        ):
            asked = max(0.0, state.reset_at - time.time())
        return asked

    def _public_url(self, endpoint: Endpoint, url: str) -> str:
        return scrub(url, endpoint.iter_credentials())

    def _unsendable(self, endpoint: Endpoint, exc: Exception) -> ConfigurationError:
        """A request that cannot be built: an address too long or not an address (an id or
        a base_url of the caller's), a header that is not ASCII (a credential)."""
        if isinstance(exc, UnicodeEncodeError):
            reason = "a header value (a credential?) is not ASCII text"
        else:  # httpx's reason ("URL too long"); it does not repeat the address
            reason = scrub(str(exc), endpoint.iter_credentials())
        return ConfigurationError(
            f"cannot send a request to {endpoint.title} for {endpoint.account.handle}: {reason}",
            field="request",
            hint="check the account's base_url and credentials, and the post reference given",
        )

    def _transport_error(self, endpoint: Endpoint, url: str, exc: Exception) -> PlatformError:
        host = httpx.URL(url).host if "://" in url else url
        return PlatformError(
            f"could not reach {endpoint.title} at {host}: {type(exc).__name__}",
            platform=endpoint.name,
            hint="check the server address and the network; the request was retried",
            transient=True,  # the network, not the platform, failed: a later try may pass
        )

    def _scrubbed(self, endpoint: Endpoint, error: GovSocialError) -> GovSocialError:
        secrets = list(endpoint.iter_credentials())
        if not secrets:
            return error
        error.message = scrub(error.message, secrets)
        if isinstance(error, PlatformError) and error.body:
            error.body = scrub(error.body, secrets)
        error.args = (error._render(),)
        return error
