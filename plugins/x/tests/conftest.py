"""Fixtures of the X adapter's tests: the emulator, Prism in front of it, the npm tree.

The emulator and Prism live in the package (``govsocial_x.testing``); the emulator is served
by the ``emulators`` and ``fresh_emulators`` fixtures of govsocial's pytest plugin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from govsocial.testing.npm import NpmError, install, npm_available
from govsocial.testing.pytest_plugin import Emulators
from govsocial.testing.traffic import Exchange
from govsocial_x.testing import Emulator, prism_proxy, spec_path
from govsocial_x.testing.xdk_models import exchange_problems

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The pinned npm tree of tests/node (twitter-text, Prism); skips without npm."""
    if not npm_available():
        pytest.skip("npm and node are not on PATH: the twitter-text and Prism checks need them")
    try:
        return install(HERE / "node", "govsocial-x")
    except NpmError as error:
        pytest.skip(f"could not install the npm tree of the X tests: {error}")


def _new_emulator() -> Emulator:
    emulator = Emulator()
    emulator.add_user("humas_kota", "Humas Kota Bandung")
    emulator.add_user("warga_bdg", "Warga Bandung")
    return emulator


@pytest.fixture
def emulator(fresh_emulators: Emulators) -> Emulator:
    """A fresh emulator served directly (no Prism), for unit-level tests."""
    emulator = _new_emulator()
    emulator.base_url = fresh_emulators.serve(emulator.app())
    return emulator


@pytest.fixture(scope="session")
def x_spec() -> Path:
    found = spec_path()
    if found is None:
        pytest.skip(
            "the X API v2 OpenAPI spec is absent (looked for shared/specs/x-api-v2-openapi.json "
            "beside the repository and the folders above it, and in $GOVSOCIAL_SPECS_DIR): "
            "spec-validated tests need it"
        )
    return found


@pytest.fixture(scope="session")
def checked_emulator(node_modules: Path, x_spec: Path, emulators: Emulators) -> Iterator[Emulator]:
    """An emulator reached through Prism (proxy mode, --errors): all traffic spec-checked."""
    emulator = _new_emulator()
    upstream = emulators.serve(emulator.app())
    with prism_proxy(upstream, node_modules, spec=x_spec) as base:
        emulator.base_url = base
        yield emulator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _held_against_xdk(http_traffic: list[Exchange]) -> Iterator[None]:
    """Every X API request body and successful answer of every test (respx, emulator, Prism)
    must fit X's own SDK's models (xdk), unknown keys included."""
    yield
    problems = [
        problem
        for exchange in http_traffic
        if exchange.path.startswith("/2/")
        for problem in exchange_problems(
            exchange.method,
            exchange.path,
            exchange.json_body(),
            exchange.answer(),
            exchange.response.status_code if exchange.response is not None else 0,
        )
    ]
    assert not problems, "not what X's SDK (xdk) models:\n" + "\n".join(problems)
