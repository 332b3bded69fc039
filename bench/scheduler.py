"""Scheduler benchmark: the due query, dispatch lag, and parallel claims.

Three measurements, printed as Markdown tables on stdout (progress on stderr):

1. **Due query** (SQLite, ``--rows`` scheduled deliveries, 100,000 by default): median and
   p99 of ``store.claim`` (nothing due; 50 due; everything due), ``store.next_due()`` and
   ``store.count_due(now)``. Every claim is released again, so the table keeps its size.
   Target: under 10 ms.
2. **Dispatch lag** (SQLite, same table): ``--dispatch`` deliveries (2,000) are moved to due
   times spread evenly over the next ``--spread`` seconds (20); a real
   :class:`govsocial.scheduling.worker.Worker` publishes them to the loopback Mastodon server
   (``bench/_server.py``, answering at once), which logs when each create arrived. Lag is
   receipt time minus due time (and, from the store, ``sending_at`` minus due time).
   Target: p99 under 1 s. The server must see each delivery's idempotency key exactly once.
3. **Parallel claims**: ``--claim-rows`` due deliveries (20,000) among ``--rows`` claimed in
   batches of 50 by 4 processes on PostgreSQL (a fresh schema, dropped afterwards) and by
   2 processes on one SQLite file; each marks its deliveries ``sending`` then
   ``published`` (no HTTP). Reports deliveries per second and verifies that every delivery
   was claimed exactly once (claimed-id lists of all processes; ``attempts = 1`` in the
   store).

Run ``python bench/scheduler.py [--quick]``; see ``--help`` and bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from publish import BenchError, LoopbackServer

from govsocial import Account, AsyncClient, Post
from govsocial.app import Workspace
from govsocial.scheduling.planner import new_delivery
from govsocial.scheduling.worker import Worker
from govsocial.store import DeliveryRow, Store, open_store
from govsocial.workspace import audit

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
DAY = 86_400.0
LEASE = 60.0
INSERT_BATCH = 10_000  # deliveries per insert transaction

JOB_SQL = "INSERT INTO jobs (id, post, recurrence, cancelled, created_at) VALUES (?, ?, ?, ?, ?)"
DELIVERY_FIELDS = (
    "id",
    "job_id",
    "account",
    "occurrence",
    "scheduled_at",
    "due_at",
    "status",
    "idempotency_key",
    "attempts",
    "updated_at",
)
DELIVERY_SQL = (
    f"INSERT INTO deliveries ({', '.join(DELIVERY_FIELDS)}) "
    f"VALUES ({', '.join('?' * len(DELIVERY_FIELDS))})"
)


@dataclass(frozen=True)
class Config:
    """The sizes of one run."""

    rows: int = 100_000
    accounts: int = 50
    calls: int = 200
    dispatch: int = 2_000
    spread: float = 20.0
    claim_rows: int = 20_000
    batch: int = 50
    pg_procs: int = 4
    sqlite_procs: int = 2
    burst: bool = False  # a post's deliveries to every account fall due at the same instant


QUICK = Config(rows=10_000, calls=50, dispatch=300, spread=5.0, claim_rows=2_000)


def log(message: str) -> None:
    """Progress, on stderr."""
    print(f"  {message}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _sql(store: Store, sql: str) -> str:
    return sql.replace("?", store.placeholder)


# --------------------------------------------------------------------------
# Filling a workspace
# --------------------------------------------------------------------------


def add_accounts(ws: Workspace, n: int, base_url: str) -> None:
    """``n`` Mastodon accounts ``bench-NN`` whose tokens are
    ``env:GOVSOCIAL_CRED_BENCH_TOKEN_<i>`` (a name allowed without ``GOVSOCIAL_ENV_ALLOW``)."""
    for i in range(n):
        ws.add_account(
            f"bench-{i:02d}",
            Account(
                platform="mastodon",
                handle=f"@u{i}@bench",
                base_url=base_url,
                credentials={"access_token": f"env:GOVSOCIAL_CRED_BENCH_TOKEN_{i}"},
            ),
        )


def populate(ws: Workspace, rows: int, due: Callable[[int], float]) -> list[str]:
    """``rows`` scheduled deliveries, one job per post to every account; ids in index order.

    Delivery ``i`` is job ``i // accounts`` for account ``i % accounts``, due at ``due(i)``;
    its id and idempotency key come from :func:`govsocial.scheduling.planner.new_delivery`.
    """
    accounts = ws.store.accounts()
    n_acc = len(accounts)
    now = time.time()
    ids: list[str] = []
    for start in range(0, rows, INSERT_BATCH):
        jobs: list[tuple[Any, ...]] = []
        deliveries: list[tuple[Any, ...]] = []
        job_id = ""
        for i in range(start, min(rows, start + INSERT_BATCH)):
            if i % n_acc == 0 or not job_id:
                job_id = secrets.token_hex(16)
                post = Post(f"govsocial scheduler bench, post {i // n_acc}")
                jobs.append((job_id, post.model_dump_json(), None, 0, now))
            d = new_delivery(ws.core, job_id, accounts[i % n_acc], due(i), occurrence=0, now=now)
            deliveries.append(tuple(getattr(d, column) for column in DELIVERY_FIELDS))
            ids.append(d.id)
        with ws.store.transaction() as cur:
            cur.executemany(_sql(ws.store, JOB_SQL), jobs)
            cur.executemany(_sql(ws.store, DELIVERY_SQL), deliveries)
    return ids


def far_future(base: float, rows: int) -> Callable[[int], float]:
    """Due times spread evenly over 30 days, starting a day after ``base``."""
    return lambda i: base + DAY + i * (30 * DAY / rows)


# --------------------------------------------------------------------------
# 1. The due query
# --------------------------------------------------------------------------


@dataclass
class Timing:
    """Milliseconds of one operation over many calls."""

    label: str
    ms: list[float]
    note: str = ""

    def row(self, target: float | None) -> str:
        p50, p99 = statistics.median(self.ms), pct(self.ms, 0.99)
        verdict = "" if target is None else ("met" if p99 < target else "MISSED")
        return (
            f"| {self.label} | {p50:.2f} | {p99:.2f} | {max(self.ms):.2f} | {self.note} "
            f"| {verdict} |"
        )


def due_query(store: Store, cfg: Config, due: Callable[[int], float]) -> list[Timing]:
    """Time claim / next_due / count_due ``cfg.calls`` times each, interleaved."""
    owner = "bench-due-query"
    now = time.time()  # nothing is due yet
    fifty = (due(cfg.batch - 1) + due(cfg.batch)) / 2  # exactly cfg.batch rows due
    everything = due(cfg.rows - 1) + 1.0
    names = {
        "empty": f"claim(limit={cfg.batch}), nothing due",
        "fifty": f"claim(limit={cfg.batch}), {cfg.batch} due (+ release)",
        "all": f"claim(limit={cfg.batch}), all {cfg.rows:,} due (+ release)",
        "next_due": "next_due()",
        "count_none": "count_due(now), 0 due",
        "count_all": f"count_due(now), {cfg.rows:,} due",
    }
    ms: dict[str, list[float]] = {key: [] for key in names}
    expected = {"empty": 0, "fifty": cfg.batch, "all": cfg.batch}

    def timed(key: str, call: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = call()
        ms[key].append((time.perf_counter() - start) * 1000)
        return result

    def claim(at: float) -> Callable[[], list[DeliveryRow]]:
        return lambda: store.claim(owner, at, LEASE, cfg.batch)

    for _ in range(cfg.calls):
        for key, at in (("empty", now), ("fifty", fifty), ("all", everything)):
            got = timed(key, claim(at))
            if len(got) != expected[key]:
                raise BenchError(f"{names[key]}: claimed {len(got)} instead of {expected[key]}")
            if got:
                store.release(owner, at)
        if timed("next_due", store.next_due) != due(0):
            raise BenchError("next_due() is not the earliest due time")
        if timed("count_none", lambda: store.count_due(now)) != 0:
            raise BenchError("count_due(now) found due deliveries")
        if timed("count_all", lambda: store.count_due(everything)) != cfg.rows:
            raise BenchError("count_due(end) did not count every delivery")
    notes = {"fifty": "the 50 earliest; the usual case", "all": "a backlog: worst case"}
    return [Timing(names[k], v, notes.get(k, "")) for k, v in ms.items()]


# --------------------------------------------------------------------------
# 2. Dispatch lag through a real Worker
# --------------------------------------------------------------------------


class LoggingServer(LoopbackServer):
    """The loopback server, logging each create's receipt time and idempotency key."""

    def reset_logging(self, tokens: list[str]) -> None:
        """Zero the counters, accept ``tokens``, answer at once, log every create."""
        self._call("POST", "/_bench/reset", {"tokens": tokens, "delay": 0.0, "log": True})


