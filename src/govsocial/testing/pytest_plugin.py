"""The pytest plugin govsocial ships for plugin authors: fixtures every plugin's tests share.

pytest loads it by itself wherever govsocial is installed (the ``pytest11`` entry point in
govsocial's ``pyproject.toml``, as datasette and tox ship theirs), so a plugin's tests use
the fixtures without importing anything:

- ``isolated_plugins``: a fresh :class:`~govsocial.plugin.manager.Plugins` holding only what
  the test registers (no entry point is loaded), installed as the process-wide plugin system
  for the test and replaced by the one before afterwards;
- ``emulators``: starts aiohttp applications (emulated platforms) as real HTTP servers with
  :func:`govsocial.testing.emulator.serve`, each once per test session;
- ``fresh_emulators``: the same, for servers that live for one test only;
- ``http_traffic``: every HTTP exchange of the test (requests and answers, respx's and real
  servers' alike), as :class:`govsocial.testing.traffic.Exchange` objects, so a plugin can
  hold what its adapter sent against the platform's own SDK or spec.

Emulators themselves live in the plugin's package (``govsocial_<platform>.testing``), so
tests import them like any module, whatever pytest's import mode: see docs/testing-plugins.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from aiohttp import web

from govsocial.plugin.manager import Plugins
from govsocial.testing.conformance import use_plugins
from govsocial.testing.emulator import serve
from govsocial.testing.traffic import Exchange, record_traffic

__all__ = ["Emulators", "emulators", "fresh_emulators", "http_traffic", "isolated_plugins"]


class Emulators:
    """Serves aiohttp applications until it is closed; ``serve(app)`` returns the base URL."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._urls: dict[int, str] = {}

    def serve(self, app: web.Application) -> str:
        """Start ``app`` on a free local port (once: serving it again gives the same URL)."""
        url = self._urls.get(id(app))
        if url is None:
            url = self._urls[id(app)] = self._stack.enter_context(serve(app))
        return url

    def close(self) -> None:
        """Stop every server this object started."""
        self._urls.clear()
        self._stack.close()


@pytest.fixture
def isolated_plugins() -> Iterator[Plugins]:
    """A fresh plugin system with nothing registered, as the process default for one test.

    Register what the test needs (``isolated_plugins.register(MyPlugin(), name="mine")``);
    entry points of installed plugins are not loaded, so they cannot change what it sees.
    The default that was there before is put back afterwards.
    """
    with use_plugins(Plugins(load_entrypoints=False)) as plugins:
        yield plugins


@pytest.fixture(scope="session")
def emulators() -> Iterator[Emulators]:
    """Serve emulators for the whole test session: ``emulators.serve(app) -> base URL``.

    Use it in your own session-scoped fixture, which builds the emulator's state once::

        @pytest.fixture(scope="session")
        def papan_server(emulators: Emulators) -> PapanEmulator:
            emulator = PapanEmulator()
            emulator.base_url = emulators.serve(emulator.app())
            return emulator
    """
    servers = Emulators()
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def fresh_emulators() -> Iterator[Emulators]:
    """Serve emulators for one test only, e.g. an emulator whose state a test counts."""
    servers = Emulators()
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def http_traffic() -> Iterator[list[Exchange]]:
    """Every HTTP exchange the test's httpx clients make, in order, recorded until it ends."""
    with record_traffic() as exchanges:
        yield exchanges
