"""Where media may come from, what its bytes must be, and how much of them is read.

A draft's media is chosen by whoever wrote the draft, but it is read by the worker that
publishes it, on the worker's host. So every read goes through the checks here, in the
process doing the reading, at the time it reads (``Platform.read_media`` and ``validate``):

- **Local files** (``Media(path=...)``) must lie under a media root once symlinks are
  resolved. Roots: ``GOVSOCIAL_MEDIA_ROOTS`` (folders separated by ``os.pathsep``), default
  the current working directory. Only regular files are read, and never more than the cap.
- **URLs** (``Media(url=...)``) are fetched only from globally routable addresses: the host
  is resolved first and every address it gives is checked, and the connection is made by a
  resolver that checks again the very addresses it connects to (DNS rebinding fails).
  Loopback, private, link-local (cloud metadata), unique-local, multicast, unspecified and
  reserved addresses are refused unless ``GOVSOCIAL_MEDIA_ALLOW_NETS`` (CIDR ranges,
  separated by commas or spaces) allows them. Redirects are not followed.
- **Size**: a download stops past the platform's limit for the media (``max_image_bytes`` /
  ``max_video_bytes``, else :data:`DEFAULT_MAX_MEDIA_BYTES`); a compressed answer is
  decoded in bounded steps, so a gzip bomb is refused without being inflated.
- **Type**: the bytes are sniffed (JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC, AVIF, MP4/MOV,
  WebM, Ogg); bytes that are no known image or video, or another type than declared, are
  refused.

docs/security.md lists the attacks these stop; docs/media-hosts.md the settings.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import os
import re
import socket
import stat
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from govsocial.core.errors import ValidationError
from govsocial.core.models import Media, Post, Problem, sniff_mime_type

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult

__all__ = [
    "DEFAULT_MAX_MEDIA_BYTES",
    "MediaPolicy",
    "address_class",
    "captions_problem",
    "describe_bytes",
    "media_cap",
    "media_field",
    "mismatch_problem",
    "publishing",
    "read_file",
    "type_mismatch",
]

#: The cap on a media download when the platform declares no size limit for its kind.
DEFAULT_MAX_MEDIA_BYTES = 100 * 1024 * 1024

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")

# Declared types that name the same bytes as the sniffed one.
_SAME = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/heif": "image/heic",
    "video/quicktime": "video/mp4",  # one container (ISO BMFF), brands vary
    "video/x-m4v": "video/mp4",
    "video/3gpp": "video/mp4",
    "video/x-matroska": "video/webm",
    "audio/ogg": "video/ogg",
}


def media_cap(media: Media, *, image: int | None, video: int | None, gif: int | None = None) -> int:
    """The most bytes read for ``media``: the platform's limit for its kind, else a default.

    An animated GIF has ``gif`` when given (X: 15 MiB against 5 MiB for other images).
    Media of no known kind yet (a URL without an extension) gets the larger of the two.
    """
    if media.mime_type == "image/gif" and gif is not None:
        return gif
    if media.kind == "image":
        return image or DEFAULT_MAX_MEDIA_BYTES
    if media.kind == "video":
        return video or DEFAULT_MAX_MEDIA_BYTES
    return max(image or DEFAULT_MAX_MEDIA_BYTES, video or DEFAULT_MAX_MEDIA_BYTES)


def address_class(address: _IPAddress) -> str | None:
    """What kind of non-public address ``address`` is ("loopback", ...), None when public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_class(address.ipv4_mapped)
    if address in _METADATA:
        return "cloud metadata"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv6Address) and address in ipaddress.ip_network("fc00::/7"):
        return "unique-local"
    if address.is_private:
        return "private"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared (carrier-grade NAT)"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


