"""The dev server launcher gives a real PDS (and AppView) that stores what we send."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from govsocial_bluesky.devserver import BlueskyDevServer, DevAccount

POST = "app.bsky.feed.post"
LIKE = "app.bsky.feed.like"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _session(client: httpx.Client, account: DevAccount) -> dict[str, Any]:
    secret = account.app_password or account.password
    res = client.post(
        "/xrpc/com.atproto.server.createSession",
        json={"identifier": account.handle, "password": secret},
    )
    assert res.status_code == 200, res.text
    data: dict[str, Any] = res.json()
    assert data["did"] == account.did
    return data


def _auth(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['accessJwt']}"}


def _create(
    client: httpx.Client, session: dict[str, Any], collection: str, record: dict[str, Any]
) -> dict[str, Any]:
    res = client.post(
        "/xrpc/com.atproto.repo.createRecord",
        headers=_auth(session),
        json={"repo": session["did"], "collection": collection, "record": record},
    )
    assert res.status_code == 200, res.text
    data: dict[str, Any] = res.json()
    return data


def test_accounts_hide_passwords(bluesky_server: BlueskyDevServer) -> None:
    assert [a.handle for a in bluesky_server.accounts] == ["alice.test", "bob.test"]
    for account in bluesky_server.accounts:
        assert account.did.startswith("did:plc:")
        assert account.password not in repr(account)
        if account.app_password:
            assert account.app_password not in repr(account)


def test_post_is_stored_and_deleted(bluesky_server: BlueskyDevServer) -> None:
    alice = bluesky_server.accounts[0]
    text = f"hello from govsocial {time.time_ns()}"
    with httpx.Client(base_url=bluesky_server.pds_url, timeout=30) as client:
        session = _session(client, alice)
        created = _create(client, session, POST, {"$type": POST, "text": text, "createdAt": _now()})
        rkey = created["uri"].rsplit("/", 1)[1]
        params = {"repo": alice.did, "collection": POST, "rkey": rkey}

        got = client.get("/xrpc/com.atproto.repo.getRecord", params=params)
        assert got.status_code == 200, got.text
        assert got.json()["value"]["text"] == text
        assert got.json()["cid"] == created["cid"]

        deleted = client.post(
            "/xrpc/com.atproto.repo.deleteRecord", headers=_auth(session), json=params
        )
        assert deleted.status_code == 200, deleted.text
        gone = client.get("/xrpc/com.atproto.repo.getRecord", params=params)
        assert gone.status_code == 400
        assert gone.json()["error"] == "RecordNotFound"


@pytest.mark.slow
def test_appview_counts_a_like(bluesky_appview: BlueskyDevServer) -> None:
    alice, bob = bluesky_appview.accounts[:2]
    text = f"like me {time.time_ns()}"
    with httpx.Client(base_url=bluesky_appview.pds_url, timeout=30) as client:
        alice_session = _session(client, alice)
        bob_session = _session(client, bob)
        post = _create(
            client,
            alice_session,
            POST,
            {"$type": POST, "text": text, "createdAt": _now()},
        )
        _create(
            client,
            bob_session,
            LIKE,
            {
                "$type": LIKE,
                "subject": {"uri": post["uri"], "cid": post["cid"]},
                "createdAt": _now(),
            },
        )

        deadline = time.monotonic() + 30
        view: dict[str, Any] = {}
        while time.monotonic() < deadline:
            res = client.get(
                "/xrpc/app.bsky.feed.getPosts",
                params={"uris": post["uri"]},
                headers=_auth(alice_session),
            )
            assert res.status_code == 200, res.text
            posts = res.json()["posts"]
            if posts and posts[0].get("likeCount") == 1:
                view = posts[0]
                break
            time.sleep(0.25)
        assert view, "AppView did not count bob's like within 30 s"
        assert view["record"]["text"] == text
        assert view["author"]["did"] == alice.did
