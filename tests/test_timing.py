"""govsocial.core.timing: aware instants, account zones, DST-safe recurrences and posting slots."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from govsocial.core.errors import ConfigurationError
from govsocial.core.timing import (
    Recurrence,
    Slots,
    check_zone,
    is_missed,
    parse_when,
    to_local,
)

NY = ZoneInfo("America/New_York")
JAKARTA = ZoneInfo("Asia/Jakarta")
JAYAPURA = ZoneInfo("Asia/Jayapura")
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def walk(rule: Recurrence, limit: int = 50) -> list[datetime]:
    """Every occurrence from the first, following after(), up to ``limit``."""
    found: list[datetime] = []
    moment = rule.first()
    while moment is not None and len(found) < limit:
        found.append(moment)
        moment = rule.after(moment)
    return found


def exists(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether the naive local ``wall`` time happens at all in ``zone`` (not in a gap)."""
    there_and_back = wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return there_and_back.replace(tzinfo=None) == wall


# --- zones ----------------------------------------------------------------------------


def test_check_zone_accepts_iana_names() -> None:
    for zone in ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "UTC", "America/New_York"]:
        assert check_zone(zone) == zone


def test_check_zone_refuses_unknown_names_with_the_indonesian_zones_as_hint() -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_zone("Indonesia/Jakarta")
    assert caught.value.field == "timezone"
    assert "Indonesia/Jakarta" in caught.value.message
    assert caught.value.hint is not None
    for zone in ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]:
        assert zone in caught.value.hint


def test_check_zone_suggests_the_right_spelling() -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_zone("asia/jayapura")
    assert caught.value.hint == "did you mean Asia/Jayapura?"
    with pytest.raises(ConfigurationError):
        check_zone("")


# --- parse_when -------------------------------------------------------------------------


def test_parse_when_reads_offsets_and_returns_utc() -> None:
    assert parse_when("2026-12-01T09:00+07:00", zone="Asia/Jakarta", now=NOW) == utc(2026, 12, 1, 2)
    assert parse_when("2026-12-01T02:00Z", zone="Asia/Jakarta", now=NOW) == utc(2026, 12, 1, 2)
    jayapura = parse_when("2026-12-01T09:00+09:00", zone="Asia/Jayapura", now=NOW)
    assert jayapura == utc(2026, 12, 1, 0)
    assert jayapura.tzinfo is UTC
    aware = datetime(2026, 12, 1, 9, 0, tzinfo=JAYAPURA)
    assert parse_when(aware, zone="Asia/Jakarta", now=NOW) == utc(2026, 12, 1, 0)


