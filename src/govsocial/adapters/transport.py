"""The default HTTP transport: httpx's API on an aiohttp connection pool.

Why: publishing one post to 50 accounts at once is govsocial's hot path, and httpx's own
pool slows down as concurrency grows (encode/httpx#3215; httpcore also retries a failing
``import sniffio`` on every pool lock, encode/httpcore#1103). On this project's benchmark
(docs/performance.md) httpx on this transport is about 8x faster than on its own pool,
within a few percent of raw aiohttp, while adapters keep the httpx API and tests keep
injecting ``httpx.MockTransport``.

Choices, each deliberate:

- aiohttp is imported and the session made on first use, inside the running loop, so
  ``import govsocial`` stays light; the session is bound to that loop and closed by
  ``aclose()`` (``httpx.AsyncClient.aclose`` calls it).
- httpx timeouts map onto aiohttp's: connect -> sock_connect, read -> sock_read,
  pool -> connect (aiohttp bounds pool wait plus connect together); httpx's write timeout
  has no aiohttp counterpart.
- aiohttp errors become the httpx errors httpx's own transport raises, so the retry rules
  in :mod:`govsocial.adapters.http` hold: a dropped or reset connection is never reported as
  "not sent" (that would let a create call be retried and posted twice).
- No cookie jar: one pool serves many accounts, and no cookie may cross between them.
- Proxies are read once from the environment (``HTTP(S)_PROXY``, ``NO_PROXY``); never
  ``trust_env=True``, which reads ~/.netrc on every request.
- Bodies are read whole, but never more than :data:`MAX_ANSWER_BYTES` (or the request's
  ``govsocial.max_bytes`` extension), counted after decompression, which runs in bounded
  steps: an endless answer or a gzip bomb raises :class:`AnswerTooLarge` instead of filling
  memory (security review finding 13).

Set ``GOVSOCIAL_HTTP_TRANSPORT=httpx`` to use httpx's own pool instead (for example with
respx's default mocking, which patches httpcore).
"""

from __future__ import annotations

import asyncio
import io
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import yarl

if TYPE_CHECKING:
    import aiohttp

__all__ = ["MAX_ANSWER_BYTES", "AiohttpTransport", "AnswerTooLarge"]

#: The most bytes of one answer read (after decompression) when the request sets no cap.
MAX_ANSWER_BYTES = 32 * 1024 * 1024

#: Bodies larger than this go to aiohttp as a file object, not bytes.
_LARGE_BODY = 2**20


