"""Fuzz the public models and parsers: only GovSocialError escapes (issue 13, item 7).

Post, Media, Account, PostVariant, PostRef and the text parsers (Recurrence, Slots,
ServiceHours, Period, parse_when) are built from hostile text and values of every type.
Each either builds a valid value or raises a GovSocialError (a ValidationError for a
model's input) with a message; pydantic's own error, a TypeError or a UnicodeError escaping
is a bug. A built value must also survive what a caller does next: its JSON round-trip,
``repr``, ``str``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz._depth import DEPTHS, scaled
from fuzz.strategies import any_value, hostile_text, times
from govsocial import (
    Account,
    GovSocialError,
    Media,
    Post,
    PostRef,
    PostVariant,
    Problem,
    ValidationError,
    platforms,
    validate,
)
from govsocial.analytics.analysis import Period
from govsocial.core.timing import Recurrence, Slots, parse_when
from govsocial.inbox.service_hours import ServiceHours
from govsocial.testing import tiny_png

IMAGE = "https://media.example.go.id/poster.png"
LONE = re.compile("[\ud800-\udfff]")


def _kwargs(fields: list[str], values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict]:
    names = st.one_of(st.sampled_from(fields), st.sampled_from(fields), hostile_text(6))
    return st.dictionaries(names, values, max_size=len(fields) + 1)


def built_or_refused(make: Any, *args: Any, **kwargs: Any) -> Any:
    """``make(*args, **kwargs)``, or None when it raised a GovSocialError with a message;
    anything else escapes (and fails the test)."""
    try:
        return make(*args, **kwargs)
    except GovSocialError as error:
        assert str(error), "an error says what went wrong"
        return None


def _post_values() -> st.SearchStrategy[Any]:
    media = st.one_of(
        st.builds(dict, url=st.just(IMAGE), alt_text=hostile_text()),
        st.dictionaries(st.sampled_from(["url", "data", "path", "alt_text"]), any_value()),
        any_value(),
    )
    return st.one_of(
        hostile_text(),
        any_value(),
        st.lists(media, max_size=3),
        st.dictionaries(hostile_text(8), hostile_text(8), max_size=3),
        st.dictionaries(
            st.sampled_from(["paper", "x", "mastodon"]),
            st.one_of(st.builds(dict, text=hostile_text()), any_value()),
            max_size=2,
        ),
    )


@pytest.mark.parametrize("depth", DEPTHS)
def test_post_from_hostile_input_is_built_or_refused(depth: settings) -> None:
    fields = list(Post.model_fields)

    @scaled(depth, 3)
    @given(text=st.one_of(hostile_text(), any_value()), kwargs=_kwargs(fields, _post_values()))
    def check(text: Any, kwargs: dict[str, Any]) -> None:
        kwargs.pop("text", None)
        post = built_or_refused(Post, text, **kwargs)
        if post is not None:
            assert Post.model_validate_json(post.model_dump_json()) == post
            repr(post), post._repr_html_()

    check()


@pytest.mark.parametrize("depth", DEPTHS)
def test_validate_returns_problems_for_any_post_on_every_platform(
    depth: settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``validate(post, platform)`` is offline and total: a list of Problems, or a
    GovSocialError (a lone surrogate refused before any check), for every installed
    platform."""
    root = tmp_path_factory.mktemp("media")
    (root / "poster.png").write_bytes(tiny_png())
    (root / "folder").mkdir()
    (root / "notes.txt").write_text("not an image", encoding="utf-8")
    alt = hostile_text().map(lambda t: LONE.sub("\ufffd", t))  # a surrogate: refused by Media
    media = st.one_of(
        st.builds(Media, data=st.just(tiny_png()), alt_text=alt),
        st.builds(
            Media,
            data=st.binary(max_size=64),
            mime_type=st.sampled_from(["image/png", "video/mp4", "text/plain"]),
        ),
        st.builds(
            Media,
            path=st.sampled_from(
                [
                    root / "poster.png",
                    root / "folder",
                    root / "notes.txt",
                    root / "missing.png",
                    Path("/etc/passwd"),
                ]
            ),
            alt_text=alt,
        ),
        st.builds(
            Media, url=st.sampled_from([IMAGE, "ftp://x/y.png", "https://x", "javascript:alert(1)"])
        ),
    )

    short = hostile_text(huge=False)  # a huge text takes X's counting seconds: now and then

    @scaled(depth, 2)
    @given(
        text=st.one_of(short, short, short, hostile_text()),
        media=st.lists(media, max_size=5),
        variant=st.one_of(st.none(), short),
        platform=st.sampled_from(sorted(platforms())),
    )
    def check(text: str, media: list[Media], variant: str | None, platform: str) -> None:
        variants = {platform: {"text": variant}} if variant is not None else {}
        post = built_or_refused(Post, text, media=media, variants=variants)
        if post is None:
            return
        problems = built_or_refused(validate, post, platform)
        assert problems is None or (
            isinstance(problems, list) and all(isinstance(p, Problem) for p in problems)
        )

    check()


@pytest.mark.parametrize("depth", DEPTHS)
def test_media_from_hostile_input_is_built_or_refused(depth: settings) -> None:
    fields = list(Media.model_fields)

    @scaled(depth, 3)
    @given(kwargs=_kwargs(fields, st.one_of(hostile_text(), any_value())))
    def check(kwargs: dict[str, Any]) -> None:
        media = built_or_refused(Media, **kwargs)
        if media is not None:
            repr(media), media.source, media.kind, media.size()

    check()


