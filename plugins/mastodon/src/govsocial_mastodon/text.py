"""Count a status's length exactly as a Mastodon server does.

Mastodon's ``StatusLengthValidator`` (restated, not copied):

1. text that is empty or only white space counts 0;
2. entities are found with twitter-text's URL extractor, protocol required
   (``extract_url_without_protocol: false``), and with Mastodon's own mention
   extractor (``Account::MENTION_RE``), overlapping ones dropped (the earlier
   start wins);
3. every URL is replaced by ``url_length`` (23) characters, every
   ``@user@domain`` by ``@user`` (a mention whose domain is longer than 253
   characters is not a mention and counts in full);
4. the content warning is put in front and the grapheme clusters are counted,
   with the Unicode version of the server's Ruby: 3.2-3.4 implement Unicode
   15.0, without the Indic conjunct rule, which gives the higher (safe) count.
"""

from __future__ import annotations

import regex

from govsocial.adapters import find_urls, grapheme_count

__all__ = ["MENTION_RE", "count_characters", "find_mentions"]

# Ruby's [[:word:]] on Unicode text: letters, marks, decimal digits, connectors.
_WORD = r"[\p{L}\p{M}\p{Nd}\p{Pc}]"
# USERNAME_RE is case-insensitive; Ruby folds KELVIN SIGN to k and LONG S to s.
_USER_CHAR = r"[a-zA-Z0-9_\u212a\u017f]"
_LATIN_ACCENTS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257"
    "\u0259\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)

#: Mastodon's ``Account::MENTION_RE``: group 1 is ``user`` or ``user@domain``,
#: group 2 the user name.
MENTION_RE: regex.Pattern[str] = regex.compile(
    rf"(?<![=/]|{_WORD})@(({_USER_CHAR}+(?:[.\-]+{_USER_CHAR}+)*)(?:@{_WORD}+(?:[.\-]+{_WORD}+)*)?)"
)
# twitter-text's end_mention_match: what may not follow a mention.
_END_MENTION = regex.compile(rf"[@\uff20{_LATIN_ACCENTS}]|://")
_MAX_DOMAIN_LENGTH = 253
_BLANK = regex.compile(r"\p{White_Space}*")


def find_mentions(text: str) -> list[tuple[int, int, str]]:
    """Mentions as Mastodon's ``Extractor`` finds them: (start, end, ``user[@domain]``)."""
    if "@" not in text:
        return []
    found: list[tuple[int, int, str]] = []
    for match in MENTION_RE.finditer(text):
        if _END_MENTION.match(text, match.end()):
            continue
        acct = match.group(1)
        _, _, domain = acct.partition("@")
        if len(domain) > _MAX_DOMAIN_LENGTH:
            continue
        found.append((match.start(1) - 1, match.end(1), acct))
    return found


def _countable_text(text: str, url_length: int) -> str:
    """``text`` with URLs replaced by ``url_length`` characters and mentions shortened."""
    if _BLANK.fullmatch(text):
        return ""
    entities: list[tuple[int, int, str]] = [
        (span.start, span.end, "x" * url_length) for span in find_urls(text, require_scheme=True)
    ]
    entities += [
        (start, end, "@" + acct.split("@", 1)[0]) for start, end, acct in find_mentions(text)
    ]
    entities.sort(key=lambda entity: entity[0])
    pieces: list[str] = []
    position = 0
    for start, end, replacement in entities:
        if start < position:
            continue  # overlaps the entity kept before it
        pieces.append(text[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def count_characters(text: str, *, url_length: int = 23, spoiler_text: str = "") -> int:
    """Characters a Mastodon server counts for a status with ``text`` and ``spoiler_text``.

    ``url_length`` is the instance's ``configuration.statuses.characters_reserved_per_url``.
    """
    combined = spoiler_text + _countable_text(text, url_length)
    return grapheme_count(combined, indic_conjuncts=False)
