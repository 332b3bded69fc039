"""Reading a feed: the central government's narrative (Komdigi's GPR), a ministry's RSS or Atom.

Three steps, none of which touches the workspace (:mod:`govsocial.accountability.feeds`
turns the items into drafts):

- :func:`fetch_feed` GETs the feed conditionally (``If-None-Match`` with the ETag and
  ``If-Modified-Since`` with the Last-Modified the last answer gave), so an unchanged feed
  costs a ``304`` and no body. It goes through govsocial's HTTP transport with its timeouts
  and a size cap (:data:`MAX_FEED_BYTES`, counted after decompression), follows at most
  :data:`MAX_REDIRECTS` redirects, only ever to ``http://`` or ``https://``, and connects
  only to public addresses: the address policy of media URLs (``GOVSOCIAL_MEDIA_ALLOW_NETS``
  allows a range, docs/media-hosts.md), checked before each request and again by the
  resolver the connection uses, so a name that resolves elsewhere the second time (DNS
  rebinding) is refused too.
- :func:`parse_feed` reads RSS (0.9x, 1.0, 2.0), Atom (0.3, 1.0) and RSS-like XML such as
  the GPR feed with feedparser, from bytes only (never a URL: feedparser would fetch it
  itself). feedparser's XML parser does not resolve external entities and drops entity
  declarations that are not plain character references, so neither a file nor a URL named
  in a DOCTYPE is read, and a "billion laughs" document does not expand. Titles and
  summaries are reduced to plain text (:func:`govsocial.core._html.plain_text`: no markup,
  no script, no control characters) and bounded; a link is kept only when it is ``http(s)``.
- :func:`feed_post` writes the post an item becomes: the title, the summary, and the
  source credited with its name and link, with a shorter variant for every platform whose
  limit the full text exceeds (measured as :func:`govsocial.clarification` measures).
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import ConfigDict

from govsocial.adapters.media_safety import MediaPolicy
from govsocial.adapters.transport import AnswerTooLarge
from govsocial.core._html import plain_text, safe_url
from govsocial.core.errors import ConfigurationError, PlatformError
from govsocial.core.models import Model, Post, PostVariant
from govsocial.core.text import graphemes
from govsocial.listening.clarification import _fits, _shorten
from govsocial.plugin.manager import Plugins, default_plugins

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult

__all__ = [
    "FEED_LABEL",
    "MAX_FEED_BYTES",
    "MAX_ITEMS",
    "MAX_REDIRECTS",
    "FeedAnswer",
    "FeedItem",
    "check_feed_url",
    "feed_post",
    "fetch_feed",
    "parse_feed",
]

#: The most bytes of a feed read, after decompression.
MAX_FEED_BYTES = 5 * 1024 * 1024
#: Redirects followed before giving up.
MAX_REDIRECTS = 3
#: Items read from one answer (the newest first, as feeds list them).
MAX_ITEMS = 100
#: The longest title and summary kept, in characters, before fitting a platform.
MAX_TITLE = 300
MAX_SUMMARY = 2000
#: The label of a post made from a feed item: ``{"feed": name}``.
FEED_LABEL = "feed"
_HEADINGS = {"id": "Sumber", "en": "Source"}
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
)
_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=30.0)


def check_feed_url(url: str, *, field: str = "url") -> str:
    """``url`` when it is an ``http://`` or ``https://`` address with a host and no user.

    :raises ConfigurationError: it is not (naming ``field``).
    """
    text = url.strip() if isinstance(url, str) else ""
    parts = urlsplit(text) if text else None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or safe_url(text) != text
        or len(text) > 2000
    ):
        raise ConfigurationError(
            f"{url!r} is not an http:// or https:// feed address",
            field=field,
            hint="give the feed's full address, such as https://www.komdigi.go.id/rss",
        )
    if "@" in parts.netloc:
        raise ConfigurationError(
            f"the feed address {text} names a user before its host, which hides where it leads",
            field=field,
            hint="give the address without user or password",
        )
    return text


@dataclass(frozen=True)
class FeedAnswer:
    """What a feed's server answered: ``status`` 200 (with ``body``) or 304 (unchanged)."""

    status: int
    url: str
    etag: str | None
    last_modified: str | None
    content_type: str | None
    body: bytes

    @property
    def unchanged(self) -> bool:
        """The server said the feed has not changed since the validators given."""
        return self.status == 304


