"""govsocial-tiktok: the TikTok (Content Posting API, Direct Post) adapter for govsocial.

Installing this distribution registers the ``tiktok`` platform through the ``govsocial``
entry-point group; nothing needs importing by hand::

    import govsocial

    account = govsocial.Account(
        platform="tiktok",
        handle="@dinaskominfo",
        credentials={
            "access_token": "env:HUMAS_TIKTOK_TOKEN",
            "refresh_token": "env:HUMAS_TIKTOK_REFRESH",
            "client_key": "env:TIKTOK_CLIENT_KEY",
            "client_secret": "env:TIKTOK_CLIENT_SECRET",
        },
    )

A local video file is uploaded in chunks; photo posts and ``Media(url=...)`` videos are
pulled by TikTok from a public URL on a domain verified for the app (a media host).
docs/platforms/tiktok.md describes the set-up, the audit and what a post goes through.
"""

from __future__ import annotations

from collections.abc import Callable

from govsocial.adapters import Platform, hookimpl
from govsocial_tiktok.adapter import ChunkedPut, PublishPending, TikTok

__all__ = ["ChunkedPut", "PublishPending", "TikTok", "register_platforms"]

__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Register the TikTok adapter."""
    register(TikTok)
