"""Fixtures of the YouTube adapter's tests: one emulator per session, and the oracle.

Every request any test makes to the emulator is checked, after the test, against the
YouTube Data API v3 discovery document shipped in google-api-python-client (the ``test``
extra): a renamed method, parameter, ``part`` or body property fails the test that sent it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest

from govsocial import Account
from govsocial.testing.pytest_plugin import Emulators
from govsocial_youtube.testing import Discovery, YouTubeEmulator


@functools.cache
def discovery() -> Discovery:
    """The discovery document, read once from the installed google-api-python-client."""
    return Discovery.load()


@pytest.fixture(scope="session")
def clip() -> bytes:
    """A 2 s vertical H.264/AAC video made in the run (a Short's shape)."""
    pytest.importorskip("av", reason="making a test video needs PyAV: govsocial[video]")
    from govsocial.testing.video import make_video

    return make_video(width=180, height=320, seconds=2, fps=12)


@pytest.fixture(scope="session")
def emulator(emulators: Emulators) -> YouTubeEmulator:
    """The emulator with the channels @humaskota (author) and @wargakota (citizen)."""
    state = YouTubeEmulator()
    state.base_url = emulators.serve(state.app())
    state.add_channel("@humaskota", subscribers=1200)
    state.add_channel("@wargakota")
    return state


@pytest.fixture(autouse=True)
def _oracle(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, every request it sent to an emulator follows the discovery doc."""
    watched: list[tuple[YouTubeEmulator, int]] = []
    if "emulator" in request.fixturenames:
        emulator: YouTubeEmulator = request.getfixturevalue("emulator")
        watched.append((emulator, len(emulator.requests)))
    yield
    problems = []
    for emulator, start in watched:
        for method, path, query, body in emulator.requests[start:]:
            problems += discovery().check(method, path, query, body)
    assert problems == [], "requests that do not follow the discovery document"


@pytest.fixture
def server(emulator: YouTubeEmulator) -> Iterator[YouTubeEmulator]:
    """The session's emulator, faults cleared and the project's quota full afterwards."""
    yield emulator
    emulator.faults.clear()
    emulator.units_left, emulator.uploads_left = 10_000, 100


@pytest.fixture
def fresh(server: YouTubeEmulator, request: pytest.FixtureRequest) -> Account:
    """A new channel with no videos, so a test can count what the emulator holds for it."""
    return server.add_channel(f"@uji{abs(hash(request.node.nodeid)) % 10**8}")
