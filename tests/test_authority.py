"""Heads of office, revocation and the checks at publication (issue 12, items 1, 2 and 6).

On SQLite and PostgreSQL, against the fake platform's server: assertions are on what the
server stored and what the database holds (deliveries, appointments, the audit log).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fakes import TOKEN, Clock, PaperServer, paper_account, run, soon
from govsocial import Post
from govsocial.app import Workspace
from govsocial.core.errors import ConfigurationError, NotPermitted
from govsocial.inbox.service_hours import ServiceHours
from govsocial.store import AccountRow

SK_HEAD = "100/1/SK/2026"
SK_ADMIN = "800/123/SK/2026"
SK_APPROVER = "800/124/SK/2026"
SK_CONTRIBUTOR = "800/125/SK/2026"


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


@pytest.fixture
def office(ws: Workspace, humas: str) -> Workspace:
    """kepala (head), siti (admin), rahmat (approver), budi (contributor) on humas."""
    start = today() - timedelta(days=30)
    ws.add_person("kepala", name="Kepala Dinas", unit="Diskominfo")
    ws.appoint("kepala", role="head", decree=SK_HEAD, valid_from=start)  # the first: no by=
    for person, role, decree in (
        ("siti", "admin", SK_ADMIN),
        ("rahmat", "approver", SK_APPROVER),
        ("budi", "contributor", SK_CONTRIBUTOR),
    ):
        ws.add_person(person, name=person.title(), by="kepala")
        ws.appoint(
            person, accounts=[humas], role=role, decree=decree, valid_from=start, by="kepala"
        )
    return ws


def refusals(ws: Workspace, action: str) -> list[str]:
    return [e.detail["reason"] for e in ws.audit_log(action=f"refused:{action}")]


def publish_due(ws: Workspace, server: PaperServer, clock: Clock, seconds: float = 300) -> None:
    clock.now += seconds
    run(ws, server, clock)


# -- heads of office --------------------------------------------------------------------------


def test_without_a_head_anything_goes_as_before(ws: Workspace, humas: str) -> None:
    ws.add_person("siti", name="Siti")
    ws.appoint("siti", accounts=[humas], role="admin", decree=SK_ADMIN, valid_from=today())
    ws.set_approval_rule(humas, approvers=2)
    ws.revoke("siti", reason="moved to another unit")
    assert ws.heads() == []
    actions = [e.action for e in ws.audit_log()]
    assert actions == ["add_account", "add_person", "appoint", "set_approval_rule", "revoke"]


def test_once_there_is_a_head_the_changes_need_one_and_each_attempt_is_logged(
    office: Workspace, humas: str
) -> None:
    attempts: list[tuple[str, Callable[[str | None], Any]]] = [
        ("add_person", lambda by: office.add_person("mallory", name="M", by=by)),
        (
            "appoint",
            lambda by: office.appoint(
                "budi", accounts=[humas], role="admin", decree="x", valid_from=today(), by=by
            ),
        ),
        (
            "appoint",
            lambda by: office.appoint("budi", role="head", decree="x", valid_from=today(), by=by),
        ),
        ("set_approval_rule", lambda by: office.set_approval_rule(humas, approvers=1, by=by)),
        ("revoke", lambda by: office.revoke("rahmat", by=by, reason="no reason")),
        ("add_account", lambda by: office.add_account("other", paper_account("@x"), by=by)),
        ("change_credentials", lambda by: office.add_account(humas, paper_account(), by=by)),
        ("set_institution", lambda by: office.set_institution("Dinas Palsu", by=by)),
        ("set_media_host", lambda by: office.set_media_host(None, by=by)),
        ("set_service_hours", lambda by: office.set_service_hours(humas, "Mon 00:00-01:00", by=by)),
    ]
    for action, attempt in attempts:
        for by in (None, "siti", "nobody"):
            before = len(refusals(office, action))
            with pytest.raises(NotPermitted) as raised:
                attempt(by)
            message = str(raised.value)
            assert action in message and "head" in message, message
            if by is not None:
                assert by in message
            assert "kepala" in (raised.value.hint or ""), "the fix names who can do it"
            assert len(refusals(office, action)) == before + 1, "the refusal is audit-logged"
    assert [a.role for a in office.appointments(person="budi")] == ["contributor"]
    assert office.approval_rule(humas).approvers == 1
    assert "mallory" not in {p.id for p in office.people()}
    assert set(office.accounts()) == {humas}
    for by in ("siti", "nobody"):  # by= is required here
        with pytest.raises(NotPermitted, match="set_retention"):
            office.set_retention(inbox_days=1, by=by)
    assert len(refusals(office, "set_retention")) == 2
    assert office.institution != "Dinas Palsu"
    assert office.retention() is None
    assert office.service_hours(humas)[0].to_dict() == ServiceHours.parse().to_dict()


def test_a_head_in_force_makes_the_changes_under_the_head_decree(
    office: Workspace, humas: str
) -> None:
    office.add_person("rina", name="Rina", by="kepala")
    office.appoint(
        "rina", accounts=[humas], role="approver", decree="SK/9", valid_from=today(), by="kepala"
    )
    office.set_approval_rule(humas, approvers=2, late_drafts_need_admin=True, by="kepala")
    office.add_account("other", paper_account("@other"), by="kepala")
    office.add_account("other", paper_account("@other2"), by="kepala")
    office.set_institution("Dinas Kominfo Kota Contoh", by="kepala")
    office.set_retention(inbox_days=365, by="kepala")
    office.set_service_hours(humas, "Mon-Fri 07:30-16:00", by="kepala")
    entries = {e.action: e for e in office.audit_log(actor="kepala")}
    assert entries["add_person"].decree == SK_HEAD
    assert entries["appoint"].detail["head_decree"] == SK_HEAD
    assert entries["set_approval_rule"].detail["late_drafts_need_admin"] is True
    assert entries["add_account"].detail["handle"] == "@other"
    assert entries["change_credentials"].detail["handle"] == "@other2"
    assert entries["change_credentials"].detail["credential_fields"] == ["access_token"]
    assert TOKEN not in str([e.model_dump() for e in office.audit_log()])
    assert office.approval_rule(humas).approvers == 2
    for action in ("set_institution", "set_retention", "set_service_hours"):
        assert entries[action].decree == SK_HEAD, action
    assert office.institution == "Dinas Kominfo Kota Contoh"
    assert office.retention() == 365


def test_add_account_is_in_the_audit_log_without_its_secrets(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "a long passphrase for the sealed credentials")
    ws.add_account("humas", paper_account(token=TOKEN))  # sealed in the database
    [entry] = ws.audit_log(action="add_account")
    assert entry.object == "humas" and entry.detail["credential_fields"] == ["access_token"]
    assert TOKEN not in entry.model_dump_json()


def test_a_head_whose_decree_ended_or_was_revoked_is_refused(office: Workspace) -> None:
    office.add_person("wakil", name="Wakil", by="kepala")
    office.appoint(
        "wakil",
        role="head",
        decree="100/2/SK/2025",
        valid_from=today() - timedelta(days=400),
        valid_until=today() - timedelta(days=1),
        by="kepala",
    )
    with pytest.raises(NotPermitted, match="ended") as raised:
        office.add_person("x", name="X", by="wakil")
    assert "wakil" in str(raised.value) and "100/2/SK/2025" in str(raised.value)
    office.add_person("pak", name="Pak", by="kepala")
    office.appoint("pak", role="head", decree="100/3/SK/2026", valid_from=today(), by="kepala")
    office.revoke("kepala", by="pak", reason="retired (SK 100/4)")
    with pytest.raises(NotPermitted, match="revoked") as raised:
        office.add_person("y", name="Y", by="kepala")
    assert "retired" in str(raised.value)
    office.add_person("y", name="Y", by="pak")


def test_the_last_head_in_force_cannot_be_revoked_and_a_revocation_needs_a_reason(
    office: Workspace,
) -> None:
    with pytest.raises(NotPermitted, match="last head") as raised:
        office.revoke("kepala", by="kepala", reason="leaving")
    assert "successor" in (raised.value.hint or "")
    assert refusals(office, "revoke")
    with pytest.raises(ConfigurationError, match="reason"):
        office.revoke("siti", by="kepala", reason=" ")
    with pytest.raises(ConfigurationError, match="no appointment in force"):
        office.revoke("kepala", "humas", by="kepala", reason="never held one there")


def test_a_head_appointment_takes_no_accounts(office: Workspace, humas: str) -> None:
    with pytest.raises(ConfigurationError, match="whole workspace"):
        office.appoint(
            "siti", accounts=[humas], role="head", decree="x", valid_from=today(), by="kepala"
        )


# -- revocation, and authority at publication ------------------------------------------------


def test_a_revoked_admin_can_no_longer_act_and_their_job_is_refused_at_publication(
    office: Workspace, humas: str
) -> None:
    job = office.schedule(Post("Rapat"), [humas], at=soon(), by="siti")
    [revoked] = office.revoke("siti", humas, by="kepala", reason="mutasi (SK 800/200)")
    assert revoked.revoked_by == "kepala" and revoked.revoke_reason == "mutasi (SK 800/200)"
    assert not revoked.in_force(today())
    with pytest.raises(NotPermitted, match="revoked"):
        office.schedule(Post("Lagi"), [humas], at=soon(), by="siti")
    server, clock = PaperServer(), Clock()
    publish_due(office, server, clock)
    assert server.posts == {}
    [delivery] = office.job(job.id).deliveries
    assert delivery.status == "refused" and office.job(job.id).status == "refused"
    assert "siti's admin appointment" in (delivery.error or "")
    assert "revoked" in (delivery.error or "") and "mutasi" in (delivery.error or "")
    [entry] = office.audit_log(action="refused")
    assert entry.object == delivery.id and "revoked" in entry.detail["error"]


def test_a_recurring_job_stops_when_its_admins_decree_ends(office: Workspace, humas: str) -> None:
    start = datetime.now(UTC) + timedelta(minutes=2)
    job = office.schedule(
        Post("Harian"), [humas], at=start, recurrence="FREQ=DAILY;COUNT=5", by="siti"
    )
    server, clock = PaperServer(), Clock()
    clock.now = start.timestamp() + 1
    run(office, server, clock)
    assert [p["text"] for p in server.posts.values()] == ["Harian"]
    # siti's appointment ends: tomorrow's occurrence must not go out, nor any after it
    office.revoke("siti", humas, by="kepala", reason="SK ended early")
    clock.now = start.timestamp() + 86400 + 1
    run(office, server, clock)
    clock.now += 86400 * 3
    run(office, server, clock)
    assert len(server.posts) == 1
    statuses = sorted(d.status for d in office.job(job.id).deliveries)
    assert statuses == ["published", "refused"], "the series stops at the refusal"
    [entry] = office.audit_log(action="refused")
    assert entry.detail["series"].startswith("stopped")


def test_an_admin_whose_decree_ends_before_the_post_is_due_is_refused(
    office: Workspace, humas: str
) -> None:
    office.add_person("tono", name="Tono", by="kepala")
    office.appoint(
        "tono",
        accounts=[humas],
        role="admin",
        decree="800/7/SK/2026",
        valid_from=today() - timedelta(days=10),
        valid_until=today() + timedelta(days=1),
        by="kepala",
    )
    at = datetime.now(UTC) + timedelta(days=3)
    job = office.schedule(Post("Nanti"), [humas], at=at, by="tono")
    server, clock = PaperServer(), Clock()
    clock.now = at.timestamp() + 1
    run(office, server, clock)
    assert server.posts == {}
    [delivery] = office.job(job.id).deliveries
    assert delivery.status == "refused" and "ended" in (delivery.error or "")


def test_approvers_must_still_hold_their_appointments_when_the_draft_goes_out(
    office: Workspace, humas: str
) -> None:
    draft = office.add_draft(Post("Vaksin"), accounts=[humas], by="budi", at=soon())
    assert office.approve(draft.id, by="rahmat").status == "scheduled"
    office.revoke("rahmat", by="kepala", reason="SK dicabut")
    server, clock = PaperServer(), Clock()
    publish_due(office, server, clock)
    assert server.posts == {}
    [delivery] = office.job(office.draft(draft.id).job_id or "").deliveries
    assert delivery.status == "refused"
    assert "needs 1 approver(s) in force, has 0" in (delivery.error or "")
    assert "rahmat's approver appointment" in (delivery.error or "")


def test_a_valid_draft_goes_out_with_the_decrees_found_at_publication(
    office: Workspace, humas: str
) -> None:
    draft = office.add_draft(Post("Info"), accounts=[humas], by="budi")
    office.approve(draft.id, by="rahmat")
    job = office.schedule(office.draft(draft.id), at=soon(), by="siti")
    server, clock = PaperServer(), Clock()
    publish_due(office, server, clock)
    assert [p["text"] for p in server.posts.values()] == ["Info"]
    [entry] = office.audit_log(action="publish")
    assert entry.actor == "siti" and entry.decree == f"{SK_ADMIN}, {SK_APPROVER}"
    assert entry.detail["draft"] == draft.id and entry.detail["approvers"] == ["rahmat"]
    assert office.job(job.id).status == "published"


def test_a_rule_that_later_wants_admins_approved_stops_their_planned_posts(
    office: Workspace, humas: str
) -> None:
    job = office.schedule(Post("Langsung"), [humas], at=soon(), by="siti")
    office.set_approval_rule(humas, admin_needs_approval=True, by="kepala")
    server, clock = PaperServer(), Clock()
    publish_due(office, server, clock)
    assert server.posts == {}
    assert office.job(job.id).deliveries[0].status == "refused"


def test_a_draft_cannot_be_scheduled_or_queued_on_accounts_it_was_not_approved_for(
    office: Workspace, humas: str
) -> None:
    office.add_account("other", paper_account("@other"), slots="Mon-Sun 08:00", by="kepala")
    draft = office.add_draft(Post("Hanya humas"), accounts=[humas], by="budi")
    office.approve(draft.id, by="rahmat")
    for attempt in (
        lambda: office.enqueue(office.draft(draft.id), ["other"], by="siti"),
        lambda: office.schedule(office.draft(draft.id), ["other"], at=soon(), by="siti"),
        lambda: office.enqueue(office.draft(draft.id), [humas, "other"], by="siti"),
    ):
        with pytest.raises(NotPermitted, match="not for other"):
            attempt()
    assert office.jobs() == []
    assert len(refusals(office, "enqueue")) == 2 and len(refusals(office, "schedule")) == 1


# -- late drafts ------------------------------------------------------------------------------


def test_a_draft_whose_time_passed_while_waiting_is_published_at_once_with_the_delay_noted(
    office: Workspace, humas: str
) -> None:
    late = datetime.now(UTC) - timedelta(seconds=50)
    draft = office.add_draft(Post("Terlambat"), accounts=[humas], by="budi", at=late)
    approved = office.approve(draft.id, by="rahmat")
    assert approved.status == "scheduled" and approved.next_step is None
    [entry] = office.audit_log(action="schedule")
    assert entry.detail["late"] is True and entry.detail["delay_seconds"] >= 50
    requested = datetime.fromisoformat(entry.detail["requested_at"])
    assert abs((requested - late).total_seconds()) < 1
    server, clock = PaperServer(), Clock()
    run(office, server, clock)  # due now: published on the first run
    assert [p["text"] for p in server.posts.values()] == ["Terlambat"]


def test_a_late_draft_waits_for_an_admin_where_the_rule_says_so(
    office: Workspace, humas: str
) -> None:
    office.set_approval_rule(humas, late_drafts_need_admin=True, by="kepala")
    late = datetime.now(UTC) - timedelta(seconds=50)
    draft = office.add_draft(Post("Tunggu"), accounts=[humas], by="budi", at=late)
    approved = office.approve(draft.id, by="rahmat")
    assert approved.status == "approved" and approved.job_id is None
    assert approved.next_step is not None and "passed while it waited" in approved.next_step
    assert office.jobs() == []
    job = office.schedule(approved, at=soon(), by="siti")
    assert office.draft(draft.id).next_step is None and office.draft(draft.id).job_id == job.id


# -- one draft, one decision at a time --------------------------------------------------------


def _pair(url: str) -> tuple[Workspace, Workspace]:
    return Workspace.open(url), Workspace.open(url)


@pytest.fixture
def url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    return (
        str(tmp_path / "ws.db")
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )


def _team(ws: Workspace) -> None:
    ws.add_account("humas", paper_account())
    since = today() - timedelta(days=1)
    for person, role, decree in (
        ("siti", "admin", SK_ADMIN),
        ("tono", "admin", "SK/t"),
        ("rahmat", "approver", SK_APPROVER),
        ("rina", "approver", "SK/r"),
        ("budi", "contributor", SK_CONTRIBUTOR),
    ):
        ws.add_person(person, name=person.title())
        ws.appoint(person, accounts=["humas"], role=role, decree=decree, valid_from=since)


def _at_once(
    pair: tuple[Workspace, Workspace],
    hold: Callable[[Workspace], tuple[object, str]],
    act: list[Callable[[], object]],
    monkeypatch: pytest.MonkeyPatch,
) -> list[object]:
    """Run ``act[i]`` in a thread each, both held at the same point (``hold`` names the
    object and method to hold at) until both reached it, so both read the draft before
    either writes."""
    barrier = threading.Barrier(2, timeout=20)
    for ws in pair:
        owner, name = hold(ws)
        original = getattr(owner, name)

        def held(*args: object, _original: Any = original, **kwargs: object) -> object:
            result = _original(*args, **kwargs)
            barrier.wait()
            return result

        monkeypatch.setattr(owner, name, held)
    outcomes: list[object] = []

    def go(action: Callable[[], object]) -> None:
        try:
            outcomes.append(action())
        except NotPermitted as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=go, args=(action,)) for action in act]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    monkeypatch.undo()
    return outcomes


@pytest.mark.parametrize("url", ["sqlite", "postgresql"], indirect=True)
def test_two_approvers_at_once_make_the_draft_approved(
    url: str, plugins: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    first, second = pair = _pair(url)
    try:
        _team(first)
        first.set_approval_rule("humas", approvers=2)
        draft = first.add_draft(Post("Dua"), accounts=["humas"], by="budi")
        outcomes = _at_once(
            pair,
            lambda ws: (ws.core.authority, "approval_rule"),  # read after the draft
            [
                lambda: first.approve(draft.id, by="rahmat"),
                lambda: second.approve(draft.id, by="rina"),
            ],
            monkeypatch,
        )
        assert all(type(o).__name__ == "Draft" for o in outcomes), outcomes
        stored = first.draft(draft.id)
        assert stored.status == "approved"
        assert sorted(a.person for a in stored.approvals) == ["rahmat", "rina"]
        counts = sorted(e.detail["approvals"] for e in first.audit_log(action="approve"))
        assert counts == [1, 2]
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("url", ["sqlite", "postgresql"], indirect=True)
def test_two_admins_at_once_make_exactly_one_job(
    url: str, plugins: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    first, second = pair = _pair(url)
    try:
        _team(first)
        draft = first.add_draft(Post("Satu"), accounts=["humas"], by="budi")
        first.approve(draft.id, by="rahmat")
        stale = first.draft(draft.id)
        outcomes = _at_once(
            pair,
            lambda ws: (ws.core, "validate"),  # the job is validated, not yet written
            [
                lambda: first.schedule(stale, at=soon(), by="siti"),
                lambda: second.schedule(stale, at=soon(), by="tono"),
            ],
            monkeypatch,
        )
        assert sorted(type(o).__name__ for o in outcomes) == ["Job", "NotPermitted"]
        jobs = first.store.jobs()
        assert len(jobs) == 1 and first.draft(draft.id).job_id == jobs[0].id
        assert len(first.store.deliveries()) == 1
    finally:
        first.close()
        second.close()


def test_renaming_a_person_keeps_their_appointments(office: Workspace) -> None:
    office.add_person("siti", name="Siti Rahma, S.Kom.", unit="Diskominfo", by="kepala")
    assert office.person("siti").name == "Siti Rahma, S.Kom."
    assert [a.role for a in office.appointments(person="siti")] == ["admin"]


@pytest.mark.parametrize("url", ["sqlite", "postgresql"], indirect=True)
def test_a_workspace_from_before_heads_is_upgraded_with_its_appointments(
    url: str, plugins: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import govsocial.store as store_module
    from govsocial.store import schema

    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    # the schema just before the heads migration, found by what it does, not its number
    before = next(
        n
        for n, migration in enumerate(schema.MIGRATIONS)
        if any("appointments_v10" in str(statement) for statement in migration)
    )
    monkeypatch.setattr(store_module, "MIGRATIONS", schema.MIGRATIONS[:before])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", before)
    with Workspace.open(url) as old:  # written as the schema before heads stores them
        account = paper_account()
        store, now = old.store, time.time()
        store.put_account(
            AccountRow(
                name="humas",
                platform="paper",
                handle=account.handle,
                base_url=account.base_url,
                timezone=account.timezone,
                display_name=None,
                credentials=old.core.sealer.seal(account.credentials).values,
                slots=None,
                created_at=now,
            )
        )
        with store.transaction() as tx:
            # as that schema stores a person (today's put_person writes later columns)
            store.governance.db.execute(
                tx,
                "INSERT INTO people (id, name, unit, created_at) VALUES (?, ?, ?, ?)",
                ("siti", "Siti", None, now),
            )
            row = ("ap1", "siti", "humas", "admin", SK_ADMIN, today().isoformat(), None, now)
            store.governance.add_appointment(tx, row)
    monkeypatch.undo()
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    with Workspace.open(url) as ws:
        assert ws.store.meta("schema_version") == str(len(schema.MIGRATIONS))
        [kept] = ws.appointments(person="siti")
        assert (kept.account, kept.role, kept.decree, kept.revoked_at) == (
            "humas",
            "admin",
            SK_ADMIN,
            None,
        )
        # planned under the upgraded appointment (today's planner writes later columns)
        job = ws.planner.plan(
            Post("Lama"),
            ["humas"],
            soon(),
            None,
            authority={"by": "siti", "draft": None, "accounts": {"humas": SK_ADMIN}},
            by="siti",
            action="schedule",
        )
        ws.add_person("kepala", name="Kepala")
        ws.appoint("kepala", role="head", decree=SK_HEAD, valid_from=today())
        ws.revoke("siti", by="kepala", reason="upgrade check")
        server, clock = PaperServer(), Clock()
        publish_due(ws, server, clock)
        assert server.posts == {} and ws.job(job.id).deliveries[0].status == "refused"
