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
without it, are both caught. Anchors published on a platform
(:mod:`govsocial.workspace.anchors`) are read back and passed as ``anchors``.

Someone who can write to the database can still recompute the whole chain. Two things hold
against that:

- **Signatures** (:mod:`govsocial.workspace.signing`): an entry by a person who signs carries
  their Ed25519 signature over its content and its place in the chain. :func:`verify` replays
  the log to learn each person's key from the ``add_person`` entries that registered it and
  checks every signature; an entry by a signing person without one, or a key replaced without
  a signed action, is tampering. The ``people`` and ``approvals`` tables are held to the log:
  a public key the log did not register, or an approval with no entry, is named.
- **Time**: entries never go back in time (an append is dated no earlier than the entry
  before it) and :func:`verify` refuses a log where one does.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import ConfigDict, Field

from govsocial.core.errors import AuditTampered, ConfigurationError, NotPermitted
from govsocial.core.models import Model
from govsocial.core.timing import from_epoch
from govsocial.workspace.signing import acting_key, signed_payload, verify_signature

if TYPE_CHECKING:
    from govsocial.store import Store
    from govsocial.store.sql import Tx

__all__ = [
    "GENESIS",
    "UNSIGNED_ACTIONS",
    "AuditAnchor",
    "AuditEntry",
    "AuditHead",
    "Pending",
    "append",
    "append_many",
    "entries",
    "head",
    "needs_signature",
    "planning_entries",
    "registered_key",
    "signature_holds",
    "verify",
]

#: The ``prev_hash`` of the first entry.
GENESIS = "0" * 64

#: Actions govsocial records about a person without that person acting at that moment (the
#: worker publishing what they planned, a direct client's publish, a refusal): never signed.
UNSIGNED_ACTIONS = frozenset(
    {
        "publish",
        "processing",
        "failed",
        "unknown",
        "missed",
        "refused",
        "direct_publish",
        "direct_publish_failed",
        "env_reference_refused",
    }
)


