"""X's weighted count against the official twitter-text 3.1.0 (npm).

``data/twitter_text_corpus.json`` holds 800+ strings (emoji ZWJ, skin-tone and flag
sequences, CJK, URLs with and without a scheme on .go.id/.id domains, Indonesian text,
NFC cases, seeded mixtures) with the weighted length twitter-text gave each
(``govsocial_x.testing.make_corpus`` wrote it). The first test holds our count to those
figures; the live tests re-run twitter-text to prove the figures and the derived data are current.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from govsocial import Post, validate
from govsocial_x import X
from govsocial_x.testing import make_corpus
from govsocial_x.testing import make_text_data as make_data
from govsocial_x.text import MAX_WEIGHTED_LENGTH, extract_urls, weighted_length

HERE = Path(__file__).resolve().parent
CORPUS = json.loads((HERE / "data" / "twitter_text_corpus.json").read_text("utf-8"))
ENTRIES = CORPUS["entries"]
DATA = HERE.parent / "src" / "govsocial_x" / "data"


def test_the_corpus_is_large_and_varied() -> None:
    texts = [e["text"] for e in ENTRIES]
    assert len(texts) >= 500
    assert len(set(texts)) == len(texts)
    assert sum("\u200d" in t for t in texts) >= 50  # ZWJ sequences
    assert sum(".go.id" in t for t in texts) >= 50
    assert sum(any("\u4e00" <= c <= "\u9fff" for c in t) for t in texts) >= 50
    assert sum(t != unicodedata.normalize("NFC", t) for t in texts) >= 20


def test_every_corpus_string_counts_as_twitter_text_counts_it() -> None:
    wrong = [
        (e["text"], e["weighted_length"], weighted_length(e["text"]))
        for e in ENTRIES
        if weighted_length(e["text"]) != e["weighted_length"]
    ]
    assert wrong == [], f"{len(wrong)} of {len(ENTRIES)} differ, e.g. {wrong[:5]}"


def test_the_committed_figures_are_what_twitter_text_says_now(node_modules: Path) -> None:
    """Re-runs twitter-text 3.1.0 over the committed strings (skipped without npm)."""
    texts = [e["text"] for e in ENTRIES]
    assert make_corpus.twitter_text_counts(texts, node_modules) == [
        e["weighted_length"] for e in ENTRIES
    ]
    assert make_corpus.corpus_strings() == texts  # the generator still makes this corpus


def test_the_derived_emoji_and_tld_data_are_current(node_modules: Path) -> None:
    """Re-asks twitter-text which emoji sequences and TLDs it knows (skipped without npm)."""
    from govsocial.core.text import top_level_domains

    names = sorted(top_level_domains())
    unknown = [
        n
        for n, ok in zip(names, make_data.probe("tld", names, node_modules), strict=True)
        if not ok
    ]
    committed = (DATA / "tlds_not_in_twitter_text.txt").read_text("utf-8").split()
    assert unknown == committed
    candidates = make_data.emoji_candidates()
    answers = make_data.probe("emoji", candidates, node_modules)
    recognised = sorted(
        " ".join(f"{ord(c):X}" for c in text)
        for text, ok in zip(candidates, answers, strict=True)
        if ok and (len(text) > 1 or make_data._weight_one(text))
    )
    assert recognised == (DATA / "twemoji_11.txt").read_text("ascii").splitlines()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Halo warga", 10),
        ("Info: https://www.bps.go.id/id/statistics-table?subject=519&tahun=2023", 29),
        ("kemkes.go.id", 23),
        ("政府", 4),
        ("👨‍👩‍👧‍👦", 2),
        ("🇮🇩", 2),
        ("Cafe\u0301", 4),
    ],
)
def test_documented_weights(text: str, expected: int) -> None:
    """https://docs.x.com/fundamentals/counting-characters : URLs 23, CJK and emoji 2."""
    assert X.count_characters(text) == expected


def test_validate_uses_the_weighted_count() -> None:
    assert validate(Post("政" * 140), "x") == []
    problems = validate(Post("政" * 141), "x")
    assert [p.code for p in problems] == ["text_too_long"]
    assert problems[0].limit == MAX_WEIGHTED_LENGTH
    long_link = "https://jdih.kemenkeu.go.id/" + "a" * 400
    assert validate(Post(f"Aturan baru: {long_link}"), "x") == []


def test_pathological_dots_fall_back_to_the_linear_extractor() -> None:
    """twitter-text's regexes backtrack for seconds on 'a.a.a...'; the count still ends."""
    assert weighted_length("a." * 1500) == 3000
    found = extract_urls("lihat kemkes.go.id " + "a." * 1500)
    assert found and found[0].url == "kemkes.go.id"


@given(st.text(max_size=60))
def test_the_count_is_that_of_the_nfc_form(text: str) -> None:
    assert weighted_length(text) == weighted_length(unicodedata.normalize("NFC", text))


@given(st.text(alphabet=st.characters(max_codepoint=0x10FF, exclude_characters="."), max_size=80))
def test_text_without_dots_or_emoji_below_u1100_weighs_one_per_code_point(text: str) -> None:
    normalized = unicodedata.normalize("NFC", text)
    # "A" and a combining dot below compose to U+1EA0, above the range: it weighs 2
    assume(all(ord(character) <= 0x10FF for character in normalized))
    assert weighted_length(text) == len(normalized)


def test_a_composition_leaving_the_light_range_weighs_as_its_nfc_form() -> None:
    assert weighted_length("A\u0323") == weighted_length("\u1ea0") == 2
