"""Fixtures of the Facebook adapter's tests: one Graph API emulator per session.

The emulator lives in the package (``govsocial_facebook.testing``) and is served by the
``emulators`` fixture of govsocial's pytest plugin.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govsocial.plugin.manager import Plugins
from govsocial.testing import use_plugins
from govsocial.testing.pytest_plugin import Emulators
from govsocial.testing.traffic import Exchange
from govsocial_facebook.insights import InsightsReader
from govsocial_facebook.testing import GraphEmulator
from govsocial_meta_graph.business_sdk import BusinessSdk, graph_path


@pytest.fixture(scope="session")
def graph_server(emulators: Emulators) -> GraphEmulator:
    """The emulator with the Pages "Humas Kota Contoh" and "Warga Peduli", served once."""
    server = GraphEmulator()
    server.base_url = emulators.serve(server.app())
    return server


@pytest.fixture
def emulator(graph_server: GraphEmulator) -> Iterator[GraphEmulator]:
    """The session's emulator with no faults, usage headers or request log left over."""
    graph_server.reset()
    try:
        yield graph_server
    finally:
        graph_server.reset()


@pytest.fixture(scope="module", autouse=True)
def _only_this_plugin() -> Iterator[None]:
    """Load only the facebook entry point, so other plugins in the environment (some under
    construction) cannot break these tests; the default plugin system is restored after."""
    plugins = Plugins(only=["facebook"])
    assert "facebook" in plugins.platforms(), plugins.load_errors
    with use_plugins(plugins):
        yield


@pytest.fixture(autouse=True)
def _fresh_refused_metrics() -> Iterator[None]:
    """Each test starts with no insights metric remembered as refused (the memory is global)."""
    InsightsReader.clear_refused()
    yield
    InsightsReader.clear_refused()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


#: The Graph node types the Facebook adapter reads and writes, as Meta's SDK names them.
FACEBOOK_NODES = ("Page", "PagePost", "Comment", "Photo", "AdVideo")


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
            FACEBOOK_NODES, exchange.method, path, exchange.params(), exchange.answer()
        )
    ]
    assert not problems, "not in Meta's SDK:\n" + "\n".join(problems)
