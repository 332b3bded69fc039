"""Analysis of collected metrics: periods, engagement rate, summaries, top posts, follower growth.

Every function here is pure: it takes the DataFrames that ``Workspace.metrics_frame("posts")``
and ``Workspace.metrics_frame("accounts")`` return and gives back a new DataFrame. A figure a
platform does not report is missing (NaN) and stays missing: it is never counted as 0, and a sum
over a group where no post reports the figure is NaN, not 0.

Periods are written the way people say them (``"2026-11"``, ``"2026-W48"``, ``"2026-Q4"``) and
read in a local time zone, ``Asia/Jakarta`` unless told otherwise: November in Jakarta starts at
``2026-10-31T17:00Z``. See :class:`Period`.

Engagement rate, defined once
-----------------------------
The *engagement* of a post is ``likes + reposts + replies + quotes`` taken from the post's latest
snapshot. A figure the platform does not report is left out of the sum (not counted as 0); when
none of the four is reported the engagement is missing (NaN).

The *engagement rate* of a post is its engagement divided by the followers of its account, taken
from the latest account snapshot that reports followers, collected at or before the post's latest
snapshot. It is missing when the engagement is missing, when no such account snapshot exists, or
when the account has 0 followers.

The engagement rate of a *group* of posts (a platform, an account, a label) is the sum of the
engagements divided by the sum of the matching follower counts, over the posts whose rate is
known. This is the follower-weighted mean of the posts' rates: a post seen by 50,000 followers
weighs more than one seen by 200, so a single lucky post on a tiny account cannot swing the figure
of a whole platform, as it would in a plain mean of per-post rates. Posts whose rate is unknown
are left out of both sums, so missing data never pulls the rate towards 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from govsocial.adapters.platform import METRIC_FIELDS
from govsocial.analytics import frames
from govsocial.core.errors import ConfigurationError
from govsocial.core.timing import check_zone

try:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]  # no pandas-stubs installed
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "govsocial.analytics.analysis needs pandas: pip install 'govsocial[notebook]'"
    ) from error

__all__ = [
    "ACCOUNT_COLUMNS",
    "BY",
    "DEFAULT_ZONE",
    "ENGAGEMENT_FIGURES",
    "FIGURES",
    "NO_LABEL",
    "POST_COLUMNS",
    "SUMMARY_COLUMNS",
    "Period",
    "cadence",
    "engagement",
    "engagement_rate",
    "follower_growth",
    "latest",
    "summary",
    "top_posts",
]

#: The figures of a post, in the one vocabulary shared by every platform.
FIGURES: Final = METRIC_FIELDS
#: The figures that add up to a post's engagement (see the module docstring).
ENGAGEMENT_FIGURES: Final = ("likes", "reposts", "replies", "quotes")
#: Columns of the posts frame, one row per post snapshot.
POST_COLUMNS: Final = frames.POST_COLUMNS
#: Columns of the accounts frame, one row per account snapshot.
ACCOUNT_COLUMNS: Final = frames.ACCOUNT_COLUMNS
#: What :func:`summary` can group by.
BY: Final = ("platform", "account", "label")
#: The label group of posts that carry no label.
NO_LABEL: Final = "(no label)"
#: The figures :func:`summary` sums per group.
SUMMARY_FIGURES: Final = ("views", "likes", "reposts", "replies", "quotes")
#: Columns of :func:`summary`, in order.
SUMMARY_COLUMNS: Final = (
    "posts",
    *SUMMARY_FIGURES,
    "engagement",
    "engagement_rate",
    "followers",
    "follower_growth",
    "posts_per_week",
    "posts_change",
    "likes_change",
    "engagement_change",
)
#: Columns of :func:`follower_growth`, in order.
GROWTH_COLUMNS: Final = ("platform", "account", "start", "end", "change", "start_at", "end_at")
#: Columns of :func:`top_posts` (without ``accounts``), in order.
TOP_COLUMNS: Final = (
    "platform",
    "account",
    "post_id",
    "url",
    "published_at",
    *FIGURES,
    "engagement",
)

DEFAULT_ZONE: Final = "Asia/Jakarta"
_KEYS: Final = ["platform", "account", "post_id"]
_ACCOUNT_KEYS: Final = ["platform", "account"]
_UNITS: Final = ("day", "week", "month", "quarter", "year", "days", "custom")
_PERIOD_FORMS: Final = (
    "use one of: 2026-11 (a month), 2026-W48 (an ISO week), 2026-Q4 (a quarter), 2026 (a year), "
    "2026-11-03 (a day), 2026-11-01..2026-11-15 (days, both included)"
)
_DAY: Final = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_PATTERNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("year", re.compile(r"(\d{4})")),
    ("quarter", re.compile(r"(\d{4})-?[Qq](\d{1,2})")),
    ("week", re.compile(r"(\d{4})-?[Ww](\d{1,2})")),
    ("month", re.compile(r"(\d{4})-(\d{1,2})")),
    ("day", re.compile(_DAY)),
    ("days", re.compile(_DAY + r"\s*\.\.\s*" + _DAY)),
)


def _bad_period(message: str) -> ConfigurationError:
    return ConfigurationError(message, field="period", hint=_PERIOD_FORMS)


def _local_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _add_months(year: int, month: int, months: int) -> date:
    index = year * 12 + (month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A span of time to report on: ``start`` included, ``end`` excluded, both aware UTC.

    Build one with :meth:`Period.parse` from what a person writes; ``label`` is that text in its
    normal form (``"2026-W05"``), ``zone`` the time zone its days were read in, and ``unit`` what
    kind of span it is (``day``, ``week``, ``month``, ``quarter``, ``year``, ``days`` for a range
    of days, ``custom`` for one built directly from two instants).
    """

    start: datetime
    end: datetime
    label: str
    zone: str = "UTC"
    unit: str = "custom"

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise _bad_period(f"period {name} must be an aware datetime, got {value!r}")
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.start >= self.end:
            raise _bad_period(f"period {self.label!r} must start before it ends")
        check_zone(self.zone)
        if self.unit not in _UNITS:
            raise ConfigurationError(
                f"unknown period unit {self.unit!r}", field="period", hint=f"use one of {_UNITS}"
            )

    def __str__(self) -> str:
        return self.label

    @property
    def length(self) -> timedelta:
        """How long the period lasts."""
        return self.end - self.start

    @property
    def first_day(self) -> date:
        """The local date the period starts on (in ``zone``)."""
        return self.start.astimezone(ZoneInfo(self.zone)).date()

    @classmethod
    def parse(cls, text: str, *, zone: str = DEFAULT_ZONE) -> Period:
        """Read a period as people write it, its days counted in the local ``zone``.

        Accepted forms: ``"2026-11"`` (a month), ``"2026-W48"`` (an ISO 8601 week, Monday to
        Sunday), ``"2026-Q4"`` (a quarter), ``"2026"`` (a year), ``"2026-11-03"`` (a day) and
        ``"2026-11-01..2026-11-15"`` (a range of days, both ends included).

        :raises ConfigurationError: (field ``period``) text in none of these forms, or naming a
            date that does not exist; (field ``timezone``) an unknown ``zone``.
        """
        check_zone(zone)
        if not isinstance(text, str):
            raise _bad_period(f"a period is written as text, got {type(text).__name__}")
        cleaned = text.strip()
        for unit, pattern in _PATTERNS:
            found = pattern.fullmatch(cleaned)
            if found:
                numbers = [int(part) for part in found.groups()]
                try:
                    return cls._build(unit, numbers, zone)
                except (ValueError, OverflowError) as error:
                    raise _bad_period(f"period {text!r} does not exist: {error}") from None
        raise _bad_period(f"cannot read period {text!r}")

    @classmethod
    def _build(cls, unit: str, numbers: list[int], zone: str) -> Period:
        year = numbers[0]
        if year < 1:
            raise ValueError("year 0 does not exist")
        if unit == "year":
            return cls._days(date(year, 1, 1), date(year + 1, 1, 1), f"{year:04d}", zone, unit)
        if unit == "quarter":
            quarter = numbers[1]
            if not 1 <= quarter <= 4:
                raise ValueError(f"a year has quarters 1 to 4, not {quarter}")
            first = date(year, 3 * quarter - 2, 1)
            label = f"{year:04d}-Q{quarter}"
            return cls._days(first, _add_months(year, first.month, 3), label, zone, unit)
        if unit == "week":
            week = numbers[1]
            try:
                monday = date.fromisocalendar(year, week, 1)
            except ValueError:
                raise ValueError(f"{year} has no ISO week {week}") from None
            label = f"{year:04d}-W{week:02d}"
            return cls._days(monday, monday + timedelta(days=7), label, zone, unit)
        if unit == "month":
            month = numbers[1]
            if not 1 <= month <= 12:
                raise ValueError(f"a year has months 1 to 12, not {month}")
            first = date(year, month, 1)
            label = f"{year:04d}-{month:02d}"
            return cls._days(first, _add_months(year, month, 1), label, zone, unit)
        if unit == "day":
            day = date(*numbers)
            return cls._days(day, day + timedelta(days=1), day.isoformat(), zone, unit)
        first, last = date(*numbers[:3]), date(*numbers[3:])
        if last < first:
            raise ValueError(f"it starts on {first} after it ends on {last}")
        return cls._days(first, last + timedelta(days=1), f"{first}..{last}", zone, unit)

    @classmethod
    def _days(cls, first: date, stop: date, label: str, zone: str, unit: str) -> Period:
        """The local days from ``first`` up to ``stop`` (excluded)."""
        return cls(_local_midnight(first, zone), _local_midnight(stop, zone), label, zone, unit)

    def previous(self) -> Period:
        """The period just before this one, for period-over-period comparison.

        "Same length" is meant in the period's own unit: the month before a month (October
        before November, though one has 31 days and the other 30), the ISO week, quarter, year
        or day before; the same number of days before a range of days; the same duration before
        a ``custom`` period.
        """
        first = self.first_day
        if self.unit == "day":
            return Period.parse((first - timedelta(days=1)).isoformat(), zone=self.zone)
        if self.unit == "week":
            year, week, _ = (first - timedelta(days=7)).isocalendar()
            return Period.parse(f"{year}-W{week:02d}", zone=self.zone)
        if self.unit == "month":
            before = _add_months(first.year, first.month, -1)
            return Period.parse(f"{before.year:04d}-{before.month:02d}", zone=self.zone)
        if self.unit == "quarter":
            before = _add_months(first.year, first.month, -3)
            return Period.parse(f"{before.year:04d}-Q{(before.month + 2) // 3}", zone=self.zone)
        if self.unit == "year":
            return Period.parse(f"{first.year - 1:04d}", zone=self.zone)
        if self.unit == "days":
            stop = self.end.astimezone(ZoneInfo(self.zone)).date()
            count = (stop - first).days
            begin, last = first - timedelta(days=count), first - timedelta(days=1)
            return Period.parse(f"{begin}..{last}", zone=self.zone)
        start = self.start - self.length
        return Period(
            start, self.start, f"{start.isoformat()}..{self.start.isoformat()}", self.zone, "custom"
        )


