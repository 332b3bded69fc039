"""Request and response shapes, against respx stand-ins built from the documented examples.

Each test names the docs.joinmastodon.org page its fake answers follow. The last group
checks the adapter's requests and reads against the community OpenAPI schema of the
Mastodon API: $GOVSOCIAL_MASTODON_OPENAPI, else ``mastodon-openapi.json`` in
$GOVSOCIAL_SPECS_DIR, else in ``shared/specs/`` beside the clone (``../shared/specs``) or
beside a folder above it.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as email_policy
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from govsocial import Account, AsyncClient, Media, Post, PostRef
from govsocial.core.errors import PlatformError, RateLimited
from govsocial.testing import tiny_png
from govsocial_mastodon import Mastodon
from govsocial_mastodon.adapter import (
    ACCOUNT_FIELDS_READ,
    INSTANCE_FIELDS_READ,
    STATUS_FIELDS_READ,
    html_to_text,
    limits_from_instance,
)

pytestmark = pytest.mark.anyio

BASE = "https://mastodon.example"
TOKEN = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"


def instance(max_characters: int = 500, **statuses: int) -> dict[str, Any]:
    """An Instance entity, trimmed to what matters, shaped like
    https://docs.joinmastodon.org/entities/Instance/#example ."""
    return {
        "domain": "mastodon.example",
        "title": "Mastodon",
        "version": "4.3.0",
        "configuration": {
            "urls": {"streaming": "wss://mastodon.example"},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 4},
            "statuses": {
                "max_characters": max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23,
                **statuses,
            },
            "media_attachments": {
                "supported_mime_types": [
                    "image/jpeg",
                    "image/png",
                    "image/gif",
                    "image/webp",
                    "video/webm",
                    "video/mp4",
                    "video/quicktime",
                    "audio/mpeg",
                ],
                "description_limit": 1500,
                "image_size_limit": 16777216,
                "image_matrix_limit": 33177600,
                "video_size_limit": 103809024,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2629746,
            },
        },
    }


_ids = count(103270115826048975)


def status(**fields: Any) -> dict[str, Any]:
    """A Status entity shaped like https://docs.joinmastodon.org/entities/Status/#example ."""
    status_id = str(next(_ids))
    body: dict[str, Any] = {
        "id": status_id,
        "created_at": "2019-12-08T03:48:33.901Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "id",
        "uri": f"{BASE}/users/humas/statuses/{status_id}",
        "url": f"{BASE}/@humas/{status_id}",
        "replies_count": 5,
        "reblogs_count": 6,
        "favourites_count": 11,
        "quotes_count": 2,
        "content": "<p>Halo warga</p>",
        "account": {"id": "1", "username": "humas", "acct": "humas", "display_name": "Humas"},
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
    }
    body.update(fields)
    return body


def media_attachment(url: str | None) -> dict[str, Any]:
    """A MediaAttachment shaped like the v2 upload answer on
    https://docs.joinmastodon.org/methods/media/#v2 (202: url null while processing)."""
    return {
        "id": "22348641",
        "type": "image",
        "url": url,
        "preview_url": f"{BASE}/system/media_attachments/files/022/348/641/small/e9.png",
        "remote_url": None,
        "text_url": None,
        "meta": {},
        "description": "Peta lokasi vaksinasi",
        "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
    }


def account(base: str = BASE, name: str = "humas", token: str = TOKEN) -> Account:
    return Account(
        platform="mastodon",
        handle=f"@{name}@{base.split('://')[1]}",
        base_url=base,
        credentials={"access_token": token},
    )


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router


@pytest.fixture
def fast_media_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Mastodon, "media_poll_interval", 0.01)


def form_fields(request: httpx.Request) -> dict[str, bytes]:
    """The parts of a multipart/form-data request, by field name."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=email_policy).parsebytes(head + request.content)
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[str(name)] = part.get_payload(decode=True)
    return fields


# -- publishing -----------------------------------------------------------------------------


async def test_create_sends_the_idempotency_key_and_the_same_key_on_a_retry_after_503(
    mock: respx.MockRouter,
) -> None:
    """https://docs.joinmastodon.org/methods/statuses/#create : Idempotency-Key header;
    https://docs.joinmastodon.org/entities/Error/ : the 503 body."""
    mock.get(f"{BASE}/api/v2/instance").respond(json=instance())
    created = status(content="<p>Jadwal vaksinasi</p>")
    create = mock.post(f"{BASE}/api/v1/statuses").mock(
        side_effect=[
            httpx.Response(503, json={"error": "Service Unavailable"}),
            httpx.Response(200, json=created),
        ]
    )
    async with AsyncClient() as client:
        result = await client.publish_one(
            Post("Jadwal vaksinasi", language="id"), account(), idempotency_key="delivery-42"
        )
    assert result.ok, result.error
    assert result.ref is not None
    assert (result.ref.id, result.ref.url) == (created["id"], created["url"])
    assert create.call_count == 2
    sent = [call.request for call in create.calls]
    assert [r.headers["Idempotency-Key"] for r in sent] == ["delivery-42", "delivery-42"]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in sent)
    assert (
        json.loads(sent[0].content)
        == json.loads(sent[1].content)
        == {
            "status": "Jadwal vaksinasi",
            "visibility": "public",
            "language": "id",
        }
    )


