"""govsocial-bluesky: the Bluesky (AT Protocol) adapter for govsocial.

Registered through the ``govsocial`` entry-point group, like any third-party plugin::

    import govsocial
    account = govsocial.Account(
        platform="bluesky",
        handle="humas.example.go.id",
        credentials={
            "identifier": "humas.example.go.id",
            "app_password": "env:HUMAS_BSKY_APP_PASSWORD",
        },
    )
"""

from __future__ import annotations

from collections.abc import Callable

from govsocial.adapters import Platform, hookimpl
from govsocial_bluesky.adapter import Bluesky

__all__ = ["Bluesky", "register_platforms"]


@hookimpl
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Register the Bluesky adapter."""
    register(Bluesky)
