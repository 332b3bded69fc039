"""The exit status of the command line, as docs/cli.md states it: one table, by error class.

1: the post is invalid or the platform failed; 2: usage, configuration or permission. The
table is checked class by class, against the page, and through real commands: main() on
the fake platform (an inbox reply goes over real HTTP to a local server that answers as
the fake platform does) and real processes on an in-tree adapter.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from fakes import TOKEN, PaperServer
from govsocial.cli import EXIT_CODES, exit_code, main
from govsocial.core import errors
from govsocial.core.errors import (
    AccountLocked,
    AuditTampered,
    AuthenticationError,
    ConfigurationError,
    GovSocialError,
    NotFound,
    NotPermitted,
    NotSupported,
    PlatformError,
    PluginError,
    ProcessingTimeout,
    PublishOutcomeUnknown,
    PublishPending,
    RateLimited,
    ValidationError,
)
from govsocial.core.problem import Problem
from govsocial.plugin.manager import Plugins

ROOT = Path(__file__).resolve().parent.parent


class Unsupported(PlatformError):
    """A plugin's own error class, below PlatformError."""


EXPECTED: list[tuple[GovSocialError, int]] = [
    (ValidationError([Problem(code="too_long", message="too long", platform="paper")]), 1),
    (PlatformError("refused", platform="paper", status=422), 1),
    (RateLimited("slow down", retry_after=3), 1),
    (AuthenticationError("token revoked", platform="paper"), 1),
    (PublishOutcomeUnknown("no answer", platform="paper", account="@h", idempotency_key="k"), 1),
    (PublishPending("still in moderation", retry_after=600, platform="paper"), 1),
    (ProcessingTimeout("still processing", platform="paper", account="@h", idempotency_key="k"), 1),
    (AuditTampered("entry 2 was edited", seq=2), 1),
    (Unsupported("a plugin's own PlatformError", platform="paper"), 1),
    (NotSupported("no replies here", platform="paper", action="fetch_replies"), 1),
    (ConfigurationError("unknown account"), 2),
    (NotFound("no job abc", field="job_id"), 2),
    (AccountLocked("account 'h' is locked: the key is not set", account="h"), 2),
    (NotPermitted("no appointment", actor="budi", action="schedule"), 2),
    (PluginError("broken plugin"), 2),
    (GovSocialError("2 --alt given for 1 --image", field="alt"), 2),
]


@pytest.mark.parametrize(("error", "status"), EXPECTED, ids=lambda v: type(v).__name__)
def test_each_error_class_has_its_exit_status(error: GovSocialError, status: int) -> None:
    assert exit_code(error) == status


def test_every_error_class_of_the_library_is_decided() -> None:
    """A new error class in govsocial.core.errors needs a row in the table (or a parent's)."""
    library = {
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, GovSocialError)
    }
    assert library <= {type(error) for error, _ in EXPECTED}
    assert set(EXIT_CODES) <= library


def test_docs_cli_states_the_table() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    stated = dict(re.findall(r"^\| `(\w+)`[^|]*\| (\d) \|", page, flags=re.MULTILINE))
    assert {name: int(code) for name, code in stated.items()} == {
        cls.__name__: code for cls, code in EXIT_CODES.items()
    }, "docs/cli.md's exit status table and govsocial.cli.EXIT_CODES disagree"


# -- through main(), on the fake platform ----------------------------------------------------


class Bridge(PaperServer):
    """The fake platform behind a real local HTTP server; it refuses posts when told to."""

    refuse = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.refuse and request.method == "POST":
            self.requests.append(request)
            return httpx.Response(422, json={"error": "replies are closed on this post"})
        return super().handler(request)


