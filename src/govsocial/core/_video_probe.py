"""Reading a video file's facts with PyAV: what :mod:`govsocial.core.video` builds on.

It returns plain dicts, so that :mod:`govsocial.core.models` (``Media.video_info``) and
:mod:`govsocial.core.video` can both use it without importing each other.

Read from the file's own headers by PyAV (FFmpeg's demuxers, bundled in its wheels; the
``video`` extra), without decoding a frame and without spawning a process:
``pip install 'govsocial[video]'``. docs/dependencies.md says why PyAV and not ffprobe or
pymediainfo. :func:`read_facts` is what :meth:`govsocial.Media.video_info` and
``govsocial.validate`` use; results are cached per file (path, size, modification time) or
per bytes object, so validating the same video for eight platforms reads it once.

A video is outside input like any other: FFmpeg reads only the container's headers here
(``probesize`` and ``analyzeduration`` are bounded), and any failure to read it is a
:class:`~govsocial.ValidationError` naming the file, never FFmpeg's exception.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path
from threading import Lock
from typing import Any

from govsocial.core.errors import ConfigurationError, ValidationError
from govsocial.core.problem import Problem

__all__ = ["read_facts", "video_support"]

#: How much of a file FFmpeg may read to find its streams (bytes) and how far into it
#: (microseconds): enough for any MP4/MOV/WebM header, bounded for a hostile file.
_PROBE_OPTIONS = {"probesize": str(8 * 2**20), "analyzeduration": str(5_000_000)}
_CACHE_SIZE = 256


def video_support() -> str | None:
    """None when videos can be read here; else why not and the fix (PyAV is missing)."""
    try:
        import av  # noqa: F401  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return (
            "reading a video's duration, size and codecs needs PyAV: pip install 'govsocial[video]'"
        )
    return None


_cache: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_cache_lock = Lock()


def read_facts(source: str | os.PathLike[str] | bytes, *, field: str = "media") -> dict[str, Any]:
    """The facts of the video at ``source`` (a path, or the bytes themselves), as the
    fields of :class:`~govsocial.core.models.VideoInfo`.

    :raises ConfigurationError: PyAV is not installed (the message says how to add it), or
        the file cannot be read.
    :raises ValidationError: the file is not a video FFmpeg can read (problem
        ``video_unreadable``, naming ``field``).
    """
    key: tuple[Any, ...]
    target: bytes | Path
    if isinstance(source, bytes | bytearray | memoryview):
        target = bytes(source)
        key = ("bytes", hashlib.sha256(target).digest())
        name = f"<{len(target)} bytes>"
    else:
        path = Path(source)
        name = str(path)
        try:
            stat = path.stat()
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read video {name}: {exc.strerror or exc}",
                field=field,
                hint="check the path and its permissions",
            ) from None
        key = ("path", str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        target = path
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return dict(_cache[key])
    missing = video_support()
    if missing is not None:
        raise ConfigurationError(missing, field=field, hint="pip install 'govsocial[video]'")
    info = _read(target, name, field)
    with _cache_lock:
        _cache[key] = info
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return dict(info)


def _unreadable(name: str, field: str, why: str) -> ValidationError:
    return ValidationError(
        [
            Problem(
                code="video_unreadable",
                message=f"{name} is not a video that can be read ({why})",
                field=field,
            )
        ],
        hint="export it again as MP4 (H.264 video, AAC audio), which every platform takes",
    )


def _read(source: bytes | Path, name: str, field: str) -> dict[str, Any]:
    import av  # type: ignore[import-not-found, unused-ignore]

    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    opened: Any = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        container = av.open(opened, mode="r", options=_PROBE_OPTIONS)
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise _unreadable(name, field, _first_line(exc)) from None
    try:
        if not container.streams.video:
            raise _unreadable(name, field, "it has no video stream")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        width, height = int(video.codec_context.width or 0), int(video.codec_context.height or 0)
        if _rotation(video) in (90, 270):
            width, height = height, width
        if not width or not height:
            raise _unreadable(name, field, "its picture has no size")
        duration = _duration(container, video)
        if duration is None:
            raise _unreadable(name, field, "it does not say how long it is")
        rate = video.average_rate or video.guessed_rate
        bitrate = int(container.bit_rate) if container.bit_rate else None
        return {
            "duration": duration,
            "width": width,
            "height": height,
            "frame_rate": round(float(rate), 3) if rate else None,
            "video_codec": str(video.codec_context.name),
            "audio_codec": str(audio.codec_context.name) if audio is not None else None,
            "audio_channels": int(audio.codec_context.channels) if audio is not None else None,
            "bitrate": bitrate,
            "size": size,
            "container": str(container.format.name),
        }
    finally:
        container.close()


def _duration(container: Any, video: Any) -> float | None:
    if container.duration:  # in microseconds (av.time_base)
        return round(float(container.duration) / 1_000_000, 3)
    if video.duration and video.time_base:
        return round(float(video.duration * Fraction(video.time_base)), 3)
    return None


def _rotation(video: Any) -> int:
    """The display rotation in degrees (a phone's portrait video is stored landscape)."""
    for side_data in getattr(video, "side_data", None) or ():
        rotation = getattr(side_data, "rotation", None)
        if rotation is not None:
            return int(rotation) % 360
    metadata = getattr(video, "metadata", None) or {}
    try:
        return int(metadata.get("rotate", 0)) % 360
    except ValueError:
        return 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
