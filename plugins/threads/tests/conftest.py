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
from govsocial.testing.traffic import Exchange
from govsocial_threads import Threads
from govsocial_threads.postman import Collection, collection_path
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


@pytest.fixture(scope="session")
def postman() -> Collection | None:
    """Meta's Threads Postman collection from ../shared/specs, or None when it is absent."""
    found = collection_path()
    return Collection(found) if found else None


@pytest.fixture
def threads_collection(postman: Collection | None) -> Collection:
    """The collection, for tests that read it; skips (with where it was looked for) if absent."""
    if postman is None:
        pytest.skip(
            "Meta's Threads Postman collection is absent (looked for shared/specs/"
            "threads-api.postman_collection.json beside the repository and the folders above "
            "it, and in $GOVSOCIAL_SPECS_DIR)"
        )
    return postman


@pytest.fixture(autouse=True)
def _held_against_the_postman_collection(
    http_traffic: list[Exchange], postman: Collection | None
) -> Iterator[None]:
    """Every Threads request of every test (respx or emulator) must be one Meta's Postman
    collection shows: its route, each parameter, each ``fields`` name and metric name; and
    every answer (the emulator's, the fakes') only keys Meta's example answers show."""
    yield
    if postman is None:
        return
    problems = [
        f"{exchange.method} {exchange.path}: {problem}"
        for exchange in http_traffic
        if not exchange.path.startswith("/media/")  # the emulator's media host, not Threads
        for problem in postman.request_problems(exchange.method, exchange.path, exchange.params())
        + postman.answer_problems(
            exchange.method, exchange.path, exchange.params(), exchange.answer()
        )
    ]
    assert not problems, "not in Meta's Threads Postman collection:\n" + "\n".join(problems)
