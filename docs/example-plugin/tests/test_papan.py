"""Failure paths of the Papan adapter, driven from its real local server (and one respx stand-in).

The pattern to copy: make the server fail, then assert on what the SERVER stored or answered,
never on what the adapter says it sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import respx
from govsocial import Account, Client, Post
from govsocial.core.errors import (
    AuthenticationError,
    PlatformError,
    PublishOutcomeUnknown,
    RateLimited,
)
from govsocial.testing import unique_text

from govsocial_papan.server import PapanServer


@pytest.fixture
def server() -> Iterator[PapanServer]:
    """A fresh server per test, so its store holds this test's posts only."""
    with PapanServer() as server:
        yield server


@pytest.fixture
def client() -> Iterator[Client]:
    """A client that gives up quickly: 1 s timeouts, waits of at most 5 s."""
    with Client(timeout=httpx.Timeout(1.0), max_wait=5.0) as client:
        yield client


def stored_texts(server: PapanServer) -> list[str]:
    return [post["text"] for post in server.posts.values()]


def test_a_bad_token_is_an_authentication_error_that_hides_the_token(
    server: PapanServer, client: Client
) -> None:
    token = "expired-token-0123456789"
    bad = Account(
        platform="papan", handle="@humas", base_url=server.base_url, credentials={"token": token}
    )
    [result] = client.publish(Post(unique_text()), [bad])
    assert isinstance(result.error, AuthenticationError)
    assert "invalid or revoked" in str(result.error)  # the server's own words
    assert token not in str(result.error)
    assert token not in repr(result)
    assert server.answered == [("POST", "/api/posts", 401)]  # not retried
    assert server.posts == {}


def test_a_503_after_the_post_was_stored_is_retried_without_a_duplicate(
    server: PapanServer, client: Client
) -> None:
    server.inject(503)  # the server stores the post, then a gateway answers 503
    text = unique_text("Info banjir")
    [result] = client.publish(Post(text), server.accounts[:1])
    assert result.ok, result.error
    assert [status for _, _, status in server.answered] == [503, 200]  # 200: "seen that key"
    assert stored_texts(server) == [text]  # one post: the retry carried the same key
    assert result.ref is not None and result.ref.id in server.posts


def test_a_lost_answer_is_outcome_unknown_then_found_by_its_key(
    server: PapanServer, client: Client
) -> None:
    server.inject(delay=2.0)  # stored, but answered after the client's 1 s timeout
    text = unique_text()
    [result] = client.publish(Post(text), server.accounts[:1])
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert stored_texts(server) == [text]  # published once, and not resent blindly
    assert result.idempotency_key is not None
    ref = client.find_published(server.accounts[0], result.idempotency_key)
    assert ref is not None and server.posts[ref.id]["text"] == text


def test_deleting_a_missing_post_keeps_the_servers_words(
    server: PapanServer, client: Client
) -> None:
    [result] = client.publish(Post(unique_text()), server.accounts[:1])
    assert result.ref is not None
    client.delete(result.ref)
    with pytest.raises(PlatformError) as caught:
        client.delete(result.ref)
    assert caught.value.status == 404
    assert f"no post {result.ref.id}" in str(caught.value)


def test_the_rate_budget_waits_for_the_reset_instead_of_collecting_a_429() -> None:
    with PapanServer(budget=2, window=1.0) as server, Client(max_wait=5.0) as client:
        for _ in range(3):
            [result] = client.publish(Post(unique_text()), server.accounts[:1])
            assert result.ok, result.error
    # the server never had to refuse: the client waited for X-Papan-Reset before the third
    assert [status for _, _, status in server.answered] == [201, 201, 201]


def test_a_429_resetting_beyond_max_wait_is_rate_limited_at_once() -> None:
    """A unit test with respx: no server, the answer is built by hand from the API's rules."""
    account = Account(
        platform="papan",
        handle="@humas",
        base_url="https://papan.test",
        credentials={"token": "t0ken-for-respx"},
    )
    # using="httpx" intercepts whatever transport the client uses, govsocial's included
    with respx.mock(using="httpx") as papan:
        create = papan.post("https://papan.test/api/posts").respond(
            429,
            json={"error": "rate limit reached: wait for X-Papan-Reset"},
            headers={"X-Papan-Remaining": "0", "X-Papan-Reset": str(time.time() + 600)},
        )
        with Client(max_wait=5.0) as client:
            [result] = client.publish(Post("Halo warga"), [account])
    assert isinstance(result.error, RateLimited)
    assert "rate limit reached" in str(result.error)
    assert result.error.retry_after is not None and 590 < result.error.retry_after <= 600
    assert create.call_count == 1  # a wait past max_wait is not worth a retry
    assert create.calls.last.request.headers["Idempotency-Key"] == result.idempotency_key
