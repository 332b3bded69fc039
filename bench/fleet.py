"""Fleet benchmark: a broadcast to 5,000 accounts in 100 workspaces, and fairness.

Two measurements on one PostgreSQL (a fresh home schema and one schema per workspace,
dropped afterwards), printed as Markdown tables on stdout (progress on stderr):

1. **Broadcast**: ``--workspaces`` (100) workspaces of ``--accounts`` (50) Mastodon accounts
   each accept broadcasts from a coordinating workspace automatically; one
   ``ws.broadcast(post, workspaces="all")`` plans a job in each, all due at the same instant
   T0; ``--procs`` (1, 2, 4) ``govsocial worker --all-workspaces --until-idle`` processes
   publish them to the loopback Mastodon server (``bench/_server.py``) answering each create
   after 50 ms. Reported: seconds from T0 to the first and the last create received,
   creates, repeats (a key sent again, answered as Mastodon does), duplicates (posts beyond
   one per account), lost (deliveries whose key never arrived), deliveries not
   ``published`` in the store, whether every workspace's audit chain verifies, and each
   worker's peak memory (``ru_maxrss``). The baseline, in
   the same run: a raw aiohttp loop sending the same creates to the same server. A last
   run (``--kill``, 2) kills that many of 4 workers with SIGKILL once a third of the creates
   arrived; the others take their deliveries over when the leases (``--lease``, 5 s)
   expire, and reconcile those caught in ``sending``: still every create once, none lost.
2. **Fairness**: one workspace holds ``--backlog`` (20,000) deliveries due now; while 2
   workers drain it, ``--probes`` (30) posts are planned due now in another workspace, one
   every 0.5 s. Reported: time from each probe's due time to its create received (p50, p99,
   max), and how much of the backlog went out meanwhile.

Run ``python bench/fleet.py [--quick]``; ``--help`` lists the options.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from publish import BenchError
from scheduler import DEFAULT_PG, LoggingServer, log, pct, pg_available, pg_schema, populate

from govsocial import Account, Post, Workspace, Workspaces
from govsocial.plugin.manager import Plugins

DELAY = 0.05  # the server's answer time, seconds


@dataclass
class Run:
    procs: int
    killed: int
    first: float
    last: float
    creates: int
    repeats: int
    duplicates: int
    lost: int
    unpublished: int
    audit_ok: bool
    rss_mb: list[float]


def setup(url: str, server: LoggingServer, cfg: argparse.Namespace) -> list[str]:
    """The registry: a coordinating workspace and ``cfg.workspaces`` targets of
    ``cfg.accounts`` accounts each, accepting its broadcasts automatically. Returns the
    tokens (``BENCH_TOKEN_<i>`` in the environment)."""
    plugins = Plugins(only=["mastodon"])
    tokens = [secrets.token_urlsafe(18) for _ in range(cfg.workspaces * cfg.accounts + 1)]
    for i, token in enumerate(tokens):
        os.environ[f"BENCH_TOKEN_{i}"] = token
    started = time.perf_counter()
    with Workspaces.open(url) as spaces:
        spaces.create("provinsi", institution="Diskominfo Provinsi", by="bench")
        for w in range(cfg.workspaces):
            spaces.create(f"w{w:03d}", institution=f"OPD {w}", by="bench")
    for w in range(cfg.workspaces):
        with Workspace.open(url, workspace=f"w{w:03d}", plugins=plugins) as ws:
            for a in range(cfg.accounts):
                i = w * cfg.accounts + a
                ws.add_account(
                    f"humas-{a:02d}",
                    Account(
                        platform="mastodon",
                        handle=f"@u{i}@bench",
                        base_url=server.base_url,
                        credentials={"access_token": f"env:BENCH_TOKEN_{i}"},
                    ),
                )
            ws.accept_broadcasts("provinsi", automatic=True)
        if w % 10 == 9:
            log(f"{w + 1} workspaces, {(w + 1) * cfg.accounts} accounts")
    log(f"setup: {time.perf_counter() - started:.1f} s")
    return tokens


def start_workers(
    url: str, n: int, cfg: argparse.Namespace, *, until_idle: bool = True
) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "GOVSOCIAL_LOAD_PLUGINS": "mastodon"}
    command = [sys.executable, "-m", "govsocial.cli", "--db", url, "worker", "--all-workspaces"]
    command += ["--concurrency", str(cfg.concurrency), "--per-turn", str(cfg.per_turn)]
    command += ["--lease", str(cfg.lease)] + (["--until-idle"] if until_idle else [])
    return [
        subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(n)
    ]


def reap(process: subprocess.Popen[bytes], timeout: float) -> float:
    """Wait for ``process``; its peak resident memory in MB."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_maxrss / 1024
        time.sleep(0.05)
    process.kill()
    raise BenchError(f"worker {process.pid} still running after {timeout:.0f} s")


