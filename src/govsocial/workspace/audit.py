"""The audit log: append-only, and tamper-evident through a hash chain.

Every entry records who did what, to which object, on which account, under which decree
(SK), and when. Each entry's hash covers its own content and the hash of the entry before
it, so editing an entry, removing one or slipping one in breaks the chain from there on,
and :func:`verify` names the first entry that no longer fits.

Appends happen in the same transaction as the action they record (an approval and its
entry commit together or not at all) and are serialized: SQLite's write lock does it,
PostgreSQL takes a transaction-scoped advisory lock. Database triggers refuse UPDATE and
DELETE on the table; the chain is what catches someone who drops the triggers first.

Truncating the newest entries leaves a shorter chain that still verifies. Against that,
keep :func:`head` somewhere else (a report, a printed page, an archive export carries it)
and pass it to :func:`verify` as ``anchor``; the workspace also keeps the head in its
metadata, written with each entry, and compares: entries missing before it, or added after it
without it, are both caught.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import ConfigDict, Field

from govsocial.core.errors import AuditTampered
from govsocial.core.models import Model
from govsocial.core.timing import from_epoch

if TYPE_CHECKING:
    from govsocial.store import Store
    from govsocial.store.sql import Tx

__all__ = ["GENESIS", "AuditEntry", "AuditHead", "append", "entries", "head", "verify"]

#: The ``prev_hash`` of the first entry.
GENESIS = "0" * 64


class AuditHead(NamedTuple):
    """The newest entry's number and hash: write it down elsewhere to detect truncation."""

    seq: int
    hash: str


class AuditEntry(Model):
    """One recorded action."""

    model_config = ConfigDict(frozen=True)

    seq: int
    at: datetime
    actor: str | None
    action: str
    object: str | None = None
    account: str | None = None
    decree: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str

    def describe(self) -> str:
        """One line: ``#12 2026-11-03 09:14 UTC siti approve draft 3f2a (humas) SK 800/1``."""
        parts = [f"#{self.seq}", self.at.strftime("%Y-%m-%d %H:%M:%S UTC")]
        parts.append(self.actor or "-")
        parts.append(self.action)
        if self.object:
            parts.append(self.object)
        if self.account:
            parts.append(f"({self.account})")
        if self.decree:
            parts.append(f"under {self.decree}")
        return " ".join(parts)


