"""Reports of collected metrics for one period: one self-contained HTML file, CSV and JSON.

::

    report = ws.report("2026-11")          # or build_report(posts_df, accounts_df, "2026-11")
    report.to_html("laporan-2026-11.html")  # one file: charts embedded, no external resources
    report.to_csv("laporan-2026-11.csv")    # the summaries, stacked, for spreadsheets
    report.to_json("laporan-2026-11.json")  # everything, NaN as null, for other programs

The HTML report is written in Indonesian, the language of its readers, with English subtitles.
It holds the summaries by platform, account and label
(:func:`govsocial.analytics.analysis.summary`), the
top posts with their links, follower growth, what the public asked and reported and how fast
the agency answered (:func:`govsocial.analytics.opinion.listening_summary`, for a workspace's
report) and the charts from :mod:`govsocial.analytics.plots`, embedded as PNG ``data:`` URIs.
It prints on A4 without needing background colours. Numbers are written the Indonesian way
(``1.234``, ``2,5 %``). A figure the platforms did not report is
shown as ``—`` in HTML, an empty cell in CSV and ``null`` in JSON: never as 0.

Needs the ``notebook`` extra (pandas and matplotlib).
"""

from __future__ import annotations

import base64
import csv
import html
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from govsocial.analytics._csv import csv_row
from govsocial.analytics.analysis import (
    BY,
    DEFAULT_ZONE,
    SUMMARY_COLUMNS,
    Period,
    follower_growth,
    summary,
    top_posts,
)
from govsocial.analytics.frames import metrics_frame
from govsocial.analytics.opinion import INTENT_COLUMNS, listening_summary, opinion_frame
from govsocial.analytics.plots import (
    figure_to_png,
    plot_cadence,
    plot_engagement,
    plot_followers,
    plot_opinion,
)
from govsocial.core._html import CSP_META, safe_url
from govsocial.core.errors import ConfigurationError
from govsocial.core.timing import check_zone
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]  # no pandas-stubs
    from matplotlib.figure import Figure

__all__ = ["NO_DATA", "Report", "build_report", "workspace_report"]

#: What a report says when the period holds no data.
NO_DATA: Final = "Belum ada data untuk periode ini (no data for this period)"
#: The first column of the CSV: which grouping a row belongs to, then the group's name.
CSV_COLUMNS: Final = ("grouping", "group", *SUMMARY_COLUMNS)
#: The CSV of the listening section (``to_csv(path, part="listening")``): a row per intent.
LISTENING_CSV_COLUMNS: Final = ("intent", *INTENT_COLUMNS)
#: The CSV of the clarifications (``to_csv(path, part="clarifications")``): a row per verdict.
CLARIFICATION_CSV_COLUMNS: Final = ("verdict", "published", "answers", "evidence")
#: What each CSV part holds.
CSV_PARTS: Final = ("summary", "listening", "clarifications")
#: Each intent in the report: Indonesian, English.
_INTENTS: Final = {
    "question": ("Pertanyaan", "questions"),
    "complaint": ("Keluhan", "complaints"),
    "praise": ("Pujian", "praise"),
    "hoax_report": ("Laporan hoaks", "hoax reports"),
    "emergency": ("Darurat", "emergencies"),
    "other": ("Lainnya", "other"),
    "unclassified": ("Belum diklasifikasi", "not classified yet"),
}

_MONTHS: Final = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
_MISSING: Final = '<span class="missing" title="tidak tersedia (not available)">—</span>'
#: Section headings per grouping: Indonesian heading, English subtitle, group column header.
_GROUPINGS: Final = {
    "platform": ("Ringkasan per platform", "Summary by platform", ("Platform", "platform")),
    "account": ("Ringkasan per akun", "Summary by account", ("Akun", "account")),
    "label": ("Ringkasan per label", "Summary by label", ("Label", "label")),
}
#: Column headers: Indonesian, then English in smaller text.
_HEADERS: Final = {
    "posts": ("Unggahan", "posts"),
    "views": ("Tayangan", "views"),
    "likes": ("Suka", "likes"),
    "reposts": ("Bagikan ulang", "reposts"),
    "replies": ("Balasan", "replies"),
    "quotes": ("Kutipan", "quotes"),
    "engagement": ("Interaksi", "engagement"),
    "engagement_rate": ("Tingkat interaksi", "engagement rate"),
    "followers": ("Pengikut", "followers"),
    "follower_growth": ("Pertumbuhan pengikut", "follower growth"),
    "posts_per_week": ("Unggahan per minggu", "posts per week"),
    "posts_change": ("Perubahan unggahan", "posts change"),
    "likes_change": ("Perubahan suka", "likes change"),
    "engagement_change": ("Perubahan interaksi", "engagement change"),
}
_TOP_FIGURES: Final = ("views", "likes", "reposts", "replies", "quotes", "engagement")


