"""A video's facts held against a platform's video rules, offline.

:func:`video_problems` compares a :class:`~govsocial.core.video.VideoInfo` (read from the
file by PyAV) with a platform's :class:`~govsocial.adapters.platform.VideoLimits` and says,
in people's units, what is wrong and how to fix it: "Instagram needs 3 s to 15 min; this is
16 min 40 s: cut it". ``captions_problem`` (from the adapter SDK's media checks, where
adapters use it too) checks a captions file is SubRip or WebVTT in UTF-8.
"""

from __future__ import annotations

from govsocial.adapters.media_safety import captions_problem
from govsocial.adapters.platform import VideoLimits
from govsocial.core.problem import Problem
from govsocial.core.video import VideoInfo, describe_duration

__all__ = ["captions_problem", "video_problems"]


def _ratio(value: float) -> str:
    """0.5625 -> "9:16"-like text people know, else two decimals."""
    for label, known in (("9:16", 9 / 16), ("16:9", 16 / 9), ("1:1", 1.0), ("4:5", 0.8)):
        if abs(value - known) < 0.005:
            return label
    return f"{value:.2f}:1"


def _where(rules: VideoLimits) -> str:
    return f" ({rules.source})" if rules.source else ""


def video_problems(info: VideoInfo, rules: VideoLimits, *, title: str, field: str) -> list[Problem]:
    """Every way ``info`` breaks ``rules`` on the platform called ``title``."""
    problems: list[Problem] = []
    where = _where(rules)

    def add(code: str, message: str, limit: float | None = None) -> None:
        problems.append(
            Problem(
                code=code,
                message=message + where,
                field=field,
                limit=int(limit) if limit is not None else None,
            )
        )

    low, high = rules.min_duration, rules.max_duration
    if (low is not None and info.duration < low) or (high is not None and info.duration > high):
        span = (
            f"{describe_duration(low)} to {describe_duration(high)}"
            if low is not None and high is not None
            else f"at least {describe_duration(low)}"
            if low is not None
            else f"at most {describe_duration(high or 0)}"
        )
        fix = "cut it" if high is not None and info.duration > high else "make it longer"
        add(
            "video_duration",
            f"{title} needs {span}; this is {describe_duration(info.duration)}: {fix}",
            high if high is not None and info.duration > high else low,
        )
    ratio = info.aspect_ratio
    low_r, high_r = rules.min_aspect_ratio, rules.max_aspect_ratio
    if (low_r is not None and ratio < low_r - 1e-3) or (
        high_r is not None and ratio > high_r + 1e-3
    ):
        bounds = f"{_ratio(low_r or 0)} to {_ratio(high_r or 0)}"
        add(
            "video_aspect_ratio",
            f"{title} takes videos of aspect ratio {bounds}; this is {info.width}x{info.height} "
            f"({_ratio(ratio)}): crop or pad it",
        )
    for code, actual, low_px, high_px, what in (
        ("video_width", info.width, rules.min_width, rules.max_width, "wide"),
        ("video_height", info.height, rules.min_height, rules.max_height, "high"),
    ):
        if high_px is not None and actual > high_px:
            add(
                code,
                f"{title} takes videos up to {high_px} px {what}; this is {actual} px: "
                "scale it down",
                high_px,
            )
        elif low_px is not None and actual < low_px:
            add(
                code,
                f"{title} takes videos at least {low_px} px {what}; this is {actual} px: "
                "export it larger",
                low_px,
            )
    if rules.max_pixels is not None and info.width * info.height > rules.max_pixels:
        add(
            "video_resolution",
            f"{title} takes videos of at most {rules.max_pixels:,} pixels; this is "
            f"{info.width}x{info.height} = {info.width * info.height:,}: scale it down",
            rules.max_pixels,
        )
    rate = info.frame_rate
    if rate is not None:
        if rules.max_frame_rate is not None and rate > rules.max_frame_rate + 0.01:
            add(
                "video_frame_rate",
                f"{title} takes at most {rules.max_frame_rate:g} frames per second; this has "
                f"{rate:g}: export it at {min(30, rules.max_frame_rate):g} fps",
                rules.max_frame_rate,
            )
        elif rules.min_frame_rate is not None and rate < rules.min_frame_rate - 0.01:
            add(
                "video_frame_rate",
                f"{title} needs at least {rules.min_frame_rate:g} frames per second; this has "
                f"{rate:g}: export it at 30 fps",
                rules.min_frame_rate,
            )
    if rules.video_codecs and info.video_codec not in rules.video_codecs:
        add(
            "video_codec",
            f"{title} takes video coded as {', '.join(sorted(rules.video_codecs))}; this is "
            f"{info.video_codec}: export it as H.264",
        )
    if info.audio_codec is not None:
        if rules.audio_codecs and info.audio_codec not in rules.audio_codecs:
            add(
                "audio_codec",
                f"{title} takes sound coded as {', '.join(sorted(rules.audio_codecs))}; this "
                f"is {info.audio_codec}: export the sound as AAC",
            )
        channels = info.audio_channels
        if (
            rules.max_audio_channels is not None
            and channels
            and channels > rules.max_audio_channels
        ):
            add(
                "audio_channels",
                f"{title} takes at most {rules.max_audio_channels} sound channels (stereo); "
                f"this has {channels}: mix it down to stereo",
                rules.max_audio_channels,
            )
    if (
        rules.max_bitrate is not None
        and info.bitrate is not None
        and info.bitrate > rules.max_bitrate
    ):
        add(
            "video_bitrate",
            f"{title} takes up to {rules.max_bitrate / 1e6:g} Mbit/s; this is "
            f"{info.bitrate / 1e6:.1f} Mbit/s: export it at a lower bit rate",
            rules.max_bitrate,
        )
    return problems
