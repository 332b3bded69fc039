"""Pinned content (issue 12, item 3): an approval covers one exact content, media bytes too.

Against the fake platform's server and the database: what the server received, what the
delivery and the audit log say. The swap attacks write the media file (or the database,
from a second OS process) after approval, as someone with access to either would.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fakes import TOKEN, Clock, PaperServer, paper_account, run, soon
from govsocial import Media, Post, PostVariant
from govsocial.app import Workspace
from govsocial.cli import main
from govsocial.core.errors import NotPermitted
from govsocial.plugin.manager import Plugins

SK = "800/9/SK/2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24
OTHER_PNG = b"\x89PNG\r\n\x1a\n" + b"\1" * 40


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


@pytest.fixture
def team(tmp_path: Path, plugins: Plugins, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A SQLite workspace (a second process can open the file): budi drafts, rahmat
    approves, siti schedules."""
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    ws = Workspace.open(tmp_path / "ws.db", plugins=plugins)
    ws.add_account("humas", paper_account())
    start = today() - timedelta(days=1)
    for person, role in (("budi", "contributor"), ("rahmat", "approver"), ("siti", "admin")):
        ws.add_person(person, name=person.capitalize())
        ws.appoint(person, accounts=["humas"], role=role, decree=SK, valid_from=start)
    try:
        yield ws
    finally:
        ws.close()


def _approved(ws: Workspace, post: Post) -> str:
    draft = ws.add_draft(post, accounts=["humas"], by="budi", at=soon(30))
    approved = ws.approve(draft.id, by="rahmat")
    assert approved.status == "scheduled"
    return draft.id


def _publish(ws: Workspace, server: PaperServer) -> None:
    clock = Clock()
    clock.now += 60
    run(ws, server, clock)


def test_a_draft_pins_the_bytes_of_every_media_file(team: Workspace, tmp_path: Path) -> None:
    poster = tmp_path / "poster.png"
    poster.write_bytes(PNG)
    post = Post(
        "Vaksinasi",
        media=[
            Media(path=poster, alt_text="poster"),
            Media(data=OTHER_PNG, alt_text="bytes"),
        ],
        variants={
            "paper": PostVariant(
                text="Vaksinasi!", media=(Media(url="https://x.test/a.png", alt_text="u"),)
            )
        },
    )
    draft = team.add_draft(post, accounts=["humas"], by="budi")
    assert draft.content is not None
    media = {m.field: m for m in draft.content.media}
    assert media["media[0]"].sha256 == hashlib.sha256(PNG).hexdigest()
    assert media["media[0]"].source == str(poster)
    assert media["media[1]"].sha256 == hashlib.sha256(OTHER_PNG).hexdigest()
    assert media["variants.paper.media[0]"].sha256 is None  # a URL: the URL only
    assert "bytes not pinned" in media["variants.paper.media[0]"].describe()
    [entry] = team.audit_log(action="draft")
    assert entry.detail["content"] == draft.content.digest


def test_a_file_changed_before_approval_is_refused_naming_it(
    team: Workspace, tmp_path: Path
) -> None:
    poster = tmp_path / "poster.png"
    poster.write_bytes(PNG)
    draft = team.add_draft(Post("Info", media=[Media(path=poster)]), accounts=["humas"], by="budi")
    poster.write_bytes(OTHER_PNG)
    with pytest.raises(NotPermitted) as raised:
        team.approve(draft.id, by="rahmat")
    text = str(raised.value)
    assert str(poster) in text
    assert hashlib.sha256(PNG).hexdigest() in text and hashlib.sha256(OTHER_PNG).hexdigest() in text
    assert team.draft(draft.id).approvals == ()
    [refused] = team.audit_log(action="refused:approve")
    assert str(poster) in refused.detail["reason"]


def test_a_file_swapped_after_approval_is_refused_by_the_worker(
    team: Workspace, tmp_path: Path, paper_server: PaperServer
) -> None:
    poster = tmp_path / "poster.png"
    poster.write_bytes(PNG)
    _approved(team, Post("Swap", media=[Media(path=poster, alt_text="p")]))
    poster.write_bytes(OTHER_PNG)  # after approval, before publication
    _publish(team, paper_server)
    assert paper_server.posts == {}
    assert not [r for r in paper_server.requests if r.method == "POST"]
    [delivery] = team.jobs()[0].deliveries
    assert delivery.status == "refused"
    error = delivery.error or ""
    assert "media[0]" in error and str(poster) in error
    assert hashlib.sha256(PNG).hexdigest() in error
    assert hashlib.sha256(OTHER_PNG).hexdigest() in error
    [entry] = team.audit_log(action="refused")
    assert entry.object == delivery.id and str(poster) in entry.detail["error"]
    assert team.jobs()[0].status == "refused"
    assert team.verify_audit() == len(team.audit_log())


