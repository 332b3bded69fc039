"""Exactly once: a crash between container and post never makes a second post.

Each test counts what the EMULATOR holds (media, containers, media_publish calls), not what
the adapter says it did.
"""

from __future__ import annotations

import httpx
import pytest

from govsocial import Client, Media, Post
from govsocial.adapters.checkpoints import MemoryCheckpoints
from govsocial.adapters.media import DirectoryHost
from govsocial.core.errors import PlatformError, PublishOutcomeUnknown
from govsocial.testing import unique_text
from govsocial_instagram import Instagram
from govsocial_instagram.testing import InstagramEmulator, tiny_jpeg


def image_post(text: str) -> Post:
    return Post(text, media=[Media(data=tiny_jpeg(), alt_text="Poster posyandu")])


def publish_calls(server: InstagramEmulator) -> int:
    return sum(1 for method, path in server.requests if path.endswith("/media_publish"))


def test_a_publish_whose_answer_was_lost_is_resumed_not_repeated(
    server: InstagramEmulator, host: DirectoryHost
) -> None:
    """media_publish times out AFTER the emulator published: PublishOutcomeUnknown; the same
    key then returns the SAME media, and the emulator holds exactly one."""
    account = server.accounts[0]
    checkpoints = MemoryCheckpoints()
    server.inject("publish_then_hang", method="POST", path="/media_publish", delay=2.5)
    text = unique_text("Jadwal posyandu")
    with Client(
        media_host=host, checkpoints=checkpoints, timeout=httpx.Timeout(1.0), max_wait=5.0
    ) as client:
        first = client.publish_one(image_post(text), account, idempotency_key="posyandu-1")
        assert isinstance(first.error, PublishOutcomeUnknown)
        assert first.error.idempotency_key == "posyandu-1"
        assert server.media_count(account) == 1  # it WAS published
        again = client.publish_one(image_post(text), account, idempotency_key="posyandu-1")
    assert again.ok, again.error
    assert again.ref is not None
    [stored] = server.media_of(account)
    assert again.ref.id == stored["id"]
    assert again.ref.url == stored["permalink"]
    assert len(server.containers_of(account)) == 1, "a second container was made"
    assert publish_calls(server) == 1, "media_publish was sent again"


def test_find_published_answers_from_the_checkpoint_in_a_new_client(
    server: InstagramEmulator, host: DirectoryHost
) -> None:
    """A worker's reconciliation (find_published) in another client sharing the checkpoints."""
    account = server.accounts[0]
    checkpoints = MemoryCheckpoints()
    server.inject("publish_then_hang", method="POST", path="/media_publish", delay=2.5)
    text = unique_text("Info banjir")
    with Client(media_host=host, checkpoints=checkpoints, timeout=httpx.Timeout(1.0)) as client:
        result = client.publish_one(image_post(text), account, idempotency_key="banjir-3")
        assert isinstance(result.error, PublishOutcomeUnknown)
        assert client.find_published(account, "never-sent") is None
    with Client(media_host=host, checkpoints=checkpoints) as successor:
        found = successor.find_published(account, "banjir-3")
    [stored] = server.media_of(account)
    assert found is not None and found.id == stored["id"]
    assert publish_calls(server) == 1


