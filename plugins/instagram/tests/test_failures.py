"""Failures, against the Graph API emulator with injected faults.

Each test uses a fresh emulator (the ``server`` fixture), so it can count what it holds, and a
client with 1 s timeouts and waits of at most 5 s, so none can hang.
"""

from __future__ import annotations

import json

import httpx
import pytest

from govsocial import Account, Client, Media, Post
from govsocial.core.errors import (
    AuthenticationError,
    ConfigurationError,
    GovSocialError,
    PlatformError,
    PublishOutcomeUnknown,
    RateLimited,
)
from govsocial.testing import unique_text
from govsocial_instagram import InstagramError
from govsocial_instagram.testing import InstagramEmulator, tiny_jpeg


def image_post(text: str | None = None) -> Post:
    return Post(text or unique_text(), media=[Media(data=tiny_jpeg(), alt_text="Poster")])


def meta_error(code: int, message: str, subcode: int | None = None) -> dict[str, object]:
    error: dict[str, object] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "AbCdEfGh123"
    return {"error": error}


def test_a_429_is_retried_after_retry_after_and_one_post_is_made(
    server: InstagramEmulator, client: Client
) -> None:
    server.inject(
        status=429,
        body=meta_error(4, "(#4) Application request limit reached"),
        headers={"Retry-After": "1"},
        method="POST",
        path="/media",
    )
    [result] = client.publish(image_post(), [server.accounts[0]])
    assert result.ok, result.error
    assert server.media_count(server.accounts[0]) == 1
    assert server.faults == []


def test_meta_throttling_code_80002_is_retried_then_succeeds(
    server: InstagramEmulator, client: Client
) -> None:
    """Instagram's business use case throttle comes as HTTP 400 with code 80002."""
    usage = {
        "1": [
            {
                "type": "instagram",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 20,
                "estimated_time_to_regain_access": 0,
            }
        ]
    }
    server.inject(
        body=meta_error(80002, "There have been too many calls to this Instagram account."),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        method="GET",
        path="/insights",
    )
    [published] = client.publish(image_post(), [server.accounts[0]])
    assert published.ref is not None
    [metrics] = client.fetch_metrics([published.ref])
    assert metrics.views == 40 and metrics.reach == 31
    assert server.faults == []


def test_a_throttle_whose_regain_time_is_beyond_max_wait_raises_rate_limited(
    server: InstagramEmulator, client: Client
) -> None:
    usage = {
        "1": [
            {
                "type": "instagram",
                "call_count": 100,
                "total_cputime": 5,
                "total_time": 5,
                "estimated_time_to_regain_access": 10,
            }
        ]
    }
    server.inject(
        body=meta_error(80002, "Too many calls"),
        method="POST",
        path="/media",
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        count=None,
    )
    [result] = client.publish(image_post(), [server.accounts[0]])
    assert isinstance(result.error, RateLimited)
    assert result.error.retry_after == pytest.approx(600, abs=5)
    assert "code 80002" in str(result.error) and "fbtrace_id AbCdEfGh123" in str(result.error)
    assert server.containers_of(server.accounts[0]) == []


def test_a_503_then_success_makes_one_container_and_one_post(
    server: InstagramEmulator, client: Client
) -> None:
    server.inject(
        status=503,
        body={"error": {"message": "Service temporarily unavailable", "code": 2}},
        method="POST",
        path="/media",
    )
    [result] = client.publish(image_post(), [server.accounts[0]])
    assert result.ok, result.error
    assert len(server.containers_of(server.accounts[0])) == 1
    assert server.media_count(server.accounts[0]) == 1


def test_a_500_keeps_metas_message_code_and_trace_and_stores_nothing(
    server: InstagramEmulator, client: Client
) -> None:
    server.inject(
        status=500,
        body=meta_error(-1, "Instagram server error. Try again.", 2207001),
        method="POST",
        path="/media",
        count=None,  # it persists: a single one is retried (see the try-again test below)
    )
    [result] = client.publish(image_post(), [server.accounts[0]])
    error = result.error
    assert isinstance(error, InstagramError)
    assert (error.status, error.code, error.subcode, error.fbtrace_id) == (
        500,
        -1,
        2207001,
        "AbCdEfGh123",
    )
    assert "Instagram server error" in str(error)
    assert server.media_count(server.accounts[0]) == 0


def test_a_timeout_after_media_publish_was_sent_is_unknown_and_not_resent(
    server: InstagramEmulator, client: Client
) -> None:
    server.inject("hang", method="POST", path="/media_publish", delay=2.0)
    result = client.publish_one(image_post(), server.accounts[0], idempotency_key="lost-1")
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert result.error.idempotency_key == "lost-1"
    sent = [p for m, p in server.requests if p.endswith("/media_publish")]
    assert len(sent) == 1, "the create call was resent"


