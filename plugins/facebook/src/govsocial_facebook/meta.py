"""Facebook's reading of Meta's answers, on top of govsocial_meta_graph.

The error object, the throttling codes and the usage headers are shared with the Instagram
and Threads adapters (``govsocial_meta_graph``). Facebook adds two "temporary, wait and
retry" codes from the error-handling guide, 2 (service) and 341 (application limit
reached), and error classes that keep Meta's error object. Code 1 ("API Unknown") is left
out: it is not sure to mean nothing was done, and a repeated create on Facebook makes a
second post.
"""

from __future__ import annotations

from typing import Any

import httpx

from govsocial.adapters import PlatformError, RateLimited, RateState
from govsocial_meta_graph import TOKEN_CODES, MetaError, parse_error, regain_seconds, usage_state

__all__ = [
    "AUTH_CODES",
    "TEMPORARY_CODES",
    "GraphError",
    "GraphPlatformError",
    "GraphRateLimited",
    "graph_error",
    "is_auth_code",
    "is_throttle_code",
    "regain_access_seconds",
    "usage_rate_state",
]

GraphError = MetaError
#: "Temporary issue, wait and retry" codes of the error-handling guide.
TEMPORARY_CODES: frozenset[int] = frozenset({2, 341})
AUTH_CODES = TOKEN_CODES


class GraphPlatformError(PlatformError):
    """A Graph API error answer; ``graph`` keeps Meta's code, subcode and trace id."""

    def __init__(self, message: str, *, graph: MetaError | None, **kwargs: Any) -> None:
        self.graph = graph
        super().__init__(message, **kwargs)


class GraphRateLimited(RateLimited):
    """A Graph API throttling answer; ``graph`` keeps Meta's code, subcode and trace id."""

    def __init__(self, message: str, *, graph: MetaError | None, **kwargs: Any) -> None:
        self.graph = graph
        super().__init__(message, **kwargs)


def graph_error(response: httpx.Response) -> MetaError | None:
    """The Graph ``error`` object of ``response``, or None when the body has none."""
    return parse_error(response)


def is_throttle_code(code: int | None) -> bool:
    """Whether a Graph error code means "slow down" (or "temporary, retry later")."""
    return code is not None and (MetaError("", code=code).is_throttle or code in TEMPORARY_CODES)


def is_auth_code(code: int | None) -> bool:
    """Whether a Graph error code means the access token cannot be used."""
    return code in TOKEN_CODES


def regain_access_seconds(response: httpx.Response) -> float | None:
    """The longest ``estimated_time_to_regain_access`` in the usage headers, in seconds."""
    return regain_seconds(response.headers)


def usage_rate_state(response: httpx.Response, now: float | None = None) -> RateState | None:
    """The usage headers as a budget of 100 (see govsocial_meta_graph.usage_state)."""
    return usage_state(response.headers, now)
