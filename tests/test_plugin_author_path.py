"""What a plugin author needs from the SDK (issue 11, item 12), checked as they would meet it.

The default counter honours ``Limits.url_length``; ``NotSupported`` makes the inbox skip
what a platform cannot do and the conformance suite skip the matching checks; the suite
fails fast, saying what it waited for; govsocial's pytest plugin isolates the plugin
system. The suite itself runs in a nested pytest (``pytester``) under warnings-as-errors,
against the example plugin's Papan server, with adapters changed to lack a feature.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from fakes import Paper, PaperServer, publish_now
from govsocial import Post, hookimpl
from govsocial.adapters.platform import Limits, Platform
from govsocial.app import Workspace
from govsocial.client.validation import validate
from govsocial.core.errors import GovSocialError, NotSupported
from govsocial.core.models import Interaction, PostRef
from govsocial.plugin import manager
from govsocial.plugin.manager import Plugins, default_plugins
from govsocial.testing import eventually, use_plugins

pytest_plugins = ["pytester"]

LONG_URL = "https://dinkes.example.go.id/jadwal/vaksinasi/2026/desember/balai-kota?lang=id"


class Linky(Platform):
    """A platform that counts every link as 23 characters, declared, not coded."""

    name = "linky"
    title = "Linky"
    limits = Limits(max_characters=40, url_length=23)

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        raise NotImplementedError

    async def delete(self, ref: PostRef) -> None:
        raise NotImplementedError

    async def fetch_metrics(self, refs: object) -> list[object]:  # type: ignore[override]
        raise NotImplementedError

    async def fetch_account_metrics(self) -> object:  # type: ignore[override]
        raise NotImplementedError

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        raise NotImplementedError

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        raise NotImplementedError


class LinkyPlugin:
    @hookimpl
    def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
        register(Linky)


# -- Limits.url_length in the default counter ------------------------------------------------


def test_a_url_counts_as_url_length_when_it_is_set() -> None:
    assert len(LONG_URL) > 23
    text = f"Jadwal: {LONG_URL} ya"
    assert Linky.count_characters(text) == len("Jadwal: ") + 23 + len(" ya")
    assert Linky.count_characters(f"{LONG_URL} {LONG_URL}") == 23 + 1 + 23


def test_without_url_length_a_url_counts_as_its_graphemes() -> None:
    text = f"Jadwal: {LONG_URL}"
    assert Paper.limits.url_length is None
    assert Paper.count_characters(text) == len(text)
    unset = Linky.limits.model_copy(update={"url_length": None})
    assert Linky.count_characters(text, unset) == len(text)


def test_limits_given_to_the_counter_win_over_the_class_limits() -> None:
    refined = Linky.limits.model_copy(update={"url_length": 10})
    assert Linky.count_characters(LONG_URL, refined) == 10


def test_a_bare_domain_is_counted_as_written() -> None:
    """Only links with a scheme are shortened (Mastodon's rule); X overrides the counter."""
    assert Linky.count_characters("lihat dinkes.example.go.id") == len("lihat dinkes.example.go.id")


def test_validate_counts_urls_as_the_platform_does(isolated_plugins: Plugins) -> None:
    isolated_plugins.register(LinkyPlugin(), name="linky")
    text = f"Info vaksin: {LONG_URL}"  # 13 + 23 = 36 <= 40, though far longer as written
    assert validate(Post(text), "linky") == []
    [problem] = validate(Post(f"Info vaksinasi gratis hari ini: {LONG_URL}"), "linky")
    assert problem.code == "text_too_long"
    assert "55 characters" in problem.message


# -- NotSupported ----------------------------------------------------------------------------


def test_not_supported_is_a_govsocial_error_that_survives_pickling() -> None:
    error = NotSupported("Linky cannot list mentions", platform="linky", action="fetch_mentions")
    assert isinstance(error, GovSocialError)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.platform, copy.action) == (
        NotSupported,
        "Linky cannot list mentions",
        "linky",
        "fetch_mentions",
    )


class Mute(Paper):
    """The fake platform, without mentions or replies to list."""

    replies_asked = 0

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        type(self).replies_asked += 1
        raise NotSupported("Paper cannot list replies", platform="paper", action="fetch_replies")

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        raise NotSupported("Paper cannot list mentions", platform="paper", action="fetch_mentions")


class MutePlugin:
    @hookimpl
    def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
        register(Mute)


