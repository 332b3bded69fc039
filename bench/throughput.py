"""Throughput benchmark: one post due for thousands of accounts at the same instant.

The measurement of issue 17, as a new user would run it: ``--accounts`` Mastodon accounts
(5,000 by default) added with ``Workspace.add_account`` to one PostgreSQL workspace (their
tokens sealed under a fresh ``GOVSOCIAL_SECRET_KEY``), one post scheduled for all of them
with ``Workspace.schedule`` at one due time, and ``govsocial worker --until-idle``
processes (1, 2 and 4 by default) started before it falls due, publishing to the loopback
Mastodon server (``bench/_server.py``) answering every API call after ``--delay`` seconds
(50 ms), logging when each create arrived and deduplicating repeats of an
``Idempotency-Key`` as Mastodon does.

Reported per run: seconds from the due time to the last create received (and the median),
creates received, statuses made twice (a token with more than one), deliveries lost (not
``published``, or ``published`` without the server holding the status), deliveries that
took more than one attempt, instance requests (limits are cached per server), the audit
chain verified, and each worker's peak resident memory (``VmHWM``) and deliveries handled.

The baseline, in the same run against the same server and tokens: a raw aiohttp loop
sending the same creates with as many connections as the workers have deliveries in
flight (processes x ``--concurrency``), and with aiohttp's default of 100.

``--kill K`` adds a run where K of the 4 workers are killed with SIGKILL once a third of
the creates arrived; the others take their deliveries over when the leases expire
(``--lease``, 5 s here) and reconcile those caught in ``sending``. It must still end with
every delivery published once: zero duplicates, zero lost.

Run ``python bench/throughput.py`` (about 3 minutes) or ``--quick`` (500 accounts);
see ``--help``. Progress goes to stderr, Markdown tables to stdout; figures are in
docs/performance.md. The exit status is 1 when a run duplicated or lost a post.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from publish import BenchError, LoopbackServer
from scheduler import DEFAULT_PG, _sql, environment, log, pg_available, pg_schema, pg_version

from govsocial import Account, Post
from govsocial.app import Workspace
from govsocial.plugin.manager import Plugins
from govsocial.workspace import audit
from govsocial.workspace.credentials import new_key


class Server(LoopbackServer):
    """The loopback server, answering after ``delay``, logging and deduplicating creates."""

    def start_run(self, tokens: list[str], delay: float) -> None:
        self._call(
            "POST",
            "/_bench/reset",
            {"tokens": tokens, "delay": delay, "log": True, "dedupe": True},
        )


@dataclass
class Run:
    """What one run of the workers (or of the raw loop) did."""

    label: str
    procs: int
    concurrency: int
    due: float
    received: list[float]  # receipt times of the first create of each status
    creates: int
    repeats: int = 0
    instance: int = 0
    duplicates: int = 0
    lost: int = 0
    retried: int = 0
    audit_ok: bool = True
    killed: int = 0
    rss_mb: list[float] = field(default_factory=list)
    handled: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def last(self) -> float:
        return max(self.received) - self.due if self.received else float("nan")

    @property
    def median(self) -> float:
        return statistics.median(self.received) - self.due if self.received else float("nan")

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.lost or self.problems) and self.audit_ok


# --------------------------------------------------------------------------
# The raw baseline
# --------------------------------------------------------------------------


async def _raw(base_url: str, tokens: list[str], connections: int) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:

        async def create(token: str) -> None:
            headers = {
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": secrets.token_hex(16),
            }
            async with session.post(
                "/api/v1/statuses", json={"status": "raw"}, headers=headers
            ) as response:
                response.raise_for_status()
                await response.read()

        await asyncio.gather(*(create(token) for token in tokens))


def baseline(server: Server, tokens: list[str], delay: float, connections: int) -> Run:
    """Every token's create, from one raw aiohttp loop with ``connections`` connections."""
    server.start_run(tokens, delay)
    start = time.time()
    asyncio.run(_raw(server.base_url, tokens, connections))
    stats = server.stats()
    received = [float(t) for t, _key, _idx in stats["log"]]
    run = Run(
        f"raw aiohttp loop, {connections} connections",
        1,
        connections,
        start,
        received,
        stats["creates"],
    )
    run.duplicates = sum(1 for n in stats["per_token"] if n > 1)
    run.lost = sum(1 for n in stats["per_token"] if n == 0)
    return run


# --------------------------------------------------------------------------
# The workspace and the workers
# --------------------------------------------------------------------------


def fill(ws: Workspace, n: int, base_url: str) -> list[str]:
    """``n`` Mastodon accounts ``acct-NNNNN`` with sealed tokens; the tokens, in order."""
    tokens = [secrets.token_urlsafe(24) for _ in range(n)]
    for i, token in enumerate(tokens):
        ws.add_account(
            f"acct-{i:05d}",
            Account(
                platform="mastodon",
                handle=f"@u{i}@bench",
                base_url=base_url,
                credentials={"access_token": token},
            ),
        )
    return tokens


