"""Appointments, drafts, approvals, content requests and the audit log (issue 6).

On SQLite and PostgreSQL, against the fake platform's server: assertions are on what the
server stored and on what the database holds. Every refusal is checked for three things:
the error names what is missing, nothing is published, and the attempt is in the audit log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fakes import Clock, PaperServer, run, soon
from govsocial import Post
from govsocial.app import Workspace
from govsocial.core.errors import AuditTampered, ConfigurationError, NotPermitted

SK_ADMIN = "800/123/SK/2026"
SK_APPROVER = "800/124/SK/2026"
SK_CONTRIBUTOR = "800/125/SK/2026"


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


@pytest.fixture
def team(ws: Workspace, humas: str) -> Workspace:
    """siti (admin), rahmat (approver) and budi (contributor) on humas, valid this year."""
    ws.add_person("siti", name="Siti Rahma", unit="Diskominfo")
    ws.add_person("rahmat", name="Rahmat Hidayat", unit="Sekretariat")
    ws.add_person("budi", name="Budi Santoso", unit="Dinas Kesehatan")
    start, end = today() - timedelta(days=30), today() + timedelta(days=300)
    ws.appoint(
        "siti", accounts=[humas], role="admin", decree=SK_ADMIN, valid_from=start, valid_until=end
    )
    ws.appoint(
        "rahmat",
        accounts=[humas],
        role="approver",
        decree=SK_APPROVER,
        valid_from=start,
        valid_until=end,
    )
    ws.appoint(
        "budi",
        accounts=[humas],
        role="contributor",
        decree=SK_CONTRIBUTOR,
        valid_from=start,
        valid_until=end,
    )
    return ws


def refused(ws: Workspace, action: str) -> list[str]:
    """The reasons of the audit log's refusals of ``action``."""
    return [e.detail["reason"] for e in ws.audit_log(action=f"refused:{action}")]


def publish_due(ws: Workspace, server: PaperServer, clock: Clock, seconds: float = 300) -> None:
    clock.now += seconds
    run(ws, server, clock)


# -- governance is opt-in ---------------------------------------------------------------------


def test_an_account_without_appointments_works_without_an_actor(ws: Workspace, humas: str) -> None:
    assert not ws.governed(humas)
    job = ws.schedule(Post("Halo"), [humas], at=soon())
    server, clock = PaperServer(), Clock()
    publish_due(ws, server, clock)
    assert [p["text"] for p in server.posts.values()] == ["Halo"]
    actions = [(e.action, e.actor, e.decree) for e in ws.audit_log()]
    assert ("schedule", None, None) in actions
    assert ("publish", None, None) in actions
    assert ws.job(job.id).status == "published"


def test_once_appointed_every_action_names_its_actor(team: Workspace, humas: str) -> None:
    with pytest.raises(NotPermitted) as raised:
        team.schedule(Post("Halo"), [humas], at=soon())
    assert "by=<person>" in str(raised.value)
    assert "siti" in str(raised.value)  # the hint names who may
    assert team.jobs() == []
    assert refused(team, "schedule"), "the attempt itself is logged"


# -- the workflow ---------------------------------------------------------------------------


def test_a_draft_approved_by_an_approver_is_published_with_its_decrees_on_record(
    team: Workspace, humas: str
) -> None:
    draft = team.add_draft(Post("Vaksinasi Sabtu"), accounts=[humas], by="budi", at=soon())
    assert draft.status == "pending"
    server, clock = PaperServer(), Clock()
    publish_due(team, server, clock)
    assert server.posts == {}, "a pending draft is never published"
    approved = team.approve(draft.id, by="rahmat")
    assert approved.status == "scheduled"
    assert [a.person for a in approved.approvals] == ["rahmat"]
    publish_due(team, server, clock)
    assert [p["text"] for p in server.posts.values()] == ["Vaksinasi Sabtu"]
    trail = [(e.action, e.actor, e.decree) for e in team.audit_log(account=humas)]
    assert ("draft", "budi", SK_CONTRIBUTOR) in trail
    assert ("approve", "rahmat", SK_APPROVER) in trail
    assert ("schedule", "rahmat", SK_APPROVER) in trail
    assert ("publish", "rahmat", SK_APPROVER) in trail
    assert team.verify_audit() == len(team.audit_log())


