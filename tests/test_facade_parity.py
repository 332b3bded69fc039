"""The Workspace facade hands each call to one service with the same signature.

A method the facade shares with a service (Planner, Accountability, Inbox, Analytics,
WorkspaceCore, Authority) must take exactly the service's parameters, names, kinds and
defaults, so a parameter added to the service cannot be forgotten on the facade (or the
reverse). The few methods where the facade deliberately offers more (a Draft or a Post in
one call, the deprecated inbox ``close``) are listed below with the reason; a new difference
fails until it is either mended or listed here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from govsocial.accountability.broadcast import Broadcasts
from govsocial.accountability.feeds import Feeds
from govsocial.accountability.governance import Accountability
from govsocial.analytics.service import Analytics
from govsocial.app import Workspace
from govsocial.inbox.items import Inbox
from govsocial.inbox.watches import Watches
from govsocial.scheduling.planner import Planner
from govsocial.workspace.authority import Authority
from govsocial.workspace.core import WorkspaceCore

SERVICES: tuple[type, ...] = (
    Broadcasts,
    Planner,
    Accountability,
    Feeds,
    Inbox,
    Watches,
    Analytics,
    WorkspaceCore,
    Authority,
)

#: (method, service) pairs whose signatures differ on purpose, and why.
DELIBERATE: dict[tuple[str, str], str] = {
    ("account_row", "WorkspaceCore"): "rows= is the core's own speed-up for batch callers",
    ("client", "WorkspaceCore"): "the facade's client() is the audited direct client",
    ("close", "WorkspaceCore"): "the facade still accepts the deprecated close(item_id)",
    ("draft", "Accountability"): "the facade creates a draft from a Post as well as reading one",
    ("enqueue", "Planner"): "the facade takes a Draft too and hides authority=/then=",
    ("enqueue", "Accountability"): "the facade takes a Post too",
    ("schedule", "Planner"): "the facade takes a Draft too (accounts and time default to it)",
    ("schedule", "Accountability"): "the facade takes a Post too",
    ("apply_retention", "Inbox"): "now= is the service's clock, for tests of the retention",
}


def _shape(function: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def _shared() -> list[tuple[str, type]]:
    """Every (method, service) pair the facade and a service both have."""
    pairs = []
    for name, _ in inspect.getmembers(Workspace, inspect.isfunction):
        if name.startswith("_"):
            continue
        for service in SERVICES:
            if callable(getattr(service, name, None)):
                pairs.append((name, service))
    return pairs


_COMPARED = [(n, s) for n, s in _shared() if (n, s.__name__) not in DELIBERATE]


@pytest.mark.parametrize(
    ("name", "service"), _COMPARED, ids=[f"{n}-{s.__name__}" for n, s in _COMPARED]
)
def test_a_shared_method_has_the_services_signature(name: str, service: type) -> None:
    facade = _shape(getattr(Workspace, name))
    own = _shape(getattr(service, name))
    assert facade == own, (
        f"Workspace.{name}{inspect.signature(getattr(Workspace, name))} differs from "
        f"{service.__name__}.{name}{inspect.signature(getattr(service, name))}: mend one, or "
        "list the pair in DELIBERATE with the reason"
    )


def test_every_deliberate_difference_still_exists() -> None:
    shared = {(n, s.__name__) for n, s in _shared()}
    stale = set(DELIBERATE) - shared
    assert not stale, f"listed as deliberate but no longer shared: {sorted(stale)}"


def test_the_shared_methods_are_many() -> None:
    """Guards the test above against passing because nothing was compared."""
    assert len(_COMPARED) >= 40
