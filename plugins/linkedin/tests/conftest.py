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
from govsocial.testing.traffic import Exchange
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


@pytest.fixture(autouse=True)
def _held_against_linkedin_api_client(http_traffic: list[Exchange]) -> Iterator[None]:
    """Every Rest.li request of every test (respx or emulator) is encoded byte for byte as
    LinkedIn's own client (linkedin-api-client) encodes the same values, and carries the
    protocol headers that client sends."""
    from linkedin_api.clients.restli.utils import decoder, encoder

    yield
    problems: list[str] = []
    for exchange in http_traffic:
        if not exchange.path.startswith("/rest/"):
            continue
        where = f"{exchange.method} {exchange.path}"
        raw = exchange.request.url.raw_path.decode("ascii")
        path, _, query = raw.partition("?")
        pieces = path.split("/")[3:] + [pair.partition("=")[2] for pair in query.split("&") if pair]
        for piece in pieces:
            official = encoder.encode(decoder.decode(piece))
            if official != piece:
                problems.append(f"{where}: sent {piece!r}, LinkedIn's client encodes {official!r}")
        headers = exchange.request.headers
        if headers.get("X-RestLi-Protocol-Version") != "2.0.0":
            problems.append(f"{where}: no X-RestLi-Protocol-Version: 2.0.0")
        if not headers.get("LinkedIn-Version"):
            problems.append(f"{where}: no LinkedIn-Version header")
    assert not problems, "not as linkedin-api-client encodes it:\n" + "\n".join(problems)
