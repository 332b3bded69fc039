"""Fixtures of the TikTok adapter's tests: one emulator per session, fast polling.

The emulator lives in the package (``govsocial_tiktok.testing``) and is served by the
``emulators`` fixture of govsocial's pytest plugin.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from govsocial import Account, Client
from govsocial.adapters.media import DirectoryHost
from govsocial.testing.pytest_plugin import Emulators
from govsocial_tiktok import TikTok
from govsocial_tiktok.testing import TikTokEmulator


@pytest.fixture(scope="session", autouse=True)
def _fast_polls() -> Iterator[None]:
    """Status polls in milliseconds instead of seconds; a short moderation wait."""
    saved = (TikTok.poll_first, TikTok.moderation_wait, TikTok.moderation_retry)
    TikTok.poll_first, TikTok.moderation_wait, TikTok.moderation_retry = 0.01, 0.5, 30.0
    yield
    TikTok.poll_first, TikTok.moderation_wait, TikTok.moderation_retry = saved


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory, emulators: Emulators) -> TikTokEmulator:
    """The emulator with the accounts humas_kota (author) and warga_kota (citizen)."""
    state = TikTokEmulator(tmp_path_factory.mktemp("media"))
    state.base_url = emulators.serve(state.app())
    state.add_account("humas_kota", followers=1200)
    state.add_account("warga_kota")
    return state


@pytest.fixture
def server(emulator: TikTokEmulator) -> Iterator[TikTokEmulator]:
    """The session's emulator, with its failure modes switched off after the test."""
    yield emulator
    emulator.unaudited = False
    emulator.spam_cap = None
    emulator.inits_per_minute = 6
    emulator.moderation_polls = 1
    emulator.hold_moderation = False
    emulator.status_delay = 0.0
    emulator.refresh_omits_refresh_token = False
    emulator.min_chunk = 5 * 1024 * 1024
    emulator.init_answer_delay = 0.0
    emulator.expire_after_chunks, emulator.expirations = None, 1
    emulator.init_times.clear()
    TikTok._inits.clear()


@pytest.fixture
def fresh(server: TikTokEmulator, request: pytest.FixtureRequest) -> Account:
    """A new account with no posts, so a test can count what the emulator holds for it."""
    return server.add_account(f"uji_{abs(hash(request.node.nodeid)) % 10**8}")


@pytest.fixture
def client(server: TikTokEmulator) -> Iterator[Client]:
    """A client with the media host, 2 s timeouts and waits of at most 5 s."""
    host = DirectoryHost(server.media_dir, server.base_url + "/media")
    with Client(
        media_host=host, timeout=httpx.Timeout(2.0), max_wait=5.0, max_attempts=3
    ) as client:
        yield client
