"""One upload engine: large files in pieces, resumed after a crash, never sent twice.

A platform that takes large media in chunks (Google's resumable protocol for YouTube, X's
INIT/APPEND/FINALIZE, TikTok's chunked PUT, Meta's resumable upload, LinkedIn's multipart)
says *how* in an :class:`UploadProtocol` of four steps; :meth:`Platform.upload
<govsocial.adapters.platform.Platform.upload>` does the rest, the same way for all:

- the file is read one chunk at a time (memory stays bounded by the chunk size, not the
  file size), from a path checked under the media roots, or from bytes;
- the session the platform opened and every offset it acknowledged are saved as the
  delivery's checkpoint (:mod:`govsocial.adapters.checkpoints`) before the next chunk goes,
  so a worker killed mid-upload is resumed by the next one from the last byte the *server*
  says it holds (asked again on resume, never assumed);
- an upload session the platform has forgotten (expired) is started again from byte 0:
  an upload is not a post, so starting it again can never publish twice;
- progress goes to the ``progress`` callback or the client's ``on_progress``
  (:class:`UploadProgress`), which the command line draws as a bar.

:class:`ResumableUpload` implements Google's resumable upload protocol
(https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol), which
YouTube and other Google APIs use, and which is the simplest complete example to copy.
:func:`poll` waits for server-side processing (a video being transcoded) with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from govsocial.core.errors import ConfigurationError, PlatformError, RateLimited, ValidationError
from govsocial.core.problem import Problem

if TYPE_CHECKING:
    import httpx


class Uploader(Protocol):
    """What the engine needs of an adapter (every :class:`~govsocial.adapters.Platform` is
    one): its names, its HTTP session and its delivery checkpoints."""

    @property
    def name(self) -> str:
        """The platform's short name."""
        ...

    @property
    def title(self) -> str:
        """The platform's display name."""
        ...

    def checkpoint(self, idempotency_key: str) -> dict[str, str]:
        """What was saved for this delivery."""
        ...

    def save_checkpoint(self, idempotency_key: str, **values: str) -> None:
        """Merge ``values`` into this delivery's checkpoint, durably."""
        ...

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request through the adapter's HTTP session."""
        ...


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ChunkSource",
    "ResumableUpload",
    "UploadExpired",
    "UploadProgress",
    "UploadProtocol",
    "Uploader",
    "MAX_INTERRUPTIONS",
    "poll",
    "run_upload",
]

logger = logging.getLogger(__name__)

#: Interruptions in a row (connection cut, 5xx) after which an upload gives up for now; the
#: delivery's next attempt resumes from the checkpoint.
MAX_INTERRUPTIONS = 5

#: Bytes per chunk unless the protocol or the caller says otherwise: large enough that the
#: per-request cost disappears (docs/performance.md), small enough to keep memory low.
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024

T = TypeVar("T")


class UploadExpired(Exception):
    """Raised by a protocol's ``received`` when the platform no longer knows the session.

    The engine then opens a new session and sends the file again from its first byte.
    """


@dataclass(frozen=True, slots=True)
class UploadProgress:
    """Where one upload stands: ``sent`` of ``size`` bytes acknowledged by the platform.

    ``resumed_from`` is the offset a resumed upload started at (0 on a first attempt).
    """

    name: str
    sent: int
    size: int
    resumed_from: int = 0

    @property
    def fraction(self) -> float:
        """Sent over size, 1.0 for an empty file."""
        return self.sent / self.size if self.size else 1.0


