"""Exactly once, with real processes and a real server (issue 3).

Workers run as ``govsocial --db URL worker`` subprocesses against mastodon-mock; they are
killed with SIGKILL while requests are held open by the mock's latency fault, run four (on
PostgreSQL) or two (on one SQLite file) at once over 1,000 deliveries, and stopped with
SIGTERM. Every assertion counts what the server stored (by unique text) and reads what the
database holds, never what a worker says it did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from govsocial import Post
from govsocial.app import Workspace
from govsocial.core.models import Account
from govsocial.plugin.manager import Plugins
from govsocial.store import DeliveryRow

pytest.importorskip("govsocial_mastodon")
pytest.importorskip("mastodon_mock")

from govsocial_mastodon.localserver import MastodonMockServer

pytestmark = pytest.mark.slow  # about 100 s: 22 worker processes against a real server

TOKEN_VARS = ("MASTODON_TEST_TOKEN", "MASTODON_TEST_TOKEN_2")
STATUSES = "/api/v1/statuses"


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "workspace.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def faults(mastodon: MastodonMockServer) -> Iterator[MastodonMockServer]:
    """The server, its fault rules cleared after the test."""
    try:
        yield mastodon
    finally:
        mastodon.clear_faults()


@dataclass
class Worker:
    """One ``govsocial worker`` subprocess and its log file."""

    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def owner(self, timeout: float = 20.0) -> str:
        """The lease owner the worker announces on its first line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_text().splitlines():
                if line.startswith("worker ") and " on <Workspace" in line:
                    return line.split()[1]
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"worker {self.pid} did not announce itself:\n{self.tail()}")

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"worker {self.pid} still running after {timeout:g} s:\n{self.tail()}"
            ) from None

    def tail(self) -> str:
        return self.log_text()[-3000:]


