"""What the public said, over time: inbox messages and watched posts counted per day by
source, platform, intent and sentiment, and how fast the agency answered them.

:func:`opinion_rows` needs no pandas; :func:`opinion_frame` is the same as a DataFrame
(``Workspace.opinion_frame(period)``). :func:`listening_summary` is the monthly report's
section "what the public asked and reported, and how fast we answered" as plain data.

Days are the workspace's calendar days (its time zone), so a message at 23:30 WIB counts on
the day the agency lived it. Messages whose content was
erased still count: their classification is a fact about the service, not the citizen's words.
A message not classified yet counts under intent ``unclassified``.

``source`` is ``inbox`` for replies and mentions, ``watch:<name>`` for the posts a watched
topic found (:mod:`govsocial.inbox.watches`), counted on the day the platform received them.
A post two watches found counts once in each.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from govsocial.analytics.analysis import Period
from govsocial.analytics.clarifications import clarification_rows
from govsocial.core.errors import ConfigurationError
from govsocial.core.listening import INTENTS
from govsocial.inbox.items import Inbox, InboxItem
from govsocial.inbox.watches import Watches
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]  # no pandas-stubs

__all__ = [
    "INTENT_COLUMNS",
    "OPINION_COLUMNS",
    "listening_summary",
    "opinion_frame",
    "opinion_rows",
    "percentile",
]

#: The columns of the opinion frame, in order.
OPINION_COLUMNS = ("day", "source", "platform", "intent", "sentiment", "messages")
#: The columns of each intent's row in :func:`listening_summary`, in order.
INTENT_COLUMNS: Final = (
    "messages",
    "answered",
    "answered_share",
    "median_response_h",
    "p90_response_h",
    "slowest_response_h",
    "open",
    "with_clarification",
)


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


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``share`` of
    ``values`` at or below it (``percentile(v, 0.9)`` is the p90); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 4)


def _intent_row(items: list[InboxItem], clarified: set[str]) -> dict[str, Any]:
    times = [s for s in (i.response_seconds for i in items) if s is not None]
    answered = sum(1 for i in items if i.responded_at is not None or i.close_reason == "answered")
    return {
        "messages": len(items),
        "answered": answered,
        "answered_share": answered / len(items) if items else None,
        "median_response_h": _hours(statistics.median(times)) if times else None,
        "p90_response_h": _hours(percentile(times, 0.9)),
        "slowest_response_h": _hours(max(times)) if times else None,
        "open": sum(1 for i in items if i.status == "open"),
        "with_clarification": sum(1 for i in items if i.id in clarified),
    }


def listening_summary(workspace: WorkspaceCore | HasCore, period: Period | str) -> dict[str, Any]:
    """What the public asked and reported in ``period``, and how fast the agency answered.

    The inbox messages received in the period (erased ones included: their times and
    classification stay), per intent:

    - ``messages``; ``answered``: given an answer (a reply through govsocial, or closed as
      ``answered`` elsewhere), and ``answered_share`` of the messages;
    - ``median_response_h``, ``p90_response_h`` (nearest rank, :func:`percentile`) and
      ``slowest_response_h``: clock hours from receipt to the first reply through govsocial,
      whenever it came (answers given elsewhere have no time);
    - ``open``: still waiting now; ``with_clarification``: answered with a hoax
      clarification's link (``Workspace.answer_with_clarification``).

    Returns ``{"by_intent": {intent: row}, "all": row, "clarifications": {verdict:
    {"published", "answers", "evidence"}}}``: every intent of
    :data:`~govsocial.core.listening.INTENTS` in order, then ``unclassified`` when there
    are such messages; the clarifications are those published (and answers given) in the
    period (:func:`govsocial.analytics.clarifications.clarification_rows`).
    """
    ws = core_of(workspace)
    span = period if isinstance(period, Period) else Period.parse(period, zone=ws.calendar_zone())
    items = [
        item for item in Inbox(ws).items(status=None) if span.start <= item.received_at < span.end
    ]
    clarified = {
        str(entry.detail.get("item"))
        for entry in ws.audit_log(span.start, action="reply")
        if entry.detail.get("clarification") and entry.detail.get("item")
    }
    grouped: dict[str, list[InboxItem]] = {intent: [] for intent in INTENTS}
    for item in items:
        grouped.setdefault(item.intent or "unclassified", []).append(item)
    return {
        "period": span.label,
        "by_intent": {
            intent: _intent_row(found, clarified)
            for intent, found in grouped.items()
            if found or intent in INTENTS
        },
        "all": _intent_row(items, clarified),
        "clarifications": clarification_rows(ws, span),
    }


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