def _as_period(period: Period | str, zone: str) -> Period:
    if isinstance(period, Period):
        return period
    return Period.parse(period, zone=zone)


# --- frames in, checked -------------------------------------------------------------------


def _utc_column(frame: Any, column: str, what: str) -> Any:
    try:
        return pd.to_datetime(frame[column], utc=True).dt.as_unit("ns")
    except (ValueError, TypeError) as error:
        raise ConfigurationError(
            f"{what} frame column {column!r} does not hold times: {error}", field=what
        ) from None


def _checked(frame: Any, what: str, required: tuple[str, ...], figures: tuple[str, ...]) -> Any:
    """A normalised copy of ``frame``: UTC times, float figures, absent figures as NaN."""
    if not isinstance(frame, pd.DataFrame):
        raise ConfigurationError(
            f"{what} must be a pandas DataFrame, got {type(frame).__name__}",
            field=what,
            hint=f"use ws.metrics_frame({what!r})",
        )
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise ConfigurationError(
            f"{what} frame lacks the columns {', '.join(missing)}",
            field=what,
            hint=f"use ws.metrics_frame({what!r})",
        )
    out = frame.copy()
    for column in ("published_at", "collected_at"):
        if column in out.columns:
            out[column] = _utc_column(out, column, what)
    for column in figures:
        if column in out.columns:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
        else:
            out[column] = float("nan")
    return out


