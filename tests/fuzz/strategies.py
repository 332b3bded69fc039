"""Hostile input for the fuzz suite: text nobody should type, values of every type, JSON of
any shape.

Text includes what reviews found breaking things: lone surrogates (U+D800-U+DFFF), NUL and
the other control characters, escape sequences, bidirectional overrides, zero-width
characters, combining marks, emoji sequences and very long runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "any_value",
    "hostile_text",
    "json_values",
    "keyed_json",
    "nasty",
    "times",
]

#: single code points and short runs that broke, or could break, something somewhere
NASTY = [
    "\x00",
    "\ud800",
    "\udfff",
    "\udc80abc",
    "\x1b[2J\x1b[H",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x08\x08\r",
    "\x9b31m",
    "\u202e",
    "\u2066\u2069",
    "\u200b\u200d\ufeff",
    "\u0301\u0301\u0301",
    "👋🏽\u200d👩‍👩‍👧",
    "\U0001f1ee\U0001f1e9",
    "\n\r\n\t\v\f",
    "$\\frac{a}{b}$",
    "=cmd|' /C calc'!A0",
    "javascript:alert(1)",
    "env:GOVSOCIAL_SECRET_KEY",
    "../../../etc/passwd",
    "'; DROP TABLE jobs; --",
    "%s%n%x",
    "{0.__class__}",
    "\\",
    '"',
    "",
    " ",
    "\uffff\ufffe",
    "\U0010ffff",
]


def nasty() -> st.SearchStrategy[str]:
    """One of the known-nasty snippets."""
    return st.sampled_from(NASTY)


#: every code point, surrogates and unassigned ones included
_ALL_CHARACTERS = st.characters(exclude_categories=())


def hostile_text(max_size: int = 40, *, huge: bool = True) -> st.SearchStrategy[str]:
    """Text made of nasty snippets and arbitrary code points; when ``huge``, now and then
    very long (a snippet repeated 5,000 or 70,000 times)."""
    piece = st.one_of(nasty(), st.text(_ALL_CHARACTERS, max_size=8))
    short = st.lists(piece, max_size=max_size // 4 or 1).map("".join)
    if not huge:
        return short
    long = st.builds(lambda p, n: p * n, nasty().filter(bool), st.sampled_from([5_000, 70_000]))
    return st.one_of(short, short, short, short, short, short, short, long)


def times() -> st.SearchStrategy[datetime]:
    """Aware and naive datetimes, near and very far."""
    return st.one_of(
        st.datetimes(timezones=st.just(UTC)),
        st.datetimes(),
        st.just(datetime.now(UTC) + timedelta(minutes=5)),
    )


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # nan and infinities too: Python's json module writes and reads them
    hostile_text(16, huge=False),
)


def json_values(keys: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Any]:
    """Any JSON value (hypothesis ``recursive``), with object keys from ``keys`` when given."""
    names = keys if keys is not None else hostile_text(12, huge=False)
    return st.recursive(
        json_scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(names, inner, max_size=5),
        ),
        max_leaves=25,
    )


def keyed_json(words: list[str]) -> st.SearchStrategy[Any]:
    """JSON whose object keys are mostly ``words`` (the names a parser looks for), so the
    fuzzer reaches past "not the expected shape" into the code reading the fields."""
    keys = st.one_of(st.sampled_from(words), st.sampled_from(words), hostile_text(6, huge=False))
    values = st.recursive(
        st.one_of(json_scalars, st.sampled_from(words)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(keys, inner, max_size=8),
        ),
        max_leaves=40,
    )
    return st.one_of(st.dictionaries(keys, values, max_size=8), values)


def any_value() -> st.SearchStrategy[Any]:
    """A value of any type a caller might pass by mistake."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.complex_numbers(),
        hostile_text(),
        st.binary(max_size=32),
        times(),
        st.dates(),
        st.timedeltas(),
        st.builds(Path, hostile_text(12)),
        st.lists(hostile_text(8), max_size=3),
        st.tuples(st.integers(), hostile_text(8)),
        st.dictionaries(hostile_text(8), hostile_text(8), max_size=3),
        st.sets(st.integers(), max_size=3),
        st.builds(object),
        st.just(date(1, 1, 1)),
        st.just(float("nan")),
        st.just(2**100),
    )
