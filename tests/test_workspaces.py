"""Many workspaces in one database: the registry, isolation, archiving, hostile names, and
one fleet of workers serving them all fairly."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from fakes import TOKEN, PaperServer, paper_account, soon
from govsocial import SigningKey, Workspace, Workspaces
from govsocial.cli import main
from govsocial.client import AsyncClient
from govsocial.core.errors import ConfigurationError, NotFound, NotPermitted
from govsocial.core.models import Post
from govsocial.plugin.manager import Plugins
from govsocial.scheduling.fleet import Fleet, RateBudgets
from govsocial.scheduling.worker import Worker
from govsocial.store import SharedConnection
from govsocial.store.registry import Registry

HOSTILE = [
    'a"; DROP SCHEMA public CASCADE; --',
    "kota'; DELETE FROM govsocial_workspaces; --",
    "Kota",
    "1kota",
    "kota-bogor",
    "kota bogor",
    "",
    "k" * 41,
    "kotä",
    "kota\x00x",
    "kota\u202e",
    "../../etc/passwd",
]


def _schemas(base: str) -> list[str]:
    import psycopg

    schema = base.rsplit("%3D", 1)[1]
    with psycopg.connect(base.split("?")[0], autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY nspname",
            (schema + "\\_%",),
        ).fetchall()
    return [str(r[0]) for r in rows]


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database for a registry of workspaces; its workspaces' schemas dropped after."""
    if request.param == "sqlite":
        yield str(tmp_path / "agencies.db")
        return
    url = request.getfixturevalue("postgres_url")
    try:
        yield url
    finally:
        import psycopg

        with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
            for name in _schemas(url):
                conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture
