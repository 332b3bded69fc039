"""Failures: throttling, server errors, lost answers, expired tokens, bad bodies.

respx stand-ins pin single answers; the emulator (directly, or through Prism where the
endpoint is in the spec) keeps state for the token and media flows.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator

import httpx
import pytest
import respx

from govsocial import Account, AsyncClient, Media, Post, PostRef
from govsocial.client.validation import validate
from govsocial.core.errors import (
    AuthenticationError,
    ConfigurationError,
    PlatformError,
    PublishOutcomeUnknown,
    RateLimited,
)
from govsocial.testing import unique_text
from govsocial_x import X
from govsocial_x.testing import DUPLICATE, REPLY_REFUSED, Emulator

pytestmark = pytest.mark.anyio

BASE = "https://api.x.com"
TOKEN = "dGVzdC1vbmx5LWZha2UtdG9rZW4tZm9yLWZhaWx1cmVzLTAx"
CREATED = {"data": {"id": "1445880548472328192", "text": "Halo"}}


def account(**extra: str) -> Account:
    return Account(platform="x", handle="@humas_kota", credentials={"access_token": TOKEN, **extra})


def client(**kwargs: object) -> AsyncClient:
    return AsyncClient(transport=httpx.AsyncHTTPTransport(), max_wait=5.0, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router


# -- throttling and server errors --------------------------------------------------------------


async def test_429_past_max_wait_is_rate_limited_with_the_window_reset(
    mock: respx.MockRouter,
) -> None:
    reset = int(time.time()) + 600
    route = mock.get(f"{BASE}/2/users/me").respond(
        429,
        json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
        headers={
            "x-rate-limit-limit": "75",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    async with client() as c:
        with pytest.raises(RateLimited) as caught:
            await c.fetch_account_metrics(account())
    assert route.call_count == 1  # no blind retry: the wait is longer than max_wait
    assert "15-minute limit" in str(caught.value) and "Rate limit exceeded" in str(caught.value)
    assert caught.value.retry_after is not None and 590 < caught.value.retry_after <= 600


async def test_503_then_success_publishes_once(mock: respx.MockRouter) -> None:
    route = mock.post(f"{BASE}/2/tweets").mock(
        side_effect=[
            httpx.Response(
                503,
                json={
                    "title": "Service Unavailable",
                    "detail": "Service Unavailable",
                    "type": "about:blank",
                    "status": 503,
                },
            ),
            httpx.Response(201, json=CREATED),
        ]
    )
    async with client() as c:
        result = await c.publish_one(Post("Halo"), account())
    assert result.ok, result.error
    assert route.call_count == 2


async def test_a_timeout_after_the_create_was_sent_is_never_resent(mock: respx.MockRouter) -> None:
    route = mock.post(f"{BASE}/2/tweets").mock(side_effect=httpx.ReadTimeout("read timed out"))
    async with client() as c:
        result = await c.publish_one(Post("Halo"), account(), idempotency_key="delivery-7")
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert result.error.idempotency_key == "delivery-7"
    assert route.call_count == 1


async def test_an_unreadable_create_answer_is_an_unknown_outcome(mock: respx.MockRouter) -> None:
    mock.post(f"{BASE}/2/tweets").respond(201, text="<html>gateway</html>")
    async with client() as c:
        result = await c.publish_one(Post("Halo"), account())
    assert isinstance(result.error, PublishOutcomeUnknown)


async def test_malformed_json_on_a_read_is_a_platform_error(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/2/tweets").respond(200, text='{"data": [')
    ref = PostRef(platform="x", account=account(), id="1445880548472328192")
    async with client() as c:
        with pytest.raises(PlatformError, match="not the JSON expected"):
            await c.fetch_metrics([ref])


async def test_a_403_without_duplicate_names_access_level_and_scopes(
    mock: respx.MockRouter,
) -> None:
    mock.post(f"{BASE}/2/tweets").respond(
        403,
        json={
            "title": "Forbidden",
            "detail": "You are not permitted to perform this action.",
            "type": "about:blank",
            "status": 403,
        },
    )
    async with client() as c:
        result = await c.publish_one(Post("Halo"), account())
    assert isinstance(result.error, PlatformError)
    assert "duplicate" not in str(result.error)
    assert "tweet.write" in str(result.error)


# -- tokens --------------------------------------------------------------------------------------


async def test_an_expired_token_without_refresh_says_what_to_do(emulator: Emulator) -> None:
    user = next(iter(emulator.users.values()))
    stale = emulator.account(user)
    emulator.expire_access_token(user)
    async with AsyncClient(max_wait=5.0) as c:
        result = await c.publish_one(Post(unique_text()), stale)
    error = result.error
    assert isinstance(error, AuthenticationError)
    assert "refresh_token" in str(error) and "offline.access" in str(error)
    assert stale.credential("access_token") not in str(error)
    assert emulator.tweets == {}


async def test_an_expired_token_is_refreshed_once_and_the_request_repeated(
    emulator: Emulator,
) -> None:
    user = next(iter(emulator.users.values()))
    stale = emulator.account(user, refresh=True)
    old_refresh = user.refresh_token
    emulator.expire_access_token(user)
    told: list[dict[str, str]] = []
    text = unique_text()
    async with AsyncClient(
        max_wait=5.0, on_credentials=lambda _a, values: told.append(values)
    ) as c:
        first, second = await asyncio.gather(
            c.publish_one(Post(text), stale), c.publish_one(Post(text + " 2"), stale)
        )
    assert first.ok and second.ok, (first.error, second.error)
    assert len(emulator.refreshes) == 1  # two 401s, one refresh: X rotates refresh tokens
    assert emulator.refreshes[0]["refresh_token"] == old_refresh
    assert emulator.refreshes[0]["grant_type"] == "refresh_token"
    assert told == [{"access_token": user.access_token, "refresh_token": user.refresh_token}]
    assert {t["text"] for t in emulator.tweets.values()} == {text, text + " 2"}


async def test_a_scheduled_refresh_renews_the_tokens_before_they_fail(emulator: Emulator) -> None:
    user = next(iter(emulator.users.values()))
    account = emulator.account(user, refresh=True)
    old_access, old_refresh = user.access_token, user.refresh_token
    told: list[dict[str, str]] = []
    async with AsyncClient(max_wait=5.0, on_credentials=lambda _a, v: told.append(v)) as c:
        assert await c.refresh_credentials(account) is True
        result = await c.publish_one(Post(unique_text()), account)
    assert result.ok, result.error
    assert [r["refresh_token"] for r in emulator.refreshes] == [old_refresh]
    assert told == [{"access_token": user.access_token, "refresh_token": user.refresh_token}]
    assert user.access_token != old_access
    async with AsyncClient(max_wait=5.0) as c:  # without a refresh token: nothing to renew
        assert await c.refresh_credentials(emulator.account(user)) is False


async def test_a_refused_refresh_says_to_reauthorise(emulator: Emulator) -> None:
    user = next(iter(emulator.users.values()))
    stale = emulator.account(user, refresh=True)
    emulator.expire_access_token(user)
    user.refresh_token = "rt-revoked-elsewhere"
    async with AsyncClient(max_wait=5.0) as c:
        result = await c.publish_one(Post(unique_text()), stale)
    error = result.error
    assert isinstance(error, AuthenticationError)
    assert "Value passed for the token was invalid" in str(error)
    assert "re-authorise" in str(error)
    assert stale.credential("refresh_token") not in str(error)


async def test_a_confidential_client_refreshes_with_basic_auth(mock: respx.MockRouter) -> None:
    """https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token :
    confidential clients send "Authorization: Basic base64(client_id:client_secret)"."""
    mock.get(f"{BASE}/2/users/me").mock(
        side_effect=[
            httpx.Response(
                401,
                json={
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
            ),
            httpx.Response(200, json={"data": {"id": "1", "name": "H", "username": "humas_kota"}}),
        ]
    )
    token = mock.post(f"{BASE}/2/oauth2/token").respond(
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "bmV3LWFjY2Vzcy10b2tlbi1mYWtl",
            "scope": "tweet.read tweet.write users.read media.write offline.access",
            "refresh_token": "bmV3LXJlZnJlc2gtdG9rZW4tZmFrZQ",
        }
    )
    secret_account = account(
        refresh_token="b2xkLXJlZnJlc2gtdG9rZW4tZmFrZQ",
        client_id="Y2xpZW50LWlk",
        client_secret="c2VjcmV0LWZha2U",
    )
    async with client() as c:
        await c.fetch_account_metrics(secret_account)
    request = token.calls[0].request
    expected = base64.b64encode(b"Y2xpZW50LWlk:c2VjcmV0LWZha2U").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": "b2xkLXJlZnJlc2gtdG9rZW4tZmFrZQ",
        "client_id": "Y2xpZW50LWlk",
    }


def test_a_refresh_token_needs_a_client_id() -> None:
    from govsocial.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="client_id"):
        X.check_account(account(refresh_token="b2xkLXJlZnJlc2gtdG9rZW4tZmFrZQ"))


# -- through Prism: duplicates and chunked media ---------------------------------------------------


async def test_a_duplicate_text_is_refused_and_said_to_exist(checked_emulator: Emulator) -> None:
    author = checked_emulator.accounts[0]
    text = unique_text("Pengumuman")
    async with AsyncClient(max_wait=5.0) as c:
        first = await c.publish_one(Post(text), author)
        again = await c.publish_one(Post(text), author)
    assert first.ok, first.error
    assert isinstance(again.error, PlatformError)
    assert DUPLICATE in str(again.error) and "earlier post exists" in str(again.error)
    assert [t["text"] for t in checked_emulator.tweets.values()].count(text) == 1


async def test_a_gif_goes_through_initialize_append_finalize_and_status(
    checked_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(X, "media_poll_interval", 0.01)
    monkeypatch.setattr(X, "chunk_size", 64)
    checked_emulator.processing_polls = 2
    gif = b"GIF89a" + bytes(range(200))
    author = checked_emulator.accounts[0]
    post = Post(unique_text(), media=[Media(data=gif, alt_text="Animasi jadwal")])
    async with AsyncClient(max_wait=5.0) as c:
        result = await c.publish_one(post, author)
    assert result.ok, result.error
    assert result.ref is not None
    stored = checked_emulator.stored_post(result.ref)
    assert stored is not None
    [media_id] = stored["media_ids"]
    record = checked_emulator.media[media_id]
    assert record["kind"] == "image/gif" and record["polls_left"] == 0
    assert b"".join(record["chunks"][i] for i in sorted(record["chunks"])) == gif
    assert len(record["chunks"]) == 4
    assert checked_emulator.stored_alt_texts(stored) == ["Animasi jadwal"]


# -- X's 2026 rules and answers ------------------------------------------------------------------


async def test_a_reply_x_refuses_under_its_reply_rule_gets_that_hint_not_an_auth_one(
    emulator: Emulator,
) -> None:
    """Since 2026-02-23 X refuses an API reply (Free, Basic, Pro, pay-per-use) unless the
    author of the post replied to mentioned or quoted the replying account."""
    emulator.access_tier = "basic"
    agency, citizen = emulator.accounts
    async with AsyncClient(max_wait=5.0) as c:
        question = await c.publish_one(Post(unique_text("Kapan vaksin?")), citizen)
        assert question.ok and question.ref is not None
        refused = await c.publish_one(
            Post(unique_text("Besok pukul 08.00"), reply_to=question.ref), agency
        )
        asked = await c.publish_one(Post(unique_text("@humas_kota kapan vaksin?")), citizen)
        assert asked.ok and asked.ref is not None
        answered = await c.publish_one(
            Post(unique_text("Besok pukul 08.00"), reply_to=asked.ref), agency
        )
    assert isinstance(refused.error, PlatformError)
    assert REPLY_REFUSED in str(refused.error)  # X's own words
    assert refused.error.field == "reply_to"
    hint = refused.error.hint or ""
    assert "Public Utility" in hint and "developer.x.com" in hint
    assert "Project" not in hint and "scopes" not in hint  # not the access-level hint
    assert answered.ok, answered.error
    agency_id = emulator.user_of(agency).id
    replies = [t for t in emulator.tweets.values() if t["author_id"] == agency_id]
    assert [r["referenced_tweets"][0]["id"] for r in replies] == [asked.ref.id]


def test_validate_warns_that_x_may_refuse_a_reply() -> None:
    parent = PostRef(platform="x", account=account(), id="1445880548472328192")
    problems = validate(Post("Terima kasih", reply_to=parent), "x")
    assert [(p.code, p.severity, p.field) for p in problems] == [
        ("reply_restricted", "warning", "reply_to")
    ]
    assert "Public Utility" in problems[0].message and "2026-02-23" in problems[0].message
    assert validate(Post("Terima kasih"), "x") == []


async def test_a_delete_answered_deleted_false_is_a_failure_and_the_post_stays(
    emulator: Emulator,
) -> None:
    author = emulator.accounts[0]
    async with AsyncClient(max_wait=5.0) as c:
        result = await c.publish_one(Post(unique_text()), author)
        assert result.ref is not None
        emulator.refuse_deletes = True
        with pytest.raises(PlatformError, match='"deleted": false') as raised:
            await c.delete(result.ref)
        assert raised.value.field == "ref"
        assert emulator.stored_post(result.ref) is not None
        emulator.refuse_deletes = False
        await c.delete(result.ref)
    assert emulator.stored_post(result.ref) is None


async def test_a_video_over_4_mib_goes_in_chunks_x_takes(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """X takes a base64 APPEND chunk of at most 5 MB; the emulator refuses a longer one, so
    the adapter's default chunk size must stay under it (4 MiB raw did not: 5.59 MB)."""
    monkeypatch.setattr(X, "media_poll_interval", 0.01)
    pytest.importorskip("av")
    from govsocial.testing.video import make_video

    # a real (readable) video, padded past 9 MiB after its last box
    video = make_video(width=64, height=64, seconds=1) + bytes(9 * 2**20)
    author = emulator.accounts[0]
    post = Post(unique_text(), media=[Media(data=video, mime_type="video/mp4")])
    async with AsyncClient(max_wait=5.0) as c:
        result = await c.publish_one(post, author)
    assert result.ok, result.error
    assert result.ref is not None
    stored = emulator.stored_post(result.ref)
    assert stored is not None
    record = emulator.media[stored["media_ids"][0]]
    assert b"".join(record["chunks"][i] for i in sorted(record["chunks"])) == video
    assert all(len(base64.b64encode(c)) <= 5_000_000 for c in record["chunks"].values())


