"""X's rate-limit headers: the 15-minute window and the 24-hour caps.

Every answer carries ``x-rate-limit-limit``, ``x-rate-limit-remaining`` and
``x-rate-limit-reset`` (epoch seconds) for the endpoint's window
(https://docs.x.com/fundamentals/rate-limits). Creating posts is also capped per 24 hours,
per user (``x-user-limit-24hour-*``) and per app (``x-app-limit-24hour-*``). X sends no
``Retry-After``: the wait is the reset time less now.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from govsocial.adapters import RateState, header_int

__all__ = ["DailyLimit", "daily_limits", "endpoint", "exhausted_daily_limit", "window_state"]


@dataclass(frozen=True)
class DailyLimit:
    """One 24-hour cap as an answer reported it."""

    scope: str  # "user" or "app"
    limit: int | None
    remaining: int | None
    reset_at: float | None

    def describe(self) -> str:
        owner = "this account" if self.scope == "user" else "this X app (all its accounts)"
        when = (
            datetime.fromtimestamp(self.reset_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
            if self.reset_at is not None
            else "an unknown time"
        )
        cap = f" of {self.limit}" if self.limit is not None else ""
        return f"the 24-hour post limit{cap} for {owner} is used up until {when}"


def window_state(response: httpx.Response) -> RateState | None:
    """The 15-minute window's state, or None when the answer has no such headers."""
    headers = response.headers
    limit = header_int(headers.get("x-rate-limit-limit"))
    remaining = header_int(headers.get("x-rate-limit-remaining"))
    reset = header_int(headers.get("x-rate-limit-reset"))
    if limit is None and remaining is None and reset is None:
        return None
    return RateState(limit=limit, remaining=remaining, reset_at=None if reset is None else reset)


def daily_limits(response: httpx.Response) -> list[DailyLimit]:
    """The 24-hour caps the answer reports (user first, then app)."""
    found = []
    for scope in ("user", "app"):
        prefix = f"x-{scope}-limit-24hour-"
        limit = header_int(response.headers.get(prefix + "limit"))
        remaining = header_int(response.headers.get(prefix + "remaining"))
        reset = header_int(response.headers.get(prefix + "reset"))
        if limit is not None or remaining is not None or reset is not None:
            found.append(
                DailyLimit(scope, limit, remaining, None if reset is None else float(reset))
            )
    return found


def exhausted_daily_limit(response: httpx.Response) -> DailyLimit | None:
    """The 24-hour cap with nothing left, if any (the one that resets last)."""
    spent = [d for d in daily_limits(response) if d.remaining == 0]
    if not spent:
        return None
    return max(spent, key=lambda d: d.reset_at or 0.0)


def seconds_until(reset_at: float | None, now: float | None = None) -> float | None:
    if reset_at is None:
        return None
    return max(0.0, reset_at - (time.time() if now is None else now))


def endpoint(method: str, url: str) -> str:
    """The rate-limit window a request counts against: its method and path template."""
    path = httpx.URL(url).path
    # ids are long numbers (snowflakes); the API version ("2") is not one
    parts = [":id" if part.isdigit() and len(part) > 3 else part for part in path.split("/")]
    return f"{method.upper()} {'/'.join(parts)}"