def two(registry_url: str, plugins: Plugins, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    with Workspaces.open(registry_url) as spaces:
        spaces.create("kota_a", institution="Dinas Kominfo Kota A", by="operator")
        spaces.create("kota_b", institution="Dinas Kominfo Kota B", by="operator")
    yield registry_url


def test_created_workspaces_are_listed_and_each_audit_log_opens_with_its_creation(
    two: str, plugins: Plugins
) -> None:
    with Workspaces.open(two) as spaces:
        entries = spaces.list()
    assert [(e.name, e.institution, e.created_by) for e in entries] == [
        ("kota_a", "Dinas Kominfo Kota A", "operator"),
        ("kota_b", "Dinas Kominfo Kota B", "operator"),
    ]
    for name, institution in (
        ("kota_a", "Dinas Kominfo Kota A"),
        ("kota_b", "Dinas Kominfo Kota B"),
    ):
        with Workspace.open(two, workspace=name, plugins=plugins) as ws:
            log = ws.audit_log()
            assert [(e.seq, e.actor, e.action, e.object) for e in log] == [
                (1, "operator", "create_workspace", name)
            ]
            assert ws.core.institution == institution
            assert ws.verify_audit() == 1


def test_a_name_is_never_reused(two: str) -> None:
    with Workspaces.open(two) as spaces, pytest.raises(ConfigurationError) as caught:
        spaces.create("kota_a", institution="Someone else")
    assert caught.value.field == "workspace"


def test_opening_an_unknown_workspace_creates_nothing(two: str, plugins: Plugins) -> None:
    with pytest.raises(NotFound) as caught:
        Workspace.open(two, workspace="kota_c", plugins=plugins)
    assert caught.value.field == "workspace"
    with Workspaces.open(two) as spaces:
        assert [e.name for e in spaces.list()] == ["kota_a", "kota_b"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_workspace_names_are_refused_before_anything_is_made(
    two: str, plugins: Plugins, name: str
) -> None:
    before = _schemas(two) if two.startswith("postgresql") else None
    with Workspaces.open(two) as spaces:
        with pytest.raises(ConfigurationError) as caught:
            spaces.create(name, institution="Hostile")
        assert caught.value.field == "workspace"
        assert "a-z, 0-9 and _" in str(caught.value)
        assert [e.name for e in spaces.list()] == ["kota_a", "kota_b"]
    with pytest.raises(ConfigurationError):
        Workspace.open(two, workspace=name, plugins=plugins)
    if before is not None:
        assert _schemas(two) == before
    else:
        folder = Path(two).parent
        assert sorted(p.name for p in folder.glob("agencies*.db")) == [
            "agencies.registry.db",
            "agencies.ws-kota_a.db",
            "agencies.ws-kota_b.db",
        ]


def test_a_schema_is_always_quoted_as_an_identifier(postgres_url: str) -> None:
    shared = SharedConnection(postgres_url)
    try:
        shared.use('gs_x"; DROP SCHEMA public; --')
        row = shared.conn.execute("SHOW search_path").fetchone()
        assert row is not None
        assert row[0] == '"gs_x""; DROP SCHEMA public; --"'
        exists = shared.conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'public'"
        ).fetchone()
        assert exists is not None and exists[0] == 1
    finally:
        shared.close()


def test_what_one_workspace_holds_is_not_seen_from_another(two: str, plugins: Plugins) -> None:
    with Workspace.open(two, workspace="kota_a", plugins=plugins) as a:
        a.add_account("humas", paper_account())
        a.add_person("siti", name="Siti")
        a.schedule(Post("Only in A"), ["humas"], at=soon())
    with Workspace.open(two, workspace="kota_b", plugins=plugins) as b:
        assert b.store.accounts() == []
        assert b.people() == []
        assert b.jobs() == []
        with pytest.raises(ConfigurationError):
            b.schedule(Post("From B"), ["humas"], at=soon())
        assert b.jobs() == []


def test_a_person_and_key_valid_in_one_workspace_are_refused_in_another(
    two: str, plugins: Plugins
) -> None:
    siti_key = SigningKey.generate()
    with Workspace.open(two, workspace="kota_a", plugins=plugins) as a:
        a.add_person("siti", name="Siti", public_key=siti_key.public_key)
        a.appoint("siti", role="head", decree="SK-A/1", valid_from="2020-01-01")
        a.add_person("budi", name="Budi", by="siti", key=siti_key)  # valid in A
    with Workspace.open(two, workspace="kota_b", plugins=plugins) as b:
        # B has its own head, and its own person called siti with another key
        b.add_person("rina", name="Rina")
        b.appoint("rina", role="head", decree="SK-B/1", valid_from="2020-01-01")
        other = SigningKey.generate()
        b.add_person("siti", name="Siti B", public_key=other.public_key, by="rina")
        # A's siti, with A's key: B's siti signs with another key
        with pytest.raises(NotPermitted):
            b.add_person("joko", name="Joko", by="siti", key=siti_key)
        # A's budi is nobody in B
        with pytest.raises(NotPermitted):
            b.add_person("joko", name="Joko", by="budi")
        assert sorted(p.id for p in b.people()) == ["rina", "siti"]
        refused = [e for e in b.audit_log() if e.action == "refused:add_person"]
        assert [e.actor for e in refused] == ["siti", "budi"]
        assert b.verify_audit() > 0


def test_an_archived_workspace_keeps_its_data_and_publishes_nothing(
    two: str, plugins: Plugins, paper_server: PaperServer
) -> None:
    with Workspace.open(two, workspace="kota_a", plugins=plugins) as a:
        a.add_account("humas", paper_account())
        job = a.schedule(Post("Planned"), ["humas"], at=soon(30))
    assert (
        main(
            [
                "--db",
                two,
                "workspaces",
                "archive",
                "kota_a",
                "--by",
                "operator",
                "--reason",
                "merged",
            ]
        )
        == 0
    )
    with Workspace.open(two, workspace="kota_a", plugins=plugins) as a:
        assert [j.id for j in a.jobs()] == [job.id]  # kept
        with pytest.raises(NotPermitted):
            a.schedule(Post("After"), ["humas"], at=soon(30))
        with pytest.raises(NotPermitted):
            a.client()  # direct publishing too

        async def go() -> int:
            async with AsyncClient(
                transport=paper_server.transport(), **a.core.client_options()
            ) as client:
                return await Worker(a, clock=lambda: time.time() + 31).run_due(client)

        assert asyncio.run(go()) == 0
        assert paper_server.posts == {}
        last = a.audit_log()[-1]
        assert (last.actor, last.action, last.detail) == (
            "operator",
            "archive_workspace",
            {"reason": "merged"},
        )
        assert a.verify_audit() > 0
    with Workspaces.open(two) as spaces:
        assert spaces.get("kota_a").archived_by == "operator"
        with pytest.raises(ConfigurationError):
            spaces.archive("kota_a")


def test_the_command_line_creates_lists_and_reaches_a_workspace(
    registry_url: str, plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "--db",
                registry_url,
                "workspaces",
                "create",
                "dinkes",
                "--institution",
                "Dinas Kesehatan",
                "--by",
                "operator",
            ]
        )
        == 0
    )
    assert (
        main(["--db", registry_url, "workspaces", "create", "bad name", "--institution", "X"]) == 2
    )
    capsys.readouterr()
    assert main(["--db", registry_url, "workspaces", "list", "--json"]) == 0
    listed = capsys.readouterr().out
    assert '"name": "dinkes"' in listed and "bad name" not in listed
    assert (
        main(
            [
                "--db",
                registry_url,
                "--workspace",
                "dinkes",
                "people",
                "add",
                "siti",
                "--name",
                "Siti",
            ]
        )
        == 0
    )
    with Workspace.open(registry_url, workspace="dinkes", plugins=plugins) as ws:
        assert [p.id for p in ws.people()] == ["siti"]
    assert main(["--db", registry_url, "--workspace", "nowhere", "people", "list"]) == 2


