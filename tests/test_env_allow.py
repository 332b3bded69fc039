"""Issue 13, part 1 (security review finding 3): ``env:`` references read only the variables
the operator allows, never govsocial's own secrets, and ``http://`` needs an allowed host.

The attack: a shared accounts file says ``access_token = "env:GOVSOCIAL_SECRET_KEY"`` with
the attacker's ``base_url``; before the fix the master key went out as a Bearer token.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from govsocial.app import Workspace
from govsocial.cli import main
from govsocial.client.accounts_file import load_accounts
from govsocial.core.errors import ConfigurationError, ValidationError
from govsocial.core.models import Account
from govsocial.plugin.manager import Plugins

MASTER_KEY = "the-workspace-master-passphrase"


class _Recorder(BaseHTTPRequestHandler):
    """Records every request (method, path, Authorization) and answers 500."""

    seen: list[tuple[str, str, str | None]]

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.seen.append((self.command, self.path, self.headers.get("Authorization")))
        body = b'{"error": "recorded"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _any

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def attacker() -> Iterator[tuple[str, list[tuple[str, str, str | None]]]]:
    """A real loopback HTTP server standing in for attacker.example: (base_url, requests)."""
    seen: list[tuple[str, str, str | None]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _accounts_file(tmp_path: Path, base_url: str, variable: str) -> Path:
    path = tmp_path / "accounts.toml"
    path.write_text(
        f'[humas]\nplatform = "mastodon"\nhandle = "@humas@attacker.example"\n'
        f'base_url = "{base_url}"\n'
        f'credentials = {{ access_token = "env:{variable}" }}\n',
        encoding="utf-8",
    )
    return path


def test_master_key_reference_is_refused_before_any_request(
    attacker: tuple[str, list[tuple[str, str, str | None]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base_url, seen = attacker
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", MASTER_KEY)
    monkeypatch.setenv("GOVSOCIAL_ENV_ALLOW", "*")  # even an operator who allows everything
    path = _accounts_file(tmp_path, base_url, "GOVSOCIAL_SECRET_KEY")

    assert main(["publish", "Halo", "--accounts", str(path)]) == 2
    db = tmp_path / "ws.db"
    assert main(["init", str(db)]) == 0
    assert main(["--db", str(db), "accounts", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "GOVSOCIAL_SECRET_KEY" in err and "credentials.access_token" in err
    assert seen == []  # the attacker's server was never contacted

    with Workspace.open(str(db)) as ws:
        assert ws.accounts() == {}
        refused = ws.audit_log(action="env_reference_refused")
    assert [(e.object, e.detail["variable"], e.detail["base_url"]) for e in refused] == [
        ("humas", "GOVSOCIAL_SECRET_KEY", base_url)
    ]


def test_the_recording_server_does_see_an_allowed_reference(
    attacker: tuple[str, list[tuple[str, str, str | None]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control: the same file with an allowed variable reaches the server, so the test
    above would fail if the refusal were gone."""
    base_url, seen = attacker
    monkeypatch.delenv("GOVSOCIAL_ENV_ALLOW", raising=False)
    monkeypatch.setenv("GOVSOCIAL_CRED_HUMAS_TOKEN", "tok-allowed")
    path = _accounts_file(tmp_path, base_url, "GOVSOCIAL_CRED_HUMAS_TOKEN")
    assert main(["publish", "Halo", "--accounts", str(path)]) == 1  # the server answers 500
    assert ("POST", "/api/v1/statuses", "Bearer tok-allowed") in seen


