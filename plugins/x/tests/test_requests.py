"""Request and answer shapes, against respx stand-ins built from docs.x.com examples.

Each test names the page its fake answers copy. The emulator-based suites check the same
traffic against the OpenAPI spec through Prism; these pin the exact requests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from govsocial import Account, AsyncClient, Media, Post, PostRef
from govsocial.core.errors import PlatformError, RateLimited
from govsocial.testing import tiny_png

pytestmark = pytest.mark.anyio

BASE = "https://api.x.com"
TOKEN = "dGVzdC1vbmx5LWZha2UtdG9rZW4tZm9yLXJlc3B4LTAwMDE"


def account(**extra: str) -> Account:
    return Account(platform="x", handle="@humas_kota", credentials={"access_token": TOKEN, **extra})


def client() -> AsyncClient:
    return AsyncClient(transport=httpx.AsyncHTTPTransport(), max_wait=5.0)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router


async def test_create_a_post_sends_text_with_the_user_token(mock: respx.MockRouter) -> None:
    """https://docs.x.com/x-api/posts/manage-tweets/quickstart : request {"text"} and the
    answer {"data": {"id": "1445880548472328192", "text": ...}}."""
    create = mock.post(f"{BASE}/2/tweets").respond(
        201, json={"data": {"id": "1445880548472328192", "text": "Hello from the X API!"}}
    )
    async with client() as c:
        result = await c.publish_one(Post("Hello from the X API!"), account())
    assert result.ok, result.error
    assert result.ref is not None
    assert result.ref.id == "1445880548472328192"
    assert result.ref.url == "https://x.com/i/web/status/1445880548472328192"
    [call] = create.calls
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(call.request.content) == {"text": "Hello from the X API!"}


async def test_a_reply_names_the_post_it_answers(mock: respx.MockRouter) -> None:
    """https://docs.x.com/x-api/posts/manage-tweets/quickstart (Advanced examples: reply)."""
    create = mock.post(f"{BASE}/2/tweets").respond(
        201, json={"data": {"id": "1445880548472328193", "text": "This is a reply!"}}
    )
    parent = PostRef(platform="x", account=account(), id="1234567890")
    async with client() as c:
        await c.reply(parent, "This is a reply!")
    assert json.loads(create.calls[0].request.content) == {
        "text": "This is a reply!",
        "reply": {"in_reply_to_tweet_id": "1234567890"},
    }


async def test_an_image_is_uploaded_in_one_request_then_described(mock: respx.MockRouter) -> None:
    """https://docs.x.com/x-api/media/image-or-subtitle-media-upload : JSON body with the
    file base64-encoded in "media" and media_category tweet_image; alt text through
    POST /2/media/metadata (alt_text.text, up to 1000 characters)."""
    upload = mock.post(f"{BASE}/2/media/upload").respond(
        json={
            "data": {
                "id": "1146654567674912769",
                "media_key": "3_1146654567674912769",
                "size": 95,
                "expires_after_secs": 86400,
            }
        }
    )
    metadata = mock.post(f"{BASE}/2/media/metadata").respond(
        json={
            "data": {
                "id": "1146654567674912769",
                "associated_metadata": {"alt_text": {"text": "Peta lokasi vaksinasi"}},
            }
        }
    )
    create = mock.post(f"{BASE}/2/tweets").respond(
        201, json={"data": {"id": "1445880548472328194", "text": "Lokasi vaksinasi"}}
    )
    post = Post(
        "Lokasi vaksinasi", media=[Media(data=tiny_png(), alt_text="Peta lokasi vaksinasi")]
    )
    async with client() as c:
        result = await c.publish_one(post, account())
    assert result.ok, result.error
    sent = json.loads(upload.calls[0].request.content)
    assert sent["media_category"] == "tweet_image"
    assert sent["media_type"] == "image/png"
    import base64

    assert base64.b64decode(sent["media"]) == tiny_png()
    assert json.loads(metadata.calls[0].request.content) == {
        "id": "1146654567674912769",
        "metadata": {"alt_text": {"text": "Peta lokasi vaksinasi"}},
    }
    assert json.loads(create.calls[0].request.content)["media"] == {
        "media_ids": ["1146654567674912769"]
    }


