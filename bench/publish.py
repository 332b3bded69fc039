"""Publishing benchmark: how fast can one post reach 50 Mastodon accounts?

Workload: ``rounds`` rounds (40 by default) of one post to 50 accounts at once,
i.e. 50 concurrent ``POST /api/v1/statuses``, each with its own bearer token,
round after round (2,000 creates), against a loopback server running in its
own process (``bench/_server.py``), in two scenarios:

* ``a``: the server waits 50 ms before each answer (floor: rounds x 50 ms);
* ``b``: the server answers at once (what is measured is the client's cost).

Every contender is a function ``run_X(base_url, tokens, rounds)`` (async, or
sync for Mastodon.py) in :data:`CONTENDERS`.  After every run the server's
counters are checked: exactly ``rounds`` creates per token, no bad
Authorization, no empty status; the bench stops loudly otherwise.

Run ``python bench/publish.py [--quick]``; see ``--help`` and bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import importlib
import importlib.util
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from mastodon import Mastodon

ACCOUNTS = 50
ROUNDS = 40
DELAY_A = 0.050
SCENARIOS = {"a": DELAY_A, "b": 0.0}
SCENARIO_TITLES = {"a": "(a) server waits 50 ms", "b": "(b) server answers at once"}

AsyncRun = Callable[[str, list[str], int], Awaitable[None]]
SyncRun = Callable[[str, list[str], int], None]


class BenchError(RuntimeError):
    """The server did not receive exactly what the contender had to send."""


# --------------------------------------------------------------------------
# Shared request helpers
# --------------------------------------------------------------------------


def status_text(round_no: int) -> str:
    """The text posted in round ``round_no``."""
    return f"govsocial bench, round {round_no}"


async def _create_httpx(client: httpx.AsyncClient, base_url: str, token: str, text: str) -> str:
    """One Mastodon create through ``client``; returns the new status id."""
    resp = await client.post(
        f"{base_url}/api/v1/statuses",
        json={"status": text},
        headers={"Authorization": f"Bearer {token}"},
    )
    resp.raise_for_status()
    return str(resp.json()["id"])


async def _rounds_httpx(
    client: httpx.AsyncClient, base_url: str, tokens: list[str], rounds: int
) -> None:
    """The workload on an httpx client: each round, every token at once."""
    for r in range(rounds):
        text = status_text(r)
        await asyncio.gather(*(_create_httpx(client, base_url, tok, text) for tok in tokens))


# --------------------------------------------------------------------------
# Reference contenders (not candidates for govsocial)
# --------------------------------------------------------------------------


def run_mastodon_py(base_url: str, tokens: list[str], rounds: int) -> None:
    """Mastodon.py, one ``Mastodon`` object per account, posting sequentially."""
    clients = [
        Mastodon(access_token=tok, api_base_url=base_url, version_check_mode="none")
        for tok in tokens
    ]
    try:
        for r in range(rounds):
            text = status_text(r)
            for client in clients:
                client.status_post(text)
    finally:
        for client in clients:
            client.session.close()


async def run_httpx_raw(base_url: str, tokens: list[str], rounds: int) -> None:
    """A hand-written loop on a plain ``httpx.AsyncClient()`` (default pool)."""
    async with httpx.AsyncClient() as client:
        await _rounds_httpx(client, base_url, tokens, rounds)


async def run_aiohttp_raw(base_url: str, tokens: list[str], rounds: int) -> None:
    """A hand-written loop on a plain ``aiohttp.ClientSession()`` (no httpx API)."""

    async def create(session: aiohttp.ClientSession, token: str, text: str) -> str:
        async with session.post(
            f"{base_url}/api/v1/statuses",
            json={"status": text},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            resp.raise_for_status()
            return str((await resp.json())["id"])

    async with aiohttp.ClientSession() as session:
        for r in range(rounds):
            text = status_text(r)
            await asyncio.gather(*(create(session, tok, text) for tok in tokens))


# --------------------------------------------------------------------------
# Candidate transports for govsocial (all keep the httpx.AsyncClient API)
# --------------------------------------------------------------------------


def httpx_with_limits(max_connections: int | None, max_keepalive: int | None) -> AsyncRun:
    """A contender: ``httpx.AsyncClient`` on its own pool with tuned limits."""

    async def run(base_url: str, tokens: list[str], rounds: int) -> None:
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_keepalive
        )
        async with httpx.AsyncClient(limits=limits) as client:
            await _rounds_httpx(client, base_url, tokens, rounds)

    run.__name__ = f"run_httpx_limits_{max_connections}_{max_keepalive}"
    return run


@contextmanager
def _sniffio_lookup_cached() -> Iterator[None]:
    """Make httpcore skip its failing ``import sniffio`` (what installing sniffio does)."""
    sync: Any = importlib.import_module("httpcore._synchronization")
    original = sync.current_async_library
    sync.current_async_library = lambda: "asyncio"
    try:
        yield
    finally:
        sync.current_async_library = original


def httpx_sniffio(max_connections: int | None, max_keepalive: int | None) -> AsyncRun:
    """A contender: httpx's own pool as it runs once ``sniffio`` is importable."""

    async def run(base_url: str, tokens: list[str], rounds: int) -> None:
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_keepalive
        )
        with _sniffio_lookup_cached():
            async with httpx.AsyncClient(limits=limits) as client:
                await _rounds_httpx(client, base_url, tokens, rounds)

    run.__name__ = f"run_httpx_sniffio_{max_connections}_{max_keepalive}"
    return run


