"""The central narrative (issue 16, item 5): followed feeds become drafts awaiting approval.

Every feed is served by a real local HTTP server (``http.server`` in a thread) that keeps
ETag and Last-Modified and answers a conditional GET with 304; the tests assert on what it
received. Drafts, seen items and audit entries are read back from the database, on SQLite
and PostgreSQL. Once per item is proved across restarts, two syncs at the same moment and a
sync process killed with SIGKILL between writing a draft and committing it.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import govsocial
from govsocial.app import Workspace
from govsocial.core.errors import ConfigurationError, NotPermitted, PlatformError
from govsocial.core.models import Account
from govsocial.listening.feeds import MAX_FEED_BYTES, parse_feed
from govsocial.plugin.manager import Plugins, reset_default_plugins
from govsocial.workspace.signing import SigningKey

DATA = Path(__file__).parent / "data" / "feeds"


@dataclass
class Resource:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200
    location: str | None = None


@dataclass
class Seen:
    path: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int


@dataclass
class FeedServer:
    """A local feed server: what it serves, and every request it received."""

    port: int = 0
    resources: dict[str, Resource] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    state = FeedServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = state.resources.get(self.path)
            status = 404 if found is None else found.status
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            fresh = found is not None and (
                (found.etag and inm == found.etag)
                or (found.last_modified and ims == found.last_modified and not found.etag)
            )
            if found is not None and status == 200 and fresh:
                status = 304
            state.requests.append(Seen(self.path, inm, ims, status))
            self.send_response(status)
            if found is not None and found.location:
                self.send_header("Location", found.location)
            if found is not None and status in (200, 304):
                if found.etag:
                    self.send_header("ETag", found.etag)
                if found.last_modified:
                    self.send_header("Last-Modified", found.last_modified)
            body = found.body if found is not None and status == 200 else b""
            if status != 304:
                self.send_header("Content-Type", found.content_type if found else "text/plain")
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def real_plugins() -> Iterator[Plugins]:
    """The real adapters of X (280 characters) and Mastodon (500), as installed."""
    fresh = Plugins(only=["x", "mastodon"])
    reset_default_plugins(fresh)
    try:
        yield fresh
    finally:
        reset_default_plugins(None)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ws.db")
    return str(request.getfixturevalue("postgres_url"))


def _open(url: str, plugins: Plugins) -> Workspace:
    return Workspace.open(url, plugins=plugins)


def _prepare(ws: Workspace) -> None:
    ws.add_account(
        "humas-x",
        Account(platform="x", handle="@humaskota", credentials={"access_token": "env:GS_TOKEN"}),
    )
    ws.add_account(
        "humas-masto",
        Account(
            platform="mastodon",
            handle="@humas@mastodon.example",
            base_url="https://mastodon.example",
            credentials={"access_token": "env:GS_TOKEN"},
        ),
    )
    ws.add_person("siti", name="Siti Rahma", unit="Diskominfo")


@pytest.fixture
def fws(db_url: str, real_plugins: Plugins, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")
    monkeypatch.setenv("GS_TOKEN", "t0ken")
    ws = _open(db_url, real_plugins)
    _prepare(ws)
    try:
        yield ws
    finally:
        ws.close()


def _serve(server: FeedServer, path: str, name: str, **kw: Any) -> str:
    server.resources[path] = Resource((DATA / name).read_bytes(), **kw)
    return server.url(path)


ACCOUNTS = ["humas-x", "humas-masto"]


def test_rss_atom_and_gpr_items_become_pending_drafts_crediting_the_source(
    fws: Workspace, feed_server: FeedServer
) -> None:
    rss = _serve(feed_server, "/rss", "rss.xml", etag='"r1"')
    atom = _serve(feed_server, "/atom", "atom.xml", content_type="application/atom+xml")
    gpr = _serve(feed_server, "/gpr", "gpr.xml", last_modified="Mon, 07 Dec 2026 02:00:00 GMT")
    fws.follow_feed(rss, accounts=ACCOUNTS, by="siti", name="kemkes")
    fws.follow_feed(atom, accounts=ACCOUNTS, by="siti", name="pemprov")
    fws.follow_feed(gpr, accounts=ACCOUNTS, by="siti", name="gpr")

    result = fws.sync_feeds()

    assert result.failed == {}
    assert {name: len(ids) for name, ids in result.drafts.items()} == {
        "kemkes": 2,
        "pemprov": 1,
        "gpr": 1,
    }
    drafts = {d.id: d for d in fws.drafts()}
    assert len(drafts) == 4
    for draft in drafts.values():
        assert draft.status == "pending", "awaiting approval, never published directly"
        assert draft.author == "siti"
        assert draft.accounts == tuple(ACCOUNTS)
    [gpr_draft] = [drafts[i] for i in result.drafts["gpr"]]
    text = gpr_draft.post.text
    assert text.startswith("Pemerintah Salurkan Bantuan Pangan Beras Tahap II\n\n")
    assert text.endswith(
        "Sumber: GPR Komdigi "
        "https://gpr.komdigi.example.go.id/konten/2026/12/bantuan-pangan-tahap-ii"
    )
    assert "<" not in text and "onerror" not in text, "the HTML is gone"
    assert gpr_draft.post.labels == {"feed": "gpr"}
    # X's 280 characters: a shorter variant that still credits the source with its link
    x_text = gpr_draft.post.for_platform("x").text
    assert x_text != text
    assert x_text.endswith("bantuan-pangan-tahap-ii")
    assert "Sumber: GPR Komdigi" in x_text
    for platform in ("x", "mastodon"):
        assert [
            p
            for p in govsocial.validate(gpr_draft.post, platform, plugins=fws.plugins)
            if p.severity == "error"
        ] == []
    kemkes = [drafts[i].post.text for i in result.drafts["kemkes"]]
    assert kemkes[0].startswith("Cek Kesehatan Gratis"), "oldest first"
    assert "alert" not in kemkes[1] and "seluruh puskesmas" in kemkes[1]
    # audit: the planner drafted each item, naming the feed and the item's link
    entries = fws.audit_log(action="feed_item")
    assert {e.detail["feed"] for e in entries} == {"kemkes", "pemprov", "gpr"}
    assert all(e.actor == "siti" for e in entries)
    assert len(fws.audit_log(action="draft")) == 8  # one per draft and account
    assert fws.verify_audit() == len(fws.audit_log())
    # the server saw one unconditional GET of each feed
    assert [(r.if_none_match, r.status) for r in feed_server.seen("/rss")] == [(None, 200)]
    assert [(r.if_modified_since, r.status) for r in feed_server.seen("/gpr")] == [(None, 200)]


def test_the_second_poll_is_a_304_and_makes_nothing(
    fws: Workspace, feed_server: FeedServer
) -> None:
    rss = _serve(feed_server, "/rss", "rss.xml", etag='"r1"')
    gpr = _serve(feed_server, "/gpr", "gpr.xml", last_modified="Mon, 07 Dec 2026 02:00:00 GMT")
    fws.follow_feed(rss, accounts=ACCOUNTS, by="siti", name="kemkes")
    fws.follow_feed(gpr, accounts=ACCOUNTS, by="siti", name="gpr")
    assert fws.sync_feeds().total == 3

    again = fws.sync_feeds()

    assert again.total == 0 and sorted(again.unchanged) == ["gpr", "kemkes"]
    assert [(r.if_none_match, r.status) for r in feed_server.seen("/rss")] == [
        (None, 200),
        ('"r1"', 304),
    ]
    assert [(r.if_modified_since, r.status) for r in feed_server.seen("/gpr")] == [
        (None, 200),
        ("Mon, 07 Dec 2026 02:00:00 GMT", 304),
    ]
    assert len(fws.drafts()) == 3
    # the feed changes: only its new item becomes a draft
    body = (
        (DATA / "rss.xml")
        .read_text()
        .replace(
            "<item>",
            "<item><title>Vaksin Polio Tambahan</title>"
            "<link>https://kemkes.example.go.id/rilis/polio</link>"
            "<guid isPermaLink='false'>kemkes-rilis-1002</guid></item><item>",
            1,
        )
    )
    feed_server.resources["/rss"] = Resource(body.encode(), etag='"r2"')
    third = fws.sync_feeds(["kemkes"])
    assert third.total == 1
    [new] = [fws.draft(i) for i in third.drafts["kemkes"]]
    assert new.post.text.startswith("Vaksin Polio Tambahan")
    assert feed_server.seen("/rss")[-1].if_none_match == '"r1"'
    assert fws.feed("kemkes").etag == '"r2"'


def test_a_restart_and_a_server_that_ignores_validators_make_no_second_draft(
    db_url: str, real_plugins: Plugins, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")
    monkeypatch.setenv("GS_TOKEN", "t0ken")
    url = _serve(feed_server, "/rss", "rss.xml")  # no ETag, no Last-Modified
    with _open(db_url, real_plugins) as ws:
        _prepare(ws)
        ws.follow_feed(url, accounts=ACCOUNTS, by="siti", name="kemkes")
        assert ws.sync_feeds().total == 2
    with _open(db_url, real_plugins) as ws:  # a new process, as far as the store knows
        again = ws.sync_feeds()
        assert again.total == 0 and again.unchanged == []
        assert len(ws.drafts()) == 2
        assert [i.draft_id is not None for i in ws.feed_items("kemkes")] == [True, True]
    assert [r.status for r in feed_server.seen("/rss")] == [200, 200]


def test_two_syncs_at_the_same_moment_make_one_draft_per_item(
    db_url: str, real_plugins: Plugins, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")
    monkeypatch.setenv("GS_TOKEN", "t0ken")
    items = "".join(
        f"<item><title>Berita {i}</title><link>https://humas.example.go.id/b/{i}</link></item>"
        for i in range(12)
    )
    feed_server.resources["/many"] = Resource(
        f"<rss version='2.0'><channel><title>Humas</title>{items}</channel></rss>".encode()
    )
    with _open(db_url, real_plugins) as ws:
        _prepare(ws)
        ws.follow_feed(feed_server.url("/many"), accounts=ACCOUNTS, by="siti", name="humas")
    workspaces = [_open(db_url, real_plugins) for _ in range(2)]
    barrier = threading.Barrier(2)
    made: list[int] = []

    def run(ws: Workspace) -> None:
        barrier.wait()
        made.append(ws.sync_feeds().total)

    threads = [threading.Thread(target=run, args=(ws,)) for ws in workspaces]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        drafts = workspaces[0].drafts()
        assert sum(made) == 12
        assert len(drafts) == 12
        assert len({d.post.text for d in drafts}) == 12
        records = workspaces[0].feed_items("humas")
        assert sorted(r.draft_id for r in records) == sorted(d.id for d in drafts)
    finally:
        for ws in workspaces:
            ws.close()


_SYNC_AND_DIE = """
import sys, time
from pathlib import Path
from govsocial.app import Workspace
from govsocial.plugin.manager import Plugins
from govsocial.store.feeds import FeedRows

