"""Instagram Stories (the label ``instagram.format=story``): what the emulator stored.

A Story is a container of ``media_type=STORIES`` with one ``image_url`` or ``video_url``
(IG User Media reference), which Meta downloads; the emulator keeps the SHA-256 of what it
downloaded. Every request is also held against Meta's SDK (conftest.py).
"""

from __future__ import annotations

import hashlib

import httpx
import pytest

from govsocial import Client, Media, Post, validate
from govsocial.adapters.checkpoints import MemoryCheckpoints
from govsocial.adapters.media import DirectoryHost
from govsocial.core.errors import PublishOutcomeUnknown
from govsocial.testing import unique_text
from govsocial_instagram.testing import InstagramEmulator, tiny_jpeg

STORY = {"instagram.format": "story"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def story_containers(server: InstagramEmulator) -> list[dict[str, object]]:
    return [c for c in server.containers_of(server.accounts[0]) if c["media_type"] == "STORIES"]


def test_an_image_story_is_one_stories_container_without_caption(
    server: InstagramEmulator, client: Client
) -> None:
    account = server.accounts[0]
    image = tiny_jpeg()
    [result] = client.publish(Post(media=[Media(data=image)], labels=STORY), [account])
    assert result.ok, result.error
    [stored] = server.media_of(account)
    assert result.ref is not None and result.ref.id == stored["id"]
    assert (stored["media_product_type"], stored["media_type"]) == ("STORY", "IMAGE")
    assert stored["sha256"] == sha(image)
    [container] = story_containers(server)
    assert container["caption"] == "" and container["story_of"] == "IMAGE"


def test_a_video_story_goes_by_video_url_and_is_listed_among_stories_not_media(
    server: InstagramEmulator, client: Client
) -> None:
    pytest.importorskip("av", reason="making a test video needs PyAV: govsocial[video]")
    from govsocial.testing.video import make_video

    account = server.accounts[0]
    clip = make_video(width=360, height=640, seconds=4, fps=30)
    post = Post(media=[Media(data=clip)], labels=STORY)
    assert [p for p in validate(post, "instagram") if p.severity == "error"] == []
    [result] = client.publish(post, [account])
    assert result.ok, result.error
    [stored] = server.media_of(account)
    assert (stored["media_product_type"], stored["media_type"]) == ("STORY", "VIDEO")
    assert stored["sha256"] == sha(clip)
    # read back as Meta lists them: /stories holds it, /media does not
    headers = {"Authorization": f"Bearer {account.credential('access_token')}"}
    base = f"{server.base_url}/v25.0/{account.credential('ig_user_id')}"
    stories = httpx.get(f"{base}/stories", params={"fields": "id"}, headers=headers).json()
    media = httpx.get(f"{base}/media", params={"fields": "id"}, headers=headers).json()
    assert [s["id"] for s in stories["data"]] == [stored["id"]]
    assert stored["id"] not in [m["id"] for m in media["data"]]


def test_a_story_is_checked_offline_against_the_story_rules() -> None:
    pytest.importorskip("av", reason="making a test video needs PyAV: govsocial[video]")
    from govsocial.testing.video import make_video

    long_clip = make_video(width=90, height=160, seconds=70, fps=24, audio=False)
    story = Post(media=[Media(data=long_clip)], labels=STORY)
    problems = validate(story, "instagram")
    [duration] = [p for p in problems if p.code == "video_duration"]
    assert "1 min" in duration.message and "story-video-specifications" in duration.message
    as_reel = story.model_copy(update={"labels": {}})
    assert "video_duration" not in [p.code for p in validate(as_reel, "instagram")]
    two = Post(media=[Media(data=tiny_jpeg()), Media(data=tiny_jpeg())], labels=STORY)
    assert "story_one_media" in [p.code for p in validate(two, "instagram")]
    texted = Post("Halo", media=[Media(data=tiny_jpeg())], labels=STORY)
    [dropped] = [p for p in validate(texted, "instagram") if p.code == "story_caption_dropped"]
    assert dropped.severity == "warning"
    odd = Post(media=[Media(data=tiny_jpeg())], labels={"instagram.format": "reels"})
    assert "invalid_option" in [p.code for p in validate(odd, "instagram")]


def test_a_story_whose_publish_answer_was_lost_is_found_among_stories(
    server: InstagramEmulator, host: DirectoryHost
) -> None:
    """media_publish times out after the story was made: the same key finds it in /stories
    and publishes nothing again."""
    account = server.accounts[0]
    checkpoints = MemoryCheckpoints()
    server.inject("publish_then_hang", method="POST", path="/media_publish", delay=2.5)
    post = Post(unique_text(), media=[Media(data=tiny_jpeg())], labels=STORY)
    with Client(
        media_host=host, checkpoints=checkpoints, timeout=httpx.Timeout(1.0), max_wait=5.0
    ) as client:
        first = client.publish_one(post, account, idempotency_key="story-1")
        assert isinstance(first.error, PublishOutcomeUnknown)
        again = client.publish_one(post, account, idempotency_key="story-1")
    assert again.ok, again.error
    [stored] = server.media_of(account)
    assert again.ref is not None and again.ref.id == stored["id"]
    assert stored["media_product_type"] == "STORY"
    publishes = [p for m, p in server.requests if p.endswith("/media_publish")]
    assert len(publishes) == 1
    assert len(story_containers(server)) == 1
