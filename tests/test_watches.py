"""Watching (issue 16, item 2) against the fake platform: stored once, classified, cursors,
spikes, notices, hostile text, platforms without search, who may add a watch.

Real servers (mastodon-mock, the Bluesky AppView, the X emulator behind Prism, Telegram's
test server) are in tests/test_watches_real.py and the plugins' tests.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta

import pytest

from fakes import PaperServer
from govsocial import hookimpl
from govsocial.adapters.platform import Platform
from govsocial.app import Workspace
from govsocial.core.errors import ConfigurationError, NotPermitted
from govsocial.core.listening import Notice, parse_query, plain_text
from govsocial.inbox.watches import is_spike, spike_threshold
from govsocial.plugin.manager import Plugins


class Notices:
    """A ``notify`` hook that keeps what it was given."""

    def __init__(self) -> None:
        self.received: list[Notice] = []

    @hookimpl
    def notify(self, notice: Notice) -> None:
        self.received.append(notice)


def this_hour() -> datetime:
    """The start of the current clock hour (UTC)."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def hours_ago(hours: float, minutes: float = 5, *, top: datetime | None = None) -> datetime:
    """A moment ``minutes`` into the clock hour ``hours`` before the one starting at
    ``top`` (default: the current one)."""
    return (top or this_hour()) - timedelta(hours=hours) + timedelta(minutes=minutes)


def test_a_post_about_the_topic_is_stored_once_classified_and_read_from_the_cursor(
    ws: Workspace, humas: str, paper_server: PaperServer
) -> None:
    # someone else writes about flooding without mentioning the agency
    flood = paper_server.citizen_post("Banjir di jalan Merdeka, tolong!", author="ani")
    paper_server.citizen_post("Pasar malam ramai sekali", author="budi")
    ws.watch("banjir", query="banjir", accounts=[humas])
    transport = paper_server.transport()
    first = ws.sync_watches(transport=transport)
    assert first.new == {"banjir": 1} and not first.failed
    [post] = ws.watched("banjir")
    assert (post.remote_id, post.author, post.account) == (flood, "ani", humas)
    assert post.intent == "emergency" and post.classifier == "govsocial.lexicon"

    again = ws.sync_watches(transport=transport)
    assert again.total == 0 and len(ws.watched("banjir")) == 1
    searches = [r for r in paper_server.requests if r.url.path == "/search"]
    assert [r.url.params.get("after") for r in searches] == [None, flood], (
        "the second search starts where the first stopped"
    )
    later = paper_server.citizen_post("banjir lagi di Cibiru", author="citra")
    assert ws.sync_watches(transport=transport).new == {"banjir": 1}
    assert [p.remote_id for p in ws.watched("banjir")] == [flood, later]
    assert ws.watched("banjir", since=datetime.now(UTC) + timedelta(hours=1)) == []

    [entry] = ws.audit_log(action="watch")
    assert entry.object == "banjir" and entry.account == humas
    assert entry.detail["query"] == "banjir"


