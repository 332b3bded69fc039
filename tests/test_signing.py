"""Signed actions (issue 12, item 4): a person registered with a public key must sign.

Assertions are on what the database holds, what ``verify_audit`` says, and what the fake
platform's server received. The attacks run as a second OS process that writes to the
SQLite file directly (triggers dropped, the hash chain recomputed), as someone with
database access would.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import govsocial
from fakes import Clock, PaperServer, run, soon
from govsocial import Post, SigningKey
from govsocial.accountability.governance import Accountability
from govsocial.app import Workspace
from govsocial.cli import main
from govsocial.core.errors import AuditTampered, ConfigurationError, NotPermitted

SK = "800/7/SK/2026"

#: The second process: writes to the SQLite file as a database user would, knowing only the
#: documented chain format (docs/accountability.md), never govsocial's code.
FORGE = r"""
import hashlib, json, sqlite3, sys

path, what, *rest = sys.argv[1:]
db = sqlite3.connect(path)
db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
db.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


def rechain():
    prev, last = "0" * 64, 0
    rows = db.execute(
        "SELECT seq, at, actor, action, object, account, decree, detail, signature "
        "FROM audit_log ORDER BY seq"
    ).fetchall()
    for seq, at, actor, action, obj, account, decree, detail, signature in rows:
        fields = [prev, seq, f"{at:.6f}", actor, action, obj, account, decree, detail]
        if signature is not None:
            fields.append(signature)
        text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        db.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq)
        )
        prev, last = digest, seq
    db.execute("UPDATE govsocial_meta SET value = ? WHERE key = 'audit_head'", (f"{last}:{prev}",))


if what == "reattribute":  # an approval's person rewritten, chain recomputed
    draft, old, new, keep_signature = rest
    db.execute(
        "UPDATE audit_log SET actor = ? WHERE action = 'approve' AND object = ? AND actor = ?",
        (new, draft, old),
    )
    if keep_signature == "no":
        db.execute(
            "UPDATE audit_log SET signature = NULL WHERE action = 'approve' AND object = ?",
            (draft,),
        )
    db.execute(
        "UPDATE approvals SET person = ? WHERE draft_id = ? AND person = ?", (new, draft, old)
    )
    rechain()
elif what == "forge_approval":  # an approvals row nobody gave
    draft, person = rest
    db.execute(
        "INSERT INTO approvals (draft_id, person, decree, at, content) "
        "SELECT draft_id, ?, decree, at + 1, content FROM approvals WHERE draft_id = ?",
        (person, draft),
    )
    db.execute("UPDATE drafts SET status = 'approved' WHERE id = ?", (draft,))
elif what == "swap_key":  # a person's public key replaced by the attacker's
    person, key = rest
    db.execute("UPDATE people SET public_key = ? WHERE id = ?", (key, person))
