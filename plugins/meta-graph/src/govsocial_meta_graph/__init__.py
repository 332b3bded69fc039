"""What every Meta API answer shares: the error object, throttling codes and usage headers.

Used by the Facebook, Instagram and Threads adapters; it registers no platform. Nothing here
sends a request: these are small, pure readers of answers.

- Errors (https://developers.facebook.com/docs/graph-api/guides/error-handling)::

      {"error": {"message": "...", "type": "OAuthException", "code": 190,
                 "error_subcode": 463, "error_user_title": "...", "error_user_msg": "...",
                 "is_transient": false, "fbtrace_id": "EJplcsCHuLu"}}

- Throttling (https://developers.facebook.com/docs/graph-api/overview/rate-limiting) comes
  as HTTP 400 or 403 more often than 429, told by the code: 4 (app), 17 (user), 32 (Page),
  613 (custom), 80000-80014 (business use case limits; 80001 Pages, 80002 Instagram). Code 4
  with subcode 2207051 is Instagram's spam restriction, not a rate limit.
- ``appsecret_proof`` (https://developers.facebook.com/docs/graph-api/securing-requests):
  an app with "Require App Secret" on refuses every call without it (code 100, "API calls
  from the server require an appsecret_proof argument"). It is the hex HMAC-SHA256 of the
  access token keyed with the app secret, sent as a parameter of every call, as Meta's own
  SDK does when given the secret (``facebook_business/session.py``).
- Usage headers: ``X-App-Usage`` (and ``X-Page-Usage``, ``X-Ad-Account-Usage``) hold
  ``{"call_count": 28, "total_time": 25, "total_cputime": 25}``, percent of the allowance;
  ``X-Business-Use-Case-Usage`` holds, per business object id, a list of such objects with
  ``estimated_time_to_regain_access`` in minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx

from govsocial.adapters import RateState, read_json

__all__ = [
    "APPSECRET_DOCS",
    "EXPIRED_SUBCODE",
    "PERMISSION_CODES",
    "SPAM_RESTRICTION",
    "THROTTLE_CODES",
    "TOKEN_CODES",
    "MetaError",
    "appsecret_hint",
    "appsecret_proof",
    "parse_error",
    "regain_seconds",
    "usage_state",
]

#: Codes meaning "slow down": app, user, Page and custom limits, business use case limits.
THROTTLE_CODES: frozenset[int] = frozenset({4, 17, 32, 613, *range(80000, 80015)})
#: Codes meaning the access token cannot be used (190 OAuthException, 102 API session).
TOKEN_CODES: frozenset[int] = frozenset({102, 190})
#: Codes meaning a permission is missing (10, and 200-299).
PERMISSION_CODES: frozenset[int] = frozenset({10, *range(200, 300)})
#: The subcode of 190 saying the token expired.
EXPIRED_SUBCODE = 463
#: Code 4 with this subcode is Instagram's spam restriction, not a rate limit.
SPAM_RESTRICTION = 2207051
#: Meta's page on app secret proofs.
APPSECRET_DOCS = "https://developers.facebook.com/docs/graph-api/securing-requests"
_SUBCODE_MEANING = {
    458: "the user removed the app",
    459: "the user must log in to the platform to fix a checkpoint",
    460: "the user changed their password or Meta invalidated the session",
    463: "the token expired",
    464: "the user is not confirmed",
    467: "the token is invalid",
    492: "the session is invalid",
}
_USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-ad-account-usage")
_USAGE_FIELDS = ("call_count", "total_cputime", "total_time")


@dataclass(frozen=True)
class MetaError:
    """One ``error`` object; every field but the message may be missing."""

    message: str
    type: str | None = None
    code: int | None = None
    subcode: int | None = None
    fbtrace_id: str | None = None
    user_title: str | None = None
    user_message: str | None = None
    is_transient: bool | None = None
    #: ``error_data``, when Meta sends it as an object (or JSON text of one): the video
    #: upload's 1363037 refusal names there the window it wants
    data: dict[str, Any] | None = None

    @property
    def is_throttle(self) -> bool:
        """Meta says "slow down" (whatever the HTTP status)."""
        if self.code == 4 and self.subcode == SPAM_RESTRICTION:
            return False
        return self.code in THROTTLE_CODES

    @property
    def is_token(self) -> bool:
        """The access token cannot be used: invalid, expired, revoked."""
        return self.code in TOKEN_CODES or (self.type == "OAuthException" and self.code is None)

    @property
    def is_permission(self) -> bool:
        """A permission the call needs was not granted."""
        return self.code in PERMISSION_CODES

    @property
    def is_expired(self) -> bool:
        """A token error saying the token expired (subcode 463, or "expired" without one)."""
        if self.code not in TOKEN_CODES:
            return False
        if self.subcode is not None:
            return self.subcode == EXPIRED_SUBCODE
        return "expired" in self.message.lower()

    @property
    def is_appsecret_proof(self) -> bool:
        """Meta refused the call over ``appsecret_proof``: missing (the app requires it) or
        not matching the token (code 100, "...require an appsecret_proof argument",
        "Invalid appsecret_proof provided in the API argument")."""
        return "appsecret_proof" in self.message.lower()

    @property
    def meaning(self) -> str | None:
        """What a token error's subcode means, in words."""
        return _SUBCODE_MEANING.get(self.subcode) if self.subcode is not None else None

    def describe(self) -> str:
        """Meta's words (with the user message when it adds something) and the codes Meta's
        support asks for: ``msg (code 190, subcode 463, fbtrace_id X)``."""
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


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """``appsecret_proof``: the hex HMAC-SHA256 of ``access_token`` keyed with ``app_secret``."""
    key, message = app_secret.encode("utf-8"), access_token.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def appsecret_hint(error: MetaError, *, has_secret: bool) -> str:
    """What to do about an ``appsecret_proof`` refusal, by whether a secret was given."""
    if has_secret:
        return (
            "the account's app_secret is not the secret of the app that issued the access "
            "token: copy the App Secret of that app (App settings > Basic) into the account's "
            f"app_secret credential ({APPSECRET_DOCS})"
        )
    return (
        'the app has "Require App Secret" on (App settings > Advanced), so every call needs '
        "an appsecret_proof: add the app's App Secret (App settings > Basic) to the account "
        "as the credential app_secret (an env: reference keeps it out of files) and govsocial "
        f"sends the proof with every call ({APPSECRET_DOCS})"
    )


