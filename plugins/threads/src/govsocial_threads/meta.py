"""Threads' reading of Meta's answers, on top of govsocial_meta_graph.

The error object, throttling codes and usage headers are shared with the Facebook and
Instagram adapters (whether Threads sends the usage headers is not documented on the Threads
pages: they are read when present). Threads adds an AuthenticationError that keeps Meta's
error object, so the adapter can tell an expired token (refreshable) from a revoked one.
"""

from __future__ import annotations

from govsocial.adapters import AuthenticationError
from govsocial_meta_graph import (
    EXPIRED_SUBCODE,
    PERMISSION_CODES,
    THROTTLE_CODES,
    TOKEN_CODES,
    MetaError,
    parse_error,
    regain_seconds,
    usage_state,
)

__all__ = [
    "EXPIRED_SUBCODE",
    "PERMISSION_CODES",
    "THROTTLE_CODES",
    "TOKEN_CODES",
    "MetaAuthenticationError",
    "MetaError",
    "parse_error",
    "regain_seconds",
    "usage_state",
]


class MetaAuthenticationError(AuthenticationError):
    """An AuthenticationError that keeps Meta's error object (code, subcode, fbtrace_id)."""

    def __init__(
        self, message: str, *, meta: MetaError, platform: str | None = None, hint: str | None
    ) -> None:
        self.meta = meta
        super().__init__(message, platform=platform, hint=hint)
