"""Collecting metrics into the workspace, and reading them back as frames."""

from __future__ import annotations

import math
import time
from datetime import timedelta
from pathlib import Path

import pytest

from fakes import TOKEN, PaperServer, collect_at, paper_account, publish_now
from govsocial.analytics.collection import STOPPED, next_measurement
from govsocial.app import Workspace
from govsocial.core.errors import ConfigurationError
from govsocial.plugin.manager import Plugins

pd = pytest.importorskip("pandas")


@pytest.fixture
def ws(plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    workspace = Workspace.open(tmp_path / "ws.db", plugins=plugins)
    workspace.add_account(
        "humas",
        paper_account(),
    )
    return workspace


def test_snapshots_match_what_the_server_counts(ws: Workspace) -> None:
    server = PaperServer()
    publish_now(ws, server, {"satu": {"program": "vaksinasi"}, "dua": {"program": "vaksinasi"}})
    for number, post in enumerate(server.posts.values(), start=3):
        post["likes"] = number
    done = collect_at(ws, server, time.time() + 3700)
    assert (done.posts, done.accounts, done.failed) == (2, 1, {})
    frame = ws.metrics_frame("posts")
    assert sorted(frame["likes"]) == [3.0, 4.0]
    assert frame["views"].isna().all(), "paper reports no views: NaN, not 0"
    assert set(frame["post_id"]) == set(server.posts)
    assert all(labels == {"program": "vaksinasi"} for labels in frame["labels"])
    assert str(frame["collected_at"].dt.tz) == "UTC"
    accounts = ws.metrics_frame("accounts")
    assert list(accounts["followers"]) == [7.0]
    assert accounts["following"].isna().all()


def test_collection_is_incremental(ws: Workspace) -> None:
    server = PaperServer()
    publish_now(ws, server, {"satu": {}})
    start = time.time()
    assert collect_at(ws, server, start + 3700).posts == 1
    assert collect_at(ws, server, start + 3800).posts == 0, "measured again within the hour"
    assert collect_at(ws, server, start + 2 * 3700).posts == 1
    assert collect_at(ws, server, start + 200 * 86400).posts == 1  # past max_age: last time
    assert collect_at(ws, server, start + 400 * 86400).posts == 0
    assert len(ws.metrics_frame("posts")) == 3


def test_one_failing_account_is_reported_and_the_others_collected(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKEN_TOKEN", "wrong")
    ws.add_account(
        "rusak",
        paper_account("@rusak", token="env:BROKEN_TOKEN"),
    )
    server = PaperServer()
    publish_now(ws, server, {"satu": {}})
    server.script = []
    done = collect_at(ws, server, time.time() + 3700)
    assert (done.posts, done.accounts) == (1, 1)
    assert list(done.failed) == ["rusak"]
    assert "rejected the credentials" in done.failed["rusak"]
    assert "wrong" not in done.failed["rusak"]
    assert list(ws.metrics_frame("accounts")["account"]) == ["humas"]


def test_frames_of_an_empty_workspace_are_empty_with_their_columns(
    plugins: Plugins, tmp_path: Path
) -> None:
    with Workspace.open(tmp_path / "empty.db", plugins=plugins) as ws:
        posts = ws.metrics_frame("posts")
        assert len(posts) == 0
        assert {"platform", "labels", "likes", "views", "collected_at"} <= set(posts.columns)
        assert len(ws.metrics_frame("accounts")) == 0
        with pytest.raises(ConfigurationError, match="unknown metrics frame"):
            ws.metrics_frame("followers")


def test_young_posts_are_measured_often_and_old_ones_rarely() -> None:
    max_age = timedelta(days=90)
    day = 86400.0
    assert next_measurement(0, 3600, max_age) == 3600 + 3600
    assert next_measurement(0, 3 * day, max_age) == 3 * day + 6 * 3600
    assert next_measurement(0, 10 * day, max_age) == 11 * day
    assert next_measurement(0, 40 * day, max_age) == 47 * day
    assert next_measurement(0, 91 * day, max_age) == STOPPED
    assert not math.isinf(STOPPED)


def test_summary_of_the_collected_month(ws: Workspace) -> None:
    from datetime import UTC, datetime

    server = PaperServer()
    publish_now(ws, server, {"satu": {"program": "vaksinasi"}, "dua": {"program": "vaksinasi"}})
    for post in server.posts.values():
        post["likes"] = 5
    collect_at(ws, server, time.time() + 3700)
    month = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Jakarta"))
    summary = ws.summary(f"{month:%Y-%m}", by="label")
    row = summary.loc["program: vaksinasi"]
    assert row["posts"] == 2
    assert row["likes"] == 10
    assert row["views"] != row["views"], "no platform gave views: NaN"
    with pytest.raises(ConfigurationError, match="period"):
        ws.summary("November")


def test_a_platform_answering_garbage_is_reported_not_raised(ws: Workspace) -> None:
    import httpx

    server = PaperServer()
    publish_now(ws, server, {"satu": {}})
    server.script = [lambda r: httpx.Response(200, text="<html>gateway</html>")]
    done = collect_at(ws, server, time.time() + 3700)
    assert list(done.failed) == ["humas"]
    assert "adapter failed" in done.failed["humas"]
    assert len(ws.metrics_frame("posts")) == 0


def test_the_arrow_and_row_readers_give_the_same_frame(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ADBC installed the frame is read through Arrow; without, row by row: same data."""
    server = PaperServer()
    publish_now(ws, server, {"satu": {"program": "vaksinasi"}, "dua": {"program": "vaksinasi"}})
    for post in server.posts.values():
        post["likes"] = 2
    collect_at(ws, server, time.time() + 3700)
    collect_at(ws, server, time.time() + 3 * 3700)
    first = ws.metrics_frame("posts")
    monkeypatch.setattr(type(ws.store), "post_metric_columns", lambda self: None)
    second = ws.metrics_frame("posts")
    assert len(first) == len(second) == 4
    key = ["post_id", "collected_at"]
    a = first.sort_values(key).reset_index(drop=True)
    b = second.sort_values(key).reset_index(drop=True)
    for column in (
        "platform",
        "account",
        "post_id",
        "url",
        "likes",
        "views",
        "collected_at",
        "published_at",
    ):
        pd.testing.assert_series_equal(a[column].astype(object), b[column].astype(object))
    assert a["labels"].tolist() == b["labels"].tolist()
