"""Metrics snapshots as pandas DataFrames (the ``notebook`` extra).

pandas is imported here, on first use, never by ``import govsocial``. Missing figures are
NaN: a platform that does not report views has no views, not zero views.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from typing import Any

from govsocial.core.errors import ConfigurationError
from govsocial.store import ACCOUNT_METRIC_COLUMNS, METRIC_COLUMNS
from govsocial.store.metrics import adbc_snapshot_columns
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of

__all__ = [
    "ACCOUNT_COLUMNS",
    "POST_COLUMNS",
    "accounts_frame",
    "metrics_frame",
    "posts_frame",
    "posts_frame_from_columns",
    "sqlite_snapshot_columns",
]

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
    job's labels.
    """
    pd = _pandas()
    import numpy as np

    width = 2 + len(METRIC_COLUMNS)
    columns = list(zip(*snapshots, strict=True)) if snapshots else [()] * width
    codes, keys = pd.factorize(np.asarray(columns[0], dtype=object))
    return posts_frame_from_columns(codes, list(keys), columns[1:], posts, labels)


def posts_frame_from_columns(
    codes: Any,
    keys: Sequence[str],
    columns: Sequence[Any],
    posts: Sequence[Sequence[Any]],
    labels: Mapping[str, dict[str, str]],
) -> Any:
    """The posts frame from snapshot columns: ``codes`` (per snapshot, an index into
    ``keys``, the delivery ids), then collection times and one column per figure
    (sequences or arrays, None or NaN where missing). Each post is described once and
    spread to its snapshots by index.
    """
    pd = _pandas()
    import numpy as np

    described = {row[0]: row for row in posts}
    rows = [described.get(key) for key in keys]
    codes = np.asarray(codes, dtype=np.int64)

    def per_post(index: int) -> Any:
        """A categorical column: each post's value, spread to its snapshots by code."""
        values = [row[index] if row is not None else None for row in rows]
        value_codes, categories = pd.factorize(
            pd.Series(values, dtype=object), use_na_sentinel=True
        )
        spread = np.asarray(value_codes, dtype=np.int64)[codes] if len(codes) else codes
        return pd.Categorical.from_codes(spread, categories=pd.Index(categories, dtype=object))

    def utc_times(seconds: Any) -> Any:
        nanoseconds = np.round(np.asarray(seconds, dtype="float64") * 1e9)
        stamps = pd.to_datetime(nanoseconds.astype("int64", copy=False), unit="ns", utc=True)
        return stamps.where(~np.isnan(np.asarray(seconds, dtype="float64")))

    job_labels = np.empty(len(rows), dtype=object)
    job_labels[:] = [labels.get(row[5], {}) if row is not None else {} for row in rows]
    published = np.array([row[6] if row is not None else np.nan for row in rows], dtype="float64")
    data: dict[str, Any] = {
        "platform": per_post(1),
        "account": per_post(2),
        "post_id": per_post(3),
        "url": per_post(4),
        "labels": job_labels[codes],
        "published_at": utc_times(published[codes]),
        "collected_at": utc_times(columns[0]),
    }
    for offset, name in enumerate(METRIC_COLUMNS, start=1):
        data[name] = np.asarray(columns[offset], dtype="float64")  # None becomes NaN
    return pd.DataFrame(data, columns=list(POST_COLUMNS))


def sqlite_snapshot_columns(path: str) -> tuple[Any, list[str], list[Any]] | None:
    """``(codes, keys, columns)`` of the SQLite file at ``path`` for
    :func:`posts_frame_from_columns` (see :func:`govsocial.store.metrics.adbc_snapshot_columns`,
    which a SQLite store's ``post_metric_columns()`` uses)."""
    return adbc_snapshot_columns(path)


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


def metrics_frame(workspace: WorkspaceCore | HasCore, kind: str = "posts") -> Any:
    """A workspace's metrics snapshots as a DataFrame: ``"posts"`` (one row per post
    snapshot) or ``"accounts"`` (one row per account snapshot); see
    :meth:`govsocial.Workspace.metrics_frame`."""
    store = core_of(workspace).store
    if kind == "posts":
        read = store.post_metric_columns()  # the engine's fast path, where it has one
        if read is not None:
            codes, keys, columns = read
            return posts_frame_from_columns(
                codes, keys, columns, store.measured_posts(), store.job_labels()
            )
        gc_was_on = gc.isenabled()
        gc.disable()  # a million fresh tuples would wake the cycle collector again and again
        try:
            snapshots = store.post_metric_snapshots()
            return posts_frame(snapshots, store.measured_posts(), store.job_labels())
        finally:
            if gc_was_on:
                gc.enable()
    if kind == "accounts":
        return accounts_frame(store.account_metric_rows())
    raise ConfigurationError(
        f"unknown metrics frame {kind!r}", field="kind", hint="use 'posts' or 'accounts'"
    )
