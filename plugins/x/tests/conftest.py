"""Fixtures of the X adapter's tests: the emulator, Prism in front of it, the npm tree."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from govsocial.testing.emulator import serve
from govsocial.testing.npm import NpmError, install, npm_available

HERE = Path(__file__).resolve().parent


def _load(name: str, filename: str) -> ModuleType:
    """Import a helper module beside the tests under a name no other plugin uses."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# the test modules import these as ``x_emulator`` and ``x_prism``
x_emulator = _load("x_emulator", "emulator.py")
x_prism = _load("x_prism", "prism.py")
Emulator = x_emulator.Emulator
prism_proxy = x_prism.prism_proxy
spec_path = x_prism.spec_path


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
def emulator() -> Iterator[Emulator]:
    """A fresh emulator served directly (no Prism), for unit-level tests."""
    emulator = _new_emulator()
    with serve(emulator.app()) as base:
        emulator.base_url = base
        yield emulator


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
def checked_emulator(node_modules: Path, x_spec: Path) -> Iterator[Emulator]:
    """An emulator reached through Prism (proxy mode, --errors): all traffic spec-checked."""
    emulator = _new_emulator()
    with (
        serve(emulator.app()) as upstream,
        prism_proxy(upstream, node_modules, spec=x_spec) as base,
    ):
        emulator.base_url = base
        yield emulator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
