"""govsocial.core.text: grapheme clusters, UTF-8 length and twitter-text-style URL spans."""

from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from govsocial.core import text as core
from govsocial.core.text import Span, find_urls, grapheme_count, graphemes, utf8_length

# --- grapheme clusters --------------------------------------------------------


def test_zwj_sequences_are_one_cluster() -> None:
    for emoji in ["👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "🏳️‍⚧️", "❤️‍🔥", "🧑🏿‍🤝‍🧑🏻", "🙂‍↔️"]:
        assert graphemes(emoji) == [emoji]
        assert grapheme_count(emoji, indic_conjuncts=False) == 1


def test_flags_pair_regional_indicators() -> None:
    assert graphemes("🇮🇩🇫🇷") == ["🇮🇩", "🇫🇷"]
    assert grapheme_count("🇮🇩🇫") == 2
    assert grapheme_count("🏴󠁧󠁢󠁳󠁣󠁴󠁿") == 1  # tag sequence


def test_skin_tones_keycaps_and_variation_selectors() -> None:
    assert graphemes("👍🏻👋🏿") == ["👍🏻", "👋🏿"]
    assert graphemes("#️⃣1️⃣") == ["#️⃣", "1️⃣"]
    assert grapheme_count("✨☺︎") == 2


def test_combining_marks_stay_with_their_base() -> None:
    assert graphemes("e\u0301a\u0308\u0301") == ["e\u0301", "a\u0308\u0301"]
    assert grapheme_count("Z̤̲̞ệ") == 2
    assert graphemes("\u0301x") == ["\u0301", "x"]  # a lone mark is a cluster


def test_cjk_hangul_and_line_breaks() -> None:
    assert grapheme_count("日本語のテキスト") == 8
    assert graphemes("한국어") == ["한", "국", "어"]
    assert graphemes("\u1100\u1161\u11a8") == ["\u1100\u1161\u11a8"]  # conjoining jamo
    assert graphemes("a\r\nb") == ["a", "\r\n", "b"]
    assert grapheme_count("a\r\nb\n\r") == 5


def test_devanagari_conjuncts_follow_unicode_15_1_by_default() -> None:
    assert graphemes("नमस्ते") == ["न", "म", "स्ते"]
    assert grapheme_count("क्षत्रिय") == 3
    assert grapheme_count("क्\u200dष") == 1  # virama, ZWJ, consonant


def test_devanagari_without_gb9c_counts_like_ruby_3() -> None:
    assert graphemes("नमस्ते", indic_conjuncts=False) == ["न", "म", "स्", "ते"]
    assert grapheme_count("क्षत्रिय", indic_conjuncts=False) == 5
    assert grapheme_count("क्\u200dष", indic_conjuncts=False) == 2
    assert grapheme_count("প্রধান", indic_conjuncts=False) == 4  # Bengali
    # Scripts without the conjunct rule are unaffected.
    assert grapheme_count("ภาษาไทย", indic_conjuncts=False) == grapheme_count("ภาษาไทย")
    assert grapheme_count("مرحبا", indic_conjuncts=False) == 5


def test_regex_implements_unicode_15_1_or_later() -> None:
    """The documented assumption: the installed ``regex`` has rule GB9c."""
    assert regex.findall(r"\X", "स्ते") == ["स्ते"]


def test_utf8_length() -> None:
    assert utf8_length("") == 0
    assert utf8_length("abc") == 3
    assert utf8_length("é") == 2
    assert utf8_length("日") == 3
    assert utf8_length("👨‍👩‍👧‍👦") == 25


# --- URLs -------------------------------------------------------------------------


def _urls(text: str, *, require_scheme: bool = True) -> list[str]:
    return [span.text for span in find_urls(text, require_scheme=require_scheme)]


def test_urls_with_scheme_and_their_offsets() -> None:
    text = "Baca https://www.kemenkeu.go.id/informasi?id=42&lang=id sekarang"
    assert find_urls(text, require_scheme=True) == [
        Span(5, 55, "https://www.kemenkeu.go.id/informasi?id=42&lang=id")
    ]


def test_trailing_punctuation_is_left_out() -> None:
    for ending in [".", ",", "!", "?", ":", ";", "'", '"', "...", "*", "]"]:
        assert _urls(f"see http://example.com/path{ending}") == ["http://example.com/path"]
    assert _urls("http://example.com/a?b=c.") == ["http://example.com/a?b=c"]
    assert _urls("http://example.com/trailing/") == ["http://example.com/trailing/"]


def test_balanced_parentheses() -> None:
    assert _urls("(https://en.wikipedia.org/wiki/Jakarta_(city))") == [
        "https://en.wikipedia.org/wiki/Jakarta_(city)"
    ]
    assert _urls("https://example.com/a_(b)_(c)") == ["https://example.com/a_(b)_(c)"]
    assert _urls("(see http://example.com/foo)") == ["http://example.com/foo"]
    assert _urls("https://example.com/a_((b))") == ["https://example.com/a_((b))"]


def test_what_is_not_a_url_with_scheme() -> None:
    assert _urls("http://localhost:3000 ftp://example.com http://127.0.0.1/x") == []
    assert _urls("example.com www.example.org") == []  # no scheme
    assert _urls("http://example.invalidtld/") == []
    assert _urls("x@http://example.com $http://example.com") == []
    assert _urls("http://👍.ws") == []  # not IDNA 2003 (unassigned in Unicode 3.2)
    too_long = "http://example.com/valid?" + "#foo?" * 1000
    assert _urls(too_long) == []  # over 4096 characters


def test_other_schemes_ports_idn_and_case() -> None:
    assert _urls("gemini://gem.example.org/x dat://foo.com ssb://bar.net") == [
        "gemini://gem.example.org/x",
        "dat://foo.com",
        "ssb://bar.net",
    ]
    assert _urls("HTTPS://Example.COM:8080/a?b=c#d") == ["HTTPS://Example.COM:8080/a?b=c#d"]
    assert _urls("http://日本.jp/パス?q=1") == ["http://日本.jp/パス?q=1"]
    assert _urls("https://xn--p1ai.xn--p1ai/ http://пример.рф/") == [
        "https://xn--p1ai.xn--p1ai/",
        "http://пример.рф/",
    ]
    assert _urls("http://hidden.onion/") == ["http://hidden.onion/"]


def test_tco_links_end_after_the_slug() -> None:
    assert _urls("https://t.co/abc123/extra") == ["https://t.co/abc123"]
    assert _urls("https://t.co/" + "a" * 41) == []


def test_urls_without_scheme() -> None:
    text = "visit example.com/path, www.foo.co.uk. or -bar.com or 日本example.com/x"
    assert _urls(text, require_scheme=False) == [
        "example.com/path",
        "www.foo.co.uk",
        "example.com/x",
    ]
    assert _urls("e.g. 3.14 v1.2.3 file.txt", require_scheme=False) == []
    assert _urls("user@example.com", require_scheme=False) == []
    assert _urls("http://a.com b.org", require_scheme=False) == ["http://a.com", "b.org"]


def test_long_inputs_stay_fast() -> None:
    # Backtracking regexes go quadratic or worse on these; ours stays linear.
    for text in ["a." * 20_000, "a_." * 10_000, "http://a.com/" + "a(" * 10_000]:
        find_urls(text, require_scheme=False)
        find_urls(text + ":", require_scheme=True)


# --- properties ---------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\u200d", "\ufe0f", "🇮", "🇩", "्", "स", "त", "\u0301", "\r", "\n", "🏽"]),
    ),
    max_size=40,
)


