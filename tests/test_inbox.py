"""The inbox, service hours and performance (issue 7), against the fake platform's server.

On SQLite and PostgreSQL. Citizens' replies and mentions are put on the fake server; the
workspace syncs them, and assertions read what the server received and the database holds.
The real-server versions (mastodon-mock, the Bluesky PDS and AppView) are in
test_inbox_real.py.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fakes import Clock, PaperServer, run, soon
from govsocial import Post
from govsocial.app import Workspace
from govsocial.core.errors import ConfigurationError, NotPermitted
from govsocial.inbox.service_hours import ServiceHours

JAKARTA = ZoneInfo("Asia/Jakarta")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JAKARTA)


# -- service hours --------------------------------------------------------------------------


def test_a_question_on_friday_evening_answered_monday_morning_took_one_service_hour() -> None:
    hours = ServiceHours.parse("Mon-Fri 08:00-16:00", holidays=None)
    friday, monday = at("2026-11-20T15:30"), at("2026-11-23T08:30")
    assert hours.elapsed(friday, monday, "Asia/Jakarta") == 3600.0
    assert hours.elapsed(monday, friday, "Asia/Jakarta") == 0.0


def test_public_holidays_and_own_days_are_not_service_time() -> None:
    hours = ServiceHours.parse("Sen-Jum 08:00-16:00", holidays=["ID", "2026-12-24"])
    assert hours.is_holiday(date(2026, 12, 25)), "Christmas, from the holidays library"
    assert hours.is_holiday(date(2026, 12, 24)), "cuti bersama, given by the agency"
    assert not hours.is_holiday(date(2026, 12, 23))
    wednesday, monday = at("2026-12-23T15:00"), at("2026-12-28T09:00")
    assert hours.elapsed(wednesday, monday, "Asia/Jakarta") == 2 * 3600.0


def test_service_time_is_counted_in_the_accounts_zone() -> None:
    hours = ServiceHours.parse("Mon-Fri 08:00-16:00", holidays=None)
    start = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 07:00 WIB, 09:00 WIT
    end = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert hours.elapsed(start, end, "Asia/Jakarta") == 3600.0  # 08:00-09:00 WIB
    assert hours.elapsed(start, end, "Asia/Jayapura") == 2 * 3600.0  # 09:00-11:00 WIT


def test_bad_service_hours_name_the_field_and_an_example() -> None:
    with pytest.raises(ConfigurationError, match="not a range like 08:00-16:00") as raised:
        ServiceHours.parse("Mon-Fri 08:00")
    assert raised.value.field == "hours"
    with pytest.raises(ConfigurationError, match="does not end after it starts"):
        ServiceHours.parse("Mon 16:00-08:00")
    with pytest.raises(ConfigurationError, match="not a day"):
        ServiceHours.parse("Funday 08:00-16:00")
    with pytest.raises(ConfigurationError, match="not a date"):
        ServiceHours.parse("Mon 08:00-16:00", holidays=["tomorrow"])


# -- syncing ----------------------------------------------------------------------------------


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


def test_replies_and_mentions_arrive_once_threaded_to_the_post(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, post_id = published
    question = server.citizen_post("Buka hari Sabtu?", in_reply_to=post_id)
    server.citizen_post("@humas mohon info antrean", author="ani")
    server.citizen_post("Obrolan lain tanpa sebutan", author="ani")
    transport = server.transport()
    assert ws.pull_inbox(transport=transport).total == 2
    assert ws.pull_inbox(transport=transport).total == 0, "a second sync finds nothing new"
    items = ws.inbox()
    assert [(i.kind, i.author) for i in items] == [("reply", "warga"), ("mention", "ani")]
    reply = items[0]
    assert reply.remote_id == question
    assert reply.delivery_id is not None, "threaded to the workspace's post"
    assert reply.in_reply_to_id == post_id
    assert ws.job(ws.jobs()[0].id).deliveries[0].id == reply.delivery_id


def test_an_answer_goes_to_the_server_and_is_not_a_new_question(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, post_id = published
    question = server.citizen_post("Buka hari Sabtu?", in_reply_to=post_id)
    transport = server.transport()
    ws.pull_inbox(transport=transport)
    [item] = ws.inbox()
    sent = ws.reply(item.id, "Ya, buka 08.00", transport=transport)
    stored = server.posts[sent.id]
    assert (stored["text"], stored["in_reply_to"]) == ("Ya, buka 08.00", question)
    answered = ws.inbox_item(item.id)
    assert answered.status == "answered"
    assert answered.response_id == sent.id
    assert answered.response_seconds is not None and answered.response_seconds >= 0
    assert ws.pull_inbox(transport=transport).total == 0, "the account's own answer is no question"
    [entry] = ws.audit_log(action="reply")
    assert entry.detail["item"] == item.id and entry.detail["first"] is True
    assert entry.detail["service_seconds"] <= entry.detail["response_seconds"]


def test_mentions_are_read_incrementally_from_the_saved_cursor(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, _ = published
    transport = server.transport()
    server.citizen_post("@humas satu", author="ani", at=datetime.now(UTC) - timedelta(hours=2))
    assert ws.pull_inbox(transport=transport).total == 1
    server.citizen_post("@humas dua", author="ani")
    assert ws.pull_inbox(transport=transport).total == 1
    asked = [r for r in server.requests if r.url.path == "/mentions"]
    assert "since" not in asked[0].url.params
    assert asked[1].url.params["since"] > (datetime.now(UTC) - timedelta(hours=3)).isoformat()


def test_older_than_assign_and_close(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, post_id = published
    server.citizen_post("Lama", in_reply_to=post_id, at=datetime.now(UTC) - timedelta(days=2))
    server.citizen_post("Baru", in_reply_to=post_id)
    ws.pull_inbox(transport=server.transport())
    assert [i.text for i in ws.inbox(older_than=timedelta(days=1))] == ["Lama"]
    old = ws.inbox()[0]
    ws.add_person("siti", name="Siti")
    assert ws.assign(old.id, to="siti").assigned_to == "siti"
    assert [i.text for i in ws.inbox(assigned_to="siti")] == ["Lama"]
    with pytest.raises(ConfigurationError, match="no reply needed"):
        ws.close_item(old.id, reason="bosan")
    closed = ws.close_item(old.id, by="siti", reason="spam")
    assert (closed.status, closed.close_reason, closed.closed_by) == ("closed", "spam", "siti")
    assert [i.text for i in ws.inbox()] == ["Baru"]
    assert [i.text for i in ws.inbox("closed")] == ["Lama"]


def test_on_a_governed_account_only_an_admin_answers_or_is_assigned(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, post_id = published
    server.citizen_post("Tanya", in_reply_to=post_id)
    transport = server.transport()
    ws.pull_inbox(transport=transport)
    [item] = ws.inbox()
    ws.add_person("siti", name="Siti", unit="Diskominfo")
    ws.add_person("budi", name="Budi", unit="Dinkes")
    today = datetime.now(JAKARTA).date()
    ws.appoint("siti", accounts=[humas], role="admin", decree="800/1/SK", valid_from=today)
    ws.appoint("budi", accounts=[humas], role="contributor", decree="800/2/SK", valid_from=today)
    with pytest.raises(NotPermitted, match="budi cannot answer"):
        ws.assign(item.id, to="budi")
    with pytest.raises(NotPermitted):
        ws.reply(item.id, "Jawab", by="budi", transport=transport)
    with pytest.raises(NotPermitted):
        ws.reply(item.id, "Jawab", transport=transport)
    assert [p["text"] for p in server.posts.values()].count("Jawab") == 0
    ws.reply(item.id, "Jawab", by="siti", transport=transport)
    assert [p["text"] for p in server.posts.values()].count("Jawab") == 1
    assert ws.inbox_item(item.id).responder == "siti"


# -- performance ---------------------------------------------------------------------------


def test_performance_counts_each_persons_work_with_its_evidence(ws: Workspace, humas: str) -> None:
    pytest.importorskip("pandas")
    ws.add_person("siti", name="Siti", unit="Diskominfo")
    ws.add_person("budi", name="Budi", unit="Dinkes")
    today = datetime.now(JAKARTA).date()
    ws.appoint("siti", accounts=[humas], role="admin", decree="800/1/SK", valid_from=today)
    ws.appoint("siti", accounts=[humas], role="approver", decree="800/3/SK", valid_from=today)
    ws.appoint("budi", accounts=[humas], role="contributor", decree="800/2/SK", valid_from=today)
    ws.set_service_hours(humas, "Mon-Sun 00:00-24:00", holidays=None, target=timedelta(hours=1))
    request = ws.request_content(from_unit="Dinkes", topic="Vaksin", by="siti")
    draft = ws.add_draft(
        Post("Vaksin Sabtu"), accounts=[humas], by="budi", at=soon(), request=request.id
    )
    ws.approve(draft.id, by="siti")
    server, clock = PaperServer(), Clock()
    clock.now += 300
    run(ws, server, clock)
    [post_id] = list(server.posts)
    server.citizen_post("Di mana?", in_reply_to=post_id)
    transport = server.transport()
    ws.pull_inbox(transport=transport)
    [item] = ws.inbox()
    ws.reply(item.id, "Di Balai Kota", by="siti", transport=transport)

    month = datetime.now(JAKARTA).strftime("%Y-%m")
    people = ws.performance(month, by="person")
    siti, budi = people.loc["siti"], people.loc["budi"]
    assert siti["posts_published"] == 1 and siti["published_on_time"] == 1
    assert siti["drafts_approved"] == 1 and siti["replies_sent"] == 1
    assert siti["answered_within_target"] == 1.0
    assert budi["drafts_written"] == 1 and budi["requests_fulfilled"] == 1
    assert budi["posts_published"] == 0
    seqs = [int(s.strip("#")) for s in str(siti["evidence"]).split(", ")]
    actions = {e.seq: e.action for e in ws.audit_log()}
    assert {actions[s] for s in seqs} == {"approve", "publish", "reply"}
    accounts = ws.performance(month, by="account")
    assert accounts.loc[humas, "messages_received"] == 1
    assert accounts.loc[humas, "open_backlog"] == 0
    units = ws.performance(month, by="unit")
    assert units.loc["Diskominfo", "replies_sent"] == 1
    assert units.loc["Dinkes", "drafts_written"] == 1


# -- the command line ------------------------------------------------------------------------


def test_inbox_hours_and_performance_commands(
    published: tuple[Workspace, PaperServer, str],
    humas: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("matplotlib")
    from govsocial.cli import main

    ws, server, post_id = published
    server.citizen_post("Tanya jadwal", in_reply_to=post_id)
    ws.pull_inbox(transport=server.transport())
    db = ws.url
    capsys.readouterr()
    assert (
        main(
            [
                "--db",
                db,
                "hours",
                humas,
                "Sen-Jum 08:00-16:00",
                "--holidays",
                "ID,2026-12-24",
                "--target-hours",
                "4",
            ]
        )
        == 0
    )
    assert "Sen-Jum 08:00-16:00 (holidays: ID, +1 days)" in capsys.readouterr().out
    hours, target = ws.service_hours(humas)
    assert target == timedelta(hours=4) and hours.is_holiday(date(2026, 12, 24))
    assert main(["--db", db, "inbox", "list", "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["text"] == "Tanya jadwal" and item["status"] == "open"
    assert main(["--db", db, "inbox", "close", item["id"], "--reason", "no reply needed"]) == 0
    assert "closed" in capsys.readouterr().out
    assert main(["--db", db, "inbox", "list"]) == 0
    assert "inbox empty" in capsys.readouterr().out
    month = datetime.now(JAKARTA).strftime("%Y-%m")
    for fmt in ("csv", "json", "html"):
        out = tmp_path / f"perf.{fmt}"
        assert (
            main(
                [
                    "--db",
                    db,
                    "performance",
                    "--period",
                    month,
                    "--by",
                    "account",
                    "--format",
                    fmt,
                    "--output",
                    str(out),
                ]
            )
            == 0
        )
        assert out.stat().st_size > 0
    assert humas in (tmp_path / "perf.csv").read_text()
    assert (
        json.loads((tmp_path / "perf.json").read_text())["by_account"][humas]["posts_published"]
        == 1
    )
    assert '<img src="data:image/png;base64,' in (tmp_path / "perf.html").read_text()
    assert main(["--db", db, "performance", "--period", month]) == 0
    assert "posts_publishe" in capsys.readouterr().out
