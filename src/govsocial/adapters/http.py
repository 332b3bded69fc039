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
- **Rate budget**: the adapter reads its platform's rate-limit headers into a
  :class:`RateState`; when an account has no requests left before the reset, the next
  request waits for the reset (up to ``max_wait``) instead of collecting a 429.
- **Error translation**: an error answer becomes the adapter's ``error_for(response)``
  (AuthenticationError, RateLimited, PlatformError keeping the platform's message);
  transport failures become PlatformError; secrets are scrubbed from every message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookiejar import Cookie, CookieJar
from typing import TYPE_CHECKING, Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from govsocial.core._secrets import scrub
from govsocial.core.errors import GovSocialError, PlatformError, PublishOutcomeUnknown, RateLimited

if TYPE_CHECKING:
    from govsocial.adapters.platform import Platform

__all__ = [
    "DEFAULT_TIMEOUT",
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


class RateBudget:
    """Rate states per account key; tells how long to wait before the next request."""

    def __init__(self) -> None:
        self._states: dict[str, RateState] = {}

    def update(self, key: str, state: RateState) -> None:
        self._states[key] = state

    def get(self, key: str) -> RateState | None:
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


def new_http_client(
    *, timeout: httpx.Timeout = DEFAULT_TIMEOUT, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The pooled client govsocial uses when the caller gives none.

    Its transport is :class:`govsocial.adapters.transport.AiohttpTransport` (see docs/performance.md
    for why), or httpx's own pool when ``GOVSOCIAL_HTTP_TRANSPORT=httpx``. No cookies are
    kept: one pool serves many accounts.
    """
    if transport is None and os.environ.get("GOVSOCIAL_HTTP_TRANSPORT", "aiohttp") != "httpx":
        from govsocial.adapters.transport import AiohttpTransport

        transport = AiohttpTransport(limit=100)
    headers = {"User-Agent": _user_agent()}
    return httpx.AsyncClient(
        timeout=timeout, transport=transport, headers=headers, cookies=_NoCookies()
    )


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
    :param max_wait: the longest single wait for a rate limit or backoff, in seconds; a
        platform asking for longer gets a RateLimited error instead of a stalled call.
    :param max_attempts: attempts per request, the first included.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_wait: float = 60.0,
        max_attempts: int = 4,
        budget: RateBudget | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.max_wait = max_wait
        self.max_attempts = max_attempts
        self.budget = budget or RateBudget()
        self._sleep = sleep
        self._defaults: tuple[dict[str, str], dict[str, float | None]] | None = None
        self._urls: dict[str, httpx.URL] = {}

    async def request(
        self,
        platform: Platform,
        method: str,
        url: str,
        *,
        create: bool = False,
        idempotency_key: str | None = None,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request for ``platform``'s account; return the 2xx answer or raise.

        :param create: this call creates a post: never retried once it may have been received.
        :param idempotency_key: carried into PublishOutcomeUnknown for reconciliation.
        :param idempotent: override the method-based guess of whether a repeat is harmless.
            ``create=True, idempotent=False`` says this create is not covered by the
            platform's idempotency (an Instagram comment), so a gateway failure is an
            unknown outcome even on a platform that deduplicates posts.
        :raises GovSocialError: a subclass for every failure; never a bare httpx error.
        """
        method = method.upper()
        unprotected = create and (not platform.idempotency_window or idempotent is False)
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS and not create
        args = (platform, method, url, create, idempotency_key, idempotent, unprotected, kwargs)
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

    async def _send(self, method: str, url: str, kwargs: dict[str, Any]) -> httpx.Response:
        """One HTTP exchange, on the client's transport, without httpx's client layer.

        govsocial needs none of that layer per request (it follows no redirects, keeps no
        cookies, uses no auth flows), and on the hot path (one post to 50 accounts) its
        cost showed in the benchmark. The transport still comes from the client, so an
        injected transport, mounts, and respx's ``using="httpx"`` mode all apply.
        """
        client = self.client
        transport_for_url = getattr(client, "_transport_for_url", None)
        if (
            transport_for_url is None
            or client.event_hooks["request"]
            or client.event_hooks["response"]
        ):
            return await client.request(method, url, **kwargs)
        options = dict(kwargs)  # the caller's kwargs are reused by a retry: leave them whole
        headers = options.pop("headers", None)
        timeout = options.pop("timeout", None)
        if self._defaults is None:  # computed once: the client's headers and timeouts
            self._defaults = (dict(client.headers), client.timeout.as_dict())
        default_headers, default_timeout = self._defaults
        parsed = self._urls.get(url)
        if parsed is None:  # parsing a URL is a visible cost on the hot path: keep a few
            if len(self._urls) > 512:
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        request = httpx.Request(
            method,
            parsed,
            headers={**default_headers, **headers} if headers else default_headers,
            extensions={
                "timeout": httpx.Timeout(timeout).as_dict() if timeout else default_timeout
            },
            **options,
        )
        transport: httpx.AsyncBaseTransport = transport_for_url(request.url)
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
        platform: Platform,
        method: str,
        url: str,
        create: bool,
        idempotency_key: str | None,
        idempotent: bool,
        unprotected: bool,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        bucket = platform.rate_bucket(method, url)
        key = f"{platform.account.key}|{bucket}" if bucket else platform.account.key
        wait = self.budget.wait_time(key)
        if wait > self.max_wait:
            raise RateLimited(
                f"{platform.title} rate budget of {platform.account.handle} is spent "
                f"until the reset in {wait:.0f} s",
                retry_after=wait,
                platform=platform.name,
                status=None,
            )
        if wait > 0:
            logger.info("waiting %.1f s for %s's rate budget", wait, platform.account.handle)
            await self._sleep(wait)
        try:
            response = await self._send(method, url, kwargs)
        except _NOT_SENT as exc:
            raise _Retryable(self._transport_error(platform, url, exc), None) from None
        except httpx.TransportError as exc:
            if create:
                raise PublishOutcomeUnknown(
                    f"{platform.title} did not answer the create call for "
                    f"{platform.account.handle} ({type(exc).__name__}); the post may exist",
                    platform=platform.name,
                    account=platform.account.handle,
                    idempotency_key=idempotency_key,
                    detail={"method": method, "url": self._public_url(platform, url)},
                ) from None
            failure = self._transport_error(platform, url, exc)
            if idempotent:
                raise _Retryable(failure, None) from None
            raise failure from None
        state = platform.rate_state(response)
        if state is not None:
            self.budget.update(key, state)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s", method, self._public_url(platform, url), response.status_code
            )
        if response.is_success:
            return response
        await response.aread()
        error = self._scrubbed(platform, platform.error_for(response))
        if unprotected and response.status_code in _GATEWAY_LOST:
            # a gateway answered, so the platform itself may have made the post: without a
            # way to make a repeat harmless, this is an unknown outcome, never a retry
            raise PublishOutcomeUnknown(
                f"{platform.title} answered {response.status_code} from a gateway to the "
                f"create call for {platform.account.handle}; the post may exist",
                platform=platform.name,
                account=platform.account.handle,
                idempotency_key=idempotency_key,
                detail={"method": method, "url": self._public_url(platform, url)},
            )
        if response.status_code in _RETRY_STATUSES or platform.is_throttled(response):
            asked = self._asked_wait(platform, response, state)
            if asked is not None and asked > self.max_wait:
                if isinstance(error, RateLimited):
                    error.retry_after = asked
                raise error
            raise _Retryable(error, asked)
        raise error

    @staticmethod
    def _asked_wait(
        platform: Platform, response: httpx.Response, state: RateState | None
    ) -> float | None:
        asked = platform.retry_after(response)
        if (
            asked is None
            and state is not None
            and state.reset_at is not None
            and (
                response.status_code == 429
                or state.remaining == 0
                or platform.is_throttled(response)
            )
        ):
            asked = max(0.0, state.reset_at - time.time())
        return asked

    def _public_url(self, platform: Platform, url: str) -> str:
        return scrub(url, platform.iter_credentials())

    def _transport_error(self, platform: Platform, url: str, exc: Exception) -> PlatformError:
        host = httpx.URL(url).host if "://" in url else url
        return PlatformError(
            f"could not reach {platform.title} at {host}: {type(exc).__name__}",
            platform=platform.name,
            hint="check the server address and the network; the request was retried",
        )

    def _scrubbed(self, platform: Platform, error: GovSocialError) -> GovSocialError:
        secrets = list(platform.iter_credentials())
        if not secrets:
            return error
        error.message = scrub(error.message, secrets)
        if isinstance(error, PlatformError) and error.body:
            error.body = scrub(error.body, secrets)
        error.args = (error._render(),)
        return error
