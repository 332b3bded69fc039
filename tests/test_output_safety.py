"""What govsocial writes for people to open stays inert (issue 13, part 4; security review
findings 7, 12, 14 and 20).

Outside text (citizens' messages, platform answers, names) reaches HTML pages, the terminal,
charts, CSV files and the append-only records. Each attack here goes through the fake
platform's server and the public entry points, and the assertions read what was written:
the archive's ``index.html``, what ``govsocial ...`` printed, the CSV read back, the stored
delivery error and audit log.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from fakes import TOKEN, Clock, Paper, PaperServer, paper_account, run, soon
from govsocial import Post, hookimpl
from govsocial.adapters.platform import Platform
from govsocial.app import Workspace
from govsocial.core._html import CSP_META, link, safe_url
from govsocial.core._secrets import scrub
from govsocial.core.models import PostRef
from govsocial.plugin.manager import Plugins, reset_default_plugins

JAKARTA = ZoneInfo("Asia/Jakarta")

HOSTILE_URLS = [
    "javascript:alert(document.cookie)//",
    "JAVASCRIPT:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\x01\x1f javascript:alert(1)",
    "\tjava\nscript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/p/1",
    "https:\\\\evil.example",
    "http://evil.example/\x00javascript:alert(1)",
]


# -- 1. every URL written into HTML is http(s) --------------------------------------------


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_url_that_is_not_http_is_never_an_href(url: str) -> None:
    from govsocial.analytics.report import _link

    assert safe_url(url) is None
    assert "href" not in link(url), "notebook displays"
    assert "href" not in _link(url), "the metrics report"


def test_http_and_https_addresses_are_links() -> None:
    from govsocial.analytics.report import _link

    assert safe_url(" https://social.go.id/@humas/1 ") == "https://social.go.id/@humas/1"
    assert safe_url("HTTP://x.example/p") == "HTTP://x.example/p"
    assert 'href="https://x.example/p?a=1&amp;b=2"' in link("https://x.example/p?a=1&b=2")
    assert 'href="https://x.example/p"' in _link("https://x.example/p")


class EchoPaper(Paper):
    """The fake adapter, returning the post URL the server answers with (as real ones do)."""

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        response = await self.request(
            "POST",
            "/posts",
            json={"text": post.text},
            headers={**self._auth(), "Idempotency-Key": idempotency_key},
            create=True,
            idempotency_key=idempotency_key,
        )
        body = response.json()
        return PostRef(platform=self.name, account=self.account, id=body["id"], url=body["url"])


class EchoPlugin:
    @hookimpl
    def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
        register(EchoPaper)


@pytest.fixture
def echo_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A SQLite workspace whose account ``humas`` is on the URL-echoing fake platform."""
    fresh = Plugins(load_entrypoints=False)
    fresh.register(EchoPlugin(), name="paper")
    reset_default_plugins(fresh)
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    workspace = Workspace.open(str(tmp_path / "ws.db"), plugins=fresh)
    workspace.add_account("humas", paper_account())
    try:
        yield workspace
    finally:
        workspace.close()
        reset_default_plugins(None)


def _answer_create_with(url: str) -> Callable[[httpx.Request], httpx.Response | None]:
    def answer(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and request.url.path == "/posts":
            return httpx.Response(200, json={"id": "77", "url": url})
        return None

    return answer


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(document.cookie)//", "JAVASCRIPT:alert(1)", " \x01javascript:x", "data:,x"],
)
def test_the_archive_index_never_links_a_platform_returned_non_http_url(
    echo_ws: Workspace, tmp_path: Path, url: str
) -> None:
    """Finding 7: the platform answers the create call with a javascript: URL."""
    server, clock = PaperServer(), Clock()
    server.script.append(_answer_create_with(url))
    echo_ws.schedule(Post("Jadwal vaksin"), ["humas"], at=soon())
    clock.now += 300
    assert run(echo_ws, server, clock) == 1
    [delivery] = echo_ws.jobs()[0].deliveries
    assert delivery.ref is not None and delivery.ref.url == url, "stored as the platform said"
    made = echo_ws.export_archive(tmp_path / "archive")
    page = made.index.read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]*)"', page, flags=re.IGNORECASE)
    assert all(h.lower().startswith(("http://", "https://")) for h in hrefs), hrefs
    assert "javascript:" not in page.lower().replace("&#x27;", "'").split("<body>")[0]
    assert ">77<" in page, "the remote id is still shown, as text"
    assert CSP_META in page, "a restrictive Content-Security-Policy"