class UploadProtocol(Protocol):
    """How one platform takes a file in pieces: four steps the engine calls in order.

    ``state`` is what :meth:`start` returned (strings only: it is saved as a checkpoint),
    updated with anything a later step returns.
    """

    #: Chunk size the platform needs (None: the engine's default). Google wants multiples
    #: of 256 KiB; X takes at most 5 MB per APPEND once base64 grows it.
    chunk_size: int | None

    async def start(self, size: int) -> dict[str, str]:
        """Open an upload session for ``size`` bytes; return what identifies it."""
        ...

    async def received(self, state: dict[str, str], size: int) -> int:
        """How many bytes the platform holds for this session (asked when resuming).

        :raises UploadExpired: the platform no longer knows the session.
        """
        ...

    async def send(self, state: dict[str, str], chunk: bytes, offset: int, size: int) -> int:
        """Send ``chunk`` (the bytes at ``offset``); return how many bytes the platform now
        holds (it may hold fewer than were sent: the engine goes on from there)."""
        ...

    async def finish(self, state: dict[str, str], size: int) -> dict[str, str]:
        """Close the session once every byte is held; return the result (the media id)."""
        ...


class ChunkSource:
    """The bytes of one upload, read a chunk at a time from a checked file or from memory.

    Build it with :meth:`from_path` (the path must already be checked under the media
    roots: :meth:`Platform.upload` does it) or :meth:`from_bytes`.
    """

    def __init__(self, size: int, *, data: bytes | None = None, path: Path | None = None):
        self.size = size
        self._data = data
        self._path = path

    @classmethod
    def from_bytes(cls, data: bytes) -> ChunkSource:
        """A source over bytes already in memory."""
        return cls(len(data), data=data)

    @classmethod
    def from_path(cls, path: Path, *, cap: int | None, field: str) -> ChunkSource:
        """A source over the regular file at ``path``, refused when larger than ``cap``."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read media file {path}: {exc.strerror or exc}",
                field=f"{field}.path",
                hint="check the path and its permissions",
            ) from None
        try:
            info = os.fstat(fd)
        finally:
            os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValidationError(
                [
                    Problem(
                        code="media_not_a_file",
                        message=f"media file {path} is not a regular file",
                        field=f"{field}.path",
                    )
                ]
            )
        if cap is not None and info.st_size > cap:
            raise ValidationError(
                [
                    Problem(
                        code="media_too_large",
                        message=f"media file {path} is {info.st_size:,} bytes; the platform "
                        f"takes up to {cap:,}",
                        field=f"{field}.path",
                        limit=cap,
                    )
                ]
            )
        return cls(info.st_size, path=path)

    async def read(self, offset: int, length: int) -> bytes:
        """The bytes at ``offset``, at most ``length`` of them (read off the event loop)."""
        if self._data is not None:
            return self._data[offset : offset + length]
        assert self._path is not None
        return await asyncio.to_thread(_pread, self._path, offset, length)


def _interrupted(error: PlatformError) -> bool:
    """Whether ``error`` is a cut (Http marks network failures ``transient``) or a server
    failure (5xx): resumable. An adapter's own refusal (no status, not transient: an upload
    address on an unexpected host) is not tried again."""
    if isinstance(error, RateLimited):
        return False
    return error.transient or (error.status is not None and error.status >= 500)


def _pread(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(length)


async def run_upload(
    platform: Uploader,
    protocol: UploadProtocol,
    source: ChunkSource,
    *,
    idempotency_key: str,
    name: str,
    chunk_size: int | None = None,
    progress: Callable[[UploadProgress], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> dict[str, str]:
    """Upload ``source`` with ``protocol``, resuming from the delivery's checkpoint.

    A chunk whose sending is interrupted (the connection drops, a 5xx) is not sent again
    blindly: the platform is asked what it holds, and the upload goes on from there, up to
    :data:`MAX_INTERRUPTIONS` times in a row.

    Checkpoint keys are ``<name>.<key>`` for the protocol's state, ``<name>.received`` for
    the last acknowledged offset and ``<name>.result.<key>`` once finished: an upload that
    finished before a crash is not sent again.
    """
    prefix = f"{name}."
    saved = platform.checkpoint(idempotency_key)
    result = {
        k.removeprefix(f"{prefix}result."): v
        for k, v in saved.items()
        if k.startswith(f"{prefix}result.")
    }
    if result:
        return result
    state = {
        k.removeprefix(prefix): v
        for k, v in saved.items()
        if k.startswith(prefix)
        and not k.startswith(f"{prefix}result.")
        and k != f"{prefix}received"
    }
    size = source.size
    offset = 0
    resumed_from = 0
    if state:
        try:
            offset = await protocol.received(state, size)
        except UploadExpired:
            state = {}
        resumed_from = offset
    if not state:
        state = await protocol.start(size)
        platform.save_checkpoint(
            idempotency_key,
            **{f"{prefix}{k}": v for k, v in state.items()},
            **{f"{prefix}received": "0"},
        )
        offset = 0
    step = chunk_size or protocol.chunk_size or DEFAULT_CHUNK_SIZE
    failures = 0
    if progress is not None:
        progress(UploadProgress(name, offset, size, resumed_from))
    # the next chunk is read from disk while the current one is on the wire: two chunks
    # in memory at most, and the disk never holds the network up (docs/performance.md)
    ahead: tuple[int, asyncio.Task[bytes]] | None = None
    try:
        while offset < size:
            if ahead is not None and ahead[0] == offset:
                chunk = await ahead[1]
            else:
                if ahead is not None:
                    ahead[1].cancel()
                chunk = await source.read(offset, step)
            ahead = None
            if not chunk:
                raise ConfigurationError(
                    f"media for {name} ended at byte {offset:,} of {size:,}: it changed while "
                    "being uploaded",
                    field=name,
                    hint="do not edit a file that is being published",
                )
            following = offset + len(chunk)
            if following < size:
                ahead = (following, asyncio.ensure_future(source.read(following, step)))
            try:
                held = await protocol.send(state, chunk, offset, size)
            except PlatformError as error:
                if not _interrupted(error) or failures >= MAX_INTERRUPTIONS:
                    raise
                failures += 1
                logger.info(
                    "upload of %s interrupted at %s of %s bytes (%s); asking what %s holds",
                    name,
                    offset,
                    size,
                    error,
                    platform.title,
                )
                await sleep(min(0.5 * 2**failures, 8.0))
                held = await protocol.received(state, size)
                if held < offset:  # the platform lost bytes it had acknowledged
                    logger.warning(
                        "%s holds %s bytes of %s, fewer than acknowledged",
                        platform.title,
                        held,
                        name,
                    )
                offset = held
                continue
            del chunk
            failures = 0
            if held <= offset and held < size:
                raise PlatformError(
                    f"{platform.title} acknowledged no byte of the chunk at offset {offset:,} "
                    f"of {name}; the upload cannot go on",
                    platform=platform.name,
                )
            offset = min(held, size)
            platform.save_checkpoint(
                idempotency_key,
                **{f"{prefix}{k}": v for k, v in state.items()},
                **{f"{prefix}received": str(offset)},
            )
            if progress is not None:
                progress(UploadProgress(name, offset, size, resumed_from))
    finally:
        if ahead is not None:
            ahead[1].cancel()
    result = await protocol.finish(state, size)
    platform.save_checkpoint(
        idempotency_key, **{f"{prefix}result.{k}": v for k, v in result.items()}
    )
    return result


async def poll(
    check: Callable[[], Awaitable[T | None]],
    *,
    what: str,
    platform: str,
    timeout: float,
    first: float = 1.0,
    most: float = 30.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``check`` until it returns something other than None, waiting ``first`` seconds
    and doubling up to ``most`` between calls; a PlatformError naming ``what`` after
    ``timeout`` seconds (a video still processing)."""
    deadline = clock() + timeout
    wait = first
    while True:
        answer = await check()
        if answer is not None:
            return answer
        if clock() + wait > deadline:
            raise PlatformError(
                f"{what} was still processing after {timeout:g} s",
                platform=platform,
                hint="the platform may finish later: publishing again resumes, it does not "
                "upload twice",
            )
        await sleep(wait)
        wait = min(wait * 2, most)


