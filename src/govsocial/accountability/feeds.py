"""The central narrative: feeds followed by the workspace, each new item a draft for approval.

Under Inpres 9/2015 the central government's public relations content (Komdigi's GPR,
*Government Public Relations*) is shared to every agency to publish. :class:`Feeds` follows
such a feed (or any RSS or Atom feed: a ministry's, the governor's office's) on some of the
workspace's accounts, in the name of a person, the feed's *planner*:

- ``follow_feed(url, accounts=[...], by=..., name=...)`` records the feed (audit-logged, signed
  when the planner signs); on accounts under appointments the planner must be allowed to
  draft there.
- ``sync_feeds()`` polls every followed feed conditionally (ETag / Last-Modified: an unchanged feed
  costs a 304) and turns each item not seen before into a draft awaiting approval on the
  feed's accounts, written by the planner, with the source credited (title and link) and a
  variant for every platform whose limit the text exceeds
  (:func:`govsocial.listening.feeds.feed_post`). The drafts then go through the ordinary
  approval machinery (:class:`~govsocial.accountability.governance.Accountability`).
- **Once per item**, across restarts and syncs running at the same moment: marking an item
  seen (a row whose primary key is the feed and the item's key) and writing its draft are one
  transaction. A sync killed between them leaves neither, so the next one makes the draft;
  a second sync at the same moment waits for the first one's row and skips the item.
- The validators (ETag, Last-Modified) are kept only once every new item of the answer was
  handled, so an item whose draft could not be made now (its planner's decree lapsed, the
  database was busy) is fetched again next time instead of hidden behind a 304. An item that
  can never be a post on those accounts (nothing of it fits a platform) is marked seen with
  the reason and not tried again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import ConfigDict

from govsocial.accountability.governance import Accountability
from govsocial.core.errors import ConfigurationError, GovSocialError, NotFound, ValidationError
from govsocial.core.models import Model
from govsocial.core.timing import from_epoch
from govsocial.listening.feeds import FeedItem, check_feed_url, feed_post, fetch_feed, parse_feed
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of
from govsocial.workspace.signing import SigningKey, acting, signed

__all__ = ["Feed", "FeedItemRecord", "FeedSync", "Feeds"]

_NAME_LIMIT = 64


class Feed(Model):
    """A followed feed: where it is, the accounts its items are drafted for, by whom."""

    model_config = ConfigDict(frozen=True)

    name: str
    url: str
    accounts: tuple[str, ...]
    #: the person whose drafts the items become (the feed's planner)
    by: str
    language: str = "id"
    #: the feed's own title, as credited in the posts (None until first read)
    source: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    checked_at: datetime | None = None
    #: what went wrong at the last poll (None: nothing)
    error: str | None = None
    created_at: datetime
    stopped_at: datetime | None = None

    @property
    def following(self) -> bool:
        """Whether the feed is still followed."""
        return self.stopped_at is None


class FeedItemRecord(Model):
    """An item of a feed the workspace has seen, and the draft it became."""

    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    link: str | None = None
    draft_id: str | None = None
    #: why no draft could be made (nothing of it fits a platform of the feed's accounts)
    error: str | None = None
    seen_at: datetime


@dataclass
class FeedSync:
    """What a sync of the feeds did."""

    #: the drafts made, per feed
    drafts: dict[str, list[str]] = field(default_factory=dict)
    #: feeds the server said were unchanged (304)
    unchanged: list[str] = field(default_factory=list)
    #: items that can never be a post on the feed's accounts, per feed (marked seen)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    #: feeds that failed, and why (tried again at the next sync)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """How many drafts were made."""
        return sum(len(ids) for ids in self.drafts.values())


def _check_name(name: str) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > _NAME_LIMIT or not all(c.isalnum() or c in "-_." for c in text):
        raise ConfigurationError(
            f"{name!r} is not a feed name",
            field="name",
            hint=f"letters, digits, '-', '_' or '.', at most {_NAME_LIMIT} characters "
            "(such as 'gpr')",
        )
    return text


class Feeds:
    """The workspace's followed feeds (``ws.follow_feed``, ``ws.sync_feeds`` delegate here).

    :param core: the workspace core (or the :class:`govsocial.Workspace` carrying one).
    :param accountability: writes the drafts (default: one over the same core).
    """

    def __init__(
        self, core: WorkspaceCore | HasCore, accountability: Accountability | None = None
    ) -> None:
        self.core = core_of(core)
        self.store = self.core.store
        self.accountability = accountability or Accountability(self.core)

    # -- following -------------------------------------------------------------------------

    @signed
    def follow_feed(
        self,
        url: str,
        *,
        accounts: Sequence[str],
        by: str,
        name: str | None = None,
        language: str = "id",
        key: SigningKey | None = None,
    ) -> Feed:
        """Follow the feed at ``url``: each new item becomes a draft by ``by`` on ``accounts``.

        Nothing is fetched now: :meth:`sync_feeds` reads it. Following a stopped feed again under
        its name takes the new settings and keeps the items already seen.

        :param name: how the workspace calls it (default: the feed's host name).
        :param language: the language of the credit line (``"id"``: ``Sumber``, ``"en"``).
        :raises ConfigurationError: the URL is not http(s), the name is taken by a feed
            still followed, an account is unknown, or ``by`` is no person here.
        :raises NotPermitted: ``by`` may not draft on one of the accounts (audit-logged).
        """
        url = check_feed_url(url)
        name = _check_name(name if name is not None else (urlsplit(url).hostname or ""))
        if not accounts or isinstance(accounts, str):
            raise ConfigurationError(
                "a feed needs the accounts its items are drafted for",
                field="accounts",
                hint="accounts=['humas-x', 'humas-ig']",
            )
        if language not in ("id", "en"):
            raise ConfigurationError(
                f"unknown language {language!r} for the credit line",
                field="language",
                hint="id or en",
            )
        self.core.authority.person(by)
        rows = self.core.account_rows(accounts)
        names = [row.name for row in rows]
        decrees = self.core.authority.authorize("draft", by, names, obj=f"feed:{name}")
        now = time.time()
        with self.store.transaction() as cur:
            if not self.store.feeds.put_feed(
                cur, (name, url, json.dumps(names), by, language, now)
            ):
                existing = self.store.feeds.feeds(cur, name)
                if existing and existing[0][11] is None:
                    raise ConfigurationError(
                        f"a feed named {name!r} is already followed ({existing[0][1]})",
                        field="name",
                        hint="choose another name, or unfollow it first",
                    )
                self.store.feeds.refollow(cur, (url, json.dumps(names), by, language, name))
            for account in names:
                self.core.record(
                    cur,
                    by,
                    "follow_feed",
                    obj=f"feed:{name}",
                    account=account,
                    decree=decrees[account],
                    detail={"url": url, "language": language},
                )
        return self.feed(name)

    @signed
    def unfollow_feed(self, name: str, *, by: str, key: SigningKey | None = None) -> Feed:
        """Stop following the feed ``name`` (its drafts stay, and its items stay seen).

        :raises NotFound: no feed of that name is followed.
        :raises NotPermitted: ``by`` may not draft on the feed's accounts.
        """
        feed = self.feed(name)
        decrees = self.core.authority.authorize(
            "draft", by, list(feed.accounts), obj=f"feed:{name}"
        )
        with self.store.transaction() as cur:
            if not self.store.feeds.stop(cur, name, time.time()):
                raise NotFound(f"the feed {name!r} is not followed", field="name")
            for account in feed.accounts:
                self.core.record(
                    cur,
                    by,
                    "unfollow_feed",
                    obj=f"feed:{name}",
                    account=account,
                    decree=decrees[account],
                    detail={"url": feed.url},
                )
        return self.feed(name)

    def feed(self, name: str) -> Feed:
        """The feed named ``name``.

        :raises NotFound: there is none.
        """
        with self.store.transaction() as cur:
            rows = self.store.feeds.feeds(cur, name)
        if not rows:
            raise NotFound(f"no feed named {name!r} in this workspace", field="name")
        return _feed(rows[0])

    def feeds(self, *, stopped: bool = False) -> list[Feed]:
        """The followed feeds by name (and the stopped ones with ``stopped=True``)."""
        with self.store.transaction() as cur:
            rows = self.store.feeds.feeds(cur)
        return [feed for feed in map(_feed, rows) if stopped or feed.following]

    def feed_items(self, name: str) -> list[FeedItemRecord]:
        """The items of feed ``name`` seen so far, oldest first, with their drafts."""
        self.feed(name)
        with self.store.transaction() as cur:
            rows = self.store.feeds.items(cur, name)
        return [
            FeedItemRecord(
                key=r[0],
                draft_id=r[1],
                title=r[2],
                link=r[3],
                error=r[4],
                seen_at=from_epoch(r[5]),
            )
            for r in rows
        ]

    # -- syncing ---------------------------------------------------------------------------

    def sync_feeds(
        self,
        names: Sequence[str] | None = None,
        *,
        key: SigningKey | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> FeedSync:
        """Poll every followed feed (or ``names``) and draft each new item; what it did.

        One feed failing (unreachable, not a feed, its planner no longer allowed to draft)
        is reported in ``failed`` and never stops the others.

        :param key: the signing key of a planner who signs: used for the feeds whose planner
            it belongs to (a planner who signs and whose key is not given fails, reported).
        :param transport: an httpx transport to fetch through (tests).
        """
        feeds = [self.feed(n) for n in names] if names else self.feeds()
        result = FeedSync()
        for feed in feeds:
            if not feed.following:
                result.failed[feed.name] = "not followed"
                continue
            try:
                self._sync_one(feed, key, transport, result)
            except GovSocialError as error:
                result.failed[feed.name] = str(error)
                with self.store.transaction() as cur:
                    self.store.feeds.checked(
                        cur,
                        feed.name,
                        time.time(),
                        etag=None,
                        last_modified=None,
                        source=None,
                        error=str(error)[:1000],
                        validators=False,
                    )
        return result

    def _sync_one(
        self,
        feed: Feed,
        key: SigningKey | None,
        transport: httpx.AsyncBaseTransport | None,
        result: FeedSync,
    ) -> None:
        answer = self.core.client().run(
            fetch_feed(
                feed.url, etag=feed.etag, last_modified=feed.last_modified, transport=transport
            )
        )
        if answer.unchanged:
            result.unchanged.append(feed.name)
            with self.store.transaction() as cur:
                self.store.feeds.checked(
                    cur,
                    feed.name,
                    time.time(),
                    etag=None,
                    last_modified=None,
                    source=None,
                    error=None,
                    validators=False,
                )
            return
        title, items = parse_feed(answer.body, url=answer.url, content_type=answer.content_type)
        with self.store.transaction() as cur:
            seen = self.store.feeds.seen(cur, feed.name, [item.key for item in items])
        new = [item for item in items if item.key not in seen]
        made: list[str] = []
        skipped: list[str] = []
        if new:
            signer = key if key is not None and self._signs_with(feed.by, key) else None
            with acting(feed.by, signer):
                # checked (and a refusal audit-logged) before the drafts' transactions,
                # which would roll a refusal's entry back with them
                self.core.authority.authorize(
                    "draft", feed.by, list(feed.accounts), obj=f"feed:{feed.name}"
                )
                platforms = [row.platform for row in self.core.account_rows(feed.accounts)]
                for item in new:
                    draft_id = self._draft(feed, title, item, platforms, skipped)
                    if draft_id is not None:
                        made.append(draft_id)
        if made:
            result.drafts[feed.name] = made
        if skipped:
            result.skipped[feed.name] = skipped
        with self.store.transaction() as cur:
            self.store.feeds.checked(
                cur,
                feed.name,
                time.time(),
                etag=answer.etag,
                last_modified=answer.last_modified,
                source=title,
                error=None,
                validators=True,
            )

    def _signs_with(self, person: str, key: SigningKey) -> bool:
        return self.core.authority.person(person).public_key == key.public_key

    def _draft(
        self,
        feed: Feed,
        title: str,
        item: FeedItem,
        platforms: Sequence[str],
        skipped: list[str],
    ) -> str | None:
        """Make ``item``'s draft and mark it seen in one transaction; the draft's id (None:
        another sync made it, or it cannot be a post here and is marked seen with why)."""
        try:
            post = feed_post(
                item,
                source=title,
                name=feed.name,
                platforms=platforms,
                language=feed.language,
                plugins=self.core.plugins,
            )
            with self.store.transaction() as cur:
                if not self.store.feeds.claim_item(
                    cur, feed.name, item.key, item.title, item.link, time.time()
                ):
                    return None
                draft = self.accountability.add_draft(
                    post, accounts=list(feed.accounts), by=feed.by
                )
                self.store.feeds.item_done(cur, feed.name, item.key, draft.id, None)
                self.core.record(
                    cur,
                    feed.by,
                    "feed_item",
                    obj=draft.id,
                    detail={"feed": feed.name, "item": item.key, "link": item.link},
                )
            return draft.id
        except ValidationError as error:  # it can never be a post on these accounts
            with self.store.transaction() as cur:
                if self.store.feeds.claim_item(
                    cur, feed.name, item.key, item.title, item.link, time.time()
                ):
                    self.store.feeds.item_done(cur, feed.name, item.key, None, str(error)[:1000])
                    skipped.append(item.key)
            return None


def _feed(r: Sequence[Any]) -> Feed:
    return Feed(
        name=r[0],
        url=r[1],
        accounts=tuple(json.loads(r[2])),
        by=r[3],
        language=r[4],
        source=r[5],
        etag=r[6],
        last_modified=r[7],
        checked_at=from_epoch(r[8]) if r[8] is not None else None,
        error=r[9],
        created_at=from_epoch(r[10]),
        stopped_at=from_epoch(r[11]) if r[11] is not None else None,
    )
