"""Benchmark signed actions: the Ed25519 cost per action, and verify_audit over signed logs.

    python bench/signing.py                  # 100,000 signed entries, SQLite and PostgreSQL
    python bench/signing.py --entries 10000 --no-pg

1. Signing and verifying one audit payload (the canonical JSON of a typical approval),
   alone: what each signed action and each verified entry pays for the cryptography.
2. Appends by a person who signs, one transaction each (the cost an approval pays, with the
   key check and the signature), against the same appends by a person who does not.
3. ``verify_audit`` over the whole log of signed entries: chain, times, every signature
   checked against the key the log registered, the people and approvals tables.

PostgreSQL is the test database of the machine, in a throw-away schema.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

from govsocial.app import Workspace
from govsocial.workspace import audit
from govsocial.workspace.signing import SigningKey, acting, signed_payload, verify_signature

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def crypto(rounds: int) -> tuple[float, float]:
    """(µs to sign, µs to verify) one approval's payload."""
    key = SigningKey.generate()
    payload = signed_payload(
        seq=123_456,
        prev_hash="ab" * 32,
        at=time.time(),
        actor="rahmat",
        action="approve",
        obj="3f2a9c1b5e7d",
        account="humas-mastodon",
        decree="800/124/SK/2026",
        detail={"approvals": 1, "needed": 1, "content": "sha256:" + "cd" * 32},
    )
    start = time.perf_counter()
    signatures = [key.sign(payload) for _ in range(rounds)]
    signing = (time.perf_counter() - start) / rounds
    start = time.perf_counter()
    assert all(verify_signature(key.public_key, payload, s) for s in signatures)
    verifying = (time.perf_counter() - start) / rounds
    return signing * 1e6, verifying * 1e6


def appends(ws: Workspace, entries: int, *, actor: str, key: SigningKey | None) -> float:
    """Appends per second by ``actor`` (signing with ``key``), one transaction each."""
    store = ws.store
    start = time.perf_counter()
    with acting(actor, key):
        for index in range(entries):
            with store.transaction() as cur:
                audit.append(
                    store,
                    cur,
                    actor=actor,
                    action="approve",
                    obj=f"draft-{index}",
                    account="humas-mastodon",
                    decree="800/124/SK/2026",
                    detail={"approvals": 1, "needed": 1, "content": "sha256:" + "cd" * 32},
                )
    return entries / (time.perf_counter() - start)


def run(url: str, entries: int) -> tuple[float, float, float, float, int]:
    """(unsigned appends/s, signed appends/s, verify seconds, entries verified/s, entries)."""
    ws = Workspace.open(url)
    try:
        key = SigningKey.generate()
        ws.add_person("plain", name="Unsigned")
        ws.add_person("rahmat", name="Rahmat", public_key=key.public_key)
        sample = max(1, min(entries // 10, 10_000))
        unsigned = appends(ws, sample, actor="plain", key=None)
        signed = appends(ws, entries, actor="rahmat", key=key)
        total = len(ws.audit_log())
        start = time.perf_counter()
        verified = ws.verify_audit()
        seconds = time.perf_counter() - start
        assert verified == total, (verified, total)
        return unsigned, signed, seconds, total / seconds, total
    finally:
        ws.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--pg", default=os.environ.get("GOVSOCIAL_TEST_POSTGRES", DEFAULT_PG))
    parser.add_argument(
        "--pg-entries", type=int, default=None, help="entries on PostgreSQL (default: --entries)"
    )
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    sign_us, verify_us = crypto(args.rounds)
    print(f"\n### Ed25519 per action ({args.rounds:,} rounds)\n")
    print(f"| sign one payload | {sign_us:.1f} µs |\n| verify one signature | {verify_us:.1f} µs |")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(("SQLite", *run(str(Path(folder) / "signing.db"), args.entries)))
    if not args.no_pg:
        import psycopg

        schema = "bench_signing_" + uuid.uuid4().hex[:8]
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            rows.append(
                (
                    "PostgreSQL",
                    *run(
                        f"{args.pg}?options=-csearch_path%3D{schema}",
                        args.pg_entries or args.entries,
                    ),
                )
            )
        finally:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    print("\n### Signed entries, one transaction each, one process\n")
    print(
        "| engine | entries | unsigned appends/s | signed appends/s | verify_audit "
        "| entries verified/s |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for engine, unsigned, signed, seconds, rate, total in rows:
        print(
            f"| {engine} | {total:,} | {unsigned:,.0f} | {signed:,.0f} | {seconds:.2f} s "
            f"| {rate:,.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
