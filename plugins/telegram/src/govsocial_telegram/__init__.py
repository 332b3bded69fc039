"""govsocial-telegram: the Telegram (Bot API, channels) adapter for govsocial.

Installing this distribution registers the ``telegram`` platform through the ``govsocial``
entry-point group. An account is a channel that a bot administers::

    import govsocial

    account = govsocial.Account(
        platform="telegram",
        handle="@humas_kota",
        credentials={"bot_token": "env:HUMAS_TELEGRAM_BOT_TOKEN", "chat_id": "@humas_kota"},
    )
"""

from __future__ import annotations

from collections.abc import Callable

from govsocial.adapters import Platform, hookimpl
from govsocial_telegram.adapter import Telegram

__all__ = ["Telegram", "register_platforms"]

__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Register the Telegram adapter."""
    register(Telegram)