def needs_signature(action: str) -> bool:
    """Whether an entry of ``action`` by a person who signs must carry their signature."""
    return action not in UNSIGNED_ACTIONS and not action.startswith("refused:")


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
    #: the actor's Ed25519 signature (base64) of :meth:`payload`, when they sign
    signature: str | None = None

    def payload(self) -> bytes:
        """The bytes :attr:`signature` covers (see
        :func:`govsocial.workspace.signing.signed_payload`)."""
        return signed_payload(
            seq=self.seq,
            prev_hash=self.prev_hash,
            at=self.at.timestamp(),
            actor=self.actor,
            action=self.action,
            obj=self.object,
            account=self.account,
            decree=self.decree,
            detail=self.detail,
        )

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
        if self.signature:
            parts.append("[signed]")
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
    signature: str | None = None,
) -> str:
    fields: list[Any] = [prev_hash, seq, f"{at:.6f}", actor, action, obj, account, decree, detail]
    if signature is not None:  # unsigned entries hash as they always did
        fields.append(signature)
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
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

    The entry is dated ``at`` (default now), but never before the entry it follows. When
    ``actor`` signs (a public key is registered for them) and ``action`` needs a signature,
    the key they act with (:func:`govsocial.workspace.signing.acting`) signs the entry.

    A lone surrogate in any of its texts (an actor's name typed on a terminal that is not
    UTF-8, refused by the authority check that records this entry) is kept as U+FFFD: the
    attempt is recorded, and no text can make the record itself fail.

    :raises NotPermitted: ``actor`` signs but acts without their key (the caller's
        transaction then rolls back: the action does not happen).
    """
    store.lock_audit(cur)
    row = _row(
        store,
        cur,
        store.audit.last(cur),
        actor=actor,
        action=action,
        obj=obj,
        account=account,
        decree=decree,
        detail=detail,
        at=at,
    )
    store.audit.add(cur, row)
    return _entry(row)


class Pending(NamedTuple):
    """An entry to append with :func:`append_many` (the fields :func:`append` takes)."""

    actor: str | None
    action: str
    obj: str | None = None
    account: str | None = None
    decree: str | None = None
    detail: dict[str, Any] | None = None
    at: float | None = None


def append_many(store: Store, cur: Tx, pending: Sequence[Pending]) -> int:
    """Add ``pending`` entries in order inside the caller's transaction ``cur``, each
    chained to the one before as :func:`append` would: one lock and one read of the head
    for the lot, and the rows written in one batch (a worker recording many outcomes in
    the transaction that makes them). Returns the seq of the last entry (0: none added).

    :raises NotPermitted: as :func:`append` (the whole transaction then rolls back).
    """
    if not pending:
        return 0
    store.lock_audit(cur)
    last = store.audit.last(cur)
    rows = []
    for entry in pending:
        row = _row(
            store,
            cur,
            last,
            actor=entry.actor,
            action=entry.action,
            obj=entry.obj,
            account=entry.account,
            decree=entry.decree,
            detail=entry.detail,
            at=entry.at,
        )
        rows.append(row)
        last = (row[0], row[9], row[1])
    store.audit.add_many(cur, rows)
    return int(rows[-1][0])


def _row(
    store: Store,
    cur: Tx,
    last: tuple[int, str, float] | None,
    *,
    actor: str | None,
    action: str,
    obj: str | None,
    account: str | None,
    decree: str | None,
    detail: dict[str, Any] | None,
    at: float | None,
) -> tuple[Any, ...]:
    """The row of the entry following ``last`` (its seq, hash and time), signed if needed."""
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    when = round(time.time() if at is None else at, 6)
    if last is not None and when < last[2]:
        when = last[2]  # never dated before the entry it follows
    action = _storable(action)
    actor, obj, account, decree = (
        None if value is None else _storable(value) for value in (actor, obj, account, decree)
    )
    raw = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    clean = json.loads(_SURROGATE.sub("\ufffd", raw))  # what is stored is what is signed
    text = json.dumps(clean, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    signature = None
    if actor is not None and needs_signature(action):
        registered = store.governance.public_key(cur, actor)
        if registered is not None:
            key = acting_key(actor)
            if key is None or key.public_key != registered:
                raise NotPermitted(
                    f"{actor} signs their actions (a public key is registered for them), and "
                    f"this {action} was not signed with their key",
                    actor=actor,
                    action=action,
                    account=account,
                    hint="pass key=govsocial.SigningKey.load(path) (CLI: --key PATH or "
                    "GOVSOCIAL_KEY)",
                )
            signature = key.sign(
                signed_payload(
                    seq=seq,
                    prev_hash=prev,
                    at=when,
                    actor=actor,
                    action=action,
                    obj=obj,
                    account=account,
                    decree=decree,
                    detail=clean,
                )
            )
    digest = _digest(prev, seq, when, actor, action, obj, account, decree, text, signature)
    return (seq, when, actor, action, obj, account, decree, text, prev, digest, signature)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(value: str) -> str:
    """``value`` with each lone surrogate, which no database stores, as U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


def _entry(row: Sequence[Any], *, checked: bool = True) -> AuditEntry:
    """The entry a row holds; ``checked=False`` skips the model's validation (verification
    reads every row, and re-hashes what it reads: a bad value fails the hash, not the model)."""
    build = AuditEntry if checked else AuditEntry.model_construct
    return build(
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
        signature=row[10] if len(row) > 10 else None,
    )


def entries(
    store: Store,
    *,
    since: float | None = None,
    until: float | None = None,
    actor: str | None = None,
    action: str | None = None,
    account: str | None = None,
    obj: str | None = None,
) -> list[AuditEntry]:
    """Entries, oldest first, filtered by time range, actor, action, account and object."""
    with store.transaction() as cur:
        rows = store.audit.rows(
            cur, since=since, until=until, actor=actor, action=action, account=account, object=obj
        )
    return [_entry(row) for row in rows]


