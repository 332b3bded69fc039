"""govsocial-x: the X (Twitter) API v2 adapter for govsocial.

Installing this distribution registers the ``x`` platform through the ``govsocial``
entry-point group; nothing needs importing by hand::

    import govsocial

    account = govsocial.Account(
        platform="x",
        handle="@humas_kota",
        credentials={
            "access_token": "env:HUMAS_X_ACCESS_TOKEN",
            "refresh_token": "env:HUMAS_X_REFRESH_TOKEN",
            "client_id": "env:HUMAS_X_CLIENT_ID",
        },
    )
"""

from __future__ import annotations

from collections.abc import Callable

from govsocial.adapters import Platform, hookimpl
from govsocial_x.adapter import X
from govsocial_x.text import weighted_length

__all__ = ["X", "register_platforms", "weighted_length"]

__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Register the X adapter."""
    register(X)
