"""Workspace files and crash paths (security review, findings 17 and 18).

The SQLite file is created 0600; only ``govsocial init`` creates a workspace from the
command line; a damaged database or accounts file is a one-line error with exit status 2;
no URL, repr or error message shows a PostgreSQL password.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from govsocial.app import Workspace
from govsocial.cli import main
from govsocial.client.accounts_file import load_accounts
from govsocial.core.errors import ConfigurationError
from govsocial.plugin.manager import Plugins
from govsocial.store import PostgresStore, open_store, redact_url
from govsocial.workspace.core import WorkspaceCore

PASSWORD = "hunter2-s3cret"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def govsocial(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GOVSOCIAL_DB", "GOVSOCIAL_ACTOR")}
    return subprocess.run(
        [sys.executable, "-m", "govsocial.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**env, "GOVSOCIAL_LOAD_PLUGINS": ""},
        timeout=120,
    )


# -- file modes (finding 18) ---------------------------------------------------------------


def test_a_new_workspace_file_and_its_wal_are_0600_even_with_umask_0(
    tmp_path: Path, plugins: Plugins, permissive_umask: None
) -> None:
    db = tmp_path / "ws.db"
    with Workspace.open(db, plugins=plugins) as ws:
        ws.store.set_meta("written", "yes")  # a write: the -wal and -shm files exist now
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


def test_init_from_the_command_line_creates_0600(tmp_path: Path, permissive_umask: None) -> None:
    db = tmp_path / "ws.db"
    assert main(["init", str(db)]) == 0
    assert mode(db) == 0o600


def test_an_existing_readable_file_keeps_its_mode_and_is_warned_about_once(
    tmp_path: Path, plugins: Plugins, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "shared.db"
    Workspace.open(db, plugins=plugins).close()
    db.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="govsocial.store"):
        for _ in range(2):
            Workspace.open(db, plugins=plugins).close()
    assert mode(db) == 0o644, "an existing file's mode is the operator's choice"
    warnings = [r.getMessage() for r in caplog.records if r.name == "govsocial.store"]
    assert len(warnings) == 1
    assert "can be read by other users" in warnings[0] and f"chmod 600 {db}" in warnings[0]


def test_a_private_existing_file_is_not_warned_about(
    tmp_path: Path, plugins: Plugins, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "private.db"
    Workspace.open(db, plugins=plugins).close()
    with caplog.at_level(logging.WARNING, logger="govsocial.store"):
        Workspace.open(db, plugins=plugins).close()
    assert not [r for r in caplog.records if r.name == "govsocial.store"]


# -- only init creates a workspace (finding 17) ---------------------------------------------


def test_a_mistyped_db_is_an_error_and_creates_nothing(
    tmp_path: Path, plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "govsocail.db"
    for command in (["jobs"], ["accounts", "list"], ["worker", "--until-idle"]):
        assert main(["--db", str(typo), *command]) == 2, command
        err = capsys.readouterr().err
        assert err.startswith(f"govsocial: error: no workspace at {typo}")
        assert "govsocial init" in err and len(err.strip().splitlines()) == 1
    assert not typo.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_worker_process_on_a_mistyped_db_exits_2_without_creating_it(tmp_path: Path) -> None:
    done = govsocial("--db", "govsocail.db", "worker", "--until-idle", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "no workspace at govsocail.db" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "govsocail.db").exists()


def test_init_creates_then_reports_an_existing_workspace(
    tmp_path: Path, plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "ws.db"
    assert main(["--db", str(db), "init"]) == 0
    assert capsys.readouterr().out == f"created the workspace sqlite:///{db}\n"
    assert main(["init", str(db)]) == 0
    assert "already a workspace" in capsys.readouterr().out
    assert main(["--db", str(db), "jobs"]) == 0


def test_python_keeps_creating_and_create_false_refuses(tmp_path: Path, plugins: Plugins) -> None:
    with pytest.raises(ConfigurationError, match="no workspace at") as refused:
        Workspace.open(tmp_path / "missing.db", create=False, plugins=plugins)
    assert refused.value.field == "db" and "govsocial init" in (refused.value.hint or "")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(ConfigurationError, match="no workspace at"):
        WorkspaceCore.open(tmp_path / "missing.db", create=False, plugins=plugins)
    with Workspace.open(tmp_path / "new.db", plugins=plugins) as ws:
        assert ws.store.created
    with Workspace.open(tmp_path / "new.db", create=False, plugins=plugins) as ws:
        assert not ws.store.created


def test_an_empty_file_is_not_a_workspace_for_create_false(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(ConfigurationError, match="no workspace at"):
        open_store(empty, create=False)


def test_create_false_refuses_an_empty_postgresql_schema(postgres_url: str) -> None:
    with pytest.raises(ConfigurationError, match="no workspace at postgresql://"):
        open_store(postgres_url, create=False)
    open_store(postgres_url).close()
    open_store(postgres_url, create=False).close()


# -- damaged files (finding 17) ---------------------------------------------------------------


def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _truncated(path: Path) -> None:
    with Workspace.open(path) as ws:
        ws.store.set_meta("filler", "x" * 200_000)  # enough pages to cut some off
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.close()


DAMAGED = {
    "random bytes": (_random_bytes, "damaged or not an SQLite file"),
    "a truncated workspace": (_truncated, "damaged or not an SQLite file"),
    "another program's SQLite file": (_foreign, "not a govsocial workspace"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGED))
def test_a_damaged_database_is_a_one_line_error_with_exit_2(
    kind: str, tmp_path: Path, plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected = DAMAGED[kind]
    db = tmp_path / "ws.db"
    make(db)
    db.chmod(0o600)
    with pytest.raises(ConfigurationError, match=expected) as error:
        Workspace.open(db, plugins=plugins)
    assert error.value.field == "db" and error.value.hint
    capsys.readouterr()
    assert main(["--db", str(db), "jobs"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("govsocial: error: ") and expected in err
    assert len(err.strip().splitlines()) == 1
    done = govsocial("--db", str(db), "jobs", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert expected in done.stderr


ACCOUNTS = {
    "not UTF-8": (b'[humas]\nplatform = "mastodon"\nhandle = "\xff\xfe"\n', "is not UTF-8 text"),
    "not TOML": (b"[humas\nplatform = mastodon\n", "is not valid TOML"),
}


@pytest.mark.parametrize("kind", sorted(ACCOUNTS))
def test_an_unreadable_accounts_file_is_a_one_line_error_with_exit_2(
    kind: str, tmp_path: Path, plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    content, expected = ACCOUNTS[kind]
    accounts = tmp_path / "accounts.toml"
    accounts.write_bytes(content)
    with pytest.raises(ConfigurationError, match=expected) as error:
        load_accounts(accounts)
    assert error.value.field == "accounts" and error.value.hint
    db = tmp_path / "ws.db"
    assert main(["init", str(db)]) == 0
    capsys.readouterr()
    assert main(["--db", str(db), "accounts", "import", str(accounts)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("govsocial: error: ") and expected in err
    assert len(err.strip().splitlines()) == 1
    for args in (
        ("--db", str(db), "accounts", "import", str(accounts)),
        ("publish", "Halo", "--accounts", str(accounts)),
    ):
        done = govsocial(*args, cwd=tmp_path)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert expected in done.stderr


# -- passwords (item 6) ---------------------------------------------------------------------


def test_redact_url_drops_the_password_wherever_it_is() -> None:
    url = f"postgresql://gs:{PASSWORD}@db.example.go.id:5432/humas?sslmode=require"
    assert redact_url(url) == "postgresql://gs@db.example.go.id:5432/humas?sslmode=require"
    assert redact_url(url, user=False) == "postgresql://db.example.go.id:5432/humas?sslmode=require"
    query = f"postgresql://db/humas?password={PASSWORD}&sslmode=require"
    assert redact_url(query) == "postgresql://db/humas?sslmode=require"
    for kept in ("sqlite:///srv/a@b.db", "govsocial.db", "postgresql://gs@db/humas"):
        assert redact_url(kept) == kept


def test_no_repr_url_or_error_shows_a_postgresql_password(postgres_url: str) -> None:
    """Trust authentication ignores the password, so a real server opens the URL with one."""
    with_password = postgres_url.replace("://postgres@", f"://postgres:{PASSWORD}@", 1)
    assert PASSWORD in with_password
    with Workspace.open(with_password) as ws:
        shown = [ws.url, repr(ws), ws.core.url, repr(ws.core), ws.core.address]
        shown += [ws.store.url, repr(ws.store)]
        assert not [text for text in shown if PASSWORD in text]
        assert ws.url.startswith("postgresql://postgres@127.0.0.1")
        assert "postgres@" not in repr(ws) and "postgres@" not in repr(ws.store)
        with Workspace.open(ws.url) as again:  # what url shows still opens it
            assert again.url == ws.url


def test_a_connection_error_does_not_show_the_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(ConfigurationError) as error:
        PostgresStore(f"postgresql://gs:{PASSWORD}@127.0.0.1:9/humas?connect_timeout=2")
    assert PASSWORD not in str(error.value)
    assert "postgresql://gs@127.0.0.1:9/humas" in str(error.value)
    with pytest.raises(ConfigurationError) as unknown:
        open_store(f"mysql://gs:{PASSWORD}@db/humas")
    assert PASSWORD not in str(unknown.value)