def test_the_unchanged_file_is_published_and_archived_with_its_approved_digest(
    team: Workspace, tmp_path: Path, paper_server: PaperServer
) -> None:
    poster = tmp_path / "poster.png"
    poster.write_bytes(PNG)
    draft_id = _approved(team, Post("Sama", media=[Media(path=poster, alt_text="p")]))
    _publish(team, paper_server)
    assert [p["text"] for p in paper_server.posts.values()] == ["Sama"]
    poster.write_bytes(OTHER_PNG)  # edited after publication: the archive keeps what went out
    made = team.export_archive(tmp_path / "archive")
    [record] = [
        json.loads(line)
        for line in made.records.read_text().splitlines()
        if json.loads(line)["type"] == "post"
    ]
    [media] = record["post"]["media"]
    assert media["sha256_approved"] == hashlib.sha256(PNG).hexdigest()
    assert media["sha256"] == hashlib.sha256(OTHER_PNG).hexdigest()
    assert "changed after publication" in media["note"]
    assert record["post"]["approved_content"] == team.draft(draft_id).content.digest  # type: ignore[union-attr]


EDIT_JOB = r"""
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for job_id, post, authority in db.execute("SELECT id, post, authority FROM jobs").fetchall():
    body = json.loads(post)
    body["text"] = "Diubah setelah disetujui"
    db.execute("UPDATE jobs SET post = ? WHERE id = ?", (json.dumps(body), job_id))
    if sys.argv[2] == "strip":  # and make the job look like one without pinned content
        held = json.loads(authority)
        for name in ("content", "media", "draft", "approved_by"):
            held.pop(name, None)
        db.execute("UPDATE jobs SET authority = ? WHERE id = ?", (json.dumps(held), job_id))
db.commit()
print("edited")
"""


@pytest.mark.parametrize("authority", ["keep", "strip"])
def test_a_job_text_edited_in_the_database_is_refused(
    team: Workspace, tmp_path: Path, paper_server: PaperServer, authority: str
) -> None:
    """On a governed account the authority check at publication, which runs first, already
    finds the edit (the job's post is not its draft's, or its draft link is gone)."""
    _approved(team, Post("Asli"))
    done = subprocess.run(
        [sys.executable, "-c", EDIT_JOB, str(tmp_path / "ws.db"), authority],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "edited"
    _publish(team, paper_server)
    assert paper_server.posts == {}
    [delivery] = team.jobs()[0].deliveries
    assert delivery.status == "refused"
    expected = "is not the one draft" if authority == "keep" else "changed in the database"
    assert expected in (delivery.error or "")


@pytest.mark.parametrize("authority", ["keep", "strip"])
def test_a_job_text_edited_in_the_database_is_refused_on_an_ungoverned_account_too(
    tmp_path: Path,
    plugins: Plugins,
    monkeypatch: pytest.MonkeyPatch,
    paper_server: PaperServer,
    authority: str,
) -> None:
    """Without appointments there is no authority to re-check: the content digest (and the
    log's record of it) is what refuses the edited job."""
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    path = tmp_path / "loose.db"
    with Workspace.open(path, plugins=plugins) as ws:
        ws.add_account("humas", paper_account())
        for person in ("budi", "rahmat"):
            ws.add_person(person, name=person.capitalize())
        _approved(ws, Post("Asli"))
        done = subprocess.run(
            [sys.executable, "-c", EDIT_JOB, str(path), authority],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert done.stdout.strip() == "edited"
        _publish(ws, paper_server)
        assert paper_server.posts == {}
        [delivery] = ws.jobs()[0].deliveries
        assert delivery.status == "refused"
        expected = "is not the content approved" if authority == "keep" else "changed outside"
        assert expected in (delivery.error or "")
        [logged] = [e for e in ws.audit_log() if e.action == "refused"]
        assert expected in str(logged.detail["error"])


def test_drafts_show_lists_each_media_file_with_its_digest(
    team: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    poster = tmp_path / "poster.png"
    poster.write_bytes(PNG)
    draft = team.add_draft(
        Post("Lihat", media=[Media(path=poster, alt_text="p")]), accounts=["humas"], by="budi"
    )
    db = str(tmp_path / "ws.db")
    assert main(["--db", db, "drafts", "show", draft.id]) == 0
    out = capsys.readouterr().out
    assert f"media[0] {poster} image/png" in out
    assert hashlib.sha256(PNG).hexdigest() in out
    assert draft.content is not None and draft.content.digest in out
    assert main(["--db", db, "drafts", "list"]) == 0
    assert hashlib.sha256(PNG).hexdigest() in capsys.readouterr().out
    assert main(["--db", db, "drafts", "show", draft.id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["content"]["media"][0]["sha256"] == hashlib.sha256(PNG).hexdigest()