@pytest.mark.parametrize(
    ("at", "zone", "suggestion"),
    [
        ("2026-12-01T09:00", "Asia/Jakarta", "2026-12-01T09:00+07:00"),
        ("2026-12-01 09:00", "Asia/Jayapura", "2026-12-01T09:00+09:00"),
        (datetime(2026, 12, 1, 9, 0), "Asia/Jakarta", "2026-12-01T09:00+07:00"),
        (datetime(2026, 12, 1, 9, 0), "America/New_York", "2026-12-01T09:00-05:00"),
        ("2026-12-01", "Asia/Makassar", "2026-12-01T00:00+08:00"),
    ],
)
def test_parse_when_refuses_times_without_zone_naming_the_accounts_zone(
    at: str | datetime, zone: str, suggestion: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_when(at, zone=zone, now=NOW)
    error = caught.value
    assert error.field == "at"
    assert "has no time zone" in error.message
    assert error.hint is not None
    assert suggestion in error.hint
    assert zone in error.hint
    assert "aware datetime" in error.hint


def test_parse_when_names_the_field_it_is_given() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_when("2026-12-01T09:00", zone="Asia/Jakarta", now=NOW, field="reschedule.at")
    assert caught.value.field == "reschedule.at"
    assert str(caught.value).startswith("reschedule.at 2026-12-01 09:00 has no time zone")


def test_parse_when_refuses_the_past_but_tolerates_a_minute() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_when("2026-11-20T09:00+07:00", zone="Asia/Jakarta", now=NOW)
    assert caught.value.field == "at"
    assert "is in the past" in caught.value.message
    assert "now is 2026-11-20T10:00+07:00" in caught.value.message
    just_now = NOW - timedelta(seconds=59)
    assert parse_when(just_now, zone="Asia/Jakarta", now=NOW) == just_now
    with pytest.raises(ConfigurationError):
        parse_when(NOW - timedelta(seconds=61), zone="Asia/Jakarta", now=NOW)


@pytest.mark.parametrize("at", ["besok jam 9", "", "2026-13-01T09:00+07:00", "09:00+07:00"])
def test_parse_when_refuses_unreadable_text(at: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_when(at, zone="Asia/Jakarta", now=NOW)
    assert caught.value.field == "at"
    assert "is not a date and time" in caught.value.message
    assert caught.value.hint is not None and "+07:00" in caught.value.hint


def test_parse_when_checks_its_other_arguments() -> None:
    with pytest.raises(ConfigurationError) as zone_error:
        parse_when("2026-12-01T09:00+07:00", zone="Jakarta", now=NOW)
    assert zone_error.value.field == "timezone"
    with pytest.raises(ConfigurationError) as now_error:
        parse_when("2026-12-01T09:00+07:00", zone="Asia/Jakarta", now=datetime(2026, 1, 1))
    assert now_error.value.field == "now"
    with pytest.raises(ConfigurationError):
        parse_when(1764554400, zone="Asia/Jakarta", now=NOW)  # type: ignore[arg-type]


# --- is_missed and to_local ---------------------------------------------------------------


def test_is_missed_after_the_grace_period_only() -> None:
    due = utc(2026, 12, 1, 2)
    grace = timedelta(minutes=15)
    assert not is_missed(due, due, grace)
    assert not is_missed(due, due - timedelta(hours=1), grace)
    assert not is_missed(due, due + grace, grace)
    assert is_missed(due, due + grace + timedelta(microseconds=1), grace)
    assert is_missed(due, due + timedelta(hours=3), grace)
    late_in_jakarta = datetime(2026, 12, 1, 9, 16, tzinfo=JAKARTA)
    assert is_missed(due, late_in_jakarta, grace)
    assert is_missed(due, due + timedelta(seconds=1), timedelta(0))


def test_is_missed_refuses_naive_times_and_negative_grace() -> None:
    with pytest.raises(ConfigurationError):
        is_missed(datetime(2026, 12, 1), NOW, timedelta(minutes=5))
    with pytest.raises(ConfigurationError):
        is_missed(NOW, datetime(2026, 12, 1), timedelta(minutes=5))
    with pytest.raises(ConfigurationError) as caught:
        is_missed(NOW, NOW, timedelta(minutes=-5))
    assert caught.value.field == "grace"


def test_to_local_shows_the_accounts_wall_time() -> None:
    local = to_local(utc(2026, 12, 1, 0), "Asia/Jayapura")
    assert (local.hour, local.minute, local.utcoffset()) == (9, 0, timedelta(hours=9))
    assert to_local(utc(2026, 12, 1, 0), "Asia/Jakarta").hour == 7
    with pytest.raises(ConfigurationError):
        to_local(datetime(2026, 12, 1), "Asia/Jakarta")
    with pytest.raises(ConfigurationError):
        to_local(NOW, "Nowhere/Town")


# --- recurrences: DST ---------------------------------------------------------------------


def test_daily_0230_across_new_york_spring_forward() -> None:
    # 2026-03-08 02:00 EST jumps to 03:00 EDT: 02:30 does not exist that day and moves
    # forward by the gap to 03:30 EDT (RFC 5545), which is 07:30 UTC like the day before.
    start = datetime(2026, 3, 5, 0, 0, tzinfo=NY)
    rule = Recurrence.parse("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", zone="America/New_York", start=start)
    assert walk(rule, 6) == [
        utc(2026, 3, 5, 7, 30),
        utc(2026, 3, 6, 7, 30),
        utc(2026, 3, 7, 7, 30),
        utc(2026, 3, 8, 7, 30),  # 03:30 EDT: the gap moved it an hour on
        utc(2026, 3, 9, 6, 30),  # 02:30 EDT again
        utc(2026, 3, 10, 6, 30),
    ]
    local = [to_local(moment, "America/New_York") for moment in walk(rule, 6)]
    assert [(t.day, t.hour, t.minute) for t in local] == [
        (5, 2, 30),
        (6, 2, 30),
        (7, 2, 30),
        (8, 3, 30),
        (9, 2, 30),
        (10, 2, 30),
    ]


def test_daily_0130_across_new_york_fall_back_uses_the_first_occurrence_once() -> None:
    # 2026-11-01 02:00 EDT falls back to 01:00 EST: 01:30 happens twice; the first (EDT) counts.
    start = datetime(2026, 10, 30, 0, 0, tzinfo=NY)
    rule = Recurrence.parse("FREQ=DAILY;BYHOUR=1;BYMINUTE=30", zone="America/New_York", start=start)
    assert walk(rule, 5) == [
        utc(2026, 10, 30, 5, 30),
        utc(2026, 10, 31, 5, 30),
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT, not also 01:30 EST (06:30 UTC)
        utc(2026, 11, 2, 6, 30),  # 01:30 EST
        utc(2026, 11, 3, 6, 30),
    ]
    assert rule.after(utc(2026, 11, 1, 5, 30)) == utc(2026, 11, 2, 6, 30)
    assert rule.after(utc(2026, 11, 1, 6, 0)) == utc(2026, 11, 2, 6, 30)


def test_daily_0230_across_fall_back_and_0130_across_spring_forward_are_plain() -> None:
    rule = Recurrence.parse(
        "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
        zone="America/New_York",
        start=datetime(2026, 10, 31, tzinfo=NY),
    )
    assert walk(rule, 3) == [
        utc(2026, 10, 31, 6, 30),
        utc(2026, 11, 1, 7, 30),
        utc(2026, 11, 2, 7, 30),
    ]
    rule = Recurrence.parse(
        "FREQ=DAILY;BYHOUR=1;BYMINUTE=30",
        zone="America/New_York",
        start=datetime(2026, 3, 7, tzinfo=NY),
    )
    assert walk(rule, 3) == [utc(2026, 3, 7, 6, 30), utc(2026, 3, 8, 6, 30), utc(2026, 3, 9, 5, 30)]


def test_hourly_rule_never_produces_an_instant_twice_across_dst() -> None:
    spring = Recurrence.parse(
        "FREQ=HOURLY;BYMINUTE=0,30",
        zone="America/New_York",
        start=datetime(2026, 3, 8, 1, 0, tzinfo=NY),
    )
    # 02:00 and 02:30 fall in the gap and move to 03:00 and 03:30, which the rule has anyway.
    assert walk(spring, 6) == [
        utc(2026, 3, 8, 6, 0),  # 01:00 EST
        utc(2026, 3, 8, 6, 30),
        utc(2026, 3, 8, 7, 0),  # 03:00 EDT
        utc(2026, 3, 8, 7, 30),
        utc(2026, 3, 8, 8, 0),
        utc(2026, 3, 8, 8, 30),
    ]
    autumn = Recurrence.parse(
        "FREQ=HOURLY;BYMINUTE=30",
        zone="America/New_York",
        start=datetime(2026, 11, 1, 0, 0, tzinfo=NY),
    )
    # Local 00:30, 01:30 (first, EDT), 02:30 EST: the repeated 01:30 EST is not produced.
    assert walk(autumn, 3) == [
        utc(2026, 11, 1, 4, 30),
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 1, 7, 30),
    ]


def test_a_start_in_the_second_half_of_an_overlap_keeps_its_instant() -> None:
    start = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY)  # 01:30 EST = 06:30 UTC
    rule = Recurrence.parse("FREQ=DAILY;BYHOUR=1;BYMINUTE=30", zone="America/New_York", start=start)
    assert rule.start == utc(2026, 11, 1, 6, 30)
    # Today's 01:30 means 01:30 EDT, an hour before the start: the first is tomorrow's.
    assert rule.first() == utc(2026, 11, 2, 6, 30)


