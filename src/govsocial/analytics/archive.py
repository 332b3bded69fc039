"""The archive: what an agency published and received, as a public record.

:func:`export_archive` writes, for a period, one JSON Lines file with a record per published
post (every variant, media checksums, remote ids and URLs, who authorized it under which
decree, its audit history, and its deletion if it was deleted), a record per collected
reply and mention, and the audit log's head; the period's audit entries in a second file;
and a readable ``index.html``. Deleting a post on a platform never removes it here: the
workspace keeps the delivery and marks when it was deleted.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import html
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from govsocial.adapters.media_safety import MediaPolicy
from govsocial.core._html import CSP_META, safe_url
from govsocial.core.errors import ConfigurationError
from govsocial.core.timing import from_epoch
from govsocial.inbox.items import Inbox
from govsocial.workspace.audit import GENESIS, AuditEntry, AuditHead
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of

__all__ = ["ArchiveExport", "export_archive", "period_bounds"]


@dataclass(frozen=True)
class ArchiveExport:
    """Where an export went and what it holds."""

    directory: Path
    records: Path
    audit: Path
    index: Path
    posts: int
    interactions: int
    audit_entries: int
    audit_head: AuditHead | None


def period_bounds(
    period: str | tuple[datetime, datetime] | None, zone: str
) -> tuple[float | None, float | None, str]:
    """``(start, end, label)`` in epoch seconds for a period.

    ``"2026-11"`` is that month and ``"2026"`` that year, in ``zone``; a pair of aware
    datetimes is taken as it is; None means everything.
    """
    if period is None:
        return None, None, "all"
    if isinstance(period, tuple):
        start, end = period
        if start.tzinfo is None or end.tzinfo is None:
            raise ConfigurationError("a period given as datetimes needs time zones", field="period")
        return start.timestamp(), end.timestamp(), f"{start.date()}_{end.date()}"
    tz = ZoneInfo(zone)
    text = period.strip()
    try:
        if len(text) == 4:
            year = int(text)
            first, after = date(year, 1, 1), date(year + 1, 1, 1)
        else:
            year_text, month_text = text.split("-")
            year, month = int(year_text), int(month_text)
            first = date(year, month, 1)
            after = date(year + (month == 12), month % 12 + 1, 1)
    except ValueError:
        raise ConfigurationError(
            f"period {period!r} is not a year or a month",
            field="period",
            hint="write 2026 or 2026-11",
        ) from None
    start_at = datetime(first.year, first.month, 1, tzinfo=tz).timestamp()
    end_at = datetime(after.year, after.month, 1, tzinfo=tz).timestamp()
    return start_at, end_at, text


def _file_digest(path: Path) -> dict[str, Any]:
    """The SHA-256 and size of a regular file, read a MiB at a time (videos are large)."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError("not a regular file")
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
            size += len(block)
    return {"sha256": digest.hexdigest(), "bytes": size}


def _media_record(media: dict[str, Any], approved: dict[str, Any] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "mime_type": media.get("mime_type"),
        "alt_text": media.get("alt_text", ""),
    }
    data: bytes | None = None
    if media.get("data") is not None:
        data = base64.b64decode(media["data"])
    elif media.get("path") is not None:
        record["path"] = media["path"]
        # read only under the media roots, as publishing does: a draft naming /etc/shadow
        # must not get its hash and size into an archive
        resolved = MediaPolicy.from_environment().resolve_path(media["path"])
        if resolved is None:
            record["note"] = "outside the media folders where the archive was made: not read"
        else:
            try:
                record |= _file_digest(resolved)
            except OSError:
                record["note"] = "the file was no longer readable when the archive was made"
    if media.get("url") is not None:
        record["url"] = media["url"]
    if data is not None:
        record["sha256"] = hashlib.sha256(data).hexdigest()
        record["bytes"] = len(data)
    if approved is not None and approved.get("sha256"):
        # what was approved is what the worker sent: it refuses any other bytes
        record["sha256_approved"] = approved["sha256"]
        record["bytes_approved"] = approved.get("size")
        if record.get("sha256") not in (None, approved["sha256"]):
            record["note"] = (
                "the file changed after publication: sha256_approved is what was published"
            )
    return record


