"""The unified inbox: replies and mentions from every account, and who answered them when.

:class:`Inbox` is the workspace service (``ws.pull_inbox()``, ``ws.inbox()`` ... on
:class:`~govsocial.Workspace` delegate to it):

- ``sync()``: pull new replies (to the account's recent published posts) and mentions
  from every account, de-duplicated across syncs by the platform's id, threaded to the post
  they answer, incrementally (a mentions cursor per account), through the client's rate
  budgets. The account's own posts (its answers) are never inbox items.
- ``items(status="open", account=None, older_than=None)``: the items, oldest first.
- ``assign``, ``reply`` (audited, with the response time) and ``close_item``.
- ``set_service_hours``: the hours and holidays response times are counted in, and the
  target (answered within it, in service time).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field

from govsocial.core.errors import ConfigurationError, GovSocialError, NotPermitted, NotSupported
from govsocial.core.models import Account, Interaction, Model, Post, PostRef
from govsocial.core.timing import from_epoch
from govsocial.inbox.service_hours import DEFAULT_HOURS, ServiceHours
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of

if TYPE_CHECKING:
    from govsocial.client import AsyncClient
    from govsocial.store.sql import Tx

__all__ = ["CLOSE_REASONS", "Inbox", "InboxItem", "SyncResult"]

logger = logging.getLogger("govsocial.inbox")

CLOSE_REASONS: tuple[str, ...] = ("answered", "no reply needed", "spam")
#: The default response target: answered within one working day of service time.
DEFAULT_TARGET = timedelta(hours=8)


class InboxItem(Model):
    """A reply or a mention waiting for (or given) an answer."""

    model_config = ConfigDict(frozen=True)

    id: str
    account: str
    platform: str
    kind: Literal["reply", "mention"]
    remote_id: str
    url: str | None = None
    author: str
    author_name: str | None = None
    text: str
    received_at: datetime
    in_reply_to_id: str | None = None
    delivery_id: str | None = None
    status: Literal["open", "answered", "closed"]
    assigned_to: str | None = None
    responded_at: datetime | None = None
    responder: str | None = None
    response_id: str | None = None
    response_url: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_reason: str | None = None
    ref_extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def response_seconds(self) -> float | None:
        """Clock seconds from receipt to the first answer (None while unanswered)."""
        if self.responded_at is None:
            return None
        return (self.responded_at - self.received_at).total_seconds()

    def interaction(self, account: Account) -> Interaction:
        """The platform interaction, as ``account`` (the receiving account) can answer it."""
        return Interaction(
            kind=self.kind,
            ref=PostRef(
                platform=self.platform,
                account=account,
                id=self.remote_id,
                url=self.url,
                extra=self.ref_extra,
            ),
            author=self.author,
            author_name=self.author_name,
            text=self.text,
            created_at=self.received_at,
            in_reply_to_id=self.in_reply_to_id,
        )


@dataclass
class SyncResult:
    """What a sync found: new items per account, and the accounts that failed (why)."""

    new: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """How many new items arrived, over every account."""
        return sum(self.new.values())


def _same_person(author: str, handle: str) -> bool:
    """Whether ``author`` (as a platform names it) is the account ``handle`` itself."""
    a, h = author.casefold().lstrip("@"), handle.casefold().lstrip("@")
    return bool(a) and (a == h or a == h.split("@")[0] or h == a.split("@")[0])


class Inbox:
    """The unified inbox of a workspace: syncing, reading, assigning, replying, closing.

    :param core: the workspace core (or the :class:`govsocial.Workspace` carrying one).
    """

    def __init__(self, core: WorkspaceCore | HasCore) -> None:
        self.core = core_of(core)
        self.store = self.core.store

    # -- service hours -----------------------------------------------------------------------

    def set_service_hours(
        self,
        account: str,
        hours: str = DEFAULT_HOURS,
        *,
        holidays: str | Sequence[date | str] | None = "ID",
        target: timedelta = DEFAULT_TARGET,
        by: str | None = None,
    ) -> ServiceHours:
        """When ``account``'s team answers (``"Mon-Fri 08:00-16:00"``), which holidays are
        off (``"ID"``: Indonesia's public holidays; add dates for cuti bersama), and the
        response target, in service time."""
        self.core.account_row(account)
        parsed = ServiceHours.parse(hours, holidays=holidays)
        if target.total_seconds() <= 0:
            raise ConfigurationError("the response target must be positive", field="target")
        with self.store.transaction() as cur:
            self.store.inbox.put_service_hours(
                cur, account, json.dumps(parsed.to_dict()), target.total_seconds()
            )
            self.core.record(
                cur,
                by,
                "set_service_hours",
                account=account,
                detail={**parsed.to_dict(), "target_hours": target.total_seconds() / 3600},
            )
        return parsed

    def service_hours(self, account: str) -> tuple[ServiceHours, timedelta]:
        """``account``'s service hours and response target (the defaults when unset)."""
        with self.store.transaction() as cur:
            row = self.store.inbox.service_hours(cur, account)
        if row is None:
            return ServiceHours.parse(), DEFAULT_TARGET
        return ServiceHours.from_dict(json.loads(row[0])), timedelta(seconds=float(row[1]))

    # -- syncing ---------------------------------------------------------------------------------

    def sync(
        self,
        accounts: Sequence[str] | None = None,
        *,
        window: timedelta = timedelta(days=7),
        **client_options: Any,
    ) -> SyncResult:
        """Pull new replies and mentions from every account (or ``accounts``); say what each
        account brought and which failed. Replies are read for posts published within
        ``window``."""
        names = list(accounts) if accounts else [row.name for row in self.store.accounts()]
        with self.core.using_client(**client_options) as client:
            return client.run(self._sync(client.async_client, names, window))

    async def _sync(
        self, client: AsyncClient, names: Sequence[str], window: timedelta
    ) -> SyncResult:
        result = SyncResult()
        slots = asyncio.Semaphore(8)

        async def one(name: str) -> None:
            async with slots:
                try:
                    result.new[name] = await self._sync_account(client, name, window)
                except GovSocialError as error:
                    result.failed[name] = str(error)
                    logger.warning("inbox sync of %s failed: %s", name, error)

        await asyncio.gather(*(one(name) for name in names))
        return result

    async def _sync_account(self, client: AsyncClient, name: str, window: timedelta) -> int:
        account = self.core.account(name)
        since = self._cursor(name, "mentions")
        found: list[tuple[Interaction, str | None]] = []
        try:
            mentions = await client.fetch_mentions(account, since=since)
        except NotSupported:  # the platform cannot list mentions: nothing to sync, no failure
            mentions = []
        found += [(m, None) for m in mentions]
        for delivery_id, ref in self._recent_posts(name, account, window):
            try:
                replies = await client.fetch_replies(ref)
            except NotSupported:  # the platform cannot list replies, for any post
                break
            except GovSocialError as error:  # one post gone must not stop the others
                logger.info("replies of %s on %s not read: %s", ref.id, name, error)
                continue
            found += [(r, delivery_id) for r in replies]
        new = self._store_items(name, account, found)
        if mentions:
            latest = max(m.created_at for m in mentions)
            self._set_cursor(name, "mentions", latest.isoformat())
        return new

    def _recent_posts(
        self, name: str, account: Account, window: timedelta
    ) -> list[tuple[str, PostRef]]:
        cutoff = time.time() - window.total_seconds()
        with self.store.transaction() as cur:
            rows = self.store.inbox.recent_posts(cur, name, cutoff)
        return [
            (
                row[0],
                PostRef(
                    platform=account.platform,
                    account=account,
                    id=row[1],
                    url=row[2],
                    extra=json.loads(row[3]) if row[3] else {},
                ),
            )
            for row in rows
        ]

    def _store_items(
        self, name: str, account: Account, found: Sequence[tuple[Interaction, str | None]]
    ) -> int:
        now = time.time()
        new = 0
        with self.store.transaction() as cur:
            delivery_of = self.store.inbox.own_posts(cur, name)  # by platform id
            answers = self.store.inbox.own_answers(cur, name)
            ours = delivery_of.keys() | answers
            for interaction, delivery_id in found:
                remote_id = interaction.ref.id
                if remote_id in ours or _same_person(interaction.author, account.handle):
                    continue  # the account's own posts and answers are not questions
                threaded = delivery_id or delivery_of.get(interaction.in_reply_to_id or "")
                added = self.store.inbox.add_item(
                    cur,
                    (
                        uuid.uuid4().hex[:12],
                        name,
                        remote_id,
                        interaction.kind,
                        interaction.ref.url,
                        json.dumps(dict(interaction.ref.extra), sort_keys=True),
                        interaction.author,
                        interaction.author_name,
                        interaction.text,
                        interaction.created_at.timestamp(),
                        interaction.in_reply_to_id,
                        threaded,
                    ),
                    now,
                )
                if added:
                    new += 1
                elif interaction.kind == "reply" and threaded:
                    # seen first as a mention (Mastodon notifies replies as mentions too)
                    self.store.inbox.thread_reply(cur, name, remote_id, threaded)
        return new

    def _cursor(self, account: str, kind: str) -> datetime | None:
        with self.store.transaction() as cur:
            value = self.store.inbox.cursor(cur, account, kind)
        return datetime.fromisoformat(value) if value else None

    def _set_cursor(self, account: str, kind: str, value: str) -> None:
        with self.store.transaction() as cur:
            self.store.inbox.put_cursor(cur, account, kind, value, time.time())

    # -- reading ---------------------------------------------------------------------------------

    def items(
        self,
        status: str | None = "open",
        *,
        account: str | None = None,
        older_than: timedelta | None = None,
        assigned_to: str | None = None,
    ) -> list[InboxItem]:
        """Items, oldest first: ``status`` ``"open"`` (default), ``"answered"``, ``"closed"``
        or None for all; ``older_than`` keeps those waiting longer than that."""
        if status is not None and status not in ("open", "answered", "closed"):
            raise ConfigurationError(
                f"unknown inbox status {status!r}",
                field="status",
                hint="open, answered, closed, or None for all",
            )
        equal = {
            column: value
            for column, value in (
                ("status", status),
                ("account", account),
                ("assigned_to", assigned_to),
            )
            if value is not None
        }
        before = time.time() - older_than.total_seconds() if older_than is not None else None
        return self._items(equal=equal, received_before=before)

    def item(self, item_id: str) -> InboxItem:
        """The item with ``item_id``.

        :raises ConfigurationError: there is none.
        """
        found = self._items(item_id=item_id)
        if not found:
            raise ConfigurationError(f"no inbox item {item_id!r}", field="item_id")
        return found[0]

    def _items(self, **where: Any) -> list[InboxItem]:
        platforms = {row.name: row.platform for row in self.store.accounts()}
        with self.store.transaction() as cur:
            rows = self.store.inbox.items(cur, **where)
        return [
            InboxItem(
                id=r[0],
                account=r[1],
                platform=platforms.get(r[1], "?"),
                remote_id=r[2],
                kind=r[3],
                url=r[4],
                ref_extra=json.loads(r[5]) if r[5] else {},
                author=r[6],
                author_name=r[7],
                text=r[8],
                received_at=from_epoch(r[9]),
                in_reply_to_id=r[10],
                delivery_id=r[11],
                status=r[12],
                assigned_to=r[13],
                responded_at=from_epoch(r[14]) if r[14] is not None else None,
                responder=r[15],
                response_id=r[16],
                response_url=r[17],
                closed_at=from_epoch(r[18]) if r[18] is not None else None,
                closed_by=r[19],
                close_reason=r[20],
            )
            for r in rows
        ]

    # -- acting ----------------------------------------------------------------------------------

    def assign(self, item_id: str, *, to: str, by: str | None = None) -> InboxItem:
        """Give the item to ``to`` to answer (on a governed account, someone who may reply)."""
        item = self.item(item_id)
        self.core.authority.person(to)
        if self.core.authority.governed(item.account):
            try:
                self.core.authority.authorize("reply", to, [item.account], obj=item_id)
            except NotPermitted as refused:
                raise NotPermitted(
                    f"{to} cannot answer on {item.account!r}: {refused.message}",
                    actor=by,
                    action="assign",
                    account=item.account,
                    hint="assign it to an admin of the account",
                ) from None
        with self.store.transaction() as cur:
            self.store.inbox.assign(cur, item_id, to)
            self.core.record(
                cur, by, "assign", obj=item_id, account=item.account, detail={"to": to}
            )
        return self.item(item_id)

    def close_item(self, item_id: str, *, by: str | None = None, reason: str) -> InboxItem:
        """Close the item: ``"answered"`` (elsewhere), ``"no reply needed"`` or ``"spam"``."""
        if reason not in CLOSE_REASONS:
            raise ConfigurationError(
                f"unknown close reason {reason!r}",
                field="reason",
                hint=f"one of: {', '.join(CLOSE_REASONS)}",
            )
        item = self.item(item_id)
        decrees = self.core.authority.authorize("reply", by, [item.account], obj=item_id)
        with self.store.transaction() as cur:
            self.store.inbox.close(cur, item_id, by, reason, time.time())
            self.core.record(
                cur,
                by,
                "close",
                obj=item_id,
                account=item.account,
                decree=decrees[item.account],
                detail={"reason": reason},
            )
        return self.item(item_id)

    def reply(
        self,
        to: str | PostRef | Interaction,
        post: Post | str,
        *,
        by: str | None = None,
        **client_options: Any,
    ) -> PostRef:
        """Reply to an inbox item (its id), a post or an interaction, as the workspace account
        that received it; audit-logged, and for an item with how long the answer took (in
        clock and service time); the item is then ``answered``."""
        item = None
        if isinstance(to, str):
            item = self.item(to)
            to = item.interaction(self.core.account(item.account))
        ref = to.ref if isinstance(to, Interaction) else to
        name = item.account if item is not None else self.core.account_name(ref.account)
        decrees = self.core.authority.authorize(
            "reply", by, [name], obj=item.id if item else ref.id
        )
        account = self.core.account(name)
        target = ref.model_copy(update={"account": account})  # with opened credentials
        with self.core.using_client(**client_options) as client:
            sent = client.reply(target, post)
        with self.store.transaction() as cur:
            detail: dict[str, Any] = {"in_reply_to": ref.id, "url": sent.url}
            if item is not None:
                detail |= self._record_response(cur, item, sent, by, time.time())
            self.core.record(
                cur, by, "reply", obj=sent.id, account=name, decree=decrees[name], detail=detail
            )
        return sent

    def _record_response(
        self, cur: Tx, item: InboxItem, sent: PostRef, by: str | None, at: float
    ) -> dict[str, Any]:
        """Mark ``item`` answered by ``sent`` (the first answer counts); the audit detail."""
        first = item.responded_at is None
        if first:
            self.store.inbox.answered(cur, item.id, at, by, sent.id, sent.url)
        hours, _target = self.service_hours(item.account)
        zone = self.core.account_row(item.account).timezone
        received = item.received_at
        answered = from_epoch(at)
        return {
            "item": item.id,
            "first": first,
            "received_at": received.isoformat(),
            "response_seconds": (answered - received).total_seconds(),
            "service_seconds": hours.elapsed(received, answered, zone),
        }

    def archived_interactions(self, start: float | None, end: float | None) -> list[dict[str, Any]]:
        """Received replies and mentions of a period, as archive records."""
        return [
            {
                "type": "interaction",
                "item": item.id,
                "kind": item.kind,
                "account": item.account,
                "platform": item.platform,
                "remote_id": item.remote_id,
                "url": item.url,
                "author": item.author,
                "author_name": item.author_name,
                "text": item.text,
                "at": item.received_at.isoformat(),
                "in_reply_to_id": item.in_reply_to_id,
                "delivery": item.delivery_id,
                "status": item.status,
                "responder": item.responder,
                "responded_at": item.responded_at.isoformat() if item.responded_at else None,
                "response_url": item.response_url,
                "closed_by": item.closed_by,
                "close_reason": item.close_reason,
            }
            for item in self._items(received_from=start, received_before=end)
        ]


Conversations = Inbox  # the 0.1 name of the inbox half of the workspace
