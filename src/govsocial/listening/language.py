"""Which language a message is in: Indonesian or English, by their common words.

An agency's inbox holds Indonesian (formal and informal, often mixed with English words)
and some English. A general language identifier spreads a short informal message over a
hundred languages and confuses Indonesian with Malay; counting the most common words of
the two languages the classifier reads (the written words, slang included: ``gmn``,
``udh``) is smaller, faster and, on the labelled set in ``tests/data/``, more accurate
(docs/listening.md gives the figures). A message with no common word of either is
``None`` (unknown), and the classifier reads it with both word lists, as it reads every
message.
"""

from __future__ import annotations

from collections.abc import Container, Sequence

from govsocial.listening.lexicon import ENGLISH, INDONESIAN

__all__ = ["LANGUAGES", "detect_language"]

#: The languages :func:`detect_language` tells apart.
LANGUAGES = ("id", "en")


def detect_language(words: Sequence[str], slang: Container[str] = ()) -> str | None:
    """``"id"`` or ``"en"`` for the written ``words`` (lower-cased), by which language's
    common words are more; Indonesian on a tie; None when neither has any.

    :param slang: informal Indonesian spellings (the slang list's words): each counts for
        Indonesian, as does a word ending in ``-nya`` or ``-kan``.
    """
    english = sum(1 for w in words if w in ENGLISH)
    indonesian = sum(
        1
        for w in words
        if w in INDONESIAN
        or (w not in ENGLISH and (w in slang or (len(w) > 5 and w.endswith(("nya", "kan")))))
    )
    if indonesian == english == 0:
        return None
    return "id" if indonesian >= english else "en"
