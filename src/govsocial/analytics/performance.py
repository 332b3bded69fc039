"""Performance per person, account and unit: the admins' work, counted for their SKP.

Every figure is computed from the audit log entries of the period, so each one can be traced
back to the entries behind it (the ``evidence`` column lists their numbers):

======================  ===================================================================
posts_published         ``publish`` entries (credited to who authorized the post)
published_on_time       of those, published within 10 minutes of the planned time
published_late          the others
drafts_written          ``draft`` entries (one per draft)
drafts_approved         ``approve`` entries (approvals given, one per draft)
requests_fulfilled      ``fulfil`` entries (content requests answered with a draft)
request_turnaround_h    median hours from request to first publication
replies_sent            ``reply`` entries
clarifications          hoax clarifications: ``publish`` entries of posts labelled
                        ``clarification`` (:func:`govsocial.clarification`), and ``reply``
                        entries answering a hoax report with one (``clarification_reply``)
response_median_h       median first-response time, in service hours (the account's hours)
answered_within_target  share of first responses within the account's target
engagement              likes + reposts + replies + quotes, latest figures, of the posts
                        published (needs metrics collected)
messages_received       (by account) inbox items received in the period
open_backlog            (by account) items still open now
======================  ===================================================================

Build the table with ``Workspace.performance(period, by=...)`` (a pandas DataFrame) and the
report with ``Workspace.performance_report(period)``.
"""

from __future__ import annotations

import html
import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govsocial.accountability.governance import Accountability
from govsocial.analytics._csv import csv_row
from govsocial.analytics.analysis import Period
from govsocial.analytics.clarifications import clarification_rows, clarified_deliveries
from govsocial.core._html import CSP_META
from govsocial.core.errors import ConfigurationError
from govsocial.inbox.items import Inbox
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]  # no pandas-stubs

    from govsocial.workspace.audit import AuditEntry

__all__ = ["COLUMNS", "PerformanceReport", "clarification_rows", "performance_rows"]

LATE_AFTER = timedelta(minutes=10)
GROUPINGS = ("person", "account", "unit")
NOBODY = "(tanpa nama)"  # actions taken without by= (accounts not under appointments)
COLUMNS: tuple[str, ...] = (
    "posts_published",
    "published_on_time",
    "published_late",
    "drafts_written",
    "drafts_approved",
    "requests_fulfilled",
    "request_turnaround_h",
    "replies_sent",
    "clarifications",
    "response_median_h",
    "answered_within_target",
    "engagement",
)
ACCOUNT_COLUMNS: tuple[str, ...] = ("messages_received", "open_backlog")
_HEADERS: dict[str, tuple[str, str]] = {
    "posts_published": ("Unggahan", "posts published"),
    "published_on_time": ("Tepat waktu", "on time"),
    "published_late": ("Terlambat", "late"),
    "drafts_written": ("Draf ditulis", "drafts written"),
    "drafts_approved": ("Draf disetujui", "drafts approved"),
    "requests_fulfilled": ("Permintaan dipenuhi", "requests fulfilled"),
    "request_turnaround_h": ("Waktu permintaan (jam)", "request turnaround (h)"),
    "replies_sent": ("Balasan", "replies sent"),
    "clarifications": ("Klarifikasi hoaks", "hoax clarifications"),
    "response_median_h": ("Median respons (jam layanan)", "median response (service h)"),
    "answered_within_target": ("Sesuai target", "within target"),
    "engagement": ("Interaksi", "engagement"),
    "messages_received": ("Pesan masuk", "messages received"),
    "open_backlog": ("Belum dijawab", "open backlog"),
}


@dataclass
class _Tally:
    posts: int = 0
    on_time: int = 0
    late: int = 0
    drafts: set[str] = field(default_factory=set)
    approvals: set[str] = field(default_factory=set)
    requests: int = 0
    turnarounds: list[float] = field(default_factory=list)
    replies: int = 0
    clarifications: int = 0
    responses: list[float] = field(default_factory=list)
    within: int = 0
    engagement: int = 0
    engagement_known: bool = False
    received: int = 0
    backlog: int = 0
    evidence: list[int] = field(default_factory=list)

    def row(self, with_inbox: bool) -> dict[str, Any]:
        found: dict[str, Any] = {
            "posts_published": self.posts,
            "published_on_time": self.on_time,
            "published_late": self.late,
            "drafts_written": len(self.drafts),
            "drafts_approved": len(self.approvals),
            "requests_fulfilled": self.requests,
            "request_turnaround_h": _median_hours(self.turnarounds),
            "replies_sent": self.replies,
            "clarifications": self.clarifications,
            "response_median_h": _median_hours(self.responses),
            "answered_within_target": (self.within / len(self.responses))
            if self.responses
            else None,
            "engagement": self.engagement if self.engagement_known else None,
        }
        if with_inbox:
            found["messages_received"] = self.received
            found["open_backlog"] = self.backlog
        found["evidence"] = ", ".join(f"#{seq}" for seq in sorted(set(self.evidence)))
        return found