db.commit()
print("done", what)
"""


def forge(path: Path, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FORGE, str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.startswith(f"done {args[0]}"), done.stderr


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


@pytest.fixture
def keys() -> dict[str, SigningKey]:
    return {name: SigningKey.generate() for name in ("rahmat", "siti", "mallory")}


@pytest.fixture
def signed(ws: Workspace, humas: str, keys: dict[str, SigningKey]) -> Workspace:
    """rahmat (approver) and siti (admin) sign; dewi (approver) and budi (contributor) do not."""
    ws.add_person("rahmat", name="Rahmat", public_key=keys["rahmat"].public_key)
    ws.add_person("siti", name="Siti", public_key=keys["siti"].public_key)
    ws.add_person("dewi", name="Dewi")
    ws.add_person("budi", name="Budi")
    start = today() - timedelta(days=1)
    for person, role in (("rahmat", "approver"), ("dewi", "approver"), ("budi", "contributor")):
        ws.appoint(person, accounts=[humas], role=role, decree=SK, valid_from=start)
    ws.appoint(
        "siti",
        accounts=[humas],
        role="admin",
        decree=SK,
        valid_from=start,
        by="siti",
        key=keys["siti"],
    )
    return ws


# -- the key itself -----------------------------------------------------------------------------


def test_a_key_is_saved_owner_only_never_overwritten_and_loads_back(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = key.save(tmp_path / "siti.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SigningKey.load(path).public_key == key.public_key
    assert key.public_key.startswith("ed25519:")
    assert len(base64.b64decode(key.public_key.removeprefix("ed25519:"))) == 32
    other = SigningKey.generate()
    with pytest.raises(ConfigurationError, match="never overwritten"):
        other.save(path)
    assert SigningKey.load(path).public_key == key.public_key  # the first key is intact
    assert "PRIVATE" not in repr(key) and key.public_key in repr(key)
    (tmp_path / "junk.key").write_text("not a key")
    with pytest.raises(ConfigurationError, match="no unencrypted Ed25519"):
        SigningKey.load(tmp_path / "junk.key")


def test_govsocial_exports_the_signing_names() -> None:
    assert govsocial.SigningKey is SigningKey
    assert govsocial.AuditAnchor.__name__ == "AuditAnchor"


def test_a_public_key_that_is_not_one_is_refused(ws: Workspace) -> None:
    for bad in ("ssh-ed25519 AAAA", "ed25519:" + base64.b64encode(b"short").decode()):
        with pytest.raises(ConfigurationError, match="not an Ed25519 public key"):
            ws.add_person("x", name="X", public_key=bad)
    assert ws.people() == []


# -- acting as a signing person ---------------------------------------------------------------


def test_a_signing_person_is_refused_without_their_key_and_nothing_is_written(
    signed: Workspace, humas: str, keys: dict[str, SigningKey]
) -> None:
    draft = signed.add_draft(Post("Jadwal vaksinasi"), accounts=[humas], by="budi")
    with pytest.raises(NotPermitted, match="rahmat signs their actions"):
        signed.approve(draft.id, by="rahmat")
    with pytest.raises(NotPermitted, match="the key given is not rahmat's"):
        signed.approve(draft.id, by="rahmat", key=keys["mallory"])
    with pytest.raises(NotPermitted, match="no public key registered"):
        signed.approve(draft.id, by="dewi", key=keys["mallory"])
    assert signed.draft(draft.id).approvals == ()
    refused = signed.audit_log(action="refused:approve")
    assert [e.actor for e in refused] == ["rahmat", "rahmat", "dewi"]

    approved = signed.approve(draft.id, by="rahmat", key=keys["rahmat"])
    assert approved.status == "approved"
    [entry] = signed.audit_log(action="approve")
    assert entry.signature is not None and entry.detail["content"].startswith("sha256:")
    assert signed.verify_audit() == len(signed.audit_log())


def test_a_service_called_below_the_facade_cannot_skip_the_signature(
    signed: Workspace, humas: str
) -> None:
    """Accountability(ws).approve called without key=: refused, and no approval row is left
    behind."""
    draft = signed.add_draft(Post("Info"), accounts=[humas], by="budi")
    with pytest.raises(NotPermitted, match="signs"):
        Accountability(signed).approve(draft.id, by="rahmat")
    with signed.store.transaction() as cur:
        rows = signed.store.governance.all_approvals(cur)
    assert rows == []
    assert signed.draft(draft.id).status == "pending"


def test_the_signature_verifies_with_a_plain_ed25519_tool(
    signed: Workspace, humas: str, keys: dict[str, SigningKey]
) -> None:
    """The payload form docs/accountability.md documents, built here by hand."""
    draft = signed.add_draft(Post("Halo"), accounts=[humas], by="budi")
    signed.approve(draft.id, by="rahmat", key=keys["rahmat"])
    [entry] = signed.audit_log(action="approve")
    body = {
        "v": "govsocial-audit-signature/1",
        "seq": entry.seq,
        "prev_hash": entry.prev_hash,
        "at": f"{entry.at.timestamp():.6f}",
        "actor": entry.actor,
        "action": entry.action,
        "object": entry.object,
        "account": entry.account,
        "decree": entry.decree,
        "detail": entry.detail,
    }
    payload = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    raw = base64.b64decode(keys["rahmat"].public_key.removeprefix("ed25519:"))
    assert entry.signature is not None
    Ed25519PublicKey.from_public_bytes(raw).verify(
        base64.b64decode(entry.signature), payload.encode("utf-8")
    )  # raises InvalidSignature otherwise


def test_replacing_a_key_needs_a_signed_action(
    signed: Workspace, keys: dict[str, SigningKey]
) -> None:
    new = SigningKey.generate()
    with pytest.raises(NotPermitted, match="replacing rahmat's public key"):
        signed.add_person("rahmat", name="Rahmat", public_key=new.public_key)
    with pytest.raises(NotPermitted, match="replacing rahmat's public key"):
        signed.add_person("rahmat", name="Rahmat", public_key=new.public_key, by="dewi")
    assert signed.person("rahmat").public_key == keys["rahmat"].public_key
    # recorded again without a key: the key stays
    signed.add_person("rahmat", name="Rahmat H.")
    assert signed.person("rahmat").public_key == keys["rahmat"].public_key
    # rotated with the old key
    signed.add_person(
        "rahmat", name="Rahmat H.", public_key=new.public_key, by="rahmat", key=keys["rahmat"]
    )
    assert signed.person("rahmat").public_key == new.public_key
    assert signed.verify_audit() == len(signed.audit_log())


def test_every_by_method_takes_key(
    signed: Workspace, humas: str, keys: dict[str, SigningKey]
) -> None:
    """Workspace-wide actions too: siti signs her appointments, rules and settings."""
    with pytest.raises(NotPermitted, match="siti signs"):
        signed.set_approval_rule(humas, approvers=1, by="siti")
    signed.set_approval_rule(humas, approvers=1, by="siti", key=keys["siti"])
    with pytest.raises(NotPermitted, match="siti signs"):
        signed.set_institution("Dinas Kominfo", by="siti")
    signed.set_institution("Dinas Kominfo", by="siti", key=keys["siti"])
    with pytest.raises(NotPermitted, match="siti signs"):
        signed.schedule(Post("x"), [humas], soon(), by="siti")
    job = signed.schedule(Post("x"), [humas], soon(), by="siti", key=keys["siti"])
    with pytest.raises(NotPermitted, match="siti signs"):
        signed.cancel(job.id, by="siti")
    signed.cancel(job.id, by="siti", key=keys["siti"])
    with pytest.raises(NotPermitted, match="without by="):
        signed.cancel(job.id, key=keys["siti"])
    signed_actions = [e for e in signed.audit_log(actor="siti") if e.signature]
    assert {e.action for e in signed_actions} >= {
        "appoint",
        "set_approval_rule",
        "set_institution",
        "schedule",
        "cancel",
    }
    assert signed.verify_audit() == len(signed.audit_log())


def test_a_signing_head_signs_every_workspace_wide_action(
    ws: Workspace, humas: str, keys: dict[str, SigningKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Heads of office (issue 12, items 1 and 4 together): the head check and the signature
    are one path, so a head who signs is refused without their key on every head action,
    and each refusal is audit-logged before anything is written."""
    from fakes import paper_account
    from govsocial.workspace.credentials import new_key

    siti = keys["siti"]
    ws.add_person("siti", name="Siti", public_key=siti.public_key)
    ws.add_person("budi", name="Budi")
    ws.appoint("siti", role="head", decree=SK, valid_from=today(), by="siti", key=siti)
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", new_key())
    start = today() - timedelta(days=1)
    actions = {
        "add_person": lambda key: ws.add_person("dewi", name="Dewi", by="siti", key=key),
        "add_account": lambda key: ws.add_account(
            "kanal", paper_account("@kanal"), by="siti", key=key
        ),
        "appoint": lambda key: ws.appoint(
            "budi", accounts=[humas], role="admin", decree=SK, valid_from=start, by="siti", key=key
        ),
        "set_approval_rule": lambda key: ws.set_approval_rule(
            humas, approvers=1, by="siti", key=key
        ),
        "revoke": lambda key: ws.revoke("budi", by="siti", key=key, reason="pindah tugas"),
        "rotate_key": lambda key: ws.rotate_key(new_key(), by="siti", key=key),
    }
    for action, act in actions.items():
        before = len(ws.audit_log())
        with pytest.raises(NotPermitted, match="siti signs"):
            act(None)
        with pytest.raises(NotPermitted, match="the key given is not siti's"):
            act(keys["mallory"])
        refused = ws.audit_log(action=f"refused:{action}")
        assert len(refused) == 2, action
        assert len(ws.audit_log()) == before + 2, f"{action} wrote something when refused"
        act(siti)
        [done] = [e for e in ws.audit_log(actor="siti") if e.action == action][-1:]
        assert done.signature is not None, action
    assert "dewi" in {p.id for p in ws.people()}
    assert [a.revoked_at is not None for a in ws.appointments(person="budi")] == [True]
    assert ws.verify_audit() == len(ws.audit_log())