async def test_check_reads_who_the_token_is_and_repeats_the_reply_rule(emulator: Emulator) -> None:
    agency = emulator.accounts[0]
    async with AsyncClient(max_wait=5.0) as c:
        found = await c.check(agency)
        public = agency.model_dump(exclude={"credentials"})
        stale = Account(**public, credentials={"access_token": "expired-token-0001"})
        refused = await c.check(stale)
    assert found.token_ok and found.identity == "@humas_kota"
    assert found.calls == ["GET /2/users/me"]
    reply = found.capability("reply")
    assert reply is not None and reply.ok is None and "Public Utility" in reply.detail
    assert any("2026-02-23" in note for note in found.notes)
    assert found.capability("account_metrics") is not None
    assert emulator.tweets == {}  # a check only reads
    assert not refused.token_ok and "expired-token-0001" not in (refused.error or "")
    assert all(c.ok is False for c in refused.capabilities)


async def test_an_account_of_an_exempt_tier_gets_no_reply_warning_online(
    emulator: Emulator,
) -> None:
    """The access tier is the account's word (X tells no app its tier): an Enterprise or
    Public Utility app is spared the warning where the account is known, never offline."""
    agency = emulator.accounts[0]
    public = agency.model_dump(exclude={"credentials"})
    token = agency.credential("access_token")
    exempt = Account(**public, credentials={"access_token": token, "access_tier": "Public-Utility"})
    basic = Account(**public, credentials={"access_token": token, "access_tier": "basic"})
    parent = PostRef(platform="x", account=agency, id="1445880548472328192")
    reply = Post("Terima kasih", reply_to=parent)
    async with AsyncClient(max_wait=5.0) as c:
        assert await c.validate(reply, exempt) == []
        assert [p.code for p in await c.validate(reply, basic)] == ["reply_restricted"]
        assert [p.code for p in await c.validate(reply, agency)] == ["reply_restricted"]
        found = await c.check(exempt)
        wrong = Account(**public, credentials={"access_token": token, "access_tier": "gold"})
        with pytest.raises(ConfigurationError, match="access_tier"):
            await c.check(wrong)
    assert [p.code for p in validate(reply, "x")] == ["reply_restricted"]
    capability = found.capability("reply")
    assert capability is not None and capability.ok is True
    assert token not in found.model_dump_json()
