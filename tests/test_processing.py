"""The ``processing`` state across a real crash, on SQLite and PostgreSQL; and the store's
part on both engines: claimed once when due, held while looked at, never an attempt.

A worker process publishes a TikTok video to the emulator; TikTok holds it in moderation,
so the delivery waits ``processing``. The worker is killed with SIGKILL while it is in the
middle of looking at it (the emulator's status answer is slow, so the dead worker still
holds it); moderation then completes, and a new worker process, once the dead one's lease
has run out, finishes it by reading its status. The emulator ends with one publish (one
init) and one post holding the exact video; the delivery counts one attempt.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from govsocial import Account, Media, Post
from govsocial.app import Workspace
from govsocial.plugin.manager import Plugins
from govsocial.store import DeliveryRow
from govsocial.testing.video import make_video

tiktok_testing = pytest.importorskip("govsocial_tiktok.testing")

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from govsocial.app import Workspace
    from govsocial.client import AsyncClient
    from govsocial.plugin.manager import Plugins
    from govsocial.scheduling.worker import Worker
    from govsocial_tiktok import TikTok

    # a look at a held post every half second instead of every ten minutes
    TikTok.poll_first, TikTok.moderation_wait, TikTok.moderation_retry = 0.01, 0.3, 0.5
    ws = Workspace.open(sys.argv[1], plugins=Plugins(only=["tiktok"]), lease=float(sys.argv[2]))
    worker = Worker(ws, concurrency=4)
    print("worker", worker.owner, flush=True)

    async def main():
        async with AsyncClient(**ws.core.client_options()) as client:
            await worker.run(client, stop=asyncio.Event(), poll=0.1)

    asyncio.run(main())
    """
)

CREDENTIALS = ("access_token", "refresh_token", "client_secret")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "workspace.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


