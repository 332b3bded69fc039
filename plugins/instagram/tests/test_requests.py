"""Request and response shapes, against respx stand-ins built from Meta's documented examples.

Each test names the developers.facebook.com page whose request syntax and sample response it
follows. Ids in the answers are the ones in those samples.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from govsocial import Account, AsyncClient, Media, Post, PostRef
from govsocial.core.errors import (
    AuthenticationError,
    PlatformError,
    RateLimited,
)
from govsocial_instagram import Instagram, InstagramError

pytestmark = pytest.mark.anyio

BASE = "https://graph.facebook.com/v25.0"
USER = "17841405822304914"
TOKEN = "EAAGm0PX4ZCpsBAKGfakefakefakeZDZD"
IMAGE = "https://dinkes.example.go.id/media/bronzed-fonzes.jpg"


def account() -> Account:
    return Account(
        platform="instagram",
        handle="@dinkes.kota",
        credentials={"ig_user_id": USER, "access_token": TOKEN},
    )


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Instagram, "container_poll_interval", 0.001)


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def client() -> AsyncClient:
    return AsyncClient(transport=httpx.AsyncHTTPTransport(), max_wait=1.0)


# -- publishing ---------------------------------------------------------------------------------


async def test_single_image_container_status_and_publish_follow_the_documented_requests(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
    (sample response {"id": "17889455560051444"}), .../reference/ig-container (status_code),
    .../reference/ig-user/media_publish (creation_id; {"id": "17920238422030506"})."""
    create = mock.post(f"{BASE}/{USER}/media").respond(json={"id": "17889455560051444"})
    status = mock.get(f"{BASE}/17889455560051444").mock(
        side_effect=[
            httpx.Response(200, json={"status_code": "IN_PROGRESS", "id": "17889455560051444"}),
            httpx.Response(200, json={"status_code": "FINISHED", "id": "17889455560051444"}),
        ]
    )
    publish = mock.post(f"{BASE}/{USER}/media_publish").respond(json={"id": "17920238422030506"})
    link = mock.get(f"{BASE}/17920238422030506").respond(
        json={"permalink": "https://www.instagram.com/p/Cx1AbC/", "id": "17920238422030506"}
    )
    post = Post("#BronzedFonzes!", media=[Media(url=IMAGE, alt_text="Dua patung perunggu")])
    async with client() as c:
        result = await c.publish_one(post, account(), idempotency_key="d-1")
    assert result.ok, result.error
    assert result.ref is not None
    assert (result.ref.id, result.ref.url) == (
        "17920238422030506",
        "https://www.instagram.com/p/Cx1AbC/",
    )
    sent = create.calls.last.request
    assert form(sent) == {
        "image_url": IMAGE,
        "alt_text": "Dua patung perunggu",
        "caption": "#BronzedFonzes!",
    }
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(sent.url)
    assert status.call_count == 2
    assert status.calls.last.request.url.params["fields"] == "status_code,status"
    assert form(publish.calls.last.request) == {"creation_id": "17889455560051444"}
    assert link.calls.last.request.url.params["fields"] == "permalink"


