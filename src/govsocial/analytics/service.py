"""The analytics service of a workspace: metrics collection, frames, summaries, reports,
performance and the archive, over one :class:`~govsocial.workspace.core.WorkspaceCore`.

Importing this module loads neither pandas nor matplotlib: each method imports what it needs,
so a workspace without the ``notebook`` extra still schedules and publishes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govsocial.core.errors import ConfigurationError
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of
from govsocial.workspace.signing import SigningKey, signed

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]  # no pandas-stubs

    from govsocial.analytics.analysis import Period
    from govsocial.analytics.archive import ArchiveExport
    from govsocial.analytics.collection import Collected
    from govsocial.analytics.performance import PerformanceReport
    from govsocial.analytics.report import Report

__all__ = ["Analytics"]


class Analytics:
    """Metrics, reports, performance and the archive of a workspace.

    :param core: the workspace core (or the :class:`govsocial.Workspace` carrying one).
    """

    def __init__(self, core: WorkspaceCore | HasCore) -> None:
        self.core = core_of(core)

    def collect(
        self,
        *,
        max_age: timedelta = timedelta(days=90),
        progress: Callable[[str, int], None] | None = None,
        **client_options: Any,
    ) -> Collected:
        """Snapshot every published post still tracked, and every account, through the
        workspace's client (one of its own with ``client_options``)."""
        from govsocial.analytics.collection import collect

        with self.core.using_client(**client_options) as client:
            return client.run(
                collect(self.core, client.async_client, max_age=max_age, progress=progress)
            )

    def metrics_frame(self, kind: str = "posts") -> pd.DataFrame:
        """Post (``"posts"``) or account (``"accounts"``) snapshots as a DataFrame."""
        from govsocial.analytics.frames import metrics_frame

        return metrics_frame(self.core, kind)

    def summary(
        self, period: str, by: str = "platform", *, zone: str | None = None
    ) -> pd.DataFrame:
        """Figures for ``period`` grouped ``by`` platform, account or label (see
        :func:`govsocial.analytics.analysis.summary`); ``zone``: the calendar's."""
        from govsocial.analytics.analysis import summary

        return summary(
            self.metrics_frame("posts"),
            self.metrics_frame("accounts"),
            period,
            by=by,
            zone=zone or self.core.calendar_zone(),
        )

    def report(self, period: str, *, zone: str | None = None, title: str | None = None) -> Report:
        """The report on ``period`` (see :func:`govsocial.analytics.report.workspace_report`).

        :raises ConfigurationError: pandas or matplotlib are missing, or a bad period or zone.
        """
        try:
            from govsocial.analytics.report import workspace_report
        except ImportError:
            raise ConfigurationError(
                "reports need pandas and matplotlib",
                field="report",
                hint="pip install 'govsocial[notebook]'",
            ) from None
        return workspace_report(self.core, period, zone=zone, title=title)

    def performance(self, period: str | Period, by: str = "person") -> pd.DataFrame:
        """The performance table of ``period`` by person, account or unit."""
        from govsocial.analytics.performance import performance_frame

        return performance_frame(self.core, period, by)

    def performance_report(
        self, period: str | Period, *, title: str | None = None
    ) -> PerformanceReport:
        """The performance report of ``period`` (HTML with charts, CSV, JSON)."""
        from govsocial.analytics.performance import PerformanceReport

        return PerformanceReport(self.core, period, title=title)

    def opinion_frame(self, period: str | Period) -> pd.DataFrame:
        """Inbox messages and watched posts of ``period`` counted per day, source (``inbox``,
        ``watch:<name>``), platform, intent and sentiment (pandas;
        :mod:`govsocial.analytics.opinion`)."""
        from govsocial.analytics.opinion import opinion_frame

        return opinion_frame(self.core, period)

    def labels_frame(self) -> pd.DataFrame:
        """The inbox's re-labels as training data, one row per labelled item (pandas)."""
        from govsocial.analytics.labels import labels_frame

        return labels_frame(self.core)

    def export_labels(self, path: str | Path, format: str | None = None) -> int:
        """Write the inbox's re-labels to ``path`` (``.jsonl`` or ``.csv``): rows written."""
        from govsocial.analytics.labels import export_labels

        return export_labels(self.core, path, format)

    @signed
    def export_archive(
        self,
        path: str | Path,
        period: str | tuple[datetime, datetime] | None = None,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> ArchiveExport:
        """Write the archive of ``period`` into the folder ``path``."""
        from govsocial.analytics.archive import export_archive

        return export_archive(self.core, path, period, by=by)
