"""A small fake platform for core tests: an adapter and the in-memory server it talks to.

The server is an ``httpx.MockTransport`` handler that keeps what it received, so tests
assert on what the server got and stored, not on what the adapter says it sent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import httpx

from govsocial import hookimpl
from govsocial.adapters.http import RateState
from govsocial.adapters.platform import Limits, Platform
from govsocial.analytics.collection import Collected
from govsocial.app import Workspace
from govsocial.client import AsyncClient
from govsocial.core.listening import FoundPost, SearchPage
from govsocial.core.models import Account, AccountMetrics, Interaction, Post, PostMetrics, PostRef
from govsocial.scheduling.worker import Worker

TOKEN = "paper-secret-token-123456"


class PaperServer:
    """A tiny social network in memory. ``script`` can force answers per request."""

    def __init__(self) -> None:
        self.posts: dict[str, dict[str, object]] = {}
        self.requests: list[httpx.Request] = []
        self.script: list[Callable[[httpx.Request], httpx.Response | None]] = []
        self.followers = 7
        self._next = 1

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            forced = self.script.pop(0)(request)
            if forced is not None:
                return forced
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"error": "The access token is invalid"})
        if request.method == "GET" and request.url.path == "/me":
            return httpx.Response(200, json={"followers": self.followers})
        if request.method == "POST" and request.url.path == "/posts":
            body = json.loads(request.content)
            key = request.headers.get("idempotency-key", "")
            for post_id, post in self.posts.items():
                if key and post.get("key") == key:
                    return httpx.Response(200, json={"id": post_id})
            post_id = str(self._next)
            self._next += 1
            self.posts[post_id] = {
                "text": body["text"],
                "key": key,
                "likes": 0,
                "author": "humas",
                "in_reply_to": body.get("in_reply_to"),
                "created_at": datetime.now(UTC).isoformat(),
            }
            return httpx.Response(200, json={"id": post_id})
        if request.method == "GET" and request.url.path == "/mentions":
            since = request.url.params.get("since")
            found = [
                {"id": post_id, **post}
                for post_id, post in self.posts.items()
                if "@humas" in str(post["text"])
                and post["author"] != "humas"
                and (since is None or str(post["created_at"]) > since)
            ]
            return httpx.Response(200, json=found)
        if request.method == "GET" and request.url.path == "/search":
            words = request.url.params.get("q", "").casefold().split()
            after = int(request.url.params.get("after") or 0)
            found = [
                {"id": post_id, **post}
                for post_id, post in self.posts.items()
                if int(post_id) > after and all(w in str(post["text"]).casefold() for w in words)
            ]
            return httpx.Response(200, json=found)
        if request.method == "GET" and request.url.path.endswith("/replies"):
            parent = request.url.path.split("/")[2]
            found = [
                {"id": post_id, **post}
                for post_id, post in self.posts.items()
                if post.get("in_reply_to") == parent
            ]
            return httpx.Response(200, json=found)
        if request.method == "DELETE" and request.url.path.startswith("/posts/"):
            post_id = request.url.path.rsplit("/", 1)[1]
            if self.posts.pop(post_id, None) is None:
                return httpx.Response(404, json={"error": "Record not found"})
            return httpx.Response(200, json={})
        if request.method == "GET" and request.url.path.startswith("/posts/"):
            post_id = request.url.path.rsplit("/", 1)[1]
            post = self.posts.get(post_id)
            if post is None:
                return httpx.Response(404, json={"error": "Record not found"})
            return httpx.Response(200, json={"id": post_id, **post})
        return httpx.Response(404, json={"error": f"no route {request.method} {request.url.path}"})

    def citizen_post(
        self,
        text: str,
        *,
        in_reply_to: str | None = None,
        author: str = "warga",
        at: datetime | None = None,
    ) -> str:
        """Someone else posts (a reply to ``in_reply_to``, or a mention): its id."""
        post_id = str(self._next)
        self._next += 1
        self.posts[post_id] = {
            "text": text,
            "key": "",
            "likes": 0,
            "author": author,
            "in_reply_to": in_reply_to,
            "created_at": (at or datetime.now(UTC)).isoformat(),
        }
        return post_id

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


class Paper(Platform):
    """The fake adapter."""

    name = "paper"
    title = "Paper"
    limits = Limits(
        max_characters=20,
        max_bytes=40,
        max_media=2,
        max_image_bytes=1000,
        max_alt_text=10,
        post_metrics=frozenset({"likes"}),
    )
    credential_fields = ("access_token",)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.credential('access_token')}"}

    @classmethod
    def rate_state(cls, response: httpx.Response) -> RateState | None:
        if "x-remaining" not in response.headers:
            return None
        return RateState(
            remaining=int(response.headers["x-remaining"]),
            reset_at=float(response.headers["x-reset"]),
        )

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        response = await self.request(
            "POST",
            "/posts",
            json={"text": post.text, "in_reply_to": post.reply_to.id if post.reply_to else None},
            headers={**self._auth(), "Idempotency-Key": idempotency_key},
            create=True,
            idempotency_key=idempotency_key,
        )
        post_id = response.json()["id"]
        return PostRef(
            platform=self.name, account=self.account, id=post_id, url=f"{self.base_url}/p/{post_id}"
        )

    async def delete(self, ref: PostRef) -> None:
        await self.request("DELETE", f"/posts/{ref.id}", headers=self._auth())

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        found = []
        for ref in refs:
            body = (await self.request("GET", f"/posts/{ref.id}", headers=self._auth())).json()
            found.append(PostMetrics(ref=ref, collected_at=datetime.now(UTC), likes=body["likes"]))
        return found

    async def fetch_account_metrics(self) -> AccountMetrics:
        body = (await self.request("GET", "/me", headers=self._auth())).json()
        return AccountMetrics(
            account=self.account, collected_at=datetime.now(UTC), followers=body["followers"]
        )

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        found = (await self.request("GET", f"/posts/{ref.id}/replies", headers=self._auth())).json()
        return [self._interaction("reply", item) for item in found]

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        params = {"since": since.isoformat()} if since else {}
        found = (await self.request("GET", "/mentions", headers=self._auth(), params=params)).json()
        return [self._interaction("mention", item) for item in found]

    async def search(
        self, query: str, *, cursor: str | None = None, since: datetime | None = None
    ) -> SearchPage:
        params = {"q": query, **({"after": cursor} if cursor else {})}
        found = (await self.request("GET", "/search", headers=self._auth(), params=params)).json()
        posts = [
            FoundPost(
                ref=PostRef(platform=self.name, account=self.account, id=str(item["id"])),
                author=str(item["author"]),
                text=str(item["text"]),
                created_at=datetime.fromisoformat(str(item["created_at"])),
                received_at=datetime.fromisoformat(str(item["created_at"])),
            )
            for item in found
        ]
        newest = max((int(p.ref.id) for p in posts), default=None)
        return SearchPage(
            posts=posts, cursor=str(newest) if newest is not None else None, requests=1
        )

    def _interaction(self, kind: str, item: dict[str, object]) -> Interaction:
        return Interaction(
            kind=kind,  # type: ignore[arg-type]
            ref=PostRef(platform=self.name, account=self.account, id=str(item["id"])),
            author=str(item["author"]),
            text=str(item["text"]),
            created_at=datetime.fromisoformat(str(item["created_at"])),
            in_reply_to_id=str(item["in_reply_to"]) if item.get("in_reply_to") else None,
        )


class PaperPlugin:
    """Registers the fake adapter, as an entry-point plugin would."""

    @hookimpl
    def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
        register(Paper)


# -- running a worker against the fake server ---------------------------------------


def soon(seconds: float = 120) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def run(ws: Workspace, server: PaperServer, clock: Clock, **worker_options: object) -> int:
    async def go() -> int:
        async with AsyncClient(transport=server.transport(), **ws.core.client_options()) as client:
            client.http._sleep = _no_sleep
            worker = Worker(ws, clock=clock, **worker_options)  # type: ignore[arg-type]
            return await worker.run_due(client)

    return asyncio.run(go())


async def _no_sleep(seconds: float) -> None:
    return None


def publish_now(
    ws: Workspace, server: PaperServer, posts: dict[str, dict[str, str]], account: str = "humas"
) -> None:
    """Plan each text (with its labels) for ``account`` and let a worker publish them."""
    for text, labels in posts.items():
        ws.schedule(Post(text, labels=labels), [account], at=soon(30))

    async def go() -> None:
        async with AsyncClient(transport=server.transport(), **ws.core.client_options()) as client:
            await Worker(ws, clock=lambda: time.time() + 31).run_due(client)

    asyncio.run(go())


def collect_at(ws: Workspace, server: PaperServer, clock: float, **options: object) -> Collected:
    """Collect metrics from the fake server as if the time were ``clock``."""
    from govsocial.analytics.collection import collect

    async def go() -> Collected:
        async with AsyncClient(transport=server.transport(), **ws.core.client_options()) as client:
            return await collect(ws, client, clock=lambda: clock, **options)  # type: ignore[arg-type]

    return asyncio.run(go())


def paper_account(
    handle: str = "@humas", *, token: str = "env:PAPER_TOKEN", platform: str = "paper"
) -> Account:
    """An account on the fake server (``TOKEN`` is what it accepts; env:PAPER_TOKEN holds it)."""
    return Account(
        platform=platform,
        handle=handle,
        base_url="https://paper.test",
        credentials={"access_token": token},
    )
