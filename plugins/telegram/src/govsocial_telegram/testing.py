"""Test helpers of the Telegram plugin: a fake account, documented answer shapes, helpers.

For respx tests of code that talks to the Bot API (the plugin's own included): import them
like any module (``from govsocial_telegram.testing import ACCOUNT, ok``). Nothing here
talks to Telegram.
"""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import default as email_policy
from typing import Any

import httpx

from govsocial.adapters import Account

BASE = "https://api.telegram.org"
# The shape of the example token in https://core.telegram.org/bots/api#authorizing-your-bot
TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # noqa: S105 - the documented example
CHANNEL_ID = -1001234567890
GROUP_ID = -1009876543210

ACCOUNT = Account(
    platform="telegram",
    handle="@humas_kota",
    credentials={"bot_token": TOKEN, "chat_id": "@humas_kota"},
)

CHANNEL = {"id": CHANNEL_ID, "title": "Humas Kota", "username": "humas_kota", "type": "channel"}
GROUP = {"id": GROUP_ID, "title": "Diskusi Humas Kota", "type": "supergroup"}


class Sleeps:
    """Records the waits the Http layer asks for, without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def ok(result: Any) -> dict[str, Any]:
    """A successful answer: https://core.telegram.org/bots/api#making-requests."""
    return {"ok": True, "result": result}


def failed(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    """An error answer, with ResponseParameters when given
    (https://core.telegram.org/bots/api#responseparameters)."""
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def channel_post(message_id: int, date: int = 1718000000, **fields: Any) -> dict[str, Any]:
    """A Message sent to the channel (https://core.telegram.org/bots/api#message)."""
    return {
        "message_id": message_id,
        "sender_chat": CHANNEL,
        "chat": CHANNEL,
        "date": date,
        **fields,
    }


def body(request: httpx.Request) -> Any:
    """The JSON body of a request."""
    return json.loads(request.content)


def multipart(request: httpx.Request) -> dict[str, bytes]:
    """The parts of a multipart/form-data request, by field name."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=email_policy).parsebytes(head + request.content)
    parts: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts[str(name)] = payload if isinstance(payload, bytes) else b""
    return parts