async def run_httpx_aiohttp(base_url: str, tokens: list[str], rounds: int) -> None:
    """httpx on httpx-aiohttp's ``AiohttpTransport()`` with its defaults."""
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        await _rounds_httpx(client, base_url, tokens, rounds)


def _session_factory(limit: int, keepalive: float) -> Callable[[], aiohttp.ClientSession]:
    """A factory called on first request, inside the running loop."""

    def make() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=limit, limit_per_host=0, keepalive_timeout=keepalive, ttl_dns_cache=300
        )
        return aiohttp.ClientSession(connector=connector, auto_decompress=False)

    return make


def httpx_aiohttp_session(limit: int, keepalive: float) -> AsyncRun:
    """A contender: httpx on ``AiohttpTransport(client=<own ClientSession>)``."""

    async def run(base_url: str, tokens: list[str], rounds: int) -> None:
        transport = AiohttpTransport(client=_session_factory(limit, keepalive))
        async with httpx.AsyncClient(transport=transport) as client:
            await _rounds_httpx(client, base_url, tokens, rounds)

    run.__name__ = f"run_httpx_aiohttp_session_{limit}"
    return run


async def run_httpx_buffered(base_url: str, tokens: list[str], rounds: int) -> None:
    """A plain httpx loop on govsocial's own transport (its AiohttpTransport).

    The difference between this and ``govsocial`` is what govsocial's own layers cost
    (validation, adapters, retries, rate budgets, events).
    """
    from govsocial.adapters.transport import AiohttpTransport

    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        await _rounds_httpx(client, base_url, tokens, rounds)


# ==========================================================================
# >>> govsocial contender: the lead fills in / adjusts run_govsocial here. <<<
# It is registered automatically once ``import govsocial`` works.
# ==========================================================================


async def run_govsocial(
    base_url: str, tokens: list[str], rounds: int, **client_kwargs: Any
) -> None:
    """govsocial's own ``AsyncClient().publish(Post, accounts)``, 50 accounts per round."""
    gs: Any = importlib.import_module("govsocial")
    accounts = [
        gs.Account(
            platform="mastodon",
            handle=f"@u{i}@bench",
            base_url=base_url,
            credentials={"access_token": tok},
        )
        for i, tok in enumerate(tokens)
    ]
    async with gs.AsyncClient(**client_kwargs) as client:
        for r in range(rounds):
            results = await client.publish(gs.Post(status_text(r)), accounts)
            failed = [res for res in results if not res.ok]
            if failed:
                first = failed[0].error
                raise BenchError(f"govsocial: {len(failed)}/{len(results)} failed: {first!r}")


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Contender:
    """One way of running the workload."""

    label: str
    run: AsyncRun | SyncRun
    is_async: bool = True
    candidate: bool = True  # a transport govsocial could use (targets are checked)
    max_rounds: dict[str, int] = field(
        default_factory=dict
    )  # per scenario; the rest is extrapolated


