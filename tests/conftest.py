from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes import TOKEN, PaperPlugin, PaperServer, paper_account

# Tests that deliberately name credential variables outside the default allow list
# (GOVSOCIAL_CRED_*, HUMAS_*): allowed here, once, for the session and its subprocesses.
# tests/test_env_allow.py sets or removes GOVSOCIAL_ENV_ALLOW itself.
os.environ.setdefault(
    "GOVSOCIAL_ENV_ALLOW",
    "GOVSOCIAL_CRED_*,HUMAS_*,PAPER_TOKEN,SOME_TOKEN,T,WRONG_TOKEN,IG_TEST_TOKEN,BROKEN_TOKEN,"
    "AUDIT_TEST_TOKEN,GS_TOKEN,NOPE,MASTODON_TEST_TOKEN*,GS_REAL_*,GS_INBOX_*",
)
from govsocial.app import Workspace
from govsocial.core.models import Account
from govsocial.plugin.manager import Plugins, reset_default_plugins


@pytest.fixture(autouse=True)
def _media_roots(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests write their media files under pytest's temporary folders: make those a media
    root, next to the working directory (the default root; docs/media-hosts.md)."""
    roots = [str(tmp_path_factory.getbasetemp()), os.getcwd()]
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ROOTS", os.pathsep.join(roots))


@pytest.fixture
def plugins() -> Iterator[Plugins]:
    """A fresh plugin system holding only the fake platform, installed as the default."""
    fresh = Plugins(load_entrypoints=False)
    fresh.register(PaperPlugin(), name="paper")
    reset_default_plugins(fresh)
    try:
        yield fresh
    finally:
        reset_default_plugins(None)


@pytest.fixture
def paper_server() -> PaperServer:
    return PaperServer()


@pytest.fixture
def account() -> Account:
    return paper_account(token=TOKEN)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


POSTGRES = os.environ.get("GOVSOCIAL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES, connect_timeout=2):
            return True
    except Exception:  # noqa: BLE001 - any failure means: not available here
        return False


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    if not _postgres_available():
        if os.environ.get("GOVSOCIAL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES}")
        pytest.skip(f"no PostgreSQL at {POSTGRES}")
    import psycopg

    schema = "gs_" + uuid.uuid4().hex[:10]
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


# -- workspaces on both engines, with the fake platform's account --------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def ws(request: pytest.FixtureRequest, plugins: Plugins, tmp_path: Path) -> Iterator[Workspace]:
    url = (
        str(tmp_path / "ws.db")
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    workspace = Workspace.open(url, plugins=plugins)
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def humas(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    ws.add_account(
        "humas",
        paper_account(),
    )
    return "humas"


# -- real local servers, started once per session ------------------------------------


@pytest.fixture(scope="session")
def bluesky_appview() -> Iterator[Any]:
    """The Bluesky reference PDS + AppView (PostgreSQL and Redis), once per session."""
    pytest.importorskip("govsocial_bluesky")
    import os

    from govsocial_bluesky.devserver import BlueskyDevServer, npm_available

    if not npm_available():
        if os.environ.get("CI"):
            pytest.fail("npm is needed for the Bluesky reference servers")
        pytest.skip("npm not available for the Bluesky reference servers")
    with BlueskyDevServer(appview=True) as server:
        yield server


@pytest.fixture(scope="session")
def mastodon() -> Iterator[Any]:
    """mastodon-mock, once per session."""
    pytest.importorskip("govsocial_mastodon")
    from govsocial_mastodon.localserver import MastodonMockServer

    with MastodonMockServer() as server:
        yield server