def _posts_frame(posts: Any) -> Any:
    required = ("platform", "account", "post_id", "published_at", "collected_at")
    out = _checked(posts, "posts", required, FIGURES)
    for column in ("url", "labels"):
        if column not in out.columns:
            out[column] = None
    return out


def _accounts_frame(accounts: Any) -> Any:
    required = ("platform", "account", "collected_at")
    return _checked(accounts, "accounts", required, ("followers", "following", "posts"))


def _latest(frame: Any) -> Any:
    ordered = frame.sort_values("collected_at", kind="mergesort", na_position="first")
    newest = ordered.drop_duplicates(_KEYS, keep="last")
    return newest.sort_values(
        [*_KEYS, "published_at"], kind="mergesort", na_position="last"
    ).reset_index(drop=True)


def _published_in(frame: Any, period: Period) -> Any:
    when = frame["published_at"]
    return frame[(when >= period.start) & (when < period.end)]


# --- engagement -----------------------------------------------------------------------------


def latest(posts: pd.DataFrame) -> pd.DataFrame:
    """The latest snapshot of each post: one row per (platform, account, post_id).

    Rows come out sorted by platform, account and post_id, with a fresh index.
    """
    return _latest(_posts_frame(posts))


def engagement(posts: pd.DataFrame) -> Any:
    """The engagement of each row of ``posts``: a float Series aligned with it.

    ``likes + reposts + replies + quotes``, leaving out the figures that are missing; NaN when
    all four are missing (see the module docstring).
    """
    frame = _posts_frame(posts)
    return frame[list(ENGAGEMENT_FIGURES)].sum(axis=1, min_count=1)