@pytest.fixture
def bridge() -> Iterator[tuple[Bridge, str]]:
    """(the fake server, its http://127.0.0.1 URL), served on a thread."""
    server = Bridge()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = httpx.Request(
                self.command,
                f"http://{self.headers['host']}{self.path}",
                headers=dict(self.headers.items()),
                content=self.rfile.read(length),
            )
            response = server.handler(request)
            body = response.content
            self.send_response(response.status_code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{http.server_address[1]}"
    finally:
        http.shutdown()
        http.server_close()
        thread.join()


@pytest.fixture
def db(
    tmp_path: Path,
    plugins: Plugins,
    bridge: tuple[Bridge, str],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """A workspace whose account humas is on the bridged fake server."""
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    monkeypatch.delenv("GOVSOCIAL_ACTOR", raising=False)
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[humas]\nplatform = "paper"\nhandle = "@humas"\nbase_url = "{bridge[1]}"\n'
        'credentials = { access_token = "env:PAPER_TOKEN" }\n'
    )
    url = str(tmp_path / "ws.db")
    assert main(["--db", url, "init"]) == 0  # only init creates a workspace
    assert main(["--db", url, "accounts", "import", str(accounts)]) == 0
    return url


LATER = "2099-01-01T09:00+07:00"


def test_an_over_long_post_exits_1(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--db", db, "schedule", "x" * 25, "--to", "humas", "--at", LATER]) == 1
    assert "limit is 20" in capsys.readouterr().err
    assert main(["--db", db, "jobs"]) == 0
    assert "no jobs" in capsys.readouterr().out
    assert main(["validate", "x" * 25, "-p", "paper"]) == 1


def test_an_unknown_account_exits_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--db", db, "schedule", "Halo", "--to", "nobody", "--at", LATER]) == 2
    assert "nobody" in capsys.readouterr().err


def test_acting_without_an_appointment_exits_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db, "people", "add", "siti", "--name", "Siti"]) == 0
    assert main(["--db", db, "people", "add", "budi", "--name", "Budi"]) == 0
    appoint = ["appoint", "siti", "--to", "humas", "--role", "admin", "--from", "2026-01-01"]
    with pytest.raises(SystemExit) as usage:
        main(["--db", db, *appoint])  # no --decree: argparse's usage error
    assert usage.value.code == 2
    assert "--decree" in capsys.readouterr().err
    assert main(["--db", db, *appoint, "--decree", "800/1/SK/2026"]) == 0
    capsys.readouterr()
    by_budi = ["schedule", "Halo", "--to", "humas", "--at", LATER, "--by", "budi"]
    assert main(["--db", db, *by_budi]) == 2
    assert "budi" in capsys.readouterr().err
    assert main(["--db", db, "jobs"]) == 0
    assert "no jobs" in capsys.readouterr().out


def test_a_failed_inbox_reply_exits_1_and_a_good_one_0(
    db: str, bridge: tuple[Bridge, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = bridge
    question = server.citizen_post("@humas buka hari Sabtu?", author="ani")
    assert main(["--db", db, "inbox", "sync"]) == 0
    assert capsys.readouterr().out == "humas: 1 new\n"
    assert main(["--db", db, "inbox", "list", "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)
    server.refuse = True
    assert main(["--db", db, "inbox", "reply", item["id"], "Ya, buka"]) == 1
    assert "replies are closed on this post" in capsys.readouterr().err
    assert [p["text"] for p in server.posts.values()] == ["@humas buka hari Sabtu?"]
    assert main(["--db", db, "inbox", "list"]) == 0
    assert "open" in capsys.readouterr().out
    server.refuse = False
    assert main(["--db", db, "inbox", "reply", item["id"], "Ya, buka"]) == 0
    stored = [p for p in server.posts.values() if p["text"] == "Ya, buka"]
    assert [p["in_reply_to"] for p in stored] == [question]


# -- real processes, on an in-tree adapter ---------------------------------------------------


def govsocial(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOVSOCIAL_LOAD_PLUGINS": "mastodon"}
    env.pop("GOVSOCIAL_ACTOR", None)
    return subprocess.run(
        [sys.executable, "-m", "govsocial.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_exit_status_of_real_processes(tmp_path: Path) -> None:
    pytest.importorskip("govsocial_mastodon")
    assert govsocial("validate", "Halo", "-p", "mastodon", cwd=tmp_path).returncode == 0
    too_long = govsocial("validate", "x" * 501, "-p", "mastodon", cwd=tmp_path)
    assert too_long.returncode == 1, too_long.stderr
    assert "limit is 500" in too_long.stdout
    db = str(tmp_path / "ws.db")
    assert govsocial("init", db, cwd=tmp_path).returncode == 0
    unknown = govsocial(
        "--db", db, "schedule", "Halo", "--to", "nobody", "--at", LATER, cwd=tmp_path
    )
    assert unknown.returncode == 2, unknown.stderr
    assert unknown.stderr.startswith("govsocial: error: ")
    usage = govsocial("--db", db, "schedule", "Halo", cwd=tmp_path)
    assert usage.returncode == 2
    assert "the following arguments are required: --to, --at" in usage.stderr
