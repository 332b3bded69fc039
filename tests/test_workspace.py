"""The workspace and its worker, on SQLite and PostgreSQL, against the fake platform's server.

Assertions are on what the server stored and on what the database holds.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from fakes import TOKEN, Clock, Paper, PaperServer, paper_account, run, soon
from govsocial import Post, hookimpl
from govsocial.adapters.platform import Platform
from govsocial.app import Workspace
from govsocial.client import AsyncClient
from govsocial.core.errors import (
    AuthenticationError,
    ConfigurationError,
    PublishOutcomeUnknown,
    ValidationError,
)
from govsocial.core.models import Account, PostRef
from govsocial.plugin.manager import Plugins

# -- accounts and credentials -------------------------------------------------------------


def test_a_plain_secret_is_refused_without_a_key(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVSOCIAL_SECRET_KEY", raising=False)
    account = paper_account("@h", token="plain-secret-value")
    with pytest.raises(ConfigurationError, match="GOVSOCIAL_SECRET_KEY") as caught:
        ws.add_account("h", account)
    assert "env:NAME" in str(caught.value)
    assert ws.accounts() == {}


def test_secrets_are_stored_encrypted_or_as_references(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "a long passphrase for the test workspace")
    path = tmp_path / "ws.db"
    with Workspace.open(path, plugins=plugins) as ws:
        ws.add_account(
            "sealed",
            paper_account("@a", token="very-secret-token-1"),
        )
        ws.add_account(
            "ref",
            paper_account("@b", token="env:SOME_TOKEN"),
        )
        assert ws.account("sealed").credential("access_token") == "very-secret-token-1"
        assert ws.account("ref").credentials["access_token"].get_secret_value() == "env:SOME_TOKEN"
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"very-secret-token-1" not in raw
    rows = (
        sqlite3.connect(path).execute("SELECT credentials FROM accounts ORDER BY name").fetchall()
    )
    assert '"env": "SOME_TOKEN"' in rows[0][0]
    assert '"sealed"' in rows[1][0]
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "another passphrase, as long as the first one")
    with (
        Workspace.open(path, plugins=plugins) as ws,
        pytest.raises(ConfigurationError, match="is not the key"),
    ):
        ws.account("sealed").credential("access_token")


def test_unknown_platform_and_zone_are_refused(ws: Workspace) -> None:
    with pytest.raises(ConfigurationError, match="unknown platform"):
        ws.add_account("x", Account(platform="friendster", handle="@x"))
    with pytest.raises(ConfigurationError):
        ws.add_account(
            "x",
            Account(
                platform="paper",
                handle="@x",
                base_url="https://paper.test",
                timezone="Mars/Olympus",
                credentials={"access_token": "env:T"},
            ),
        )
    assert ws.accounts() == {}


# -- planning: clear errors, nothing half-written --------------------------------------------


def test_naive_time_is_refused_naming_the_zone(ws: Workspace, humas: str) -> None:
    with pytest.raises(ConfigurationError, match="Asia/Jakarta"):
        ws.schedule(Post("halo"), accounts=[humas], at=datetime(2030, 1, 1, 9, 0))
    with pytest.raises(ConfigurationError, match="Asia/Jakarta"):
        ws.schedule(Post("halo"), accounts=[humas], at="2030-01-01T09:00")
    assert ws.jobs() == []


def test_past_time_unknown_account_bad_rule_and_bad_post(ws: Workspace, humas: str) -> None:
    with pytest.raises(ConfigurationError, match="past"):
        ws.schedule(Post("halo"), accounts=[humas], at="2020-01-01T09:00+07:00")
    with pytest.raises(ConfigurationError, match=r"no account named 'nope'.*humas"):
        ws.schedule(Post("halo"), accounts=[humas, "nope"], at=soon())
    with pytest.raises(ConfigurationError):
        ws.schedule(Post("halo"), accounts=[humas], at=soon(), recurrence="FREQ=SOMETIMES")
    with pytest.raises(ValidationError, match="text"):
        ws.schedule(Post("x" * 50), accounts=[humas], at=soon())
    assert ws.jobs() == []


# -- publishing ---------------------------------------------------------------------------------


def test_a_due_post_is_published_once(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("Jadwal vaksinasi"), accounts=[humas], at=soon(60))
    assert job.status == "scheduled"
    assert run(ws, server, clock) == 0  # not due yet
    clock.now += 61
    assert run(ws, server, clock) == 1
    assert run(ws, server, clock) == 0
    [stored] = server.posts.items()
    job = ws.job(job.id)
    assert job.status == "published"
    [delivery] = job.deliveries
    assert delivery.ref is not None and delivery.ref.id == stored[0]
    assert stored[1]["text"] == "Jadwal vaksinasi"
    assert stored[1]["key"] == delivery.idempotency_key
    assert delivery.attempts == 1


def test_cancel_and_reschedule(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    first = ws.schedule(Post("satu"), accounts=[humas], at=soon(60))
    second = ws.schedule(Post("dua"), accounts=[humas], at=soon(60))
    assert ws.cancel(first.id).status == "cancelled"
    moved = ws.reschedule(second.id, at=soon(3600))
    assert moved.deliveries[0].due_at > soon(3000)
    clock.now += 120
    assert run(ws, server, clock) == 0
    clock.now += 3600
    assert run(ws, server, clock) == 1
    assert [p["text"] for p in server.posts.values()] == ["dua"]
    assert [j.status for j in ws.jobs()] == ["cancelled", "published"]
    assert [j.id for j in ws.jobs(status="published")] == [second.id]


def test_a_late_post_is_missed_not_published(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("terlambat"), accounts=[humas], at=soon(60))
    clock.now += 60 + 16 * 60  # past the 15-minute grace
    run(ws, server, clock)
    assert server.requests == []
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "missed"
    assert "grace" in (delivery.error or "")


def test_a_retryable_failure_is_retried_with_the_same_key(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("coba lagi"), accounts=[humas], at=soon(60))
    server.script = [lambda r: httpx.Response(503, json={"error": "maintenance"})] * 4
    clock.now += 61
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "scheduled"
    assert "maintenance" in (delivery.error or "")
    assert delivery.due_at.timestamp() > clock.now
    clock.now += 600
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "published"
    assert len(server.posts) == 1
    assert {r.headers["idempotency-key"] for r in server.requests} == {delivery.idempotency_key}


def test_a_rejected_post_fails_with_the_platform_message(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("ditolak"), accounts=[humas], at=soon(60))
    server.script = [lambda r: httpx.Response(422, json={"error": "Text contains a banned word"})]
    clock.now += 61
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "failed"
    assert "banned word" in (delivery.error or "")
    assert delivery.error_type == "PlatformError"


def test_one_failing_account_does_not_hold_back_the_other(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WRONG_TOKEN", "wrong")
    ws.add_account(
        "rusak",
        paper_account("@rusak", token="env:WRONG_TOKEN"),
    )
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("halo"), accounts=[humas, "rusak"], at=soon(60))
    clock.now += 61
    run(ws, server, clock)
    job = ws.job(job.id)
    assert job.status == "partial"
    assert {d.account: d.status for d in job.deliveries} == {
        "humas": "published",
        "rusak": "failed",
    }
    assert len(server.posts) == 1


def test_a_crashed_send_is_resent_only_where_the_key_makes_it_safe(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker died between recording 'sending' and hearing back: reconcile first."""
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("sekali saja"), accounts=[humas], at=soon(60))
    clock.now += 61
    [claimed] = ws.store.claim("dead-worker", clock.now, ws.lease, 10)
    assert ws.store.mark_sending(claimed.id, "dead-worker", clock.now, ws.lease)
    # the dead worker's request did reach the server:
    server.posts["1"] = {"text": "sekali saja", "key": claimed.idempotency_key, "likes": 0}
    server._next = 2
    clock.now += ws.lease + 1
    monkeypatch.setattr(Paper, "idempotency_window", math.inf)
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "published"
    assert delivery.ref is not None and delivery.ref.id == "1"
    assert len(server.posts) == 1, "the resend with the same key made no second post"