async def test_delete(mock: respx.MockRouter) -> None:
    """https://docs.x.com/x-api/posts/manage-tweets/quickstart : DELETE /2/tweets/:id
    answers {"data": {"deleted": true}}."""
    route = mock.delete(f"{BASE}/2/tweets/1445880548472328192").respond(
        json={"data": {"deleted": True}}
    )
    async with client() as c:
        await c.delete(PostRef(platform="x", account=account(), id="1445880548472328192"))
    assert route.call_count == 1


async def test_metrics_are_looked_up_100_at_a_time_and_mapped(mock: respx.MockRouter) -> None:
    """https://docs.x.com/x-api/fundamentals/metrics : public_metrics (retweet_count,
    reply_count, like_count, quote_count, bookmark_count, impression_count)."""

    def answer(request: httpx.Request) -> httpx.Response:
        ids = request.url.params["ids"].split(",")
        assert request.url.params["tweet.fields"] == "public_metrics"
        assert len(ids) <= 100
        data = [
            {
                "id": i,
                "text": "Halo",
                "edit_history_tweet_ids": [i],
                "public_metrics": {
                    "retweet_count": 8,
                    "reply_count": 2,
                    "like_count": 39,
                    "quote_count": 1,
                    "bookmark_count": 3,
                    "impression_count": 1200,
                },
            }
            for i in ids
            if i != "1000000000000000150"
        ]
        errors = [
            {
                "value": "1000000000000000150",
                "detail": "Could not find tweet with ids: [1000000000000000150].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "1000000000000000150",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
        body = {"data": data, "errors": errors} if "1000000000000000150" in ids else {"data": data}
        return httpx.Response(200, json=body)

    route = mock.get(f"{BASE}/2/tweets").mock(side_effect=answer)
    refs = [
        PostRef(platform="x", account=account(), id=str(1000000000000000000 + n))
        for n in range(150, 0, -1)
    ] + [PostRef(platform="x", account=account(), id="1000000000000000150")]
    async with client() as c:
        metrics = await c.fetch_metrics(refs)
    assert route.call_count == 2
    assert [m.ref for m in metrics] == refs
    first = metrics[1]
    assert (first.views, first.likes, first.reposts, first.replies, first.quotes) == (
        1200,
        39,
        8,
        2,
        1,
    )
    assert first.bookmarks == 3
    assert first.reach is None and first.clicks is None
    missing = metrics[0]
    assert missing.likes is None and missing.views is None
    assert "Could not find" in missing.raw["error"]


async def test_account_metrics_from_users_me(mock: respx.MockRouter) -> None:
    """https://docs.x.com/x-api/users/lookup (example response with public_metrics)."""
    mock.get(f"{BASE}/2/users/me").respond(
        json={
            "data": {
                "id": "2244994945",
                "name": "X Developers",
                "username": "XDevelopers",
                "public_metrics": {
                    "followers_count": 583423,
                    "following_count": 2048,
                    "tweet_count": 14052,
                    "listed_count": 1672,
                },
            }
        }
    )
    async with client() as c:
        metrics = await c.fetch_account_metrics(account())
    assert (metrics.followers, metrics.following, metrics.posts) == (583423, 2048, 14052)


async def test_replies_come_from_recent_search_on_the_conversation(mock: respx.MockRouter) -> None:
    """https://docs.x.com/x-api/posts/search/introduction (conversation_id operator) and
    the expansions shape of https://docs.x.com/x-api/fundamentals/expansions ."""
    route = mock.get(f"{BASE}/2/tweets/search/recent").respond(
        json={
            "data": [
                {
                    "id": "1445880548472328199",
                    "text": "@humas_kota Apakah buka hari Sabtu? &amp; Minggu?",
                    "author_id": "2244994946",
                    "conversation_id": "1445880548472328192",
                    "created_at": "2024-05-04T02:10:00.000Z",
                    "referenced_tweets": [{"type": "replied_to", "id": "1445880548472328192"}],
                    "edit_history_tweet_ids": ["1445880548472328199"],
                }
            ],
            "includes": {
                "users": [{"id": "2244994946", "name": "Warga Bandung", "username": "warga_bdg"}]
            },
            "meta": {"result_count": 1, "newest_id": "1445880548472328199"},
        }
    )
    ref = PostRef(platform="x", account=account(), id="1445880548472328192")
    async with client() as c:
        [reply] = await c.fetch_replies(ref)
    params = route.calls[0].request.url.params
    assert params["query"] == "conversation_id:1445880548472328192"
    assert "author_id" in params["tweet.fields"] and params["expansions"] == "author_id"
    assert reply.kind == "reply"
    assert reply.author == "@warga_bdg" and reply.author_name == "Warga Bandung"
    assert reply.text == "@humas_kota Apakah buka hari Sabtu? & Minggu?"
    assert reply.in_reply_to_id == "1445880548472328192"
    assert reply.created_at == datetime(2024, 5, 4, 2, 10, tzinfo=UTC)


async def test_mentions_use_the_cached_user_id_and_start_time(mock: respx.MockRouter) -> None:
    """https://docs.x.com/x-api/posts/timelines/introduction (user mention timeline)."""
    me = mock.get(f"{BASE}/2/users/me").respond(
        json={"data": {"id": "2244994945", "name": "Humas", "username": "humas_kota"}}
    )
    mentions = mock.get(f"{BASE}/2/users/2244994945/mentions").respond(
        json={"meta": {"result_count": 0}}
    )
    since = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)
    async with client() as c:
        assert await c.fetch_mentions(account(), since=since) == []
        assert await c.fetch_mentions(account(), since=since) == []
    assert me.call_count == 1
    assert mentions.calls[0].request.url.params["start_time"] == "2024-05-01T07:00:00Z"


async def test_the_documented_duplicate_answer_says_the_earlier_post_exists(
    mock: respx.MockRouter,
) -> None:
    """X answers a repeated text with 403 and the detail "You are not allowed to create a
    Tweet with duplicate content." (the shape of https://docs.x.com/x-api/fundamentals/
    response-codes-and-errors ; the exact sentence is unverified on docs.x.com)."""
    mock.post(f"{BASE}/2/tweets").respond(
        403,
        json={
            "detail": "You are not allowed to create a Tweet with duplicate content.",
            "type": "about:blank",
            "title": "Forbidden",
            "status": 403,
        },
    )
    async with client() as c:
        result = await c.publish_one(Post("Halo warga"), account())
    error = result.error
    assert isinstance(error, PlatformError) and not isinstance(error, RateLimited)
    assert error.status == 403
    assert "duplicate" in str(error) and "earlier post exists" in str(error)
    assert error.field == "text"


async def test_rate_headers_feed_the_budget_and_429_waits_for_the_reset(
    mock: respx.MockRouter,
) -> None:
    """https://docs.x.com/fundamentals/rate-limits : x-rate-limit-limit/-remaining/-reset
    (epoch seconds) and the 429 body {"errors": [{"code": 88, ...}]}."""
    reset = int(time.time()) + 1
    mock.get(f"{BASE}/2/users/me").mock(
        side_effect=[
            httpx.Response(
                429,
                json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
                headers={
                    "x-rate-limit-limit": "75",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(reset),
                },
            ),
            httpx.Response(
                200,
                json={"data": {"id": "1", "name": "Humas", "username": "humas_kota"}},
                headers={
                    "x-rate-limit-limit": "75",
                    "x-rate-limit-remaining": "74",
                    "x-rate-limit-reset": str(reset + 900),
                },
            ),
        ]
    )
    async with client() as c:
        metrics = await c.fetch_account_metrics(account())
        state = c.http.budget.get(f"{account().key}|GET /2/users/me")
    assert metrics.followers is None
    assert state is not None and (state.limit, state.remaining) == (75, 74)
    assert state.reset_at == reset + 900


async def test_a_spent_window_of_one_endpoint_does_not_hold_back_publishing(
    mock: respx.MockRouter,
) -> None:
    """https://docs.x.com/x-api/fundamentals/rate-limits : limits are per endpoint, so the
    mentions timeline's spent 15-minute window says nothing about POST /2/tweets."""
    far = str(int(time.time()) + 900)
    spent = {"x-rate-limit-limit": "10", "x-rate-limit-remaining": "0", "x-rate-limit-reset": far}
    me = mock.get(f"{BASE}/2/users/me").respond(
        200, json={"data": {"id": "7", "username": "humas_kota", "name": "Humas"}}, headers=spent
    )
    created = mock.post(f"{BASE}/2/tweets").respond(
        201, json={"data": {"id": "1850000000000000001", "text": "Halo warga"}}
    )
    async with client() as c:
        await c.fetch_account_metrics(account())
        result = await c.publish_one(Post("Halo warga"), account())
        with pytest.raises(RateLimited):  # the same endpoint again: its window is spent
            await c.fetch_account_metrics(account())
    assert result.ok, result.error
    assert created.call_count == 1 and me.call_count == 1


async def test_the_24_hour_post_limit_is_named_with_its_reset_time(mock: respx.MockRouter) -> None:
    """https://docs.x.com/x-api/fundamentals/rate-limits : POST /2/tweets also carries
    x-user-limit-24hour-limit/-remaining/-reset (and x-app-limit-24hour-*)."""
    reset = int(time.time()) + 6 * 3600
    mock.post(f"{BASE}/2/tweets").respond(
        429,
        json={
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        headers={
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "98",
            "x-rate-limit-reset": str(int(time.time()) + 600),
            "x-user-limit-24hour-limit": "17",
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": str(reset),
            "x-app-limit-24hour-limit": "1500",
            "x-app-limit-24hour-remaining": "1200",
            "x-app-limit-24hour-reset": str(reset),
        },
    )
    async with client() as c:
        result = await c.publish_one(Post("Halo"), account())
    error = result.error
    assert isinstance(error, RateLimited)
    assert "24-hour post limit of 17 for this account" in str(error)
    assert datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%d %H:%M UTC") in str(error)
    assert error.retry_after is not None and error.retry_after > 5 * 3600


def mention_tweet(n: int, conversation: str) -> dict[str, Any]:
    """A Post of the mentions timeline, shaped like its documented example
    (https://docs.x.com/x-api/posts/get-mentions)."""
    return {
        "id": str(1800000000000000000 + n),
        "text": f"@humas_kota pertanyaan {n}",
        "author_id": "99",
        "conversation_id": conversation,
        "created_at": f"2024-05-04T02:{n:02d}:00.000Z",
        "referenced_tweets": [{"type": "replied_to", "id": conversation}],
        "edit_history_tweet_ids": [str(1800000000000000000 + n)],
    }


async def test_activity_reads_the_mentions_timeline_after_since_id_and_resumes_a_capped_read(
    mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """https://docs.x.com/x-api/posts/timelines/introduction (user mention timeline):
    ``since_id`` after the newest id read; a read the page cap stopped keeps the stretch
    left (since_id .. until_id) and reads it next time; the user id is asked once."""
    from govsocial_x import X

    monkeypatch.setattr(X, "max_pages", 2)
    me = mock.get(f"{BASE}/2/users/me").respond(
        json={"data": {"id": "2244994945", "name": "Humas", "username": "humas_kota"}}
    )
    users = {"users": [{"id": "99", "name": "Warga", "username": "warga_bdg"}]}
    conversation = "1445880548472328192"

    def answer(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if params.get("until_id"):  # the stretch left: the rest, no further page
            data = [mention_tweet(1, conversation)]
            return httpx.Response(200, json={"data": data, "includes": users, "meta": {}})
        if params.get("since_id") == "1800000000000000003":  # nothing newer
            return httpx.Response(200, json={"meta": {"result_count": 0}})
        data = [mention_tweet(3, conversation), mention_tweet(2, conversation)]
        meta = {"result_count": 2, "next_token": "more"}
        return httpx.Response(200, json={"data": data, "includes": users, "meta": meta})

    timeline = mock.get(f"{BASE}/2/users/2244994945/mentions").mock(side_effect=answer)
    async with client() as c:
        first = await c.fetch_activity(
            account(), cursor=None, since=datetime(2024, 5, 1, tzinfo=UTC)
        )
        assert [i.text for i in first.interactions] == [
            "@humas_kota pertanyaan 2",
            "@humas_kota pertanyaan 3",
        ]
        assert all(i.thread_id == conversation for i in first.interactions)
        assert timeline.calls[0].request.url.params["start_time"] == "2024-05-01T00:00:00Z"
        saved = json.loads(first.cursor or "")
        assert saved["since_id"] == "1800000000000000003" and saved["gaps"] == []
        # a later read with more than a page: the cap stops it, the stretch is kept
        later = json.dumps({**saved, "since_id": "1800000000000000000"})
        second = await c.fetch_activity(account(), cursor=later)
        kept = json.loads(second.cursor or "")["gaps"]
        assert kept == [["1800000000000000000", "1800000000000000002"]]
        third = await c.fetch_activity(account(), cursor=second.cursor)
    assert [i.text for i in third.interactions] == ["@humas_kota pertanyaan 1"]
    last = timeline.calls[-1].request.url.params
    assert (last["since_id"], last["until_id"]) == ("1800000000000000000", "1800000000000000002")
    assert json.loads(third.cursor or "")["gaps"] == []
    assert me.call_count == 1, "the user id is kept in the cursor"