# --- values -------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT and pd.NA are not equal to themselves
    except (TypeError, ValueError):  # pd.NA refuses bool()
        return True


def _indonesian(text: str) -> str:
    """``1,234.5`` written the Indonesian way: ``1.234,5``."""
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _number(value: Any, decimals: int = 0, *, signed: bool = False) -> str:
    if _missing(value):
        return _MISSING
    sign = "+" if signed else ""
    return _indonesian(f"{float(value):{sign},.{decimals}f}")


def _percent(value: Any, decimals: int = 1, *, signed: bool = False) -> str:
    if _missing(value):
        return _MISSING
    return _number(float(value) * 100, decimals, signed=signed) + "&nbsp;%"


_FORMATS: Final[dict[str, Callable[[Any], str]]] = {
    "engagement_rate": lambda v: _percent(v, 2),
    "follower_growth": lambda v: _number(v, signed=True),
    "posts_per_week": lambda v: _number(v, 1),
    "posts_change": lambda v: _percent(v, signed=True),
    "likes_change": lambda v: _percent(v, signed=True),
    "engagement_change": lambda v: _percent(v, signed=True),
}


def _cell(column: str, value: Any) -> str:
    return _FORMATS.get(column, _number)(value)


def _long_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _local_time(when: Any, zone: str) -> str:
    """``3 Nov 2026 09.00`` in ``zone``."""
    if _missing(when):
        return _MISSING
    local = when.astimezone(ZoneInfo(zone))
    return f"{local.day} {_MONTHS[local.month - 1][:3]} {local.year} {local:%H.%M}"


