"""Keys and credentials (issue 13, part 5; security review findings 10, 11 and 19).

- A key that cannot open an account's credentials (wrong, missing, too short) or a missing
  ``env:`` variable locks the account: its deliveries wait, unclaimed and not counted as
  attempts, and go out exactly once when the key is back (mastodon-mock, real workers).
- Credentials under a second key are refused when they are sealed.
- ``rotate_key`` re-seals everything in one transaction; a rotation killed with SIGKILL
  midway leaves everything under the old key.
- Keys shorter than 32 bytes are refused; passphrases are stretched with scrypt at OWASP's
  parameters; workspaces sealed the old way still open and are upgraded by a rotation.
- The credentials of an account with history (deliveries, inbox items) can be replaced.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes import TOKEN, Clock, PaperServer, paper_account, run
from govsocial import AccountLocked, ConfigurationError, Post
from govsocial.app import Workspace
from govsocial.client import AsyncClient
from govsocial.core.models import Account
from govsocial.plugin.manager import Plugins
from govsocial.scheduling.worker import LOCK_CHECK_SECONDS, Worker
from govsocial.store import AccountRow
from govsocial.store.credentials import CredentialRows
from govsocial.workspace import credentials
from govsocial.workspace.credentials import KeyRecord, derive, key_id, new_key

KEY = new_key()
OTHER_KEY = new_key()
PASSPHRASE = "kata sandi panjang untuk ruang kerja humas kota"  # 47 bytes


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVSOCIAL_SECRET_KEY", raising=False)
    monkeypatch.delenv("GOVSOCIAL_NEW_SECRET_KEY", raising=False)


def sealed_account(handle: str = "@humas", token: str = TOKEN) -> Account:
    return paper_account(handle, token=token)


def stored_values(url: str) -> str:
    """Everything the workspace keeps about its accounts and keys, as one text."""
    store = Workspace.open(url, plugins=Plugins(load_entrypoints=False)).store
    try:
        with store.transaction() as tx:
            meta = store.execute(tx, "SELECT key, value FROM govsocial_meta").fetchall()
            rows = store.execute(tx, "SELECT name, credentials FROM accounts").fetchall()
            audit = store.execute(tx, "SELECT detail FROM audit_log").fetchall()
        return json.dumps([list(r) for r in (*meta, *rows, *audit)])
    finally:
        store.close()


# -- 2. one key per workspace ------------------------------------------------------------


def test_sealing_under_a_second_key_is_refused_and_nothing_is_stored(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    ws.add_account("humas", sealed_account())
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", OTHER_KEY)
    with pytest.raises(ConfigurationError) as refused:
        ws.add_account("dinkes", sealed_account("@dinkes", token="dinkes-token-1234567890"))
    message = str(refused.value)
    assert "GOVSOCIAL_SECRET_KEY is not the key" in message and "second key" in message
    assert "keys rotate" in message and refused.value.field == "GOVSOCIAL_SECRET_KEY"
    assert [row.name for row in ws.store.accounts()] == ["humas"], "nothing stored"
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    assert ws.accounts()["humas"].credential("access_token") == TOKEN, "the first key opens all"
    record = ws.core.key_record()
    assert record is not None and record.kdf == "hkdf-sha256" and record.id
    everything = stored_values(ws.url)
    assert KEY not in everything and OTHER_KEY not in everything and TOKEN not in everything
    assert KEY[4:] not in everything, "neither the key nor its random part is stored"


def test_two_processes_sealing_under_two_keys_at_once_one_is_refused(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both seal before either stores: the key check inside the write refuses the second."""
    other = Workspace.open(ws.url, plugins=ws.plugins)
    try:
        monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", OTHER_KEY)
        late = other.core.sealer.seal(
            {"access_token": sealed_account().credentials["access_token"]}
        )
        assert late.key is not None, "nothing recorded yet: this one would be the first"
        monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
        ws.add_account("humas", sealed_account())
        with pytest.raises(ConfigurationError, match="second key"), other.store.transaction() as tx:
            other.core._check_sealed_key(tx, late)
            other.store.put_account(
                AccountRow(
                    "late", "paper", "@late", None, "Asia/Jakarta", None, late.values, None, 0
                )
            )
    finally:
        other.close()
    assert [row.name for row in ws.store.accounts()] == ["humas"]


# -- 4. key length and derivation --------------------------------------------------------


def test_keys_shorter_than_32_bytes_are_refused_naming_the_variable_the_limit_and_the_fix(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    for short in ("x", "a" * 31, "kunci-pendek"):
        monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", short)
        with pytest.raises(ConfigurationError) as refused:
            ws.add_account("humas", sealed_account())
        message = str(refused.value)
        assert f"GOVSOCIAL_SECRET_KEY is {len(short)} bytes long" in message
        assert "at least 32 bytes" in message and "govsocial keys secret" in message
        assert "secrets.token_urlsafe(32)" in message, "a python one-liner as well"
    assert ws.store.accounts() == []
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "a" * 32)  # 32 bytes: accepted
    ws.add_account("humas", sealed_account())
    with pytest.raises(ConfigurationError, match="GOVSOCIAL_NEW_SECRET_KEY is 5 bytes long"):
        ws.rotate_key("short")
    cut = KEY[:30] + "!" * 10  # looks like a generated key, is not one
    with pytest.raises(ConfigurationError, match="looks cut or mistyped"):
        ws.rotate_key(cut)