# --- recurrences: Indonesian zones, COUNT, UNTIL -----------------------------------------


def test_weekly_rule_in_jayapura_and_jakarta_local_time() -> None:
    start = utc(2026, 11, 30, 0, 0)  # Monday 09:00 WIT, 07:00 WIB
    text = "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0"
    jayapura = Recurrence.parse(text, zone="Asia/Jayapura", start=start)
    assert walk(jayapura, 4) == [
        utc(2026, 11, 30, 0),
        utc(2026, 12, 2, 0),
        utc(2026, 12, 7, 0),
        utc(2026, 12, 9, 0),
    ]
    jakarta = Recurrence.parse(text, zone="Asia/Jakarta", start=start)
    assert walk(jakarta, 3) == [utc(2026, 11, 30, 2), utc(2026, 12, 2, 2), utc(2026, 12, 7, 2)]
    assert all(to_local(t, "Asia/Jakarta").hour == 9 for t in walk(jakarta, 10))


def test_count_exhausts_the_rule() -> None:
    rule = Recurrence.parse(
        "FREQ=DAILY;COUNT=3;BYHOUR=9;BYMINUTE=0",
        zone="Asia/Jakarta",
        start=utc(2026, 12, 1, 0),
    )
    assert walk(rule) == [utc(2026, 12, 1, 2), utc(2026, 12, 2, 2), utc(2026, 12, 3, 2)]
    assert rule.after(utc(2026, 12, 3, 2)) is None
    assert rule.after(utc(2027, 6, 1)) is None