CONTENDERS: dict[str, Contender] = {
    "mastodon_py": Contender(
        "Mastodon.py (sequential)",
        run_mastodon_py,
        is_async=False,
        candidate=False,
        max_rounds={"a": 2},
    ),
    "httpx_raw": Contender(
        "raw httpx.AsyncClient() (default pool)", run_httpx_raw, candidate=False
    ),
    "aiohttp_raw": Contender(
        "raw aiohttp.ClientSession() (no httpx API)", run_aiohttp_raw, candidate=False
    ),
    "httpx_limits_100": Contender(
        "httpx Limits(max_connections=100, max_keepalive_connections=100)",
        httpx_with_limits(100, 100),
    ),
    "httpx_limits_none": Contender(
        "httpx Limits(max_connections=None, max_keepalive_connections=None)",
        httpx_with_limits(None, None),
    ),
    "httpx_sniffio": Contender(
        "httpx default pool, sniffio importable (httpcore lookup patched)", httpx_sniffio(100, 20)
    ),
    "httpx_sniffio_limits_100": Contender(
        "httpx Limits(100, keepalive 100), sniffio importable (patched)", httpx_sniffio(100, 100)
    ),
    "httpx_aiohttp": Contender(
        "httpx + httpx_aiohttp.AiohttpTransport() (defaults)", run_httpx_aiohttp
    ),
    "httpx_aiohttp_session": Contender(
        "httpx + AiohttpTransport(client=ClientSession(TCPConnector(limit=100)))",
        httpx_aiohttp_session(100, 30.0),
    ),
    "httpx_aiohttp_session_unlimited": Contender(
        "httpx + AiohttpTransport(client=ClientSession(TCPConnector(limit=0)))",
        httpx_aiohttp_session(0, 30.0),
    ),
    "httpx_buffered": Contender(
        "raw httpx loop on govsocial.adapters.transport.AiohttpTransport", run_httpx_buffered
    ),
}

if all(importlib.util.find_spec(m) is not None for m in ("govsocial", "govsocial_mastodon")):
    CONTENDERS["govsocial"] = Contender("govsocial.AsyncClient().publish", run_govsocial)


# --------------------------------------------------------------------------
# Server process and its control channel
# --------------------------------------------------------------------------