# -- one fleet, many workspaces -------------------------------------------------------------


def _fleet_run(
    url: str, server: PaperServer, clock: float | Callable[[], float], **options: object
) -> Fleet:
    """One fleet run until idle against ``server``, at the fixed time ``clock`` (or the
    time the callable ``clock`` tells)."""
    now = clock if callable(clock) else lambda: clock

    async def go() -> Fleet:
        spaces = Workspaces.open(url)
        http = httpx.AsyncClient(transport=server.transport())
        try:
            fleet = Fleet(spaces, http_client=http, clock=now, **options)  # type: ignore[arg-type]
            await fleet.run(stop=asyncio.Event(), until_idle=True, poll=0.01)
            return fleet
        finally:
            await http.aclose()
            spaces.close()

    return asyncio.run(go())


def test_a_backlog_in_one_workspace_does_not_delay_a_post_due_in_another(
    two: str, plugins: Plugins, paper_server: PaperServer
) -> None:
    with Workspace.open(two, workspace="kota_a", plugins=plugins) as a:
        a.add_account("humas", paper_account())
        for n in range(40):
            a.schedule(Post(f"backlog {n}"), ["humas"], at=soon(10))
    with Workspace.open(two, workspace="kota_b", plugins=plugins) as b:
        b.add_account("humas", paper_account())
        b.schedule(Post("due now in B"), ["humas"], at=soon(30))
    fleet = _fleet_run(two, paper_server, time.time() + 31, concurrency=4, per_turn=2)
    received = [str(p["text"]) for p in paper_server.posts.values()]
    assert len(received) == 41 and len(set(received)) == 41
    # B's post is claimed in the first turn (after at most per_turn of A's backlog) ...
    order = [name for name, _ in fleet.claimed]
    assert order.index("kota_b") <= 2
    # ... and reached the server among the first turn's posts, not after the backlog
    assert received.index("due now in B") <= 2


def test_workers_share_a_rate_budget_through_the_database(registry_url: str) -> None:
    first, second = Registry(registry_url), Registry(registry_url)
    try:
        budgets = [
            RateBudgets(r, platform_rates={"paper": 0.001}, burst=3) for r in (first, second)
        ]
        scope = budgets[0].scopes("kota_a", "humas", "paper", "https://paper.test")
        assert scope == [("platform:paper:paper.test", 0.001)]
        waits = [b.registry.take(scope[0][0], rate=0.001, burst=3) for b in (*budgets, *budgets)]
        # three tokens in the bucket, whichever process takes them; the fourth waits
        assert [w == 0 for w in waits] == [True, True, True, False]
        assert waits[3] > 100
    finally:
        first.close()
        second.close()


