"""The HTTP layer: safe retries, rate budgets, error translation, secret scrubbing.

The fake server records every request it received; assertions are on that record.
"""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from fakes import TOKEN, Paper, PaperServer, paper_account
from govsocial.adapters import AdapterContext, GovSocialError, Http, RateState
from govsocial.adapters.http import new_http_client
from govsocial.client import AsyncClient
from govsocial.core.errors import (
    AuthenticationError,
    PlatformError,
    PublishOutcomeUnknown,
    RateLimited,
)
from govsocial.core.models import Account, Post
from govsocial.plugin.manager import Plugins

pytestmark = pytest.mark.anyio


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_client(
    server: PaperServer, plugins: Plugins, sleeps: Sleeps, **kwargs: object
) -> AsyncClient:
    client = AsyncClient(transport=server.transport(), plugins=plugins, **kwargs)  # type: ignore[arg-type]
    client.http._sleep = sleeps
    return client


def answer(status: int, **kwargs: object) -> object:
    return lambda request: httpx.Response(status, **kwargs)  # type: ignore[arg-type]


def fail(exc: type[Exception]) -> object:
    def raise_it(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)  # type: ignore[call-arg]

    return raise_it


async def test_a_503_is_retried_and_the_post_is_made_once(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    paper_server.script = [answer(503, json={"error": "Service Unavailable"})]
    sleeps = Sleeps()
    async with make_client(paper_server, plugins, sleeps) as client:
        [result] = await client.publish(Post("halo"), [account])
    assert result.ok
    assert len(paper_server.requests) == 2
    keys = {r.headers["idempotency-key"] for r in paper_server.requests}
    assert len(keys) == 1, "a retry must carry the same idempotency key"
    assert [p["text"] for p in paper_server.posts.values()] == ["halo"]
    assert len(paper_server.posts) == 1
    assert len(sleeps.waits) == 1


async def test_a_429_waits_as_long_as_retry_after_says(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    paper_server.script = [
        answer(429, headers={"Retry-After": "7"}, json={"error": "Too many requests"})
    ]
    sleeps = Sleeps()
    async with make_client(paper_server, plugins, sleeps) as client:
        [result] = await client.publish(Post("halo"), [account])
    assert result.ok
    assert sleeps.waits == [7.0]
    assert len(paper_server.posts) == 1


async def test_a_429_asking_for_too_long_a_wait_raises_rate_limited(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    paper_server.script = [
        answer(429, headers={"Retry-After": "3600"}, json={"error": "Too many requests"})
    ]
    sleeps = Sleeps()
    async with make_client(paper_server, plugins, sleeps, max_wait=60.0) as client:
        [result] = await client.publish(Post("halo"), [account])
    assert isinstance(result.error, RateLimited)
    assert result.error.retry_after == 3600
    assert "Too many requests" in str(result.error)
    assert len(paper_server.requests) == 1
    assert paper_server.posts == {}
    assert sleeps.waits == []


async def test_retries_stop_after_max_attempts(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    paper_server.script = [answer(503, text="Service Unavailable")] * 10
    sleeps = Sleeps()
    async with make_client(paper_server, plugins, sleeps, max_attempts=3) as client:
        [result] = await client.publish(Post("halo"), [account])
    assert isinstance(result.error, PlatformError)
    assert result.error.status == 503
    assert "Service Unavailable" in str(result.error)
    assert len(paper_server.requests) == 3


@pytest.mark.parametrize("status", [502, 504])
async def test_a_gateway_failure_on_a_create_without_idempotency_is_unknown_not_resent(
    plugins: Plugins,
    paper_server: PaperServer,
    account: Account,
    status: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Paper, "idempotency_window", None)
    paper_server.script = [answer(status, text="Gateway")]
    async with make_client(paper_server, plugins, Sleeps()) as client:
        [result] = await client.publish(Post("halo"), [account])
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert len(paper_server.requests) == 1


async def test_a_create_marked_not_idempotent_is_unknown_after_a_gateway_failure(
    paper_server: PaperServer, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Paper, "idempotency_window", 3600.0)  # posts are covered...
    http = Http(httpx.AsyncClient(transport=paper_server.transport()))
    adapter = Paper(account, AdapterContext(http=http))
    paper_server.script = [answer(502, text="Bad Gateway")]
    with pytest.raises(PublishOutcomeUnknown):  # ...but this create says it is not
        await adapter.request(
            "POST",
            "/posts",
            json={"text": "komentar"},
            create=True,
            idempotent=False,
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert len(paper_server.requests) == 1


async def test_a_gateway_failure_is_retried_where_a_repeat_is_harmless(
    plugins: Plugins, paper_server: PaperServer, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Paper, "idempotency_window", 3600.0)  # the server dedupes by key
    paper_server.script = [answer(504, text="Gateway Timeout")]
    async with make_client(paper_server, plugins, Sleeps()) as client:
        [result] = await client.publish(Post("halo"), [account])
    assert result.ok
    assert len(paper_server.requests) == 2
    assert [p["text"] for p in paper_server.posts.values()] == ["halo"]


async def test_a_500_on_create_is_not_retried(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    paper_server.script = [answer(500, json={"error": "Internal failure"})]
    async with make_client(paper_server, plugins, Sleeps()) as client:
        [result] = await client.publish(Post("halo"), [account])
    assert isinstance(result.error, PlatformError)
    assert result.error.body == "Internal failure"
    assert len(paper_server.requests) == 1


async def test_a_connection_refused_is_retried(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    paper_server.script = [fail(httpx.ConnectError)]
    async with make_client(paper_server, plugins, Sleeps()) as client:
        [result] = await client.publish(Post("halo"), [account])
    assert result.ok
    assert len(paper_server.posts) == 1


async def test_a_timeout_after_sending_a_create_is_unknown_not_retried(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    paper_server.script = [fail(httpx.ReadTimeout)]
    async with make_client(paper_server, plugins, Sleeps()) as client:
        [result] = await client.publish(
            Post("halo"), [account], idempotency_keys={account: "key-1"}
        )
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert result.error.idempotency_key == "key-1"
    assert result.error.account == "@humas"
    assert len(paper_server.requests) == 1


async def test_a_timeout_on_a_read_is_retried(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    async with make_client(paper_server, plugins, Sleeps()) as client:
        [result] = await client.publish(Post("halo"), [account])
        assert result.ref is not None
        paper_server.script = [fail(httpx.ReadTimeout)]
        [metrics] = await client.fetch_metrics([result.ref])
    assert metrics.likes == 0
    assert [r.method for r in paper_server.requests] == ["POST", "GET", "GET"]


async def test_a_spent_budget_of_one_endpoint_does_not_hold_back_another(
    plugins: Plugins, paper_server: PaperServer, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    def per_endpoint(cls: type[Paper], method: str, url: str) -> str:
        return f"{method} {httpx.URL(url).path.rsplit('/', 1)[0]}"

    monkeypatch.setattr(Paper, "rate_bucket", classmethod(per_endpoint))
    far = time.time() + 900
    spent = {"x-remaining": "0", "x-reset": str(far)}
    paper_server.script = [
        lambda request: httpx.Response(200, json={"followers": 3}, headers=spent)
    ]
    sleeps = Sleeps()
    async with make_client(paper_server, plugins, sleeps, max_wait=5.0) as client:
        await client.fetch_account_metrics(account)  # GET /me: its window is now spent
        [result] = await client.publish(Post("halo"), [account])  # POST /posts: its own
        assert result.ok
        with pytest.raises(RateLimited):  # GET /me again waits 900 s: over max_wait
            await client.fetch_account_metrics(account)
    assert sleeps.waits == []
    assert [r.method for r in paper_server.requests] == ["GET", "POST"]


async def test_an_empty_rate_budget_waits_for_the_reset_before_sending(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    reset = time.time() + 5
    paper_server.script = [
        lambda request: httpx.Response(
            200, json={"id": "9"}, headers={"x-remaining": "0", "x-reset": str(reset)}
        )
    ]
    sleeps = Sleeps()
    async with make_client(paper_server, plugins, sleeps) as client:
        await client.publish(Post("satu"), [account])
        [result] = await client.publish(Post("dua"), [account])
    assert result.ok
    assert len(sleeps.waits) == 1 and 3 < sleeps.waits[0] <= 5
    assert len(paper_server.requests) == 2


async def test_an_empty_budget_with_a_far_reset_raises_without_sending(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    reset = time.time() + 900
    paper_server.script = [
        lambda request: httpx.Response(
            200, json={"id": "9"}, headers={"x-remaining": "0", "x-reset": str(reset)}
        )
    ]
    async with make_client(paper_server, plugins, Sleeps(), max_wait=60) as client:
        await client.publish(Post("satu"), [account])
        [result] = await client.publish(Post("dua"), [account])
    assert isinstance(result.error, RateLimited)
    assert result.error.retry_after is not None and result.error.retry_after > 800
    assert len(paper_server.requests) == 1


async def test_bad_token_is_an_authentication_error_without_the_token(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    wrong = "wrong-token-that-must-not-leak"
    bad = paper_account(token=wrong)
    paper_server.script = [answer(401, json={"error": f"token {wrong} is invalid"})]
    async with make_client(paper_server, plugins, Sleeps()) as client:
        [result] = await client.publish(Post("halo"), [bad])
    assert isinstance(result.error, AuthenticationError)
    assert wrong not in str(result.error)
    assert "***" in str(result.error)
    assert "new" in str(result.error)  # says what to do


async def test_secrets_never_reach_the_logs(
    plugins: Plugins, paper_server: PaperServer, account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    paper_server.script = [answer(503, json={"error": "busy"})]
    async with make_client(paper_server, plugins, Sleeps()) as client:
        [result] = await client.publish(Post("halo"), [account])
        await client.delete(result.ref)  # type: ignore[arg-type]
    assert caplog.records, "expected debug logs of the requests"
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert TOKEN not in repr(account) and TOKEN not in repr(result)


# -- how a request leaves: straight to govsocial's transport, or through the caller's client ----


class Endpoint:
    """Not a Platform: everything Http.request needs, and nothing more."""

    name = "bare"
    title = "Bare"
    idempotency_window: float | None = None

    def __init__(self, account: Account) -> None:
        self.account = account

    def rate_bucket(self, method: str, url: str) -> str:
        return ""

    def rate_state(self, response: httpx.Response) -> RateState | None:
        return None

    def retry_after(self, response: httpx.Response) -> float | None:
        return None

    def is_throttled(self, response: httpx.Response) -> bool:
        return False

    def error_for(self, response: httpx.Response) -> GovSocialError:
        return GovSocialError(f"bare answered {response.status_code}")

    def iter_credentials(self) -> list[str]:
        return [TOKEN]


def recording(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    return httpx.MockTransport(handler)


async def test_http_needs_only_an_endpoint_not_a_platform(account: Account) -> None:
    seen: list[httpx.Request] = []
    http = Http(new_http_client(transport=recording(seen)))
    response = await http.request(Endpoint(account), "GET", "https://bare.test/x", params={"a": 1})
    assert response.json() == {"ok": True}
    assert [str(request.url) for request in seen] == ["https://bare.test/x?a=1"]
    assert seen[0].headers["user-agent"].startswith("govsocial/")


async def test_govsocials_client_sends_straight_to_its_transport(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hot path: no httpx client layer per request (docs/performance.md)."""
    seen: list[httpx.Request] = []
    client = new_http_client(transport=recording(seen))

    async def client_layer(*args: object, **kwargs: object) -> httpx.Response:
        raise AssertionError("the request went through httpx's client layer")

    monkeypatch.setattr(client, "send", client_layer)
    monkeypatch.setattr(client, "request", client_layer)
    http = Http(client)
    await http.request(Endpoint(account), "POST", "https://bare.test/posts", json={"t": "halo"})
    assert [request.content for request in seen] == [b'{"t":"halo"}']


async def test_a_callers_own_client_keeps_its_auth_and_mounts(account: Account) -> None:
    main: list[httpx.Request] = []
    mounted: list[httpx.Request] = []
    own = httpx.AsyncClient(
        transport=recording(main),
        mounts={"https://media.test": recording(mounted)},
        auth=httpx.BasicAuth("proxy-user", "proxy-pass"),
    )
    http = Http(own)
    await http.request(Endpoint(account), "GET", "https://bare.test/me")
    await http.request(Endpoint(account), "GET", "https://media.test/poster.png")
    assert [str(request.url) for request in main] == ["https://bare.test/me"]
    assert [str(request.url) for request in mounted] == ["https://media.test/poster.png"]
    expected = base64.b64encode(b"proxy-user:proxy-pass").decode()
    assert main[0].headers["authorization"] == f"Basic {expected}"


async def test_event_hooks_on_govsocials_client_see_every_request(account: Account) -> None:
    seen: list[httpx.Request] = []
    hooked: list[str] = []

    async def hook(request: httpx.Request) -> None:
        hooked.append(str(request.url))

    client = new_http_client(transport=recording(seen))
    client.event_hooks["request"].append(hook)
    await Http(client).request(Endpoint(account), "GET", "https://bare.test/me")
    assert hooked == ["https://bare.test/me"]
    assert len(seen) == 1


async def test_respx_in_httpx_mode_intercepts_govsocials_default_transport(
    account: Account,
) -> None:
    import respx

    http = Http(new_http_client())  # aiohttp underneath: only the client layer is mocked
    with respx.mock(using="httpx") as router:
        route = router.get("https://nowhere.invalid/me").respond(200, json={"handle": "@humas"})
        response = await http.request(Endpoint(account), "GET", "https://nowhere.invalid/me")
    assert response.json() == {"handle": "@humas"}
    assert route.call_count == 1
    await http.client.aclose()


async def test_httpx_own_log_line_shows_no_secret(
    account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    """Through a caller's client httpx logs each URL; a token in the path is scrubbed there."""
    seen: list[httpx.Request] = []
    caplog.set_level("INFO", logger="httpx")
    http = Http(httpx.AsyncClient(transport=recording(seen)))
    await http.request(Endpoint(account), "GET", f"https://bare.test/bot{TOKEN}/getMe")
    assert str(seen[0].url) == f"https://bare.test/bot{TOKEN}/getMe"  # the server got it
    logged = [record.getMessage() for record in caplog.records if record.name == "httpx"]
    assert logged and "https://bare.test/bot***/getMe" in logged[0]
    assert TOKEN not in caplog.text
