"""What a workspace reports about scheduled work: jobs and their deliveries.

A **job** is one post planned for one or more accounts (and, with a recurrence, for many
times). A **delivery** is that post to one account at one time; it moves through:

``scheduled`` → ``claimed`` (a worker holds a lease) → ``sending`` (the attempt is recorded
before the request leaves) → ``published`` | ``unknown`` | ``failed`` | ``missed``, or
``cancelled`` before it started, or ``refused`` when the authority behind it no longer
holds at publication (a revoked or ended appointment; see docs/accountability.md).
``unknown`` means the platform may have the post and cannot say: a human looks, govsocial
never resends it.

``sending`` → ``processing`` when the platform accepted the post and is still processing it
(TikTok's moderation can take hours): no worker holds it while it waits; at ``due_at`` a
worker looks again (a status read, never a second send), until it is ``published``,
``failed`` (the platform refused it after all) or, past the workspace's
``processing_limit``, ``unknown`` with a ``ProcessingTimeout``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict

from govsocial.core._html import card, escape, labels, link, multiline, muted, status, table, when
from govsocial.core.errors import NotFound
from govsocial.core.models import Account, Model, Post, PostRef

__all__ = ["DELIVERY_STATES", "Delivery", "Job"]

DeliveryState = Literal[
    "scheduled",
    "claimed",
    "sending",
    "processing",
    "published",
    "unknown",
    "failed",
    "missed",
    "cancelled",
    "refused",
]
DELIVERY_STATES: tuple[str, ...] = (
    "scheduled",
    "claimed",
    "sending",
    "processing",
    "published",
    "unknown",
    "failed",
    "missed",
    "cancelled",
    "refused",
)


class Delivery(Model):
    """One post to one account at one time."""

    model_config = ConfigDict(frozen=True)

    id: str
    account: str
    status: DeliveryState
    scheduled_at: datetime
    due_at: datetime
    occurrence: int = 0
    attempts: int = 0
    ref: PostRef | None = None
    error: str | None = None
    error_type: str | None = None
    idempotency_key: str


class Job(Model):
    """A post planned for accounts; ``status`` summarizes its deliveries.

    ``scheduled`` (nothing started), ``running``, ``processing`` (nothing left to send, and
    a platform still processing what it accepted), ``published`` (every delivery),
    ``partial`` (some published, some failed, missed or refused), ``failed``, ``refused``
    (every delivery refused at publication: its authority lapsed, or not the content
    approved), ``unknown`` (some outcome needs a human),
    ``cancelled``.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    post: Post
    recurrence: str | None = None
    cancelled: bool = False
    created_at: datetime
    deliveries: tuple[Delivery, ...] = ()

    @property
    def status(self) -> str:
        """The job's state from its deliveries': ``scheduled``, ``running``, ``partial``, one
        delivery state shared by all, or ``cancelled``."""
        states = {d.status for d in self.deliveries}
        if not states or states == {"cancelled"}:
            return "cancelled" if self.cancelled or states else "scheduled"
        if states & {"claimed", "sending"}:
            return "running"
        if "unknown" in states:
            return "unknown"
        if "scheduled" in states:
            return (
                "scheduled"
                if not states & {"published", "failed", "missed", "refused", "processing"}
                else "running"
            )
        if "processing" in states:
            return "processing"
        settled = states - {"cancelled"}
        if settled == {"published"}:
            return "published"
        if settled == {"refused"}:
            return "refused"
        if "published" in settled:
            return "partial"
        return "failed"

    def delivery(self, account: str | Account) -> Delivery:
        """The (latest) delivery to ``account`` (a workspace account name).

        :raises NotFound: the job has no delivery to that account (a KeyError too).
        """
        name = account if isinstance(account, str) else account.handle
        found = [d for d in self.deliveries if d.account == name]
        if not found:
            known = ", ".join(sorted({d.account for d in self.deliveries})) or "none"
            raise NotFound(
                f"job {self.id} has no delivery to {name!r}",
                field="account",
                hint=f"its deliveries go to: {known}",
            )
        return max(found, key=lambda d: d.occurrence)

    def _repr_html_(self) -> str:
        """A card for notebooks: the job's status and post, and each delivery."""
        return job_html(self)


def job_html(job: Job) -> str:
    """A card for ``job``: its status and post, then one row per delivery."""
    preview = job.post.text if len(job.post.text) <= 200 else job.post.text[:199] + "…"
    rows: list[list[str]] = [
        ["status", status(job.status)],
        ["post", multiline(preview) if preview else muted("(no text)")],
    ]
    if job.post.labels:
        rows.append(["labels", labels(job.post.labels)])
    if job.recurrence:
        rows.append(["recurrence", escape(job.recurrence)])
    rows.append(["created", when(job.created_at)])
    deliveries = [
        [
            escape(d.account),
            status(d.status),
            when(d.due_at),
            escape(d.attempts),
            (link(d.ref.url, d.ref.url) if d.ref.url else escape(d.ref.id))
            if d.ref is not None
            else (escape(f"{d.error_type or 'error'}: {d.error}") if d.error else ""),
        ]
        for d in sorted(job.deliveries, key=lambda d: (d.due_at, d.account, d.occurrence))
    ]
    body = table(rows, side=True)
    if deliveries:
        body += table(deliveries, head=("account", "status", "due", "attempts", "link or error"))
    else:
        body += muted("no deliveries")
    return card("job", f"Job {escape(job.id[:8])}", body)
