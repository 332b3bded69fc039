"""A small fake platform for core tests: an adapter and the in-memory server it talks to.

The server is an ``httpx.MockTransport`` handler that keeps what it received, so tests
assert on what the server got and stored, not on what the adapter says it sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import httpx

from govsocial import hookimpl
from govsocial.http import RateState
from govsocial.models import AccountMetrics, Interaction, Post, PostMetrics, PostRef
from govsocial.platform import Limits, Platform

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
            self.posts[post_id] = {"text": body["text"], "key": key, "likes": 0}
            return httpx.Response(200, json={"id": post_id})
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
            json={"text": post.text},
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
        return []

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        return []


class PaperPlugin:
    """Registers the fake adapter, as an entry-point plugin would."""

    @hookimpl
    def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
        register(Paper)
