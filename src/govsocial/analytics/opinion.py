"""What the public said, over time: inbox messages and watched posts counted per day by
source, platform, intent and sentiment.

:func:`opinion_rows` needs no pandas; :func:`opinion_frame` is the same as a DataFrame
(``Workspace.opinion_frame(period)``). Days are the workspace's calendar days (its time zone),
so a message at 23:30 WIB counts on the day the agency lived it. Messages whose content was
erased still count: their classification is a fact about the service, not the citizen's words.
A message not classified yet counts under intent ``unclassified``.

``source`` is ``inbox`` for replies and mentions, ``watch:<name>`` for the posts a watched
topic found (:mod:`govsocial.inbox.watches`), counted on the day the platform received them.
A post two watches found counts once in each.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from govsocial.analytics.analysis import Period
from govsocial.core.errors import ConfigurationError
from govsocial.inbox.items import Inbox
from govsocial.inbox.watches import Watches
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]  # no pandas-stubs

__all__ = ["OPINION_COLUMNS", "opinion_frame", "opinion_rows"]

#: The columns of the opinion frame, in order.
OPINION_COLUMNS = ("day", "source", "platform", "intent", "sentiment", "messages")


def opinion_rows(workspace: WorkspaceCore | HasCore, period: Period | str) -> list[dict[str, Any]]:
    """One row per (day, source, platform, intent, sentiment) with messages in ``period``,
    sorted by those keys; ``day`` is a ``datetime.date`` in the workspace's time zone."""
    ws = core_of(workspace)
    zone = ws.calendar_zone()
    span = period if isinstance(period, Period) else Period.parse(period, zone=zone)
    local = ZoneInfo(zone)
    counts: Counter[tuple[Any, ...]] = Counter()
    for item in Inbox(ws).items(status=None):
        if not span.start <= item.received_at < span.end:
            continue
        counts[
            (
                item.received_at.astimezone(local).date(),
                "inbox",
                item.platform,
                item.intent or "unclassified",
                item.sentiment or "unclassified",
            )
        ] += 1
    watching = Watches(ws)
    for watch in watching.watches():
        for post in watching.watched(watch.name, since=span.start, until=span.end):
            counts[
                (
                    post.received_at.astimezone(local).date(),
                    f"watch:{watch.name}",
                    post.platform,
                    post.intent or "unclassified",
                    post.sentiment or "unclassified",
                )
            ] += 1
    return [
        dict(zip(OPINION_COLUMNS, (*key, count), strict=True))
        for key, count in sorted(counts.items(), key=lambda pair: tuple(map(str, pair[0])))
    ]


def opinion_frame(workspace: WorkspaceCore | HasCore, period: Period | str) -> pd.DataFrame:
    """:func:`opinion_rows` as a pandas DataFrame (``day`` as a datetime64 column)."""
    try:
        import pandas as pd
    except ImportError:
        raise ConfigurationError(
            "the opinion frame needs pandas",
            field="period",
            hint="pip install 'govsocial[notebook]', or use opinion_rows()",
        ) from None
    frame = pd.DataFrame(opinion_rows(workspace, period), columns=list(OPINION_COLUMNS))
    frame["day"] = pd.to_datetime(frame["day"])
    frame["messages"] = frame["messages"].astype("int64")
    return frame
