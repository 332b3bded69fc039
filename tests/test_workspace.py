"""The workspace and its worker, on SQLite and PostgreSQL, against the fake platform's server.

Assertions are on what the server stored and on what the database holds.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from fakes import TOKEN, Paper, PaperServer
from govsocial import Post
from govsocial.client import AsyncClient
from govsocial.errors import ConfigurationError, ValidationError
from govsocial.models import Account
from govsocial.plugins import Plugins
from govsocial.worker import Worker
from govsocial.workspace import Workspace


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
        Account(
            platform="paper",
            handle="@humas",
            base_url="https://paper.test",
            credentials={"access_token": "env:PAPER_TOKEN"},
        ),
    )
    return "humas"


def soon(seconds: float = 120) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def run(ws: Workspace, server: PaperServer, clock: Clock, **worker_options: object) -> int:
    async def go() -> int:
        async with AsyncClient(transport=server.transport(), plugins=ws.plugins) as client:
            client.http._sleep = _no_sleep
            worker = Worker(ws, clock=clock, **worker_options)  # type: ignore[arg-type]
            return await worker.run_due(client)

    return asyncio.run(go())


async def _no_sleep(seconds: float) -> None:
    return None


# -- accounts and credentials -------------------------------------------------------------


def test_a_plain_secret_is_refused_without_a_key(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVSOCIAL_SECRET_KEY", raising=False)
    account = Account(
        platform="paper",
        handle="@h",
        base_url="https://paper.test",
        credentials={"access_token": "plain-secret-value"},
    )
    with pytest.raises(ConfigurationError, match="GOVSOCIAL_SECRET_KEY") as caught:
        ws.add_account("h", account)
    assert "env:NAME" in str(caught.value)
    assert ws.accounts() == {}


def test_secrets_are_stored_encrypted_or_as_references(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "a long passphrase for the test workspace")
    path = tmp_path / "ws.db"
    with Workspace.open(path, plugins=plugins) as ws:
        ws.add_account(
            "sealed",
            Account(
                platform="paper",
                handle="@a",
                base_url="https://paper.test",
                credentials={"access_token": "very-secret-token-1"},
            ),
        )
        ws.add_account(
            "ref",
            Account(
                platform="paper",
                handle="@b",
                base_url="https://paper.test",
                credentials={"access_token": "env:SOME_TOKEN"},
            ),
        )
        assert ws.account("sealed").credential("access_token") == "very-secret-token-1"
        assert ws.account("ref").credentials["access_token"].get_secret_value() == "env:SOME_TOKEN"
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"very-secret-token-1" not in raw
    rows = (
        sqlite3.connect(path).execute("SELECT credentials FROM accounts ORDER BY name").fetchall()
    )
    assert '"env": "SOME_TOKEN"' in rows[0][0]
    assert '"sealed"' in rows[1][0]
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "another key")
    with (
        Workspace.open(path, plugins=plugins) as ws,
        pytest.raises(ConfigurationError, match="decrypted"),
    ):
        ws.account("sealed").credential("access_token")


def test_unknown_platform_and_zone_are_refused(ws: Workspace) -> None:
    with pytest.raises(ConfigurationError, match="unknown platform"):
        ws.add_account("x", Account(platform="friendster", handle="@x"))
    with pytest.raises(ConfigurationError):
        ws.add_account(
            "x",
            Account(
                platform="paper",
                handle="@x",
                base_url="https://paper.test",
                timezone="Mars/Olympus",
                credentials={"access_token": "env:T"},
            ),
        )
    assert ws.accounts() == {}


# -- planning: clear errors, nothing half-written --------------------------------------------


def test_naive_time_is_refused_naming_the_zone(ws: Workspace, humas: str) -> None:
    with pytest.raises(ConfigurationError, match="Asia/Jakarta"):
        ws.schedule(Post("halo"), accounts=[humas], at=datetime(2030, 1, 1, 9, 0))
    with pytest.raises(ConfigurationError, match="Asia/Jakarta"):
        ws.schedule(Post("halo"), accounts=[humas], at="2030-01-01T09:00")
    assert ws.jobs() == []


def test_past_time_unknown_account_bad_rule_and_bad_post(ws: Workspace, humas: str) -> None:
    with pytest.raises(ConfigurationError, match="past"):
        ws.schedule(Post("halo"), accounts=[humas], at="2020-01-01T09:00+07:00")
    with pytest.raises(ConfigurationError, match=r"no account named 'nope'.*humas"):
        ws.schedule(Post("halo"), accounts=[humas, "nope"], at=soon())
    with pytest.raises(ConfigurationError):
        ws.schedule(Post("halo"), accounts=[humas], at=soon(), recurrence="FREQ=SOMETIMES")
    with pytest.raises(ValidationError, match="text"):
        ws.schedule(Post("x" * 50), accounts=[humas], at=soon())
    assert ws.jobs() == []


# -- publishing ---------------------------------------------------------------------------------


def test_a_due_post_is_published_once(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("Jadwal vaksinasi"), accounts=[humas], at=soon(60))
    assert job.status == "scheduled"
    assert run(ws, server, clock) == 0  # not due yet
    clock.now += 61
    assert run(ws, server, clock) == 1
    assert run(ws, server, clock) == 0
    [stored] = server.posts.items()
    job = ws.job(job.id)
    assert job.status == "published"
    [delivery] = job.deliveries
    assert delivery.ref is not None and delivery.ref.id == stored[0]
    assert stored[1]["text"] == "Jadwal vaksinasi"
    assert stored[1]["key"] == delivery.idempotency_key
    assert delivery.attempts == 1


def test_cancel_and_reschedule(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    first = ws.schedule(Post("satu"), accounts=[humas], at=soon(60))
    second = ws.schedule(Post("dua"), accounts=[humas], at=soon(60))
    assert ws.cancel(first.id).status == "cancelled"
    moved = ws.reschedule(second.id, at=soon(3600))
    assert moved.deliveries[0].due_at > soon(3000)
    clock.now += 120
    assert run(ws, server, clock) == 0
    clock.now += 3600
    assert run(ws, server, clock) == 1
    assert [p["text"] for p in server.posts.values()] == ["dua"]
    assert [j.status for j in ws.jobs()] == ["cancelled", "published"]
    assert [j.id for j in ws.jobs(status="published")] == [second.id]


def test_a_late_post_is_missed_not_published(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("terlambat"), accounts=[humas], at=soon(60))
    clock.now += 60 + 16 * 60  # past the 15-minute grace
    run(ws, server, clock)
    assert server.requests == []
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "missed"
    assert "grace" in (delivery.error or "")


def test_a_retryable_failure_is_retried_with_the_same_key(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("coba lagi"), accounts=[humas], at=soon(60))
    server.script = [lambda r: httpx.Response(503, json={"error": "maintenance"})] * 4
    clock.now += 61
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "scheduled"
    assert "maintenance" in (delivery.error or "")
    assert delivery.due_at.timestamp() > clock.now
    clock.now += 600
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "published"
    assert len(server.posts) == 1
    assert {r.headers["idempotency-key"] for r in server.requests} == {delivery.idempotency_key}


def test_a_rejected_post_fails_with_the_platform_message(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("ditolak"), accounts=[humas], at=soon(60))
    server.script = [lambda r: httpx.Response(422, json={"error": "Text contains a banned word"})]
    clock.now += 61
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "failed"
    assert "banned word" in (delivery.error or "")
    assert delivery.error_type == "PlatformError"


def test_one_failing_account_does_not_hold_back_the_other(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WRONG_TOKEN", "wrong")
    ws.add_account(
        "rusak",
        Account(
            platform="paper",
            handle="@rusak",
            base_url="https://paper.test",
            credentials={"access_token": "env:WRONG_TOKEN"},
        ),
    )
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("halo"), accounts=[humas, "rusak"], at=soon(60))
    clock.now += 61
    run(ws, server, clock)
    job = ws.job(job.id)
    assert job.status == "partial"
    assert {d.account: d.status for d in job.deliveries} == {
        "humas": "published",
        "rusak": "failed",
    }
    assert len(server.posts) == 1


def test_a_crashed_send_is_resent_only_where_the_key_makes_it_safe(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker died between recording 'sending' and hearing back: reconcile first."""
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("sekali saja"), accounts=[humas], at=soon(60))
    clock.now += 61
    [claimed] = ws.store.claim("dead-worker", clock.now, ws.lease, 10)
    assert ws.store.mark_sending(claimed.id, "dead-worker", clock.now, ws.lease)
    # the dead worker's request did reach the server:
    server.posts["1"] = {"text": "sekali saja", "key": claimed.idempotency_key, "likes": 0}
    server._next = 2
    clock.now += ws.lease + 1
    monkeypatch.setattr(Paper, "idempotency_window", math.inf)
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "published"
    assert delivery.ref is not None and delivery.ref.id == "1"
    assert len(server.posts) == 1, "the resend with the same key made no second post"


