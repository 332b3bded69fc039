"""The clients: :class:`AsyncClient` and its synchronous facade :class:`Client`.

A client owns one pooled HTTP session and one adapter per account. ``publish`` validates
the post for each account's platform, then sends to every account concurrently and returns
one :class:`~govsocial.core.models.PublishResult` per account, in the order given. It never
raises because one account failed: that account's result carries the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypedDict, TypeVar

import httpx

from govsocial.adapters.checkpoints import Checkpoints, MemoryCheckpoints
from govsocial.adapters.http import DEFAULT_TIMEOUT, Http, new_http_client
from govsocial.adapters.media import MediaHost
from govsocial.adapters.media_safety import publishing
from govsocial.adapters.platform import AdapterContext, CredentialsListener, Limits, Platform
from govsocial.adapters.upload import UploadProgress
from govsocial.client.validation import blocking, validate
from govsocial.core.errors import (
    ConfigurationError,
    GovSocialError,
    PluginError,
    PublishPending,
    ValidationError,
)
from govsocial.core.listening import SearchPage
from govsocial.core.models import (
    Account,
    AccountCheck,
    AccountMetrics,
    Activity,
    EventContext,
    Interaction,
    Post,
    PostMetrics,
    PostRef,
    Problem,
    PublishResult,
)
from govsocial.plugin.manager import Plugins, default_plugins

__all__ = ["AsyncClient", "Client", "ClientOptions"]

T = TypeVar("T")


@contextlib.asynccontextmanager
async def _adapter_bugs(account: Account, doing: str) -> AsyncIterator[None]:
    """Let govsocial's own errors through and turn anything else an adapter raises (a bug,
    a ``KeyError`` on an unexpected answer) into a :class:`PluginError` naming the platform
    and the account, the original kept as its cause. ``NotImplementedError`` passes: it
    means the platform cannot be asked."""
    try:
        yield
    except (GovSocialError, NotImplementedError):
        raise
    except Exception as exc:
        raise PluginError(
            f"the {account.platform} adapter failed while {doing} for {account.handle}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


class ClientOptions(TypedDict, total=False):
    """The keyword options of :class:`AsyncClient` and :class:`Client`, for code that passes
    them on (``def make(**options: Unpack[ClientOptions])``). Each is documented on
    :class:`AsyncClient`; a test keeps this list, ``AsyncClient`` and ``Client`` the same.
    """

    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
    timeout: httpx.Timeout
    max_wait: float
    max_attempts: int
    max_concurrency: int
    plugins: Plugins | None
    media_host: MediaHost | None
    checkpoints: Checkpoints | None
    on_credentials: CredentialsListener | None
    on_published: Callable[[Post, PublishResult], None] | None
    on_progress: Callable[[UploadProgress], None] | None


#: posts whose validation an AsyncClient keeps for publish_one (the oldest is dropped)
_VALIDATED_POSTS = 64


#: seconds an adapter replaced by one with newer credentials is kept before it is closed
RETIRED_SECONDS = 60.0


async def _close_adapters(adapters: list[Platform]) -> None:
    for adapter in adapters:
        with contextlib.suppress(Exception):
            await adapter.aclose()


class AsyncClient:
    """Publish, delete, measure and converse on every platform through one interface.

    :param http_client: an ``httpx.AsyncClient`` to use (the caller keeps owning it).
    :param transport: an httpx transport for the client govsocial builds (tests pass
        ``httpx.MockTransport`` or use respx).
    :param timeout: per-request timeouts (default: connect 10 s, read/write/pool 30 s).
    :param max_wait: the longest wait for a rate limit or a retry, in seconds.
    :param max_attempts: attempts per request for the safe-to-retry cases.
    :param max_concurrency: the most accounts served at the same time.
    :param plugins: the plugin system (default: the process-wide one).
    :param media_host: where local media files go for platforms that fetch media from a
        public URL (Instagram, Threads); see :mod:`govsocial.adapters.media`.
    :param checkpoints: where adapters keep a delivery's finished steps (default: memory;
        a workspace passes its database, so a crashed worker's successor resumes).
    :param on_credentials: called with ``(account, values)`` when an adapter refreshes a
        credential (a rotated OAuth token), so the caller can store it.
    :param on_published: called with ``(post, result)`` after each publish to one account,
        well or badly (a workspace's client records direct publishes in its audit log).
    :param on_progress: called with each :class:`~govsocial.adapters.UploadProgress` of a
        chunked upload (a large video); the command line draws a bar with it.
    """

    def __init__(
        self,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_wait: float = 60.0,
        max_attempts: int = 4,
        max_concurrency: int = 100,
        plugins: Plugins | None = None,
        media_host: MediaHost | None = None,
        checkpoints: Checkpoints | None = None,
        on_credentials: CredentialsListener | None = None,
        on_published: Callable[[Post, PublishResult], None] | None = None,
        on_progress: Callable[[UploadProgress], None] | None = None,
    ) -> None:
        self.media_host = media_host
        self.checkpoints: Checkpoints = checkpoints or MemoryCheckpoints()
        self.on_credentials = on_credentials
        self.on_published = on_published
        self.on_progress = on_progress
        self._owns_http = http_client is None
        self._http_client = http_client or new_http_client(timeout=timeout, transport=transport)
        self.http = Http(self._http_client, max_wait=max_wait, max_attempts=max_attempts)
        self.plugins = plugins or default_plugins()
        self._adapters: dict[Account, Platform] = {}
        # the account each key was last served as: a newer set of credentials (a token
        # renewed, Bluesky's session kept) replaces the adapter of the older one
        self._current: dict[str, Account] = {}
        self._retired: list[tuple[float, Platform]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._max_concurrency = max_concurrency
        self._semaphore: asyncio.Semaphore | None = None
        # publish_one's validations, per post object (kept alive here, so its id is not
        # reused; posts are frozen): a worker sending one post to 5,000 accounts
        # validates it once per platform and server limits, as publish() does
        self._validated: dict[int, tuple[Post, dict[tuple[str, Limits], list[Problem]]]] = {}

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the adapters' sessions and, when the client built it, the HTTP pool."""
        adapters, self._adapters = list(self._adapters.values()), {}
        adapters += [adapter for _, adapter in self._retired]
        self._current, self._retired = {}, []
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        for adapter in adapters:
            await adapter.aclose()
        if self._owns_http:
            await self._http_client.aclose()

    def __repr__(self) -> str:
        return f"<AsyncClient accounts={len(self._adapters)}>"

    # -- adapters --------------------------------------------------------------------------

    def adapter(self, account: Account) -> Platform:
        """The adapter serving ``account`` (made on first use, then reused).

        :raises ConfigurationError: unknown platform, or credentials the platform needs are missing.
        """
        adapter = self._adapters.get(account)
        if adapter is None:
            cls = self.plugins.platform(account.platform)
            cls.check_account(account)
            context = AdapterContext(
                http=self.http,
                checkpoints=self.checkpoints,
                media_host=self.media_host,
                on_credentials=self.on_credentials,
                on_progress=self.on_progress,
            )
            adapter = cls(account, context)
            self._adapters[account] = adapter
            self._replace(account)
        return adapter

    def _replace(self, account: Account) -> None:
        """``account`` is now served with its credentials as they are: the adapter made for
        older ones (a worker re-reads stored credentials that an adapter renewed) is let go
        from the cache, and closed :data:`RETIRED_SECONDS` later, once what it had in
        flight is done. (Kept, a long-running worker would hold one more adapter per
        account each time a token is renewed.)"""
        older = self._current.get(account.key)
        self._current[account.key] = account
        now = time.monotonic()
        if older is not None and older is not account:
            stale = self._adapters.pop(older, None)
            if stale is not None:
                self._retired.append((now, stale))
        due = [adapter for at, adapter in self._retired if now - at >= RETIRED_SECONDS]
        if not due:
            return
        self._retired = [(at, a) for at, a in self._retired if now - at < RETIRED_SECONDS]
        try:
            task = asyncio.get_running_loop().create_task(_close_adapters(due))
        except RuntimeError:  # no loop running: nothing of theirs can be in flight
            return
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def limits(self, account: Account) -> Limits:
        """The limits in force for ``account`` (a Mastodon instance's own, for example)."""
        return await self.adapter(account).get_limits()

    async def validate(self, post: Post, account: Account) -> list[Problem]:
        """Every problem ``post`` has for ``account``, using the server's current limits."""
        limits = await self.limits(account)
        return validate(post, account.platform, limits=limits, plugins=self.plugins)

    # -- publishing ------------------------------------------------------------------------

    async def publish(
        self,
        post: Post,
        accounts: Sequence[Account],
        *,
        idempotency_keys: Mapping[Account, str] | None = None,
        context: EventContext | None = None,
    ) -> list[PublishResult]:
        """Publish ``post`` to every account; one result per account, in order.

        :param idempotency_keys: a key per account for this delivery (default: new random
            keys). Reusing a delivery's key makes a repeat harmless where the platform
            supports it (Mastodon, Bluesky).
        :param context: where the publish belongs, for the event hooks (default: a direct
            publish, every field None).
        """
        keys = idempotency_keys or {}
        checked: dict[tuple[str, Limits], list[Problem]] = {}  # one validation per platform
        return list(
            await asyncio.gather(
                *(
                    self._publish_one(post, account, keys.get(account), checked, context)
                    for account in accounts
                )
            )
        )

    async def publish_one(
        self,
        post: Post,
        account: Account,
        *,
        idempotency_key: str | None = None,
        context: EventContext | None = None,
    ) -> PublishResult:
        """Publish ``post`` to one account; failures are in ``result.error``, never raised.

        :param idempotency_key: the key for this delivery (default: a new random key).
        :param context: where the publish belongs, for the event hooks (default: a direct
            publish, every field None).
        """
        found = self._validated.get(id(post))
        if found is None or found[0] is not post:
            if len(self._validated) >= _VALIDATED_POSTS:
                del self._validated[next(iter(self._validated))]  # the oldest
            found = self._validated[id(post)] = (post, {})
        return await self._publish_one(post, account, idempotency_key, found[1], context)

    async def _publish_one(
        self,
        post: Post,
        account: Account,
        idempotency_key: str | None,
        checked: dict[tuple[str, Limits], list[Problem]],
        context: EventContext | None,
    ) -> PublishResult:
        key = idempotency_key or ""
        effective = post.for_platform(account.platform)
        async with self._slot():
            try:
                adapter = self.adapter(account)
                key = key or adapter.new_idempotency_key()
                limits = await adapter.get_limits()
                problems = checked.get((account.platform, limits))
                if problems is None:
                    problems = validate(post, account.platform, limits=limits, plugins=self.plugins)
                    checked[(account.platform, limits)] = problems
                if blocking(problems):
                    raise ValidationError(blocking(problems), platform=account.platform)
                self.plugins.publish_started(effective, account, key, context)
                with publishing(effective):  # media errors then name media[i]
                    ref = await adapter.publish(effective, idempotency_key=key)
                result = PublishResult(account=account, ref=ref, idempotency_key=key)
            except GovSocialError as known:
                result = PublishResult(account=account, error=known, idempotency_key=key or None)
            except Exception as exc:  # noqa: BLE001 - an adapter bug must not hide other results
                bug = PluginError(
                    f"the {account.platform} adapter failed while publishing for "
                    f"{account.handle}: {type(exc).__name__}: {exc}; the post may or may "
                    "not have been published: check the account before trying again"
                )
                bug.__cause__ = exc
                result = PublishResult(account=account, error=bug, idempotency_key=key or None)
        self.plugins.publish_finished(effective, result, context)
        if self.on_published is not None:
            self.on_published(effective, result)
        return result

    async def resume_processing(
        self,
        post: Post,
        account: Account,
        *,
        idempotency_key: str,
        context: EventContext | None = None,
    ) -> PublishResult:
        """Look again at a post the platform accepted and was still processing when
        :meth:`publish_one` ended with :class:`~govsocial.PublishPending`: only a status
        read (:meth:`govsocial.adapters.Platform.resume_processing`), never a new send.
        The result's error is ``PublishPending`` again while it is still processing; the
        ``publish_finished`` hooks hear only the settled outcome (a post or an error).
        """
        effective = post.for_platform(account.platform)
        async with self._slot():
            try:
                async with _adapter_bugs(account, "looking at a post it was processing"):
                    try:
                        ref = await self.adapter(account).resume_processing(idempotency_key)
                    except NotImplementedError as missing:  # it raised PublishPending: a bug
                        raise PluginError(
                            f"the {account.platform} adapter left a post processing for "
                            f"{account.handle} and cannot look at it again "
                            "(resume_processing is not implemented)"
                        ) from missing
                result = PublishResult(account=account, ref=ref, idempotency_key=idempotency_key)
            except GovSocialError as known:  # an adapter bug too: it must not stop the worker
                result = PublishResult(
                    account=account, error=known, idempotency_key=idempotency_key
                )
        if not isinstance(result.error, PublishPending):
            self.plugins.publish_finished(effective, result, context)
            if self.on_published is not None:
                self.on_published(effective, result)
        return result

    async def reply(
        self,
        to: PostRef | Interaction,
        post: Post | str,
        *,
        context: EventContext | None = None,
    ) -> PostRef:
        """Reply to a post or an interaction as the account that fetched it.

        :param context: where the reply belongs, for the event hooks (default: a direct
            publish, every field None).
        :raises ValidationError: the reply breaks the platform's limits.
        """
        ref = to.ref if isinstance(to, Interaction) else to
        reply = Post(post) if isinstance(post, str) else post
        reply = reply.model_copy(update={"reply_to": ref})
        result = await self.publish_one(reply, ref.account, context=context)
        if result.error is not None:
            raise result.error
        assert result.ref is not None
        return result.ref

    async def refresh_credentials(self, account: Account) -> bool:
        """Renew ``account``'s tokens ahead of expiry where its platform allows it (True when
        renewed; the new values go to ``on_credentials``)."""
        async with _adapter_bugs(account, "renewing its tokens"):
            return await self.adapter(account).refresh_credentials()

    async def delete(self, ref: PostRef, *, context: EventContext | None = None) -> None:
        """Delete the post at ``ref`` on its platform.

        :param context: where the delete belongs, for the ``post_deleted`` hook (default: a
            direct delete, every field None).
        """
        async with _adapter_bugs(ref.account, "deleting a post"):
            await self.adapter(ref.account).delete(ref)
        self.plugins.post_deleted(ref, context)

    async def find_published(self, account: Account, idempotency_key: str) -> PostRef | None:
        """The post ``account`` made with ``idempotency_key``, or None (for reconciliation).

        :raises NotImplementedError: the platform cannot be asked.
        """
        async with _adapter_bugs(account, "looking for a published post"):
            return await self.adapter(account).find_published(idempotency_key)

    # -- reading ---------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Iterable[PostRef]) -> list[PostMetrics]:
        """Figures for each post, in the order given (batched per account by the adapters)."""
        refs = list(refs)
        groups: dict[Account, list[int]] = {}
        for index, ref in enumerate(refs):
            groups.setdefault(ref.account, []).append(index)
        results: list[PostMetrics | None] = [None] * len(refs)

        async def one_account(account: Account, indexes: list[int]) -> None:
            async with self._slot(), _adapter_bugs(account, "reading post metrics"):
                found = await self.adapter(account).fetch_metrics([refs[i] for i in indexes])
            for index, metrics in zip(indexes, found, strict=True):
                results[index] = metrics

        await asyncio.gather(*(one_account(a, i) for a, i in groups.items()))
        return [m for m in results if m is not None]

    async def fetch_account_metrics(self, account: Account) -> AccountMetrics:
        """The account's figures (followers, following, posts)."""
        async with _adapter_bugs(account, "reading account metrics"):
            return await self.adapter(account).fetch_account_metrics()

    async def check(self, account: Account) -> AccountCheck:
        """What ``account`` can do (post, reply, delete, metrics), what is missing and the
        fix, from its platform's cheapest reads (``govsocial check``). A refused token is
        an answer (``token_ok`` False), not an error."""
        async with _adapter_bugs(account, "checking the account"):
            return await self.adapter(account).check()

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """Replies below the post at ``ref``, oldest first."""
        async with _adapter_bugs(ref.account, "reading replies"):
            return await self.adapter(ref.account).fetch_replies(ref)

    async def fetch_mentions(
        self, account: Account, *, since: datetime | None = None
    ) -> list[Interaction]:
        """Posts mentioning ``account``, oldest first."""
        async with _adapter_bugs(account, "reading mentions"):
            return await self.adapter(account).fetch_mentions(since=since)

    async def search(
        self,
        account: Account,
        query: str,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
    ) -> SearchPage:
        """Public posts matching ``query`` newer than ``cursor``, searched as ``account``
        (:meth:`govsocial.Platform.search`; NotSupported where the platform has no search)."""
        async with _adapter_bugs(account, "searching"):
            return await self.adapter(account).search(query, cursor=cursor, since=since)

    async def fetch_activity(
        self,
        account: Account,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
        posts: Sequence[PostRef] = (),
    ) -> Activity:
        """Replies and mentions of ``account`` that arrived after ``cursor``, in as few
        requests as its platform allows (see :meth:`govsocial.adapters.Platform.fetch_activity`).

        :raises NotSupported: the platform has no such read; use :meth:`fetch_mentions` and
            :meth:`fetch_replies`.
        """
        return await self.adapter(account).fetch_activity(cursor=cursor, since=since, posts=posts)

    def _slot(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._max_concurrency)
        return self._semaphore


class _LoopThread:
    """An event loop on a daemon thread, so the sync facade works inside notebooks too."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name="govsocial-loop", daemon=True)
        self.thread.start()

    def _main(self) -> None:
        try:
            self.loop.run_forever()
        finally:
            try:
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            finally:
                self.loop.close()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self, last: Coroutine[Any, Any, None] | None = None, *, quiet: bool = False) -> None:
        """Run ``last`` (closing the client) on the loop, then stop the loop and its thread.

        Safe from any thread, the loop's own included (the garbage collector may run there):
        there it cannot wait for itself, so it schedules both and returns.

        :param quiet: swallow an error from ``last`` (for the garbage collector's call).
        """
        if self.loop.is_closed():  # stopped already
            if last is not None:
                last.close()
            return
        if threading.current_thread() is self.thread:
            if last is None:
                self.loop.stop()
                return
            task = self.loop.create_task(last)

            def done(finished: asyncio.Task[None]) -> None:
                if not finished.cancelled():
                    finished.exception()  # retrieved: an unclosed client's error is not news
                self.loop.stop()

            task.add_done_callback(done)
            return
        try:
            if last is not None:
                asyncio.run_coroutine_threadsafe(last, self.loop).result()
        except Exception:
            if not quiet:
                raise
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join()


async def _new_async_client(options: ClientOptions) -> AsyncClient:
    return AsyncClient(**options)


def _close_forgotten(
    runner: _LoopThread,
    pool: httpx.AsyncClient | None,
    client: weakref.ref[AsyncClient],
) -> None:
    """Close a Client that was dropped without ``close()``: its sessions, loop and thread.

    Called by the garbage collector. The AsyncClient is held weakly: its callbacks may lead
    back to the Client (a workspace's ``on_published``), and a strong reference here would
    keep both alive for ever. When it is already gone (collected in the same cycle), the
    HTTP pool the client built is closed directly.
    """

    async def close() -> None:
        alive = client()
        if alive is not None:
            await alive.aclose()
        elif pool is not None:
            await pool.aclose()

    runner.stop(close(), quiet=True)


class Client:
    """The synchronous facade of :class:`AsyncClient`: the same methods, blocking.

    It runs an :class:`AsyncClient` on an event loop in a thread of its own, so it works in
    scripts and inside notebooks (where a loop is already running). Use it as a context
    manager or call ``close()``; a client dropped without either is closed when it is
    garbage-collected (its thread stops).

    :param http_client: an ``httpx.AsyncClient`` to use (the caller keeps owning it).
    :param transport: an httpx transport for the client govsocial builds (tests pass
        ``httpx.MockTransport`` or use respx).
    :param timeout: per-request timeouts (default: connect 10 s, read/write/pool 30 s).
    :param max_wait: the longest wait for a rate limit or a retry, in seconds.
    :param max_attempts: attempts per request for the safe-to-retry cases.
    :param max_concurrency: the most accounts served at the same time.
    :param plugins: the plugin system (default: the process-wide one).
    :param media_host: where local media files go for platforms that fetch media from a
        public URL (Instagram, Threads); see :mod:`govsocial.adapters.media`.
    :param checkpoints: where adapters keep a delivery's finished steps (default: memory;
        a workspace passes its database, so a crashed worker's successor resumes).
    :param on_credentials: called with ``(account, values)`` when an adapter refreshes a
        credential (a rotated OAuth token), so the caller can store it.
    :param on_published: called with ``(post, result)`` after each publish to one account,
        well or badly (a workspace's client records direct publishes in its audit log).
    :param on_progress: called with each :class:`~govsocial.adapters.UploadProgress` of a
        chunked upload (a large video); the command line draws a bar with it.
    """

    def __init__(
        self,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_wait: float = 60.0,
        max_attempts: int = 4,
        max_concurrency: int = 100,
        plugins: Plugins | None = None,
        media_host: MediaHost | None = None,
        checkpoints: Checkpoints | None = None,
        on_credentials: CredentialsListener | None = None,
        on_published: Callable[[Post, PublishResult], None] | None = None,
        on_progress: Callable[[UploadProgress], None] | None = None,
    ) -> None:
        options: ClientOptions = {
            "http_client": http_client,
            "transport": transport,
            "timeout": timeout,
            "max_wait": max_wait,
            "max_attempts": max_attempts,
            "max_concurrency": max_concurrency,
            "plugins": plugins,
            "media_host": media_host,
            "checkpoints": checkpoints,
            "on_credentials": on_credentials,
            "on_published": on_published,
            "on_progress": on_progress,
        }
        runner = _LoopThread()
        try:
            self._async = runner.run(_new_async_client(options))
        except BaseException:
            runner.stop()
            raise
        self._runner = runner
        # The finalizer holds nothing that leads back to self (see _close_forgotten):
        # dropping the last reference to this Client closes it and ends its thread.
        pool = self._async._http_client if self._async._owns_http else None
        self._finalizer = weakref.finalize(
            self, _close_forgotten, runner, pool, weakref.ref(self._async)
        )
        # At exit the daemon thread ends with the interpreter, as it always did; closing
        # there could wait on a loop that is still busy.
        self._finalizer.atexit = False

    @property
    def async_client(self) -> AsyncClient:
        """The :class:`AsyncClient` behind this facade (run its coroutines with :meth:`run`)."""
        return self._async

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Client accounts={len(self._async._adapters)}>"

    def close(self) -> None:
        """Close the adapters' sessions, the HTTP pool the client built, and the loop's
        thread. Closing twice is harmless."""
        if self._finalizer.detach() is None:
            return
        self._runner.stop(self._async.aclose())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on this client's event loop and return its result (blocking).

        For async code that needs ``async_client`` from synchronous code, such as a
        workspace publishing or collecting metrics.
        """
        if not self._finalizer.alive:
            coro.close()
            raise ConfigurationError("this Client is closed; make a new one")
        return self._runner.run(coro)

    # Each method below blocks on its AsyncClient namesake and has the same parameters and
    # docstring (tests/test_client_parity.py keeps them so).

    def limits(self, account: Account) -> Limits:
        """The limits in force for ``account`` (a Mastodon instance's own, for example)."""
        return self.run(self._async.limits(account))

    def validate(self, post: Post, account: Account) -> list[Problem]:
        """Every problem ``post`` has for ``account``, using the server's current limits."""
        return self.run(self._async.validate(post, account))

    def publish(
        self,
        post: Post,
        accounts: Sequence[Account],
        *,
        idempotency_keys: Mapping[Account, str] | None = None,
        context: EventContext | None = None,
    ) -> list[PublishResult]:
        """Publish ``post`` to every account; one result per account, in order.

        :param idempotency_keys: a key per account for this delivery (default: new random
            keys). Reusing a delivery's key makes a repeat harmless where the platform
            supports it (Mastodon, Bluesky).
        :param context: where the publish belongs, for the event hooks (default: a direct
            publish, every field None).
        """
        return self.run(
            self._async.publish(post, accounts, idempotency_keys=idempotency_keys, context=context)
        )

    def publish_one(
        self,
        post: Post,
        account: Account,
        *,
        idempotency_key: str | None = None,
        context: EventContext | None = None,
    ) -> PublishResult:
        """Publish ``post`` to one account; failures are in ``result.error``, never raised.

        :param idempotency_key: the key for this delivery (default: a new random key).
        :param context: where the publish belongs, for the event hooks (default: a direct
            publish, every field None).
        """
        return self.run(
            self._async.publish_one(post, account, idempotency_key=idempotency_key, context=context)
        )

    def reply(
        self,
        to: PostRef | Interaction,
        post: Post | str,
        *,
        context: EventContext | None = None,
    ) -> PostRef:
        """Reply to a post or an interaction as the account that fetched it.

        :param context: where the reply belongs, for the event hooks (default: a direct
            publish, every field None).
        :raises ValidationError: the reply breaks the platform's limits.
        """
        return self.run(self._async.reply(to, post, context=context))

    def refresh_credentials(self, account: Account) -> bool:
        """Renew ``account``'s tokens ahead of expiry where its platform allows it (True when
        renewed; the new values go to ``on_credentials``)."""
        return self.run(self._async.refresh_credentials(account))

    def delete(self, ref: PostRef, *, context: EventContext | None = None) -> None:
        """Delete the post at ``ref`` on its platform.

        :param context: where the delete belongs, for the ``post_deleted`` hook (default: a
            direct delete, every field None).
        """
        self.run(self._async.delete(ref, context=context))

    def find_published(self, account: Account, idempotency_key: str) -> PostRef | None:
        """The post ``account`` made with ``idempotency_key``, or None (for reconciliation).

        :raises NotImplementedError: the platform cannot be asked.
        """
        return self.run(self._async.find_published(account, idempotency_key))

    def resume_processing(
        self,
        post: Post,
        account: Account,
        *,
        idempotency_key: str,
        context: EventContext | None = None,
    ) -> PublishResult:
        """Look again at a post the platform accepted and was still processing when
        :meth:`publish_one` ended with :class:`~govsocial.PublishPending`: only a status
        read (:meth:`govsocial.adapters.Platform.resume_processing`), never a new send.
        The result's error is ``PublishPending`` again while it is still processing; the
        ``publish_finished`` hooks hear only the settled outcome (a post or an error).
        """
        return self.run(
            self._async.resume_processing(
                post, account, idempotency_key=idempotency_key, context=context
            )
        )

    def fetch_metrics(self, refs: Iterable[PostRef]) -> list[PostMetrics]:
        """Figures for each post, in the order given (batched per account by the adapters)."""
        return self.run(self._async.fetch_metrics(refs))

    def fetch_account_metrics(self, account: Account) -> AccountMetrics:
        """The account's figures (followers, following, posts)."""
        return self.run(self._async.fetch_account_metrics(account))

    def check(self, account: Account) -> AccountCheck:
        """What ``account`` can do (post, reply, delete, metrics), what is missing and the
        fix, from its platform's cheapest reads (``govsocial check``). A refused token is
        an answer (``token_ok`` False), not an error."""
        return self.run(self._async.check(account))

    def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """Replies below the post at ``ref``, oldest first."""
        return self.run(self._async.fetch_replies(ref))

    def fetch_mentions(
        self, account: Account, *, since: datetime | None = None
    ) -> list[Interaction]:
        """Posts mentioning ``account``, oldest first."""
        return self.run(self._async.fetch_mentions(account, since=since))

    def search(
        self,
        account: Account,
        query: str,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
    ) -> SearchPage:
        """Public posts matching ``query`` newer than ``cursor``, searched as ``account``
        (:meth:`govsocial.Platform.search`; NotSupported where the platform has no search)."""
        return self.run(self._async.search(account, query, cursor=cursor, since=since))

    def fetch_activity(
        self,
        account: Account,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
        posts: Sequence[PostRef] = (),
    ) -> Activity:
        """Replies and mentions of ``account`` that arrived after ``cursor``, in as few
        requests as its platform allows (see :meth:`govsocial.adapters.Platform.fetch_activity`).

        :raises NotSupported: the platform has no such read; use :meth:`fetch_mentions` and
            :meth:`fetch_replies`.
        """
        return self.run(
            self._async.fetch_activity(account, cursor=cursor, since=since, posts=posts)
        )