def _post_record(post_json: str, authority: dict[str, Any] | None = None) -> dict[str, Any]:
    post: dict[str, Any] = json.loads(post_json)
    pinned = {m["field"]: m for m in (authority or {}).get("media", [])}
    post["media"] = [
        _media_record(m, pinned.get(f"media[{i}]")) for i, m in enumerate(post.get("media", []))
    ]
    for platform, variant in post.get("variants", {}).items():
        if variant.get("media") is not None:
            variant["media"] = [
                _media_record(m, pinned.get(f"variants.{platform}.media[{i}]"))
                for i, m in enumerate(variant["media"])
            ]
    if (authority or {}).get("content"):
        post["approved_content"] = authority["content"] if authority else None
    return post


def _iso(epoch: float | None) -> str | None:
    return from_epoch(epoch).isoformat() if epoch is not None else None


def _posts(ws: WorkspaceCore, start: float | None, end: float | None) -> Iterator[dict[str, Any]]:
    accounts = {row.name: row for row in ws.store.accounts()}
    history: dict[str, list[dict[str, Any]]] = {}
    for entry in ws.audit_log():
        keys = {entry.object} | {str(v) for k, v in entry.detail.items() if k in ("job", "draft")}
        for key in keys:
            if key:
                history.setdefault(key, []).append(
                    {
                        "seq": entry.seq,
                        "at": entry.at.isoformat(),
                        "actor": entry.actor,
                        "action": entry.action,
                        "account": entry.account,
                        "decree": entry.decree,
                    }
                )
    with ws.store.transaction() as tx:
        rows = ws.store.metrics.published_posts(tx)
    for row in rows:
        published = float(row[6])
        if (start is not None and published < start) or (end is not None and published >= end):
            continue
        account = accounts.get(row[2])
        authority = json.loads(row[10]) if row[10] else {}
        draft = authority.get("draft")
        trail = sorted(
            {
                e["seq"]: e for k in (row[0], row[1], draft) if k for e in history.get(k, [])
            }.values(),
            key=lambda e: e["seq"],
        )
        yield {
            "type": "post",
            "delivery": row[0],
            "job": row[1],
            "occurrence": row[11],
            "account": row[2],
            "platform": account.platform if account else None,
            "handle": account.handle if account else None,
            "remote_id": row[3],
            "url": row[4],
            "scheduled_at": _iso(row[5]),
            "published_at": _iso(row[6]),
            "deleted_at": _iso(row[7]),
            "status": "deleted" if row[7] is not None else row[8],
            "post": _post_record(row[9], authority),
            "authority": authority,
            "history": trail,
        }


def _interactions(
    ws: WorkspaceCore, start: float | None, end: float | None
) -> Iterator[dict[str, Any]]:
    """Collected replies and mentions (from the inbox)."""
    return iter(Inbox(ws).archived_interactions(start, end))


def export_archive(
    workspace: WorkspaceCore | HasCore,
    path: str | Path,
    period: str | tuple[datetime, datetime] | None = None,
    *,
    by: str | None = None,
) -> ArchiveExport:
    """Write the archive of ``period`` into the folder ``path`` (made if missing).

    :raises ConfigurationError: (field ``directory``) the folder cannot be made or written;
        nothing is recorded when it cannot be made.
    """
    ws = core_of(workspace)
    start, end, label = period_bounds(period, ws.calendar_zone())
    directory = Path(path)
    try:  # before anything is recorded: an export that cannot be written is not audited
        directory.mkdir(parents=True, exist_ok=True)
        if not os.access(directory, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "permission denied")
    except OSError as exc:
        raise _unwritable(directory, exc) from None
    records_path = directory / f"govsocial-archive-{label}.jsonl"
    audit_path = directory / f"govsocial-audit-{label}.jsonl"
    posts = list(_posts(ws, start, end))
    interactions = list(_interactions(ws, start, end))
    with ws.store.transaction() as cur:
        ws.record(
            cur,
            by,
            "export_archive",
            obj=label,
            detail={"posts": len(posts), "interactions": len(interactions)},
        )
    entries = ws.audit_log(
        since=from_epoch(start) if start is not None else None,
        until=from_epoch(end) if end is not None else None,
    )
    head = ws.audit_head()
    made = datetime.now(UTC).isoformat()
    try:
        _write(
            ws, directory, records_path, audit_path, label, posts, interactions, entries, head, made
        )
    except OSError as exc:
        raise _unwritable(directory, exc) from None
    return ArchiveExport(
        directory=directory,
        records=records_path,
        audit=audit_path,
        index=directory / "index.html",
        posts=len(posts),
        interactions=len(interactions),
        audit_entries=len(entries),
        audit_head=head,
    )