@dataclass(frozen=True)
class MediaPolicy:
    """The media roots and the allowed address ranges a process reads media under.

    :param roots: folders local media files must lie in (resolved; symlinks followed).
    :param allow_nets: address ranges a media URL may reach although they are not public
        (``127.0.0.0/8`` for a test server on this machine).
    """

    roots: tuple[Path, ...]
    allow_nets: tuple[_Network, ...] = ()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> MediaPolicy:
        """The policy ``GOVSOCIAL_MEDIA_ROOTS`` and ``GOVSOCIAL_MEDIA_ALLOW_NETS`` set.

        Read at each use, so the worker's own settings apply when it publishes.

        :raises ValidationError: a range in ``GOVSOCIAL_MEDIA_ALLOW_NETS`` is not a network.
        """
        env = os.environ if environ is None else environ
        raw_roots = [p for p in env.get("GOVSOCIAL_MEDIA_ROOTS", "").split(os.pathsep) if p]
        roots = tuple(Path(p).resolve() for p in raw_roots)
        if not roots:
            cwd = Path.cwd().resolve()
            # a service started in / (systemd's default) would otherwise allow every file
            roots = () if cwd == Path(cwd.anchor) else (cwd,)
        nets: list[_Network] = []
        for item in env.get("GOVSOCIAL_MEDIA_ALLOW_NETS", "").replace(",", " ").split():
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValidationError(
                    [
                        Problem(
                            code="invalid_setting",
                            message=f"GOVSOCIAL_MEDIA_ALLOW_NETS holds {item!r}, not a network",
                            field="GOVSOCIAL_MEDIA_ALLOW_NETS",
                        )
                    ],
                    subject="setting",
                    hint="give CIDR ranges separated by commas, e.g. 127.0.0.0/8,10.1.0.0/16",
                ) from None
        return cls(roots=roots, allow_nets=tuple(nets))

    # -- local files -----------------------------------------------------------------------

    def resolve_path(self, path: Path | str) -> Path | None:
        """``path`` with symlinks resolved when it lies under a root, else None."""
        resolved = Path(path).resolve()
        for root in self.roots:
            if resolved == root or resolved.is_relative_to(root):
                return resolved
        return None

    def check_path(self, path: Path | str, *, field: str) -> Path:
        """``path`` resolved, after checking it lies under a media root.

        :raises ValidationError: it does not; the message names the field and the roots.
        """
        resolved = self.resolve_path(path)
        if resolved is None:
            raise ValidationError(
                [self.outside_roots(path, field=field)],
                hint="move the file into a media folder, or add its folder to "
                "GOVSOCIAL_MEDIA_ROOTS (docs/media-hosts.md)",
            )
        return resolved

    def outside_roots(self, path: Path | str, *, field: str) -> Problem:
        """The problem a file outside every media root is."""
        roots = ", ".join(str(r) for r in self.roots)
        where = (
            f"outside the media folders ({roots}) once symlinks are resolved"
            if roots
            else "not in a media folder: none is set, and the working directory is the "
            "filesystem root, which is never one"
        )
        return Problem(
            code="media_outside_roots",
            message=(
                f"media file {path} is {where}; it is not read: put it in a media folder or "
                "add its folder to GOVSOCIAL_MEDIA_ROOTS"
            ),
            field=field,
        )

    # -- addresses -------------------------------------------------------------------------

    def refusal(self, address: _IPAddress) -> str | None:
        """Why ``address`` may not be fetched from (its class), None when it may."""
        kind = address_class(address)
        if kind is None:
            return None
        if any(address.version == net.version and address in net for net in self.allow_nets):
            return None
        return kind

    def check_address(self, address: _IPAddress, *, url: str, host: str, field: str) -> None:
        """Refuse a media URL whose host is (or resolves to) a non-public ``address``.

        :raises ValidationError: the address is not public and no allowed range holds it.
        """
        kind = self.refusal(address)
        if kind is None:
            return
        via = "" if host == str(address) else f" ({host} resolves to it)"
        raise ValidationError(
            [
                Problem(
                    code="media_address_refused",
                    message=(
                        f"media URL {url} points at {address}, a {kind} address{via}; media "
                        "is only fetched from public addresses, so it was not fetched"
                    ),
                    field=field,
                )
            ],
            hint=f"give a public URL, or allow the range on the worker: "
            f"GOVSOCIAL_MEDIA_ALLOW_NETS={_suggest(address)} (docs/media-hosts.md)",
        )

    async def resolve(self, url: str, *, field: str) -> list[str]:
        """The checked addresses of ``url``'s host (refusing when any is not allowed).

        :param field: the media's field (``media[0]``); problems name ``media[0].url``.
        :raises ValidationError: an address is refused, or the host does not resolve.
        """
        host = urlsplit(url).hostname or ""
        field = f"{field}.url"
        try:
            return [str(self._checked(ipaddress.ip_address(host), url, host, field))]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise ValidationError(
                [
                    Problem(
                        code="media_host_unknown",
                        message=f"media URL {url}: the host {host} cannot be resolved ({exc})",
                        field=field,
                    )
                ],
                hint="check the URL",
            ) from None
        found: list[str] = []
        for *_, sockaddr in infos:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
            self._checked(address, url, host, field)
            if str(address) not in found:
                found.append(str(address))
        return found

    def _checked(self, address: _IPAddress, url: str, host: str, field: str) -> _IPAddress:
        self.check_address(address, url=url, host=host, field=field)
        return address