def _digest(
    prev_hash: str,
    seq: int,
    at: float,
    actor: str | None,
    action: str,
    obj: str | None,
    account: str | None,
    decree: str | None,
    detail: str,
) -> str:
    payload = json.dumps(
        [prev_hash, seq, f"{at:.6f}", actor, action, obj, account, decree, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(
    store: Store,
    cur: Tx,
    *,
    actor: str | None,
    action: str,
    obj: str | None = None,
    account: str | None = None,
    decree: str | None = None,
    detail: dict[str, Any] | None = None,
    at: float | None = None,
) -> AuditEntry:
    """Add an entry inside the caller's transaction ``cur``; return it.

    A lone surrogate in any of its texts (an actor's name typed on a terminal that is not
    UTF-8, refused by the authority check that records this entry) is kept as U+FFFD: the
    attempt is recorded, and no text can make the record itself fail.
    """
    store.lock_audit(cur)
    last = store.audit.last(cur)
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    when = round(time.time() if at is None else at, 6)
    action = _storable(action)
    actor, obj, account, decree = (
        None if value is None else _storable(value) for value in (actor, obj, account, decree)
    )
    text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = _SURROGATE.sub("\ufffd", text)
    digest = _digest(prev, seq, when, actor, action, obj, account, decree, text)
    store.audit.add(cur, (seq, when, actor, action, obj, account, decree, text, prev, digest))
    return _entry((seq, when, actor, action, obj, account, decree, text, prev, digest))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(value: str) -> str:
    """``value`` with each lone surrogate, which no database stores, as U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


def _entry(row: Sequence[Any]) -> AuditEntry:
    return AuditEntry(
        seq=int(row[0]),
        at=from_epoch(float(row[1])),
        actor=row[2],
        action=row[3],
        object=row[4],
        account=row[5],
        decree=row[6],
        detail=json.loads(row[7]) if row[7] else {},
        prev_hash=row[8],
        hash=row[9],
    )


def entries(
    store: Store,
    *,
    since: float | None = None,
    until: float | None = None,
    actor: str | None = None,
    action: str | None = None,
    account: str | None = None,
) -> list[AuditEntry]:
    """Entries, oldest first, filtered by time range, actor, action and account."""
    with store.transaction() as cur:
        rows = store.audit.rows(
            cur, since=since, until=until, actor=actor, action=action, account=account
        )
    return [_entry(row) for row in rows]


def head(store: Store) -> AuditHead | None:
    """The newest entry's seq and hash (None while the log is empty)."""
    with store.transaction() as cur:
        last = store.audit.last(cur)
    return AuditHead(*last) if last else None


def verify(store: Store, *, anchor: AuditHead | tuple[int, str] | None = None) -> int:
    """Check the whole chain; return how many entries verified.

    :param anchor: a head recorded earlier (``head()``): the log must still hold that entry
        with that hash, which catches removal of the newest entries.
    :raises AuditTampered: naming the first entry that is edited, missing or out of place.
    """
    with store.transaction() as cur:  # the rows and the recorded head as of one instant
        store.snapshot(cur)
        rows = store.audit.rows(cur)
        found = store.audit.recorded_head(cur)
    count = _check_chain(_entry(row) for row in rows)
    if found:
        seq_text, _, digest = found.partition(":")
        recorded = AuditHead(int(seq_text), digest)
        _check_anchor(rows, recorded, "the workspace's recorded head")
        if rows and int(rows[-1][0]) > recorded.seq:
            raise AuditTampered(
                f"audit entries {recorded.seq + 1} to {rows[-1][0]} follow the workspace's "
                "recorded head: they were added outside govsocial",
                seq=recorded.seq + 1,
            )
    if anchor is not None:
        _check_anchor(rows, AuditHead(*anchor), "the anchor given")
    return count


def _check_chain(found: Iterable[AuditEntry]) -> int:
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for entry in found:
        if entry.seq != expected_seq:
            missing = (
                f"entries {expected_seq} to {entry.seq - 1} are missing"
                if entry.seq > expected_seq
                else f"entry {entry.seq} appears out of order"
            )
            raise AuditTampered(
                f"audit log broken at entry {expected_seq}: {missing}", seq=expected_seq
            )
        detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        recomputed = _digest(
            entry.prev_hash,
            entry.seq,
            entry.at.timestamp(),
            entry.actor,
            entry.action,
            entry.object,
            entry.account,
            entry.decree,
            detail,
        )
        if recomputed != entry.hash:
            raise AuditTampered(
                f"audit entry {entry.seq} was edited: its content no longer matches its "
                f"hash ({entry.describe()})",
                seq=entry.seq,
            )
        if entry.prev_hash != expected_prev:
            raise AuditTampered(
                f"audit entry {entry.seq} does not follow entry {entry.seq - 1}: "
                "an entry before it was replaced or rewritten",
                seq=entry.seq,
            )
        expected_prev, expected_seq, count = entry.hash, entry.seq + 1, count + 1
    return count


def _check_anchor(rows: Sequence[Sequence[Any]], anchor: AuditHead, what: str) -> None:
    by_seq = {int(row[0]): str(row[9]) for row in rows}
    if anchor.seq not in by_seq:
        last = max(by_seq, default=0)
        raise AuditTampered(
            f"audit log ends at entry {last}, but {what} is entry {anchor.seq}: "
            f"entries {last + 1} to {anchor.seq} were removed",
            seq=last + 1,
        )
    if by_seq[anchor.seq] != anchor.hash:
        raise AuditTampered(
            f"audit entry {anchor.seq} differs from {what}: the log was rewritten",
            seq=anchor.seq,
        )
