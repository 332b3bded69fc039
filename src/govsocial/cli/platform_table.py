"""The table of what each installed platform supports, built from the adapters' declarations.

docs/platforms.md holds its output (``govsocial platforms --markdown``); a test fails when
the page and the adapters disagree, so the docs cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Mapping

from govsocial.adapters.platform import METRIC_FIELDS, Limits, Platform
from govsocial.core.models import describe_duration

__all__ = ["platforms_markdown"]


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    if value % (1024 * 1024) == 0:
        return f"{value // (1024 * 1024)} MiB"
    if value >= 1_000_000:
        return f"{value / 1_000_000:g} MB"
    return f"{value:,} B"


def _mimes(types: frozenset[str]) -> str:
    return ", ".join(sorted(t.split("/", 1)[1] for t in types)) or "-"


def _alt(limits: Limits) -> str:
    if not limits.alt_text:
        return "no"
    return f"up to {limits.max_alt_text}" if limits.max_alt_text else "yes"


def _span(low: float | None, high: float | None, unit: str = "") -> str:
    if low is None and high is None:
        return "-"
    if unit == "duration":
        low_text = describe_duration(low) if low is not None else ""
        high_text = describe_duration(high) if high is not None else ""
    else:
        low_text = f"{low:g}" if low is not None else ""
        high_text = f"{high:g}" if high is not None else ""
    if low is None:
        return f"up to {high_text}"
    if high is None:
        return f"at least {low_text}"
    return f"{low_text} to {high_text}"


def _video(limits: Limits, what: str) -> str:
    rules = limits.video
    if rules is None or not limits.video_types:
        return "-"
    if what == "duration":
        return _span(rules.min_duration, rules.max_duration, "duration")
    if what == "aspect":
        return _span(
            round(rules.min_aspect_ratio, 2) if rules.min_aspect_ratio is not None else None,
            rules.max_aspect_ratio,
        )
    if what == "frames":
        return _span(rules.min_frame_rate, rules.max_frame_rate)
    if what == "picture":
        parts = []
        if rules.max_width:
            parts.append(f"<= {rules.max_width} wide")
        if rules.max_height:
            parts.append(f"<= {rules.max_height} high")
        if rules.max_pixels:
            parts.append(f"<= {rules.max_pixels:,} px")
        return ", ".join(parts) or "-"
    codecs = sorted(rules.video_codecs) + sorted(rules.audio_codecs)
    return ", ".join(codecs) or "any"


def platforms_markdown(platforms: Mapping[str, type[Platform]]) -> str:
    """A Markdown table, one column per platform, one row per capability or limit."""
    names = list(platforms)
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, values: list[str]) -> None:
        rows.append((label, values))

    classes = [platforms[name] for name in names]
    limits = [cls.limits for cls in classes]
    row("credentials", [", ".join(f"`{f}`" for f in cls.credential_fields) for cls in classes])
    row("text limit", [str(lim.max_characters) for lim in limits])
    row("bytes limit", [str(lim.max_bytes) if lim.max_bytes else "-" for lim in limits])
    row("a URL counts as", [str(lim.url_length or "its length") for lim in limits])
    row("media per post", [str(lim.max_media) for lim in limits])
    row("image types", [_mimes(lim.image_types) for lim in limits])
    row("image size", [_size(lim.max_image_bytes) for lim in limits])
    row("video types", [_mimes(lim.video_types) for lim in limits])
    row("video size", [_size(lim.max_video_bytes) for lim in limits])
    row("video duration", [_video(lim, "duration") for lim in limits])
    row("video aspect ratio (w/h)", [_video(lim, "aspect") for lim in limits])
    row("video frame rate (fps)", [_video(lim, "frames") for lim in limits])
    row("video picture", [_video(lim, "picture") for lim in limits])
    row("video codecs", [_video(lim, "codecs") for lim in limits])
    row(
        "GIF size",
        [
            _size(lim.max_gif_bytes or lim.max_image_bytes)
            if "image/gif" in lim.image_types
            else "-"
            for lim in limits
        ],
    )
    row("alt text", [_alt(lim) for lim in limits])
    row("threads / replies", ["yes" if lim.threads else "no" for lim in limits])
    row("delete", ["yes" if lim.delete else "no" for lim in limits])
    for figure in METRIC_FIELDS:
        row(f"metric: {figure}", ["yes" if figure in lim.post_metrics else "-" for lim in limits])
    for figure in ("followers", "following", "posts"):
        row(f"account: {figure}", ["yes" if figure in lm.account_metrics else "-" for lm in limits])
    header = "| | " + " | ".join(cls.title for cls in classes) + " |"
    rule = "|---" * (len(names) + 1) + "|"
    body = ["| " + label + " | " + " | ".join(values) + " |" for label, values in rows]
    return "\n".join([header, rule, *body]) + "\n"
