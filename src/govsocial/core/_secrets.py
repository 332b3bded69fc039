"""Keeping secrets out of text: what the HTTP layer and the adapters both use on messages.

Scrub a whole text before cutting it short: a secret that straddles the cut is then replaced
whole. Text that was cut before it could be scrubbed (a platform's error body shortened to
500 characters by a class method that knows no credentials) may end in, or hold, the start
of a secret; :func:`scrub` also masks any run of at least :data:`PREFIX_KEPT` leading
characters of a secret, so a cut token leaves at most a few characters behind.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PREFIX_KEPT", "scrub"]

#: A run this long of a secret's leading characters is masked like the whole secret.
PREFIX_KEPT = 8


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``***``, and every run of a secret's first
    :data:`PREFIX_KEPT` or more characters (a secret cut short) replaced too."""
    values = sorted({secret for secret in secrets if secret and len(secret) >= 4}, key=len)
    values.reverse()  # longest first: a secret that contains another is replaced whole
    for secret in values:
        text = text.replace(secret, "***")
    for secret in values:
        if len(secret) > PREFIX_KEPT:
            text = _mask_prefixes(text, secret)
    return text


def _mask_prefixes(text: str, secret: str) -> str:
    """``text`` with each run that starts like ``secret`` (its first PREFIX_KEPT characters
    or more, up to the whole) replaced by ``***``."""
    head = secret[:PREFIX_KEPT]
    parts = []
    start = 0
    while (found := text.find(head, start)) != -1:
        end = found + PREFIX_KEPT
        while end < len(text) and end - found < len(secret) and text[end] == secret[end - found]:
            end += 1
        parts += [text[start:found], "***"]
        start = end
    parts.append(text[start:])
    return "".join(parts)