def test_an_expired_token_is_an_authentication_error_that_says_what_to_do(
    server: InstagramEmulator, client: Client
) -> None:
    account = server.accounts[0]
    server.expire_token(account)
    [result] = client.publish(image_post(), [account])
    error = result.error
    assert isinstance(error, AuthenticationError)
    message = str(error)
    assert "code 190" in message and "subcode 463" in message and "expired" in message
    assert "access_token credential" in message
    assert account.credential("access_token") not in message + repr(result)
    assert server.containers_of(account) == []
    with pytest.raises(AuthenticationError):
        client.fetch_account_metrics(account)


def test_a_malformed_answer_to_a_read_is_a_platform_error(
    server: InstagramEmulator, client: Client
) -> None:
    account = server.accounts[0]
    server.inject("malformed", method="GET", path=f"/{account.credential('ig_user_id')}")
    with pytest.raises(GovSocialError) as raised:
        client.fetch_account_metrics(account)
    assert isinstance(raised.value, PlatformError)
    assert "not the JSON expected" in str(raised.value)


def test_a_malformed_answer_to_media_publish_is_unknown_then_resolved_by_the_checkpoint(
    server: InstagramEmulator, client: Client
) -> None:
    account = server.accounts[0]
    server.inject("malformed", method="POST", path="/media_publish")
    text = unique_text()
    first = client.publish_one(image_post(text), account, idempotency_key="rusak-1")
    assert isinstance(first.error, PublishOutcomeUnknown)
    # the fault answered instead of the emulator: nothing was published, the container waits
    assert server.media_count(account) == 0
    again = client.publish_one(image_post(text), account, idempotency_key="rusak-1")
    assert again.ok, again.error
    assert len(server.containers_of(account)) == 1
    assert server.media_count(account) == 1


def test_media_meta_cannot_download_is_refused_with_metas_documented_error(
    server: InstagramEmulator, client: Client
) -> None:
    account = server.accounts[0]
    missing = Media(url=f"{server.base_url}/media/no-such-file.jpg", mime_type="image/jpeg")
    [result] = client.publish(Post(unique_text(), media=[missing]), [account])
    error = result.error
    assert isinstance(error, InstagramError)
    assert (error.code, error.subcode) == (9004, 2207052)
    assert "could not be fetched from this URI" in str(error)
    assert "public" in str(error.hint)
    assert server.containers_of(account) == []


def test_a_container_in_error_fails_clearly_and_publishes_nothing(
    server: InstagramEmulator, client: Client
) -> None:
    account = server.accounts[0]
    server.container_outcome = "ERROR"
    [result] = client.publish(image_post(), [account])
    assert isinstance(result.error, PlatformError)
    assert "status ERROR" in str(result.error) and "nothing was published" in str(result.error)
    assert server.media_count(account) == 0
    assert not any(p.endswith("/media_publish") for _, p in server.requests)


def test_the_publishing_limit_is_rate_limited_with_the_quota_read_from_meta(
    server: InstagramEmulator, client: Client
) -> None:
    account = server.accounts[0]
    server.quota_total = 1
    assert client.publish(image_post(), [account])[0].ok
    [result] = client.publish(image_post(), [account])
    assert isinstance(result.error, RateLimited)
    message = str(result.error)
    assert "code 9" in message and "subcode 2207042" in message
    assert "1 of 1 posts used in the last 24 h" in message
    assert server.media_count(account) == 1
    assert sum(1 for _, p in server.requests if p.endswith("/content_publishing_limit")) == 1


def test_a_local_file_without_a_media_host_names_the_field_and_the_fix(
    server: InstagramEmulator, tmp_path: object
) -> None:
    account: Account = server.accounts[0]
    with Client() as bare:
        [result] = bare.publish(image_post(), [account])
    error = result.error
    assert isinstance(error, ConfigurationError)
    assert error.field == "media[0]"
    assert "public URL" in str(error) and "media_host" in str(error)
    assert "DirectoryHost" in str(error)
    assert server.requests == []  # stopped before anything was sent


def test_timeouts_on_reads_fail_within_the_timeout(server: InstagramEmulator) -> None:
    account = server.accounts[0]
    server.inject("hang", method="GET", path="/", delay=3.0, count=None)
    with (
        Client(timeout=httpx.Timeout(0.5), max_wait=1.0, max_attempts=2) as client,
        pytest.raises(PlatformError) as raised,
    ):
        client.fetch_account_metrics(account)
    assert "ReadTimeout" in str(raised.value)


@pytest.mark.parametrize(
    ("code", "subcode", "message"),
    [
        (-1, 2207001, "Instagram server error. Try again"),
        (-2, 2207003, "It takes too long to download the media."),
        (-1, 2207032, "Create media fail, please try to re-create media"),
    ],
)
def test_metas_try_again_errors_are_retried_and_one_post_is_made(
    server: InstagramEmulator, client: Client, code: int, subcode: int, message: str
) -> None:
    """Meta's error table says to retry 2207001, 2207003 and 2207032 (HTTP 400)."""
    server.inject(method="POST", path="/media", body=meta_error(code, message, subcode))
    [result] = client.publish(image_post(), [server.accounts[0]])
    assert result.ok, result.error
    assert server.media_count(server.accounts[0]) == 1
    assert len(server.containers_of(server.accounts[0])) == 1
    assert server.faults == []


