"""Benchmark the audit log: appends per second and how long verifying the chain takes.

    python bench/audit.py                 # 100,000 entries, SQLite and PostgreSQL
    python bench/audit.py --entries 10000 --no-pg

Appends go through ``govsocial.workspace.audit.append`` in their own transaction each (the cost an
approval or a publish pays), from one process; verification reads and re-hashes the whole
chain with ``verify_audit``. PostgreSQL is the test database of the machine
(``postgresql://postgres@127.0.0.1:5432/test``), in a throw-away schema.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from govsocial.store import Store, open_store
from govsocial.workspace import audit

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def run(store: Store, entries: int) -> tuple[float, float, float]:
    """(appends per second, verify seconds, verify entries per second)."""
    start = time.perf_counter()
    for index in range(entries):
        with store.transaction() as cur:
            audit.append(
                store,
                cur,
                actor="siti",
                action="publish",
                obj=f"delivery-{index}",
                account="humas-mastodon",
                decree="800/123/SK/2026",
                detail={"job": "j" * 32, "remote_id": str(index), "worker": "bench"},
            )
    appended = time.perf_counter() - start
    start = time.perf_counter()
    verified = audit.verify(store)
    checked = time.perf_counter() - start
    assert verified == entries, (verified, entries)
    return entries / appended, checked, entries / checked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--pg", default=os.environ.get("GOVSOCIAL_TEST_POSTGRES", DEFAULT_PG))
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "audit.db")
        rows.append(("SQLite", *run(store, args.entries)))
        store.close()
    if not args.no_pg:
        import psycopg

        schema = "bench_audit_" + uuid.uuid4().hex[:8]
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            store = open_store(f"{args.pg}?options=-csearch_path%3D{schema}")
            rows.append(("PostgreSQL", *run(store, args.entries)))
            store.close()
        finally:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    print(f"\n### Audit log: {args.entries:,} entries, one transaction each, one process\n")
    print("| engine | appends/s | verify the whole chain | entries verified/s |")
    print("|---|---:|---:|---:|")
    for engine, rate, seconds, verify_rate in rows:
        print(f"| {engine} | {rate:,.0f} | {seconds:.2f} s | {verify_rate:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