def test_a_contributor_may_not_schedule_and_an_approver_may_not_draft(
    team: Workspace, humas: str
) -> None:
    with pytest.raises(
        NotPermitted, match=r"needs an admin appointment, and budi has contributor under"
    ):
        team.schedule(Post("Halo"), [humas], at=soon(), by="budi")
    with pytest.raises(NotPermitted, match="rahmat may not draft"):
        team.add_draft(Post("Halo"), accounts=[humas], by="rahmat")
    assert team.jobs() == []
    assert team.drafts() == []
    assert refused(team, "schedule") and refused(team, "draft")


def test_an_admin_schedules_own_posts_unless_the_rule_wants_approval(
    team: Workspace, humas: str
) -> None:
    job = team.schedule(Post("Info layanan"), [humas], at=soon(), by="siti")
    assert job.status == "scheduled"
    team.set_approval_rule(humas, admin_needs_approval=True, by="siti")
    with pytest.raises(NotPermitted, match="need approval, even an admin's"):
        team.schedule(Post("Info lain"), [humas], at=soon(), by="siti")
    assert len(team.jobs()) == 1


def test_an_appointment_that_ended_yesterday_is_refused_naming_the_decree(
    team: Workspace, humas: str
) -> None:
    team.add_person("andi", name="Andi", unit="Diskominfo")
    yesterday = today() - timedelta(days=1)
    team.appoint(
        "andi",
        accounts=[humas],
        role="admin",
        decree="800/9/SK/2025",
        valid_from="2025-01-01",
        valid_until=yesterday,
    )
    with pytest.raises(NotPermitted) as raised:
        team.schedule(Post("Halo"), [humas], at=soon(), by="andi")
    message = str(raised.value)
    assert "800/9/SK/2025" in message
    assert f"ended {yesterday.isoformat()}" in message
    assert team.jobs() == []
    assert any("800/9/SK/2025" in r for r in refused(team, "schedule"))


def test_an_appointment_not_yet_in_force_is_refused(team: Workspace, humas: str) -> None:
    team.add_person("dewi", name="Dewi", unit="Diskominfo")
    starts = today() + timedelta(days=3)
    team.appoint("dewi", accounts=[humas], role="admin", decree="800/10/SK/2026", valid_from=starts)
    with pytest.raises(NotPermitted, match=f"starts {starts.isoformat()}"):
        team.schedule(Post("Halo"), [humas], at=soon(), by="dewi")


def test_approving_ones_own_draft_is_refused_unless_the_rule_allows_it(
    team: Workspace, humas: str
) -> None:
    team.appoint(
        "siti", accounts=[humas], role="approver", decree="800/126/SK/2026", valid_from=today()
    )
    draft = team.add_draft(Post("Halo"), accounts=[humas], by="siti", at=soon())
    with pytest.raises(NotPermitted, match=r"wrote draft .* may not approve it"):
        team.approve(draft.id, by="siti")
    assert team.draft(draft.id).status == "pending"
    team.set_approval_rule(humas, self_approval=True, by="siti")
    assert team.approve(draft.id, by="siti").status == "scheduled"


def test_approving_twice_and_approving_a_decided_draft_are_refused(
    team: Workspace, humas: str
) -> None:
    team.set_approval_rule(humas, approvers=2, by="siti")
    draft = team.add_draft(Post("Halo"), accounts=[humas], by="budi", at=soon())
    assert team.approve(draft.id, by="rahmat").status == "pending", "needs two"
    with pytest.raises(NotPermitted, match="rahmat already approved"):
        team.approve(draft.id, by="rahmat")
    team.add_person("wati", name="Wati", unit="Sekretariat")
    team.appoint(
        "wati", accounts=[humas], role="approver", decree="800/127/SK/2026", valid_from=today()
    )
    assert team.approve(draft.id, by="wati").status == "scheduled"
    other = team.add_draft(Post("Lain"), accounts=[humas], by="budi")
    team.reject(other.id, by="rahmat", reason="data belum diverifikasi")
    with pytest.raises(NotPermitted, match="is rejected, not pending"):
        team.approve(other.id, by="wati")
    assert len(refused(team, "approve")) == 2