def _rate(posts: Any, accounts: Any) -> Any:
    """Add ``engagement``, ``followers`` and ``engagement_rate`` to checked latest posts."""
    out = posts.copy()
    out["engagement"] = out[list(ENGAGEMENT_FIGURES)].sum(axis=1, min_count=1)
    out["followers"] = float("nan")
    known = accounts[accounts["followers"].notna() & accounts["collected_at"].notna()]
    when = out["collected_at"].notna()
    if not known.empty and when.any():
        right = known[[*_ACCOUNT_KEYS, "collected_at", "followers"]].rename(
            columns={"collected_at": "_at"}
        )
        right = right.sort_values("_at", kind="mergesort")
        left = out.loc[when, [*_ACCOUNT_KEYS, "collected_at"]].copy()
        left["_row"] = left.index
        left = left.sort_values("collected_at", kind="mergesort")
        for key in _ACCOUNT_KEYS:  # merge_asof insists the "by" columns have one dtype
            left[key] = left[key].astype(object)
            right[key] = right[key].astype(object)
        matched = pd.merge_asof(
            left,
            right,
            left_on="collected_at",
            right_on="_at",
            by=_ACCOUNT_KEYS,
            direction="backward",
            allow_exact_matches=True,
        )
        out.loc[matched["_row"].to_numpy(), "followers"] = matched["followers"].to_numpy()
    followers = out["followers"].where(out["followers"] > 0)
    out["engagement_rate"] = out["engagement"] / followers
    return out


