"""What every Meta Graph API answer shares: the error object and the usage headers.

Kept apart from the Instagram adapter so a Facebook or Threads adapter could use the same
reading. Nothing here sends a request.

- Errors come as ``{"error": {"message", "type", "code", "error_subcode", "error_user_title",
  "error_user_msg", "is_transient", "fbtrace_id"}}`` with HTTP 400 for most failures,
  throttling included (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes,
  https://developers.facebook.com/docs/graph-api/guides/error-handling).
- Throttling is told by error codes (4 app, 17 user, 32 page, 613 custom, 80000-80014 business
  use case, 80002 being Instagram's) and by the ``X-App-Usage`` and
  ``X-Business-Use-Case-Usage`` headers, whose figures are percentages of the allowance
  (https://developers.facebook.com/docs/graph-api/overview/rate-limiting).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from govsocial.http import RateState

__all__ = [
    "AUTH_CODES",
    "PUBLISHING_LIMIT",
    "THROTTLE_CODES",
    "MetaError",
    "parse_error",
    "regain_seconds",
    "usage_state",
]

#: Error codes that mean "slow down": app (4), user (17), page (32), custom (613) limits
#: and the business use case limits (80000-80014; 80002 is Instagram).
THROTTLE_CODES: frozenset[int] = frozenset({4, 17, 32, 613, *range(80000, 80015)})
#: Error codes that mean the access token is no good (190: invalid, expired, revoked;
#: 102: the session is invalid).
AUTH_CODES: frozenset[int] = frozenset({190, 102})
#: (code, subcode) of "You reached maximum number of posts that is allowed to be published
#: by Content Publishing API" (50 per rolling 24 h).
PUBLISHING_LIMIT: tuple[int, int] = (9, 2207042)
#: Code 4 with this subcode is Instagram's spam restriction, not a rate limit.
_SPAM_RESTRICTION = 2207051


@dataclass(frozen=True)
class MetaError:
    """The ``error`` object of a Graph API answer."""

    message: str
    type: str | None = None
    code: int | None = None
    subcode: int | None = None
    user_title: str | None = None
    user_message: str | None = None
    fbtrace_id: str | None = None
    is_transient: bool | None = None

    @property
    def is_throttling(self) -> bool:
        if self.code is None:
            return False
        if self.code == 4 and self.subcode == _SPAM_RESTRICTION:
            return False
        return self.code in THROTTLE_CODES

    @property
    def is_auth(self) -> bool:
        return self.code in AUTH_CODES

    @property
    def is_publishing_limit(self) -> bool:
        return (self.code, self.subcode) == PUBLISHING_LIMIT

    def describe(self) -> str:
        """Meta's words, the user message when it adds something, and the codes to quote."""
        text = self.message or "no message"
        extra = self.user_message or self.user_title
        if extra and extra not in text:
            text = f"{text}: {extra}"
        codes = []
        if self.code is not None:
            codes.append(f"code {self.code}")
        if self.subcode is not None:
            codes.append(f"subcode {self.subcode}")
        if self.fbtrace_id:
            codes.append(f"fbtrace_id {self.fbtrace_id}")
        return f"{text} ({', '.join(codes)})" if codes else text


def parse_error(response: httpx.Response) -> MetaError | None:
    """The Graph API error in ``response``, or None when its body holds none."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    message = error.get("message")
    return MetaError(
        message=message if isinstance(message, str) else "",
        type=_str(error.get("type")),
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        user_title=_str(error.get("error_user_title")),
        user_message=_str(error.get("error_user_msg")),
        fbtrace_id=_str(error.get("fbtrace_id")),
        is_transient=error.get("is_transient")
        if isinstance(error.get("is_transient"), bool)
        else None,
    )


def usage_state(headers: httpx.Headers, now: float | None = None) -> RateState | None:
    """The tightest allowance in ``X-Business-Use-Case-Usage`` / ``X-App-Usage``.

    Meta reports percentages, so the state is ``limit=100, remaining=100 - highest figure``;
    ``reset_at`` comes from ``estimated_time_to_regain_access`` (minutes) when it is above 0.
    """
    now = time.time() if now is None else now
    highest: int | None = None
    regain = 0.0
    for entry in _usage_entries(headers):
        for name in ("call_count", "total_cputime", "total_time"):
            value = _int(entry.get(name))
            if value is not None:
                highest = value if highest is None else max(highest, value)
        regain = max(regain, _seconds_from_minutes(entry.get("estimated_time_to_regain_access")))
    if highest is None and regain <= 0:
        return None
    remaining = None if highest is None else max(0, 100 - highest)
    if regain > 0 and remaining is None:
        remaining = 0
    return RateState(limit=100, remaining=remaining, reset_at=now + regain if regain > 0 else None)


def regain_seconds(headers: httpx.Headers) -> float | None:
    """Seconds until Meta lifts a business use case throttle, when a header says."""
    regain = max(
        (
            _seconds_from_minutes(e.get("estimated_time_to_regain_access"))
            for e in _usage_entries(headers)
        ),
        default=0.0,
    )
    return regain if regain > 0 else None


def _usage_entries(headers: httpx.Headers) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    app = _json(headers.get("x-app-usage"))
    if isinstance(app, dict):
        entries.append(app)
    business = _json(headers.get("x-business-use-case-usage"))
    if isinstance(business, dict):
        for values in business.values():  # {"<business or account id>": [{...}, ...]}
            if isinstance(values, list):
                entries.extend(v for v in values if isinstance(v, dict))
    return entries


def _json(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _seconds_from_minutes(value: Any) -> float:
    number = _int(value)
    return float(number) * 60.0 if number is not None and number > 0 else 0.0


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
