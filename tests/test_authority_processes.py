"""A second OS process writes to the workspace's database directly, and the worker refuses
(issue 12, proof): a forged approval row, a job written by hand, a job whose stored
planner was changed, an approved draft's job whose text was swapped, and a cancelled
job's delivery put back on the schedule. On SQLite and PostgreSQL; assertions read the fake
platform's server (what it received) and the database (each delivery's state and the audit
log).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fakes import TOKEN, Clock, PaperServer, paper_account, run, soon
from govsocial import Post
from govsocial.app import Workspace
from govsocial.core.errors import AuditTampered

#: The forger: the database's own client library, nothing of govsocial's.
FORGER = r"""
import json, os, sys, time, uuid
url, what, ident = sys.argv[1], sys.argv[2], sys.argv[3]
if url.startswith("postgresql"):
    import psycopg
    conn = psycopg.connect(url, autocommit=True)
    mark = "%s"
else:
    import sqlite3
    conn = sqlite3.connect(url, isolation_level=None)
    mark = "?"

def run(sql, params=()):
    conn.execute(sql.replace("?", mark), params)

now = time.time()
if what == "approval":  # rahmat "approves" the pending draft; the draft is marked approved
    run("INSERT INTO approvals (draft_id, person, decree, at) VALUES (?, ?, ?, ?)",
        (ident, "rahmat", "800/124/SK/2026", now))
    run("UPDATE drafts SET status = 'approved', decided_at = ? WHERE id = ?", (now, ident))
elif what == "job":  # a job and its delivery, due now, naming a valid admin and decree
    authority = {"by": "siti", "draft": None, "approved_by": [],
                 "accounts": {"humas": "800/123/SK/2026"}}
    run("INSERT INTO jobs (id, post, recurrence, cancelled, created_at, authority) "
        "VALUES (?, ?, NULL, 0, ?, ?)",
        (ident, json.dumps({"text": "Forged job"}), now, json.dumps(authority)))
    run("INSERT INTO deliveries (id, job_id, account, occurrence, scheduled_at, due_at, "
        "status, idempotency_key, attempts, updated_at) "
        "VALUES (?, ?, 'humas', 0, ?, ?, 'scheduled', ?, 0, ?)",
        (uuid.uuid4().hex, ident, now, now, uuid.uuid4().hex, now))
elif what == "planner":  # the job now names tono, an admin in force, as its planner
    row = conn.execute(f"SELECT authority FROM jobs WHERE id = {mark}", (ident,)).fetchone()
    authority = json.loads(row[0])
    authority["by"] = "tono"
    run("UPDATE jobs SET authority = ? WHERE id = ?", (json.dumps(authority), ident))
elif what == "uncancel":  # a cancelled job's delivery is put back on the schedule
    run("UPDATE jobs SET cancelled = 0 WHERE id = ?", (ident,))
    run("UPDATE deliveries SET status = 'scheduled' WHERE job_id = ?", (ident,))
elif what == "post":  # the approved draft's job now carries other text
    run("UPDATE jobs SET post = ? WHERE id = ?", (json.dumps({"text": "Swapped text"}), ident))
print(os.getpid(), what, "written")
"""


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ws.db")
    return str(request.getfixturevalue("postgres_url"))


def forge(url: str, what: str, ident: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FORGER, url, what, ident],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid, _, rest = done.stdout.strip().partition(" ")
    assert rest == f"{what} written" and int(pid) != os.getpid(), done.stdout


def test_rows_written_by_another_process_are_refused_by_the_worker(
    url: str, plugins: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    ws = Workspace.open(url)
    try:
        ws.add_account("humas", paper_account())
        since = today() - timedelta(days=1)
        ws.add_person("kepala", name="Kepala")
        ws.appoint("kepala", role="head", decree="100/1/SK/2026", valid_from=since)
        for person, role, decree in (
            ("siti", "admin", "800/123/SK/2026"),
            ("tono", "admin", "800/126/SK/2026"),
            ("rahmat", "approver", "800/124/SK/2026"),
            ("budi", "contributor", "800/125/SK/2026"),
        ):
            ws.add_person(person, name=person.title(), by="kepala")
            ws.appoint(
                person, accounts=["humas"], role=role, decree=decree, valid_from=since, by="kepala"
            )

        # 1. a forged approval: the draft looks approved, and an admin schedules it in good faith
        draft = ws.add_draft(Post("Forged approval"), accounts=["humas"], by="budi")
        forge(url, "approval", draft.id)
        assert ws.draft(draft.id).status == "approved"
        from_draft = ws.schedule(ws.draft(draft.id), at=soon(), by="siti")
        # 2. a job written by hand, naming a valid admin and decree
        by_hand = uuid.uuid4().hex
        forge(url, "job", by_hand)
        # 3. a job planned by siti whose stored planner is changed to tono
        changed = ws.schedule(Post("Changed planner"), ["humas"], at=soon(), by="siti")
        forge(url, "planner", changed.id)
        # 4. an approved draft's job whose post is swapped after approval
        swapped_draft = ws.add_draft(Post("Approved text"), accounts=["humas"], by="budi")
        ws.approve(swapped_draft.id, by="rahmat")
        swapped = ws.schedule(ws.draft(swapped_draft.id), at=soon(), by="siti")
        forge(url, "post", swapped.id)
        # 5. a job siti planned and cancelled, put back on the schedule
        uncancelled = ws.schedule(Post("Cancelled"), ["humas"], at=soon(), by="siti")
        ws.cancel(uncancelled.id, by="siti")
        forge(url, "uncancel", uncancelled.id)
        # and a control: planned properly, published
        fine = ws.schedule(Post("Sah"), ["humas"], at=soon(), by="siti")

        server, clock = PaperServer(), Clock()
        clock.now = time.time() + 300
        run(ws, server, clock)

        assert [p["text"] for p in server.posts.values()] == ["Sah"]
        reasons = {
            job_id: ws.job(job_id).deliveries[0]
            for job_id in (from_draft.id, by_hand, changed.id, swapped.id, uncancelled.id, fine.id)
        }
        assert reasons[fine.id].status == "published"
        assert reasons[from_draft.id].status == "refused"
        assert "approval of draft" in (reasons[from_draft.id].error or "")
        assert "not in the audit log" in (reasons[from_draft.id].error or "")
        assert reasons[by_hand].status == "refused"
        assert "planning is not in the audit log" in (reasons[by_hand].error or "")
        assert reasons[changed.id].status == "refused"
        assert "names 'tono' as its planner" in (reasons[changed.id].error or "")
        assert reasons[swapped.id].status == "refused"
        assert "not the one draft" in (reasons[swapped.id].error or "")
        assert reasons[uncancelled.id].status == "refused"
        assert "the job was cancelled" in (reasons[uncancelled.id].error or "")
        refused = ws.audit_log(action="refused")
        assert {e.object for e in refused} == {
            reasons[j].id for j in (from_draft.id, by_hand, changed.id, swapped.id, uncancelled.id)
        }
        assert all(e.detail["error_type"] == "NotPermitted" for e in refused)
        stored = json.loads(ws.store.job(changed.id).authority or "{}")  # type: ignore[union-attr]
        assert stored["by"] == "tono", "the forger's write did land"
        # the forger touched no audit entry, so the chain is whole; but verify_audit also
        # holds the approvals table to the log (signed actions), and names the forged row
        with pytest.raises(AuditTampered, match="has no audit entry") as tampered:
            ws.verify_audit()
        assert len(tampered.value.problems) == 1
        assert "approval of draft" in tampered.value.problems[0]
    finally:
        ws.close()