async def test_reply_and_content_warning_are_sent_as_documented(mock: respx.MockRouter) -> None:
    """https://docs.joinmastodon.org/methods/statuses/#create : in_reply_to_id, spoiler_text."""
    mock.get(f"{BASE}/api/v2/instance").respond(json=instance())
    create = mock.post(f"{BASE}/api/v1/statuses").respond(json=status())
    parent = PostRef(platform="mastodon", account=account(), id="103270115826048975")
    post = Post("Ya, buka pukul 08.00", reply_to=parent, content_warning="Info layanan")
    async with AsyncClient() as client:
        result = await client.publish_one(post, account())
    assert result.ok, result.error
    assert json.loads(create.calls.last.request.content) == {
        "status": "Ya, buka pukul 08.00",
        "visibility": "public",
        "in_reply_to_id": "103270115826048975",
        "spoiler_text": "Info layanan",
    }


async def test_media_upload_sends_the_description_and_polls_while_the_server_answers_206(
    mock: respx.MockRouter, fast_media_polls: None
) -> None:
    """https://docs.joinmastodon.org/methods/media/#v2 (202 with url null) and
    https://docs.joinmastodon.org/methods/media/#get (206 while processing, then 200)."""
    mock.get(f"{BASE}/api/v2/instance").respond(json=instance())
    upload = mock.post(f"{BASE}/api/v2/media").respond(202, json=media_attachment(None))
    done = media_attachment(f"{BASE}/system/media_attachments/files/022/348/641/original/e9.png")
    poll = mock.get(f"{BASE}/api/v1/media/22348641").mock(
        side_effect=[
            httpx.Response(206, json=media_attachment(None)),
            httpx.Response(206, json=media_attachment(None)),
            httpx.Response(200, json=done),
        ]
    )
    create = mock.post(f"{BASE}/api/v1/statuses").respond(json=status())
    picture = Media(data=tiny_png(), alt_text="Peta lokasi vaksinasi")
    post = Post("Lokasi vaksinasi", media=[picture])
    async with AsyncClient() as client:
        result = await client.publish_one(post, account())
    assert result.ok, result.error
    fields = form_fields(upload.calls.last.request)
    assert set(fields) == {"file", "description"}
    assert fields["description"] == b"Peta lokasi vaksinasi"
    assert fields["file"] == tiny_png()
    assert b'filename="media0.png"' in upload.calls.last.request.content
    assert b"Content-Type: image/png" in upload.calls.last.request.content
    assert poll.call_count == 3
    assert json.loads(create.calls.last.request.content)["media_ids"] == ["22348641"]


async def test_media_that_never_finishes_processing_fails_clearly_and_posts_nothing(
    mock: respx.MockRouter, fast_media_polls: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """https://docs.joinmastodon.org/methods/media/#get : 206 means still processing."""
    monkeypatch.setattr(Mastodon, "media_processing_timeout", 0.1)
    mock.get(f"{BASE}/api/v2/instance").respond(json=instance())
    mock.post(f"{BASE}/api/v2/media").respond(202, json=media_attachment(None))
    mock.get(f"{BASE}/api/v1/media/22348641").respond(206, json=media_attachment(None))
    create = mock.post(f"{BASE}/api/v1/statuses").respond(json=status())
    pytest.importorskip("av")
    from govsocial.testing.video import make_video

    post = Post("Video", media=[Media(data=make_video(width=64, height=64, seconds=0.5))])
    async with AsyncClient() as client:
        result = await client.publish_one(post, account())
    assert isinstance(result.error, PlatformError)
    assert "still processing media[0]" in str(result.error)
    assert result.error.field == "media[0]"
    assert not create.called


async def test_instance_limits_are_fetched_once_for_20_concurrent_publishes(
    mock: respx.MockRouter,
) -> None:
    """https://docs.joinmastodon.org/methods/instance/#v2 : configuration.statuses."""
    limits = mock.get(f"{BASE}/api/v2/instance").mock(
        side_effect=lambda request: httpx.Response(200, json=instance())
    )
    create = mock.post(f"{BASE}/api/v1/statuses").mock(
        side_effect=lambda request: httpx.Response(200, json=status())
    )
    accounts = [account(name=f"dinas{i}", token=f"token-{i:02d}-abcdef") for i in range(20)]
    async with AsyncClient() as client:
        results = await client.publish(Post("Pengumuman serentak"), accounts)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert limits.call_count == 1
    assert create.call_count == 20
    tokens = {call.request.headers["Authorization"] for call in create.calls}
    assert len(tokens) == 20


async def test_instance_v1_is_asked_when_v2_is_missing_then_the_declared_limits(
    mock: respx.MockRouter,
) -> None:
    """https://docs.joinmastodon.org/methods/instance/#v1 (deprecated, older servers)."""
    mock.get(f"{BASE}/api/v2/instance").respond(404, json={"error": "Record not found"})
    v1 = mock.get(f"{BASE}/api/v1/instance").respond(json=instance(max_characters=1000))
    other = "https://tua.example"
    mock.get(f"{other}/api/v2/instance").respond(404, json={"error": "Record not found"})
    mock.get(f"{other}/api/v1/instance").respond(410, text="Gone")
    async with AsyncClient() as client:
        assert (await client.limits(account())).max_characters == 1000
        assert await client.limits(account(base=other)) == Mastodon.limits
    assert v1.call_count == 1


async def test_validate_uses_the_instance_max_characters(mock: respx.MockRouter) -> None:
    """https://docs.joinmastodon.org/methods/instance/#v2 : an instance that allows 5000."""
    big, small = "https://panjang.example", "https://pendek.example"
    mock.get(f"{big}/api/v2/instance").respond(json=instance(max_characters=5000))
    mock.get(f"{small}/api/v2/instance").respond(json=instance(max_characters=500))
    create = mock.post(f"{big}/api/v1/statuses").respond(json=status())
    post = Post("a" * 600)
    async with AsyncClient() as client:
        assert await client.validate(post, account(base=big)) == []
        assert [p.code for p in await client.validate(post, account(base=small))] == [
            "text_too_long"
        ]
        result = await client.publish_one(post, account(base=big))
    assert result.ok, result.error
    assert json.loads(create.calls.last.request.content)["status"] == "a" * 600


# -- rate limits ---------------------------------------------------------------------------


def test_rate_limit_headers_are_parsed() -> None:
    """https://docs.joinmastodon.org/api/rate-limits/ : the reset is an ISO 8601 timestamp."""
    response = httpx.Response(
        200,
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "299",
            "X-RateLimit-Reset": "2026-11-27T21:05:00.123456Z",
        },
    )
    state = Mastodon.rate_state(response)
    assert state is not None
    assert (state.limit, state.remaining) == (300, 299)
    expected = datetime(2026, 11, 27, 21, 5, 0, 123456, tzinfo=UTC).timestamp()
    assert state.reset_at == pytest.approx(expected)
    assert Mastodon.rate_state(httpx.Response(200)) is None