class FeedItem(Model):
    """One entry of a feed, as plain text.

    ``key`` identifies it across fetches and restarts: the SHA-256 of its id (``guid`` in
    RSS, ``id`` in Atom), else of its link, else of its title and summary.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    guid: str | None = None
    title: str
    summary: str = ""
    link: str | None = None
    published: datetime | None = None


def _refused(address: str, policy: MediaPolicy) -> str | None:
    try:
        parsed = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return "unreadable"
    return policy.refusal(parsed)


async def _check_host(url: str, policy: MediaPolicy) -> None:
    """Refuse ``url`` when its host is, or resolves to, an address the policy refuses."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise PlatformError(
                f"feed {url}: the host {host} cannot be resolved ({exc})",
                platform="feed",
                field="url",
                transient=True,
            ) from None
        addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        kind = _refused(address, policy)
        if kind is not None:
            via = "" if host == address else f" ({host} resolves to it)"
            raise ConfigurationError(
                f"feed {url} points at {address}, a {kind} address{via}; feeds are fetched "
                "only from public addresses, so it was not fetched",
                field="url",
                hint="give the feed's public address, or allow the range as for media: "
                "GOVSOCIAL_MEDIA_ALLOW_NETS (docs/media-hosts.md)",
            )


class _PublicResolver:
    """An aiohttp resolver that connects only to addresses the policy allows (a name that
    resolved to a public address when checked and to a private one now is refused).

    The proxies the environment names (``HTTP(S)_PROXY``) are resolved as they are: the
    proxy resolves the feed's host, and the check before each request is the one that
    applies then (as for media URLs).
    """

    def __init__(self, policy: MediaPolicy) -> None:
        import urllib.request

        self._policy = policy
        self._proxies = {
            (urlsplit(proxy).hostname or "").lower()
            for proxy in urllib.request.getproxies().values()
            if isinstance(proxy, str)
        }

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
        results: list[ResolveResult] = []
        proxy = host.lower() in self._proxies
        for fam, _type, proto, _name, sockaddr in infos:
            address = str(sockaddr[0])
            kind = None if proxy else _refused(address, self._policy)
            if kind is not None:
                raise OSError(f"{host} resolves to {address}, a {kind} address: not connected")
            results.append(
                {
                    "hostname": host,
                    "host": address,
                    "port": port,
                    "family": fam,
                    "proto": proto,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        return results

    async def close(self) -> None:
        return None


def _client(policy: MediaPolicy, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    if transport is None:
        from govsocial.adapters.transport import AiohttpTransport

        transport = AiohttpTransport(limit=4, resolver=_PublicResolver(policy))
    from govsocial.adapters.http import _NoCookies, _user_agent

    return httpx.AsyncClient(
        timeout=_TIMEOUT,
        transport=transport,
        headers={"User-Agent": _user_agent()},
        cookies=_NoCookies(),
        follow_redirects=False,
    )


async def fetch_feed(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    policy: MediaPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FeedAnswer:
    """GET the feed at ``url``, conditionally when ``etag`` or ``last_modified`` is given.

    :param policy: the address policy (default: the environment's, as for media URLs).
    :param transport: an httpx transport to send through (tests); default govsocial's own,
        connecting only to allowed addresses.
    :raises ConfigurationError: the address is not http(s) or not public (field ``url``).
    :raises PlatformError: the server cannot be reached, answered an error, redirected too
        often or elsewhere than http(s), or sent more than :data:`MAX_FEED_BYTES`.
    """
    policy = policy or MediaPolicy.from_environment()
    current = check_feed_url(url)
    headers = {"Accept": _ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    async with _client(policy, transport) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            await _check_host(current, policy)
            request = client.build_request(
                "GET", current, headers=headers, extensions={"govsocial.max_bytes": MAX_FEED_BYTES}
            )
            try:
                answer = await client.send(request)
            except AnswerTooLarge:
                raise PlatformError(
                    f"feed {current} is larger than the {MAX_FEED_BYTES:,} bytes govsocial reads",
                    platform="feed",
                    field="url",
                ) from None
            except httpx.HTTPError as exc:
                raise PlatformError(
                    f"feed {current} could not be fetched: {type(exc).__name__}: {exc}",
                    platform="feed",
                    field="url",
                    transient=True,
                ) from None
            if answer.status_code in (301, 302, 303, 307, 308):
                location = answer.headers.get("Location", "")
                target = urljoin(current, location.strip())
                try:
                    current = check_feed_url(target)
                except ConfigurationError:
                    raise PlatformError(
                        f"feed {current} redirects to {target[:200]!r}, which is not an "
                        "http(s) address: not followed",
                        platform="feed",
                        status=answer.status_code,
                        field="url",
                    ) from None
                continue
            if len(answer.content) > MAX_FEED_BYTES:  # a transport that does not cap
                raise PlatformError(
                    f"feed {current} is larger than the {MAX_FEED_BYTES:,} bytes govsocial reads",
                    platform="feed",
                    field="url",
                )
            if answer.status_code == 304:
                return FeedAnswer(304, current, etag, last_modified, None, b"")
            if answer.status_code != 200:
                raise PlatformError(
                    f"feed {current} answered {answer.status_code}",
                    platform="feed",
                    status=answer.status_code,
                    body=plain_text(answer.text, limit=300),
                    field="url",
                    transient=answer.status_code in (429, 500, 502, 503, 504),
                )
            return FeedAnswer(
                200,
                current,
                answer.headers.get("ETag"),
                answer.headers.get("Last-Modified"),
                answer.headers.get("Content-Type"),
                answer.content,
            )
    raise PlatformError(
        f"feed {url} redirected more than {MAX_REDIRECTS} times: not followed further",
        platform="feed",
        field="url",
    )


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    text = plain_text(value, limit=limit * 2)
    text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    parts = graphemes(text)
    if len(parts) <= limit:
        return text
    return _shorten(text, limit)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}\n{value}".encode()).hexdigest()


def parse_feed(
    data: bytes, *, url: str, content_type: str | None = None
) -> tuple[str, list[FeedItem]]:
    """The feed's title and its items (at most :data:`MAX_ITEMS`), oldest first.

    :raises PlatformError: ``data`` is no feed feedparser can read.
    """
    import feedparser  # imported on first use: ``import govsocial`` stays light

    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(data, response_headers=headers)
    version = getattr(parsed, "version", "") or ""
    if not version and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise PlatformError(
            f"{url} is not an RSS or Atom feed"
            + (f": {type(problem).__name__}: {str(problem)[:200]}" if problem else ""),
            platform="feed",
            field="url",
        )
    title = _text(parsed.feed.get("title"), MAX_TITLE) or (urlsplit(url).hostname or url)
    items: list[FeedItem] = []
    for entry in parsed.entries[:MAX_ITEMS]:
        guid = entry.get("id") if isinstance(entry.get("id"), str) else None
        link = safe_url(entry.get("link"))
        if link is not None:
            link = check_link(link)
        entry_title = _text(entry.get("title"), MAX_TITLE)
        summary = _text(entry.get("summary") or entry.get("description"), MAX_SUMMARY)
        if summary == entry_title:
            summary = ""
        if not entry_title and not summary:
            continue
        if guid and guid.strip():
            key = _key("id", guid.strip())
        elif link:
            key = _key("link", link)
        else:
            key = _key("text", f"{entry_title}\n{summary}")
        published = None
        # read as stored: feedparser's ``updated_parsed`` falls back to ``published_parsed``
        # with a DeprecationWarning
        moment = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
        if moment is not None:
            try:
                published = datetime(*tuple(moment)[:6]).replace(tzinfo=UTC)
            except (TypeError, ValueError):
                published = None
        items.append(
            FeedItem(
                key=key,
                guid=guid[:500] if guid else None,
                title=entry_title or _shorten(summary, 80),
                summary=summary,
                link=link,
                published=published,
            )
        )
    items.reverse()  # feeds list the newest first; drafts are made oldest first
    return title, items


def check_link(link: str) -> str | None:
    """``link`` when it is one http(s) address with a host and no user, else None."""
    try:
        return check_feed_url(link, field="link")
    except ConfigurationError:
        return None


def _compose(title: str, summary: str, source: str, link: str | None, heading: str) -> str:
    parts = [title]
    if summary:
        parts.append(summary)
    credit = f"{heading}: {source}"
    parts.append(f"{credit} {link}" if link else credit)
    return "\n\n".join(parts)


def feed_post(
    item: FeedItem,
    *,
    source: str,
    name: str,
    platforms: Sequence[str] | None = None,
    language: str = "id",
    plugins: Plugins | None = None,
) -> Post:
    """The post ``item`` becomes: its title, its summary, and ``Sumber: <source> <link>``.

    Every platform of ``platforms`` (default: every installed one) whose limit the full
    text exceeds gets a shorter variant: less of the summary, then none, then less of the
    title; the credit (the source's name and the item's link) is always kept. A platform
    whose limit cannot hold even that gets none, and validating the draft says so.

    :param source: the name credited (the feed's title, or the name it was followed under).
    :param name: the feed's name in the workspace (the post's ``feed`` label).
    """
    plugins = plugins or default_plugins()
    heading = _HEADINGS.get(language, _HEADINGS["en"])
    source = " ".join(source.split())[:120]
    text = _compose(item.title, item.summary, source, item.link, heading)
    variants: dict[str, PostVariant] = {}
    wanted = platforms if platforms is not None else list(plugins.platforms())
    for platform in dict.fromkeys(wanted):  # each platform once, however many accounts
        if _fits(text, platform, language, plugins):
            continue
        shorter = _shorter(item, source, heading, platform, language, plugins)
        if shorter is not None:
            variants[platform] = PostVariant(text=shorter)
    labels = {FEED_LABEL: name}
    return Post(text, language=language, labels=labels, variants=variants)


def _shorter(
    item: FeedItem, source: str, heading: str, platform: str, language: str, plugins: Plugins
) -> str | None:
    def fits(text: str) -> bool:
        return _fits(text, platform, language, plugins)

    def best(whole: str, build: Any) -> str | None:  # the longest prefix that fits
        low, high, found = 1, len(graphemes(whole)), None
        while low <= high:
            middle = (low + high) // 2
            text = build(_shorten(whole, middle))
            if fits(text):
                found, low = text, middle + 1
            else:
                high = middle - 1
        return found

    if item.summary:
        with_summary = best(
            item.summary, lambda s: _compose(item.title, s, source, item.link, heading)
        )
        if with_summary is not None:
            return with_summary
    bare = _compose(item.title, "", source, item.link, heading)
    if fits(bare):
        return bare
    titled = best(item.title, lambda t: _compose(t, "", source, item.link, heading))
    if titled is not None:
        return titled
    if len(source) > 20:  # a long source name: keep the link, shorten the name
        short_source = _shorten(source, 20)
        return best(item.title, lambda t: _compose(t, "", short_source, item.link, heading))
    return None