db, marker, where = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
done = []
if where == "draft":
    original = FeedRows.item_done
    def item_done(self, tx, feed, key, draft_id, error):
        original(self, tx, feed, key, draft_id, error)
        done.append(key)
        if len(done) == 2:  # the second item's draft is written, its transaction not committed
            marker.write_text(draft_id)
            time.sleep(600)
    FeedRows.item_done = item_done
else:
    original = FeedRows.checked
    def checked(self, tx, *args, **kwargs):
        marker.write_text("all drafted")
        time.sleep(600)
    FeedRows.checked = checked
with Workspace.open(db, plugins=Plugins(only=["x", "mastodon"])) as ws:
    ws.sync_feeds()
"""


@pytest.mark.parametrize("where", ["draft", "validators"])
def test_a_sync_killed_with_sigkill_loses_no_item_and_doubles_none(
    db_url: str,
    real_plugins: Plugins,
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    where: str,
) -> None:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")
    monkeypatch.setenv("GS_TOKEN", "t0ken")
    items = "".join(
        f"<item><title>Siaran {i}</title><guid>siaran-{i}</guid>"
        f"<link>https://humas.example.go.id/s/{i}</link></item>"
        for i in range(4)
    )
    feed_server.resources["/siaran"] = Resource(
        f"<rss version='2.0'><channel><title>Siaran Pers</title>{items}</channel></rss>".encode(),
        etag='"s1"',
    )
    with _open(db_url, real_plugins) as ws:
        _prepare(ws)
        ws.follow_feed(feed_server.url("/siaran"), accounts=ACCOUNTS, by="siti", name="siaran")
    marker = tmp_path / "midway"
    log = tmp_path / "sync.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", _SYNC_AND_DIE, db_url, str(marker), where],
            env=dict(os.environ),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while not marker.exists() or not marker.read_text():
                assert process.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, "the sync never got midway"
                time.sleep(0.05)
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    with _open(db_url, real_plugins) as ws:
        if where == "draft":
            uncommitted = marker.read_text()
            assert [d.id for d in ws.drafts()] != [] and uncommitted not in {
                d.id for d in ws.drafts()
            }, "the killed transaction left neither its draft ..."
            assert len(ws.feed_items("siaran")) == 1, "... nor its item marked seen"
            assert ws.feed("siaran").etag is None, "validators are kept only after every item"
        else:
            assert len(ws.drafts()) == 4
        result = ws.sync_feeds()
        drafts = ws.drafts()
        assert len(drafts) == 4, "every item once: none lost, none twice"
        assert sorted(d.post.text.split("\n")[0] for d in drafts) == [
            f"Siaran {i}" for i in range(4)
        ]
        records = ws.feed_items("siaran")
        assert sorted(r.draft_id for r in records) == sorted(d.id for d in drafts)
        assert result.total == (3 if where == "draft" else 0)
    # after the kill the server was asked again without validators (none were stored)
    assert [r.if_none_match for r in feed_server.seen("/siaran")] == [None, None]


# -- hostile feeds -------------------------------------------------------------------------


def test_external_entities_are_not_resolved_and_a_billion_laughs_does_not_expand(
    fws: Workspace, feed_server: FeedServer, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("RAHASIA-NEGARA")
    dtd = feed_server.url("/evil.dtd")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY file SYSTEM "file://{secret}">
  <!ENTITY remote SYSTEM "{feed_server.url("/leak")}">
  <!ENTITY % param SYSTEM "{dtd}">
  %param;
]>
<rss version="2.0"><channel><title>Jahat</title>
<item><title>Bocor &file; &remote;</title><link>https://jahat.example/1</link></item>
</channel></rss>"""
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE rss ['
        '<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
            for i in range(1, 10)
        )
        + ']><rss version="2.0"><channel><title>Tawa</title>'
        "<item><title>Tawa &lol9;</title><link>https://jahat.example/2</link></item>"
        "</channel></rss>"
    )
    feed_server.resources["/xxe"] = Resource(xxe.encode())
    feed_server.resources["/laughs"] = Resource(laughs.encode())
    feed_server.resources["/leak"] = Resource(b"LEAKED")
    feed_server.resources["/evil.dtd"] = Resource(b'<!ENTITY exfil "x">')
    fws.follow_feed(feed_server.url("/xxe"), accounts=ACCOUNTS, by="siti", name="xxe")
    fws.follow_feed(feed_server.url("/laughs"), accounts=ACCOUNTS, by="siti", name="laughs")

    fws.sync_feeds()

    texts = [d.post.text for d in fws.drafts()]
    assert all("RAHASIA" not in t and "LEAKED" not in t for t in texts)
    assert all(len(t) < 1000 for t in texts), "no entity expanded a billion times"
    # the server received the two feed requests and nothing else: no DTD, no entity fetched
    assert sorted(r.path for r in feed_server.requests) == ["/laughs", "/xxe"]


