"""Audit anchors (issue 12, item 5) against the fake platform's server, both engines.

The anchor is read back from what the server stored, never from what govsocial returned.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from fakes import TOKEN, Paper, PaperServer, paper_account
from govsocial import AuditAnchor, Post
from govsocial.app import Workspace
from govsocial.cli import main
from govsocial.core.errors import AuditTampered, ConfigurationError, NotPermitted, ValidationError
from govsocial.plugin.manager import Plugins
from test_signing import SK, today


@pytest.fixture
def roomy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake platform takes 20 characters; an anchor needs about 150 (every real one
    takes 280 or more)."""
    limits = Paper.limits.model_copy(update={"max_characters": 500, "max_bytes": 2000})
    monkeypatch.setattr(Paper, "limits", limits)


def _stored_anchor(server: PaperServer) -> str:
    [text] = [str(p["text"]) for p in server.posts.values() if "audit anchor" in str(p["text"])]
    return text


def test_an_anchor_is_posted_read_back_and_verified(
    ws: Workspace, humas: str, paper_server: PaperServer, roomy: None
) -> None:
    ws.add_person("siti", name="Siti")
    anchor = ws.publish_audit_anchor(humas, transport=paper_server.transport())
    text = _stored_anchor(paper_server)
    read = AuditAnchor.parse(text)
    assert (read.seq, read.hash) == (anchor.seq, anchor.hash)
    entries = ws.audit_log()
    assert entries[anchor.seq - 1].hash.startswith(read.hash)
    assert entries[-1].action == "publish_audit_anchor"
    assert entries[-1].detail["seq"] == anchor.seq
    assert ws.verify_audit(anchors=[text]) == len(entries)
    assert ws.verify_audit(anchors=[read]) == len(entries)


def test_an_anchor_beyond_the_log_names_the_removed_entries(
    ws: Workspace, humas: str, paper_server: PaperServer, roomy: None
) -> None:
    ws.add_person("siti", name="Siti")
    anchor = ws.publish_audit_anchor(humas, transport=paper_server.transport())
    later = anchor.model_copy(update={"seq": anchor.seq + 5})
    with pytest.raises(AuditTampered, match=r"entries \d+ to \d+ were removed"):
        ws.verify_audit(anchors=[later])
    other = anchor.model_copy(update={"hash": "0" * 32})
    with pytest.raises(AuditTampered, match=f"audit entry {anchor.seq} differs from the anchor"):
        ws.verify_audit(anchors=[other])


def test_anchor_text_is_found_in_html_and_garbage_is_refused() -> None:
    html = (
        '<p>govsocial audit anchor of Dinas &amp; Co: entry #<a href="x">12</a>, hash '
        "0123456789abcdef0123456789abcdef, 2026-12-06T07:15:02Z. Anyone may hold ...</p>"
    )
    found = AuditAnchor.parse(html)
    assert (found.seq, found.hash, found.at.year) == (12, "0123456789abcdef0123456789abcdef", 2026)
    for garbage in ("Halo semua", "govsocial audit anchor: entry #x, hash zz, yesterday"):
        with pytest.raises(ConfigurationError, match="no govsocial audit anchor"):
            AuditAnchor.parse(garbage)


def test_only_an_admin_posts_an_anchor_on_a_governed_account(
    ws: Workspace, humas: str, paper_server: PaperServer
) -> None:
    ws.add_person("budi", name="Budi")
    ws.appoint(
        "budi", accounts=[humas], role="contributor", decree=SK, valid_from=today() - timedelta(1)
    )
    with pytest.raises(NotPermitted, match="publish_audit_anchor"):
        ws.publish_audit_anchor(humas, by="budi", transport=paper_server.transport())
    assert paper_server.posts == {}
    assert ws.audit_log(action="refused:publish_audit_anchor")[0].actor == "budi"
    assert ws.add_draft(Post("x"), accounts=[humas], by="budi").status == "pending"


def test_an_anchor_the_platform_refuses_is_an_error_and_on_record(
    ws: Workspace, humas: str, paper_server: PaperServer
) -> None:
    ws.add_person("siti", name="Siti")
    with pytest.raises(ValidationError, match="the limit is 20"):
        ws.publish_audit_anchor(humas, transport=paper_server.transport())
    assert paper_server.posts == {}
    [failed] = ws.audit_log(action="publish_audit_anchor_failed")
    assert "limit is 20" in failed.detail["error"]


def test_audit_verify_on_the_command_line_takes_published_anchors(
    tmp_path: Path,
    plugins: Plugins,
    paper_server: PaperServer,
    roomy: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    db = str(tmp_path / "ws.db")
    with Workspace.open(db, plugins=plugins) as ws:
        ws.add_account("humas", paper_account())
        ws.add_person("siti", name="Siti")
        anchor = ws.publish_audit_anchor("humas", transport=paper_server.transport())
    text = _stored_anchor(paper_server)
    assert main(["--db", db, "audit", "verify", "--published", text]) == 0
    assert "audit log verified" in capsys.readouterr().out
    forged = text.replace(anchor.hash, "f" * 32)
    assert main(["--db", db, "audit", "verify", "--published", forged]) == 1
    assert f"audit entry {anchor.seq} differs from the anchor" in capsys.readouterr().err
    assert main(["--db", db, "audit", "verify", "--published", "Halo"]) == 2
