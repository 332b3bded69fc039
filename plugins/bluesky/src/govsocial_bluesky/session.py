"""An account's login session on its PDS: tokens, their expiry, and when to renew them.

Legacy app-password sessions (https://docs.bsky.app/docs/api/com-atproto-server-create-session):
``com.atproto.server.createSession`` answers an access token (about two hours) and a
refresh token (about ninety days), both JWTs; ``com.atproto.server.refreshSession``
(https://docs.bsky.app/docs/api/com-atproto-server-refresh-session), called with the
refresh token as Bearer, answers a new pair. The tokens' ``exp`` claims are read here
without verifying the signature: the PDS verifies, the client only needs to know when to
renew.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RENEW_MARGIN", "Session", "jwt_expiry"]

#: Renew a token this many seconds before it expires (clock skew, slow requests).
RENEW_MARGIN = 60.0


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim (epoch seconds) of a JWT, or None when it has none or is not a JWT.

    The payload is base64url-decoded, never verified.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error, RecursionError):  # RecursionError: nested too deep
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return None
    try:
        return float(exp)
    except OverflowError:  # an integer past any float: no expiry anyone can reach
        return None


@dataclass(repr=False)
class Session:
    """A live session: the tokens, the account's DID and handle as the PDS knows them."""

    access_jwt: str
    refresh_jwt: str
    did: str
    handle: str
    access_expires_at: float | None = field(default=None)
    refresh_expires_at: float | None = field(default=None)

    @classmethod
    def from_answer(cls, body: Any) -> Session:
        """Build a session from a createSession or refreshSession answer.

        :raises ValueError: the answer is not a JSON object, or lacks a token or the DID.
        """
        if not isinstance(body, dict):
            raise ValueError("the session answer is not a JSON object")
        access, refresh, did = body.get("accessJwt"), body.get("refreshJwt"), body.get("did")
        if not (isinstance(access, str) and isinstance(refresh, str) and isinstance(did, str)):
            raise ValueError("the session answer lacks accessJwt, refreshJwt or did")
        handle = body.get("handle")
        return cls(
            access_jwt=access,
            refresh_jwt=refresh,
            did=did,
            handle=handle if isinstance(handle, str) else did,
            access_expires_at=jwt_expiry(access),
            refresh_expires_at=jwt_expiry(refresh),
        )

    def __repr__(self) -> str:
        return f"<Session {self.handle} {self.did}>"

    def access_usable(self, now: float | None = None) -> bool:
        """Whether the access token can still be sent (not within RENEW_MARGIN of expiry)."""
        return _usable(self.access_expires_at, now)

    def refresh_usable(self, now: float | None = None) -> bool:
        """Whether the refresh token can still renew the session."""
        return _usable(self.refresh_expires_at, now)

    def tokens(self) -> tuple[str, str]:
        """Both tokens, for scrubbing them out of messages."""
        return self.access_jwt, self.refresh_jwt


def _usable(expires_at: float | None, now: float | None) -> bool:
    if expires_at is None:
        return True
    now = time.time() if now is None else now
    return now < expires_at - RENEW_MARGIN