@dataclass
class Lag:
    """Dispatch lag in seconds, per delivery."""

    received: list[float]  # server receipt - due
    sending: list[float]  # sending_at (recorded before the request) - due
    seconds: float  # wall time of the worker run


async def _run_worker(ws: Workspace, n: int, deadline: float) -> float:
    stop = asyncio.Event()
    async with AsyncClient(plugins=ws.plugins) as client:
        worker = Worker(ws)

        async def watch() -> None:
            while worker.handled < n and time.time() < deadline:
                await asyncio.sleep(0.02)
            stop.set()

        watcher = asyncio.create_task(watch())
        start = time.perf_counter()
        await worker.run(client, stop=stop)
        await watcher
        return time.perf_counter() - start


def dispatch_lag(ws: Workspace, server: LoggingServer, ids: list[str], cfg: Config) -> Lag:
    """Make ``cfg.dispatch`` deliveries due over ``cfg.spread`` s; publish them; measure."""
    tokens = [secrets.token_urlsafe(24) for _ in range(cfg.accounts)]
    for i, token in enumerate(tokens):
        os.environ[f"GOVSOCIAL_CRED_BENCH_TOKEN_{i}"] = token
    server.reset_logging(tokens)
    store = ws.store
    first = time.time() + 1.0
    step = cfg.accounts if cfg.burst else 1  # burst: one due time per post (50 accounts)
    due = {
        ids[i]: first + cfg.spread * (i // step * step) / cfg.dispatch for i in range(cfg.dispatch)
    }
    with store.transaction() as cur:
        cur.executemany(
            _sql(store, "UPDATE deliveries SET scheduled_at = ?, due_at = ? WHERE id = ?"),
            [(t, t, key) for key, t in due.items()],
        )
    seconds = asyncio.run(_run_worker(ws, cfg.dispatch, first + cfg.spread + 60))
    with store.transaction() as cur:
        rows = cur.execute(
            _sql(
                store,
                "SELECT id, idempotency_key, due_at, sending_at, status, attempts "
                "FROM deliveries WHERE due_at < ?",
            ),
            (first + cfg.spread + DAY / 2,),
        ).fetchall()
    stats = server.stats()
    problems = []
    by_key = {row[1]: row for row in rows}
    if set(row[0] for row in rows) != set(due):
        problems.append("the store's near-term deliveries are not the ones moved")
    bad = [row for row in rows if row[4] != "published" or row[5] != 1]
    if bad:
        problems.append(f"{len(bad)} deliveries not published in one attempt ({bad[0][4]})")
    entries: list[list[Any]] = stats["log"]
    keys = [entry[1] for entry in entries]
    if stats["creates"] != cfg.dispatch or len(set(keys)) != len(keys):
        problems.append(f"{stats['creates']} creates, {len(set(keys))} distinct keys")
    if set(keys) != set(by_key):
        problems.append("the server saw idempotency keys the store does not have")
    if stats["bad_auth"] or stats["bad_body"] or stats["not_found"]:
        problems.append("bad requests: " + str({k: stats[k] for k in ("bad_auth", "bad_body")}))
    if problems:
        raise BenchError("dispatch: " + "; ".join(problems))
    received = [float(t) - by_key[key][2] for t, key, _ in entries]
    sending = [row[3] - row[2] for row in rows]
    if min(received) < 0 or min(sending) < 0:
        raise BenchError("a delivery went out before it was due")
    return Lag(received, sending, seconds)


# --------------------------------------------------------------------------
# 3. Parallel claims
# --------------------------------------------------------------------------


def claim_loop(url: str, owner: str, batch: int, barrier: Barrier, out: Queue[Any]) -> None:
    """One claiming process: claim, mark sending, mark published (with the audit entry a
    worker writes in the same transaction), until nothing is due."""
    store = open_store(url)
    claimed: list[str] = []
    claim_ms: list[float] = []
    lost = 0
    barrier.wait()
    start = time.monotonic()
    while True:
        t0 = time.perf_counter()
        rows = store.claim(owner, time.time(), LEASE, batch)
        if not rows:
            break
        claim_ms.append((time.perf_counter() - t0) * 1000)
        for d in rows:
            claimed.append(d.id)
            if not store.mark_sending(d.id, owner, time.time(), LEASE):
                lost += 1
                continue
            with store.transaction() as cur:  # as a Worker does: the id and its audit entry
                store.mark_published(d.id, f"bench-{d.id[:12]}", None, {}, time.time())
                audit.append(
                    store,
                    cur,
                    actor=None,
                    action="publish",
                    obj=d.id,
                    account=d.account,
                    detail={"worker": owner},
                )
    end = time.monotonic()
    store.close()
    out.put((owner, claimed, claim_ms, start, end, lost))


@dataclass
class Claims:
    """What several claiming processes did."""

    engine: str
    procs: int
    due: int
    seconds: float
    claim_ms: list[float]
    per_proc: list[int]
    duplicates: int
    missing: int
    foreign: int
    lost: int
    attempts_not_one: int
    audit_ok: bool

    @property
    def ok(self) -> bool:
        return self.audit_ok and not (
            self.duplicates or self.missing or self.foreign or self.lost or self.attempts_not_one
        )


def parallel_claims(engine: str, url: str, procs: int, cfg: Config) -> Claims:
    """Fill the store at ``url``, let ``procs`` processes drain its due deliveries, check."""
    with Workspace.open(url) as ws:
        add_accounts(ws, cfg.accounts, "http://127.0.0.1:9")
        now = time.time()
        later = far_future(now, cfg.rows)

        def due(i: int) -> float:
            return now - 600 + 590 * i / cfg.claim_rows if i < cfg.claim_rows else later(i)

        due_ids = populate(ws, cfg.rows, due)[: cfg.claim_rows]
        log(f"{engine}: {cfg.rows:,} rows ({cfg.claim_rows:,} due), {procs} processes")
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(procs + 1)
        out: Queue[Any] = ctx.Queue()
        workers = [
            ctx.Process(
                target=claim_loop, args=(url, f"bench-{engine}-{p}", cfg.batch, barrier, out)
            )
            for p in range(procs)
        ]
        for w in workers:
            w.start()
        try:
            barrier.wait(timeout=120)
            results = [out.get(timeout=600) for _ in workers]
        finally:
            for w in workers:
                w.join(timeout=30)
                if w.is_alive():
                    w.terminate()
        with ws.store.transaction() as cur:
            wrong = cur.execute(
                "SELECT COUNT(*) FROM deliveries "
                "WHERE attempts <> CASE WHEN status = 'published' THEN 1 ELSE 0 END"
            ).fetchone()[0]
            published = cur.execute(
                "SELECT COUNT(*) FROM deliveries WHERE status = 'published'"
            ).fetchone()[0]
        audit_ok = audit.verify(ws.store) == len(audit.entries(ws.store, action="publish"))
        audit_ok = audit_ok and len(audit.entries(ws.store, action="publish")) == cfg.claim_rows
    claimed = [key for r in results for key in r[1]]
    expected = set(due_ids)
    return Claims(
        engine=engine,
        procs=procs,
        due=cfg.claim_rows,
        seconds=max(r[4] for r in results) - min(r[3] for r in results),
        claim_ms=[ms for r in results for ms in r[2]],
        per_proc=[len(r[1]) for r in results],
        duplicates=len(claimed) - len(set(claimed)),
        missing=len(expected - set(claimed)),
        foreign=len(set(claimed) - expected),
        lost=sum(r[5] for r in results),
        attempts_not_one=int(wrong) + abs(int(published) - cfg.claim_rows),
        audit_ok=audit_ok,
    )


def pg_available(base: str) -> str | None:
    """None when PostgreSQL at ``base`` answers, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(base, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"cannot connect: {str(exc).strip().splitlines()[0]}"
    return None


@contextmanager
def pg_schema(base: str, prefix: str = "govsocial_bench") -> Iterator[str]:
    """A fresh schema on ``base``; yields a URL whose search_path is it. Dropped afterwards,
    with every workspace schema a registry made under it (``<schema>_<name>``)."""
    import psycopg
    from psycopg import sql

    schema = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = %s OR nspname LIKE %s",
                (schema, schema + "\\_%"),
            ).fetchall()
            for (name,) in rows:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def pg_version(base: str) -> str:
    import psycopg

    with psycopg.connect(base) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def report(
    cfg: Config, timings: list[Timing], lag: Lag | None, claims: list[Claims], skipped: str
) -> str:
    lines = [
        f"### Due query: SQLite, {cfg.rows:,} scheduled deliveries, {cfg.calls} calls each",
        "",
        "| operation | median ms | p99 ms | max ms | note | p99 < 10 ms |",
        "|---|---:|---:|---:|---|---|",
        *(t.row(10.0) for t in timings),
    ]
    if lag is not None:
        lines += [
            "",
            f"### Dispatch lag: {cfg.dispatch:,} deliveries due over {cfg.spread:.0f} s "
            + (f"({cfg.accounts} at a time) " if cfg.burst else "(one at a time) ")
            + f"among {cfg.rows:,} (SQLite, one Worker, loopback server answering at once)",
            "",
            "| lag | p50 ms | p99 ms | max ms | p99 < 1 s |",
            "|---|---:|---:|---:|---|",
        ]
        for label, values in (
            ("due -> server received the create", lag.received),
            ("due -> marked `sending` (before the request)", lag.sending),
        ):
            p99 = pct(values, 0.99)
            lines.append(
                f"| {label} | {statistics.median(values) * 1000:.1f} | {p99 * 1000:.1f} "
                f"| {max(values) * 1000:.1f} | {'met' if p99 < 1 else 'MISSED'} |"
            )
        lines.append(
            f"\nWorker run: {lag.seconds:.1f} s; every delivery published in one attempt, "
            "each idempotency key seen once by the server."
        )
    if claims or skipped:
        lines += [
            "",
            f"### Parallel claims: {cfg.claim_rows:,} due deliveries among {cfg.rows:,}, "
            f"batches of {cfg.batch}, claim + mark_sending + mark_published with its "
            "hash-chained audit entry, each",
            "",
            "| engine | processes | seconds | deliveries/s | claim p50 ms | claim p99 ms "
            "| per process | double claims | missing | attempts != 1 | audit chain |",
            "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
        ]
        for c in claims:
            lines.append(
                f"| {c.engine} | {c.procs} | {c.seconds:.2f} | {c.due / c.seconds:,.0f} "
                f"| {statistics.median(c.claim_ms):.2f} | {pct(c.claim_ms, 0.99):.2f} "
                f"| {'/'.join(map(str, c.per_proc))} | {c.duplicates} | {c.missing} "
                f"| {c.attempts_not_one} | {'verifies' if c.audit_ok else 'BROKEN'} |"
            )
        if skipped:
            lines.append(f"\nPostgreSQL skipped: {skipped}.")
    return "\n".join(lines)


def environment(pg: str | None) -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"
        + (f", PostgreSQL {pg}" if pg else "")
        + f"; {os.cpu_count()} CPUs, load average {load}."
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description="govsocial scheduler benchmark (see bench/README.md)"
    )
    parser.add_argument("--quick", action="store_true", help="a ~30 s smoke run (10,000 rows)")
    parser.add_argument("--rows", type=int, help="deliveries in the table (default 100,000)")
    parser.add_argument("--calls", type=int, help="calls per due-query operation (default 200)")
    parser.add_argument("--dispatch", type=int, help="deliveries the worker sends (2,000)")
    parser.add_argument("--spread", type=float, help="seconds their due times span (20)")
    parser.add_argument("--claim-rows", type=int, help="due deliveries to claim (20,000)")
    parser.add_argument(
        "--burst",
        action="store_true",
        help="dispatch: each post's deliveries (one per account) fall due at the same instant",
    )
    parser.add_argument("--pg", default=DEFAULT_PG, help=f"PostgreSQL URL (default {DEFAULT_PG})")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--dir", help="where the SQLite files go (default: a temporary folder)")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else Config()
    overrides = {
        k: v
        for k, v in {
            "rows": args.rows,
            "calls": args.calls,
            "dispatch": args.dispatch,
            "spread": args.spread,
            "claim_rows": args.claim_rows,
            "burst": args.burst or None,
        }.items()
        if v is not None
    }
    cfg = replace(cfg, **overrides)
    if cfg.dispatch > cfg.rows or cfg.claim_rows > cfg.rows or cfg.rows < 2 * cfg.batch:
        parser.error("--dispatch and --claim-rows must not exceed --rows")

    skipped = "--no-pg" if args.no_pg else (pg_available(args.pg) or "")
    pg = None if skipped else pg_version(args.pg)
    env_before = environment(pg)
    folder = Path(args.dir or tempfile.mkdtemp(prefix="govsocial-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    server = LoggingServer()
    claims: list[Claims] = []
    try:
        with Workspace.open(folder / "scheduler.db") as ws:
            add_accounts(ws, cfg.accounts, server.base_url)
            due = far_future(time.time(), cfg.rows)
            start = time.perf_counter()
            ids = populate(ws, cfg.rows, due)
            log(f"SQLite: {cfg.rows:,} deliveries inserted in {time.perf_counter() - start:.1f} s")
            timings = due_query(ws.store, cfg, due)
            log("due query measured; running the worker")
            lag = dispatch_lag(ws, server, ids, cfg)
        log("dispatch lag measured")
        if not skipped:
            with pg_schema(args.pg) as url:
                claims.append(parallel_claims("PostgreSQL", url, cfg.pg_procs, cfg))
        claims.append(parallel_claims("SQLite", str(folder / "claims.db"), cfg.sqlite_procs, cfg))
    finally:
        server.close()
        if not args.dir:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"Before: {env_before}\nAfter:  {environment(pg)}\n")
    print(report(cfg, timings, lag, claims, skipped if skipped != "--no-pg" else ""))
    failed = [c for c in claims if not c.ok]
    if failed:
        engines = ", ".join(c.engine for c in failed)
        print(f"\nDOUBLE OR MISSED CLAIMS on {engines}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