def planning_entries(
    store: Store, cur: Tx, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], list[AuditEntry]]:
    """The ``schedule`` and ``enqueue`` entries of each ``(job, account)`` of ``pairs``,
    oldest first, read in one query inside ``cur`` (a worker's batch of deliveries)."""
    found: dict[tuple[str, str], list[AuditEntry]] = {pair: [] for pair in pairs}
    if not pairs:
        return found
    jobs = list(dict.fromkeys(job for job, _ in pairs))
    accounts = list(dict.fromkeys(account for _, account in pairs))
    rows = store.audit.of_objects(cur, jobs, accounts, ("schedule", "enqueue"))
    for row in rows:
        key = (str(row[4]), str(row[5]))
        if key in found:
            found[key].append(_entry(row))
    return found


def head(store: Store) -> AuditHead | None:
    """The newest entry's seq and hash (None while the log is empty)."""
    with store.transaction() as cur:
        last = store.audit.last(cur)
    return AuditHead(last[0], last[1]) if last else None


def registered_key(
    store: Store, person: str, *, before: int | None = None, tx: Tx | None = None
) -> tuple[str, int] | None:
    """The public key the log registered for ``person`` (in the newest ``add_person`` entry,
    before entry ``before`` when given) and that entry's seq; None when it registered none."""
    if tx is None:
        with store.transaction() as cur:
            return registered_key(store, person, before=before, tx=cur)
    found: tuple[str, int] | None = None
    for row in store.audit.rows(tx, object=person, action="add_person"):
        entry = _entry(row)
        if before is not None and entry.seq >= before:
            break
        key = entry.detail.get("public_key")
        if key:
            found = (str(key), entry.seq)
    return found


def signature_holds(store: Store, entry: AuditEntry) -> str | None:
    """Why ``entry`` is not signed as its actor must sign it, or None when it is (or its
    actor did not sign then). The key is the one the log registered before the entry."""
    if entry.actor is None:
        return None
    key = registered_key(store, entry.actor, before=entry.seq)
    if key is None:
        if entry.signature is not None:
            return f"audit entry {entry.seq} is signed, but {entry.actor} has no key in the log"
        return None
    if entry.signature is None:
        if needs_signature(entry.action):
            return f"audit entry {entry.seq} by {entry.actor} carries no signature"
        return None
    if not verify_signature(key[0], entry.payload(), entry.signature):
        return (
            f"audit entry {entry.seq}'s signature does not verify against the key "
            f"{entry.actor} registered in entry {key[1]}"
        )
    return None


class AuditAnchor(Model):
    """A head published outside the database: entry ``seq`` had a hash starting ``hash``.

    :meth:`text` is what :func:`govsocial.workspace.anchors.publish` posts; :meth:`parse`
    reads it back from a post's text (HTML tags and all), so anchors fetched from the
    platform can be held against the log: ``ws.verify_audit(anchors=[...])``.
    """

    model_config = ConfigDict(frozen=True)

    seq: int
    hash: str
    at: datetime
    #: where it was published (the post's URL), for messages
    url: str | None = None

    def text(self, institution: str | None = None) -> str:
        """The post that publishes this anchor."""
        who = f" of {institution}" if institution else ""
        return (
            f"govsocial audit anchor{who}: entry #{self.seq}, hash {self.hash}, "
            f"{self.at.strftime('%Y-%m-%dT%H:%M:%SZ')}. Anyone may hold the audit log "
            "to this post."
        )

    @classmethod
    def parse(cls, text: str, *, url: str | None = None) -> AuditAnchor:
        """The anchor in a post's ``text`` (as the platform returns it, HTML or plain).

        :raises ConfigurationError: the text holds no anchor.
        """
        plain = html.unescape(_TAGS.sub("", text))
        found = _ANCHOR.search(plain)
        if found is None:
            raise ConfigurationError(
                f"no govsocial audit anchor in {plain[:120]!r}",
                field="anchors",
                hint="pass the text of a post publish_audit_anchor made, as the platform "
                "returns it",
            )
        at = datetime.fromisoformat(found.group(3).replace("Z", "+00:00"))
        return cls(seq=int(found.group(1)), hash=found.group(2), at=at, url=url)

    def where(self) -> str:
        """How messages name it."""
        return f"the anchor published {self.at:%Y-%m-%d}" + (f" at {self.url}" if self.url else "")


