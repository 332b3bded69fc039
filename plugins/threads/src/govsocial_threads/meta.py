"""Reading Meta's answers: the Graph error object, throttling codes and usage headers.

Every Meta API (Graph, Instagram, Threads) answers an error with one JSON shape::

    {"error": {"message": "...", "type": "OAuthException", "code": 190,
               "error_subcode": 463, "error_user_title": "...", "error_user_msg": "...",
               "fbtrace_id": "EJplcsCHuLu"}}

(https://developers.facebook.com/docs/graph-api/guides/error-handling). Throttling comes as
HTTP 400 with codes 4, 17, 32 or 613 rather than a 429, and the usage so far may come in the
``X-App-Usage`` and ``X-Business-Use-Case-Usage`` headers (JSON with percentages, the latter
with ``estimated_time_to_regain_access`` in minutes). Whether Threads sends those headers is
not documented on the Threads pages (unverified); they are read when present.

This module holds no adapter: only small, pure functions the Threads adapter (and any other
Meta adapter) can share.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from govsocial.errors import AuthenticationError
from govsocial.http import RateState

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

#: Error codes meaning "slow down": 4 app, 17 user, 32 page, 613 custom rate limit.
THROTTLE_CODES: frozenset[int] = frozenset({4, 17, 32, 613})
#: Error codes meaning the access token is not valid (190 OAuthException, 102 API session).
TOKEN_CODES: frozenset[int] = frozenset({102, 190})
#: Error codes meaning a permission is missing (10, and the 200-299 range).
PERMISSION_CODES: frozenset[int] = frozenset({10, *range(200, 300)})
#: The subcode of code 190 that says the token's session has expired.
EXPIRED_SUBCODE = 463
#: Other subcodes of 190, for messages (Graph API error-handling guide).
_SUBCODE_MEANING = {
    458: "the user removed the app",
    459: "the user must log in to the platform to fix a checkpoint",
    460: "the user changed their password or Meta invalidated the session",
    463: "the token expired",
    464: "the user is not confirmed",
    467: "the token is invalid",
    492: "the session is invalid",
}


@dataclass(frozen=True)
class MetaError:
    """One Graph ``error`` object, every field optional as Meta may leave any out."""

    message: str
    type: str | None = None
    code: int | None = None
    subcode: int | None = None
    fbtrace_id: str | None = None
    user_title: str | None = None
    user_message: str | None = None

    @property
    def is_throttle(self) -> bool:
        return self.code in THROTTLE_CODES

    @property
    def is_token(self) -> bool:
        return self.code in TOKEN_CODES or (self.type == "OAuthException" and self.code is None)

    @property
    def is_permission(self) -> bool:
        return self.code in PERMISSION_CODES

    @property
    def is_expired(self) -> bool:
        """Code 190 saying the token expired (subcode 463, or no subcode and "expired")."""
        if self.code not in TOKEN_CODES:
            return False
        if self.subcode is not None:
            return self.subcode == EXPIRED_SUBCODE
        return "expired" in self.message.lower()

    @property
    def meaning(self) -> str | None:
        """What the subcode of a token error means, in words."""
        return _SUBCODE_MEANING.get(self.subcode) if self.subcode is not None else None

    def describe(self) -> str:
        """Meta's message with its codes: ``msg (code 190, subcode 463, fbtrace_id X)``."""
        parts = []
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.subcode is not None:
            parts.append(f"subcode {self.subcode}")
        if self.fbtrace_id:
            parts.append(f"fbtrace_id {self.fbtrace_id}")
        text = self.message
        if self.user_message and self.user_message not in text:
            text = f"{text}: {self.user_message}"
        return f"{text} ({', '.join(parts)})" if parts else text


class MetaAuthenticationError(AuthenticationError):
    """An AuthenticationError that keeps Meta's error object (code, subcode, fbtrace_id)."""

    def __init__(
        self, message: str, *, meta: MetaError, platform: str | None = None, hint: str | None
    ) -> None:
        self.meta = meta
        super().__init__(message, platform=platform, hint=hint)


def parse_error(response: httpx.Response) -> MetaError | None:
    """The Graph error object of an answer, or None when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error: dict[str, Any] = body["error"]
    message = error.get("message")
    return MetaError(
        message=message if isinstance(message, str) and message else "unknown error",
        type=_str(error.get("type")),
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        fbtrace_id=_str(error.get("fbtrace_id")),
        user_title=_str(error.get("error_user_title")),
        user_message=_str(error.get("error_user_msg")),
    )


def usage_state(headers: httpx.Headers, now: float | None = None) -> RateState | None:
    """A RateState from ``X-App-Usage`` / ``X-Business-Use-Case-Usage`` (None if absent).

    Both give percentages of a budget used (call_count, total_cputime, total_time). The
    state counts in percent: ``limit`` 100, ``remaining`` 100 minus the highest share used,
    and ``reset_at`` from ``estimated_time_to_regain_access`` (minutes) when Meta says it.
    """
    highest: float | None = None
    for value in _usage_entries(headers):
        for key in ("call_count", "total_cputime", "total_time", "acc_id_util_pct"):
            number = value.get(key)
            if isinstance(number, int | float) and not isinstance(number, bool):
                highest = number if highest is None else max(highest, number)
    regain = regain_seconds(headers)
    if highest is None and regain is None:
        return None
    now = time.time() if now is None else now
    remaining = None if highest is None else max(0, 100 - int(highest))
    if regain is not None and regain > 0:
        remaining = 0  # Meta has blocked the app until then, whatever the percentages say
    return RateState(
        limit=100,
        remaining=remaining,
        reset_at=now + regain if regain is not None and regain > 0 else None,
    )


def regain_seconds(headers: httpx.Headers) -> float | None:
    """The longest ``estimated_time_to_regain_access`` of the usage headers, in seconds."""
    longest: float | None = None
    for value in _usage_entries(headers):
        minutes = value.get("estimated_time_to_regain_access")
        if isinstance(minutes, int | float) and not isinstance(minutes, bool) and minutes >= 0:
            seconds = float(minutes) * 60.0
            longest = seconds if longest is None else max(longest, seconds)
    return longest


def _usage_entries(headers: httpx.Headers) -> list[dict[str, Any]]:
    """The usage objects of both headers, flattened (the business one is keyed by id)."""
    entries: list[dict[str, Any]] = []
    app = _json(headers.get("x-app-usage"))
    if isinstance(app, dict):
        entries.append(app)
    business = _json(headers.get("x-business-use-case-usage"))
    if isinstance(business, dict):
        for items in business.values():
            if isinstance(items, list):
                entries.extend(item for item in items if isinstance(item, dict))
            elif isinstance(items, dict):
                entries.append(items)
    return entries


def _json(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