@pytest.mark.parametrize("depth", DEPTHS)
def test_account_from_hostile_input_is_built_or_refused(depth: settings) -> None:
    fields = list(Account.model_fields)
    values = st.one_of(
        hostile_text(),
        any_value(),
        st.builds(lambda t: f"https://{t}", hostile_text(12)),
        st.builds(lambda t: f"http://{t}", hostile_text(12)),
        st.dictionaries(hostile_text(8), st.one_of(hostile_text(), any_value()), max_size=3),
    )

    @scaled(depth, 3)
    @given(kwargs=_kwargs(fields, values))
    def check(kwargs: dict[str, Any]) -> None:
        account = built_or_refused(Account, **kwargs)
        if account is not None:
            repr(account), account.key, hash(account)
            for name in account.credentials:
                built_or_refused(account.credential, name)

    check()


@pytest.mark.parametrize("depth", DEPTHS)
def test_variants_and_refs_from_hostile_input_are_built_or_refused(depth: settings) -> None:
    account = Account(platform="paper", handle="@humas")

    @scaled(depth, 2)
    @given(
        variant=_kwargs(list(PostVariant.model_fields), _post_values()),
        ref=_kwargs(
            list(PostRef.model_fields),
            st.one_of(hostile_text(), any_value(), st.just(account)),
        ),
    )
    def check(variant: dict[str, Any], ref: dict[str, Any]) -> None:
        built_or_refused(PostVariant, **variant)
        built_or_refused(PostRef, **ref)
        built_or_refused(PostRef.model_validate, ref)

    check()


@pytest.mark.parametrize("depth", DEPTHS)
def test_models_from_hostile_json_are_built_or_refused(depth: settings) -> None:
    @scaled(depth, 2)
    @given(
        model=st.sampled_from([Post, Media, Account, PostVariant, PostRef]),
        text=st.one_of(hostile_text(), st.binary(max_size=64)),
    )
    def check(model: Any, text: str | bytes) -> None:
        built_or_refused(model.model_validate_json, text)

    check()


RULE_WORDS = [
    "FREQ=",
    "DAILY",
    "WEEKLY",
    "MONTHLY",
    "YEARLY",
    "SECONDLY",
    "MINUTELY",
    ";",
    "INTERVAL=",
    "COUNT=",
    "UNTIL=",
    "BYDAY=",
    "MO",
    "-1FR",
    "BYHOUR=",
    "BYMINUTE=",
    "BYSECOND=",
    "BYMONTHDAY=",
    "BYSETPOS=",
    "BYWEEKNO=",
    "BYYEARDAY=",
    "BYMONTH=",
    "WKST=",
    "RRULE:",
    ",",
    "0",
    "9",
    "60",
    "-366",
    "99999999999",
    "20261231",
    "20261231T235959Z",
]
ZONES = st.one_of(
    st.sampled_from(["Asia/Jakarta", "UTC", "Asia/Jayapura", "America/St_Johns"]),
    hostile_text(12),
)


def _words(words: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(words), hostile_text(4)), max_size=12).map("".join)


@pytest.mark.parametrize("depth", DEPTHS)
def test_recurrence_rules_are_read_or_refused(depth: settings) -> None:
    @scaled(depth, 3)
    @given(text=st.one_of(_words(RULE_WORDS), hostile_text()), zone=ZONES, start=times())
    def check(text: str, zone: str, start: datetime) -> None:
        rule = built_or_refused(Recurrence.parse, text, zone=zone, start=start)
        if rule is not None:
            first = built_or_refused(lambda: rule.first)
            later = built_or_refused(rule.after, datetime(2026, 1, 1, tzinfo=UTC))
            for when in (first, later):
                assert when is None or when.tzinfo is not None

    check()


HOURS_WORDS = [
    "Mon",
    "Fri",
    "Sen",
    "Jum",
    "Sat",
    "-",
    " ",
    ";",
    ",",
    "08:00",
    "16:00",
    "24:00",
    "25:61",
    "00:00",
]


@pytest.mark.parametrize("depth", DEPTHS)
def test_slots_hours_periods_and_times_are_read_or_refused(depth: settings) -> None:
    @scaled(depth, 3)
    @given(
        text=st.one_of(_words(HOURS_WORDS), hostile_text()),
        period=st.one_of(
            _words(["2026", "-", "Q", "W", "01", "13", "99", "..", "last", "month", "week", " "]),
            hostile_text(),
        ),
        when=st.one_of(
            hostile_text(), times(), _words(["2026-01-01", "T", "09:00", "+07:00", "Z", " "])
        ),
        zone=ZONES,
        holidays=st.one_of(
            st.none(), st.just("ID"), hostile_text(6), st.lists(hostile_text(10), max_size=2)
        ),
    )
    def check(text: str, period: str, when: Any, zone: str, holidays: Any) -> None:
        built_or_refused(Slots.parse, text)
        built_or_refused(ServiceHours.parse, text, holidays=holidays)
        built_or_refused(Period.parse, period, zone=zone)
        built_or_refused(parse_when, when, zone=zone, now=datetime.now(UTC))

    check()


def test_a_refusal_is_a_validation_error_naming_the_model() -> None:
    """The shape the fuzz tests rely on: a model's refusal is a ValidationError."""
    with pytest.raises(ValidationError) as error:
        Post(text=123)
    assert error.value.problems[0].field == "text"
