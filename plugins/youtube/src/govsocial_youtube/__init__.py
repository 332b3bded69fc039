"""govsocial-youtube: the YouTube (Data API v3) adapter for govsocial.

Installing this distribution registers the ``youtube`` platform through the ``govsocial``
entry-point group; nothing needs importing by hand::

    import govsocial

    account = govsocial.Account(
        platform="youtube",
        handle="@diskominfokota",
        credentials={
            "access_token": "env:HUMAS_YT_ACCESS_TOKEN",
            "refresh_token": "env:HUMAS_YT_REFRESH_TOKEN",
            "client_id": "1234567890-abc.apps.googleusercontent.com",
            "client_secret": "env:HUMAS_YT_CLIENT_SECRET",
        },
    )

A post is one video; its first line is the title (docs/platforms/youtube.md).
"""

from __future__ import annotations

from collections.abc import Callable

from govsocial.adapters import Platform, hookimpl
from govsocial_youtube.adapter import LABELS, SCOPES, TokenRefused, YouTube

__all__ = ["LABELS", "SCOPES", "TokenRefused", "YouTube", "register_platforms"]

__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Register the YouTube adapter."""
    register(YouTube)