def test_a_generated_key_is_gsk_and_32_random_bytes() -> None:
    first, second = new_key(), new_key()
    assert first != second and first.startswith("gsk_") and len(first) == 47
    raw = base64.urlsafe_b64decode(first[4:] + "=")
    assert len(raw) == 32
    assert credentials.check_key(first) == first


def test_a_passphrase_is_stretched_with_scrypt_at_owasp_parameters(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", PASSPHRASE)
    with Workspace.open(tmp_path / "a.db", plugins=plugins) as a:
        a.add_account("humas", sealed_account())
        record = a.core.key_record()
        [row] = a.store.accounts()
    assert record is not None
    assert (record.kdf, record.n, record.r, record.p) == ("scrypt", 2**17, 8, 1)
    assert len(bytes.fromhex(record.salt)) == 16
    # an independent derivation (hashlib's scrypt) opens what was sealed
    from cryptography.fernet import Fernet

    derived = hashlib.scrypt(
        PASSPHRASE.encode(),
        salt=bytes.fromhex(record.salt),
        n=2**17,
        r=8,
        p=1,
        dklen=32,
        maxmem=256 * 1024 * 1024,
    )
    token = row.credentials["access_token"]["sealed"]
    assert Fernet(base64.urlsafe_b64encode(derived)).decrypt(token.encode()).decode() == TOKEN
    assert key_id(derived) == record.id
    # another workspace, the same passphrase: another salt, another key
    with Workspace.open(tmp_path / "b.db", plugins=plugins) as b:
        b.add_account("humas", sealed_account())
        other = b.core.key_record()
    assert other is not None and other.salt != record.salt and other.id != record.id


def test_the_derived_key_is_computed_once_per_process(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", PASSPHRASE)
    ws.add_account("humas", sealed_account())
    record = ws.core.key_record()
    assert record is not None
    before = credentials._derived.cache_info()
    for _ in range(20):
        assert ws.account("humas").credential("access_token") == TOKEN
    after = credentials._derived.cache_info()
    assert after.misses == before.misses, "no derivation after the first"
    assert after.hits >= before.hits + 20


# -- 3. rotation ---------------------------------------------------------------------------


def _three_accounts(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    ws.add_account("humas", sealed_account())
    ws.add_account("dinkes", sealed_account("@dinkes", token="dinkes-token-1234567890"))
    ws.add_account("referensi", sealed_account("@referensi", token="env:PAPER_TOKEN"))


def test_rotate_key_reseals_every_credential_and_the_old_key_no_longer_opens(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", PASSPHRASE)
    _three_accounts(ws, monkeypatch)
    before = ws.core.key_record()
    stored_before = {row.name: row.credentials for row in ws.store.accounts()}
    done = ws.rotate_key(KEY, by="siti")
    assert sorted(done.accounts) == ["dinkes", "humas"] and done.credentials == 2
    assert before is not None and done.old_key_id == before.id and done.new_key_id != before.id
    stored_after = {row.name: row.credentials for row in ws.store.accounts()}
    assert (
        stored_after["referensi"]
        == stored_before["referensi"]
        == {"access_token": {"env": "PAPER_TOKEN"}}
    )
    assert stored_after["humas"] != stored_before["humas"]
    with pytest.raises(AccountLocked, match=r"account 'humas' is locked.*is not the key"):
        ws.account("humas")  # the old key, still in the environment
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    opened = ws.accounts()
    assert opened["humas"].credential("access_token") == TOKEN
    assert opened["dinkes"].credential("access_token") == "dinkes-token-1234567890"
    record = ws.core.key_record()
    assert record is not None and record.id == done.new_key_id and record.kdf == "hkdf-sha256"
    [entry] = ws.audit_log(action="rotate_key")
    assert entry.actor == "siti"
    assert entry.detail["old_key_id"] == before.id and entry.detail["new_key_id"] == record.id
    assert entry.detail["accounts"] == ["dinkes", "humas"]
    everything = stored_values(ws.url)
    for secret in (PASSPHRASE, KEY, KEY[4:], TOKEN, "dinkes-token-1234567890"):
        assert secret not in everything, "no key or credential in the store or the audit log"
    assert ws.verify_audit() >= 1
    # sealing goes on under the new key only
    ws.add_account("baru", sealed_account("@baru", token="baru-token-1234567890"))
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", PASSPHRASE)
    with pytest.raises(ConfigurationError, match="second key"):
        ws.add_account("lama", sealed_account("@lama", token="lama-token-1234567890"))


def test_a_failure_inside_the_rotation_changes_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    _three_accounts(ws, monkeypatch)
    before = stored_values(ws.url)
    record = ws.core.key_record()
    original = CredentialRows.set_credentials
    calls: list[str] = []

    def failing(self: CredentialRows, tx: Any, name: str, values: Any) -> None:
        original(self, tx, name, values)
        calls.append(name)
        raise OSError("disk full")  # after the first account was re-sealed in the transaction

    monkeypatch.setattr(CredentialRows, "set_credentials", failing)
    with pytest.raises(OSError, match="disk full"):
        ws.rotate_key(OTHER_KEY)
    assert calls == ["dinkes"], "it failed midway"
    monkeypatch.setattr(CredentialRows, "set_credentials", original)
    assert stored_values(ws.url) == before, "nothing changed: credentials, key record, audit"
    assert ws.core.key_record() == record
    assert ws.accounts()["dinkes"].credential("access_token") == "dinkes-token-1234567890"


def test_a_credential_the_old_key_cannot_open_stops_the_rotation_naming_the_account(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    _three_accounts(ws, monkeypatch)
    with ws.store.transaction() as tx:  # a value no key opens (damaged by hand)
        ws.store.credentials.set_credentials(
            tx, "dinkes", {"access_token": {"sealed": "gAAAAAB-damaged"}}
        )
    before = stored_values(ws.url)
    with pytest.raises(ConfigurationError, match=r"account 'dinkes'.*nothing was re-sealed"):
        ws.rotate_key(OTHER_KEY)
    assert stored_values(ws.url) == before


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ws.db")
    return str(request.getfixturevalue("postgres_url"))


_ROTATE_SLOWLY = textwrap.dedent(
    """
    import os, sys, time
    from govsocial.app import Workspace
    from govsocial.plugin.manager import Plugins
    from govsocial.store.credentials import CredentialRows

    original = CredentialRows.set_credentials
    done = []

    def slow(self, tx, name, values):
        original(self, tx, name, values)
        done.append(name)
        if len(done) == 2:  # two accounts re-sealed, inside the transaction
            with open(sys.argv[2], "w") as marker:
                marker.write(",".join(done))
            time.sleep(600)

    CredentialRows.set_credentials = slow
    ws = Workspace.open(sys.argv[1], plugins=Plugins(load_entrypoints=False))
    ws.rotate_key(os.environ["GOVSOCIAL_NEW_SECRET_KEY"])
    print("rotated")
    """
)


def test_a_rotation_killed_with_sigkill_midway_leaves_everything_under_the_old_key(
    db_url: str, plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    tokens = {f"akun{i}": f"token-{i}-{uuid.uuid4().hex}" for i in range(4)}
    with Workspace.open(db_url, plugins=plugins) as ws:
        for name, token in tokens.items():
            ws.add_account(name, sealed_account(f"@{name}", token=token))
        record = ws.core.key_record()
        audit_before = len(ws.audit_log())
    before = stored_values(db_url)
    marker = tmp_path / "midway"
    env = {**os.environ, "GOVSOCIAL_NEW_SECRET_KEY": OTHER_KEY}
    log = tmp_path / "rotate.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", _ROTATE_SLOWLY, db_url, str(marker)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while not marker.exists():
                assert process.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, "the rotation never got midway"
                time.sleep(0.05)
            assert marker.read_text() == "akun0,akun1", "two of four re-sealed when killed"
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert stored_values(db_url) == before, "nothing of the rotation survived the kill"
    with Workspace.open(db_url, plugins=plugins) as ws:
        assert ws.core.key_record() == record
        opened = ws.accounts()  # the old key still in GOVSOCIAL_SECRET_KEY
        assert {n: a.credential("access_token") for n, a in opened.items()} == tokens
        assert len(ws.audit_log()) == audit_before and not ws.audit_log(action="rotate_key")
        assert ws.verify_audit() == audit_before
        done = ws.rotate_key(OTHER_KEY)  # and nothing is left holding a lock
        assert sorted(done.accounts) == sorted(tokens)
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", OTHER_KEY)
    with Workspace.open(db_url, plugins=plugins) as ws:
        assert {n: a.credential("access_token") for n, a in ws.accounts().items()} == tokens


def test_keys_rotate_on_the_command_line_reads_the_new_key_from_stdin(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "ws.db")
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    with Workspace.open(url, plugins=plugins) as ws:
        ws.add_account("humas", sealed_account())
    env = {**os.environ, "GOVSOCIAL_LOAD_PLUGINS": ""}
    new = subprocess.run(
        [sys.executable, "-m", "govsocial.cli", "keys", "secret"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    rotate = [sys.executable, "-m", "govsocial.cli", "--db", url, "keys", "rotate", "--by", "siti"]
    short = subprocess.run(rotate, env=env, input="pendek\n", capture_output=True, text=True)
    assert short.returncode == 2 and "GOVSOCIAL_NEW_SECRET_KEY is 6 bytes long" in short.stderr
    done = subprocess.run(rotate, env=env, input=new + "\n", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "re-sealed 1 credentials of 1 accounts" in done.stdout
    assert new not in done.stdout + done.stderr and KEY not in done.stdout + done.stderr
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", new)
    with Workspace.open(url, plugins=plugins) as ws:
        assert ws.account("humas").credential("access_token") == TOKEN
        [entry] = ws.audit_log(action="rotate_key")
        assert entry.actor == "siti"
    check = subprocess.run(
        [sys.executable, "-m", "govsocial.cli", "--db", url, "keys", "check"],
        env={**env, "GOVSOCIAL_SECRET_KEY": new},
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "HKDF-SHA256" in check.stdout and "humas                opens here" in check.stdout


# -- workspaces sealed the old way ----------------------------------------------------------


def _legacy_workspace(url: str, plugins: Plugins, passphrase: str, token: str) -> None:
    """A workspace as earlier versions sealed it: scrypt N=2^14, a bare salt, no key record."""
    from cryptography.fernet import Fernet

    salt = os.urandom(16).hex()
    derived = hashlib.scrypt(
        passphrase.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1, dklen=32
    )
    sealed = Fernet(base64.urlsafe_b64encode(derived)).encrypt(token.encode()).decode()
    with Workspace.open(url, plugins=plugins) as ws:
        ws.store.set_meta("credential_salt", salt)
        ws.store.put_account(
            AccountRow(
                "humas",
                "paper",
                "@humas",
                "https://paper.test",
                "Asia/Jakarta",
                None,
                {"access_token": {"sealed": sealed}},
                None,
                time.time(),
            )
        )


def test_a_workspace_sealed_the_old_way_opens_and_a_rotation_upgrades_it(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    url = str(tmp_path / "old.db")
    _legacy_workspace(
        url, plugins, "lama", TOKEN
    )  # a 4-byte passphrase, as earlier versions allowed
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "lama")
    with Workspace.open(url, plugins=plugins) as ws:
        record = ws.core.key_record()
        assert record is not None and record.legacy and record.n == 2**14
        assert ws.account("humas").credential("access_token") == TOKEN, "it still opens"
        assert "govsocial keys rotate" in caplog.text
        with pytest.raises(ConfigurationError, match="4 bytes long"):
            ws.add_account("dinkes", sealed_account("@dinkes", token="dinkes-token-1234567890"))
        monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "salah")
        with pytest.raises(AccountLocked, match="cannot be decrypted"):
            ws.account("humas")
        monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "lama")
        done = ws.rotate_key(PASSPHRASE)
        assert done.old_key_id is None and done.accounts == ["humas"]
        assert "scrypt (N=2^17, r=8, p=1)" in done.derivation
        assert ws.store.meta("credential_salt") is None
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", PASSPHRASE)
    with Workspace.open(url, plugins=plugins) as ws:
        upgraded = ws.core.key_record()
        assert upgraded is not None and upgraded.current and upgraded.n == 2**17
        assert ws.account("humas").credential("access_token") == TOKEN
        ws.add_account("dinkes", sealed_account("@dinkes", token="dinkes-token-1234567890"))


def test_sealing_into_an_old_workspace_checks_its_key_then_records_it(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "old.db")
    _legacy_workspace(url, plugins, PASSPHRASE, TOKEN)
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", "another passphrase of more than 32 bytes")
    with Workspace.open(url, plugins=plugins) as ws:
        with pytest.raises(ConfigurationError, match="second key"):
            ws.add_account("dinkes", sealed_account("@dinkes", token="dinkes-token-1234567890"))
        monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", PASSPHRASE)
        ws.add_account("dinkes", sealed_account("@dinkes", token="dinkes-token-1234567890"))
        record = ws.core.key_record()
        assert record is not None and not record.legacy and record.n == 2**14
        assert not record.current, "keys check says: rotate"
        assert record.id == key_id(derive(PASSPHRASE, KeyRecord.legacy_record(record.salt)))
        assert {n: a.credential("access_token") for n, a in ws.accounts().items()} == {
            "humas": TOKEN,
            "dinkes": "dinkes-token-1234567890",
        }


# -- 1. locked accounts: deliveries wait, then go out once ---------------------------------


def _mastodon_workspace(
    url: str, mastodon: Any, *, sealed: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[Workspace, Account]:
    account = mastodon.new_account("k" + uuid.uuid4().hex[:12])
    ws = Workspace.open(url, plugins=Plugins(only=["mastodon"]))
    stored = account
    if not sealed:
        monkeypatch.setenv("GOVSOCIAL_CRED_TEST_HUMAS", account.credential("access_token"))
        stored = Account(
            **account.model_dump(exclude={"credentials"}),
            credentials={"access_token": "env:GOVSOCIAL_CRED_TEST_HUMAS"},
        )
    ws.add_account("humas", stored)
    return ws, account


def _worker_process(url: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "govsocial.cli", "--db", url, "worker", "--until-idle"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)


def _texts(mastodon: Any, account: Account) -> list[str]:
    return [mastodon.stored_text(s) for s in mastodon.account_statuses(account)]


@pytest.mark.parametrize("fault", ["wrong key", "no key", "short key"])
def test_a_key_that_cannot_open_locks_the_account_and_its_post_goes_out_once_when_it_is_back(
    fault: str, mastodon: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("govsocial_mastodon")
    url = str(tmp_path / "ws.db")
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    ws, account = _mastodon_workspace(url, mastodon, sealed=True, monkeypatch=monkeypatch)
    text = f"Jadwal posyandu {uuid.uuid4().hex[:8]}"
    try:
        job = ws.schedule(Post(text), ["humas"], at=datetime.now(UTC) + timedelta(seconds=2))
    finally:
        ws.close()
    env = {k: v for k, v in os.environ.items() if k not in ("GOVSOCIAL_DB", "GOVSOCIAL_SECRET_KEY")}
    env["GOVSOCIAL_LOAD_PLUGINS"] = "mastodon"
    faults = {
        "wrong key": {"GOVSOCIAL_SECRET_KEY": OTHER_KEY},
        "no key": {},
        "short key": {"GOVSOCIAL_SECRET_KEY": "pendek"},
    }
    bad_env = {**env, **faults[fault]}

    first = _worker_process(url, bad_env)
    assert first.returncode == 0, first.stderr[-3000:]
    with Workspace.open(url, plugins=Plugins(only=["mastodon"])) as ws:
        [delivery] = ws.store.deliveries(job.id)
        assert delivery.status == "scheduled" and delivery.attempts == 0
        assert delivery.lease_owner is None, "not left claimed"
        assert delivery.error and "account 'humas' is locked" in delivery.error
        reason = ws.locked_accounts()["humas"]
        expected = {
            "wrong key": "is not the key",
            "no key": "GOVSOCIAL_SECRET_KEY is not set",
            "short key": "6 bytes long",
        }[fault]
        assert expected in reason and "account 'humas'" in reason
        assert "(set GOVSOCIAL_SECRET_KEY" in reason, "the fix"
        [locked] = ws.audit_log(action="account_locked")
        assert locked.account == "humas" and KEY not in json.dumps(locked.detail)
    assert _texts(mastodon, account) == [], "nothing reached the server"
    listing = subprocess.run(
        [sys.executable, "-m", "govsocial.cli", "--db", url, "accounts", "list"],
        env=bad_env,
        capture_output=True,
        text=True,
    )
    assert listing.returncode == 0, listing.stderr
    assert "humas" in listing.stdout and "locked since" in listing.stdout
    assert expected in listing.stdout
    check = subprocess.run(
        [sys.executable, "-m", "govsocial.cli", "--db", url, "keys", "check"],
        env=bad_env,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 1 and "cannot be opened here" in check.stdout

    good_env = {**env, "GOVSOCIAL_SECRET_KEY": KEY}
    second = _worker_process(url, good_env)
    assert second.returncode == 0, second.stderr[-3000:]
    again = _worker_process(url, good_env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _texts(mastodon, account) == [text], "published exactly once"
    with Workspace.open(url, plugins=Plugins(only=["mastodon"])) as ws:
        [delivery] = ws.store.deliveries(job.id)
        assert delivery.status == "published" and delivery.attempts == 1
        assert ws.locked_accounts() == {}
        assert [e.account for e in ws.audit_log(action="account_unlocked")] == ["humas"]
        assert len(ws.audit_log(action="publish")) == 1


def _run_due(ws: Workspace) -> int:
    async def go() -> int:
        async with AsyncClient(**ws.core.client_options()) as client:
            return await Worker(ws, clock=lambda: time.time() + 31).run_due(client)

    return asyncio.run(go())


def test_a_missing_env_variable_locks_only_its_account_until_it_is_set(
    mastodon: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("govsocial_mastodon")
    ws, humas = _mastodon_workspace(
        str(tmp_path / "ws.db"), mastodon, sealed=False, monkeypatch=monkeypatch
    )
    dinkes = mastodon.new_account("d" + uuid.uuid4().hex[:12])
    monkeypatch.setenv("GOVSOCIAL_CRED_TEST_DINKES", dinkes.credential("access_token"))
    ws.add_account(
        "dinkes",
        Account(
            **dinkes.model_dump(exclude={"credentials"}),
            credentials={"access_token": "env:GOVSOCIAL_CRED_TEST_DINKES"},
        ),
    )
    monkeypatch.delenv("GOVSOCIAL_CRED_TEST_DINKES")
    text = f"Info vaksin {uuid.uuid4().hex[:8]}"
    try:
        job = ws.schedule(
            Post(text), ["humas", "dinkes"], at=datetime.now(UTC) + timedelta(seconds=30)
        )
        _run_due(ws)
        by_account = {d.account: d for d in ws.store.deliveries(job.id)}
        assert by_account["humas"].status == "published"
        assert by_account["dinkes"].status == "scheduled" and by_account["dinkes"].attempts == 0
        reason = ws.locked_accounts()["dinkes"]
        assert "GOVSOCIAL_CRED_TEST_DINKES" in reason and "which is not set" in reason
        assert "export GOVSOCIAL_CRED_TEST_DINKES=" in reason
        assert ws.store.next_due() is None, "a locked account's delivery is not due to anyone"
        assert _texts(mastodon, humas) == [text] and _texts(mastodon, dinkes) == []
        _run_due(ws)  # still unset: still waiting, still no attempt
        assert {d.account: d.attempts for d in ws.store.deliveries(job.id)}["dinkes"] == 0
        assert len(ws.audit_log(action="account_locked")) == 1, "locked once, not per run"
        monkeypatch.setenv("GOVSOCIAL_CRED_TEST_DINKES", dinkes.credential("access_token"))
        _run_due(ws)
        _run_due(ws)
        by_account = {d.account: d for d in ws.store.deliveries(job.id)}
        assert by_account["dinkes"].status == "published" and by_account["dinkes"].attempts == 1
        assert _texts(mastodon, dinkes) == [text] and _texts(mastodon, humas) == [text]
        assert ws.locked_accounts() == {}
    finally:
        ws.close()


def test_a_delivery_caught_sending_on_a_locked_account_is_reconciled_not_resent_later(
    mastodon: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker died while sending; the next one cannot open the account: the delivery stays
    ``sending`` (to be looked up), and when the key is back it is reconciled: one status."""
    pytest.importorskip("govsocial_mastodon")
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    ws, account = _mastodon_workspace(
        str(tmp_path / "ws.db"), mastodon, sealed=True, monkeypatch=monkeypatch
    )
    text = f"Pengumuman {uuid.uuid4().hex[:8]}"
    try:
        job = ws.schedule(Post(text), ["humas"], at=datetime.now(UTC) + timedelta(seconds=30))
        [d] = ws.store.deliveries(job.id)

        async def send_and_die() -> None:  # what a worker does before it is killed
            now = time.time() + 31
            [claimed] = ws.store.claim("dead-worker", now, 0.0, 10)
            assert ws.store.mark_sending(claimed.id, "dead-worker", now, 0.0)
            async with AsyncClient(**ws.core.client_options()) as client:
                result = await client.publish_one(
                    Post(text), ws.account("humas"), idempotency_key=d.idempotency_key
                )
            assert result.ok

        asyncio.run(send_and_die())
        assert _texts(mastodon, account) == [text]
        monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", OTHER_KEY)
        _run_due(ws)
        [waiting] = ws.store.deliveries(job.id)
        assert waiting.status == "sending" and waiting.attempts == 1
        assert waiting.lease_owner is None and "humas" in ws.locked_accounts()
        monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
        _run_due(ws)
        [done] = ws.store.deliveries(job.id)
        # Mastodon cannot be asked, so reconciliation resends under the same Idempotency-Key
        # within the hour (the server deduplicates it): that resend is the second attempt
        assert done.status == "published" and done.attempts == 2
        assert _texts(mastodon, account) == [text], "deduplicated: one status"
    finally:
        ws.close()


def test_locked_deliveries_wait_and_go_out_once_on_both_engines(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store side of locking on SQLite and PostgreSQL: a claimed delivery goes back to
    ``scheduled``, one caught in ``sending`` stays ``sending`` with its lease expired, no
    attempt is counted, nothing is claimable or due while locked; then the first goes out
    once and the second is reconciled, never resent."""
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    ws.add_account("humas", sealed_account())
    server, clock = PaperServer(), Clock()
    fresh = ws.schedule(Post("baru"), ["humas"], at=datetime.now(UTC) + timedelta(seconds=30))
    caught = ws.schedule(Post("terputus"), ["humas"], at=datetime.now(UTC) + timedelta(seconds=30))
    clock.now += 31
    [sending] = ws.store.deliveries(caught.id)
    [claimed, other] = ws.store.claim("dead-worker", clock.now, 0.0, 10)
    assert ws.store.mark_sending(sending.id, "dead-worker", clock.now, 0.0)  # then it died
    assert {claimed.id, other.id} == {sending.id, ws.store.deliveries(fresh.id)[0].id}
    ws.store.release("dead-worker", clock.now)
    clock.now += 1
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", OTHER_KEY)
    run(ws, server, clock)
    [waiting] = ws.store.deliveries(fresh.id)
    [stuck] = ws.store.deliveries(caught.id)
    assert (waiting.status, waiting.attempts, waiting.lease_owner) == ("scheduled", 0, None)
    assert (stuck.status, stuck.attempts, stuck.lease_owner) == ("sending", 1, None)
    assert stuck.lease_until is not None and stuck.lease_until <= clock.now
    assert ws.store.claim("another", clock.now + 60, 60.0, 10) == [], "nothing claimable"
    assert ws.store.next_due() is None and ws.store.count_due(clock.now + 60) == 0
    assert server.posts == {}, "nothing sent while locked"
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    clock.now += 1
    run(ws, server, clock)
    run(ws, server, clock)
    assert ws.store.deliveries(fresh.id)[0].status == "published"
    # the one caught sending is reconciled, not resent: the fake platform cannot be asked
    # and has no idempotency window, so a person decides (mastodon-mock's case: the test
    # test_a_delivery_caught_sending_on_a_locked_account_is_reconciled_not_resent_later)
    assert ws.store.deliveries(caught.id)[0].status == "unknown"
    assert [str(p["text"]) for p in server.posts.values()] == ["baru"]


def test_a_running_worker_unlocks_an_account_once_its_credentials_open(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a restart: another process fixes the stored credentials (here: the key comes
    back into this process's environment); within LOCK_CHECK_SECONDS the running worker
    lifts the lock and publishes the waiting post once."""
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    ws.add_account("humas", sealed_account())
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("tunggu"), ["humas"], at=datetime.now(UTC) + timedelta(seconds=30))
    clock.now += 31
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", OTHER_KEY)

    async def go() -> None:
        stop = asyncio.Event()
        async with AsyncClient(transport=server.transport(), **ws.core.client_options()) as c:
            task = asyncio.create_task(Worker(ws, clock=clock).run(c, stop=stop, poll=0.01))
            while not ws.locked_accounts():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # a few rounds of the loop: nothing is claimed again
            assert ws.store.deliveries(job.id)[0].attempts == 0 and server.posts == {}
            monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
            await asyncio.sleep(0.2)  # the worker's clock has not moved: no check yet
            assert ws.locked_accounts(), "locks are looked at every LOCK_CHECK_SECONDS"
            clock.now += LOCK_CHECK_SECONDS
            while ws.store.deliveries(job.id)[0].status != "published":
                assert not task.done(), task
                await asyncio.sleep(0.01)
            stop.set()
            await task

    asyncio.run(asyncio.wait_for(go(), timeout=60))
    assert [p["text"] for p in server.posts.values()] == ["tunggu"]
    assert ws.locked_accounts() == {} and len(ws.audit_log(action="account_unlocked")) == 1


# -- 5. replacing the credentials of an account with history --------------------------------


def _second_token(mastodon: Any, account: Account) -> str:
    """A new access token for the same mock user (OAuth authorization-code grant)."""
    username = account.handle.split("@")[1]
    with httpx.Client(base_url=mastodon.base_url, timeout=30) as http:
        page = http.post(
            "/oauth/authorize",
            data={"username": username, "redirect_uri": "urn:ietf:wg:oauth:2.0:oob"},
        )
        page.raise_for_status()
        code = page.text.split("Authorization code: ")[1].split("<")[0]
        token = http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            },
        )
        token.raise_for_status()
        return str(token.json()["access_token"])


def _accounts_file(path: Path, account: Account, token: str, handle: str | None = None) -> Path:
    path.write_text(
        textwrap.dedent(
            f"""
            [humas]
            platform = "mastodon"
            handle = "{handle or account.handle}"
            base_url = "{account.base_url}"
            credentials = {{ access_token = "{token}" }}
            """
        )
    )
    return path


def test_the_token_of_an_account_with_deliveries_and_inbox_items_can_be_replaced(
    mastodon: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("govsocial_mastodon")
    from govsocial import Client

    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    url = str(tmp_path / "ws.db")
    ws, account = _mastodon_workspace(url, mastodon, sealed=True, monkeypatch=monkeypatch)
    citizen = mastodon.new_account("w" + uuid.uuid4().hex[:12])
    try:
        first = f"Sebelum rotasi {uuid.uuid4().hex[:8]}"
        job = ws.schedule(Post(first), ["humas"], at=datetime.now(UTC) + timedelta(seconds=30))
        _run_due(ws)
        assert ws.store.deliveries(job.id)[0].status == "published"
        with Client() as client:
            [mention] = client.publish(Post(f"{mastodon.mention(account)} tanya"), [citizen])
            assert mention.ok, mention.error
        ws.pull_inbox()
        assert len(ws.inbox(None)) == 1
    finally:
        ws.close()
    # the token leaked: revoke it, take a new one, import the account again
    fresh = _second_token(mastodon, account)
    mastodon.revoke_token(account)
    env = {k: v for k, v in os.environ.items() if k != "GOVSOCIAL_DB"}
    env["GOVSOCIAL_LOAD_PLUGINS"] = "mastodon"
    imported = subprocess.run(
        [
            sys.executable,
            "-m",
            "govsocial.cli",
            "--db",
            url,
            "accounts",
            "import",
            str(_accounts_file(tmp_path / "a.toml", account, fresh)),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
    assert "Traceback" not in imported.stderr
    renewed = Account(
        **account.model_dump(exclude={"credentials"}), credentials={"access_token": fresh}
    )
    with Workspace.open(url, plugins=Plugins(only=["mastodon"])) as ws:
        assert ws.account("humas").credential("access_token") == fresh
        assert ws.store.deliveries(job.id)[0].status == "published", "history kept"
        assert len(ws.inbox(None)) == 1
        second = f"Sesudah rotasi {uuid.uuid4().hex[:8]}"
        job2 = ws.schedule(Post(second), ["humas"], at=datetime.now(UTC) + timedelta(seconds=30))
        _run_due(ws)
        assert ws.store.deliveries(job2.id)[0].status == "published"
    assert sorted(_texts(mastodon, renewed)) == sorted([first, second]), "sent with the new token"
    # the history cannot be re-pointed at another account
    repointed = subprocess.run(
        [
            sys.executable,
            "-m",
            "govsocial.cli",
            "--db",
            url,
            "accounts",
            "import",
            str(_accounts_file(tmp_path / "b.toml", account, fresh, handle="@lain@example.org")),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert repointed.returncode == 2 and "Traceback" not in repointed.stderr
    assert "has history (2 deliveries, 1 inbox items)" in repointed.stderr
    assert "add the other account under a new name" in repointed.stderr


def test_replacing_credentials_of_a_governed_account_keeps_its_appointments(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    ws.add_account("humas", sealed_account())
    ws.add_person("siti", name="Siti")
    ws.appoint(
        "siti", accounts=["humas"], role="admin", decree="SK/1/2026", valid_from="2026-01-01"
    )
    ws.add_account("humas", sealed_account(token="rotated-token-1234567890"), slots="Mon 09:00")
    assert ws.account("humas").credential("access_token") == "rotated-token-1234567890"
    assert [a.decree for a in ws.appointments(account="humas")] == ["SK/1/2026"]
    with pytest.raises(ConfigurationError, match="has history \\(1 appointments\\)"):
        ws.add_account("humas", sealed_account("@lain"))


def test_a_running_worker_uses_replaced_credentials(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker keeps opened accounts, but re-reads the stored credentials every 5 s: a
    token replaced while it runs is the one it sends next (here a revoked one: refused)."""
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    ws.add_account("humas", sealed_account())
    server, clock = PaperServer(), Clock()
    worker = Worker(ws, clock=clock)

    async def due() -> int:
        async with AsyncClient(transport=server.transport(), **ws.core.client_options()) as c:
            return await worker.run_due(c)

    first = ws.schedule(Post("satu"), ["humas"], at=datetime.now(UTC) + timedelta(seconds=30))
    clock.now += 31
    asyncio.run(due())
    assert ws.store.deliveries(first.id)[0].status == "published"
    ws.add_account("humas", sealed_account(token="revoked-token-1234567890"))
    second = ws.schedule(Post("dua"), ["humas"], at=datetime.now(UTC) + timedelta(seconds=40))
    clock.now += 10
    asyncio.run(due())
    [delivery] = ws.store.deliveries(second.id)
    assert delivery.status == "failed" and delivery.error_type == "AuthenticationError"
    assert server.requests[-1].headers["authorization"] == "Bearer revoked-token-1234567890"
    assert [p["text"] for p in server.posts.values()] == ["satu"]


def test_an_account_without_history_can_still_be_replaced_whole(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    ws.add_account("humas", sealed_account())
    ws.add_account("humas", sealed_account("@humas_baru", token="baru-token-1234567890"))
    [row] = ws.store.accounts()
    assert row.handle == "@humas_baru"
    assert ws.account("humas").credential("access_token") == "baru-token-1234567890"


# -- credentials kept only to save work ----------------------------------------------------


def test_a_cached_credential_that_cannot_be_stored_or_opened_is_left_out_quietly(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``Platform.cached_credentials`` (Bluesky's login session): without a key it is not
    stored and nothing warns; sealed, a process without the key or with another one opens
    the account without it instead of locking it. Any other credential still locks."""
    from fakes import Paper

    monkeypatch.setattr(Paper, "cached_credentials", ("session",))
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    ws.add_account("humas", paper_account())  # env:PAPER_TOKEN: no key needed
    session = "kept-session-" + "7" * 20
    ws.core.store_refreshed_credentials(ws.account("humas"), {"session": session})
    assert "session" not in ws.store.accounts()[0].credentials
    assert not [r for r in caplog.records if r.levelno >= 30], "a cache: no warning"
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    ws.core.store_refreshed_credentials(ws.account("humas"), {"session": session})
    assert ws.core.open_account("humas").credential("session") == session
    assert session not in stored_values(ws.url)
    for key in (OTHER_KEY, None):
        if key is None:
            monkeypatch.delenv("GOVSOCIAL_SECRET_KEY")
        else:
            monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", key)
        opened = ws.core.open_account("humas")
        assert "session" not in opened.credentials
        assert opened.credential("access_token") == TOKEN
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", KEY)
    ws.core.store_refreshed_credentials(ws.account("humas"), {"access_token": TOKEN})
    monkeypatch.delenv("GOVSOCIAL_SECRET_KEY")
    with pytest.raises(AccountLocked):
        ws.core.open_account("humas")
