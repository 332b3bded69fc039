"""Small HTML for notebooks: the pieces the rich displays of posts, results and jobs share.

Jupyter shows an object's ``_repr_html_()``; :class:`~govsocial.core.models.Post`,
:class:`~govsocial.core.models.PublishResult` and :class:`~govsocial.scheduling.jobs.Job`
build theirs beside their classes from these helpers, which know no model.
Everything that comes from data is escaped with :func:`html.escape`; links are made only for
``http://`` and ``https://`` addresses; nothing loads an external resource (no scripts,
stylesheets, fonts or images), and styles are inline. Credentials are never shown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html.parser import HTMLParser

__all__ = [
    "CSP_META",
    "MUTED",
    "card",
    "escape",
    "labels",
    "link",
    "muted",
    "multiline",
    "plain_text",
    "safe_url",
    "status",
    "table",
    "when",
]

_CARD = "border:1px solid #999;border-radius:4px;padding:6px 8px;margin:2px 0;max-width:60em"
_CELL = "text-align:left;vertical-align:top;padding:2px 8px 2px 0"
MUTED = "color:#666"
#: The Content-Security-Policy of the standalone pages govsocial writes (reports, the
#: archive's index): no scripts, no external resources; inline styles and ``data:`` images.
CSP_META = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">"
)
#: Delivery and job states that went wrong (shown in bold).
_BAD = frozenset({"failed", "missed", "unknown", "partial", "error", "refused"})


def escape(value: object) -> str:
    """``value`` as text safe inside HTML elements and attribute values."""
    return html.escape(str(value), quote=True)


def multiline(text: str) -> str:
    """Escaped ``text`` with its line breaks kept as ``<br>``."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(escape(line) for line in lines)


#: What browsers skip or drop in an href: leading C0 controls and spaces, and tabs and line
#: breaks anywhere (``"\tjava\nscript:"`` is ``javascript:`` to a browser).
_URL_EDGE = "".join(chr(code) for code in range(0x21))


def safe_url(url: object) -> str | None:
    """``url`` when it is an ``http://`` or ``https://`` address fit for an ``href``; else None.

    Every HTML govsocial writes (notebook displays, reports, the archive's index) makes links
    only through this check. Leading and trailing spaces and control characters are removed,
    as browsers do; an address that still holds a control character, a space or a backslash
    is refused, so ``javascript:``, ``data:``, ``vbscript:`` and their disguises
    (``JAVASCRIPT:``, ``" javascript:"``, ``"\x01javascript:"``, ``"java\tscript:"``) are
    never links.
    """
    if not isinstance(url, str):
        return None
    text = url.strip(_URL_EDGE)
    if not text.lower().startswith(("http://", "https://")):
        return None
    if any(ord(char) < 0x21 or 0x7F <= ord(char) < 0xA0 or char == "\\" for char in text):
        return None
    return text


def link(url: str | None, label: str | None = None) -> str:
    """A link to ``url`` when it is an http(s) address (:func:`safe_url`); otherwise its
    escaped text."""
    shown = escape(label if label is not None else url or "")
    checked = safe_url(url)
    if checked is not None:
        return f'<a href="{escape(checked)}" target="_blank" rel="noopener noreferrer">{shown}</a>'
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


def card(kind: str, title: str, body: str) -> str:
    """A bordered card titled ``title`` (HTML) around ``body`` (HTML)."""
    return (
        f"<div class='govsocial-{kind}' style='{_CARD}'>"
        f"<div><strong>{title}</strong></div>{body}</div>"
    )


def status(value: str) -> str:
    """A delivery or job state, in bold when it went wrong."""
    text = escape(value)
    return f"<strong>{text}</strong>" if value in _BAD else text


def muted(text: str) -> str:
    """Escaped ``text`` in grey."""
    return f"<span style='{MUTED}'>{escape(text)}</span>"


def when(moment: datetime) -> str:
    """``moment`` in UTC, to the second."""
    return escape(moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))


def labels(values: Mapping[str, str]) -> str:
    """``key: value`` pairs, escaped, comma-separated."""
    return ", ".join(escape(f"{key}: {value}") for key, value in values.items())


# -- reading HTML that others wrote -----------------------------------------------------------

#: Elements whose content is never text a reader sees (their words are dropped with them).
_HIDDEN = frozenset(
    {"script", "style", "template", "iframe", "object", "embed", "noscript", "svg", "math", "head"}
)
#: Elements that end a line or a paragraph.
_BREAKS = frozenset(
    {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
)
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)


class _Text(HTMLParser):
    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.size = 0
        self.hidden = 0
        self.limit = limit

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BREAKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden and self.size <= self.limit:
            self.parts.append(data)
            self.size += len(data)


def plain_text(markup: str, *, limit: int = 100_000) -> str:
    """The text a reader sees in ``markup`` (HTML someone else wrote), as plain text.

    Tags go; the content of scripts, styles, frames, objects, SVG and the like goes with
    them; character references are decoded once (``&lt;script&gt;`` stays the words
    ``<script>``, never a tag); control, zero-width and bidirectional-override characters
    are removed; runs of spaces become one and paragraphs one blank line. At most about
    ``limit`` characters are read, so a huge page costs little.
    """
    parser = _Text(limit)
    parser.feed(markup[: limit * 4])
    parser.close()
    text = _CONTROL.sub("", "".join(parser.parts)).replace("\r", "\n")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    paragraphs: list[str] = []
    blank = False
    for line in lines:
        if line:
            if blank and paragraphs:
                paragraphs.append("")
            paragraphs.append(line)
            blank = False
        else:
            blank = True
    return "\n".join(paragraphs)[:limit]