def test_hostile_content_is_plain_bounded_text_and_bad_links_are_dropped(
    fws: Workspace, feed_server: FeedServer
) -> None:
    long_title = "Judul " * 400
    body = f"""<rss version="2.0"><channel><title>Aneh\u202e</title>
<item><title>{long_title}</title><link>javascript:alert(1)</link>
<description>&lt;script&gt;steal()&lt;/script&gt;&lt;iframe src="https://x"&gt;isi&lt;/iframe&gt;
Teks \x1b[2J biasa\u200b.</description></item>
</channel></rss>"""
    feed_server.resources["/aneh"] = Resource(body.encode())
    fws.follow_feed(feed_server.url("/aneh"), accounts=ACCOUNTS, by="siti", name="aneh")
    assert fws.sync_feeds().total == 1
    [draft] = fws.drafts()
    text = draft.post.text
    assert "javascript" not in text and "steal" not in text and "iframe" not in text
    assert "\x1b" not in text and "\u202e" not in text and "\u200b" not in text
    assert "Teks [2J biasa." in text
    assert len(text) < 300 + 2000 + 200, "title and summary are bounded"
    assert text.endswith("Sumber: Aneh")  # no link: the feed's one was not http(s)


def test_a_feed_larger_than_the_cap_is_refused_and_nothing_is_drafted(
    fws: Workspace, feed_server: FeedServer
) -> None:
    item = "<item><title>x</title><link>https://a.example/{}</link></item>"
    filler = "".join(item.format(i) for i in range(MAX_FEED_BYTES // 50))
    feed_server.resources["/big"] = Resource(
        f"<rss version='2.0'><channel><title>Besar</title>{filler}</channel></rss>".encode()
    )
    fws.follow_feed(feed_server.url("/big"), accounts=ACCOUNTS, by="siti", name="big")
    result = fws.sync_feeds()
    assert "larger than the" in result.failed["big"]
    assert fws.drafts() == []
    assert fws.feed("big").error is not None


def test_redirects_are_followed_a_few_times_and_only_to_http(
    fws: Workspace, feed_server: FeedServer
) -> None:
    feed_server.resources["/old"] = Resource(b"", status=301, location="/rss")
    _serve(feed_server, "/rss", "rss.xml")
    feed_server.resources["/file"] = Resource(b"", status=302, location="file:///etc/passwd")
    for i in range(6):
        feed_server.resources[f"/loop{i}"] = Resource(b"", status=302, location=f"/loop{i + 1}")
    fws.follow_feed(feed_server.url("/old"), accounts=ACCOUNTS, by="siti", name="moved")
    fws.follow_feed(feed_server.url("/file"), accounts=ACCOUNTS, by="siti", name="file")
    fws.follow_feed(feed_server.url("/loop0"), accounts=ACCOUNTS, by="siti", name="loop")
    result = fws.sync_feeds()
    assert len(result.drafts["moved"]) == 2
    assert "not an http(s) address" in result.failed["file"]
    assert "redirected more than 3 times" in result.failed["loop"]
    assert [r.path for r in feed_server.requests if r.path.startswith("/loop")] == [
        "/loop0",
        "/loop1",
        "/loop2",
        "/loop3",
    ]


def test_a_private_address_is_refused_unless_allowed_and_the_server_sees_nothing(
    fws: Workspace, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _serve(feed_server, "/rss", "rss.xml")
    fws.follow_feed(url, accounts=ACCOUNTS, by="siti", name="lokal")
    monkeypatch.delenv("GOVSOCIAL_MEDIA_ALLOW_NETS")
    result = fws.sync_feeds()
    assert "a loopback address" in result.failed["lokal"]
    assert feed_server.requests == []
    with pytest.raises(ConfigurationError) as refused:
        fws.follow_feed("file:///etc/passwd", accounts=ACCOUNTS, by="siti", name="f")
    assert refused.value.field == "url"


def test_not_a_feed_is_a_platform_error_naming_the_url() -> None:
    with pytest.raises(PlatformError) as failed:
        parse_feed(b"<html><body>Halaman</body></html>", url="https://a.example/x")
    assert "is not an RSS or Atom feed" in str(failed.value)


# -- governance ------------------------------------------------------------------------------


def test_the_planner_must_be_allowed_to_draft_and_an_item_waits_while_they_are_not(
    fws: Workspace, feed_server: FeedServer
) -> None:
    from datetime import date, timedelta

    fws.add_person("kepala", name="Kepala Dinas")
    fws.add_person("andi", name="Andi")
    start = date.today() - timedelta(days=1)
    fws.appoint("kepala", role="head", decree="SK 1/2026", valid_from=start, by="kepala")
    fws.appoint(
        "siti",
        accounts=ACCOUNTS,
        role="contributor",
        decree="SK 2/2026",
        valid_from=start,
        by="kepala",
    )
    url = _serve(feed_server, "/rss", "rss.xml", etag='"r1"')
    with pytest.raises(NotPermitted):
        fws.follow_feed(url, accounts=ACCOUNTS, by="andi", name="kemkes")
    assert fws.audit_log(action="refused:draft")
    fws.follow_feed(url, accounts=ACCOUNTS, by="siti", name="kemkes")
    fws.revoke("siti", by="kepala", reason="pindah tugas")
    first = fws.sync_feeds()
    assert "kemkes" in first.failed and fws.drafts() == []
    assert fws.feed_items("kemkes") == [], "nothing marked seen"
    fws.appoint(
        "siti",
        accounts=ACCOUNTS,
        role="contributor",
        decree="SK 3/2026",
        valid_from=start,
        by="kepala",
    )
    second = fws.sync_feeds()
    assert second.total == 2
    # no validators were kept while it failed: the server answered in full, not 304
    assert [r.status for r in feed_server.seen("/rss")] == [200, 200]


def test_a_signing_planner_signs_the_drafts_of_their_feed(
    fws: Workspace, feed_server: FeedServer
) -> None:
    key = SigningKey.generate()
    fws.add_person("dewi", name="Dewi", public_key=key.public_key)
    url = _serve(feed_server, "/rss", "rss.xml")
    with pytest.raises(NotPermitted):
        fws.follow_feed(url, accounts=ACCOUNTS, by="dewi", name="kemkes")
    fws.follow_feed(url, accounts=ACCOUNTS, by="dewi", name="kemkes", key=key)
    assert "kemkes" in fws.sync_feeds().failed, "without dewi's key nothing is drafted"
    assert fws.sync_feeds(key=key).total == 2
    entries = fws.audit_log(action="draft", actor="dewi")
    assert len(entries) == 4 and all(e.signature for e in entries)
    assert fws.verify_audit() == len(fws.audit_log())


# -- the command line --------------------------------------------------------------------------


def test_feeds_add_list_and_sync_on_the_command_line(
    real_plugins: Plugins,
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from govsocial.cli import main

    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")
    monkeypatch.setenv("GS_TOKEN", "t0ken")
    db = str(tmp_path / "ws.db")
    with _open(db, real_plugins) as ws:
        _prepare(ws)
    url = _serve(feed_server, "/gpr", "gpr.xml", etag='"g1"')
    assert main(["--db", db, "feeds", "add", url, "--account", "humas-x", "--name", "gpr"]) == 2
    assert "--by" in capsys.readouterr().err
    argv = ["--db", db, "feeds", "add", url, "--account", "humas-x", "--account", "humas-masto"]
    assert main([*argv, "--name", "gpr", "--by", "siti"]) == 0
    assert "following gpr" in capsys.readouterr().out
    assert main(["--db", db, "feeds", "sync"]) == 0
    assert "gpr: 1 new drafts" in capsys.readouterr().out
    assert main(["--db", db, "feeds", "sync"]) == 0
    assert "gpr: unchanged" in capsys.readouterr().out
    assert main(["--db", db, "feeds", "list", "--json"]) == 0
    import json

    [listed] = json.loads(capsys.readouterr().out)
    assert (
        listed["name"] == "gpr" and listed["etag"] == '"g1"' and listed["source"] == "GPR Komdigi"
    )
    feed_server.resources["/gpr"] = Resource(b"not a feed", status=500)
    feed_server.resources["/gpr"].etag = None
    assert main(["--db", db, "feeds", "sync", "gpr"]) == 1
    assert "gpr: FAILED" in capsys.readouterr().err
    assert [r.status for r in feed_server.seen("/gpr")] == [200, 304, 500]
    with _open(db, real_plugins) as ws:
        [draft] = ws.drafts()
        assert draft.status == "pending" and draft.author == "siti"


def test_a_name_resolving_to_a_private_address_is_refused_before_and_at_connect_time(
    fws: Workspace, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from govsocial.adapters.media_safety import MediaPolicy
    from govsocial.listening.feeds import _PublicResolver

    _serve(feed_server, "/rss", "rss.xml")
    fws.follow_feed(
        f"http://localhost:{feed_server.port}/rss", accounts=ACCOUNTS, by="siti", name="lokal"
    )
    monkeypatch.delenv("GOVSOCIAL_MEDIA_ALLOW_NETS")
    result = fws.sync_feeds()
    assert "(localhost resolves to it)" in result.failed["lokal"]
    assert feed_server.requests == []
    # the resolver the connection uses refuses too: a name that resolved to a public
    # address when checked and resolves to a private one at connect time (DNS rebinding)
    resolver = _PublicResolver(MediaPolicy.from_environment())
    with pytest.raises(OSError, match="a loopback address: not connected"):
        asyncio.run(resolver.resolve("localhost", feed_server.port))
    allowed = _PublicResolver(
        MediaPolicy.from_environment({"GOVSOCIAL_MEDIA_ALLOW_NETS": "127.0.0.0/8,::1/128"})
    )
    assert asyncio.run(allowed.resolve("localhost", feed_server.port))


# -- end to end: a feed item approved and published on mastodon-mock -------------------------


def test_a_gpr_item_is_approved_scheduled_and_published_crediting_its_source(
    mastodon: Any,
    tmp_path: Path,
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The draft goes through the ordinary approval machinery: refused before approval,
    published once approved and scheduled; the server holds the text with the credit."""
    from datetime import UTC, date, datetime, timedelta

    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")
    real = mastodon.new_account("f" + os.urandom(6).hex())
    monkeypatch.setenv("GS_REAL_FEED_TOKEN", real.credential("access_token"))
    ws = Workspace.open(tmp_path / "ws.db", plugins=Plugins(only=["mastodon"]))
    try:
        ws.add_account(
            "humas",
            Account(
                platform="mastodon",
                handle=real.handle,
                base_url=real.base_url,
                credentials={"access_token": "env:GS_REAL_FEED_TOKEN"},
            ),
        )
        start = date.today() - timedelta(days=1)
        for person in ("kepala", "siti", "rahmat", "dewi"):
            ws.add_person(person, name=person.title())
        ws.appoint("kepala", role="head", decree="SK 1", valid_from=start, by="kepala")
        for person, role in (("siti", "contributor"), ("rahmat", "approver"), ("dewi", "admin")):
            ws.appoint(
                person,
                accounts=["humas"],
                role=role,
                decree="SK 2",
                valid_from=start,
                by="kepala",
            )
        url = _serve(feed_server, "/gpr", "gpr.xml", etag='"g1"')
        ws.follow_feed(url, accounts=["humas"], by="siti", name="gpr")
        [draft_id] = ws.sync_feeds().drafts["gpr"]
        at = datetime.now(UTC) + timedelta(seconds=2)
        with pytest.raises(NotPermitted):
            ws.schedule(ws.draft(draft_id), at=at, by="dewi")
        ws.approve(draft_id, by="rahmat")
        job = ws.schedule(ws.draft(draft_id), at=at, by="dewi")
        time.sleep(2.5)
        ws.run_due()
        [delivery] = ws.job(job.id).deliveries
        assert delivery.status == "published", delivery.error
        [status] = mastodon.account_statuses(real)
        text = mastodon.stored_text(status)
        assert text.startswith("Pemerintah Salurkan Bantuan Pangan Beras Tahap II")
        assert (
            "Sumber: GPR Komdigi "
            "https://gpr.komdigi.example.go.id/konten/2026/12/bantuan-pangan-tahap-ii" in text
        )
    finally:
        ws.close()
