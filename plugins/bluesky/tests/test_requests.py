"""Request shapes of the Bluesky adapter, against a respx-mocked PDS.

Each test asserts on what the mocked server received (``route.calls``), not on what the
adapter says it sent. The XRPC methods are documented at https://docs.bsky.app/docs/api/
(one page per method, linked in each test).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from govsocial.adapters import AdapterContext, Http
from govsocial.core.errors import AuthenticationError, PlatformError, RateLimited
from govsocial.core.models import Account, Media, Post, PostRef
from govsocial.testing import tiny_png
from govsocial_bluesky import Bluesky
from govsocial_bluesky.tid import is_valid_tid, tid_for_key

PDS = "https://pds.test"
DID = "did:plc:alice0000000000000000000"
BOB_DID = "did:plc:bob00000000000000000000000"
PASSWORD = "abcd-efgh-ijkl-mnop"
POST_NSID = "app.bsky.feed.post"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def jwt(exp: float, scope: str = "com.atproto.access") -> str:
    """An unsigned-looking JWT with ``exp`` (the adapter never verifies signatures)."""

    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part({'scope': scope, 'exp': int(exp)})}.c2ln"


FAR_FUTURE = 4102444800  # 2100-01-01: a fixed expiry, so two calls build the same token


def session_answer(access_exp: float | None = None, tag: str = "1") -> dict[str, Any]:
    return {
        "did": DID,
        "handle": "alice.test",
        "accessJwt": jwt(access_exp if access_exp is not None else FAR_FUTURE) + tag,
        "refreshJwt": jwt(FAR_FUTURE, "com.atproto.refresh") + tag,
    }


ACCOUNT = Account(
    platform="bluesky",
    handle="alice.test",
    base_url=PDS,
    credentials={"identifier": "alice.test", "app_password": PASSWORD},
)


class Sleeps:
    """Records the waits the Http layer asks for, without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def adapter(sleeps: Sleeps) -> AsyncIterator[Bluesky]:
    async with httpx.AsyncClient() as client:
        yield Bluesky(ACCOUNT, AdapterContext(http=Http(client, sleep=sleeps, max_wait=30)))


@pytest.fixture
def pds() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", base_url=PDS, assert_all_called=False) as router:
        router.post("/xrpc/com.atproto.server.createSession", name="login").respond(
            json=session_answer()
        )
        yield router


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def bearer(request: httpx.Request) -> str:
    return request.headers["authorization"].removeprefix("Bearer ")


def post_ref(rkey: str, **extra: str) -> PostRef:
    return PostRef(
        platform="bluesky", account=ACCOUNT, id=f"at://{DID}/{POST_NSID}/{rkey}", extra=extra
    )


# -- sessions ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_ten_concurrent_calls_create_one_session(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """createSession once, then every call carries its accessJwt.

    https://docs.bsky.app/docs/api/com-atproto-server-create-session
    """
    profile = pds.get("/xrpc/app.bsky.actor.getProfile").respond(json={"followersCount": 3})
    results = await asyncio.gather(*(adapter.fetch_account_metrics() for _ in range(10)))
    assert [r.followers for r in results] == [3] * 10
    login = pds.routes["login"]
    assert login.call_count == 1
    assert body(login.calls[0].request) == {"identifier": "alice.test", "password": PASSWORD}
    access = session_answer()["accessJwt"]
    assert profile.call_count == 10
    assert {bearer(call.request) for call in profile.calls} == {access}
    assert {call.request.url.params["actor"] for call in profile.calls} == {DID}


@pytest.mark.anyio
async def test_expired_token_answer_refreshes_and_retries_once(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """A 400 ExpiredToken answer: refreshSession (Bearer refreshJwt), then the call again.

    https://docs.bsky.app/docs/api/com-atproto-server-refresh-session
    """
    first, renewed = session_answer(tag="1"), session_answer(tag="2")
    refresh = pds.post("/xrpc/com.atproto.server.refreshSession").respond(json=renewed)
    profile = pds.get("/xrpc/app.bsky.actor.getProfile").mock(
        side_effect=[
            httpx.Response(400, json={"error": "ExpiredToken", "message": "Token has expired"}),
            httpx.Response(200, json={"followersCount": 7}),
        ]
    )
    metrics = await adapter.fetch_account_metrics()
    assert metrics.followers == 7
    assert refresh.call_count == 1
    assert bearer(refresh.calls[0].request) == first["refreshJwt"]
    assert [bearer(c.request) for c in profile.calls] == [first["accessJwt"], renewed["accessJwt"]]
    assert pds.routes["login"].call_count == 1


@pytest.mark.anyio
async def test_access_token_near_expiry_is_refreshed_before_the_call(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """The accessJwt's exp claim is read; within a minute of it the session is refreshed first."""
    pds.routes["login"].respond(json=session_answer(access_exp=time.time() + 10, tag="1"))
    renewed = session_answer(tag="2")
    refresh = pds.post("/xrpc/com.atproto.server.refreshSession").respond(json=renewed)
    profile = pds.get("/xrpc/app.bsky.actor.getProfile").respond(json={"followersCount": 1})
    await adapter.fetch_account_metrics()  # logs in, token about to expire
    await adapter.fetch_account_metrics()  # refreshes before sending
    assert refresh.call_count == 1
    assert bearer(profile.calls[-1].request) == renewed["accessJwt"]


