"""Charts of collected metrics, as matplotlib Figures for notebooks and reports.

Each function returns a new :class:`matplotlib.figure.Figure` drawn on the non-interactive Agg
canvas (pyplot's global state is never touched), so it works in scripts, workers and notebooks
alike; a notebook shows a Figure returned as a cell's value. Charts stay readable printed in
black and white: series differ by hatch pattern, marker and line style, not by colour alone.
:func:`figure_to_png` turns a Figure into PNG bytes for an HTML report.
"""

from __future__ import annotations

import io
import math
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from matplotlib import dates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from govsocial.analytics.analysis import (
    DEFAULT_ZONE,
    ENGAGEMENT_FIGURES,
    Period,
    _accounts_frame,
    _as_period,
    cadence,
)
from govsocial.core.errors import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]  # no pandas-stubs
    from matplotlib.axes import Axes

__all__ = [
    "figure_to_png",
    "plot_cadence",
    "plot_engagement",
    "plot_followers",
    "plot_opinion",
]

#: Fill patterns, greys, markers and line styles: series stay apart in grayscale print.
HATCHES: Final = ("", "///", "...", "xxx", "\\\\\\", "ooo", "---", "+++")
GREYS: Final = ("0.25", "0.55", "0.8", "1.0", "0.4", "0.7", "0.9", "0.15")
MARKERS: Final = ("o", "s", "^", "D", "v", "P", "X", "*")
LINE_STYLES: Final = ("-", "--", ":", "-.")
_INK: Final = "black"
#: The order of the opinion chart's parts: emergencies at the bottom, where they are seen.
_OPINION_ORDER: Final[tuple[str, ...]] = (
    "emergency",
    "hoax_report",
    "complaint",
    "question",
    "praise",
    "other",
    "unclassified",
    "negative",
    "neutral",
    "positive",
)
#: matplotlib.dates carries no annotations; its calls are checked by the tests instead.
_dates: Any = dates


def _figure(width: float = 8.0, height: float = 4.5) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _literal(text: object) -> str:
    """``text`` as matplotlib shows it literally: every ``$`` escaped, so a name such as
    ``a$b`` or ``$\\frac{a}{b}$`` is never parsed as math text (which garbles it, or raises
    on an unknown symbol). Every label drawn from data goes through here."""
    return str(text).replace("$", r"\$")