def test_syncs_at_once_store_each_post_once(
    ws: Workspace, humas: str, paper_server: PaperServer
) -> None:
    for n in range(30):
        paper_server.citizen_post(f"jalan rusak nomor {n}", author=f"warga{n}")
    ws.watch("jalan", query="jalan rusak", accounts=[humas])
    other = Workspace.open(ws.url if "postgresql" in ws.url else ws.store.url)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def sync(workspace: Workspace) -> None:
        try:
            start.wait()
            workspace.sync_watches(transport=paper_server.transport())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    try:
        threads = [threading.Thread(target=sync, args=(w,)) for w in (ws, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    assert not errors
    stored = ws.watched("jalan")
    assert len(stored) == 30 == len({p.remote_id for p in stored})


QUIET = [2, 3, 1, 2, 2, 3, 2, 1] * 3  # mean 2, sd sqrt(0.5)


@pytest.mark.parametrize(
    ("baseline", "threshold", "hour", "spike"),
    [
        (QUIET, 2 + 3 * math.sqrt(2), 15, True),  # far above a quiet baseline
        (QUIET, 2 + 3 * math.sqrt(2), 9, False),  # above the threshold, below spike_min
        ([20] * 24, 20 + 3 * math.sqrt(20), 25, False),  # a busy topic's ordinary hour
        ([20] * 24, 20 + 3 * math.sqrt(20), 40, True),
        ([0] * 24, 3.0, 10, True),  # a topic nobody spoke of: spike_min decides
        ([5, 40] * 12, 22.5 + 3 * 17.5, 40, False),  # a baseline that swings that far
        ([0] * 5, 3.0, 50, False),  # five hours are no baseline yet
    ],
)
def test_the_spike_rule(baseline: list[int], threshold: float, hour: int, spike: bool) -> None:
    assert spike_threshold(baseline, 3.0)[2] == pytest.approx(threshold)
    assert is_spike(hour, baseline, spike_min=10, spike_sd=3.0) is spike


def test_a_spike_is_flagged_once_and_only_a_recent_one_notified(
    ws: Workspace, humas: str, paper_server: PaperServer, plugins: Plugins
) -> None:
    notices = Notices()
    plugins.register(notices, name="notices")
    top = this_hour()
    quiet = [2, 1, 3, 2, 2, 1, 2, 3, 2, 1, 2, 2]
    for back, count in enumerate(quiet * 3, start=2):  # quiet hours 2 to 37 hours back
        for n in range(count):
            paper_server.citizen_post(
                f"pohon tumbang {back}-{n}", at=hours_ago(back, 5 + n, top=top)
            )
    for n in range(14):  # an old spike, 30 hours back
        paper_server.citizen_post(f"pohon tumbang lama {n}", at=hours_ago(30, 20 + n, top=top))
    for n in range(9):  # 9 in the hour before: above the threshold, below spike_min
        paper_server.citizen_post(f"pohon tumbang kemarin {n}", at=hours_ago(1, 30 + n, top=top))
    for n in range(16):  # this hour: a spike
        paper_server.citizen_post(f"pohon tumbang di jalan {n}", at=top + timedelta(seconds=n))
    ws.watch("pohon", query="pohon tumbang", accounts=[humas], spike_min=10)
    done = ws.sync_watches(transport=paper_server.transport(), backfill=timedelta(days=3))
    flagged = {s.hour: s.posts for s in done.spikes}
    assert flagged == {top: 16, hours_ago(30, 0, top=top): 14 + quiet[(30 - 2) % 12]}
    assert all(s.notified_at is not None for s in ws.spikes("pohon")), "the old one: no notice"
    assert done.notified == 1
    [notice] = notices.received
    assert notice.kind == "spike" and notice.extra["watch"] == "pohon"
    assert notice.extra["posts"] == 16 and "pohon tumbang di jalan" in notice.text
    # the next sync flags and notifies nothing again
    again = ws.sync_watches(transport=paper_server.transport())
    assert again.spikes == [] and again.notified == 0 and len(notices.received) == 1
    assert {s.hour for s in ws.spikes("pohon")} == set(flagged)


def test_a_new_watch_flags_no_spike_before_it_has_a_baseline(
    ws: Workspace, humas: str, paper_server: PaperServer
) -> None:
    for n in range(40):
        paper_server.citizen_post(f"gempa terasa {n}", at=this_hour() + timedelta(seconds=n))
    ws.watch("gempa", query="gempa", accounts=[humas])
    done = ws.sync_watches(transport=paper_server.transport(), backfill=timedelta(hours=2))
    assert done.new == {"gempa": 40} and done.spikes == []


def test_text_from_the_platform_is_bounded_and_plain(
    ws: Workspace, humas: str, paper_server: PaperServer
) -> None:
    hostile = (
        "banjir \u202egnp.exe\u202c di\x00 sini\u200b\r\n\r\n\r\n\r\nlagi\x1b[31m" + "x" * 1_000_000
    )
    paper_server.citizen_post(hostile, author="evil\nBcc: a@b.example\u202e")
    ws.watch("banjir", query="banjir", accounts=[humas])
    ws.sync_watches(transport=paper_server.transport())
    [post] = ws.watched("banjir")
    assert len(post.text) <= 5000
    assert post.text.startswith("banjir gnp.exe di sini\n\nlagi [31mxxx")
    for hidden in ("\u202e", "\u202c", "\x00", "\u200b", "\x1b", "\r"):
        assert hidden not in post.text and hidden not in post.author
    assert post.author == "evil Bcc: a@b.example"
    assert plain_text("keluarga 👨\u200d👩\u200d👧") == "keluarga 👨\u200d👩\u200d👧", (
        "emoji keep ZWJ"
    )


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("", "query", "needs a query"),
        ("x" * 201, "query", "up to 200"),
        ("banjir\u202e", "query", "invisible"),
        ("!!!", "query", "no word"),
    ],
)
def test_a_bad_query_is_refused_naming_the_field(
    ws: Workspace, humas: str, query: str, field: str, words: str
) -> None:
    with pytest.raises(ConfigurationError, match=words) as raised:
        ws.watch("w", query=query, accounts=[humas])
    assert raised.value.field == field
    assert ws.watches() == []


