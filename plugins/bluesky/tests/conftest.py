"""Fixtures running the real Bluesky reference servers (@atproto/dev-env)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from govsocial_bluesky.devserver import BlueskyDevServer, is_installed, npm_available


def _unavailable(reason: str) -> None:
    """Skip on a developer machine, fail on CI (env CI set)."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _require_node() -> None:
    if not (npm_available() or is_installed()):
        _unavailable("npm not found: install Node.js 20+ and npm to run Bluesky dev servers")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def bluesky_server() -> Iterator[BlueskyDevServer]:
    """PLC + PDS (SQLite, no AppView), started once per session."""
    _require_node()
    with BlueskyDevServer() as server:
        yield server


@pytest.fixture(scope="session")
def bluesky_appview() -> Iterator[BlueskyDevServer]:
    """PLC + PDS + AppView (needs PostgreSQL and Redis), once per session."""
    _require_node()
    server = BlueskyDevServer(appview=True)
    pg = urlsplit(server.postgres_url)
    redis_host, _, redis_port = server.redis_host.rpartition(":")
    if not _reachable(pg.hostname or "127.0.0.1", pg.port or 5432):
        _unavailable(f"PostgreSQL not reachable at {pg.hostname}:{pg.port or 5432}")
    if not _reachable(redis_host or "127.0.0.1", int(redis_port or 6379)):
        _unavailable(f"Redis not reachable at {server.redis_host}")
    with server:
        yield server
