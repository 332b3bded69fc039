"""Fixtures of the LinkedIn adapter's tests: one emulator per session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from emulator import EmulatedLinkedIn, running

from govsocial.plugin.manager import Plugins, reset_default_plugins
from govsocial_linkedin import LinkedIn


@pytest.fixture(scope="module", autouse=True)
def _only_this_plugin() -> Iterator[None]:
    """Load only the linkedin entry point, so other plugins in the environment cannot
    change what these tests see (filterwarnings=error turns their warnings into failures)."""
    reset_default_plugins(Plugins(only=["linkedin"]))
    yield
    reset_default_plugins(None)


@pytest.fixture(scope="session")
def linkedin_server() -> Iterator[EmulatedLinkedIn]:
    """The LinkedIn emulator with the Pages Dinas Kominfo and Warga Peduli, started once."""
    with running() as server:
        yield server


@pytest.fixture
def server(linkedin_server: EmulatedLinkedIn) -> Iterator[EmulatedLinkedIn]:
    """The session's emulator with its token endpoint in use, faults and request log cleared."""
    linkedin_server.emulator.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LinkedIn, "token_url", f"{linkedin_server.base_url}/oauth/v2/accessToken")
        yield linkedin_server
    linkedin_server.emulator.clear()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
