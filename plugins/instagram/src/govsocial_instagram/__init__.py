"""govsocial-instagram: the Instagram (Instagram Graph API) adapter for govsocial.

Installing this distribution registers the ``instagram`` platform through the ``govsocial``
entry-point group::

    import govsocial

    account = govsocial.Account(
        platform="instagram",
        handle="@dinkes.kota",
        credentials={"ig_user_id": "17841400000000000", "access_token": "env:HUMAS_IG_TOKEN"},
    )
    host = govsocial.DirectoryHost("/var/www/html/media", "https://dinkes.example.go.id/media")
    with govsocial.Client(media_host=host) as client:
        client.publish(govsocial.Post("Jadwal vaksinasi", media=[...]), [account])

Instagram downloads media from public URLs: local files need a media host (see
docs/media-hosts.md).
"""

from __future__ import annotations

from collections.abc import Callable

from govsocial.adapters import Platform, hookimpl
from govsocial_instagram.adapter import Instagram, InstagramError

__all__ = ["Instagram", "InstagramError", "register_platforms"]

__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Register the Instagram adapter."""
    register(Instagram)
