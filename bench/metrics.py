"""Benchmark: metrics collection requests, and metrics_frame over a million snapshots.

1. Collecting the metrics of 10,000 published Bluesky posts of a few accounts must issue at
   most ceil(10000 / 25) getPosts calls plus one getProfile (and one createSession) per
   account. The PDS is an in-process fake (httpx.MockTransport) that answers from the
   documented shapes and counts every request by XRPC method; the adapter is the real one.
2. ``Workspace.metrics_frame("posts")`` over 1,000,000 snapshot rows (10,000 posts x 100
   snapshots) in SQLite: under 2 s and under 1 GB of memory (peak RSS growth).

    python bench/metrics.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from govsocial import Account, Post
from govsocial.analytics.collection import collect
from govsocial.app import Workspace
from govsocial.client import AsyncClient
from govsocial.store import METRIC_COLUMNS, DeliveryRow, JobRow


def fake_pds(counts: Counter[str]) -> httpx.MockTransport:
    """A PDS answering createSession, getPosts and getProfile, counting calls per method."""

    def handler(request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        counts[method] += 1
        if method == "com.atproto.server.createSession":
            body = json.loads(request.content)
            handle = body["identifier"]
            return httpx.Response(
                200,
                json={
                    "did": f"did:plc:{handle.split('.')[0]}",
                    "handle": handle,
                    "accessJwt": "a.eyJleHAiOjQxMDI0NDQ4MDB9.s",
                    "refreshJwt": "r.eyJleHAiOjQxMDI0NDQ4MDB9.s",
                },
            )
        if method == "app.bsky.feed.getPosts":
            uris = request.url.params.get_list("uris")
            posts = [
                {
                    "uri": uri,
                    "cid": "bafy" + uri[-8:],
                    "author": {"did": "did:plc:x", "handle": "x.test"},
                    "record": {"text": "t", "createdAt": "2026-11-01T00:00:00.000Z"},
                    "indexedAt": "2026-11-01T00:00:00.000Z",
                    "likeCount": 3,
                    "repostCount": 1,
                    "replyCount": 0,
                    "quoteCount": 0,
                }
                for uri in uris
            ]
            return httpx.Response(200, json={"posts": posts})
        if method == "app.bsky.actor.getProfile":
            return httpx.Response(
                200,
                json={
                    "did": "did:plc:x",
                    "handle": "x.test",
                    "followersCount": 120,
                    "followsCount": 5,
                    "postsCount": 10,
                },
            )
        return httpx.Response(404, json={"error": "MethodNotImplemented", "message": method})

    return httpx.MockTransport(handler)


def fill(ws: Workspace, accounts: int, posts: int) -> list[str]:
    """``posts`` published deliveries spread over ``accounts`` Bluesky accounts."""
    names = []
    for index in range(accounts):
        name = f"humas-{index}"
        ws.add_account(
            name,
            Account(
                platform="bluesky",
                handle=f"humas{index}.test",
                base_url="https://pds.bench.test",
                credentials={
                    "identifier": f"humas{index}.test",
                    "app_password": "env:GOVSOCIAL_CRED_BENCH_PW",
                },
            ),
        )
        names.append(name)
    now = time.time()
    job = JobRow(uuid.uuid4().hex, Post("bench").model_dump_json(), None, False, now)
    deliveries = []
    for number in range(posts):
        name = names[number % accounts]
        deliveries.append(
            DeliveryRow(
                id=uuid.uuid4().hex,
                job_id=job.id,
                account=name,
                occurrence=number,
                scheduled_at=now - 60,
                due_at=now - 60,
                status="published",
                idempotency_key=uuid.uuid4().hex,
                remote_id=f"at://did:plc:{name}/app.bsky.feed.post/{number:012d}",
                updated_at=now,
            )
        )
    ws.store.insert_job(job, deliveries)
    return names


def bench_requests(posts: int, accounts: int) -> dict[str, Any]:
    import os

    os.environ["GOVSOCIAL_CRED_BENCH_PW"] = "bench-password"
    with tempfile.TemporaryDirectory() as folder, Workspace.open(Path(folder) / "m.db") as ws:
        fill(ws, accounts, posts)
        counts: Counter[str] = Counter()

        async def go() -> tuple[int, float]:
            async with AsyncClient(transport=fake_pds(counts), plugins=ws.plugins) as client:
                started = time.perf_counter()
                done = await collect(ws, client)
                return done.posts, time.perf_counter() - started

        measured, seconds = asyncio.run(go())
    bound = math.ceil(posts / 25) + accounts
    gets = counts["app.bsky.feed.getPosts"] + counts["app.bsky.actor.getProfile"]
    return {
        "posts": posts,
        "accounts": accounts,
        "measured": measured,
        "getPosts": counts["app.bsky.feed.getPosts"],
        "getProfile": counts["app.bsky.actor.getProfile"],
        "createSession": counts["com.atproto.server.createSession"],
        "bound": bound,
        "met": gets <= bound and measured == posts,
        "seconds": seconds,
    }


def bench_frame(posts: int, snapshots: int) -> dict[str, Any]:
    import os

    os.environ["GOVSOCIAL_CRED_BENCH_PW"] = "bench-password"
    with tempfile.TemporaryDirectory() as folder, Workspace.open(Path(folder) / "f.db") as ws:
        fill(ws, 4, posts)
        ids = [d.id for d in ws.store.deliveries()]
        start = time.time() - snapshots * 3600
        marks = ", ".join("?" for _ in METRIC_COLUMNS)
        with ws.store.transaction() as cur:
            for step in range(snapshots):
                cur.executemany(
                    f"INSERT INTO post_metrics (delivery_id, collected_at, "
                    f"{', '.join(METRIC_COLUMNS)}, raw) VALUES (?, ?, {marks}, NULL)",
                    [
                        (i, start + step * 3600, None, None, step, step // 3, 1, 0, None, None)
                        for i in ids
                    ],
                )
        rows = posts * snapshots
        import gc

        gc.collect()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        frame = ws.metrics_frame("posts")
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert len(frame) == rows, (len(frame), rows)
        assert frame["views"].isna().all() and frame["likes"].notna().all()
    growth_mb = (peak - before) / 1024
    return {
        "rows": rows,
        "seconds": seconds,
        "rss_growth_mb": growth_mb,
        "met": seconds < 2.0 and growth_mb < 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 posts, 100,000 rows")
    args = parser.parse_args(argv)
    posts = 1_000 if args.quick else 10_000
    requests = bench_requests(posts, 4)
    frame = bench_frame(posts // 10 if args.quick else 10_000, 100)
    print("| measurement | figure | target | met |")
    print("|---|---:|---|---|")
    print(
        f"| collect {requests['posts']:,} Bluesky posts of {requests['accounts']} accounts: "
        f"getPosts + getProfile calls | {requests['getPosts']} + {requests['getProfile']} "
        f"(+ {requests['createSession']} createSession) | <= {requests['bound']} "
        f"| {'met' if requests['met'] else 'MISSED'} |"
    )
    print(f"| collect time (in-process PDS) | {requests['seconds']:.2f} s | | |")
    print(
        f"| metrics_frame over {frame['rows']:,} rows | {frame['seconds']:.2f} s, "
        f"{frame['rss_growth_mb']:.0f} MB | < 2 s, < 1 GB | {'met' if frame['met'] else 'MISSED'} |"
    )
    return 0 if requests["met"] and frame["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
