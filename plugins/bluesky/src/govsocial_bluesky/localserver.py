"""A local Bluesky network (PLC + PDS + AppView) for the demo and the conformance suite.

:class:`BlueskyLocalServer` follows :class:`govsocial.adapters.platform.LocalServer` on top of
:class:`~govsocial_bluesky.devserver.BlueskyDevServer` with the AppView (PostgreSQL and
Redis must be running, see the devserver's docs). It reads what the PDS stored with
plain XRPC calls (never through the adapter), and acts as a second account with its own
session to like posts.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from govsocial.adapters import Account, PostRef
from govsocial_bluesky.aturi import AtUri
from govsocial_bluesky.devserver import BlueskyDevServer

__all__ = ["BlueskyLocalServer"]


def _reachable(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on ``host:port`` (PostgreSQL, Redis)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


_TIMEOUT = httpx.Timeout(30.0)


class BlueskyLocalServer:
    """The local network as a :class:`govsocial.adapters.platform.LocalServer`.

    :param server: a running dev server to use (the caller keeps owning it); by default a
        new one is started on entry and stopped on exit.
    :param appview: with a new server, whether to run the AppView too (metrics, replies,
        mentions). None: when PostgreSQL and Redis answer on 127.0.0.1, else PDS only.
    """

    def __init__(
        self, server: BlueskyDevServer | None = None, *, appview: bool | None = None
    ) -> None:
        self._owns_server = server is None
        if server is None:
            if appview is None:
                appview = _reachable(5432) and _reachable(6379)
            server = BlueskyDevServer(appview=appview)
        self.server = server
        self.accounts: Sequence[Account] = []
        self._tokens: dict[str, tuple[str, str]] = {}  # handle -> (did, access token)

    def __repr__(self) -> str:
        return f"<BlueskyLocalServer pds={self.server.pds_url or '(not started)'}>"

    def __enter__(self) -> BlueskyLocalServer:
        if self._owns_server:
            self.server.start()
        self.accounts = [
            Account(
                platform="bluesky",
                handle=dev.handle,
                base_url=self.server.pds_url,
                credentials={
                    "identifier": dev.handle,
                    "app_password": dev.app_password or dev.password,
                },
            )
            for dev in self.server.accounts
        ]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owns_server:
            self.server.stop()

    # -- LocalServer -----------------------------------------------------------------------

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The record as the PDS stores it (com.atproto.repo.getRecord), None when absent."""
        uri = AtUri.parse(ref.id)
        response = httpx.get(
            f"{self.server.pds_url}/xrpc/com.atproto.repo.getRecord",
            params={"repo": uri.repo, "collection": uri.collection, "rkey": uri.rkey},
            timeout=_TIMEOUT,
        )
        if response.status_code == 400 and "RecordNotFound" in response.text:
            return None
        if response.status_code == 400 and "Could not locate record" in response.text:
            return None
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def stored_text(self, stored: dict[str, Any]) -> str:
        return str(stored.get("value", {}).get("text", ""))

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        embed = stored.get("value", {}).get("embed") or {}
        return [str(image.get("alt", "")) for image in embed.get("images", [])]

    def stored_media_kinds(self, stored: dict[str, Any]) -> list[str]:
        """``image`` per embedded image, ``video`` for an embedded video, as stored."""
        embed = stored.get("value", {}).get("embed") or {}
        if embed.get("$type") == "app.bsky.embed.video":
            return ["video"]
        return ["image" for _ in embed.get("images", [])]

    def like(self, ref: PostRef, by: Account) -> None:
        """Make ``by`` like the post (an app.bsky.feed.like record in its repo)."""
        self._interact("app.bsky.feed.like", ref, by)

    def repost(self, ref: PostRef, by: Account) -> None:
        """Make ``by`` repost the post (an app.bsky.feed.repost record in its repo)."""
        self._interact("app.bsky.feed.repost", ref, by)

    def _interact(self, collection: str, ref: PostRef, by: Account) -> None:
        cid = ref.extra.get("cid")
        if not cid:
            stored = self.stored_post(ref)
            if stored is None:
                raise LookupError(f"no post at {ref.id} to act on")
            cid = str(stored["cid"])
        did, token = self._login(by)
        record = {
            "$type": collection,
            "subject": {"uri": ref.id, "cid": cid},
            "createdAt": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
        response = httpx.post(
            f"{self.server.pds_url}/xrpc/com.atproto.repo.createRecord",
            json={"repo": did, "collection": collection, "record": record},
            headers={"Authorization": f"Bearer {token}"},
            timeout=_TIMEOUT,
        )
        response.raise_for_status()

    def mention(self, account: Account) -> str:
        return f"@{account.handle.lstrip('@')}"

    # -- helpers ---------------------------------------------------------------------------

    def _login(self, account: Account) -> tuple[str, str]:
        if account.handle not in self._tokens:
            response = httpx.post(
                f"{self.server.pds_url}/xrpc/com.atproto.server.createSession",
                json={
                    "identifier": account.credential("identifier"),
                    "password": account.credential("app_password"),
                },
                timeout=_TIMEOUT,
            )
            response.raise_for_status()
            body = response.json()
            self._tokens[account.handle] = (str(body["did"]), str(body["accessJwt"]))
        return self._tokens[account.handle]