def test_the_fleet_takes_each_delivery_from_its_account_and_platform_budgets(
    two: str, plugins: Plugins, paper_server: PaperServer
) -> None:
    with Workspace.open(two, workspace="kota_a", plugins=plugins) as a:
        a.add_account("humas", paper_account())
        for n in range(3):
            a.schedule(Post(f"post {n}"), ["humas"], at=soon(10))

    async def go() -> None:
        spaces = Workspaces.open(two)
        http = httpx.AsyncClient(transport=paper_server.transport())
        try:
            budgets = RateBudgets(
                spaces.registry, platform_rates={"paper": 0.001}, account_rate=0.001, burst=10
            )
            fleet = Fleet(spaces, http_client=http, budgets=budgets, clock=lambda: time.time() + 11)
            await fleet.run(stop=asyncio.Event(), until_idle=True, poll=0.01)
        finally:
            await http.aclose()
            spaces.close()

    asyncio.run(go())
    assert len(paper_server.posts) == 3
    with Workspaces.open(two) as spaces:
        left = spaces.registry.budgets()
    # ten tokens each at the start, one taken per delivery (the refill in between is ~0)
    assert {scope: round(tokens) for scope, tokens in left.items()} == {
        "account:kota_a:humas": 7,
        "platform:paper:paper.test": 7,
    }


def test_a_rate_must_be_a_positive_number(registry_url: str) -> None:
    registry = Registry(registry_url)
    try:
        for rate in (0, -1, float("nan"), float("inf")):
            with pytest.raises(ConfigurationError) as caught:
                RateBudgets(registry, platform_rates={"paper": rate})
            assert caught.value.field == "rate"
    finally:
        registry.close()


# -- broadcasts ---------------------------------------------------------------------------


@pytest.fixture
def province(
    registry_url: str, plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, SigningKey]]:
    """A province coordinating three cities: A wants drafts, B publishes automatically
    under appointments, C accepts nothing."""
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    gub = SigningKey.generate()
    with Workspaces.open(registry_url) as spaces:
        for name in ("provinsi", "kota_a", "kota_b", "kota_c"):
            spaces.create(name, institution=name.title(), by="operator")
    with Workspace.open(registry_url, workspace="provinsi", plugins=plugins) as p:
        p.add_person("gub", name="Gubernur", public_key=gub.public_key)
        p.appoint("gub", role="head", decree="SK-P/1", valid_from="2020-01-01")
    for name in ("kota_a", "kota_b", "kota_c"):
        with Workspace.open(registry_url, workspace=name, plugins=plugins) as ws:
            ws.add_account("humas", paper_account())
            ws.add_person("wali", name="Wali Kota")
            ws.appoint("wali", role="head", decree=f"SK-{name}/1", valid_from="2020-01-01")
            ws.add_person("ani", name="Ani", by="wali")
            ws.add_person("eko", name="Eko", by="wali")
            ws.appoint(
                "ani",
                accounts=["humas"],
                role="admin",
                decree="SK-2",
                valid_from="2020-01-01",
                by="wali",
            )
            ws.appoint(
                "eko",
                accounts=["humas"],
                role="approver",
                decree="SK-3",
                valid_from="2020-01-01",
                by="wali",
            )
            if name == "kota_a":
                ws.accept_broadcasts("provinsi", by="wali")
            if name == "kota_b":
                with pytest.raises(NotPermitted):  # a setting: only the head of office
                    ws.accept_broadcasts("provinsi", automatic=True, by="ani")
                ws.accept_broadcasts("provinsi", automatic=True, by="wali")
    yield registry_url, gub


