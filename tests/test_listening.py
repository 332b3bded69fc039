"""Listening (issue 16): classification, emergencies first and notified, re-labels, and
hoax clarifications.

The classifier is measured on the labelled sets in tests/data/ (precision and recall per
intent; docs/listening.md publishes them). Inbox items come from the fake platform's server
and are read back from the database; emergency emails go to a real SMTP server (aiosmtpd)
on the loopback, and the assertions read what it received.
"""

from __future__ import annotations

import csv
import io
import json
import socket
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import govsocial
from fakes import TOKEN, Clock, Paper, PaperServer, paper_account, run, soon
from govsocial import Classification, EmailNotifier, Post, hookimpl
from govsocial.app import Workspace
from govsocial.core.errors import ConfigurationError, NotPermitted, ValidationError
from govsocial.listening.clarification import defang
from govsocial.listening.normalise import normalise
from govsocial.plugin.manager import Plugins, PluginWarning

DATA = Path(__file__).parent / "data"
LABELLED = ("listening_labelled.jsonl", "listening_holdout.jsonl")
INTENTS = ("question", "complaint", "praise", "hoax_report", "emergency", "other")


def labelled(*names: str) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for name in names
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def scores(rows: list[dict[str, Any]]) -> dict[str, tuple[float, float, float]]:
    """(precision, recall, F1) per intent of the built-in classifier on ``rows``."""
    hit, said, truth = Counter[str](), Counter[str](), Counter[str]()
    for row in rows:
        got = govsocial.classify(row["text"]).intent
        said[got] += 1
        truth[row["intent"]] += 1
        hit[got] += got == row["intent"]
    table = {}
    for intent in INTENTS:
        p = hit[intent] / said[intent] if said[intent] else 0.0
        r = hit[intent] / truth[intent] if truth[intent] else 0.0
        table[intent] = (p, r, 2 * p * r / (p + r) if p + r else 0.0)
    return table


# -- the labelled set --------------------------------------------------------------------


def test_the_labelled_set_is_large_bilingual_and_covers_every_label() -> None:
    rows = labelled(*LABELLED)
    assert len(rows) >= 300
    assert len({r["text"] for r in rows}) == len(rows), "no message twice"
    by_language = Counter(r["language"] for r in rows)
    assert by_language["id"] >= 100 and by_language["en"] >= 50
    for language in ("id", "en"):
        assert {r["intent"] for r in rows if r["language"] == language} == set(INTENTS)
    tags = Counter(t for r in rows for t in r["tags"])
    for tag in ("slang", "negation", "sarcasm", "typo", "flood-word", "spam"):
        assert tags[tag] >= 3, f"too few {tag} cases"


def test_no_emergency_in_the_labelled_sets_is_missed(plugins: Plugins) -> None:
    missed = [
        r["text"]
        for r in labelled(*LABELLED)
        if r["intent"] == "emergency" and govsocial.classify(r["text"]).intent != "emergency"
    ]
    assert missed == []


def test_precision_and_recall_per_label_stay_above_their_floor(plugins: Plugins) -> None:
    table = scores(labelled(*LABELLED))
    assert table["emergency"][1] == 1.0
    macro_f1 = sum(f for _, _, f in table.values()) / len(table)
    assert macro_f1 >= 0.85, table
    for intent, (_, recall, _) in table.items():
        assert recall >= 0.7, f"{intent}: {table[intent]}"


def test_language_is_detected_on_the_labelled_sets(plugins: Plugins) -> None:
    rows = labelled(*LABELLED)
    right = sum(govsocial.classify(r["text"]).language == r["language"] for r in rows)
    assert right / len(rows) >= 0.97


# -- emergencies are never missed ----------------------------------------------------------

EMERGENCIES = [
    "kebakaran",
    "KEBAKARAN!!!",
    "kebakarannn di pasar",
    "kebakran dekat sekolah",
    "ada yg kebakar di gang 3",
    "rumah terbakar",
    "banjir",
    "bnjr sepinggang",
    "banjirrr udh masuk rmh",
    "tolong",
    "tolongg!!",
    "tlg tlg",
    "tolongin kami",
    "darurat",
    "drurat min",
    "gempa",
    "gmpa lg",
    "gempaaa kerasa bgt",
    "longsor",
    "tanah longsor tutup jalan",
    "lngsor di desa",
    "kecelakaan",
    "laka di tol",
    "kcelakaan beruntun",
    "tsunami",
    "ada org tenggelam",
    "anak hanyut di kali",
    "fire",
    "FIRE at the market",
    "flood",
    "flooding in our street",
    "help!",
    "help",
    "please help",
    "HELP us",
    "earthquake",
    "landslide on the road",
    "car accident",
    "gas leak",
    "emergency",
    "sos",
    "someone is drowning",
]


