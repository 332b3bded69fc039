"""Failures, against respx stand-ins shaped as the Bot API documents its answers.

Answers: https://core.telegram.org/bots/api#making-requests (ok/description/error_code) and
https://core.telegram.org/bots/api#responseparameters (retry_after). Waits are recorded by a
fake sleep, never timed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from govsocial import AsyncClient, Post
from govsocial.adapters import AdapterContext, Http
from govsocial.core.errors import (
    AuthenticationError,
    PlatformError,
    PublishOutcomeUnknown,
    RateLimited,
)
from govsocial_telegram import Telegram
from govsocial_telegram import testing as support

ACCOUNT, BASE, TOKEN = support.ACCOUNT, support.BASE, support.TOKEN
ok, failed, channel_post = support.ok, support.failed, support.channel_post

pytestmark = pytest.mark.anyio


@pytest.fixture
def sleeps() -> support.Sleeps:
    return support.Sleeps()


@pytest.fixture
async def adapter(sleeps: support.Sleeps) -> AsyncIterator[Telegram]:
    async with httpx.AsyncClient() as client:
        http = Http(client, sleep=sleeps, max_wait=30, max_attempts=3)
        yield Telegram(ACCOUNT, AdapterContext(http=http))


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(
        using="httpx", base_url=f"{BASE}/bot{TOKEN}", assert_all_called=False
    ) as router:
        yield router


async def test_a_429_waits_as_long_as_the_body_says_then_succeeds(
    adapter: Telegram, api: respx.MockRouter, sleeps: support.Sleeps
) -> None:
    """Flood control: 429 with parameters.retry_after in the body; no Retry-After header."""
    route = api.post("/sendMessage").mock(
        side_effect=[
            httpx.Response(
                429, json=failed(429, "Too Many Requests: retry after 7", retry_after=7)
            ),
            httpx.Response(200, json=ok(channel_post(42, text="Halo"))),
        ]
    )
    made = await adapter.publish(Post("Halo"), idempotency_key="k")
    assert made.id == "42"
    assert route.call_count == 2
    assert sleeps.waits == [7.0]
    assert Telegram.retry_after(httpx.Response(429, json=failed(429, "x", retry_after=7))) == 7.0


async def test_a_429_longer_than_max_wait_is_rate_limited_with_the_wait(
    adapter: Telegram, api: respx.MockRouter, sleeps: support.Sleeps
) -> None:
    route = api.post("/sendMessage").respond(
        429, json=failed(429, "Too Many Requests: retry after 300", retry_after=300)
    )
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(Post("Halo"), idempotency_key="k")
    assert limited.value.retry_after == 300
    assert "retry after 300" in str(limited.value)
    assert route.call_count == 1 and sleeps.waits == []


async def test_a_503_then_success_is_retried(
    adapter: Telegram, api: respx.MockRouter, sleeps: support.Sleeps
) -> None:
    route = api.post("/sendMessage").mock(
        side_effect=[
            httpx.Response(503, text="<html>Service Unavailable</html>"),
            httpx.Response(200, json=ok(channel_post(43, text="Halo"))),
        ]
    )
    made = await adapter.publish(Post("Halo"), idempotency_key="k")
    assert made.id == "43"
    assert route.call_count == 2 and len(sleeps.waits) == 1


async def test_a_timeout_after_the_send_is_an_unknown_outcome_and_nothing_is_resent(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """Telegram has no idempotency key: a send whose answer was lost is never repeated."""
    route = api.post("/sendMessage").mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(PublishOutcomeUnknown) as unknown:
        await adapter.publish(Post("Halo"), idempotency_key="pengumuman-1")
    assert route.call_count == 1
    assert unknown.value.idempotency_key == "pengumuman-1"
    assert TOKEN not in str(unknown.value)
    assert TOKEN not in str(unknown.value.detail)
    assert Telegram.idempotency_window is None


async def test_a_revoked_token_is_an_authentication_error_naming_botfather(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    route = api.post("/sendMessage").respond(401, json=failed(401, "Unauthorized"))
    with pytest.raises(AuthenticationError) as refused:
        await adapter.publish(Post("Halo"), idempotency_key="k")
    assert route.call_count == 1
    assert "@BotFather" in str(refused.value)
    assert TOKEN not in str(refused.value) and TOKEN not in repr(refused.value)


async def test_a_malformed_token_path_404_is_an_authentication_error(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    route = api.post("/getChatMemberCount").respond(404, json=failed(404, "Not Found"))
    me = api.post("/getMe").respond(404, json=failed(404, "Not Found"))
    with pytest.raises(AuthenticationError) as refused:
        await adapter.fetch_account_metrics()
    assert route.call_count == 1 and me.call_count == 1  # getMe tells token from method
    assert "@BotFather" in str(refused.value)


async def test_a_malformed_body_on_a_send_is_an_unknown_outcome(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    route = api.post("/sendMessage").respond(200, text='{"ok": true, "result": {"message_')
    with pytest.raises(PublishOutcomeUnknown):
        await adapter.publish(Post("Halo"), idempotency_key="k")
    assert route.call_count == 1


async def test_a_malformed_body_on_a_read_is_a_platform_error(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    api.post("/getChatMemberCount").respond(200, text="<html>proxy error</html>")
    with pytest.raises(PlatformError, match="not the JSON expected"):
        await adapter.fetch_account_metrics()


async def test_an_ok_false_answer_with_http_200_is_an_error_with_its_description(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    api.post("/sendMessage").respond(200, json=failed(400, "Bad Request: chat not found"))
    with pytest.raises(PlatformError) as refused:
        await adapter.publish(Post("Halo"), idempotency_key="k")
    assert refused.value.status == 400
    assert refused.value.body == "Bad Request: chat not found"
    assert "chat_id" in str(refused.value)  # the hint


async def test_an_answer_without_result_is_an_unknown_outcome_on_a_send(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    api.post("/sendMessage").respond(200, json={"ok": True})
    with pytest.raises(PublishOutcomeUnknown):
        await adapter.publish(Post("Halo"), idempotency_key="k")


async def test_no_log_line_or_error_shows_the_token(
    api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """The token is in every URL path: with DEBUG logging on, failing requests (a 500 whose
    description echoes the URL, a 400, a timeout) must not show it anywhere."""
    api.post("/sendMessage").mock(
        side_effect=[
            httpx.Response(500, json=failed(500, f"Internal: POST /bot{TOKEN}/sendMessage")),
            httpx.ReadTimeout(f"timed out on /bot{TOKEN}/sendMessage"),
        ]
    )
    api.post("/getChatMemberCount").respond(400, json=failed(400, "Bad Request: chat not found"))
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        async with AsyncClient(transport=httpx.AsyncHTTPTransport(), max_wait=1.0) as client:
            for _ in range(2):
                [result] = await client.publish(Post("Halo"), [ACCOUNT])
                assert result.error is not None
                errors.append(result.error)
            try:
                await client.fetch_account_metrics(ACCOUNT)
            except PlatformError as error:
                errors.append(error)
            adapter = client.adapter(ACCOUNT)
    assert [type(e) for e in errors] == [PlatformError, PublishOutcomeUnknown, PlatformError]
    assert any("-> 500" in record.getMessage() for record in caplog.records)
    shown = [caplog.text, repr(adapter), repr(ACCOUNT), ACCOUNT.model_dump_json()]
    shown += [str(e) for e in errors] + [repr(e) for e in errors]
    shown += [str(getattr(e, "body", "")) + str(getattr(e, "detail", "")) for e in errors]
    for text in shown:
        assert TOKEN not in text
    assert "***" in str(errors[0])  # the echoed URL is there, scrubbed
