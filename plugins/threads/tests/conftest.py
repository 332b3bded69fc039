"""Fixtures of the Threads adapter's tests: one emulator per session, fast polling."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from govsocial import Account, Client
from govsocial.adapters.media import DirectoryHost
from govsocial_threads import Threads


def _load_emulator() -> ModuleType:
    """tests/emulator.py as the module ``threads_emulator`` (pytest runs in importlib mode)."""
    name = "threads_emulator"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "emulator.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ThreadsEmulator = _load_emulator().ThreadsEmulator


@pytest.fixture(scope="session", autouse=True)
def _fast_polls() -> Iterator[None]:
    """Container polls and the in-flight wait in milliseconds instead of seconds."""
    saved = (Threads.container_poll_interval, Threads.publish_settle_time)
    Threads.container_poll_interval = 0.01
    Threads.publish_settle_time = 0.2
    yield
    Threads.container_poll_interval, Threads.publish_settle_time = saved


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadsEmulator]:
    """The emulator with the accounts humas (author) and warga (citizen)."""
    media = tmp_path_factory.mktemp("media")
    state = ThreadsEmulator(media)
    with state.running():
        state.add_account("humas_kota", followers=1200)
        state.add_account("warga_kota")
        yield state


@pytest.fixture
def server(emulator: ThreadsEmulator) -> Iterator[ThreadsEmulator]:
    """The session's emulator, with faults and usage headers cleared after the test."""
    yield emulator
    emulator.faults.clear()
    emulator.usage_headers.clear()
    emulator.removed_metrics.clear()
    emulator.polls_to_finish = 1


@pytest.fixture
def fresh(server: ThreadsEmulator, request: pytest.FixtureRequest) -> Account:
    """A new account with no posts, so a test can count what the emulator holds for it."""
    return server.add_account(f"uji_{abs(hash(request.node.nodeid)) % 10**8}")


def media_host(server: ThreadsEmulator) -> DirectoryHost:
    return DirectoryHost(server.media_dir, server.base_url + "/media")


@pytest.fixture
def client(server: ThreadsEmulator) -> Iterator[Client]:
    """A client with the media host, 1 s timeouts and waits of at most 5 s."""
    with Client(
        media_host=media_host(server),
        timeout=httpx.Timeout(1.0),
        max_wait=5.0,
        max_attempts=3,
    ) as client:
        yield client


@pytest.fixture
def media_dir(server: ThreadsEmulator) -> Path:
    return server.media_dir
