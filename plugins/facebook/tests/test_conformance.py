"""The govsocial conformance suite, against the Graph API emulator (govsocial_facebook.testing).

Facebook has no local server; the emulator stores what it is sent, and every check reads
that store, never what the adapter says it sent. The second Page ("Warga Peduli") plays
the citizen: its comments are replies, its reactions are likes, and its posts tag the
first Page with ``@[page-id]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govsocial import Client
from govsocial.adapters.platform import LocalServer
from govsocial.testing import PlatformConformance
from govsocial_facebook.testing import GraphEmulator


class TestFacebookConformance(PlatformConformance):
    platform = "facebook"

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_server(cls, graph_server: GraphEmulator) -> Iterator[LocalServer]:
        graph_server.reset()
        yield graph_server

    @pytest.fixture(scope="class")
    @classmethod
    def client(cls) -> Iterator[Client]:
        with Client(max_wait=5.0) as client:
            yield client
