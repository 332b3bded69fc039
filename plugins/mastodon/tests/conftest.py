"""Fixtures of the Mastodon adapter's tests: one mastodon-mock server per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govsocial_mastodon import Mastodon
from govsocial_mastodon.localserver import MastodonMockServer


@pytest.fixture(scope="session")
def mastodon_server() -> Iterator[MastodonMockServer]:
    """A mastodon-mock process with the accounts humas and warga, started once."""
    with MastodonMockServer() as server:
        yield server


@pytest.fixture
def server(mastodon_server: MastodonMockServer) -> Iterator[MastodonMockServer]:
    """The session's server, with every fault rule removed after the test."""
    mastodon_server.clear_faults()
    try:
        yield mastodon_server
    finally:
        mastodon_server.clear_faults()


@pytest.fixture(autouse=True)
def _fresh_instance_limits() -> Iterator[None]:
    """Each test asks the instance for its limits anew (the cache is process-wide)."""
    Mastodon.clear_limits_cache()
    yield
    Mastodon.clear_limits_cache()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
