"""Text as the Bot API measures it: UTF-16 code units.

Telegram gives entity offsets and lengths in UTF-16 code units
(https://core.telegram.org/bots/api#messageentity). Its text limits (4096 for a message,
1024 for a caption, "after entities parsing") do not say which unit they count; UTF-16 code
units count at least as many as code points or graphemes, so a text that fits by this count
fits by any of them (an emoji outside the Basic Multilingual Plane counts 2).
"""

from __future__ import annotations

__all__ = ["utf16_length", "utf16_slice"]


def utf16_length(text: str) -> int:
    """``text``'s length in UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of ``text`` at a Bot API entity's UTF-16 ``offset`` and ``length``."""
    encoded = text.encode("utf-16-le")
    return encoded[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")
