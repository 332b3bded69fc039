"""The accountability commands, through the real argument parser (issue 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govsocial.cli import main
from govsocial.plugin.manager import Plugins


@pytest.fixture
def db(tmp_path: Path, plugins: Plugins) -> str:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        '[humas]\nplatform = "paper"\nhandle = "@humas"\nbase_url = "https://paper.test"\n'
        'credentials = { access_token = "env:PAPER_TOKEN" }\n'
    )
    url = str(tmp_path / "ws.db")
    assert main(["--db", url, "init"]) == 0  # only init creates a workspace
    assert main(["--db", url, "accounts", "import", str(accounts)]) == 0
    return url


def gs(db: str, *args: str) -> int:
    return main(["--db", db, *args])


def test_the_whole_workflow_from_the_command_line(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gs(db, "people", "add", "siti", "--name", "Siti Rahma", "--unit", "Diskominfo") == 0
    assert gs(db, "people", "add", "budi", "--name", "Budi", "--unit", "Dinkes") == 0
    for person, role, decree in (
        ("siti", "approver", "800/1/SK/2026"),
        ("budi", "contributor", "800/2/SK/2026"),
    ):
        assert (
            gs(
                db,
                "appoint",
                person,
                "--to",
                "humas",
                "--role",
                role,
                "--decree",
                decree,
                "--from",
                "2026-01-01",
            )
            == 0
        )
    capsys.readouterr()
    assert gs(db, "schedule", "Halo", "--to", "humas", "--at", "2099-01-01T09:00+07:00") == 2
    assert "by=<person>" in capsys.readouterr().err
    assert (
        gs(
            db,
            "drafts",
            "add",
            "Halo warga",
            "--to",
            "humas",
            "--by",
            "budi",
            "--at",
            "2099-01-01T09:00+07:00",
        )
        == 0
    )
    draft_id = capsys.readouterr().out.split()[1]
    assert gs(db, "approve", draft_id, "--by", "budi") == 2
    assert "may not approve" in capsys.readouterr().err
    assert gs(db, "approve", draft_id, "--by", "siti") == 0
    assert "scheduled" in capsys.readouterr().out
    assert gs(db, "drafts", "list", "--json") == 0
    [draft] = json.loads(capsys.readouterr().out)
    assert draft["status"] == "scheduled" and draft["approvals"][0]["person"] == "siti"
    assert gs(db, "people", "list") == 0
    assert "approver    humas" in capsys.readouterr().out
    assert (
        gs(
            db,
            "requests",
            "add",
            "--from-unit",
            "Dinkes",
            "--topic",
            "Vaksin",
            "--due",
            "2099-01-02",
            "--by",
            "siti",
        )
        == 0
    )
    assert "open" in capsys.readouterr().out
    assert gs(db, "audit", "list", "--actor", "siti") == 0
    assert "siti approve" in capsys.readouterr().out
    assert gs(db, "audit", "verify") == 0
    out = capsys.readouterr().out
    head = out.rsplit("head ", 1)[1].strip()
    assert gs(db, "audit", "verify", "--anchor", head) == 0
    assert gs(db, "archive", "export", str(tmp_path / "arsip")) == 0
    assert "0 posts" in capsys.readouterr().out
    assert (tmp_path / "arsip" / "index.html").exists()


def test_a_tampered_log_makes_verify_fail_naming_the_entry(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    assert gs(db, "people", "add", "siti", "--name", "Siti") == 0
    assert gs(db, "people", "add", "budi", "--name", "Budi") == 0
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute('UPDATE audit_log SET detail = \'{"name":"Joko"}\' WHERE seq = 2')
    capsys.readouterr()
    assert gs(db, "audit", "verify") == 1
    assert "TAMPERED: audit entry 2 was edited" in capsys.readouterr().err


def test_actions_that_need_an_actor_say_so(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert gs(db, "approve", "abc") == 2
    assert "--by PERSON" in capsys.readouterr().err


def test_the_institution_names_the_reports(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    from govsocial.app import Workspace

    assert gs(db, "institution") == 0
    assert "not set" in capsys.readouterr().out
    assert gs(db, "institution", "Dinas Kominfo Kota Contoh", "--by", "siti") == 0
    with Workspace.open(db) as ws:
        assert ws.institution == "Dinas Kominfo Kota Contoh"
        [entry] = ws.audit_log(action="set_institution")
        assert entry.actor == "siti"
        pytest.importorskip("pandas")
        assert ws.performance_report("2026-11").title.endswith("Dinas Kominfo Kota Contoh")


def test_a_head_of_office_and_a_revocation_from_the_command_line(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gs(db, "people", "add", "kepala", "--name", "Kepala Dinas") == 0
    head = ("appoint", "kepala", "--role", "head", "--decree", "100/1/SK/2026")
    assert gs(db, *head, "--from", "2026-01-01") == 0  # the first head: no --by
    assert "kepala is head of the workspace under 100/1/SK/2026" in capsys.readouterr().out
    assert gs(db, "people", "add", "siti", "--name", "Siti") == 2  # now a head must act
    assert "needs by=<head>" in capsys.readouterr().err
    assert gs(db, "people", "add", "siti", "--name", "Siti", "--by", "kepala") == 0
    appoint = ("appoint", "siti", "--to", "humas", "--role", "admin", "--decree", "800/1")
    assert gs(db, *appoint, "--from", "2026-01-01", "--by", "siti") == 2
    assert "siti may not appoint" in capsys.readouterr().err
    assert gs(db, *appoint, "--from", "2026-01-01", "--by", "kepala") == 0
    capsys.readouterr()
    revoke = ("revoke", "siti", "--account", "humas", "--reason", "mutasi")
    assert gs(db, *revoke, "--by", "siti") == 2
    assert gs(db, *revoke, "--by", "kepala") == 0
    assert "siti is no longer admin of humas (decree 800/1): mutasi" in capsys.readouterr().out
    assert gs(db, "people", "list") == 0
    assert "REVOKED" in capsys.readouterr().out
    assert (
        gs(
            db,
            "schedule",
            "Halo",
            "--to",
            "humas",
            "--at",
            "2099-01-01T09:00+07:00",
            "--by",
            "siti",
        )
        == 2
    )
    assert "revoked" in capsys.readouterr().err
