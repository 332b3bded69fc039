"""Reading Page post insights so that a renamed or removed metric never empties the answer.

Meta renames and removes insights metrics every year or so (``post_impressions_unique``
became ``post_total_media_view_unique`` in 2025; ``page_fans`` went in November 2025; more
go on June 15, 2026), and a request naming one removed metric fails whole with error code
100 "The value must be a valid insights metric". So :class:`InsightsReader` asks for all the
metrics it wants in one request, and when that fails on an invalid metric it asks for them
one by one, keeps the answers that came back, and remembers (for ``forget_after`` seconds,
for every adapter of the process talking to the same Graph host and version) which metric
names the server refused, so later calls do not ask for them again.

Reference: https://developers.facebook.com/docs/graph-api/reference/insights and
https://developers.facebook.com/docs/platforminsights/page/deprecated-metrics .
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from govsocial.adapters import GovSocialError, RateLimited, path_segment, read_json
from govsocial_facebook.meta import GraphPlatformError

__all__ = ["InsightsReader", "is_invalid_metric", "parse_insights"]

logger = logging.getLogger("govsocial.facebook")

#: Sends GET ``path`` with ``params`` through the adapter (auth, retries, error translation).
Fetch = Callable[[str, dict[str, str]], Awaitable[httpx.Response]]


def is_invalid_metric(error: GovSocialError) -> bool:
    """Whether ``error`` is Graph's "not a valid insights metric" (code 100 naming a metric)."""
    if not isinstance(error, GraphPlatformError) or error.graph is None:
        return False
    graph = error.graph
    return graph.code == 100 and "metric" in graph.message.lower()


def parse_insights(body: Any) -> dict[str, int]:
    """``{"data": [{"name": ..., "values": [{"value": N}]}]}`` as ``{name: N}`` (ints only).

    A metric whose value is not a number (a breakdown object, or missing) is left out:
    absent means unknown, never 0.
    """
    found: dict[str, int] = {}
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return found
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        values = item.get("values")
        if not isinstance(values, list) or not values:
            continue
        last = values[-1]
        value = last.get("value") if isinstance(last, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            found[item["name"]] = value
    return found


class _Refused:
    """Metric names a Graph host refused, per (host, version), forgotten after a while."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], float] = {}

    def add(self, scope: str, metric: str, forget_after: float) -> None:
        self._entries[(scope, metric)] = time.monotonic() + forget_after

    def has(self, scope: str, metric: str) -> bool:
        until = self._entries.get((scope, metric))
        if until is None:
            return False
        if until < time.monotonic():
            del self._entries[(scope, metric)]
            return False
        return True

    def clear(self) -> None:
        self._entries.clear()


_REFUSED = _Refused()


class InsightsReader:
    """Reads ``/{object-id}/insights`` for a set of metrics, surviving invalid ones.

    :param scope: what refusals are remembered per (the Graph base URL and version).
    :param fetch: sends one GET through the adapter.
    :param forget_after: seconds a refused metric is not asked for again.
    """

    def __init__(self, scope: str, fetch: Fetch, *, forget_after: float = 6 * 3600.0) -> None:
        self.scope = scope
        self._fetch = fetch
        self.forget_after = forget_after

    @staticmethod
    def clear_refused() -> None:
        """Forget every refused metric (they are asked for again)."""
        _REFUSED.clear()

    def refused(self, metric: str) -> bool:
        return _REFUSED.has(self.scope, metric)

    async def read(
        self, object_id: str, metrics: Sequence[str], *, period: str = "lifetime"
    ) -> tuple[dict[str, int], list[str]]:
        """The values of ``metrics`` for ``object_id``, and the metric names refused.

        Other errors (throttling, expired token, a missing object) are raised as they are.
        """
        wanted = [m for m in dict.fromkeys(metrics) if not self.refused(m)]
        refused = [m for m in dict.fromkeys(metrics) if self.refused(m)]
        if not wanted:
            return {}, refused
        try:
            return await self._read(object_id, wanted, period), refused
        except GovSocialError as error:
            if isinstance(error, RateLimited) or not is_invalid_metric(error):
                raise
            if len(wanted) == 1:
                self._refuse(wanted[0], error)
                return {}, [*refused, wanted[0]]
        found: dict[str, int] = {}
        for metric in wanted:
            try:
                found.update(await self._read(object_id, [metric], period))
            except GovSocialError as error:
                if isinstance(error, RateLimited) or not is_invalid_metric(error):
                    raise
                self._refuse(metric, error)
                refused.append(metric)
        return found, refused

    async def _read(self, object_id: str, metrics: Sequence[str], period: str) -> dict[str, int]:
        response = await self._fetch(
            f"/{path_segment(object_id)}/insights", {"metric": ",".join(metrics), "period": period}
        )
        try:
            body = read_json(response)
        except ValueError:
            body = None
        return parse_insights(body)

    def _refuse(self, metric: str, error: GovSocialError) -> None:
        logger.warning(
            "Facebook refused insights metric %s (%s); it is left out for %.0f h: "
            "check the current metric names and update the adapter",
            metric,
            error.message,
            self.forget_after / 3600,
        )
        _REFUSED.add(self.scope, metric, self.forget_after)