def test_every_by_method_of_the_facade_takes_key() -> None:
    import inspect

    missing = [
        name
        for name, method in inspect.getmembers(Workspace, inspect.isfunction)
        if not name.startswith("_")
        and "by" in inspect.signature(method).parameters
        and "key" not in inspect.signature(method).parameters
        and name not in {"summary", "performance"}  # by= is a grouping there, not an actor
    ]
    assert missing == []


# -- a second process with database access -----------------------------------------------------


@pytest.fixture
def file_ws(
    tmp_path: Path, plugins: object, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    """A SQLite workspace whose file a second process can open."""
    from fakes import TOKEN, paper_account

    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    ws = Workspace.open(tmp_path / "ws.db", plugins=plugins)  # type: ignore[arg-type]
    ws.add_account("humas", paper_account())
    try:
        yield ws
    finally:
        ws.close()


@pytest.mark.parametrize("keep_signature", ["yes", "no"])
def test_rewriting_who_approved_with_a_recomputed_chain_is_named(
    file_ws: Workspace, keys: dict[str, SigningKey], keep_signature: str
) -> None:
    ws = file_ws
    _people(ws, keys)
    draft = ws.add_draft(Post("Pengumuman"), accounts=["humas"], by="budi", at=soon(60))
    ws.approve(draft.id, by="rahmat", key=keys["rahmat"])
    later = ws.add_draft(Post("Berikutnya"), accounts=["humas"], by="budi")
    ws.reject(later.id, by="rahmat", key=keys["rahmat"], reason="belum lengkap")  # signed, later
    assert ws.verify_audit() == len(ws.audit_log())
    [approval] = ws.audit_log(action="approve")
    [rejection] = ws.audit_log(action="reject")

    forge(
        Path(ws.url.removeprefix("sqlite:///")),
        "reattribute",
        draft.id,
        "rahmat",
        "dewi",
        keep_signature,
    )

    assert [e.actor for e in ws.audit_log(action="approve")] == ["dewi"]
    with pytest.raises(AuditTampered) as raised:
        ws.verify_audit()
    text = str(raised.value)
    if keep_signature == "yes":
        assert raised.value.seq == approval.seq
        assert f"audit entry {approval.seq} carries a signature, but its actor 'dewi'" in text
    # either way the later signed entry, whose place in the chain moved, no longer verifies
    assert f"audit entry {rejection.seq}'s signature does not verify" in text


def test_a_forged_approval_row_is_named_and_the_worker_refuses_it(
    file_ws: Workspace, keys: dict[str, SigningKey], paper_server: PaperServer
) -> None:
    ws = file_ws
    _people(ws, keys)
    ws.set_approval_rule("humas", approvers=2, by="siti", key=keys["siti"])
    draft = ws.add_draft(Post("Butuh dua"), accounts=["humas"], by="budi")
    ws.approve(draft.id, by="rahmat", key=keys["rahmat"])
    assert ws.draft(draft.id).status == "pending"

    forge(Path(ws.url.removeprefix("sqlite:///")), "forge_approval", draft.id, "dewi")

    assert ws.draft(draft.id).status == "approved"  # the forgery looks complete
    with pytest.raises(AuditTampered, match=f"approval of draft {draft.id} by dewi has no audit"):
        ws.verify_audit()
    ws.schedule(ws.draft(draft.id), at=soon(30), by="siti", key=keys["siti"])
    clock = Clock()
    clock.now += 60
    run(ws, paper_server, clock)
    assert paper_server.posts == {}
    [delivery] = ws.jobs()[0].deliveries
    assert delivery.status == "refused"
    # the authority check at publication runs first and names the forged approval
    assert "by dewi is not in the audit log" in (delivery.error or "")
    [entry] = ws.audit_log(action="refused")
    assert entry.object == delivery.id


def test_a_swapped_public_key_is_refused_at_once_and_named(
    file_ws: Workspace, keys: dict[str, SigningKey]
) -> None:
    ws = file_ws
    _people(ws, keys)
    draft = ws.add_draft(Post("Kunci"), accounts=["humas"], by="budi")

    forge(
        Path(ws.url.removeprefix("sqlite:///")),
        "swap_key",
        "rahmat",
        keys["mallory"].public_key,
    )

    with pytest.raises(NotPermitted, match="not the one the audit log registered"):
        ws.approve(draft.id, by="rahmat", key=keys["mallory"])
    assert ws.draft(draft.id).approvals == ()
    with pytest.raises(AuditTampered, match="rahmat's public key in the people table"):
        ws.verify_audit()


def test_a_deleted_public_key_does_not_let_its_person_act_unsigned(
    file_ws: Workspace, keys: dict[str, SigningKey]
) -> None:
    ws = file_ws
    _people(ws, keys)
    draft = ws.add_draft(Post("Hapus"), accounts=["humas"], by="budi")
    with ws.store.transaction() as cur:  # what a second process would do, in short
        ws.store.execute(cur, "UPDATE people SET public_key = NULL WHERE id = 'rahmat'")
    with pytest.raises(NotPermitted, match="not the one the audit log registered"):
        ws.approve(draft.id, by="rahmat")
    assert ws.draft(draft.id).approvals == ()


def test_govsocial_keys_new_writes_a_key_the_cli_signs_with(
    file_ws: Workspace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws = file_ws
    db = ws.url.removeprefix("sqlite:///")
    key_path = tmp_path / "rahmat.key"
    assert main(["keys", "new", "rahmat", "--out", str(key_path)]) == 0
    public = capsys.readouterr().out.splitlines()[0]
    assert public == SigningKey.load(key_path).public_key
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert main(["keys", "new", "rahmat", "--out", str(key_path)]) == 2  # never overwritten
    assert main(["--db", db, "people", "add", "rahmat", "--name", "R", "--public-key", public]) == 0
    main(["--db", db, "people", "add", "budi", "--name", "B"])
    start = (today() - timedelta(days=1)).isoformat()
    for person, role in (("rahmat", "approver"), ("budi", "contributor")):
        argv = ["--db", db, "appoint", person, "--to", "humas", "--role", role]
        assert main([*argv, "--decree", SK, "--from", start]) == 0
    draft = ws.add_draft(Post("CLI"), accounts=["humas"], by="budi")
    capsys.readouterr()
    assert main(["--db", db, "approve", draft.id, "--by", "rahmat"]) == 2
    assert "rahmat signs their actions" in capsys.readouterr().err
    monkeypatch.setenv("GOVSOCIAL_KEY", str(key_path))
    assert main(["--db", db, "approve", draft.id, "--by", "rahmat"]) == 0
    [entry] = ws.audit_log(action="approve")
    assert entry.signature is not None
    assert main(["--db", db, "audit", "verify"]) == 0


def _people(ws: Workspace, keys: dict[str, SigningKey]) -> None:
    ws.add_person("rahmat", name="Rahmat", public_key=keys["rahmat"].public_key)
    ws.add_person("siti", name="Siti", public_key=keys["siti"].public_key)
    ws.add_person("dewi", name="Dewi")
    ws.add_person("budi", name="Budi")
    start = today() - timedelta(days=1)
    for person, role in (("rahmat", "approver"), ("dewi", "approver"), ("budi", "contributor")):
        ws.appoint(person, accounts=["humas"], role=role, decree=SK, valid_from=start)
    ws.appoint(
        "siti",
        accounts=["humas"],
        role="admin",
        decree=SK,
        valid_from=start,
        by="siti",
        key=keys["siti"],
    )


def test_entries_never_go_back_in_time(file_ws: Workspace) -> None:
    """A caller with a clock behind the log's newest entry writes no earlier date; a row
    dated before its predecessor, written outside with a correct hash, is named."""
    ws = file_ws
    ws.add_person("budi", name="Budi")
    from govsocial.workspace import audit

    with ws.store.transaction() as cur:
        entry = audit.append(ws.store, cur, actor=None, action="note", at=1.0)
    log = ws.audit_log()
    assert entry.at == log[-2].at and entry.at > datetime(2000, 1, 1, tzinfo=UTC)
    assert all(a.at <= b.at for a, b in itertools.pairwise(log))
    assert ws.verify_audit() == len(log)

    head = ws.audit_head()
    assert head is not None
    seq, when = head.seq + 1, 1.0  # 1970, after an entry of today
    digest = audit._digest(head.hash, seq, when, None, "note", None, None, None, "{}")
    with ws.store.transaction() as cur:
        ws.store.execute(
            cur,
            "INSERT INTO audit_log (seq, at, actor, action, object, account, decree, detail, "
            "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, when, None, "note", None, None, None, "{}", head.hash, digest),
        )
        ws.store.execute(
            cur,
            "UPDATE govsocial_meta SET value = ? WHERE key = 'audit_head'",
            (f"{seq}:{digest}",),
        )
    with pytest.raises(AuditTampered, match="never go back in time") as raised:
        ws.verify_audit()
    assert raised.value.seq == seq
