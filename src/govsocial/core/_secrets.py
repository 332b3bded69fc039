"""Keeping secrets out of text: what the HTTP layer and the adapters both use on messages."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["scrub"]


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
