"""Workers claim, check and record in batches (issue 17): what one batch does to each of its
deliveries, read back from the fake server and the database."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from fakes import Clock, PaperServer, paper_account, run, soon
from govsocial import Post
from govsocial.app import Workspace
from govsocial.cli.schedule import DEFAULT_CONCURRENCY as CLI_DEFAULT
from govsocial.scheduling.worker import DEFAULT_CONCURRENCY


def test_the_command_line_default_is_the_workers() -> None:
    assert CLI_DEFAULT == DEFAULT_CONCURRENCY


def test_one_refused_delivery_holds_back_none_of_its_batch(ws: Workspace, humas: str) -> None:
    """Five deliveries claimed and checked together: the one whose authority no longer
    holds is refused with its audit entry, the other four go out, each once."""
    others = [f"humas-{i}" for i in range(2, 6)]
    for name in others:
        ws.add_account(name, paper_account(f"@{name}"))
    job = ws.schedule(Post("Satu batch"), [humas, *others], at=soon())
    ws.add_person("siti", name="Siti", unit="Diskominfo")  # humas is governed from now on
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    ws.appoint("siti", accounts=[humas], role="admin", decree="800/1/SK/2026", valid_from=today)
    server, clock = PaperServer(), Clock()
    clock.now += 300
    assert run(ws, server, clock, concurrency=10) == 5

    states = {d.account: d.status for d in ws.store.deliveries(job.id)}
    assert states == {humas: "refused", **{name: "published" for name in others}}
    keys = [post["key"] for post in server.posts.values()]
    assert len(keys) == 4 and len(set(keys)) == 4
    sent = {d.idempotency_key for d in ws.store.deliveries(job.id) if d.status == "published"}
    assert set(keys) == sent
    entries = {e.object: e.action for e in ws.audit_log() if e.action in ("publish", "refused")}
    assert entries == {
        d.id: ("refused" if d.account == humas else "publish") for d in ws.store.deliveries(job.id)
    }
    assert ws.verify_audit() == len(ws.audit_log())


def test_a_batch_larger_than_the_concurrency_goes_out_whole(ws: Workspace, humas: str) -> None:
    """Twelve posts for one account, a worker holding three at a time: all twelve once."""
    for i in range(12):
        ws.schedule(Post(f"Kabar {i}"), [humas], at=soon())
    server, clock = PaperServer(), Clock()
    clock.now += 300
    assert run(ws, server, clock, concurrency=3) == 12
    assert sorted(str(p["text"]) for p in server.posts.values()) == sorted(
        f"Kabar {i}" for i in range(12)
    )
    assert {d.status for d in ws.store.deliveries()} == {"published"}
    assert all(d.attempts == 1 for d in ws.store.deliveries())
    assert ws.verify_audit() == len(ws.audit_log())


@pytest.mark.parametrize("name", ["o'brien", "50%", "a?b", "x; DROP TABLE accounts"])
def test_accounts_are_looked_up_by_name_whatever_the_name(ws: Workspace, name: str) -> None:
    ws.add_account(name, paper_account("@odd"))
    assert ws.store.account(name) is not None
    assert ws.store.account(name + "x") is None
    assert list(ws.store.accounts_named([name, "nobody", name])) == [name]
    assert ws.account(name).handle == "@odd"
