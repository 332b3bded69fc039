"""Hoax clarifications counted from the audit log: the ones published and the answers given
with one, per verdict (the performance report and the monthly report both show them).
"""

from __future__ import annotations

import json
from typing import Any

from govsocial.analytics.analysis import Period
from govsocial.listening.clarification import VERDICTS
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of

__all__ = ["clarification_rows", "clarified_deliveries"]


def clarified_deliveries(ws: WorkspaceCore) -> dict[str, str]:
    """The published deliveries of hoax clarifications (posts labelled ``clarification``),
    each with its verdict."""
    with ws.store.transaction() as tx:
        rows = ws.store.metrics.published_posts(tx)
    found = {}
    for row in rows:
        try:
            labels = json.loads(row[9]).get("labels") or {}
        except (TypeError, ValueError, AttributeError):
            continue
        if isinstance(labels, dict) and labels.get("clarification"):
            found[str(row[0])] = str(labels["clarification"])
    return found


def clarification_rows(
    workspace: WorkspaceCore | HasCore, period: Period | str
) -> dict[str, dict[str, Any]]:
    """Hoax clarifications of ``period`` per verdict: ``{verdict: {"published": n,
    "answers": n, "evidence": "#12, #15"}}``, verdicts in :data:`VERDICTS` order.

    ``published`` counts the ``publish`` audit entries of clarification posts (one per
    account published to), ``answers`` the inbox replies given with one
    (``Workspace.answer_with_clarification`` or ``clarification_reply``).
    """
    ws = core_of(workspace)
    span = period if isinstance(period, Period) else Period.parse(period, zone=ws.calendar_zone())
    clarified = clarified_deliveries(ws)
    found: dict[str, dict[str, Any]] = {}
    evidence: dict[str, list[int]] = {}
    entries = [
        entry
        for action in ("publish", "reply")
        for entry in ws.audit_log(span.start, until=span.end, action=action)
    ]
    for entry in sorted(entries, key=lambda e: e.seq):
        if entry.action == "publish" and entry.object in clarified:
            verdict, column = clarified[entry.object or ""], "published"
        elif entry.action == "reply" and entry.detail.get("clarification"):
            verdict, column = str(entry.detail["clarification"]), "answers"
        else:
            continue
        row = found.setdefault(verdict, {"published": 0, "answers": 0})
        row[column] += 1
        evidence.setdefault(verdict, []).append(entry.seq)
    order = list(VERDICTS)
    return {
        verdict: {**found[verdict], "evidence": ", ".join(f"#{n}" for n in evidence[verdict])}
        for verdict in sorted(found, key=lambda v: (order.index(v) if v in order else 99, v))
    }