@given(_TEXT)
def test_count_is_at_most_the_code_point_count(text: str) -> None:
    assert grapheme_count(text) <= len(text)
    assert grapheme_count(text) <= grapheme_count(text, indic_conjuncts=False) <= len(text)
    assert "".join(graphemes(text)) == text
    assert "".join(graphemes(text, indic_conjuncts=False)) == text
    assert (grapheme_count(text) == 0) == (text == "")


@given(_TEXT, _TEXT, st.booleans())
def test_concatenation_bounds(first: str, second: str, conjuncts: bool) -> None:
    separate = grapheme_count(first, indic_conjuncts=conjuncts) + grapheme_count(
        second, indic_conjuncts=conjuncts
    )
    joined = grapheme_count(first + second, indic_conjuncts=conjuncts)
    assert separate - 1 <= joined <= separate


@given(_TEXT)
def test_utf8_length_is_the_encoded_length(text: str) -> None:
    assert utf8_length(text) == len(text.encode("utf-8"))


# A literal transcription of twitter-text's (and Mastodon's) valid_url regex, slow
# on long input but obviously faithful: the fast matcher must agree with it.
_TLDS = sorted(core.top_level_domains(), key=len, reverse=True)
_D = rf"[^{core._NOT_IN_LABEL}_\-]"
_REFERENCE_URL = regex.compile(
    rf"(?P<before>(?:[^A-Za-z0-9\u212a\u017f@\uff20$#\uff03{core._INVALID}]|^))"
    rf"(?P<url>(?P<protocol>{core._PROTOCOL.pattern})?"
    rf"(?P<domain>(?:(?:{_D}(?:[_\-]|{_D})*)?{_D}\.)*(?:(?:{_D}(?:-|{_D})*)?{_D}\.)"
    r"(?:\L<tlds>(?=[^0-9a-zA-Z@+\-\u212a\u017f]|$)|[xX][nN]--[0-9a-zA-Z]+))"
    rf"{core._AFTER_DOMAIN.pattern})",
    regex.MULTILINE,
    tlds=_TLDS,
)
_REFERENCE_ASCII = regex.compile(
    rf"(?:(?:[a-zA-Z0-9\-_\u212a]|[{core._LATIN_ACCENTS}]+)+\.)+"
    r"(?:\L<tlds>(?=[^0-9a-zA-Z@+\-\u212a\u017f]|$)|[xX][nN]--[0-9a-zA-Z]+)",
    regex.MULTILINE,
    tlds=_TLDS,
)