def test_a_rejection_needs_a_reason_and_keeps_it(team: Workspace, humas: str) -> None:
    draft = team.add_draft(Post("Halo"), accounts=[humas], by="budi")
    with pytest.raises(ConfigurationError, match="reason"):
        team.reject(draft.id, by="rahmat", reason=" ")
    rejected = team.reject(draft.id, by="rahmat", reason="angka tidak sesuai data BPS")
    assert (rejected.status, rejected.reason) == ("rejected", "angka tidak sesuai data BPS")
    with pytest.raises(NotPermitted, match="only an approved draft"):
        team.schedule(rejected, at=soon(), by="siti")


def test_an_approved_draft_without_a_time_is_scheduled_by_an_admin(
    team: Workspace, humas: str
) -> None:
    draft = team.add_draft(Post("Halo"), accounts=[humas], by="budi")
    assert team.approve(draft.id, by="rahmat").status == "approved"
    with pytest.raises(NotPermitted):
        team.schedule(draft, at=soon(), by="budi")
    job = team.schedule(draft, at=soon(), by="siti")
    assert team.draft(draft.id).job_id == job.id


def test_a_job_planned_before_the_appointments_is_not_published(ws: Workspace, humas: str) -> None:
    job = ws.schedule(Post("Rencana lama"), [humas], at=soon())
    ws.add_person("siti", name="Siti", unit="Diskominfo")
    ws.appoint("siti", accounts=[humas], role="admin", decree=SK_ADMIN, valid_from=today())
    server, clock = PaperServer(), Clock()
    publish_due(ws, server, clock)
    assert server.posts == {}
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "refused"
    assert "without an admin's or approvers' authority" in (delivery.error or "")
    assert [e.action for e in ws.audit_log(account=humas)][-1] == "refused"


def test_cancel_and_reschedule_need_an_admin(team: Workspace, humas: str) -> None:
    job = team.schedule(Post("Halo"), [humas], at=soon(), by="siti")
    with pytest.raises(NotPermitted):
        team.cancel(job.id, by="budi")
    with pytest.raises(NotPermitted):
        team.reschedule(job.id, soon(600), by="rahmat")
    team.reschedule(job.id, soon(600), by="siti")
    assert team.cancel(job.id, by="siti").status == "cancelled"
    actions = [e.action for e in team.audit_log(actor="siti")]
    assert actions[-2:] == ["reschedule", "cancel"]


def test_unknown_people_roles_and_bad_dates_are_refused_clearly(
    team: Workspace, humas: str
) -> None:
    with pytest.raises(ConfigurationError, match=r"no person 'joko'.*budi, rahmat, siti"):
        team.appoint("joko", accounts=[humas], role="admin", decree="1", valid_from=today())
    with pytest.raises(ConfigurationError, match="unknown role 'editor'"):
        team.appoint("budi", accounts=[humas], role="editor", decree="1", valid_from=today())
    with pytest.raises(ConfigurationError, match="decree"):
        team.appoint("budi", accounts=[humas], role="admin", decree=" ", valid_from=today())
    with pytest.raises(ConfigurationError, match="YYYY-MM-DD"):
        team.appoint("budi", accounts=[humas], role="admin", decree="1", valid_from="1/1/26")
    with pytest.raises(ConfigurationError, match="before valid_from"):
        team.appoint(
            "budi",
            accounts=[humas],
            role="admin",
            decree="1",
            valid_from="2026-02-01",
            valid_until="2026-01-01",
        )


# -- content requests ------------------------------------------------------------------------


