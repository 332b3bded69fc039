"""Failures against the emulator: throttling, server errors, timeouts, bad bodies, media.

Every publishing test uses a fresh account and counts what the emulator STORED for it.
"""

from __future__ import annotations

from govsocial import Account, Client, Media, Post
from govsocial.core.errors import (
    ConfigurationError,
    PlatformError,
    PublishOutcomeUnknown,
    RateLimited,
)
from govsocial.testing import tiny_png, unique_text
from govsocial_threads.testing import ThreadsEmulator

CREATE = r"/threads$"
PUBLISH = r"/threads_publish$"


def throttle(code: int) -> dict[str, object]:
    """A Graph throttling error (https://developers.facebook.com/docs/graph-api/guides/error-handling)."""
    return {
        "error": {
            "message": f"(#{code}) Application request limit reached",
            "code": code,
            "type": "OAuthException",
            "is_transient": True,
            "fbtrace_id": "Thr",
        }
    }


def test_a_429_on_container_creation_is_retried(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    fault = server.inject(
        "POST", CREATE, status=429, body=throttle(4), headers={"Retry-After": "0"}
    )
    [result] = client.publish(Post(unique_text()), [fresh])
    assert result.ok, result.error
    assert fault.count == 0, "the 429 was never served"
    assert len(server.posts_of(fresh)) == 1


def test_meta_throttle_codes_with_http_400_are_retried(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    for code in (4, 17, 32, 613):
        server.inject("GET", r"/threads_insights$", status=400, body=throttle(code))
        metrics = client.fetch_account_metrics(fresh)
        assert metrics.followers == 0
    assert not server.faults or all(f.count == 0 for f in server.faults)


def test_throttling_that_never_ends_is_rate_limited_with_meta_s_message(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    server.inject("POST", CREATE, status=400, body=throttle(613), count=10)
    [result] = client.publish(Post(unique_text()), [fresh])
    assert isinstance(result.error, RateLimited)
    assert "code 613" in str(result.error) and "fbtrace_id Thr" in str(result.error)
    assert server.posts_of(fresh) == []


def test_a_503_then_success_publishes_once(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    server.inject(
        "POST", CREATE, status=503, body={"error": {"message": "Service down", "code": 2}}
    )
    [result] = client.publish(Post(unique_text()), [fresh])
    assert result.ok, result.error
    assert len(server.posts_of(fresh)) == 1
    assert len(server.containers_of(fresh)) == 1


def test_a_500_keeps_meta_s_message_and_publishes_nothing(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    server.inject(
        "POST",
        CREATE,
        status=500,
        body={
            "error": {
                "message": "Please reduce the amount of data",
                "code": 1,
                "error_subcode": 99,
                "fbtrace_id": "Zz9",
            }
        },
    )
    [result] = client.publish(Post(unique_text()), [fresh])
    assert isinstance(result.error, PlatformError)
    text = str(result.error)
    assert "Please reduce the amount of data" in text and "subcode 99" in text
    assert "fbtrace_id Zz9" in text
    assert server.posts_of(fresh) == []


def test_a_timeout_after_the_publish_was_sent_is_unknown_and_nothing_is_resent(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    server.inject("POST", PUBLISH, after=True, delay=2.0)
    before = server.calls("POST", "/threads_publish")
    [result] = client.publish(Post(unique_text()), [fresh])
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert "never resend blindly" in str(result.error)
    assert server.calls("POST", "/threads_publish") == before + 1
    assert len(server.posts_of(fresh)) == 1


def test_a_body_that_is_not_json_is_a_clear_error(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    server.inject("GET", r"/threads_insights$", status=200, body="<html>proxy</html>")
    try:
        client.fetch_account_metrics(fresh)
    except PlatformError as error:
        assert "not the JSON expected" in str(error)
        assert "<html>proxy</html>" in str(error)
    else:
        raise AssertionError("no error for an HTML body")


def test_a_local_image_needs_a_media_host(server: ThreadsEmulator, fresh: Account) -> None:
    with Client(max_wait=5.0) as bare:
        [result] = bare.publish(
            Post("Peta", media=[Media(data=tiny_png(), alt_text="Peta")]), [fresh]
        )
    assert isinstance(result.error, ConfigurationError)
    assert result.error.field == "media[0]"
    assert "media host" in str(result.error)
    assert server.containers_of(fresh) == []


def test_a_local_image_is_hosted_and_downloaded_by_the_platform(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    [result] = client.publish(
        Post(unique_text(), media=[Media(data=tiny_png(), alt_text="Peta lokasi")]), [fresh]
    )
    assert result.ok, result.error
    [container] = server.containers_of(fresh)
    assert container["media_sha256"] is not None, "the emulator did not download the image"
    [post] = server.posts_of(fresh)
    assert post["alt_texts"] == ["Peta lokasi"]


def test_a_carousel_publishes_one_post_with_every_alt_text(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    server.polls_to_finish = 3  # IN_PROGRESS for a few polls
    media = [Media(data=tiny_png(), alt_text=f"Gambar {i}") for i in range(3)]
    [result] = client.publish(Post(unique_text(), media=media), [fresh])
    assert result.ok, result.error
    [post] = server.posts_of(fresh)
    assert post["media_type"] == "CAROUSEL_ALBUM"
    assert post["alt_texts"] == ["Gambar 0", "Gambar 1", "Gambar 2"]


def test_an_image_the_platform_cannot_download_fails_clearly(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    image = Media(url=server.base_url + "/media/missing.png", alt_text="x")
    [result] = client.publish(Post("Gambar", media=[image]), [fresh])
    assert isinstance(result.error, PlatformError)
    assert "ERROR" in str(result.error) and "nothing was published" in str(result.error)
    assert server.posts_of(fresh) == []


def test_a_removed_metric_does_not_empty_the_answer(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    [result] = client.publish(Post(unique_text()), [fresh])
    assert result.ref is not None
    server.like(result.ref, server.accounts[1])
    server.removed_metrics.add("shares")
    [metrics] = client.fetch_metrics([result.ref])
    assert metrics.likes == 1
    assert metrics.views == 0 and metrics.replies == 0
    assert "shares" in metrics.raw["unavailable"]


def test_deleting_twice_says_what_may_have_happened(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    [result] = client.publish(Post(unique_text()), [fresh])
    assert result.ref is not None
    client.delete(result.ref)
    assert server.posts_of(fresh) == []
    try:
        client.delete(result.ref)
    except PlatformError as error:
        assert error.hint is not None and "100 deletes" in error.hint
    else:
        raise AssertionError("a second delete did not fail")


def test_usage_headers_at_the_limit_make_the_next_call_wait(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    """X-Business-Use-Case-Usage with estimated_time_to_regain_access (minutes): a budget
    spent beyond max_wait is RateLimited before any request is sent."""
    server.usage_headers["X-Business-Use-Case-Usage"] = (
        '{"1": [{"type": "threads", "call_count": 100, "total_cputime": 1, "total_time": 1,'
        ' "estimated_time_to_regain_access": 30}]}'
    )
    client.fetch_account_metrics(fresh)  # answered, and tells the budget is spent
    server.usage_headers.clear()
    sent = len(server.requests)
    try:
        client.fetch_account_metrics(fresh)
    except RateLimited as error:
        assert error.retry_after is not None and error.retry_after > 1700
    else:
        raise AssertionError("the spent budget was ignored")
    assert len(server.requests) == sent


def test_alt_text_over_1000_characters_is_refused_before_anything_is_sent(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    """Threads alt text is capped at 1,000 characters (third-party tools; Meta's collection
    gives no figure), checked offline so no container is made."""
    from govsocial.client.validation import validate
    from govsocial.core.errors import ValidationError

    image = "https://example.go.id/poster.png"
    long_alt = Post(unique_text(), media=[Media(url=image, alt_text="a" * 1001)])
    [problem] = validate(long_alt, "threads")
    assert (problem.code, problem.limit, problem.field) == (
        "alt_text_too_long",
        1000,
        "media[0].alt_text",
    )
    [result] = client.publish(long_alt, [fresh])
    assert isinstance(result.error, ValidationError)
    assert server.containers_of(fresh) == []
    fits = Post(unique_text(), media=[Media(url=image, alt_text="a" * 1000)])
    assert validate(fits, "threads") == []


def test_check_reads_the_quota_and_the_insights_and_publishes_nothing(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    found = client.check(fresh)
    assert found.token_ok
    post = found.capability("post")
    assert post is not None and post.ok is None and "0 of 250 posts" in post.detail
    assert found.capability("metrics") is not None
    assert [c.split()[0] for c in found.calls] == ["GET", "GET"]
    assert any(c.endswith("/threads_publishing_limit") for c in found.calls)
    assert server.posts_of(fresh) == [] and server.containers_of(fresh) == []
