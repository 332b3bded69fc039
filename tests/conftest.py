from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes import TOKEN, PaperPlugin, PaperServer
from govsocial.models import Account
from govsocial.plugins import Plugins, reset_default_plugins


@pytest.fixture
def plugins() -> Iterator[Plugins]:
    """A fresh plugin system holding only the fake platform, installed as the default."""
    fresh = Plugins(load_entrypoints=False)
    fresh.register(PaperPlugin(), name="paper")
    reset_default_plugins(fresh)
    try:
        yield fresh
    finally:
        reset_default_plugins(None)


@pytest.fixture
def paper_server() -> PaperServer:
    return PaperServer()


@pytest.fixture
def account() -> Account:
    return Account(
        platform="paper",
        handle="@humas",
        base_url="https://paper.test",
        credentials={"access_token": TOKEN},
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