def _median_hours(values: list[float]) -> float | None:
    return round(statistics.median(values) / 3600, 4) if values else None


def _period(ws: WorkspaceCore, period: Period | str) -> Period:
    if isinstance(period, Period):
        return period
    return Period.parse(period, zone=ws.calendar_zone())


def performance_rows(
    workspace: WorkspaceCore | HasCore, period: Period | str, by: str = "person"
) -> dict[str, dict[str, Any]]:
    """The performance table as plain rows: ``{key: {column: value}}`` (no pandas needed)."""
    ws = core_of(workspace)
    inbox = Inbox(ws)
    if by not in GROUPINGS:
        raise ConfigurationError(
            f"performance by {by!r} is not known", field="by", hint="person, account or unit"
        )
    span = _period(ws, period)
    units = {p.id: p.unit or "(tanpa unit)" for p in ws.authority.people()}
    entries = ws.audit_log(span.start, until=span.end)
    tallies: dict[str, _Tally] = {}

    def keys(entry: AuditEntry) -> list[str]:
        if by == "account":
            return [entry.account] if entry.account else []
        person = entry.actor or NOBODY
        return [person if by == "person" else units.get(person, "(tanpa unit)")]

    deliveries = _deliveries(ws)
    engagement = _engagement(ws)
    clarified = clarified_deliveries(ws)
    requests = {r.id: r for r in Accountability(ws).requests()}
    targets: dict[str, float] = {}
    for entry in entries:
        for key in keys(entry):
            tally = tallies.get(key) or _Tally()
            if _count(entry, tally, deliveries, engagement, requests, targets, inbox):
                if (entry.action == "publish" and entry.object in clarified) or (
                    entry.action == "reply" and entry.detail.get("clarification")
                ):
                    tally.clarifications += 1
                tally.evidence.append(entry.seq)
                tallies[key] = tally  # only who did something counted appears
    if by == "account":
        for item in inbox.items(None):
            tally = tallies.setdefault(item.account, _Tally())
            if span.start <= item.received_at < span.end:
                tally.received += 1
            if item.status == "open":
                tally.backlog += 1
    return {
        key: tallies[key].row(by == "account")
        for key in sorted(tallies, key=lambda k: (k.startswith("("), k))
    }


def _count(
    entry: AuditEntry,
    tally: _Tally,
    deliveries: dict[str, tuple[float, float | None]],
    engagement: dict[str, int],
    requests: dict[str, Any],
    targets: dict[str, float],
    inbox: Inbox,
) -> bool:
    """Add ``entry`` to ``tally``; whether it counted (and so is evidence)."""
    action, detail = entry.action, entry.detail
    if action == "publish":
        tally.posts += 1
        planned, published = deliveries.get(entry.object or "", (0.0, None))
        if published is not None and published - planned > LATE_AFTER.total_seconds():
            tally.late += 1
        else:
            tally.on_time += 1
        if entry.object in engagement:
            tally.engagement += engagement[entry.object or ""]
            tally.engagement_known = True
        return True
    if action == "draft" and entry.object:
        tally.drafts.add(entry.object)
        return True
    if action == "approve" and entry.object:
        tally.approvals.add(entry.object)
        return True
    if action == "fulfil":
        tally.requests += 1
        request = requests.get(entry.object or "")
        if request is not None and request.turnaround is not None:
            tally.turnarounds.append(request.turnaround)
        return True
    if action == "reply":
        tally.replies += 1
        if detail.get("first") and detail.get("service_seconds") is not None and entry.account:
            if entry.account not in targets:
                targets[entry.account] = inbox.service_hours(entry.account)[1].total_seconds()
            service = float(detail["service_seconds"])
            tally.responses.append(service)
            tally.within += service <= targets[entry.account]
        return True
    return False


def _deliveries(ws: WorkspaceCore) -> dict[str, tuple[float, float | None]]:
    with ws.store.transaction() as tx:
        return ws.store.metrics.published_times(tx)


def _engagement(ws: WorkspaceCore) -> dict[str, int]:
    """Each delivery's latest likes + reposts + replies + quotes (the known ones)."""
    with ws.store.transaction() as tx:
        return ws.store.metrics.latest_engagement(tx)


