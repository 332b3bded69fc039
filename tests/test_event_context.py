"""Event hooks learn where an event belongs (``context``); 0.1 implementations without it
still run."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import govsocial
from fakes import PaperServer
from govsocial import AsyncClient, Client, EventContext, Post, hookimpl
from govsocial.core.models import Account, PostRef, PublishResult
from govsocial.plugin.manager import Plugins

DELIVERY = EventContext(workspace="humas-kominfo", job_id="j1", delivery_id="d1", actor="p7")


class WithContext:
    """A 0.2 listener: takes ``context`` on every event hook."""

    def __init__(self) -> None:
        self.events: list[tuple[str, EventContext]] = []

    @hookimpl
    def publish_started(
        self, post: Post, account: Account, idempotency_key: str, context: EventContext
    ) -> None:
        self.events.append(("started", context))

    @hookimpl
    def publish_finished(self, post: Post, result: PublishResult, context: EventContext) -> None:
        self.events.append(("finished", context))

    @hookimpl
    def post_deleted(self, ref: PostRef, context: EventContext) -> None:
        self.events.append(("deleted", context))


class WithoutContext:
    """A 0.1 listener: its hooks name no ``context``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    @hookimpl
    def publish_started(self, post: Post, account: Account, idempotency_key: str) -> None:
        self.events.append(("started", idempotency_key))

    @hookimpl
    def publish_finished(self, post: Post, result: PublishResult) -> None:
        self.events.append(("finished", result.ok))

    @hookimpl
    def post_deleted(self, ref: PostRef) -> None:
        self.events.append(("deleted", ref.id))


@pytest.mark.anyio
async def test_a_workspace_delivery_tells_every_event_hook_where_it_belongs(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    listener = WithContext()
    plugins.register(listener, name="archive")
    async with AsyncClient(transport=paper_server.transport()) as client:
        [result] = await client.publish(Post("halo"), [account], context=DELIVERY)
        assert result.ref is not None
        await client.delete(result.ref, context=DELIVERY)
    assert listener.events == [
        ("started", DELIVERY),
        ("finished", DELIVERY),
        ("deleted", DELIVERY),
    ]
    assert paper_server.posts == {}  # published, then deleted on the server


@pytest.mark.anyio
async def test_publish_one_and_reply_pass_their_context_on(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    listener = WithContext()
    plugins.register(listener, name="archive")
    reply_context = dataclasses.replace(DELIVERY, job_id=None, delivery_id=None)
    async with AsyncClient(transport=paper_server.transport()) as client:
        result = await client.publish_one(Post("halo"), account, context=DELIVERY)
        assert result.ref is not None
        await client.reply(result.ref, "terima kasih", context=reply_context)
    assert [context for _, context in listener.events] == [DELIVERY] * 2 + [reply_context] * 2
    assert sorted(p["text"] for p in paper_server.posts.values()) == ["halo", "terima kasih"]


def test_a_direct_client_publish_has_an_empty_context(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    listener = WithContext()
    plugins.register(listener, name="archive")
    with Client(transport=paper_server.transport()) as client:
        [result] = client.publish(Post("halo"), [account])
        assert result.ref is not None
        client.delete(result.ref)
    assert [kind for kind, _ in listener.events] == ["started", "finished", "deleted"]
    for _, context in listener.events:
        assert context == EventContext()
        assert context.workspace is None and context.delivery_id is None


def test_the_sync_client_passes_context_too(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    listener = WithContext()
    plugins.register(listener, name="archive")
    with Client(transport=paper_server.transport()) as client:
        client.publish_one(Post("halo"), account, context=DELIVERY)
    assert listener.events == [("started", DELIVERY), ("finished", DELIVERY)]


@pytest.mark.anyio
async def test_an_implementation_without_context_is_still_called(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    old, new = WithoutContext(), WithContext()
    plugins.register(old, name="old-archive")
    plugins.register(new, name="new-archive")
    async with AsyncClient(transport=paper_server.transport()) as client:
        [result] = await client.publish(
            Post("halo"), [account], idempotency_keys={account: "k1"}, context=DELIVERY
        )
        assert result.ref is not None
        await client.delete(result.ref, context=DELIVERY)
    assert old.events == [("started", "k1"), ("finished", True), ("deleted", result.ref.id)]
    assert len(new.events) == 3


def test_a_host_calling_the_hooks_without_context_gives_an_empty_one(plugins: Plugins) -> None:
    """``Plugins.publish_started(...)`` as 0.1 hosts called it still reaches 0.2 listeners."""
    listener = WithContext()
    plugins.register(listener, name="archive")
    account = Account(platform="paper", handle="@humas")
    plugins.publish_started(Post("halo"), account, "k1")
    plugins.post_deleted(PostRef(platform="paper", account=account, id="1"))
    assert listener.events == [("started", EventContext()), ("deleted", EventContext())]


def test_the_context_is_a_small_frozen_value() -> None:
    assert govsocial.EventContext is EventContext
    with pytest.raises(dataclasses.FrozenInstanceError):
        DELIVERY.workspace = "other"  # type: ignore[misc]
    assert {DELIVERY, dataclasses.replace(DELIVERY)} == {DELIVERY}
    assert [f.name for f in dataclasses.fields(EventContext)] == [
        "workspace",
        "job_id",
        "delivery_id",
        "actor",
    ]


def test_a_workspace_worker_and_delete_say_which_workspace_job_and_delivery(
    plugins: Plugins, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker passes its workspace, job and delivery; deleting through the planner too."""
    from fakes import TOKEN, Clock, paper_account, run, soon
    from govsocial import Workspace

    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    listener = WithContext()
    plugins.register(listener, name="listener")
    server, clock = PaperServer(), Clock()
    with Workspace.open(tmp_path / "ws.db", plugins=plugins) as ws:
        ws.add_account("humas", paper_account())
        job = ws.schedule(Post("Jadwal vaksinasi"), accounts=["humas"], at=soon(60))
        clock.now += 61
        assert run(ws, server, clock) == 1
        [delivery] = ws.job(job.id).deliveries
        expected = EventContext(
            workspace=ws.core.address, job_id=job.id, delivery_id=delivery.id, actor=None
        )
        assert listener.events == [("started", expected), ("finished", expected)]
        [published] = server.posts
        [deleted] = ws.delete_post(job.id, transport=server.transport())
        assert deleted.id == published and server.posts == {}, "the server no longer has it"
        assert listener.events[-1] == ("deleted", expected)


def test_the_workspace_address_in_a_context_never_holds_a_password() -> None:
    from types import SimpleNamespace

    from govsocial.workspace.core import WorkspaceCore

    def address(url: str) -> str:
        holder = SimpleNamespace(store=SimpleNamespace(url=url))
        return WorkspaceCore.address.fget(holder)  # type: ignore[attr-defined,no-any-return]

    assert address("postgresql://humas:s3cret@db.example:5432/gs") == (
        "postgresql://db.example:5432/gs"
    )
    assert address("/var/lib/govsocial/ws.db") == "/var/lib/govsocial/ws.db"
