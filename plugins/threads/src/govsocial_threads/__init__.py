"""govsocial-threads: the Threads (Meta Threads API) adapter for govsocial.

Installing this distribution registers the ``threads`` platform through the ``govsocial``
entry-point group; nothing needs importing by hand::

    import govsocial

    account = govsocial.Account(
        platform="threads",
        handle="@dinaskominfo",
        credentials={"user_id": "17841400000000000", "access_token": "env:HUMAS_THREADS_TOKEN"},
    )

Threads downloads media from public URLs, so posts with local files need a media host:
``govsocial.Client(media_host=govsocial.adapters.media.DirectoryHost(...))``.
"""

from __future__ import annotations

from collections.abc import Callable

from govsocial.adapters import Platform, hookimpl
from govsocial_threads.adapter import PublishingQuota, Threads

__all__ = ["PublishingQuota", "Threads", "register_platforms"]

__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Register the Threads adapter."""
    register(Threads)
