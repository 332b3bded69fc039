"""govsocial-facebook: the Facebook Pages adapter for govsocial (Meta Graph API).

Installing this distribution registers the ``facebook`` platform through the ``govsocial``
entry-point group; nothing needs importing by hand::

    import govsocial

    account = govsocial.Account(
        platform="facebook",
        handle="humas.kota",
        credentials={"page_id": "104xxxxxxxxxxxx", "page_access_token": "env:HUMAS_FB_PAGE_TOKEN"},
    )
"""

from __future__ import annotations

from collections.abc import Callable

from govsocial.adapters import Platform, hookimpl
from govsocial_facebook.adapter import Facebook

__all__ = ["Facebook", "register_platforms"]

__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Register the Facebook Pages adapter."""
    register(Facebook)