@pytest.mark.parametrize(
    "variable",
    ["GOVSOCIAL_SECRET_KEY", "GOVSOCIAL_DB", "GOVSOCIAL_API_KEY", "govsocial_secret_key"],
)
def test_own_settings_are_never_credentials_whatever_the_allow_list(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_ENV_ALLOW", "*")
    monkeypatch.setenv(variable, MASTER_KEY)
    account = Account(platform="paper", handle="@h", credentials={"t": f"env:{variable}"})
    with pytest.raises(ConfigurationError, match="govsocial's own settings") as caught:
        account.credential("t")
    assert caught.value.field == "credentials.t"
    assert MASTER_KEY not in str(caught.value)


def test_default_allows_the_documented_prefixes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVSOCIAL_ENV_ALLOW", raising=False)
    for name in ("GOVSOCIAL_CRED_BSKY_PASSWORD", "HUMAS_MASTODON_TOKEN", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "value-" + name)
    credentials = {
        "a": "env:GOVSOCIAL_CRED_BSKY_PASSWORD",
        "b": "env:HUMAS_MASTODON_TOKEN",
        "c": "env:AWS_SECRET_ACCESS_KEY",
    }
    account = Account(platform="paper", handle="@h", credentials=credentials)
    assert account.credential("a") == "value-GOVSOCIAL_CRED_BSKY_PASSWORD"
    assert account.credential("b") == "value-HUMAS_MASTODON_TOKEN"
    with pytest.raises(ConfigurationError) as caught:
        account.credential("c")
    error = caught.value
    assert error.field == "credentials.c"
    assert "AWS_SECRET_ACCESS_KEY" in error.message
    assert "GOVSOCIAL_ENV_ALLOW=GOVSOCIAL_CRED_*,HUMAS_* (the default)" in error.message
    assert error.hint is not None and "GOVSOCIAL_CRED_" in error.hint
    assert "GOVSOCIAL_ENV_ALLOW='GOVSOCIAL_CRED_*,HUMAS_*,AWS_SECRET_ACCESS_KEY'" in error.hint


def test_the_allow_list_replaces_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSOCIAL_ENV_ALLOW", " KOMINFO_* , DINKES_IG_TOKEN ")
    monkeypatch.setenv("KOMINFO_LINKEDIN_TOKEN", "k")
    monkeypatch.setenv("DINKES_IG_TOKEN", "d")
    monkeypatch.setenv("HUMAS_TOKEN", "h")
    credentials = {"k": "env:KOMINFO_LINKEDIN_TOKEN", "d": "env:DINKES_IG_TOKEN"}
    account = Account(platform="paper", handle="@h", credentials=credentials)
    assert (account.credential("k"), account.credential("d")) == ("k", "d")
    other = Account(platform="paper", handle="@h", credentials={"h": "env:HUMAS_TOKEN"})
    with pytest.raises(ConfigurationError, match="HUMAS_TOKEN"):
        other.credential("h")


def test_accounts_file_refuses_at_load_naming_field_variable_rule_and_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVSOCIAL_ENV_ALLOW", raising=False)
    path = _accounts_file(tmp_path, "https://attacker.example", "DATABASE_URL")
    with pytest.raises(ConfigurationError) as caught:
        load_accounts(path)
    error = caught.value
    assert error.field == "humas.credentials.access_token"
    assert str(path) in error.message and "DATABASE_URL" in error.message
    assert "only names matching GOVSOCIAL_ENV_ALLOW=" in error.message
    assert error.hint is not None and "GOVSOCIAL_ENV_ALLOW='" in error.hint


def test_workspace_add_account_refuses_stores_nothing_and_audits(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVSOCIAL_ENV_ALLOW", raising=False)
    account = Account(
        platform="paper",
        handle="@humas",
        base_url="https://attacker.example",
        credentials={"access_token": "env:GITHUB_TOKEN"},
    )
    with Workspace.open(str(tmp_path / "ws.db")) as ws:
        with pytest.raises(ConfigurationError, match="GITHUB_TOKEN") as caught:
            ws.add_account("humas", account)
        assert caught.value.field == "credentials.access_token"
        assert ws.accounts() == {}
        (entry,) = ws.audit_log(action="env_reference_refused")
        assert entry.object == "humas"
        assert entry.detail["variable"] == "GITHUB_TOKEN"
        assert entry.detail["field"] == "credentials.access_token"
        assert entry.detail["base_url"] == "https://attacker.example"
        assert ws.verify_audit() == 1


@pytest.mark.parametrize("url", ["http://evil.example", "http://localhost.evil.example:8080/api"])
def test_http_base_url_to_another_host_is_refused(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVSOCIAL_ALLOW_HTTP", raising=False)
    with pytest.raises(ValidationError) as caught:
        Account(platform="paper", handle="@h", base_url=url)
    assert caught.value.field == "base_url"
    assert "clear text" in str(caught.value)
    assert caught.value.hint is not None and "GOVSOCIAL_ALLOW_HTTP=" in caught.value.hint


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:3000", "http://localhost:2583", "http://[::1]:8080", "https://x.id"]
)
def test_loopback_http_and_https_are_accepted_by_default(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVSOCIAL_ALLOW_HTTP", raising=False)
    assert Account(platform="paper", handle="@h", base_url=url).base_url == url


def test_allow_http_names_the_hosts_that_may_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSOCIAL_ALLOW_HTTP", "*.intranet.go.id")
    url = "http://mastodon.intranet.go.id"
    assert Account(platform="paper", handle="@h", base_url=url).base_url == url
    with pytest.raises(ValidationError, match="clear text"):
        Account(platform="paper", handle="@h", base_url="http://127.0.0.1:3000")


def test_accounts_file_with_http_to_another_host_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVSOCIAL_ALLOW_HTTP", raising=False)
    path = _accounts_file(tmp_path, "http://evil.example", "GOVSOCIAL_CRED_HUMAS_TOKEN")
    with pytest.raises(ConfigurationError, match="clear text") as caught:
        load_accounts(path)
    assert caught.value.field == "humas"