@pytest.mark.parametrize("text", EMERGENCIES)
def test_an_emergency_is_never_missed(plugins: Plugins, text: str) -> None:
    found = govsocial.classify(text)
    assert found.intent == "emergency", found.reasons
    assert found.sentiment == "negative" and found.confidence >= 0.85


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("tolong diperbaiki lampu jalannya", "complaint"),
        ("Setiap hujan pasti banjir, kapan gorong-gorongnya dikeruk?", "complaint"),
        ("akun kami banjir pujian hari ini", "other"),
        ("Katanya ada tsunami malam ini menurut pesan berantai, hoaks ya?", "hoax_report"),
        ("Can you help me with my passport renewal", "question"),
    ],
)
def test_words_near_an_emergency_are_not_one(plugins: Plugins, text: str, intent: str) -> None:
    assert govsocial.classify(text).intent == intent


# -- what the rules read -------------------------------------------------------------------


def test_slang_is_read_as_the_word_meant() -> None:
    read = normalise("gmn knp udh tdk bgt gak mksh")
    assert read.words == [
        "bagaimana",
        "kenapa",
        "sudah",
        "tidak",
        "banget",
        "enggak",
        "makasih",
    ]
    assert ("gmn", "bagaimana") in read.changed


def test_english_words_are_not_read_as_slang() -> None:
    assert normalise("so it is past noon", "en").words == ["so", "it", "is", "past", "noon"]


@pytest.mark.parametrize(
    ("text", "sentiment", "reason"),
    [
        ("pelayanannya tidak bagus", "negative", "negated praise 'tidak bagus'"),
        ("infonya gak jelas", "negative", "negated praise 'enggak jelas'"),
        ("this was not helpful", "negative", "negated praise 'not helpful'"),
        ("kurang ramah petugasnya", "negative", "negated praise 'kurang ramah'"),
        ("Pelayanannya bagus dan cepat", "positive", "praise word 'bagus'"),
        ("prosesnya tidak ribet, makasih", "positive", "negated complaint word 'tidak ribet'"),
    ],
)
def test_negation_turns_the_words_after_it(
    plugins: Plugins, text: str, sentiment: str, reason: str
) -> None:
    found = govsocial.classify(text)
    assert found.sentiment == sentiment
    assert reason in found.reasons


def test_sarcasm_is_a_complaint(plugins: Plugins) -> None:
    found = govsocial.classify("Mantap, jalan rusak 3 tahun gak diperbaiki 🙄")
    assert (found.intent, found.sentiment) == ("complaint", "negative")
    assert any("sarcasm" in r for r in found.reasons)


def test_reasons_name_the_words_and_the_classifier(plugins: Plugins) -> None:
    found = govsocial.classify("min knp air pdam mati trs?")
    assert found.classifier == "govsocial.lexicon"
    assert "read 'knp' as 'kenapa'" in found.reasons
    assert "complaint word 'mati'" in found.reasons
    assert found.language == "id"
    assert govsocial.classify("When does the office open?", "en").language == "en"