def test_a_crashed_send_without_any_safe_way_is_unknown_never_resent(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("entah"), accounts=[humas], at=soon(60))
    clock.now += 61
    [claimed] = ws.store.claim("dead-worker", clock.now, ws.lease, 10)
    assert ws.store.mark_sending(claimed.id, "dead-worker", clock.now, ws.lease)
    clock.now += ws.lease + 1
    monkeypatch.setattr(Paper, "idempotency_window", None)
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "unknown"
    assert server.requests == []
    assert ws.job(job.id).status == "unknown"


def test_a_lost_answer_is_reconciled_not_blindly_resent(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, clock = PaperServer(), Clock()

    def timeout_after_storing(request: httpx.Request) -> httpx.Response:
        server.script = []
        server.handler(request)  # the server stores it...
        raise httpx.ReadTimeout("no answer", request=request)  # ...and the answer is lost

    job = ws.schedule(Post("hilang"), accounts=[humas], at=soon(60))
    server.script = [timeout_after_storing]
    clock.now += 61
    monkeypatch.setattr(Paper, "idempotency_window", math.inf)
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "scheduled"  # safe to repeat with the same key
    clock.now += 600
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "published"
    assert len(server.posts) == 1


def test_a_recurring_job_plans_its_next_occurrence(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    start = soon(60)
    job = ws.schedule(Post("mingguan"), accounts=[humas], at=start, recurrence="FREQ=DAILY;COUNT=2")
    clock.now += 61
    run(ws, server, clock)
    job = ws.job(job.id)
    assert [d.status for d in job.deliveries] == ["published", "scheduled"]
    assert job.deliveries[1].due_at - job.deliveries[0].due_at == timedelta(days=1)
    clock.now += 86400
    run(ws, server, clock)
    job = ws.job(job.id)
    assert [d.status for d in job.deliveries] == ["published", "published"]
    assert len(server.posts) == 2


def test_enqueue_uses_the_next_free_slots(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    ws.add_account(
        "humas",
        Account(
            platform="paper",
            handle="@humas",
            base_url="https://paper.test",
            credentials={"access_token": "env:PAPER_TOKEN"},
        ),
        slots="Mon-Sun 08:00, 16:00",
    )
    first = ws.enqueue(Post("satu"), accounts=["humas"]).deliveries[0].due_at
    second = ws.enqueue(Post("dua"), accounts=["humas"]).deliveries[0].due_at
    assert second > first
    for due in (first, second):
        local = due.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Jakarta"))
        assert (local.hour, local.minute) in {(8, 0), (16, 0)}
    with pytest.raises(ConfigurationError, match="slots"):
        ws.add_account(
            "tanpa",
            Account(
                platform="paper",
                handle="@t",
                base_url="https://paper.test",
                credentials={"access_token": "env:PAPER_TOKEN"},
            ),
        )
        ws.enqueue(Post("x"), accounts=["tanpa"])


def test_reopening_keeps_everything_and_a_newer_schema_is_refused(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws.db"
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    with Workspace.open(path, plugins=plugins) as ws:
        ws.add_account(
            "humas",
            Account(
                platform="paper",
                handle="@humas",
                base_url="https://paper.test",
                credentials={"access_token": "env:PAPER_TOKEN"},
            ),
        )
        job = ws.schedule(Post("halo"), accounts=["humas"], at=soon())
    with Workspace.open(f"sqlite:///{path}", plugins=plugins) as ws:
        assert ws.job(job.id).post.text == "halo"
    sqlite3.connect(path).execute(
        "UPDATE govsocial_meta SET value = '99' WHERE key = 'schema_version'"
    ).connection.commit()
    with pytest.raises(ConfigurationError, match="newer"):
        Workspace.open(path, plugins=plugins)


def test_an_older_workspace_is_upgraded_in_place(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer govsocial adds a migration; opening an existing file applies it, data kept."""
    import govsocial.store as store_module
    from govsocial.store import schema

    path = tmp_path / "ws.db"
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    with Workspace.open(path, plugins=plugins) as ws:
        ws.add_account(
            "humas",
            Account(
                platform="paper",
                handle="@humas",
                base_url="https://paper.test",
                credentials={"access_token": "env:PAPER_TOKEN"},
            ),
        )
        job = ws.schedule(Post("sebelum upgrade"), accounts=["humas"], at=soon())
    upgraded = (*schema.MIGRATIONS, ("ALTER TABLE jobs ADD COLUMN note TEXT",))
    monkeypatch.setattr(store_module, "MIGRATIONS", upgraded)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", len(upgraded))
    with Workspace.open(path, plugins=plugins) as ws:
        assert ws.store.meta("schema_version") == str(len(upgraded))
        assert ws.job(job.id).post.text == "sebelum upgrade"
    columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(jobs)")]
    assert "note" in columns