def _peak_rss(pid: int) -> float | None:
    """The process's peak resident memory so far, MB (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _handled(log_text: str) -> int:
    for line in reversed(log_text.splitlines()):
        if line.startswith("worker stopped after "):
            return int(line.split()[3])
    return -1


def run_workers(
    ws: Workspace,
    url: str,
    server: Server,
    tokens: list[str],
    *,
    procs: int,
    concurrency: int,
    delay: float,
    lease: float,
    kill: int,
    folder: Path,
    env: dict[str, str],
    number: int,
) -> Run:
    """Schedule one post for every account, start ``procs`` workers, wait, check."""
    names = [row.name for row in ws.store.accounts()]
    server.start_run(tokens, delay)
    text = f"throughput run {number}: one post for {len(names):,} accounts"
    start = time.time()
    due = datetime.now(UTC) + timedelta(hours=1)  # moved to 2 s from now once workers are up
    job = ws.schedule(Post(text), accounts=names, at=due)
    log(f"scheduled {len(names):,} deliveries in {time.time() - start:.1f} s")
    workers: list[tuple[subprocess.Popen[bytes], Path]] = []
    for p in range(procs):
        path = folder / f"worker-{number}-{p}.log"
        with path.open("wb") as out:
            command = [sys.executable, "-m", "govsocial.cli", "--db", url, "worker"]
            command += ["--until-idle", "--concurrency", str(concurrency), "--lease", str(lease)]
            workers.append(
                (
                    subprocess.Popen(
                        command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
                    ),
                    path,
                )
            )
    deadline = time.time() + 60
    while not all("worker " in path.read_text(errors="replace") for _, path in workers):
        if time.time() > deadline:
            raise BenchError("the workers did not start within 60 s")
        time.sleep(0.1)
    # every worker is up and idle; now the post falls due, for all accounts at once, once
    # the move is committed (one statement, as bench/scheduler.py moves its deliveries:
    # Workspace.reschedule of 5,000 deliveries takes longer than the lead on a busy machine)
    due_at = time.time() + 2.0
    with ws.store.transaction() as cur:
        cur.execute(
            _sql(ws.store, "UPDATE deliveries SET scheduled_at = ?, due_at = ? WHERE job_id = ?"),
            (due_at, due_at, job.id),
        )
    if time.time() > due_at - 0.2:
        raise BenchError("moving the deliveries to their due time took longer than 1.8 s")
    peaks = [0.0] * procs
    killed: list[int] = []
    end = time.time() + 600
    while any(proc.poll() is None for proc, _ in workers):
        if time.time() > end:
            for proc, _ in workers:
                if proc.poll() is None:
                    proc.kill()
            raise BenchError("the workers did not finish within 10 minutes")
        for i, (proc, _) in enumerate(workers):
            rss = _peak_rss(proc.pid) if proc.poll() is None else None
            if rss is not None:
                peaks[i] = max(peaks[i], rss)
        if kill and not killed and server.stats()["creates"] >= len(tokens) // 3:
            for proc, _ in workers[:kill]:
                os.kill(proc.pid, signal.SIGKILL)
                killed.append(proc.pid)
            log(f"killed {kill} workers with SIGKILL at {server.stats()['creates']} creates")
        time.sleep(0.05)
    for proc, path in workers:
        if proc.returncode not in (0, -signal.SIGKILL):
            tail = path.read_text(errors="replace")[-2000:]
            raise BenchError(f"a worker exited with {proc.returncode}:\n{tail}")
    stats = server.stats()
    by_key = {d.idempotency_key: d for d in ws.store.deliveries(job.id)}
    received = [float(t) for t, key, _ in stats["log"] if key in by_key]
    label = f"{procs} worker{'s' if procs > 1 else ''} x {concurrency}"
    if kill:
        label += f", {kill} killed -9 mid-burst"
    run = Run(label, procs, concurrency, due_at, received, stats["creates"])
    run.repeats, run.instance, run.killed = stats["repeats"], stats["instance"], len(killed)
    run.duplicates = sum(1 for n in stats["per_token"] if n > 1)
    published = [d for d in by_key.values() if d.status == "published"]
    held = {key for _, key, _ in stats["log"]}
    run.lost = len(by_key) - len([d for d in published if d.idempotency_key in held])
    run.retried = sum(1 for d in by_key.values() if d.attempts != 1)
    if stats["bad_auth"] or stats["bad_body"] or stats["not_found"]:
        run.problems.append(
            f"bad requests: {stats['bad_auth']} auth, {stats['bad_body']} body, "
            f"{stats['not_found']} unknown"
        )
    foreign = [key for _, key, _ in stats["log"] if key not in by_key]
    if foreign:
        run.problems.append(f"{len(foreign)} creates with keys the store does not have")
    entries = audit.entries(ws.store)
    run.audit_ok = audit.verify(ws.store) == len(entries)
    published_entries = {e.object for e in entries if e.action == "publish"}
    missing = [d.id for d in published if d.id not in published_entries]
    if missing:
        run.problems.append(f"{len(missing)} published deliveries without their audit entry")
    run.rss_mb = [peaks[i] for i in range(procs)]
    run.handled = [_handled(path.read_text(errors="replace")) for _, path in workers]
    return run


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def report(accounts: int, delay: float, runs: list[Run]) -> str:
    lines = [
        f"### One post due for {accounts:,} Mastodon accounts at once (one PostgreSQL "
        f"workspace, loopback server answering in {delay * 1000:.0f} ms)",
        "",
        "| sender | due -> last create received | due -> median | creates | "
        "duplicates | lost | attempts != 1 | instance requests | audit chain "
        "| peak RSS per worker | deliveries per worker |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in runs:
        rss = " / ".join(f"{mb:.0f} MB" for mb in r.rss_mb) or "-"
        handled = " / ".join(str(n) for n in r.handled) or "-"
        lines.append(
            f"| {r.label} | {r.last:.2f} s | {r.median:.2f} s | {r.creates:,} "
            f"| {r.duplicates} | {r.lost} | {r.retried} | {r.instance} "
            f"| {'verifies' if r.audit_ok else 'BROKEN'} | {rss} | {handled} |"
        )
        for problem in r.problems:
            lines.append(f"| ^ PROBLEM: {problem} |||||||||||")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="govsocial throughput benchmark (issue 17)")
    parser.add_argument("--accounts", type=int, default=5000, help="accounts (5,000)")
    parser.add_argument("--quick", action="store_true", help="500 accounts, 4 workers only")
    parser.add_argument("--procs", default="1,2,4", help="worker counts to run (1,2,4)")
    parser.add_argument("--concurrency", type=int, default=None, help="--concurrency per worker")
    parser.add_argument("--delay", type=float, default=0.05, help="server answer delay (0.05)")
    parser.add_argument("--lease", type=float, default=5.0, help="worker lease, seconds (5)")
    parser.add_argument("--kill", type=int, default=2, help="workers killed in the kill run (2)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the raw loop")
    parser.add_argument("--pg", default=DEFAULT_PG, help=f"PostgreSQL URL ({DEFAULT_PG})")
    args = parser.parse_args(argv)
    accounts = 500 if args.quick else args.accounts
    procs = [4] if args.quick else [int(p) for p in args.procs.split(",") if p]
    skipped = pg_available(args.pg)
    if skipped:
        print(f"PostgreSQL is needed: {skipped}", file=sys.stderr)
        return 2
    env_before = environment(pg_version(args.pg))
    secret = new_key()
    os.environ["GOVSOCIAL_SECRET_KEY"] = secret
    env = {k: v for k, v in os.environ.items() if k != "GOVSOCIAL_DB"}
    env["GOVSOCIAL_LOAD_PLUGINS"] = "mastodon"
    server = Server()
    runs: list[Run] = []
    concurrency = args.concurrency
    try:
        with (
            tempfile.TemporaryDirectory(prefix="govsocial-throughput-") as tmp,
            pg_schema(args.pg) as url,
            Workspace.open(url, plugins=Plugins(only=["mastodon"])) as ws,
        ):
            start = time.time()
            tokens = fill(ws, accounts, server.base_url)
            log(f"{accounts:,} accounts added in {time.time() - start:.1f} s")
            if concurrency is None:
                try:
                    from govsocial.cli.schedule import DEFAULT_CONCURRENCY
                except ImportError:  # before issue 17
                    DEFAULT_CONCURRENCY = 20
                concurrency = DEFAULT_CONCURRENCY
            if not args.no_baseline:
                for connections in dict.fromkeys((max(procs) * concurrency, 100)):
                    runs.append(baseline(server, tokens, args.delay, connections))
                    log(f"{runs[-1].label}: last create {runs[-1].last:.2f} s after the start")
            plans = [(p, 0) for p in procs] + ([(4, args.kill)] if args.kill else [])
            for number, (p, kill) in enumerate(plans):
                run = run_workers(
                    ws,
                    url,
                    server,
                    tokens,
                    procs=p,
                    concurrency=concurrency,
                    delay=args.delay,
                    lease=args.lease,
                    kill=kill,
                    folder=Path(tmp),
                    env=env,
                    number=number,
                )
                runs.append(run)
                log(f"{run.label}: last create {run.last:.2f} s after due; ok={run.ok}")
    finally:
        server.close()
    print(f"Before: {env_before}\nAfter:  {environment(pg_version(args.pg))}\n")
    print(report(accounts, args.delay, runs))
    failed = [r for r in runs if not r.ok]
    if failed:
        print(f"\nDUPLICATED OR LOST: {', '.join(r.label for r in failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