async def test_a_carousel_is_items_then_a_carousel_container_with_children(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/instagram-platform/content-publishing (carousel posts:
    is_carousel_item=true per item, then media_type=CAROUSEL with children; the caption is
    "Not supported on images or videos in carousels", so it goes on the carousel only)."""
    ids = iter(["17899506308402767", "17899506308402768", "18002086339001001"])
    create = mock.post(f"{BASE}/{USER}/media").mock(
        side_effect=lambda request: httpx.Response(200, json={"id": next(ids)})
    )
    mock.get(url__regex=rf"{BASE}/(1789950630840276[78]|18002086339001001)\?").respond(
        json={"status_code": "FINISHED"}
    )
    mock.post(f"{BASE}/{USER}/media_publish").respond(json={"id": "18002086339001999"})
    mock.get(f"{BASE}/18002086339001999").respond(json={"permalink": "https://instagram.com/p/x/"})
    post = Post(
        "Galeri",
        media=[
            Media(url=IMAGE, alt_text="Foto 1"),
            Media(url=IMAGE.replace("bronzed-fonzes", "foto-2")),
        ],
    )
    async with client() as c:
        result = await c.publish_one(post, account())
    assert result.ok, result.error
    sent = [form(call.request) for call in create.calls]
    assert sent == [
        {"image_url": IMAGE, "alt_text": "Foto 1", "is_carousel_item": "true"},
        {"image_url": IMAGE.replace("bronzed-fonzes", "foto-2"), "is_carousel_item": "true"},
        {
            "media_type": "CAROUSEL",
            "children": "17899506308402767,17899506308402768",
            "caption": "Galeri",
        },
    ]


async def test_a_single_video_is_published_as_a_reel(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
    (Reel containers: media_type=REELS, video_url)."""
    create = mock.post(f"{BASE}/{USER}/media").respond(json={"id": "17889455560051555"})
    mock.get(f"{BASE}/17889455560051555").respond(json={"status_code": "FINISHED"})
    mock.post(f"{BASE}/{USER}/media_publish").respond(json={"id": "17920238422030777"})
    mock.get(f"{BASE}/17920238422030777").respond(
        json={"permalink": "https://instagram.com/reel/y/"}
    )
    video = Media(url="https://dinkes.example.go.id/media/senam.mp4", mime_type="video/mp4")
    async with client() as c:
        result = await c.publish_one(Post("Senam pagi", media=[video]), account())
    assert result.ok, result.error
    assert form(create.calls.last.request) == {
        "video_url": "https://dinkes.example.go.id/media/senam.mp4",
        "media_type": "REELS",
        "caption": "Senam pagi",
    }


async def test_the_documented_error_sample_keeps_message_code_subcode_and_trace(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes
    (the sample response, code 36000 / subcode 2207004)."""
    sample = {
        "error": {
            "message": "The image size is too large.",
            "type": "OAuthException",
            "code": 36000,
            "error_subcode": 2207004,
            "is_transient": False,
            "error_user_title": "Image size too large",
            "error_user_msg": "The image is too large to download. It should be less than 8 MiB.",
            "fbtrace_id": "A6LJylpZRKw2xKLFsAP-cJh",
        }
    }
    mock.post(f"{BASE}/{USER}/media").respond(400, json=sample)
    async with client() as c:
        result = await c.publish_one(Post("x", media=[Media(url=IMAGE)]), account())
    error = result.error
    assert isinstance(error, InstagramError)
    assert (error.status, error.code, error.subcode, error.fbtrace_id) == (
        400,
        36000,
        2207004,
        "A6LJylpZRKw2xKLFsAP-cJh",
    )
    assert "The image size is too large." in str(error)
    assert "less than 8 MiB" in str(error)
    assert error.hint is not None and "8 MiB" in error.hint


async def test_the_publishing_limit_reads_content_publishing_limit_once(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/content_publishing_limit
    (sample {"data": [{"quota_usage": 2, "config": {"quota_total": 50, "quota_duration":
    86400}}]}) and error code 9 / subcode 2207042 from the error codes reference."""
    mock.post(f"{BASE}/{USER}/media").respond(json={"id": "17889455560051444"})
    mock.get(f"{BASE}/17889455560051444").respond(json={"status_code": "FINISHED"})
    publish = mock.post(f"{BASE}/{USER}/media_publish").respond(
        400,
        json={
            "error": {
                "message": "Application request limit reached",
                "type": "OAuthException",
                "code": 9,
                "error_subcode": 2207042,
                "error_user_msg": "You reached maximum number of posts that is allowed to be "
                "published by Content Publishing API.",
                "fbtrace_id": "AKz",
            }
        },
    )
    quota = mock.get(f"{BASE}/{USER}/content_publishing_limit").respond(
        json={"data": [{"quota_usage": 50, "config": {"quota_total": 50, "quota_duration": 86400}}]}
    )
    async with client() as c:
        result = await c.publish_one(Post("x", media=[Media(url=IMAGE)]), account())
    assert isinstance(result.error, RateLimited)
    assert "50 of 50 posts used in the last 24 h" in str(result.error)
    assert publish.call_count == 1, "a 24-hour limit is not retried within the call"
    assert quota.calls.last.request.url.params["fields"] == "quota_usage,config"


async def test_token_error_190_is_an_authentication_error_with_the_next_step(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/graph-api/guides/error-handling (code 190, subcode
    463: the access token has expired)."""
    mock.get(f"{BASE}/{USER}").respond(
        400,
        json={
            "error": {
                "message": "Error validating access token: Session has expired on Friday, "
                "09-Jan-2026 03:00:00 PST.",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 463,
                "fbtrace_id": "H2il2t5bn4e",
            }
        },
    )
    async with client() as c:
        with pytest.raises(AuthenticationError) as raised:
            await c.fetch_account_metrics(account())
    message = str(raised.value)
    assert "Session has expired" in message and "subcode 463" in message
    assert "it has expired" in message and "long-lived token" in message
    assert TOKEN not in message


# -- reading ------------------------------------------------------------------------------------


def ref(media_id: str = "17895695668004550") -> PostRef:
    return PostRef(platform="instagram", account=account(), id=media_id)


async def test_insights_are_read_from_the_documented_shape_and_mapped(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights
    (data[].name / period / values[].value); like_count and comments_count from IG Media."""
    insights = mock.get(f"{BASE}/17895695668004550/insights").respond(
        json={
            "data": [
                {
                    "name": name,
                    "period": "lifetime",
                    "values": [{"value": value}],
                    "title": name.title(),
                    "description": "",
                    "id": f"17895695668004550/insights/{name}/lifetime",
                }
                for name, value in [
                    ("views", 120),
                    ("reach", 98),
                    ("likes", 14),
                    ("comments", 3),
                    ("shares", 2),
                    ("saved", 5),
                    ("total_interactions", 24),
                ]
            ]
        }
    )
    mock.get(f"{BASE}/17895695668004550").respond(
        json={"like_count": 14, "comments_count": 3, "id": "17895695668004550"}
    )
    async with client() as c:
        [metrics] = await c.fetch_metrics([ref()])
    assert insights.calls.last.request.url.params["metric"] == (
        "views,reach,likes,comments,shares,saved,total_interactions"
    )
    assert (metrics.views, metrics.reach, metrics.likes, metrics.replies) == (120, 98, 14, 3)
    assert (metrics.reposts, metrics.bookmarks) == (2, 5)
    assert metrics.quotes is None and metrics.clicks is None
    assert metrics.raw["insights.total_interactions"] == 24


async def test_missing_insights_stay_none_and_an_unsupported_metric_does_not_empty_the_rest(
    mock: respx.MockRouter,
) -> None:
    """Insights reference: "If insights data you are requesting does not exist or is currently
    unavailable, the API returns an empty data set instead of 0"; an unsupported metric fails
    the whole request with code 100, so the others are asked one by one."""

    def answer(request: httpx.Request) -> httpx.Response:
        metric = request.url.params["metric"]
        if "," in metric or metric == "shares":
            return httpx.Response(
                400,
                json={
                    "error": {
                        "message": "(#100) The Media Insights API does not support the "
                        "shares metric for this media product type.",
                        "type": "OAuthException",
                        "code": 100,
                        "fbtrace_id": "B1",
                    }
                },
            )
        if metric == "views":
            return httpx.Response(200, json={"data": []})  # no data yet
        return httpx.Response(
            200, json={"data": [{"name": metric, "period": "lifetime", "values": [{"value": 7}]}]}
        )

    mock.get(f"{BASE}/17895695668004550/insights").mock(side_effect=answer)
    mock.get(f"{BASE}/17895695668004550").respond(json={"like_count": 9, "comments_count": 0})
    async with client() as c:
        [metrics] = await c.fetch_metrics([ref()])
    assert metrics.views is None, "no data is None, never 0"
    assert metrics.reposts is None
    assert metrics.reach == 7 and metrics.bookmarks == 7 and metrics.likes == 7


async def test_account_metrics_from_the_ig_user_fields(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user
    (followers_count, follows_count, media_count)."""
    route = mock.get(f"{BASE}/{USER}").respond(
        json={"followers_count": 267788, "follows_count": 1, "media_count": 1205, "id": USER}
    )
    async with client() as c:
        metrics = await c.fetch_account_metrics(account())
    assert (metrics.followers, metrics.following, metrics.posts) == (267788, 1, 1205)
    assert (
        route.calls.last.request.url.params["fields"] == "followers_count,follows_count,media_count"
    )


async def test_comments_and_their_replies_from_the_comment_moderation_example(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/instagram-api/guides/comment-moderation (GET
    /{ig-media-id}/comments sample) and .../reference/ig-comment/replies."""
    mock.get(f"{BASE}/17895695668004550/comments").respond(
        json={
            "data": [
                {
                    "timestamp": "2017-08-31T19:16:02+0000",
                    "text": "This is awesome!",
                    "id": "17870913679156914",
                    "username": "warga.a",
                },
                {
                    "timestamp": "2017-08-31T18:10:30+0000",
                    "text": "I love this!",
                    "id": "17873440459141021",
                    "username": "warga.b",
                },
            ]
        }
    )
    mock.get(f"{BASE}/17870913679156914/replies").respond(
        json={
            "data": [
                {
                    "timestamp": "2017-08-31T20:00:00+0000",
                    "text": "*sniff*",
                    "id": "17873440459141099",
                    "username": "dinkes.kota",
                }
            ]
        }
    )
    mock.get(f"{BASE}/17873440459141021/replies").respond(json={"data": []})
    async with client() as c:
        found = await c.fetch_replies(ref())
    assert [i.text for i in found] == ["I love this!", "This is awesome!", "*sniff*"]
    assert [i.in_reply_to_id for i in found] == [
        "17895695668004550",
        "17895695668004550",
        "17870913679156914",
    ]
    assert found[2].ref.extra == {
        "kind": "comment",
        "media_id": "17895695668004550",
        "parent_id": "17870913679156914",
    }


async def test_replying_to_a_post_and_to_a_comment(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
    (POST message) and .../ig-comment/replies (sample POST
    /17870913679156914/replies?message=*sniff* -> {"id": "17873440459141021"})."""
    on_post = mock.post(f"{BASE}/17895695668004550/comments").respond(
        json={"id": "17870913679156914"}
    )
    on_comment = mock.post(f"{BASE}/17870913679156914/replies").respond(
        json={"id": "17873440459141021"}
    )
    async with client() as c:
        comment = await c.reply(ref(), "Terima kasih!")
        answer = await c.reply(comment, "*sniff*")
    assert form(on_post.calls.last.request) == {"message": "Terima kasih!"}
    assert form(on_comment.calls.last.request) == {"message": "*sniff*"}
    assert answer.id == "17873440459141021"
    assert answer.extra["parent_id"] == "17870913679156914"


async def test_mentions_are_the_posts_the_account_is_tagged_in(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/graph-api/reference/shadow-ig-user/tags/ ("media that
    they are tagged in"), following paging.next."""
    first = mock.get(
        f"{BASE}/{USER}/tags", params={"fields": "id,caption,timestamp,username,permalink"}
    )
    first.respond(
        json={
            "data": [
                {
                    "id": "18038",
                    "caption": "Bersama @dinkes.kota",
                    "username": "warga.a",
                    "timestamp": "2026-03-02T10:00:00+0000",
                    "permalink": "https://instagram.com/p/a/",
                }
            ],
            "paging": {
                "cursors": {"after": "QVFI"},
                "next": f"{BASE}/{USER}/tags?after=QVFI&access_token={TOKEN}",
            },
        }
    )
    second = mock.get(f"{BASE}/{USER}/tags", params={"after": "QVFI"}).respond(
        json={
            "data": [
                {
                    "id": "18001",
                    "caption": "Lama",
                    "username": "warga.b",
                    "timestamp": "2026-01-02T10:00:00+0000",
                }
            ]
        }
    )
    async with client() as c:
        found = await c.fetch_mentions(account())
    assert [(i.kind, i.author, i.ref.id) for i in found] == [
        ("mention", "warga.b", "18001"),
        ("mention", "warga.a", "18038"),
    ]
    assert "access_token" not in str(second.calls.last.request.url), "the token stays in a header"


async def test_delete_of_a_post_and_of_a_comment_send_delete_to_the_node(
    mock: respx.MockRouter,
) -> None:
    """IG Media: DELETE /{ig-media-id} (``IGMedia.api_delete`` in Meta's facebook-business
    SDK 26.0, permission instagram_manage_contents); IG Comment: DELETE /{ig-comment-id}."""
    post = mock.delete(f"{BASE}/17895695668004550").respond(json={"success": True})
    deleted = mock.delete(f"{BASE}/17873440459141021").respond(json={"success": True})
    comment = PostRef(
        platform="instagram",
        account=account(),
        id="17873440459141021",
        extra={"kind": "comment", "media_id": "17895695668004550"},
    )
    async with client() as c:
        await c.delete(ref())
        await c.delete(comment)
    assert post.call_count == 1
    assert deleted.call_count == 1


async def test_a_delete_without_instagram_manage_contents_says_which_permission(
    mock: respx.MockRouter,
) -> None:
    mock.delete(f"{BASE}/17895695668004550").respond(
        400,
        json={
            "error": {
                "message": "(#10) Application does not have permission for this action",
                "type": "OAuthException",
                "code": 10,
                "fbtrace_id": "AbC",
            }
        },
    )
    async with client() as c:
        with pytest.raises(PlatformError) as raised:
            await c.delete(ref())
    assert "Application does not have permission" in str(raised.value)
    assert "instagram_manage_contents" in (raised.value.hint or "")
    assert "Instagram app" in (raised.value.hint or "")
