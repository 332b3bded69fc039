"""The govsocial conformance suite, run against a real Mastodon API server (mastodon-mock)."""

from __future__ import annotations

from typing import Any

import pytest

from govsocial import Post
from govsocial.adapters.platform import METRIC_FIELDS, LocalServer
from govsocial.client import Client
from govsocial.testing import PlatformConformance, eventually, unique_text
from govsocial_mastodon.localserver import MastodonMockServer


class TestMastodonConformance(PlatformConformance):
    platform = "mastodon"

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_server(cls, mastodon_server: MastodonMockServer) -> LocalServer:
        return mastodon_server

    def test_metrics_follow_the_declared_vocabulary(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """The suite's check, except that ``quotes`` may be None when the server has no count.

        Mastodon added ``quotes_count`` to Status in 4.5; older servers (and mastodon-mock
        0.6.1) do not send it, and the adapter then reports None rather than a made-up 0.
        Where the server does send it, it must come through as an int like the others.
        """
        author, fan = conformance_server.accounts[:2]
        ref = self.publish(client, Post(unique_text()), author)
        conformance_server.like(ref, fan)

        def liked() -> Any:
            [metrics] = client.fetch_metrics([ref])
            return metrics if metrics.likes == 1 else None

        metrics = eventually(liked, timeout=10)
        stored = conformance_server.stored_post(ref)
        assert stored is not None
        assert metrics.ref == ref
        declared = self.adapter_class().limits.post_metrics
        for name in METRIC_FIELDS:
            value = getattr(metrics, name)
            if name == "quotes" and "quotes_count" not in stored:
                assert value is None
            elif name in declared:
                assert isinstance(value, int), f"{name} is declared but missing"
            else:
                assert value is None, f"{name} is not declared, so it must be None, not {value!r}"
        assert metrics.likes == stored["favourites_count"] == 1
        assert metrics.reposts == stored["reblogs_count"]
        assert metrics.replies == stored["replies_count"]
