"""Request and response shapes, against respx stand-ins built from Meta's documented examples.

Each test names the developers.facebook.com page its fake answers follow. The client uses
httpx's own transport so respx (``using="httpx"``) sees every request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as email_policy
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from govsocial import Account, AsyncClient, Interaction, Media, Post, PostRef
from govsocial.core.errors import AuthenticationError, PlatformError, RateLimited
from govsocial.testing import tiny_png
from govsocial_facebook import Facebook
from govsocial_facebook.meta import GraphPlatformError

pytestmark = pytest.mark.anyio

GRAPH = f"https://graph.facebook.com/{Facebook.api_version}"
PAGE = "104000000000001"
TOKEN = "EAAGfakeRespxToken9876543210"


def account() -> Account:
    return Account(
        platform="facebook",
        handle="humas.kota",
        credentials={"page_id": PAGE, "page_access_token": TOKEN},
    )


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router


def client(**kwargs: Any) -> AsyncClient:
    return AsyncClient(transport=httpx.AsyncHTTPTransport(), **kwargs)


def form(request: httpx.Request) -> dict[str, str]:
    """The fields of a form-encoded or multipart request (file parts as their filename)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=email_policy).parsebytes(head + request.content)
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        filename = part.get_filename()
        fields[name] = f"<file {filename}>" if filename else part.get_content().strip()
    return fields


def assert_token_in_header_only(request: httpx.Request) -> None:
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(request.url)
    assert TOKEN.encode() not in request.content


def graph_error(message: str, code: int, subcode: int | None = None) -> dict[str, Any]:
    """Shaped like https://developers.facebook.com/docs/graph-api/guides/error-handling ."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "EJplcsCHuLu"
    return {"error": error}


# -- publishing -----------------------------------------------------------------------------


async def test_text_post_goes_to_the_page_feed(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/pages-api/posts : POST /page_id/feed with message,
    answer ``{"id": "page_post_id"}``."""
    feed = mock.post(f"{GRAPH}/{PAGE}/feed").respond(json={"id": f"{PAGE}_555000111"})
    async with client() as c:
        result = await c.publish_one(Post("Jadwal vaksinasi hari ini"), account())
    assert result.ok, result.error
    assert result.ref is not None
    assert result.ref.id == f"{PAGE}_555000111"
    assert result.ref.url == f"https://www.facebook.com/{PAGE}/posts/555000111"
    request = feed.calls.last.request
    assert form(request) == {"message": "Jadwal vaksinasi hari ini"}
    assert_token_in_header_only(request)