async def test_a_spent_rate_budget_stops_the_next_request_before_it_is_sent(
    mock: respx.MockRouter,
) -> None:
    """https://docs.joinmastodon.org/api/rate-limits/ : Remaining 0 until the reset."""
    reset = datetime.fromtimestamp(time.time() + 3600, UTC).isoformat().replace("+00:00", "Z")
    read = mock.get(f"{BASE}/api/v1/statuses/1").respond(
        json=status(id="1"),
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset,
        },
    )
    ref = PostRef(platform="mastodon", account=account(), id="1")
    async with AsyncClient(max_wait=5.0) as client:
        [metrics] = await client.fetch_metrics([ref])
        assert metrics.likes == 11
        with pytest.raises(RateLimited) as raised:
            await client.fetch_metrics([ref])
    assert read.call_count == 1
    assert raised.value.retry_after is not None and raised.value.retry_after > 3500


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
)
def test_any_iso_8601_reset_reads_back_as_the_same_instant(when: datetime) -> None:
    """https://docs.joinmastodon.org/api/rate-limits/ : X-RateLimit-Reset."""
    stamp = when.isoformat().replace("+00:00", "Z")
    state = Mastodon.rate_state(httpx.Response(429, headers={"X-RateLimit-Reset": stamp}))
    assert state is not None and state.reset_at == pytest.approx(when.timestamp(), abs=1e-3)


@given(st.text())
def test_html_to_text_gives_back_any_escaped_text(text: str) -> None:
    """https://docs.joinmastodon.org/entities/Status/#content : HTML-escaped user text."""
    lines = text.replace("\r", "").split("\n")
    expected = "\n".join(line.rstrip() for line in lines).strip()
    assert html_to_text("<p>" + html.escape(text.replace("\r", "")) + "</p>") == expected


# -- reading -------------------------------------------------------------------------------


async def test_metrics_are_read_from_the_status_counts(mock: respx.MockRouter) -> None:
    """https://docs.joinmastodon.org/methods/statuses/#get and
    https://docs.joinmastodon.org/entities/Status/ (quotes_count since 4.5)."""
    mock.get(f"{BASE}/api/v1/statuses/10").respond(json=status(id="10"))
    old = status(id="11")
    del old["quotes_count"]
    mock.get(f"{BASE}/api/v1/statuses/11").respond(json=old)
    refs = [PostRef(platform="mastodon", account=account(), id=i) for i in ("10", "11")]
    async with AsyncClient() as client:
        new_metrics, old_metrics = await client.fetch_metrics(refs)
    assert (new_metrics.likes, new_metrics.reposts, new_metrics.replies) == (11, 6, 5)
    assert new_metrics.quotes == 2
    assert old_metrics.quotes is None
    assert (new_metrics.views, new_metrics.reach, new_metrics.bookmarks) == (None, None, None)
    assert new_metrics.raw == {
        "favourites_count": 11,
        "reblogs_count": 6,
        "replies_count": 5,
        "quotes_count": 2,
    }


