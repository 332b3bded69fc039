"""The audit chain with real processes on one PostgreSQL database (issue 6).

Two ``govsocial worker`` processes publish approved posts to mastodon-mock while the test
verifies the chain again and again; then a separate tampering script edits one entry the
way someone with database access would (dropping the append-only trigger first), and
``verify_audit`` must name exactly that entry. Assertions read the server and the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from govsocial import Post
from govsocial.app import Workspace
from govsocial.core.errors import AuditTampered
from govsocial.core.models import Account
from govsocial.plugin.manager import Plugins

pytest.importorskip("govsocial_mastodon")
pytest.importorskip("mastodon_mock")

from govsocial_mastodon.localserver import MastodonMockServer

pytestmark = pytest.mark.slow

TAMPER = """
import sys, psycopg
url, seq = sys.argv[1], int(sys.argv[2])
with psycopg.connect(url, autocommit=True) as conn:
    try:
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = %s", (seq,))
    except psycopg.Error as refused:
        print("refused:", str(refused).splitlines()[0])
    conn.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = %s", (seq,))
    print("edited", seq)
"""


def test_two_workers_and_a_tampering_script_on_one_postgres_database(
    postgres_url: str, mastodon: MastodonMockServer, tmp_path: Path
) -> None:
    account = mastodon.new_account("t" + uuid.uuid4().hex[:12])
    ws = Workspace.open(postgres_url, plugins=Plugins(only=["mastodon"]))
    try:
        ws.add_account(
            "humas",
            Account(
                platform="mastodon",
                handle=account.handle,
                base_url=account.base_url,
                credentials={"access_token": "env:AUDIT_TEST_TOKEN"},
            ),
        )
        today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
        ws.add_person("siti", name="Siti", unit="Diskominfo")
        ws.add_person("budi", name="Budi", unit="Dinkes")
        ws.appoint(
            "siti",
            accounts=["humas"],
            role="approver",
            decree="800/1/SK/2026",
            valid_from=today - timedelta(days=1),
        )
        ws.appoint(
            "budi",
            accounts=["humas"],
            role="contributor",
            decree="800/2/SK/2026",
            valid_from=today - timedelta(days=1),
        )
        texts = [f"Info {i} {uuid.uuid4().hex[:8]}" for i in range(30)]
        soon = datetime.now(UTC) + timedelta(seconds=5)  # both workers are up by then
        for text in texts:
            draft = ws.add_draft(Post(text), accounts=["humas"], by="budi", at=soon)
            ws.approve(draft.id, by="siti")

        env = {
            **os.environ,
            "AUDIT_TEST_TOKEN": account.credential("access_token"),
            "GOVSOCIAL_LOAD_PLUGINS": "mastodon",
        }
        logs = [(tmp_path / f"worker-{i}.log").open("wb") for i in range(2)]
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "govsocial.cli",
                    "--db",
                    postgres_url,
                    "worker",
                    "--until-idle",
                    "--concurrency",
                    "5",
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for log in logs
        ]
        checks = 0
        try:
            while any(w.poll() is None for w in workers):  # verify while they append
                ws.verify_audit()
                checks += 1
                time.sleep(0.1)
            for worker in workers:
                assert worker.wait(timeout=120) == 0, (tmp_path / "worker-0.log").read_text()
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                worker.wait(timeout=30)
            for log in logs:
                log.close()
        assert checks > 0

        statuses = _server_texts(mastodon, account)
        assert sorted(statuses) == sorted(texts), "every approved post, exactly once"
        publishes = ws.audit_log(action="publish")
        assert len(publishes) == len(texts)
        assert {e.detail["worker"].split(":")[1] for e in publishes} <= {
            str(w.pid) for w in workers
        }
        total = ws.verify_audit()
        head = ws.audit_head()
        assert head is not None and total == head.seq

        target = publishes[len(publishes) // 2]
        done = subprocess.run(
            [sys.executable, "-c", TAMPER, postgres_url, str(target.seq)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "refused: the audit log is append-only" in done.stdout
        assert f"edited {target.seq}" in done.stdout
        with pytest.raises(AuditTampered) as raised:
            ws.verify_audit()
        assert raised.value.seq == target.seq
        assert f"audit entry {target.seq} was edited" in str(raised.value)
    finally:
        ws.close()


def _server_texts(mastodon: MastodonMockServer, account: Account) -> list[str]:
    headers = {"Authorization": f"Bearer {account.credential('access_token')}"}
    path = f"/api/v1/accounts/{mastodon.account_id(account)}/statuses"
    found: list[str] = []
    params = {"limit": "40"}
    with httpx.Client(base_url=mastodon.base_url, headers=headers, timeout=30.0) as http:
        while True:
            page = http.get(path, params=params).raise_for_status().json()
            if not page:
                return found
            found += [mastodon.stored_text(status) for status in page]
            params["max_id"] = str(page[-1]["id"])
