"""Benchmark the worker's authority check at publication (issue 12).

    python bench/authority.py                    # 10,000 approved drafts, SQLite and PostgreSQL
    python bench/authority.py --drafts 1000 --no-pg

Builds a governed account (an admin, an approver, a contributor) and that many drafts, each
approved and scheduled (three audit entries and one job each), then times
``Authority.check_publication`` for the last 500 jobs: what every delivery to a governed
account pays before it is sent. PostgreSQL is the test database of the machine
(``postgresql://postgres@127.0.0.1:5432/test``), in a throw-away schema.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from govsocial import Account, Post
from govsocial.app import Workspace
from govsocial.plugin.manager import Plugins

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def run(url: str, drafts: int) -> tuple[int, float]:
    """(audit entries, milliseconds per check)."""
    with Workspace.open(url, plugins=Plugins(only=["mastodon"])) as ws:
        ws.add_account(
            "humas",
            Account(
                platform="mastodon",
                handle="@humas@bench.test",
                base_url="https://bench.test",
                credentials={"access_token": "env:GOVSOCIAL_CRED_BENCH_TOKEN"},
            ),
        )
        since = datetime.now(ZoneInfo("Asia/Jakarta")).date() - timedelta(days=1)
        for person, role in (("siti", "admin"), ("rahmat", "approver"), ("budi", "contributor")):
            ws.add_person(person, name=person.title())
            ws.appoint(
                person, accounts=["humas"], role=role, decree=f"SK-{person}", valid_from=since
            )
        at = datetime.now(UTC) + timedelta(days=1)
        jobs = []
        for i in range(drafts):
            draft = ws.add_draft(Post(f"Info {i}"), accounts=["humas"], by="budi")
            ws.approve(draft.id, by="rahmat")
            jobs.append(ws.schedule(ws.draft(draft.id), at=at, by="siti").id)
        rows = [(job_id, ws.store.job(job_id)) for job_id in jobs[-500:]]
        start = time.perf_counter()
        for job_id, row in rows:
            assert row is not None and row.authority is not None
            ws.core.authority.check_publication(
                job_id, row.post, json.loads(row.authority), "humas", at.timestamp()
            )
        per_check = (time.perf_counter() - start) / len(rows) * 1000
        head = ws.audit_head()
        return (head.seq if head else 0), per_check


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=10_000)
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        entries, ms = run(os.path.join(folder, "ws.db"), args.drafts)
        print(f"SQLite      {entries:>7} audit entries  {ms:.2f} ms per check")
    if not args.no_pg:
        import psycopg

        schema = "bench_" + uuid.uuid4().hex[:8]
        with psycopg.connect(DEFAULT_PG, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            entries, ms = run(f"{DEFAULT_PG}?options=-csearch_path%3D{schema}", args.drafts)
            print(f"PostgreSQL  {entries:>7} audit entries  {ms:.2f} ms per check")
        finally:
            with psycopg.connect(DEFAULT_PG, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