async def test_replies_come_from_the_context_descendants_as_plain_text(
    mock: respx.MockRouter,
) -> None:
    """https://docs.joinmastodon.org/methods/statuses/#context and
    https://docs.joinmastodon.org/entities/Context/ ."""
    later = status(
        id="21",
        in_reply_to_id="20",
        created_at="2019-12-08T04:00:00.000Z",
        content='<p><span class="h-card"><a href="https://mastodon.example/@humas" '
        'class="u-url mention">@<span>humas</span></a></span> Terima kasih &amp; salam</p>',
        account={"id": "7", "acct": "warga@kota.example", "display_name": "Warga"},
    )
    earlier = status(
        id="20",
        in_reply_to_id="10",
        created_at="2019-12-08T03:50:00.000Z",
        content='<p>Apakah buka<br>hari Sabtu?</p><p>Lokasi: <a href="https://kota.example/'
        'vaksin"><span class="invisible">https://</span><span>kota.example/vaksin</span></a></p>',
        account={"id": "7", "acct": "warga@kota.example", "display_name": ""},
    )
    mock.get(f"{BASE}/api/v1/statuses/10/context").respond(
        json={"ancestors": [], "descendants": [later, earlier]}
    )
    ref = PostRef(platform="mastodon", account=account(), id="10")
    async with AsyncClient() as client:
        replies = await client.fetch_replies(ref)
    assert [r.ref.id for r in replies] == ["20", "21"]
    first = replies[0]
    assert first.text == "Apakah buka\nhari Sabtu?\n\nLokasi: https://kota.example/vaksin"
    assert replies[1].text == "@humas Terima kasih & salam"
    assert (first.kind, first.author, first.author_name) == ("reply", "warga@kota.example", None)
    assert first.in_reply_to_id == "10"
    assert first.ref.account == ref.account
    assert first.created_at == datetime(2019, 12, 8, 3, 50, tzinfo=UTC)


async def test_mentions_follow_link_pages_and_stop_at_since(mock: respx.MockRouter) -> None:
    """https://docs.joinmastodon.org/methods/notifications/#get and
    https://docs.joinmastodon.org/api/guidelines/#pagination (Link header)."""

    def notification(n: int, minute: int) -> dict[str, Any]:
        when = f"2026-11-27T10:{minute:02d}:00.000Z"
        return {
            "id": str(n),
            "type": "mention",
            "created_at": when,
            "account": {"id": "7", "acct": "warga"},
            "status": status(id=str(100 + n), created_at=when, content=f"<p>@humas {n}</p>"),
        }

    first = mock.get(f"{BASE}/api/v1/notifications", params={"limit": "40"}).respond(
        json=[notification(5, 50), notification(4, 40)],
        headers={
            "Link": f'<{BASE}/api/v1/notifications?max_id=4>; rel="next", '
            f'<{BASE}/api/v1/notifications?min_id=5>; rel="prev"'
        },
    )
    second = mock.get(f"{BASE}/api/v1/notifications", params={"max_id": "4"}).respond(
        json=[notification(3, 30), notification(2, 20)],
        headers={"Link": f'<{BASE}/api/v1/notifications?max_id=2>; rel="next"'},
    )
    third = mock.get(f"{BASE}/api/v1/notifications", params={"max_id": "2"}).respond(json=[])
    since = datetime(2026, 11, 27, 10, 25, tzinfo=UTC)
    async with AsyncClient() as client:
        mentions = await client.fetch_mentions(account(), since=since)
    assert [m.text for m in mentions] == ["@humas 3", "@humas 4", "@humas 5"]
    assert all(m.kind == "mention" for m in mentions)
    assert first.calls.last.request.url.params.get_list("types[]") == ["mention"]
    assert second.call_count == 1
    assert not third.called


async def test_mentions_page_by_the_notification_time_not_the_status_date(
    mock: respx.MockRouter,
) -> None:
    """A status its author's server dated 2025 (or 2099), notified after ``since``, is a new
    mention, with ``received_at`` = the notification's time (issue 13, finding 4)."""

    def notification(n: int, dated: str) -> dict[str, Any]:
        return {
            "id": str(n),
            "type": "mention",
            "created_at": f"2026-11-27T10:0{n}:00.000Z",
            "account": {"id": "7", "acct": "warga"},
            "status": status(id=str(100 + n), created_at=dated, content=f"<p>@humas {n}</p>"),
        }

    mock.get(f"{BASE}/api/v1/notifications").respond(
        json=[notification(2, "2099-01-01T00:00:00.000Z"), notification(1, "2025-01-01T00:00:00Z")]
    )
    since = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    async with AsyncClient() as client:
        mentions = await client.fetch_mentions(account(), since=since)
    assert [m.text for m in mentions] == ["@humas 1", "@humas 2"]
    assert [m.received_at for m in mentions] == [
        datetime(2026, 11, 27, 10, 1, tzinfo=UTC),
        datetime(2026, 11, 27, 10, 2, tzinfo=UTC),
    ]


async def test_a_404_on_delete_keeps_the_server_message(mock: respx.MockRouter) -> None:
    """https://docs.joinmastodon.org/methods/statuses/#delete : 404 Record not found."""
    mock.delete(f"{BASE}/api/v1/statuses/99").respond(404, json={"error": "Record not found"})
    ref = PostRef(platform="mastodon", account=account(), id="99")
    async with AsyncClient() as client:
        with pytest.raises(PlatformError) as raised:
            await client.delete(ref)
    assert raised.value.status == 404
    assert "Record not found" in str(raised.value)
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize("hostile", ["..", ".", "1/../../accounts/7/block", "1?x=1#y"])
async def test_a_hostile_id_stays_one_path_segment(mock: respx.MockRouter, hostile: str) -> None:
    """A stored ref's id is data: ``..`` must not make the delete reach ``/api/v1`` and a
    slash must not reach another endpoint; the server sees one encoded segment."""
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(404, json={"error": "Record not found"})

    mock.route(method="DELETE").mock(side_effect=record)
    ref = PostRef(platform="mastodon", account=account(), id=hostile)
    async with AsyncClient() as client:
        with pytest.raises(PlatformError):
            await client.delete(ref)
    [path] = seen
    prefix = "/api/v1/statuses/"
    assert path.startswith(prefix), path
    assert "/" not in path[len(prefix) :] and path[len(prefix) :] not in (".", ".."), path