def test_count_counts_from_the_start_even_when_asked_late() -> None:
    rule = Recurrence.parse(
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU",
        zone="Asia/Makassar",
        start=datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Makassar")),
    )
    assert rule.after(utc(2026, 12, 20)) == utc(2026, 12, 29, 2)
    assert walk(rule) == [
        utc(2026, 12, 1, 2),
        utc(2026, 12, 15, 2),
        utc(2026, 12, 29, 2),
        utc(2027, 1, 12, 2),
    ]


@pytest.mark.parametrize(
    ("until", "last"),
    [
        ("20261205", utc(2026, 12, 5, 2)),  # a date: the whole local day
        ("20261205T090000", utc(2026, 12, 5, 2)),  # local wall time, inclusive
        ("20261205T015959Z", utc(2026, 12, 4, 2)),  # UTC, just before the 5th's 02:00 UTC
        ("20261205T020000Z", utc(2026, 12, 5, 2)),
    ],
)
def test_until_exhausts_the_rule(until: str, last: datetime) -> None:
    rule = Recurrence.parse(
        f"FREQ=DAILY;BYHOUR=9;BYMINUTE=0;UNTIL={until}",
        zone="Asia/Jakarta",
        start=utc(2026, 12, 1, 0),
    )
    found = walk(rule)
    assert found[0] == utc(2026, 12, 1, 2)
    assert found[-1] == last
    assert rule.after(last) is None
    assert "UNTIL=" in rule.text and rule.text.endswith("Z;BYHOUR=9;BYMINUTE=0")


def test_text_is_normal_and_round_trips() -> None:
    start = utc(2026, 12, 1, 0)
    rule = Recurrence.parse(
        " rrule:byminute=00; byhour=09 ;freq=weekly;byday=we,mo ", zone="Asia/Jakarta", start=start
    )
    assert rule.text == "FREQ=WEEKLY;BYDAY=WE,MO;BYHOUR=9;BYMINUTE=0"
    again = Recurrence.parse(rule.text, zone="Asia/Jakarta", start=start)
    assert again == rule and hash(again) == hash(rule)
    assert walk(again, 5) == walk(rule, 5)
    assert "Asia/Jakarta" in repr(rule)
    until = Recurrence.parse("FREQ=DAILY;UNTIL=20261231", zone="Asia/Jakarta", start=start)
    assert until.text == "FREQ=DAILY;UNTIL=20261231T165959Z"
    assert Recurrence.parse(until.text, zone="Asia/Jakarta", start=start) == until


