"""Facebook Page videos and Reels, uploaded through the upload engine, published once.

Two kinds of video post, each with its own upload protocol (an
:class:`~govsocial.adapters.UploadProtocol` the engine drives, checkpointing every offset
Meta acknowledges, so a worker killed mid-upload is resumed by the next one):

- a **Page video** (``POST /{page-id}/videos`` on graph-video.facebook.com), Meta's
  resumable upload in three phases
  (https://developers.facebook.com/docs/graph-api/video-uploads): ``upload_phase=start``
  with ``file_size`` answers ``video_id``, ``upload_session_id`` and the first window
  ``start_offset``/``end_offset``; each ``upload_phase=transfer`` sends the window's bytes as
  ``video_file_chunk`` and answers the next window (done when ``start_offset`` equals
  ``end_offset``); ``upload_phase=finish`` with ``description`` (and ``title``) publishes
  it. A transfer at an offset Meta did not ask for is refused with error subcode 1363037
  whose ``error_data`` names the window Meta wants: the facebook-business SDK's own uploader
  (``facebook_business/video_uploader.py``) goes on from there, and so does this one.
- a **Reel** (``POST /{page-id}/video_reels``, the Reels Publishing API,
  https://developers.facebook.com/docs/video-api/guides/reels-publishing):
  ``upload_phase=start`` answers ``video_id`` and ``upload_url`` (on rupload.facebook.com);
  the bytes go to ``upload_url`` with the headers ``offset`` and ``file_size`` (and the Page
  token as ``Authorization: OAuth``); ``upload_phase=finish`` with
  ``video_state=PUBLISHED`` and ``description`` publishes it.

For both, ``GET /{video-id}?fields=status`` says how many bytes Meta holds
(``status.uploading_phase.bytes_transferred``: what a resumed upload goes on from) and
whether the video was published and processed (``video_status`` ``ready``; ``error``).

Exactly once: the finish (the request that publishes) is marked in the delivery's checkpoint
before it is sent. When a later attempt finds the mark, it asks the video's status first: a
video past its upload phase was finished by that earlier attempt, whose answer was lost,
and is not finished again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlsplit

from govsocial.adapters import (
    PlatformError,
    UploadExpired,
    VideoInfo,
    VideoLimits,
    as_int,
    json_object,
)

if TYPE_CHECKING:
    from govsocial_facebook.adapter import Facebook

__all__ = [
    "FORMAT_LABEL",
    "PAGE_VIDEO_RULES",
    "REEL_RULES",
    "TITLE_LABEL",
    "PageVideoUpload",
    "ReelUpload",
    "fits_reel",
    "upload_host_trusted",
    "video_finished",
    "video_status",
]

VIDEO_DOCS = "https://developers.facebook.com/docs/graph-api/video-uploads"
REELS_DOCS = "https://developers.facebook.com/docs/video-api/guides/reels-publishing"

#: The label choosing the kind of video post: ``reel`` or ``video`` (default: a Reel when
#: the video fits Meta's Reels specification, a Page video otherwise).
FORMAT_LABEL = "facebook.format"
FORMATS = ("reel", "video")
#: The label giving a Page video's title (Reels have none).
TITLE_LABEL = "facebook.title"

#: Page videos: "The aspect ratio of the video must be between 9x16 and 16x9";
#: "Resumable uploading supports videos that are up to 10GB and 4 hours long".
PAGE_VIDEO_RULES = VideoLimits(
    max_duration=4 * 3600,
    min_aspect_ratio=9 / 16,
    max_aspect_ratio=16 / 9,
    source=VIDEO_DOCS,
)
#: Reels (Video Specifications): 9 x 16, at least 540 x 960 pixels, 24 to 60 frames per
#: second, 3 to 90 seconds; H.264, H.265 (VP9, AV1 are also supported); AAC audio.
REEL_RULES = VideoLimits(
    min_duration=3,
    max_duration=90,
    min_aspect_ratio=9 / 16,
    max_aspect_ratio=9 / 16,
    min_width=540,
    min_height=960,
    min_frame_rate=24,
    max_frame_rate=60,
    video_codecs=frozenset({"h264", "hevc", "vp9", "av1"}),
    audio_codecs=frozenset({"aac"}),
    source=REELS_DOCS,
)
#: The subcode of a transfer at an offset Meta did not ask for; ``error_data`` holds the
#: window it wants (facebook_business/video_uploader.py).
WRONG_OFFSET = 1363037


def fits_reel(info: VideoInfo) -> bool:
    """Whether a video meets the Reels specification (:data:`REEL_RULES`)."""
    rules = REEL_RULES
    return (
        (rules.min_duration or 0) <= info.duration <= (rules.max_duration or 0)
        and abs(info.aspect_ratio - 9 / 16) <= 1e-3
        and info.width >= (rules.min_width or 0)
        and info.height >= (rules.min_height or 0)
        and (info.frame_rate is None or 24 - 0.5 <= info.frame_rate <= 60 + 0.5)
        and info.video_codec in rules.video_codecs
        and (info.audio_codec is None or info.audio_codec in rules.audio_codecs)
    )


def video_status(body: dict[str, Any] | None) -> tuple[str, int | None, str]:
    """``(video_status, bytes_transferred, uploading status)`` of a ``fields=status`` answer."""
    status = body.get("status") if body else None
    if not isinstance(status, dict):
        return "", None, ""
    uploading = status.get("uploading_phase")
    uploading = uploading if isinstance(uploading, dict) else {}
    held = _number(uploading.get("bytes_transferred"))
    return str(status.get("video_status") or ""), held, str(uploading.get("status") or "")


def video_finished(body: dict[str, Any] | None) -> bool:
    """Whether a ``fields=status`` answer shows the video finished (sent to processing or
    publishing): an earlier finish whose answer was lost was taken."""
    status = body.get("status") if body else None
    if not isinstance(status, dict):
        return False
    if status.get("video_status") in ("ready", "processing", "error"):
        phases = [status.get("processing_phase"), status.get("publishing_phase")]
        return any(
            isinstance(phase, dict) and phase.get("status") not in (None, "", "not_started")
            for phase in phases
        )
    return False


class _VideoStatus:
    """What both protocols share: asking a video's status, expired when Meta forgets it."""

    adapter: Facebook

    async def status(self, video_id: str) -> dict[str, Any] | None:
        try:
            response = await self.adapter._call(
                "GET", f"/{quote(video_id, safe='')}", params={"fields": "status"}
            )
        except PlatformError as error:
            graph = getattr(error, "graph", None)
            if graph is not None and graph.code == 100 and graph.subcode == 33:
                # "Object with ID ... does not exist": Meta forgot the upload
                raise UploadExpired(str(error)) from None
            raise
        return json_object(response)


