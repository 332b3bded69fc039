"""Erasing citizens' inbox data: on a citizen's request, and after the retention period.

Indonesia's personal data protection law (UU PDP, Law 27/2022) and the GDPR give a citizen
the right to have their personal data erased, and want it kept no longer than needed. The
inbox holds what citizens wrote to an agency; this module erases it and leaves what the
agency's service statistics need:

- :func:`forget` erases one citizen's items (named by their handle or author id, on every
  platform or on one), on the request of a named person, for a stated reason;
- :func:`set_retention` keeps inbox content a number of days after it arrived, and
  :func:`apply_retention` (run by every ``govsocial worker``, and on demand) erases what is
  older.

Erasing an item empties its text, author, author name, URL, the platform's reference data,
the id of the post it answers and the author's own date, and closes it if it was still open
(``close_reason="erased"``: it can no longer be answered). It keeps the account, the kind,
when it was received, answered and closed and by whom (the agency's people), so response
times and counts stay right. The item's platform id, and the id of the agency's answer to
it, become keyed pseudonyms: a later sync recognises the item and does not bring it back,
and nothing in the database names the post any more.

Posts a watched topic found (:mod:`govsocial.inbox.watches`) are strangers' words too: the
same requests and retention erase their text, author, name, URL and the author's date, their
post id becomes a pseudonym (a later search does not bring them back), and their
classification and times stay (the opinion frame still counts them).

The audit log keeps that it happened (who asked, why, how many items on which accounts) and
a pseudonym of the handle, never the handle: an HMAC-SHA256 under a random key kept in the
workspace. A plain hash would not do: handles are few and public, so anyone holding the
audit log (the archive exports it, as a public record) could hash a list of handles and find
who asked to be forgotten. Without the key they cannot; with the workspace they can confirm
a handle they already know (:func:`forgotten`), which is what answering a citizen's
"did you erase my data?" needs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from govsocial.core.errors import ConfigurationError
from govsocial.core.timing import from_epoch
from govsocial.workspace.core import WorkspaceCore

if TYPE_CHECKING:
    from govsocial.store.sql import Tx
    from govsocial.workspace.audit import AuditEntry

__all__ = [
    "Erasure",
    "apply_retention",
    "forget",
    "forgotten",
    "pseudonym",
    "retention",
    "set_retention",
    "tombstone",
]

#: The longest retention accepted (a century; longer is no retention at all).
MAX_RETENTION_DAYS = 36500
_MAX_REASON = 500
_BATCH = 500  # items erased per transaction (short write locks on a large first run)


@dataclass(frozen=True)
class Erasure:
    """What an erasure did.

    ``items`` had their content erased (``by_account`` and ``by_platform`` split them),
    ``closed`` of them were still open and are now closed as ``"erased"``. ``pseudonym`` is
    the keyed pseudonym of the handle forgotten (None for retention), as the audit log keeps
    it. ``scrubbed`` is False when the database's files may still hold the erased data: on
    PostgreSQL until the operator runs ``VACUUM FULL inbox_items``, on SQLite when its
    write-ahead log could not be emptied at once (another process was reading; the next
    checkpoint empties it).
    """

    items: int = 0
    closed: int = 0
    by_account: dict[str, int] = field(default_factory=dict)
    by_platform: dict[str, int] = field(default_factory=dict)
    pseudonym: str | None = None
    scrubbed: bool = True
    #: posts found by watched topics whose content was erased
    watched: int = 0


# -- pseudonyms ------------------------------------------------------------------------------


def _key(core: WorkspaceCore) -> bytes:
    with core.store.transaction() as tx:
        return _key_in(core, tx)


def _key_in(core: WorkspaceCore, tx: Tx) -> bytes:
    return bytes.fromhex(core.store.inbox.pseudonym_key(tx, secrets.token_hex(32)))


def _mac(key: bytes, purpose: str, value: str) -> str:
    message = f"{purpose}\0{value}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _normalized(who: str) -> str:
    return who.strip().casefold().lstrip("@")


def pseudonym(core: WorkspaceCore, who: str) -> str:
    """The keyed pseudonym of a handle or author id, as :func:`forget` records it (the same
    for ``@Warga@Kota.example`` and ``warga@kota.example``)."""
    return _mac(_key(core), "person", _normalized(who))


def tombstone(key: bytes, remote_id: str) -> str:
    """What an erased item keeps of a platform id: a keyed pseudonym, enough for a sync to
    recognise the post again and nothing more."""
    return "erased:" + _mac(key, "item", remote_id)


def tombstones(core: WorkspaceCore, tx: Tx, remote_ids: Sequence[str]) -> dict[str, str]:
    """The pseudonym of each of ``remote_ids`` (inside the caller's transaction)."""
    key = _key_in(core, tx)
    return {remote_id: tombstone(key, remote_id) for remote_id in remote_ids}


# -- who wrote an item -----------------------------------------------------------------------


def _is_author(who: str, author: str, remote_id: str, base_url: str | None) -> bool:
    """Whether the normalized ``who`` wrote an item by ``author`` (as the platform named
    them) with platform id ``remote_id``, received by an account on ``base_url``.

    Names compare whole and without case or a leading ``@``. A name without a server
    (Mastodon's ``warga`` for a user of the account's own server) is also
    ``warga@<that server>`` (with or without its port). An AT Protocol id
    (``at://did:plc:.../...``) names its author's DID, so a Bluesky citizen is found by
    DID even after changing handle.
    """
    name = _normalized(author)
    if name and name == who:
        return True
    if remote_id.casefold().startswith(f"at://{who}/"):
        return True
    user, _, domain = who.partition("@")
    if not domain or "@" in name or name != user or not base_url:
        return False
    server = urlsplit(base_url)
    names = {server.hostname, server.netloc.rpartition("@")[2]}  # with and without a port
    return domain in {n.casefold() for n in names if n}


# -- forgetting ------------------------------------------------------------------------------


def _required(value: object, name: str, hint: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"erasing inbox data needs {name}", field=name, hint=hint)
    return value.strip()


def forget(
    core: WorkspaceCore,
    who: str,
    *,
    by: str,
    reason: str,
    platform: str | None = None,
) -> Erasure:
    """Erase what the citizen ``who`` (a handle, or the author id a platform gives) wrote to
    the workspace's accounts, on every platform or only ``platform``; see the module's
    docstring for what is erased and kept. ``by`` names who asked for it, ``reason`` why
    (a case or letter number; never the person's name or handle, which the audit log would
    keep for good). Idempotent: a second call erases nothing and says 0.

    :raises ConfigurationError: ``who``, ``by`` or ``reason`` is missing, the reason names
        the person, or no account is on ``platform``.
    :raises NotPermitted: an account that holds the citizen's items is run under
        appointments and ``by`` is not its admin (nothing is erased).
    """
    target = _normalized(_required(who, "who", "give the citizen's handle, e.g. @warga"))
    if not target:
        raise ConfigurationError("a handle needs more than '@'", field="who")
    by = _required(by, "by", "name who asked for the erasure: by='<person>'")
    reason = _required(reason, "reason", "give the request's case or letter number")
    if len(reason) > _MAX_REASON:
        raise ConfigurationError(
            f"the reason has {len(reason)} characters, more than {_MAX_REASON}",
            field="reason",
            hint="give the case or letter number and keep the details in the case file",
        )
    if target in reason.casefold():
        raise ConfigurationError(
            "the reason names the person being forgotten; the audit log keeps it for good",
            field="reason",
            hint="give the case or letter number of the request instead",
        )
    rows = core.store.accounts()
    platforms = {row.name: row.platform for row in rows}
    base_urls = {row.name: row.base_url for row in rows}
    names: list[str] | None = None
    if platform is not None:
        names = [name for name, on in platforms.items() if on == platform]
        if not names:
            known = ", ".join(sorted(set(platforms.values()))) or "none"
            raise ConfigurationError(
                f"the workspace has no account on {platform!r}",
                field="platform",
                hint=f"its platforms: {known}; or leave platform out to forget on all",
            )
    with core.store.transaction() as tx:
        kept = core.store.inbox.unerased(tx, accounts=names)
        found = core.store.watches.unerased(tx)
    mine = [row for row in kept if _is_author(target, row[3], row[2], base_urls.get(row[1]))]
    theirs = [
        row
        for row in found
        if (platform is None or row[2] == platform)
        and _is_author(target, row[5], row[3], base_urls.get(row[4]))
    ]
    accounts = sorted({row[1] for row in mine} | {row[4] for row in theirs})
    decrees = core.authority.authorize("delete", by, accounts) if accounts else {}
    key = _key(core)
    mark = _mac(key, "person", target)
    with core.store.transaction() as tx:
        done = _erase(core, tx, key, mine, platforms, by)
        watched = _erase_watched(core, tx, key, theirs)
        core.record(
            tx,
            by,
            "forget",
            obj=mark,
            detail={
                "reason": reason,
                "pseudonym": mark,
                "platform": platform,
                "watched": watched,
                "items": done.items,
                "closed": done.closed,
                "by_account": done.by_account,
                "by_platform": done.by_platform,
                "decrees": {name: d for name, d in decrees.items() if d is not None},
            },
        )
    scrubbed = core.store.scrub()
    return Erasure(
        items=done.items,
        closed=done.closed,
        by_account=done.by_account,
        by_platform=done.by_platform,
        pseudonym=mark,
        scrubbed=scrubbed,
        watched=watched,
    )


def _erase_watched(core: WorkspaceCore, tx: Tx, key: bytes, rows: Sequence[tuple[str, ...]]) -> int:
    """Erase the found posts ``rows`` (as :meth:`~govsocial.store.watches.WatchRows.unerased`
    gives them): how many were erased by this call."""
    at = time.time()
    return sum(
        core.store.watches.erase(tx, row[0], remote_id=tombstone(key, row[3]), at=at)
        for row in rows
    )


def _erase(
    core: WorkspaceCore,
    tx: Tx,
    key: bytes,
    rows: Sequence[tuple[str, str, str, str, str | None, str]],
    platforms: dict[str, str],
    by: str | None,
) -> Erasure:
    """Erase ``rows`` (as :meth:`~govsocial.store.inbox.InboxRows.unerased` gives them)."""
    at = time.time()
    items = closed = 0
    by_account: dict[str, int] = {}
    by_platform: dict[str, int] = {}
    for item_id, account, remote_id, _author, response_id, status in rows:
        erased = core.store.inbox.erase(
            tx,
            item_id,
            remote_id=tombstone(key, remote_id),
            response_id=tombstone(key, response_id) if response_id else None,
            at=at,
            by=by,
        )
        if not erased:
            continue  # erased meanwhile, by another process
        items += 1
        closed += status == "open"  # as read just before: an answer meanwhile is rare
        by_account[account] = by_account.get(account, 0) + 1
        on = platforms.get(account, "?")
        by_platform[on] = by_platform.get(on, 0) + 1
    return Erasure(items=items, closed=closed, by_account=by_account, by_platform=by_platform)


def forgotten(core: WorkspaceCore, who: str) -> list[AuditEntry]:
    """The audit entries of every request to forget ``who``, oldest first: when, by whom,
    why, how many items (how to answer a citizen asking whether their data was erased)."""
    mark = pseudonym(core, who)
    return [e for e in core.audit_log(action="forget") if e.detail.get("pseudonym") == mark]


# -- retention -------------------------------------------------------------------------------


def retention(core: WorkspaceCore) -> int | None:
    """How many days inbox content is kept after it arrived (None: kept, the default)."""
    with core.store.transaction() as tx:
        return core.store.inbox.retention(tx)


def set_retention(core: WorkspaceCore, inbox_days: int | None, *, by: str) -> int | None:
    """Keep inbox content ``inbox_days`` after it arrived, then erase it as :func:`forget`
    does (None: keep it, the default). Audit-logged; applied by :func:`apply_retention`."""
    by = _required(by, "by", "name who decides the retention: by='<person>'")
    if inbox_days is not None and (
        isinstance(inbox_days, bool)
        or not isinstance(inbox_days, int)
        or not 1 <= inbox_days <= MAX_RETENTION_DAYS
    ):
        raise ConfigurationError(
            f"inbox retention must be a whole number of days from 1 to {MAX_RETENTION_DAYS}, "
            f"not {inbox_days!r}",
            field="inbox_days",
            hint="e.g. inbox_days=365; None keeps inbox content",
        )

    def write(tx: Tx, decree: str | None) -> None:
        core.store.inbox.put_retention(tx, inbox_days)
        core.record(tx, by, "set_retention", decree=decree, detail={"inbox_days": inbox_days})

    core.authority.as_head("set_retention", by, write)
    return inbox_days


def apply_retention(
    core: WorkspaceCore, *, by: str | None = None, now: datetime | None = None
) -> Erasure:
    """Erase the content of inbox items that arrived more than the retention period before
    ``now``; nothing when no retention is set. Each batch erased is audit-logged
    (``apply_retention``, with counts); a run that erases nothing writes nothing to the log.
    Every run with a retention set also scrubs the database's files (an SQLite log is
    emptied), finishing a scrub a reader delayed."""
    days = retention(core)
    if days is None:
        return Erasure()
    moment = now if now is not None else datetime.now(UTC)
    cutoff = (moment - timedelta(days=days)).timestamp()
    platforms = {row.name: row.platform for row in core.store.accounts()}
    with core.store.transaction() as tx:
        rows = core.store.inbox.unerased(tx, received_before=cutoff)
        found = core.store.watches.unerased(tx, received_before=cutoff)
    if not rows and not found:  # still empty the log: it finishes a scrub a reader delayed
        return Erasure(scrubbed=core.store.scrub())
    key = _key(core)
    total = Erasure()
    for start in range(0, len(found), _BATCH):
        with core.store.transaction() as tx:
            watched = _erase_watched(core, tx, key, found[start : start + _BATCH])
            if watched:
                core.record(
                    tx,
                    by,
                    "apply_retention",
                    detail={
                        "inbox_days": days,
                        "received_before": from_epoch(cutoff).isoformat(),
                        "watched": watched,
                    },
                )
        total = _sum(total, Erasure(watched=watched))
    for start in range(0, len(rows), _BATCH):
        with core.store.transaction() as tx:
            done = _erase(core, tx, key, rows[start : start + _BATCH], platforms, None)
            if done.items:
                core.record(
                    tx,
                    by,
                    "apply_retention",
                    detail={
                        "inbox_days": days,
                        "received_before": from_epoch(cutoff).isoformat(),
                        "items": done.items,
                        "closed": done.closed,
                        "by_account": done.by_account,
                        "by_platform": done.by_platform,
                    },
                )
        total = _sum(total, done)
    return _sum(total, Erasure(), scrubbed=core.store.scrub())


def _sum(a: Erasure, b: Erasure, **override: Any) -> Erasure:
    def add(x: dict[str, int], y: dict[str, int]) -> dict[str, int]:
        return {k: x.get(k, 0) + y.get(k, 0) for k in sorted(x.keys() | y.keys())}

    values: dict[str, Any] = {
        "items": a.items + b.items,
        "closed": a.closed + b.closed,
        "by_account": add(a.by_account, b.by_account),
        "by_platform": add(a.by_platform, b.by_platform),
        "pseudonym": a.pseudonym or b.pseudonym,
        "scrubbed": a.scrubbed and b.scrubbed,
        "watched": a.watched + b.watched,
    }
    return Erasure(**(values | override))
