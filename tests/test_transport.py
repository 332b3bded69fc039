"""The default transport on real sockets: what the server saw, and how failures are told apart.

These are the cases where a wrong error class would post twice: a connection dropped after
the request arrived must never look like "not sent".
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from fakes import TOKEN
from govsocial import Post
from govsocial.adapters.transport import AiohttpTransport
from govsocial.client import AsyncClient
from govsocial.core.errors import PlatformError, PublishOutcomeUnknown
from govsocial.core.models import Account
from govsocial.plugin.manager import Plugins

pytestmark = pytest.mark.anyio


class TinyServer:
    """An HTTP/1.1 server on loopback whose behaviour per request is chosen by the test."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            ),
            0,
        )
        body = await reader.readexactly(length)
        self.requests.append(head + body)
        if self.behaviour == "drop":  # the request arrived; the answer never leaves
            writer.close()
            return
        payload = json.dumps({"id": str(len(self.requests))}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: s=1\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> TinyServer:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def paper_account(port: int) -> Account:
    return Account(
        platform="paper",
        handle="@humas",
        base_url=f"http://127.0.0.1:{port}",
        credentials={"access_token": TOKEN},
    )


@pytest.fixture
async def client(plugins: Plugins) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=AiohttpTransport(), plugins=plugins) as client:
        client.http._sleep = _no_sleep
        yield client


async def _no_sleep(seconds: float) -> None:
    return None


async def test_a_create_whose_answer_is_lost_is_unknown_and_sent_once(client: AsyncClient) -> None:
    async with TinyServer("drop") as server:
        [result] = await client.publish(Post("halo"), [paper_account(server.port)])
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert len(server.requests) == 1
    assert b'"text":"halo"' in server.requests[0].replace(b" ", b"")


async def test_a_refused_connection_is_retried_then_reported(client: AsyncClient) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    [result] = await client.publish(Post("halo"), [paper_account(port)])
    assert isinstance(result.error, PlatformError)
    assert "could not reach Paper" in str(result.error)
    assert "ConnectError" in str(result.error)


async def test_what_the_server_receives(client: AsyncClient) -> None:
    async with TinyServer("answer") as server:
        account = paper_account(server.port)
        [first] = await client.publish(Post("satu"), [account])
        [second] = await client.publish(Post("dua"), [account])
    assert first.ok and second.ok
    head = server.requests[1].split(b"\r\n\r\n")[0].decode().lower()
    assert f"authorization: bearer {TOKEN}".lower() in head
    assert "user-agent: govsocial/" in head
    assert "cookie:" not in head, "a cookie set for one request must not travel with the next"


async def test_an_encoded_path_reaches_the_server_as_encoded(client: AsyncClient) -> None:
    async with TinyServer("answer") as server:
        adapter = client.adapter(paper_account(server.port))
        path = "/rest/posts/urn%3Ali%3Ashare%3A1/comments/urn%3Ali%3Acomment%3A%28a%2C1%29"
        await adapter.request("GET", path + "?q=List%28urn%3Ali%3Ax%29")
    request_line = server.requests[0].split(b"\r\n")[0].decode()
    assert request_line == f"GET {path}?q=List%28urn%3Ali%3Ax%29 HTTP/1.1"


async def test_event_hooks_still_see_every_request(plugins: Plugins) -> None:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    async with TinyServer("answer") as server:
        http_client = httpx.AsyncClient(
            transport=AiohttpTransport(), event_hooks={"request": [hook]}
        )
        async with http_client, AsyncClient(http_client=http_client, plugins=plugins) as client:
            [result] = await client.publish(Post("halo"), [paper_account(server.port)])
    assert result.ok
    assert seen == ["/posts"]
