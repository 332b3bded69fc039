"""Processing deliveries and the claim: what waiting ``processing`` rows cost the workers.

A ``processing`` delivery (a post TikTok is moderating) waits unheld; the claim's first
query (expired leases, and processing deliveries due to be looked at again) and
``next_due`` read it by ``lease_until``. This measures, on one SQLite file with ``--rows``
scheduled deliveries (far in the future, so nothing is due), the median of
``store.claim`` and ``store.next_due()`` with 0 processing deliveries waiting (the
baseline, in the same run) and with each of ``--processing`` waiting (not yet due).

Run ``python bench/processing.py [--rows 100000] [--processing 1000,10000,50000]``; a
Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from govsocial.store import AccountRow, DeliveryRow, JobRow, Store, open_store

CALLS = 200


def populate(store: Store, rows: int, processing: int, now: float) -> None:
    store.put_account(
        AccountRow("a", "mastodon", "@a", "https://x.example", "UTC", None, {}, None, now)
    )
    deliveries = []
    for index in range(rows + processing):
        waiting = index < processing
        due = now + 3600 + index  # nothing is due: the claim finds nothing
        deliveries.append(
            DeliveryRow(
                id=uuid.uuid4().hex,
                job_id="j",
                account="a",
                occurrence=index,
                scheduled_at=now,
                due_at=due,
                status="processing" if waiting else "scheduled",
                idempotency_key=uuid.uuid4().hex,
                attempts=1 if waiting else 0,
                lease_until=due if waiting else None,
            )
        )
    store.insert_job(JobRow("j", "{}", None, False, now), deliveries)


def median_ms(call: Callable[[], object]) -> float:
    times = []
    for _ in range(CALLS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(rows: int, processing: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as scratch:
        store = open_store(Path(scratch) / "bench.db")
        try:
            now = time.time()
            populate(store, rows, processing, now)
            claim = median_ms(lambda: store.claim("bench", now, 60.0, 50))
            due = median_ms(store.next_due)
        finally:
            store.close()
    return claim, due


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--processing", default="1000,10000,50000")
    args = parser.parse_args(argv)
    counts = [0, *(int(n) for n in args.processing.split(","))]
    print(
        f"SQLite, {args.rows:,} scheduled deliveries, medians of {CALLS} calls; "
        f"load {os.getloadavg()[0]:.1f}\n"
    )
    print("| processing waiting | claim (nothing due) | next_due |")
    print("|---:|---:|---:|")
    for count in counts:
        claim, due = measure(args.rows, count)
        label = f"{count:,}" + (" (baseline)" if count == 0 else "")
        print(f"| {label} | {claim:.3f} ms | {due:.3f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
