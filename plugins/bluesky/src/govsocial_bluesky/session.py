"""An account's login session on its PDS: tokens, their expiry, and when to renew them.

Legacy app-password sessions (https://docs.bsky.app/docs/api/com-atproto-server-create-session):
``com.atproto.server.createSession`` answers an access token (about two hours) and a
refresh token (about ninety days), both JWTs; ``com.atproto.server.refreshSession``
(https://docs.bsky.app/docs/api/com-atproto-server-refresh-session), called with the
refresh token as Bearer, answers a new pair. The tokens' ``exp`` claims are read here
without verifying the signature: the PDS verifies, the client only needs to know when to
renew.

A session is kept between clients (:meth:`Session.dumps`, :meth:`Session.loads`) because
logging in is what Bluesky limits most: ``createSession`` is rate-limited by handle to 30 per
5 minutes and 300 a day (https://docs.bsky.app/docs/advanced-guides/rate-limits; the
bsky.social entryway allows 100 a day, bluesky-social/bsky-docs#183).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RENEW_MARGIN", "Session", "jwt_expiry"]

#: Renew a token this many seconds before it expires (clock skew, slow requests).
RENEW_MARGIN = 60.0

#: What a kept token may hold: a JWT's three base64url parts (nothing a header could split on).
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


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

    def dumps(self) -> str:
        """The session as a kept credential (JSON, the answer's own names): secret, both
        tokens are in it."""
        return json.dumps(
            {
                "accessJwt": self.access_jwt,
                "refreshJwt": self.refresh_jwt,
                "did": self.did,
                "handle": self.handle,
            },
            sort_keys=True,
        )

    @classmethod
    def loads(cls, text: str) -> Session:
        """A session kept by :meth:`dumps`.

        :raises ValueError: not such a session, or a token that is not a JWT (a kept value is
            read with the same suspicion as an answer: it goes into a header).
        """
        try:
            body = json.loads(text)
        except (ValueError, RecursionError):
            raise ValueError("the kept session is not JSON") from None
        session = cls.from_answer(body)
        for token in session.tokens():
            if len(token) > 8192 or not _TOKEN.fullmatch(token):
                raise ValueError("a kept session token is not a JWT")
        if not session.did.startswith("did:"):
            raise ValueError("the kept session's DID is not a DID")
        return session

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