def move_due(url: str, names: list[str], at: float) -> None:
    """Make every scheduled delivery of ``names`` due at ``at`` (as planned at ``at``)."""
    plugins = Plugins(only=["mastodon"])
    for name in names:
        with (
            Workspace.open(url, workspace=name, plugins=plugins) as ws,
            ws.store.transaction() as cur,
        ):
            ws.store.execute(
                cur,
                "UPDATE deliveries SET scheduled_at = ?, due_at = ? WHERE status = 'scheduled'",
                (at, at),
            )


def broadcast(
    url: str,
    server: LoggingServer,
    tokens: list[str],
    procs: int,
    cfg: argparse.Namespace,
    kill: int = 0,
) -> Run:
    plugins = Plugins(only=["mastodon"])
    names = [f"w{w:03d}" for w in range(cfg.workspaces)]
    # "dedupe": a create repeating a key gets the status made the first time, as Mastodon
    # answers within about an hour (a killed worker's deliveries caught in ``sending`` are
    # sent again with their key): counted as repeats, not creates
    server._call(
        "POST",
        "/_bench/reset",
        {"tokens": tokens, "delay": DELAY, "log": True, "dedupe": True},
    )
    with Workspace.open(url, workspace="provinsi", plugins=plugins) as p:
        started = time.perf_counter()
        sent = p.broadcast(
            Post(f"Siaran provinsi, run {procs}"),
            workspaces="all",
            at=datetime.fromtimestamp(time.time() + 3600, UTC),
            by="bench",
        )
        took = time.perf_counter() - started
        log(f"broadcast to {len(sent.targets)} workspaces written in {took:.2f} s")
    workers = start_workers(url, procs, cfg)
    time.sleep(cfg.warmup)  # the workers open every workspace once
    t0 = time.time() + 1.0
    move_due(url, names, t0)
    killed = 0
    if kill:
        deadline = time.time() + 120
        while server.stats()["creates"] < len(tokens) // 3 and time.time() < deadline:
            time.sleep(0.02)
        for w in workers[:kill]:
            os.kill(w.pid, signal.SIGKILL)
            killed += 1
        log(f"killed {kill} workers with SIGKILL at {server.stats()['creates']} creates")
    rss = [reap(w, 600) for w in workers]
    stats = server.stats()
    entries: list[list[Any]] = stats["log"]
    keys = [entry[1] for entry in entries]
    expected: set[str] = set()
    unpublished = 0
    audit_ok = True
    for name in names:
        with Workspace.open(url, workspace=name, plugins=plugins) as ws:
            rows = [d for d in ws.store.deliveries() if d.scheduled_at == t0]
            expected |= {d.idempotency_key for d in rows}
            unpublished += sum(d.status != "published" for d in rows)
            try:
                ws.verify_audit()
            except Exception:  # noqa: BLE001 - reported, not raised
                audit_ok = False
    if len(expected) != cfg.workspaces * cfg.accounts:
        raise BenchError(f"{len(expected)} deliveries planned, not {cfg.workspaces * cfg.accounts}")
    received = [float(t) - t0 for t, key, _ in entries if key in expected]
    return Run(
        procs=procs,
        killed=killed,
        first=min(received) if received else float("nan"),
        last=max(received) if received else float("nan"),
        creates=stats["creates"],
        repeats=stats["repeats"],
        # a second post on one account, under whatever key (each account gets one post)
        duplicates=sum(max(0, count - 1) for count in stats["per_token"]),
        lost=len(expected - set(keys)),
        unpublished=unpublished,
        audit_ok=audit_ok,
        rss_mb=rss,
    )