def test_a_new_attempt_resumes_the_saved_container(
    server: InstagramEmulator, host: DirectoryHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt dies while the container is still processing; the next attempt with
    the same key publishes THAT container: no second container, one post."""
    account = server.accounts[0]
    checkpoints = MemoryCheckpoints()
    monkeypatch.setattr(Instagram, "container_timeout", 0.2)
    server.container_outcome = "IN_PROGRESS"  # never finishes during the first attempt
    text = unique_text("Pengumuman")
    with Client(media_host=host, checkpoints=checkpoints, max_wait=5.0) as client:
        first = client.publish_one(image_post(text), account, idempotency_key="umum-9")
        assert isinstance(first.error, PlatformError)
        assert "still processing" in str(first.error)
        [container] = server.containers_of(account)
        saved = checkpoints.load(account.key, "umum-9")
        assert saved["container"] == container["id"]
        assert server.media_count(account) == 0
        server.containers[container["id"]]["outcome"] = "FINISHED"
        again = client.publish_one(image_post(text), account, idempotency_key="umum-9")
    assert again.ok, again.error
    assert len(server.containers_of(account)) == 1, "a second container was made"
    [stored] = server.media_of(account)
    assert again.ref is not None and again.ref.id == stored["id"]
    assert stored["container_id"] == container["id"]


def test_a_carousel_resumes_its_saved_items(server: InstagramEmulator, host: DirectoryHost) -> None:
    """Item containers are saved one by one: after a failure on the carousel container, the
    retry reuses the items and makes only the carousel container."""
    account = server.accounts[0]
    checkpoints = MemoryCheckpoints()
    post = Post(
        unique_text("Galeri kegiatan"),
        media=[Media(data=tiny_jpeg() + bytes([i]), alt_text=f"Foto {i}") for i in range(3)],
    )
    # fail only the 4th container creation (the carousel one)
    calls = {"n": 0}
    original = server._create_container

    async def flaky(owner: str, params: dict[str, str]) -> object:
        calls["n"] += 1
        if params.get("media_type") == "CAROUSEL" and calls["n"] == 4:
            from govsocial_instagram.testing import _error

            return _error(  # a final error (2207032 would be retried at once)
                400, "The media with 1 cannot be found", 24, subcode=2207006
            )
        return await original(owner, params)

    server._create_container = flaky
    with Client(media_host=host, checkpoints=checkpoints, max_wait=5.0) as client:
        first = client.publish_one(post, account, idempotency_key="galeri-1")
        assert isinstance(first.error, PlatformError)
        assert "2207006" in str(first.error)
        assert len(server.containers_of(account)) == 3
        again = client.publish_one(post, account, idempotency_key="galeri-1")
    assert again.ok, again.error
    containers = server.containers_of(account)
    assert len(containers) == 4, "items were made again"
    [stored] = server.media_of(account)
    assert stored["alt_texts"] == ["Foto 0", "Foto 1", "Foto 2"]
    assert stored["media_type"] == "CAROUSEL_ALBUM"


def test_a_published_container_is_never_published_again(
    server: InstagramEmulator, host: DirectoryHost
) -> None:
    """Repeating a finished delivery answers from the checkpoint without any request."""
    account = server.accounts[0]
    with Client(media_host=host) as client:
        first = client.publish_one(image_post(unique_text()), account, idempotency_key="k-1")
        assert first.ok, first.error
        before = len(server.requests)
        again = client.publish_one(image_post(unique_text()), account, idempotency_key="k-1")
    assert again.ref == first.ref
    assert len(server.requests) == before
    assert server.media_count(account) == 1


def test_an_expired_container_is_rebuilt_once_and_one_post_is_made(
    server: InstagramEmulator, host: DirectoryHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delivery's saved container expired unpublished (2207020, "Generate a new container
    ID"): the next attempt makes ONE new container and publishes it; the expired one never
    becomes a post."""
    account = server.accounts[0]
    checkpoints = MemoryCheckpoints()
    monkeypatch.setattr(Instagram, "container_timeout", 0.2)
    server.container_outcome = "IN_PROGRESS"
    text = unique_text("Jadwal imunisasi")
    with Client(media_host=host, checkpoints=checkpoints, max_wait=5.0) as client:
        first = client.publish_one(image_post(text), account, idempotency_key="imun-1")
        assert isinstance(first.error, PlatformError)
        [old] = server.containers_of(account)
        server.expire_container(old["id"])
        server.container_outcome = "FINISHED"
        again = client.publish_one(image_post(text), account, idempotency_key="imun-1")
    assert again.ok, again.error
    containers = server.containers_of(account)
    assert len(containers) == 2, "exactly one new container"
    [stored] = server.media_of(account)
    assert again.ref is not None and again.ref.id == stored["id"]
    assert stored["container_id"] != old["id"]
    assert publish_calls(server) == 1


def test_media_publish_answering_2207020_rebuilds_the_container(
    server: InstagramEmulator, host: DirectoryHost
) -> None:
    """The container expires between FINISHED and media_publish: Meta answers -2/2207020;
    a new container is made and published, once."""
    account = server.accounts[0]
    server.inject(
        method="POST",
        path="/media_publish",
        body={
            "error": {
                "message": "The media you are trying to access has expired. Please try to "
                "upload again.",
                "type": "OAuthException",
                "code": -2,
                "error_subcode": 2207020,
                "fbtrace_id": "AbCd",
            }
        },
    )
    with Client(media_host=host, max_wait=5.0) as client:
        result = client.publish_one(image_post(unique_text()), account)
    assert result.ok, result.error
    assert len(server.containers_of(account)) == 2
    assert server.media_count(account) == 1


def test_an_expired_container_that_expires_again_fails_without_a_third(
    server: InstagramEmulator, host: DirectoryHost
) -> None:
    account = server.accounts[0]
    server.container_outcome = "EXPIRED"
    with Client(media_host=host, max_wait=5.0) as client:
        result = client.publish_one(image_post(unique_text()), account)
    assert isinstance(result.error, PlatformError)
    assert "expired" in str(result.error)
    assert len(server.containers_of(account)) == 2  # the first and ONE rebuild
    assert server.media_count(account) == 0
