"""What every Meta Graph API answer shares: the error body, throttling codes, usage headers.

Nothing here is Facebook-specific: Instagram and Threads answer with the same error
object and the same usage headers, so this module could move to a shared place.

- Error body (https://developers.facebook.com/docs/graph-api/guides/error-handling)::

      {"error": {"message": "...", "type": "OAuthException", "code": 190,
                 "error_subcode": 460, "error_user_title": "...", "error_user_msg": "...",
                 "fbtrace_id": "EJplcsCHuLu"}}

- Throttling (https://developers.facebook.com/docs/graph-api/overview/rate-limiting): the
  answer is usually HTTP 400 or 403, not 429; the body's code says it: 4 (app), 17 (user),
  32 (Page, platform limits), 613 (custom), 80000-80014 (business use case limits; 80001 is
  Pages). Codes 2 and 341 are "temporary, wait and retry" in the error-handling guide.
- Usage headers: ``X-App-Usage`` (and the older ``X-Page-Usage``) hold
  ``{"call_count": 28, "total_time": 25, "total_cputime": 25}`` in percent of the limit;
  ``X-Business-Use-Case-Usage`` holds, per business object id, a list of
  ``{"type": "pages", "call_count": ..., "total_cputime": ..., "total_time": ...,
  "estimated_time_to_regain_access": <minutes>}``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx

from govsocial.errors import PlatformError, RateLimited
from govsocial.http import RateState

__all__ = [
    "AUTH_CODES",
    "THROTTLE_CODES",
    "GraphError",
    "GraphPlatformError",
    "GraphRateLimited",
    "graph_error",
    "is_auth_code",
    "is_throttle_code",
    "regain_access_seconds",
    "usage_rate_state",
]

#: Platform rate limits (app, user, Page, custom) from the rate-limiting page, plus the
#: temporary "wait and retry" codes of the error-handling guide (2 service, 341 application
#: limit reached). Code 1 ("API Unknown") is left out: it is not sure to mean that nothing
#: was done, and a create that is repeated on Facebook makes a second post.
THROTTLE_CODES: frozenset[int] = frozenset({2, 4, 17, 32, 341, 613})
#: Business use case rate limits: 80000 (ads insights) to 80014 (catalog batch).
_BUC_THROTTLE = range(80000, 80015)
#: 190 "access token has expired" and 102 "API session" mean the token is not usable.
AUTH_CODES: frozenset[int] = frozenset({102, 190})

_USAGE_FIELDS = ("call_count", "total_cputime", "total_time")


@dataclass(frozen=True)
class GraphError:
    """The ``error`` object of a Graph API error answer."""

    message: str
    code: int | None = None
    subcode: int | None = None
    type: str | None = None
    fbtrace_id: str | None = None
    user_title: str | None = None
    user_message: str | None = None

    def describe(self) -> str:
        """The message with its code, subcode and trace id, as Meta support asks for them."""
        parts = []
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.subcode is not None:
            parts.append(f"subcode {self.subcode}")
        if self.fbtrace_id:
            parts.append(f"fbtrace_id {self.fbtrace_id}")
        return f"{self.message} ({', '.join(parts)})" if parts else self.message


class GraphPlatformError(PlatformError):
    """A Graph API error answer; ``graph`` keeps Meta's code, subcode and trace id."""

    def __init__(self, message: str, *, graph: GraphError | None, **kwargs: Any) -> None:
        self.graph = graph
        super().__init__(message, **kwargs)


class GraphRateLimited(RateLimited):
    """A Graph API throttling answer; ``graph`` keeps Meta's code, subcode and trace id."""

    def __init__(self, message: str, *, graph: GraphError | None, **kwargs: Any) -> None:
        self.graph = graph
        super().__init__(message, **kwargs)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def graph_error(response: httpx.Response) -> GraphError | None:
    """The Graph ``error`` object of ``response``, or None when the body has none."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error: dict[str, Any] = body["error"]
    return GraphError(
        message=_text(error.get("message")) or "",
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        type=_text(error.get("type")),
        fbtrace_id=_text(error.get("fbtrace_id")),
        user_title=_text(error.get("error_user_title")),
        user_message=_text(error.get("error_user_msg")),
    )


def is_throttle_code(code: int | None) -> bool:
    """Whether a Graph error code means "slow down" (or "temporary, retry later")."""
    return code is not None and (code in THROTTLE_CODES or code in _BUC_THROTTLE)


def is_auth_code(code: int | None) -> bool:
    """Whether a Graph error code means the access token cannot be used."""
    return code in AUTH_CODES


def _header_json(response: httpx.Response, name: str) -> Any:
    raw = response.headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _usage_entries(response: httpx.Response) -> list[dict[str, Any]]:
    """Every usage object the answer carries: app, page and business use case ones."""
    entries: list[dict[str, Any]] = []
    for name in ("x-app-usage", "x-page-usage", "x-ad-account-usage"):
        value = _header_json(response, name)
        if isinstance(value, dict):
            entries.append(value)
    buc = _header_json(response, "x-business-use-case-usage")
    if isinstance(buc, dict):
        for items in buc.values():
            if isinstance(items, list):
                entries.extend(item for item in items if isinstance(item, dict))
    return entries


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def regain_access_seconds(response: httpx.Response) -> float | None:
    """The longest ``estimated_time_to_regain_access`` in the usage headers, in seconds."""
    waits = [
        minutes * 60.0
        for entry in _usage_entries(response)
        if (minutes := _number(entry.get("estimated_time_to_regain_access"))) is not None
        and minutes > 0
    ]
    return max(waits) if waits else None


def usage_rate_state(response: httpx.Response, now: float | None = None) -> RateState | None:
    """The usage headers as a budget out of 100: ``remaining`` is 100 minus the worst percent.

    ``reset_at`` comes from ``estimated_time_to_regain_access`` (minutes) when Meta gives one.
    None when the answer carries no usage header (Meta adds them only once an app or Page
    has made enough calls).
    """
    entries = _usage_entries(response)
    percents = [
        number
        for entry in entries
        for field in _USAGE_FIELDS
        if (number := _number(entry.get(field))) is not None
    ]
    if not percents:
        return None
    worst = max(percents)
    remaining = max(0, math.floor(100 - worst))
    wait = regain_access_seconds(response)
    reset_at = (time.time() if now is None else now) + wait if wait is not None else None
    return RateState(limit=100, remaining=remaining, reset_at=reset_at)