def test_a_platform_returned_https_url_is_still_a_link_in_the_archive(
    echo_ws: Workspace, tmp_path: Path
) -> None:
    server, clock = PaperServer(), Clock()
    server.script.append(_answer_create_with("https://paper.test/p/77"))
    echo_ws.schedule(Post("Jadwal vaksin"), ["humas"], at=soon())
    clock.now += 300
    run(echo_ws, server, clock)
    page = echo_ws.export_archive(tmp_path / "archive").index.read_text(encoding="utf-8")
    assert 'href="https://paper.test/p/77"' in page


# -- 2. the terminal shows control characters, never obeys them ---------------------------

#: clear screen, home, an OSC 52 clipboard write ended by BEL, backspaces, a carriage return,
#: a C1 CSI, a right-to-left override and a forged second line
HOSTILE_TEXT = (
    "halo\x1b[2J\x1b[H\x1b]52;c;Y3VybCBldmlsfHNo\x07 abc\x08\x08\x08XYZ\rwarga \x9b31m"
    "\u202egnp.exe\nforged 00000000 open"
)
RAW = ["\x1b", "\x07", "\x08", "\r", "\x9b", "\u202e"]


def _assert_inert(out: str) -> None:
    for char in RAW:
        assert char not in out, f"raw {char!r} printed"
    assert "\\x1b[2J" in out and "\\x1b]52;c;" in out and "\\x07" in out, "still readable"
    assert "\\x08" in out and "\\x0d" in out and "\\x9b" in out and "\\u202e" in out
    assert "\u23ce" in out, "a line break is shown, not made"


