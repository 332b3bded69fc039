"""``govsocial check ACCOUNT`` and ``Client.check``, against real local servers.

mastodon-mock issues tokens through its OAuth app flow, so a token carries the scopes its app
was registered with, and ``GET /api/v1/apps/verify_credentials`` answers them as Mastodon
4.3+ does. Each test reads what the server holds afterwards: a check only reads.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from govsocial import Account, AccountCheck, Client
from govsocial.cli import main


def _app_token(server: Any, scopes: str) -> Account:
    """A new mastodon-mock account whose token comes from an app with ``scopes``."""
    username = "cek" + secrets.token_hex(3)
    plain = server.new_account(username)
    with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
        app = http.post(
            "/api/v1/apps", data={"client_name": "govsocial-check", "scopes": scopes}
        ).json()
        token = http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": f"mockcode_{username}",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
            },
        ).json()["access_token"]
    public = plain.model_dump(exclude={"credentials"})
    return Account(**public, credentials={"access_token": token})


def _accounts_file(tmp_path: Path, account: Account) -> Path:
    path = tmp_path / "accounts.toml"
    path.write_text(
        "[humas]\n"
        f'platform = "{account.platform}"\n'
        f'handle = "{account.handle}"\n'
        f'base_url = "{account.base_url}"\n'
        f'credentials = {{ access_token = "{account.credential("access_token")}" }}\n'
    )
    return path


def test_check_says_what_a_full_token_can_do_and_asks_only_reads(
    mastodon: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = _app_token(mastodon, "read write:statuses write:media")
    assert main(["check", "humas", "--accounts", str(_accounts_file(tmp_path, account))]) == 0
    out = capsys.readouterr().out
    assert "the credentials work, as @" in out
    for name in ("post", "reply", "delete", "metrics", "account_metrics"):
        assert any(line.split()[:2] == [name, "yes"] for line in out.splitlines()), out
    assert "Granted: read, write:statuses, write:media" in out
    assert (
        "Asked: GET /api/v1/accounts/verify_credentials, GET /api/v1/apps/verify_credentials" in out
    )
    assert "Missing" not in out
    assert account.credential("access_token") not in out
    assert mastodon.account_statuses(account) == []  # nothing was posted


def test_check_names_the_missing_scope_and_the_fix(
    mastodon: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = _app_token(mastodon, "read")
    path = _accounts_file(tmp_path, account)
    assert main(["check", "humas", "--accounts", str(path)]) == 1
    out = capsys.readouterr().out
    assert "post             NO " in out or any(
        line.split()[:2] == ["post", "NO"] for line in out.splitlines()
    )
    assert "the token lacks the scope write:statuses" in out
    assert "Missing, and the fix:" in out and "write:statuses and write:media" in out
    assert main(["check", "humas", "--accounts", str(path), "--json"]) == 1
    found = AccountCheck.model_validate_json(capsys.readouterr().out)
    assert found.token_ok and found.scopes == ["read"]
    assert [c.name for c in found.missing] == ["post", "reply", "delete"]
    assert found.capability("metrics") is not None
    assert found.capability("metrics").ok is True  # type: ignore[union-attr]


def test_check_of_a_revoked_token_is_an_answer_not_a_crash(
    mastodon: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = _app_token(mastodon, "read write")
    mastodon.revoke_token(account)
    with Client() as client:
        found = client.check(account)
    assert not found.token_ok
    assert all(c.ok is False and c.fix for c in found.capabilities)
    assert found.error and account.credential("access_token") not in found.error
    assert main(["check", "humas", "--accounts", str(_accounts_file(tmp_path, account))]) == 1
    out = capsys.readouterr().out
    assert "REFUSED" in out and account.credential("access_token") not in out
    dumped = json.loads(found.model_dump_json())
    assert account.credential("access_token") not in json.dumps(dumped)
