"""Failures, against a real Mastodon API server (mastodon-mock) with injected faults.

Every test uses a fresh account, so it can count what the SERVER holds for it, and
clients with short timeouts, so none can hang.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from govsocial import Account, Client, Post
from govsocial.core.errors import (
    AuthenticationError,
    GovSocialError,
    PlatformError,
    PublishOutcomeUnknown,
    RateLimited,
)
from govsocial.testing import unique_text
from govsocial_mastodon import Mastodon
from govsocial_mastodon.localserver import MastodonMockServer

STATUSES = "/api/v1/statuses"


@pytest.fixture
def fresh(server: MastodonMockServer) -> Account:
    """A new account on the server, with no statuses yet."""
    return server.new_account(f"uji_{uuid.uuid4().hex[:10]}")


@pytest.fixture
def client() -> Iterator[Client]:
    """A client that gives up quickly: 1 s timeouts, waits of at most 5 s."""
    with Client(timeout=httpx.Timeout(1.0), max_wait=5.0, max_attempts=3) as client:
        yield client


def texts(server: MastodonMockServer, account: Account) -> list[str]:
    """The texts of the statuses the server holds for ``account``."""
    return [server.stored_text(s) for s in server.account_statuses(account)]


def test_a_429_is_retried_after_the_rate_limit_reset(
    server: MastodonMockServer, fresh: Account, client: Client
) -> None:
    server.rate_limit(reset_in=1.5, method="POST", path=STATUSES, count=1)
    text = unique_text("Info banjir")
    started = time.monotonic()
    [result] = client.publish(Post(text), [fresh])
    elapsed = time.monotonic() - started
    assert result.ok, result.error
    assert elapsed >= 1.0, "the retry did not wait for X-RateLimit-Reset"
    assert server.faults() == []  # the 429 was served
    assert texts(server, fresh) == [text]


def test_a_429_whose_reset_is_beyond_max_wait_raises_rate_limited(
    server: MastodonMockServer, fresh: Account, client: Client
) -> None:
    server.rate_limit(reset_in=600, method="POST", path=STATUSES, count=None)
    started = time.monotonic()
    [result] = client.publish(Post(unique_text()), [fresh])
    assert time.monotonic() - started < 5
    assert isinstance(result.error, RateLimited)
    assert result.error.retry_after is not None and 500 < result.error.retry_after <= 600
    assert "Too many requests" in str(result.error)
    assert texts(server, fresh) == []


def test_a_500_keeps_the_server_message_and_stores_nothing(
    server: MastodonMockServer, fresh: Account, client: Client
) -> None:
    message = "Database sedang dalam pemeliharaan"
    server.inject(status=500, body={"error": message}, method="POST", path=STATUSES)
    [result] = client.publish(Post(unique_text()), [fresh])
    assert isinstance(result.error, PlatformError)
    assert result.error.status == 500
    assert result.error.body == message
    assert message in str(result.error)
    assert texts(server, fresh) == []


def test_a_503_is_retried_with_the_same_key_and_the_server_holds_one_status(
    server: MastodonMockServer, fresh: Account, client: Client
) -> None:
    server.inject(status=503, method="POST", path=STATUSES, count=1)
    text = unique_text("Jadwal posyandu")
    result = client.publish_one(Post(text), fresh, idempotency_key="posyandu-1")
    assert result.ok, result.error
    assert result.ref is not None
    again = client.publish_one(Post(text), fresh, idempotency_key="posyandu-1")
    assert again.ref is not None and again.ref.id == result.ref.id
    stored = server.account_statuses(fresh)
    assert [s["id"] for s in stored] == [result.ref.id]


def test_latency_past_the_timeout_on_create_is_an_unknown_outcome_that_the_key_settles(
    server: MastodonMockServer, fresh: Account, client: Client
) -> None:
    server.inject("latency", delay=2.5, method="POST", path=STATUSES, count=1)
    text = unique_text("Pengumuman")
    started = time.monotonic()
    result = client.publish_one(Post(text), fresh, idempotency_key="pengumuman-7")
    assert time.monotonic() - started < 2.5
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert result.error.idempotency_key == "pengumuman-7"
    assert "may exist" in str(result.error)
    time.sleep(2.5)  # let the slow request finish on the server, if it still runs
    again = client.publish_one(Post(text), fresh, idempotency_key="pengumuman-7")
    assert again.ok, again.error
    assert again.ref is not None
    stored = server.account_statuses(fresh)
    assert [s["id"] for s in stored] == [again.ref.id], "the same key made a second status"


def test_a_hung_connection_on_a_read_fails_within_the_timeout(
    server: MastodonMockServer, fresh: Account, client: Client
) -> None:
    [published] = client.publish(Post(unique_text()), [fresh])
    assert published.ref is not None
    server.inject("timeout", method="GET", path=f"{STATUSES}/{published.ref.id}", count=None)
    started = time.monotonic()
    with pytest.raises(PlatformError) as raised:
        client.fetch_metrics([published.ref])
    assert time.monotonic() - started < 10
    assert "ReadTimeout" in str(raised.value)


def test_a_malformed_answer_to_create_is_an_unknown_outcome_not_a_value_error(
    server: MastodonMockServer, fresh: Account, client: Client
) -> None:
    server.inject("malformed", method="POST", path=STATUSES)
    result = client.publish_one(Post(unique_text()), fresh, idempotency_key="rusak-1")
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert result.error.idempotency_key == "rusak-1"
    assert texts(server, fresh) == []  # the mock answered before creating anything


def test_a_malformed_answer_to_a_read_is_a_platform_error(
    server: MastodonMockServer, fresh: Account, client: Client
) -> None:
    [published] = client.publish(Post(unique_text()), [fresh])
    assert published.ref is not None
    server.inject("malformed", method="GET", path=f"{STATUSES}/{published.ref.id}", truncate=False)
    with pytest.raises(GovSocialError) as raised:
        client.fetch_metrics([published.ref])
    assert isinstance(raised.value, PlatformError)
    assert "not the JSON expected" in str(raised.value)
    assert not isinstance(raised.value, ValueError)


def test_a_malformed_instance_answer_falls_back_to_the_declared_limits(
    server: MastodonMockServer, fresh: Account, client: Client
) -> None:
    server.inject("malformed", method="GET", path="/api/v2/instance")
    server.inject("malformed", method="GET", path="/api/v1/instance")
    assert client.limits(fresh) == Mastodon.limits
    Mastodon.clear_limits_cache()
    served = httpx.get(f"{server.base_url}/api/v2/instance", timeout=5).json()
    limits = client.limits(fresh)
    image_limit = served["configuration"]["media_attachments"]["image_size_limit"]
    assert limits.max_image_bytes == image_limit != Mastodon.limits.max_image_bytes


def test_an_invalid_token_is_an_authentication_error_that_says_what_to_do(
    server: MastodonMockServer, client: Client
) -> None:
    good = server.accounts[0]
    token = "kedaluwarsa-" + uuid.uuid4().hex
    bad = Account(**good.model_dump(exclude={"credentials"}), credentials={"access_token": token})
    with pytest.raises(AuthenticationError) as raised:
        client.fetch_account_metrics(bad)
    message = str(raised.value)
    assert "create a new one" in message and "access_token" in message
    assert token not in message and token not in repr(raised.value)
    answered = httpx.get(
        f"{server.base_url}/api/v1/accounts/verify_credentials",
        timeout=5,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answered.status_code == 401


def test_a_revoked_token_cannot_publish_and_the_server_stores_nothing(
    server: MastodonMockServer, fresh: Account, client: Client
) -> None:
    server.revoke_token(fresh)
    token = fresh.credential("access_token")
    [result] = client.publish(Post(unique_text()), [fresh])
    assert isinstance(result.error, AuthenticationError)
    assert token not in str(result.error) and token not in repr(result)
    assert texts(server, fresh) == []


def test_a_403_saying_the_token_was_revoked_is_an_authentication_error(
    server: MastodonMockServer, fresh: Account, client: Client
) -> None:
    server.inject(
        status=403, body={"error": "The access token was revoked"}, method="POST", path=STATUSES
    )
    [result] = client.publish(Post(unique_text()), [fresh])
    assert isinstance(result.error, AuthenticationError)
    assert "The access token was revoked" in str(result.error)
    assert texts(server, fresh) == []
