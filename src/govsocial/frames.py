"""Metrics snapshots as pandas DataFrames (the ``notebook`` extra).

pandas is imported here, on first use, never by ``import govsocial``. Missing figures are
NaN: a platform that does not report views has no views, not zero views.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from govsocial.errors import ConfigurationError
from govsocial.store import ACCOUNT_METRIC_COLUMNS, METRIC_COLUMNS

__all__ = ["ACCOUNT_COLUMNS", "POST_COLUMNS", "accounts_frame", "posts_frame"]

POST_COLUMNS = (
    "platform",
    "account",
    "post_id",
    "url",
    "labels",
    "published_at",
    "collected_at",
    *METRIC_COLUMNS,
)
ACCOUNT_COLUMNS = ("platform", "account", "collected_at", *ACCOUNT_METRIC_COLUMNS)


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ConfigurationError(
            "metrics frames need pandas",
            field="kind",
            hint="pip install 'govsocial[notebook]'",
        ) from None
    return pandas


def posts_frame(rows: Sequence[Sequence[Any]], labels: Mapping[str, dict[str, str]]) -> Any:
    """Rows ``(platform, account, post_id, url, job_id, published_at, collected_at, *figures)``."""
    pd = _pandas()
    columns = [
        "platform",
        "account",
        "post_id",
        "url",
        "job_id",
        "published_at",
        "collected_at",
        *METRIC_COLUMNS,
    ]
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    frame["labels"] = frame["job_id"].map(lambda job: dict(labels.get(job, {})))
    for name in ("published_at", "collected_at"):
        frame[name] = pd.to_datetime(frame[name].astype("float64"), unit="s", utc=True)
    for name in METRIC_COLUMNS:
        frame[name] = frame[name].astype("float64")
    return frame[list(POST_COLUMNS)]


def accounts_frame(rows: Sequence[Sequence[Any]]) -> Any:
    """Rows ``(platform, account, collected_at, followers, following, posts)``."""
    pd = _pandas()
    frame = pd.DataFrame.from_records(list(rows), columns=list(ACCOUNT_COLUMNS))
    frame["collected_at"] = pd.to_datetime(
        frame["collected_at"].astype("float64"), unit="s", utc=True
    )
    for name in ACCOUNT_METRIC_COLUMNS:
        frame[name] = frame[name].astype("float64")
    return frame