def _suggest(address: _IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/128"))
    return str(ipaddress.ip_network(f"{address}/32"))


# -- which media is read: the field name for messages ------------------------------------------

_PUBLISHING: contextvars.ContextVar[Post | None] = contextvars.ContextVar(
    "govsocial_publishing", default=None
)


@contextmanager
def publishing(post: Post) -> Iterator[None]:
    """Mark ``post`` as the one being published, so media errors name ``media[i]``."""
    token = _PUBLISHING.set(post)
    try:
        yield
    finally:
        _PUBLISHING.reset(token)


def media_field(media: Media) -> str:
    """``media[i]`` for ``media`` in the post being published, else ``media``."""
    post = _PUBLISHING.get()
    if post is not None:
        for index, item in enumerate(post.media):
            if item is media:
                return f"media[{index}]"
        for index, item in enumerate(post.media):
            if item == media:
                return f"media[{index}]"
    return "media"


# -- what the bytes are ---------------------------------------------------------------------


def describe_bytes(head: bytes) -> str:
    """What ``head`` (a file's first bytes) looks like, for messages: "text", "a PDF", ..."""
    sniffed = sniff_mime_type(head)
    if sniffed:
        return f"{sniffed} data"
    if not head:
        return "empty"
    known = (
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
        (b"\x7fELF", "an executable program"),
        (b"\x1f\x8b", "gzip-compressed data"),
        (b"<svg", "an SVG drawing (text)"),
    )
    for magic, what in known:
        if head.startswith(magic):
            return what
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data of no known image or video type"
    if all(ch.isprintable() or ch in "\t\r\n" for ch in text):
        return "text"
    return "binary data of no known image or video type"


def type_mismatch(head: bytes, declared: str | None) -> str | None:
    """Why bytes starting with ``head`` cannot be published as ``declared``, or None.

    None when the bytes are a known image or video of the declared type (or of the same
    container: a MOV declared video/mp4).
    """
    sniffed = sniff_mime_type(head)
    if sniffed is None:
        return f"its bytes are {describe_bytes(head)}, not an image or video"
    if declared is None:
        return None
    want = _SAME.get(declared, declared)
    if _SAME.get(sniffed, sniffed) != want:
        return f"it is declared {declared} but its bytes are {sniffed}"
    return None


def mismatch_problem(head: bytes, media: Media, *, field: str) -> Problem | None:
    """The problem media whose bytes start with ``head`` has, if its type is refused."""
    why = type_mismatch(head, media.mime_type)
    if why is None:
        return None
    source = "path" if media.path is not None else "url" if media.url is not None else "data"
    return Problem(
        code="media_type_mismatch",
        message=f"{media.source}: {why}; only images and videos are published",
        field=f"{field}.{source}",
    )


# -- reading ------------------------------------------------------------------------------


def read_file(path: Path, cap: int, *, field: str) -> bytes:
    """At most ``cap`` bytes of the regular file at ``path`` (already checked), or refuse.

    :raises ValidationError: it is not a regular file, or holds more than ``cap`` bytes.
    :raises OSError: it cannot be read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValidationError(
                [
                    Problem(
                        code="media_not_a_file",
                        message=f"media file {path} is not a regular file (a device, pipe or "
                        "folder); it is not read",
                        field=f"{field}.path",
                    )
                ]
            )
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise ValidationError([_too_large(str(path), cap, field=f"{field}.path")])
    return data


def _too_large(source: str, cap: int, *, field: str) -> Problem:
    return Problem(
        code="media_too_large",
        message=f"{source} holds more than {cap:,} bytes, the most read for this platform; "
        "reading stopped there: resize or recompress it",
        field=field,
        limit=cap,
    )


class _CheckedResolver:
    """An aiohttp resolver that resolves with the system and refuses non-allowed addresses."""

    def __init__(self, policy: MediaPolicy, url: str, field: str) -> None:
        self._policy = policy
        self._url = url
        self._field = field

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self._policy.resolve(f"http://{_bracket(host)}/", field=self._field)
        results: list[ResolveResult] = []
        for text in addresses:
            address = ipaddress.ip_address(text)
            fam = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            if family not in (socket.AF_UNSPEC, fam):
                continue
            results.append(
                {
                    "hostname": host,
                    "host": text,
                    "port": port,
                    "family": fam,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        return results

    async def close(self) -> None:
        return None


def _proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (HTTP(S)_PROXY, NO_PROXY), if any."""
    import urllib.request

    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not proxies.get(parts.scheme) or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxies[parts.scheme]


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def fetch(
    url: str,
    *,
    policy: MediaPolicy,
    cap: int,
    field: str,
    headers: Sequence[tuple[str, str]] = (),
    timeout: float = 30.0,
) -> tuple[int, str, bytes]:
    """GET ``url`` under ``policy``, reading at most ``cap`` decoded bytes.

    Returns the status, the ``Content-Type`` and the body. Redirects are not followed (the
    caller sees the 3xx). Connections go only to the addresses ``policy`` allowed.

    :raises ValidationError: the address is refused, or the body (decoded) exceeds ``cap``.
    :raises OSError: the server cannot be reached (wrapped by the caller).
    """
    import aiohttp

    await policy.resolve(url, field=field)  # a clear refusal before any connection
    proxy = _proxy_for(url)
    if proxy is None:  # connect only to the addresses checked at connect time
        connector = aiohttp.TCPConnector(
            resolver=_CheckedResolver(policy, url, field),  # type: ignore[arg-type]
            use_dns_cache=False,
            force_close=True,
        )
    else:  # the proxy resolves the host: the check above is the one that applies
        connector = aiohttp.TCPConnector(use_dns_cache=False, force_close=True)
    timeouts = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
    async with aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=timeouts,
    ) as session:
        request_headers = {"Accept-Encoding": "identity", **dict(headers)}
        async with session.get(
            url, allow_redirects=False, headers=request_headers, proxy=proxy
        ) as answer:
            encoding = answer.headers.get("Content-Encoding", "identity").strip().lower()
            decoder = _decoder(encoding, url, field)
            chunks: list[bytes] = []
            total = 0
            async for raw in answer.content.iter_chunked(64 * 1024):
                for piece in _decoded(decoder, raw, cap - total + 1, url, field):
                    total += len(piece)
                    if total > cap:
                        raise ValidationError([_too_large(url, cap, field=f"{field}.url")])
                    chunks.append(piece)
            rest = getattr(decoder, "flush", lambda: b"")()  # what inflation held back
            if total + len(rest) > cap:
                raise ValidationError([_too_large(url, cap, field=f"{field}.url")])
            chunks.append(rest)
            return answer.status, answer.headers.get("Content-Type", ""), b"".join(chunks)