def test_seconds_come_from_the_rule_not_the_start() -> None:
    start = datetime(2026, 12, 1, 8, 13, 27, 500, tzinfo=JAKARTA)
    rule = Recurrence.parse("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", zone="Asia/Jakarta", start=start)
    assert rule.first() == utc(2026, 12, 1, 2, 0, 0)
    minutely = Recurrence.parse("FREQ=MINUTELY;INTERVAL=15", zone="Asia/Jakarta", start=start)
    assert walk(minutely, 2) == [utc(2026, 12, 1, 1, 13), utc(2026, 12, 1, 1, 28)]


def test_naive_start_and_moment_are_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Recurrence.parse("FREQ=DAILY", zone="Asia/Jakarta", start=datetime(2026, 12, 1))
    assert caught.value.field == "at"
    rule = Recurrence.parse("FREQ=DAILY", zone="Asia/Jakarta", start=NOW)
    with pytest.raises(ConfigurationError):
        rule.after(datetime(2026, 12, 1))
    with pytest.raises(ConfigurationError) as zone_error:
        Recurrence.parse("FREQ=DAILY", zone="WIB", start=NOW)
    assert zone_error.value.field == "timezone"


# --- recurrences: refused rules -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("FREQ=FORTNIGHTLY", "invalid 'FREQ': FORTNIGHTLY"),
        ("FREQ=WEEKLY;BYDAY=MO,XX", "invalid 'BYDAY': XX"),
        ("FREQ=WEEKLY;BYDAY=", "is not NAME=VALUE"),
        ("BYDAY=MO;BYHOUR=9", "FREQ is required"),
        ("FREQ=DAILY;FOO=1", "unknown parameter 'FOO'"),
        ("FREQ=DAILY;BYEASTER=0", "unknown parameter 'BYEASTER'"),
        ("FREQ=DAILY;BYHOUR=24", "invalid 'BYHOUR': 24"),
        ("FREQ=DAILY;BYMINUTE=a", "invalid 'BYMINUTE'"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "invalid 'BYMONTHDAY': 0"),
        ("FREQ=DAILY;INTERVAL=0", "invalid 'INTERVAL': 0"),
        ("FREQ=DAILY;COUNT=-1", "invalid 'COUNT'"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20271231", "COUNT and UNTIL"),
        ("FREQ=DAILY;UNTIL=tomorrow", "invalid 'UNTIL'"),
        ("FREQ=DAILY;UNTIL=20261345", "invalid 'UNTIL'"),
        ("FREQ=DAILY;FREQ=WEEKLY", "FREQ is given twice"),
        ("FREQ=DAILY;WKST=XX", "invalid 'WKST': XX"),
        ("FREQ=HOURLY;INTERVAL=6;BYHOUR=2", "byxxx generates an empty set"),
        ("DTSTART:20261201T090000\nRRULE:FREQ=DAILY", "one RRULE line"),
        ("", "empty rule"),
        ("RRULE:", "empty rule"),
    ],
)
def test_invalid_rrule_is_refused_quoting_the_reason(text: str, detail: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Recurrence.parse(text, zone="Asia/Jakarta", start=utc(2026, 12, 1, 0))
    error = caught.value
    assert error.field == "recurrence"
    assert detail in error.message
    assert error.hint is not None and "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0" in error.hint


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=SECONDLY",
        "FREQ=SECONDLY;INTERVAL=59",
        "FREQ=MINUTELY;BYSECOND=0,30",
        "FREQ=HOURLY;BYSECOND=1,2",
    ],
)
def test_rules_firing_more_than_once_a_minute_are_refused(text: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Recurrence.parse(text, zone="Asia/Jakarta", start=utc(2026, 12, 1, 0))
    assert caught.value.field == "recurrence"
    assert "more often than once a minute" in caught.value.message


def test_once_a_minute_is_allowed() -> None:
    start = utc(2026, 12, 1, 0)
    for text in ["FREQ=MINUTELY", "FREQ=SECONDLY;INTERVAL=60", "FREQ=MINUTELY;BYSECOND=30"]:
        found = walk(Recurrence.parse(text, zone="Asia/Jakarta", start=start), 3)
        assert [b - a for a, b in pairwise(found)] == [timedelta(minutes=1)] * 2


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MINUTELY;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;UNTIL=20261130",
    ],
)
def test_rules_that_never_fire_are_refused_promptly(text: str) -> None:
    began = clock.monotonic()
    with pytest.raises(ConfigurationError) as caught:
        Recurrence.parse(text, zone="Asia/Jakarta", start=utc(2026, 12, 1, 0))
    assert caught.value.field == "recurrence"
    assert "has no occurrence" in caught.value.message
    assert clock.monotonic() - began < 2.0


