"""Metrics collected from the real local servers match what another account did there.

Mastodon: mastodon-mock, after a favourite and a boost by a second account.
Bluesky: the reference PDS + AppView (PostgreSQL and Redis), after a like and a repost;
the AppView indexes asynchronously, so collection is retried with a deadline.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from govsocial import Post
from govsocial.analytics.collection import collect
from govsocial.app import Workspace
from govsocial.client import AsyncClient
from govsocial.core.models import Account, PostRef
from govsocial.scheduling.worker import Worker

pytest.importorskip("pandas")
pytestmark = pytest.mark.slow


def with_env_credentials(account: Account, prefix: str, monkeypatch: pytest.MonkeyPatch) -> Account:
    references = {}
    for field, secret in account.credentials.items():
        variable = f"{prefix}_{field.upper()}"
        monkeypatch.setenv(variable, secret.get_secret_value())
        references[field] = f"env:{variable}"
    return Account(**account.model_dump(exclude={"credentials"}), credentials=references)


def publish_and_measure(
    tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch, platform: str
) -> tuple[Workspace, PostRef]:
    ws = Workspace.open(tmp_path / f"{platform}.db")
    ws.add_account(
        "humas",
        with_env_credentials(server.accounts[0], "GS_REAL_" + platform.upper(), monkeypatch),
    )
    job = ws.schedule(
        Post(f"Metrik nyata {platform} {time.time()}", labels={"program": "uji"}),
        accounts=["humas"],
        at=datetime.now(UTC) + timedelta(seconds=30),
    )

    async def go() -> None:
        async with AsyncClient(plugins=ws.plugins) as client:
            await Worker(ws, clock=lambda: time.time() + 31).run_due(client)

    asyncio.run(go())
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "published", delivery.error
    assert delivery.ref is not None
    fan = server.accounts[1]
    server.like(delivery.ref, fan)
    server.repost(delivery.ref, fan)
    return ws, delivery.ref


def collect_until(ws: Workspace, expect: dict[str, float], timeout: float = 180.0) -> Any:
    """Collect (jumping the clock past each next measurement) until the figures appear.

    Each round jumps eight days: every measurement step (hourly to weekly) is shorter, so
    every round is due, and ``max_age`` is set far enough that none stops being measured.
    The deadline is generous because the AppView indexes on its own time, and under a full
    suite on two cores that has taken more than 30 s.
    """
    deadline = time.monotonic() + timeout
    jump = 0.0
    while True:
        jump += 8 * 86400

        async def go(offset: float = jump) -> None:
            async with AsyncClient(plugins=ws.plugins) as client:
                done = await collect(
                    ws,
                    client,
                    clock=lambda: time.time() + offset,
                    max_age=timedelta(days=3650),
                )
                assert not done.failed, done.failed

        asyncio.run(go())
        frame = ws.metrics_frame("posts")
        latest = frame.sort_values("collected_at").iloc[-1]
        if all(latest[name] == value for name, value in expect.items()):
            return frame
        if time.monotonic() > deadline:
            raise AssertionError(f"figures never reached {expect}: last {latest.to_dict()}")
        time.sleep(0.5)


def test_mastodon_favourite_and_boost_are_collected(
    mastodon: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, ref = publish_and_measure(tmp_path, mastodon, monkeypatch, "mastodon")
    with ws:
        frame = collect_until(ws, {"likes": 1, "reposts": 1})
        row = frame.iloc[-1]
        assert row["post_id"] == ref.id and row["platform"] == "mastodon"
        assert row["views"] != row["views"], "Mastodon reports no views: NaN"
        assert row["labels"] == {"program": "uji"}
        assert list(ws.metrics_frame("accounts")["account"])[-1] == "humas"


def test_bluesky_like_and_repost_are_collected_from_the_appview(
    bluesky_appview: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govsocial_bluesky.localserver import BlueskyLocalServer

    with BlueskyLocalServer(bluesky_appview) as server:
        ws, ref = publish_and_measure(tmp_path, server, monkeypatch, "bluesky")
        with ws:
            frame = collect_until(ws, {"likes": 1, "reposts": 1})
            row = frame.iloc[-1]
            assert row["post_id"] == ref.id and row["platform"] == "bluesky"
            followers = ws.metrics_frame("accounts")["followers"].iloc[-1]
            assert followers == followers, "getProfile gives followers: not NaN"