def _nothing(axes: Axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def _number(value: float) -> float:
    return 0.0 if math.isnan(value) else float(value)


def plot_engagement(summary_df: pd.DataFrame) -> Figure:
    """A bar per group of :func:`~govsocial.analytics.analysis.summary`, stacked by engagement kind.

    Each bar splits into likes, reposts, replies and quotes (a distinct hatch each); the total
    and the engagement rate are written above it. A figure a platform does not report adds
    nothing to its bar.
    """
    needed = [*ENGAGEMENT_FIGURES, "engagement", "engagement_rate"]
    columns = getattr(summary_df, "columns", None)
    if columns is None or any(name not in columns for name in needed):
        raise ConfigurationError(
            "plot_engagement needs a summary DataFrame",
            field="summary",
            hint="pass the result of govsocial.analytics.analysis.summary(...)",
        )
    attrs = getattr(summary_df, "attrs", {}) or {}
    by = str(attrs.get("by") or summary_df.index.name or "group")
    title = f"Engagement by {by}"
    if attrs.get("period"):
        title += f", {attrs['period']}"
    figure, axes = _figure()
    axes.set_title(_literal(title))
    groups = [_literal(name) for name in summary_df.index]
    if not groups or summary_df["engagement"].isna().all():
        _nothing(axes, "No engagement figures for this period")
        return figure
    positions = list(range(len(groups)))
    bottoms = [0.0] * len(groups)
    for k, name in enumerate(ENGAGEMENT_FIGURES):
        heights = [_number(value) for value in summary_df[name]]
        axes.bar(
            positions,
            heights,
            bottom=bottoms,
            width=0.6,
            label=name.capitalize(),
            color=GREYS[k],
            edgecolor=_INK,
            hatch=HATCHES[k],
            linewidth=0.8,
        )
        bottoms = [low + high for low, high in zip(bottoms, heights, strict=True)]
    for x, total, rate, top in zip(
        positions, summary_df["engagement"], summary_df["engagement_rate"], bottoms, strict=True
    ):
        text = "no data" if math.isnan(total) else f"{total:,.0f}"
        if not math.isnan(rate):
            text += f"\n{rate:.2%} rate"
        axes.annotate(
            text,
            (x, top),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axes.set_xticks(positions, groups, rotation=20 if len(groups) > 4 else 0)
    axes.set_xlabel(_literal(by.capitalize()))
    axes.set_ylabel("Likes + reposts + replies + quotes")
    axes.set_ylim(0, max(bottoms) * 1.25 or 1.0)
    axes.legend(title="Kind of engagement", fontsize=8)
    return figure


def plot_followers(
    accounts: pd.DataFrame, period: Period | str, *, zone: str = DEFAULT_ZONE
) -> Figure:
    """A line per account: its follower count over ``period``.

    Each line starts from the last count collected before the period (its baseline), when
    there is one; snapshots that do not report followers are skipped. Lines differ by marker
    and line style. Times are shown in the period's zone.
    """
    span = _as_period(period, zone)
    frame = _accounts_frame(accounts)
    figure, axes = _figure()
    axes.set_title(_literal(f"Followers, {span.label}"))
    known = frame[frame["followers"].notna() & (frame["collected_at"] < span.end)]
    known = known.sort_values("collected_at", kind="mergesort")
    drawn = 0
    for (platform, account), rows in known.groupby(["platform", "account"], sort=True):
        inside = rows[rows["collected_at"] >= span.start]
        if inside.empty:
            continue
        baseline = rows[rows["collected_at"] < span.start].tail(1)
        points = rows.loc[[*baseline.index, *inside.index]]
        when = points["collected_at"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        axes.plot(
            when,
            points["followers"].to_numpy(),
            label=_literal(f"{account} ({platform})"),
            color=_INK if drawn % 2 == 0 else "0.45",
            marker=MARKERS[drawn % len(MARKERS)],
            linestyle=LINE_STYLES[drawn % len(LINE_STYLES)],
            linewidth=1.5,
            markersize=5,
        )
        drawn += 1
    if not drawn:
        _nothing(axes, "No follower counts collected in this period")
        return figure
    axes.set_ylim(bottom=0)  # follower counts are never negative
    tz = ZoneInfo(span.zone)
    locator = _dates.AutoDateLocator(tz=tz)
    axes.xaxis.set_major_locator(locator)
    formatter = _dates.ConciseDateFormatter(locator, tz=tz, show_offset=False)
    axes.xaxis.set_major_formatter(formatter)
    axes.set_xlim(_dates.date2num(span.start), _dates.date2num(span.end))
    axes.set_xlabel(f"Collected at ({span.zone})")
    axes.set_ylabel("Followers")
    axes.legend(title="Account", fontsize=8)
    return figure


def plot_cadence(
    posts: pd.DataFrame,
    period: Period | str,
    *,
    every: str | None = None,
    by: str = "platform",
    zone: str = DEFAULT_ZONE,
) -> Figure:
    """Posts published per local day (or ISO week) of ``period``, stacked per platform.

    :param every: ``"day"`` or ``"week"``; by default days for periods up to 62 days.
    :param by: ``"platform"`` or ``"account"``: what the stacked parts stand for.
    """
    span = _as_period(period, zone)
    counts = cadence(posts, span, every=every, by=by)
    unit = str(counts.index.name)
    figure, axes = _figure()
    axes.set_title(_literal(f"Posts per {unit}, {span.label}"))
    buckets = list(counts.index)
    positions = list(range(len(buckets)))
    if counts.columns.empty or int(counts.to_numpy().sum()) == 0:
        _nothing(axes, "No posts published in this period")
        return figure
    bottoms = [0.0] * len(buckets)
    for k, name in enumerate(counts.columns):
        heights = [float(value) for value in counts[name]]
        axes.bar(
            positions,
            heights,
            bottom=bottoms,
            width=0.8,
            label=_literal(name),
            color=GREYS[k % len(GREYS)],
            edgecolor=_INK,
            hatch=HATCHES[k % len(HATCHES)],
            linewidth=0.6,
        )
        bottoms = [low + high for low, high in zip(bottoms, heights, strict=True)]
    step = max(1, math.ceil(len(buckets) / 16))
    shown = positions[::step]
    if unit == "day":
        labels = [buckets[i].strftime("%d %b") for i in shown]
    else:
        labels = [f"W{buckets[i].isocalendar()[1]:02d}" for i in shown]
    axes.set_xticks(shown, labels, rotation=45 if len(shown) > 8 else 0)
    axes.set_xlabel(f"{unit.capitalize()} ({span.zone})")
    axes.set_ylabel("Posts published")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(title=by.capitalize(), fontsize=8)
    return figure


def plot_opinion(
    opinion: pd.DataFrame,
    period: Period | str,
    *,
    by: str = "intent",
    zone: str = DEFAULT_ZONE,
) -> Figure:
    """Messages per local day of ``period``, stacked by ``by`` (``"intent"``,
    ``"sentiment"``, ``"platform"`` or ``"source"``), from
    :func:`~govsocial.analytics.opinion.opinion_frame`. Every day of the period gets a bar,
    empty ones too, so quiet days show as quiet.
    """
    columns = getattr(opinion, "columns", None)
    if columns is None or any(name not in columns for name in ("day", by, "messages")):
        raise ConfigurationError(
            f"plot_opinion needs an opinion frame with a {by!r} column",
            field="opinion",
            hint="pass ws.opinion_frame(period); by is intent, sentiment, platform or source",
        )
    span = _as_period(period, zone)
    tz = ZoneInfo(span.zone)
    first = span.start.astimezone(tz).date()
    last = (span.end - timedelta(microseconds=1)).astimezone(tz).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    counts: dict[str, dict[date, float]] = {}
    for day, name, messages in zip(opinion["day"], opinion[by], opinion["messages"], strict=True):
        when = day.date() if hasattr(day, "date") else day
        part = counts.setdefault(str(name), {})
        part[when] = part.get(when, 0.0) + float(messages)
    figure, axes = _figure()
    axes.set_title(_literal(f"Messages per day by {by}, {span.label}"))
    if not any(sum(part.get(d, 0.0) for d in days) for part in counts.values()):
        _nothing(axes, "No messages received in this period")
        return figure
    positions = list(range(len(days)))
    bottoms = [0.0] * len(days)
    order = [name for name in _OPINION_ORDER if name in counts]
    order += sorted(name for name in counts if name not in _OPINION_ORDER)
    for position, name in enumerate(order):
        # an intent keeps its fill from report to report, whichever others are there
        k = _OPINION_ORDER.index(name) if name in _OPINION_ORDER else position
        heights = [counts[name].get(d, 0.0) for d in days]
        axes.bar(
            positions,
            heights,
            bottom=bottoms,
            width=0.8,
            label=_literal(name.replace("_", " ")),
            color=GREYS[k % len(GREYS)],
            edgecolor=_INK,
            hatch=HATCHES[k % len(HATCHES)],
            linewidth=0.6,
        )
        bottoms = [low + high for low, high in zip(bottoms, heights, strict=True)]
    step = max(1, math.ceil(len(days) / 16))
    shown = positions[::step]
    axes.set_xticks(
        shown, [days[i].strftime("%d %b") for i in shown], rotation=45 if len(shown) > 8 else 0
    )
    axes.set_xlabel(f"Day ({span.zone})")
    axes.set_ylabel("Messages received")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(title=by.capitalize(), fontsize=8)
    return figure


def figure_to_png(fig: Figure, *, dpi: int = 150) -> bytes:
    """The PNG image of ``fig``, for embedding in an HTML report (``data:image/png;base64``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
