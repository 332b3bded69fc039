"""Watching: what the public says about a topic, on the platforms that let an app search.

:class:`Watches` is the workspace service (``ws.watch(...)``, ``ws.sync_watches()``,
``ws.watched(...)`` on :class:`~govsocial.Workspace` delegate to it):

- ``watch(name, query=..., accounts=[...], by=...)``: follow a keyword, ``#hashtag`` or
  ``"phrase"`` (:func:`govsocial.core.listening.parse_query`) through the searches of
  those workspace accounts (audit-logged; on a governed account ``by`` must be its admin);
  ``unwatch`` stops it and keeps what it found.
- ``sync_watches()``: ask each account's platform (``Platform.search``) for posts newer than
  where its last search stopped; store each post once per (watch, platform, post id), whatever
  syncs run at once (the database's unique constraint decides); classify each with
  :func:`govsocial.classify` (and the ``classify_message`` hooks); flag spikes and give them
  to the ``notify`` hooks. A platform without search (``NotSupported``) is skipped and said
  so in the result; one failing account never stops the others.
- ``watched(name, since=...)``: the posts found, oldest first; ``spikes(name)``: the hours
  flagged.

Spikes (see docs/listening.md, "Watching"): posts are counted per clock hour (UTC hours, by
when the platform received each post). An hour is a spike when it holds at least
``spike_min`` posts and more than ``mean + spike_sd * spread`` of the hours before it,
where the baseline is the :data:`BASELINE_HOURS` hours before (only hours the watch fully
covered; at least :data:`MIN_BASELINE_HOURS` of them) and ``spread`` is the baseline's
standard deviation, but never less than the square root of its mean (the noise of counts
that arrive at random) nor 1. A spike is flagged once per hour; a notice goes out for one
whose hour ended less than :data:`NOTIFY_WITHIN` ago (an old spike found by a first sync's
look back is flagged, not announced).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import ConfigDict

from govsocial.core.errors import ConfigurationError, NotFound, NotSupported
from govsocial.core.listening import Classification, FoundPost, Notice, SearchPage, parse_query
from govsocial.core.models import Model
from govsocial.core.timing import from_epoch
from govsocial.inbox import erasure
from govsocial.inbox.items import _why
from govsocial.listening.classify import classify
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of
from govsocial.workspace.signing import SigningKey, signed

if TYPE_CHECKING:
    from govsocial.client import AsyncClient

__all__ = [
    "BASELINE_HOURS",
    "MIN_BASELINE_HOURS",
    "NOTIFY_WITHIN",
    "Spike",
    "Watch",
    "WatchSync",
    "WatchedPost",
    "Watches",
    "is_spike",
    "spike_threshold",
]

logger = logging.getLogger("govsocial.watches")

#: How many hours before an hour make its baseline.
BASELINE_HOURS = 24
#: The fewest covered baseline hours a spike needs (a new watch flags nothing before).
MIN_BASELINE_HOURS = 6
#: How recent a spike's hour must be for its notice to go out.
NOTIFY_WITHIN = timedelta(hours=3)
#: How far back a watch's first search looks, by default.
DEFAULT_BACKFILL = timedelta(days=1)
_HOUR = 3600.0
#: How far before the last spike check the next one looks again: a sync running at the same
#: time commits the posts it found a moment earlier after the other checked (flagging an
#: hour twice does nothing).
_CHECK_OVERLAP = 600.0
_NAME_LIMIT = 64


class Watch(Model):
    """A watched topic: its query, the accounts whose searches follow it, its spike rule."""

    model_config = ConfigDict(frozen=True)

    name: str
    query: str
    accounts: tuple[str, ...]
    spike_min: int
    spike_sd: float
    created_by: str | None = None
    created_at: datetime
    stopped_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether syncs still search for it."""
        return self.stopped_at is None


