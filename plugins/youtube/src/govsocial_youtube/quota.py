"""YouTube's daily quota: what each call costs, and what is left until midnight Pacific.

Google's page (https://developers.google.com/youtube/v3/determine_quota_cost, checked
December 2026): "Projects that enable the YouTube Data API have a default quota allocation
of 100 search.list calls, 100 videos.insert calls, and 10,000 units per day combined for all
other endpoints ... Daily quotas reset at midnight Pacific Time (PT)." ``videos.insert`` has
its own bucket (1 per call, 100 a day); the other methods cost units from the 10,000 (a
list 1, a comment 50, a caption 400). Older pages and most third-party guides still say an
upload costs 1,600 units: that was the rule before the separate bucket.

Google sends no quota headers, so the adapter counts what it spends itself, in the rate
budget of the HTTP session (:class:`govsocial.adapters.RateBudget`), one state per account
and bucket, and refuses a call whose cost is not left *before* sending it
(:class:`~govsocial.adapters.RateLimited`, naming the reset). A 403 ``quotaExceeded`` from
Google sets the bucket to empty until the reset, whatever was counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

__all__ = [
    "COSTS",
    "DAILY_UNITS",
    "DAILY_UPLOADS",
    "QUOTA_PAGE",
    "Call",
    "call_for",
    "next_reset",
]

QUOTA_PAGE = "https://developers.google.com/youtube/v3/determine_quota_cost"
PACIFIC = ZoneInfo("America/Los_Angeles")

#: The default daily allocations of a Google Cloud project.
DAILY_UNITS = 10_000
DAILY_UPLOADS = 100

#: (resource, method) -> cost in units, from Google's table; videos.insert is counted in
#: the ``uploads`` bucket instead (1 per call).
COSTS: dict[tuple[str, str], int] = {
    ("videos", "list"): 1,
    ("videos", "delete"): 50,
    ("videos", "update"): 50,
    ("thumbnails", "set"): 50,
    ("captions", "insert"): 400,
    ("captions", "list"): 50,
    ("captions", "delete"): 50,
    ("playlistItems", "insert"): 50,
    ("playlistItems", "list"): 1,
    ("commentThreads", "list"): 1,
    ("commentThreads", "insert"): 50,
    ("comments", "list"): 1,
    ("comments", "insert"): 50,
    ("comments", "delete"): 50,
    ("channels", "list"): 1,
}

_VERBS = {"GET": "list", "POST": "insert", "PUT": "update", "DELETE": "delete"}
_PATH = re.compile(r"(?:/resumable)?(/upload)?/youtube/v3/([A-Za-z]+)(/set)?$")


@dataclass(frozen=True, slots=True)
class Call:
    """One API method a request calls: its name, the bucket it spends from, its cost."""

    method: str  # "videos.insert"
    bucket: str  # "uploads" or "units"
    cost: int


def call_for(method: str, url: str) -> Call | None:
    """The API method ``method url`` calls, None for what costs no quota (the chunks of an
    upload session, the token endpoint)."""
    parts = urlsplit(url)
    match = _PATH.search(parts.path)
    if match is None:
        return None
    upload, resource, setter = match.groups()
    verb = "set" if setter else _VERBS.get(method.upper(), "")
    if upload and (method.upper() == "PUT" or "upload_id=" in parts.query):
        return None  # a chunk of a resumable session: the insert was counted when opened
    if resource == "videos" and verb == "insert":
        return Call("videos.insert", "uploads", 1)
    cost = COSTS.get((resource, verb))
    if cost is None:
        cost = 1 if verb == "list" else 50  # Google's two common prices
    return Call(f"{resource}.{verb}", "units", cost)


def next_reset(now: datetime | None = None) -> datetime:
    """The next midnight in Pacific Time (when Google resets daily quotas), in UTC."""
    here = (now or datetime.now(UTC)).astimezone(PACIFIC)
    tomorrow = (here + timedelta(days=1)).date()
    midnight = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=PACIFIC)
    return midnight.astimezone(UTC)
