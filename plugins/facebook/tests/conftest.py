"""Fixtures of the Facebook adapter's tests: one Graph API emulator per session."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from govsocial.plugin.manager import Plugins, reset_default_plugins
from govsocial_facebook.insights import InsightsReader


def _load_emulator() -> None:
    """Import tests/emulator.py as ``fb_emulator`` (a name no other plugin's tests use).

    pytest runs with --import-mode=importlib, which puts no test folder on sys.path.
    """
    if "fb_emulator" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        "fb_emulator", Path(__file__).with_name("emulator.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fb_emulator"] = module
    spec.loader.exec_module(module)


_load_emulator()

from fb_emulator import GraphEmulator  # noqa: E402 - registered just above


@pytest.fixture(scope="session")
def graph_server() -> Iterator[GraphEmulator]:
    """The emulator with the Pages "Humas Kota Contoh" and "Warga Peduli", served once."""
    with GraphEmulator().serve() as server:
        yield server


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
    reset_default_plugins(plugins)
    yield
    reset_default_plugins(None)


@pytest.fixture(autouse=True)
def _fresh_refused_metrics() -> Iterator[None]:
    """Each test starts with no insights metric remembered as refused (the memory is global)."""
    InsightsReader.clear_refused()
    yield
    InsightsReader.clear_refused()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