@pytest.fixture
def paper_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A SQLite workspace with ``humas`` on the plain fake platform."""
    fresh = Plugins(load_entrypoints=False)
    from fakes import PaperPlugin

    fresh.register(PaperPlugin(), name="paper")
    reset_default_plugins(fresh)
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    workspace = Workspace.open(str(tmp_path / "ws.db"), plugins=fresh)
    workspace.add_account("humas", paper_account())
    try:
        yield workspace
    finally:
        workspace.close()
        reset_default_plugins(None)


def test_inbox_list_shows_a_citizens_escape_sequences_as_text(
    paper_ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 12: a mention holding ESC [2J, OSC 52, BEL, backspace, CR and U+202E."""
    from govsocial.cli import main

    server = PaperServer()
    server.citizen_post("@humas " + HOSTILE_TEXT, author="ani\x1b[8m\u202e")
    paper_ws.pull_inbox(transport=server.transport())
    [item] = paper_ws.inbox()
    assert "\x1b[2J" in item.text, "the workspace keeps what the citizen wrote"
    capsys.readouterr()
    assert main(["--db", paper_ws.url, "inbox", "list"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1, "one item, one line: no forged row"
    assert "ani\\x1b[8m\\u202e: @humas halo" in out
    # the first 80 characters of the text are shown; check what falls inside them
    for char in RAW:
        assert char not in out
    assert "\\x1b[2J\\x1b[H\\x1b]52;c;" in out
    assert main(["--db", paper_ws.url, "inbox", "list", "--json"]) == 0
    printed = capsys.readouterr().out
    assert not any(char in printed for char in RAW), "JSON escapes them too"
    assert json.loads(printed)[0]["text"] == item.text


def test_jobs_and_publish_errors_show_a_platforms_escape_sequences_as_text(
    paper_ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 12: a platform's error text in ``govsocial jobs`` and in the error line."""
    from govsocial.cli import main

    server, clock = PaperServer(), Clock()
    server.script.append(lambda request: httpx.Response(422, json={"error": HOSTILE_TEXT}))
    paper_ws.schedule(Post("Halo"), ["humas"], at=soon())
    clock.now += 300
    run(paper_ws, server, clock)
    [delivery] = paper_ws.jobs()[0].deliveries
    assert delivery.status == "failed" and delivery.error and "\x1b[2J" in delivery.error
    capsys.readouterr()
    assert main(["--db", paper_ws.url, "jobs"]) == 0
    out = capsys.readouterr().out
    _assert_inert(out)
    assert len(out.splitlines()) == 2, "the job's line and its delivery's line, no forged row"
    assert main(["--db", paper_ws.url, "cancel", "no-such-job\x1b[2J\u202e"]) != 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u202e" not in err and "\\x1b[2J" in err


def test_drafts_audit_and_people_show_outside_text_as_text(
    paper_ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from govsocial.cli import main

    today = datetime.now(JAKARTA).date()
    paper_ws.add_person("siti", name="Siti\x1b]52;c;eA==\x07 \u202eNama", unit="Humas\r\x1b[2K")
    paper_ws.appoint("siti", accounts=["humas"], role="contributor", decree="1", valid_from=today)
    paper_ws.add_draft(Post("Halo\x1b[2J warga"), accounts=["humas"], by="siti", at=soon())
    capsys.readouterr()
    for command in (["people", "list"], ["drafts", "list"]):
        assert main(["--db", paper_ws.url, *command]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, command
        assert "\r" not in out, command
        assert "\\x1b" in out, command
    assert main(["--db", paper_ws.url, "drafts", "list"]) == 0
    assert "  Halo\\x1b[2J warga" in capsys.readouterr().out.splitlines(), "the post's own line"
    assert main(["--db", paper_ws.url, "audit", "list", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not any(char in line for line in lines for char in RAW)
    entries = [json.loads(line) for line in lines]
    assert [e["action"] for e in entries] == [e.action for e in paper_ws.audit_log()]


def test_shown_keeps_ordinary_text_and_scripts() -> None:
    from govsocial.cli._common import shown

    text = "Selamat pagi, warga! Jadwal: 08.00 WIB, café, مرحبا, 你好, 🙂 \\ tab"
    assert shown(text) == text
    assert shown("a\tb\nc\x00d\x7fe") == "a\\x09b\u23cec\\x00d\\x7fe"


# -- 3. chart labels are literal text, not matplotlib math --------------------------------

NAMES = ["$\\frac{a}{b}$", "a$b", "ani$\\foo$", "Rp $5 dan $10"]


def _drafts_by(ws: Workspace, people: list[str]) -> None:
    """Each of ``people`` (ids as given) is a contributor of humas and writes one draft."""
    today = datetime.now(JAKARTA).date()
    for person in people:
        ws.add_person(person, name="N")
        ws.appoint(person, accounts=["humas"], role="contributor", decree="1", valid_from=today)
        ws.add_draft(Post("Halo"), accounts=["humas"], by=person, at=soon())


def _literal_on_the_chart(figure: Any) -> list[str]:
    """The texts the tick labels and legend entries are drawn as (after math parsing)."""
    figure.canvas.draw() if hasattr(figure.canvas, "draw") else None
    drawn = []
    for axes in figure.axes:
        texts = list(axes.get_xticklabels())
        legend = axes.get_legend()
        if legend is not None:
            texts += list(legend.get_texts())
        for text in texts:
            shown, is_math = text._preprocess_math(text.get_text())
            assert not is_math, text.get_text()
            drawn.append(shown)
    return drawn


def test_the_performance_report_draws_names_with_dollars_literally(paper_ws: Workspace) -> None:
    """Finding 20: person ids holding ``$...$`` no longer crash or garble the chart."""
    pytest.importorskip("matplotlib")
    from govsocial.analytics.performance import _bars

    _drafts_by(paper_ws, ["$\\frac{a}{b}$", "a$b", "ani$\\foo$"])
    report = paper_ws.performance_report(datetime.now(JAKARTA).strftime("%Y-%m"))
    page = report.html()  # raised ValueError: Unknown symbol: \foo
    assert "data:image/png;base64," in page and CSP_META in page
    rows = report.tables["person"]
    figure = _bars(rows, ("drafts_written",), ("draf $ ditulis",))
    drawn = _literal_on_the_chart(figure)
    assert set(rows) <= set(drawn) and "draf $ ditulis" in drawn


def test_plots_draw_account_and_label_names_with_dollars_literally() -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    from govsocial.analytics.analysis import ENGAGEMENT_FIGURES
    from govsocial.analytics.plots import figure_to_png, plot_engagement

    summary = pd.DataFrame(
        {
            **{name: [1.0] * len(NAMES) for name in ENGAGEMENT_FIGURES},
            "engagement": [float(len(ENGAGEMENT_FIGURES))] * len(NAMES),
            "engagement_rate": [0.5] * len(NAMES),
        },
        index=pd.Index(NAMES, name="account"),
    )
    figure = plot_engagement(summary)
    assert figure_to_png(figure).startswith(b"\x89PNG")
    assert set(NAMES) <= set(_literal_on_the_chart(figure))


# -- 4. CSV cells are not formulas --------------------------------------------------------


def test_the_performance_csv_neutralises_formulas_and_keeps_numbers(
    paper_ws: Workspace, tmp_path: Path
) -> None:
    _drafts_by(paper_ws, ["=cmd|'/C.calc'!A0", "+1", "-2+3", "@SUM(1)", "siti"])
    report = paper_ws.performance_report(datetime.now(JAKARTA).strftime("%Y-%m"))
    path = report.to_csv(tmp_path / "perf.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["person"] for row in rows) == sorted(
        ["'=cmd|'/C.calc'!A0", "'+1", "'-2+3", "'@SUM(1)", "siti"]
    )
    for row in rows:
        assert row["drafts_written"] == "1" and row["posts_published"] == "0", "numbers stay"
        assert row["evidence"].startswith("#")
        assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row.values())


def test_csv_cells_numbers_stay_numbers_and_text_is_neutralised(tmp_path: Path) -> None:
    from govsocial.analytics._csv import csv_row

    path = tmp_path / "cells.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(
            csv_row([-3, -0.25, 0, None, True, "=1+1", "\t=1", "\r=1", "-x", "@x", "+x", "a=b"])
        )
    with path.open(newline="", encoding="utf-8") as handle:
        [row] = list(csv.reader(handle))
    assert row[:5] == ["-3", "-0.25", "0", "", "True"], "numbers stay numbers"
    assert row[5:] == ["'=1+1", "'\t=1", "'\r=1", "'-x", "'@x", "'+x", "a=b"]


def test_the_metrics_report_csv_goes_through_the_same_cell_check() -> None:
    """Every CSV writer in govsocial uses csv_row: no csv.writer row escapes it."""
    source = Path(sys.modules["govsocial"].__file__ or "").parent
    for path in source.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if "writerow(" in line:
                assert "csv_row(" in line, f"{path.name}: {line.strip()}"
        assert ".to_csv(" not in text.replace("report.to_csv(", "") or path.name in {
            "report.py",
            "performance.py",
        }, f"{path.name} writes CSV with pandas: neutralise its cells"


# -- 5. secrets are scrubbed before text is cut ------------------------------------------


def _leaks(text: str, secret: str = TOKEN, kept: int = 8) -> bool:
    return any(secret[:n] in text for n in range(kept, len(secret) + 1))


def test_a_token_straddling_the_500_character_cut_leaves_no_prefix_in_the_records(
    paper_ws: Workspace,
) -> None:
    """Finding 14: a proxy's error page (not JSON) echoes the request headers."""
    server, clock = PaperServer(), Clock()

    def proxy_page(request: httpx.Request) -> httpx.Response:
        header = "Authorization: " + request.headers["authorization"]
        before = 500 - len("Authorization: Bearer ") - 15  # the cut: 15 characters into it
        body = "x" * before + header + " and the rest of the page"
        assert body[:500].endswith(TOKEN[:15])
        return httpx.Response(400, text=body, headers={"content-type": "text/html"})

    server.script.append(proxy_page)
    paper_ws.schedule(Post("Halo"), ["humas"], at=soon())
    clock.now += 300
    run(paper_ws, server, clock)
    [delivery] = paper_ws.jobs()[0].deliveries
    assert delivery.status == "failed" and delivery.error
    assert "Bearer" in delivery.error, "the error page's text is kept"
    assert not _leaks(delivery.error), delivery.error[-60:]
    records = json.dumps([entry.model_dump(mode="json") for entry in paper_ws.audit_log()])
    assert "Bearer" in records and not _leaks(records)


def test_scrub_masks_a_secret_cut_short_anywhere_and_keeps_other_text() -> None:
    secret = "tok-SECRET-1234567890"
    assert scrub("Bearer " + secret[:15], [secret]) == "Bearer ***"
    assert scrub(f"a {secret[:9]}… b {secret} c", [secret]) == "a ***… b *** c"
    assert scrub("tok-SEC and tok-", [secret]) == "tok-SEC and tok-", "short runs stay"
    assert scrub("tok-SECR", [secret]) == "***", "eight characters are masked"
    assert scrub("nothing here", [secret, ""]) == "nothing here"


def test_an_odd_answers_snippet_is_scrubbed_before_it_is_cut(paper_ws: Workspace) -> None:
    import asyncio

    from govsocial.client import AsyncClient

    body = "y" * 180 + "Bearer " + TOKEN  # the cut at 200 falls 13 characters into it
    response = httpx.Response(200, text=body, request=httpx.Request("GET", "https://paper.test"))

    async def snippet() -> str:
        async with AsyncClient(**paper_ws.core.client_options()) as client:
            adapter = client.adapter(paper_ws.account("humas"))
            return adapter.snippet(response)

    shown = asyncio.run(snippet())
    assert len(shown) <= 200 and not _leaks(shown) and shown.startswith("y" * 180)