def _decoded(decoder: Any, raw: bytes, room: int, url: str, field: str) -> Iterator[bytes]:
    try:
        yield from decoder(raw, room)
    except zlib.error as exc:
        raise ValidationError(
            [
                Problem(
                    code="media_encoding_refused",
                    message=f"media URL {url} answered with a compressed body that cannot "
                    f"be decoded ({exc})",
                    field=f"{field}.url",
                )
            ]
        ) from None


def _decoder(encoding: str, url: str, field: str) -> Any:
    """A function feeding raw bytes and yielding decoded pieces, never more than asked."""
    if encoding in ("", "identity"):

        def identity(raw: bytes, room: int) -> Iterator[bytes]:
            yield raw

        return identity
    if encoding in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected

        def inflate(raw: bytes, room: int) -> Iterator[bytes]:
            data = raw
            while data:
                piece = inflater.decompress(data, max(room, 1))
                yield piece
                room -= len(piece)
                data = inflater.unconsumed_tail
                if room <= 0:
                    return  # the caller refuses: past the cap

        inflate.flush = inflater.flush  # type: ignore[attr-defined]
        return inflate
    raise ValidationError(
        [
            Problem(
                code="media_encoding_refused",
                message=f"media URL {url} answered in the {encoding!r} encoding, which "
                "govsocial does not decode for media",
                field=f"{field}.url",
            )
        ],
        hint="serve the file unencoded (it was asked for with Accept-Encoding: identity)",
    )


# -- captions -----------------------------------------------------------------------------

_SRT_CUE = re.compile(rb"^\s*\d+\s*\r?\n\d{1,2}:\d{2}:\d{2}[,.]\d{3} --> ", re.MULTILINE)


def captions_problem(path: Path, head: bytes | None, *, field: str) -> Problem | None:
    """Why the captions file at ``path`` (first bytes ``head``) is unusable, or None."""
    if head is None:
        return Problem(
            code="captions_unreadable",
            message=f"captions file {path} cannot be read (missing, no permission, or not a "
            "regular file)",
            field=field,
        )
    text = head.removeprefix(b"\xef\xbb\xbf")
    if path.suffix.lower() == ".vtt":
        if not text.startswith(b"WEBVTT"):
            return Problem(
                code="captions_format",
                message=f"captions file {path} is not WebVTT: it must start with WEBVTT",
                field=field,
            )
    elif not _SRT_CUE.search(text):
        return Problem(
            code="captions_format",
            message=f"captions file {path} is not SubRip: no cue like "
            "'1' then '00:00:01,000 --> 00:00:03,000'",
            field=field,
        )
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(text) - 4:  # a cut multi-byte character at the end is fine
            return Problem(
                code="captions_encoding",
                message=f"captions file {path} is not UTF-8: save it as UTF-8",
                field=field,
            )
    return None
