"""Time for the scheduler: aware instants, account zones, recurrences and posting slots.

Every instant the scheduler keeps is an aware UTC :class:`~datetime.datetime`. People think in
their account's zone (``Asia/Jakarta`` unless told otherwise), so:

- :func:`parse_when` turns what a user wrote into a UTC instant, refusing naive or past times;
- :class:`Recurrence` expands an RFC 5545 RRULE in the account's *local* time, so a post at
  09:00 stays at 09:00 local across daylight-saving changes;
- :class:`Slots` holds an account's posting slots (``"Mon-Fri 08:00, 12:00, 16:00"``) and finds
  the next free one;
- :func:`is_missed` tells a post still worth publishing from one that is too late.

Local times that do not exist or exist twice follow RFC 5545: a time in a spring-forward gap
moves forward by the length of the gap (02:30 becomes 03:30), an ambiguous time in a fall-back
overlap means its first occurrence, and no instant is ever produced twice.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, available_timezones

from dateutil.rrule import rrule, rrulestr

from govsocial.core.errors import ConfigurationError

__all__ = [
    "Recurrence",
    "Slots",
    "check_zone",
    "from_epoch",
    "is_missed",
    "parse_when",
    "to_local",
]

#: How far before ``now`` a requested time may lie and still count as "now".
PAST_TOLERANCE: Final = timedelta(seconds=60)
#: How far ahead :meth:`Slots.next_free` looks for a free slot.
SLOT_SEARCH_DAYS: Final = 400
#: How far ahead of a moment :meth:`Recurrence.after` looks for the next occurrence.
RECURRENCE_HORIZON: Final = timedelta(days=3660)
#: The years a time given to govsocial may fall in. Beyond them, converting between zones
#: and looking ahead for occurrences runs off the end of Python's calendar (years 1 to 9999),
#: and no post is planned there.
YEARS: Final = (1900, 9000)

_INDONESIAN_ZONES: Final = "Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT)"
_RRULE_EXAMPLE: Final = "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0"
_SLOTS_EXAMPLE: Final = "Mon-Fri 08:00, 12:00, 16:00; Sat 09:00"


# --------------------------------------------------------------------------- zones and instants


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_zone(zone: str) -> str:
    """Return ``zone`` when it is a known IANA time zone name (``"Asia/Jakarta"``).

    Names are matched exactly, as on every operating system (``asia/jakarta`` is refused with a
    suggestion, even where the file system would not care).

    :raises ConfigurationError: (field ``timezone``) unknown or misspelt zone.
    """
    if isinstance(zone, str) and zone in _known_zones():
        return zone
    shown = zone if isinstance(zone, str) else type(zone).__name__
    suggestion = None
    if isinstance(zone, str):
        folded = zone.strip().casefold()
        suggestion = next((z for z in sorted(_known_zones()) if z.casefold() == folded), None)
    hint = (
        f"did you mean {suggestion}?"
        if suggestion
        else f"use an IANA zone name such as {_INDONESIAN_ZONES}"
    )
    raise ConfigurationError(f"unknown time zone {shown!r}", field="timezone", hint=hint)


def _zone(zone: str) -> ZoneInfo:
    return ZoneInfo(check_zone(zone))


def _is_aware(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() is not None


def _check_year(moment: datetime, *, field: str, what: str) -> None:
    """Refuse a time outside :data:`YEARS` (the year 1 or 9999: a slip, not a plan)."""
    first, last = YEARS
    if not first <= moment.year <= last:
        raise ConfigurationError(
            f"{what} {moment.isoformat(sep=' ')} is outside the years {first} to {last}",
            field=field,
            hint="check the year",
        )


def _require_aware(moment: datetime, *, field: str, what: str) -> datetime:
    """``moment`` as aware UTC, or a ConfigurationError for a naive one (a caller's mistake)
    or one outside :data:`YEARS`."""
    if not isinstance(moment, datetime):
        raise ConfigurationError(
            f"{what} must be a datetime, not {type(moment).__name__}", field=field
        )
    _check_year(moment, field=field, what=what)
    if not _is_aware(moment):
        raise ConfigurationError(
            f"{what} {moment.isoformat(sep=' ')} has no time zone",
            field=field,
            hint="pass an aware datetime, e.g. datetime.now(UTC)",
        )
    return moment.astimezone(UTC)


def _local_to_utc(wall: datetime, tz: tzinfo) -> datetime:
    """The UTC instant of the naive local wall time ``wall`` in ``tz``, as RFC 5545 says.

    PEP 495's ``fold=0`` is exactly RFC 5545's rule: in a gap it uses the offset from before
    the gap (02:30 → 03:30), in an overlap it picks the first occurrence.
    """
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _wall(moment: datetime, tz: tzinfo) -> datetime:
    """The naive local wall time of an aware instant in ``tz``."""
    return moment.astimezone(tz).replace(tzinfo=None, fold=0)


def _show(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    spec = "minutes" if local.second == 0 and local.microsecond == 0 else "seconds"
    return local.isoformat(timespec=spec)


def to_local(moment: datetime, zone: str) -> datetime:
    """``moment`` (aware) as the wall time of ``zone``, for display.

    :raises ConfigurationError: naive ``moment`` or unknown zone.
    """
    return _require_aware(moment, field="at", what="time").astimezone(_zone(zone))


def is_missed(due: datetime, now: datetime, grace: timedelta) -> bool:
    """True when ``now`` is more than ``grace`` after ``due``: the post is ``missed``.

    A post that misses its time by more than the grace period is reported, not published
    hours late.

    :raises ConfigurationError: naive datetimes or a negative grace period.
    """
    due_utc = _require_aware(due, field="at", what="due time")
    now_utc = _require_aware(now, field="now", what="now")
    if grace < timedelta(0):
        raise ConfigurationError(
            f"grace period {grace} is negative", field="grace", hint="use timedelta(0) or more"
        )
    return now_utc - due_utc > grace


def parse_when(at: str | datetime, *, zone: str, now: datetime, field: str = "at") -> datetime:
    """The aware UTC instant meant by ``at``, checked against the account's ``zone`` and ``now``.

    ``at`` is an aware datetime or ISO 8601 text with an offset (``"2026-12-01T09:00+07:00"``,
    ``"2026-12-01T02:00Z"``). A time without a zone is refused, naming the account's zone as
    the fix; so is a time more than a minute before ``now``.

    :raises ConfigurationError: (field ``field``) unparseable, naive or past time, or one
        outside :data:`YEARS`; unknown zone.
    """
    tz = _zone(zone)
    now_utc = _require_aware(now, field="now", what="now")
    if isinstance(at, datetime):
        moment = at
    elif isinstance(at, str):
        try:
            moment = datetime.fromisoformat(at.strip())
        except ValueError:
            example = _show(now_utc, zone)
            raise ConfigurationError(
                f"{field} {at!r} is not a date and time",
                field=field,
                hint=f"write ISO 8601 with an offset, e.g. {example} for {zone}",
            ) from None
    else:
        raise ConfigurationError(
            f"{field} must be ISO 8601 text or an aware datetime, not {type(at).__name__}",
            field=field,
        )
    _check_year(moment, field=field, what=field)
    if not _is_aware(moment):
        spec = "minutes" if moment.second == 0 and moment.microsecond == 0 else "seconds"
        shown = moment.isoformat(sep=" ", timespec=spec)
        suggestion = _show(_local_to_utc(moment, tz), zone)
        raise ConfigurationError(
            f"{field} {shown} has no time zone",
            field=field,
            hint=(
                f"write it as {suggestion} for {zone}, the account's zone, "
                "or pass an aware datetime"
            ),
        )
    moment_utc = moment.astimezone(UTC)
    if moment_utc < now_utc - PAST_TOLERANCE:
        raise ConfigurationError(
            f"{field} {_show(moment_utc, zone)} is in the past; now is {_show(now_utc, zone)}"
            f" in {zone}",
            field=field,
            hint="choose a later time",
        )
    return moment_utc


# --------------------------------------------------------------------------- recurrences


_KEY_ORDER: Final = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYMONTH",
    "BYWEEKNO",
    "BYYEARDAY",
    "BYMONTHDAY",
    "BYDAY",
    "BYHOUR",
    "BYMINUTE",
    "BYSECOND",
    "BYSETPOS",
    "WKST",
)
_INT_LIST_RANGES: Final = {
    "BYMONTH": (1, 12, False),
    "BYWEEKNO": (1, 53, True),
    "BYYEARDAY": (1, 366, True),
    "BYMONTHDAY": (1, 31, True),
    "BYHOUR": (0, 23, False),
    "BYMINUTE": (0, 59, False),
    "BYSECOND": (0, 59, False),
    "BYSETPOS": (1, 366, True),
}
_FREQS: Final = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY")
#: Frequencies whose period is a fixed length of wall time, so the rule can restart later.
_FIXED_PERIODS: Final = {
    "WEEKLY": timedelta(weeks=1),
    "DAILY": timedelta(days=1),
    "HOURLY": timedelta(hours=1),
    "MINUTELY": timedelta(minutes=1),
    "SECONDLY": timedelta(seconds=1),
}
_BYDAY_ITEM: Final = re.compile(r"([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL_VALUE: Final = re.compile(r"(\d{8})(?:T(\d{6})(Z?))?")


def _bad_rule(text: str, reason: str) -> ConfigurationError:
    return ConfigurationError(
        f"recurrence {text!r} is not a valid RRULE: {reason}",
        field="recurrence",
        hint=f"write RFC 5545 RRULE text, e.g. {_RRULE_EXAMPLE}",
    )


class Recurrence:
    """An RFC 5545 recurrence rule expanded in an account's local time from a start instant.

    Build it with :meth:`parse`. Occurrences are aware UTC datetimes; the wall time of each is
    what the rule says in the account's zone (``BYHOUR=9`` is 09:00 local all year round).
    Seconds default to 0 (not to the start's seconds), and a date-only ``UNTIL`` means the
    end of that local day. ``COUNT`` counts the rule's local times; a time in a
    spring-forward gap that lands on another occurrence is produced once.
    """

    __slots__ = ("_count", "_freq", "_interval", "_rule", "_start", "_text", "_until", "_zone")

    def __init__(
        self,
        *,
        rule: rrule,
        text: str,
        zone: str,
        start: datetime,
        freq: str,
        interval: int,
        count: int | None,
        until: datetime | None,
    ) -> None:
        """Use :meth:`parse`; this constructor trusts its arguments."""
        self._rule = rule
        self._text = text
        self._zone = zone
        self._start = start
        self._freq = freq
        self._interval = interval
        self._count = count
        self._until = until

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, *, zone: str, start: datetime) -> Recurrence:
        """Read RRULE ``text`` such as ``"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"``.

        A leading ``RRULE:`` is allowed.

        The rule is expanded in ``zone`` from ``start`` (aware; its seconds are dropped).

        :raises ConfigurationError: (field ``recurrence``) invalid RRULE, a rule firing more
            often than once a minute, or one with no occurrence at all; (field ``at``) a naive
            ``start``; (field ``timezone``) an unknown zone.
        """
        tz = _zone(zone)
        start_utc = _require_aware(start, field="at", what="start")
        local_start = start_utc.astimezone(tz).replace(second=0, microsecond=0)
        start_utc = local_start.astimezone(UTC)
        parts = _split_rule(text)
        original = text
        for key, value in list(parts.items()):
            parts[key] = _normal_value(original, key, value)
        if "FREQ" not in parts:
            raise _bad_rule(original, "FREQ is required (one of " + ", ".join(_FREQS) + ")")
        if parts["FREQ"] not in _FREQS:
            raise _bad_rule(original, f"invalid 'FREQ': {parts['FREQ']}")
        if "COUNT" in parts and "UNTIL" in parts:
            raise _bad_rule(original, "COUNT and UNTIL cannot both be given (RFC 5545)")
        count = int(parts["COUNT"]) if "COUNT" in parts else None
        until = _parse_until(original, parts["UNTIL"], tz) if "UNTIL" in parts else None
        if until is not None:
            parts["UNTIL"] = until.strftime("%Y%m%dT%H%M%SZ")
        interval = int(parts.get("INTERVAL", "1"))
        _refuse_too_frequent(original, parts["FREQ"], interval, parts.get("BYSECOND"))
        body = ";".join(f"{k}={v}" for k, v in parts.items() if k not in ("COUNT", "UNTIL"))
        dtstart = local_start.replace(tzinfo=None, fold=0)
        try:
            rule = rrulestr(body, dtstart=dtstart)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise _bad_rule(original, str(exc) or type(exc).__name__) from None
        if not isinstance(rule, rrule):  # pragma: no cover - one RRULE line gives one rrule
            raise _bad_rule(original, "one RRULE expected")
        normal = ";".join(f"{k}={parts[k]}" for k in _KEY_ORDER if k in parts)
        recurrence = cls(
            rule=rule,
            text=normal,
            zone=zone,
            start=start_utc,
            freq=parts["FREQ"],
            interval=interval,
            count=count,
            until=until,
        )
        if _days_never_match(parts, dtstart) or recurrence.first() is None:
            years = RECURRENCE_HORIZON.days // 366
            raise ConfigurationError(
                f"recurrence {original!r} has no occurrence from {_show(start_utc, zone)}"
                f" within {years} years",
                field="recurrence",
                hint="check UNTIL, COUNT and the BY... parts against the start time",
            )
        return recurrence

    # -- reading -------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The rule in normal form, for storage (``FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0``)."""
        return self._text

    @property
    def zone(self) -> str:
        """The IANA zone the rule is expanded in."""
        return self._zone

    @property
    def start(self) -> datetime:
        """The aware UTC start of the rule (seconds dropped)."""
        return self._start

    def first(self) -> datetime | None:
        """The first occurrence at or after the start, as aware UTC (None: there is none)."""
        return self.after(self._start - timedelta(microseconds=1))

    def after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after ``moment``, as aware UTC.

        None when the rule is exhausted (``COUNT``, ``UNTIL``) or has no occurrence within
        about ten years of ``moment``.

        :raises ConfigurationError: naive ``moment``.
        """
        moment_utc = _require_aware(moment, field="at", what="moment")
        tz = ZoneInfo(self._zone)
        dtstart = _wall(self._start, tz)
        # A local time up to one gap before `moment` may land after it once moved forward.
        scan_from = _wall(moment_utc, tz) - _recent_gap(moment_utc, tz)
        cap = _later(scan_from, RECURRENCE_HORIZON)
        if self._until is not None:
            cap = min(cap, _later(_wall(self._until, tz), timedelta(days=2)))
        if cap < dtstart:
            return None
        period = _FIXED_PERIODS.get(self._freq)
        if self._count is None and period is not None:
            # Restart the rule a whole number of periods later: the same occurrences from there.
            step = period * self._interval
            periods = (scan_from - dtstart) // step - 1
            if periods > 0:
                dtstart += step * periods
        rule = self._rule.replace(dtstart=dtstart, until=cap)
        return self._earliest(rule, scan_from, moment_utc, tz)

    def _earliest(
        self, rule: rrule, scan_from: datetime, moment_utc: datetime, tz: tzinfo
    ) -> datetime | None:
        best: datetime | None = None
        stop_at: datetime | None = None
        for index, wall in enumerate(rule):
            if self._count is not None and index >= self._count:
                break
            if stop_at is not None and wall >= stop_at:
                break
            if wall < scan_from:
                continue
            instant = _local_to_utc(wall, tz)
            if instant <= moment_utc or instant < self._start:
                continue
            if self._until is not None and instant > self._until:
                continue
            if best is None or instant < best:
                best = instant
                # Later local times map to instants no earlier than this one once past the
                # wall time it was moved to (by a gap), so the search can stop there.
                stop_at = max(wall, _wall(instant, tz))
        return best

    # -- comparing -----------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Recurrence):
            return NotImplemented
        return (self._text, self._zone, self._start) == (other._text, other._zone, other._start)

    def __hash__(self) -> int:
        return hash((self._text, self._zone, self._start))

    def __repr__(self) -> str:
        return (
            f"Recurrence({self._text!r}, zone={self._zone!r}, "
            f"start={_show(self._start, self._zone)!r})"
        )


def _split_rule(text: str) -> dict[str, str]:
    if not isinstance(text, str):
        raise _bad_rule(str(text), f"expected text, not {type(text).__name__}")
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :].strip()
    if not body:
        raise _bad_rule(text, "empty rule")
    if "\n" in body or "\r" in body:
        raise _bad_rule(text, "one RRULE line expected (no DTSTART, EXDATE or other lines)")
    parts: dict[str, str] = {}
    for piece in body.split(";"):
        piece = piece.strip()
        if not piece:
            continue
        key, sep, value = piece.partition("=")
        key, value = key.strip().upper(), re.sub(r"\s+", "", value).upper()
        if not sep or not key or not value:
            raise _bad_rule(text, f"{piece!r} is not NAME=VALUE")
        if key not in _KEY_ORDER:
            raise _bad_rule(text, f"unknown parameter {key!r}")
        if key in parts:
            raise _bad_rule(text, f"{key} is given twice")
        parts[key] = value
    return parts


def _normal_value(text: str, key: str, value: str) -> str:
    """Validate one part and write it in normal form (numbers without leading zeros)."""
    if key in ("INTERVAL", "COUNT"):
        if not value.isdigit() or int(value) < 1:
            raise _bad_rule(text, f"invalid {key!r}: {value} (a whole number, 1 or more)")
        return str(int(value))
    if key in _INT_LIST_RANGES:
        low, high, negatives = _INT_LIST_RANGES[key]
        numbers: list[int] = []
        for item in value.split(","):
            try:
                number = int(item)
            except ValueError:
                raise _bad_rule(text, f"invalid {key!r}: {value}") from None
            if not (low <= number <= high or (negatives and -high <= number <= -low)):
                allowed = f"{low}..{high}" + (f" or -{high}..-{low}" if negatives else "")
                raise _bad_rule(text, f"invalid {key!r}: {item} (allowed {allowed})")
            numbers.append(number)
        return ",".join(str(n) for n in sorted(set(numbers)))
    if key == "BYDAY":
        days: list[str] = []
        for item in value.split(","):
            match = _BYDAY_ITEM.fullmatch(item)
            if match is None or (match.group(2) is not None and not 1 <= int(match.group(2)) <= 53):
                raise _bad_rule(text, f"invalid 'BYDAY': {item or value}")
            sign, ordinal, name = match.groups()
            days.append(f"{'-' if sign == '-' else ''}{int(ordinal) if ordinal else ''}{name}")
        return ",".join(dict.fromkeys(days))
    return value


def _parse_until(text: str, value: str, tz: tzinfo) -> datetime:
    """UNTIL as aware UTC: ``...Z`` is UTC, a floating time is local, a date is its whole day."""
    match = _UNTIL_VALUE.fullmatch(value)
    try:
        if match is None:
            raise ValueError(value)
        day = datetime.strptime(match.group(1), "%Y%m%d")
        if match.group(2) is None:
            return _local_to_utc(day.replace(hour=23, minute=59, second=59), tz)
        clock = datetime.strptime(match.group(2), "%H%M%S").time()
    except ValueError:
        raise _bad_rule(
            text, f"invalid 'UNTIL': {value} (write 20261231T235959Z or 20261231)"
        ) from None
    wall = datetime.combine(day.date(), clock)
    return wall.replace(tzinfo=UTC) if match.group(3) else _local_to_utc(wall, tz)


_DAY_KEYS: Final = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")


def _days_never_match(parts: dict[str, str], dtstart: datetime) -> bool:
    """True when no calendar day from ``dtstart`` on passes the rule's day filters.

    dateutil walks a day-by-day rule until year 9999 looking for a match that never comes
    (seconds of work for ``BYMONTH=2;BYMONTHDAY=30``); a yearly rule with the same day
    filters, which matches a superset of days, answers the question in a fraction of that.
    """
    if parts["FREQ"] in ("YEARLY", "MONTHLY") or not any(k in parts for k in _DAY_KEYS):
        return False
    surrogate = {k: parts[k] for k in (*_DAY_KEYS, "WKST") if k in parts}
    if "BYDAY" in surrogate:
        names = (_BYDAY_ITEM.fullmatch(item) for item in surrogate["BYDAY"].split(","))
        surrogate["BYDAY"] = ",".join(dict.fromkeys(m.group(3) for m in names if m))
    body = ";".join(["FREQ=YEARLY", *(f"{k}={v}" for k, v in surrogate.items())])
    midnight = dtstart.replace(hour=0, minute=0, second=0)
    rule = rrulestr(body, dtstart=midnight)
    return next(iter(rule), None) is None


def _refuse_too_frequent(text: str, freq: str, interval: int, bysecond: str | None) -> None:
    too_often = (freq == "SECONDLY" and interval < 60) or (bysecond is not None and "," in bysecond)
    if too_often:
        raise ConfigurationError(
            f"recurrence {text!r} would fire more often than once a minute",
            field="recurrence",
            hint="the shortest interval is one minute: use FREQ=MINUTELY, or FREQ=SECONDLY with"
            " INTERVAL=60 or more, and at most one BYSECOND value",
        )


def _later(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, stopping at the largest datetime instead of overflowing."""
    return moment + delta if moment <= datetime.max - delta else datetime.max


def _recent_gap(moment_utc: datetime, tz: tzinfo) -> timedelta:
    """How far clocks jumped forward in ``tz`` during the two days before ``moment_utc``."""
    now_offset = moment_utc.astimezone(tz).utcoffset() or timedelta(0)
    earlier = (moment_utc - timedelta(days=2)).astimezone(tz).utcoffset() or timedelta(0)
    return max(timedelta(0), now_offset - earlier)


# --------------------------------------------------------------------------- posting slots

_DAY_NAMES: Final = {
    # English
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
    # Indonesian
    "sen": 0, "senin": 0, "sel": 1, "selasa": 1, "rab": 2, "rabu": 2, "kam": 3, "kamis": 3,
    "jum": 4, "jumat": 4, "jum'at": 4, "sab": 5, "sabtu": 5, "min": 6, "minggu": 6,
}  # fmt: skip
_DAY_ABBREVIATIONS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_SLOT_TIME: Final = re.compile(r"(\d{1,2})[:.](\d{2})")


def _bad_slots(text: str, reason: str) -> ConfigurationError:
    return ConfigurationError(
        f"posting slots {text!r}: {reason}",
        field="slots",
        hint=(
            "write day groups with 24-hour HH:MM times, groups separated by ';', "
            f"e.g. {_SLOTS_EXAMPLE!r}; Indonesian day names Sen Sel Rab Kam Jum Sab Min also work"
        ),
    )


class Slots:
    """An account's weekly posting slots, in its local time (``"Mon-Fri 08:00, 12:00"``).

    Build it with :meth:`parse`.
    """

    __slots__ = ("_times",)

    def __init__(self, times: dict[int, tuple[time, ...]]) -> None:
        """Use :meth:`parse`. ``times`` maps weekday (0 = Monday) to sorted local times."""
        self._times = {day: tuple(sorted(set(clocks))) for day, clocks in times.items() if clocks}

    @classmethod
    def parse(cls, text: str) -> Slots:
        """Read slots like ``"Mon-Fri 08:00, 12:00, 16:00; Sat 09:00"``.

        Day ranges (``Mon-Fri``, wrapping ``Fri-Mon``) and lists (``Mon,Wed,Fri``), English or
        Indonesian day names in any case, 24-hour times (``08:00`` or ``08.00``), groups
        separated by ``;``.

        :raises ConfigurationError: (field ``slots``) what was expected, with an example.
        """
        if not isinstance(text, str):
            raise _bad_slots(str(text), f"expected text, not {type(text).__name__}")
        times: dict[int, set[time]] = {}
        groups = [group.strip() for group in text.split(";")]
        if not any(groups):
            raise _bad_slots(text, "no slots given")
        for group in groups:
            if not group:
                continue
            first_digit = re.search(r"\d", group)
            if first_digit is None:
                raise _bad_slots(text, f"{group!r} has no time")
            days = _parse_days(text, group[: first_digit.start()], group)
            clocks = _parse_times(text, group[first_digit.start() :])
            for day in days:
                times.setdefault(day, set()).update(clocks)
        return cls({day: tuple(clocks) for day, clocks in times.items()})

    @property
    def text(self) -> str:
        """The slots in normal form: days sharing the same times grouped, in week order."""
        groups: dict[tuple[time, ...], list[int]] = {}
        for day in sorted(self._times):
            groups.setdefault(self._times[day], []).append(day)
        rendered = []
        for clocks, days in groups.items():
            shown = ", ".join(clock.strftime("%H:%M") for clock in clocks)
            rendered.append(f"{_render_days(days)} {shown}")
        return "; ".join(rendered)

    def times(self, weekday: int) -> tuple[time, ...]:
        """The local slot times on ``weekday`` (0 = Monday), earliest first."""
        return self._times.get(weekday, ())

    def next_free(self, after: datetime, *, zone: str, taken: Collection[datetime]) -> datetime:
        """The first slot strictly after ``after`` whose instant is not in ``taken``, as aware UTC.

        Slots are local times in ``zone`` (a slot in a spring-forward gap moves forward by the
        gap; one in a fall-back overlap is its first occurrence).

        :raises ConfigurationError: (field ``slots``) no free slot within 400 days; naive
            datetimes; unknown zone.
        """
        tz = _zone(zone)
        after_utc = _require_aware(after, field="at", what="after")
        booked = {_require_aware(t, field="at", what="taken slot") for t in taken}
        # Start a day early: a late slot moved forward by a gap can land on the next day.
        first_day = _wall(after_utc, tz).date() - timedelta(days=1)
        best: datetime | None = None
        best_day: date | None = None
        for offset in range(SLOT_SEARCH_DAYS + 2):
            day = first_day + timedelta(days=offset)
            if best_day is not None and day > best_day + timedelta(days=1):
                break
            for clock in self._times.get(day.weekday(), ()):
                instant = _local_to_utc(datetime.combine(day, clock), tz)
                if (
                    instant > after_utc
                    and instant not in booked
                    and (best is None or instant < best)
                ):
                    best, best_day = instant, day
        if best is None:
            raise ConfigurationError(
                f"no free posting slot within {SLOT_SEARCH_DAYS} days after "
                f"{_show(after_utc, zone)} ({len(booked)} slots taken)",
                field="slots",
                hint="add posting slots to the account or schedule the post at a time",
            )
        return best

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Slots):
            return NotImplemented
        return self._times == other._times

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._times.items())))

    def __repr__(self) -> str:
        return f"Slots.parse({self.text!r})"