class AnswerTooLarge(httpx.TransportError):
    """An answer's body, decoded, is larger than the cap: reading stopped there."""

    def __init__(self, message: str, *, request: httpx.Request, cap: int) -> None:
        super().__init__(message, request=request)
        self.cap = cap


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport on one aiohttp connection pool.

    :param limit: the most connections open at once, over all hosts.
    :param keepalive_expiry: seconds an idle connection is kept for reuse.
    :param resolver: an aiohttp resolver to connect through instead of the system's, with
        no DNS cache (a feed's fetch connects only to the public addresses it allows).
    """

    def __init__(
        self, *, limit: int = 100, keepalive_expiry: float = 30.0, resolver: Any = None
    ) -> None:
        self._limit = limit
        self._keepalive = keepalive_expiry
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[str, str] = {}
        self._proxy_for_host: dict[tuple[str, str], str | None] = {}
        self._errors: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = ()
        self._timeouts: dict[tuple[Any, Any, Any], aiohttp.ClientTimeout] = {}

    def __repr__(self) -> str:
        state = "open" if self._session is not None else "idle"
        return f"<AiohttpTransport limit={self._limit} {state}>"

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        self._errors = _error_map()
        if self._resolver is not None:
            connector = aiohttp.TCPConnector(
                limit=self._limit, resolver=self._resolver, use_dns_cache=False, force_close=True
            )
        else:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                limit_per_host=0,
                keepalive_timeout=self._keepalive,
                ttl_dns_cache=300,
            )
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
        )
        # aiohttp silently sends a PUT, DELETE or GET again once when a kept-alive connection
        # drops mid-request (ClientSession._retry_connection, no public switch as of 3.14).
        # Whether a repeat is harmless is Http's decision (a create, a chunk the server
        # already holds in part): it must see the failure, so the silent repeat is turned off.
        if hasattr(self._session, "_retry_connection"):
            self._session._retry_connection = False
        self._loop = asyncio.get_running_loop()
        self._proxies = urllib.request.getproxies()
        return self._session

    def _proxy(self, url: httpx.URL) -> str | None:
        if not self._proxies:
            return None
        key = (url.scheme, url.host)
        if key not in self._proxy_for_host:
            bypass = urllib.request.proxy_bypass(url.host)
            self._proxy_for_host[key] = None if bypass else self._proxies.get(url.scheme)
        return self._proxy_for_host[key]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the fully read response."""

        session = self._session or self._open()
        if self._loop is not asyncio.get_running_loop():
            raise RuntimeError(
                "this govsocial client was first used in another event loop; "
                "make one client per event loop"
            )
        timeout: dict[str, Any] = request.extensions.get("timeout", {})
        body = await request.aread()
        with self._mapped_errors(request):
            async with session.request(
                request.method,
                # as httpx encoded it: aiohttp would otherwise decode %3A, %28, %2C in the
                # path, and LinkedIn's URNs (urn%3Ali%3Ashare%3A1) must stay encoded
                yarl.URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                # aiohttp warns about (and copies) a bytes body over 1 MiB; a BytesIO is
                # streamed from the same buffer: a video chunk or a large image
                data=(io.BytesIO(body) if len(body) > _LARGE_BODY else body) or None,
                allow_redirects=False,
                compress=None,
                proxy=self._proxy(request.url),
                timeout=self._timeout(timeout),
            ) as answer:
                cap = int(request.extensions.get("govsocial.max_bytes") or MAX_ANSWER_BYTES)
                content = await _read_capped(answer, cap, request)
                reason = answer.reason or ""
                status = answer.status
                headers = answer.raw_headers
                encoding = answer.headers.get("Content-Encoding", "").strip().lower()
                if encoding in ("gzip", "x-gzip", "deflate"):
                    content = _inflate(content, cap, request)
                    headers = tuple((k, v) for k, v in headers if k.lower() != b"content-encoding")
        return httpx.Response(
            status,
            headers=headers,
            content=content,
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason.encode()},
        )

    def _timeout(self, timeout: dict[str, Any]) -> aiohttp.ClientTimeout:
        key = (timeout.get("pool"), timeout.get("connect"), timeout.get("read"))
        found = self._timeouts.get(key)
        if found is None:
            import aiohttp

            found = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, connect=key[0], sock_connect=key[1], sock_read=key[2]
            )
        return found

    @contextmanager
    def _mapped_errors(self, request: httpx.Request) -> Iterator[None]:
        try:
            yield
        except httpx.HTTPError:
            raise
        except Exception as exc:
            for source, target in self._errors:
                if isinstance(exc, source):
                    raise target(f"{type(exc).__name__}: {exc}", request=request) from exc
            raise

    async def aclose(self) -> None:
        """Close the aiohttp session and its connections."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


async def _read_capped(answer: aiohttp.ClientResponse, cap: int, request: httpx.Request) -> bytes:
    """The raw body, refusing one longer than ``cap`` without reading past it."""
    length = answer.content_length
    if length is not None and length <= cap:
        return await answer.read()
    if length is not None:
        raise _too_large(request, cap, f"says {length:,} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in answer.content.iter_chunked(64 * 1024):
        total += len(chunk)
        if total > cap:
            raise _too_large(request, cap, "went on")
        chunks.append(chunk)
    return b"".join(chunks)


def _inflate(raw: bytes, cap: int, request: httpx.Request) -> bytes:
    """``raw`` gzip or zlib data decoded in steps, refusing more than ``cap`` bytes out."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
    out: list[bytes] = []
    total = 0
    data = raw
    try:
        while data:
            piece = inflater.decompress(data, cap - total + 1)
            total += len(piece)
            if total > cap:
                raise _too_large(request, cap, "decompresses to more")
            out.append(piece)
            data = inflater.unconsumed_tail
        rest = inflater.flush()  # at most a window's worth is held back
        if total + len(rest) > cap:
            raise _too_large(request, cap, "decompresses to more")
        out.append(rest)
    except zlib.error:
        try:  # a raw deflate stream, as some servers send for "deflate"
            return _inflate_raw(raw, cap, request)
        except zlib.error as exc:
            raise httpx.RemoteProtocolError(
                f"cannot decode the answer: {exc}", request=request
            ) from None
    return b"".join(out)


def _inflate_raw(raw: bytes, cap: int, request: httpx.Request) -> bytes:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    piece = inflater.decompress(raw, cap + 1)
    if len(piece) > cap or inflater.unconsumed_tail:
        raise _too_large(request, cap, "decompresses to more")
    return piece


def _too_large(request: httpx.Request, cap: int, how: str) -> AnswerTooLarge:
    return AnswerTooLarge(
        f"the answer from {request.url.host} {how} than the {cap:,} bytes govsocial reads",
        request=request,
        cap=cap,
    )


def _error_map() -> tuple[tuple[type[BaseException], type[httpx.TransportError]], ...]:
    """aiohttp errors and the httpx errors they mean, most specific first."""
    import aiohttp

    return (
        (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),  # never connected
        (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
        (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
        (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
        (aiohttp.ClientConnectorError, httpx.ConnectError),  # DNS, refused, TLS handshake
        (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
        (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # malformed answer
        (aiohttp.ClientOSError, httpx.ReadError),  # reset after connecting
        (aiohttp.ClientConnectionError, httpx.NetworkError),
        (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
        (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
        (asyncio.TimeoutError, httpx.PoolTimeout),  # aiohttp's connect bound covers the pool wait
        (aiohttp.ClientError, httpx.TransportError),  # anything else aiohttp raises
    )