_TAGS = re.compile(r"<[^>]*>")
_ANCHOR = re.compile(
    r"govsocial audit anchor[^:]*:\s*entry #(\d+), hash ([0-9a-f]{16,64}),\s*"
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)"
)

#: Problems listed in full in one :class:`~govsocial.AuditTampered` message.
_SHOWN = 8


def verify(
    store: Store,
    *,
    anchor: AuditHead | tuple[int, str] | None = None,
    anchors: Iterable[AuditAnchor | str] = (),
) -> int:
    """Check the whole chain, its times, every signature, the tables it vouches for and the
    anchors given; return how many entries verified.

    :param anchor: a head recorded earlier (``head()``): the log must still hold that entry
        with that hash, which catches removal of the newest entries.
    :param anchors: anchors published outside the database (:class:`AuditAnchor`, or the
        text of the posts that carry them, read back from the platform).
    :raises AuditTampered: naming the first entry that is edited, missing, out of place,
        wrongly signed, or at odds with an anchor; the message lists every such finding
        (signature and anchor findings alike), ``problems`` holds them all.
    """
    given = [a if isinstance(a, AuditAnchor) else AuditAnchor.parse(a) for a in anchors]
    with store.transaction() as cur:  # the rows, the head and the tables as of one instant
        store.snapshot(cur)
        rows = store.audit.rows(cur)
        found = store.audit.recorded_head(cur)
        people = store.governance.people(cur)
        approvals = store.governance.all_approvals(cur)
    log = [_entry(row, checked=False) for row in rows]
    findings: list[tuple[int, str]] = []
    count = _check_chain(log, findings)
    findings += _check_signatures(log, people, approvals)
    if found:
        seq_text, _, digest = found.partition(":")
        recorded = AuditHead(int(seq_text), digest)
        findings += _anchor_findings(
            log, recorded.seq, recorded.hash, "the workspace's recorded head"
        )
        if log and log[-1].seq > recorded.seq:
            findings.append(
                (
                    recorded.seq + 1,
                    f"audit entries {recorded.seq + 1} to {log[-1].seq} follow the workspace's "
                    "recorded head: they were added outside govsocial",
                )
            )
    if anchor is not None:
        kept = AuditHead(*anchor)
        findings += _anchor_findings(log, kept.seq, kept.hash, "the anchor given")
    for published in given:
        findings += _anchor_findings(log, published.seq, published.hash, published.where())
    if findings:
        findings.sort(key=lambda f: f[0])
        lines = [text for _, text in findings]
        shown = "; ".join(lines[:_SHOWN])
        if len(lines) > _SHOWN:
            shown += f"; and {len(lines) - _SHOWN} more"
        raise AuditTampered(shown, seq=findings[0][0], problems=lines)
    return count