async def raw_aiohttp(base_url: str, tokens: list[str]) -> float:
    """The same creates by a raw aiohttp loop (100 connections): seconds."""

    async def create(session: aiohttp.ClientSession, token: str) -> None:
        async with session.post(
            f"{base_url}/api/v1/statuses",
            json={"status": "raw"},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            resp.raise_for_status()
            await resp.read()

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
        await asyncio.gather(*(create(session, t) for t in tokens))
    return time.perf_counter() - started


def fairness(
    url: str, server: LoggingServer, tokens: list[str], cfg: argparse.Namespace
) -> dict[str, float]:
    plugins = Plugins(only=["mastodon"])
    backlog_token, probe_token = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    os.environ["BENCH_TOKEN_BACKLOG"] = backlog_token
    os.environ["BENCH_TOKEN_PROBE"] = probe_token
    with Workspaces.open(url) as spaces:
        spaces.create("backlog", institution="Backlog", by="bench")
        spaces.create("probe", institution="Probe", by="bench")
    for name, variable in (("backlog", "BENCH_TOKEN_BACKLOG"), ("probe", "BENCH_TOKEN_PROBE")):
        with Workspace.open(url, workspace=name, plugins=plugins) as ws:
            ws.add_account(
                "humas",
                Account(
                    platform="mastodon",
                    handle=f"@{name}@bench",
                    base_url=server.base_url,
                    credentials={"access_token": f"env:{variable}"},
                ),
            )
    now = time.time()
    with Workspace.open(url, workspace="backlog", plugins=plugins) as ws:
        populate(ws, cfg.backlog, lambda i: now + 3600)
    server._call(
        "POST",
        "/_bench/reset",
        {"tokens": [backlog_token, probe_token], "delay": DELAY, "log": True},
    )
    workers = start_workers(url, 2, cfg, until_idle=False)
    time.sleep(cfg.warmup)
    move_due(url, ["backlog"], time.time())
    deadline = time.time() + 60
    while server.stats()["creates"] < 100 and time.time() < deadline:
        time.sleep(0.1)
    probes: list[str] = []
    with Workspace.open(url, workspace="probe", plugins=plugins) as ws:
        for n in range(cfg.probes):
            job = ws.schedule(Post(f"probe {n}"), ["humas"], at=datetime.now(UTC))
            probes.append(job.id)
            time.sleep(0.5)
        deadline = time.time() + 60
        while time.time() < deadline:
            rows = ws.store.deliveries()
            if all(d.status == "published" for d in rows):
                break
            time.sleep(0.2)
        due = {d.idempotency_key: d.due_at for d in ws.store.deliveries()}
    stats = server.stats()
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        reap(w, 120)
    lags = [float(t) - due[key] for t, key, _ in stats["log"] if key in due]
    if len(lags) != cfg.probes:
        raise BenchError(f"{len(lags)} of {cfg.probes} probes arrived")
    backlog_sent = sum(1 for _, key, _ in stats["log"] if key not in due)
    return {
        "p50": pct(lags, 0.5),
        "p99": pct(lags, 0.99),
        "max": max(lags),
        "backlog_sent": backlog_sent,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=os.environ.get("GOVSOCIAL_BENCH_PG", DEFAULT_PG))
    parser.add_argument("--workspaces", type=int, default=100)
    parser.add_argument("--accounts", type=int, default=50, help="per workspace")
    parser.add_argument("--procs", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=50, help="per worker process")
    parser.add_argument("--per-turn", type=int, default=25, help="the fleet's --per-turn (25)")
    parser.add_argument("--lease", type=float, default=5.0, help="worker lease, seconds (5)")
    parser.add_argument("--kill", type=int, default=2, help="workers killed in the kill run (2)")
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds for workers to start")
    parser.add_argument("--quick", action="store_true", help="10 workspaces of 10, 2,000 backlog")
    parser.add_argument("--skip-fairness", action="store_true")
    cfg = parser.parse_args(argv)
    if cfg.quick:
        cfg.workspaces, cfg.accounts, cfg.backlog, cfg.probes, cfg.procs = 10, 10, 2000, 10, "1,2"
    why = pg_available(cfg.pg)
    if why:
        print(f"bench/fleet.py needs PostgreSQL at {cfg.pg}: {why}", file=sys.stderr)
        return 2
    os.environ["GOVSOCIAL_ENV_ALLOW"] = "BENCH_TOKEN_*"
    load = os.getloadavg()[0]
    server = LoggingServer()
    try:
        with pg_schema(cfg.pg, prefix="gs_fleet") as url:
            tokens = setup(url, server, cfg)[: cfg.workspaces * cfg.accounts]
            server._call("POST", "/_bench/reset", {"tokens": tokens, "delay": DELAY})
            raw = asyncio.run(raw_aiohttp(server.base_url, tokens))
            runs = []
            for procs in [int(p) for p in cfg.procs.split(",")]:
                log(f"broadcast, {procs} worker process(es)")
                runs.append(broadcast(url, server, tokens, procs, cfg))
            if cfg.kill:
                log(f"broadcast, 4 worker processes, {cfg.kill} killed -9 mid-run")
                runs.append(broadcast(url, server, tokens, 4, cfg, kill=cfg.kill))
            fair = None if cfg.skip_fairness else fairness(url, server, tokens, cfg)
    finally:
        server.close()
    total = cfg.workspaces * cfg.accounts
    print(
        f"\n{total:,} accounts in {cfg.workspaces} workspaces, one broadcast due at T0; "
        f"server answers in {DELAY * 1000:.0f} ms; concurrency {cfg.concurrency} per process, "
        f"--per-turn {cfg.per_turn}; "
        f"load {load:.1f} -> {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)\n"
    )
    print(
        "| workers | first create (s after T0) | last create (s after T0) | creates "
        "| repeats (same key) | duplicates | lost | not published | audit chains verify "
        "| peak RSS per worker (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        rss = ", ".join(f"{m:.0f}" for m in r.rss_mb)
        label = f"{r.procs}" + (f", {r.killed} killed -9 mid-run" if r.killed else "")
        print(
            f"| {label} | {r.first:.2f} | {r.last:.2f} | {r.creates:,} | {r.repeats} "
            f"| {r.duplicates} | "
            f"{r.lost} | {r.unpublished} | {'yes' if r.audit_ok else 'NO'} | {rss} |"
        )
    print(f"| raw aiohttp loop (baseline) | | {raw:.2f} | {total:,} | | | | | | |")
    if fair is not None:
        print(
            f"\nFairness: {cfg.backlog:,} due in one workspace, {cfg.probes} posts due now in "
            "another (one every 0.5 s), 2 worker processes\n"
        )
        print("| probe lag p50 (s) | p99 (s) | max (s) | backlog sent meanwhile |")
        print("|---|---|---|---|")
        print(
            f"| {fair['p50']:.2f} | {fair['p99']:.2f} | {fair['max']:.2f} | "
            f"{int(fair['backlog_sent']):,} |"
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
