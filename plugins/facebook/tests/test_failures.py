"""Failures, against the Graph API emulator with injected faults (real HTTP).

Each test counts what the EMULATOR stored and received, not what the adapter says it sent.
Error bodies follow https://developers.facebook.com/docs/graph-api/guides/error-handling and
the throttling codes https://developers.facebook.com/docs/graph-api/overview/rate-limiting .
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from govsocial import Account, Client, Post, PostRef
from govsocial.core.errors import (
    AuthenticationError,
    PlatformError,
    PublishOutcomeUnknown,
    RateLimited,
)
from govsocial.testing import unique_text
from govsocial_facebook.testing import GraphEmulator, graph_error

HUMAS = "104000000000001"


@pytest.fixture
def client() -> Iterator[Client]:
    """A client that gives up quickly: 1 s timeouts, waits of at most 5 s, 3 attempts."""
    with Client(timeout=httpx.Timeout(1.0), max_wait=5.0, max_attempts=3) as client:
        yield client


@pytest.fixture
def humas(emulator: GraphEmulator) -> Account:
    return emulator.account(HUMAS)


def texts(emulator: GraphEmulator) -> list[str]:
    return [post["message"] for post in emulator.posts_of(HUMAS)]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (4, "(#4) Application request limit reached"),
        (17, "(#17) User request limit reached"),
        (32, "(#32) Page request limit reached"),
        (613, "(#613) Calls to this api have exceeded the rate limit."),
        (
            80001,
            "(#80001) There have been too many calls to this Page account. "
            "Wait a bit and try again.",
        ),
    ],
)
def test_graph_throttling_with_http_400_is_retried(
    emulator: GraphEmulator, humas: Account, client: Client, code: int, message: str
) -> None:
    """Meta throttles with HTTP 400 and a code in the body, not 429: retried, posted once."""
    emulator.inject("POST", "/feed", status=400, body=graph_error(message, code))
    text = unique_text("Info banjir")
    [result] = client.publish(Post(text), [humas])
    assert result.ok, result.error
    assert len(emulator.requests("POST", "/feed")) == 2
    assert texts(emulator).count(text) == 1


def test_a_plain_429_is_retried(emulator: GraphEmulator, humas: Account, client: Client) -> None:
    emulator.inject("POST", "/feed", status=429, body=graph_error("Too many requests", 4))
    text = unique_text()
    [result] = client.publish(Post(text), [humas])
    assert result.ok, result.error
    assert texts(emulator).count(text) == 1


def test_throttling_longer_than_max_wait_raises_rate_limited_with_the_wait(
    emulator: GraphEmulator, humas: Account, client: Client
) -> None:
    """estimated_time_to_regain_access (minutes) beyond max_wait: no retry, RateLimited."""
    usage = {
        HUMAS: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 20,
                "estimated_time_to_regain_access": 5,
            }
        ]
    }
    emulator.inject(
        "POST",
        "/feed",
        status=400,
        body=graph_error("(#80001) There have been too many calls to this Page account.", 80001),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        count=None,
    )
    text = unique_text()
    [result] = client.publish(Post(text), [humas])
    assert isinstance(result.error, RateLimited)
    assert result.error.retry_after is not None and 290 < result.error.retry_after <= 300
    assert "too many calls to this Page" in str(result.error)
    assert len(emulator.requests("POST", "/feed")) == 1
    assert text not in texts(emulator)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, "<html><body>Service Unavailable</body></html>"),
        (500, graph_error("(#2) Service temporarily unavailable", 2)),
    ],
)
def test_a_5xx_then_success(
    emulator: GraphEmulator, humas: Account, client: Client, status: int, body: object
) -> None:
    emulator.inject("POST", "/feed", status=status, body=body)
    text = unique_text()
    [result] = client.publish(Post(text), [humas])
    assert result.ok, result.error
    assert texts(emulator).count(text) == 1


def test_a_500_without_a_retry_code_keeps_meta_message_and_posts_nothing(
    emulator: GraphEmulator, humas: Account, client: Client
) -> None:
    emulator.inject(
        "POST", "/feed", status=500, body=graph_error("An unknown error has occurred.", 1)
    )
    text = unique_text()
    [result] = client.publish(Post(text), [humas])
    assert isinstance(result.error, PlatformError)
    assert "An unknown error has occurred. (code 1, fbtrace_id AbCdEfGhIjK)" in str(result.error)
    assert len(emulator.requests("POST", "/feed")) == 1
    assert text not in texts(emulator)


def test_a_timeout_after_the_create_was_sent_is_outcome_unknown_and_nothing_is_resent(
    emulator: GraphEmulator, humas: Account
) -> None:
    """The emulator stores the post, then answers too late: the post exists, the client must
    say it does not know, and must not send the create again (no idempotency on Facebook)."""
    emulator.inject("POST", "/feed", delay=1.5, body=None)
    text = unique_text("Pengumuman")
    with Client(timeout=httpx.Timeout(0.3), max_wait=5.0, max_attempts=3) as client:
        [result] = client.publish(Post(text), [humas])
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert result.error.account == humas.handle
    assert len(emulator.requests("POST", "/feed")) == 1
    assert texts(emulator).count(text) == 1  # it was made: reconcile, never resend


def test_an_expired_token_is_an_authentication_error_that_says_what_to_do(
    emulator: GraphEmulator, humas: Account, client: Client
) -> None:
    token = humas.credential("page_access_token")
    emulator.expired_tokens.add(token)
    [result] = client.publish(Post(unique_text()), [humas])
    error = result.error
    assert isinstance(error, AuthenticationError)
    assert "Session has expired" in str(error) and "subcode 463" in str(error)
    assert error.hint is not None and "long-lived" in error.hint
    assert token not in str(error) and token not in repr(result)
    assert len(emulator.requests("POST", "/feed")) == 1  # not retried


def test_a_malformed_body_on_create_is_outcome_unknown(
    emulator: GraphEmulator, humas: Account, client: Client
) -> None:
    """A 200 whose body is not JSON: the post may exist, so the outcome is unknown."""
    emulator.inject("POST", "/feed", status=200, body="<html>ok</html>")
    [result] = client.publish(Post(unique_text()), [humas])
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert "<html>ok</html>" in result.error.detail["body"]


def test_a_malformed_body_on_a_read_is_a_platform_error(
    emulator: GraphEmulator, humas: Account, client: Client
) -> None:
    emulator.inject("GET", f"/{HUMAS}", status=200, body="{not json")
    with pytest.raises(PlatformError, match="not the JSON expected"):
        client.fetch_account_metrics(humas)


def test_a_removed_metric_on_the_server_leaves_the_other_figures(
    emulator: GraphEmulator, humas: Account, client: Client
) -> None:
    """The emulator no longer knows post_media_view (as after a Meta deprecation): the whole
    insights request fails with code 100, and the adapter still returns reach, clicks, likes."""
    emulator.insights_metrics.discard("post_media_view")
    [result] = client.publish(Post(unique_text()), [humas])
    assert result.ref is not None
    emulator.like(result.ref, emulator.account("104000000000002"))
    [metrics] = client.fetch_metrics([result.ref])
    assert metrics.views is None
    assert (metrics.reach, metrics.clicks, metrics.likes, metrics.replies) == (65, 7, 1, 0)
    assert metrics.reposts is None  # no shares: Facebook leaves the field out
    assert metrics.raw["insights_refused"] == ["post_media_view"]


def test_metrics_of_a_deleted_post_are_unknown_not_an_error_for_the_others(
    emulator: GraphEmulator, humas: Account, client: Client
) -> None:
    """One missing id fails a whole ``?ids=`` lookup (code 100, subcode 33): the adapter asks
    again one by one, so the live post keeps its figures."""
    [kept, gone] = [client.publish(Post(unique_text()), [humas])[0].ref for _ in range(2)]
    assert kept is not None and gone is not None
    client.delete(gone)
    live, deleted = client.fetch_metrics([kept, gone])
    assert live.likes == 0 and live.views == 100
    assert deleted.likes is None and "does not exist" in deleted.raw["error"]


def test_the_token_never_travels_in_a_url(
    emulator: GraphEmulator, humas: Account, client: Client
) -> None:
    """Meta's paging.next links carry access_token; the adapter follows cursors instead."""
    [result] = client.publish(Post(unique_text()), [humas])
    assert result.ref is not None
    citizen = emulator.account("104000000000002")
    for index in range(105):  # more than one page of 100
        client.reply(result.ref.model_copy(update={"account": citizen}), f"komentar {index}")
    replies = client.fetch_replies(result.ref)
    assert [r.text for r in replies][-1] == "komentar 104" and len(replies) == 105
    seen = emulator.requests()
    tokens = {f"Bearer {page.token}" for page in emulator.pages.values()}
    assert len(emulator.requests("GET", "/comments")) == 2
    assert seen and all(
        "access_token" not in s.query and "access_token" not in s.form for s in seen
    )
    assert all(s.authorization in tokens for s in seen)


