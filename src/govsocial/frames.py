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


def posts_frame(
    snapshots: Sequence[Sequence[Any]],
    posts: Sequence[Sequence[Any]],
    labels: Mapping[str, dict[str, str]],
) -> Any:
    """The posts frame from snapshot rows ``(delivery_id, collected_at, *figures)``, post
    rows ``(delivery_id, platform, account, post_id, url, job_id, published_at)`` and each
    job's labels. Built column by column: a million snapshots in about a second.
    """
    pd = _pandas()
    import numpy as np

    width = 2 + len(METRIC_COLUMNS)
    columns = list(zip(*snapshots, strict=True)) if snapshots else [()] * width
    codes, keys = pd.factorize(np.asarray(columns[0], dtype=object))
    described = {row[0]: row for row in posts}
    rows = [described.get(key) for key in keys]

    def per_post(index: int) -> Any:
        values = np.empty(len(rows), dtype=object)
        values[:] = [row[index] if row is not None else None for row in rows]
        return values[codes]

    job_labels = np.empty(len(rows), dtype=object)
    job_labels[:] = [labels.get(row[5], {}) if row is not None else {} for row in rows]
    published = np.array([row[6] if row is not None else np.nan for row in rows], dtype="float64")[
        codes
    ]
    data: dict[str, Any] = {
        "platform": per_post(1),
        "account": per_post(2),
        "post_id": per_post(3),
        "url": per_post(4),
        "labels": job_labels[codes],
        "published_at": pd.to_datetime(published, unit="s", utc=True),
        "collected_at": pd.to_datetime(np.asarray(columns[1], dtype="float64"), unit="s", utc=True),
    }
    for offset, name in enumerate(METRIC_COLUMNS, start=2):
        data[name] = np.asarray(columns[offset], dtype="float64")  # None becomes NaN
    return pd.DataFrame(data, columns=list(POST_COLUMNS))


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