# -- against the OpenAPI schema -----------------------------------------------------------


def spec_path() -> Path | None:
    """The schema, found as the module's docstring says (None: not found)."""
    if configured := os.environ.get("GOVSOCIAL_MASTODON_OPENAPI"):
        return Path(configured)
    name = "mastodon-openapi.json"
    candidates = [Path(d) / name for d in [os.environ.get("GOVSOCIAL_SPECS_DIR")] if d]
    here = Path(__file__).resolve()
    candidates += [folder / "shared" / "specs" / name for folder in here.parents]
    return next((path for path in candidates if path.is_file()), None)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    found = spec_path()
    if found is None or not found.exists():
        pytest.skip(
            "no Mastodon OpenAPI schema (set $GOVSOCIAL_MASTODON_OPENAPI, or put "
            "mastodon-openapi.json in $GOVSOCIAL_SPECS_DIR or ../shared/specs beside the clone)"
        )
    loaded: dict[str, Any] = json.loads(found.read_text())
    return loaded


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def properties(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Every property a schema declares, through $ref, allOf, oneOf and anyOf."""
    schema = resolve(spec, schema)
    found = dict(schema.get("properties", {}))
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            found.update(properties(spec, sub))
    return found


def request_schema(spec: dict[str, Any], path: str, method: str, media: str) -> dict[str, Any]:
    operation = spec["paths"][path][method]
    schema: dict[str, Any] = operation["requestBody"]["content"][media]["schema"]
    return schema


def component(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return properties(spec, {"$ref": f"#/components/schemas/{name}"})


async def test_status_create_fields_are_declared_in_the_schema(
    spec: dict[str, Any], mock: respx.MockRouter
) -> None:
    """https://docs.joinmastodon.org/methods/statuses/#create , as the OpenAPI schema has it."""
    mock.get(f"{BASE}/api/v2/instance").respond(json=instance())
    mock.post(f"{BASE}/api/v2/media").respond(json=media_attachment(f"{BASE}/m.png"))
    create = mock.post(f"{BASE}/api/v1/statuses").respond(json=status())
    parent = PostRef(platform="mastodon", account=account(), id="1")
    post = Post(
        "Halo",
        media=[Media(data=tiny_png(), alt_text="Logo")],
        language="id",
        reply_to=parent,
        content_warning="CW",
    )
    async with AsyncClient() as client:
        result = await client.publish_one(post, account())
    assert result.ok, result.error
    sent = set(json.loads(create.calls.last.request.content))
    assert sent == {
        "status",
        "media_ids",
        "in_reply_to_id",
        "spoiler_text",
        "language",
        "visibility",
    }
    declared = properties(
        spec, request_schema(spec, "/api/v1/statuses", "post", "application/json")
    )
    assert sent <= set(declared), sent - set(declared)
    headers = {
        p["name"]
        for p in spec["paths"]["/api/v1/statuses"]["post"]["parameters"]
        if p.get("in") == "header"
    }
    assert "Idempotency-Key" in headers


async def test_media_upload_fields_are_declared_in_the_schema(
    spec: dict[str, Any], mock: respx.MockRouter
) -> None:
    """https://docs.joinmastodon.org/methods/media/#v2 , as the OpenAPI schema has it."""
    mock.get(f"{BASE}/api/v2/instance").respond(json=instance())
    upload = mock.post(f"{BASE}/api/v2/media").respond(json=media_attachment(f"{BASE}/m.png"))
    mock.post(f"{BASE}/api/v1/statuses").respond(json=status())
    post = Post(media=[Media(data=tiny_png(), alt_text="Logo")])
    async with AsyncClient() as client:
        result = await client.publish_one(post, account())
    assert result.ok, result.error
    sent = set(form_fields(upload.calls.last.request))
    schema = resolve(spec, request_schema(spec, "/api/v2/media", "post", "multipart/form-data"))
    assert sent <= set(schema["properties"]), sent - set(schema["properties"])
    assert set(schema.get("required", [])) <= sent
    answers = spec["paths"]["/api/v2/media"]["post"]["responses"]
    assert {"200", "202"} <= set(answers)
    assert "206" in spec["paths"]["/api/v1/media/{id}"]["get"]["responses"]


def test_fields_the_adapter_reads_are_declared_in_the_schema(spec: dict[str, Any]) -> None:
    """https://docs.joinmastodon.org/entities/Status/ , /Account/ , /Instance/ ,
    /Notification/ and /Context/ , as the OpenAPI schema has them."""
    status_fields = component(spec, "Status")
    assert set(STATUS_FIELDS_READ) <= set(status_fields), set(STATUS_FIELDS_READ) - set(
        status_fields
    )
    account_fields = properties(spec, status_fields["account"])
    assert set(ACCOUNT_FIELDS_READ) <= set(account_fields)
    assert set(ACCOUNT_FIELDS_READ) <= set(component(spec, "CredentialAccount"))
    configuration = properties(spec, component(spec, "Instance")["configuration"])
    for section, name in INSTANCE_FIELDS_READ:
        assert name in properties(spec, configuration[section]), f"{section}.{name}"
    assert {"type", "status", "created_at"} <= set(component(spec, "Notification"))
    assert "descendants" in component(spec, "Context")


async def test_the_documented_examples_read_back(
    spec: dict[str, Any], mock: respx.MockRouter
) -> None:
    """The examples of https://docs.joinmastodon.org/entities/Status/#example and
    https://docs.joinmastodon.org/entities/Instance/#example , as carried by the schema."""
    schemas = spec["components"]["schemas"]
    example = schemas["Status"]["example"]
    mock.get(f"{BASE}/api/v1/statuses/{example['id']}").respond(json=example)
    ref = PostRef(platform="mastodon", account=account(), id=example["id"])
    async with AsyncClient() as client:
        [metrics] = await client.fetch_metrics([ref])
    assert metrics.likes == example["favourites_count"]
    assert metrics.reposts == example["reblogs_count"]
    assert metrics.replies == example["replies_count"]
    documented = schemas["Instance"]["example"]
    limits = limits_from_instance(documented, Mastodon.limits)
    statuses = documented["configuration"]["statuses"]
    assert limits.max_characters == statuses["max_characters"]
    assert limits.max_media == statuses["max_media_attachments"]
    assert limits.url_length == statuses["characters_reserved_per_url"]


async def test_the_limits_cache_serves_clients_on_different_event_loops(
    mock: respx.MockRouter,
) -> None:
    """https://docs.joinmastodon.org/methods/instance/#v2 , asked from two event loops.

    The sync Client runs its own loop; an asyncio.Lock bound to one loop would fail on the
    other, so the cache keeps one lock per loop.
    """
    route = mock.get(f"{BASE}/api/v2/instance").mock(
        side_effect=lambda request: httpx.Response(200, json=instance(max_characters=700))
    )

    async def ask_concurrently() -> set[int]:
        async with AsyncClient() as client:
            accounts = [account(name=f"dinas{i}", token=f"token-{i:02d}-abcdef") for i in range(10)]
            found = await asyncio.gather(*(client.limits(a) for a in accounts))
        return {limits.max_characters for limits in found}

    assert await ask_concurrently() == {700}
    Mastodon.clear_limits_cache()
    assert await asyncio.to_thread(asyncio.run, ask_concurrently()) == {700}
    assert route.call_count == 2


# -- search (watched topics) -------------------------------------------------------------------


async def test_a_hostile_search_answer_is_read_as_plain_bounded_text(
    mock: respx.MockRouter,
) -> None:
    """https://docs.joinmastodon.org/methods/search/#v2 : a server, or a remote one it
    federates with, can send any HTML; what a watch keeps is plain, bounded text."""
    evil = status(
        content="<p>banjir<script>alert(1)</script><style>p{}</style> di \u202epasar</p>"
        + "<p>"
        + "a" * 100_000
        + "</p>",
        account={"id": "9", "acct": "evil\n@x.example", "display_name": "E\u200bvil"},
        uri="https://x.example/statuses/1",
    )
    boost = status(reblog=status(), content="")
    search = mock.get(f"{BASE}/api/v2/search").respond(
        json={"accounts": [], "statuses": [evil, boost], "hashtags": []}
    )
    async with AsyncClient() as client:
        page = await client.search(account(), "banjir")
    [found] = page.posts
    assert found.text.startswith("banjir di pasar\n\naaa") and len(found.text) <= 5000
    assert "alert" not in found.text and "\u202e" not in found.text
    assert found.author == "evil @x.example" and found.author_name == "E vil"
    assert found.key == "https://x.example/statuses/1" and found.ref.id == evil["id"]
    sent = search.calls.last.request.url.params
    assert (sent["q"], sent["type"], sent["resolve"]) == ("banjir", "statuses", "false")


async def test_a_hashtag_reads_the_tag_timeline_from_the_cursor(mock: respx.MockRouter) -> None:
    """https://docs.joinmastodon.org/methods/timelines/#tag"""
    newer = status(content="<p>#banjir lagi</p>")
    timeline = mock.get(f"{BASE}/api/v1/timelines/tag/banjir").respond(json=[newer])
    async with AsyncClient() as client:
        page = await client.search(account(), "#banjir", cursor="5")
    assert [p.ref.id for p in page.posts] == [newer["id"]] and page.cursor == newer["id"]
    assert timeline.calls.last.request.url.params["since_id"] == "5"


def test_the_search_parameters_are_declared_in_the_schema(spec: dict[str, Any]) -> None:
    """The parameters ``search`` sends, as the OpenAPI schema has them."""

    def names(path: str) -> set[str]:
        return {p["name"] for p in spec["paths"][path]["get"].get("parameters", [])}

    assert {"q", "type", "limit", "resolve", "min_id", "offset"} <= names("/api/v2/search")
    assert {"limit", "since_id"} <= names("/api/v1/timelines/tag/{hashtag}")


# -- the inbox's activity read (issue 17) ----------------------------------------------------


def mention_notification(n: int, **status_fields: Any) -> dict[str, Any]:
    """A mention Notification shaped like
    https://docs.joinmastodon.org/entities/Notification/#example ."""
    when = f"2026-12-06T10:{n % 60:02d}:00.000Z"
    return {
        "id": str(n),
        "type": "mention",
        "created_at": when,
        "account": {"id": "9", "acct": "warga"},
        "status": status(created_at=when, content=f"<p>@humas {n}</p>", **status_fields),
    }


async def test_activity_reads_after_the_cursor_and_a_thread_only_where_a_reply_was_silent(
    mock: respx.MockRouter,
) -> None:
    """https://docs.joinmastodon.org/methods/notifications/#get (``min_id``) and
    https://docs.joinmastodon.org/methods/accounts/#statuses (``exclude_replies``): one
    reply notified, one post whose replies_count grew with no notification (a reply whose
    author took the name out): that post's context alone is read."""
    notifications = mock.get(f"{BASE}/api/v1/notifications").respond(
        json=[mention_notification(11, in_reply_to_id="201")]
    )
    own = mock.get(f"{BASE}/api/v1/accounts/7/statuses").respond(
        json=[
            status(id="202", replies_count=5),  # not one of the posts asked about
            status(id="201", replies_count=1),  # grew by the notified reply only
            status(id="200", replies_count=3),  # grew by 2 with nothing notified
        ]
    )
    silent = mock.get(f"{BASE}/api/v1/statuses/200/context").respond(
        json={
            "ancestors": [],
            "descendants": [
                status(id="300", in_reply_to_id="200", content="<p>tanpa nama</p>"),
                status(id="301", in_reply_to_id="300", content="<p>balasan</p>"),
            ],
        }
    )
    explained = mock.get(f"{BASE}/api/v1/statuses/201/context").respond(
        json={"ancestors": [], "descendants": []}
    )
    me = account()
    posts = [PostRef(platform="mastodon", account=me, id=i) for i in ("200", "201")]
    cursor = json.dumps({"after": "10", "me": "7", "replies": {"200": 1, "201": 0}})
    async with AsyncClient() as client:
        activity = await client.fetch_activity(me, cursor=cursor, posts=posts)
    sent = notifications.calls.last.request.url.params
    assert sent["min_id"] == "10" and sent.get_list("types[]") == ["mention"]
    assert own.calls.last.request.url.params["exclude_replies"] == "true"
    assert silent.call_count == 1 and not explained.called
    texts = {i.text: i for i in activity.interactions}
    assert set(texts) == {"@humas 11", "tanpa nama", "balasan"}
    assert texts["tanpa nama"].thread_id == "200"
    saved = json.loads(activity.cursor or "")
    assert saved == {"after": "11", "me": "7", "replies": {"200": 3, "201": 1}}


async def test_a_first_activity_read_takes_the_account_id_from_the_published_posts(
    mock: respx.MockRouter,
) -> None:
    """https://docs.joinmastodon.org/entities/Status/#account : the publish answer names the
    account, whose id the ref keeps (``extra["account_id"]``); a first read with such posts
    reads that account's statuses without asking ``verify_credentials``, and keeps the id
    in its cursor."""
    mock.get(f"{BASE}/api/v2/instance").respond(json=instance())
    published = mock.post(f"{BASE}/api/v1/statuses").respond(
        json=status(id="200", account={"id": "7", "acct": "humas"})
    )
    mock.get(f"{BASE}/api/v1/notifications").respond(json=[])
    verify = mock.get(f"{BASE}/api/v1/accounts/verify_credentials")
    own = mock.get(f"{BASE}/api/v1/accounts/7/statuses").respond(
        json=[status(id="200", replies_count=0)]
    )
    me = account()
    async with AsyncClient() as client:
        [sent] = await client.publish(Post("Jadwal posyandu"), [me])
        assert published.called and sent.ref is not None
        assert sent.ref.extra == {"account_id": "7"}
        activity = await client.fetch_activity(me, posts=[sent.ref])
    assert own.call_count == 1 and not verify.called
    assert json.loads(activity.cursor or "")["me"] == "7"


@pytest.mark.parametrize(
    "extras",
    [
        [{}],  # published before the id was kept
        [{"account_id": "7/../../admin"}],
        [{"account_id": "7?x=1"}],
        [{"account_id": "\u0667"}],  # ARABIC-INDIC DIGIT SEVEN: a digit, not an ASCII one
        [{"account_id": ""}],
        [{"account_id": "7"}, {"account_id": "8"}],  # the posts disagree
        [{"account_id": "7"}, {"account_id": "x"}],
    ],
)
async def test_without_one_clean_account_id_in_the_posts_a_first_read_asks_the_server(
    mock: respx.MockRouter, extras: list[dict[str, str]]
) -> None:
    """A missing, malformed or disagreeing ``account_id`` is never put in a path: the
    account's id is asked once (``verify_credentials``) and its statuses read."""
    mock.get(f"{BASE}/api/v1/notifications").respond(json=[])
    verify = mock.get(f"{BASE}/api/v1/accounts/verify_credentials").respond(
        json={"id": "9", "acct": "humas"}
    )
    own = mock.get(f"{BASE}/api/v1/accounts/9/statuses").respond(json=[])
    me = account()
    posts = [
        PostRef(platform="mastodon", account=me, id=str(200 + n), extra=extra)
        for n, extra in enumerate(extras)
    ]
    async with AsyncClient() as client:
        activity = await client.fetch_activity(me, posts=posts)
    assert verify.call_count == 1 and own.call_count == 1
    assert {c.request.url.path for c in mock.calls} == {
        "/api/v1/notifications",
        "/api/v1/accounts/verify_credentials",
        "/api/v1/accounts/9/statuses",
    }
    assert json.loads(activity.cursor or "")["me"] == "9"


async def test_activity_reads_newer_pages_while_they_come_back_full(
    mock: respx.MockRouter,
) -> None:
    """``min_id`` pages (https://docs.joinmastodon.org/api/guidelines/#pagination): 40 after
    the cursor, then the ones after the newest of those; the cursor ends at the newest."""
    full = [mention_notification(n) for n in range(50, 10, -1)]  # 40, newest first
    first = mock.get(f"{BASE}/api/v1/notifications", params={"min_id": "10"}).respond(json=full)
    second = mock.get(f"{BASE}/api/v1/notifications", params={"min_id": "50"}).respond(
        json=[mention_notification(51)]
    )
    verify = mock.get(f"{BASE}/api/v1/accounts/verify_credentials")
    async with AsyncClient() as client:
        activity = await client.fetch_activity(account(), cursor='{"after": "10"}')
    assert first.call_count == second.call_count == 1
    assert len(activity.interactions) == 41
    assert json.loads(activity.cursor or "")["after"] == "51"
    assert not verify.called, "no posts given: no own posts read"


@pytest.mark.parametrize(
    "cursor", ["", "null", "[]", '{"after": "1; DROP"}', '{"after": -3, "replies": [1]}', "{"]
)
async def test_an_unreadable_activity_cursor_reads_as_a_first_sync(
    mock: respx.MockRouter, cursor: str
) -> None:
    """Whatever the stored cursor holds, the read starts over from ``since``, never sends
    it on, and writes a clean cursor."""
    notifications = mock.get(f"{BASE}/api/v1/notifications").respond(
        json=[mention_notification(12)]
    )
    async with AsyncClient() as client:
        activity = await client.fetch_activity(
            account(), cursor=cursor, since=datetime(2026, 12, 6, tzinfo=UTC)
        )
    assert "min_id" not in notifications.calls.last.request.url.params
    assert json.loads(activity.cursor or "")["after"] == "12"


async def test_activity_parameters_are_declared_in_the_schema(
    spec: dict[str, Any], mock: respx.MockRouter
) -> None:
    """https://docs.joinmastodon.org/methods/notifications/#get and
    https://docs.joinmastodon.org/methods/accounts/#statuses , as the OpenAPI schema has
    them: every query parameter fetch_activity sends is declared there."""
    mock.get(f"{BASE}/api/v1/notifications").respond(json=[mention_notification(12)])
    mock.get(f"{BASE}/api/v1/accounts/verify_credentials").respond(
        json={"id": "7", "acct": "humas"}
    )
    mock.get(f"{BASE}/api/v1/accounts/7/statuses").respond(json=[status(id="200", replies_count=0)])
    me = account()
    async with AsyncClient() as client:
        await client.fetch_activity(
            me, cursor='{"after": "11"}', posts=[PostRef(platform="mastodon", account=me, id="200")]
        )
    checked = 0
    for call in mock.calls:
        path = call.request.url.path
        template = "/api/v1/accounts/{id}/statuses" if path.endswith("/statuses") else path
        declared = {p["name"] for p in spec["paths"][template]["get"].get("parameters", [])}
        sent = {name.removesuffix("[]") for name in call.request.url.params}
        assert sent <= declared, (template, sent - declared)
        checked += 1
    assert checked == 3
    assert "id" in component(spec, "Notification")


async def test_a_thread_or_counts_that_cannot_be_read_keep_the_notifications(
    mock: respx.MockRouter,
) -> None:
    """A post gone (its context answers 404) or the account's posts unreadable: the
    notifications read are still returned, the sync is told (``notes``), and the count of
    that post stays where it was, so the next read tries its thread again."""
    mock.get(f"{BASE}/api/v1/notifications").respond(json=[mention_notification(21)])
    own = mock.get(f"{BASE}/api/v1/accounts/7/statuses").respond(
        json=[status(id="200", replies_count=4)]
    )
    mock.get(f"{BASE}/api/v1/statuses/200/context").respond(404, json={"error": "Record not found"})
    me = account()
    posts = [PostRef(platform="mastodon", account=me, id="200")]
    cursor = json.dumps({"after": "20", "me": "7", "replies": {"200": 1}})
    async with AsyncClient() as client:
        gone = await client.fetch_activity(me, cursor=cursor, posts=posts)
        assert [i.text for i in gone.interactions] == ["@humas 21"]
        assert json.loads(gone.cursor or "")["replies"] == {"200": 1}
        assert any("200" in note and "Record not found" in note for note in gone.notes)
        own.respond(500, json={"error": "Something went wrong"})
        broken = await client.fetch_activity(me, cursor=cursor, posts=posts)
    assert [i.text for i in broken.interactions] == ["@humas 21"]
    assert json.loads(broken.cursor or "")["replies"] == {"200": 1}
    assert any("reply counts" in note for note in broken.notes)
