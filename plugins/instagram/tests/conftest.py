"""Fixtures of the Instagram adapter's tests: the Graph API emulator and a media host.

The emulator module is loaded under the name ``instagram_emulator`` so test modules can
import it (the suite runs with ``--import-mode=importlib``, where test folders are not on
``sys.path``).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from govsocial import Client
from govsocial.adapters.media import DirectoryHost
from govsocial_instagram import Instagram

_spec = importlib.util.spec_from_file_location(
    "instagram_emulator", Path(__file__).with_name("emulator.py")
)
assert _spec is not None and _spec.loader is not None
emulator = importlib.util.module_from_spec(_spec)
sys.modules["instagram_emulator"] = emulator
_spec.loader.exec_module(emulator)


@pytest.fixture(scope="session")
def instagram_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One emulator for the session, with the accounts dinkes.kota and warga.kota."""
    server = emulator.InstagramEmulator(tmp_path_factory.mktemp("ig-media"))
    with server.running():
        server.add_account("dinkes.kota")
        server.add_account("warga.kota")
        yield server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[object]:
    """A fresh emulator for one test (so it can count what it holds), with two accounts."""
    fresh = emulator.InstagramEmulator(tmp_path / "media")
    with fresh.running():
        fresh.add_account("dinkes.kota")
        fresh.add_account("warga.kota")
        yield fresh


@pytest.fixture
def host(server: object) -> DirectoryHost:
    """A media host whose directory the emulator serves at /media."""
    return DirectoryHost(server.media_dir, server.base_url + "/media")  # type: ignore[attr-defined]


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
