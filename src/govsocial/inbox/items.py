"""The unified inbox: replies and mentions from every account, and who answered them when.

:class:`Inbox` is the workspace service (``ws.pull_inbox()``, ``ws.inbox()`` ... on
:class:`~govsocial.Workspace` delegate to it):

- ``sync()``: pull new replies and mentions from every account, de-duplicated across
  syncs by the platform's id, threaded to the post they answer, incrementally, through the
  client's rate budgets. Where the adapter has ``fetch_activity`` (the platform's
  notifications, or one batch read for all recent posts) a sync costs a fixed number of
  requests per account, from a cursor stored in the same transaction as the items;
  elsewhere mentions are read since a cursor (on the platform's clock with an overlap
  window, never on an author-written date) and replies post by post for the posts
  published within the window. The account's own posts (its answers) are never inbox
  items. One bad page or item is reported in the result's failures and skipped; it never
  aborts the sync.
- An item's ``received_at`` is when the platform received it (Bluesky ``indexedAt``, the
  Mastodon notification) or, failing that, the author's date, clamped to what the workspace
  saw: never later than the sync that first saw it, never earlier than the sync before it.
  An author date outside that is kept as ``claimed_at`` and flagged ``clock_skew``.
- Every item is classified once stored (:func:`govsocial.classify`: intent, sentiment,
  confidence, the classifier that decided, the reasons); an emergency is then given to
  every ``notify`` hook (once delivered, never again; retried at the next sync while no
  implementation delivered it).
- ``items(status="open", account=None, older_than=None, intent=None)``: the items,
  emergencies first, then oldest first.
- ``assign``, ``reply`` (audited, with the response time) and ``close_item``.
- ``escalate`` (to a ticket system a plugin registers, once per item and target, the ticket
  stored on the item and audited) and ``escalations``.
- ``label`` (a person corrects the classification, audited) and ``labels`` (every item's
  latest label with its text: training data), ``export_labels`` (JSON Lines or CSV).
- ``set_service_hours``: the hours and holidays response times are counted in, and the
  target (answered within it, in service time).
- ``forget`` (a citizen's erasure request), ``set_retention`` and ``apply_retention``:
  erase citizens' content and keep the service statistics (see
  :mod:`govsocial.inbox.erasure`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field

from govsocial.core.errors import (
    ConfigurationError,
    GovSocialError,
    NotFound,
    NotPermitted,
    NotSupported,
    PlatformError,
    PublishOutcomeUnknown,
    ValidationError,
)
from govsocial.core.listening import INTENTS, SENTIMENTS, Classification, Escalation, Notice, Ticket
from govsocial.core.models import Account, Interaction, Model, Post, PostRef
from govsocial.core.problem import Problem
from govsocial.core.timing import from_epoch
from govsocial.inbox import erasure
from govsocial.inbox.erasure import Erasure
from govsocial.inbox.service_hours import DEFAULT_HOURS, ServiceHours
from govsocial.listening.clarification import CLARIFICATION_LABEL, clarification_reply
from govsocial.listening.classify import classify
from govsocial.scheduling.jobs import Job
from govsocial.scheduling.planner import Planner
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of
from govsocial.workspace.signing import SigningKey, signed

if TYPE_CHECKING:
    from govsocial.client import AsyncClient
    from govsocial.store.sql import Tx
    from govsocial.workspace.audit import AuditEntry

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
    #: the date the author's app wrote (None for items synced before govsocial kept it)
    claimed_at: datetime | None = None
    #: the author's date is far from when the platform and the workspace saw the item
    #: (dated in the future, or backdated): ``received_at`` does not use it
    clock_skew: bool = False
    #: when the citizen's content was erased (``forget`` or retention): the text, author,
    #: URL and platform id are gone, the times and the agency's side stay
    erased_at: datetime | None = None
    #: what the item is (None until classified, for a moment after a sync stores it)
    intent: str | None = None
    sentiment: str | None = None
    confidence: float | None = None
    #: who decided: ``"govsocial.lexicon"``, a plugin's classifier, or ``"person"``
    classifier: str | None = None
    language: str | None = None
    #: why (they may quote the message: erased with it)
    reasons: tuple[str, ...] = ()
    #: when an emergency's notice went out
    notified_at: datetime | None = None
    #: the latest ticket an escalation opened (its reference), the target, and when
    ticket: str | None = None
    ticket_target: str | None = None
    escalated_at: datetime | None = None

    @property
    def erased(self) -> bool:
        """Whether the citizen's content of this item was erased."""
        return self.erased_at is not None

    @property
    def classification(self) -> Classification | None:
        """The item's classification (None before it is classified)."""
        if self.intent is None:
            return None
        return Classification.model_validate(
            {
                "intent": self.intent,
                "sentiment": self.sentiment or "neutral",
                "confidence": self.confidence if self.confidence is not None else 0.0,
                "reasons": self.reasons,
                "classifier": self.classifier or "unknown",
                "language": self.language,
            }
        )

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
    """What a sync found: new items per account, and the accounts that failed (why).

    An account whose mentions or replies were read only in part (a bad page, a bad item)
    has both its ``new`` count and, in ``failed``, what was skipped; ``problems`` lists each.
    """

    new: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    #: the ids of the items classified as emergencies in this sync
    emergencies: list[str] = field(default_factory=list)
    #: how many emergency notices went out in this sync
    notified: int = 0

    def report(self, account: str, problem: str) -> None:
        """Record (and log) that part of ``account``'s sync failed: ``problem`` says what."""
        logger.warning("inbox sync of %s: %s", account, problem)
        self.problems.setdefault(account, []).append(problem)
        self.failed[account] = "; ".join(self.problems[account])

    @property
    def total(self) -> int:
        """How many new items arrived, over every account."""
        return sum(self.new.values())


