"""Request and response shapes, against respx stand-ins built from Meta's documented examples.

Each test names the developers.facebook.com page whose example its fake answers copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from govsocial import Account, AsyncClient, Media, Post, PostRef
from govsocial.core.errors import AuthenticationError, PlatformError, RateLimited
from govsocial_threads import Threads

pytestmark = pytest.mark.anyio

BASE = "https://graph.threads.net"
API = f"{BASE}/v1.0"
USER = "17841405822304914"
TOKEN = "THAAfakeTokenForTests0123456789"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router


def account(**credentials: str) -> Account:
    return Account(
        platform="threads",
        handle="@dinaskominfo",
        credentials={"user_id": USER, "access_token": TOKEN, **credentials},
    )


def client(**options: Any) -> AsyncClient:
    return AsyncClient(transport=httpx.AsyncHTTPTransport(), max_wait=2.0, **options)


def form(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


def ready(mock: respx.MockRouter, container: str = "1234567") -> respx.Route:
    """https://developers.facebook.com/docs/threads/troubleshooting : status FINISHED."""
    return mock.get(f"{API}/{container}").respond(json={"status": "FINISHED", "id": container})


async def test_a_text_post_is_a_container_then_a_publish_with_the_token_out_of_the_url(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/threads/posts : step 1 answers
    ``{"id": "1234567"}`` (the container), step 2 ``{"id": "1234567"}`` (the media id)."""
    create = mock.post(f"{API}/{USER}/threads").respond(json={"id": "1234567"})
    status = mock.get(f"{API}/1234567", params={"fields": "id,status,error_message"}).respond(
        json={"status": "FINISHED", "id": "1234567"}
    )
    publish = mock.post(f"{API}/{USER}/threads_publish").respond(json={"id": "7654321"})
    mock.get(f"{API}/7654321").respond(
        json={"permalink": "https://www.threads.net/@dinaskominfo/post/abc", "id": "7654321"}
    )
    async with client() as c:
        result = await c.publish_one(Post("Jadwal vaksinasi 😀"), account())
    assert result.ok, result.error
    assert result.ref is not None
    assert result.ref.id == "7654321"
    assert result.ref.url == "https://www.threads.net/@dinaskominfo/post/abc"
    assert form(create.calls.last.request) == {
        "media_type": "TEXT",
        "text": "Jadwal vaksinasi 😀",
        "access_token": TOKEN,
    }
    assert status.called
    assert form(publish.calls.last.request) == {"creation_id": "1234567", "access_token": TOKEN}
    for call in (create.calls.last, publish.calls.last):
        assert TOKEN not in str(call.request.url)


async def test_an_image_goes_by_public_url_with_its_alt_text(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/threads/posts/accessibility : ``alt_text`` on an
    IMAGE container (example "Photograph of Bronze Fonz Statue")."""
    create = mock.post(f"{API}/{USER}/threads").respond(json={"id": "1234567"})
    ready(mock)
    mock.post(f"{API}/{USER}/threads_publish").respond(json={"id": "7654321"})
    mock.get(f"{API}/7654321").respond(json={"id": "7654321"})
    image = Media(
        url="https://www.example.com/images/bronz-fonz.jpg",
        alt_text="Photograph of Bronze Fonz Statue",
    )
    async with client() as c:
        result = await c.publish_one(Post("BronzFonz", media=[image]), account())
    assert result.ok, result.error
    assert form(create.calls.last.request) == {
        "media_type": "IMAGE",
        "image_url": "https://www.example.com/images/bronz-fonz.jpg",
        "alt_text": "Photograph of Bronze Fonz Statue",
        "text": "BronzFonz",
        "access_token": TOKEN,
    }


async def test_a_carousel_makes_item_containers_then_a_carousel_container(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/threads/posts#carousel-posts : items with
    ``is_carousel_item=true``, then ``media_type=CAROUSEL`` with ``children`` (comma list)."""
    ids = iter(["111", "222", "333"])
    create = mock.post(f"{API}/{USER}/threads").mock(
        side_effect=lambda request: httpx.Response(200, json={"id": next(ids)})
    )
    for container in ("111", "222", "333"):
        ready(mock, container)
    mock.post(f"{API}/{USER}/threads_publish").respond(json={"id": "999"})
    mock.get(f"{API}/999").respond(json={"id": "999"})
    media = [
        Media(url="https://cdn.example.go.id/a.jpg", alt_text="Peta"),
        Media(url="https://cdn.example.go.id/b.png", alt_text="Jadwal"),
    ]
    async with client() as c:
        result = await c.publish_one(Post("Dua gambar", media=media), account())
    assert result.ok, result.error
    sent = [form(call.request) for call in create.calls]
    assert [s.get("is_carousel_item") for s in sent] == ["true", "true", None]
    assert [s.get("alt_text") for s in sent[:2]] == ["Peta", "Jadwal"]
    assert sent[2]["media_type"] == "CAROUSEL"
    assert sent[2]["children"] == "111,222"
    assert sent[2]["text"] == "Dua gambar"


async def test_a_reply_carries_reply_to_id(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/threads/reference/publishing : ``reply_to_id``."""
    create = mock.post(f"{API}/{USER}/threads").respond(json={"id": "1234567"})
    ready(mock)
    mock.post(f"{API}/{USER}/threads_publish").respond(json={"id": "7654321"})
    mock.get(f"{API}/7654321").respond(json={"id": "7654321"})
    parent = PostRef(platform="threads", account=account(), id="18050206876707110")
    async with client() as c:
        await c.reply(parent, "Terima kasih")
    assert form(create.calls.last.request)["reply_to_id"] == "18050206876707110"


async def test_a_container_in_error_stops_with_meta_s_reason(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/threads/troubleshooting : the ERROR example."""
    mock.post(f"{API}/{USER}/threads").respond(json={"id": "17889615691921648"})
    mock.get(f"{API}/17889615691921648").respond(
        json={
            "status": "ERROR",
            "id": "17889615691921648",
            "error_message": "FAILED_DOWNLOADING_VIDEO",
        }
    )
    publish = mock.post(f"{API}/{USER}/threads_publish")
    video = Media(url="https://cdn.example.go.id/a.mp4", mime_type="video/mp4")
    async with client() as c:
        result = await c.publish_one(Post("Video", media=[video]), account())
    assert isinstance(result.error, PlatformError)
    assert "FAILED_DOWNLOADING_VIDEO" in str(result.error)
    assert not publish.called


async def test_insights_map_to_the_vocabulary_and_absent_metrics_are_none(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/threads/insights : the media insights example
    (likes 100, replies 10); metrics not in the answer stay None, never 0."""
    route = mock.get(f"{API}/7654321/insights").respond(
        json={
            "data": [
                {
                    "name": "likes",
                    "period": "lifetime",
                    "values": [{"value": 100}],
                    "title": "Likes",
                    "description": "The number of likes on your post.",
                    "id": "7654321/insights/likes/lifetime",
                },
                {
                    "name": "replies",
                    "period": "lifetime",
                    "values": [{"value": 10}],
                    "title": "Replies",
                    "description": "The number of replies on your post.",
                    "id": "7654321/insights/replies/lifetime",
                },
            ]
        }
    )
    ref = PostRef(platform="threads", account=account(), id="7654321")
    async with client() as c:
        [metrics] = await c.fetch_metrics([ref])
    assert (metrics.likes, metrics.replies) == (100, 10)
    assert metrics.views is None and metrics.reposts is None and metrics.quotes is None
    assert metrics.reach is None and metrics.bookmarks is None and metrics.clicks is None
    params = route.calls.last.request.url.params
    assert params["metric"] == "views,likes,replies,reposts,quotes,shares"


async def test_followers_come_from_threads_insights_total_value(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/threads/insights#user-insights : followers_count
    is a ``total_value``; views is a daily series (kept in raw)."""
    mock.get(f"{API}/{USER}/threads_insights").respond(
        json={
            "data": [
                {
                    "name": "views",
                    "period": "day",
                    "title": "views",
                    "description": "Number of times your profile was viewed.",
                    "values": [
                        {"value": 3, "end_time": "2024-03-26T07:00:00+0000"},
                        {"value": 5, "end_time": "2024-03-27T07:00:00+0000"},
                    ],
                    "id": f"{USER}/insights/views/day",
                },
                {
                    "name": "followers_count",
                    "period": "day",
                    "title": "followers_count",
                    "description": "This is your total number of followers on Threads.",
                    "total_value": {"value": 37},
                    "id": f"{USER}/insights/followers_count/day",
                },
            ]
        }
    )
    async with client() as c:
        metrics = await c.fetch_account_metrics(account())
    assert metrics.followers == 37
    assert metrics.following is None and metrics.posts is None
    assert metrics.raw["views"] == 8


async def test_publishing_quota_reads_the_documented_fields(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/threads/overview#posts (quota_usage 4 of 250 in
    86400 s) and the reply rate limits example (reply_quota_usage 1 of 1000)."""
    route = mock.get(f"{API}/{USER}/threads_publishing_limit").respond(
        json={
            "data": [
                {
                    "quota_usage": 4,
                    "config": {"quota_total": 250, "quota_duration": 86400},
                    "reply_quota_usage": 1,
                    "reply_config": {"quota_total": 1000, "quota_duration": 86400},
                }
            ]
        }
    )
    async with client() as c:
        adapter = c.adapter(account())
        assert isinstance(adapter, Threads)
        quota = await adapter.publishing_quota()
    assert (quota.posts_used, quota.posts_total, quota.window_seconds) == (4, 250, 86400)
    assert (quota.replies_used, quota.replies_total) == (1, 1000)
    fields = route.calls.last.request.url.params["fields"]
    assert fields == "quota_usage,config,reply_quota_usage,reply_config"


async def test_a_refused_publish_with_the_quota_spent_becomes_rate_limited(
    mock: respx.MockRouter,
) -> None:
    """The overview page: 250 posts per 24 h, enforced on threads_publish (the refusal's body
    is not documented; a Graph error shape is assumed)."""
    mock.post(f"{API}/{USER}/threads").respond(json={"id": "1234567"})
    ready(mock)
    mock.post(f"{API}/{USER}/threads_publish").respond(
        400, json={"error": {"message": "Application request limit reached", "code": 9}}
    )
    mock.get(f"{API}/{USER}/threads_publishing_limit").respond(
        json={"data": [{"quota_usage": 250, "config": {"quota_total": 250}}]}
    )
    async with client() as c:
        result = await c.publish_one(Post("Satu lagi"), account())
    assert isinstance(result.error, RateLimited)
    assert "250" in str(result.error)


async def test_delete_uses_the_documented_call(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/threads/posts/delete-posts : the example answer."""
    route = mock.delete(f"{API}/1234567").respond(json={"success": True, "deleted_id": "1234567"})
    async with client() as c:
        await c.delete(PostRef(platform="threads", account=account(), id="1234567"))
    assert route.calls.last.request.url.params["access_token"] == TOKEN


async def test_conversation_pages_follow_the_after_cursor(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/threads/retrieve-and-manage-replies : the
    conversation fields (replied_to, root_post); cursor paging as on
    https://developers.facebook.com/docs/threads/retrieve-and-discover-posts ."""
    first = {
        "data": [
            {
                "id": "2",
                "text": "Apakah buka Sabtu?",
                "username": "warga",
                "timestamp": "2024-07-10T18:55:46+0000",
                "replied_to": {"id": "1"},
                "root_post": {"id": "1"},
                "is_reply": True,
            }
        ],
        "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}},
    }
    second = {
        "data": [
            {
                "id": "3",
                "text": "Ya",
                "username": "dinaskominfo",
                "timestamp": "2024-07-10T19:00:00+0000",
                "replied_to": {"id": "2"},
                "root_post": {"id": "1"},
                "is_reply": True,
            }
        ],
        "paging": {"cursors": {"before": "QVFIUl"}},
    }
    route = mock.get(f"{API}/1/conversation").mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    async with client() as c:
        replies = await c.fetch_replies(PostRef(platform="threads", account=account(), id="1"))
    assert [(r.ref.id, r.in_reply_to_id, r.author) for r in replies] == [
        ("2", "1", "warga"),
        ("3", "2", "dinaskominfo"),
    ]
    assert route.calls[1].request.url.params["after"] == "QVFIUl"
    assert route.calls[0].request.url.params["reverse"] == "false"


async def test_mentions_read_the_documented_list(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/threads/retrieve-and-discover-posts : the mentions
    example (``{"data": [{"id", "username"}, ...]}``), plus text and timestamp fields."""
    mock.get(f"{API}/{USER}/mentions").respond(
        json={
            "data": [
                {
                    "id": "18038",
                    "username": "keldo",
                    "text": "@dinaskominfo halo",
                    "timestamp": "2024-07-10T18:55:46+0000",
                },
                {
                    "id": "17930",
                    "username": "ashla",
                    "text": "@dinaskominfo info?",
                    "timestamp": "2024-07-09T18:55:46+0000",
                },
            ]
        }
    )
    async with client() as c:
        mentions = await c.fetch_mentions(account())
    assert [(m.ref.id, m.author, m.kind) for m in mentions] == [
        ("17930", "ashla", "mention"),
        ("18038", "keldo", "mention"),
    ]


async def test_refresh_token_uses_the_documented_call_and_stores_the_new_token(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/threads/get-started/long-lived-tokens :
    ``GET /refresh_access_token?grant_type=th_refresh_token`` answers a new token with
    ``expires_in`` 5183944."""
    told: list[dict[str, str]] = []
    route = mock.get(f"{BASE}/refresh_access_token").respond(
        json={
            "access_token": "THAAnewLongLivedToken0987654321",
            "token_type": "bearer",
            "expires_in": 5183944,
        }
    )
    insights = mock.get(f"{API}/{USER}/threads_insights").respond(json={"data": []})
    async with client(on_credentials=lambda _account, values: told.append(values)) as c:
        adapter = c.adapter(account())
        assert isinstance(adapter, Threads)
        expires = await adapter.refresh_token()
        await c.fetch_account_metrics(account())
    params = route.calls.last.request.url.params
    assert (params["grant_type"], params["access_token"]) == ("th_refresh_token", TOKEN)
    assert told and told[0]["access_token"] == "THAAnewLongLivedToken0987654321"
    assert expires is not None
    assert timedelta(days=59) < expires - datetime.now(UTC) < timedelta(days=61)
    assert insights.calls.last.request.url.params["access_token"] == (
        "THAAnewLongLivedToken0987654321"
    )


async def test_a_graph_token_error_keeps_message_codes_and_trace_id(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/graph-api/guides/error-handling : the example
    error (code 190, subcode 460, fbtrace_id EJplcsCHuLu)."""
    mock.post(f"{API}/{USER}/threads").respond(
        400,
        json={
            "error": {
                "message": "Message describing the error",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 460,
                "error_user_title": "A title",
                "error_user_msg": "A message",
                "fbtrace_id": "EJplcsCHuLu",
            }
        },
    )
    refresh = mock.get(f"{BASE}/refresh_access_token")
    async with client() as c:
        result = await c.publish_one(Post("Halo"), account())
    assert isinstance(result.error, AuthenticationError)
    text = str(result.error)
    for part in ("Message describing the error", "code 190", "subcode 460", "EJplcsCHuLu"):
        assert part in text
    assert "password" in text  # what subcode 460 means
    assert not refresh.called  # a changed password is not fixed by a refresh
    assert TOKEN not in text


async def test_throttle_code_4_with_business_usage_is_rate_limited_with_the_wait(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/graph-api/overview/rate-limiting : code 4 with
    ``X-Business-Use-Case-Usage`` ``estimated_time_to_regain_access`` in minutes."""
    usage = (
        '{"' + USER + '": [{"type": "threads", "call_count": 100, "total_cputime": 20,'
        ' "total_time": 30, "estimated_time_to_regain_access": 10}]}'
    )
    route = mock.get(f"{API}/{USER}/threads_insights").respond(
        400,
        json={
            "error": {
                "message": "(#4) Application request limit reached",
                "code": 4,
                "type": "OAuthException",
                "fbtrace_id": "AbCd",
            }
        },
        headers={"X-Business-Use-Case-Usage": usage},
    )
    async with client() as c:
        with pytest.raises(RateLimited) as raised:
            await c.fetch_account_metrics(account())
    assert raised.value.retry_after == 600
    assert "Application request limit reached" in str(raised.value)
    assert route.call_count == 1  # ten minutes is beyond max_wait: no blind retry


def test_usage_headers_feed_the_rate_state() -> None:
    """X-App-Usage percentages (Graph rate-limiting page): 95 % used leaves 5 of 100."""
    response = httpx.Response(
        200, headers={"X-App-Usage": '{"call_count": 95, "total_time": 12, "total_cputime": 3}'}
    )
    state = Threads.rate_state(response)
    assert state is not None
    assert (state.limit, state.remaining, state.reset_at) == (100, 5, None)
    assert Threads.rate_state(httpx.Response(200)) is None
