"""The monthly report's section on what the public asked and reported, and how fast the
agency answered (issue 16, item 3), and hoax reports answered with a clarification's link
(item 4), on the fake platform's server.

Citizens' messages are dated on the server at known times; each answer is given at a known
time (the inbox's clock is set for the reply), so every figure the report shows is computed
here from those times alone: medians with :func:`statistics.median`, the p90 with numpy's
inverted-CDF percentile (the nearest rank), never with the code under test.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import govsocial
from fakes import TOKEN, Clock, Paper, PaperServer, paper_account, run, soon
from govsocial import Post, hookimpl
from govsocial.app import Workspace
from govsocial.core.errors import NotFound, ValidationError
from govsocial.inbox import items as inbox_items
from govsocial.plugin.manager import Plugins

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")
pytest.importorskip("matplotlib")

SOURCES = ["https://dinsos.example.go.id/siaran-pers/bansos"]
ZONE = ZoneInfo("Asia/Jakarta")
MINUTE, HOUR = 60.0, 3600.0

#: (text, intent, minutes after the first message it arrives, what happens to it)
MESSAGES: list[tuple[str, str, float, tuple[str, float] | tuple[str, str] | None]] = [
    ("Kapan kantor buka hari Sabtu?", "question", 0, ("reply", 30 * MINUTE)),
    ("Bagaimana cara perpanjang KTP?", "question", 60, ("reply", 3.5 * HOUR)),
    ("Apakah perlu daftar dulu?", "question", 90, None),
    ("Jalan rusak parah tidak pernah diperbaiki", "complaint", 120, ("reply", 2 * HOUR)),
    ("Lampu jalan mati, kecewa", "complaint", 150, ("close", "answered")),
    ("tolong banjir sudah masuk rumah", "emergency", 180, ("reply", 10 * MINUTE)),
    ("kebakaran di pasar, darurat!", "emergency", 200, ("reply", 50 * MINUTE)),
    ("Min, pesan berantai bansos lewat tautan itu hoaks ya?", "hoax_report", 210, None),
    ("Terima kasih pelayanannya cepat sekali", "praise", 240, ("close", "no reply needed")),
]
HOAX_ANSWER_AFTER = 5 * HOUR


class Broadsheet(Paper):
    """The fake platform with room for a clarification (Paper takes 20 characters)."""

    name = "broadsheet"
    limits = Paper.limits.model_copy(update={"max_characters": 500, "max_bytes": 2000})


class BroadsheetPlugin:
    @hookimpl
    def register_platforms(self, register: Any) -> None:
        register(Broadsheet)


def p90(values: list[float]) -> float:
    """The nearest-rank 90th percentile, as numpy computes it."""
    return float(np.percentile(values, 90, method="inverted_cdf"))


def hours(seconds: float) -> float:
    return round(seconds / 3600, 4)


def shown(hours_: float) -> str:
    """A time as the HTML report writes it (minutes under an hour, else hours, Indonesian)."""
    if hours_ < 1:
        return f"{hours_ * 60:.0f}&nbsp;mnt"
    return f"{hours_:.1f}".replace(".", ",") + "&nbsp;jam"


@pytest.fixture
def answered(
    ws: Workspace, plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> tuple[Workspace, PaperServer, dict[str, Any]]:
    """The messages of MESSAGES received and handled as it says, a clarification published
    and the hoax report answered with it; returns what was done, for the tests."""
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    plugins.register(BroadsheetPlugin(), name="broadsheet")
    ws.add_account("kominfo", paper_account(platform="broadsheet"))
    server, clock = PaperServer(), Clock()
    transport = server.transport()
    job = ws.schedule(Post("Info layanan"), ["kominfo"], at=soon())
    clock.now += 300
    run(ws, server, clock)
    post_id = ws.job(job.id).deliveries[0].ref.id  # type: ignore[union-attr]
    first = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=10)
    for text, _intent, minutes, _fate in MESSAGES:
        server.citizen_post(text, in_reply_to=post_id, at=first + timedelta(minutes=minutes))
    assert ws.pull_inbox(transport=transport).total == len(MESSAGES)
    items = {item.text: item for item in ws.inbox(None)}
    assert {t: items[t].intent for t, *_ in MESSAGES} == {t: i for t, i, *_ in MESSAGES}

    clarification = ws.schedule(
        govsocial.clarification(
            claim="Bansos cair lewat tautan", verdict="HOAKS", facts="Tidak benar.", sources=SOURCES
        ),
        ["kominfo"],
        at=soon(),
    )
    clock.now += 300
    run(ws, server, clock)

    answer_at = {"now": 0.0}  # the inbox's clock while an answer is given
    with monkeypatch.context() as patched:
        patched.setattr(inbox_items, "time", SimpleNamespace(time=lambda: answer_at["now"]))
        for text, _intent, minutes, fate in MESSAGES:
            item = items[text]
            received = (first + timedelta(minutes=minutes)).timestamp()
            assert item.received_at.timestamp() == received
            if fate is None:
                continue
            if fate[0] == "reply":
                answer_at["now"] = received + float(fate[1])
                ws.reply(item.id, "Terima kasih, kami tindak lanjuti.", transport=transport)
            else:
                ws.close_item(item.id, reason=str(fate[1]))
        hoax = items[MESSAGES[7][0]]
        answer_at["now"] = hoax.received_at.timestamp() + HOAX_ANSWER_AFTER
        sent = ws.answer_with_clarification(hoax.id, clarification.id, transport=transport)
    return ws, server, {"first": first, "sent": sent, "job": clarification, "hoax": hoax}


def period_of(first: datetime) -> str:
    """The days around the messages, in the workspace's zone."""
    start = (first - timedelta(days=1)).astimezone(ZONE).date()
    end = (datetime.now(UTC) + timedelta(days=1)).astimezone(ZONE).date()
    return f"{start}..{end}"