def test_queries_are_read_as_hashtag_phrase_or_words() -> None:
    tag, phrase, words = parse_query("#Banjir"), parse_query('"jalan rusak"'), parse_query("a b")
    assert (tag.tag, tag.matches("awas #banjir!"), tag.matches("banjir besar")) == (
        "Banjir",
        True,
        False,
    )
    assert phrase.phrase and phrase.matches("Ada JALAN rusak di sini")
    assert not phrase.matches("rusak jalan")
    assert words.matches("b lalu a") and not words.matches("ab")


def test_a_platform_without_search_is_skipped_and_says_why(
    ws: Workspace, humas: str, paper_server: PaperServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fakes import Paper

    monkeypatch.setattr(Paper, "search", Platform.search)
    ws.watch("banjir", query="banjir", accounts=[humas])
    done = ws.sync_watches(transport=paper_server.transport())
    assert done.total == 0 and not done.failed
    assert "offers no search" in done.unsupported["banjir/humas"]
    assert not [r for r in paper_server.requests if r.url.path == "/search"]


def test_a_failing_search_is_reported_and_stores_nothing(
    ws: Workspace, humas: str, paper_server: PaperServer
) -> None:
    import httpx

    paper_server.citizen_post("banjir", author="ani")
    ws.watch("banjir", query="banjir", accounts=[humas])
    paper_server.script.append(lambda r: httpx.Response(200, content=b"<html>oops"))
    done = ws.sync_watches(transport=paper_server.transport())
    assert "banjir/humas" in done.failed and ws.watched("banjir") == []
    assert ws.sync_watches(transport=paper_server.transport()).new == {"banjir": 1}


def test_on_a_governed_account_only_its_admin_may_add_a_watch(ws: Workspace, humas: str) -> None:
    ws.add_person("sari", name="Sari")
    ws.appoint("sari", accounts=[humas], role="admin", decree="SK 1/2026", valid_from="2026-01-01")
    ws.add_person("tono", name="Tono")
    with pytest.raises(NotPermitted):
        ws.watch("banjir", query="banjir", accounts=[humas])
    with pytest.raises(NotPermitted):
        ws.watch("banjir", query="banjir", accounts=[humas], by="tono")
    watch = ws.watch("banjir", query="#banjir", accounts=[humas], by="sari")
    assert (watch.query, watch.created_by, watch.accounts) == ("#banjir", "sari", (humas,))
    stopped = ws.unwatch("banjir", by="sari")
    assert not stopped.active
    assert [e.action for e in ws.audit_log(actor="sari")][-2:] == ["watch", "unwatch"]


def test_an_unknown_account_or_a_taken_name_is_refused(ws: Workspace, humas: str) -> None:
    with pytest.raises(ConfigurationError):
        ws.watch("w", query="banjir", accounts=["nobody"])
    ws.watch("w", query="banjir", accounts=[humas])
    with pytest.raises(ConfigurationError, match="exists") as raised:
        ws.watch("w", query="gempa", accounts=[humas])
    assert raised.value.field == "name"
    with pytest.raises(ConfigurationError) as bad_name:
        ws.watch("a b/c", query="gempa", accounts=[humas])
    assert bad_name.value.field == "name"


def test_the_opinion_frame_counts_watched_posts_by_watch(
    ws: Workspace, humas: str, paper_server: PaperServer
) -> None:
    pytest.importorskip("pandas")
    from zoneinfo import ZoneInfo

    paper_server.citizen_post("Jalan rusak parah tidak pernah diperbaiki", author="ani")
    paper_server.citizen_post("jalan rusak lagi, kapan diperbaiki?", author="budi")
    paper_server.citizen_post("banjir di jalan rusak itu, tolong!", author="citra")
    ws.watch("jalan", query="jalan rusak", accounts=[humas])
    ws.watch("banjir", query="banjir", accounts=[humas])
    assert ws.sync_watches(transport=paper_server.transport()).new == {"jalan": 3, "banjir": 1}
    month = datetime.now(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m")
    frame = ws.opinion_frame(month)
    by_source = frame.groupby("source")["messages"].sum().to_dict()
    assert by_source == {"watch:jalan": 3, "watch:banjir": 1}
    flood = frame[frame["source"] == "watch:banjir"]
    assert list(flood["intent"]) == ["emergency"] and list(flood["platform"]) == ["paper"]
    assert ws.opinion_frame("2001-01").empty


def test_the_watch_commands(
    ws: Workspace, humas: str, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from govsocial.cli import main

    db = ws.url
    assert main(["--db", db, "watch", "add", "banjir", "#banjir", "--account", humas]) == 0
    assert "'#banjir' on humas" in capsys.readouterr().out
    assert [w.query for w in ws.watches()] == ["#banjir"]
    paper_server.citizen_post("awas #banjir di pasar\x1b[2J, tolong!", author="ani")
    ws.sync_watches(transport=paper_server.transport())
    assert main(["--db", db, "watch", "list", "banjir", "--json"]) == 0
    [post] = json.loads(capsys.readouterr().out)
    assert post["intent"] == "emergency" and post["author"] == "ani"
    assert main(["--db", db, "watch", "list", "banjir", "--intent", "emergency"]) == 0
    line = capsys.readouterr().out
    assert "EMERGENCY" in line and "ani: awas #banjir" in line and "\x1b" not in line
    assert main(["--db", db, "watch", "list"]) == 0
    assert "banjir" in capsys.readouterr().out
    # no transport here: the real network is not reached (paper.test), the sync reports it
    assert main(["--db", db, "watch", "sync"]) == 1
    assert "banjir/humas: FAILED" in capsys.readouterr().err
    assert main(["--db", db, "watch", "stop", "banjir"]) == 0
    assert not ws.watches("banjir")[0].active


def test_a_sync_stopped_before_its_spike_check_leaves_it_to_the_next(
    ws: Workspace, humas: str, paper_server: PaperServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govsocial.inbox.watches import Watches

    top = this_hour()
    for back in range(2, 30):
        paper_server.citizen_post(f"gempa kecil {back}", at=hours_ago(back, 10, top=top))
    for n in range(12):
        paper_server.citizen_post(f"gempa terasa {n}", at=top + timedelta(seconds=n))
    ws.watch("gempa", query="gempa", accounts=[humas])

    def crash(*_: object, **__: object) -> None:
        raise KeyboardInterrupt  # the process stops between storing and checking

    monkeypatch.setattr(Watches, "_flag_spikes", crash)
    with pytest.raises(KeyboardInterrupt):
        ws.sync_watches(transport=paper_server.transport(), backfill=timedelta(days=2))
    assert len(ws.watched("gempa")) == 40 and ws.spikes() == []
    monkeypatch.undo()
    done = ws.sync_watches(transport=paper_server.transport())
    assert done.new == {"gempa": 0}, "nothing new was found"
    assert [(s.hour, s.posts) for s in done.spikes] == [(top, 12)]
    assert ws.sync_watches(transport=paper_server.transport()).spikes == []


def test_a_search_that_found_nothing_does_not_read_the_whole_past_next_time(
    ws: Workspace, humas: str, paper_server: PaperServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fakes import Paper

    asked: list[object] = []
    search = Paper.search

    async def spy(self: Paper, query: str, *, cursor: str | None = None, since: object = None):  # type: ignore[no-untyped-def]
        asked.append((cursor, since))
        return await search(self, query, cursor=cursor, since=since)  # type: ignore[arg-type]

    monkeypatch.setattr(Paper, "search", spy)
    ws.watch("sepi", query="sepi", accounts=[humas])
    ws.sync_watches(transport=paper_server.transport(), backfill=timedelta(hours=5))
    ws.sync_watches(transport=paper_server.transport())
    (first_cursor, first_since), (second_cursor, second_since) = asked
    assert first_cursor is None and second_cursor is None
    assert isinstance(first_since, datetime) and second_since == first_since


def test_forgetting_a_citizen_erases_what_watches_found_and_a_search_does_not_bring_it_back(
    ws: Workspace, humas: str, paper_server: PaperServer
) -> None:
    paper_server.citizen_post("banjir di gang kami, rumah Pak RT kebanjiran", author="ani")
    paper_server.citizen_post("banjir juga di Cibiru", author="budi")
    ws.watch("banjir", query="banjir", accounts=[humas])
    ws.sync_watches(transport=paper_server.transport())
    done = ws.forget("@ani", by="petugas", reason="permohonan 12/2026")
    assert done.watched == 1
    erased, kept = ws.watched("banjir")
    assert erased.erased_at is not None and erased.text == "" and erased.author == ""
    assert erased.remote_id.startswith("erased:") and erased.intent is not None
    assert kept.author == "budi" and kept.erased_at is None
    # a first-time search again (the cursor forgotten) finds ani's post and leaves it erased
    with ws.store.transaction() as cur:
        ws.store.execute(cur, "DELETE FROM watch_cursors")
    assert ws.sync_watches(transport=paper_server.transport()).new == {"banjir": 0}
    texts = [p.text for p in ws.watched("banjir")]
    assert texts == ["", "banjir juga di Cibiru"]
    rows = ws.store.execute  # the database holds ani's words nowhere
    with ws.store.transaction() as cur:
        dump = " ".join(
            str(v) for r in rows(cur, "SELECT * FROM watched_posts").fetchall() for v in r
        )
        audit = " ".join(str(v) for r in rows(cur, "SELECT * FROM audit_log").fetchall() for v in r)
    assert "Pak RT" not in dump and "ani" not in dump.split() and "Pak RT" not in audit


def test_the_retention_erases_old_watched_posts(
    ws: Workspace, humas: str, paper_server: PaperServer
) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    paper_server.citizen_post("jalan rusak sejak lama", author="ani", at=old)
    paper_server.citizen_post("jalan rusak hari ini", author="budi")
    ws.watch("jalan", query="jalan rusak", accounts=[humas])
    ws.sync_watches(transport=paper_server.transport(), backfill=timedelta(days=60))
    ws.set_retention(inbox_days=30, by="petugas")
    done = ws.apply_retention(by="petugas")
    assert done.watched == 1
    assert [p.text for p in ws.watched("jalan")] == ["", "jalan rusak hari ini"]
    assert ws.apply_retention(by="petugas").watched == 0