def _check_chain(found: Iterable[AuditEntry], findings: list[tuple[int, str]]) -> int:
    """Check hashes and order, raising at the first break; times going back are added to
    ``findings`` (the chain itself holds, so later checks still say more)."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    previous: AuditEntry | None = None
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
        try:
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
                entry.signature,
            )
        except UnicodeEncodeError:  # a lone surrogate, which govsocial never writes
            recomputed = ""
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
        if previous is not None and entry.at < previous.at:
            findings.append(
                (
                    entry.seq,
                    f"audit entry {entry.seq} is dated {entry.at:%Y-%m-%d %H:%M:%S} UTC, before "
                    f"entry {previous.seq} ({previous.at:%Y-%m-%d %H:%M:%S} UTC): entries "
                    "never go back in time, so it was written outside govsocial",
                )
            )
        expected_prev, expected_seq, count = entry.hash, entry.seq + 1, count + 1
        previous = entry
    return count


def _check_signatures(
    log: Sequence[AuditEntry],
    people: Sequence[tuple[str, str, str | None, str | None]],
    approvals: Sequence[tuple[str, str, str | None]],
) -> list[tuple[int, str]]:
    """Replay the log's key registrations and check every entry's signature against the
    key its actor had then; hold the people and approvals tables to the log."""
    findings: list[tuple[int, str]] = []
    keys: dict[str, tuple[str, int]] = {}  # person -> (public key, seq that registered it)
    approved: dict[tuple[str, str], AuditEntry] = {}
    for entry in log:
        actor_key = keys.get(entry.actor) if entry.actor is not None else None
        if entry.signature is not None:
            if actor_key is None:
                findings.append(
                    (
                        entry.seq,
                        f"audit entry {entry.seq} carries a signature, but its actor "
                        f"{entry.actor!r} has no key registered in the log: the entry was "
                        f"rewritten ({entry.describe()})",
                    )
                )
            elif not verify_signature(actor_key[0], entry.payload(), entry.signature):
                findings.append(
                    (
                        entry.seq,
                        f"audit entry {entry.seq}'s signature does not verify against the key "
                        f"{entry.actor} registered in entry {actor_key[1]}: the entry was "
                        f"rewritten or forged ({entry.describe()})",
                    )
                )
        elif actor_key is not None and needs_signature(entry.action):
            findings.append(
                (
                    entry.seq,
                    f"audit entry {entry.seq} is by {entry.actor}, who signs since entry "
                    f"{actor_key[1]}, but it carries no signature: it was written outside "
                    f"govsocial ({entry.describe()})",
                )
            )
        if entry.action == "add_person" and entry.object:
            new_key = entry.detail.get("public_key")
            old = keys.get(entry.object)
            if new_key and old is not None and new_key != old[0] and entry.signature is None:
                findings.append(
                    (
                        entry.seq,
                        f"audit entry {entry.seq} replaces {entry.object}'s public key "
                        f"(registered in entry {old[1]}) without a signed action",
                    )
                )
            if new_key:
                keys[entry.object] = (str(new_key), entry.seq)
        if entry.action == "approve" and entry.object and entry.actor:
            approved.setdefault((entry.object, entry.actor), entry)
    last = log[-1].seq if log else 0
    for person, _name, _unit, public_key in people:
        registered = keys.get(person)
        if public_key != (registered[0] if registered else None):
            where = f"entry {registered[1]}" if registered else "no entry"
            findings.append(
                (
                    registered[1] if registered else last,
                    f"person {person}'s public key in the people table is not the one the "
                    f"audit log registered ({where}): it was changed outside govsocial",
                )
            )
    for draft_id, person, content in approvals:
        found = approved.get((draft_id, person))
        if found is None:
            findings.append(
                (
                    last,
                    f"the approval of draft {draft_id} by {person} has no audit entry: it was "
                    "written into the database outside govsocial",
                )
            )
        elif content is not None and found.detail.get("content") != content:
            findings.append(
                (
                    found.seq,
                    f"the approval of draft {draft_id} by {person} names content {content}, "
                    f"but audit entry {found.seq} approved {found.detail.get('content')}",
                )
            )
    return findings


def _anchor_findings(
    log: Sequence[AuditEntry], seq: int, digest: str, what: str
) -> list[tuple[int, str]]:
    by_seq = {entry.seq: entry.hash for entry in log}
    if seq not in by_seq:
        last = max(by_seq, default=0)
        return [
            (
                last + 1,
                f"audit log ends at entry {last}, but {what} is entry {seq}: "
                f"entries {last + 1} to {seq} were removed",
            )
        ]
    if not digest or not by_seq[seq].startswith(digest):
        return [
            (
                seq,
                f"audit entry {seq} differs from {what} (hash {digest[:16]}..., the log now "
                f"has {by_seq[seq][:16]}...): the log was rewritten",
            )
        ]
    return []