class PageVideoUpload(_VideoStatus):
    """Meta's three-phase resumable upload to ``/{page-id}/videos`` as an UploadProtocol.

    ``finish`` here closes nothing: the request that finishes (and publishes) is sent by the
    adapter after the upload, marked in the checkpoint first (exactly once).
    """

    #: Meta chooses each window (``end_offset - start_offset``); the engine reads at least
    #: this much at a time, and each transfer sends the window's part of it.
    chunk_size: int | None = 8 * 1024 * 1024
    #: The most bytes one transfer may carry when Meta asks for more than is in hand.
    largest_window: ClassVar[int] = 64 * 1024 * 1024

    def __init__(self, adapter: Facebook) -> None:
        self.adapter = adapter

    async def start(self, size: int) -> dict[str, str]:
        """``upload_phase=start`` with ``file_size``."""
        response = await self.adapter._call(
            "POST",
            f"/{self.adapter._page()}/videos",
            data={"upload_phase": "start", "file_size": str(size)},
            video=True,
            idempotent=True,  # an unused session publishes nothing
        )
        body = json_object(response) or {}
        video_id, session = body.get("video_id"), body.get("upload_session_id")
        start, end = _number(body.get("start_offset")), _number(body.get("end_offset"))
        if not _is_id(video_id) or not _is_id(session) or start is None or end is None:
            raise self.adapter.unreadable(response, "the start of the video upload")
        self._grow(end - start)
        return {
            "video_id": str(video_id),
            "session": str(session),
            "start": str(start),
            "end": str(end),
        }

    def _grow(self, window: int) -> None:
        if self.chunk_size is not None and window > self.chunk_size:
            self.chunk_size = min(window, self.largest_window)

    async def received(self, state: dict[str, str], size: int) -> int:
        """``status.uploading_phase.bytes_transferred``, else the last window Meta asked for."""
        _, held, _ = video_status(await self.status(state["video_id"]))
        return held if held is not None else int(state["start"])

    async def send(self, state: dict[str, str], chunk: bytes, offset: int, size: int) -> int:
        """``upload_phase=transfer``: the window at ``offset`` as ``video_file_chunk``."""
        start, end = int(state["start"]), int(state["end"])
        part = chunk[: end - start] if start == offset and end > start else chunk
        try:
            response = await self.adapter._call(
                "POST",
                f"/{self.adapter._page()}/videos",
                data={
                    "upload_phase": "transfer",
                    "upload_session_id": state["session"],
                    "start_offset": str(offset),
                },
                files={"video_file_chunk": ("chunk", part, "application/octet-stream")},
                video=True,
                # not repeated blindly: after a cut Meta may hold the window already; the
                # engine asks (received) and Meta's 1363037 names the window it wants
                idempotent=False,
            )
        except PlatformError as error:
            window = _wanted_window(error)
            if window is None:
                raise
            state["start"], state["end"] = str(window[0]), str(window[1])
            self._grow(window[1] - window[0])
            # Meta wants another offset: the engine asks (received) and goes on from there
            raise PlatformError(
                f"{self.adapter.title} asked for the video's bytes from {window[0]:,}, not "
                f"{offset:,}",
                platform=self.adapter.name,
                transient=True,
            ) from None
        body = json_object(response) or {}
        new_start, new_end = _number(body.get("start_offset")), _number(body.get("end_offset"))
        if new_start is None or new_end is None:
            raise self.adapter.unreadable(response, "a part of the video upload")
        state["start"], state["end"] = str(new_start), str(new_end)
        self._grow(new_end - new_start)
        return size if new_start == new_end else new_start

    async def finish(self, state: dict[str, str], size: int) -> dict[str, str]:
        """The video and its session, for the adapter's finish (which publishes)."""
        return {"video_id": state["video_id"], "session": state["session"]}


