"""Exactly once across many workspaces, with real processes and a real server.

Four ``govsocial --db URL worker --all-workspaces`` processes serve three workspaces of one
PostgreSQL registry against mastodon-mock, whose latency fault holds every create open; two
of them are killed with SIGKILL in the middle of the run. Every assertion counts what the
server stored (by unique text) and what each workspace's tables and audit log hold.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from govsocial import Post, Workspace, Workspaces
from govsocial.core.models import Account
from govsocial.plugin.manager import Plugins

pytest.importorskip("govsocial_mastodon")
pytest.importorskip("mastodon_mock")

from govsocial_mastodon.localserver import MastodonMockServer

pytestmark = pytest.mark.slow  # about 30 s: four worker processes against a real server

STATUSES = "/api/v1/statuses"
NAMES = ("kota_a", "kota_b", "kota_c")
POSTS = 30  # per workspace


def _statuses(mastodon: MastodonMockServer, account: Account) -> dict[str, list[str]]:
    """Every status the server holds for ``account``: text -> status ids."""
    found: dict[str, list[str]] = {}
    for status in mastodon.all_statuses(account):
        found.setdefault(mastodon.stored_text(status), []).append(str(status["id"]))
    return found


@pytest.fixture
def registry(postgres_url: str) -> Iterator[str]:
    try:
        yield postgres_url
    finally:
        import psycopg

        home = postgres_url.rsplit("%3D", 1)[1]
        with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as conn:
            for name in NAMES:
                conn.execute(f'DROP SCHEMA IF EXISTS "{home}_{name}" CASCADE')


def test_kill_9_two_of_four_fleet_workers_mid_run(
    registry: str, mastodon: MastodonMockServer, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("GOVSOCIAL_DB",)}
    env["GOVSOCIAL_LOAD_PLUGINS"] = "mastodon"
    plugins = Plugins(only=["mastodon"])
    accounts: dict[str, Account] = {}
    texts: dict[str, list[str]] = {}
    with Workspaces.open(registry) as spaces:
        for index, name in enumerate(NAMES):
            spaces.create(name, institution=f"Kota {index}", by="operator")
    for index, name in enumerate(NAMES):
        account = mastodon.new_account("f" + uuid.uuid4().hex[:12])
        variable = f"MASTODON_TEST_TOKEN_FLEET_{index}"
        env[variable] = account.credential("access_token")
        accounts[name] = account
        texts[name] = [f"fleet {name} {uuid.uuid4().hex[:6]} {i:02d}" for i in range(POSTS)]
        with Workspace.open(registry, workspace=name, plugins=plugins) as ws:
            ws.add_account(
                "humas",
                Account(
                    platform="mastodon",
                    handle=account.handle,
                    base_url=account.base_url,
                    credentials={"access_token": f"env:{variable}"},
                ),
            )
            at = datetime.now(UTC) + timedelta(seconds=2)
            for text in texts[name]:
                ws.schedule(Post(text), ["humas"], at=at)

    mastodon.clear_faults()
    mastodon.inject("latency", method="POST", path=STATUSES, delay=0.4, count=None)
    processes: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for n in range(4):
            log = (tmp_path / f"fleet-{n}.log").open("wb")
            logs.append(log)
            command = [sys.executable, "-m", "govsocial.cli", "--db", registry, "worker"]
            command += ["--all-workspaces", "--until-idle", "--concurrency", "4"]
            command += ["--per-turn", "2", "--lease", "2"]
            processes.append(
                subprocess.Popen(
                    command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
                )
            )

        def published() -> int:
            total = 0
            for name in NAMES:
                with Workspace.open(registry, workspace=name, plugins=plugins) as ws:
                    total += sum(d.status == "published" for d in ws.store.deliveries())
            return total

        def sending() -> int:
            total = 0
            for name in NAMES:
                with Workspace.open(registry, workspace=name, plugins=plugins) as ws:
                    total += sum(d.status == "sending" for d in ws.store.deliveries())
            return total

        deadline = time.monotonic() + 60
        while published() < 20:
            assert time.monotonic() < deadline, "the fleet published nothing"
            time.sleep(0.1)
        cut_off = sending()  # requests held open by the server right now, some by the killed
        for process in processes[:2]:
            os.kill(process.pid, signal.SIGKILL)
            assert process.wait(10) == -signal.SIGKILL
        for process in processes[2:]:
            assert process.wait(120) == 0, (tmp_path / "fleet-2.log").read_text()[-3000:]
    finally:
        mastodon.clear_faults()
        for process in processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(10)
        for log in logs:
            log.close()

    assert cut_off > 0, "nothing was in flight when the workers were killed"
    attempts: Counter[int] = Counter()
    for name in NAMES:
        stored = _statuses(mastodon, accounts[name])
        with Workspace.open(registry, workspace=name, plugins=plugins) as ws:
            jobs = {row.id: Post.model_validate_json(row.post).text for row in ws.store.jobs()}
            rows = ws.store.deliveries()
            assert len(rows) == POSTS
            assert Counter(d.status for d in rows) == Counter({"published": POSTS}), name
            assert set(stored) == set(texts[name]), f"{name}: lost or foreign statuses"
            twice = {t: ids for t, ids in stored.items() if len(ids) > 1}
            assert not twice, f"{name}: published more than once: {twice}"
            for d in rows:
                assert stored[jobs[d.job_id]] == [d.remote_id]
                attempts[d.attempts] += 1
            publishes = [e for e in ws.audit_log() if e.action == "publish"]
            assert len(publishes) == POSTS
            assert ws.verify_audit() > POSTS
    print(f"in flight at the kill: {cut_off}; attempts per delivery: {dict(attempts)}")