async def test_photo_by_url_sends_caption_and_alt_text(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/graph-api/reference/page/photos : url, caption,
    answer ``{"id": photo-id, "post_id": page-post-id}``; alt_text_custom is a creation
    parameter on https://developers.facebook.com/docs/graph-api/reference/photo/ ."""
    photos = mock.post(f"{GRAPH}/{PAGE}/photos").respond(
        json={"id": "998877", "post_id": f"{PAGE}_555000222"}
    )
    picture = Media(url="https://cdn.example.go.id/peta.png", alt_text="Peta lokasi vaksinasi")
    async with client() as c:
        result = await c.publish_one(Post("Lokasi vaksinasi", media=[picture]), account())
    assert result.ok, result.error
    assert result.ref is not None
    assert (result.ref.id, result.ref.extra) == (f"{PAGE}_555000222", {"photo_id": "998877"})
    assert form(photos.calls.last.request) == {
        "caption": "Lokasi vaksinasi",
        "alt_text_custom": "Peta lokasi vaksinasi",
        "url": "https://cdn.example.go.id/peta.png",
    }


async def test_photo_from_bytes_is_a_multipart_source_upload(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/graph-api/photo-uploads : "Provide a file with the
    POST request" (multipart ``source``)."""
    photos = mock.post(f"{GRAPH}/{PAGE}/photos").respond(
        json={"id": "998878", "post_id": f"{PAGE}_555000223"}
    )
    picture = Media(data=tiny_png(), alt_text="Logo dinas")
    async with client() as c:
        result = await c.publish_one(Post("Logo baru", media=[picture]), account())
    assert result.ok, result.error
    request = photos.calls.last.request
    assert form(request) == {
        "caption": "Logo baru",
        "alt_text_custom": "Logo dinas",
        "source": "<file photo0.png>",
    }
    assert tiny_png() in request.content
    assert_token_in_header_only(request)


async def test_multi_photo_uploads_unpublished_then_attaches_them(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/graph-api/reference/page/photos ("Publishing a
    multi-photo post"): each photo with published=false, then /feed with
    ``attached_media[n]={"media_fbid": ...}``. After a failed /feed, a new attempt of the same
    delivery reuses the uploaded photos (checkpoint) instead of uploading them again."""
    photos = mock.post(f"{GRAPH}/{PAGE}/photos").mock(
        side_effect=[httpx.Response(200, json={"id": "71"}), httpx.Response(200, json={"id": "72"})]
    )
    feed = mock.post(f"{GRAPH}/{PAGE}/feed").mock(
        side_effect=[
            httpx.Response(500, json=graph_error("An unexpected error has occurred.", 1)),
            httpx.Response(200, json={"id": f"{PAGE}_555000333"}),
        ]
    )
    post = Post(
        "Dua foto",
        media=[
            Media(url="https://cdn.example.go.id/a.jpg", alt_text="Antrean pagi"),
            Media(url="https://cdn.example.go.id/b.jpg", alt_text="Ruang tunggu"),
        ],
    )
    async with client() as c:
        first = await c.publish_one(post, account(), idempotency_key="delivery-7")
        second = await c.publish_one(post, account(), idempotency_key="delivery-7")
    assert isinstance(first.error, PlatformError)
    assert second.ok, second.error
    assert photos.call_count == 2  # not four: the second attempt reused the uploads
    uploads = [form(call.request) for call in photos.calls]
    assert uploads == [
        {
            "published": "false",
            "alt_text_custom": "Antrean pagi",
            "url": "https://cdn.example.go.id/a.jpg",
        },
        {
            "published": "false",
            "alt_text_custom": "Ruang tunggu",
            "url": "https://cdn.example.go.id/b.jpg",
        },
    ]
    sent = [form(call.request) for call in feed.calls]
    assert (
        sent[0]
        == sent[1]
        == {
            "message": "Dua foto",
            "attached_media[0]": '{"media_fbid": "71"}',
            "attached_media[1]": '{"media_fbid": "72"}',
        }
    )


async def test_replies_are_comments_on_the_post_or_on_the_comment(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/graph-api/reference/object/comments : POST
    /{object-id}/comments with message, answer ``{"id": comment-id}``."""
    on_post = mock.post(f"{GRAPH}/{PAGE}_555000111/comments").respond(json={"id": "555000111_9001"})
    on_comment = mock.post(f"{GRAPH}/555000111_9001/comments").respond(
        json={"id": "555000111_9002"}
    )
    parent = PostRef(platform="facebook", account=account(), id=f"{PAGE}_555000111")
    async with client() as c:
        first = await c.reply(parent, "Terima kasih atas pertanyaannya")
        comment = Interaction(
            kind="reply",
            ref=first,
            author="104000000000002",
            text="Buka hari Sabtu?",
            created_at=datetime.now(UTC),
        )
        second = await c.reply(comment, "Ya, buka pukul 08.00")
    assert (first.id, first.extra) == ("555000111_9001", {"kind": "comment", "parent": parent.id})
    assert second.id == "555000111_9002"
    assert form(on_post.calls.last.request) == {"message": "Terima kasih atas pertanyaannya"}
    assert form(on_comment.calls.last.request) == {"message": "Ya, buka pukul 08.00"}


async def test_delete(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/pages-api/posts ("Delete a post"): DELETE
    /page_post_id, answer ``{"success": true}``."""
    route = mock.delete(f"{GRAPH}/{PAGE}_555000111").respond(json={"success": True})
    ref = PostRef(platform="facebook", account=account(), id=f"{PAGE}_555000111")
    async with client() as c:
        await c.delete(ref)
    assert route.call_count == 1
    assert_token_in_header_only(route.calls.last.request)


async def test_delete_of_a_missing_post_says_so(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/graph-api/guides/error-handling : code 100,
    subcode 33 for an object that does not exist."""
    mock.delete(f"{GRAPH}/{PAGE}_1").respond(
        400,
        json=graph_error(
            "Unsupported delete request. Object with ID '104000000000001_1' does not exist",
            100,
            33,
        ),
    )
    ref = PostRef(platform="facebook", account=account(), id=f"{PAGE}_1")
    async with client() as c:
        with pytest.raises(PlatformError, match="has no post") as caught:
            await c.delete(ref)
    assert caught.value.hint is not None and "deleted already" in caught.value.hint


# -- reading --------------------------------------------------------------------------------


def post_counts(reactions: int, comments: int, shares: int | None) -> dict[str, Any]:
    """A Page post read with summaries, shaped like
    https://developers.facebook.com/docs/graph-api/reference/post/reactions/ and
    https://developers.facebook.com/docs/graph-api/reference/object/comments/ (summary)."""
    body: dict[str, Any] = {
        "reactions": {"data": [], "summary": {"total_count": reactions, "viewer_reaction": "NONE"}},
        "comments": {
            "data": [],
            "summary": {"order": "ranked", "total_count": comments, "can_comment": True},
        },
    }
    if shares is not None:
        body["shares"] = {"count": shares}
    return body


def insights(**values: int) -> dict[str, Any]:
    """Shaped like the Reading answer of
    https://developers.facebook.com/docs/graph-api/reference/insights ."""
    return {
        "data": [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": value}],
                "title": name,
                "description": name,
                "id": f"x/insights/{name}/lifetime",
            }
            for name, value in values.items()
        ]
    }


async def test_metrics_batch_the_counts_and_map_the_vocabulary(mock: respx.MockRouter) -> None:
    """Counts of several posts in one ``?ids=`` lookup
    (https://developers.facebook.com/docs/graph-api/overview, "multiple ID read requests"),
    insights per post. Absent ``shares`` stays None, never 0."""
    a, b = f"{PAGE}_1", f"{PAGE}_2"
    lookup = mock.get(f"{GRAPH}/").respond(
        json={a: {"id": a, **post_counts(12, 4, 3)}, b: {"id": b, **post_counts(0, 0, None)}}
    )
    mock.get(f"{GRAPH}/{a}/insights").respond(
        json=insights(post_media_view=900, post_total_media_view_unique=700, post_clicks=40)
    )
    mock.get(f"{GRAPH}/{b}/insights").respond(
        json=insights(post_media_view=10, post_total_media_view_unique=8, post_clicks=0)
    )
    refs = [PostRef(platform="facebook", account=account(), id=i) for i in (a, b)]
    async with client() as c:
        first, second = await c.fetch_metrics(refs)
    assert lookup.call_count == 1
    params = lookup.calls.last.request.url.params
    assert params["ids"] == f"{a},{b}"
    assert "reactions" in params["fields"] and "filter(stream)" in params["fields"]
    assert (first.views, first.reach, first.likes, first.reposts, first.replies, first.clicks) == (
        900,
        700,
        12,
        3,
        4,
        40,
    )
    assert (second.likes, second.replies, second.reposts, second.clicks) == (0, 0, None, 0)
    assert first.quotes is None and first.bookmarks is None


async def test_a_removed_insights_metric_does_not_empty_the_answer(mock: respx.MockRouter) -> None:
    """A removed metric fails the whole insights request with code 100 "The value must be a
    valid insights metric" (https://developers.facebook.com/docs/platforminsights/page/deprecated-metrics:
    "the API will return an invalid metric error"); the adapter then asks one metric at a time,
    keeps the others, and does not ask for the refused one again."""
    post_id = f"{PAGE}_1"
    mock.get(f"{GRAPH}/").respond(json={post_id: {"id": post_id, **post_counts(5, 2, 1)}})
    invalid = graph_error("(#100) The value must be a valid insights metric", 100)

    def answer(request: httpx.Request) -> httpx.Response:
        metrics = request.url.params["metric"].split(",")
        if "post_media_view" in metrics:
            return httpx.Response(400, json=invalid)
        values = {"post_total_media_view_unique": 321, "post_clicks": 9}
        return httpx.Response(200, json=insights(**{m: values[m] for m in metrics}))

    route = mock.get(f"{GRAPH}/{post_id}/insights").mock(side_effect=answer)
    ref = PostRef(platform="facebook", account=account(), id=post_id)
    async with client() as c:
        [metrics] = await c.fetch_metrics([ref])
        asked_first = [call.request.url.params["metric"] for call in route.calls]
        [again] = await c.fetch_metrics([ref])
    assert asked_first == [
        "post_media_view,post_total_media_view_unique,post_clicks",
        "post_media_view",
        "post_total_media_view_unique",
        "post_clicks",
    ]
    assert (metrics.views, metrics.reach, metrics.clicks) == (None, 321, 9)
    assert (metrics.likes, metrics.replies, metrics.reposts) == (5, 2, 1)
    assert metrics.raw["insights_refused"] == ["post_media_view"]
    assert (
        route.calls.last.request.url.params["metric"] == "post_total_media_view_unique,post_clicks"
    )
    assert (again.views, again.reach) == (None, 321)


async def test_insights_without_permission_keep_the_counts(mock: respx.MockRouter) -> None:
    """Code 10 / 200 permission errors (error-handling guide) on insights leave views, reach
    and clicks unknown but keep the counts."""
    post_id = f"{PAGE}_1"
    mock.get(f"{GRAPH}/").respond(json={post_id: {"id": post_id, **post_counts(5, 2, 1)}})
    mock.get(f"{GRAPH}/{post_id}/insights").respond(
        400, json=graph_error("(#10) This endpoint requires the 'read_insights' permission", 10)
    )
    ref = PostRef(platform="facebook", account=account(), id=post_id)
    async with client() as c:
        [metrics] = await c.fetch_metrics([ref])
    assert (metrics.views, metrics.reach, metrics.clicks, metrics.likes) == (None, None, None, 5)
    assert "read_insights" in metrics.raw["insights_error"]


async def test_account_metrics(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/graph-api/reference/page : followers_count and
    fan_count fields."""
    route = mock.get(f"{GRAPH}/{PAGE}").respond(
        json={"followers_count": 15230, "fan_count": 14980, "id": PAGE}
    )
    async with client() as c:
        metrics = await c.fetch_account_metrics(account())
    assert route.calls.last.request.url.params["fields"] == "followers_count,fan_count"
    assert (metrics.followers, metrics.following, metrics.posts) == (15230, None, None)
    assert metrics.raw == {"followers_count": 15230, "fan_count": 14980}


def comment(cid: str, text: str, when: str, parent: str | None = None) -> dict[str, Any]:
    """A Comment shaped like https://developers.facebook.com/docs/graph-api/reference/comment ."""
    body: dict[str, Any] = {
        "id": cid,
        "message": text,
        "from": {"id": "104000000000002", "name": "Warga Peduli"},
        "created_time": when,
        "permalink_url": f"https://www.facebook.com/x?comment_id={cid}",
    }
    if parent:
        body["parent"] = {"id": parent}
    return body


async def test_replies_read_the_whole_thread_by_cursor(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/graph-api/reference/object/comments : filter=stream,
    order=chronological; paging by cursors
    (https://developers.facebook.com/docs/graph-api/results). The ``next`` link carries an
    access_token, so the adapter follows the ``after`` cursor with its own request instead."""
    post_id = f"{PAGE}_1"
    route = mock.get(f"{GRAPH}/{post_id}/comments").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": [comment("1_11", "Buka Sabtu?", "2026-08-01T08:00:01+0000")],
                    "paging": {
                        "cursors": {"before": "QVFIUmJ", "after": "QVFIUk1"},
                        "next": f"{GRAPH}/{post_id}/comments?access_token=LEAKED&after=QVFIUk1",
                    },
                },
            ),
            httpx.Response(
                200,
                json={
                    "data": [
                        comment("1_12", "Saya juga ingin tahu", "2026-08-01T08:00:02+0000", "1_11")
                    ],
                    "paging": {"cursors": {"before": "QVFIUk2", "after": "QVFIUk3"}},
                },
            ),
        ]
    )
    ref = PostRef(platform="facebook", account=account(), id=post_id)
    async with client() as c:
        found = await c.fetch_replies(ref)
    assert [(i.text, i.in_reply_to_id, i.kind) for i in found] == [
        ("Buka Sabtu?", post_id, "reply"),
        ("Saya juga ingin tahu", "1_11", "reply"),
    ]
    assert found[0].author == "104000000000002" and found[0].author_name == "Warga Peduli"
    second = route.calls[1].request
    assert second.url.params["after"] == "QVFIUk1"
    assert second.url.params["filter"] == "stream"
    assert "access_token" not in second.url.params


async def test_mentions_are_the_tagged_posts(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/graph-api/reference/page/tagged : "All public posts
    in which the page has been tagged"; ``since`` as a Unix time."""
    route = mock.get(f"{GRAPH}/{PAGE}/tagged").respond(
        json={
            "data": [
                {
                    "id": "104000000000002_77",
                    "message": "Humas Kota Contoh mohon info jadwal",
                    "from": {"id": "104000000000002", "name": "Warga Peduli"},
                    "created_time": "2026-08-02T10:00:00+0000",
                },
                {
                    "id": "104000000000002_70",
                    "message": "lama",
                    "created_time": "2026-07-01T10:00:00+0000",
                },
            ]
        }
    )
    since = datetime(2026, 8, 1, tzinfo=UTC)
    async with client() as c:
        found = await c.fetch_mentions(account(), since=since)
    assert [(m.kind, m.text, m.author) for m in found] == [
        ("mention", "Humas Kota Contoh mohon info jadwal", "104000000000002")
    ]
    assert route.calls.last.request.url.params["since"] == str(int(since.timestamp()))


# -- errors ---------------------------------------------------------------------------------


async def test_graph_errors_keep_message_code_subcode_and_trace_id(mock: respx.MockRouter) -> None:
    """https://developers.facebook.com/docs/graph-api/guides/error-handling : code 506
    duplicate post."""
    mock.post(f"{GRAPH}/{PAGE}/feed").respond(
        400, json=graph_error("(#506) Duplicate status message", 506)
    )
    async with client() as c:
        result = await c.publish_one(Post("Sama lagi"), account())
    error = result.error
    assert isinstance(error, GraphPlatformError)
    assert error.graph is not None and (error.graph.code, error.graph.fbtrace_id) == (
        506,
        "EJplcsCHuLu",
    )
    assert "(#506) Duplicate status message (code 506, fbtrace_id EJplcsCHuLu)" in str(error)
    assert error.hint is not None and "twice" in error.hint


@pytest.mark.parametrize(
    ("subcode", "words"),
    [(463, "long-lived"), (460, "password"), (458, "removed the app"), (None, "invalid, expired")],
)
async def test_token_errors_say_what_to_do(
    mock: respx.MockRouter, subcode: int | None, words: str
) -> None:
    """https://developers.facebook.com/docs/graph-api/guides/error-handling : code 190 with
    subcodes 463 (expired), 460 (password changed), 458 (app not installed)."""
    mock.post(f"{GRAPH}/{PAGE}/feed").respond(
        400, json=graph_error(f"Error validating access token: {TOKEN} is bad", 190, subcode)
    )
    async with client() as c:
        result = await c.publish_one(Post("Halo"), account())
    assert isinstance(result.error, AuthenticationError)
    assert words in str(result.error)
    assert TOKEN not in str(result.error) and TOKEN not in repr(result)


async def test_usage_headers_feed_the_budget_and_a_spent_budget_waits_for_nobody(
    mock: respx.MockRouter,
) -> None:
    """https://developers.facebook.com/docs/graph-api/overview/rate-limiting : X-App-Usage
    percentages and X-Business-Use-Case-Usage with estimated_time_to_regain_access (minutes).
    At 100 % with 10 minutes to go, the next call is not sent: RateLimited with the wait."""
    usage = {
        "X-App-Usage": json.dumps({"call_count": 28, "total_time": 25, "total_cputime": 25}),
        "X-Business-Use-Case-Usage": json.dumps(
            {
                PAGE: [
                    {
                        "type": "pages",
                        "call_count": 100,
                        "total_cputime": 40,
                        "total_time": 35,
                        "estimated_time_to_regain_access": 10,
                    }
                ]
            }
        ),
    }
    route = mock.get(f"{GRAPH}/{PAGE}").respond(
        json={"followers_count": 1, "fan_count": 1, "id": PAGE}, headers=usage
    )
    async with client(max_wait=5.0) as c:
        await c.fetch_account_metrics(account())
        state = c.http.budget.get(account().key)
        assert state is not None and (state.limit, state.remaining) == (100, 0)
        with pytest.raises(RateLimited) as caught:
            await c.fetch_account_metrics(account())
    assert route.call_count == 1
    assert caught.value.retry_after is not None and 590 < caught.value.retry_after <= 600