def _unwritable(directory: Path, exc: OSError) -> ConfigurationError:
    return ConfigurationError(
        f"cannot write the archive into {directory}: {exc.strerror or exc}",
        field="directory",
        hint="name a folder you may write to (it is made when missing)",
    )


def _write(
    ws: WorkspaceCore,
    directory: Path,
    records_path: Path,
    audit_path: Path,
    label: str,
    posts: list[dict[str, Any]],
    interactions: list[dict[str, Any]],
    entries: list[AuditEntry],
    head: AuditHead | None,
    made: str,
) -> None:
    """Write the archive's three files."""
    with records_path.open("w", encoding="utf-8") as out:
        for record in [*posts, *interactions]:
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        out.write(
            json.dumps(
                {
                    "type": "audit_head",
                    "seq": head.seq if head else 0,
                    "hash": head.hash if head else GENESIS,
                    "exported_at": made,
                    "period": label,
                },
                sort_keys=True,
            )
            + "\n"
        )
    with audit_path.open("w", encoding="utf-8") as out:
        for entry in entries:
            out.write(entry.model_dump_json() + "\n")
    (directory / "index.html").write_text(
        _index_html(ws, label, posts, interactions, head, made, records_path.name), "utf-8"
    )


def _index_html(
    ws: WorkspaceCore,
    label: str,
    posts: list[dict[str, Any]],
    interactions: list[dict[str, Any]],
    head: AuditHead | None,
    made: str,
    records_name: str,
) -> str:
    esc = html.escape
    zone = ws.calendar_zone()

    def local(iso: str | None) -> str:
        if iso is None:
            return ""
        return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")

    rows = []
    for p in posts:
        text = p["post"].get("text", "")
        media = ", ".join(
            f"{esc(m.get('alt_text') or 'no alt text')} ({m.get('sha256', '')[:12]})"
            for m in p["post"]["media"]
        )
        approvers = ", ".join(p["authority"].get("approved_by") or []) or (
            p["authority"].get("by") or ""
        )
        href = safe_url(p["url"])
        link = (
            f'<a href="{esc(href)}">{esc(p["remote_id"] or "")}</a>'
            if href is not None
            else esc(p["remote_id"] or "")
        )
        status = "deleted " + local(p["deleted_at"]) if p["deleted_at"] else ""
        rows.append(
            "<tr>"
            f"<td>{esc(local(p['published_at']))}</td><td>{esc(p['account'])}</td>"
            f"<td>{esc(text)}</td><td>{media}</td><td>{link}</td>"
            f"<td>{esc(approvers)}</td><td>{esc(status)}</td></tr>"
        )
    received = [
        "<tr>"
        f"<td>{esc(local(i.get('at')))}</td><td>{esc(i.get('account') or '')}</td>"
        f"<td>{esc(i.get('kind') or '')}</td><td>{esc(i.get('author') or '')}</td>"
        f"<td>{esc(i.get('text') or '')}</td></tr>"
        for i in interactions
    ]
    head_text = f"entry {head.seq}, hash {head.hash}" if head else "empty"
    return f"""<!doctype html>
<html lang="id"><head><meta charset="utf-8">
{CSP_META}
<title>Arsip media sosial {esc(label)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #111; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 2rem; }}
th, td {{ border: 1px solid #999; padding: .3rem .5rem; vertical-align: top; text-align: left; }}
th {{ background: #eee; }}
code {{ word-break: break-all; }}
</style></head><body>
<h1>Archive of published posts and received messages: {esc(label)}</h1>
<p>Made {esc(made)}. Times in {esc(zone)}. The full record, with every variant, media
checksum and audit history, is in <code>{esc(records_name)}</code>.
Audit log head at export: <code>{esc(head_text)}</code>.</p>
<h2>Published ({len(posts)})</h2>
<table><thead><tr><th>published</th><th>account</th><th>text</th><th>media (alt text,
sha256)</th><th>id</th><th>authorized by</th><th>status</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<h2>Received ({len(interactions)})</h2>
<table><thead><tr><th>at</th><th>account</th><th>kind</th><th>from</th><th>text</th></tr>
</thead><tbody>{"".join(received)}</tbody></table>
</body></html>
"""