def test_a_broadcast_lands_under_each_targets_own_rules_and_both_logs(
    province: tuple[str, SigningKey], plugins: Plugins, paper_server: PaperServer
) -> None:
    url, gub = province
    with Workspace.open(url, workspace="provinsi", plugins=plugins) as p:
        with pytest.raises(NotPermitted):  # the coordinating person signs
            p.broadcast(Post("Siaran"), workspaces="all", by="gub")
        sent = p.broadcast(Post("Siaran"), workspaces="all", by="gub", key=gub)
        outcomes = {t.workspace: t.outcome for t in sent.targets}
        assert outcomes == {"kota_a": "draft", "kota_b": "job", "kota_c": "refused"}
        [entry] = [e for e in p.audit_log() if e.action == "broadcast"]
        assert (entry.actor, entry.decree, entry.object) == ("gub", "SK-P/1", sent.id)
        assert entry.signature is not None
        assert set(entry.detail["targets"]) == {"kota_a", "kota_b", "kota_c"}
        assert p.verify_audit() > 0
    with Workspace.open(url, workspace="kota_a", plugins=plugins) as a:
        [draft] = a.drafts()
        assert (draft.status, draft.author, draft.post.text) == (
            "pending",
            "broadcast:provinsi",
            "Siaran",
        )
        assert a.jobs() == []
        got = [e for e in a.audit_log() if e.action == "broadcast"]
        assert [e.detail["by"] for e in got] == ["gub"] and got[0].object == sent.id
    with Workspace.open(url, workspace="kota_b", plugins=plugins) as b:
        [job] = b.jobs()
        assert b.drafts() == []
    with Workspace.open(url, workspace="kota_c", plugins=plugins) as c:
        assert c.jobs() == [] and c.drafts() == []
        assert [e.action for e in c.audit_log()][-1] == "refused:broadcast"

    _fleet_run(url, paper_server, time.time() + 5)
    assert [p["text"] for p in paper_server.posts.values()] == ["Siaran"]  # B's only
    with Workspace.open(url, workspace="kota_b", plugins=plugins) as b:
        [delivery] = b.job(job.id).deliveries
        assert delivery.status == "published"
        [published] = [e for e in b.audit_log() if e.action == "publish"]
        assert (published.actor, published.decree) == ("broadcast:provinsi", "SK-kota_b/1")
    # A's approver approves: its time has come, so it is planned at once, as any late
    # draft of A (the rule's late_drafts_need_admin would leave it for an admin instead)
    with Workspace.open(url, workspace="kota_a", plugins=plugins) as a:
        assert a.approve(draft.id, by="eko").status == "scheduled"
    _fleet_run(url, paper_server, time.time() + 11)
    assert [p["text"] for p in paper_server.posts.values()] == ["Siaran", "Siaran"]
    for name in ("provinsi", "kota_a", "kota_b", "kota_c"):
        with Workspace.open(url, workspace=name, plugins=plugins) as ws:
            assert ws.verify_audit() > 0


def test_a_broadcast_job_is_refused_once_its_acceptance_is_withdrawn(
    province: tuple[str, SigningKey], plugins: Plugins, paper_server: PaperServer
) -> None:
    url, gub = province
    with Workspace.open(url, workspace="provinsi", plugins=plugins) as p:
        sent = p.broadcast(Post("Siaran"), workspaces=["kota_b"], at=soon(60), by="gub", key=gub)
    assert [t.outcome for t in sent.targets] == ["job"]
    with Workspace.open(url, workspace="kota_b", plugins=plugins) as b:
        b.stop_broadcasts("provinsi", by="wali")
    _fleet_run(url, paper_server, time.time() + 61)
    assert paper_server.posts == {}
    with Workspace.open(url, workspace="kota_b", plugins=plugins) as b:
        [job] = b.jobs()
        assert [d.status for d in job.deliveries] == ["refused"]
        assert b.verify_audit() > 0


def test_a_broadcast_names_only_registered_workspaces(
    province: tuple[str, SigningKey], plugins: Plugins
) -> None:
    url, gub = province
    with Workspace.open(url, workspace="provinsi", plugins=plugins) as p:
        with pytest.raises(NotFound):
            p.broadcast(Post("Siaran"), workspaces=["kota_z"], by="gub", key=gub)
        with pytest.raises(ConfigurationError):
            p.broadcast(Post("Siaran"), workspaces=['x"; DROP TABLE jobs; --'], by="gub", key=gub)
        assert [e.action for e in p.audit_log() if e.action == "broadcast"] == []