def expected() -> dict[str, dict[str, Any]]:
    """Each intent's figures, from MESSAGES alone."""
    rows: dict[str, dict[str, Any]] = {}
    for intent in ("question", "complaint", "praise", "hoax_report", "emergency", "other"):
        mine = [m for m in MESSAGES if m[1] == intent]
        times = [float(m[3][1]) for m in mine if m[3] is not None and m[3][0] == "reply"]
        if intent == "hoax_report":
            times.append(HOAX_ANSWER_AFTER)
        answered = len(times) + sum(1 for m in mine if m[3] == ("close", "answered"))
        rows[intent] = {
            "messages": len(mine),
            "answered": answered,
            "answered_share": answered / len(mine) if mine else None,
            "median_response_h": hours(statistics.median(times)) if times else None,
            "p90_response_h": hours(p90(times)) if times else None,
            "slowest_response_h": hours(max(times)) if times else None,
            "open": sum(1 for m in mine if m[3] is None and intent != "hoax_report"),
            "with_clarification": 1 if intent == "hoax_report" else 0,
        }
    return rows


def test_the_hoax_report_is_answered_with_the_clarifications_link(
    answered: tuple[Workspace, PaperServer, dict[str, Any]],
) -> None:
    ws, server, done = answered
    [delivery] = ws.job(done["job"].id).deliveries
    assert delivery.ref is not None and delivery.ref.url
    received = server.posts[done["sent"].id]
    assert delivery.ref.url in str(received["text"]) and "[HOAKS]" in str(received["text"])
    assert received["in_reply_to"] == done["hoax"].remote_id
    item = ws.inbox_item(done["hoax"].id)
    assert item.status == "answered" and item.response_id == done["sent"].id
    [entry] = [e for e in ws.audit_log(action="reply") if e.object == done["sent"].id]
    assert entry.detail["clarification"] == "HOAKS"
    assert entry.detail["clarification_job"] == done["job"].id
    assert entry.detail["response_seconds"] == HOAX_ANSWER_AFTER
    # once the clarification is deleted, its link leads nowhere: no answer gives it
    ws.delete_post(done["job"].id, transport=server.transport())
    [waiting] = ws.inbox()
    posts = len(server.posts)
    with pytest.raises(ValidationError, match="not published with a link"):
        ws.answer_with_clarification(waiting.id, done["job"].id, transport=server.transport())
    assert len(server.posts) == posts and ws.inbox_item(waiting.id).status == "open"