def test_a_try_again_error_that_persists_is_marked_transient(
    server: InstagramEmulator, client: Client
) -> None:
    server.inject(
        method="POST",
        path="/media",
        body=meta_error(-1, "Instagram server error. Try again", 2207001),
        count=None,
    )
    [result] = client.publish(image_post(), [server.accounts[0]])
    assert isinstance(result.error, InstagramError)
    assert result.error.transient and result.error.subcode == 2207001
    assert "Instagram server error. Try again" in str(result.error)
    assert "error-codes" in (result.error.hint or "")
    assert server.media_count(server.accounts[0]) == 0


def _with_secret(account: Account, secret: str) -> Account:
    credentials = {
        "ig_user_id": account.credential("ig_user_id"),
        "access_token": account.credential("access_token"),
        "app_secret": secret,
    }
    return Account(**account.model_dump(exclude={"credentials"}), credentials=credentials)


def test_every_call_carries_the_appsecret_proof_when_the_app_requires_it(
    server: InstagramEmulator, client: Client
) -> None:
    import hashlib
    import hmac

    secret = "0123456789abcdef0123456789abcdef"
    server.app_secret = secret
    plain = server.accounts[0]
    [refused] = client.publish(image_post(), [plain])
    assert isinstance(refused.error, InstagramError) and refused.error.code == 100
    assert "require an appsecret_proof argument" in str(refused.error)  # Meta's words
    assert refused.error.field == "credentials.app_secret"
    assert "Require App Secret" in (refused.error.hint or "")
    assert "securing-requests" in (refused.error.hint or "")
    account = _with_secret(plain, secret)
    [result] = client.publish(image_post(), [account])
    assert result.ok, result.error
    token = account.credential("access_token")
    wanted = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    assert server.proofs and set(server.proofs) == {wanted}  # what the server received
    assert server.media_count(account) == 1


def test_the_app_secret_never_reaches_errors_reprs_or_logs(
    server: InstagramEmulator, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    server.app_secret = "the-real-secret-of-the-app-000001"
    secret = "a-wrong-secret-0123456789abcdef99"
    account = _with_secret(server.accounts[0], secret)
    with caplog.at_level(logging.DEBUG):
        [result] = client.publish(image_post(), [account])
    assert isinstance(result.error, InstagramError)
    assert "Invalid appsecret_proof" in str(result.error)
    assert "not the secret of the app" in (result.error.hint or "")
    assert server.proofs, "the proof was sent"
    for text in (str(result.error), repr(result), repr(account), caplog.text):
        assert secret not in text
        assert server.proofs[0] not in text


def test_check_maps_the_granted_permissions_onto_what_the_account_can_do(
    server: InstagramEmulator, client: Client
) -> None:
    account = server.accounts[0]
    found = client.check(account)
    assert found.token_ok and found.identity == "@dinkes.kota"
    assert all(c.ok for c in found.capabilities), found.capabilities
    assert found.scopes is not None and "instagram_manage_contents" in found.scopes
    assert any("of 50 posts used" in note for note in found.notes)
    server.revoke(account, "instagram_manage_contents")
    server.revoke(account, "instagram_manage_insights")
    found = client.check(account)
    assert [c.name for c in found.missing] == ["delete", "metrics"]
    delete = found.capability("delete")
    assert delete is not None and "instagram_manage_contents" in (delete.fix or "")
    assert server.media_count(account) == 0 and server.containers_of(account) == []
    assert [path for method, path in server.requests if method != "GET"] == []
    # and the permission the check reported missing is what the platform then refuses
    [published] = client.publish(image_post(), [account])
    assert published.ref is not None
    with pytest.raises(PlatformError):
        client.delete(published.ref)
    assert server.media_count(account) == 1


def test_a_try_again_answer_to_a_comment_is_not_resent(
    server: InstagramEmulator, client: Client
) -> None:
    """A comment has no container to make a repeat harmless: a "try again" answer is not
    retried in the call (it is still marked transient), and exactly one comment POST left."""
    account = server.accounts[0]
    [published] = client.publish(image_post(), [account])
    assert published.ref is not None
    server.inject(
        method="POST",
        path="/comments",
        body=meta_error(-1, "Instagram server error. Try again", 2207001),
    )
    [reply] = client.publish(Post("Terima kasih", reply_to=published.ref), [account])
    assert isinstance(reply.error, InstagramError) and reply.error.transient
    posts = [p for m, p in server.requests if m == "POST" and p.endswith("/comments")]
    assert len(posts) == 1
