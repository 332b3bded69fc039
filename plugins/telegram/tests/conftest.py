"""Fixtures of the Telegram adapter's tests: one telegram-test-api server per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govsocial_telegram.localserver import TelegramTestServer
from govsocial_telegram.updates import clear_inboxes


@pytest.fixture(scope="session")
def telegram_server() -> Iterator[TelegramTestServer]:
    """telegram-test-api with the channels humas_kota and warga_kota, started once."""
    with TelegramTestServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_inboxes() -> Iterator[None]:
    """Each test starts with no remembered updates (inboxes are process-wide)."""
    clear_inboxes()
    yield
    clear_inboxes()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