@dataclass
class Workers:
    """Starts workers; whatever is still running at the end is killed (by its pid)."""

    directory: Path
    env: dict[str, str]
    started: list[Worker] = field(default_factory=list)

    def start(self, url: str, *, concurrency: int, lease: float) -> Worker:
        log_path = self.directory / f"worker-{len(self.started)}.log"
        log = log_path.open("wb")
        command = [sys.executable, "-m", "govsocial.cli", "--db", url, "worker"]
        command += ["--until-idle", "--concurrency", str(concurrency), "--lease", str(lease)]
        process = subprocess.Popen(
            command, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        worker = Worker(process, log_path, log)
        self.started.append(worker)
        return worker

    def close(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                os.kill(worker.pid, signal.SIGKILL)
            worker.process.wait(timeout=10)
            worker.log.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    env = {k: v for k, v in os.environ.items() if k not in ("GOVSOCIAL_DB", *TOKEN_VARS)}
    env["GOVSOCIAL_LOAD_PLUGINS"] = "mastodon"
    started = Workers(tmp_path, env)
    try:
        yield started
    finally:
        started.close()


@dataclass
class Setup:
    """A workspace with fresh mock accounts stored as ``env:`` references."""

    ws: Workspace
    accounts: dict[str, Account]  # workspace name -> the mock account (real token)


@contextmanager
def _setup(
    url: str, mastodon: MastodonMockServer, workers: Workers, count: int = 1
) -> Iterator[Setup]:
    ws = Workspace.open(url, plugins=Plugins(only=["mastodon"]))
    accounts: dict[str, Account] = {}
    try:
        for index in range(count):
            account = mastodon.new_account("t" + uuid.uuid4().hex[:12])
            name = f"humas-{index}"
            ws.add_account(
                name,
                Account(
                    platform="mastodon",
                    handle=account.handle,
                    base_url=account.base_url,
                    credentials={"access_token": f"env:{TOKEN_VARS[index]}"},
                ),
            )
            workers.env[TOKEN_VARS[index]] = account.credential("access_token")
            accounts[name] = account
        yield Setup(ws, accounts)
    finally:
        ws.close()


@pytest.fixture
def one(db_url: str, faults: MastodonMockServer, workers: Workers) -> Iterator[Setup]:
    with _setup(db_url, faults, workers) as setup:
        yield setup


# -- reading the server and the database ---------------------------------------------------


def server_texts(mastodon: MastodonMockServer, account: Account) -> dict[str, list[str]]:
    """Every status the server holds for ``account``: text -> status ids (all pages)."""
    found: dict[str, list[str]] = {}
    for status in server_statuses(mastodon, account):
        found.setdefault(mastodon.stored_text(status), []).append(str(status["id"]))
    return found


def server_created(mastodon: MastodonMockServer, account: Account) -> dict[str, float]:
    """When the server created each of ``account``'s statuses (epoch seconds), by text."""
    return {
        mastodon.stored_text(status): datetime.fromisoformat(status["created_at"]).timestamp()
        for status in server_statuses(mastodon, account)
    }


def server_statuses(mastodon: MastodonMockServer, account: Account) -> list[dict[str, Any]]:
    """Every status the server holds for ``account``, newest first (all pages)."""
    return mastodon.all_statuses(account)


def db_deliveries(ws: Workspace) -> list[tuple[str, DeliveryRow]]:
    """(post text, delivery row) for every delivery in the workspace."""
    texts = {row.id: Post.model_validate_json(row.post).text for row in ws.store.jobs()}
    return [(texts[d.job_id], d) for d in ws.store.deliveries()]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, worker: Worker) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if worker.process.poll() is not None:
            raise AssertionError(f"worker exited while waiting for {what}:\n{worker.tail()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout:g} s:\n{worker.tail()}")
        time.sleep(0.05)


def schedule(setup: Setup, texts: list[str], *, ahead: Callable[[int], float]) -> None:
    """One job per text for every account, due ``ahead(i)`` seconds after it is planned."""
    names = list(setup.accounts)
    for index, text in enumerate(texts):
        at = datetime.now(UTC) + timedelta(seconds=ahead(index))
        setup.ws.schedule(Post(text=text), accounts=names, at=at)


def assert_exactly_once(
    setup: Setup, mastodon: MastodonMockServer, texts: list[str]
) -> list[tuple[str, DeliveryRow]]:
    """Each published delivery's text is on its account exactly once, under the id the
    database recorded, and the server holds nothing else. Returns the deliveries."""
    rows = db_deliveries(setup.ws)
    assert len(rows) == len(texts) * len(setup.accounts)
    for name, account in setup.accounts.items():
        stored = server_texts(mastodon, account)
        mine = {text: d for text, d in rows if d.account == name}
        assert set(mine) == set(texts)
        extra = set(stored) - set(texts)
        assert not extra, f"the server holds statuses nobody planned: {sorted(extra)[:5]}"
        twice = {text: ids for text, ids in stored.items() if len(ids) > 1}
        assert not twice, f"{len(twice)} posts published more than once on {name}: {twice}"
        for text, d in mine.items():
            if d.status == "published":
                assert stored.get(text) == [d.remote_id], (text, d)
    return rows


# -- 0. the premise: the server deduplicates repeats, even in flight -----------------------


def test_the_server_deduplicates_repeats_held_in_flight(faults: MastodonMockServer) -> None:
    """Five creates with one Idempotency-Key, all held open at once: one status."""
    account = faults.new_account("t" + uuid.uuid4().hex[:12])
    faults.inject("latency", method="POST", path=STATUSES, delay=1.0, count=None)
    headers = {
        "Authorization": f"Bearer {account.credential('access_token')}",
        "Idempotency-Key": uuid.uuid4().hex,
    }

    def create(_: int) -> str:
        with httpx.Client(base_url=faults.base_url, timeout=30.0) as http:
            response = http.post(STATUSES, json={"status": "only once"}, headers=headers)
            response.raise_for_status()
            return str(response.json()["id"])

    with ThreadPoolExecutor(5) as pool:
        ids = set(pool.map(create, range(5)))
    assert len(ids) == 1
    assert server_texts(faults, account) == {"only once": list(ids)}


# -- 1. kill -9 while sending, repeatedly --------------------------------------------------


#: How long the server holds the requests of the worker that is frozen (SIGSTOP): long enough
#: for its leases to expire and a second worker to start and resend while they are held, on a
#: loaded two-core CI machine too (5 s was not: the server answered before the resend came).
FREEZE_LATENCY = 12.0


def _sending(ws: Workspace, owner: str) -> list[DeliveryRow]:
    return [d for d in ws.store.deliveries() if d.status == "sending" and d.lease_owner == owner]


def _start_sending(
    one: Setup,
    faults: MastodonMockServer,
    workers: Workers,
    url: str,
    latency: float,
    lease: float = 2.0,
) -> tuple[Worker, str]:
    """A worker with its first requests held open ``latency`` s by the server."""
    faults.clear_faults()
    faults.inject("latency", method="POST", path=STATUSES, delay=latency, count=None)
    worker = workers.start(url, concurrency=4, lease=lease)
    owner = worker.owner()
    wait_for(lambda: bool(_sending(one.ws, owner)), 30.0, "a delivery in sending", worker)
    return worker, owner


def _kill(worker: Worker) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(10) == -signal.SIGKILL


def test_kill_9_while_sending_then_restart(
    one: Setup, faults: MastodonMockServer, workers: Workers, db_url: str
) -> None:
    texts = [f"kill test {uuid.uuid4().hex[:8]} post {i:02d}" for i in range(40)]
    schedule(one, texts, ahead=lambda i: 2.0)
    cut_off = 0  # deliveries left in sending by a killed worker

    # Killed before any answer (the server drops the held requests), then after some.
    for latency, after in [(1.5, 0.1), (2.0, 2.4)]:
        worker, owner = _start_sending(one, faults, workers, db_url, latency)
        time.sleep(after)
        _kill(worker)
        cut_off += len(_sending(one.ws, owner))

    # Frozen with requests in flight: the server creates those statuses, but the answers are
    # never read. Once its leases expire a second worker resends them with the same
    # Idempotency-Key while the first requests are still held open by the server.
    frozen, frozen_owner = _start_sending(one, faults, workers, db_url, FREEZE_LATENCY, 1.0)
    time.sleep(0.5)
    frozen.process.send_signal(signal.SIGSTOP)
    held = {d.id: d for d in _sending(one.ws, frozen_owner)}

    def expired() -> bool:
        rows = [d for d in one.ws.store.deliveries() if d.id in held]
        return all(d.lease_until is not None and d.lease_until < time.time() for d in rows)

    wait_for(expired, 10.0, "the frozen worker's leases to expire", frozen)
    second = workers.start(db_url, concurrency=20, lease=2.0)  # takes them all at once
    second_owner = second.owner()

    seen: list[str] = []

    def republished() -> bool:
        rows = [d for d in one.ws.store.deliveries() if d.id in held]
        seen[:] = [f"{d.status}: {d.error}" for d in rows if d.status != "published"]
        return all(d.status == "published" for d in rows)

    try:
        wait_for(republished, 60.0, "the frozen worker's deliveries published again", second)
    except AssertionError as missing:
        raise AssertionError(f"{missing}\nnot yet published: {Counter(seen)}") from None
    _kill(frozen)
    _kill(second)
    cut_off += len(held) + len(_sending(one.ws, second_owner))

    # Killed after several answers.
    worker, owner = _start_sending(one, faults, workers, db_url, latency=2.5)
    time.sleep(3.2)
    _kill(worker)
    cut_off += len(_sending(one.ws, owner))
    assert cut_off > 0, "no worker died with a request in flight"

    faults.clear_faults()
    final = workers.start(db_url, concurrency=4, lease=2.0)
    assert final.wait(90) == 0, final.tail()

    rows = assert_exactly_once(one, faults, texts)
    states = Counter(d.status for _, d in rows)
    assert set(states) <= {"published", "unknown"}, states
    for text, d in rows:
        if d.status == "unknown":  # reported for a human, never resent
            stored = server_texts(faults, one.accounts[d.account]).get(text, [])
            print(f"unknown: {text!r} on the server {len(stored)} time(s): {d.error}")
            assert len(stored) <= 1
    # The scenarios happened: deliveries were sent again after kills, and the frozen
    # worker's were sent again while its requests were held, then answered by the server
    # with the status those first requests created (deduplicated by Idempotency-Key).
    print(f"cut off in sending: {cut_off}; attempts: {Counter(d.attempts for _, d in rows)}")
    assert any(d.attempts > 1 for _, d in rows), "no delivery was ever sent again after a kill"
    created = server_created(faults, one.accounts["humas-0"])
    for text, d in rows:
        if d.id in held:
            assert d.status == "published"
            first = held[d.id].sending_at
            assert d.sending_at is not None and first is not None and d.sending_at > first
            assert d.sending_at < created[text] < d.sending_at + FREEZE_LATENCY - 1.0, (text, d)


# -- 2. several workers, 1,000 deliveries ------------------------------------------------------


@pytest.mark.parametrize(("engine", "count"), [("postgresql", 4), ("sqlite", 2)])
def test_several_workers_publish_each_delivery_once(
    engine: str,
    count: int,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    faults: MastodonMockServer,
    workers: Workers,
) -> None:
    url = (
        request.getfixturevalue("postgres_url")
        if engine == "postgresql"
        else str(tmp_path / "shared.db")
    )
    with _setup(url, faults, workers, count=2) as setup:
        texts = [f"crowd {uuid.uuid4().hex[:8]} post {i:03d}" for i in range(500)]
        planned = time.monotonic()
        schedule(setup, texts, ahead=lambda i: 2.0)
        started = time.monotonic()
        crowd = [workers.start(url, concurrency=16 // count, lease=30.0) for _ in range(count)]
        for worker in crowd:
            assert worker.wait(240) == 0, worker.tail()
        finished = time.monotonic()
        print(
            f"{engine}: planned 500 jobs x 2 accounts in {started - planned:.1f} s; "
            f"{count} workers published 1,000 deliveries in {finished - started:.1f} s"
        )
        rows = assert_exactly_once(setup, faults, texts)
        assert Counter(d.status for _, d in rows) == {"published": 1000}
        double = [d for _, d in rows if d.attempts != 1]
        assert not double, f"{len(double)} deliveries sent more than once: {double[:3]}"
        claims = [_claims(worker) for worker in crowd]
        print(f"{engine}: deliveries claimed by each worker: {claims}")
        assert sum(claims) == 1000, "a delivery was claimed twice"
        assert all(claims), "a worker found nothing to do"


def _claims(worker: Worker) -> int:
    """How many deliveries the worker says it claimed (its last line)."""
    for line in reversed(worker.log_text().splitlines()):
        if line.startswith("worker stopped after "):
            return int(line.split()[3])
    return 0


# -- 3. a clean stop ----------------------------------------------------------------------


def test_sigterm_finishes_or_releases_then_the_next_worker_goes_on(
    one: Setup, faults: MastodonMockServer, workers: Workers, db_url: str
) -> None:
    texts = [f"stop test {uuid.uuid4().hex[:8]} post {i:02d}" for i in range(20)]
    schedule(one, texts, ahead=lambda i: 1.0 + 0.5 * i)  # due over the next ~10 s
    faults.inject("latency", method="POST", path=STATUSES, delay=1.0, count=None)
    worker = workers.start(db_url, concurrency=4, lease=60.0)
    owner = worker.owner()

    def published() -> int:
        return sum(d.status == "published" for d in one.ws.store.deliveries())

    wait_for(lambda: published() >= 3, 30.0, "three published deliveries", worker)
    before = published()
    worker.process.send_signal(signal.SIGTERM)
    assert worker.wait(60) == 0, worker.tail()
    # it finished what it had in flight and started nothing new, rather than working through
    # the 20 due over the next seconds: at most twice its concurrency (4) more, those in
    # flight when counted and those it started before the signal arrived
    after = published()
    assert after <= before + 8, f"{after - before} published after SIGTERM; concurrency is 4"

    rows = db_deliveries(one.ws)
    held = [d for _, d in rows if d.lease_owner == owner or d.status in ("claimed", "sending")]
    assert not held, f"left behind after SIGTERM: {held}"
    states = Counter(d.status for _, d in rows)
    assert set(states) == {"published", "scheduled"}, states
    done_first = states["published"]
    assert all(d.lease_owner is None for _, d in rows)
    assert_exactly_once(one, faults, texts)

    faults.clear_faults()
    following = workers.start(db_url, concurrency=4, lease=60.0)
    assert following.wait(60) == 0, following.tail()
    rows = assert_exactly_once(one, faults, texts)
    assert Counter(d.status for _, d in rows) == {"published": 20}
    assert all(d.attempts == 1 for _, d in rows), [d for _, d in rows if d.attempts != 1]
    assert 3 <= done_first < 20


# -- 4. a burst: four workers, two killed -9 in the middle (issue 17) ----------------------------


def test_four_workers_two_killed_mid_burst_publish_each_delivery_once(
    postgres_url: str, faults: MastodonMockServer, workers: Workers
) -> None:
    """One post per text for 24 accounts, every delivery due at the same instant, four
    workers claiming and checking in batches; two are killed with SIGKILL while their
    batches are marked ``sending`` and their requests are held open by the server. The
    other two take the dead workers' deliveries over once the leases expire, and the
    server ends up holding every post exactly once."""
    ws = Workspace.open(postgres_url, plugins=Plugins(only=["mastodon"]))
    accounts: dict[str, Account] = {}
    try:
        for index in range(24):
            account = faults.new_account("b" + uuid.uuid4().hex[:12])
            variable = f"GOVSOCIAL_CRED_BURST_{index}"
            ws.add_account(
                f"burst-{index:02d}",
                Account(
                    platform="mastodon",
                    handle=account.handle,
                    base_url=account.base_url,
                    credentials={"access_token": f"env:{variable}"},
                ),
            )
            workers.env[variable] = account.credential("access_token")
            accounts[f"burst-{index:02d}"] = account
        setup = Setup(ws, accounts)
        texts = [f"burst {uuid.uuid4().hex[:8]} post {i}" for i in range(10)]
        at = datetime.now(UTC) + timedelta(seconds=4)
        for text in texts:
            ws.schedule(Post(text=text), accounts=list(accounts), at=at)
        faults.inject("latency", method="POST", path=STATUSES, delay=0.4, count=None)
        # 32 requests in flight at most: mastodon-mock stops answering (every request times
        # out) somewhere above 40 at once, its thread pool's size
        crowd = [workers.start(postgres_url, concurrency=8, lease=3.0) for _ in range(4)]
        owners = [worker.owner() for worker in crowd]

        def published() -> int:
            return sum(d.status == "published" for d in ws.store.deliveries())

        wait_for(lambda: published() >= 40, 60.0, "40 published deliveries", crowd[0])
        cut_off = 0
        for worker in crowd[:2]:
            os.kill(worker.pid, signal.SIGKILL)  # the two at once, mid-burst
        for worker, owner in zip(crowd[:2], owners[:2], strict=True):
            assert worker.wait(10) == -signal.SIGKILL
            cut_off += len(_sending(ws, owner)) + sum(
                d.lease_owner == owner and d.status == "claimed" for d in ws.store.deliveries()
            )
        assert 0 < published() < len(texts) * len(accounts), "the kill was not mid-burst"
        assert cut_off > 0, "the killed workers held no deliveries"
        for worker in crowd[2:]:
            assert worker.wait(180) == 0, worker.tail()

        rows = assert_exactly_once(setup, faults, texts)  # no duplicate on the server
        assert Counter(d.status for _, d in rows) == {"published": len(rows)}  # none lost
        print(f"burst: {len(rows)} deliveries, {cut_off} held by the killed workers")
        assert ws.verify_audit() == len(ws.audit_log())  # raises AuditTampered if broken
        logged = {e.object for e in ws.audit_log() if e.action == "publish"}
        assert {d.id for _, d in rows} <= logged
    finally:
        ws.close()