def test_the_report_section_counts_each_intent_and_times_the_answers(
    answered: tuple[Workspace, PaperServer, dict[str, Any]], tmp_path: Path
) -> None:
    ws, _server, done = answered
    period = period_of(done["first"])
    report = ws.report(period)
    want = expected()
    assert report.listening is not None
    assert report.listening["by_intent"] == want
    total = report.listening["all"]
    assert total["messages"] == len(MESSAGES)
    assert total["answered"] == sum(row["answered"] for row in want.values())
    assert report.listening["clarifications"]["HOAKS"]["published"] == 1
    assert report.listening["clarifications"]["HOAKS"]["answers"] == 1

    # CSV: a row per intent, then all; empty cells for what has no value
    path = report.to_csv(tmp_path / "suara.csv", part="listening")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = {row["intent"]: row for row in csv.DictReader(handle)}
    assert list(rows) == [*want, "all"]
    for intent, row in want.items():
        for column, value in row.items():
            cell = rows[intent][column]
            if value is None:
                assert cell == "", (intent, column)
            else:
                assert float(cell) == pytest.approx(value), (intent, column)
    verdicts = report.to_csv(tmp_path / "klarifikasi.csv", part="clarifications")
    assert verdicts.read_text(encoding="utf-8").splitlines()[1].startswith('HOAKS,1,1,"#')

    # JSON: the same figures
    data = json.loads(report.to_json(tmp_path / "laporan.json").read_text(encoding="utf-8"))
    assert data["listening"]["by_intent"] == want

    # HTML: the table shows them, times in minutes or hours
    page = report.html()
    section = page.split("Suara publik", 1)[1].split("</section>", 1)[0]
    cells = {
        match.group(1).split("<br>", 1)[0]: match.group(0)
        for match in re.finditer(r"<tr><th scope=\"row\">(.*?)</tr>", section, re.S)
    }
    emergency = cells["Darurat"]
    assert shown(want["emergency"]["median_response_h"]) in emergency  # 30 mnt
    assert shown(want["emergency"]["p90_response_h"]) in emergency  # 50 mnt
    question = cells["Pertanyaan"]
    assert shown(want["question"]["median_response_h"]) in question  # 2,0 jam
    assert shown(want["question"]["p90_response_h"]) in question  # 3,5 jam
    assert "66,7&nbsp;%" in question  # two of the three questions answered
    assert f"paling lama {shown(want['emergency']['slowest_response_h'])}" in section
    assert "1 dijawab dengan tautan klarifikasi" in section
    # no other messages: its share, median and p90 are missing, not zero
    assert cells["Lainnya"].count('class="missing"') == 3

    # the chart of messages per day by intent is embedded
    [_, _, _, (caption, _alt, uri)] = report.charts()
    assert "per hari menurut jenis" in caption and uri.startswith("data:image/png;base64,")