class WatchedPost(Model):
    """A post a watch found: someone's public words about the topic, classified."""

    model_config = ConfigDict(frozen=True)

    id: str
    watch: str
    platform: str
    remote_id: str
    #: the workspace account whose search found it
    account: str
    url: str | None = None
    author: str
    author_name: str | None = None
    text: str
    #: the date the author's app wrote (the author controls it)
    claimed_at: datetime | None = None
    #: when the platform received it (its clock), else the author's date capped at the sync
    received_at: datetime
    found_at: datetime
    intent: str | None = None
    sentiment: str | None = None
    confidence: float | None = None
    classifier: str | None = None
    language: str | None = None
    reasons: tuple[str, ...] = ()
    #: when its author's content was erased (``ws.forget`` or the retention): text, author,
    #: URL and post id are gone, the times and the classification stay
    erased_at: datetime | None = None

    @property
    def classification(self) -> Classification | None:
        """The post's classification (None before it is classified)."""
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


class Spike(Model):
    """An hour in which a watch found far more posts than in the hours before it."""

    model_config = ConfigDict(frozen=True)

    watch: str
    hour: datetime
    posts: int
    baseline_mean: float
    baseline_sd: float
    threshold: float
    flagged_at: datetime
    notified_at: datetime | None = None


@dataclass
class WatchSync:
    """What a watch sync found: new posts per watch, what failed, what cannot search."""

    new: dict[str, int] = field(default_factory=dict)
    #: ``"watch/account"`` -> why its search failed this time
    failed: dict[str, str] = field(default_factory=dict)
    #: ``"watch/account"`` -> why the platform cannot search (NotSupported)
    unsupported: dict[str, str] = field(default_factory=dict)
    #: ``"watch/account"`` searches that stopped at their page budget with more to read
    truncated: list[str] = field(default_factory=list)
    #: the spikes flagged by this sync
    spikes: list[Spike] = field(default_factory=list)
    #: how many spike notices went out
    notified: int = 0
    #: requests the searches made
    requests: int = 0

    @property
    def total(self) -> int:
        """How many new posts were stored, over every watch."""
        return sum(self.new.values())


def spike_threshold(baseline: Sequence[int], sd_factor: float) -> tuple[float, float, float]:
    """``(mean, sd, threshold)`` of hourly counts ``baseline``: the threshold is
    ``mean + sd_factor * max(sd, sqrt(mean), 1)`` (population standard deviation)."""
    if not baseline:
        raise ValueError("a baseline needs at least one hour")
    mean = sum(baseline) / len(baseline)
    sd = math.sqrt(sum((c - mean) ** 2 for c in baseline) / len(baseline))
    return mean, sd, mean + sd_factor * max(sd, math.sqrt(mean), 1.0)


def is_spike(posts: int, baseline: Sequence[int], *, spike_min: int, spike_sd: float) -> bool:
    """Whether an hour of ``posts`` is a spike over the hourly counts ``baseline``: at least
    ``spike_min`` posts, more than :func:`spike_threshold`, and a baseline of at least
    :data:`MIN_BASELINE_HOURS` hours."""
    if len(baseline) < MIN_BASELINE_HOURS or posts < spike_min:
        return False
    return posts > spike_threshold(baseline, spike_sd)[2]


def _hour(epoch: float) -> float:
    return math.floor(epoch / _HOUR) * _HOUR


