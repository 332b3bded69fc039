"""Erasing citizens' inbox data (issue 13, part 6): ``forget`` and the retention setting.

On SQLite and PostgreSQL, against the fake platform's server: what the database holds is
read back with SQL, the SQLite file and its write-ahead log byte by byte. The same against
mastodon-mock and the Bluesky PDS + AppView is in test_inbox_forget_real.py.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fakes import TOKEN, Clock, Paper, PaperServer, paper_account, run, soon
from govsocial import Erasure, Post, hookimpl
from govsocial.adapters.platform import Platform
from govsocial.analytics.performance import performance_rows
from govsocial.app import Workspace
from govsocial.core.errors import ConfigurationError, NotPermitted
from govsocial.inbox.erasure import _is_author, pseudonym
from govsocial.plugin.manager import Plugins

REASON = "Permohonan PDP no. 17/2026"


@pytest.fixture
def published(ws: Workspace, humas: str) -> tuple[Workspace, PaperServer, str]:
    """humas has published one post on the fake server: (ws, server, its remote id)."""
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("Jadwal vaksin"), [humas], at=soon())
    clock.now += 300
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.ref is not None
    return ws, server, delivery.ref.id


def rows(ws: Workspace) -> list[dict[str, Any]]:
    """Every inbox row as the database holds it, every column."""
    with ws.store.transaction() as tx:
        cursor = ws.store.execute(tx, "SELECT * FROM inbox_items ORDER BY received_at")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def everything(ws: Workspace) -> str:
    """Every inbox row and audit entry, as one text to search."""
    return json.dumps([rows(ws), [e.model_dump(mode="json") for e in ws.audit_log()]])


# -- forget ----------------------------------------------------------------------------------


def test_forget_erases_a_citizens_content_and_keeps_the_service_statistics(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, post_id = published
    server.citizen_post("Rumah saya di Jl. Melati 5, kapan vaksin?", in_reply_to=post_id)
    server.citizen_post("@humas NIK saya 3273012345670001 belum terdaftar")
    server.citizen_post("Jam berapa buka?", in_reply_to=post_id, author="ani")
    transport = server.transport()
    assert ws.pull_inbox(transport=transport).total == 3
    question = next(i for i in ws.inbox() if "Melati" in i.text)
    ws.reply(question.id, "Sabtu pukul 08.00", by="siti", transport=transport)
    before = {r["id"]: r for r in rows(ws)}
    month = datetime.now(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m")
    stats = performance_rows(ws, month, by="account")[humas]

    done = ws.forget("@warga", by="dpo", reason=REASON)

    assert isinstance(done, Erasure)
    assert done.scrubbed == (ws.store.engine == "sqlite"), "PostgreSQL needs VACUUM FULL"
    assert (done.items, done.closed) == (2, 1), "the reply and the mention; the mention was open"
    assert done.by_platform == {"paper": 2} and done.by_account == {humas: 2}
    after = {r["id"]: r for r in rows(ws)}
    assert set(after) == set(before), "rows stay, for the statistics"
    erased = [r for r in after.values() if r["erased_at"] is not None]
    assert len(erased) == 2
    for row in erased:
        old = before[row["id"]]
        assert (row["text"], row["author"], row["author_name"], row["url"]) == ("", "", None, None)
        assert (row["ref_extra"], row["in_reply_to_id"], row["claimed_at"]) == ("{}", None, None)
        assert row["response_id"] is None or row["response_id"].startswith("erased:")
        assert row["response_url"] is None
        assert row["remote_id"].startswith("erased:") and row["remote_id"] != old["remote_id"]
        for kept in ("account", "kind", "received_at", "responded_at", "responder", "synced_at"):
            assert row[kept] == old[kept], kept
    answered = after[question.id]
    assert (answered["status"], answered["responder"]) == ("answered", "siti")
    [mention] = [r for r in erased if r["kind"] == "mention"]
    assert (mention["status"], mention["close_reason"], mention["closed_by"]) == (
        "closed",
        "erased",
        "dpo",
    )
    [ani] = [r for r in after.values() if r["erased_at"] is None]
    assert ani == before[ani["id"]], "another citizen's item is untouched"
    assert ws.inbox_item(question.id).erased and ws.inbox_item(question.id).text == ""

    text = everything(ws)
    for trace in ("warga", "Melati", "3273012345670001", "belum terdaftar"):
        assert trace not in text, trace
    [entry] = ws.audit_log(action="forget")
    assert entry.actor == "dpo" and entry.detail["reason"] == REASON
    assert entry.detail["items"] == 2 and entry.detail["by_platform"] == {"paper": 2}
    assert entry.detail["pseudonym"] == done.pseudonym == entry.object
    [reply] = ws.audit_log(action="reply")
    assert "in_reply_to" not in reply.detail, "an item's answer names the item, not the post"

    after_stats = performance_rows(ws, month, by="account")[humas]
    for column in ("messages_received", "replies_sent", "response_median_h", "posts_published"):
        assert after_stats[column] == stats[column], column
    assert (stats["open_backlog"], after_stats["open_backlog"]) == (2, 1)

    again = ws.forget("warga", by="dpo", reason=REASON)
    assert (again.items, again.closed, again.pseudonym) == (0, 0, done.pseudonym)
    assert [e.detail["items"] for e in ws.forgotten("@WARGA")] == [2, 0]
    assert ws.forgotten("ani") == []


def test_the_handles_pseudonym_is_keyed_not_a_plain_hash(
    published: tuple[Workspace, PaperServer, str], tmp_path: Path
) -> None:
    ws, server, _ = published
    server.citizen_post("@humas halo")
    ws.pull_inbox(transport=server.transport())
    done = ws.forget("warga", by="dpo", reason=REASON)
    assert done.pseudonym is not None and len(done.pseudonym) == 32
    for name in ("warga", "@warga", "warga@paper.test"):  # what a handle list would try
        for digest in (hashlib.sha256, hashlib.sha1, hashlib.md5, hashlib.blake2b):
            assert digest(name.encode()).hexdigest()[:32] != done.pseudonym
    with Workspace.open(tmp_path / "other.db") as other:
        assert other.forgotten("warga") == []
        assert pseudonym(other.core, "warga") != done.pseudonym, "no linking across agencies"
    assert pseudonym(ws.core, "@Warga") == done.pseudonym


def test_a_forgotten_message_is_not_synced_again_and_new_ones_are(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, post_id = published
    server.citizen_post("Alamat saya Jl. Kenanga 9", in_reply_to=post_id)
    server.citizen_post("@humas nomor HP saya 0812-3456-7890")
    transport = server.transport()
    assert ws.pull_inbox(transport=transport).total == 2
    ws.forget("warga", by="dpo", reason=REASON)
    # replies to recent posts are read on every sync; make the mentions be read again too
    with ws.store.transaction() as tx:
        ws.store.execute(tx, "DELETE FROM inbox_cursors")
    assert ws.pull_inbox(transport=transport).total == 0, "the erased messages stay erased"
    assert "Kenanga" not in everything(ws) and "0812" not in everything(ws)
    last = [r for r in server.requests if r.url.path == "/mentions"][-1]
    assert "since" not in last.url.params, "the server served the old mention again"

    server.citizen_post("@humas pertanyaan baru")
    assert ws.pull_inbox(transport=transport).total == 1, "forgetting does not block"
    [new] = ws.inbox()
    assert (new.author, new.text, new.erased) == ("warga", "@humas pertanyaan baru", False)


class Carbon(Paper):
    """The fake platform again, under another name: a second platform."""

    name = "carbon"
    title = "Carbon"


class CarbonPlugin:
    @hookimpl
    def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
        register(Carbon)


def test_a_handle_on_two_platforms_is_forgotten_on_one_or_on_all(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, paper, _ = published
    ws.plugins.register(CarbonPlugin(), name="carbon")
    ws.add_account("humas-carbon", paper_account(platform="carbon"))
    carbon = PaperServer()
    paper.citizen_post("@humas dari paper")
    carbon.citizen_post("@humas dari carbon")
    ws.pull_inbox([humas], transport=paper.transport())
    ws.pull_inbox(["humas-carbon"], transport=carbon.transport())
    with pytest.raises(ConfigurationError, match="no account on 'bluesky'") as refused:
        ws.forget("warga", by="dpo", reason=REASON, platform="bluesky")
    assert "carbon, paper" in (refused.value.hint or "")
    done = ws.forget("warga", by="dpo", reason=REASON, platform="carbon")
    assert done.by_platform == {"carbon": 1}
    assert [i.text for i in ws.inbox(None) if not i.erased] == ["@humas dari paper"]
    rest = ws.forget("warga", by="dpo", reason=REASON)
    assert (rest.items, rest.by_platform) == (1, {"paper": 1})
    assert [e.detail["platform"] for e in ws.forgotten("warga")] == ["carbon", None]


def test_names_compare_whole_and_a_local_name_carries_its_server() -> None:
    home = "https://social.go.id"
    assert _is_author("warga", "@Warga", "1", home)
    assert _is_author("warga@social.go.id", "warga", "1", home), "a local user of the server"
    assert _is_author("warga@127.0.0.1:3000", "warga", "1", "http://127.0.0.1:3000")
    assert not _is_author("warga@evil.example", "warga", "1", home)
    assert not _is_author("warga", "warga@kota.example", "1", home), "another server's warga"
    assert not _is_author("warga", "wargaku", "1", home)
    assert not _is_author("warga", "", "1", home)
    did = "did:plc:abc123"
    assert _is_author(did, "new-handle.bsky.social", f"at://{did}/app.bsky.feed.post/3k", None)
    assert not _is_author(did, "x", "at://did:plc:abc1234/app.bsky.feed.post/3k", None)


def test_forget_needs_a_handle_who_asks_and_a_reason_that_does_not_name_the_person(
    published: tuple[Workspace, PaperServer, str],
) -> None:
    ws, server, _ = published
    server.citizen_post("@humas halo")
    ws.pull_inbox(transport=server.transport())
    for who, by, reason, field in (
        ("", "dpo", REASON, "who"),
        ("@", "dpo", REASON, "who"),
        ("warga", "", REASON, "by"),
        ("warga", "dpo", " ", "reason"),
        ("warga", "dpo", "permintaan @Warga lewat surel", "reason"),
        ("warga", "dpo", "x" * 501, "reason"),
    ):
        with pytest.raises(ConfigurationError) as refused:
            ws.forget(who, by=by, reason=reason)
        assert refused.value.field == field
    assert [i.text for i in ws.inbox()] == ["@humas halo"], "nothing erased"
    assert ws.audit_log(action="forget") == []


def test_on_a_governed_account_only_its_admin_forgets(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, _ = published
    server.citizen_post("@humas data saya")
    ws.pull_inbox(transport=server.transport())
    today = datetime.now(UTC).date()
    ws.add_person("siti", name="Siti")
    ws.add_person("budi", name="Budi")
    ws.appoint("siti", accounts=[humas], role="admin", decree="800/1/SK", valid_from=today)
    ws.appoint("budi", accounts=[humas], role="contributor", decree="800/2/SK", valid_from=today)
    with pytest.raises(NotPermitted):
        ws.forget("warga", by="budi", reason=REASON)
    assert [i.text for i in ws.inbox()] == ["@humas data saya"], "nothing erased"
    [refusal] = ws.audit_log(action="refused:delete")
    assert "warga" not in json.dumps(refusal.model_dump(mode="json"))
    done = ws.forget("warga", by="siti", reason=REASON)
    assert done.items == 1
    assert ws.audit_log(action="forget")[0].detail["decrees"] == {humas: "800/1/SK"}


def test_an_erased_item_cannot_be_answered_and_the_archive_holds_none_of_it(
    published: tuple[Workspace, PaperServer, str], tmp_path: Path
) -> None:
    ws, server, post_id = published
    server.citizen_post("Rahasia pribadi saya", in_reply_to=post_id)
    transport = server.transport()
    ws.pull_inbox(transport=transport)
    [item] = ws.inbox()
    ws.forget("warga", by="dpo", reason=REASON)
    with pytest.raises(ConfigurationError, match="erased"):
        ws.reply(item.id, "Jawaban", transport=transport)
    assert "Jawaban" not in [p["text"] for p in server.posts.values()]
    export = ws.export_archive(tmp_path / "arsip")
    assert export.interactions == 1
    for path in (export.records, export.audit, export.index):
        content = path.read_text()
        assert "warga" not in content and "Rahasia" not in content, path.name
    [record] = [
        json.loads(line)
        for line in export.records.read_text().splitlines()
        if json.loads(line)["type"] == "interaction"
    ]
    assert record["text"] is None and record["author"] is None and record["erased_at"]


# -- the SQLite file itself --------------------------------------------------------------------


def _file_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, after a checkpoint by another connection."""
    with sqlite3.connect(path) as other:
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    other.close()
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_no_trace_of_an_erased_message_stays_in_the_sqlite_file_or_its_log(
    paper_ws: tuple[Workspace, PaperServer, str, Path],
) -> None:
    ws, server, post_id, path = paper_ws
    long_text = "Riwayat sakit saya: " + "diabetes-melitus-tipe-2 " * 400  # overflow pages
    server.citizen_post(long_text, in_reply_to=post_id, author="warga.rahasia")
    server.citizen_post("@humas KTP 3273012345670001", author="warga.rahasia")
    server.citizen_post("@humas pertanyaan umum", author="ani")
    ws.pull_inbox(transport=server.transport())
    secrets = (b"warga.rahasia", b"diabetes-melitus", b"3273012345670001")
    held = _file_bytes(path)
    assert all(s in held for s in secrets), "the check can see them while they are kept"
    with ws.store.transaction() as tx:
        assert ws.store.execute(tx, "PRAGMA secure_delete").fetchone()[0] == 1

    done = ws.forget("Warga.Rahasia", by="dpo", reason=REASON)

    assert done.items == 2 and done.scrubbed
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "forget empties the log itself"
    held = _file_bytes(path)
    for secret in secrets:
        assert secret not in held and secret.upper() not in held, secret
    assert b"pertanyaan umum" in held, "another citizen's message is kept"