def test_the_inbox_skips_what_the_platform_cannot_list(
    isolated_plugins: Plugins,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from fakes import TOKEN, paper_account

    isolated_plugins.register(MutePlugin(), name="paper")
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    server = PaperServer()
    with Workspace.open(str(tmp_path / "ws.db"), plugins=isolated_plugins) as ws:
        ws.add_account("humas", paper_account())
        publish_now(ws, server, {"Halo warga": {}, "Info banjir": {}})
        assert len(server.posts) == 2, "two published posts whose replies could be asked for"
        Mute.replies_asked = 0
        report = ws.pull_inbox(transport=server.transport())
    assert report.failed == {}, "a platform that cannot list is no failure"
    assert report.new == {"humas": 0}
    assert Mute.replies_asked == 1, "asked once; the other post is not asked again"
    assert not [r for r in caplog.records if r.levelname in {"WARNING", "ERROR"}]


# -- the conformance suite skips what the platform cannot do, and fails fast -------------------

LACKING = """
import pytest

import govsocial
from govsocial.core.errors import NotSupported
from govsocial.plugin.manager import Plugins
from govsocial.testing import PlatformConformance, use_plugins
from govsocial_papan import Papan


class Lacking(Papan):
    limits = Papan.limits.model_copy(update={{"max_media": 0}})

    async def fetch_replies(self, ref):
        {replies}

    async def fetch_mentions(self, *, since=None):
        {mentions}


class Plugin:
    @govsocial.hookimpl
    def register_platforms(self, register):
        register(Lacking)


@pytest.fixture(scope="module", autouse=True)
def _lacking_papan():
    plugins = Plugins(load_entrypoints=False)
    plugins.register(Plugin(), name="papan")
    with use_plugins(plugins):
        yield


class TestLackingConformance(PlatformConformance):
    platform = "papan"
    eventually_timeout = 0.5
"""


def run_suite(pytester: pytest.Pytester, replies: str, mentions: str) -> pytest.RunResult:
    pytester.makepyfile(test_lacking=LACKING.format(replies=replies, mentions=mentions))
    return pytester.runpytest("-W", "error", "-p", "no:cacheprovider", "-rs")


def test_the_suite_skips_media_replies_and_mentions_a_platform_cannot_do(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("govsocial_papan")
    cannot = 'raise NotSupported("Papan-lite cannot list {}", platform="papan")'
    result = run_suite(pytester, cannot.format("replies"), cannot.format("mentions"))
    result.assert_outcomes(passed=12, skipped=5)
    result.stdout.fnmatch_lines(
        [
            "*papan takes no media (limits.max_media is 0)*",
            "*papan takes no video (limits.video_types is empty)*",
            "*papan cannot do this: Papan-lite cannot list replies*",
            "*papan cannot do this: Papan-lite cannot list mentions*",
            "*papan has no fetch_activity: the inbox reads per post*",
        ]
    )


def test_the_suite_fails_fast_saying_what_it_waited_for(pytester: pytest.Pytester) -> None:
    pytest.importorskip("govsocial_papan")
    result = run_suite(pytester, "return []", "return []")
    result.assert_outcomes(passed=12, skipped=3, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: fetch_replies returning the reply*not met within 0.5 s",
            "*AssertionError: fetch_mentions returning the mention*not met within 0.5 s",
        ]
    )
    assert result.duration < 20, "a failing check waits eventually_timeout, not 30 s"


def test_eventually_does_not_wait_out_a_not_supported() -> None:
    calls: list[int] = []

    def check() -> None:
        calls.append(1)
        raise NotSupported("cannot")

    with pytest.raises(NotSupported):
        eventually(check, timeout=30)
    assert calls == [1]


# -- govsocial's pytest plugin -------------------------------------------------------------------


def test_isolated_plugins_is_empty_and_the_process_default(isolated_plugins: Plugins) -> None:
    assert default_plugins() is isolated_plugins
    assert isolated_plugins.platforms() == {}


def test_use_plugins_puts_back_the_default_it_found() -> None:
    before = manager._default
    inner = Plugins(load_entrypoints=False)
    with use_plugins(inner):
        assert default_plugins() is inner
        with use_plugins(Plugins(load_entrypoints=False)) as innermost:
            assert default_plugins() is innermost
        assert default_plugins() is inner
    assert manager._default is before