#: How far an author's date may stray from the platform's and the workspace's clocks before
#: the item is flagged ``clock_skew``; also the overlap each mentions sync re-reads.
CLOCK_TOLERANCE = timedelta(minutes=10)


def _same_person(author: str, account: Account) -> bool:
    """Whether ``author`` (as a platform names it) is ``account`` itself.

    Names are compared whole: ``humas@evil.example`` is not ``@humas`` of
    ``https://social.go.id``. A name without a domain is local to the account's server
    (Mastodon's ``acct``), so ``humas`` there is ``@humas@social.go.id``.
    """
    a, h = author.casefold().lstrip("@"), account.handle.casefold().lstrip("@")
    if not a or not h:
        return False
    if a == h:
        return True
    a_user, _, a_domain = a.partition("@")
    h_user, _, h_domain = h.partition("@")
    if a_user != h_user:
        return False
    if not a_domain:  # a local account of the server this account lives on
        return True
    home = urlsplit(account.base_url).hostname if account.base_url else None
    return not h_domain and home is not None and a_domain == home.casefold()


def _clean(text: str | None) -> str | None:
    """``text`` without lone surrogates (a database refuses them): each becomes U+FFFD."""
    if text is None:
        return None
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _item_row(
    name: str,
    account: Account,
    interaction: Interaction,
    delivery_id: str | None,
    delivery_of: dict[str, str],
    seen: datetime,
    floor: datetime | None,
) -> tuple[tuple[Any, ...], float | None, bool] | None:
    """The row of one item, its author's date and whether that is implausible; None for
    the account's own post. Raises on an item that cannot be stored."""
    if _same_person(interaction.author, account):
        return None
    claimed = _aware(interaction.created_at)
    platform = _aware(interaction.received_at) if interaction.received_at else claimed
    received = min(platform, seen)
    if floor is not None:
        received = max(received, min(floor, seen))
    skew = claimed > seen + CLOCK_TOLERANCE or claimed < received - CLOCK_TOLERANCE
    threaded = (
        delivery_id
        or delivery_of.get(interaction.in_reply_to_id or "")
        or delivery_of.get(interaction.thread_id or "")
    )
    remote_id = _clean(str(interaction.ref.id)) or ""
    if not remote_id:
        raise ValueError("the platform gave no id")
    values = (
        uuid.uuid4().hex[:12],
        name,
        remote_id,
        "reply" if threaded else interaction.kind,  # a mention that answers our post
        _clean(interaction.ref.url),
        json.dumps(dict(interaction.ref.extra), sort_keys=True, ensure_ascii=True),
        _clean(interaction.author) or "",
        _clean(interaction.author_name),
        _clean(interaction.text) or "",
        received.timestamp(),
        _clean(interaction.in_reply_to_id),
        threaded,
    )
    return values, claimed.timestamp(), skew


def _not_a_clarification(message: str, hint: str) -> ValidationError:
    return ValidationError(
        [Problem(code="not_a_clarification", message=message, field="clarification")],
        subject="clarification",
        hint=hint,
    )


def _check_label(intent: str | None, sentiment: str | None) -> None:
    """Refuse an intent or sentiment the classifier does not know."""
    if intent is not None and intent not in INTENTS:
        raise ConfigurationError(
            f"unknown intent {intent!r}", field="intent", hint=f"one of: {', '.join(INTENTS)}"
        )
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise ConfigurationError(
            f"unknown sentiment {sentiment!r}",
            field="sentiment",
            hint=f"one of: {', '.join(SENTIMENTS)}",
        )


def _why(error: BaseException) -> str:
    """What went wrong, in one line (a GovSocialError's message; else its type and text)."""
    if isinstance(error, GovSocialError):
        return str(error)
    return f"{type(error).__name__}: {error}"[:500]