# --- recurrences: properties --------------------------------------------------------------

ZONES = [
    "America/New_York",
    "Europe/London",
    "Europe/Dublin",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "America/St_Johns",
    "Pacific/Chatham",
    "Pacific/Apia",
    "Asia/Tehran",
    "Africa/Casablanca",
    "Asia/Jakarta",
    "Asia/Makassar",
    "Asia/Jayapura",
]


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45, 59]),
    start_day=st.dates(date(2005, 1, 1), date(2034, 12, 1)),
    start_hour=st.integers(0, 23),
)
def test_daily_rule_keeps_its_local_wall_time_unless_it_fell_in_a_gap(
    zone: str, hour: int, minute: int, start_day: date, start_hour: int
) -> None:
    tz = ZoneInfo(zone)
    start = datetime.combine(start_day, time(start_hour), tzinfo=tz).astimezone(UTC)
    rule = Recurrence.parse(f"FREQ=DAILY;BYHOUR={hour};BYMINUTE={minute}", zone=zone, start=start)
    found = walk(rule, 40)
    assert len(found) == 40
    assert found == sorted(set(found)), "strictly increasing, no duplicates"
    assert found[0] >= rule.start
    for moment in found:
        local = moment.astimezone(tz)
        wall = local.replace(tzinfo=None)
        if (local.hour, local.minute) != (hour, minute):
            # Only a time in a spring-forward gap may move, and only forward by the gap.
            intended = datetime.combine(wall.date(), time(hour, minute))
            if intended > wall:
                intended -= timedelta(days=1)
            assert not exists(intended, tz)
            offset_before = intended.replace(tzinfo=tz, fold=0).utcoffset()
            offset_after = intended.replace(tzinfo=tz, fold=1).utcoffset()
            assert offset_before is not None and offset_after is not None
            assert wall - intended == offset_after - offset_before
    # No day is skipped: each local day from the first on has its occurrence, except a day
    # whose time fell in a gap and moved onto the next occurrence (Apia's missing 2011-12-30).
    days = [moment.astimezone(tz).date() for moment in found]
    for earlier, later in pairwise(days):
        if later - earlier != timedelta(days=1):
            skipped = datetime.combine(earlier + timedelta(days=1), time(hour, minute))
            assert not exists(skipped, tz)


def reference_after(
    text: str, zone: ZoneInfo, start: datetime, moment: datetime
) -> datetime | None:
    """Brute force: expand the rule from its start, map local times, take the earliest after."""
    local_start = start.astimezone(zone).replace(second=0, microsecond=0)
    dtstart = local_start.replace(tzinfo=None)
    start = local_start.astimezone(UTC)
    limit = moment.astimezone(zone).replace(tzinfo=None) + timedelta(days=70)
    rule = rrulestr(text, dtstart=dtstart)
    instants = []
    for wall in rule:
        if wall > limit:
            break
        instants.append(wall.replace(tzinfo=zone).astimezone(UTC))
    later = [t for t in instants if t > moment and t >= start]
    return min(later, default=None)


