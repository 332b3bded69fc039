"""OAuth 2.0 token renewal shared by the adapters: the ``refresh_token`` grant, once.

An adapter whose platform issues short-lived access tokens with a refresh token makes one
:class:`TokenRefresh` in its ``__init__`` and calls :meth:`TokenRefresh.renew` with the
token a call was refused with::

    self.tokens = TokenRefresh(self, token_url="/oauth/token", refused=self._refused)
    ...
    token = self.credential("access_token")
    try:
        return await self.request(method, path, headers=bearer(token), **kwargs)
    except AuthenticationError:
        await self.tokens.renew(token)  # one POST however many calls were refused
    return await self.request(method, path, headers=bearer(self.credential("access_token")))

What it does, so each adapter does not do it again:

- **once for concurrent callers**: renewals queue on one lock, and a caller whose failed
  token is no longer the current one returns at once (a peer renewed it meanwhile);
- **the form POST** (``grant_type=refresh_token``, the refresh token, the client id, and
  the client secret in the form or as HTTP Basic) goes through the adapter's own
  ``request`` (or the ``send`` given), so retries, redaction, rate limits and recorded
  traffic behave like any other call;
- **the answer is read defensively** by :func:`read_token_answer`: an answer that is not a
  JSON object, or whose ``access_token`` is missing, not a string or not a token (spaces,
  control characters, more than 16 KiB) is an error naming the field and never quoting a
  value; a ``refresh_token`` that is missing or not a string keeps the stored one; an
  ``expires_in`` that is not a positive whole number of seconds up to ten years is ignored;
- **the expiry is kept** (``expiry_field``, e.g. ``token_expires_at``) so
  :meth:`TokenRefresh.expiring` says when to renew ahead, ``margin`` seconds early;
- **rotated values go to** ``adapter.update_credentials`` (a workspace stores them sealed):
  the new access token, a refresh token only when it changed, and the expiry.

Refusals (the platform answered the renewal with an error) become the adapter's error
through the ``refused`` hook; :class:`~govsocial.core.errors.RateLimited` passes through
unchanged. No message made here quotes a token, a refresh token or a client secret.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import httpx

from govsocial.adapters.answers import json_object, parse_time
from govsocial.core.errors import (
    AuthenticationError,
    GovSocialError,
    PlatformError,
    RateLimited,
)

if TYPE_CHECKING:
    from govsocial.adapters.platform import Platform

__all__ = ["TokenAnswer", "TokenRefresh", "expiry_after", "read_token_answer"]

logger = logging.getLogger("govsocial.adapters.oauth")

#: The longest token accepted from an answer (Google's are about 2 KB, JWTs a few KB).
TOKEN_MAX = 16 * 1024
#: The longest lifetime believed (``expires_in`` beyond it is ignored as nonsense).
EXPIRES_MAX = 10 * 366 * 86400

#: Builds the error for an answer without a usable token: (the answer, why, the field).
Unusable = Callable[[httpx.Response, str, str], GovSocialError]


@dataclass(frozen=True, repr=False)
class TokenAnswer:
    """What a token endpoint answered, checked: the tokens never show in its repr."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = field(default=None)

    def __repr__(self) -> str:
        rotated = "***" if self.refresh_token else None
        return (
            f"TokenAnswer(access_token='***', refresh_token={rotated!r}, "
            f"expires_at={self.expires_at!r})"
        )


def expiry_after(expires_in: Any, *, now: datetime | None = None) -> datetime | None:
    """When a token that lives ``expires_in`` seconds expires (whole seconds, UTC).

    None when ``expires_in`` is not a whole number of seconds (booleans, floats and strings
    are not), is zero or negative, or is longer than ten years.
    """
    if not isinstance(expires_in, int) or isinstance(expires_in, bool):
        return None
    if not 0 < expires_in <= EXPIRES_MAX:
        return None
    start = now if now is not None else datetime.now(UTC)
    return (start + timedelta(seconds=expires_in)).replace(microsecond=0)


def _token_problem(value: Any, name: str) -> str | None:
    """Why ``value`` is not a usable token (None: it is one). Never quotes the value."""
    if not isinstance(value, str):
        return f"the answer's {name} is not a string" if value is not None else None
    if not value:
        return f"the answer's {name} is empty"
    if len(value) > TOKEN_MAX:
        return f"the answer's {name} is {len(value)} characters long (at most {TOKEN_MAX})"
    if not (value.isascii() and value.isprintable()) or " " in value:
        return f"the answer's {name} holds spaces, control or non-ASCII characters"
    return None


