"""govsocial-papan: the Papan adapter for govsocial, and the example plugin of the tutorial.

Installing this distribution registers the ``papan`` platform through the ``govsocial``
entry-point group; docs/writing-a-plugin.md builds it step by step.
"""

from __future__ import annotations

from collections.abc import Callable

from govsocial.adapters import Platform, hookimpl

from govsocial_papan.adapter import Papan

__all__ = ["Papan", "register_platforms"]


@hookimpl
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Tell govsocial about the Papan adapter."""
    register(Papan)
