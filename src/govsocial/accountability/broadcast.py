"""A broadcast: one post from a coordinating workspace into many workspaces of its registry.

A province's Diskominfo sends the central narrative to every regional office at the same
hour. It has no authority inside those offices: each keeps its own people, approval rules
and audit chain. So a broadcast arrives in a target workspace only where that workspace's
head of office accepted broadcasts from the coordinating workspace
(:meth:`Broadcasts.accept_broadcasts`, head-gated like every other setting), and under the
target's own rules:

- accepted with ``automatic=True``: a **job** on the accepted accounts, due at the
  broadcast's time, planned by ``broadcast:<coordinating workspace>``; at publication the
  worker checks that the acceptance still holds, that the head who gave it still holds a
  head appointment in force, and that the account's rule does not want every post approved
  (:meth:`govsocial.workspace.authority.Authority.check_publication`);
- accepted without it, or on an account whose rule wants every post approved: a **draft**
  written by ``broadcast:<coordinating workspace>``, which the target's approvers approve
  and its admins schedule as any other draft;
- not accepted (or archived, or the post does not fit the target's platforms): nothing is
  written there but a ``refused:broadcast`` entry saying why.

The coordinating workspace's audit log records the broadcast (``broadcast``: who, under
which decree, the content's digest, and each target's outcome); each target's records what
arrived (``broadcast``, with the coordinating workspace and person) next to the planning or
draft entries. On PostgreSQL all of it is one transaction over every schema: a broadcast is
written everywhere or nowhere.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ConfigDict

from govsocial.core.errors import ConfigurationError, GovSocialError, NotFound
from govsocial.core.models import Model, Post
from govsocial.core.timing import parse_when
from govsocial.scheduling.planner import Planner
from govsocial.store.registry import Registry, check_workspace_name
from govsocial.store.sql import Tx
from govsocial.workspace.authority import BROADCAST_ACTOR
from govsocial.workspace.content import pin
from govsocial.workspace.core import HasCore, WorkspaceCore, core_of
from govsocial.workspace.signing import SigningKey, signed

__all__ = ["Broadcast", "BroadcastTarget", "Broadcasts"]

_FROZEN = ConfigDict(frozen=True)


class BroadcastTarget(Model):
    """What a broadcast did in one target workspace."""

    model_config = _FROZEN

    workspace: str
    outcome: Literal["job", "draft", "job+draft", "refused"]
    job: str | None = None
    draft: str | None = None
    accounts: tuple[str, ...] = ()
    reason: str | None = None


class Broadcast(Model):
    """A broadcast: its id, where it came from, who sent it, and each target's outcome."""

    model_config = _FROZEN

    id: str
    source: str
    by: str | None
    content: str
    targets: tuple[BroadcastTarget, ...]


