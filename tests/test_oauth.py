"""The SDK's OAuth 2.0 token renewal (govsocial.adapters.TokenRefresh) against a token server
in memory that issues tokens, rotates refresh tokens and burns the used ones, as X does.

Assertions are on what that server received and on what the adapter handed to its
credentials listener (what a workspace stores).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from fakes import Paper
from govsocial.adapters import (
    AdapterContext,
    AuthenticationError,
    GovSocialError,
    Http,
    PlatformError,
    TokenAnswer,
    TokenRefresh,
    expiry_after,
)
from govsocial.core.models import Account

pytestmark = pytest.mark.anyio

CLIENT_SECRET = "client-secret-0123456789"
FIRST_REFRESH = "refresh-0000-first"


class TokenServer:
    """An API that accepts one access token, and a token endpoint that renews it."""

    def __init__(self) -> None:
        self.access = "access-0000-first"
        self.refresh = FIRST_REFRESH
        self.issued = 0
        self.token_requests: list[dict[str, str]] = []
        self.token_headers: list[httpx.Headers] = []
        self.refused_calls = 0
        self.all_refused = asyncio.Event()
        self.expected_refusals = 1
        self.gate: asyncio.Event | None = None
        self.answer: Any = None  # a forced token answer (hostile ones)

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return await self.token(request)
        if request.headers.get("authorization") != f"Bearer {self.access}":
            self.refused_calls += 1
            if self.refused_calls >= self.expected_refusals:
                self.all_refused.set()
            return httpx.Response(401, json={"error": "invalid token"})
        return httpx.Response(200, json={"ok": True})

    async def token(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        self.token_requests.append(form)
        self.token_headers.append(request.headers)
        if self.gate is not None:
            await self.gate.wait()
        if self.answer is not None:
            return httpx.Response(200, json=self.answer)
        if form.get("refresh_token") != self.refresh:
            return httpx.Response(400, json={"error": "invalid_grant"})
        self.issued += 1
        self.access = f"access-{self.issued:04d}-renewed"
        self.refresh = f"refresh-{self.issued:04d}-rotated"
        return httpx.Response(
            200,
            json={"access_token": self.access, "refresh_token": self.refresh, "expires_in": 3600},
        )


class Oauthy(Paper):
    """A minimal OAuth platform (the fake Paper, with OAuth): bearer calls, renewed on a 401."""

    name = "oauthy"
    title = "Oauthy"
    credential_fields = ("access_token", "refresh_token", "client_id", "client_secret")
    secret_fields = ("access_token", "refresh_token", "client_secret")
    client_auth = "form"

    def __init__(self, account: Account, context: AdapterContext) -> None:
        super().__init__(account, context)
        self.tokens = TokenRefresh(
            self,
            token_url="/oauth/token",
            refused=lambda error: AuthenticationError(
                f"Oauthy refused to renew: {error.message}", platform=self.name, hint="re-authorise"
            ),
            client_auth="basic" if self.client_auth == "basic" else "form",
            expiry_field="token_expires_at",
        )

    async def call(self) -> httpx.Response:
        token = self.credential("access_token")
        try:
            return await self.request("GET", "/me", headers={"Authorization": f"Bearer {token}"})
        except AuthenticationError:
            await self.tokens.renew(token)
        token = self.credential("access_token")
        return await self.request("GET", "/me", headers={"Authorization": f"Bearer {token}"})


async def _no_sleep(seconds: float) -> None:
    return None


def _adapter(
    server: TokenServer, stored: list[dict[str, str]], cls: type[Oauthy] = Oauthy
) -> Oauthy:
    account = Account(
        platform="oauthy",
        handle="@dinas",
        base_url="https://oauthy.test",
        credentials={
            "access_token": "access-0000-stale",
            "refresh_token": FIRST_REFRESH,
            "client_id": "client-1",
            "client_secret": CLIENT_SECRET,
        },
    )
    http = Http(httpx.AsyncClient(transport=httpx.MockTransport(server.handler)), sleep=_no_sleep)
    return cls(
        account,
        AdapterContext(http=http, on_credentials=lambda _account, values: stored.append(values)),
    )


async def test_concurrent_refused_calls_renew_once_and_store_the_rotated_refresh_token() -> None:
    server = TokenServer()
    server.expected_refusals = 5
    server.gate = asyncio.Event()
    stored: list[dict[str, str]] = []
    adapter = _adapter(server, stored)

    async def open_gate() -> None:
        await server.all_refused.wait()  # every call was refused before the answer comes
        assert server.gate is not None
        server.gate.set()

    results = await asyncio.gather(*(adapter.call() for _ in range(5)), open_gate())
    assert all(r.status_code == 200 for r in results[:5])
    assert len(server.token_requests) == 1
    form = server.token_requests[0]
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == FIRST_REFRESH
    assert form["client_secret"] == CLIENT_SECRET and form["client_id"] == "client-1"
    assert len(stored) == 1
    assert stored[0]["access_token"] == server.access
    assert stored[0]["refresh_token"] == server.refresh  # the rotated one
    expires = datetime.fromisoformat(stored[0]["token_expires_at"])
    assert timedelta(minutes=50) < expires - datetime.now(UTC) <= timedelta(hours=1)
    # the next renewal sends the rotated refresh token (the first one is burnt)
    assert await adapter.tokens.renew(adapter.credential("access_token")) is True
    assert server.token_requests[1]["refresh_token"] == stored[0]["refresh_token"]


async def test_a_renewal_for_a_token_a_peer_replaced_sends_nothing() -> None:
    server = TokenServer()
    adapter = _adapter(server, [])
    assert await adapter.tokens.renew("access-0000-stale") is True
    assert await adapter.tokens.renew("access-0000-stale") is False
    assert len(server.token_requests) == 1


async def test_basic_client_auth_keeps_the_secret_out_of_the_form() -> None:
    class Basic(Oauthy):
        client_auth = "basic"

    server = TokenServer()
    adapter = _adapter(server, [], Basic)
    await adapter.tokens.renew(adapter.credential("access_token"))
    form = server.token_requests[0]
    assert "client_secret" not in form and form["client_id"] == "client-1"
    pair = base64.b64encode(f"client-1:{CLIENT_SECRET}".encode()).decode()
    assert server.token_headers[0]["authorization"] == f"Basic {pair}"


async def test_a_refused_renewal_is_the_adapters_error_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = TokenServer()
    server.refresh = "someone-else"
    stored: list[dict[str, str]] = []
    adapter = _adapter(server, stored)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as raised:
        await adapter.call()
    assert "refused to renew" in str(raised.value) and "invalid_grant" in str(raised.value)
    assert stored == []
    shown = str(raised.value) + repr(raised.value) + caplog.text + repr(adapter.tokens)
    for secret in (FIRST_REFRESH, CLIENT_SECRET, "access-0000-stale"):
        assert secret not in shown


HOSTILE: list[tuple[Any, str]] = [
    (["not", "an", "object"], "access_token"),
    ({}, "access_token"),
    ({"access_token": None}, "access_token"),
    ({"access_token": 12345}, "access_token"),
    ({"access_token": ["a"]}, "access_token"),
    ({"access_token": ""}, "access_token"),
    ({"access_token": "two words"}, "access_token"),
    ({"access_token": "line\r\nX-Injected: 1"}, "access_token"),
    ({"access_token": "a" * 20000}, "access_token"),
    ({"access_token": "tökén"}, "access_token"),
    ({"access_token": "fine-token", "refresh_token": "bad\x00token"}, "refresh_token"),
]


@pytest.mark.parametrize(("answer", "field"), HOSTILE)
async def test_a_hostile_token_answer_is_an_error_naming_the_field_and_stores_nothing(
    answer: Any, field: str
) -> None:
    server = TokenServer()
    server.answer = answer
    stored: list[dict[str, str]] = []
    adapter = _adapter(server, stored)
    with pytest.raises(GovSocialError) as raised:
        await adapter.tokens.renew(adapter.credential("access_token"))
    assert isinstance(raised.value, PlatformError | AuthenticationError)
    assert field in str(raised.value)
    assert stored == [] and adapter.credential("access_token") == "access-0000-stale"
    for secret in (FIRST_REFRESH, CLIENT_SECRET, "fine-token", "X-Injected"):
        assert secret not in str(raised.value)


@pytest.mark.parametrize("expires_in", [-5, 0, True, 1.5, "3600", None, 10**30, [3600], {"s": 1}])
async def test_an_unusable_expires_in_records_no_expiry_and_clears_a_stale_one(
    expires_in: Any,
) -> None:
    server = TokenServer()
    server.answer = {"access_token": "new-token", "expires_in": expires_in}
    stored: list[dict[str, str]] = []
    adapter = _adapter(server, stored)
    adapter.update_credentials(token_expires_at="2000-01-01T00:00:00+00:00")
    assert adapter.tokens.expiring()  # a past expiry: renew ahead
    stored.clear()
    await adapter.tokens.renew(adapter.credential("access_token"))
    assert stored == [{"access_token": "new-token", "token_expires_at": ""}]
    assert not adapter.tokens.expiring()  # no renewal before every call


async def test_an_answer_without_a_refresh_token_keeps_the_stored_one() -> None:
    server = TokenServer()
    server.answer = {"access_token": "new-token", "refresh_token": 7, "expires_in": 60}
    stored: list[dict[str, str]] = []
    adapter = _adapter(server, stored)
    await adapter.tokens.renew(adapter.credential("access_token"))
    assert "refresh_token" not in stored[0]
    assert adapter.credential("refresh_token") == FIRST_REFRESH
    assert adapter.tokens.expiring()  # 60 s is within the default margin


def test_expiry_after_and_the_answer_repr_hide_nothing_they_should_not() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert expiry_after(3600, now=now) == now + timedelta(hours=1)
    assert expiry_after(-1, now=now) is None and expiry_after(10**12, now=now) is None
    answer = TokenAnswer("secret-access", "secret-refresh", None)
    assert "secret" not in repr(answer)
