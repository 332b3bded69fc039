"""Fixtures of the Threads adapter's tests: one emulator per session, fast polling.

The emulator lives in the package (``govsocial_threads.testing``) and is served by the
``emulators`` fixture of govsocial's pytest plugin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from govsocial import Account, Client
from govsocial.adapters.media import DirectoryHost
from govsocial.testing.pytest_plugin import Emulators
from govsocial_threads import Threads
from govsocial_threads.testing import ThreadsEmulator


@pytest.fixture(scope="session", autouse=True)
def _fast_polls() -> Iterator[None]:
    """Container polls and the in-flight wait in milliseconds instead of seconds."""
    saved = (Threads.container_poll_interval, Threads.publish_settle_time)
    Threads.container_poll_interval = 0.01
    Threads.publish_settle_time = 0.2
    yield
    Threads.container_poll_interval, Threads.publish_settle_time = saved


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory, emulators: Emulators) -> ThreadsEmulator:
    """The emulator with the accounts humas (author) and warga (citizen)."""
    state = ThreadsEmulator(tmp_path_factory.mktemp("media"))
    state.base_url = emulators.serve(state.app())
    state.add_account("humas_kota", followers=1200)
    state.add_account("warga_kota")
    return state


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
