"""Fixtures of the Instagram adapter's tests: the Graph API emulator and a media host.

The emulator lives in the package (``govsocial_instagram.testing``) and is served by the
``emulators`` and ``fresh_emulators`` fixtures of govsocial's pytest plugin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from govsocial import Client
from govsocial.adapters.media import DirectoryHost
from govsocial.testing.pytest_plugin import Emulators
from govsocial.testing.traffic import Exchange
from govsocial_instagram import Instagram
from govsocial_instagram.testing import InstagramEmulator
from govsocial_meta_graph.business_sdk import BusinessSdk, graph_path


@pytest.fixture(scope="session")
def instagram_server(
    tmp_path_factory: pytest.TempPathFactory, emulators: Emulators
) -> InstagramEmulator:
    """One emulator for the session, with the accounts dinkes.kota and warga.kota."""
    server = InstagramEmulator(tmp_path_factory.mktemp("ig-media"))
    server.base_url = emulators.serve(server.app())
    server.add_account("dinkes.kota")
    server.add_account("warga.kota")
    return server


@pytest.fixture
def server(tmp_path: Path, fresh_emulators: Emulators) -> InstagramEmulator:
    """A fresh emulator for one test (so it can count what it holds), with two accounts."""
    fresh = InstagramEmulator(tmp_path / "media")
    fresh.base_url = fresh_emulators.serve(fresh.app())
    fresh.add_account("dinkes.kota")
    fresh.add_account("warga.kota")
    return fresh


@pytest.fixture
def host(server: InstagramEmulator) -> DirectoryHost:
    """A media host whose directory the emulator serves at /media."""
    return DirectoryHost(server.media_dir, server.base_url + "/media")


@pytest.fixture
def client(host: DirectoryHost) -> Iterator[Client]:
    """A client that gives up quickly: 1 s timeouts, waits of at most 5 s."""
    with Client(
        media_host=host, timeout=httpx.Timeout(1.0), max_wait=5.0, max_attempts=3
    ) as client:
        yield client


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Instagram, "container_poll_interval", 0.01)
    monkeypatch.setattr(Instagram, "container_poll_max", 0.05)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


#: The Graph node types the Instagram adapter reads and writes, as Meta's SDK names them
#: (a media container is ``ShadowIGMediaBuilder``).
INSTAGRAM_NODES = ("IGUser", "IGMedia", "IGComment", "ShadowIGMediaBuilder")


@pytest.fixture(scope="session")
def meta_sdk() -> BusinessSdk:
    """Meta's facebook-business SDK, read from its source (the test extra installs it)."""
    return BusinessSdk()


@pytest.fixture(autouse=True)
def _held_against_meta_sdk(http_traffic: list[Exchange], meta_sdk: BusinessSdk) -> Iterator[None]:
    """Every Graph request of every test (respx or emulator), and every answer the adapter
    read, must be what Meta's own SDK declares: a renamed or dropped field fails the test."""
    yield
    problems = [
        f"{exchange.method} {exchange.path}: {problem}"
        for exchange in http_traffic
        if (path := graph_path(exchange.path)) is not None
        for problem in meta_sdk.exchange_problems(
            INSTAGRAM_NODES, exchange.method, path, exchange.params(), exchange.answer()
        )
    ]
    assert not problems, "not in Meta's SDK:\n" + "\n".join(problems)
