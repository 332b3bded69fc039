"""The Papan adapter: publish, delete, measure and converse on a Papan server.

Papan ("notice board") is a small JSON API; its server ships in ``server.py``. Every call
goes through ``self.request``, which the core gives each adapter: pooled connections,
timeouts, safe retries, rate budgets and error translation happen there, not here.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx
from govsocial.adapters import (
    AccountMetrics,
    Interaction,
    Limits,
    LocalServer,
    Platform,
    Post,
    PostMetrics,
    PostRef,
    RateState,
)

from govsocial_papan.server import PapanServer


class Papan(Platform):
    """Papan. An account needs ``base_url`` (the server) and a ``token`` credential."""

    name: ClassVar[str] = "papan"  # what users type
    title: ClassVar[str] = "Papan"  # what users read
    credential_fields: ClassVar[tuple[str, ...]] = ("token",)
    limits: ClassVar[Limits] = Limits(
        max_characters=280,
        max_media=2,
        image_types=frozenset({"image/png", "image/jpeg"}),
        max_image_bytes=1_000_000,
        max_alt_text=500,
        post_metrics=frozenset({"likes", "replies"}),  # what Papan counts; the rest stay None
        account_metrics=frozenset({"followers", "posts"}),
    )

    # -- publishing ------------------------------------------------------------------------

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """``POST /api/posts``. A repeat with the same Idempotency-Key gets the same post."""
        media = []
        for item in post.media:
            data = await self.read_media(item)  # from a path, bytes or a URL
            media.append(
                {
                    "data_base64": base64.b64encode(data).decode("ascii"),
                    "mime_type": item.mime_type,
                    "alt": item.alt_text,
                }
            )
        body: dict[str, Any] = {"text": post.text, "media": media}
        if post.reply_to is not None:
            body["reply_to"] = post.reply_to.id
        response = await self.request(
            "POST",
            "/api/posts",
            json=body,
            headers={**self._auth(), "Idempotency-Key": idempotency_key},
            create=True,  # a lost answer raises PublishOutcomeUnknown: never a blind resend
            idempotency_key=idempotency_key,
        )
        return self._ref(response.json())

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """``GET /api/posts?idempotency_key=``: the post a lost create call made, if any."""
        response = await self.request(
            "GET", "/api/posts", params={"idempotency_key": idempotency_key}, headers=self._auth()
        )
        posts = response.json()["posts"]
        return self._ref(posts[0]) if posts else None

    async def delete(self, ref: PostRef) -> None:
        """``DELETE /api/posts/{id}``."""
        await self.request("DELETE", self._path(ref), headers=self._auth())

    # -- reading ---------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """``GET /api/posts/{id}`` for each post: Papan counts likes and replies."""
        found = []
        for ref in refs:
            post = (await self.request("GET", self._path(ref), headers=self._auth())).json()
            found.append(
                PostMetrics(
                    ref=ref,
                    collected_at=datetime.now(UTC),
                    likes=post["likes"],
                    replies=post["replies"],
                )
            )
        return found

    async def fetch_account_metrics(self) -> AccountMetrics:
        """``GET /api/me``: followers and posts."""
        me = (await self.request("GET", "/api/me", headers=self._auth())).json()
        return AccountMetrics(
            account=self.account,
            collected_at=datetime.now(UTC),
            followers=me["followers"],
            posts=me["posts"],
        )

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """``GET /api/posts/{id}/replies``: the whole thread below the post, oldest first."""
        response = await self.request("GET", f"{self._path(ref)}/replies", headers=self._auth())
        return [self._interaction(post, "reply") for post in response.json()["replies"]]

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """``GET /api/mentions?since=``: posts naming this account, oldest first."""
        params = {"since": since.isoformat()} if since is not None else {}
        response = await self.request("GET", "/api/mentions", params=params, headers=self._auth())
        return [self._interaction(post, "mention") for post in response.json()["mentions"]]

    # -- errors and rate limits ------------------------------------------------------------

    @classmethod
    def error_message(cls, response: httpx.Response) -> str:
        """Papan explains an error as ``{"error": "..."}``: keep its words."""
        try:
            message = response.json().get("error")
        except (ValueError, AttributeError):  # not JSON (a proxy's page), or not an object
            message = None
        if isinstance(message, str) and message:
            return message
        return super().error_message(response)

    @classmethod
    def rate_state(cls, response: httpx.Response) -> RateState | None:
        """``X-Papan-Remaining`` and ``X-Papan-Reset`` (epoch seconds) feed the rate budget."""
        remaining = response.headers.get("X-Papan-Remaining")
        reset = response.headers.get("X-Papan-Reset")
        if remaining is None or reset is None:
            return None
        try:
            return RateState(remaining=int(remaining), reset_at=float(reset))
        except ValueError:  # a garbled header must not fail the request
            return None

    # -- a server for the demo and the conformance suite -----------------------------------

    @classmethod
    def local_server(cls) -> AbstractContextManager[LocalServer]:
        """A Papan server on 127.0.0.1, running in this process."""
        return PapanServer()

    # -- helpers ---------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.credential('token')}"}

    def _path(self, ref: PostRef) -> str:
        return f"/api/posts/{quote(ref.id, safe='')}"

    def _ref(self, post: dict[str, Any]) -> PostRef:
        return PostRef(platform=self.name, account=self.account, id=post["id"], url=post["url"])

    def _interaction(self, post: dict[str, Any], kind: Literal["reply", "mention"]) -> Interaction:
        return Interaction(
            kind=kind,
            ref=self._ref(post),
            author=post["author"],
            text=post["text"],
            created_at=datetime.fromisoformat(post["created_at"]),
            in_reply_to_id=post["reply_to"],
        )
