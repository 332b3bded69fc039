"""Exactly once: a delivery retried with its idempotency key never makes a second post.

Against the emulator, which keeps containers and posts: every test counts what it STORED.
"""

from __future__ import annotations

from govsocial import Account, Client, Post
from govsocial.core.errors import PlatformError, PublishOutcomeUnknown
from govsocial.testing import unique_text
from govsocial_threads.testing import ThreadsEmulator

PUBLISH = r"/threads_publish$"
CONTAINER = r"/v1\.0/\d+$"


def test_a_publish_answer_lost_after_the_post_was_made_is_recovered_not_repeated(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    """The crash between container and publish: the publish reaches the emulator, which
    publishes, but its answer comes after the client's 1 s timeout."""
    server.inject("POST", PUBLISH, after=True, delay=2.0)
    text = unique_text("Info banjir")
    [first] = client.publish(Post(text), [fresh], idempotency_keys={fresh: "delivery-1"})
    assert isinstance(first.error, PublishOutcomeUnknown)
    assert first.error.idempotency_key == "delivery-1"
    [made] = server.posts_of(fresh)  # the emulator did publish
    assert made["text"] == text

    [again] = client.publish(Post(text), [fresh], idempotency_keys={fresh: "delivery-1"})
    assert again.ok, again.error
    assert again.ref is not None and again.ref.id == made["id"]
    assert len(server.posts_of(fresh)) == 1
    assert len(server.containers_of(fresh)) == 1
    assert server.calls("POST", "/threads_publish") >= 1
    publishes = [
        p
        for m, path, p in server.requests
        if path.endswith("/threads_publish")
        and m == "POST"
        and p.get("creation_id") == made["container"]
    ]
    assert len(publishes) == 1, "the container was published a second time"


def test_a_saved_container_is_resumed_without_a_second_container(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    """The status poll fails after the container was made: the retry publishes that one."""
    server.inject(
        "GET",
        CONTAINER,
        status=400,
        body={
            "error": {
                "message": "An unknown error occurred",
                "code": 1,
                "type": "OAuthException",
                "fbtrace_id": "Xy",
            }
        },
    )
    text = unique_text("Jadwal posyandu")
    [first] = client.publish(Post(text), [fresh], idempotency_keys={fresh: "delivery-2"})
    assert isinstance(first.error, PlatformError)
    assert "An unknown error occurred" in str(first.error)
    assert server.posts_of(fresh) == []
    [container] = server.containers_of(fresh)

    [again] = client.publish(Post(text), [fresh], idempotency_keys={fresh: "delivery-2"})
    assert again.ok, again.error
    assert len(server.containers_of(fresh)) == 1, "a second container was made"
    [post] = server.posts_of(fresh)
    assert post["container"] == container["id"]
    assert again.ref is not None and again.ref.id == post["id"]


def test_a_finished_delivery_repeated_returns_the_same_post_without_calls(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    text = unique_text()
    [first] = client.publish(Post(text), [fresh], idempotency_keys={fresh: "delivery-3"})
    assert first.ok and first.ref is not None
    creations = server.calls("POST", "/threads")
    [again] = client.publish(Post(text), [fresh], idempotency_keys={fresh: "delivery-3"})
    assert again.ref is not None and again.ref.id == first.ref.id
    assert server.calls("POST", "/threads") == creations
    assert len(server.posts_of(fresh)) == 1
    assert client.find_published(fresh, "delivery-3") == first.ref
    assert client.find_published(fresh, "never-used") is None


def test_an_expired_container_is_replaced_and_published_once(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    """EXPIRED: "not published within 24 hours" (troubleshooting page): never a post, so
    a new container is safe."""
    server.inject(
        "POST", PUBLISH, status=503, body={"error": {"message": "down", "code": 2}}, count=3
    )
    text = unique_text()
    [first] = client.publish(Post(text), [fresh], idempotency_keys={fresh: "delivery-4"})
    assert first.error is not None
    [old] = server.containers_of(fresh)
    old["status"] = "EXPIRED"
    [again] = client.publish(Post(text), [fresh], idempotency_keys={fresh: "delivery-4"})
    assert again.ok, again.error
    assert len(server.containers_of(fresh)) == 2
    [post] = server.posts_of(fresh)
    assert post["container"] != old["id"]


def test_an_unreadable_publish_answer_is_unknown_then_recovered(
    server: ThreadsEmulator, fresh: Account, client: Client
) -> None:
    """A 200 whose body is not JSON (a proxy's page): the post may exist, so the result is
    PublishOutcomeUnknown; the retry waits briefly for an in-flight publish, finds none (the
    proxy answered, the emulator never published) and publishes the same container once."""
    text = unique_text()
    server.inject("POST", PUBLISH, status=200, body="<html>gateway</html>")
    [first] = client.publish(Post(text), [fresh], idempotency_keys={fresh: "delivery-5"})
    assert isinstance(first.error, PublishOutcomeUnknown)
    assert server.posts_of(fresh) == []
    [again] = client.publish(Post(text), [fresh], idempotency_keys={fresh: "delivery-5"})
    assert again.ok, again.error
    assert len(server.posts_of(fresh)) == 1
    assert len(server.containers_of(fresh)) == 1
