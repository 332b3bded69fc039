"""Fuzz the accounts file loader (issue 13, item 7).

``load_accounts`` reads TOML. Fed random bytes, text that is not UTF-8, random TOML of
every shape (accounts with fields of the wrong type, unknown fields, hostile names and
values), and deeply nested arrays and tables, it returns accounts or raises one
ConfigurationError whose message is one line: never a traceback, never a RecursionError.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz._depth import DEPTHS, scaled
from fuzz.strategies import hostile_text, json_values
from govsocial import Account, ConfigurationError
from govsocial.client.accounts_file import load_accounts

FIELDS = ["platform", "handle", "base_url", "credentials", "timezone", "name"]


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string (JSON's escapes are TOML's, but for surrogates)."""
    return json.dumps(text, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if value == value and abs(value) != float("inf") else "nan"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = (f"{_toml_string(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + ", ".join(items) + " }"
    return '""'


@st.composite
def accounts_files(draw: st.DrawFn) -> str:
    """TOML text: tables of fields (most of them an account's) with values of any shape."""
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(
            st.one_of(st.sampled_from(["humas", "a b", "x.y", ""]), hostile_text(10, huge=False))
        )
        lines.append(f"[{_toml_string(name)}]")
        fields = draw(
            st.dictionaries(
                st.one_of(st.sampled_from(FIELDS), hostile_text(6, huge=False)),
                st.one_of(
                    st.sampled_from(
                        [
                            "mastodon",
                            "paper",
                            "https://social.example.go.id",
                            "http://evil.example",
                            "env:HUMAS_TOKEN",
                            "env:GOVSOCIAL_SECRET_KEY",
                            "Asia/Jakarta",
                        ]
                    ),
                    st.dictionaries(hostile_text(8, huge=False), hostile_text(12), max_size=2),
                    json_values(),
                ),
                max_size=7,
            )
        )
        lines += [
            f"{_toml_string(k)} = {_toml_value(v)}" for k, v in fields.items() if v is not None
        ]
    if draw(st.booleans()):
        lines.append(draw(hostile_text(30)))  # a line of garbage somewhere
        draw(st.randoms()).shuffle(lines)
    return "\n".join(lines)


def nested(depth: int, opening: str, closing: str) -> str:
    return "a = " + opening * depth + closing * depth


def loaded_or_refused(path: Path) -> dict[str, Account] | None:
    """The accounts in ``path``, or None when it was refused with a one-line error."""
    try:
        return load_accounts(path)
    except ConfigurationError as error:
        assert str(error) and "\n" not in str(error), repr(str(error))
        return None


@pytest.mark.parametrize("depth", DEPTHS)
def test_random_bytes_are_loaded_or_refused_in_one_line(depth: settings, tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"

    @scaled(depth, 3)
    @given(
        content=st.one_of(
            st.binary(max_size=300),
            st.binary(max_size=40).map(lambda b: b'[humas]\nplatform = "' + b + b'"\n'),
            st.text(string.printable, max_size=200).map(str.encode),
        )
    )
    def check(content: bytes) -> None:
        path.write_bytes(content)
        loaded_or_refused(path)

    check()


@pytest.mark.parametrize("depth", DEPTHS)
def test_random_toml_is_loaded_or_refused_in_one_line(depth: settings, tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"

    @scaled(depth, 3)
    @given(text=accounts_files())
    def check(text: str) -> None:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        accounts = loaded_or_refused(path)
        for account in (accounts or {}).values():
            assert isinstance(account, Account)

    check()


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("[", "]"), ("{ b = ", " }"), ("[{ b = ", " }]")],
    ids=["arrays", "tables", "both"],
)
def test_nesting_a_hundred_thousand_levels_is_refused_in_one_line(
    tmp_path: Path, opening: str, closing: str
) -> None:
    path = tmp_path / "accounts.toml"
    for depth in (10, 1_000, 100_000):
        path.write_text(nested(depth, opening, closing), encoding="utf-8")
        with pytest.raises(ConfigurationError) as error:
            load_accounts(path)
        assert "\n" not in str(error.value)


def test_a_file_that_is_not_there_or_a_folder_is_refused_in_one_line(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.toml", tmp_path):
        with pytest.raises(ConfigurationError) as error:
            load_accounts(path)
        assert "\n" not in str(error.value)
