"""The Threads adapter held against Meta's own Threads API Postman collection.

Every request and answer of the other tests is checked by the
``_held_against_the_postman_collection`` fixture (conftest.py). Here the collection's own
example answers feed the adapter's parsers: where an example's values are all 0, they are
numbered (1, 2, 3...) in Meta's shape, so a metric read from the wrong entry shows.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
import respx

from govsocial import Account, AsyncClient, Post, PostRef
from govsocial_threads import Threads
from govsocial_threads.adapter import (
    ACCOUNT_METRICS,
    INTERACTION_FIELDS,
    POST_FIELDS,
    POST_METRICS,
)
from govsocial_threads.postman import Collection

pytestmark = pytest.mark.anyio

API = "https://graph.threads.net/v1.0"
USER = "17841405822304914"
TOKEN = "THAAfakeTokenForTests0123456789"
#: the shared vocabulary's name of each Threads post metric the adapter maps
VOCABULARY = {"views": "views", "likes": "likes", "replies": "replies", "reposts": "reposts"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def mock() -> Any:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router


def account() -> Account:
    return Account(
        platform="threads",
        handle="@dinaskominfo",
        credentials={"user_id": USER, "access_token": TOKEN},
    )


def client() -> AsyncClient:
    return AsyncClient(transport=httpx.AsyncHTTPTransport(), max_wait=2.0)


def example(collection: Collection, method: str, path: str) -> Any:
    route = collection.route(method, path)
    assert route is not None and route.examples, f"the collection has no example for {path}"
    return copy.deepcopy(route.examples[0])


def numbered(answer: dict[str, Any]) -> dict[str, int]:
    """Give each insights entry of ``answer`` a distinct value; returns name -> value."""
    values: dict[str, int] = {}
    for number, entry in enumerate(answer["data"], start=1):
        if "total_value" in entry:
            entry["total_value"]["value"] = number
        for point in entry.get("values", []):
            point["value"] = number
        values[entry["name"]] = number * max(1, len(entry.get("values", [])))
    return values


def test_every_metric_the_adapter_asks_for_is_in_the_collection(
    threads_collection: Collection,
) -> None:
    posts = set(threads_collection.variables["metrics_post"].split(","))
    account_metrics = set(threads_collection.variables["metrics_account"].split(","))
    assert set(POST_METRICS) <= posts, set(POST_METRICS) - posts
    assert set(ACCOUNT_METRICS) <= account_metrics, set(ACCOUNT_METRICS) - account_metrics


def test_every_field_list_of_the_adapter_is_in_the_collection(
    threads_collection: Collection,
) -> None:
    """Also the lists no test happens to send: the media object's fields as Meta lists them."""
    media = {
        name
        for variable in ("fields_threads", "fields_replies")
        for name in threads_collection.variables[variable].split(",")
    }
    for fields in (INTERACTION_FIELDS, POST_FIELDS):
        assert set(fields.split(",")) <= media, set(fields.split(",")) - media


async def test_the_collection_s_media_insights_example_reads_into_the_vocabulary(
    threads_collection: Collection, mock: respx.MockRouter
) -> None:
    answer = example(threads_collection, "GET", "/{id}/insights")
    values = numbered(answer)
    mock.get(f"{API}/7654321/insights").respond(json=answer)
    ref = PostRef(platform="threads", account=account(), id="7654321")
    async with client() as c:
        [metrics] = await c.fetch_metrics([ref])
    for meta_name, ours in VOCABULARY.items():
        assert getattr(metrics, ours) == values[meta_name], meta_name
    assert metrics.quotes == values["quotes"]


async def test_the_collection_s_account_insights_example_gives_the_followers(
    threads_collection: Collection, mock: respx.MockRouter
) -> None:
    answer = example(threads_collection, "GET", "/{id}/threads_insights")
    values = numbered(answer)
    assert "followers_count" in values, "Meta's example has no followers_count entry"
    mock.get(f"{API}/{USER}/threads_insights").respond(json=answer)
    async with client() as c:
        metrics = await c.fetch_account_metrics(account())
    assert metrics.followers == values["followers_count"]


