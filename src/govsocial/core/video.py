"""What a video file is: duration, size in pixels, frame rate, codecs, bit rate, bytes.

Read from the file's own headers by PyAV (FFmpeg's demuxers, bundled in its wheels; the
``video`` extra), without decoding a frame and without spawning a process:
``pip install 'govsocial[video]'``. docs/dependencies.md says why PyAV and not ffprobe or
pymediainfo. :func:`probe_video` is what ``govsocial.validate`` calls, and
:meth:`govsocial.Media.video_info` does the same for one media; results are cached per file
(path, size, modification time) or per bytes, so validating one video for eight platforms
reads it once.

A video is outside input like any other: FFmpeg reads only the container's headers here
(``probesize`` and ``analyzeduration`` are bounded), and any failure to read it is a
:class:`~govsocial.ValidationError` (``video_unreadable``) naming the field, never FFmpeg's
own exception.
"""

from __future__ import annotations

import os

from govsocial.core._video_probe import read_facts, video_support
from govsocial.core.models import VideoInfo, describe_duration

__all__ = ["VideoInfo", "describe_duration", "probe_video", "video_support"]


def probe_video(source: str | os.PathLike[str] | bytes, *, field: str = "media") -> VideoInfo:
    """The facts of the video at ``source`` (a path, or the bytes themselves).

    :raises ConfigurationError: PyAV is not installed (the message says how to add it), or
        the file cannot be read.
    :raises ValidationError: the file is not a video FFmpeg can read (problem
        ``video_unreadable``, naming ``field``).
    """
    return VideoInfo(**read_facts(source, field=field))