def test_deleting_twice_says_the_post_is_gone(
    emulator: GraphEmulator, humas: Account, client: Client
) -> None:
    [result] = client.publish(Post(unique_text()), [humas])
    assert result.ref is not None
    client.delete(result.ref)
    ref = PostRef(platform="facebook", account=humas, id=result.ref.id)
    with pytest.raises(PlatformError, match="has no post"):
        client.delete(ref)


# -- "Require App Secret" ------------------------------------------------------------------------


def test_the_appsecret_proof_goes_with_every_call_when_the_account_has_the_secret(
    emulator: GraphEmulator, humas: Account, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """An app with "Require App Secret" refuses calls without appsecret_proof (code 100); with
    the app_secret credential every call carries HMAC-SHA256(app secret, token) in hex."""
    import hashlib
    import hmac
    import logging

    secret = "f" * 32
    emulator.app_secret = secret
    before = texts(emulator)
    [refused] = client.publish(Post(unique_text()), [humas])
    assert isinstance(refused.error, PlatformError)
    assert "require an appsecret_proof argument" in str(refused.error)
    assert refused.error.field == "credentials.app_secret"
    assert "Require App Secret" in (refused.error.hint or "")
    assert texts(emulator) == before
    credentials = {**{k: v.get_secret_value() for k, v in humas.credentials.items()}}
    with_secret = Account(
        **humas.model_dump(exclude={"credentials"}),
        credentials={**credentials, "app_secret": secret},
    )
    text = unique_text()
    start = len(emulator.seen)
    with caplog.at_level(logging.DEBUG):
        [result] = client.publish(Post(text), [with_secret])
    assert result.ok, result.error
    assert texts(emulator) == [*before, text]
    token = credentials["page_access_token"]
    proof = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    sent = [seen.query.get("appsecret_proof") for seen in emulator.seen[start:]]
    assert sent and set(sent) == {proof}  # as the server received it
    wrong = Account(
        **humas.model_dump(exclude={"credentials"}),
        credentials={**credentials, "app_secret": "not-the-app-secret-0123456789"},
    )
    with caplog.at_level(logging.DEBUG):
        [bad] = client.publish(Post(unique_text()), [wrong])
    assert isinstance(bad.error, PlatformError)
    assert "Invalid appsecret_proof" in str(bad.error)
    for text_ in (str(bad.error), repr(bad), repr(wrong), caplog.text):
        assert "not-the-app-secret-0123456789" not in text_ and secret not in text_


def test_check_reads_the_page_and_says_which_permissions_each_action_needs(
    emulator: GraphEmulator, humas: Account, client: Client
) -> None:
    before = texts(emulator)
    found = client.check(humas)
    assert found.token_ok and found.identity == "Humas Kota Contoh"
    assert found.calls == [f"GET /v26.0/{HUMAS}"]
    post = found.capability("post")
    assert post is not None and post.ok is None and "pages_manage_posts" in post.detail
    assert [seen.method for seen in emulator.seen] == ["GET"]
    assert texts(emulator) == before
    emulator.expired_tokens.add(humas.credential("page_access_token"))
    try:
        refused = client.check(humas)
    finally:
        emulator.expired_tokens.clear()
    assert not refused.token_ok and "Session has expired" in (refused.error or "")