def engagement_rate(posts: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """The latest snapshot of each post, with its engagement, followers and engagement rate.

    The *engagement* of a post is ``likes + reposts + replies + quotes`` from its latest
    snapshot; a figure the platform does not report is left out (not counted as 0), and when
    none of the four is reported the engagement is NaN. Its *engagement rate* is the engagement
    divided by the followers of its account at the latest account snapshot that reports
    followers, collected at or before the post's latest snapshot; NaN when the engagement is
    NaN, when there is no such snapshot or when the account has 0 followers.

    For a group of posts, :func:`summary` divides the sum of the engagements by the sum of the
    matching followers, over the posts whose rate is known: the follower-weighted mean of their
    rates, so a lucky post on a tiny account does not swing a whole platform's figure, and
    unknown data never pulls the rate towards 0.

    :return: :func:`latest` of ``posts`` plus the columns ``engagement``, ``followers`` and
        ``engagement_rate`` (a fraction: 0.05 is 5 %).
    """
    return _rate(_latest(_posts_frame(posts)), _accounts_frame(accounts))


# --- summaries ------------------------------------------------------------------------------


def _label_list(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return sorted(f"{key}: {text}" for key, text in value.items()) or [NO_LABEL]
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return [NO_LABEL]
    raise ConfigurationError(
        f"post labels must be a dict such as {{'program': 'vaksinasi'}}, got {value!r}",
        field="labels",
    )


def _empty(columns: tuple[str, ...] | list[str], index: str | None = None) -> Any:
    frame = pd.DataFrame({column: pd.Series(dtype="float64") for column in columns})
    if index is not None:
        frame.index = pd.Index([], dtype=object, name=index)
    return frame


_TOTALS: Final = ("posts", *SUMMARY_FIGURES, "engagement", "_reached", "_followers")


def _post_totals(rated: Any, period: Period, by: str) -> Any:
    """Per group: posts published in ``period`` and their summed figures."""
    inside = _published_in(rated, period)
    if by == "label":
        inside = inside.assign(label=inside["labels"].map(_label_list)).explode("label")
    if inside.empty:
        return _empty(_TOTALS, by)
    known = inside["engagement_rate"].notna()
    inside = inside.assign(
        _reached=inside["engagement"].where(known), _followers=inside["followers"].where(known)
    )
    grouped = inside.groupby(by, sort=True)
    totals = grouped[[*SUMMARY_FIGURES, "engagement", "_reached", "_followers"]].sum(min_count=1)
    totals.insert(0, "posts", grouped.size().astype("float64"))
    return totals


def _change(now: Any, before: Any) -> Any:
    base = before.where(before != 0)
    return (now - base) / base


def _group_order(key: str) -> tuple[bool, str]:
    return (key == NO_LABEL, key)


def summary(
    posts: pd.DataFrame,
    accounts: pd.DataFrame,
    period: Period | str,
    by: str = "platform",
    *,
    zone: str = DEFAULT_ZONE,
) -> pd.DataFrame:
    """One row per platform, account or label, describing ``period``.

    :param period: a :class:`Period`, or text for :meth:`Period.parse` read in ``zone``.
    :param by: ``"platform"``, ``"account"`` or ``"label"``. Labels are split into
        ``"key: value"`` groups (``"program: vaksinasi"``); a post with two labels counts in
        both groups, so label rows overlap and must not be added up. Posts without labels form
        the group ``"(no label)"``, shown last.
    :return: a DataFrame indexed by the group, with the columns :data:`SUMMARY_COLUMNS`:

        - ``posts``: posts published in the period (their ``published_at``).
        - ``views`` ... ``quotes``: sums over the latest snapshot of those posts; NaN when no
          post of the group reports the figure (never 0).
        - ``engagement`` and ``engagement_rate``: see the module docstring.
        - ``followers``: the latest follower count collected in the period, summed over the
          group's accounts that have one; ``follower_growth``: that minus the latest count
          collected before the period, summed over the accounts where both are known (see
          :func:`follower_growth`). Both NaN for labels, which have no followers.
        - ``posts_per_week``: the posting cadence, posts divided by the period's length in
          weeks.
        - ``posts_change``, ``likes_change``, ``engagement_change``: relative change from
          :meth:`Period.previous` (0.25 is +25 %); NaN when the previous value is 0 or NaN.
          Figures are lifetime totals of each post as last collected, so an older period has
          had longer to gather them.

        Groups are those with posts in the period or the previous one, plus (for platforms and
        accounts) every account snapshotted before the period ends, so an account that posted
        nothing still shows with 0 posts. ``attrs`` holds ``period``, ``by`` and ``zone``.
    :raises ConfigurationError: an unknown ``by`` (field ``by``) or ``period``, or frames
        lacking the columns of ``ws.metrics_frame``.
    """
    if by not in BY:
        raise ConfigurationError(
            f"cannot summarise by {by!r}", field="by", hint="use one of: platform, account, label"
        )
    span = _as_period(period, zone)
    rated = _rate(_latest(_posts_frame(posts)), _accounts_frame(accounts))
    now = _post_totals(rated, span, by)
    before = _post_totals(rated, span.previous(), by)
    if by == "label":
        audience = _empty(("followers", "follower_growth"), by)
    else:
        growth = _growth(_accounts_frame(accounts), span)
        audience = (
            growth.groupby(by, sort=True)[["end", "change"]]
            .sum(min_count=1)
            .rename(columns={"end": "followers", "change": "follower_growth"})
        )
    keys = sorted({*now.index, *before.index, *audience.index}, key=_group_order)
    index = pd.Index(keys, dtype=object, name=by)
    out = pd.DataFrame(index=index)
    out["posts"] = now["posts"].reindex(index).fillna(0.0).astype("int64")
    for figure in (*SUMMARY_FIGURES, "engagement"):
        out[figure] = now[figure].reindex(index).astype("float64")
    reached = now["_reached"].reindex(index)
    base = now["_followers"].reindex(index)
    out["engagement_rate"] = (reached / base.where(base > 0)).astype("float64")
    for column in ("followers", "follower_growth"):
        out[column] = audience[column].reindex(index).astype("float64")
    weeks = span.length / timedelta(days=7)
    out["posts_per_week"] = out["posts"] / weeks
    previous_posts = before["posts"].reindex(index).fillna(0.0)
    out["posts_change"] = _change(out["posts"].astype("float64"), previous_posts)
    out["likes_change"] = _change(out["likes"], before["likes"].reindex(index))
    out["engagement_change"] = _change(out["engagement"], before["engagement"].reindex(index))
    out = out[list(SUMMARY_COLUMNS)]
    out.attrs = {"period": span.label, "by": by, "zone": span.zone}
    return out


def _growth(accounts: Any, period: Period) -> Any:
    seen = accounts[accounts["collected_at"] < period.end]
    if seen.empty:
        out = _empty(GROWTH_COLUMNS)
        for column in ("platform", "account"):
            out[column] = out[column].astype(object)
        for column in ("start_at", "end_at"):
            out[column] = out[column].astype("datetime64[ns, UTC]")
        return out
    keys = seen[_ACCOUNT_KEYS].drop_duplicates()
    known = seen[seen["followers"].notna()].sort_values("collected_at", kind="mergesort")
    columns = [*_ACCOUNT_KEYS, "collected_at", "followers"]
    early = known[known["collected_at"] < period.start][columns]
    late = known[known["collected_at"] >= period.start][columns]
    start = early.drop_duplicates(_ACCOUNT_KEYS, keep="last").rename(
        columns={"collected_at": "start_at", "followers": "start"}
    )
    end = late.drop_duplicates(_ACCOUNT_KEYS, keep="last").rename(
        columns={"collected_at": "end_at", "followers": "end"}
    )
    out = keys.merge(start, how="left", on=_ACCOUNT_KEYS).merge(end, how="left", on=_ACCOUNT_KEYS)
    out["change"] = out["end"] - out["start"]
    out = out.sort_values(_ACCOUNT_KEYS, kind="mergesort").reset_index(drop=True)
    return out[list(GROWTH_COLUMNS)]


def follower_growth(
    accounts: pd.DataFrame, period: Period | str, *, zone: str = DEFAULT_ZONE
) -> pd.DataFrame:
    """How each account's followers changed over ``period``.

    :return: one row per platform and account snapshotted before the period ends, with
        ``start`` (followers at the latest snapshot collected before the period, the baseline),
        ``end`` (at the latest snapshot collected in the period), ``change`` (``end - start``)
        and ``start_at`` / ``end_at`` (when those snapshots were collected). Snapshots that do
        not report followers are skipped; a value with no snapshot to give it is NaN, and so is
        ``change`` then.
    """
    return _growth(_accounts_frame(accounts), _as_period(period, zone))


def top_posts(
    posts: pd.DataFrame,
    period: Period | str,
    n: int = 10,
    by: str = "engagement",
    *,
    accounts: pd.DataFrame | None = None,
    zone: str = DEFAULT_ZONE,
) -> pd.DataFrame:
    """The ``n`` posts published in ``period`` with the highest ``by``, best first.

    :param by: ``"engagement"`` or a figure (``"likes"``, ``"views"`` ...); with ``accounts``
        also ``"engagement_rate"``. Posts missing that figure come last; ties go to the earlier
        post.
    :param accounts: the accounts frame; when given, ``followers`` and ``engagement_rate``
        columns are added.
    :return: columns :data:`TOP_COLUMNS` (plus ``followers`` and ``engagement_rate`` with
        ``accounts``), from each post's latest snapshot.
    """
    allowed = ("engagement", *FIGURES) + (("engagement_rate",) if accounts is not None else ())
    if by not in allowed:
        raise ConfigurationError(
            f"cannot rank posts by {by!r}", field="by", hint=f"use one of: {', '.join(allowed)}"
        )
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigurationError(f"n must be a whole number of posts, got {n!r}", field="n")
    span = _as_period(period, zone)
    columns = list(TOP_COLUMNS)
    newest = _latest(_posts_frame(posts))
    if accounts is None:
        newest["engagement"] = newest[list(ENGAGEMENT_FIGURES)].sum(axis=1, min_count=1)
    else:
        newest = _rate(newest, _accounts_frame(accounts))
        columns += ["followers", "engagement_rate"]
    inside = _published_in(newest, span)
    ranked = inside.sort_values(
        [by, "published_at", "post_id"],
        ascending=[False, True, True],
        kind="mergesort",
        na_position="last",
    )
    return ranked[columns].head(n).reset_index(drop=True)


def cadence(
    posts: pd.DataFrame,
    period: Period | str,
    *,
    every: str | None = None,
    by: str = "platform",
    zone: str = DEFAULT_ZONE,
) -> pd.DataFrame:
    """How many posts were published per local day or ISO week of ``period``.

    :param every: ``"day"`` or ``"week"``; by default days for periods up to 62 days, weeks
        beyond.
    :param by: ``"platform"`` or ``"account"``: one column each.
    :return: integer counts, indexed by the local date of each day (or the Monday of each week)
        named ``day`` or ``week``, with every day or week of the period present, even empty.
    """
    span = _as_period(period, zone)
    unit = every or ("day" if span.length <= timedelta(days=62) else "week")
    if unit not in ("day", "week"):
        raise ConfigurationError(
            f"cannot count posts per {unit!r}", field="every", hint="use 'day' or 'week'"
        )
    if by not in ("platform", "account"):
        raise ConfigurationError(
            f"cannot count posts by {by!r}", field="by", hint="use 'platform' or 'account'"
        )
    bucket: Callable[[date], date] = (
        (lambda d: d) if unit == "day" else (lambda d: d - timedelta(days=d.weekday()))
    )
    stop = span.end.astimezone(ZoneInfo(span.zone)).date()
    first = bucket(span.first_day)
    step = timedelta(days=1 if unit == "day" else 7)
    days = [first + step * k for k in range(((stop - first) + step - timedelta(days=1)) // step)]
    index = pd.Index(days, dtype=object, name=unit)
    inside = _published_in(_latest(_posts_frame(posts)), span)
    if inside.empty:
        return pd.DataFrame(index=index)
    local = inside["published_at"].dt.tz_convert(span.zone).dt.tz_localize(None).dt.normalize()
    if unit == "week":
        local = local - pd.to_timedelta(local.dt.day_of_week, unit="D")
    counts = (
        inside.assign(**{unit: local.dt.date})
        .groupby([unit, by], sort=True)
        .size()
        .unstack(fill_value=0)
    )
    counts = counts.reindex(index, fill_value=0).astype("int64")
    counts.columns = pd.Index([str(column) for column in counts.columns], dtype=object, name=by)
    return counts
