"""The conformance suite every adapter runs, and the test helpers it is built from.

Use it from your plugin's tests::

    import pytest
    from govsocial.testing import PlatformConformance

    class TestConformance(PlatformConformance):
        platform = "myplatform"

        @pytest.fixture(scope="class")
        @classmethod
        def conformance_server(cls, my_server_fixture):
            return my_server_fixture  # follows govsocial.adapters.platform.LocalServer

When the plugin's adapter has a ``local_server()``, the default ``conformance_server`` fixture
starts it, so only ``platform`` needs setting. The suite publishes, reads back what the SERVER
stored (never what the adapter says it sent), deletes, measures, replies and reads replies
and mentions, and checks that no credential leaks into reprs or error messages. What the
platform cannot do is skipped, not failed: the image step when ``limits.max_media`` is 0,
delete when ``limits.delete`` is False, replies and mentions when the adapter raises
:class:`~govsocial.core.errors.NotSupported`.

The fixtures every plugin's tests share (``isolated_plugins``, ``emulators``) come from
:mod:`govsocial.testing.pytest_plugin`, which pytest loads by itself once govsocial is
installed. This module imports pytest: import it from tests only.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

import pytest

from govsocial.adapters.platform import METRIC_FIELDS, LocalServer, Platform
from govsocial.client import Client
from govsocial.client.validation import validate
from govsocial.core.errors import AuthenticationError, NotSupported
from govsocial.core.models import CAPABILITIES, Account, Media, Post, PostRef
from govsocial.plugin.manager import Plugins, default_plugins, reset_default_plugins

__all__ = ["PlatformConformance", "eventually", "tiny_png", "unique_text", "use_plugins"]

T = TypeVar("T")

# A valid 1x1 PNG (a single transparent pixel).
_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def tiny_png() -> bytes:
    """The bytes of a valid 1x1 PNG image."""
    return _PNG


def unique_text(prefix: str = "govsocial test") -> str:
    """A post text that no other test run will have produced."""
    return f"{prefix} {uuid.uuid4().hex[:12]}"


def eventually(
    check: Callable[[], T | None],
    *,
    timeout: float = 30.0,
    interval: float = 0.25,
    what: str = "condition",
) -> T:
    """Call ``check`` until it returns something truthy, then return it; fail after ``timeout``.

    For servers that index asynchronously (Bluesky's AppView). The failure says ``what`` was
    awaited, and chains the last exception raised by ``check``, if any. A
    :class:`~govsocial.core.errors.NotSupported` raised by ``check`` is raised at once: the
    platform will not learn to do it by waiting.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except NotSupported:
            raise
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_error = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s") from last_error
        time.sleep(interval)


@contextmanager
def use_plugins(plugins: Plugins) -> Iterator[Plugins]:
    """Make ``plugins`` the process-wide plugin system inside the block, then put back the one
    that was there before (or none, so the next use loads entry points afresh).

    The ``isolated_plugins`` fixture uses it; use it directly for a wider scope, e.g. a
    module-scoped fixture that loads only your plugin's entry point::

        @pytest.fixture(scope="module", autouse=True)
        def _only_this_plugin() -> Iterator[None]:
            with use_plugins(Plugins(only=["myplatform"])):
                yield
    """
    before = reset_default_plugins(plugins)  # the default it replaces, never loading one
    try:
        yield plugins
    finally:
        reset_default_plugins(before)


class PlatformConformance:
    """The conformance suite: subclass it in a plugin's tests and set ``platform``.

    ``eventually_timeout`` is how long, in seconds, a check waits for the server to show a
    like, a reply or a mention before it fails (default 5). A server that indexes
    asynchronously (Bluesky's AppView) sets a longer one in its subclass.
    """

    platform: ClassVar[str]
    eventually_timeout: ClassVar[float] = 5.0

    # -- fixtures --------------------------------------------------------------------------

    # Class-scoped fixtures are classmethods: pytest 9 deprecates class-scoped fixtures
    # defined as instance methods. Override them the same way.

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_server(cls) -> Iterator[LocalServer]:
        """The server the suite runs against: by default the adapter's ``local_server()``."""
        manager = cls.adapter_class().local_server()
        if manager is None:
            pytest.fail(
                f"{cls.platform}: provide a conformance_server fixture or Platform.local_server()"
            )
        with manager as server:
            yield server

    @pytest.fixture(scope="class")
    @classmethod
    def client(cls) -> Iterator[Client]:
        """The client the suite publishes through (waits of at most 5 s)."""
        with Client(max_wait=5.0) as client:
            yield client

    @classmethod
    def adapter_class(cls) -> type[Platform]:
        """The adapter registered as ``platform`` in the process-wide plugin system."""
        return default_plugins().platform(cls.platform)

    def publish(self, client: Client, post: Post, account: Account) -> PostRef:
        """Publish ``post`` from ``account``; fail the test unless it worked."""
        [result] = client.publish(post, [account])
        assert result.ok, f"publish failed: {result.error!r}"
        assert result.ref is not None
        return result.ref

    def eventually(self, check: Callable[[], T | None], what: str) -> T:
        """:func:`eventually` with this suite's ``eventually_timeout``; NotSupported skips."""
        try:
            return eventually(check, timeout=self.eventually_timeout, what=what)
        except NotSupported as error:
            pytest.skip(f"{self.platform} cannot do this: {error}")

    # -- offline ---------------------------------------------------------------------------

    def test_registered_with_declared_limits(self) -> None:
        """The platform is registered under its name, with a title and sane limits."""
        cls = self.adapter_class()
        assert cls.name == self.platform
        assert cls.title
        assert cls.limits.max_characters > 0
        assert set(cls.limits.post_metrics) <= set(METRIC_FIELDS)

    def test_validate_accepts_a_plain_post(self) -> None:
        """A short plain post has no problem."""
        assert validate(Post("Selamat pagi, warga! #InfoPublik"), self.platform) == []

    def test_validate_reports_text_over_the_limit(self) -> None:
        """One character over ``max_characters`` is ``text_too_long``, naming the limit."""
        cls = self.adapter_class()
        problems = validate(Post("a" * (cls.limits.max_characters + 1)), self.platform)
        assert [p.code for p in problems] == ["text_too_long"]
        assert problems[0].field == "text"
        assert problems[0].limit == cls.limits.max_characters

    def test_validate_reports_an_empty_post(self) -> None:
        """A post of blanks and no media is refused as empty."""
        assert "empty" in [p.code for p in validate(Post("   "), self.platform)]

    def test_count_characters_of_plain_ascii_is_its_length(self) -> None:
        """Plain ASCII without links counts one per character."""
        assert self.adapter_class().count_characters("Hello world") == 11

    # -- against the server ------------------------------------------------------------------

    def test_publish_reaches_the_server(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """A text post is stored by the server, with its text."""
        text = unique_text("Halo warga")
        ref = self.publish(client, Post(text), conformance_server.accounts[0])
        assert ref.platform == self.platform
        assert ref.id
        stored = conformance_server.stored_post(ref)
        assert stored is not None, "the server has no such post"
        assert text in conformance_server.stored_text(stored)

    def test_publish_image_with_alt_text(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """An image post is stored, with its alt text where the platform takes one; skipped
        when the platform takes no media (``limits.max_media == 0``)."""
        limits = self.adapter_class().limits
        if limits.max_media == 0:
            pytest.skip(f"{self.platform} takes no media (limits.max_media is 0)")
        alt = "Peta lokasi vaksinasi di balai kota"
        post = Post(unique_text(), media=[Media(data=tiny_png(), alt_text=alt)])
        ref = self.publish(client, post, conformance_server.accounts[0])
        stored = conformance_server.stored_post(ref)
        assert stored is not None
        if limits.alt_text:
            assert conformance_server.stored_alt_texts(stored) == [alt]

    def test_publish_video(self, conformance_server: LocalServer, client: Client) -> None:
        """A short 9:16 video (4 s, 30 fps, H.264 and AAC: within every platform's rules)
        is stored by the server; where the server says what media a post holds
        (``stored_media_kinds``), it holds one video. Skipped when the platform takes no
        video (``limits.video_types`` is empty) or PyAV is missing (the ``video`` extra)."""
        limits = self.adapter_class().limits
        if not limits.video_types:
            pytest.skip(f"{self.platform} takes no video (limits.video_types is empty)")
        pytest.importorskip("av", reason="making a test video needs PyAV: govsocial[video]")
        from govsocial.testing.video import make_video

        data = make_video(width=360, height=640, seconds=4, fps=30)
        post = Post(unique_text("Video layanan"), media=[Media(data=data)])
        assert [p for p in validate(post, self.platform) if p.severity == "error"] == []
        ref = self.publish(client, post, conformance_server.accounts[0])
        stored = conformance_server.stored_post(ref)
        assert stored is not None, "the server has no such post"
        kinds = getattr(conformance_server, "stored_media_kinds", None)
        if kinds is not None:
            assert kinds(stored) == ["video"]

    def test_one_bad_account_does_not_stop_the_others(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """A wrong secret fails that account alone, and the secret is in no message."""
        good = conformance_server.accounts[0]
        secret = self.adapter_class().secret_names()
        bad_credentials = {
            name: ("wrong-" + uuid.uuid4().hex) if name in secret else value.get_secret_value()
            for name, value in good.credentials.items()
        }
        bad = Account(**good.model_dump(exclude={"credentials"}), credentials=bad_credentials)
        results = client.publish(Post(unique_text()), [bad, good])
        assert [r.ok for r in results] == [False, True]
        assert isinstance(results[0].error, AuthenticationError)
        for name in secret:
            if name not in bad_credentials:
                continue  # an optional secret this account does not have
            assert bad_credentials[name] not in str(results[0].error)
            assert bad_credentials[name] not in repr(results[0])

    def test_delete_removes_it_from_the_server(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """A deleted post is gone from the server; skipped when ``limits.delete`` is False."""
        if not self.adapter_class().limits.delete:
            pytest.skip(f"{self.platform} cannot delete through its API")
        ref = self.publish(client, Post(unique_text()), conformance_server.accounts[0])
        assert conformance_server.stored_post(ref) is not None
        client.delete(ref)
        assert conformance_server.stored_post(ref) is None

    def test_metrics_follow_the_declared_vocabulary(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """After a like, the declared figures are read (others None), likes being 1."""
        author, fan = conformance_server.accounts[:2]
        ref = self.publish(client, Post(unique_text()), author)
        conformance_server.like(ref, fan)
        declared = self.adapter_class().limits.post_metrics

        def liked() -> Any:
            [metrics] = client.fetch_metrics([ref])
            return metrics if metrics.likes == 1 or "likes" not in declared else None

        metrics = self.eventually(liked, "fetch_metrics showing the like (likes == 1)")
        assert metrics.ref == ref
        if "likes" in declared:
            assert metrics.likes == 1
        for name in METRIC_FIELDS:
            value = getattr(metrics, name)
            if name in declared:
                # declared: the adapter reads it; None only where this server version lacks it
                assert value is None or isinstance(value, int), f"{name}: {value!r}"
            else:
                assert value is None, f"{name} is not declared, so it must be None, not {value!r}"

    def test_account_metrics(self, conformance_server: LocalServer, client: Client) -> None:
        """Account figures: the declared ones are ints (or None), the others None."""
        account = conformance_server.accounts[0]
        metrics = client.fetch_account_metrics(account)
        assert metrics.account == account
        declared = self.adapter_class().limits.account_metrics
        for name in ("followers", "following", "posts"):
            value = getattr(metrics, name)
            assert (value is None or isinstance(value, int)) if name in declared else value is None

    def test_reply_and_read_replies(self, conformance_server: LocalServer, client: Client) -> None:
        """A second account's reply is found by ``fetch_replies`` and answered; skipped when
        the adapter raises NotSupported."""
        author, citizen = conformance_server.accounts[:2]
        ref = self.publish(client, Post(unique_text("Jadwal vaksinasi")), author)
        question = unique_text("Apakah buka hari Sabtu?")
        citizen_view = ref.model_copy(update={"account": citizen})
        reply_ref = client.reply(citizen_view, Post(question))
        assert reply_ref.account == citizen

        def found() -> Any:
            return [i for i in client.fetch_replies(ref) if question in i.text]

        [interaction] = self.eventually(found, f"fetch_replies returning the reply {question!r}")
        assert interaction.kind == "reply"
        assert interaction.in_reply_to_id == ref.id
        answer = unique_text("Ya, buka pukul 08.00")
        answer_ref = client.reply(interaction, answer)
        stored = conformance_server.stored_post(answer_ref)
        assert stored is not None
        assert answer in conformance_server.stored_text(stored)

    def test_mentions(self, conformance_server: LocalServer, client: Client) -> None:
        """A second account's mention is found by ``fetch_mentions``; skipped when the
        adapter raises NotSupported."""
        author, citizen = conformance_server.accounts[:2]
        text = f"{conformance_server.mention(author)} {unique_text('mohon info')}"
        self.publish(client, Post(text), citizen)
        words = text.split(" ", 1)[1]

        def found() -> Any:
            return [i for i in client.fetch_mentions(author) if words in i.text]

        [mention] = self.eventually(found, f"fetch_mentions returning the mention {words!r}")
        assert mention.kind == "mention"

    def test_activity_brings_replies_and_mentions(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """``fetch_activity`` (the inbox's one read for replies and mentions) finds a
        second account's reply to a post, naming the author as the platforms' apps do, and
        its mention, threaded to the post; skipped when the adapter raises NotSupported (the
        inbox then reads per post)."""
        if self.adapter_class().fetch_activity is Platform.fetch_activity:
            pytest.skip(f"{self.platform} has no fetch_activity: the inbox reads per post")
        author, citizen = conformance_server.accounts[:2]
        ref = self.publish(client, Post(unique_text("Jadwal posyandu")), author)
        name = conformance_server.mention(author)
        question = unique_text("Apakah buka hari Sabtu?")
        client.reply(ref.model_copy(update={"account": citizen}), Post(f"{name} {question}"))
        words = unique_text("mohon info antrean")
        self.publish(client, Post(f"{name} {words}"), citizen)

        def found() -> Any:
            # no ``since``: an emulator may keep a clock of its own
            activity = client.fetch_activity(author, posts=[ref])
            texts = {i.text: i for i in activity.interactions}
            reply = next((i for t, i in texts.items() if question in t), None)
            mention = next((i for t, i in texts.items() if words in t), None)
            return (reply, mention, activity) if reply and mention else None

        reply, mention, activity = self.eventually(
            found, f"fetch_activity returning the reply {question!r} and the mention {words!r}"
        )
        assert ref.id in (reply.in_reply_to_id, reply.thread_id)
        assert mention.ref.id != reply.ref.id
        assert activity.cursor is None or isinstance(activity.cursor, str)

    def test_check_reports_every_action_and_no_secret(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """``client.check`` answers for post, reply, delete, metrics and account metrics,
        says what it asked, and shows no credential."""
        account = conformance_server.accounts[0]
        found = client.check(account)
        assert found.token_ok, found.error
        assert [c.name for c in found.capabilities] == list(CAPABILITIES)
        assert found.calls, "a check says which requests it made"
        shown = found.model_dump_json()
        for name in self.adapter_class().secret_names():
            if name in account.credentials:
                assert account.credential(name) not in shown, f"credential {name} leaks"

    def test_no_secret_in_reprs(self, conformance_server: LocalServer, client: Client) -> None:
        """No credential shows in the account's or the adapter's repr, str or JSON."""
        account = conformance_server.accounts[0]
        adapter = client.async_client.adapter(account)
        shown = " ".join([repr(account), str(account), repr(adapter), account.model_dump_json()])
        for name in self.adapter_class().secret_names():
            if name not in account.credentials:
                continue  # an optional secret (an app_secret) this account does not have
            secret = account.credential(name)
            assert secret not in shown, f"credential {name} leaks"