def performance_frame(
    workspace: WorkspaceCore | HasCore, period: Period | str, by: str = "person"
) -> pd.DataFrame:
    """The performance table as a pandas DataFrame (needs ``govsocial[notebook]``)."""
    try:
        import pandas as pd
    except ImportError:
        raise ConfigurationError(
            "the performance table as a DataFrame needs pandas",
            field="performance",
            hint="pip install 'govsocial[notebook]', or use performance_rows()",
        ) from None
    rows = performance_rows(workspace, period, by)
    columns = [*COLUMNS, *(ACCOUNT_COLUMNS if by == "account" else ()), "evidence"]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    frame.index.name = by
    return frame


class PerformanceReport:
    """Performance by person, account and unit for a period, as SKP evidence.

    Write it with :meth:`to_html` (tables, charts, and the audit entries behind each figure),
    :meth:`to_csv` or :meth:`to_json`; in a notebook it shows itself.
    """

    def __init__(
        self, workspace: WorkspaceCore | HasCore, period: Period | str, *, title: str | None = None
    ) -> None:
        ws = core_of(workspace)
        self.period = _period(ws, period)
        self.title = title or (
            f"Kinerja pengelola media sosial {self.period.label}"
            + (f" - {ws.institution}" if ws.institution else "")
        )
        self.generated_at = datetime.now(UTC)
        self.tables = {by: performance_rows(ws, self.period, by) for by in GROUPINGS}
        #: hoax clarifications per verdict (:func:`clarification_rows`)
        self.clarifications = clarification_rows(ws, self.period)
        self.head = ws.audit_head()

    def __repr__(self) -> str:
        people = len(self.tables["person"])
        return f"<PerformanceReport {self.period.label!r}: {people} people>"

    def to_dict(self) -> dict[str, Any]:
        """Every table, the period and the audit head, as plain data."""
        return {
            "title": self.title,
            "period": self.period.label,
            "zone": self.period.zone,
            "generated_at": self.generated_at.isoformat(),
            "audit_head": list(self.head) if self.head else None,
            **{f"by_{by}": rows for by, rows in self.tables.items()},
            "clarifications_by_verdict": self.clarifications,
        }

    def to_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON to ``path``; return the path."""
        return _write(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n")

    def to_csv(self, path: str | Path, by: str = "person") -> Path:
        """One grouping's table as CSV (default: per person; ``"verdict"``: the hoax
        clarifications per verdict), evidence included."""
        import csv
        import io

        if by not in (*GROUPINGS, "verdict"):
            raise ConfigurationError(
                f"unknown grouping {by!r}", field="by", hint="person, account, unit or verdict"
            )
        if by == "verdict":
            rows, columns = self.clarifications, ["published", "answers", "evidence"]
        else:
            rows = self.tables[by]
            columns = [*COLUMNS, *(ACCOUNT_COLUMNS if by == "account" else ()), "evidence"]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(csv_row([by, *columns]))
        for key, row in rows.items():
            writer.writerow(csv_row([key, *("" if row[c] is None else row[c] for c in columns)]))
        return _write(path, out.getvalue())

    def charts(self) -> list[tuple[str, str, str]]:
        """``(caption, alt text, data: URI)``: posts, approvals and replies per person; posts
        on time and late per account. (Response times are in the tables: hours and counts do
        not share an axis.)"""
        from govsocial.analytics.report import _png_uri

        return [
            (
                "Unggahan, persetujuan dan balasan per orang (posts, approvals, replies)",
                "Grafik batang: jumlah unggahan, draf yang disetujui dan balasan tiap orang "
                "(bar chart of posts published, drafts approved and replies sent per person)",
                _png_uri(
                    _bars(
                        self.tables["person"],
                        ("posts_published", "drafts_approved", "replies_sent"),
                        ("unggahan", "draf disetujui", "balasan"),
                    )
                ),
            ),
            (
                "Unggahan tepat waktu dan terlambat per akun (posts on time and late)",
                "Grafik batang: unggahan tepat waktu dan terlambat tiap akun "
                "(bar chart of posts on time and late per account)",
                _png_uri(
                    _bars(
                        self.tables["account"],
                        ("published_on_time", "published_late"),
                        ("tepat waktu", "terlambat"),
                    )
                ),
            ),
        ]

    def html(self) -> str:
        """The report as one HTML page (tables, charts, evidence)."""
        from govsocial.analytics.report import _css, _page_css

        body = self._body()
        return (
            '<!DOCTYPE html>\n<html lang="id">\n<head>\n<meta charset="utf-8">\n'
            f"{CSP_META}\n"
            f"<title>{html.escape(self.title)}</title>\n"
            f"<style>\n{_page_css()}{_css()}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
        )

    def _repr_html_(self) -> str:
        from govsocial.analytics.report import _css

        return f"<div><style>{_css()}</style>{self._body()}</div>"

    def to_html(self, path: str | Path) -> Path:
        """Write :meth:`html` to ``path``; return the path."""
        return _write(path, self.html())

    def _body(self) -> str:
        from govsocial.analytics.report import _section, _table, _th

        parts = [
            '<main class="gs-report">',
            f"<h1>{html.escape(self.title)}</h1>",
            f'<p class="meta">Periode {html.escape(self.period.label)} '
            f"({html.escape(self.period.zone)}); dibuat {self.generated_at:%Y-%m-%d %H:%M} UTC. "
            "Setiap angka berasal dari entri log audit yang tercantum di kolom bukti "
            '<small lang="en">(every figure comes from the audit entries listed as '
            "evidence)</small>.</p>",
        ]
        names = {
            "person": ("Per orang", "By person", "Nama", "person"),
            "account": ("Per akun", "By account", "Akun", "account"),
            "unit": ("Per unit kerja", "By unit", "Unit", "unit"),
        }
        for by, rows in self.tables.items():
            heading, english, label, label_en = names[by]
            columns = [*COLUMNS, *(ACCOUNT_COLUMNS if by == "account" else ())]
            if not rows:
                parts.append(
                    _section(
                        heading,
                        english,
                        '<p class="none">Tidak ada data <small>(no data)</small></p>',
                    )
                )
                continue
            head = [
                _th(label, label_en),
                *(_th(*_HEADERS[c], numeric=True) for c in columns),
                _th("Bukti", "evidence"),
            ]
            body = [
                [
                    f'<th scope="row">{html.escape(key)}</th>',
                    *(f'<td class="num">{_shown(c, row[c])}</td>' for c in columns),
                    f"<td><small>{html.escape(row['evidence'])}</small></td>",
                ]
                for key, row in rows.items()
            ]
            parts.append(_section(heading, english, _table(head, body, "summary")))
        parts.append(self._clarifications_section())
        figures = "".join(
            f'<figure><img src="{uri}" alt="{html.escape(alt)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            for caption, alt, uri in self.charts()
        )
        parts.append(_section("Grafik", "Charts", figures))
        anchor = f"{self.head.seq}:{self.head.hash}" if self.head else "-"
        parts.append(
            f'<footer><p class="meta">Kepala log audit <small lang="en">(audit log head)</small>: '
            f"<code>{html.escape(anchor)}</code>. Periksa dengan <code>govsocial audit verify "
            "--anchor</code>.</p></footer></main>"
        )
        return "\n".join(parts)

    def _clarifications_section(self) -> str:
        from govsocial.analytics.report import _none, _number, _section, _table, _th

        heading, english = "Klarifikasi hoaks per label", "Hoax clarifications by verdict"
        if not self.clarifications:
            return _section(heading, english, _none())
        head = [
            _th("Label", "verdict"),
            _th("Diterbitkan", "published (per account)", numeric=True),
            _th("Jawaban ke pelapor", "answers to those who reported it", numeric=True),
            _th("Bukti", "evidence"),
        ]
        body = [
            [
                f'<th scope="row">{html.escape(verdict)}</th>',
                f'<td class="num">{_number(row["published"])}</td>',
                f'<td class="num">{_number(row["answers"])}</td>',
                f"<td><small>{html.escape(row['evidence'])}</small></td>",
            ]
            for verdict, row in self.clarifications.items()
        ]
        return _section(heading, english, _table(head, body, "summary"))


def _shown(column: str, value: Any) -> str:
    from govsocial.analytics.report import _number, _percent

    if column == "answered_within_target":
        return _percent(value)
    if column.endswith("_h"):
        return _number(value, 1)
    return _number(value)


def _bars(rows: dict[str, dict[str, Any]], columns: Sequence[str], labels: Sequence[str]) -> Any:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from govsocial.analytics.plots import _literal

    figure = Figure(figsize=(8, 3.2), dpi=110)
    axes = figure.add_subplot(1, 1, 1)
    keys = list(rows) or ["-"]
    width = 0.8 / len(columns)
    hatches = ("", "//", "..")
    greys = ("#222222", "#888888", "#cccccc")
    for index, (column, label) in enumerate(zip(columns, labels, strict=True)):
        values = [float(rows[k][column] or 0) if k in rows else 0.0 for k in keys]
        positions = [i + index * width for i in range(len(keys))]
        axes.bar(
            positions,
            values,
            width,
            label=_literal(label),
            color=greys[index],
            hatch=hatches[index],
            edgecolor="#000000",
        )
    axes.set_xticks(
        [i + width * (len(columns) - 1) / 2 for i in range(len(keys))],
        [_literal(key) for key in keys],
    )
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: whole numbers
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def _write(path: str | Path, text: str) -> Path:
    target = Path(path)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(
            f"cannot write the performance report to {target}: {error.strerror or error}",
            field="output",
        ) from None
    return target