class Child:
    """A worker process and its log; killed by its pid at the end if still running."""

    def __init__(self, script: Path, url: str, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.log: IO[bytes] = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(script), url, "2.0"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def owner(self) -> str:
        def announced() -> bool:
            return any(x.startswith("worker ") for x in self.log_path.read_text().splitlines())

        wait_for(announced, 30.0, "the worker's first line", self)
        line = next(x for x in self.log_path.read_text().splitlines() if x.startswith("worker "))
        return line.split()[1]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()


def wait_for(condition: Callable[[], bool], timeout: float, what: str, child: Child) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if child.process.poll() is not None:
            raise AssertionError(f"the worker exited while waiting for {what}:\n{child.tail()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout:g} s:\n{child.tail()}")
        time.sleep(0.02)


@pytest.fixture
def emulator() -> Iterator[object]:
    with tiktok_testing.local_server() as server:
        yield server


def test_kill_9_while_processing_then_a_new_worker_finishes_it_once(
    emulator: object, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = emulator
    account: Account = server.accounts[0]  # type: ignore[attr-defined]
    env = {k: v for k, v in os.environ.items() if k != "GOVSOCIAL_DB"}
    for name in CREDENTIALS:
        env[f"HUMAS_TIKTOK_{name.upper()}"] = account.credential(name)
        monkeypatch.setenv(f"HUMAS_TIKTOK_{name.upper()}", account.credential(name))
    env["GOVSOCIAL_SECRET_KEY"] = "uji-" + "k" * 40
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", env["GOVSOCIAL_SECRET_KEY"])
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    script = tmp_path / "worker.py"
    script.write_text(CHILD)

    ws = Workspace.open(db_url, plugins=Plugins(only=["tiktok"]))
    children: list[Child] = []
    try:
        ws.add_account(
            "humas",
            Account(
                platform="tiktok",
                handle=account.handle,
                base_url=server.base_url,  # type: ignore[attr-defined]
                credentials={
                    **{n: f"env:HUMAS_TIKTOK_{n.upper()}" for n in CREDENTIALS},
                    "client_key": "aw_client_key",
                },
            ),
        )
        video = make_video(width=360, height=640, seconds=4, fps=30)
        at = datetime.now(UTC) + timedelta(seconds=1)
        job = ws.schedule(Post("Klip layanan", media=[Media(data=video)]), ["humas"], at=at)

        def row() -> DeliveryRow:
            [found] = ws.store.deliveries(job.id)
            return found

        server.hold_moderation = True  # type: ignore[attr-defined]
        first = Child(script, db_url, env, tmp_path / "first.log")
        children.append(first)
        first_owner = first.owner()
        # processing, and between looks held by nobody
        wait_for(
            lambda: row().status == "processing" and row().lease_owner is None,
            60.0,
            "a processing delivery waiting unheld",
            first,
        )
        # the next look takes 4 s: kill the worker while it holds the delivery
        server.status_delay = 4.0  # type: ignore[attr-defined]
        wait_for(
            lambda: row().status == "processing" and row().lease_owner == first_owner,
            30.0,
            "the worker looking at the processing delivery",
            first,
        )
        first.kill()
        caught = row()
        assert caught.status == "processing" and caught.lease_owner == first_owner
        assert caught.attempts == 1
        [publish] = server.publishes_of(account)  # type: ignore[attr-defined]
        assert server.posts_of(account) == []  # type: ignore[attr-defined]

        server.status_delay = 0.0  # type: ignore[attr-defined]
        server.hold_moderation = False  # type: ignore[attr-defined]
        server.moderation_polls = 0  # type: ignore[attr-defined]
        second = Child(script, db_url, env, tmp_path / "second.log")
        children.append(second)
        second_owner = second.owner()
        wait_for(lambda: row().status == "published", 60.0, "the post published", second)
        second.kill()
        done = row()
    finally:
        for child in children:
            child.kill()
        server.status_delay = 0.0  # type: ignore[attr-defined]
        server.hold_moderation = False  # type: ignore[attr-defined]

    try:
        publishes = server.publishes_of(account)  # type: ignore[attr-defined]
        assert [p.publish_id for p in publishes] == [publish.publish_id], "one init"
        [post] = server.posts_of(account)  # type: ignore[attr-defined]
        assert post["video"] == video
        assert done.remote_id == post["id"] and done.attempts == 1
        [entered] = ws.audit_log(action="processing")
        assert entered.detail["worker"] == first_owner
        [published] = ws.audit_log(action="publish")
        assert published.detail["worker"] == second_owner
        assert published.detail["remote_id"] == post["id"]
        ws.verify_audit()
    finally:
        ws.close()


# -- the store's part, on both engines (the ws fixture) ---------------------------------


def _processing(ws: Workspace, humas: str, look_at: float) -> DeliveryRow:
    """A delivery of a new job, sent by worker w1 and left processing until ``look_at``."""
    job = ws.schedule(Post("Klip"), [humas], at=datetime.now(UTC) + timedelta(minutes=5))
    store = ws.store
    [row] = store.deliveries(job.id)
    now = row.due_at
    [claimed] = store.claim("w1", now, 60.0, 10)
    assert claimed.id == row.id
    assert store.mark_sending(row.id, "w1", now, 60.0)
    with store.transaction() as cur:
        assert store.mark_processing(cur, row.id, "w1", look_at, "in moderation", "X", now)
    [waiting] = store.deliveries(job.id)
    return waiting


def test_a_processing_delivery_is_claimed_once_when_due_and_held_while_looked_at(
    ws: Workspace, humas: str
) -> None:
    store = ws.store
    start = datetime.now(UTC).timestamp() + 300
    waiting = _processing(ws, humas, look_at=start + 600)
    assert waiting.status == "processing" and waiting.lease_owner is None
    assert waiting.attempts == 1 and waiting.due_at == waiting.lease_until == start + 600
    assert store.next_due() == start + 600
    assert store.next_due(processing=False) is None  # nothing left to send
    assert store.claim("w2", start + 599, 60.0, 10) == []  # not yet due

    [looked] = store.claim("w2", start + 601, 60.0, 10)
    assert looked.status == "processing" and not looked.reconcile
    [held] = store.deliveries()
    assert held.lease_owner == "w2" and held.due_at == held.lease_until == start + 661
    assert store.claim("w3", start + 602, 60.0, 10) == [], "held while w2 looks"
    assert store.extend_leases("w2", start + 700) == 1
    [held] = store.deliveries()
    assert held.due_at == held.lease_until == start + 700
    assert store.next_due() == start + 700

    # w2 dies while looking: once its lease is over, another worker looks again
    [again] = store.claim("w3", start + 701, 60.0, 10)
    assert again.id == held.id and again.status == "processing"
    assert store.deliveries()[0].attempts == 1, "looking is never an attempt"
    assert store.mark_final(again.id, "w3", "published", None, None, start + 702)
