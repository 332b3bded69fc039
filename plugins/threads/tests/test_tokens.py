"""Long-lived tokens: refresh on demand and after an "expired" answer, against the emulator.

https://developers.facebook.com/docs/threads/get-started/long-lived-tokens : valid 60 days,
refreshable when at least 24 hours old and not expired; an expired token cannot be refreshed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from govsocial import Account, Client, Post
from govsocial.adapters.media import DirectoryHost
from govsocial.core.errors import AuthenticationError
from govsocial.testing import unique_text
from govsocial_threads import Threads
from govsocial_threads.testing import ThreadsEmulator


def listening(server: ThreadsEmulator, told: list[dict[str, str]]) -> Client:
    return Client(
        media_host=DirectoryHost(server.media_dir, server.base_url + "/media"),
        max_wait=5.0,
        on_credentials=lambda _account, values: told.append(values),
    )


def with_expiry(account: Account, when: datetime) -> Account:
    credentials = {k: v.get_secret_value() for k, v in account.credentials.items()}
    credentials["token_expires_at"] = when.isoformat()
    return Account(**account.model_dump(exclude={"credentials"}), credentials=credentials)


def test_an_expired_answer_refreshes_once_then_the_retry_succeeds(
    server: ThreadsEmulator, fresh: Account
) -> None:
    old = server.token_of(fresh)
    old.report_expired = True  # Meta answers 190/463 while the token may still be refreshed
    told: list[dict[str, str]] = []
    text = unique_text("Setelah refresh")
    with listening(server, told) as client:
        [result] = client.publish(Post(text), [fresh])
        assert result.ok, result.error
        metrics = client.fetch_account_metrics(fresh)  # later calls use the new token
    assert metrics.followers == 0
    [issued] = server.issued_tokens[-1:]
    assert [values["access_token"] for values in told] == [issued]
    assert "token_expires_at" in told[0]
    assert server.accepted.get(issued, 0) >= 2, "the emulator never accepted the new token"
    assert server.accepted.get(old.value, 0) == 0
    [post] = server.posts_of(fresh)
    assert post["text"] == text


def test_a_token_that_really_expired_is_not_refreshed_and_says_what_to_do(
    server: ThreadsEmulator, fresh: Account
) -> None:
    token = server.token_of(fresh)
    token.expires_at = time.time() - 60
    told: list[dict[str, str]] = []
    account = with_expiry(fresh, datetime.fromtimestamp(token.expires_at, UTC))
    refreshes = server.calls("GET", "/refresh_access_token")
    with listening(server, told) as client:
        [result] = client.publish(Post(unique_text()), [account])
    assert isinstance(result.error, AuthenticationError)
    assert "cannot be refreshed" in str(result.error)
    assert result.error.hint is not None and "authorization window" in result.error.hint
    assert server.calls("GET", "/refresh_access_token") == refreshes
    assert told == [] and server.posts_of(fresh) == []
    assert token.value not in str(result.error)


def test_an_expired_token_of_unknown_age_gets_one_refresh_attempt_then_the_next_step(
    server: ThreadsEmulator, fresh: Account
) -> None:
    token = server.token_of(fresh)
    token.expires_at = time.time() - 60
    refreshes = server.calls("GET", "/refresh_access_token")
    told: list[dict[str, str]] = []
    with listening(server, told) as client:
        [result] = client.publish(Post(unique_text()), [fresh])
    assert isinstance(result.error, AuthenticationError)
    assert "did not refresh" in str(result.error)
    assert server.calls("GET", "/refresh_access_token") == refreshes + 1
    assert told == [] and server.posts_of(fresh) == []


def test_a_token_younger_than_a_day_is_not_refreshed_after_an_expired_answer(
    server: ThreadsEmulator, fresh: Account
) -> None:
    server.token_of(fresh).report_expired = True
    account = with_expiry(fresh, datetime.now(UTC) + timedelta(days=59, hours=12))
    refreshes = server.calls("GET", "/refresh_access_token")
    with listening(server, []) as client:
        [result] = client.publish(Post(unique_text()), [account])
    assert isinstance(result.error, AuthenticationError)
    assert "less than 24 hours old" in str(result.error)
    assert server.calls("GET", "/refresh_access_token") == refreshes


def test_refresh_token_is_public_for_a_scheduled_job(
    server: ThreadsEmulator, fresh: Account
) -> None:
    told: list[dict[str, str]] = []
    with listening(server, told) as client:
        adapter = client.async_client.adapter(fresh)
        assert isinstance(adapter, Threads)
        expires = client.run(adapter.refresh_token())
        assert adapter.token_expires_at() == expires
        [result] = client.publish(Post(unique_text()), [fresh])
    assert result.ok, result.error
    new = told[0]["access_token"]
    assert server.accepted.get(new, 0) >= 1
    assert expires is not None and expires > datetime.now(UTC) + timedelta(days=59)


def test_refresh_token_of_a_new_token_is_refused_with_the_reason(
    server: ThreadsEmulator,
) -> None:
    young = server.add_account(f"muda_{time.time_ns()}", age=3600)
    with listening(server, []) as client:
        adapter = client.async_client.adapter(young)
        assert isinstance(adapter, Threads)
        with pytest.raises(AuthenticationError) as raised:
            client.run(adapter.refresh_token())
    assert "24 hours" in str(raised.value)


def test_the_generic_refresh_renews_a_token_and_leaves_a_young_one(
    server: ThreadsEmulator, fresh: Account
) -> None:
    told: list[dict[str, str]] = []
    young = server.add_account(f"muda_{time.time_ns()}", age=3600)
    with listening(server, told) as client:
        assert client.refresh_credentials(fresh) is True
        assert client.refresh_credentials(young) is False, "under 24 hours: nothing to do yet"
    assert [list(values) for values in told] == [["access_token", "token_expires_at"]]
    assert server.accepted.get(told[0]["access_token"], 0) == 0  # issued, not yet used
    assert told[0]["access_token"] != server.token_of(young)
