"""Instagram's reading of Meta's answers, on top of govsocial_meta_graph.

The error object, throttling codes and usage headers are shared with the Facebook and
Threads adapters. Instagram adds the Content Publishing limit: 50 posts per rolling 24 hours,
refused with code 9 and subcode 2207042
(https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes).
"""

from __future__ import annotations

from govsocial_meta_graph import MetaError, parse_error, regain_seconds, usage_state

__all__ = [
    "PUBLISHING_LIMIT",
    "MetaError",
    "is_publishing_limit",
    "parse_error",
    "regain_seconds",
    "usage_state",
]

#: (code, subcode) of "You reached maximum number of posts that is allowed to be published
#: by Content Publishing API" (50 per rolling 24 h).
PUBLISHING_LIMIT: tuple[int, int] = (9, 2207042)


def is_publishing_limit(error: MetaError | None) -> bool:
    """Whether ``error`` is the 50-posts-a-day refusal."""
    return error is not None and (error.code, error.subcode) == PUBLISHING_LIMIT