class Broadcasts:
    """Sending broadcasts from this workspace, and accepting them from others."""

    def __init__(self, core: WorkspaceCore | HasCore) -> None:
        self.core = core_of(core)
        self.store = self.core.store

    # -- the target's side -------------------------------------------------------------------

    @signed
    def accept_broadcasts(
        self,
        source: str,
        *,
        automatic: bool = False,
        accounts: Sequence[str] | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> dict[str, Any]:
        """Accept broadcasts from the coordinating workspace ``source`` on ``accounts``
        (None: every account of this workspace, those added later too): as drafts for this
        workspace's approvers, or, ``automatic``, as jobs published at the broadcast's time
        (except on accounts whose rule wants every post approved). Once the workspace has
        heads of office, ``by`` must be one; the acceptance holds while they do. Replaces an
        earlier acceptance of ``source``."""
        check_workspace_name(source)
        names = None if accounts is None else [r.name for r in self.core.account_rows(accounts)]

        def write(tx: Tx, decree: str | None) -> dict[str, Any]:
            value: dict[str, Any] = {
                "automatic": bool(automatic),
                "accounts": names,
                "by": by,
                "decree": decree,
                "at": time.time(),
            }
            self.store.put_meta(tx, f"broadcasts_from:{source}", json.dumps(value))
            self.core.record(tx, by, "accept_broadcasts", obj=source, decree=decree, detail=value)
            return value

        return self.core.authority.as_head("accept_broadcasts", by, write, obj=source)

    @signed
    def stop_broadcasts(
        self, source: str, *, by: str | None = None, key: SigningKey | None = None
    ) -> None:
        """Accept no more broadcasts from ``source``; its automatic jobs not yet published
        are refused at publication. Head-gated as :meth:`accept_broadcasts`."""
        check_workspace_name(source)

        def write(tx: Tx, decree: str | None) -> None:
            self.store.delete_meta(tx, f"broadcasts_from:{source}")
            self.core.record(tx, by, "stop_broadcasts", obj=source, decree=decree)

        self.core.authority.as_head("accept_broadcasts", by, write, obj=source)

    # -- the coordinator's side --------------------------------------------------------------

    @signed
    def broadcast(
        self,
        post: Post,
        *,
        workspaces: Sequence[str] | Literal["all"],
        at: str | datetime | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> Broadcast:
        """Send ``post`` into ``workspaces`` (names, or ``"all"``: every workspace of the
        registry in service but this one), due at ``at`` (default: now). Each target gets a
        job or a draft under its own acceptance and rules (see the module's docstring).
        Once this workspace has heads of office, ``by`` must be one (``broadcast`` is a
        head's action here).

        :raises ConfigurationError: this workspace is not in a registry, or a name is not a
            workspace name.
        :raises NotFound: a named workspace is not registered.
        :raises NotPermitted: ``by`` may not broadcast, or this workspace is archived.
        """
        source = self.core.name
        if source is None:
            raise ConfigurationError(
                "a broadcast goes from a workspace of a registry to others: this workspace is "
                "one of its own",
                field="workspaces",
                hint="open the coordinating workspace with Workspace.open(url, workspace=NAME)",
            )
        self.core.refuse_if_archived("broadcast")
        when = parse_when(
            at if at is not None else datetime.now(UTC), zone="UTC", now=datetime.now(UTC)
        )
        pinned = pin(post)
        broadcast_id = uuid.uuid4().hex[:12]
        registry = Registry.of(self.store)
        try:
            serving = {e.name: e for e in registry.entries()}
            if workspaces == "all":
                names = [n for n, e in serving.items() if n != source and not e.archived]
            else:
                names = list(dict.fromkeys(check_workspace_name(n) for n in workspaces))
                unknown = [n for n in names if n not in serving]
                if unknown:
                    raise NotFound(
                        f"no workspace called {', '.join(map(repr, unknown))} in the registry",
                        field="workspaces",
                        hint="`govsocial workspaces list` shows them",
                    )
                names = [n for n in names if n != source]

            def write(tx: Tx, decree: str | None) -> Broadcast:
                targets = tuple(
                    self._deliver(
                        registry, name, serving[name].archived, post, when, broadcast_id, by
                    )
                    for name in names
                )
                result = Broadcast(
                    id=broadcast_id, source=source, by=by, content=pinned.digest, targets=targets
                )
                self.core.record(
                    tx,
                    by,
                    "broadcast",
                    obj=broadcast_id,
                    decree=decree,
                    detail={
                        "content": pinned.digest,
                        "at": when.timestamp(),
                        "targets": {
                            t.workspace: t.model_dump(mode="json", exclude={"workspace"})
                            for t in targets
                        },
                    },
                )
                return result

            return self.core.authority.as_head("broadcast", by, write, obj=broadcast_id)
        finally:
            registry.close()

    def _deliver(
        self,
        registry: Registry,
        name: str,
        archived: bool,
        post: Post,
        when: datetime,
        broadcast_id: str,
        by: str | None,
    ) -> BroadcastTarget:
        """Write the broadcast into workspace ``name`` under its own acceptance and rules."""
        source = str(self.core.name)
        actor = BROADCAST_ACTOR + source
        target = WorkspaceCore(registry.store(name), plugins=self.core.plugins)
        sent = {"broadcast": broadcast_id, "from": source, "by": by}
        try:
            accepted = None if archived else target.authority.broadcast_acceptance(source)

            def refused(reason: str) -> BroadcastTarget:
                with target.store.transaction() as tx:
                    target.record(
                        tx,
                        actor,
                        "refused:broadcast",
                        obj=broadcast_id,
                        detail={**sent, "reason": reason},
                    )
                return BroadcastTarget(workspace=name, outcome="refused", reason=reason)

            if archived:
                return BroadcastTarget(workspace=name, outcome="refused", reason="archived")
            if accepted is None:
                return refused(f"{name} does not accept broadcasts from {source}")
            wanted = accepted.get("accounts")
            rows = [r for r in target.store.accounts() if wanted is None or r.name in wanted]
            if not rows:
                return refused(f"{name} has none of the accounts it accepted broadcasts on")
            try:
                target.validate(post, rows)
            except GovSocialError as error:
                return refused(str(error))
            automatic: list[str] = []
            drafted: list[str] = []
            for row in rows:
                strict = (
                    target.authority.governed(row.name)
                    and target.authority.approval_rule(row.name).admin_needs_approval
                )
                (automatic if accepted.get("automatic") and not strict else drafted).append(
                    row.name
                )
            job_id = draft_id = None
            if automatic:
                authority: dict[str, Any] = {
                    "by": actor,
                    "broadcast": sent,
                    "draft": None,
                    "approved_by": [],
                    "accounts": {n: accepted.get("decree") for n in automatic},
                }
                job = Planner(target).plan(
                    post, automatic, when, None, authority=authority, by=actor,
                    action="schedule", note=sent,
                )  # fmt: skip
                job_id = job.id
            if drafted:
                draft_id = self._draft(target, post, drafted, when, actor, sent)
            with target.store.transaction() as tx:
                target.record(
                    tx,
                    actor,
                    "broadcast",
                    obj=broadcast_id,
                    detail={**sent, "job": job_id, "draft": draft_id, "content": pin(post).digest},
                )
            outcome: Literal["job", "draft", "job+draft"] = (
                "job+draft" if job_id and draft_id else "job" if job_id else "draft"
            )
            return BroadcastTarget(
                workspace=name,
                outcome=outcome,
                job=job_id,
                draft=draft_id,
                accounts=tuple(automatic + drafted),
            )
        finally:
            target.close()

    def _draft(
        self,
        target: WorkspaceCore,
        post: Post,
        accounts: list[str],
        when: datetime,
        actor: str,
        sent: dict[str, Any],
    ) -> str:
        """A pending draft in ``target``, written by the broadcast for its approvers."""
        pinned = pin(post)
        draft_id = uuid.uuid4().hex[:12]
        with target.store.transaction() as tx:
            target.store.governance.add_draft(
                tx,
                (
                    draft_id,
                    post.model_dump_json(),
                    json.dumps(accounts),
                    actor,
                    when.timestamp(),
                    None,
                    None,
                    time.time(),
                    pinned.model_dump_json(),
                ),
            )
            for name in accounts:
                target.record(
                    tx,
                    actor,
                    "draft",
                    obj=draft_id,
                    account=name,
                    detail={"content": pinned.digest, **sent},
                )
        return draft_id
