"""Collecting metrics: snapshots of every published post still tracked, and of every account.

Incremental: a post is measured often while it is young and rarely when it is old, then no
more (see :func:`next_measurement`). Batched: each adapter fetches its platform's figures in
the platform's batch size (Bluesky getPosts takes 25 posts a call; Mastodon one status a
call). Concurrent across accounts, within each account's rate budget (the client's HTTP
layer waits before a 429). Resumable: each account's snapshots and next times are written
in one transaction as soon as they arrive, so a crash loses at most the accounts in flight,
and a new run picks up what is still due. Tolerant: one account failing is reported and
skipped; a figure a platform stops giving is missing (None), the rest of the answer kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from govsocial.adapters.platform import METRIC_FIELDS
from govsocial.core.errors import GovSocialError
from govsocial.core.models import Account, PostRef
from govsocial.store import MeasuredPost
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of

if TYPE_CHECKING:
    from govsocial.client import AsyncClient

__all__ = ["STOPPED", "Collected", "collect", "next_measurement"]

logger = logging.getLogger("govsocial.metrics")

#: ``metrics_next_at`` of a post no longer measured (portable: no infinity in SQL).
STOPPED = 1e18

_HOUR = 3600.0
_DAY = 24 * _HOUR


def next_measurement(published_at: float, now: float, max_age: timedelta) -> float:
    """When to measure a post next: hourly on its first day, every 6 hours in its first week,
    daily in its first month, weekly after that, and never once it is older than ``max_age``.
    """
    age = now - published_at
    if age >= max_age.total_seconds():
        return STOPPED
    if age < _DAY:
        step = _HOUR
    elif age < 7 * _DAY:
        step = 6 * _HOUR
    elif age < 30 * _DAY:
        step = _DAY
    else:
        step = 7 * _DAY
    return now + step


@dataclass
class Collected:
    """What one collection did: snapshots stored, and accounts that failed (with why)."""

    posts: int = 0
    accounts: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Snapshots stored, posts and accounts together."""
        return self.posts + self.accounts


async def collect(
    workspace: WorkspaceCore | HasCore,
    client: AsyncClient,
    *,
    max_age: timedelta = timedelta(days=90),
    clock: Callable[[], float] = time.time,
    progress: Callable[[str, int], None] | None = None,
) -> Collected:
    """Measure every due post and every account of ``ws``; store the snapshots.

    ``progress(account, posts)`` is called as each account finishes, failed or not.
    """
    ws = core_of(workspace)
    result = Collected()
    rows = {row.name: row for row in ws.store.accounts()}
    due: dict[str, list[MeasuredPost]] = {}
    for post in ws.store.metrics_due(clock()):
        due.setdefault(post.account, []).append(post)

    async def one_account(name: str) -> None:
        try:
            account: Account = ws.account(name)  # credentials may fail to open: per account
            posts = due.get(name, [])
            if posts:
                refs = [
                    PostRef(
                        platform=account.platform,
                        account=account,
                        id=p.remote_id,
                        url=p.remote_url,
                        extra=p.remote_extra,
                    )
                    for p in posts
                ]
                measured = await client.adapter(account).fetch_metrics(refs)
                now = clock()
                ws.store.add_post_metrics(
                    [
                        (
                            p.delivery_id,
                            m.collected_at.timestamp(),
                            {f: getattr(m, f) for f in METRIC_FIELDS},
                            m.raw,
                        )
                        for p, m in zip(posts, measured, strict=True)
                    ],
                    {p.delivery_id: next_measurement(p.published_at, now, max_age) for p in posts},
                )
                result.posts += len(posts)
            figures = await client.fetch_account_metrics(account)
            ws.store.add_account_metrics(
                name,
                figures.collected_at.timestamp(),
                {
                    "followers": figures.followers,
                    "following": figures.following,
                    "posts": figures.posts,
                },
                figures.raw,
            )
            result.accounts += 1
        except GovSocialError as error:
            logger.warning("metrics of %s not collected: %s", name, error)
            result.failed[name] = str(error)
        except Exception as exc:  # an adapter bug must not stop the other accounts
            logger.exception("metrics of %s not collected: the adapter failed", name)
            result.failed[name] = (
                f"the {rows[name].platform} adapter failed: {type(exc).__name__}: {exc}"
            )
        finally:
            if progress is not None:
                progress(name, len(due.get(name, [])))

    await asyncio.gather(*(one_account(name) for name in rows))
    return result