class Watches:
    """The watched topics of a workspace: adding, syncing, reading, spikes.

    :param core: the workspace core (or the :class:`govsocial.Workspace` carrying one).
    """

    def __init__(self, core: WorkspaceCore | HasCore) -> None:
        self.core = core_of(core)
        self.store = self.core.store

    # -- adding and stopping ---------------------------------------------------------------

    @signed
    def watch(
        self,
        name: str,
        *,
        query: str,
        accounts: Sequence[str],
        spike_min: int = 10,
        spike_sd: float = 3.0,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> Watch:
        """Follow ``query`` (a word or words, a ``#hashtag``, a ``"phrase"``) through the
        searches of ``accounts`` (workspace account names) under ``name``.

        ``spike_min`` and ``spike_sd`` set the spike rule (module docs). Audit-logged once
        per account; on a governed account ``by`` must be its admin.

        :raises ConfigurationError: a bad name, query or rule, an unknown account, or a
            watch of that name exists.
        """
        if not isinstance(name, str) or not name.strip() or len(name) > _NAME_LIMIT:
            raise ConfigurationError(
                f"a watch's name is 1 to {_NAME_LIMIT} characters",
                field="name",
                hint="a short name such as 'banjir-bandung'",
            )
        if any(not (c.isalnum() or c in "-_.") for c in name):
            raise ConfigurationError(
                f"the watch name {name!r} holds a character other than letters, digits, "
                "'-', '_' and '.'",
                field="name",
                hint="a short name such as 'banjir-bandung'",
            )
        parsed = parse_query(query)
        names = list(dict.fromkeys(accounts))
        if not names:
            raise ConfigurationError(
                "a watch needs at least one account to search with",
                field="accounts",
                hint="name workspace accounts on platforms that allow search "
                "(Bluesky, Mastodon, X, Telegram)",
            )
        for account in names:
            self.core.account_row(account)
        if not isinstance(spike_min, int) or spike_min < 1:
            raise ConfigurationError(
                "spike_min must be a whole number of posts, 1 or more", field="spike_min"
            )
        if not 0 < spike_sd <= 100:
            raise ConfigurationError("spike_sd must be more than 0 (3 is usual)", field="spike_sd")
        decrees = self.core.authority.authorize("watch", by, names, obj=name)
        now = time.time()
        with self.store.transaction() as cur:
            added = self.store.watches.add(
                cur,
                (name, parsed.text, json.dumps(names), spike_min, float(spike_sd), by, now),
            )
            if not added:
                raise ConfigurationError(
                    f"a watch named {name!r} exists",
                    field="name",
                    hint="pick another name, or unwatch the old one first",
                )
            for account in names:
                self.core.record(
                    cur,
                    by,
                    "watch",
                    obj=name,
                    account=account,
                    decree=decrees[account],
                    detail={"query": parsed.text, "spike_min": spike_min, "spike_sd": spike_sd},
                )
        return self.watches(name)[0]

    @signed
    def unwatch(self, name: str, *, by: str | None = None, key: SigningKey | None = None) -> Watch:
        """Stop searching for the watch ``name`` (audit-logged); what it found stays."""
        watch = self._watch(name)
        decrees = self.core.authority.authorize("watch", by, list(watch.accounts), obj=name)
        with self.store.transaction() as cur:
            self.store.watches.stop(cur, name, time.time())
            for account in watch.accounts:
                self.core.record(
                    cur, by, "unwatch", obj=name, account=account, decree=decrees[account]
                )
        return self._watch(name)

    def watches(self, name: str | None = None) -> list[Watch]:
        """Every watch by name (stopped ones too), or the one named ``name`` (none: [])."""
        with self.store.transaction() as cur:
            rows = self.store.watches.watches(cur, name)
        return [
            Watch(
                name=r[0],
                query=r[1],
                accounts=tuple(json.loads(r[2])),
                spike_min=int(r[3]),
                spike_sd=float(r[4]),
                created_by=r[5],
                created_at=from_epoch(r[6]),
                stopped_at=from_epoch(r[7]) if r[7] is not None else None,
            )
            for r in rows
        ]

    def _watch(self, name: str) -> Watch:
        found = self.watches(name)
        if not found:
            raise NotFound(f"no watch named {name!r}", field="name")
        return found[0]

    # -- syncing -------------------------------------------------------------------------------

    def sync_watches(
        self,
        names: Sequence[str] | None = None,
        *,
        backfill: timedelta = DEFAULT_BACKFILL,
        **client_options: Any,
    ) -> WatchSync:
        """Search for every active watch (or ``names``) on each of its accounts, store the
        new posts once each, classify them, flag spikes and notify them.

        ``backfill`` is how far back a watch's first search looks.
        """
        watches = [w for w in self.watches() if w.active and (not names or w.name in names)]
        if names:
            unknown = sorted(set(names) - {w.name for w in self.watches()})
            if unknown:
                raise NotFound(f"no watch named {unknown[0]!r}", field="names")
        result = WatchSync(new={w.name: 0 for w in watches})
        if watches:
            with self.core.using_client(**client_options) as client:
                client.run(self._search_all(client.async_client, watches, backfill, result))
        self.classify_pending()
        now = time.time()
        for watch in watches:
            result.spikes += self.check_spikes(watch.name, now=now)
        result.notified = self.notify_spikes(now=now)
        return result

    async def _search_all(
        self,
        client: AsyncClient,
        watches: Sequence[Watch],
        backfill: timedelta,
        result: WatchSync,
    ) -> None:
        slots = asyncio.Semaphore(8)

        async def one(watch: Watch, account_name: str) -> None:
            where = f"{watch.name}/{account_name}"
            async with slots:
                try:
                    await self._search_one(client, watch, account_name, backfill, result)
                except NotSupported as error:
                    result.unsupported[where] = str(error)
                except Exception as error:  # noqa: BLE001 - one search never stops the others
                    logger.warning("watch sync of %s: %s", where, _why(error))
                    result.failed[where] = _why(error)

        await asyncio.gather(*(one(w, a) for w in watches for a in w.accounts))

    async def _search_one(
        self,
        client: AsyncClient,
        watch: Watch,
        account_name: str,
        backfill: timedelta,
        result: WatchSync,
    ) -> None:
        account = self.core.account(account_name)
        with self.store.transaction() as cur:
            stored = self.store.watches.cursor(cur, watch.name, account_name)
        started = time.time()
        since: datetime | None = None
        if stored is None:  # the first search looks back ``backfill``
            since = datetime.fromtimestamp(started, UTC) - backfill
        elif stored[0] is None:  # searched before and found nothing: from where that began
            since = from_epoch(stored[1]) if stored[1] is not None else None
        page: SearchPage = await client.search(
            account, watch.query, cursor=stored[0] if stored else None, since=since
        )
        result.requests += page.requests
        where = f"{watch.name}/{account_name}"
        if not page.complete:
            result.truncated.append(where)
        seen = time.time()
        new = 0
        posts = [p for p in page.posts if isinstance(p, FoundPost)]
        with self.store.transaction() as cur:
            # a post whose author asked to be forgotten (or past the retention) stays erased
            keys = sorted({p.key[:500] for p in posts})
            pseudonyms = erasure.tombstones(self.core, cur, keys)
            erased = self.store.watches.erased_among(
                cur, watch.name, account.platform, sorted(pseudonyms.values())
            )
            for post in posts:
                if pseudonyms[post.key[:500]] in erased:
                    continue
                row = self._row(watch.name, account_name, post, seen)
                if self.store.watches.add_post(cur, row):
                    new += 1
            covered: float | None = None
            if stored is None:  # the first search: since when every post is known
                covered = since.timestamp() if since is not None else started
                if not page.complete and posts:
                    covered = max(covered, min(self._received(p, seen) for p in posts))
            self.store.watches.put_cursor(cur, watch.name, account_name, page.cursor, covered, seen)
        result.new[watch.name] = result.new.get(watch.name, 0) + new

    @staticmethod
    def _received(post: FoundPost, seen: float) -> float:
        """When the platform received ``post`` (its clock), else its author's date; never
        later than the sync that saw it (a post dated 2099 counts now)."""
        moment = post.received_at or post.created_at
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return min(moment.timestamp(), seen)

    def _row(self, watch: str, account: str, post: FoundPost, seen: float) -> tuple[Any, ...]:
        claimed = post.created_at if post.created_at.tzinfo else post.created_at.replace(tzinfo=UTC)
        return (
            uuid.uuid4().hex[:12],
            watch,
            post.platform,
            post.key[:500],
            account,
            post.ref.url[:2000] if post.ref.url else None,
            post.author,
            post.author_name,
            post.text,
            claimed.timestamp(),
            self._received(post, seen),
            seen,
        )

    def classify_pending(self, *, limit: int = 500) -> dict[str, Classification]:
        """Classify found posts not classified yet (up to ``limit``): each by id."""
        with self.store.transaction() as cur:
            pending = self.store.watches.unclassified(cur, limit)
        done: dict[str, Classification] = {}
        for post_id, text in pending:
            found = classify(text, plugins=self.core.plugins)
            with self.store.transaction() as cur:
                if self.store.watches.classify(
                    cur,
                    post_id,
                    found.intent,
                    found.sentiment,
                    found.confidence,
                    found.classifier,
                    found.language,
                    json.dumps(list(found.reasons), ensure_ascii=False),
                ):
                    done[post_id] = found
        return done

    # -- spikes --------------------------------------------------------------------------------

    def check_spikes(self, name: str, *, now: float | None = None) -> list[Spike]:
        """Flag the spikes among the hours that got posts since the watch ``name`` was last
        checked (a sync that stopped before checking leaves them for the next one): the
        spikes newly flagged."""
        now = time.time() if now is None else now
        watch = self._watch(name)
        with self.store.transaction() as cur:
            received, upto = self.store.watches.unchecked_hours(cur, name, _CHECK_OVERLAP)
        if not received or upto is None:
            return []
        flagged = self._flag_spikes(watch, {_hour(t) for t in received}, now)
        with self.store.transaction() as cur:
            self.store.watches.spikes_checked(cur, name, upto)
        return flagged

    def _flag_spikes(self, watch: Watch, hours: set[float], now: float) -> list[Spike]:
        """Flag each of ``hours`` (hour starts that got new posts) that is a spike."""
        with self.store.transaction() as cur:
            covered = self.store.watches.covered_from(cur, watch.name)
        if covered is None:
            return []
        first_full = math.ceil(covered / _HOUR) * _HOUR  # the first hour wholly covered
        flagged = []
        for hour in sorted(hours):
            if hour > now:
                continue
            start = max(hour - BASELINE_HOURS * _HOUR, first_full)
            if hour - start < MIN_BASELINE_HOURS * _HOUR:
                continue
            with self.store.transaction() as cur:
                times = self.store.watches.hourly(cur, watch.name, start, hour + _HOUR)
            counts = Counter(_hour(t) for t in times)
            posts = counts.get(hour, 0)
            if posts < watch.spike_min:
                continue
            n = int((hour - start) // _HOUR)
            baseline = [counts.get(start + i * _HOUR, 0) for i in range(n)]
            if not is_spike(posts, baseline, spike_min=watch.spike_min, spike_sd=watch.spike_sd):
                continue
            mean, sd, threshold = spike_threshold(baseline, watch.spike_sd)
            with self.store.transaction() as cur:
                if self.store.watches.add_spike(
                    cur, (watch.name, hour, posts, mean, sd, threshold, now)
                ):
                    if hour + _HOUR < now - NOTIFY_WITHIN.total_seconds():
                        self.store.watches.spike_notified(cur, watch.name, hour, now)
                    flagged.append(self._spikes(cur, watch.name, hour)[0])
        return flagged

    def spikes(self, name: str | None = None) -> list[Spike]:
        """The hours flagged as spikes, of every watch or the one named ``name``, oldest
        first."""
        with self.store.transaction() as cur:
            return self._spikes(cur, name)

    def _spikes(self, cur: Any, name: str | None, hour: float | None = None) -> list[Spike]:
        rows = self.store.watches.spikes(cur, name)
        return [
            Spike(
                watch=r[0],
                hour=from_epoch(r[1]),
                posts=int(r[2]),
                baseline_mean=float(r[3]),
                baseline_sd=float(r[4]),
                threshold=float(r[5]),
                flagged_at=from_epoch(r[6]),
                notified_at=from_epoch(r[7]) if r[7] is not None else None,
            )
            for r in rows
            if hour is None or float(r[1]) == hour
        ]

    def notify_spikes(self, *, now: float | None = None) -> int:
        """Give each spike whose notice has not gone out to the ``notify`` hooks (kind
        ``"spike"``): how many went out. A spike is done once an implementation delivered
        it, or when none is registered; while every one fails, the next sync tries again."""
        now = time.time() if now is None else now
        with self.store.transaction() as cur:
            pending = self.store.watches.spikes(cur, unnotified=True)
        sent = 0
        zone = self.core.calendar_zone()
        for row in pending:
            name, hour, posts, mean = str(row[0]), float(row[1]), int(row[2]), float(row[3])
            watch = self._watch(name)
            with self.store.transaction() as cur:
                examples = self.store.watches.posts(
                    cur, watch=name, received_from=hour, received_before=hour + _HOUR
                )[:3]
            local = from_epoch(hour).astimezone(ZoneInfo(zone))
            notice = Notice(
                kind="spike",
                subject=(
                    f"Lonjakan / spike: {posts} posts on {watch.query!r} in the hour from "
                    f"{local:%Y-%m-%d %H:%M} (usually {mean:.1f})"
                ),
                text="\n\n".join(f"{r[6]}: {r[8]}" for r in examples),
                platform=examples[0][2] if examples else None,
                url=examples[0][5] if examples else None,
                received_at=from_epoch(hour),
                extra={
                    "watch": name,
                    "query": watch.query,
                    "posts": posts,
                    "baseline_mean": mean,
                    "threshold": float(row[5]),
                },
            )
            delivered, failed = self.core.plugins.notify(notice)
            if delivered or not failed:
                with self.store.transaction() as cur:
                    self.store.watches.spike_notified(cur, name, hour, now)
                sent += delivered > 0
            else:
                logger.warning("the spike notice of watch %s was not delivered", name)
        return sent

    # -- reading -------------------------------------------------------------------------------

    def watched(
        self,
        name: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        intent: str | None = None,
    ) -> list[WatchedPost]:
        """The posts the watch ``name`` found, oldest first (by when the platform received
        them), received from ``since`` and before ``until``, of ``intent`` when given."""
        self._watch(name)
        with self.store.transaction() as cur:
            rows = self.store.watches.posts(
                cur,
                watch=name,
                received_from=_epoch(since, "since"),
                received_before=_epoch(until, "until"),
                intent=intent,
            )
        return [_post(r) for r in rows]


def _epoch(moment: datetime | None, field: str) -> float | None:
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        raise ConfigurationError(
            f"{field} must be a datetime", field=field, hint="datetime(2026, 12, 1, tzinfo=UTC)"
        )
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _post(r: Sequence[Any]) -> WatchedPost:
    return WatchedPost(
        id=r[0],
        watch=r[1],
        platform=r[2],
        remote_id=r[3],
        account=r[4],
        url=r[5],
        author=r[6],
        author_name=r[7],
        text=r[8],
        claimed_at=from_epoch(r[9]) if r[9] is not None else None,
        received_at=from_epoch(r[10]),
        found_at=from_epoch(r[11]),
        intent=r[12],
        sentiment=r[13],
        confidence=float(r[14]) if r[14] is not None else None,
        classifier=r[15],
        language=r[16],
        reasons=tuple(json.loads(r[17])) if r[17] else (),
        erased_at=from_epoch(r[18]) if r[18] is not None else None,
    )
