"""How Instagram counts a caption: characters, #hashtags and @mentions.

The IG User Media reference gives the caption limits as "Maximum 2200 characters, 30
hashtags, and 20 @ tags"
(https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media).
Meta does not say how it counts a character; govsocial counts UTF-16 code units (an emoji
outside the Basic Multilingual Plane counts 2), the strictest of the usual counts, so a caption
it accepts is never refused as too long.
"""

from __future__ import annotations

import re

__all__ = [
    "ANNOUNCED_HASHTAGS",
    "MAX_HASHTAGS",
    "MAX_MENTIONS",
    "hashtags",
    "mentions",
    "utf16_length",
]

MAX_HASHTAGS = 30
#: Instagram said on 2025-12-18 it would "gradually update the number of hashtags that you
#: can include in a caption for a reel or post to five"; the API reference still says 30 and
#: does not say whether the API refuses or trims more, so govsocial warns above five.
ANNOUNCED_HASHTAGS = 5
MAX_MENTIONS = 20

# A hashtag starts after a non-word character (or the start) and holds word characters.
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
# Instagram usernames: letters, digits, periods and underscores (at most 30 characters).
_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9._]{1,30})")


def utf16_length(text: str) -> int:
    """The number of UTF-16 code units in ``text``."""
    return len(text.encode("utf-16-le")) // 2


def hashtags(text: str) -> list[str]:
    """The hashtags in ``text``, in order, without the ``#``."""
    return _HASHTAG.findall(text)


def mentions(text: str) -> list[str]:
    """The @usernames in ``text``, in order, without the ``@`` (a trailing period dropped)."""
    return [name.rstrip(".") for name in _MENTION.findall(text) if name.rstrip(".")]
