"""Small HTML for notebooks: the rich display of posts, publish results and jobs.

Jupyter shows an object's ``_repr_html_()``; :class:`~govsocial.models.Post`,
:class:`~govsocial.models.PublishResult` and :class:`~govsocial.jobs.Job` build theirs here.
Everything that comes from data is escaped with :func:`html.escape`; links are made only for
``http://`` and ``https://`` addresses; nothing loads an external resource (no scripts,
stylesheets, fonts or images), and styles are inline. Credentials are never shown.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govsocial.jobs import Job
    from govsocial.models import Account, Media, Post, PostRef, PostVariant, PublishResult

__all__ = [
    "escape",
    "job_html",
    "link",
    "multiline",
    "post_html",
    "result_html",
    "table",
]

_CARD = "border:1px solid #999;border-radius:4px;padding:6px 8px;margin:2px 0;max-width:60em"
_CELL = "text-align:left;vertical-align:top;padding:2px 8px 2px 0"
_MUTED = "color:#666"
#: Delivery and job states that went wrong (shown in bold).
_BAD = frozenset({"failed", "missed", "unknown", "partial", "error"})


def escape(value: object) -> str:
    """``value`` as text safe inside HTML elements and attribute values."""
    return html.escape(str(value), quote=True)


def multiline(text: str) -> str:
    """Escaped ``text`` with its line breaks kept as ``<br>``."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(escape(line) for line in lines)


def link(url: str | None, label: str | None = None) -> str:
    """A link to ``url`` when it is an http(s) address; otherwise its escaped text."""
    shown = escape(label if label is not None else url or "")
    if url and url.lower().startswith(("http://", "https://")):
        return f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{shown}</a>'
    return shown


def table(
    rows: Iterable[Sequence[str]], *, head: Sequence[str] | None = None, side: bool = False
) -> str:
    """A table of cells that are already HTML (escape data before passing it).

    :param head: column titles (plain text, escaped here).
    :param side: the first cell of each row is a row title (plain text, escaped here).
    """
    parts = ["<table style='border-collapse:collapse'>"]
    if head:
        titles = "".join(f"<th style='{_CELL}'>{escape(title)}</th>" for title in head)
        parts.append(f"<thead><tr>{titles}</tr></thead>")
    parts.append("<tbody>")
    for row in rows:
        cells = list(row)
        out = []
        if side and cells:
            out.append(f"<th style='{_CELL}'>{escape(cells.pop(0))}</th>")
        out.extend(f"<td style='{_CELL}'>{cell}</td>" for cell in cells)
        parts.append("<tr>" + "".join(out) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _card(kind: str, title: str, body: str) -> str:
    return (
        f"<div class='govsocial-{kind}' style='{_CARD}'>"
        f"<div><strong>{title}</strong></div>{body}</div>"
    )


def _status(status: str) -> str:
    text = escape(status)
    return f"<strong>{text}</strong>" if status in _BAD else text


def _muted(text: str) -> str:
    return f"<span style='{_MUTED}'>{escape(text)}</span>"


def _time(moment: datetime) -> str:
    return escape(moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))


def _account(account: Account) -> str:
    where = f" ({account.platform}"
    where += f", {account.base_url})" if account.base_url else ")"
    return escape(account.handle) + _muted(where)


def _ref(ref: PostRef) -> str:
    return link(ref.url, ref.url) if ref.url else escape(ref.id)


def _labels(labels: Mapping[str, str]) -> str:
    return ", ".join(escape(f"{key}: {value}") for key, value in labels.items())


def _media(media: Sequence[Media]) -> str:
    items = []
    for item in media:
        size = item.size()
        what = f"{item.kind} {item.mime_type or 'unknown type'}"
        if size is not None:
            what += f", {size:,} bytes"
        source = link(item.url) if item.url else escape(item.path.name if item.path else "")
        alt = escape(item.alt_text) if item.alt_text else "<strong>no alt text</strong>"
        items.append(
            f"<li>{escape(what)}{' ' + source if source else ''}<br>"
            f"<span style='{_MUTED}'>alt:</span> {alt}</li>"
        )
    return "<ul style='margin:0;padding-left:1.2em'>" + "".join(items) + "</ul>"


def _variant(variant: PostVariant) -> str:
    parts = []
    if variant.text is not None:
        parts.append(multiline(variant.text))
    if variant.media is not None:
        parts.append(_media(variant.media) if variant.media else _muted("no media"))
    if variant.language is not None:
        parts.append(_muted(f"language: {variant.language}"))
    return "<br>".join(parts) or _muted("(no change)")


def post_html(post: Post) -> str:
    """A card for ``post``: text, media with alt text, labels, variants and reply target."""
    rows: list[list[str]] = [["text", multiline(post.text) if post.text else _muted("(empty)")]]
    if post.content_warning:
        rows.append(["content warning", escape(post.content_warning)])
    if post.media:
        rows.append(["media", _media(post.media)])
    if post.language:
        rows.append(["language", escape(post.language)])
    if post.labels:
        rows.append(["labels", _labels(post.labels)])
    if post.reply_to is not None:
        rows.append(["reply to", _ref(post.reply_to)])
    for platform, variant in post.variants.items():
        rows.append([f"variant: {platform}", _variant(variant)])
    return _card("post", "Post", table(rows, side=True))


def result_html(result: PublishResult) -> str:
    """A card for one account's publish outcome: the account, ok or the error, the link."""
    rows: list[list[str]] = [["account", _account(result.account)]]
    if result.ok and result.ref is not None:
        rows.append(["status", "published"])
        rows.append(["link", _ref(result.ref)])
    else:
        rows.append(["status", _status("failed" if result.error is not None else "no reference")])
        if result.error is not None:
            rows.append(["error", f"{escape(type(result.error).__name__)}: {escape(result.error)}"])
    return _card("result", "Publish result", table(rows, side=True))


def job_html(job: Job) -> str:
    """A card for ``job``: its status and post, then one row per delivery."""
    preview = job.post.text if len(job.post.text) <= 200 else job.post.text[:199] + "…"
    rows: list[list[str]] = [
        ["status", _status(job.status)],
        ["post", multiline(preview) if preview else _muted("(no text)")],
    ]
    if job.post.labels:
        rows.append(["labels", _labels(job.post.labels)])
    if job.recurrence:
        rows.append(["recurrence", escape(job.recurrence)])
    rows.append(["created", _time(job.created_at)])
    deliveries = [
        [
            escape(d.account),
            _status(d.status),
            _time(d.due_at),
            escape(d.attempts),
            _ref(d.ref)
            if d.ref is not None
            else (escape(f"{d.error_type or 'error'}: {d.error}") if d.error else ""),
        ]
        for d in sorted(job.deliveries, key=lambda d: (d.due_at, d.account, d.occurrence))
    ]
    body = table(rows, side=True)
    if deliveries:
        body += table(deliveries, head=("account", "status", "due", "attempts", "link or error"))
    else:
        body += _muted("no deliveries")
    return _card("job", f"Job {escape(job.id[:8])}", body)