async def test_the_collection_s_quota_example_reads(
    threads_collection: Collection, mock: respx.MockRouter
) -> None:
    answer = example(threads_collection, "GET", "/{id}/threads_publishing_limit")
    mock.get(f"{API}/{USER}/threads_publishing_limit").respond(json=answer)
    async with client() as c:
        adapter = c.adapter(account())
        assert isinstance(adapter, Threads)
        quota = await adapter.publishing_quota()
    [limit] = answer["data"]
    assert quota.posts_used == limit["quota_usage"]
    assert quota.posts_total == limit["config"]["quota_total"]
    assert quota.window_seconds == limit["config"]["quota_duration"]
    assert quota.replies_total == limit["reply_config"]["quota_total"]


async def test_a_post_publishes_through_the_collection_s_example_answers(
    threads_collection: Collection, mock: respx.MockRouter
) -> None:
    """Container, its status, publish and the permalink read: each answered by Meta's example."""
    container = example(threads_collection, "POST", "/{id}/threads")
    status = example(threads_collection, "GET", "/{id}")
    for candidate in threads_collection.routes[("GET", "/{id}")].examples:
        if "status" in candidate:
            status = copy.deepcopy(candidate)
    published = example(threads_collection, "POST", "/{id}/threads_publish")
    container["id"], status["id"], published["id"] = "1111", "1111", "2222"
    assert status.get("status") == "FINISHED", status
    mock.post(f"{API}/{USER}/threads").respond(json=container)
    mock.get(f"{API}/1111").respond(json=status)
    mock.post(f"{API}/{USER}/threads_publish").respond(json=published)
    post_node = next(
        e for e in threads_collection.routes[("GET", "/{id}")].examples if "permalink" in e
    )
    mock.get(f"{API}/2222").respond(json={**post_node, "id": "2222"})
    async with client() as c:
        result = await c.publish_one(Post("Pengumuman"), account())
    assert result.ok, result.error
    assert result.ref is not None and result.ref.id == "2222"


async def test_the_collection_s_delete_example_is_a_success(
    threads_collection: Collection, mock: respx.MockRouter
) -> None:
    answer = example(threads_collection, "DELETE", "/{id}")
    answer["deleted_id"] = "1234567"
    route = mock.delete(f"{API}/1234567").respond(json=answer)
    async with client() as c:
        await c.delete(PostRef(platform="threads", account=account(), id="1234567"))
    assert route.called


async def test_the_collection_s_conversation_example_is_a_reply(
    threads_collection: Collection, mock: respx.MockRouter
) -> None:
    answer = example(threads_collection, "GET", "/{id}/conversation")
    answer.pop("paging", None)  # one page
    [item] = answer["data"]
    item["replied_to"]["id"] = item["root_post"]["id"] = "7654321"
    mock.get(f"{API}/7654321/conversation").respond(json=answer)
    async with client() as c:
        replies = await c.fetch_replies(
            PostRef(platform="threads", account=account(), id="7654321")
        )
    assert [r.text for r in replies] == [item["text"]]


async def test_the_collection_s_mentions_example_is_a_mention(
    threads_collection: Collection, mock: respx.MockRouter
) -> None:
    answer = example(threads_collection, "GET", "/{id}/mentions")
    answer.pop("paging", None)
    [item] = answer["data"]
    mock.get(f"{API}/{USER}/mentions").respond(json=answer)
    async with client() as c:
        mentions = await c.fetch_mentions(account())
    assert [m.text for m in mentions] == [item["text"]]


@pytest.mark.parametrize(
    ("method", "path", "params", "words"),
    [
        ("POST", "/v1.0/1/threads", {"media_type": "TEXT", "txt": "x"}, "no parameter 'txt'"),
        ("POST", "/v1.0/1/threads", {"media_type": "REEL"}, "['REEL']"),
        ("GET", "/v1.0/1/threads", {"fields": "id,permalnk"}, "['permalnk']"),
        ("GET", "/v1.0/1/insights", {"metric": "views,impressions"}, "['impressions']"),
        ("GET", "/v1.0/1/threads_stats", {}, "not in Meta's"),
    ],
)
def test_each_kind_of_mistake_is_caught(
    threads_collection: Collection, method: str, path: str, params: dict[str, str], words: str
) -> None:
    """The collection check is not vacuous."""
    problems = threads_collection.request_problems(method, path, params)
    assert any(words in p for p in problems), problems