def _day(text: str, name: str) -> int:
    day = _DAY_NAMES.get(name.casefold())
    if day is None:
        raise _bad_slots(
            text,
            f"{name!r} is not a day; use Mon Tue Wed Thu Fri Sat Sun or Sen Sel Rab Kam Jum Sab"
            " Min",
        )
    return day


def _parse_days(text: str, part: str, group: str) -> list[int]:
    part = re.sub(r"\s*[-\u2013\u2014]\s*", "-", part.strip())
    names = [name for name in re.split(r"[,\s]+", part) if name]
    if not names:
        raise _bad_slots(text, f"{group!r} has no day before its times")
    days: list[int] = []
    for name in names:
        if "-" in name:
            first, _, last = name.partition("-")
            if not first or not last or "-" in last:
                raise _bad_slots(text, f"{name!r} is not a day range like Mon-Fri")
            start, end = _day(text, first), _day(text, last)
            days.extend((start + step) % 7 for step in range((end - start) % 7 + 1))
        else:
            days.append(_day(text, name))
    return days


def _parse_times(text: str, part: str) -> set[time]:
    clocks: set[time] = set()
    for item in re.split(r"[,\s]+", part.strip()):
        if not item:
            continue
        match = _SLOT_TIME.fullmatch(item)
        if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            reason = f"{item!r} is not a 24-hour time HH:MM"
            if item.casefold().strip(",") in _DAY_NAMES:
                reason += "; separate day groups with ';'"
            raise _bad_slots(text, reason)
        clocks.add(time(int(match.group(1)), int(match.group(2))))
    return clocks


def _render_days(days: list[int]) -> str:
    """``[0, 1, 2, 3, 4, 6]`` → ``"Mon-Fri,Sun"``: runs of three or more days as ranges.

    A run through the weekend is one range: ``[0, 4, 5, 6]`` → ``"Fri-Mon"``.
    """
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 6:
        wrapped = runs[-1] + runs[0]
        if len(wrapped) >= 3:
            runs = [*runs[1:-1], wrapped]
    pieces = []
    for run in runs:
        if len(run) >= 3:
            pieces.append(f"{_DAY_ABBREVIATIONS[run[0]]}-{_DAY_ABBREVIATIONS[run[-1]]}")
        else:
            pieces.extend(_DAY_ABBREVIATIONS[day] for day in run)
    return ",".join(pieces)


def from_epoch(seconds: float) -> datetime:
    """The aware UTC datetime of ``seconds`` since the epoch (how workspaces store times)."""
    return datetime.fromtimestamp(seconds, UTC)