def test_workspaces_sharing_a_connection_write_only_to_their_own_schema(two: str) -> None:
    if not two.startswith("postgresql"):
        pytest.skip("one connection for many schemas is PostgreSQL's")
    registry = Registry(two)
    a, b = registry.store("kota_a"), registry.store("kota_b")
    try:
        with a.transaction() as cur:
            a.put_meta(cur, "probe", "a1")
            with pytest.raises(RuntimeError), b.transaction() as inner:
                b.put_meta(inner, "probe", "b-rolled-back")
                raise RuntimeError("inner fails")
            with b.transaction() as inner:  # nested in A's, in B's schema
                b.put_meta(inner, "probe", "b1")
            a.put_meta(cur, "probe2", "a2")  # back in A's schema
        with pytest.raises(RuntimeError), a.transaction() as cur:
            a.put_meta(cur, "probe", "a-rolled-back")
            with b.transaction() as inner:
                b.put_meta(inner, "probe", "b-rolled-back")
            raise RuntimeError("outer fails")
        with b.transaction() as cur:  # after the outer rollback, still B's schema
            b.put_meta(cur, "probe3", "b3")
        assert (a.meta("probe"), a.meta("probe2"), a.meta("probe3")) == ("a1", "a2", None)
        assert (b.meta("probe"), b.meta("probe2"), b.meta("probe3")) == ("b1", None, "b3")
    finally:
        a.close()
        b.close()
        registry.close()