def test_a_crashed_send_without_any_safe_way_is_unknown_never_resent(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("entah"), accounts=[humas], at=soon(60))
    clock.now += 61
    [claimed] = ws.store.claim("dead-worker", clock.now, ws.lease, 10)
    assert ws.store.mark_sending(claimed.id, "dead-worker", clock.now, ws.lease)
    clock.now += ws.lease + 1
    monkeypatch.setattr(Paper, "idempotency_window", None)
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "unknown"
    assert server.requests == []
    assert ws.job(job.id).status == "unknown"


def test_a_lost_answer_is_reconciled_not_blindly_resent(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, clock = PaperServer(), Clock()

    def timeout_after_storing(request: httpx.Request) -> httpx.Response:
        server.script = []
        server.handler(request)  # the server stores it...
        raise httpx.ReadTimeout("no answer", request=request)  # ...and the answer is lost

    job = ws.schedule(Post("hilang"), accounts=[humas], at=soon(60))
    server.script = [timeout_after_storing]
    clock.now += 61
    monkeypatch.setattr(Paper, "idempotency_window", math.inf)
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "scheduled"  # safe to repeat with the same key
    clock.now += 600
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "published"
    assert len(server.posts) == 1


def test_a_recurring_job_plans_its_next_occurrence(ws: Workspace, humas: str) -> None:
    server, clock = PaperServer(), Clock()
    start = soon(60)
    job = ws.schedule(Post("mingguan"), accounts=[humas], at=start, recurrence="FREQ=DAILY;COUNT=2")
    clock.now += 61
    run(ws, server, clock)
    job = ws.job(job.id)
    assert [d.status for d in job.deliveries] == ["published", "scheduled"]
    assert job.deliveries[1].due_at - job.deliveries[0].due_at == timedelta(days=1)
    clock.now += 86400
    run(ws, server, clock)
    job = ws.job(job.id)
    assert [d.status for d in job.deliveries] == ["published", "published"]
    assert len(server.posts) == 2


def test_enqueue_uses_the_next_free_slots(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    ws.add_account(
        "humas",
        paper_account(),
        slots="Mon-Sun 08:00, 16:00",
    )
    first = ws.enqueue(Post("satu"), accounts=["humas"]).deliveries[0].due_at
    second = ws.enqueue(Post("dua"), accounts=["humas"]).deliveries[0].due_at
    assert second > first
    for due in (first, second):
        local = due.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Jakarta"))
        assert (local.hour, local.minute) in {(8, 0), (16, 0)}
    with pytest.raises(ConfigurationError, match="slots"):
        ws.add_account(
            "tanpa",
            paper_account("@t"),
        )
        ws.enqueue(Post("x"), accounts=["tanpa"])


def test_reopening_keeps_everything_and_a_newer_schema_is_refused(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws.db"
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    with Workspace.open(path, plugins=plugins) as ws:
        ws.add_account(
            "humas",
            paper_account(),
        )
        job = ws.schedule(Post("halo"), accounts=["humas"], at=soon())
    with Workspace.open(f"sqlite:///{path}", plugins=plugins) as ws:
        assert ws.job(job.id).post.text == "halo"
    sqlite3.connect(path).execute(
        "UPDATE govsocial_meta SET value = '99' WHERE key = 'schema_version'"
    ).connection.commit()
    with pytest.raises(ConfigurationError, match="newer"):
        Workspace.open(path, plugins=plugins)


def test_an_older_workspace_is_upgraded_in_place(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer govsocial adds a migration; opening an existing file applies it, data kept."""
    import govsocial.store as store_module
    from govsocial.store import schema

    path = tmp_path / "ws.db"
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    with Workspace.open(path, plugins=plugins) as ws:
        ws.add_account(
            "humas",
            paper_account(),
        )
        job = ws.schedule(Post("sebelum upgrade"), accounts=["humas"], at=soon())
    upgraded = (*schema.MIGRATIONS, ("ALTER TABLE jobs ADD COLUMN note TEXT",))
    monkeypatch.setattr(store_module, "MIGRATIONS", upgraded)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", len(upgraded))
    with Workspace.open(path, plugins=plugins) as ws:
        assert ws.store.meta("schema_version") == str(len(upgraded))
        assert ws.job(job.id).post.text == "sebelum upgrade"
    columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(jobs)")]
    assert "note" in columns


class TwoStep(Paper):
    """Publishes in two steps like Instagram: a draft (checkpointed), then the post.

    The first attempt dies after saving its checkpoint, as a worker killed mid-publish would.
    """

    name = "twostep"
    idempotency_window = math.inf
    crashes: ClassVar[int] = 1
    drafts_made: ClassVar[list[str]] = []
    resumed: ClassVar[list[str]] = []

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        saved = self.checkpoint(idempotency_key)
        if "draft" in saved:
            self.resumed.append(saved["draft"])
        else:
            draft = f"draft-{len(self.drafts_made) + 1}"
            self.drafts_made.append(draft)
            self.save_checkpoint(idempotency_key, draft=draft)
        if TwoStep.crashes:
            TwoStep.crashes -= 1
            raise PublishOutcomeUnknown(
                "the answer was lost",
                platform=self.name,
                account=self.account.handle,
                idempotency_key=idempotency_key,
            )
        return await super().publish(post, idempotency_key=idempotency_key)


class TwoStepPlugin:
    @hookimpl
    def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
        register(TwoStep)


def test_a_checkpoint_is_committed_with_its_delivery_and_resumed_by_the_next_worker(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.plugins.register(TwoStepPlugin(), name="twostep")
    monkeypatch.setattr(TwoStep, "crashes", 1)
    monkeypatch.setattr(TwoStep, "drafts_made", [])
    monkeypatch.setattr(TwoStep, "resumed", [])
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    ws.add_account(
        "steps",
        paper_account("@steps", platform="twostep"),
    )
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("Jadwal posyandu"), ["steps"], at=soon())
    clock.now += 200
    run(ws, server, clock)  # the first attempt saves its draft, then its answer is lost
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "scheduled", "a lost answer within the window is retried"
    stored = ws.store.checkpoint(delivery.idempotency_key)
    assert stored == {"draft": "draft-1"}, "the checkpoint is in the database"
    again = Workspace.open(ws.url, plugins=ws.plugins)  # another process, same database
    try:
        clock.now += 600
        run(again, server, clock)
    finally:
        again.close()
    assert TwoStep.drafts_made == ["draft-1"], "the retry made no second draft"
    assert TwoStep.resumed == ["draft-1"]
    assert [p["text"] for p in server.posts.values()] == ["Jadwal posyandu"]
    assert ws.job(job.id).deliveries[0].status == "published"


def test_refreshed_credentials_are_stored_sealed_and_used_after_reopening(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", Fernet.generate_key().decode())
    account = ws.account(humas)
    fresh = "rotated-token-" + "9" * 20

    async def refresh() -> None:
        async with AsyncClient(
            transport=PaperServer().transport(), **ws.core.client_options()
        ) as c:
            c.adapter(account).update_credentials(access_token=fresh)

    asyncio.run(refresh())
    [row] = [r for r in ws.store.accounts() if r.name == humas]
    assert "sealed" in row.credentials["access_token"], "stored encrypted"
    assert fresh not in str(row.credentials)
    again = Workspace.open(ws.url, plugins=ws.plugins)
    try:
        assert again.account(humas).credential("access_token") == fresh
    finally:
        again.close()


def test_without_a_secret_key_a_refreshed_credential_is_not_stored_and_a_warning_says_so(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("GOVSOCIAL_SECRET_KEY", raising=False)
    account = ws.account(humas)
    ws.core.store_refreshed_credentials(account, {"access_token": "rotated-" + "1" * 20})
    assert "were not stored" in caplog.text
    assert "rotated-" not in caplog.text
    assert ws.account(humas).credential("access_token") == TOKEN


class Renewing(Paper):
    """Paper with expiring tokens: refreshing trades the token for a new one."""

    name = "renewing"

    async def refresh_credentials(self) -> bool:
        if self.credential("access_token") == "revoked":
            raise AuthenticationError(
                "the refresh was refused", platform=self.name, hint="authorize again"
            )
        self.update_credentials(access_token="renewed-token-" + "7" * 16)
        return True


class RenewingPlugin:
    @hookimpl
    def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
        register(Renewing)


def test_refresh_credentials_renews_stores_and_reports_each_account(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", Fernet.generate_key().decode())
    ws.plugins.register(RenewingPlugin(), name="renewing")
    for name, token in (("expiring", "old-token-1234567890"), ("revoked", "revoked")):
        ws.add_account(
            name,
            paper_account(f"@{name}", token=token, platform="renewing"),
        )
    outcome = ws.refresh_credentials()
    assert outcome[humas] == "nothing to renew"
    assert outcome["expiring"] == "renewed"
    assert outcome["revoked"].startswith("failed: the refresh was refused")
    again = Workspace.open(ws.url, plugins=ws.plugins)
    try:
        assert (
            again.account("expiring").credential("access_token") == "renewed-" + "token-" + "7" * 16
        )
        assert again.account("revoked").credential("access_token") == "revoked"
    finally:
        again.close()


def test_the_0_1_names_still_work_and_say_what_to_use(ws: Workspace, humas: str) -> None:
    server = PaperServer()
    ws.add_person("budi", name="Budi")
    with pytest.warns(DeprecationWarning, match=r"add_draft"):
        made = ws.draft(Post("Halo"), accounts=[humas], by="budi")
    assert ws.draft(made.id) == made  # reading is draft(id), silently
    with pytest.warns(DeprecationWarning, match=r"draft\(draft_id\)"):
        assert ws.get_draft(made.id) == made
    with pytest.warns(DeprecationWarning, match=r"pull_inbox\(\.\.\.\)\.total"):
        assert ws.sync_inbox(transport=server.transport()) == 0
    with pytest.warns(DeprecationWarning, match=r"use pull_inbox"):
        assert ws.sync_inbox_report(transport=server.transport()).failed == {}
    with pytest.warns(DeprecationWarning, match=r"pull_metrics\(\.\.\.\)\.total"):
        assert ws.collect_metrics(transport=server.transport()) == 1  # the account's figures
    with pytest.warns(DeprecationWarning, match=r"use pull_metrics"):
        assert ws.collect_metrics_report(transport=server.transport()).accounts == 1
    with pytest.warns(DeprecationWarning, match=r"ws\.core\.client_options"):
        assert "checkpoints" in ws.client_options()
    with pytest.warns(DeprecationWarning, match=r"ws\.core\.account_row"):
        row = ws.account_row(humas)
    with pytest.warns(DeprecationWarning, match=r"new_delivery\(ws\.core"):
        assert ws.new_delivery("j", row, 0.0, occurrence=0, now=0.0).account == humas
    with pytest.warns(DeprecationWarning, match=r"conversations\.archived_interactions"):
        assert ws.archived_interactions(None, None) == []
    with pytest.warns(DeprecationWarning, match=r"close_item"), pytest.raises(ConfigurationError):
        ws.close("no-such-item", reason="spam")
    assert ws.store.meta("schema_version") is not None, "close(item) did not close the workspace"


def test_one_long_lived_client_serves_the_workspace_until_it_closes(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import govsocial.workspace.core

    built: list[object] = []
    real = govsocial.workspace.core.Client

    def counted(**options: object) -> object:
        built.append(options)
        return real(**options)  # type: ignore[arg-type]

    monkeypatch.setattr(govsocial.workspace.core, "Client", counted)
    ws = Workspace.open(tmp_path / "ws.db", plugins=plugins)
    assert ws.run_due() == 0 and ws.pull_inbox().total == 0 and ws.pull_metrics().total == 0
    assert ws.refresh_credentials() == {}
    client = ws.core.client()
    assert len(built) == 1, "every call used the one client"
    ws.run_due(transport=PaperServer().transport())  # options of its own: a client of its own
    assert len(built) == 2 and ws.core.client() is client
    ws.close()
    with pytest.raises(ConfigurationError, match="closed"):
        client.run(asyncio.sleep(0))  # closed with the workspace


def test_a_question_mark_or_percent_sign_is_never_taken_for_a_parameter(ws: Workspace) -> None:
    """On both engines: in a value, in a LIKE pattern given as a value, and in a literal."""
    store = ws.store
    name = "Apa kabar? 100% siap"
    ws.add_person("siti", name=name)
    ws.add_person("budi", name="Budi")
    assert ws.person("siti").name == name
    with store.transaction() as tx:
        as_value = store.execute(
            tx, "SELECT id FROM people WHERE name LIKE ? ORDER BY id", ("%kabar? 100%",)
        ).fetchall()
        as_literal = store.execute(
            tx,
            "SELECT id, '?' AS mark /* why? 5% */ FROM people "
            "WHERE name LIKE '%kabar? 100%' AND id <> ? -- not budi?\nORDER BY id",
            ("budi",),
        ).fetchall()
    assert [tuple(r) for r in as_value] == [("siti",)]
    assert [tuple(r) for r in as_literal] == [("siti", "?")]


def test_postgresql_statements_keep_literals_and_comments_as_written() -> None:
    from govsocial.store.sql import to_format

    assert to_format("SELECT 'it''s ?', \"a?\" FROM t WHERE x = ? AND y LIKE 'a%'") == (
        "SELECT 'it''s ?', \"a?\" FROM t WHERE x = %s AND y LIKE 'a%%'"
    )
    assert to_format("a - ? / ? -- c?\n/* d? */ ? % 2") == "a - %s / %s -- c?\n/* d? */ %s %% 2"
    assert to_format("SELECT $$a?b%$$, $f$ '? $f$ WHERE $1 = ?") == (
        "SELECT $$a?b%%$$, $f$ '? $f$ WHERE $1 = %s"
    )


# -- the media host, a workspace setting a separate worker process uses --------------------


def _instagram_emulator() -> Any:
    """The Instagram plugin's emulator (``govsocial_instagram.testing``)."""
    return pytest.importorskip("govsocial_instagram.testing")


def test_a_worker_process_publishes_a_local_image_through_the_stored_media_host(
    tmp_path: Path,
) -> None:
    """`govsocial worker --until-idle`, a process of its own, finds the media host in the
    workspace; the Instagram emulator fetched the image from it and holds the post."""
    import os
    import subprocess
    import sys

    from govsocial import Media

    emulator = _instagram_emulator()
    server = emulator.InstagramEmulator(tmp_path / "served")
    image = tmp_path / "poster.jpg"
    image.write_bytes(emulator.tiny_jpeg())
    db = tmp_path / "ws.db"
    from govsocial.testing.emulator import serve

    with serve(server.app()) as base_url:
        server.base_url = base_url
        made = server.add_account("dinkes.kota")
        token = made.credentials["access_token"].get_secret_value()
        account = Account(
            platform="instagram",
            handle=made.handle,
            base_url=made.base_url,
            credentials={
                "ig_user_id": made.credentials["ig_user_id"].get_secret_value(),
                "access_token": "env:IG_TEST_TOKEN",
            },
        )
        with Workspace.open(db) as ws:
            ws.add_account("dinkes-ig", account)
            with pytest.raises(ConfigurationError, match="settings"):
                ws.set_media_host("directory", root="/nowhere")
            ws.set_media_host(
                "directory", directory=str(server.media_dir), base_url=server.base_url + "/media"
            )
            post = Post("Jadwal posyandu", media=[Media(path=image, alt_text="Poster posyandu")])
            job = ws.schedule(post, ["dinkes-ig"], at=soon(2))
        env = {**os.environ, "IG_TEST_TOKEN": token}
        env.pop("GOVSOCIAL_MEDIA_HOST", None)
        done = subprocess.run(
            [sys.executable, "-m", "govsocial.cli", "--db", str(db), "worker", "--until-idle"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        [stored] = server.media_of(made)
        assert server.stored_text(stored) == "Jadwal posyandu"
        served = list(server.media_dir.iterdir())
        assert [p.read_bytes() for p in served] == [emulator.tiny_jpeg()]
        with Workspace.open(db) as ws:
            [delivery] = ws.job(job.id).deliveries
            assert delivery.status == "published"
            assert delivery.ref is not None and delivery.ref.id == stored["id"]


def test_the_media_host_variable_wins_over_the_stored_setting(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govsocial.adapters.media import DirectoryHost
    from govsocial.core.errors import PluginError

    assert ws.media_host() is None
    ws.set_media_host("directory", directory=str(tmp_path / "a"), base_url="https://a.example/m")
    stored = ws.media_host()
    assert isinstance(stored, DirectoryHost) and stored.base_url == "https://a.example/m"
    assert ws.audit_log(action="set_media_host")[-1].detail["name"] == "directory"
    monkeypatch.setenv("GOVSOCIAL_MEDIA_HOST", f"directory:{tmp_path / 'b'},https://b.example/m")
    chosen = ws.media_host()
    assert isinstance(chosen, DirectoryHost)
    assert (chosen.directory, chosen.base_url) == (tmp_path / "b", "https://b.example/m")
    assert ws.core.client_options()["media_host"].base_url == "https://b.example/m"
    monkeypatch.setenv("GOVSOCIAL_MEDIA_HOST", "s3:bucket")
    with pytest.raises(PluginError, match="no media host named 's3'"):
        ws.media_host()
    monkeypatch.delenv("GOVSOCIAL_MEDIA_HOST")
    ws.set_media_host(None)
    assert ws.media_host() is None


def test_lookups_by_id_raise_not_found_which_is_still_a_configuration_error(
    ws: Workspace, humas: str
) -> None:
    from govsocial import NotFound

    lookups = {
        "job_id": lambda: ws.job("nope"),
        "draft_id": lambda: ws.draft("nope"),
        "request_id": lambda: ws.content_request("nope"),
        "item_id": lambda: ws.inbox_item("nope"),
        "person": lambda: ws.person("nope"),
        "accounts": lambda: ws.account("nope"),
    }
    for field, lookup in lookups.items():
        with pytest.raises(NotFound) as caught:
            lookup()
        assert caught.value.field == field
        assert isinstance(caught.value, ConfigurationError) and isinstance(caught.value, KeyError)
        assert "'nope'" in str(caught.value) and "NotFound" not in str(caught.value)


def test_a_transient_answer_is_retried_by_the_worker_on_a_deduplicating_platform(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer the adapter calls transient (a 400 saying "try again", as Instagram's
    2207001 does) is retried in the call, then by the worker, with the same key: one post."""

    def says_try_again(cls: type[Paper], response: httpx.Response) -> bool:
        return response.status_code == 400 and b"try again" in response.content

    monkeypatch.setattr(Paper, "is_transient", classmethod(says_try_again))
    monkeypatch.setattr(Paper, "idempotency_window", 3600.0)
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("coba lagi"), accounts=[humas], at=soon(60))
    busy = httpx.Response(400, json={"error": "server error, try again"})
    server.script = [lambda r: busy] * 4
    clock.now += 61
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "scheduled", delivery.error
    assert "try again" in (delivery.error or "")
    assert len(server.requests) >= 2, "retried within the call first"
    clock.now += 600
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "published"
    assert len(server.posts) == 1
    assert {r.headers["idempotency-key"] for r in server.requests} == {delivery.idempotency_key}
