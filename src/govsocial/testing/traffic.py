"""Record every HTTP exchange an adapter makes, to hold it against the platform's own oracle.

:func:`record_traffic` wraps ``httpx.AsyncClient.send`` and ``httpx.Client.send`` for as long
as its block runs, so it sees what respx answers and what a real local server or emulator
answers alike (respx replaces the transport, below ``send``). A plugin's tests then check each
:class:`Exchange` against something the platform publishes: its SDK's declared fields, its
Postman collection, its OpenAPI document. The ``http_traffic`` fixture of
:mod:`govsocial.testing.pytest_plugin` records one test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import default as email_policy
from typing import Any
from urllib.parse import parse_qsl

import httpx

__all__ = ["Exchange", "record_traffic"]


@dataclass(frozen=True)
class Exchange:
    """One request an adapter sent and the answer it got (None when sending failed)."""

    request: httpx.Request
    response: httpx.Response | None

    @property
    def method(self) -> str:
        """The request's HTTP method."""
        return self.request.method

    @property
    def path(self) -> str:
        """The request's URL path (undecoded, as sent)."""
        return self.request.url.raw_path.decode("ascii").split("?", 1)[0]

    def body(self) -> bytes | None:
        """The request body as sent, or None when it was a stream that cannot be read again."""
        try:
            return self.request.content
        except httpx.RequestNotRead:
            try:
                return self.request.read()
            except (httpx.StreamConsumed, RuntimeError, TypeError):
                return None

    def params(self) -> dict[str, str]:
        """The query string's names and values, then the form's (multipart file parts as
        ``<file NAME>``); a name sent twice keeps its last value."""
        found = dict(self.request.url.params.items())
        content_type = self.request.headers.get("content-type", "")
        body = self.body()
        if body and content_type.startswith("application/x-www-form-urlencoded"):
            found.update(parse_qsl(body.decode(), keep_blank_values=True))
        elif body and content_type.startswith("multipart/form-data"):
            head = f"Content-Type: {content_type}\r\n\r\n".encode()
            message = BytesParser(policy=email_policy).parsebytes(head + body)
            for part in message.iter_parts():
                name = str(part.get_param("name", header="content-disposition"))
                filename = part.get_filename()
                found[name] = f"<file {filename}>" if filename else part.get_content().strip()
        return found

    def json_body(self) -> Any:
        """The request body decoded as JSON, or None when it is not JSON."""
        body = self.body()
        if not body or "json" not in self.request.headers.get("content-type", ""):
            return None
        try:
            return json.loads(body)
        except ValueError:
            return None

    def answer(self) -> Any:
        """The answer decoded as JSON, or None (no answer, not JSON, or not read)."""
        if self.response is None:
            return None
        try:
            return json.loads(self.response.content)
        except (httpx.ResponseNotRead, ValueError):
            return None


@contextmanager
def record_traffic() -> Iterator[list[Exchange]]:
    """Record every exchange of every httpx client, in any thread, until the block ends."""
    exchanges: list[Exchange] = []
    lock = threading.Lock()
    async_send = httpx.AsyncClient.send
    sync_send = httpx.Client.send

    async def recorded_async(
        self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any
    ) -> httpx.Response:
        try:
            response = await async_send(self, request, **kwargs)
        except Exception:
            with lock:
                exchanges.append(Exchange(request, None))
            raise
        with lock:
            exchanges.append(Exchange(request, response))
        return response

    def recorded_sync(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        try:
            response = sync_send(self, request, **kwargs)
        except Exception:
            with lock:
                exchanges.append(Exchange(request, None))
            raise
        with lock:
            exchanges.append(Exchange(request, response))
        return response

    httpx.AsyncClient.send = recorded_async  # type: ignore[method-assign]
    httpx.Client.send = recorded_sync  # type: ignore[method-assign]
    try:
        yield exchanges
    finally:
        httpx.AsyncClient.send = async_send  # type: ignore[method-assign]
        httpx.Client.send = sync_send  # type: ignore[method-assign]
