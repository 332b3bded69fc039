"""Fixtures of the Telegram adapter's tests: one telegram-test-api server per session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from govsocial.testing.npm import NpmError, install, npm_available
from govsocial.testing.traffic import Exchange
from govsocial_telegram.bot_api_types import SentCall, payload_of, type_check
from govsocial_telegram.localserver import TelegramTestServer
from govsocial_telegram.updates import clear_inboxes


@pytest.fixture(scope="session")
def telegram_server() -> Iterator[TelegramTestServer]:
    """telegram-test-api with the channels humas_kota and warga_kota, started once."""
    with TelegramTestServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_inboxes(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with no remembered updates (inboxes are process-wide) and, on the
    local server, none waiting: the adapter confirms only what a workspace inbox stored, so
    updates of earlier tests would otherwise fill the 100 a getUpdates page gives."""
    clear_inboxes()
    if "telegram_server" in request.fixturenames:
        server: TelegramTestServer = request.getfixturevalue("telegram_server")
        for account in server.accounts:
            server.confirm_updates(account)
    yield
    clear_inboxes()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


HERE = Path(__file__).resolve().parent
_METHOD = re.compile(r"^/bot[^/]+/(?P<method>[A-Za-z]+)$")


@pytest.fixture(scope="session")
def bot_api_types() -> Path | None:
    """The pinned npm tree of tests/node (@grammyjs/types, typescript); None without npm."""
    if not npm_available():
        return None
    try:
        return install(HERE / "node", "govsocial-telegram-tests")
    except NpmError:
        return None


@pytest.fixture(scope="module")
def _bot_api_calls(bot_api_types: Path | None) -> Iterator[list[SentCall]]:
    """The Bot API calls of a module's tests, type-checked together when the module ends (one
    compiler run per module keeps the check to a second or two)."""
    calls: list[SentCall] = []
    yield calls
    if calls and bot_api_types is not None:
        problems = type_check(calls, bot_api_types)
        assert not problems, "not what the Bot API types (@grammyjs/types) allow:\n" + "\n".join(
            problems
        )


@pytest.fixture(autouse=True)
def _held_against_the_bot_api_types(
    http_traffic: list[Exchange], _bot_api_calls: list[SentCall], request: pytest.FixtureRequest
) -> Iterator[None]:
    """Every Bot API call of every test (respx or telegram-test-api) is kept for the check."""
    yield
    for exchange in http_traffic:
        match = _METHOD.match(exchange.path)
        if match is not None:
            payload = payload_of(exchange.params(), exchange.json_body())
            _bot_api_calls.append(SentCall(request.node.nodeid, match["method"], payload))