@pytest.mark.anyio
async def test_refused_refresh_logs_in_again(adapter: Bluesky, pds: respx.MockRouter) -> None:
    """A refresh token the PDS refuses (revoked) falls back to createSession."""
    pds.routes["login"].mock(
        side_effect=[
            httpx.Response(200, json=session_answer(tag="1")),
            httpx.Response(200, json=session_answer(tag="3")),
        ]
    )
    pds.post("/xrpc/com.atproto.server.refreshSession").respond(
        400, json={"error": "ExpiredToken", "message": "Token has been revoked"}
    )
    profile = pds.get("/xrpc/app.bsky.actor.getProfile").mock(
        side_effect=[
            httpx.Response(400, json={"error": "ExpiredToken", "message": "Token has expired"}),
            httpx.Response(200, json={"followersCount": 2}),
        ]
    )
    assert (await adapter.fetch_account_metrics()).followers == 2
    assert pds.routes["login"].call_count == 2
    assert bearer(profile.calls[1].request) == session_answer(tag="3")["accessJwt"]


@pytest.mark.anyio
async def test_wrong_app_password_is_an_authentication_error_without_the_secret(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    pds.routes["login"].respond(
        401, json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
    )
    with pytest.raises(AuthenticationError) as caught:
        await adapter.fetch_account_metrics()
    assert "App passwords" in str(caught.value)
    assert "alice.test" in str(caught.value)  # the identifier is public: not scrubbed
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in repr(caught.value)


@pytest.mark.anyio
async def test_session_tokens_are_scrubbed_from_error_messages(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    access = session_answer()["accessJwt"]
    pds.get("/xrpc/app.bsky.actor.getProfile").respond(
        400, json={"error": "InvalidRequest", "message": f"bad request with {access}"}
    )
    with pytest.raises(PlatformError) as caught:
        await adapter.fetch_account_metrics()
    assert access not in str(caught.value)
    assert "***" in str(caught.value)


# -- publishing ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_publish_sends_record_with_facets_images_and_tid_rkey(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """createRecord {repo, collection, rkey, record}; uploadBlob takes the raw bytes.

    https://docs.bsky.app/docs/api/com-atproto-repo-create-record,
    https://docs.bsky.app/docs/api/com-atproto-repo-upload-blob,
    https://docs.bsky.app/docs/advanced-guides/post-richtext
    """
    resolve = pds.get("/xrpc/com.atproto.identity.resolveHandle")
    resolve.side_effect = lambda request: (
        httpx.Response(200, json={"did": BOB_DID})
        if request.url.params["handle"] == "bob.test"
        else httpx.Response(400, json={"error": "InvalidRequest", "message": "Unable to resolve"})
    )
    blob = {"$type": "blob", "ref": {"$link": "bafkrei"}, "mimeType": "image/png", "size": 70}
    upload = pds.post("/xrpc/com.atproto.repo.uploadBlob").respond(json={"blob": blob})
    key = Bluesky.new_idempotency_key()
    uri = f"at://{DID}/{POST_NSID}/{key}"
    create = pds.post("/xrpc/com.atproto.repo.createRecord").respond(
        json={"uri": uri, "cid": "bafyreipost"}
    )
    text = "Halo @bob.test dan @nobody.test #Vaksinasi https://example.go.id/info"
    post = Post(text, language="id", media=[Media(data=tiny_png(), alt_text="Peta")])
    ref = await adapter.publish(post, idempotency_key=key)

    assert ref.id == uri
    assert ref.extra == {"cid": "bafyreipost"}
    assert ref.url == f"https://bsky.app/profile/alice.test/post/{key}"
    [upload_call] = upload.calls
    assert upload_call.request.content == tiny_png()
    assert upload_call.request.headers["content-type"] == "image/png"
    sent = body(create.calls[0].request)
    assert sent["repo"] == DID
    assert sent["collection"] == POST_NSID
    assert sent["rkey"] == key and is_valid_tid(key)
    record = sent["record"]
    assert record["text"] == text
    assert record["langs"] == ["id"]
    assert record["createdAt"].endswith("Z")
    datetime.fromisoformat(record["createdAt"])
    assert record["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [{"alt": "Peta", "image": blob, "aspectRatio": {"width": 1, "height": 1}}],
    }
    raw = text.encode()
    features = {}
    for facet in record["facets"]:
        [feature] = facet["features"]
        features[raw[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode()] = feature
    assert features["@bob.test"]["did"] == BOB_DID
    assert "@nobody.test" not in features  # unresolvable: stays plain text
    assert features["#Vaksinasi"]["tag"] == "Vaksinasi"
    assert features["https://example.go.id/info"]["uri"] == "https://example.go.id/info"


@pytest.mark.anyio
async def test_non_tid_key_becomes_a_deterministic_tid(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    create = pds.post("/xrpc/com.atproto.repo.createRecord").respond(
        json={"uri": f"at://{DID}/{POST_NSID}/x", "cid": "c"}
    )
    await adapter.publish(Post("satu"), idempotency_key="delivery-42")
    await adapter.publish(Post("satu"), idempotency_key="delivery-42")
    rkeys = [body(call.request)["rkey"] for call in create.calls]
    assert rkeys == [tid_for_key("delivery-42")] * 2
    assert is_valid_tid(rkeys[0])


@pytest.mark.anyio
async def test_repeated_create_returns_the_existing_post(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """A create over an existing rkey fails; the record is read back and returned."""
    key = Bluesky.new_idempotency_key()
    uri = f"at://{DID}/{POST_NSID}/{key}"
    create = pds.post("/xrpc/com.atproto.repo.createRecord").respond(
        500, json={"error": "InternalServerError", "message": "Internal Server Error"}
    )
    get = pds.get("/xrpc/com.atproto.repo.getRecord").respond(
        json={"uri": uri, "cid": "bafyexisting", "value": {"text": "Halo", "createdAt": "x"}}
    )
    ref = await adapter.publish(Post("Halo"), idempotency_key=key)
    assert (ref.id, ref.extra["cid"]) == (uri, "bafyexisting")
    assert create.call_count == 1  # a create is never retried blindly
    assert dict(get.calls[0].request.url.params) == {
        "repo": DID,
        "collection": POST_NSID,
        "rkey": key,
    }


@pytest.mark.anyio
async def test_key_reused_for_other_text_is_refused(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    key = Bluesky.new_idempotency_key()
    pds.post("/xrpc/com.atproto.repo.createRecord").respond(
        400, json={"error": "RecordAlreadyExists", "message": "Record already exists"}
    )
    pds.get("/xrpc/com.atproto.repo.getRecord").respond(
        json={"uri": f"at://{DID}/{POST_NSID}/{key}", "cid": "c", "value": {"text": "lain"}}
    )
    with pytest.raises(PlatformError, match="different post"):
        await adapter.publish(Post("Halo"), idempotency_key=key)


@pytest.mark.anyio
async def test_invalid_record_error_keeps_the_xrpc_name_and_message(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    pds.post("/xrpc/com.atproto.repo.createRecord").respond(
        400, json={"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record"}
    )
    pds.get("/xrpc/com.atproto.repo.getRecord").respond(
        400, json={"error": "RecordNotFound", "message": "Could not locate record"}
    )
    with pytest.raises(PlatformError) as caught:
        await adapter.publish(Post("Halo"), idempotency_key=Bluesky.new_idempotency_key())
    assert caught.value.status == 400
    assert "InvalidRequest" in str(caught.value)
    assert "Invalid app.bsky.feed.post record" in str(caught.value)


@pytest.mark.anyio
async def test_reply_without_root_info_reads_the_parent(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """reply {root, parent}: the parent's own reply.root becomes the root.

    https://docs.bsky.app/docs/advanced-guides/posts#replies
    """
    root = {"uri": f"at://{BOB_DID}/{POST_NSID}/root", "cid": "bafyroot"}
    pds.get("/xrpc/com.atproto.repo.getRecord").respond(
        json={
            "uri": f"at://{BOB_DID}/{POST_NSID}/mid",
            "cid": "bafymid",
            "value": {"text": "mid", "reply": {"root": root, "parent": root}},
        }
    )
    create = pds.post("/xrpc/com.atproto.repo.createRecord").respond(
        json={"uri": f"at://{DID}/{POST_NSID}/r", "cid": "bafyr"}
    )
    parent = PostRef(platform="bluesky", account=ACCOUNT, id=f"at://{BOB_DID}/{POST_NSID}/mid")
    ref = await adapter.publish(Post("jawab", reply_to=parent), idempotency_key="k")
    reply = body(create.calls[0].request)["record"]["reply"]
    assert reply == {"root": root, "parent": {"uri": parent.id, "cid": "bafymid"}}
    assert ref.extra == {"cid": "bafyr", "root_uri": root["uri"], "root_cid": "bafyroot"}


@pytest.mark.anyio
async def test_reply_to_a_top_level_post_with_known_cid(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    get = pds.get("/xrpc/com.atproto.repo.getRecord").respond(
        json={"uri": "at://x", "cid": "bafytop", "value": {"text": "top"}}
    )
    create = pds.post("/xrpc/com.atproto.repo.createRecord").respond(
        json={"uri": f"at://{DID}/{POST_NSID}/r", "cid": "bafyr"}
    )
    parent = post_ref("top", cid="bafytop")
    await adapter.publish(Post("lanjut", reply_to=parent), idempotency_key="k2")
    strong = {"uri": parent.id, "cid": "bafytop"}
    assert body(create.calls[0].request)["record"]["reply"] == {"root": strong, "parent": strong}
    assert get.call_count == 1  # root unknown: the parent was read to learn it is the root


@pytest.mark.anyio
async def test_find_published_and_delete(adapter: Bluesky, pds: respx.MockRouter) -> None:
    """getRecord at TID(key) finds it; deleteRecord {repo, collection, rkey}.

    https://docs.bsky.app/docs/api/com-atproto-repo-get-record,
    https://docs.bsky.app/docs/api/com-atproto-repo-delete-record
    """
    get = pds.get("/xrpc/com.atproto.repo.getRecord").mock(
        side_effect=[
            httpx.Response(400, json={"error": "RecordNotFound", "message": "Could not locate"}),
            httpx.Response(
                200, json={"uri": f"at://{DID}/{POST_NSID}/k", "cid": "c", "value": {"text": "t"}}
            ),
        ]
    )
    assert await adapter.find_published("lost-key") is None
    assert get.calls[0].request.url.params["rkey"] == tid_for_key("lost-key")
    found = await adapter.find_published("lost-key")
    assert found is not None and found.extra == {"cid": "c"}
    delete = pds.post("/xrpc/com.atproto.repo.deleteRecord").respond(json={})
    await adapter.delete(found)
    assert body(delete.calls[0].request) == {"repo": DID, "collection": POST_NSID, "rkey": "k"}


# -- reading -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_get_posts_batches_of_25_and_missing_posts_have_no_figures(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """60 refs: three getPosts calls (25, 25, 10 URIs); an unknown post has all None.

    https://docs.bsky.app/docs/api/app-bsky-feed-get-posts
    """

    def answer(request: httpx.Request) -> httpx.Response:
        uris = request.url.params.get_list("uris")
        posts = [
            {"uri": u, "likeCount": 1, "repostCount": 2, "replyCount": 3, "quoteCount": 4}
            for u in uris
            if not u.endswith("/p59")
        ]
        return httpx.Response(200, json={"posts": posts})

    get_posts = pds.get("/xrpc/app.bsky.feed.getPosts").mock(side_effect=answer)
    refs = [post_ref(f"p{i}") for i in range(60)]
    metrics = await adapter.fetch_metrics(refs)
    sizes = [len(call.request.url.params.get_list("uris")) for call in get_posts.calls]
    assert sizes == [25, 25, 10]
    assert "atproto-proxy" not in get_posts.calls[0].request.headers
    assert [m.ref for m in metrics] == refs
    assert (metrics[0].likes, metrics[0].reposts, metrics[0].replies, metrics[0].quotes) == (
        1,
        2,
        3,
        4,
    )
    last = metrics[59]
    assert (last.likes, last.reposts, last.replies, last.quotes, last.views) == (None,) * 5


@pytest.mark.anyio
async def test_rate_limit_headers_feed_the_budget(adapter: Bluesky, pds: respx.MockRouter) -> None:
    """RateLimit-Limit / -Remaining / -Reset (epoch seconds) are read after each answer."""
    reset = int(time.time()) + 300
    pds.get("/xrpc/app.bsky.actor.getProfile").respond(
        json={},
        headers={
            "RateLimit-Limit": "3000",
            "RateLimit-Remaining": "2999",
            "RateLimit-Reset": str(reset),
        },
    )
    await adapter.fetch_account_metrics()
    state = adapter.http.budget.get(ACCOUNT.key)
    assert state is not None
    assert (state.limit, state.remaining, state.reset_at) == (3000, 2999, float(reset))


@pytest.mark.anyio
async def test_429_waits_retry_after_then_succeeds(
    adapter: Bluesky, pds: respx.MockRouter, sleeps: Sleeps
) -> None:
    profile = pds.get("/xrpc/app.bsky.actor.getProfile").mock(
        side_effect=[
            httpx.Response(
                429,
                json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                headers={"Retry-After": "7"},
            ),
            httpx.Response(200, json={"followersCount": 5}),
        ]
    )
    assert (await adapter.fetch_account_metrics()).followers == 5
    assert profile.call_count == 2
    assert sleeps.waits == [7.0]


@pytest.mark.anyio
async def test_429_asking_too_long_raises_rate_limited(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    pds.get("/xrpc/app.bsky.actor.getProfile").respond(
        429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"Retry-After": "3600"},
    )
    with pytest.raises(RateLimited) as caught:
        await adapter.fetch_account_metrics()
    assert caught.value.retry_after == 3600


@pytest.mark.anyio
async def test_replies_walk_the_whole_thread_oldest_first(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """getPostThread: nested replies flattened; blocked or missing ones skipped.

    https://docs.bsky.app/docs/api/app-bsky-feed-get-post-thread
    """
    root = post_ref("root", cid="bafyroot")
    strong = {"uri": root.id, "cid": "bafyroot"}

    def node(rkey: str, parent: str, minute: int, replies: list[Any]) -> dict[str, Any]:
        uri = f"at://{BOB_DID}/{POST_NSID}/{rkey}"
        return {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": {
                "uri": uri,
                "cid": f"bafy{rkey}",
                "author": {"did": BOB_DID, "handle": "bob.test", "displayName": "Bob"},
                "record": {
                    "text": f"reply {rkey}",
                    "createdAt": f"2026-01-01T00:{minute:02d}:00.000Z",
                    "reply": {"root": strong, "parent": {"uri": parent, "cid": "x"}},
                },
            },
            "replies": replies,
        }

    a_uri = f"at://{BOB_DID}/{POST_NSID}/a"
    thread = {
        "$type": "app.bsky.feed.defs#threadViewPost",
        "post": {"uri": root.id, "record": {"text": "root"}},
        "replies": [
            node("a", root.id, 5, [node("b", a_uri, 1, [])]),
            {"$type": "app.bsky.feed.defs#blockedPost", "uri": "at://blocked", "blocked": True},
        ],
    }
    route = pds.get("/xrpc/app.bsky.feed.getPostThread").respond(json={"thread": thread})
    replies = await adapter.fetch_replies(root)
    assert route.calls[0].request.url.params["uri"] == root.id
    assert [r.text for r in replies] == ["reply b", "reply a"]
    b = replies[0]
    assert b.in_reply_to_id == a_uri
    assert b.author == "bob.test" and b.author_name == "Bob"
    assert b.ref.account == ACCOUNT
    assert b.ref.extra == {"cid": "bafyb", "root_uri": root.id, "root_cid": "bafyroot"}
    assert b.ref.url == "https://bsky.app/profile/bob.test/post/b"
    assert b.created_at == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)


@pytest.mark.anyio
async def test_mentions_follow_the_cursor_until_since(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """listNotifications, reason "mention" only, cursor pages, stopping at ``since``.

    https://docs.bsky.app/docs/api/app-bsky-notification-list-notifications
    """
    base = datetime(2026, 1, 2, tzinfo=UTC)

    def note(n: int, reason: str = "mention") -> dict[str, Any]:
        at = (base - timedelta(hours=n)).isoformat().replace("+00:00", "Z")
        return {
            "uri": f"at://{BOB_DID}/{POST_NSID}/m{n}",
            "cid": f"bafym{n}",
            "author": {"did": BOB_DID, "handle": "bob.test"},
            "reason": reason,
            "record": {"text": f"@alice.test halo {n}", "createdAt": at},
            "indexedAt": at,
        }

    pages = {
        None: {"notifications": [note(0), note(1, "like"), note(2)], "cursor": "c1"},
        "c1": {"notifications": [note(3), note(30)], "cursor": "c2"},
        "c2": {"notifications": [note(40)]},
    }
    route = pds.get("/xrpc/app.bsky.notification.listNotifications").mock(
        side_effect=lambda request: httpx.Response(
            200, json=pages[request.url.params.get("cursor")]
        )
    )
    found = await adapter.fetch_mentions(since=base - timedelta(hours=10))
    assert [m.text for m in found] == [
        "@alice.test halo 3",
        "@alice.test halo 2",
        "@alice.test halo 0",
    ]
    assert all(m.kind == "mention" for m in found)
    assert route.call_count == 2  # the second page already reached back past `since`
    assert route.calls[0].request.url.params.get_list("reasons") == ["mention"]


@pytest.mark.anyio
async def test_mentions_page_by_indexed_at_not_the_authors_created_at(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """A mention whose author wrote createdAt 2025 (or 2099) but that the AppView indexed
    after ``since`` is returned, with ``received_at`` = ``indexedAt`` (issue 13, finding 4)."""
    since = datetime(2026, 1, 2, tzinfo=UTC)

    def note(n: int, created: str) -> dict[str, Any]:
        return {
            "uri": f"at://{BOB_DID}/{POST_NSID}/m{n}",
            "cid": f"bafym{n}",
            "author": {"did": BOB_DID, "handle": "bob.test"},
            "reason": "mention",
            "record": {"text": f"@alice.test {n}", "createdAt": created},
            "indexedAt": f"2026-01-02T00:0{n}:00.000Z",
        }

    pds.get("/xrpc/app.bsky.notification.listNotifications").respond(
        json={"notifications": [note(2, "2099-01-01T00:00:00Z"), note(1, "2025-01-01T00:00:00Z")]}
    )
    found = await adapter.fetch_mentions(since=since)
    assert [m.text for m in found] == ["@alice.test 1", "@alice.test 2"]
    assert [m.received_at for m in found] == [
        datetime(2026, 1, 2, 0, 1, tzinfo=UTC),
        datetime(2026, 1, 2, 0, 2, tzinfo=UTC),
    ]
    assert found[1].created_at == datetime(2099, 1, 1, tzinfo=UTC), "the author's date is kept"


# -- the inbox's activity read (issue 17) ----------------------------------------------------


def activity_note(n: int, reason: str, at: datetime, **record: Any) -> dict[str, Any]:
    """A notification shaped like the listNotifications output of
    https://docs.bsky.app/docs/api/app-bsky-notification-list-notifications ."""
    when = at.isoformat().replace("+00:00", "Z")
    return {
        "uri": f"at://{BOB_DID}/{POST_NSID}/n{n}",
        "cid": f"bafyn{n}",
        "author": {"did": BOB_DID, "handle": "bob.test"},
        "reason": reason,
        "record": {"text": f"catatan {n}", "createdAt": when, **record},
        "isRead": False,
        "indexedAt": when,
    }


@pytest.mark.anyio
async def test_activity_reads_replies_mentions_and_quotes_and_threads_replies_to_the_root(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """Reasons reply, mention and quote, one page, stopping at the previous cursor less the
    overlap; a reply deep in the thread carries the root; likes are not inbox items."""
    now = datetime.now(UTC).replace(microsecond=0)
    root = post_ref("root")
    deep = {
        "reply": {
            "root": {"uri": root.id, "cid": "bafyroot"},
            "parent": {"uri": f"at://{BOB_DID}/{POST_NSID}/x", "cid": "bafyx"},
        }
    }
    page = {
        "notifications": [
            activity_note(4, "reply", now - timedelta(minutes=1), **deep),
            activity_note(3, "like", now - timedelta(minutes=2)),
            activity_note(2, "quote", now - timedelta(minutes=3)),
            activity_note(1, "mention", now - timedelta(minutes=4)),
            activity_note(0, "mention", now - timedelta(hours=2)),  # before the cursor
        ],
        "cursor": "older",
    }
    route = pds.get("/xrpc/app.bsky.notification.listNotifications").respond(json=page)
    previous = json.dumps({"seen": (now - timedelta(hours=1)).isoformat(), "gaps": []})
    activity = await adapter.fetch_activity(cursor=previous)
    assert route.call_count == 1
    sent = route.calls[0].request.url.params
    assert sorted(sent.get_list("reasons")) == ["mention", "quote", "reply"]
    kinds = {i.text: (i.kind, i.thread_id) for i in activity.interactions}
    assert kinds == {
        "catatan 4": ("reply", root.id),
        "catatan 2": ("mention", None),
        "catatan 1": ("mention", None),
    }
    assert json.loads(activity.cursor or "")["seen"] == (now - timedelta(minutes=1)).isoformat()


@pytest.mark.anyio
async def test_a_read_the_page_cap_stopped_resumes_where_it_stopped(
    adapter: Bluesky, pds: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More notifications than the cap allows between two syncs: the first call keeps the
    page cursor where it stopped, the next reads the new ones and then the rest of the
    stretch: every notification arrives, none twice."""
    import govsocial_bluesky.adapter as module

    monkeypatch.setattr(module, "_MAX_NOTIFICATION_PAGES", 2)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(hours=3)
    pages: dict[str | None, dict[str, Any]] = {
        None: {"notifications": [activity_note(9, "mention", now - timedelta(minutes=9))]},
    }
    pages[None]["cursor"] = "p2"
    pages["p2"] = {"notifications": [activity_note(8, "mention", now - timedelta(minutes=19))]}
    pages["p2"]["cursor"] = "p3"
    pages["p3"] = {"notifications": [activity_note(7, "mention", now - timedelta(minutes=29))]}
    pages["p3"]["cursor"] = "p4"
    pages["p4"] = {"notifications": [activity_note(6, "mention", now - timedelta(hours=5))]}
    asked: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params.get("cursor"))
        return httpx.Response(200, json=pages[request.url.params.get("cursor")])

    pds.get("/xrpc/app.bsky.notification.listNotifications").mock(side_effect=answer)
    first = await adapter.fetch_activity(since=start)
    assert [i.text for i in first.interactions] == ["catatan 8", "catatan 9"]
    assert json.loads(first.cursor or "")["gaps"] == [["p3", start.isoformat()]]
    # nothing newer arrives; the next call reads the top page, then the stretch left
    pages[None] = {"notifications": [activity_note(9, "mention", now - timedelta(minutes=9))]}
    asked.clear()
    second = await adapter.fetch_activity(cursor=first.cursor)
    assert asked == [None, "p3"]
    assert [i.text for i in second.interactions] == ["catatan 7", "catatan 9"]
    assert json.loads(second.cursor or "")["gaps"] == [["p4", start.isoformat()]]
    asked.clear()
    third = await adapter.fetch_activity(cursor=second.cursor)
    assert asked == [None, "p4"], "the stretch ends on a page older than where it started"
    assert [i.text for i in third.interactions] == ["catatan 9"]  # the overlap, re-read
    assert json.loads(third.cursor or "")["gaps"] == []


@pytest.mark.anyio
async def test_activity_reads_a_thread_only_where_the_reply_count_grew_unnotified(
    adapter: Bluesky, pds: respx.MockRouter
) -> None:
    """app.bsky.feed.getAuthorFeed (posts_no_replies) gives the posts' replyCount; a
    backdated reply is listed far down the notifications, so a post whose count grew with
    nothing notified has its thread read (getPostThread), and that post only."""
    now = datetime.now(UTC).replace(microsecond=0)
    quiet, busy = post_ref("quiet"), post_ref("busy")
    pds.get("/xrpc/app.bsky.notification.listNotifications").respond(json={"notifications": []})
    feed = pds.get("/xrpc/app.bsky.feed.getAuthorFeed").respond(
        json={
            "feed": [
                {"post": {"uri": busy.id, "cid": "bafyb", "replyCount": 1}},
                {"post": {"uri": quiet.id, "cid": "bafyq", "replyCount": 0}},
            ]
        }
    )
    backdated = activity_note(5, "reply", datetime(2025, 1, 1, tzinfo=UTC))
    backdated["record"]["reply"] = {
        "root": {"uri": busy.id, "cid": "bafyb"},
        "parent": {"uri": busy.id, "cid": "bafyb"},
    }
    thread = pds.get("/xrpc/app.bsky.feed.getPostThread").respond(
        json={
            "thread": {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": {"uri": busy.id},
                "replies": [{"$type": "app.bsky.feed.defs#threadViewPost", "post": backdated}],
            }
        }
    )
    previous = json.dumps({"seen": now.isoformat(), "replies": {busy.id: 0, quiet.id: 0}})
    activity = await adapter.fetch_activity(cursor=previous, posts=[quiet, busy])
    assert feed.calls[0].request.url.params["filter"] == "posts_no_replies"
    assert thread.call_count == 1
    assert thread.calls[0].request.url.params["uri"] == busy.id
    assert [(i.text, i.kind, i.thread_id) for i in activity.interactions] == [
        ("catatan 5", "reply", busy.id)
    ]
    assert json.loads(activity.cursor or "")["replies"] == {busy.id: 1, quiet.id: 0}


@pytest.mark.anyio
@pytest.mark.parametrize(
    "cursor",
    ["", "{", "[1]", '{"seen": "2099-01-01T00:00:00Z", "gaps": [[1, 2], ["", "x"]]}', '"x"'],
)
async def test_an_unreadable_or_hostile_activity_cursor_is_read_safely(
    adapter: Bluesky, pds: respx.MockRouter, cursor: str
) -> None:
    """A cursor the adapter cannot read starts over from ``since``; a notification the
    AppView dated in the future never becomes the next cursor (it is capped at now)."""
    now = datetime.now(UTC)
    route = pds.get("/xrpc/app.bsky.notification.listNotifications").respond(
        json={"notifications": [activity_note(1, "mention", datetime(2099, 1, 1, tzinfo=UTC))]}
    )
    activity = await adapter.fetch_activity(cursor=cursor, since=now - timedelta(days=1))
    assert route.call_count == 1
    assert "cursor" not in route.calls[0].request.url.params
    seen = datetime.fromisoformat(json.loads(activity.cursor or "")["seen"])
    assert seen <= datetime.now(UTC)
