"""Small real videos made in the test run: H.264 (or another codec) in MP4, with silent AAC.

The conformance suite, the platform tests and the demo post these instead of shipping
binary files, so any duration, size, frame rate or codec a rule talks about can be made on
the spot::

    from govsocial.testing.video import make_video
    data = make_video(width=1080, height=1920, seconds=4)    # a 9:16 Reel
    make_video("too-long.mp4", seconds=200, width=64, height=64, fps=1)  # tiny but long

Encoding uses PyAV (the ``video`` extra), whose wheels carry FFmpeg with libx264: no
Debian package is needed. A long video stays small with a low frame rate and a small
picture: duration is what the header says, not how many bytes there are.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

__all__ = ["make_video"]


def make_video(
    path: str | os.PathLike[str] | None = None,
    *,
    width: int = 320,
    height: int = 568,
    seconds: float = 1.0,
    fps: int = 24,
    codec: str = "libx264",
    audio: bool = True,
    container: str = "mp4",
) -> bytes:
    """Encode a video of flat changing colour; write it to ``path`` when given.

    :param codec: an FFmpeg encoder (``libx264``, ``mpeg4``, ``libvpx-vp9`` where built in).
    :param audio: add a silent AAC (Opus for WebM) track of the same duration.
    :returns: the file's bytes.
    """
    import av  # type: ignore[import-not-found, unused-ignore]

    frames = max(1, round(seconds * fps))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream: Any = out.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        sound: Any = None
        if audio:
            sound = out.add_stream("libopus" if container == "webm" else "aac", rate=48000)
            sound.layout = "mono"
        for index in range(frames):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(index * 7) % 256]) * plane.buffer_size)
            frame.pts = index
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if sound is not None:
            _silence(out, sound, seconds)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _silence(out: Any, sound: Any, seconds: float) -> None:
    import av  # type: ignore[import-not-found, unused-ignore]

    samples = 960 if sound.codec_context.name == "libopus" else 1024
    total = round(seconds * 48000)
    pts = 0
    while pts < total:
        frame = av.AudioFrame(format="fltp", layout="mono", samples=samples)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 48000
        frame.pts = pts
        pts += samples
        for packet in sound.encode(frame):
            out.mux(packet)
    for packet in sound.encode():
        out.mux(packet)
