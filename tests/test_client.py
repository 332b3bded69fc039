"""The clients: one result per account in order, the sync facade, adapter failures."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import pytest

from fakes import TOKEN, Paper, PaperPlugin, PaperServer, paper_account
from govsocial import Client, Post
from govsocial.client import AsyncClient
from govsocial.core.errors import ConfigurationError, PluginError, ValidationError
from govsocial.core.models import Account, PostRef
from govsocial.plugin.manager import Plugins


def test_sync_client_publishes_to_several_accounts_in_order(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    no_token = Account(platform="paper", handle="@kosong", base_url="https://paper.test")
    unknown = Account(platform="myspace", handle="@x", base_url="https://m.test")
    with Client(transport=paper_server.transport()) as client:
        results = client.publish(Post("halo"), [account, no_token, unknown, account])
    assert [r.account.handle for r in results] == ["@humas", "@kosong", "@x", "@humas"]
    assert [r.ok for r in results] == [True, False, False, True]
    assert isinstance(results[1].error, ConfigurationError)
    assert results[1].error.field == "credentials.access_token"
    assert isinstance(results[2].error, ConfigurationError)
    assert "unknown platform 'myspace'" in str(results[2].error)
    assert sorted(p["text"] for p in paper_server.posts.values()) == ["halo", "halo"]


def test_invalid_post_is_refused_before_any_request(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    with Client(transport=paper_server.transport()) as client:
        [result] = client.publish(Post("x" * 30), [account])
    assert isinstance(result.error, ValidationError)
    assert result.error.problems[0].code == "text_too_long"
    assert result.error.field == "text"
    assert paper_server.requests == []


def test_an_adapter_bug_becomes_a_result_not_an_exception(
    plugins: Plugins, paper_server: PaperServer, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Paper, post: Post, *, idempotency_key: str) -> PostRef:
        raise KeyError("id")

    monkeypatch.setattr(Paper, "publish", broken)
    with Client(transport=paper_server.transport()) as client:
        [result] = client.publish(Post("halo"), [account])
    assert isinstance(result.error, PluginError)
    assert "may or may not have been published" in str(result.error)


@pytest.mark.parametrize(
    ("method", "call"),
    [
        ("delete", lambda client, ref: client.delete(ref)),
        ("fetch_replies", lambda client, ref: client.fetch_replies(ref)),
        ("fetch_metrics", lambda client, ref: client.fetch_metrics([ref])),
        ("fetch_account_metrics", lambda client, ref: client.fetch_account_metrics(ref.account)),
        ("fetch_mentions", lambda client, ref: client.fetch_mentions(ref.account)),
    ],
)
def test_an_adapter_bug_while_reading_or_deleting_is_a_plugin_error(
    plugins: Plugins,
    paper_server: PaperServer,
    account: Account,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    call: Any,
) -> None:
    """Not a bare KeyError from deep inside a plugin: the platform and account are named and
    the original is kept as the cause."""

    async def broken(self: Paper, *args: object, **kwargs: object) -> Any:
        raise KeyError("statuses")

    monkeypatch.setattr(Paper, method, broken)
    ref = PostRef(platform="paper", account=account, id="1")
    with Client(transport=paper_server.transport()) as client, pytest.raises(PluginError) as err:
        call(client, ref)
    assert "the paper adapter failed while" in str(err.value)
    assert account.handle in str(err.value)
    assert isinstance(err.value.__cause__, KeyError)


def test_sync_client_works_inside_a_running_event_loop(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    """Notebooks run an event loop; the sync facade must still work there."""

    async def notebook_cell() -> bool:
        with Client(transport=paper_server.transport()) as client:
            [result] = client.publish(Post("halo"), [account])
        return result.ok

    assert asyncio.run(notebook_cell())


def test_metrics_come_back_in_the_order_asked(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    other = paper_account("@dua", token=TOKEN)
    with Client(transport=paper_server.transport()) as client:
        refs: Sequence[PostRef] = [
            r.ref for r in client.publish(Post("a"), [account, other]) if r.ref is not None
        ]
        paper_server.posts[refs[1].id]["likes"] = 5
        metrics = client.fetch_metrics([refs[1], refs[0], refs[1]])
        account_metrics = client.fetch_account_metrics(account)
    assert [m.ref for m in metrics] == [refs[1], refs[0], refs[1]]
    assert [m.likes for m in metrics] == [5, 0, 5]
    assert metrics[0].views is None
    assert account_metrics.followers == 7


def test_reply_raises_for_its_single_account(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    with Client(transport=paper_server.transport()) as client:
        [result] = client.publish(Post("halo"), [account])
        assert result.ref is not None
        with pytest.raises(ValidationError):
            client.reply(result.ref, "x" * 50)


def test_a_closed_client_says_so(plugins: Plugins, paper_server: PaperServer) -> None:
    client = Client(transport=paper_server.transport())
    client.close()
    client.close()  # idempotent
    with pytest.raises(ConfigurationError, match="closed"):
        client.fetch_account_metrics(Account(platform="paper", handle="@h"))


@pytest.mark.anyio
async def test_async_client_fans_out_concurrently(paper_server: PaperServer) -> None:
    """50 accounts are served at once, not one after the other."""
    plugins = Plugins(load_entrypoints=False)
    plugins.register(PaperPlugin(), name="paper")
    in_flight = 0
    peak = 0
    original = paper_server.handler

    async def slow_handler(request):  # type: ignore[no-untyped-def]
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return original(request)

    import httpx

    accounts = [paper_account(f"@u{i}", token=TOKEN) for i in range(50)]
    async with AsyncClient(transport=httpx.MockTransport(slow_handler), plugins=plugins) as client:
        results = await client.publish(Post("serentak"), accounts)
    assert all(r.ok for r in results)
    assert len(paper_server.posts) == 50
    assert peak == 50


def _loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "govsocial-loop"]


def test_a_dropped_client_stops_its_thread_and_closes_its_pool(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    """Forgetting close() leaks neither the thread nor the HTTP pool."""
    before = _loop_threads()
    client = Client(transport=paper_server.transport())
    [result] = client.publish(Post("halo"), [account])
    assert result.ok
    thread = client._runner.thread
    pool = client.async_client._http_client
    assert thread.is_alive() and not pool.is_closed
    gone = weakref.ref(client)
    del client, result
    gc.collect()
    assert gone() is None
    assert not thread.is_alive()
    assert pool.is_closed
    assert _loop_threads() == before


def test_a_client_in_a_reference_cycle_is_closed_by_the_collector(
    plugins: Plugins, paper_server: PaperServer
) -> None:
    client = Client(transport=paper_server.transport())
    client.me = client  # type: ignore[attr-defined]  # only the cycle collector frees it
    thread = client._runner.thread
    del client
    gc.collect()
    assert not thread.is_alive()


def test_close_and_with_still_work_and_closing_twice_is_harmless(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    with Client(transport=paper_server.transport()) as client:
        assert client.publish_one(Post("halo"), account).ok
        thread = client._runner.thread
    assert not thread.is_alive()
    client.close()
    client.close()
    del client
    gc.collect()  # the finalizer was detached by close(): nothing runs twice


def test_an_error_while_closing_is_raised_and_the_thread_still_stops(
    plugins: Plugins, paper_server: PaperServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: AsyncClient) -> None:
        raise RuntimeError("pool already gone")

    client = Client(transport=paper_server.transport())
    monkeypatch.setattr(AsyncClient, "aclose", broken)
    thread = client._runner.thread
    with pytest.raises(RuntimeError, match="pool already gone"):
        client.close()
    assert not thread.is_alive()
    client.close()  # closed all the same


def test_a_client_that_cannot_be_built_leaves_no_thread(
    plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: AsyncClient, **options: object) -> None:
        raise RuntimeError("no pool today")

    before = _loop_threads()
    monkeypatch.setattr(AsyncClient, "__init__", broken)
    with pytest.raises(RuntimeError, match="no pool today"):
        Client()
    assert _loop_threads() == before


def test_the_loop_thread_can_be_stopped_from_itself() -> None:
    """The collector may finalize a Client on its own loop's thread: no deadlock there."""
    from govsocial.client._client import _LoopThread

    closed = threading.Event()

    async def close_sessions() -> None:
        closed.set()

    runner = _LoopThread()
    runner.loop.call_soon_threadsafe(runner.stop, close_sessions())
    runner.thread.join(timeout=10)
    assert closed.is_set() and not runner.thread.is_alive()
    assert runner.loop.is_closed()
    runner.stop()  # stopping again is harmless