def read_token_answer(
    response: httpx.Response,
    unusable: Callable[[httpx.Response, str, str], GovSocialError],
    *,
    now: datetime | None = None,
) -> TokenAnswer:
    """The tokens of a token endpoint's successful answer, or ``unusable``'s error.

    ``unusable(response, why, field)`` is called when there is no usable access token
    (``why`` names the field, e.g. "the answer held no access_token") or when a refresh
    token is given but is not one; it returns the error to raise. A refresh token that is
    missing, null, empty or not a string is read as none given (the stored one is kept).
    """
    body = json_object(response)
    if body is None:
        raise unusable(response, "the answer is not a JSON object", "access_token")
    access = body.get("access_token")
    if access is None:
        raise unusable(response, "the answer held no access_token", "access_token")
    problem = _token_problem(access, "access_token")
    if problem is not None:
        raise unusable(response, problem, "access_token")
    rotated = body.get("refresh_token")
    if not isinstance(rotated, str) or not rotated:
        rotated = None
    else:
        problem = _token_problem(rotated, "refresh_token")
        if problem is not None:
            raise unusable(response, problem, "refresh_token")
    return TokenAnswer(access, rotated, expiry_after(body.get("expires_in"), now=now))


class TokenRefresh:
    """The ``refresh_token`` grant of one adapter, run once for concurrent callers.

    :param adapter: the adapter whose credentials are renewed (``credential``,
        ``update_credentials`` and ``request`` are used).
    :param token_url: the token endpoint: a path under the adapter's ``base_url``, a full
        URL, or a function giving either (read at each renewal).
    :param refused: the error for a refused renewal, given the error the request raised
        (``RateLimited`` is never given: it is raised as it is).
    :param unusable: the error for a successful answer without a usable token
        (``(response, why, field)``; default: a :class:`PlatformError` naming the field).
    :param client_auth: ``"form"`` sends the client secret in the form, ``"basic"`` as HTTP
        Basic (``client_id:client_secret``; the client id stays in the form). Without a
        client secret credential (a public client) none is sent.
    :param client_id_field: the credential, and form field, holding the client id.
    :param client_secret_field: the credential, and form field, holding the client secret.
    :param expiry_field: the credential to record the new expiry in (ISO 8601), or None.
    :param margin: seconds before the recorded expiry at which :meth:`expiring` is True.
    :param idempotent: whether a renewal lost on the way may be sent again (not where the
        platform burns a refresh token at first use, e.g. X and TikTok).
    :param rotates: whether the platform may send a new refresh token (False: a
        ``refresh_token`` in an answer is ignored, e.g. Threads, which has none).
    :param refusals: the errors of the request that mean the platform refused.
    :param send: sends the POST (default: ``adapter.request``); an adapter whose
        ``request`` adds a bearer token passes ``Platform.request`` bound to itself.
    """

    def __init__(
        self,
        adapter: Platform,
        *,
        token_url: str | Callable[[], str],
        refused: Callable[[GovSocialError], GovSocialError],
        unusable: Callable[[httpx.Response, str, str], GovSocialError] | None = None,
        client_auth: Literal["form", "basic"] = "form",
        client_id_field: str = "client_id",
        client_secret_field: str = "client_secret",  # noqa: S107 - a field name
        expiry_field: str | None = None,
        margin: float = 60.0,
        idempotent: bool = False,
        rotates: bool = True,
        refusals: tuple[type[GovSocialError], ...] = (AuthenticationError, PlatformError),
        send: Callable[..., Awaitable[httpx.Response]] | None = None,
    ) -> None:
        self.adapter = adapter
        self.token_url = token_url
        self.refused = refused
        self.unusable = unusable if unusable is not None else self._unusable
        self.client_auth = client_auth
        self.client_id_field = client_id_field
        self.client_secret_field = client_secret_field
        self.expiry_field = expiry_field
        self.margin = margin
        self.idempotent = idempotent
        self.rotates = rotates
        self.refusals = refusals
        self.send = send if send is not None else adapter.request
        self._lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        url = self.token_url if isinstance(self.token_url, str) else "(computed)"
        return (
            f"TokenRefresh({self.adapter.name}, {self.adapter.account.handle!r}, "
            f"token_url={url!r}, client_auth={self.client_auth!r})"
        )

    # -- reading -----------------------------------------------------------------------------

    def optional(self, name: str) -> str | None:
        """Credential ``name`` (a renewed value first), or None when missing or empty."""
        try:
            value = self.adapter.credential(name)
        except GovSocialError:
            return None
        return value.strip() or None

    def expires_at(self) -> datetime | None:
        """The recorded expiry of the access token (None: not recorded, or unreadable)."""
        if self.expiry_field is None:
            return None
        return parse_time(self.optional(self.expiry_field))

    def expiring(self, *, now: datetime | None = None) -> bool:
        """Whether the recorded expiry is less than ``margin`` seconds away (or past)."""
        expires = self.expires_at()
        if expires is None:
            return False
        start = now if now is not None else datetime.now(UTC)
        return expires - start < timedelta(seconds=self.margin)

    # -- renewing ----------------------------------------------------------------------------

    async def once(
        self,
        failed_token: str,
        renew: Callable[[], Awaitable[None]],
        *,
        field: str = "access_token",
    ) -> bool:
        """Run ``renew`` unless a peer already replaced ``failed_token``; one at a time.

        Returns whether ``renew`` ran. For a platform with its own grant (Threads): the
        single flight without the ``refresh_token`` form of :meth:`renew`.
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.adapter.credential(field) != failed_token:
                return False  # another call renewed it meanwhile
            await renew()
            return True

    async def renew(self, failed_token: str) -> bool:
        """Trade the refresh token for a new access token, unless a peer already did.

        ``failed_token`` is the access token the caller was refused with (or the current one,
        to renew ahead). Returns whether this call renewed it.

        :raises GovSocialError: ``refused``'s error when the platform refused, ``unusable``'s
            when its answer held no usable token; ``RateLimited`` as it was raised.
        """
        return await self.once(failed_token, self._renew)

    def form(self) -> tuple[dict[str, str], dict[str, str]]:
        """The form and headers of a renewal (secrets inside: never log them)."""
        client_id = self.adapter.credential(self.client_id_field)
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.adapter.credential("refresh_token"),
            self.client_id_field: client_id,
        }
        headers: dict[str, str] = {}
        secret = self.optional(self.client_secret_field)
        if secret is not None and self.client_auth == "basic":
            pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {pair}"
        elif secret is not None:
            form[self.client_secret_field] = secret
        return form, headers

    async def _renew(self) -> None:
        form, headers = self.form()
        url = self.token_url if isinstance(self.token_url, str) else self.token_url()
        try:
            response = await self.send(
                "POST", url, data=form, headers=headers, idempotent=self.idempotent
            )
        except RateLimited:
            raise
        except self.refusals as error:
            raise self.refused(error) from None
        answer = read_token_answer(response, self.unusable)
        self.store(answer, sent_refresh_token=form["refresh_token"])
        adapter = self.adapter
        logger.info("renewed the %s access token of %s", adapter.title, adapter.account.handle)

    def store(self, answer: TokenAnswer, *, sent_refresh_token: str | None = None) -> None:
        """Hand the answer's values to ``update_credentials``: the access token, a refresh
        token when it changed, and the expiry (cleared when the answer gave none, so a past
        expiry does not make every call renew)."""
        values = self.values(answer, sent_refresh_token=sent_refresh_token)
        self.adapter.update_credentials(**values)

    def values(
        self, answer: TokenAnswer, *, sent_refresh_token: str | None = None
    ) -> dict[str, str]:
        """The credentials :meth:`store` hands on for ``answer``."""
        values = {"access_token": answer.access_token}
        rotated = answer.refresh_token if self.rotates else None
        if rotated is not None and rotated != sent_refresh_token:
            values["refresh_token"] = rotated
        if self.expiry_field is not None:
            if answer.expires_at is not None:
                values[self.expiry_field] = answer.expires_at.isoformat(timespec="seconds")
            elif self.optional(self.expiry_field) is not None:
                values[self.expiry_field] = ""
        return values

    def _unusable(self, response: httpx.Response, why: str, field: str) -> GovSocialError:
        adapter = self.adapter
        return PlatformError(
            f"{adapter.title} answered the token renewal of {adapter.account.handle} "
            f"without a usable {field}: {why}",
            platform=adapter.name,
            status=response.status_code,
            field=field,
            hint=f"{adapter.title} or a proxy in front of it may be failing; try again later",
        )