def test_the_opinion_frame_counts_each_days_messages_by_intent_and_sentiment(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    pytest.importorskip("pandas")
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from govsocial.analytics.opinion import opinion_rows

    ws, server, post_id = published
    server.citizen_post("Jalan rusak parah tidak pernah diperbaiki", in_reply_to=post_id)
    server.citizen_post("Lampu jalan mati tidak pernah diperbaiki", in_reply_to=post_id)
    server.citizen_post("Kapan kantor buka hari Sabtu?", in_reply_to=post_id)
    assert ws.pull_inbox(transport=server.transport()).total == 3
    month = datetime.now(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m")
    frame = ws.opinion_frame(month)
    assert list(frame.columns) == ["day", "source", "platform", "intent", "sentiment", "messages"]
    assert int(frame["messages"].sum()) == 3
    complaints = frame[(frame["intent"] == "complaint") & (frame["sentiment"] == "negative")]
    assert int(complaints["messages"].sum()) == 2
    assert set(frame["source"]) == {"inbox"} and set(frame["platform"]) == {"paper"}
    [item] = ws.inbox(intent="question")
    local_day = item.received_at.astimezone(ZoneInfo("Asia/Jakarta")).date()
    assert {row["day"] for row in opinion_rows(ws, month)} == {local_day}
    assert ws.opinion_frame("2001-01").empty  # another month: no rows, same columns
    assert item.received_at.tzinfo is not None and item.received_at < datetime.now(UTC)


def test_hostile_text_is_classified_within_bounds(plugins: Plugins) -> None:
    huge = "kebakaran " + "a" * 2_000_000
    assert govsocial.classify(huge).intent == "emergency"
    broken = govsocial.classify("tolong \ud800 banjir\x00\x1b[2J")
    assert broken.intent == "emergency"
    assert govsocial.classify("").intent == "other"
    assert govsocial.classify("🙄🙄🙄").intent == "other"


# -- the inbox -------------------------------------------------------------------------------


@pytest.fixture
def published(ws: Workspace, humas: str) -> tuple[Workspace, PaperServer, str]:
    server, clock = PaperServer(), Clock()
    job = ws.schedule(Post("Layanan kami"), [humas], at=soon())
    clock.now += 300
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.ref is not None
    return ws, server, delivery.ref.id


def test_every_synced_item_is_classified_and_emergencies_come_first(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, post_id = published
    server.citizen_post("Kapan kantor buka hari Sabtu?", in_reply_to=post_id)
    server.citizen_post("Jalan rusak parah tidak pernah diperbaiki", in_reply_to=post_id)
    server.citizen_post("@humas tolong banjir sudah masuk rumah!!", author="ani")
    done = ws.pull_inbox(transport=server.transport())
    assert done.total == 3
    items = ws.inbox()
    assert [i.intent for i in items] == ["emergency", "question", "complaint"]
    assert done.emergencies == [items[0].id]
    assert all(i.classifier == "govsocial.lexicon" and i.reasons for i in items)
    assert items[0].classification is not None
    assert items[0].classification.intent == "emergency"
    [complaint] = ws.inbox(intent="complaint")
    assert complaint.sentiment == "negative" and "Jalan rusak" in complaint.text
    assert ws.inbox(intent="praise") == []
    assert [i.intent for i in ws.conversations.items(intent="emergency")] == ["emergency"]
    with pytest.raises(ConfigurationError, match="unknown intent") as raised:
        ws.inbox(intent="rant")
    assert raised.value.field == "intent"


def test_items_synced_before_classification_are_classified_at_the_next_sync(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, post_id = published
    server.citizen_post("Terima kasih, pelayanannya cepat", in_reply_to=post_id)
    transport = server.transport()
    ws.pull_inbox(transport=transport)
    [item] = ws.inbox()
    with ws.store.transaction() as cur:  # as a 0.2 workspace left it
        ws.store.execute(cur, "UPDATE inbox_items SET intent = NULL")
    assert ws.inbox_item(item.id).intent is None
    ws.pull_inbox(transport=transport)
    assert ws.inbox_item(item.id).intent == "praise"


class SkckModel:
    @hookimpl
    def classify_message(self, text: str, default: Classification) -> Classification | None:
        if "skck" in text.lower():
            return Classification(intent="question", confidence=0.9, classifier="polres-skck")
        return None


def test_the_inbox_records_which_classifier_decided(
    published: tuple[Workspace, PaperServer, str], humas: str, plugins: Plugins
) -> None:
    ws, server, post_id = published
    plugins.register(SkckModel(), name="skck")
    server.citizen_post("SKCK di polres", in_reply_to=post_id)
    server.citizen_post("Mantap, terima kasih", in_reply_to=post_id)
    ws.pull_inbox(transport=server.transport())
    decided = {i.text: (i.intent, i.classifier) for i in ws.inbox()}
    assert decided == {
        "SKCK di polres": ("question", "polres-skck"),
        "Mantap, terima kasih": ("praise", "govsocial.lexicon"),
    }


def test_a_person_relabels_an_item_audited_and_exported_as_training_data(
    published: tuple[Workspace, PaperServer, str], humas: str, tmp_path: Path
) -> None:
    ws, server, post_id = published
    server.citizen_post('=HYPERLINK("http://evil") SKCK di polres', in_reply_to=post_id)
    ws.pull_inbox(transport=server.transport())
    [item] = ws.inbox()
    machine = (item.intent, item.classifier)
    labelled_item = ws.label(item.id, intent="question", sentiment="neutral", by="siti")
    assert (labelled_item.intent, labelled_item.classifier, labelled_item.confidence) == (
        "question",
        "person",
        1.0,
    )
    [entry] = ws.audit_log(action="label")
    assert entry.actor == "siti" and entry.object == item.id
    assert entry.detail["previous_intent"] == machine[0]
    assert "SKCK" not in json.dumps(entry.detail), "the audit log quotes no citizen"
    ws.label(item.id, intent="complaint", by="budi")
    [row] = ws.conversations.labels()
    assert (row["intent"], row["labelled_by"], row["machine_intent"]) == (
        "complaint",
        "budi",
        "question",
    ), "the latest label, with what it replaced"
    assert ws.export_labels(tmp_path / "labels.jsonl") == 1
    [line] = (tmp_path / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["text"].startswith("=HYPERLINK")
    assert ws.export_labels(tmp_path / "labels.csv") == 1
    with (tmp_path / "labels.csv").open(encoding="utf-8") as f:
        [header, cells] = list(csv.reader(f))
    assert cells[header.index("text")].startswith("'=HYPERLINK"), "no formula runs"
    with pytest.raises(ConfigurationError, match="unknown intent"):
        ws.label(item.id, intent="angry", by="siti")
    with pytest.raises(ConfigurationError, match="cannot write labels"):
        ws.export_labels(tmp_path / "labels.xlsx")


def test_labels_frame_is_the_training_data(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    pytest.importorskip("pandas")
    ws, server, post_id = published
    server.citizen_post("Kapan buka?", in_reply_to=post_id)
    ws.pull_inbox(transport=server.transport())
    [item] = ws.inbox()
    assert ws.labels_frame().empty
    ws.label(item.id, intent="question", by="siti")
    frame = ws.labels_frame()
    assert list(frame["text"]) == ["Kapan buka?"] and list(frame["intent"]) == ["question"]


def test_on_a_governed_account_only_its_admins_relabel(
    published: tuple[Workspace, PaperServer, str], humas: str
) -> None:
    ws, server, post_id = published
    server.citizen_post("Kapan buka?", in_reply_to=post_id)
    ws.pull_inbox(transport=server.transport())
    [item] = ws.inbox()
    ws.add_person("siti", name="Siti")
    ws.add_person("tamu", name="Tamu")
    ws.appoint("siti", accounts=[humas], role="admin", decree="800/1/2026", valid_from="2026-01-01")
    with pytest.raises(NotPermitted):
        ws.label(item.id, intent="complaint", by="tamu")
    assert ws.label(item.id, intent="complaint", by="siti").intent == "complaint"


# -- emergency notices by email --------------------------------------------------------------


class Mailbox:
    """What the SMTP server received: one entry per message."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message_from_bytes(envelope.content, policy=policy.default),
            )
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def notifier(port: int) -> EmailNotifier:
    return EmailNotifier(
        host="127.0.0.1", port=port, sender="govsocial@pemda.example", to=["piket@pemda.example"]
    )


def test_an_emergency_is_emailed_once_to_the_person_on_duty(
    published: tuple[Workspace, PaperServer, str],
    humas: str,
    plugins: Plugins,
    smtp: tuple[Mailbox, int],
) -> None:
    ws, server, post_id = published
    mailbox, port = smtp
    plugins.register(notifier(port), name="email")
    server.citizen_post("Kapan buka?", in_reply_to=post_id)
    server.citizen_post("@humas kebakaran di pasar blok C, tolong!", author="ani")
    transport = server.transport()
    done = ws.pull_inbox(transport=transport)
    assert done.notified == 1
    [(sender, recipients, message)] = mailbox.received
    assert (sender, recipients) == ("govsocial@pemda.example", ["piket@pemda.example"])
    assert "kebakaran di pasar" in str(message["Subject"])
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes) and "kebakaran di pasar blok C" in body.decode()
    [item] = ws.inbox(intent="emergency")
    assert item.notified_at is not None
    assert ws.pull_inbox(transport=transport).notified == 0
    assert len(mailbox.received) == 1, "never twice"


def test_a_message_cannot_add_a_recipient_or_a_header(
    published: tuple[Workspace, PaperServer, str],
    humas: str,
    plugins: Plugins,
    smtp: tuple[Mailbox, int],
) -> None:
    ws, server, post_id = published
    mailbox, port = smtp
    plugins.register(notifier(port), name="email")
    attack = "kebakaran!\r\nBcc: thief@evil.example\r\nSubject: ok\n\nbody"
    server.citizen_post(attack, in_reply_to=post_id)
    ws.pull_inbox(transport=server.transport())
    [(_, recipients, message)] = mailbox.received
    assert recipients == ["piket@pemda.example"]
    assert message.get_all("Bcc") is None and len(message.get_all("Subject") or []) == 1
    subject = str(message["Subject"])  # unfolded: one logical line
    assert "\n" not in subject and "\r" not in subject and "Bcc: thief" in subject


def test_an_undelivered_notice_is_sent_at_the_next_sync(
    published: tuple[Workspace, PaperServer, str],
    humas: str,
    plugins: Plugins,
    smtp: tuple[Mailbox, int],
) -> None:
    ws, server, post_id = published
    mailbox, port = smtp
    plugins.register(notifier(free_port()), name="down")  # nothing listens there
    server.citizen_post("banjir sepinggang, tolong", in_reply_to=post_id)
    transport = server.transport()
    with pytest.warns(PluginWarning, match="down.*notify"):
        assert ws.pull_inbox(transport=transport).notified == 0
    [item] = ws.inbox(intent="emergency")
    assert item.notified_at is None, "not delivered: still pending"
    plugins.unregister(plugins.pm.get_plugin("down"))
    plugins.register(notifier(port), name="email")
    assert ws.pull_inbox(transport=transport).notified == 1
    assert len(mailbox.received) == 1


def test_the_notifier_refuses_bad_addresses_and_hides_its_password() -> None:
    with pytest.raises(ConfigurationError, match="not an email address") as raised:
        EmailNotifier(host="h", sender="a@b.example", to=["x@y.example\r\nBcc: z@evil.example"])
    assert raised.value.field == "to"
    with pytest.raises(ConfigurationError, match="needs a recipient"):
        EmailNotifier(host="h", sender="a@b.example", to=[])
    shown = EmailNotifier(
        host="h", sender="a@b.example", to=["c@d.example"], username="u", password="s3cret-pw"
    )
    assert "s3cret-pw" not in repr(shown) and "s3cret-pw" not in str(vars(shown))


# -- hoax clarifications ---------------------------------------------------------------------

FACTS = (
    "Bansos hanya disalurkan lewat bank Himbara dan PT Pos Indonesia. Dinas Sosial tidak "
    "pernah meminta data pribadi atau nomor rekening lewat tautan, pesan WhatsApp, atau SMS. "
    "Laporkan pesan seperti ini ke aduankonten.id."
)
SOURCES = [
    "https://dinsos.example.go.id/siaran-pers/2026/12/bansos-tidak-lewat-tautan",
    "https://www.komdigi.go.id/berita/berita-hoaks/detail/hoaks-pencairan-bansos-lewat-tautan",
]


def clarified(**change: Any) -> Post:
    given: dict[str, Any] = {
        "claim": "Pesan berantai: bansos cair lewat tautan bansos-cair.xyz, isi data KTP",
        "verdict": "HOAKS",
        "facts": FACTS,
        "sources": SOURCES,
    }
    return govsocial.clarification(**(given | change))


def test_a_clarification_carries_the_label_the_facts_and_the_sources(plugins: Plugins) -> None:
    post = clarified(verdict="[disinformasi]")
    assert post.text.startswith("[DISINFORMASI] Pesan berantai: bansos cair")
    assert FACTS.split(".")[0] in post.text
    assert post.text.endswith("Sumber:\n" + "\n".join(SOURCES))
    assert post.labels == {"clarification": "DISINFORMASI"}
    assert post.language == "id"
    assert set(govsocial.VERDICTS) >= {"HOAKS", "DISINFORMASI", "MISINFORMASI", "FAKTA"}


def test_a_clarification_never_links_to_the_scam_it_quotes(plugins: Plugins) -> None:
    post = clarified(claim="Daftar di https://bansos-cair.xyz/form atau bansos-cair.xyz")
    assert "bansos-cair.xyz" not in post.text
    assert "hxxps://bansos-cair[.]xyz/form" in post.text
    assert defang("lihat www.a.co.id") == "lihat www[.]a[.]co[.]id"


@pytest.mark.parametrize(
    ("sources", "field"),
    [
        ([], "sources"),
        ("https://a.example.go.id", "sources"),
        (["http://dinsos.example.go.id/x"], "sources[0]"),
        ([SOURCES[0], "javascript:alert(1)"], "sources[1]"),
        (["https://user@evil.example/x"], "sources[0]"),
        (["https://a.example.go.id/x https://b.example"], "sources[0]"),
        (["https://a.example.go.id/\nx"], "sources[0]"),
        ([SOURCES[0]] * 6, "sources"),
    ],
)
def test_sources_must_be_https_links(plugins: Plugins, sources: Any, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        clarified(sources=sources)
    assert raised.value.field == field


def test_unknown_verdicts_and_empty_parts_are_refused(plugins: Plugins) -> None:
    with pytest.raises(ValidationError, match="not a verdict") as raised:
        clarified(verdict="PALSU BANGET")
    assert raised.value.field == "verdict" and "HOAKS" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        clarified(facts="  ")
    assert raised.value.field == "facts"


#: Platforms whose posts are videos (YouTube): an image clarification is refused there, saying so.
VIDEO_ONLY = frozenset({"youtube"})


def test_a_clarification_fits_every_installed_platform() -> None:
    image = pytest.importorskip("PIL.Image")
    jpeg = io.BytesIO()
    image.new("RGB", (320, 320), "red").save(jpeg, "JPEG")
    installed = Plugins()  # the real adapters: mastodon, bluesky, x, ...
    assert len(installed.platforms()) >= 3
    alt = "Stempel HOAKS di atas tangkapan layar"
    stamp = govsocial.Media(data=jpeg.getvalue(), mime_type="image/jpeg", alt_text=alt)
    post = clarified(plugins=installed, image=stamp)  # Instagram needs an image
    for platform in installed.platforms():
        if platform in VIDEO_ONLY:  # a clarification goes there as a video, made by hand
            refused = govsocial.validate(post, platform, plugins=installed)
            assert "image_not_allowed" in [p.code for p in refused], platform
            continue
        problems = [
            p
            for p in govsocial.validate(post, platform, plugins=installed)
            if p.severity == "error"
        ]
        assert problems == [], platform
        text = post.for_platform(platform).text
        assert text.startswith("[HOAKS] "), platform
        assert SOURCES[0] in text, f"{platform} keeps a link"
    assert "x" in post.variants and "bluesky" in post.variants, "shortened where needed"
    assert post.variants["x"].text is not None and SOURCES[1] not in post.variants["x"].text


class Broadsheet(Paper):
    """The fake platform with room for a clarification (Paper takes 20 characters)."""

    name = "broadsheet"
    limits = Paper.limits.model_copy(update={"max_characters": 500, "max_bytes": 2000})


class BroadsheetPlugin:
    @hookimpl
    def register_platforms(self, register: Any) -> None:
        register(Broadsheet)


def test_a_hoax_report_is_answered_with_the_clarification_and_counted(
    ws: Workspace, plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    plugins.register(BroadsheetPlugin(), name="broadsheet")
    ws.add_account("kominfo", paper_account(platform="broadsheet"))
    server, clock = PaperServer(), Clock()
    transport = server.transport()
    job = ws.schedule(Post("Info bansos"), ["kominfo"], at=soon())
    clock.now += 300
    run(ws, server, clock)
    post_ref = ws.job(job.id).deliveries[0].ref
    assert post_ref is not None
    server.citizen_post(
        "Min, pesan berantai bansos lewat tautan itu hoaks ya?", in_reply_to=post_ref.id
    )
    ws.pull_inbox(transport=transport)
    [report] = ws.inbox(intent="hoax_report")
    post = govsocial.clarification(
        claim="Bansos cair lewat tautan", verdict="HOAKS", facts="Tidak benar.", sources=SOURCES
    )
    job = ws.schedule(post, ["kominfo"], at=soon())
    clock.now += 300
    run(ws, server, clock)
    [delivery] = ws.job(job.id).deliveries
    assert delivery.ref is not None and delivery.ref.url is not None
    assert str(server.posts[delivery.ref.id]["text"]).startswith("[HOAKS] Bansos cair")
    answer = govsocial.clarification_reply(delivery.ref, "HOAKS")
    sent = ws.reply(report.id, answer, transport=transport)
    received = str(server.posts[sent.id]["text"])
    assert "[HOAKS]" in received and delivery.ref.url in received
    assert server.posts[sent.id]["in_reply_to"] == report.remote_id
    assert ws.inbox_item(report.id).status == "answered"
    [entry] = [e for e in ws.audit_log(action="reply") if e.object == sent.id]
    assert entry.detail["clarification"] == "HOAKS"
    from govsocial.analytics.performance import performance_rows

    month = datetime.now(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m")
    rows = performance_rows(ws, month, by="account")
    assert rows["kominfo"]["clarifications"] == 2, "the clarification and the answer with it"
    assert rows["kominfo"]["posts_published"] == 2 and rows["kominfo"]["replies_sent"] == 1


# -- the command line ------------------------------------------------------------------------


def test_the_classify_command(capsys: pytest.CaptureFixture[str], plugins: Plugins) -> None:
    from govsocial.cli import main

    assert main(["classify", "gmn cara perpanjang ktp min?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("question  sentiment neutral") and "read 'gmn' as 'bagaimana'" in out
    assert main(["classify", "--json", "tolong banjir"]) == 0
    assert json.loads(capsys.readouterr().out)["intent"] == "emergency"


def test_the_inbox_commands_filter_and_relabel(
    published: tuple[Workspace, PaperServer, str],
    humas: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from govsocial.cli import main

    ws, server, post_id = published
    server.citizen_post("Jalan rusak parah, kecewa", in_reply_to=post_id)
    server.citizen_post("Kapan buka?", in_reply_to=post_id)
    server.citizen_post("banjir!! tolong", in_reply_to=post_id)
    db = ws.url
    assert main(["--db", db, "inbox", "sync"]) in (0, 1)  # no transport: the sync may fail
    ws.pull_inbox(transport=server.transport())
    capsys.readouterr()
    assert main(["--db", db, "inbox", "list", "--intent", "complaint", "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["intent"] == "complaint" and item["classifier"] == "govsocial.lexicon"
    assert main(["--db", db, "inbox", "list"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "EMERGENCY" in first and "banjir" in first
    assert main(["--db", db, "inbox", "label", item["id"], "--intent", "question"]) == 0
    assert "question" in capsys.readouterr().out
    out = tmp_path / "labels.jsonl"
    assert main(["--db", db, "inbox", "labels", "--output", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["intent"] == "question"


def test_a_workspace_of_schema_6_is_upgraded_and_its_items_classified(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 7 on a workspace written before it: the old item gains its intent."""
    import sqlite3

    import govsocial.store as store_module
    from govsocial.store import AccountRow, schema

    path = tmp_path / "old.db"
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    # the schema just before the listening migration, whatever its number after a merge
    before = next(
        n
        for n, migration in enumerate(schema.MIGRATIONS)
        if any("ADD COLUMN intent" in str(statement) for statement in migration)
    )
    with monkeypatch.context() as old:
        old.setattr(store_module, "MIGRATIONS", schema.MIGRATIONS[:before])
        old.setattr(store_module, "SCHEMA_VERSION", before)
        with Workspace.open(path, plugins=plugins) as ws:
            # the row as that schema stores it (today's add_account reads later tables)
            account = paper_account()
            ws.store.put_account(
                AccountRow(
                    name="humas",
                    platform=account.platform,
                    handle=account.handle,
                    base_url=account.base_url,
                    timezone=account.timezone,
                    display_name=None,
                    credentials=ws.core.sealer.seal(account.credentials).values,
                    slots=None,
                    created_at=1.0,
                )
            )
    with sqlite3.connect(path) as db:  # an item as a 0.2 sync stored it
        db.execute(
            "INSERT INTO inbox_items (id, account, remote_id, kind, ref_extra, author, text, "
            "received_at, status, synced_at) VALUES ('old1', 'humas', '77', 'mention', '{}', "
            "'ani', '@humas kebakaran di gudang, tolong', 1.0, 'open', 1.0)"
        )
    assert "intent" not in [
        r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(inbox_items)")
    ]
    with Workspace.open(path, plugins=plugins) as ws:
        assert ws.store.meta("schema_version") == str(len(schema.MIGRATIONS))
        assert ws.inbox_item("old1").intent is None
        ws.pull_inbox(transport=PaperServer().transport())
        item = ws.inbox_item("old1")
        assert (item.intent, item.classifier) == ("emergency", "govsocial.lexicon")
