"""Small, forgiving readers of platform answers, shared by the adapters.

Platforms leave fields out, send numbers as strings, or answer with a proxy's HTML page.
These helpers read a value when it has the expected shape and give None (or an empty dict)
otherwise, so an adapter decides in one place what a missing value means.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from govsocial.core.errors import ConfigurationError

__all__ = [
    "as_dict",
    "as_int",
    "is_id",
    "json_object",
    "parse_time",
    "path_segment",
    "read_json",
]


def read_json(response: httpx.Response) -> Any:
    """The answer's body read as JSON, of whatever shape it has.

    Use it instead of ``response.json()``: Python's JSON parser raises RecursionError, not
    ValueError, on arrays or objects nested a few thousand deep, which any server (or a
    proxy in front of it) can send.

    :raises ValueError: the body is not JSON, or is nested too deeply to read.
    """
    try:
        return response.json()
    except RecursionError:
        raise ValueError("the answer nests JSON arrays or objects too deeply to read") from None


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's body when it is a JSON object, else None (see ``Platform.unreadable``)."""
    try:
        body = read_json(response)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def as_int(value: Any) -> int | None:
    """``value`` when it is an integer (booleans are not), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}


def is_id(value: Any) -> bool:
    """Whether ``value`` can be a platform id: a non-empty string or an integer."""
    return (isinstance(value, str) and bool(value)) or as_int(value) is not None


def path_segment(value: str | int) -> str:
    """``value`` (a platform's id, from a stored ref or an answer) as one URL path segment:
    every character but letters, digits and ``-._~`` percent-encoded, so an id holding
    ``/``, ``?`` or ``#`` cannot reach another endpoint, and ``.`` and ``..``, which a URL
    resolves to the same or the parent folder, encoded too (``%2E%2E``).

    :raises ConfigurationError: ``value`` is empty (the path would name the collection,
        not the thing).
    """
    text = str(value)
    if not text:
        raise ConfigurationError(
            "an empty id cannot name anything on a platform",
            field="id",
            hint="pass the id the platform gave (a PostRef from publish or a fetch)",
        )
    if text in (".", ".."):
        return text.replace(".", "%2E")
    return quote(text, safe="")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time (``Z`` or an offset; none read as UTC) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
