"""Audit anchors and pinned media against mastodon-mock (issue 12, items 3 and 5).

The anchor is posted on the server, read back from it as any outsider would (the status's
HTML), and held against the database after a second OS process rewrote who approved and
recomputed the hash chain. The media swap is refused before anything reaches the server.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from govsocial import AuditAnchor, Media, Post, SigningKey
from govsocial.app import Workspace
from govsocial.cli._png import gradient_png
from govsocial.core.errors import AuditTampered
from govsocial.core.models import Account
from govsocial.plugin.manager import Plugins

pytest.importorskip("govsocial_mastodon")
pytest.importorskip("mastodon_mock")

from govsocial_mastodon.localserver import MastodonMockServer
from test_signing import FORGE, SK, today

TOKEN_VARIABLE = "GS_REAL_SIGNING_TOKEN"


@pytest.fixture
def real(
    mastodon: MastodonMockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Workspace, Account, dict[str, SigningKey]]]:
    """A SQLite workspace with one mastodon-mock account: budi drafts, rahmat (signs)
    approves, siti (signs) is admin."""
    account = mastodon.new_account("s" + uuid.uuid4().hex[:12])
    monkeypatch.setenv(TOKEN_VARIABLE, account.credential("access_token"))
    ws = Workspace.open(tmp_path / "ws.db", plugins=Plugins(only=["mastodon"]))
    ws.add_account(
        "humas",
        Account(
            platform="mastodon",
            handle=account.handle,
            base_url=account.base_url,
            credentials={"access_token": f"env:{TOKEN_VARIABLE}"},
        ),
    )
    keys = {name: SigningKey.generate() for name in ("rahmat", "siti")}
    ws.add_person("rahmat", name="Rahmat", public_key=keys["rahmat"].public_key)
    ws.add_person("siti", name="Siti", public_key=keys["siti"].public_key)
    ws.add_person("budi", name="Budi")
    ws.add_person("dewi", name="Dewi")
    start = today() - timedelta(days=1)
    for person, role in (("budi", "contributor"), ("rahmat", "approver"), ("dewi", "approver")):
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
    try:
        yield ws, account, keys
    finally:
        ws.close()


def test_an_anchor_read_back_from_the_server_names_a_rewritten_approval(
    real: tuple[Workspace, Account, dict[str, SigningKey]],
    mastodon: MastodonMockServer,
    tmp_path: Path,
) -> None:
    ws, account, keys = real
    ws.set_institution("Dinas Kominfo", by="siti", key=keys["siti"])
    draft = ws.add_draft(Post("Pengumuman"), accounts=["humas"], by="budi")
    ws.approve(draft.id, by="rahmat", key=keys["rahmat"])
    [approval] = ws.audit_log(action="approve")

    anchor = ws.publish_audit_anchor("humas", by="siti", key=keys["siti"])
    head = ws.audit_log()[-2]  # the anchor's own entry follows the head it anchors
    assert (anchor.seq, anchor.hash) == (head.seq, head.hash[:32])

    # read back from the server, as an outsider would: the status's HTML
    [status] = [
        s for s in mastodon.account_statuses(account) if "audit anchor" in str(s["content"])
    ]
    published = str(status["content"])
    read = AuditAnchor.parse(published, url=str(status["url"]))
    assert (read.seq, read.hash) == (anchor.seq, anchor.hash)
    assert "Dinas Kominfo" in mastodon.stored_text(status)
    [recorded] = ws.audit_log(action="publish_audit_anchor")
    assert recorded.detail["seq"] == anchor.seq and recorded.signature is not None
    assert ws.verify_audit(anchors=[published]) == len(ws.audit_log())

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            FORGE,
            str(tmp_path / "ws.db"),
            "reattribute",
            draft.id,
            "rahmat",
            "dewi",
            "yes",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.startswith("done reattribute")

    with pytest.raises(AuditTampered) as raised:
        ws.verify_audit(anchors=[published])
    text = str(raised.value)
    assert raised.value.seq == approval.seq
    # named by signature ...
    assert f"audit entry {approval.seq} carries a signature, but its actor 'dewi'" in text
    # ... and by the anchor the server holds
    assert f"audit entry {anchor.seq} differs from the anchor published" in text
    assert anchor.hash[:16] in text and len(raised.value.problems) >= 2


def test_a_media_file_swapped_after_approval_never_reaches_the_server(
    real: tuple[Workspace, Account, dict[str, SigningKey]],
    mastodon: MastodonMockServer,
    tmp_path: Path,
) -> None:
    ws, account, keys = real
    poster = tmp_path / "poster.png"
    poster.write_bytes(gradient_png(40, 30))
    swapped = gradient_png(41, 30)
    before = len(mastodon.account_statuses(account))
    draft = ws.add_draft(
        Post("Poster vaksinasi", media=[Media(path=poster, alt_text="poster")]),
        accounts=["humas"],
        by="budi",
    )
    ws.approve(draft.id, by="rahmat", key=keys["rahmat"])
    job = ws.schedule(ws.draft(draft.id), at=_in(3), by="siti", key=keys["siti"])
    poster.write_bytes(swapped)
    _run_when_due(ws)
    assert len(mastodon.account_statuses(account)) == before  # nothing arrived
    [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "refused"
    assert str(poster) in (delivery.error or "")

    # the control: the approved bytes go out, with their alt text
    poster.write_bytes(gradient_png(40, 30))
    again = ws.add_draft(
        Post("Poster asli", media=[Media(path=poster, alt_text="poster")]),
        accounts=["humas"],
        by="budi",
    )
    ws.approve(again.id, by="rahmat", key=keys["rahmat"])
    second = ws.schedule(ws.draft(again.id), at=_in(3), by="siti", key=keys["siti"])
    _run_when_due(ws)
    [sent] = ws.job(second.id).deliveries
    assert sent.status == "published"
    statuses = mastodon.account_statuses(account)
    assert [mastodon.stored_text(s) for s in statuses][:1] == ["Poster asli"]
    assert mastodon.stored_alt_texts(statuses[0]) == ["poster"]


def _in(seconds: int) -> str:
    from datetime import UTC, datetime

    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def _run_when_due(ws: Workspace) -> None:
    import time

    time.sleep(3.5)
    ws.run_due()