def test_the_chart_draws_each_days_messages_by_intent(
    answered: tuple[Workspace, PaperServer, dict[str, Any]],
) -> None:
    from govsocial.analytics.plots import plot_opinion

    ws, _server, done = answered
    period = period_of(done["first"])
    figure = plot_opinion(ws.opinion_frame(period), period, zone="Asia/Jakarta")
    [axes] = figure.axes
    drawn: dict[str, float] = {}
    legend = axes.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    for container, label in zip(axes.containers, labels, strict=True):
        drawn[label] = sum(bar.get_height() for bar in container)
    counts: dict[str, float] = {}
    for _text, intent, *_ in MESSAGES:
        counts[intent.replace("_", " ")] = counts.get(intent.replace("_", " "), 0) + 1
    assert drawn == counts
    assert labels[0] == "emergency", "emergencies at the bottom of each bar"
    days = len(axes.containers[0])
    start, end = (datetime.fromisoformat(d).date() for d in period.split(".."))
    assert days == (end - start).days + 1, "every day of the period has a bar"


def test_the_performance_report_counts_clarifications_per_verdict(
    answered: tuple[Workspace, PaperServer, dict[str, Any]], tmp_path: Path
) -> None:
    ws, _server, done = answered
    report = ws.performance_report(period_of(done["first"]))
    assert set(report.clarifications) == {"HOAKS"}
    row = report.clarifications["HOAKS"]
    assert (row["published"], row["answers"]) == (1, 1)
    seqs = {int(n) for n in re.findall(r"#(\d+)", row["evidence"])}
    by_seq = {e.seq: e for e in ws.audit_log()}
    assert sorted(by_seq[n].action for n in seqs) == ["publish", "reply"]
    lines = report.to_csv(tmp_path / "v.csv", by="verdict").read_text(encoding="utf-8")
    assert lines.splitlines()[0] == "verdict,published,answers,evidence"
    assert "Klarifikasi hoaks per label" in report.html()
    assert report.to_dict()["clarifications_by_verdict"]["HOAKS"]["answers"] == 1


def test_only_a_published_clarification_answers_a_report(
    ws: Workspace, humas: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("Info"), [humas], at=soon())
    clock.now += 300
    run(ws, server, clock)
    post_id = ws.job(job.id).deliveries[0].ref.id  # type: ignore[union-attr]
    server.citizen_post("pesan berantai itu hoaks ya?", in_reply_to=post_id)
    ws.pull_inbox(transport=server.transport())
    [item] = ws.inbox()
    with pytest.raises(ValidationError) as refused:
        ws.answer_with_clarification(item.id, job.id, transport=server.transport())
    assert refused.value.problems[0].field == "clarification"
    assert "not a hoax clarification" in str(refused.value)
    waiting = ws.schedule(
        Post("[HOAKS] x", labels={"clarification": "HOAKS"}), [humas], at=soon(3600)
    )
    with pytest.raises(ValidationError, match="not published with a link yet"):
        ws.answer_with_clarification(item.id, waiting, transport=server.transport())
    for hostile in ("", "../etc/passwd", "x" * 5000, "' OR 1=1 --"):
        with pytest.raises(NotFound) as missing:
            ws.answer_with_clarification(item.id, hostile, transport=server.transport())
        assert missing.value.field == "clarification"
    assert ws.inbox_item(item.id).status == "open"
    assert len(server.posts) == 2, "nothing was sent"


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://mastodon.example/@humas/1", True),
        ("http://127.0.0.1:3000/@humas/1", True),  # a local test server's own link
        ("http://localhost/@humas/1", True),
        ("http://[::1]:8080/@humas/1", True),
        ("http://mastodon.example/@humas/1", False),
        ("http://127.0.0.1.evil.example/x", False),
        ("http://127.0.0.1@evil.example/x", False),
        ("http://evil.example@127.0.0.1/x", False),
        ("http://[::1].evil/x", False),
        ("http://127.0.0.1:port/x", False),
        ("javascript:alert(1)//127.0.0.1", False),
        ("http://127.0.0.1/x y", False),
    ],
)
def test_an_answer_links_only_https_or_this_machines_test_server(url: str, accepted: bool) -> None:
    from govsocial.core.models import PostRef

    ref = PostRef(platform="paper", account=paper_account(), id="1", url=url)
    if accepted:
        assert url in govsocial.clarification_reply(ref, "HOAKS").text
    else:
        with pytest.raises(ValidationError) as refused:
            govsocial.clarification_reply(ref, "HOAKS")
        assert refused.value.problems[0].field == "link"
    with pytest.raises(ValidationError):  # a source typed by a person: https only
        govsocial.clarification(
            claim="x", verdict="HOAKS", facts="y", sources=[url.replace("https://", "http://")]
        )


