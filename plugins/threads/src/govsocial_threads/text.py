"""How Threads measures a post's text: characters with emoji by UTF-8 bytes, and links.

The rule, from https://developers.facebook.com/docs/threads/posts ("Limitations"): text posts
are limited to 500 characters, and "emojis are counted as the number of UTF-8 bytes" (the
page links the npm package grapheme-splitter, i.e. user-perceived characters). The
publishing reference says the same of the ``text`` parameter
(https://developers.facebook.com/docs/threads/reference/publishing). So:

- every grapheme cluster counts 1 (``é`` typed as e + combining accent is one);
- a cluster that is an emoji counts its UTF-8 length: ``😀`` 4, ``👍🏽`` 8, ``🇮🇩`` 8,
  ``👨‍👩‍👧`` 18, ``1️⃣`` 7.

A cluster is taken as an emoji when it holds an Extended_Pictographic code point, a regional
indicator (flags) or the keycap mark U+20E3. Text-style pictographs such as ``©`` are then
counted by bytes (2) too: Meta does not say how it decides, and over-counting makes a post
fail validation here rather than at Meta.

Links: since 22 December 2025 a post with more than 5 links fails at container creation
with THREADS_API__LINK_LIMIT_EXCEEDED; "all unique URLs found in the text field are counted"
(https://developers.facebook.com/docs/threads/create-posts/text-attachments). Meta does not
say how it finds URLs; the core's twitter-text style finder (with bare domains) is used.
"""

from __future__ import annotations

import regex

from govsocial.adapters import find_urls, graphemes, utf8_length

__all__ = ["MAX_LINKS", "count_characters", "is_emoji", "unique_links"]

#: Most distinct links a post may carry.
MAX_LINKS = 5

_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")


def is_emoji(cluster: str) -> bool:
    """Whether a grapheme cluster is an emoji (counted by its UTF-8 bytes)."""
    return _EMOJI.search(cluster) is not None


def count_characters(text: str) -> int:
    """``text``'s length as Threads counts it against the 500-character limit."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    return sum(utf8_length(cluster) if is_emoji(cluster) else 1 for cluster in graphemes(text))


def unique_links(text: str) -> list[str]:
    """The distinct URLs in ``text``, in order of first appearance."""
    seen: dict[str, None] = {}
    for span in find_urls(text, require_scheme=False):
        seen.setdefault(span.text.rstrip("/").lower(), None)
    return list(seen)
