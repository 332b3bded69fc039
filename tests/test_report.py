"""Reports: HTML (self-contained, printable, checked in headless Chromium), CSV, JSON, CLI."""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fakes import TOKEN, PaperServer, collect_at, paper_account, publish_now
from govsocial.app import Workspace
from govsocial.core._html import CSP_META
from govsocial.core.errors import ConfigurationError
from govsocial.plugin.manager import Plugins

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from govsocial.analytics.analysis import SUMMARY_COLUMNS  # noqa: E402 - needs pandas
from govsocial.analytics.report import NO_DATA, build_report  # noqa: E402
from govsocial.cli import main  # noqa: E402

HEADINGS = [
    "Ringkasan per platform",
    "Ringkasan per akun",
    "Ringkasan per label",
    "Unggahan teratas",
    "Pertumbuhan pengikut",
    "Suara publik: yang ditanyakan dan dilaporkan, dan seberapa cepat kami menjawab",
    "Grafik",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URI = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
#: headless Chromium found on PATH (Debian's package installs /usr/bin/chromium)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
NOW = datetime(2026, 12, 1, 3, 4, tzinfo=UTC)


# --- a workspace with collected metrics (the fake "paper" platform) ------------------------


def add(ws: Workspace, name: str) -> None:
    ws.add_account(
        name,
        paper_account(f"@{name}"),
    )


def this_month() -> str:
    """The month the fake posts are published in, in the accounts' zone (Asia/Jakarta)."""
    return f"{datetime.now(ZoneInfo('Asia/Jakarta')):%Y-%m}"


@pytest.fixture
def ws(plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Three published posts of ``humas`` (likes 5, 6, 7; no views), followers 7 then 9."""
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    workspace = Workspace.open(tmp_path / "ws.db", plugins=plugins)
    add(workspace, "humas")
    server = PaperServer()
    publish_now(
        workspace,
        server,
        {
            "satu": {"program": "vaksinasi"},
            "dua": {"program": "vaksinasi", "pimpinan": "walikota"},
            "tiga": {},
        },
    )
    for likes, post in enumerate(server.posts.values(), start=5):
        post["likes"] = likes
    collect_at(workspace, server, time.time() + 3700)
    server.followers = 9
    collect_at(workspace, server, time.time() + 2 * 3700)
    return workspace


@pytest.fixture
def empty_ws(plugins: Plugins, tmp_path: Path) -> Workspace:
    return Workspace.open(tmp_path / "empty.db", plugins=plugins)


def images(page: str) -> list[bytes]:
    return [base64.b64decode(found, validate=True) for found in DATA_URI.findall(page)]


def headings(page: str, level: int) -> list[str]:
    return re.findall(rf"<h{level}>([^<]*)</h{level}>", page)


# --- HTML ---------------------------------------------------------------------------------


def test_html_report_of_a_collected_workspace(ws: Workspace, tmp_path: Path) -> None:
    ws.store.set_meta("institution", "Dinas Kominfo Kota Contoh")
    report = ws.report(this_month())
    assert report.period.label == this_month()
    assert report.period.zone == "Asia/Jakarta"
    path = report.to_html(tmp_path / "r.html")
    assert path == tmp_path / "r.html"
    page = path.read_text(encoding="utf-8")
    assert page == report.html()
    title = f"Laporan media sosial — {this_month()} — Dinas Kominfo Kota Contoh"
    assert headings(page, 1) == [title]
    assert f"<title>{title}</title>" in page
    assert headings(page, 2) == HEADINGS
    for english in ("Summary by platform", "Summary by account", "Summary by label"):
        assert f'<p class="subtitle" lang="en">{english}</p>' in page
    assert re.search(r"Dibuat <small>\(generated\)</small>: .* \d\d\.\d\d WIB", page)
    assert NO_DATA not in page
    # The summary rows: 3 posts, 18 likes, views not reported (—, never 0), 9 followers.
    platform = page.split("<h2>Ringkasan per platform</h2>")[1].split("</table>")[0]
    row = re.search(r'<th scope="row">paper</th>(.*?)</tr>', platform, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">(.*?)</td>', row.group(1))
    assert len(cells) == len(SUMMARY_COLUMNS)
    by_column = dict(zip(SUMMARY_COLUMNS, cells, strict=True))
    assert by_column["posts"] == "3"
    assert by_column["likes"] == "18"
    assert by_column["followers"] == "9"
    for missing in ("views", "quotes", "follower_growth"):
        assert "—" in by_column[missing], f"{missing} is unknown: shown as —"
        assert "0" not in by_column[missing]
    labels = page.split("<h2>Ringkasan per label</h2>")[1].split("</section>")[0]
    assert "program: vaksinasi" in labels and "pimpinan: walikota" in labels
    assert "(no label)" in labels
    # Top posts link to the posts, best first.
    top = page.split("<h2>Unggahan teratas</h2>")[1].split("</section>")[0]
    links = re.findall(r'<a href="(https://paper\.test/p/\d+)">', top)
    assert len(links) == 3
    assert links[0].endswith("/p/3"), "the post with 7 likes comes first"
    # Charts: four PNG images embedded (the last: messages per day); nothing loaded from
    # elsewhere.
    pictures = images(page)
    assert len(pictures) == 4
    assert all(picture.startswith(PNG_MAGIC) and len(picture) > 5000 for picture in pictures)
    assert all(f'alt="{alt}' in page for alt in ("Grafik batang: suka", "Grafik garis"))
    for external in ("<link", "<script", "@import", "url(", 'src="http', "//fonts"):
        assert external not in page
    # Printable: A4 page, rows and charts never split.
    assert "@page { size: A4;" in page
    assert "@media print" in page
    assert "break-inside: avoid" in page


def test_report_from_frames_formats_numbers_and_escapes(tmp_path: Path) -> None:
    nan = float("nan")
    posts = pd.DataFrame(
        {
            "platform": ["mastodon", "bluesky", "bluesky"],
            "account": ["<b>pemkot</b>", "pemkot-bsky", "pemkot-bsky"],
            "post_id": ["m1", "b1", "b0"],
            "url": ["javascript:alert(1)", "https://bsky.test/b1?a=1&b=2", None],
            "labels": [{"program": "vaksinasi"}, None, None],
            "published_at": pd.to_datetime(
                ["2026-11-03T02:00Z", "2026-11-05T02:00Z", "2026-10-05T02:00Z"], utc=True
            ),
            "collected_at": pd.to_datetime(
                ["2026-11-04T00:00Z", "2026-11-06T00:00Z", "2026-10-06T00:00Z"], utc=True
            ),
            "views": [nan, 2500.0, nan],
            "reach": nan,
            "likes": [1500.0, 40.0, 20.0],
            "reposts": [12.0, 5.0, 5.0],
            "replies": [3.0, 2.0, 2.0],
            "quotes": [nan, 1.0, 1.0],
            "bookmarks": nan,
            "clicks": nan,
        }
    )
    accounts = pd.DataFrame(
        {
            "platform": ["mastodon", "mastodon", "bluesky"],
            "account": ["<b>pemkot</b>", "<b>pemkot</b>", "pemkot-bsky"],
            "collected_at": pd.to_datetime(
                ["2026-10-30T00:00Z", "2026-11-20T00:00Z", "2026-11-02T00:00Z"], utc=True
            ),
            "followers": [1000.0, 1050.0, 400.0],
            "following": nan,
            "posts": nan,
        }
    )
    report = build_report(posts, accounts, "2026-11", title="Uji <laporan>", now=NOW)
    page = report.html()
    assert headings(page, 1) == ["Uji &lt;laporan&gt;"]
    assert "<b>pemkot</b>" not in page and "&lt;b&gt;pemkot&lt;/b&gt;" in page
    assert "javascript:" not in page, "only http(s) links are made"
    assert '<a href="https://bsky.test/b1?a=1&amp;b=2">' in page
    assert "1.500" in page, "Indonesian thousands separator"
    assert "+50" in page, "follower growth of the Mastodon account"
    assert "12,00&nbsp;%" in page, "bluesky engagement rate 48 / 400"
    assert "1 Desember 2026 10.04 WIB" in page
    assert "1 November 2026 \N{EN DASH} 30 November 2026" in page
    growth = report.to_dict()["follower_growth"]
    assert [(g["account"], g["start"], g["end"], g["change"]) for g in growth] == [
        ("pemkot-bsky", None, 400, None),
        ("<b>pemkot</b>", 1000, 1050, 50),
    ]
    only = build_report(posts, accounts, "2026-11", by=["label"], now=NOW)
    assert headings(only.html(), 2) == ["Ringkasan per label", *HEADINGS[3:5], "Grafik"]
    assert list(only.to_dict()["summary"]) == ["label"]
    with pytest.raises(ConfigurationError) as caught:
        build_report(posts, accounts, "2026-11", by=["program"])
    assert caught.value.field == "by"


def test_notebook_display_is_scoped(ws: Workspace) -> None:
    fragment = ws.report(this_month())._repr_html_()
    assert fragment.startswith('<div class="gs-report-frame">')
    assert "@page" not in fragment and "<html" not in fragment
    assert "body {" not in fragment, "no rule may restyle the notebook itself"
    assert "<h2>Grafik</h2>" in fragment
    assert len(images(fragment)) == 4


# --- CSV and JSON -------------------------------------------------------------------------


def test_csv_stacks_the_three_summaries(ws: Workspace, tmp_path: Path) -> None:
    path = ws.report(this_month()).to_csv(tmp_path / "r.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == ["grouping", "group", *SUMMARY_COLUMNS]
    assert [(row["grouping"], row["group"]) for row in rows] == [
        ("platform", "paper"),
        ("account", "humas"),
        ("label", "pimpinan: walikota"),
        ("label", "program: vaksinasi"),
        ("label", "(no label)"),
    ]
    platform = rows[0]
    assert (platform["posts"], platform["likes"], platform["followers"]) == ("3", "18", "9")
    assert platform["views"] == "", "not reported: an empty cell, never 0"
    assert rows[3]["likes"] == "11"  # satu (5) and dua (6)
    frame = pd.read_csv(path)
    assert frame["views"].isna().all()


def test_json_has_everything_with_null_for_missing(ws: Workspace, tmp_path: Path) -> None:
    path = ws.report(this_month()).to_json(tmp_path / "r.json")

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    data = json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
    assert set(data) >= {"period", "generated_at", "summary", "top_posts", "follower_growth"}
    assert data["period"]["label"] == this_month()
    assert data["period"]["zone"] == "Asia/Jakarta"
    assert datetime.fromisoformat(data["generated_at"]).utcoffset() == timedelta(hours=7)
    assert list(data["summary"]) == ["platform", "account", "label"]
    (platform,) = data["summary"]["platform"]
    assert platform["group"] == "paper"
    assert (platform["posts"], platform["likes"], platform["views"]) == (3, 18, None)
    assert [post["likes"] for post in data["top_posts"]] == [7, 6, 5]
    assert all(post["url"].startswith("https://paper.test/p/") for post in data["top_posts"])
    assert all(post["views"] is None for post in data["top_posts"])
    (growth,) = data["follower_growth"]
    assert (growth["account"], growth["start"], growth["end"], growth["change"]) == (
        "humas",
        None,
        9,
        None,
    )


# --- empty and wrong input ----------------------------------------------------------------


def test_an_empty_workspace_still_gives_a_report(empty_ws: Workspace, tmp_path: Path) -> None:
    report = empty_ws.report("2026-11")
    assert not report.has_data
    page = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert NO_DATA in page
    assert headings(page, 2) == HEADINGS
    assert len(images(page)) == 4, "the charts say there is nothing to draw"
    data = json.loads(report.to_json(tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["has_data"] is False
    assert data["summary"] == {"platform": [], "account": [], "label": []}
    assert (data["top_posts"], data["follower_growth"]) == ([], [])
    lines = report.to_csv(tmp_path / "r.csv").read_text(encoding="utf-8").splitlines()
    assert lines == [",".join(["grouping", "group", *SUMMARY_COLUMNS])]


def test_a_period_without_data(ws: Workspace) -> None:
    page = ws.report("2019-03").html()
    assert NO_DATA in page
    assert headings(page, 2) == HEADINGS


def test_unknown_period(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ws.report("November")
    assert caught.value.field == "period"
    with pytest.raises(ConfigurationError) as caught:
        ws.report("2026-13")
    assert caught.value.field == "period"
    with pytest.raises(ConfigurationError) as caught:
        ws.report("2026-11").to_json(tmp_path / "missing" / "r.json")
    assert caught.value.field == "output"


# --- command line -------------------------------------------------------------------------


def test_cli_writes_each_format(
    ws: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = str(tmp_path / "ws.db")
    month = this_month()
    monkeypatch.chdir(tmp_path)
    for kind in ("html", "csv", "json"):
        assert main(["--db", db, "report", "--period", month, "--format", kind]) == 0
        written = tmp_path / f"report-{month}.{kind}"
        assert capsys.readouterr().out.strip() == str(Path(f"report-{month}.{kind}"))
        assert written.stat().st_size > 0
    assert headings((tmp_path / f"report-{month}.html").read_text(encoding="utf-8"), 2) == HEADINGS
    data = json.loads((tmp_path / f"report-{month}.json").read_text(encoding="utf-8"))
    assert data["summary"]["platform"][0]["likes"] == 18
    out = tmp_path / "out" / "akun.csv"
    out.parent.mkdir()
    argv = ["--db", db, "report", "--period", month, "--by", "account", "--format", "csv"]
    assert main([*argv, "--output", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["grouping"], row["group"], row["likes"]) for row in rows] == [
        ("account", "humas", "18")
    ]
    assert main(["--db", db, "report", "--period", "November"]) == 2
    assert "cannot read period 'November'" in capsys.readouterr().err


# --- as a person sees it: headless Chromium -----------------------------------------------


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


#: Added to a copy of the report for --dump-dom: records each image's decoded size.
PROBE = (
    "<script>window.addEventListener('load', function () {"
    "for (const img of document.images) {"
    "img.setAttribute('data-natural', img.naturalWidth + 'x' + img.naturalHeight); }});"
    "</script>"
)


def test_report_renders_in_headless_chromium(ws: Workspace, tmp_path: Path) -> None:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is required in CI (Debian package 'chromium')")
        pytest.skip(f"no {CHROMIUM} (Debian package 'chromium')")
    report = ws.report(this_month()).to_html(tmp_path / "report.html")
    shot = tmp_path / "report.png"
    done = chromium(
        f"--screenshot={shot}",
        "--window-size=1200,3000",
        report.as_uri(),
        profile=tmp_path / "profile-shot",
    )
    assert shot.exists(), done.stderr[-2000:]
    picture = shot.read_bytes()
    assert picture.startswith(PNG_MAGIC)
    assert len(picture) > 50_000, "a rendered page of tables and charts, not a blank one"
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1200, 3000)
        grey = image.convert("L")
        ink = sum(grey.histogram()[:128])
        assert ink > 20_000, "dark pixels: text, table rules and chart lines were drawn"

    probe = tmp_path / "probe.html"
    page = report.read_text(encoding="utf-8")
    assert CSP_META in page, "the report forbids scripts, so the probe lifts the policy"
    probe.write_text(
        page.replace(CSP_META, "").replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
    dumped = chromium("--dump-dom", probe.as_uri(), profile=tmp_path / "profile-dom")
    dom = dumped.stdout
    assert headings(dom, 1) == [f"Laporan media sosial — {this_month()}"], dumped.stderr[-2000:]
    assert headings(dom, 2) == HEADINGS
    sizes = re.findall(r'data-natural="(\d+)x(\d+)"', dom)
    assert len(sizes) == 4
    assert all(int(width) > 0 and int(height) > 0 for width, height in sizes)