@pytest.fixture
def paper_ws(
    plugins: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Workspace, PaperServer, str, Path]]:
    """An SQLite workspace (the test reads its file) whose humas published one post."""

    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    path = tmp_path / "ws.db"
    with Workspace.open(path, plugins=plugins) as ws:
        ws.add_account("humas", paper_account())
        server, clock = PaperServer(), Clock()
        job = ws.schedule(Post("Jadwal vaksin"), ["humas"], at=soon())
        clock.now += 300
        run(ws, server, clock)
        [delivery] = ws.job(job.id).deliveries
        assert delivery.ref is not None
        yield ws, server, delivery.ref.id, path


# -- retention ---------------------------------------------------------------------------------


def test_retention_is_off_by_default_stored_audited_and_checked(ws: Workspace) -> None:
    assert ws.retention() is None
    assert ws.apply_retention().items == 0
    for days in (0, -1, True, 1.5, "30", 36501):
        with pytest.raises(ConfigurationError) as refused:
            ws.set_retention(inbox_days=days, by="dpo")  # type: ignore[arg-type]
        assert refused.value.field == "inbox_days"
    with pytest.raises(ConfigurationError):
        ws.set_retention(inbox_days=30, by="")
    assert ws.set_retention(inbox_days=365, by="dpo") == 365
    again = Workspace.open(ws.url)
    try:
        assert again.retention() == 365, "stored in the workspace"
    finally:
        again.close()
    ws.set_retention(inbox_days=None, by="dpo")
    assert ws.retention() is None
    assert [(e.actor, e.detail) for e in ws.audit_log(action="set_retention")] == [
        ("dpo", {"inbox_days": 365}),
        ("dpo", {"inbox_days": None}),
    ]


