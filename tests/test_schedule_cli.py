"""The workspace commands, through the real argument parser."""

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
        'timezone = "Asia/Jayapura"\ncredentials = { access_token = "env:PAPER_TOKEN" }\n'
    )
    url = str(tmp_path / "ws.db")
    assert main(["--db", url, "init"]) == 0  # only init creates a workspace
    assert main(["--db", url, "accounts", "import", str(accounts)]) == 0
    return url


def test_schedule_list_and_cancel(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert (
        main(
            [
                "--db",
                db,
                "schedule",
                "Halo Jayapura",
                "--to",
                "humas",
                "--at",
                "2099-01-01T09:00+09:00",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    job_id = out.split()[1]
    assert "scheduled" in out and "2099-01-01 00:00Z" in out
    assert main(["--db", db, "jobs", "--json"]) == 0
    [job] = json.loads(capsys.readouterr().out)
    assert job["id"] == job_id and job["post"]["text"] == "Halo Jayapura"
    assert main(["--db", db, "cancel", job_id]) == 0
    assert "cancelled" in capsys.readouterr().out
    assert main(["--db", db, "accounts", "list"]) == 0
    assert "Asia/Jayapura" in capsys.readouterr().out


def test_a_naive_time_is_a_usage_error_naming_the_zone(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", db, "schedule", "Halo", "--to", "humas", "--at", "2099-01-01T09:00"]) == 2
    assert "Asia/Jayapura" in capsys.readouterr().err
    assert main(["--db", db, "jobs"]) == 0
    assert "no jobs" in capsys.readouterr().out


def test_db_defaults_to_the_environment(
    tmp_path: Path,
    plugins: Plugins,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GOVSOCIAL_DB", str(tmp_path / "from-env.db"))
    assert main(["jobs"]) == 2, "only init creates a workspace"
    assert not (tmp_path / "from-env.db").exists()
    assert main(["init"]) == 0
    assert (tmp_path / "from-env.db").exists()
    assert main(["jobs"]) == 0


def test_metrics_collect_on_a_workspace_without_posts(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No published posts: nothing to measure, said plainly; the account fails clearly."""
    monkeypatch.delenv("PAPER_TOKEN", raising=False)
    assert main(["--db", db, "metrics", "collect"]) == 1
    captured = capsys.readouterr()
    assert "0 post snapshots, 0 account snapshots" in captured.out
    assert "humas: not collected" in captured.err and "PAPER_TOKEN" in captured.err


def test_metrics_collect_shows_progress_per_account(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAPER_TOKEN", raising=False)
    main(["--db", db, "metrics", "collect"])
    assert (
        "[##############################] 1/1 accounts, 0 posts  (humas)" in capsys.readouterr().err
    )