def _reference_urls(text: str, require_scheme: bool) -> list[Span]:
    found: list[Span] = []
    for match in _REFERENCE_URL.finditer(text):
        start, end = match.span("url")
        if match.group("protocol") is None:
            if require_scheme or match.group("before") in {"-", "_", ".", "/"}:
                continue
            pieces = [
                (start + piece.start(), start + piece.end())
                for piece in _REFERENCE_ASCII.finditer(match.group("domain"))
                if core._valid_domain(end - start, piece.group(), False)
            ]
            if pieces and match.group("path") is not None:
                pieces[-1] = (pieces[-1][0], end)
            found += [Span(s, e, text[s:e]) for s, e in pieces]
            continue
        tco = core._TCO.match(match.group("url"))
        if tco:
            if len(tco.group(1)) > 40:
                continue
            end = start + tco.end()
        if core._valid_domain(end - start, match.group("domain"), True):
            found.append(Span(start, end, text[start:end]))
    return found


_URLISH = st.lists(
    st.sampled_from(
        [
            *"ab.c_-/:?#()@ \n日é019%!'\"[]~&|$=,;\uff03\uff20\u200e\ufeff👍「」<>*",
            "com",
            "co",
            "uk",
            "org",
            "jp",
            "onion",
            "भारत",
            "म्",
            "xn--p1ai",
            "xn--",
            "t.co/",
            "http://",
            "https://",
            "HTTP://",
            "gemini://",
            "ftp://",
            ":80",
            "..",
            "\u212a",
            "\u017f",
            "k",
        ]
    ),
    max_size=14,
).map("".join)


@settings(max_examples=400)
@given(_URLISH, st.booleans())
def test_find_urls_agrees_with_twitter_text_regex(text: str, require_scheme: bool) -> None:
    assert find_urls(text, require_scheme=require_scheme) == _reference_urls(text, require_scheme)


@given(_URLISH, st.booleans())
def test_url_spans_are_ordered_slices(text: str, require_scheme: bool) -> None:
    spans = find_urls(text, require_scheme=require_scheme)
    previous_end = 0
    for span in spans:
        assert previous_end <= span.start < span.end <= len(text)
        assert span.text == text[span.start : span.end]
        previous_end = span.end