class ResumableUpload:
    """Google's resumable upload protocol, over the platform's own HTTP session.

    :param start_url: the upload URI with ``uploadType=resumable`` (YouTube:
        ``https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&part=...``).
    :param content_type: the file's MIME type (``X-Upload-Content-Type``).
    :param metadata: the JSON body of the first request (YouTube: the video resource).
    :param result: reads the finished answer's JSON into the result strings (default:
        ``{"id": answer["id"]}``).
    """

    #: Google: chunks must be multiples of 256 KiB, except the last.
    chunk_size: int | None = 32 * 256 * 1024

    def __init__(
        self,
        platform: Uploader,
        start_url: str,
        *,
        content_type: str,
        metadata: Mapping[str, Any] | None = None,
        result: Callable[[dict[str, Any]], dict[str, str]] | None = None,
    ) -> None:
        self.platform = platform
        self.start_url = start_url
        self.content_type = content_type
        self.metadata = dict(metadata or {})
        self._result = result or _id_result
        self._finished: dict[str, Any] | None = None

    async def start(self, size: int) -> dict[str, str]:
        """POST the metadata; the session URI comes back in ``Location``."""
        response = await self.platform.request(
            "POST",
            self.start_url,
            json=self.metadata,
            headers={
                "X-Upload-Content-Type": self.content_type,
                "X-Upload-Content-Length": str(size),
            },
            idempotent=True,  # a second session costs nothing and publishes nothing
        )
        location = response.headers.get("location")
        if not location:
            raise PlatformError(
                f"{self.platform.title} opened no upload session (no Location header)",
                platform=self.platform.name,
            )
        return {"session": location}

    async def received(self, state: dict[str, str], size: int) -> int:
        """``PUT`` an empty body with ``Content-Range: bytes */size``: 308 says how much."""
        try:
            response = await self.platform.request(
                "PUT",
                state["session"],
                content=b"",
                headers={"Content-Range": f"bytes */{size}"},
                accept=(308,),
                idempotent=True,
            )
        except PlatformError as error:
            if error.status in (404, 410):
                raise UploadExpired(str(error)) from None
            raise
        return self._held(response, size)

    async def send(self, state: dict[str, str], chunk: bytes, offset: int, size: int) -> int:
        """``PUT`` the chunk with its ``Content-Range``; 308 or the finished answer."""
        last = offset + len(chunk) - 1
        response = await self.platform.request(
            "PUT",
            state["session"],
            content=chunk,
            headers={
                "Content-Range": f"bytes {offset}-{last}/{size}",
                "Content-Type": self.content_type,
            },
            accept=(308,),
            # not retried blindly: after a cut the server may hold part of the chunk, so the
            # engine asks it (received) and goes on from there
            idempotent=False,
        )
        return self._held(response, size)

    async def finish(self, state: dict[str, str], size: int) -> dict[str, str]:
        """The resource the last answer created (asked again when that answer was lost)."""
        if self._finished is None:
            await self.received(state, size)
        if self._finished is None:
            raise PlatformError(
                f"{self.platform.title} holds every byte but made no resource of them",
                platform=self.platform.name,
            )
        return self._result(self._finished)

    def _held(self, response: httpx.Response, size: int) -> int:
        if response.status_code == 308:
            ranges = response.headers.get("range", "")
            if not ranges:
                return 0
            try:
                return int(ranges.rsplit("-", 1)[1]) + 1
            except (IndexError, ValueError):
                raise PlatformError(
                    f"{self.platform.title} answered an unreadable Range {ranges[:60]!r}",
                    platform=self.platform.name,
                ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PlatformError(
                f"{self.platform.title} finished the upload without a JSON resource",
                platform=self.platform.name,
            )
        self._finished = body
        return size


def _id_result(answer: dict[str, Any]) -> dict[str, str]:
    value = answer.get("id")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PlatformError("the finished upload's answer has no id", platform=None)
    return {"id": str(value)}
