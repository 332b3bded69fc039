"""XRPC error answers translated into govsocial's exception tree.

An XRPC error answer is JSON ``{"error": "<Name>", "message": "<text>"}``
(https://atproto.com/specs/xrpc#error-responses). The name says what happened more
precisely than the HTTP status: an expired access token is a 400 ``ExpiredToken``, a
wrong app password a 401 ``AuthenticationRequired``. Both subclasses below keep the
name in ``xrpc_error`` so the adapter can react (renew the session on ExpiredToken,
treat ``RecordNotFound`` as "no such post").
"""

from __future__ import annotations

import httpx

from govsocial.adapters import (
    AuthenticationError,
    GovSocialError,
    PlatformError,
    RateLimited,
    read_json,
)

__all__ = ["AUTH_ERRORS", "XrpcAuthenticationError", "XrpcError", "error_for", "xrpc_error"]

#: XRPC error names that mean "these credentials or this session are no good".
AUTH_ERRORS = frozenset(
    {
        "AuthenticationRequired",
        "AuthMissing",
        "InvalidToken",
        "ExpiredToken",
        "AccountTakedown",
        "AccountDeactivated",
    }
)

_LOGIN_HINT = (
    "check the identifier and app password; to make a new one, open Bluesky "
    "Settings > Privacy and security > App passwords, then update the account's app_password"
)
_HINTS = {
    "AccountTakedown": "the account was taken down by its server's moderators; "
    "contact them before publishing again",
    "AccountDeactivated": "the account is deactivated; reactivate it in Bluesky's settings",
}


class XrpcAuthenticationError(AuthenticationError):
    """The PDS refused the login or the session; ``xrpc_error`` is its error name."""

    def __init__(self, message: str, *, xrpc_error: str | None, hint: str | None = None) -> None:
        self.xrpc_error = xrpc_error
        super().__init__(message, platform="bluesky", hint=hint)


class XrpcError(PlatformError):
    """An XRPC error other than authentication and rate limits; keeps its name."""

    def __init__(
        self, message: str, *, xrpc_error: str | None, status: int, body: str | None
    ) -> None:
        self.xrpc_error = xrpc_error
        super().__init__(message, platform="bluesky", status=status, body=body)


def xrpc_error(response: httpx.Response) -> tuple[str | None, str]:
    """``(error name, message)`` of an XRPC error answer (the name is None when absent)."""
    try:
        body = read_json(response)
    except ValueError:
        return None, response.text[:500].strip() or response.reason_phrase
    if not isinstance(body, dict):
        return None, response.text[:500]
    name = body.get("error")
    message = body.get("message")
    name = name if isinstance(name, str) and name else None
    text = message if isinstance(message, str) and message else (name or response.reason_phrase)
    return name, text


def error_for(
    response: httpx.Response, *, handle: str, retry_after: float | None
) -> GovSocialError:
    """The govsocial error for an XRPC error answer received for account ``handle``."""
    name, message = xrpc_error(response)
    status = response.status_code
    if status == 401 or name in AUTH_ERRORS:
        return XrpcAuthenticationError(
            f"Bluesky refused the login of {handle}: {message}"
            + (f" ({name})" if name and name not in message else ""),
            xrpc_error=name,
            hint=_HINTS.get(name or "", _LOGIN_HINT),
        )
    if status == 429:
        return RateLimited(
            f"Bluesky rate limit reached for {handle}: {message}",
            retry_after=retry_after,
            platform="bluesky",
            body=message,
        )
    label = f"{status} {name}" if name else str(status)
    return XrpcError(
        f"Bluesky answered {label}: {message}", xrpc_error=name, status=status, body=message
    )