def test_a_client_whose_callback_leads_back_to_it_is_still_collected(
    plugins: Plugins, paper_server: PaperServer
) -> None:
    """A workspace passes callbacks bound to itself and keeps the client: that cycle must not
    make both immortal."""

    class Workspace:
        def __init__(self) -> None:
            self.client = Client(transport=paper_server.transport(), on_published=self.record)

        def record(self, post: Post, result: object) -> None:
            pass

    workspace = Workspace()
    thread = workspace.client._runner.thread
    pool = workspace.client.async_client._http_client
    gone = weakref.ref(workspace)
    del workspace
    gc.collect()
    assert gone() is None
    assert not thread.is_alive()
    assert pool.is_closed


def test_an_adapter_replaced_by_newer_credentials_is_let_go_then_closed(
    plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long-running worker re-reads credentials an adapter renewed (an OAuth token, a
    Bluesky session) and serves the account with the new ones: the adapter made for the old
    ones must not stay cached for ever, one more per renewal."""
    from govsocial.client import _client

    closed: list[str] = []

    async def go() -> None:
        async with AsyncClient(plugins=plugins) as client:
            first = client.adapter(paper_account(token="plain-first"))
            monkeypatch.setattr(first, "aclose", _recorder(closed, "first"))
            second = client.adapter(paper_account(token="plain-second"))
            assert second is not first and repr(client) == "<AsyncClient accounts=1>"
            assert closed == []  # what it had in flight may still be going on
            monkeypatch.setattr(_client, "RETIRED_SECONDS", 0.0)
            monkeypatch.setattr(second, "aclose", _recorder(closed, "second"))
            third = client.adapter(paper_account(token="plain-third"))
            await asyncio.sleep(0.01)
            assert closed == ["first", "second"]  # retired long enough: closed
            assert client.adapter(paper_account(token="plain-third")) is third
            other = client.adapter(paper_account("@other", token="plain-third"))
            assert other is not third and repr(client) == "<AsyncClient accounts=2>"

    asyncio.run(go())


def _recorder(closed: list[str], name: str) -> Any:
    async def aclose() -> None:
        closed.append(name)

    return aclose


@pytest.mark.parametrize(
    ("raised", "said"),
    [
        (KeyError("status"), "the paper adapter failed while looking at a post it was processing"),
        (NotImplementedError(), "cannot look at it again (resume_processing is not implemented)"),
    ],
)
def test_an_adapter_bug_while_looking_at_a_processing_post_is_its_result(
    plugins: Plugins,
    account: Account,
    monkeypatch: pytest.MonkeyPatch,
    raised: Exception,
    said: str,
) -> None:
    """The worker reads the outcome, never an exception: a bug (or a platform that left a
    post processing and cannot look at it) is a PluginError in the result, naming the
    platform and the account, the original kept as its cause."""

    async def broken(self: Paper, idempotency_key: str) -> PostRef:
        raise raised

    monkeypatch.setattr(Paper, "resume_processing", broken)

    async def go() -> Any:
        async with AsyncClient(plugins=plugins) as client:
            return await client.resume_processing(Post("x"), account, idempotency_key="k")

    result = asyncio.run(go())
    assert isinstance(result.error, PluginError) and said in str(result.error)
    assert account.handle in str(result.error) and result.error.__cause__ is raised