def test_retention_erases_what_is_older_and_keeps_the_rest(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, _ = published
    server.citizen_post("@humas keluhan lama", at=datetime.now(UTC) - timedelta(days=40))
    server.citizen_post("@humas keluhan baru", author="ani")
    ws.pull_inbox(transport=server.transport())
    assert len(ws.inbox()) == 2
    ws.set_retention(inbox_days=30, by="dpo")
    done = ws.apply_retention()
    assert (done.items, done.closed, done.pseudonym) == (1, 1, None)
    assert [i.text for i in ws.inbox(None) if not i.erased] == ["@humas keluhan baru"]
    assert "keluhan lama" not in everything(ws)
    [entry] = ws.audit_log(action="apply_retention")
    assert entry.actor is None and entry.detail["items"] == 1
    assert entry.detail["inbox_days"] == 30 and entry.detail["by_account"] == {humas: 1}
    assert ws.apply_retention().items == 0
    assert len(ws.audit_log(action="apply_retention")) == 1, "a run erasing nothing logs nothing"
    later = ws.conversations.apply_retention(now=datetime.now(UTC) + timedelta(days=31))
    assert later.items == 1


def test_the_worker_and_the_retention_command_apply_it(
    published: tuple[Workspace, PaperServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from govsocial.cli import main

    ws, server, _ = published
    server.citizen_post("@humas lama sekali", at=datetime.now(UTC) - timedelta(days=40))
    server.citizen_post("@humas juga lama", at=datetime.now(UTC) - timedelta(days=39))
    ws.pull_inbox(transport=server.transport())
    db = ws.url
    capsys.readouterr()
    assert main(["--db", db, "inbox", "retention"]) == 0
    assert "off (inbox content is kept)" in capsys.readouterr().out
    assert main(["--db", db, "inbox", "retention", "30"]) == 2, "who decides is named"
    assert "needs --by" in capsys.readouterr().err
    assert main(["--db", db, "inbox", "retention", "30", "--by", "dpo"]) == 0
    assert "30 days" in capsys.readouterr().out
    assert ws.retention() == 30
    assert main(["--db", db, "worker", "--until-idle"]) == 0
    capsys.readouterr()
    assert [i.erased for i in ws.inbox(None)] == [True, True], "the worker applied it"
    assert main(["--db", db, "inbox", "retention", "--apply"]) == 0
    assert "erased 0 items" in capsys.readouterr().out
    assert main(["--db", db, "inbox", "retention", "off", "--by", "dpo"]) == 0
    assert ws.retention() is None


def test_the_forget_command_prints_counts_and_the_pseudonym(
    published: tuple[Workspace, PaperServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from govsocial.cli import main

    ws, server, post_id = published
    server.citizen_post("@humas tolong", author="warga")
    server.citizen_post("Terima kasih", in_reply_to=post_id, author="warga")
    ws.pull_inbox(transport=server.transport())
    db = ws.url
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["--db", db, "inbox", "forget", "@warga", "--by", "dpo"])  # no --reason
    assert main(["--db", db, "inbox", "forget", "@warga", "--reason", REASON]) == 2
    assert main(["--db", db, "inbox", "forget", "@warga", "--by", "dpo", "--reason", REASON]) == 0
    printed = capsys.readouterr()
    out = printed.out
    assert "erased 2 items (paper: 2, 2 open closed)" in out
    assert ("VACUUM FULL inbox_items" in printed.err) == (ws.store.engine == "postgresql")
    [entry] = ws.audit_log(action="forget")
    assert f"pseudonym {entry.detail['pseudonym']}" in out
    assert main(["--db", db, "inbox", "list", "--status", "all"]) == 0
    listed = capsys.readouterr().out
    assert listed.count("[erased]") == 2 and "tolong" not in listed


def test_a_reader_in_another_process_delays_the_scrub_and_the_next_checkpoint_finishes_it(
    paper_ws: tuple[Workspace, PaperServer, str, Path],
) -> None:
    ws, server, _, path = paper_ws
    server.citizen_post("@humas golongan darah saya AB", author="warga.rahasia")
    ws.pull_inbox(transport=server.transport())
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM inbox_items").fetchone()[0] == 1
        done = ws.forget("warga.rahasia", by="dpo", reason=REASON)
        assert done.items == 1 and not done.scrubbed, "the log could not be emptied yet"
    finally:
        reader.close()
    ws.set_retention(inbox_days=3650, by="dpo")
    assert ws.apply_retention().scrubbed, "the next retention run, with nothing to erase"
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    held = _file_bytes(path)
    assert b"golongan darah" not in held and b"warga.rahasia" not in held


#: Every column of inbox_items, as erasing treats it. A new column fails the test below
#: until someone decides whether it holds a citizen's data (then erase it in
#: InboxRows.erase) or only the agency's facts.
ERASED_COLUMNS = {
    "remote_id",  # becomes a keyed pseudonym
    "url",
    "ref_extra",
    "author",
    "author_name",
    "text",
    "in_reply_to_id",
    "claimed_at",
    "response_id",  # becomes a keyed pseudonym
    "response_url",
    "reasons",  # the classifier's reasons quote the citizen's words
}
KEPT_COLUMNS = {
    "id",
    "account",
    "kind",
    "received_at",
    "delivery_id",
    "status",
    "assigned_to",
    "responded_at",
    "responder",
    "closed_at",
    "closed_by",
    "close_reason",
    "synced_at",
    "clock_skew",
    "erased_at",
    # the classification: what kind of message it was, never its words
    "intent",
    "sentiment",
    "confidence",
    "classifier",
    "language",
    "notified_at",
    # the ticket system's case number: the agency's fact, and how an erasure request is
    # passed on to the ticket system, which holds its own copy of the message
    "ticket",
    "ticket_target",
    "escalated_at",
}


def test_every_inbox_column_is_either_erased_or_a_fact_the_agency_keeps(ws: Workspace) -> None:
    with ws.store.transaction() as tx:
        cursor = ws.store.execute(tx, "SELECT * FROM inbox_items WHERE 1 = 0")
        columns = {d[0] for d in cursor.description}
    assert columns == ERASED_COLUMNS | KEPT_COLUMNS
    assert not ERASED_COLUMNS & KEPT_COLUMNS


def test_a_fleet_worker_applies_each_workspaces_retention(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``worker --all-workspaces`` erases what each workspace's retention says, as a lone
    worker does for its one: a workspace without a retention keeps everything."""
    from govsocial import Workspaces
    from govsocial.cli import main

    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    url = str(tmp_path / "agencies.db")
    with Workspaces.open(url) as spaces:
        spaces.create("kota_a", institution="Kota A", by="operator")
        spaces.create("kota_b", institution="Kota B", by="operator")
    server = PaperServer()
    server.citizen_post("@humas keluhan lama", at=datetime.now(UTC) - timedelta(days=40))
    for name in ("kota_a", "kota_b"):
        with Workspace.open(url, workspace=name, plugins=plugins) as ws:
            ws.add_account("humas", paper_account())
            ws.pull_inbox(transport=server.transport())
            assert [i.erased for i in ws.inbox(None)] == [False]
    with Workspace.open(url, workspace="kota_a", plugins=plugins) as ws:
        ws.set_retention(inbox_days=30, by="dpo")
    assert main(["--db", url, "worker", "--all-workspaces", "--until-idle"]) == 0
    with Workspace.open(url, workspace="kota_a", plugins=plugins) as ws:
        assert [i.erased for i in ws.inbox(None)] == [True], "its retention was applied"
        assert "keluhan lama" not in everything(ws)
    with Workspace.open(url, workspace="kota_b", plugins=plugins) as ws:
        assert [i.erased for i in ws.inbox(None)] == [False], "no retention: kept"