def test_the_command_line_accepts_and_sends_a_broadcast(
    registry_url: str,
    plugins: Plugins,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    db = ["--db", registry_url]
    for name in ("provinsi", "kota_a", "kota_b"):
        assert main([*db, "workspaces", "create", name, "--institution", name]) == 0
    for name in ("kota_a", "kota_b"):
        with Workspace.open(registry_url, workspace=name, plugins=plugins) as ws:
            ws.add_account("humas", paper_account())
    assert (
        main([*db, "--workspace", "kota_a", "broadcasts", "accept", "provinsi", "--automatic"]) == 0
    )
    assert main([*db, "--workspace", "kota_b", "broadcasts", "accept", "provinsi"]) == 0
    assert main([*db, "--workspace", "kota_b", "broadcasts", "stop", "provinsi"]) == 0
    capsys.readouterr()
    assert main([*db, "--workspace", "provinsi", "broadcast", "Siaran", "--all", "--json"]) == 0
    sent = json.loads(capsys.readouterr().out)
    outcomes = {t["workspace"]: t["outcome"] for t in sent["targets"]}
    assert outcomes == {"kota_a": "job", "kota_b": "refused"}
    with Workspace.open(registry_url, workspace="kota_a", plugins=plugins) as a:
        [job] = a.jobs()
        assert job.post.text == "Siaran" and job.id == sent["targets"][0]["job"]
    with Workspace.open(registry_url, workspace="kota_b", plugins=plugins) as b:
        assert b.jobs() == [] and b.drafts() == []
    # without --workspace there is no coordinating workspace to send from
    assert main([*db, "broadcast", "Siaran", "--all"]) == 2


def test_one_statement_claims_each_workspace_its_share_and_nothing_twice(
    two: str, plugins: Plugins
) -> None:
    if not two.startswith("postgresql"):
        pytest.skip("a claim across schemas is PostgreSQL's (SQLite: a file per workspace)")
    for name, posts in (("kota_a", 3), ("kota_b", 2)):
        with Workspace.open(two, workspace=name, plugins=plugins) as ws:
            ws.add_account("humas", paper_account())
            ws.add_account("locked", paper_account())
            for n in range(posts):
                ws.schedule(Post(f"{name} {n}"), ["humas", "locked"], at=soon(10))
            with ws.store.transaction() as cur:  # its key cannot open it here
                ws.store.execute(
                    cur,
                    "INSERT INTO account_locks (account, reason, locked_at) VALUES (?, ?, ?)",
                    ("locked", "no key", time.time()),
                )
    now = time.time() + 11
    first, second = Registry(two), Registry(two)
    try:
        got = first.claim({"kota_a": (2, 60.0), "kota_b": (5, 60.0)}, "w1", now)
        assert got is not None
        assert {n: len(rows) for n, rows in got.items()} == {"kota_a": 2, "kota_b": 2}
        assert {d.account for rows in got.values() for d in rows} == {"humas"}  # not locked
        assert all(d.status == "claimed" and d.lease_owner == "w1" for d in got["kota_a"])
        # another process never takes a row the first holds
        assert second.claim({"kota_b": (5, 60.0)}, "w2", now) == {"kota_b": []}
        # once their leases ran out, a dead worker's claims come back first, before the
        # scheduled one still due
        expired = {d.id for d in got["kota_a"]}
        later = second.claim({"kota_a": (2, 60.0)}, "w3", now + 61)
        assert later is not None and {d.id for d in later["kota_a"]} == expired
        rest = second.claim({"kota_a": (5, 60.0)}, "w4", now + 61)
        assert rest is not None and len(rest["kota_a"]) == 1
        # what the store holds: each humas delivery claimed by the last one that took it
        with Workspace.open(two, workspace="kota_a", plugins=plugins) as a:
            rows = {d.id: d for d in a.store.deliveries() if d.account == "humas"}
        taken = {i: "w3" for i in expired} | {rest["kota_a"][0].id: "w4"}
        assert {i: (rows[i].status, rows[i].lease_owner) for i in rows} == {
            i: ("claimed", owner) for i, owner in taken.items()
        }
        # an archived workspace gives nothing
        with Workspaces.open(two) as spaces:
            spaces.archive("kota_b", by="operator", reason="merged")
        with (
            Workspace.open(two, workspace="kota_b", plugins=plugins) as b,
            b.store.transaction() as cur,
        ):
            b.store.execute(cur, "DELETE FROM account_locks")
        assert second.claim({"kota_b": (5, 60.0)}, "w4", now + 61) == {"kota_b": []}
    finally:
        first.close()
        second.close()


def test_a_workspace_falling_due_mid_turn_is_visited_before_the_turn_ends(
    registry_url: str, plugins: Plugins, paper_server: PaperServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    busy = [f"kota_{n}" for n in range(8)]
    start = time.time() + 60
    now = [start]
    with Workspaces.open(registry_url) as spaces:
        for name in [*busy, "kota_late"]:
            spaces.create(name, institution=name, by="operator")
    for name in busy:
        with Workspace.open(registry_url, workspace=name, plugins=plugins) as ws:
            ws.add_account("humas", paper_account())
            for n in range(4):
                ws.schedule(Post(f"{name} {n}"), ["humas"], at=soon(30))
    with Workspace.open(registry_url, workspace="kota_late", plugins=plugins) as ws:
        ws.add_account("humas", paper_account())
        # falls due while the first turn goes on: after the fourth request
        ws.schedule(
            Post("falls due mid-turn"), ["humas"], at=datetime.fromtimestamp(start + 0.35, UTC)
        )

    def tick(request: httpx.Request) -> None:
        now[0] += 0.1  # each request the server answers takes a tenth of a second
        return None

    paper_server.script = [tick] * 100
    fleet = _fleet_run(registry_url, paper_server, lambda: now[0], concurrency=2, per_turn=2)
    order = [name for name, _ in fleet.claimed]
    assert len(order) == 33 and order.count("kota_late") == 1
    # the first turn visits the eight busy workspaces, two posts each (16 claims); the late
    # one is claimed once the fleet sees it due, before that turn ends, not after it
    assert order.index("kota_late") < 16
    # ... and the server received it before the sixteenth post
    received = [str(p["text"]) for p in paper_server.posts.values()]
    assert len(received) == 33 and received.index("falls due mid-turn") < 16