@settings(max_examples=150, deadline=None)
@given(
    text=st.sampled_from(
        [
            "FREQ=DAILY;INTERVAL=3;BYHOUR=2,9;BYMINUTE=30",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;BYHOUR=1;BYMINUTE=30",
            "FREQ=HOURLY;INTERVAL=5;BYMINUTE=0",
            "FREQ=MINUTELY;INTERVAL=47",
            "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=2;BYMINUTE=15",
            "FREQ=WEEKLY;BYDAY=SU;BYHOUR=0,1,2,3;BYMINUTE=0,30",
        ]
    ),
    zone=st.sampled_from(["America/New_York", "Europe/London", "Asia/Jayapura", "Pacific/Apia"]),
    start=st.datetimes(datetime(2010, 1, 1), datetime(2026, 1, 1), timezones=st.just(UTC)),
    delay=st.timedeltas(timedelta(0), timedelta(days=900)),
)
def test_after_matches_a_brute_force_expansion(
    text: str, zone: str, start: datetime, delay: timedelta
) -> None:
    tz = ZoneInfo(zone)
    rule = Recurrence.parse(text, zone=zone, start=start)
    moment = start + delay
    assert rule.after(moment) == reference_after(text, tz, start, moment)


# --- slots --------------------------------------------------------------------------------


def test_slots_parse_ranges_lists_and_groups() -> None:
    slots = Slots.parse("Mon-Fri 08:00, 12:00, 16:00; Sat 09:00")
    assert slots.text == "Mon-Fri 08:00, 12:00, 16:00; Sat 09:00"
    assert slots.times(0) == (time(8), time(12), time(16))
    assert slots.times(5) == (time(9),)
    assert slots.times(6) == ()
    listed = Slots.parse("mon,WED, fri 9:00 17.30")
    assert listed.text == "Mon,Wed,Fri 09:00, 17:30"
    wrapped = Slots.parse("Fri - Mon 10:00")
    assert wrapped.text == "Fri-Mon 10:00"
    assert Slots.parse("Sun,Mon,Wed 10:00").text == "Mon,Wed,Sun 10:00"
    assert Slots.parse(wrapped.text) == wrapped


def test_slots_merge_groups_into_a_normal_text() -> None:
    slots = Slots.parse("Tue 12:00; Mon 08:00; Mon 12:00; Tue 08:00; Wed 08:00, 12:00, 08:00;")
    assert slots.text == "Mon-Wed 08:00, 12:00"
    assert slots == Slots.parse(slots.text)
    assert repr(slots) == "Slots.parse('Mon-Wed 08:00, 12:00')"


