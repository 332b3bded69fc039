"""govsocial's conformance suite against a local PLC + PDS + AppView.

The network is the session-wide ``bluesky_appview`` fixture (started once); reads of
app.bsky.* (getPosts, getProfile, getPostThread, listNotifications) go through the PDS,
which proxies them to its AppView: the adapter sends no ``atproto-proxy`` header, and
the metrics, replies and mentions checks below pass without one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govsocial.testing import PlatformConformance
from govsocial_bluesky.devserver import BlueskyDevServer
from govsocial_bluesky.localserver import BlueskyLocalServer


class TestBlueskyConformance(PlatformConformance):
    platform = "bluesky"
    eventually_timeout = 30.0  # the AppView indexes posts, likes and replies asynchronously

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_server(cls, bluesky_appview: BlueskyDevServer) -> Iterator[BlueskyLocalServer]:
        with BlueskyLocalServer(bluesky_appview) as server:
            yield server
