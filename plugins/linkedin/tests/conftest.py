"""Fixtures of the LinkedIn adapter's tests: one emulator per session.

The emulator lives in the package (``govsocial_linkedin.testing``) and is served by the
``emulators`` fixture of govsocial's pytest plugin.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govsocial.plugin.manager import Plugins
from govsocial.testing import use_plugins
from govsocial.testing.pytest_plugin import Emulators
from govsocial_linkedin import LinkedIn
from govsocial_linkedin.testing import EmulatedLinkedIn, start


@pytest.fixture(scope="module", autouse=True)
def _only_this_plugin() -> Iterator[None]:
    """Load only the linkedin entry point, so other plugins in the environment cannot
    change what these tests see (filterwarnings=error turns their warnings into failures)."""
    with use_plugins(Plugins(only=["linkedin"])):
        yield


@pytest.fixture(scope="session")
def linkedin_server(emulators: Emulators) -> EmulatedLinkedIn:
    """The LinkedIn emulator with the Pages Dinas Kominfo and Warga Peduli, started once."""
    return start(emulators.serve)


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