def test_slots_understand_indonesian_day_names() -> None:
    slots = Slots.parse("Sen-Jum 08:00, 13:00; Sab 09:00; Min 10:00")
    assert slots.text == "Mon-Fri 08:00, 13:00; Sat 09:00; Sun 10:00"
    assert Slots.parse("senin, RABU, Jum'at 07:30").text == "Mon,Wed,Fri 07:30"
    assert Slots.parse("Kam-Sel 06:00") == Slots.parse("Thu-Tue 06:00")
    assert Slots.parse("Sel,Kam 11:00").text == "Tue,Thu 11:00"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("", "no slots given"),
        (" ; ", "no slots given"),
        ("Mon", "'Mon' has no time"),
        ("08:00, 12:00", "has no day before its times"),
        ("Mond 08:00", "'Mond' is not a day"),
        ("Mon-Xyz 08:00", "'Xyz' is not a day"),
        ("Mon-Fri-Sun 08:00", "is not a day range"),
        ("Mon 24:00", "'24:00' is not a 24-hour time"),
        ("Mon 8am", "'8am' is not a 24-hour time"),
        ("Mon 08:60", "'08:60' is not a 24-hour time"),
        ("Mon 08:00 Tue 09:00", "separate day groups with ';'"),
    ],
)
def test_bad_slots_say_what_was_expected(text: str, detail: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Slots.parse(text)
    error = caught.value
    assert error.field == "slots"
    assert detail in error.message
    assert error.hint is not None and "Mon-Fri 08:00, 12:00, 16:00; Sat 09:00" in error.hint


def test_next_free_skips_taken_slots() -> None:
    slots = Slots.parse("Mon-Fri 08:00, 12:00, 16:00")
    after = datetime(2026, 12, 1, 7, 0, tzinfo=JAKARTA)  # Tuesday
    assert slots.next_free(after, zone="Asia/Jakarta", taken=[]) == utc(2026, 12, 1, 1)
    taken = [utc(2026, 12, 1, 1), datetime(2026, 12, 1, 12, 0, tzinfo=JAKARTA)]
    assert slots.next_free(after, zone="Asia/Jakarta", taken=taken) == utc(2026, 12, 1, 9)
    # Strictly after: a slot exactly at `after` is not free any more.
    at_noon = datetime(2026, 12, 1, 12, 0, tzinfo=JAKARTA)
    assert slots.next_free(at_noon, zone="Asia/Jakarta", taken=[]) == utc(2026, 12, 1, 9)


def test_next_free_crosses_the_weekend_in_local_time() -> None:
    slots = Slots.parse("Sen-Jum 08:00, 16:00")
    friday_evening = datetime(2026, 12, 4, 16, 30, tzinfo=JAYAPURA)
    monday_8 = datetime(2026, 12, 7, 8, 0, tzinfo=JAYAPURA)
    found = slots.next_free(friday_evening, zone="Asia/Jayapura", taken=set())
    assert found == monday_8 == utc(2026, 12, 6, 23)
    assert found.tzinfo is UTC
    later = slots.next_free(friday_evening, zone="Asia/Jayapura", taken={monday_8})
    assert later == datetime(2026, 12, 7, 16, 0, tzinfo=JAYAPURA)
    # 16:30 in Jayapura is 14:30 in Jakarta: Friday's 16:00 WIB slot is still ahead there.
    jakarta = slots.next_free(friday_evening, zone="Asia/Jakarta", taken=[])
    assert jakarta == datetime(2026, 12, 4, 16, 0, tzinfo=JAKARTA) == utc(2026, 12, 4, 9)


def test_next_free_is_dst_safe() -> None:
    slots = Slots.parse("Sun 01:30, 02:30")
    before_spring = datetime(2026, 3, 7, 12, 0, tzinfo=NY)
    # 01:30 EST, then 02:30 which does not exist and becomes 03:30 EDT.
    first = slots.next_free(before_spring, zone="America/New_York", taken=[])
    assert first == utc(2026, 3, 8, 6, 30)
    second = slots.next_free(first, zone="America/New_York", taken=[])
    assert second == utc(2026, 3, 8, 7, 30)
    assert to_local(second, "America/New_York").hour == 3
    before_autumn = datetime(2026, 10, 31, 12, 0, tzinfo=NY)
    first = slots.next_free(before_autumn, zone="America/New_York", taken=[])
    assert first == utc(2026, 11, 1, 5, 30)  # 01:30 EDT, the first of the two
    second = slots.next_free(first, zone="America/New_York", taken=[])
    assert second == utc(2026, 11, 1, 7, 30)  # 02:30 EST: 01:30 EST is not a second slot


def test_next_free_gives_up_after_about_400_days() -> None:
    slots = Slots.parse("Mon 08:00")
    after = utc(2026, 11, 30, 0)
    mondays = [utc(2026, 11, 30, 1) + timedelta(weeks=n) for n in range(60)]
    with pytest.raises(ConfigurationError) as caught:
        slots.next_free(after, zone="Asia/Jakarta", taken=mondays)
    assert caught.value.field == "slots"
    assert "no free posting slot within 400 days" in caught.value.message
    # The 57th Monday on is 399 days away: still found.
    assert slots.next_free(after, zone="Asia/Jakarta", taken=mondays[:57]) == mondays[57]


def test_next_free_refuses_naive_datetimes() -> None:
    slots = Slots.parse("Mon 08:00")
    with pytest.raises(ConfigurationError):
        slots.next_free(datetime(2026, 12, 1), zone="Asia/Jakarta", taken=[])
    with pytest.raises(ConfigurationError):
        slots.next_free(NOW, zone="Asia/Jakarta", taken=[datetime(2026, 12, 7, 8)])
    with pytest.raises(ConfigurationError) as caught:
        slots.next_free(NOW, zone="Jakarta", taken=[])
    assert caught.value.field == "timezone"
