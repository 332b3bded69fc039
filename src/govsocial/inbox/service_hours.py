"""Service hours: when an account's team is expected to answer, for fair response times.

A question that arrives on Friday evening and is answered on Monday morning was answered
promptly. :class:`ServiceHours` counts only the time inside the team's hours, in the
account's zone, skipping public holidays: Indonesia's come from the ``holidays`` library
(``holidays="ID"``), and an agency adds its own days (cuti bersama, regional holidays) as
dates.

The default, ``"Mon-Thu 07:30-16:00; Fri 07:30-16:30"``, is a common government office
week (37.5 hours); set each account's own with ``Workspace.set_service_hours``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from govsocial.core.errors import ConfigurationError
from govsocial.core.timing import _parse_days

__all__ = ["DEFAULT_HOURS", "ServiceHours"]

DEFAULT_HOURS = "Mon-Thu 07:30-16:00; Fri 07:30-16:30"
_RANGE = re.compile(r"(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})")


def _bad(text: str, reason: str) -> ConfigurationError:
    return ConfigurationError(
        f"service hours {text!r}: {reason}",
        field="hours",
        hint=f"write day groups with HH:MM-HH:MM ranges, groups separated by ';', e.g. "
        f"{DEFAULT_HOURS!r}",
    )


@lru_cache(maxsize=32)
def _country_holidays(country: str, year: int) -> frozenset[date]:
    import holidays

    try:
        found = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        raise ConfigurationError(
            f"no public holiday calendar for country {country!r}",
            field="holidays",
            hint="use a country code such as 'ID', or give the dates yourself",
        ) from None
    return frozenset(found.keys())


class ServiceHours:
    """Weekly opening ranges in local time, minus holidays. Build it with :meth:`parse`."""

    def __init__(
        self,
        ranges: dict[int, tuple[tuple[time, time], ...]],
        *,
        country: str | None = "ID",
        extra_holidays: Iterable[date] = (),
        text: str = "",
    ) -> None:
        self._ranges = ranges
        self.country = country
        self.extra_holidays = frozenset(extra_holidays)
        self.text = text

    @classmethod
    def parse(
        cls,
        text: str = DEFAULT_HOURS,
        *,
        holidays: str | Iterable[date | str] | None = "ID",
    ) -> ServiceHours:
        """``"Mon-Fri 08:00-16:00; Sat 08:00-12:00"``; Indonesian day names work too.

        :param holidays: a country code for its public holidays (``"ID"``), or dates (with
            or without a country: ``["ID", "2026-12-24"]``), or None for none.
        """
        ranges: dict[int, list[tuple[time, time]]] = {}
        for group in (g.strip() for g in text.split(";")):
            if not group:
                continue
            digit = re.search(r"\d", group)
            if digit is None:
                raise _bad(text, f"{group!r} has no time range")
            try:
                days = _parse_days(text, group[: digit.start()], group)
            except ConfigurationError as error:
                raise _bad(text, error.message.split(": ", 1)[-1]) from None
            for item in re.split(r"\s*,\s*", group[digit.start() :].strip()):
                match = _RANGE.fullmatch(item)
                if match is None:
                    raise _bad(text, f"{item!r} is not a range like 08:00-16:00")
                h1, m1, h2, m2 = (int(x) for x in match.groups())
                if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h1, m1) >= (h2, m2):
                    raise _bad(text, f"{item!r} does not end after it starts within a day")
                end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
                for day in days:
                    ranges.setdefault(day, []).append((time(h1, m1), end))
        if not ranges:
            raise _bad(text, "no hours given")
        country: str | None = None
        extra: list[date] = []
        if isinstance(holidays, str):
            country = holidays
        elif holidays is not None:
            for item in holidays:
                if isinstance(item, date):
                    extra.append(item)
                elif len(item) == 2 and item.isalpha():
                    country = item.upper()
                else:
                    try:
                        extra.append(date.fromisoformat(item))
                    except ValueError:
                        raise ConfigurationError(
                            f"holiday {item!r} is not a date (YYYY-MM-DD) or a country code",
                            field="holidays",
                        ) from None
        return cls(
            {day: tuple(sorted(spans)) for day, spans in ranges.items()},
            country=country,
            extra_holidays=extra,
            text=text,
        )

    def to_dict(self) -> dict[str, Any]:
        """What a workspace stores."""
        return {
            "hours": self.text,
            "country": self.country,
            "holidays": sorted(d.isoformat() for d in self.extra_holidays),
        }

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> ServiceHours:
        """The hours stored by :meth:`to_dict`."""
        listed: list[date | str] = list(stored.get("holidays", []))
        if stored.get("country"):
            listed.append(str(stored["country"]))
        return cls.parse(stored.get("hours") or DEFAULT_HOURS, holidays=listed)

    def __repr__(self) -> str:
        return f"ServiceHours.parse({self.text!r}, country={self.country!r})"

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` is off: one of the agency's own days or a public holiday."""
        if day in self.extra_holidays:
            return True
        return self.country is not None and day in _country_holidays(self.country, day.year)

    def spans(self, day: date) -> tuple[tuple[time, time], ...]:
        """The opening ranges on ``day`` (none on a holiday)."""
        return () if self.is_holiday(day) else self._ranges.get(day.weekday(), ())

    def elapsed(self, start: datetime, end: datetime, zone: str) -> float:
        """Seconds of service time between ``start`` and ``end`` (aware), in ``zone``."""
        if end <= start:
            return 0.0
        tz = ZoneInfo(zone)
        first, last = start.astimezone(tz), end.astimezone(tz)
        total = 0.0
        day = first.date()
        while day <= last.date():
            for opens, closes in self.spans(day):
                window_start = datetime.combine(day, opens, tz)
                window_end = datetime.combine(day, closes, tz)
                lo, hi = max(window_start, first), min(window_end, last)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total
