"""LinkedIn's "little" text format, used by the Posts API ``commentary`` field.

https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format

Every reserved character must be escaped with a backslash, "even if those characters are not
used in one of the supported elements"; an unescaped one makes LinkedIn cut the post there,
while the create call still succeeds. The reserved characters (the page's ``Text`` grammar)::

    | { } @ [ ] ( ) < > # * _ ~ \\

Post text is plain text. :func:`to_little` turns it into commentary:

- every reserved character is escaped;
- a hashtag (``#`` at the start of a word, followed by a word with at least one letter) is
  sent as the documented HashtagTemplate ``{hashtag|\\#|tag}``, so it renders as a hashtag;
- a mention already written in little syntax, ``@[Name](urn:li:organization:123)`` or
  ``@[Name](urn:li:person:abc)``, is kept as a MentionElement (the only way to mention
  someone: LinkedIn needs the URN).

:func:`from_little` is the inverse: ``from_little(to_little(text)) == text`` for any text.
With ``mentions="name"`` a mention reads as ``@Name``, as people see it on LinkedIn.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "RESERVED",
    "display_text",
    "escape",
    "from_little",
    "to_little",
    "utf16_length",
]

#: The characters little reserves; each must be backslash-escaped to be plain text.
RESERVED = frozenset("|{}@[]()<>#*_~\\")

_MENTION_NAME = r"[^\[\]|{}@()<>#*_~\\]+"
_MENTION = re.compile(
    rf"@\[(?P<name>{_MENTION_NAME})\]\((?P<urn>urn:li:(?:person|organization):[A-Za-z0-9_-]+)\)"
)
# a hashtag starts a word and has at least one letter (so "#1" and "C#" stay text)
_HASHTAG = re.compile(r"(?<![\w#])#(?P<tag>\w*[^\W\d_]\w*)")
_PLAIN_TOKEN = re.compile(f"{_MENTION.pattern}|{_HASHTAG.pattern}")

# what to_little produces, read back
_TEMPLATE = re.compile(r"\{hashtag\|(?:\\#|#|\uff03)\|(?P<tag>(?:\\.|[^\\{}|])*)\}")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def escape(text: str) -> str:
    """``text`` with every reserved character backslash-escaped (no hashtags, no mentions)."""
    return "".join("\\" + char if char in RESERVED else char for char in text)


def to_little(text: str) -> str:
    """Plain post text as Posts API commentary: escaped, hashtags as HashtagTemplates,
    ``@[Name](urn:li:...)`` mentions kept."""
    out: list[str] = []
    position = 0
    for match in _PLAIN_TOKEN.finditer(text):
        out.append(escape(text[position : match.start()]))
        if match.group("urn"):
            out.append(match.group(0))
        else:
            out.append("{hashtag|\\#|" + escape(match.group("tag")) + "}")
        position = match.end()
    out.append(escape(text[position:]))
    return "".join(out)


def from_little(commentary: str, *, mentions: Literal["markup", "name"] = "markup") -> str:
    """Plain text of little ``commentary``: escapes undone, HashtagTemplates as ``#tag``.

    ``mentions="markup"`` keeps ``@[Name](urn)`` (the exact inverse of :func:`to_little`);
    ``"name"`` shows ``@Name``.
    """
    out: list[str] = []
    position = 0
    length = len(commentary)
    while position < length:
        char = commentary[position]
        if char == "\\" and position + 1 < length:
            out.append(commentary[position + 1])
            position += 2
            continue
        if char == "{":
            template = _TEMPLATE.match(commentary, position)
            if template is not None:
                out.append("#" + _ESCAPED.sub(r"\1", template.group("tag")))
                position = template.end()
                continue
        if char == "@":
            mention = _MENTION.match(commentary, position)
            if mention is not None:
                shown = "@" + mention.group("name")
                out.append(mention.group(0) if mentions == "markup" else shown)
                position = mention.end()
                continue
        out.append(char)
        position += 1
    return "".join(out)


def display_text(text: str) -> str:
    """Plain post text as readers see it: ``@[Name](urn)`` mentions shown as ``Name``."""
    return _MENTION.sub(lambda match: match.group("name"), text)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2
