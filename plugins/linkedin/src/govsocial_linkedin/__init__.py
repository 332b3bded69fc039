"""govsocial-linkedin: the LinkedIn (organization Pages, Posts API) adapter for govsocial.

Installing this distribution registers the ``linkedin`` platform through the ``govsocial``
entry-point group; nothing needs importing by hand::

    import govsocial

    account = govsocial.Account(
        platform="linkedin",
        handle="Dinas Kominfo",
        credentials={
            "organization": "urn:li:organization:12345",
            "access_token": "env:HUMAS_LINKEDIN_TOKEN",
        },
    )
"""

from __future__ import annotations

from collections.abc import Callable

from govsocial.adapters import Platform, hookimpl
from govsocial_linkedin.adapter import LinkedIn
from govsocial_linkedin.little import from_little, to_little

__all__ = ["LinkedIn", "from_little", "register_platforms", "to_little"]

__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Register the LinkedIn adapter."""
    register(LinkedIn)