def _plain(value: Any) -> Any:
    """A value for JSON and CSV: None for missing, ISO text for times, plain numbers."""
    if _missing(value):
        return None
    if isinstance(value, datetime):  # pandas Timestamps are datetimes
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bool | str):
        return value
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _records(frame: Any, index: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for key, row in frame.iterrows():
        record = {} if index is None else {index: _plain(key)}
        record.update({str(column): _plain(value) for column, value in row.items()})
        rows.append(record)
    return rows


def _link(url: Any) -> str:
    text = None if _missing(url) else safe_url(str(url))
    if text is None:
        return _MISSING
    shown = text.split("://", 1)[1]
    return f'<a href="{html.escape(text)}">{html.escape(shown)}</a>'


def _png_uri(figure: Figure) -> str:
    return "data:image/png;base64," + base64.b64encode(figure_to_png(figure)).decode("ascii")


# --- the report ---------------------------------------------------------------------------


class Report:
    """A metrics report for one period; write it with :meth:`to_html`, :meth:`to_csv` or
    :meth:`to_json`. Build one with :func:`build_report` or ``Workspace.report``.

    :ivar title: the report's title.
    :ivar period: the :class:`~govsocial.analytics.analysis.Period` reported on.
    :ivar generated_at: when it was made, in the period's zone.
    :ivar summaries: :func:`~govsocial.analytics.analysis.summary` frames by grouping
        (``"platform"``, ``"account"``, ``"label"``).
    :ivar top: :func:`~govsocial.analytics.analysis.top_posts` of the period, with engagement rates.
    :ivar growth: :func:`~govsocial.analytics.analysis.follower_growth` of the period.
    :ivar has_data: whether any post was published, any follower count collected, or any
        inbox message received, in it.
    :ivar listening: :func:`~govsocial.analytics.opinion.listening_summary` of the period
        (None for a report built from frames alone).
    """

    def __init__(
        self,
        *,
        title: str,
        period: Period,
        generated_at: datetime,
        summaries: dict[str, Any],
        top: Any,
        growth: Any,
        has_data: bool,
        posts: Any,
        accounts: Any,
        engagement_by: Any,
        listening: dict[str, Any] | None = None,
        opinion: Any = None,
    ) -> None:
        self.title = title
        self.listening = listening
        self._opinion = opinion
        self.period = period
        self.generated_at = generated_at
        self.summaries = summaries
        self.top = top
        self.growth = growth
        self.has_data = has_data
        self._posts = posts
        self._accounts = accounts
        self._engagement_by = engagement_by
        self._charts: list[tuple[str, str, str]] | None = None

    def __repr__(self) -> str:
        return f"<Report {self.period.label!r} ({self.period.zone}), {len(self.top)} top posts>"

    # -- charts --------------------------------------------------------------------------

    def charts(self) -> list[tuple[str, str, str]]:
        """``(caption, alt text, data: URI)`` of each chart, drawn once on first use."""
        if self._charts is None:
            by = str(self._engagement_by.attrs.get("by", "platform"))
            where = {"platform": "platform", "account": "akun", "label": "label"}[by]
            unit = "hari" if self.period.length <= timedelta(days=62) else "minggu"
            english = "day" if unit == "hari" else "week"
            self._charts = [
                (
                    f"Interaksi per {where} (engagement by {by})",
                    f"Grafik batang: suka, bagikan ulang, balasan dan kutipan per {where} "
                    f"(bar chart of engagement by {by})",
                    _png_uri(plot_engagement(self._engagement_by)),
                ),
                (
                    "Jumlah pengikut selama periode (followers over time)",
                    "Grafik garis: jumlah pengikut tiap akun selama periode "
                    "(line chart of followers per account)",
                    _png_uri(plot_followers(self._accounts, self.period)),
                ),
                (
                    f"Unggahan per {unit} (posts per {english})",
                    f"Grafik batang: jumlah unggahan per {unit} per platform "
                    f"(bar chart of posts per {english} by platform)",
                    _png_uri(plot_cadence(self._posts, self.period)),
                ),
            ]
            if self._opinion is not None:
                self._charts.append(
                    (
                        "Pesan masuk per hari menurut jenis (messages per day by intent)",
                        "Grafik batang bertumpuk: jumlah pesan masuk tiap hari, dibagi menurut "
                        "jenisnya (stacked bar chart of inbox messages per day by intent)",
                        _png_uri(plot_opinion(self._opinion, self.period, by="intent")),
                    )
                )
        return self._charts

    # -- HTML ----------------------------------------------------------------------------

    def html(self) -> str:
        """The whole report as one self-contained HTML document."""
        return (
            '<!DOCTYPE html>\n<html lang="id">\n<head>\n<meta charset="utf-8">\n'
            f"{CSP_META}\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.title)}</title>\n"
            f"<style>\n{_page_css()}{_css()}</style>\n</head>\n<body>\n"
            f"{self._body()}\n</body>\n</html>\n"
        )

    def _repr_html_(self) -> str:
        """The report inside a notebook: its styles apply to the report alone."""
        return f'<div class="gs-report-frame"><style>{_css()}</style>{self._body()}</div>'

    def _body(self) -> str:
        parts = ['<main class="gs-report">', self._header()]
        for by, frame in self.summaries.items():
            heading, english, group = _GROUPINGS[by]
            parts.append(_section(heading, english, _summary_table(frame, group)))
        parts.append(_section("Unggahan teratas", "Top posts", self._top_table()))
        parts.append(_section("Pertumbuhan pengikut", "Follower growth", self._growth_table()))
        if self.listening is not None:
            parts.append(
                _section(
                    "Suara publik: yang ditanyakan dan dilaporkan, "
                    "dan seberapa cepat kami menjawab",
                    "What the public asked and reported, and how fast we answered",
                    self._listening_section(self.listening),
                )
            )
        parts.append(_section("Grafik", "Charts", self._figures()))
        parts.append(self._footer())
        parts.append("</main>")
        return "\n".join(parts)

    def _header(self) -> str:
        span = self.period
        zone = ZoneInfo(span.zone)
        last = (span.end - timedelta(microseconds=1)).astimezone(zone).date()
        days = _long_date(span.first_day)
        if last != span.first_day:
            days += f" \N{EN DASH} {_long_date(last)}"
        made = self.generated_at.astimezone(zone)
        abbreviation = made.tzname() or span.zone
        lines = [
            f"<h1>{html.escape(self.title)}</h1>",
            '<p class="meta">',
            f"<span>Periode <small>(period)</small>: <strong>{html.escape(days)}</strong> "
            f"({html.escape(span.label)}, {html.escape(span.zone)})</span><br>",
            f"<span>Dibandingkan dengan <small>(compared with)</small>: "
            f"{html.escape(span.previous().label)}</span><br>",
            f"<span>Dibuat <small>(generated)</small>: {html.escape(_long_date(made.date()))} "
            f"{made:%H.%M} {html.escape(abbreviation)}</span>",
            "</p>",
        ]
        if not self.has_data:
            lines.append(f'<p class="no-data" role="status">{NO_DATA}</p>')
        return "\n".join(lines)

    def _top_table(self) -> str:
        if self.top.empty:
            return _none()
        rated = "engagement_rate" in self.top.columns
        head = [
            _th("No.", "rank"),
            _th("Akun", "account"),
            _th("Terbit", "published"),
            _th("Tautan", "link"),
            *(_th(*_HEADERS[name], numeric=True) for name in _TOP_FIGURES),
        ]
        if rated:
            head.append(_th(*_HEADERS["engagement_rate"], numeric=True))
        rows = []
        for rank, (_, row) in enumerate(self.top.iterrows(), start=1):
            cells = [
                f'<td class="num">{rank}</td>',
                f"<td>{_who(row['account'], row['platform'])}</td>",
                f"<td>{_local_time(row['published_at'], self.period.zone)}</td>",
                f'<td class="link">{_link(row["url"])}</td>',
                *(f'<td class="num">{_cell(name, row[name])}</td>' for name in _TOP_FIGURES),
            ]
            if rated:
                cells.append(
                    f'<td class="num">{_cell("engagement_rate", row["engagement_rate"])}</td>'
                )
            rows.append(cells)
        return _table(head, rows, "top")

    def _growth_table(self) -> str:
        if self.growth.empty:
            return _none()
        zone = self.period.zone
        head = [
            _th("Akun", "account"),
            _th("Awal", "start: last count before the period", numeric=True),
            _th("Akhir", "end: last count in the period", numeric=True),
            _th("Perubahan", "change", numeric=True),
        ]
        rows = []
        for _, row in self.growth.iterrows():
            start_at = "" if _missing(row["start"]) else _local_time(row["start_at"], zone)
            end_at = "" if _missing(row["end"]) else _local_time(row["end_at"], zone)
            rows.append(
                [
                    f"<td>{_who(row['account'], row['platform'])}</td>",
                    f'<td class="num">{_number(row["start"])}<br><small>{start_at}</small></td>',
                    f'<td class="num">{_number(row["end"])}<br><small>{end_at}</small></td>',
                    f'<td class="num">{_number(row["change"], signed=True)}</td>',
                ]
            )
        return _table(head, rows, "growth")

    def _listening_section(self, found: dict[str, Any]) -> str:
        total = found["all"]
        if not total["messages"]:
            return _none()
        head = [
            _th("Jenis pesan", "intent"),
            _th("Pesan", "messages", numeric=True),
            _th("Dijawab", "answered", numeric=True),
            _th("Median waktu jawab", "median time to first answer", numeric=True),
            _th("P90 waktu jawab", "90th percentile", numeric=True),
            _th("Belum dijawab", "still open", numeric=True),
        ]
        rows = []
        for intent, row in [*found["by_intent"].items(), ("all", total)]:
            name, english = _INTENTS.get(intent, ("Semua", "all"))
            rows.append(
                [
                    f'<th scope="row">{html.escape(name)}<br><small lang="en">'
                    f"{html.escape(english)}</small></th>",
                    f'<td class="num">{_number(row["messages"])}</td>',
                    f'<td class="num">{_number(row["answered"])}<br>'
                    f"<small>{_percent(row['answered_share'])}</small></td>",
                    f'<td class="num">{_duration(row["median_response_h"])}</td>',
                    f'<td class="num">{_duration(row["p90_response_h"])}</td>',
                    f'<td class="num">{_number(row["open"])}</td>',
                ]
            )
        parts = [_table(head, rows, "listening")]
        urgent = found["by_intent"]["emergency"]
        if urgent["messages"]:
            parts.append(
                f'<p class="emergency"><strong>Darurat</strong>: {_number(urgent["messages"])} '
                f"pesan, {_number(urgent['answered'])} dijawab; median "
                f"{_duration(urgent['median_response_h'])}, paling lama "
                f"{_duration(urgent['slowest_response_h'])}; belum dijawab "
                f'{_number(urgent["open"])}. <small lang="en">(Emergencies: received, '
                "answered, median and slowest time to the first answer, still open.)</small></p>"
            )
        else:
            parts.append(
                '<p class="emergency"><strong>Darurat</strong>: tidak ada pesan darurat. '
                '<small lang="en">(No emergency was reported.)</small></p>'
            )
        hoax = found["by_intent"]["hoax_report"]
        published = sum(row["published"] for row in found["clarifications"].values())
        parts.append(
            f"<p><strong>Laporan hoaks</strong>: {_number(hoax['messages'])} laporan, "
            f"{_number(hoax['with_clarification'])} dijawab dengan tautan klarifikasi; "
            f'{_number(published)} klarifikasi diterbitkan. <small lang="en">(Hoax reports '
            "received, answered with a clarification's link; clarifications published, per "
            "account.)</small></p>"
        )
        if found["clarifications"]:
            head = [
                _th("Label", "verdict"),
                _th("Diterbitkan", "published", numeric=True),
                _th("Jawaban ke pelapor", "answers to reporters", numeric=True),
            ]
            rows = [
                [
                    f'<th scope="row">{html.escape(verdict)}</th>',
                    f'<td class="num">{_number(row["published"])}</td>',
                    f'<td class="num">{_number(row["answers"])}</td>',
                ]
                for verdict, row in found["clarifications"].items()
            ]
            parts.append(_table(head, rows, "clarifications"))
        return "\n".join(parts)

    def _figures(self) -> str:
        parts = []
        for caption, alt, uri in self.charts():
            parts.append(
                f'<figure><img src="{uri}" alt="{html.escape(alt)}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
        return "\n".join(parts)

    def _footer(self) -> str:
        return (
            '<footer class="notes">'
            "<p><strong>—</strong> : angka tidak dilaporkan oleh platform atau belum terkumpul; "
            "bukan nol. <small>(figure not reported or not collected; never zero.)</small></p>"
            "<p>Interaksi = suka + bagikan ulang + balasan + kutipan. Tingkat interaksi = "
            "interaksi ÷ pengikut akun saat diukur, dirata-rata berbobot pengikut. Perubahan "
            "dibandingkan dengan periode sebelumnya. Satu unggahan dengan dua label dihitung "
            "di kedua label. <small>(Engagement = likes + reposts + replies + quotes; "
            "engagement rate = engagement ÷ the account's followers, follower-weighted; "
            "changes are against the previous period; label rows overlap.)</small></p>"
            "<p><small>Dibuat dengan govsocial (made with govsocial).</small></p>"
            "</footer>"
        )

    # -- files ---------------------------------------------------------------------------

    def to_html(self, path: str | Path) -> Path:
        """Write the HTML report to ``path``; return it."""
        return _write(path, self.html())

    def to_csv(self, path: str | Path, part: str = "summary") -> Path:
        """Write one part of the report to ``path`` as CSV; return it.

        ``"summary"`` (default): the summaries, stacked. Columns: ``grouping`` (platform,
        account or label), ``group`` and
        :data:`~govsocial.analytics.analysis.SUMMARY_COLUMNS`; a missing figure is an empty cell.
        Rates and changes are fractions (0.25 is 25 %).

        ``"listening"``: a row per intent, then ``all``
        (:data:`LISTENING_CSV_COLUMNS`; times in hours). ``"clarifications"``: a row per
        verdict (:data:`CLARIFICATION_CSV_COLUMNS`). Both need a workspace's report.

        :raises ConfigurationError: an unknown part, or a listening part of a report built
            from frames alone (field ``part``).
        """
        if part not in CSV_PARTS:
            raise ConfigurationError(
                f"the report has no part {part!r}", field="part", hint=", ".join(CSV_PARTS)
            )
        if part != "summary" and self.listening is None:
            raise ConfigurationError(
                f"this report has no {part} part: it was built from frames, not a workspace",
                field="part",
                hint="use ws.report(period) for the inbox's figures",
            )
        rows: list[list[Any]] = []
        if part == "summary":
            header: Sequence[str] = CSV_COLUMNS
            for by, frame in self.summaries.items():
                for record in _records(frame, "group"):
                    rows.append([by, *(record[c] for c in ("group", *SUMMARY_COLUMNS))])
        elif part == "listening":
            assert self.listening is not None
            header = LISTENING_CSV_COLUMNS
            found = [*self.listening["by_intent"].items(), ("all", self.listening["all"])]
            rows = [[intent, *(row[c] for c in INTENT_COLUMNS)] for intent, row in found]
        else:
            assert self.listening is not None
            header = CLARIFICATION_CSV_COLUMNS
            rows = [
                [verdict, *(row[c] for c in CLARIFICATION_CSV_COLUMNS[1:])]
                for verdict, row in self.listening["clarifications"].items()
            ]
        target = Path(path)
        try:
            with target.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(csv_row(header))
                for values in rows:
                    writer.writerow(csv_row(["" if v is None else v for v in values]))
        except OSError as error:
            raise _unwritable(target, error) from None
        return target

    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as plain JSON-ready values (missing figures are None)."""
        span = self.period
        return {
            "title": self.title,
            "period": {
                "label": span.label,
                "unit": span.unit,
                "zone": span.zone,
                "start": span.start.isoformat(),
                "end": span.end.isoformat(),
                "previous": span.previous().label,
            },
            "generated_at": self.generated_at.isoformat(),
            "has_data": self.has_data,
            "summary": {by: _records(frame, "group") for by, frame in self.summaries.items()},
            "top_posts": _records(self.top),
            "follower_growth": _records(self.growth),
            "listening": self.listening,
        }

    def to_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` to ``path`` as JSON (NaN as ``null``); return it."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2, allow_nan=False)
        return _write(path, text + "\n")


def _write(path: str | Path, text: str) -> Path:
    target = Path(path)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise _unwritable(target, error) from None
    return target


def _unwritable(target: Path, error: OSError) -> ConfigurationError:
    return ConfigurationError(
        f"cannot write the report to {target}: {error.strerror or error}", field="output"
    )


# --- HTML pieces --------------------------------------------------------------------------


def _th(indonesian: str, english: str, *, numeric: bool = False) -> str:
    kind = ' class="num"' if numeric else ""
    return (
        f'<th scope="col"{kind}>{html.escape(indonesian)}'
        f'<br><small lang="en">{html.escape(english)}</small></th>'
    )


def _who(account: Any, platform: Any) -> str:
    return f"{html.escape(str(account))}<br><small>{html.escape(str(platform))}</small>"


def _none() -> str:
    return '<p class="none">Tidak ada data <small>(no data)</small></p>'


def _section(heading: str, english: str, content: str) -> str:
    return (
        f"<section>\n<h2>{html.escape(heading)}</h2>\n"
        f'<p class="subtitle" lang="en">{html.escape(english)}</p>\n{content}\n</section>'
    )


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], kind: str) -> str:
    body = "\n".join(f"<tr>{''.join(cells)}</tr>" for cells in rows)
    return (
        f'<table class="{kind}">\n<thead><tr>{"".join(head)}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody>\n</table>"
    )


def _summary_table(frame: Any, group: tuple[str, str]) -> str:
    if frame.empty:
        return _none()
    head = [_th(*group), *(_th(*_HEADERS[c], numeric=True) for c in SUMMARY_COLUMNS)]
    rows = []
    for key, row in frame.iterrows():
        cells = [f'<th scope="row">{html.escape(str(key))}</th>']
        cells += [f'<td class="num">{_cell(c, row[c])}</td>' for c in SUMMARY_COLUMNS]
        rows.append(cells)
    return _table(head, rows, "summary")


def _duration(hours: Any) -> str:
    """A time to answer: ``< 1 mnt``, ``45 mnt`` under an hour, ``2,5 jam`` (hours) above."""
    if _missing(hours):
        return _MISSING
    if float(hours) * 60 < 0.5:
        return "&lt;&nbsp;1&nbsp;mnt"  # never "0 minutes": an answer took some time
    if float(hours) < 1:
        return f"{_number(float(hours) * 60)}&nbsp;mnt"
    return f"{_number(hours, 1)}&nbsp;jam"


def _page_css() -> str:
    """Rules for the whole page: only in the standalone HTML file, never in a notebook."""
    return (
        "@page { size: A4; margin: 15mm 12mm 16mm 12mm; }\n"
        "html { background: #fff; }\n"
        "body { margin: 0; }\n"
    )


def _css() -> str:
    """The report's own styles, every rule scoped to ``.gs-report``."""
    return """\
.gs-report { font-family: "Noto Sans", "DejaVu Sans", "Segoe UI", Arial, sans-serif;
  color: #111; line-height: 1.4; max-width: 1120px; margin: 0 auto; padding: 24px;
  font-size: 15px; }
.gs-report h1 { font-size: 1.7em; margin: 0 0 .3em; }
.gs-report h2 { font-size: 1.3em; margin: 1.6em 0 0; border-bottom: 2px solid #111;
  padding-bottom: .1em; }
.gs-report .subtitle { margin: .15em 0 .6em; font-size: .85em; color: #444;
  font-style: italic; }
.gs-report .meta { margin: 0 0 1em; }
.gs-report .no-data { border: 2px solid #111; padding: .6em .9em; font-weight: bold; }
.gs-report .none { color: #333; font-style: italic; }
.gs-report small { font-size: .8em; color: #444; font-weight: normal; }
.gs-report table { border-collapse: collapse; width: 100%; font-size: .8em;
  margin: .3em 0 1em; }
.gs-report th, .gs-report td { border: 1px solid #999; padding: .3em .4em;
  vertical-align: top; text-align: left; }
.gs-report thead th { border-bottom: 2px solid #111; vertical-align: bottom; }
.gs-report tbody tr:nth-child(even) { background: #f3f3f3; }
.gs-report .num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.gs-report thead th.num { white-space: normal; }
.gs-report tbody th { font-weight: bold; }
.gs-report .link { overflow-wrap: anywhere; word-break: break-word; max-width: 16em; }
.gs-report a { color: #0b3d91; }
.gs-report .missing { color: #555; }
.gs-report figure { margin: 1em 0 1.5em; }
.gs-report img { display: block; width: 900px; max-width: 100%; height: auto;
  border: 1px solid #ccc; }
.gs-report figcaption { font-size: .85em; margin-top: .3em; }
.gs-report .emergency { border-left: 4px solid #111; padding-left: .6em; }
.gs-report .notes { margin-top: 2em; border-top: 1px solid #999; font-size: .85em; }
@media print {
  .gs-report { max-width: none; padding: 0; font-size: 10pt; color: #000; }
  .gs-report * { background: transparent !important; box-shadow: none !important; }
  .gs-report table { font-size: 7.5pt; }
  .gs-report thead { display: table-header-group; }
  .gs-report tr, .gs-report figure, .gs-report img, .gs-report .meta {
    break-inside: avoid; page-break-inside: avoid; }
  .gs-report h2, .gs-report .subtitle { break-after: avoid; page-break-after: avoid; }
  .gs-report img { width: auto; max-width: 100%; border: none; }
  .gs-report a { color: #000; text-decoration: none; }
  .gs-report small, .gs-report .subtitle, .gs-report .missing { color: #000; }
}
"""


# --- building -----------------------------------------------------------------------------


def build_report(
    posts: pd.DataFrame,
    accounts: pd.DataFrame,
    period: Period | str,
    *,
    zone: str = DEFAULT_ZONE,
    title: str | None = None,
    institution: str | None = None,
    by: Sequence[str] = BY,
    top: int = 10,
    now: datetime | None = None,
    listening: dict[str, Any] | None = None,
    opinion: pd.DataFrame | None = None,
) -> Report:
    """A report on ``period`` from the frames of ``ws.metrics_frame("posts")`` and
    ``ws.metrics_frame("accounts")``.

    :param period: a :class:`~govsocial.analytics.analysis.Period` or text (``"2026-11"``,
        ``"2026-W48"``, ``"2026-Q4"``, ``"2026"``, a day, ``"2026-11-01..2026-11-15"``) read
        in ``zone``.
    :param title: defaults to ``"Laporan media sosial — <period>"``, followed by ``institution``.
    :param by: which summaries to include, in order (all three by default).
    :param top: how many top posts to list.
    :param now: when the report is made (default: now); shown in ``zone``.
    :param listening: :func:`~govsocial.analytics.opinion.listening_summary` of the period,
        for the section on what the public asked and reported (none without it).
    :param opinion: :func:`~govsocial.analytics.opinion.opinion_frame` of the period, for
        the chart of messages per day by intent.
    :raises ConfigurationError: an unknown period (field ``period``), zone (``timezone``) or
        grouping (``by``), or frames not shaped like ``ws.metrics_frame``.
    """
    check_zone(zone)
    span = period if isinstance(period, Period) else Period.parse(period, zone=zone)
    if isinstance(by, str):
        by = [by]
    groupings = list(dict.fromkeys(by))
    unknown = [name for name in groupings if name not in BY]
    if unknown or not groupings:
        raise ConfigurationError(
            f"cannot report by {', '.join(map(repr, unknown)) or 'nothing'}",
            field="by",
            hint="use platform, account and/or label",
        )
    summaries = {name: summary(posts, accounts, span, by=name) for name in groupings}
    engagement_by = summaries.get("platform")
    if engagement_by is None:
        engagement_by = summaries[groupings[0]]
    by_platform = summary(posts, accounts, span, by="platform")
    growth = follower_growth(accounts, span)
    has_data = bool(
        by_platform["posts"].sum() > 0
        or growth["end"].notna().any()
        or (listening is not None and listening["all"]["messages"] > 0)
    )
    if title is None:
        title = f"Laporan media sosial — {span.label}"
        if institution:
            title += f" — {institution}"
    made = (now or datetime.now(UTC)).astimezone(ZoneInfo(span.zone))
    return Report(
        title=title,
        period=span,
        generated_at=made,
        summaries=summaries,
        top=top_posts(posts, span, n=top, accounts=accounts),
        growth=growth,
        has_data=has_data,
        posts=posts,
        accounts=accounts,
        engagement_by=engagement_by,
        listening=listening,
        opinion=None if opinion is None else opinion[opinion["source"] == "inbox"],
    )


def workspace_report(
    workspace: WorkspaceCore | HasCore,
    period: Period | str,
    *,
    zone: str | None = None,
    title: str | None = None,
    by: Sequence[str] = BY,
    now: datetime | None = None,
) -> Report:
    """:func:`build_report` over everything collected in ``ws``.

    ``zone`` defaults to the first account's zone; the title names the institution when the
    workspace knows it (its ``institution`` setting). The report holds the inbox's section
    (:func:`~govsocial.analytics.opinion.listening_summary`) and its chart.
    """
    ws = core_of(workspace)
    zone = zone or ws.calendar_zone()
    check_zone(zone)
    span = period if isinstance(period, Period) else Period.parse(period, zone=zone)
    return build_report(
        metrics_frame(ws, "posts"),
        metrics_frame(ws, "accounts"),
        span,
        zone=zone,
        title=title,
        institution=ws.institution,
        by=by,
        now=now,
        listening=listening_summary(ws, span),
        opinion=opinion_frame(ws, span),
    )