class LoopbackServer:
    """``bench/_server.py`` in a child process, plus a keep-alive control connection."""

    def __init__(self) -> None:
        script = Path(__file__).with_name("_server.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "--port", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            self.close()
            raise BenchError(f"the loopback server did not start (said {line!r})")
        self.port = int(line[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._control = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        body = None if payload is None else json.dumps(payload)
        self._control.request(method, path, body=body, headers={"Content-Type": "application/json"})
        resp = self._control.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise BenchError(f"control call {method} {path} answered {resp.status}")
        return json.loads(data)

    def reset(self, tokens: list[str], delay: float) -> None:
        """Zero the counters, accept ``tokens``, delay every API answer by ``delay``."""
        self._call("POST", "/_bench/reset", {"tokens": tokens, "delay": delay})

    def stats(self) -> dict[str, Any]:
        """The server's counters since the last reset."""
        result: dict[str, Any] = self._call("GET", "/_bench/stats")
        return result

    def close(self) -> None:
        """Stop the server process."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=5)


def verify(stats: dict[str, Any], n_tokens: int, rounds: int, who: str) -> None:
    """Fail loudly unless every token created exactly ``rounds`` statuses."""
    expected = n_tokens * rounds
    problems = []
    if stats["creates"] != expected:
        problems.append(f"{stats['creates']} creates instead of {expected}")
    if stats["bad_auth"]:
        problems.append(f"{stats['bad_auth']} requests with a wrong Authorization header")
    if stats["bad_body"]:
        problems.append(f"{stats['bad_body']} creates without a status text")
    if stats["not_found"]:
        problems.append(f"{stats['not_found']} requests to unknown endpoints")
    wrong = [i for i, count in enumerate(stats["per_token"]) if count != rounds]
    if wrong:
        problems.append(
            f"{len(wrong)} tokens without exactly {rounds} creates (first: account {wrong[0]})"
        )
    if problems:
        raise BenchError(f"{who}: the server saw " + "; ".join(problems))


# --------------------------------------------------------------------------
# Measuring and reporting
# --------------------------------------------------------------------------


@dataclass
class Sample:
    """One timed run, scaled to the full number of rounds."""

    seconds: float
    cpu_seconds: float
    connections: int


@dataclass
class Result:
    """All runs of one contender in one scenario."""

    key: str
    samples: list[Sample] = field(default_factory=list)
    measured_rounds: int = 0

    @property
    def median(self) -> float:
        """Median seconds for the full workload."""
        return statistics.median(s.seconds for s in self.samples)


async def _timed(
    run: AsyncRun, base_url: str, tokens: list[str], rounds: int
) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    await run(base_url, tokens, rounds)
    return time.perf_counter() - start, time.process_time() - cpu


def measure_once(
    server: LoopbackServer,
    key: str,
    scenario: str,
    accounts: int,
    rounds: int,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> tuple[Sample, int]:
    """Run one contender once, verify the server's counters, return the sample."""
    contender = CONTENDERS[key]
    done_rounds = min(rounds, contender.max_rounds.get(scenario, rounds))
    tokens = [secrets.token_urlsafe(24) for _ in range(accounts)]
    server.reset(tokens, SCENARIOS[scenario])
    gc.collect()
    if contender.is_async:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            seconds, cpu = runner.run(
                _timed(contender.run, server.base_url, tokens, done_rounds)  # type: ignore[arg-type]
            )
    else:
        start, cpu_start = time.perf_counter(), time.process_time()
        contender.run(server.base_url, tokens, done_rounds)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    stats = server.stats()
    verify(stats, accounts, done_rounds, contender.label)
    scale = rounds / done_rounds
    return Sample(seconds * scale, cpu * scale, int(stats["connections"])), done_rounds


def _fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}x"


def _verdict(
    scenario: str, med: float, floor: float, vs_masto: float | None, vs_raw: float | None
) -> str:
    """Whether a candidate meets govsocial's targets in ``scenario``."""
    if scenario == "a":
        if vs_masto is None:
            return "n/a (Mastodon.py not run)"
        ok = med <= 1.3 * floor and vs_masto >= 20
        return ("met" if ok else "MISSED") + " (<=1.3x floor, >=20x Mastodon.py)"
    if vs_raw is None:
        return "n/a (raw httpx not run)"
    return ("met" if vs_raw >= 5 else "MISSED") + " (>=5x raw httpx)"


def report(results: dict[str, dict[str, Result]], accounts: int, rounds: int, repeat: int) -> str:
    """The Markdown table of medians, with targets checked for candidates."""
    n = accounts * rounds
    lines = [
        f"{n} creates = {rounds} rounds x {accounts} concurrent accounts; "
        f"median of {repeat} run(s).",
        "",
        "| scenario | contender | seconds | req/s | x floor | speed-up vs Mastodon.py "
        "| speed-up vs raw httpx | client CPU s | TCP conns | targets |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    notes = []
    for scenario, by_key in results.items():
        floor = rounds * SCENARIOS[scenario]
        title = SCENARIO_TITLES[scenario]
        if floor:
            lines.append(
                f"| {title} | physical floor | {floor:.2f} | {n / floor:.0f} | 1.0x | | | | | |"
            )
        masto = by_key.get("mastodon_py")
        raw = by_key.get("httpx_raw")
        for key, res in by_key.items():
            contender = CONTENDERS[key]
            med = res.median
            vs_masto = masto.median / med if masto else None
            vs_raw = raw.median / med if raw else None
            target = ""
            if contender.candidate:
                target = _verdict(scenario, med, floor, vs_masto, vs_raw)
            conns = statistics.median(s.connections for s in res.samples)
            cpu = statistics.median(s.cpu_seconds for s in res.samples)
            label = contender.label
            if res.measured_rounds < rounds:
                label += " *"
                notes.append(
                    f"* {contender.label} in {title}: measured {res.measured_rounds} of {rounds} "
                    "rounds per run, extrapolated linearly (TCP conns are for the measured part)."
                )
            lines.append(
                f"| {title} | {label} | {med:.3f} | {n / med:.0f} "
                f"| {_fmt_ratio(med / floor if floor else None)} | {_fmt_ratio(vs_masto)} "
                f"| {_fmt_ratio(vs_raw)} | {cpu:.3f} | {conns:.0f} | {target} |"
            )
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def environment() -> str:
    """One line on what the numbers depend on: versions, sniffio, machine load."""
    from importlib.metadata import version

    pkgs = ", ".join(
        f"{p} {version(p)}" for p in ("httpx", "httpcore", "anyio", "aiohttp", "httpx-aiohttp")
    )
    sniffio = importlib.util.find_spec("sniffio") is not None
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Python {sys.version.split()[0]}, {pkgs}; sniffio importable: {sniffio} "
        f"(without it httpcore retries `import sniffio` on every pool lock, encode/httpcore#1103); "
        f"{os.cpu_count()} CPUs, load average {load}."
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description="govsocial publishing benchmark (see bench/README.md)"
    )
    parser.add_argument("--quick", action="store_true", help="10 rounds, 1 run each (a smoke test)")
    parser.add_argument(
        "--rounds", type=int, default=None, help=f"rounds per run (default {ROUNDS})"
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per contender and scenario (default 3)"
    )
    parser.add_argument(
        "--accounts", type=int, default=ACCOUNTS, help=f"accounts per round (default {ACCOUNTS})"
    )
    parser.add_argument("--scenario", choices=["a", "b", "both"], default="both")
    parser.add_argument(
        "--only", default=None, help="comma-separated contender keys: " + ", ".join(CONTENDERS)
    )
    parser.add_argument(
        "--uvloop",
        action="store_true",
        help="run the async contenders on uvloop (default: asyncio)",
    )
    args = parser.parse_args(argv)
    loop_factory = None
    if args.uvloop:
        import uvloop

        loop_factory = uvloop.new_event_loop
    rounds = args.rounds or (10 if args.quick else ROUNDS)
    repeat = args.repeat or (1 if args.quick else 3)
    keys = list(CONTENDERS) if args.only is None else [k.strip() for k in args.only.split(",")]
    unknown = [k for k in keys if k not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contender(s) {unknown}; known: {', '.join(CONTENDERS)}")
    scenarios = ["a", "b"] if args.scenario == "both" else [args.scenario]

    env_before = environment()
    server = LoopbackServer()
    results: dict[str, dict[str, Result]] = {s: {k: Result(k) for k in keys} for s in scenarios}
    try:
        for scenario in scenarios:
            for rep in range(repeat):  # interleaved, so drift hits every contender alike
                for key in keys:
                    sample, done = measure_once(
                        server, key, scenario, args.accounts, rounds, loop_factory
                    )
                    res = results[scenario][key]
                    res.samples.append(sample)
                    res.measured_rounds = done
                    print(
                        f"  [{scenario} {rep + 1}/{repeat}] {key}: {sample.seconds:.3f} s",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        server.close()
    loop = "uvloop" if args.uvloop else "asyncio"
    print(f"Before: {env_before}\nAfter:  {environment()}\nClient event loop: {loop}.\n")
    print(report(results, args.accounts, rounds, repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