class ReelUpload(_VideoStatus):
    """The Reels upload (``video_reels`` start, bytes to rupload) as an UploadProtocol."""

    chunk_size: int | None = 8 * 1024 * 1024

    def __init__(self, adapter: Facebook) -> None:
        self.adapter = adapter

    async def start(self, size: int) -> dict[str, str]:
        """``upload_phase=start``: the video id and the upload URL."""
        response = await self.adapter._call(
            "POST",
            f"/{self.adapter._page()}/video_reels",
            data={"upload_phase": "start"},
            idempotent=True,  # an unused upload publishes nothing
        )
        body = json_object(response) or {}
        video_id, url = body.get("video_id"), body.get("upload_url")
        if not _is_id(video_id) or not isinstance(url, str) or "://" not in url:
            raise self.adapter.unreadable(response, "the start of the Reel upload")
        return {"video_id": str(video_id), "upload_url": url}

    async def received(self, state: dict[str, str], size: int) -> int:
        """``status.uploading_phase.bytes_transferred`` (0 when Meta has none yet)."""
        _, held, _ = video_status(await self.status(state["video_id"]))
        return held or 0

    async def send(self, state: dict[str, str], chunk: bytes, offset: int, size: int) -> int:
        """POST the bytes at ``offset`` to the upload URL (headers ``offset``, ``file_size``)."""
        url = state["upload_url"]
        if not self.adapter._trusted_upload_host(url):
            raise PlatformError(
                f"{self.adapter.title} gave an upload address on an unexpected host: {url[:80]}",
                platform=self.adapter.name,
            )
        response = await self.adapter.request(
            "POST",
            url,
            content=chunk,
            headers={
                "Authorization": f"OAuth {self.adapter.credential('page_access_token')}",
                "offset": str(offset),
                "file_size": str(size),
                "Content-Type": "application/octet-stream",
            },
            idempotent=False,  # after a cut the engine asks what Meta holds
        )
        body = json_object(response) or {}
        if body.get("success") is not True:
            raise self.adapter.unreadable(response, "a part of the Reel upload")
        return offset + len(chunk)

    async def finish(self, state: dict[str, str], size: int) -> dict[str, str]:
        """The video id, for the adapter's finish (which publishes)."""
        return {"video_id": state["video_id"]}


def _wanted_window(error: PlatformError) -> tuple[int, int] | None:
    """The window in a 1363037 refusal's ``error_data`` (None: not such a refusal)."""
    graph = getattr(error, "graph", None)
    if graph is None or graph.subcode != WRONG_OFFSET or graph.data is None:
        return None
    start, end = _number(graph.data.get("start_offset")), _number(graph.data.get("end_offset"))
    return (start, end) if start is not None and end is not None else None


def _number(value: Any) -> int | None:
    """An offset as Meta sends it: a number, or a string of digits ("start_offset": "0")."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return as_int(value)


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and bool(value)) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def upload_host_trusted(url: str, base_url: str) -> bool:
    """Whether the Page token may go to ``url``: Meta's hosts or the configured server."""
    host = (urlsplit(url).hostname or "").lower()
    if host == (urlsplit(base_url).hostname or "").lower():
        return True
    return host == "facebook.com" or host.endswith(".facebook.com")
