"""govsocial-mastodon: the Mastodon adapter for govsocial.

Installing this distribution registers the ``mastodon`` platform through the ``govsocial``
entry-point group; nothing needs importing by hand::

    import govsocial

    account = govsocial.Account(
        platform="mastodon",
        handle="@humas@mastodon.example",
        base_url="https://mastodon.example",
        credentials={"access_token": "env:HUMAS_MASTODON_TOKEN"},
    )
"""

from __future__ import annotations

from collections.abc import Callable

from govsocial.adapters import Platform, hookimpl
from govsocial_mastodon.adapter import Mastodon

__all__ = ["Mastodon", "register_platforms"]

__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Register the Mastodon adapter."""
    register(Mastodon)
