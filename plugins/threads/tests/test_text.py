"""Counting as Threads does: 500 characters, emoji by their UTF-8 bytes, at most 5 links.

The rule is from https://developers.facebook.com/docs/threads/posts ("Emojis are counted as
the number of UTF-8 bytes"); the page gives no worked numbers, so the cases below apply the
rule to known byte lengths (an emoji's UTF-8 length is fixed by Unicode).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govsocial import Post, count_characters, validate
from govsocial_threads.text import count_characters as threads_count
from govsocial_threads.text import unique_links


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello world", 11),
        ("😀", 4),  # U+1F600: 4 bytes
        ("👍🏽", 8),  # thumbs up + skin tone: 4 + 4
        ("🇮🇩", 8),  # a flag: two regional indicators
        ("👨‍👩‍👧", 18),  # three people joined by two ZWJ (3 bytes each)
        ("❤️", 6),  # U+2764 (3) + VS16 (3)
        ("1️⃣", 7),  # keycap: 1 + VS16 (3) + U+20E3 (3)
        ("é", 1),  # e + combining acute is one character, not an emoji
        ("Selamat pagi, warga! 🙏", 21 + 4),
        ("ありがとう", 5),  # Japanese counts one per character, not by bytes
        ("नमस्ते", 3),
    ],
)
def test_counts_follow_the_documented_rule(text: str, expected: int) -> None:
    assert count_characters(text, "threads") == expected


def test_five_hundred_characters_pass_and_emoji_push_a_post_over() -> None:
    assert validate(Post("a" * 500), "threads") == []
    problems = validate(Post("a" * 497 + "😀"), "threads")  # 497 + 4 = 501
    assert [p.code for p in problems] == ["text_too_long"]
    assert problems[0].limit == 500


def test_more_than_five_distinct_links_are_reported() -> None:
    five = " ".join(f"https://dinas{i}.go.id" for i in range(5))
    assert validate(Post(five + " https://dinas0.go.id"), "threads") == []  # a repeat is 1
    problems = validate(Post(five + " kominfo.go.id/info"), "threads")
    assert [p.code for p in problems] == ["too_many_links"]
    assert problems[0].limit == 5


def test_unique_links_counts_each_url_once() -> None:
    text = "www.facebook.com dan https://www.threads.com serta www.facebook.com"
    assert len(unique_links(text)) == 2


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_counts_its_characters(text: str) -> None:
    assert threads_count(text) == len(text) - text.count("\r\n")


@given(st.text(max_size=60))
def test_never_less_than_the_grapheme_count(text: str) -> None:
    from govsocial.core.text import grapheme_count

    assert threads_count(text) >= grapheme_count(text)