def test_times_to_answer_are_written_in_minutes_or_hours() -> None:
    from govsocial.analytics.report import _duration

    assert _duration(5 / 3600) == "&lt;&nbsp;1&nbsp;mnt", "never 0 minutes"
    assert _duration(0.5) == "30&nbsp;mnt"
    assert _duration(26.5) == "26,5&nbsp;jam"
    assert _duration(1234.5) == "1.234,5&nbsp;jam"
    assert "missing" in _duration(None) and "missing" in _duration(float("nan"))


def test_a_signing_admin_answers_with_a_clarification_only_with_their_key(
    ws: Workspace, plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from govsocial import SigningKey
    from govsocial.core.errors import NotPermitted

    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    plugins.register(BroadsheetPlugin(), name="broadsheet")
    ws.add_account("kominfo", paper_account(platform="broadsheet"))
    key = SigningKey.generate()
    ws.add_person("siti", name="Siti", public_key=key.public_key)
    ws.appoint(
        "siti",
        accounts=["kominfo"],
        role="admin",
        decree="800/9/SK/2026",
        valid_from=date.today() - timedelta(days=1),
        by="siti",
        key=key,
    )
    server, clock = PaperServer(), Clock()
    transport = server.transport()
    job = ws.schedule(
        govsocial.clarification(
            claim="Bansos lewat tautan", verdict="SALAH", facts="Tidak benar.", sources=SOURCES
        ),
        ["kominfo"],
        at=soon(),
        by="siti",
        key=key,
    )
    clock.now += 300
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.ref is not None
    server.citizen_post("pesan berantai bansos itu hoaks ya?", in_reply_to=delivery.ref.id)
    ws.pull_inbox(transport=transport)
    [item] = ws.inbox(intent="hoax_report")
    posts_before = len(server.posts)
    with pytest.raises(NotPermitted):
        ws.answer_with_clarification(item.id, job, by="siti", transport=transport)
    assert len(server.posts) == posts_before, "refused before anything was sent"
    sent = ws.answer_with_clarification(item.id, job.id, by="siti", key=key, transport=transport)
    assert "[SALAH]" in str(server.posts[sent.id]["text"])
    [entry] = [e for e in ws.audit_log(action="reply") if e.object == sent.id]
    assert entry.actor == "siti" and entry.signature and entry.detail["clarification"] == "SALAH"
    assert ws.verify_audit() == len(ws.audit_log())


def test_the_commands_write_the_listening_part_and_the_verdicts(
    answered: tuple[Workspace, PaperServer, dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from govsocial.cli import main

    ws, _server, done = answered
    period = period_of(done["first"])
    out = tmp_path / "suara.csv"
    args = ["--db", ws.url, "report", "--period", period, "--format", "csv"]
    assert main([*args, "--part", "listening", "--output", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        rows = {row["intent"]: row for row in csv.DictReader(handle)}
    assert rows["emergency"]["messages"] == "2" and rows["all"]["messages"] == str(len(MESSAGES))
    assert float(rows["emergency"]["median_response_h"]) == pytest.approx(0.5)
    capsys.readouterr()
    assert main(["--db", ws.url, "performance", "--period", period, "--by", "verdict"]) == 0
    [header, row] = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["verdict", "published", "answers"]
    assert row.split()[:3] == ["HOAKS", "1", "1"]
    with pytest.raises(SystemExit) as refused:  # argparse refuses an unknown part
        main([*args, "--part", "nonsense"])
    assert refused.value.code == 2