class Inbox:
    """The unified inbox of a workspace: syncing, reading, assigning, replying, closing.

    :param core: the workspace core (or the :class:`govsocial.Workspace` carrying one).
    """

    def __init__(self, core: WorkspaceCore | HasCore) -> None:
        self.core = core_of(core)
        self.store = self.core.store

    # -- service hours -----------------------------------------------------------------------

    @signed
    def set_service_hours(
        self,
        account: str,
        hours: str = DEFAULT_HOURS,
        *,
        holidays: str | Sequence[date | str] | None = "ID",
        target: timedelta = DEFAULT_TARGET,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> ServiceHours:
        """When ``account``'s team answers (``"Mon-Fri 08:00-16:00"``), which holidays are
        off (``"ID"``: Indonesia's public holidays; add dates for cuti bersama), and the
        response target, in service time."""
        self.core.account_row(account)
        parsed = ServiceHours.parse(hours, holidays=holidays)
        if target.total_seconds() <= 0:
            raise ConfigurationError("the response target must be positive", field="target")

        def write(cur: Tx, decree: str | None) -> None:
            self.store.inbox.put_service_hours(
                cur, account, json.dumps(parsed.to_dict()), target.total_seconds()
            )
            self.core.record(
                cur,
                by,
                "set_service_hours",
                account=account,
                decree=decree,
                detail={**parsed.to_dict(), "target_hours": target.total_seconds() / 3600},
            )

        self.core.authority.as_head("set_service_hours", by, write, account=account)
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
        account brought and which failed. Where the platform has a notifications or batch
        read (``fetch_activity``), replies to posts of any age arrive and ``window`` only
        bounds the first sync and the posts whose reply counts are checked; elsewhere
        replies are read post by post for the posts published within ``window``."""
        names = list(accounts) if accounts else [row.name for row in self.store.accounts()]
        with self.core.using_client(**client_options) as client:
            result = client.run(self._sync(client.async_client, names, window))
        result.emergencies = [
            item_id
            for item_id, found in self.classify_pending().items()
            if found.intent == "emergency"
        ]
        result.notified = self.notify_pending()
        return result

    # -- classifying and notifying ---------------------------------------------------------

    def classify_pending(self, *, limit: int = 500) -> dict[str, Classification]:
        """Classify the items not classified yet (new ones, and those synced before
        govsocial classified), up to ``limit``: each item's classification by id.

        Each message is classified outside any transaction (a plugin's classifier may ask
        a hosted model), then stored; an item a person labelled meanwhile keeps the label.
        """
        with self.store.transaction() as cur:
            pending = self.store.inbox.unclassified(cur, limit)
        done: dict[str, Classification] = {}
        for item_id, text in pending:
            found = classify(text, plugins=self.core.plugins)
            with self.store.transaction() as cur:
                if self.store.inbox.classify(
                    cur,
                    item_id,
                    found.intent,
                    found.sentiment,
                    found.confidence,
                    found.classifier,
                    found.language,
                    json.dumps(list(found.reasons), ensure_ascii=False),
                    only_unclassified=True,
                ):
                    done[item_id] = found
        return done

    def notify_pending(self) -> int:
        """Give every emergency whose notice has not gone out to the ``notify`` hooks: how
        many went out. An item is done once an implementation delivered it (or when none is
        registered); while every implementation fails, the next sync tries again."""
        with self.store.transaction() as cur:
            pending = self.store.inbox.unnotified_emergencies(cur)
        sent = 0
        for item_id in pending:
            item = self.item(item_id)
            notice = Notice(
                kind="emergency",
                subject=f"Darurat / emergency on {item.account}: {item.text[:80]}",
                text=item.text,
                account=item.account,
                platform=item.platform,
                item_id=item.id,
                url=item.url,
                author=item.author,
                received_at=item.received_at,
                classification=item.classification,
            )
            delivered, failed = self.core.plugins.notify(notice)
            if delivered or not failed:
                with self.store.transaction() as cur:
                    self.store.inbox.notified(cur, item_id, time.time())
                sent += delivered > 0
            else:
                logger.warning("the emergency notice of inbox item %s was not delivered", item_id)
        return sent

    async def _sync(
        self, client: AsyncClient, names: Sequence[str], window: timedelta
    ) -> SyncResult:
        result = SyncResult()
        slots = asyncio.Semaphore(8)

        async def one(name: str) -> None:
            async with slots:
                try:
                    result.new[name] = await self._sync_account(client, name, window, result)
                except Exception as error:  # noqa: BLE001 - one account never stops the others
                    result.report(name, _why(error))

        await asyncio.gather(*(one(name) for name in names))
        return result

    async def _sync_account(
        self, client: AsyncClient, name: str, window: timedelta, result: SyncResult
    ) -> int:
        """Read what arrived for ``name`` and store it: through the platform's notifications
        or batch read (:meth:`~govsocial.adapters.Platform.fetch_activity`) where the adapter
        has one, else mentions and then replies post by post."""
        account = self.core.account(name)
        started = datetime.now(UTC)
        posts = self._recent_posts(name, account, window)
        with self.store.transaction() as cur:
            cursor = self.store.inbox.cursor(cur, name, "activity")
        mentioned = self._cursor(name, "mentions")  # where a per-post sync stopped, if any
        if mentioned is not None:
            mentioned = min(mentioned, started)
        since = mentioned - CLOCK_TOLERANCE if mentioned is not None else started - window
        try:
            activity = await client.fetch_activity(
                account, cursor=cursor, since=since, posts=[ref for _, ref in posts]
            )
        except NotSupported:  # no notifications or batch read: mentions, then post by post
            return await self._sync_per_post(client, name, account, posts, started, result)
        for note in activity.notes:
            result.report(name, note)
        previous = self._cursor(name, "synced")
        seen = datetime.now(UTC)
        return self._store_items(
            name,
            account,
            [(interaction, None) for interaction in activity.interactions],
            seen=seen,
            floor=previous - CLOCK_TOLERANCE if previous is not None else None,
            result=result,
            cursors={"activity": activity.cursor} if activity.cursor is not None else {},
            synced=started,
        )

    async def _sync_per_post(
        self,
        client: AsyncClient,
        name: str,
        account: Account,
        posts: Sequence[tuple[str, PostRef]],
        started: datetime,
        result: SyncResult,
    ) -> int:
        """Mentions since the mentions cursor, then the replies of each post in the window:
        one request per post, for platforms with nothing cheaper."""
        cursor = self._cursor(name, "mentions")
        if cursor is not None:  # one a 0.2 sync took from an author's 2099 date
            cursor = min(_aware(cursor), started)
        previous = self._cursor(name, "synced")
        # the platform's clock, re-reading an overlap: a late-indexed mention is not lost,
        # and one already stored is recognised by its platform id
        since = cursor - CLOCK_TOLERANCE if cursor is not None else None
        found: list[tuple[Interaction, str | None]] = []
        mentions: list[Interaction] = []
        mentions_read = False
        try:
            mentions = list(await client.fetch_mentions(account, since=since))
            mentions_read = True
        except NotSupported:  # the platform cannot list mentions: nothing to sync, no failure
            pass
        except Exception as error:  # noqa: BLE001 - a bad page: reported, replies still read
            result.report(name, f"mentions not read: {_why(error)}")
        found += [(m, None) for m in mentions]
        for delivery_id, ref in posts:
            try:
                replies = await client.fetch_replies(ref)
            except NotSupported:  # the platform cannot list replies, for any post
                break
            except GovSocialError as error:  # one post gone must not stop the others
                logger.info("replies of %s on %s not read: %s", ref.id, name, error)
                continue
            except Exception as error:  # noqa: BLE001 - a bad page: reported, next post read
                result.report(name, f"replies to {ref.id} not read: {_why(error)}")
                continue
            found += [(r, delivery_id) for r in replies]
        seen = datetime.now(UTC)
        cursors: dict[str, str] = {}
        if mentions_read:
            latest = self._mentions_cursor(mentions, seen)
            if latest is not None and (cursor is None or latest > cursor):
                cursors["mentions"] = latest.isoformat()
        return self._store_items(
            name,
            account,
            found,
            seen=seen,
            floor=previous - CLOCK_TOLERANCE if previous is not None else None,
            result=result,
            cursors=cursors,
            synced=started,
        )

    @staticmethod
    def _mentions_cursor(mentions: Sequence[Interaction], seen: datetime) -> datetime | None:
        """Where the next mentions sync starts: the newest the platform received, by its
        clock; an adapter that gives no ``received_at`` has its author dates capped at the
        time of this sync, so a mention dated 2099 cannot hide later ones."""
        times = [
            min(_aware(m.received_at or m.created_at), seen)
            for m in mentions
            if isinstance(m, Interaction)
        ]
        return max(times) if times else None

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
        self,
        name: str,
        account: Account,
        found: Sequence[tuple[Interaction, str | None]],
        *,
        seen: datetime | None = None,
        floor: datetime | None = None,
        result: SyncResult | None = None,
        cursors: Mapping[str, str] | None = None,
        synced: datetime | None = None,
    ) -> int:
        """Store the new items; ``seen`` is when this sync saw them, ``floor`` the earliest a
        new one can have arrived (the previous sync, less the tolerance).

        ``cursors`` (kind to value) are written in the same transaction as the items, and
        so is ``synced`` (when this sync started) unless part of the account's read failed:
        a crash before the commit leaves both where they were, and the next sync reads the
        same items again (recognised by their platform id)."""
        seen = seen or datetime.now(UTC)
        result = result if result is not None else SyncResult()
        new = 0
        with self.store.transaction() as cur:
            own = self.store.inbox.own_posts(cur, name)  # by platform id
            answers = self.store.inbox.own_answers(cur, name)
            ours = own.keys() | answers
            parents = sorted(
                {
                    str(i.in_reply_to_id)
                    for i, _ in found
                    if isinstance(i, Interaction) and i.in_reply_to_id
                }
                - own.keys()
            )
            # a reply to a citizen's reply is threaded to the post that citizen answered
            delivery_of = {**self.store.inbox.threads_of(cur, name, parents), **own}
            ids = sorted({str(i.ref.id) for i, _ in found if isinstance(i, Interaction)})
            pseudonyms = erasure.tombstones(self.core, cur, ids)
            erased = self.store.inbox.erased_among(cur, name, sorted(pseudonyms.values()))
            for interaction, delivery_id in found:
                try:
                    row = _item_row(
                        name, account, interaction, delivery_id, delivery_of, seen, floor
                    )
                except Exception as error:  # noqa: BLE001 - a bad item: reported, others stored
                    result.report(name, f"an item was skipped: {_why(error)}")
                    continue
                if row is None:
                    continue
                values, claimed, skew = row
                remote_id, threaded = str(values[2]), values[11]
                if remote_id in ours:
                    continue  # the account's own posts and answers are not questions
                if pseudonyms.get(remote_id) in erased:
                    continue  # erased (forgotten, or past retention): never brought back
                if threaded:  # its own replies, later in this read, join the same thread
                    delivery_of.setdefault(remote_id, threaded)
                added = self.store.inbox.add_item(
                    cur, values, seen.timestamp(), claimed_at=claimed, clock_skew=skew
                )
                if added:
                    new += 1
                    if skew:
                        logger.warning(
                            "inbox item %s of %s is dated %s by its author; received %s",
                            remote_id,
                            name,
                            from_epoch(claimed).isoformat() if claimed is not None else "?",
                            from_epoch(values[9]).isoformat(),
                        )
                elif values[3] == "reply" and threaded:
                    # seen first as a mention (Mastodon notifies replies as mentions too)
                    self.store.inbox.thread_reply(cur, name, remote_id, threaded)
            now = time.time()
            for kind, value in (cursors or {}).items():
                self.store.inbox.put_cursor(cur, name, kind, value, now)
            if synced is not None and not result.problems.get(name):
                # all was read: nothing new predates this sync
                self.store.inbox.put_cursor(cur, name, "synced", synced.isoformat(), now)
        return new

    def _cursor(self, account: str, kind: str) -> datetime | None:
        with self.store.transaction() as cur:
            value = self.store.inbox.cursor(cur, account, kind)
        return _aware(datetime.fromisoformat(value)) if value else None

    # -- reading ---------------------------------------------------------------------------------

    def items(
        self,
        status: str | None = "open",
        *,
        account: str | None = None,
        older_than: timedelta | None = None,
        assigned_to: str | None = None,
        intent: str | None = None,
        sentiment: str | None = None,
    ) -> list[InboxItem]:
        """Items, emergencies first, then oldest first: ``status`` ``"open"`` (default),
        ``"answered"``, ``"closed"`` or None for all; ``older_than`` keeps those waiting
        longer than that; ``intent`` (``"complaint"``...) and ``sentiment`` keep those so
        classified."""
        if status is not None and status not in ("open", "answered", "closed"):
            raise ConfigurationError(
                f"unknown inbox status {status!r}",
                field="status",
                hint="open, answered, closed, or None for all",
            )
        _check_label(intent, sentiment)
        equal = {
            column: value
            for column, value in (
                ("status", status),
                ("account", account),
                ("assigned_to", assigned_to),
                ("intent", intent),
                ("sentiment", sentiment),
            )
            if value is not None
        }
        before = time.time() - older_than.total_seconds() if older_than is not None else None
        return self._items(equal=equal, received_before=before, order="queue")

    def item(self, item_id: str) -> InboxItem:
        """The item with ``item_id``.

        :raises NotFound: there is none (a ConfigurationError, as before).
        """
        found = self._items(item_id=item_id)
        if not found:
            raise NotFound(f"no inbox item {item_id!r}", field="item_id")
        return found[0]

    def _items(self, **where: Any) -> list[InboxItem]:
        """Items as stored (``where`` as the store's ``items`` takes it)."""
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
                claimed_at=from_epoch(r[21]) if r[21] is not None else None,
                clock_skew=bool(r[22]),
                erased_at=from_epoch(r[23]) if r[23] is not None else None,
                intent=r[24],
                sentiment=r[25],
                confidence=float(r[26]) if r[26] is not None else None,
                classifier=r[27],
                language=r[28],
                reasons=tuple(json.loads(r[29])) if r[29] else (),
                notified_at=from_epoch(r[30]) if r[30] is not None else None,
                ticket=r[31],
                ticket_target=r[32],
                escalated_at=from_epoch(r[33]) if r[33] is not None else None,
            )
            for r in rows
        ]

    # -- acting ----------------------------------------------------------------------------------

    @signed
    def assign(
        self, item_id: str, *, to: str, by: str | None = None, key: SigningKey | None = None
    ) -> InboxItem:
        """Give the item to ``to`` to answer (on a governed account, someone who may reply)."""
        item = self.item(item_id)
        self.core.authority.person(to)
        if self.core.authority.governed(item.account):
            try:  # whether ``to`` could reply (``to`` is not acting: no signature asked)
                self.core.authority.decree_for("reply", to, item.account)
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

    @signed
    def close_item(
        self, item_id: str, *, by: str | None = None, reason: str, key: SigningKey | None = None
    ) -> InboxItem:
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

    @signed
    def reply(
        self,
        to: str | PostRef | Interaction,
        post: Post | str,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
        **client_options: Any,
    ) -> PostRef:
        """Reply to an inbox item (its id), a post or an interaction, as the workspace account
        that received it; audit-logged, and for an item with how long the answer took (in
        clock and service time); the item is then ``answered``."""
        item = None
        if isinstance(to, str):
            item = self.item(to)
            if item.erased:
                raise ConfigurationError(
                    f"inbox item {item.id} was erased on request or by retention: "
                    "it can no longer be answered",
                    field="to",
                    hint="answer the citizen's newer message, if there is one",
                )
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
            # an item's answer names the item, not the citizen's post: the platform id can
            # name its author (Bluesky's holds the DID), and the audit log is never erased
            detail: dict[str, Any] = {"url": sent.url}
            if isinstance(post, Post) and "clarification_reply" in post.labels:
                detail["clarification"] = post.labels["clarification_reply"]
                if "clarification_job" in post.labels:
                    detail["clarification_job"] = post.labels["clarification_job"]
            if item is None:
                detail["in_reply_to"] = ref.id
            else:
                detail |= self._record_response(cur, item, sent, by, time.time())
            self.core.record(
                cur, by, "reply", obj=sent.id, account=name, decree=decrees[name], detail=detail
            )
        return sent

    @signed
    def answer_with_clarification(
        self,
        item_id: str,
        clarification: str | Job,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
        language: str | None = None,
        **client_options: Any,
    ) -> PostRef:
        """Answer a hoax report with a published clarification's link: the reply (thanks,
        the verdict, the link; :func:`govsocial.clarification_reply`) goes to the item on
        its platform, is recorded as the item's answer, and its audit entry names the
        verdict, so the performance report counts it.

        :param clarification: the job that published the clarification (a
            :func:`govsocial.clarification` post), or its id, or the id of one of its
            deliveries. The link is that of its delivery on the item's account, else on the
            same platform, else the first published one with a link.
        :param language: of the answer (``"id"`` or ``"en"``; default: the item's language,
            else the clarification's).
        :raises NotFound: no such item, job or delivery.
        :raises ValidationError: the job is not a clarification, or none of its deliveries
            is published with a link (not yet, or deleted since; field ``clarification``).
        """
        item = self.item(item_id)
        job = self._clarification_job(clarification)
        verdict = job.post.labels.get(CLARIFICATION_LABEL)
        if not verdict:
            raise _not_a_clarification(
                f"job {job.id} is not a hoax clarification (its post has no "
                f"{CLARIFICATION_LABEL!r} label)",
                "write it with govsocial.clarification(claim=..., verdict=..., ...)",
            )
        published = [
            d
            for d in job.deliveries
            if d.status == "published"
            and d.ref is not None
            and d.ref.url
            and self.store.deleted_at(d.id) is None  # a deleted post's link leads nowhere
        ]
        platform = {d.account: self.core.account_row(d.account).platform for d in published}
        chosen = next(
            (d for d in published if d.account == item.account),
            next((d for d in published if platform[d.account] == item.platform), None),
        ) or (published[0] if published else None)
        if chosen is None or chosen.ref is None:
            raise _not_a_clarification(
                f"the clarification of job {job.id} is not published with a link yet",
                "answer once a worker has published it",
            )
        if language is None:
            language = item.language if item.language in ("id", "en") else job.post.language
        answer = clarification_reply(chosen.ref, verdict, language=language or "id")
        answer = answer.model_copy(
            update={"labels": {**answer.labels, "clarification_job": job.id}}
        )
        return self.reply(item.id, answer, by=by, **client_options)

    def _clarification_job(self, clarification: str | Job) -> Job:
        """The job ``clarification`` names (a Job, a job id or one of its deliveries' ids),
        as stored now: a Job kept from ``schedule`` still says it is scheduled."""
        planner = Planner(self.core)
        wanted = clarification.id if isinstance(clarification, Job) else str(clarification)
        try:
            return planner.job(wanted)
        except NotFound:
            owner = next((d.job_id for d in self.store.deliveries() if d.id == wanted), None)
            if owner is None:
                raise NotFound(
                    f"no job or delivery {wanted[:80]!r} in this workspace",
                    field="clarification",
                    hint="give the job that published the clarification (ws.schedule's result)",
                ) from None
            return planner.job(owner)

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

    # -- escalation --------------------------------------------------------------------------

    @signed
    def escalate(
        self,
        item_id: str,
        *,
        to: str,
        by: str | None = None,
        note: str | None = None,
        include_author: bool = False,
        resend: bool = False,
        key: SigningKey | None = None,
    ) -> Ticket:
        """Send the item to the escalation target ``to`` (a ticket system); the ticket.

        Once per item and target: escalating it there again returns the first ticket and
        sends nothing. The escalation is recorded (``sending``) before the target is called
        and its ticket stored on the item (``ticket``, ``ticket_target``, ``escalated_at``)
        and audit-logged (target, reference, the fields sent; never the message) once it
        answers. A target that failed is tried again with the same escalation id. One whose
        process died before the ticket was recorded is tried again with the same id when the
        target deduplicates (a webhook honouring ``Idempotency-Key``); otherwise (email)
        :class:`~govsocial.PublishOutcomeUnknown` asks to look first, and ``resend=True``
        sends again.

        :param note: the escalating person's note to the case officer.
        :param include_author: send the author's handle and name too (left out by default:
            personal data minimisation).
        :raises NotFound: no such item, or no target named ``to``.
        :raises NotPermitted: on an account under appointments, ``by`` may not answer it.
        :raises PlatformError: the target did not take it (tried again next time).
        """
        item = self.item(item_id)
        targets = self.core.plugins.escalation_targets()
        target = targets.get(to)
        if target is None:
            known = ", ".join(targets) or "none registered"
            raise NotFound(
                f"no escalation target named {to!r} ({known})",
                field="to",
                hint="register one: ws.plugins.register(govsocial.WebhookTarget(...)) "
                "(docs/listening.md, Escalation)",
            )
        if item.erased:
            raise ConfigurationError(
                f"inbox item {item.id} was erased on request or by retention: there is "
                "nothing left to escalate",
                field="item_id",
            )
        decrees = self.core.authority.authorize("reply", by, [item.account], obj=item_id)
        now = time.time()
        with self.store.transaction() as cur:
            new, escalation_id, status, reference, url = self.store.inbox.start_escalation(
                cur, item_id, to, uuid.uuid4().hex, by, now
            )
            if status == "sent" and reference is not None:
                return Ticket(reference=reference, url=url)
            if not new:
                interrupted = status == "sending"
                if interrupted and not getattr(target, "deduplicates", False) and not resend:
                    raise PublishOutcomeUnknown(
                        f"inbox item {item_id} was being escalated to {to!r} when its process "
                        "stopped (or another is escalating it now): the target may have it; "
                        "look there first, then escalate with resend=True",
                        platform=to,
                        account=item.account,
                        idempotency_key=escalation_id,
                    )
                self.store.inbox.retry_escalation(cur, item_id, to, by, now)
        escalation = Escalation(
            id=escalation_id,
            target=to,
            item_id=item.id,
            account=item.account,
            platform=item.platform,
            kind=item.kind,
            text=item.text,
            url=item.url,
            received_at=item.received_at,
            intent=item.intent,
            sentiment=item.sentiment,
            escalated_by=by,
            note=note,
            author=item.author if include_author else None,
            author_name=item.author_name if include_author else None,
        )
        try:
            ticket = target.escalate(escalation)
            if not isinstance(ticket, Ticket):
                raise PlatformError(
                    f"the escalation target {to!r} returned {type(ticket).__name__}, not a Ticket",
                    platform=to,
                )
        except GovSocialError as error:
            with self.store.transaction() as cur:
                self.store.inbox.escalation_failed(cur, item_id, to, str(error)[:1000])
            raise
        except Exception as error:  # noqa: BLE001 - a plugin's target: kept in the tree
            with self.store.transaction() as cur:
                self.store.inbox.escalation_failed(cur, item_id, to, repr(error)[:1000])
            raise PlatformError(
                f"the escalation target {to!r} failed: {type(error).__name__}: {error}",
                platform=to,
            ) from None
        sent = sorted(k for k, v in escalation.payload().items() if v is not None)
        with self.store.transaction() as cur:
            self.store.inbox.escalated(cur, item_id, to, ticket.reference, ticket.url, time.time())
            self.core.record(
                cur,
                by,
                "escalate",
                obj=item_id,
                account=item.account,
                decree=decrees[item.account],
                detail={
                    "target": to,
                    "ticket": ticket.reference,
                    "escalation": escalation_id,
                    "fields": sent,
                },
            )
        return ticket

    def escalations(self, item_id: str) -> list[dict[str, Any]]:
        """The item's escalations, oldest first: ``target``, ``escalation``, ``status``
        (``sending``, ``sent``, ``failed``), ``ticket``, ``url``, ``by``, ``started_at``,
        ``sent_at``, ``error``."""
        self.item(item_id)
        with self.store.transaction() as cur:
            rows = self.store.inbox.escalations(cur, item_id)
        return [
            {
                "target": r[0],
                "escalation": r[1],
                "status": r[2],
                "ticket": r[3],
                "url": r[4],
                "by": r[5],
                "started_at": from_epoch(r[6]).isoformat(),
                "sent_at": from_epoch(r[7]).isoformat() if r[7] is not None else None,
                "error": r[8],
            }
            for r in rows
        ]

    # -- erasure ---------------------------------------------------------------------------

    @signed
    def forget(
        self,
        who: str,
        *,
        by: str,
        reason: str,
        platform: str | None = None,
        key: SigningKey | None = None,
    ) -> Erasure:
        """Erase what the citizen ``who`` (handle or author id) wrote to the workspace's
        accounts, on every platform or only ``platform``; audit-logged with a pseudonym of
        the handle, never the handle (see :func:`govsocial.inbox.erasure.forget`)."""
        return erasure.forget(self.core, who, by=by, reason=reason, platform=platform)

    def forgotten(self, who: str) -> list[AuditEntry]:
        """The audit entries of each request to forget ``who``, oldest first."""
        return erasure.forgotten(self.core, who)

    @signed
    def set_retention(
        self, *, inbox_days: int | None, by: str, key: SigningKey | None = None
    ) -> int | None:
        """Keep inbox content ``inbox_days`` after it arrived (None: keep it, the
        default); ``govsocial worker`` and :meth:`apply_retention` erase what is older."""
        return erasure.set_retention(self.core, inbox_days, by=by)

    def retention(self) -> int | None:
        """The inbox retention in days (None: content is kept)."""
        return erasure.retention(self.core)

    @signed
    def apply_retention(
        self,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
        now: datetime | None = None,
    ) -> Erasure:
        """Erase the content of items older than the retention; counts of what was erased."""
        return erasure.apply_retention(self.core, by=by, now=now)

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
                "author": None if item.erased else item.author,
                "author_name": item.author_name,
                "text": None if item.erased else item.text,
                "intent": item.intent,
                "classifier": item.classifier,
                "at": item.received_at.isoformat(),
                "in_reply_to_id": item.in_reply_to_id,
                "delivery": item.delivery_id,
                "status": item.status,
                "responder": item.responder,
                "responded_at": item.responded_at.isoformat() if item.responded_at else None,
                "response_url": item.response_url,
                "closed_by": item.closed_by,
                "close_reason": item.close_reason,
                "erased_at": item.erased_at.isoformat() if item.erased_at else None,
            }
            for item in self._items(received_from=start, received_before=end)
        ]

    # -- labels ------------------------------------------------------------------------------

    @signed
    def label(
        self,
        item_id: str,
        *,
        intent: str,
        sentiment: str | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> InboxItem:
        """Correct the item's classification: a person decides (``classifier="person"``).

        Audit-logged with the classification it replaces (never the message's words), and
        kept as training data (:meth:`labels`). On a governed account ``by`` must be someone
        who may answer it.
        """
        _check_label(intent, sentiment)
        item = self.item(item_id)
        decrees = self.core.authority.authorize("reply", by, [item.account], obj=item_id)
        now = time.time()
        kept = sentiment or item.sentiment or "neutral"
        with self.store.transaction() as cur:
            self.store.inbox.add_label(
                cur,
                (
                    uuid.uuid4().hex[:12],
                    item_id,
                    intent,
                    sentiment,
                    item.intent,
                    item.sentiment,
                    item.classifier,
                    by,
                    now,
                ),
            )
            self.store.inbox.classify(
                cur,
                item_id,
                intent,
                kept,
                1.0,
                "person",
                item.language,
                json.dumps([f"labelled by {by or 'someone unnamed'}"]),
            )
            self.core.record(
                cur,
                by,
                "label",
                obj=item_id,
                account=item.account,
                decree=decrees[item.account],
                detail={
                    "intent": intent,
                    "sentiment": kept,
                    "previous_intent": item.intent,
                    "previous_classifier": item.classifier,
                },
            )
        return self.item(item_id)

    def labels(self) -> list[dict[str, Any]]:
        """Every labelled item's latest label with the message: training data for a
        classifier. Each row: ``item``, ``account``, ``text``, ``language``, ``intent``,
        ``sentiment``, ``machine_intent``, ``machine_sentiment``, ``machine_classifier``
        (what was there before the person's label), ``labelled_by``, ``labelled_at``."""
        with self.store.transaction() as cur:
            rows = self.store.inbox.labels(cur)
        return [
            {
                "item": r[0],
                "account": r[1],
                "text": r[2],
                "language": r[3],
                "intent": r[4],
                "sentiment": r[5],
                "machine_intent": r[6],
                "machine_sentiment": r[7],
                "machine_classifier": r[8],
                "labelled_by": r[9],
                "labelled_at": from_epoch(r[10]).isoformat(),
            }
            for r in rows
        ]


Conversations = Inbox  # the 0.1 name of the inbox half of the workspace
