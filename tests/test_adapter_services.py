"""What the core offers adapters beyond HTTP: throttling without 429, refreshed credentials,
checkpoints for multi-step publishing, and public URLs for media through a media host.

The fake platform (tests/fakes.py) records what its server received; assertions are on that.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from fakes import TOKEN, Paper, PaperServer
from govsocial import DirectoryHost, Media
from govsocial.adapters import AdapterContext, Http, Platform, hookimpl
from govsocial.adapters.checkpoints import MemoryCheckpoints
from govsocial.client import AsyncClient
from govsocial.core.errors import ConfigurationError, RateLimited
from govsocial.core.models import Account, Post
from govsocial.plugin.manager import Plugins

pytestmark = pytest.mark.anyio


class MetaLikePaper(Paper):
    """Paper, but throttling arrives as HTTP 400 with an error code, as Meta sends it."""

    @classmethod
    def is_throttled(cls, response: httpx.Response) -> bool:
        try:
            return response.json().get("error", {}).get("code") in (4, 17, 32, 613)
        except (ValueError, AttributeError):
            return False


def throttled(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        400, json={"error": {"code": 4, "message": "Application request limit reached"}}
    )


async def no_sleep(seconds: float) -> None:
    return None


async def test_a_throttled_answer_without_429_is_retried_and_posts_once(
    paper_server: PaperServer, account: Account
) -> None:
    adapter = MetaLikePaper(account, AdapterContext(http=_http(paper_server)))
    paper_server.script = [throttled]
    ref = await adapter.publish(Post("halo"), idempotency_key="k1")
    assert len(paper_server.requests) == 2
    assert [p["text"] for p in paper_server.posts.values()] == ["halo"]
    assert ref.id in paper_server.posts


async def test_throttling_past_the_retries_is_rate_limited_with_the_platform_message(
    paper_server: PaperServer, account: Account
) -> None:
    adapter = MetaLikePaper(account, AdapterContext(http=_http(paper_server, max_attempts=2)))
    paper_server.script = [throttled, throttled]
    with pytest.raises(RateLimited, match="Application request limit reached"):
        await adapter.publish(Post("halo"), idempotency_key="k1")
    assert paper_server.posts == {}


async def test_a_plain_400_is_not_taken_for_throttling(
    paper_server: PaperServer, account: Account
) -> None:
    adapter = MetaLikePaper(account, AdapterContext(http=_http(paper_server)))
    paper_server.script = [lambda r: httpx.Response(400, json={"error": {"code": 100}})]
    with pytest.raises(Exception) as raised:
        await adapter.publish(Post("halo"), idempotency_key="k1")
    assert not isinstance(raised.value, RateLimited)
    assert len(paper_server.requests) == 1


async def test_refreshed_credentials_are_used_scrubbed_and_reported(
    paper_server: PaperServer, account: Account
) -> None:
    told: list[tuple[str, dict[str, str]]] = []
    adapter = Paper(
        account,
        AdapterContext(
            http=_http(paper_server),
            on_credentials=lambda acct, values: told.append((acct.handle, values)),
        ),
    )
    fresh = "fresh-token-abcdef-0123456789"
    adapter.update_credentials(access_token=fresh)
    assert adapter.credential("access_token") == fresh
    assert account.credential("access_token") == TOKEN  # the account itself is unchanged
    assert told == [("@humas", {"access_token": fresh})]
    assert fresh in list(adapter.iter_credentials())
    # the fresh token is scrubbed from an error that echoes it
    paper_server.script = [lambda r: httpx.Response(500, json={"error": f"bad {fresh}"})]
    with pytest.raises(Exception) as raised:
        await adapter.request("GET", "/me", headers={"Authorization": f"Bearer {fresh}"})
    assert fresh not in str(raised.value)


def test_checkpoints_merge_per_delivery_and_account(account: Account) -> None:
    store = MemoryCheckpoints()
    context = AdapterContext(http=_http(PaperServer()), checkpoints=store)
    adapter = Paper(account, context)
    assert adapter.checkpoint("k1") == {}
    adapter.save_checkpoint("k1", container="c-1")
    adapter.save_checkpoint("k1", children="c-2,c-3")
    assert adapter.checkpoint("k1") == {"container": "c-1", "children": "c-2,c-3"}
    assert adapter.checkpoint("k2") == {}
    other = Paper(account.model_copy(update={"handle": "@lain"}), context)
    assert other.checkpoint("k1") == {}, "checkpoints are per account"


async def test_the_client_gives_its_stores_to_every_adapter(
    plugins: Plugins, account: Account, tmp_path: Path
) -> None:
    store = MemoryCheckpoints()
    host = DirectoryHost(tmp_path, "https://cdn.example.go.id/m")
    told: list[object] = []
    async with AsyncClient(
        plugins=plugins,
        checkpoints=store,
        media_host=host,
        on_credentials=lambda a, v: told.append(v),
    ) as client:
        adapter = client.adapter(account)
        assert adapter.context.checkpoints is store
        assert adapter.context.media_host is host
        assert adapter.context.http is client.http
        adapter.update_credentials(access_token="new-token-xyz-123")
    assert told == [{"access_token": "new-token-xyz-123"}]


async def test_public_url_passes_urls_through_and_hosts_local_files(
    account: Account, tmp_path: Path
) -> None:
    host = DirectoryHost(tmp_path / "www", "https://cdn.example.go.id/m/")
    adapter = Paper(account, AdapterContext(http=_http(PaperServer()), media_host=host))
    given = Media(url="https://example.go.id/poster.png")
    assert await adapter.public_url(given) == "https://example.go.id/poster.png"
    data = b"\x89PNG\r\n\x1a\n" + b"\0" * 24
    url = await adapter.public_url(Media(data=data))
    digest = hashlib.sha256(data).hexdigest()
    assert url == f"https://cdn.example.go.id/m/{digest}.png"
    assert (tmp_path / "www" / f"{digest}.png").read_bytes() == data
    assert await adapter.public_url(Media(data=data)) == url, "same content, same URL"
    assert [p.name for p in (tmp_path / "www").iterdir()] == [f"{digest}.png"]


async def test_a_local_file_without_a_media_host_names_the_field_and_the_fix(
    account: Account,
) -> None:
    adapter = Paper(account, AdapterContext(http=_http(PaperServer())))
    with pytest.raises(ConfigurationError) as raised:
        await adapter.public_url(Media(data=b"GIF89a" + b"\0" * 10), field="media[1]")
    error = raised.value
    assert error.field == "media[1]"
    assert "public URL" in str(error)
    assert "DirectoryHost" in str(error)


async def test_directory_host_uploads_in_parallel_without_torn_files(tmp_path: Path) -> None:
    host = DirectoryHost(tmp_path, "https://cdn.example.go.id")
    blobs = [bytes([i]) * 50_000 for i in range(20)]
    urls = await asyncio.gather(
        *(host.upload(b, mime_type="image/jpeg", filename=None) for b in blobs * 2)
    )
    assert len(set(urls)) == 20
    for blob in blobs:
        name = hashlib.sha256(blob).hexdigest() + ".jpg"
        assert (tmp_path / name).read_bytes() == blob
    assert not list(tmp_path.glob(".*.part"))


def test_hook_registered_hosts_are_listed_with_the_built_in_one() -> None:
    plugins = Plugins(load_entrypoints=False)
    assert plugins.media_hosts() == {"directory": DirectoryHost}


def _http(server: PaperServer, *, max_attempts: int = 4) -> Http:
    return Http(
        httpx.AsyncClient(transport=server.transport()), sleep=no_sleep, max_attempts=max_attempts
    )


# -- collaborators come at construction; the 0.1 ways still work, with a warning ---------------


def test_the_context_is_frozen_and_shared(account: Account, tmp_path: Path) -> None:
    context = AdapterContext(http=_http(PaperServer()))
    adapter = Paper(account, context)
    assert adapter.context is context
    assert isinstance(context.checkpoints, MemoryCheckpoints)
    assert context.media_host is None and context.on_credentials is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.media_host = DirectoryHost(tmp_path, "https://example.go.id")  # type: ignore[misc]


async def test_an_adapter_made_the_01_way_warns_and_works(
    paper_server: PaperServer, account: Account
) -> None:
    with pytest.warns(DeprecationWarning, match=r"Paper\(account, http\).*AdapterContext"):
        adapter = Paper(account, _http(paper_server))
    ref = await adapter.publish(Post("halo"), idempotency_key="k1")
    assert paper_server.posts[ref.id]["text"] == "halo"


def test_collaborators_set_after_construction_warn_and_apply(
    account: Account, tmp_path: Path
) -> None:
    adapter = Paper(account, AdapterContext(http=_http(PaperServer())))
    store = MemoryCheckpoints()
    with pytest.warns(DeprecationWarning, match="setting checkpoints on an adapter"):
        adapter.checkpoints = store
    adapter.save_checkpoint("k1", container="c-1")
    assert store.load(account.key, "k1") == {"container": "c-1"}
    told: list[dict[str, str]] = []
    with pytest.warns(DeprecationWarning, match="setting on_credentials"):
        adapter.on_credentials = lambda _account, values: told.append(values)
    adapter.update_credentials(access_token="new-token-xyz-123")
    assert told == [{"access_token": "new-token-xyz-123"}]
    host = DirectoryHost(tmp_path, "https://cdn.example.go.id")
    with pytest.warns(DeprecationWarning, match="setting media_host"):
        adapter.media_host = host
    assert adapter.context.media_host is host


async def test_an_adapter_with_a_01_constructor_still_gets_the_whole_context(
    plugins: Plugins, account: Account
) -> None:
    """A 0.1 subclass, ``__init__(self, account, http)`` passing both on, keeps working."""

    class OldPaper(Paper):
        def __init__(self, account: Account, http: Http) -> None:
            super().__init__(account, http)  # type: ignore[arg-type]
            self.extra = "kept"

    store = MemoryCheckpoints()

    class OldPlugin:
        @hookimpl
        def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
            register(OldPaper)

    plugins.unregister(plugins.pm.get_plugin("paper"))
    plugins.register(OldPlugin(), name="old-paper")

    async with AsyncClient(plugins=plugins, checkpoints=store) as client:
        adapter = client.adapter(account)
        assert isinstance(adapter, OldPaper) and adapter.extra == "kept"
        assert adapter.checkpoints is store