def parse_error(response: httpx.Response) -> MetaError | None:
    """The ``error`` object of ``response``, or None when its body holds none."""
    try:
        body = read_json(response)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    transient = error.get("is_transient")
    return MetaError(
        message=_text(error.get("message")) or "",
        type=_text(error.get("type")),
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        fbtrace_id=_text(error.get("fbtrace_id")),
        user_title=_text(error.get("error_user_title")),
        user_message=_text(error.get("error_user_msg")),
        is_transient=transient if isinstance(transient, bool) else None,
        data=_object(error.get("error_data")),
    )


def _object(value: Any) -> dict[str, Any] | None:
    """An ``error_data`` object, given as one or as JSON text of one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def usage_state(headers: httpx.Headers, now: float | None = None) -> RateState | None:
    """The usage headers as a budget of 100: ``remaining`` is 100 minus the worst percent,
    ``reset_at`` from ``estimated_time_to_regain_access`` when Meta gives one.

    None when the answer carries no usage figure (Meta adds the headers only once an app or
    Page has made enough calls).
    """
    entries = _usage_entries(headers)
    percents = [
        number
        for entry in entries
        for field in _USAGE_FIELDS
        if (number := _number(entry.get(field))) is not None
    ]
    wait = regain_seconds(headers)
    if not percents and wait is None:
        return None
    remaining = min(100, max(0, math.floor(100 - max(percents)))) if percents else 0
    reset_at = (time.time() if now is None else now) + wait if wait is not None else None
    return RateState(limit=100, remaining=remaining, reset_at=reset_at)


def regain_seconds(headers: httpx.Headers) -> float | None:
    """The longest ``estimated_time_to_regain_access`` in the usage headers, in seconds."""
    waits = [
        minutes * 60.0
        for entry in _usage_entries(headers)
        if (minutes := _number(entry.get("estimated_time_to_regain_access"))) is not None
        and minutes > 0
    ]
    return max(waits) if waits else None


def _usage_entries(headers: httpx.Headers) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for name in _USAGE_HEADERS:
        value = _json(headers.get(name))
        if isinstance(value, dict):
            entries.append(value)
    business = _json(headers.get("x-business-use-case-usage"))
    if isinstance(business, dict):
        for values in business.values():  # {"<business object id>": [{...}, ...]}
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


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


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


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
