"""Reading the Bot API's error answers (``ok`` false, ``error_code``, ``description``...).

Every answer is a JSON object with ``ok``; a failed request has ``description`` and
``error_code``, and may have ``parameters`` (ResponseParameters: ``retry_after`` when flood
control is exceeded, ``migrate_to_chat_id`` when a group became a supergroup). Telegram sends
no rate-limit headers: the wait is only in the body.
https://core.telegram.org/bots/api#making-requests, https://core.telegram.org/bots/api#responseparameters

The descriptions matched below are the Bot API's own texts as bots commonly receive them
("Forbidden: bot is not a member of the channel chat"); Telegram does not list them in its
documentation, so each match only adds a hint and the description itself is always kept.
"""

from __future__ import annotations

from typing import Any

import httpx

from govsocial.adapters import read_json

__all__ = [
    "ADMIN_HINT",
    "AUTH_HINT",
    "answer_body",
    "description_of",
    "hint_for",
    "migrate_to_chat_id",
    "retry_after_of",
]

AUTH_HINT = (
    "the bot token is wrong or was revoked: open @BotFather in Telegram, send /mybots, pick "
    "the bot, choose 'API Token' (or /revoke for a new one) and update the account's "
    "bot_token credential"
)
ADMIN_HINT = (
    "add the bot to the channel as an administrator with the 'Post messages' right (and "
    "'Delete messages' to delete): channel > Administrators > Add Admin > the bot's @username"
)

# (phrase in the description, lower case) -> hint
_HINTS: tuple[tuple[str, str], ...] = (
    ("bot is not a member", ADMIN_HINT),
    ("bot was kicked", ADMIN_HINT),
    ("not enough rights", ADMIN_HINT),
    ("need administrator rights", ADMIN_HINT),
    ("have no rights to send", ADMIN_HINT),
    (
        "chat not found",
        "check the account's chat_id: @channelusername for a public channel, or the numeric "
        "id (-100...) for a private one; the bot must be a member of the chat",
    ),
    (
        "message to be replied not found",
        "the post being replied to no longer exists (deleted?) or is in another chat",
    ),
    (
        "can't use getupdates method while webhook is active",
        "this bot delivers its updates to a webhook, so govsocial cannot read them: use a bot "
        "of its own for govsocial, or remove the webhook (deleteWebhook) if nothing uses it",
    ),
    (
        "terminated by other getupdates request",
        "another program reads this bot's updates at the same time: give govsocial a bot of "
        "its own (updates go to one reader only)",
    ),
)


def answer_body(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's JSON object, or None when the body is not one."""
    try:
        body = read_json(response)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def description_of(body: dict[str, Any] | None) -> str | None:
    """The ``description`` of an answer, when it has a non-empty one."""
    if body is None:
        return None
    value = body.get("description")
    return value if isinstance(value, str) and value else None


def _parameters(body: dict[str, Any] | None) -> dict[str, Any]:
    value = body.get("parameters") if body is not None else None
    return value if isinstance(value, dict) else {}


def retry_after_of(body: dict[str, Any] | None) -> float | None:
    """``parameters.retry_after`` (seconds), when the answer has it."""
    value = _parameters(body).get("retry_after")
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def migrate_to_chat_id(body: dict[str, Any] | None) -> int | None:
    """``parameters.migrate_to_chat_id``: the supergroup a group became, when given."""
    value = _parameters(body).get("migrate_to_chat_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def hint_for(description: str) -> str | None:
    """What to do about an error description Telegram is known to send."""
    lowered = description.lower()
    for phrase, hint in _HINTS:
        if phrase in lowered:
            return hint
    return None