def test_a_content_request_is_tracked_to_publication(team: Workspace, humas: str) -> None:
    due = today() + timedelta(days=2)
    request = team.request_content(
        from_unit="Dinas Kesehatan",
        topic="Jadwal vaksinasi",
        due=due,
        attachments=["jadwal.pdf"],
        by="siti",
    )
    assert request.status == "open"
    assert (
        request.due is not None and request.due.astimezone(ZoneInfo("Asia/Jakarta")).date() == due
    )
    draft = team.add_draft(Post("Vaksin Sabtu 08.00"), accounts=[humas], by="budi", at=soon())
    fulfilled = team.fulfil(request.id, draft.id, by="budi")
    assert (fulfilled.status, fulfilled.draft_id) == ("drafted", draft.id)
    team.approve(draft.id, by="rahmat")
    server, clock = PaperServer(), Clock()
    publish_due(team, server, clock)
    done = team.content_request(request.id)
    assert done.status == "published"
    assert done.turnaround is not None and done.turnaround > 0
    assert not done.late
    assert [r.id for r in team.requests(status="published")] == [request.id]


# -- the audit log ---------------------------------------------------------------------------


def _tamper(ws: Workspace, sql: str, params: tuple[object, ...] = ()) -> None:
    """Edit the audit table as someone with database access would: triggers dropped first."""
    with ws.store.transaction() as cur:
        if ws.store.engine == "sqlite":
            ws.store.execute(cur, "DROP TRIGGER IF EXISTS audit_log_no_update")
            ws.store.execute(cur, "DROP TRIGGER IF EXISTS audit_log_no_delete")
        else:
            ws.store.execute(cur, "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        ws.store.execute(cur, sql, params)


def test_the_audit_log_refuses_updates_and_deletes(team: Workspace) -> None:
    for sql in ("UPDATE audit_log SET actor = 'x' WHERE seq = 1", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), team.store.transaction() as cur:
            team.store.execute(cur, sql)
    assert team.verify_audit() == len(team.audit_log())


def test_an_edited_entry_is_named(team: Workspace, humas: str) -> None:
    team.add_draft(Post("Halo"), accounts=[humas], by="budi")
    entries = team.audit_log()
    target = next(e for e in entries if e.action == "draft")
    assert team.verify_audit() == len(entries)
    _tamper(team, "UPDATE audit_log SET actor = ? WHERE seq = ?", ("siti", target.seq))
    with pytest.raises(AuditTampered) as raised:
        team.verify_audit()
    assert raised.value.seq == target.seq
    assert f"audit entry {target.seq} was edited" in str(raised.value)


def test_a_removed_entry_and_a_removed_tail_are_detected(team: Workspace, humas: str) -> None:
    team.add_draft(Post("Halo"), accounts=[humas], by="budi")
    head = team.audit_head()
    assert head is not None
    _tamper(team, "DELETE FROM audit_log WHERE seq = 2")
    with pytest.raises(AuditTampered, match="entries 2 to 2 are missing") as raised:
        team.verify_audit()
    assert raised.value.seq == 2


def test_a_truncated_tail_is_caught_by_the_recorded_head_and_an_anchor(
    team: Workspace, humas: str
) -> None:
    team.add_draft(Post("Halo"), accounts=[humas], by="budi")
    head = team.audit_head()
    assert head is not None
    _tamper(team, "DELETE FROM audit_log WHERE seq = ?", (head.seq,))
    with pytest.raises(AuditTampered, match=f"entries {head.seq} to {head.seq} were removed"):
        team.verify_audit()
    _tamper(team, "DELETE FROM govsocial_meta WHERE key = 'audit_head'")
    assert team.verify_audit() == head.seq - 1, "without a head kept elsewhere it cannot tell"
    with pytest.raises(AuditTampered, match="the anchor given"):
        team.verify_audit(anchor=head)


def test_the_audit_log_filters_by_time_actor_and_account(team: Workspace, humas: str) -> None:
    before = datetime.now(UTC)
    team.add_draft(Post("Halo"), accounts=[humas], by="budi")
    recent = team.audit_log(since=before)
    assert [e.action for e in recent] == ["draft"]
    assert [e.action for e in team.audit_log(actor="budi")] == ["draft"]
    assert all(e.account == humas for e in team.audit_log(account=humas))
    assert team.audit_log(since=datetime.now(UTC) + timedelta(hours=1)) == []
    line = recent[0].describe()
    assert "budi draft" in line and SK_CONTRIBUTOR in line


# -- deletion and the archive ---------------------------------------------------------------


def test_a_deleted_post_stays_in_the_archive_with_its_media_checksum_and_history(
    team: Workspace, humas: str, tmp_path: Path
) -> None:
    import hashlib
    import json

    from govsocial import Media
    from govsocial.testing import tiny_png

    post = Post("Peta vaksin", media=[Media(data=tiny_png(), alt_text="Peta")])
    draft = team.add_draft(post, accounts=[humas], by="budi", at=soon())
    team.approve(draft.id, by="rahmat")
    server, clock = PaperServer(), Clock()
    publish_due(team, server, clock)
    [job] = team.jobs()
    transport = server.transport()
    with pytest.raises(NotPermitted):
        team.delete_post(job.id, by="budi", transport=transport)
    [ref] = team.delete_post(job.id, by="siti", transport=transport)
    assert server.posts == {}, "deleted on the platform"
    assert team.delete_post(job.id, by="siti", transport=transport) == [], "only once"

    month = datetime.now(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m")
    export = team.export_archive(tmp_path / "arsip", period=month, by="siti")
    lines = [json.loads(line) for line in export.records.read_text().splitlines()]
    [record] = [r for r in lines if r["type"] == "post"]
    assert record["remote_id"] == ref.id
    assert record["status"] == "deleted" and record["deleted_at"]
    assert record["post"]["text"] == "Peta vaksin"
    [media] = record["post"]["media"]
    assert media["sha256"] == hashlib.sha256(tiny_png()).hexdigest()
    assert media["alt_text"] == "Peta"
    assert "data" not in media
    actions = [(h["action"], h["actor"]) for h in record["history"]]
    assert ("draft", "budi") in actions
    assert ("approve", "rahmat") in actions
    assert ("publish", "rahmat") in actions
    assert ("delete", "siti") in actions
    assert record["authority"]["approved_by"] == ["rahmat"]
    head = lines[-1]
    assert head["type"] == "audit_head"
    assert export.audit_head is not None and head["seq"] == export.audit_head.seq
    audit_lines = export.audit.read_text().splitlines()
    assert len(audit_lines) == export.audit_entries > 0
    page = export.index.read_text()
    assert "Peta vaksin" in page and ref.id in page and "deleted" in page
    assert team.verify_audit(anchor=export.audit_head) == export.audit_head.seq


def test_an_archive_of_another_month_is_empty_but_made(team: Workspace, tmp_path: Path) -> None:
    export = team.export_archive(tmp_path, period="2001-01")
    assert export.posts == 0
    assert export.records.read_text().count("\n") == 1  # the audit head only
    with pytest.raises(ConfigurationError, match="2026 or 2026-11"):
        team.export_archive(tmp_path, period="November")


def test_a_direct_client_call_through_the_workspace_is_recorded_as_such(
    team: Workspace, humas: str
) -> None:
    server = PaperServer()
    account = team.account(humas)
    with team.client(by="siti", transport=server.transport()) as client:
        [result] = client.publish(Post("Langsung"), [account])
    assert result.ok and [p["text"] for p in server.posts.values()] == ["Langsung"]
    [entry] = team.audit_log(action="direct_publish")
    assert (entry.actor, entry.account, entry.object) == ("siti", humas, result.ref.id)
    assert entry.detail["text"] == "Langsung"
    assert team.verify_audit() == len(team.audit_log())


def test_an_entry_added_after_the_recorded_head_is_detected(team: Workspace, humas: str) -> None:
    """A forger who computes a valid hash still cannot move the head govsocial records."""
    from govsocial.workspace import audit

    head = team.audit_head()
    assert head is not None
    seq, when, text = head.seq + 1, 1.0, "{}"
    digest = audit._digest(head.hash, seq, when, "mallory", "approve", "x", humas, None, text)
    _tamper(
        team,
        "INSERT INTO audit_log (seq, at, actor, action, object, account, decree, detail, "
        "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, when, "mallory", "approve", "x", humas, None, text, head.hash, digest),
    )
    with pytest.raises(AuditTampered, match="added outside govsocial") as raised:
        team.verify_audit()
    assert raised.value.seq == seq


# -- one draft, one job (the scheduling of a draft is one guarded transaction) ---------------


def test_a_failure_after_the_job_is_written_leaves_no_job_and_the_draft_approved(
    team: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = team.add_draft(Post("Halo"), accounts=[humas], by="budi")
    team.approve(draft.id, by="rahmat")
    store = team.store
    written = store.insert_job

    def insert_then_crash(*args: object, **kwargs: object) -> None:
        written(*args, **kwargs)  # type: ignore[arg-type]
        assert len(store.jobs()) == 1, "the job is written inside the transaction"
        raise RuntimeError("the process dies here")

    monkeypatch.setattr(store, "insert_job", insert_then_crash)
    with pytest.raises(RuntimeError, match="dies"):
        team.schedule(draft, at=soon(), by="siti")
    monkeypatch.undo()
    assert store.jobs() == [] and store.deliveries() == []
    assert team.draft(draft.id).status == "approved"
    job = team.schedule(draft, at=soon(), by="siti")  # and it can still be scheduled once
    assert team.draft(draft.id).job_id == job.id


def test_a_scheduled_draft_is_not_scheduled_again_even_from_a_stale_copy(
    team: Workspace, humas: str
) -> None:
    draft = team.add_draft(Post("Halo"), accounts=[humas], by="budi")
    approved = team.approve(draft.id, by="rahmat")
    team.schedule(approved, at=soon(), by="siti")
    with pytest.raises(NotPermitted, match="scheduled"):
        team.schedule(approved, at=soon(), by="siti")
    with pytest.raises(NotPermitted, match="scheduled"):
        team.enqueue(approved, by="siti")
    assert len(team.jobs()) == 1


def test_two_workspaces_scheduling_one_draft_at_once_make_one_job(
    postgres_url: str, plugins: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from fakes import TOKEN, paper_account

    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    first = Workspace.open(postgres_url)
    second = Workspace.open(postgres_url)
    try:
        first.add_account("humas", paper_account())
        first.add_person("siti", name="Siti")
        first.add_person("budi", name="Budi")
        first.add_person("rahmat", name="Rahmat")
        since = today() - timedelta(days=1)
        first.appoint("siti", accounts=["humas"], role="admin", decree=SK_ADMIN, valid_from=since)
        first.appoint(
            "rahmat", accounts=["humas"], role="approver", decree=SK_APPROVER, valid_from=since
        )
        first.appoint(
            "budi", accounts=["humas"], role="contributor", decree=SK_CONTRIBUTOR, valid_from=since
        )
        draft = first.add_draft(Post("Halo"), accounts=["humas"], by="budi")
        first.approve(draft.id, by="rahmat")
        # Both hold their written job, uncommitted, before either moves the draft.
        both_written = threading.Barrier(2, timeout=10)
        for ws in (first, second):
            original = ws.store.insert_job

            def insert_and_wait(*args: object, _original: object = original) -> None:
                _original(*args)  # type: ignore[operator]
                both_written.wait()

            monkeypatch.setattr(ws.store, "insert_job", insert_and_wait)
        outcomes: list[object] = []

        def schedule(ws: Workspace) -> None:
            try:
                outcomes.append(ws.schedule(ws.draft(draft.id), at=soon(), by="siti"))
            except NotPermitted as refused:
                outcomes.append(refused)

        threads = [threading.Thread(target=schedule, args=(ws,)) for ws in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(type(o).__name__ for o in outcomes) == ["Job", "NotPermitted"]
        monkeypatch.undo()
        jobs = first.store.jobs()
        assert len(jobs) == 1, "one draft made one job"
        assert first.draft(draft.id).job_id == jobs[0].id
        assert len(first.store.deliveries()) == 1
    finally:
        first.close()
        second.close()
