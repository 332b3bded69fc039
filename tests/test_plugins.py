"""The plugin system: guarded loading, GOVSOCIAL_LOAD_PLUGINS, misspelled hooks, every hook,
pluggy's call order (tryfirst, trylast, latest first) and wrappers refused.

Every hook in govsocial.plugin.spec must have a ``test_hook_<name>`` here and a heading in
docs/plugins.md; test_every_hook_is_documented_and_tested fails otherwise.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import govsocial
from fakes import Paper, PaperServer
from govsocial import EventContext, Post, hookimpl
from govsocial.adapters.media import MediaHost
from govsocial.adapters.platform import Limits, Platform
from govsocial.client import AsyncClient
from govsocial.core.errors import PluginError
from govsocial.core.models import Account, PostRef, Problem, PublishResult
from govsocial.plugin import spec as hookspecs
from govsocial.plugin.manager import Plugins, PluginWarning

ROOT = Path(__file__).resolve().parent.parent


def hook_names() -> list[str]:
    return [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "govsocial_spec")
    ]


def test_every_hook_is_documented_and_tested() -> None:
    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    tests = Path(__file__).read_text(encoding="utf-8")
    assert hook_names(), "no hookspecs found"
    for name in hook_names():
        signature = str(inspect.signature(getattr(hookspecs, name))).split(" ->")[0]
        params = ", ".join(re.findall(r"(\w+):", signature))
        assert f"### {name}({params})" in docs, f"docs/plugins.md lacks a heading for hook {name}"
        assert f"def test_hook_{name}(" in tests, f"hook {name} has no test_hook_{name}"
        assert (
            getattr(hookspecs, name).__doc__
            and ".. versionadded::" in getattr(hookspecs, name).__doc__
        )


class FakeEntryPoint:
    def __init__(self, name: str, load: Callable[[], object], dist: str = "govsocial-fake") -> None:
        self.name = name
        self._load = load
        self.dist = type("Dist", (), {"name": dist, "version": "9.9"})()

    def load(self) -> object:
        return self._load()


def with_entry_points(monkeypatch: pytest.MonkeyPatch, *points: FakeEntryPoint) -> None:
    def entry_points(group: str) -> list[FakeEntryPoint]:
        return list(points) if group == "govsocial" else []

    monkeypatch.setattr(metadata, "entry_points", entry_points)


class GoodPlugin:
    @hookimpl
    def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
        register(Paper)


def test_a_broken_plugin_warns_and_the_host_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> object:
        raise ImportError("No module named 'missing_dependency'")

    with_entry_points(
        monkeypatch, FakeEntryPoint("broken", boom), FakeEntryPoint("paper", GoodPlugin)
    )
    with pytest.warns(PluginWarning, match="'broken'.*missing_dependency"):
        plugins = Plugins()
    assert list(plugins.platforms()) == ["paper"]
    assert "broken" in plugins.load_errors


def test_govsocial_load_plugins_restricts_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[str] = []

    def loader(name: str) -> Callable[[], object]:
        def load() -> object:
            loaded.append(name)
            return GoodPlugin() if name == "paper" else object()

        return load

    with_entry_points(
        monkeypatch,
        FakeEntryPoint("paper", loader("paper")),
        FakeEntryPoint("other", loader("other")),
    )
    monkeypatch.setenv("GOVSOCIAL_LOAD_PLUGINS", "paper")
    assert list(Plugins().platforms()) == ["paper"]
    assert loaded == ["paper"]
    monkeypatch.setenv("GOVSOCIAL_LOAD_PLUGINS", "")
    assert Plugins().platforms() == {}


def test_a_misspelled_hook_is_caught() -> None:
    class Typo:
        @hookimpl
        def register_platform(self, register: object) -> None:  # missing "s"
            pass

    plugins = Plugins(load_entrypoints=False)
    with pytest.raises(PluginError, match="register_platform"):
        plugins.register(Typo())


def test_a_misspelled_hook_in_an_entry_point_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    class Typo:
        @hookimpl
        def validate_posts(self, post: object) -> None:
            pass

    with_entry_points(monkeypatch, FakeEntryPoint("typo", Typo))
    with pytest.warns(PluginWarning, match="typo"):
        plugins = Plugins()
    assert plugins.pm.get_plugin("typo") is None


def test_hook_register_platforms() -> None:
    class Clash(Paper):
        pass

    class ClashPlugin:
        @hookimpl
        def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
            register(Clash)

    class KeepFirst:
        @hookimpl(tryfirst=True)
        def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
            register(Paper)

    plugins = Plugins(load_entrypoints=False)
    plugins.register(GoodPlugin(), name="good")
    assert plugins.platform("paper") is Paper
    plugins.register(ClashPlugin(), name="clash")
    # pluggy calls the later registration first, and the first adapter called keeps the name
    with pytest.warns(PluginWarning, match="two adapters claim platform 'paper'"):
        assert plugins.platform("paper") is Clash
    plugins.register(KeepFirst(), name="keep")
    with pytest.warns(PluginWarning, match="two adapters claim platform 'paper'"):
        assert plugins.platform("paper") is Paper


def test_hook_register_media_hosts() -> None:
    from govsocial.adapters.media import DirectoryHost, MediaHost

    class Bucket(MediaHost):
        name = "bucket"

        async def upload(self, data: bytes, *, mime_type: str | None, filename: str | None) -> str:
            return "https://bucket.example/x"

    class BucketPlugin:
        @hookimpl
        def register_media_hosts(self, register: Callable[[type[MediaHost]], None]) -> None:
            register(Bucket)
            register(object)  # type: ignore[arg-type]  # refused with a warning, not fatal

    plugins = Plugins(load_entrypoints=False)
    plugins.register(BucketPlugin(), name="bucket")
    with pytest.warns(PluginWarning, match="MediaHost subclass"):
        hosts = plugins.media_hosts()
    assert hosts == {"directory": DirectoryHost, "bucket": Bucket}


def test_register_refuses_what_is_not_a_platform() -> None:
    class Wrong:
        @hookimpl
        def register_platforms(self, register: Callable[[object], None]) -> None:
            register(object)

    plugins = Plugins(load_entrypoints=False)
    plugins.register(Wrong(), name="wrong")
    with pytest.warns(PluginWarning, match="Platform subclass"):
        assert plugins.platforms() == {}


def test_hook_validate_post(plugins: Plugins) -> None:
    seen: list[tuple[str, int]] = []

    class BannedWords:
        @hookimpl
        def validate_post(self, post: Post, platform: str, limits: Limits) -> list[Problem]:
            seen.append((platform, limits.max_characters))
            if "hoaks" in post.text.lower():
                return [Problem(code="banned_word", message="no hoaxes", field="text")]
            return []

    plugins.register(BannedWords(), name="banned")
    [problem] = govsocial.validate(Post("Ini hoaks"), "paper")
    assert problem.code == "banned_word" and problem.platform == "paper"
    assert seen == [("paper", 20)]


def test_a_failing_house_rule_warns_and_validation_goes_on(plugins: Plugins) -> None:
    class Buggy:
        @hookimpl
        def validate_post(self, post: Post, platform: str, limits: Limits) -> list[Problem]:
            raise KeyError("oops")

    plugins.register(Buggy(), name="buggy")
    with pytest.warns(PluginWarning, match="buggy.*validate_post"):
        assert govsocial.validate(Post("ok"), "paper") == []


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    @hookimpl
    def publish_started(self, post: Post, account: Account, idempotency_key: str) -> None:
        self.events.append(("started", (post.text, account.handle, idempotency_key)))

    @hookimpl
    def publish_finished(self, post: Post, result: PublishResult) -> None:
        self.events.append(("finished", (post.text, result.ok)))

    @hookimpl
    def post_deleted(self, ref: PostRef) -> None:
        self.events.append(("deleted", ref.id))


@pytest.mark.anyio
async def test_hook_publish_started(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    recorder = Recorder()
    plugins.register(recorder, name="recorder")
    async with AsyncClient(transport=paper_server.transport()) as client:
        await client.publish(Post("halo"), [account], idempotency_keys={account: "k1"})
    assert recorder.events[0] == ("started", ("halo", "@humas", "k1"))
    assert paper_server.requests[0].headers["idempotency-key"] == "k1"


@pytest.mark.anyio
async def test_hook_publish_finished(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    recorder = Recorder()
    plugins.register(recorder, name="recorder")
    async with AsyncClient(transport=paper_server.transport()) as client:
        await client.publish(Post("halo"), [account])
        await client.publish(Post("x" * 99), [account])  # invalid: finished, not ok
    finished = [e for e in recorder.events if e[0] == "finished"]
    assert finished == [("finished", ("halo", True)), ("finished", ("x" * 99, False))]
    assert len(paper_server.posts) == 1


@pytest.mark.anyio
async def test_hook_post_deleted(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    recorder = Recorder()
    plugins.register(recorder, name="recorder")
    async with AsyncClient(transport=paper_server.transport()) as client:
        [result] = await client.publish(Post("halo"), [account])
        assert result.ref is not None
        await client.delete(result.ref)
    assert ("deleted", result.ref.id) in recorder.events
    assert paper_server.posts == {}


@pytest.mark.anyio
async def test_a_failing_event_listener_never_stops_publishing(
    plugins: Plugins, paper_server: PaperServer, account: Account
) -> None:
    class Broken:
        @hookimpl
        def publish_started(self, post: Post, account: Account, idempotency_key: str) -> None:
            raise RuntimeError("archive offline")

    plugins.register(Broken(), name="broken-archive")
    async with AsyncClient(transport=paper_server.transport()) as client:
        with pytest.warns(PluginWarning, match="archive offline"):
            [result] = await client.publish(Post("halo"), [account])
    assert result.ok
    assert len(paper_server.posts) == 1


def test_platforms_know_their_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    with_entry_points(monkeypatch, FakeEntryPoint("paper", GoodPlugin, dist="govsocial-paper"))
    plugins = Plugins()
    assert plugins.distribution("paper") == "govsocial-paper 9.9"
    assert plugins.distribution("nothing") is None


def test_hook_register_commands(
    plugins: Plugins, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plugin's command is parsed and run by the CLI's main(), on the workspace of --db."""

    from fakes import paper_account
    from govsocial.app import Workspace
    from govsocial.cli import main

    class Stats:
        @hookimpl
        def register_commands(
            self, commands: argparse._SubParsersAction[argparse.ArgumentParser]
        ) -> None:
            stats = commands.add_parser("stats", help="the workspace's accounts")
            stats.add_argument("--prefix", default="")
            stats.set_defaults(handler=self.run)

        def run(self, args: argparse.Namespace) -> int:
            with Workspace.open(args.db) as ws:
                names = [name for name in ws.accounts() if name.startswith(args.prefix)]
            print(f"{len(names)} accounts: {', '.join(names)}")
            return 3

    db = str(tmp_path / "ws.db")
    with Workspace.open(db, plugins=plugins) as ws:
        ws.add_account("humas", paper_account())
        ws.add_account("dinkes", paper_account("@dinkes"))
    plugins.register(Stats(), name="stats")
    assert main(["--db", db, "stats", "--prefix", "hu"]) == 3, "the handler's exit status"
    assert capsys.readouterr().out == "1 accounts: humas\n"


# -- pluggy's semantics ------------------------------------------------------------------------


def ordered(
    label: str, calls: list[str], *, tryfirst: bool = False, trylast: bool = False
) -> object:
    """A plugin implementing every hook, recording ``label`` when called."""

    class Ordered:
        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
            calls.append(label)

        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def register_media_hosts(self, register: Callable[[type[MediaHost]], None]) -> None:
            calls.append(label)

        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def validate_post(self, post: Post, platform: str, limits: Limits) -> list[Problem]:
            calls.append(label)
            return []

        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def publish_started(self, post: Post, account: Account, idempotency_key: str) -> None:
            calls.append(label)

        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def publish_finished(self, post: Post, result: PublishResult) -> None:
            calls.append(label)

        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def post_deleted(self, ref: PostRef) -> None:
            calls.append(label)

        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def register_commands(self, commands: object) -> None:
            calls.append(label)

        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def classify_message(self, text: str) -> None:
            calls.append(label)

        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def notify(self, notice: object) -> None:
            calls.append(label)

        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def register_escalation_targets(self, register: object) -> None:
            calls.append(label)

    return Ordered()


def call_through_host(plugins: Plugins, hook: str, account: Account) -> None:
    post = Post("halo")
    if hook == "register_platforms":
        plugins.platforms()
    elif hook == "register_media_hosts":
        plugins.media_hosts()
    elif hook == "validate_post":
        plugins.validate_post(post, "paper", Paper.limits)
    elif hook == "publish_started":
        plugins.publish_started(post, account, "k1")
    elif hook == "publish_finished":
        plugins.publish_finished(post, PublishResult(account=account, idempotency_key="k1"))
    elif hook == "post_deleted":
        plugins.post_deleted(PostRef(platform="paper", account=account, id="1"))
    elif hook == "register_commands":
        plugins.register_commands(argparse.ArgumentParser().add_subparsers())
    elif hook == "classify_message":
        plugins.classify_message("halo", None, DEFAULT_ANSWER)
    elif hook == "notify":
        plugins.notify(NOTICE)
    elif hook == "register_escalation_targets":
        plugins.escalation_targets()
    else:
        pytest.fail(f"no host call for hook {hook}")


DEFAULT_ANSWER = govsocial.Classification(intent="other", confidence=0.5)
NOTICE = govsocial.Notice(kind="emergency", subject="s", text="t")


def hook_arguments(hook: str, account: Account) -> dict[str, object]:
    post = Post("halo")
    return {
        "register_platforms": {"register": lambda cls: None},
        "register_media_hosts": {"register": lambda cls: None},
        "validate_post": {"post": post, "platform": "paper", "limits": Paper.limits},
        "publish_started": {
            "post": post,
            "account": account,
            "idempotency_key": "k1",
            "context": EventContext(),
        },
        "publish_finished": {
            "post": post,
            "result": PublishResult(account=account, idempotency_key="k1"),
            "context": EventContext(),
        },
        "post_deleted": {
            "ref": PostRef(platform="paper", account=account, id="1"),
            "context": EventContext(),
        },
        "register_commands": {"commands": argparse.ArgumentParser().add_subparsers()},
        "classify_message": {"text": "halo", "language": None, "default": DEFAULT_ANSWER},
        "notify": {"notice": NOTICE},
        "register_escalation_targets": {"register": lambda target: None},
    }[hook]


ORDERED_HOOKS = [
    "register_platforms",
    "register_media_hosts",
    "validate_post",
    "publish_started",
    "publish_finished",
    "post_deleted",
    "register_commands",
    "classify_message",
    "notify",
    "register_escalation_targets",
]


def test_the_order_test_covers_every_hook() -> None:
    assert sorted(ORDERED_HOOKS) == sorted(hook_names())


@pytest.mark.parametrize("hook", ORDERED_HOOKS)
def test_every_hook_runs_in_pluggys_order(hook: str, account: Account) -> None:
    """tryfirst first, trylast last, and otherwise the latest registration first."""
    calls: list[str] = []
    plugins = Plugins(load_entrypoints=False)
    plugins.register(ordered("trylast", calls, trylast=True), name="trylast")
    plugins.register(ordered("earlier", calls), name="earlier")
    plugins.register(ordered("tryfirst", calls, tryfirst=True), name="tryfirst")
    plugins.register(ordered("later", calls), name="later")
    call_through_host(plugins, hook, account)
    assert calls == ["tryfirst", "later", "earlier", "trylast"]
    calls.clear()
    getattr(plugins.pm.hook, hook)(**hook_arguments(hook, account))  # pluggy's own call
    assert calls == ["tryfirst", "later", "earlier", "trylast"]


def test_a_failing_implementation_is_isolated_in_pluggys_order(account: Account) -> None:
    calls: list[str] = []

    class Failing:
        @hookimpl(tryfirst=True)
        def publish_started(self, post: Post, account: Account, idempotency_key: str) -> None:
            calls.append("failing")
            raise RuntimeError("archive offline")

    plugins = Plugins(load_entrypoints=False)
    plugins.register(ordered("trylast", calls, trylast=True), name="trylast")
    plugins.register(Failing(), name="failing")
    plugins.register(ordered("plain", calls), name="plain")
    with pytest.warns(PluginWarning, match="'failing' failed in publish_started"):
        plugins.publish_started(Post("halo"), account, "k1")
    assert calls == ["failing", "plain", "trylast"]


def test_a_parameter_with_a_default_receives_the_value_as_pluggy_gives_it() -> None:
    seen: list[object] = []

    class Optional:
        @hookimpl
        def validate_post(self, post: Post, platform: str, limits: Limits | None = None) -> None:
            seen.append(limits)

    plugins = Plugins(load_entrypoints=False)
    plugins.register(Optional(), name="optional")
    plugins.validate_post(Post("halo"), "paper", Paper.limits)
    assert seen == [Paper.limits]


class NewStyleWrapper:
    @hookimpl(wrapper=True)
    def validate_post(self, post: Post, platform: str, limits: Limits) -> Any:
        problems = yield
        return problems


class OldStyleWrapper:
    @hookimpl(hookwrapper=True)
    def validate_post(self, post: Post, platform: str, limits: Limits) -> Any:
        yield


@pytest.mark.parametrize(
    ("wrapper", "kind"),
    [(NewStyleWrapper, "wrapper=True"), (OldStyleWrapper, "hookwrapper=True")],
)
def test_a_wrapper_is_refused_at_registration(wrapper: type, kind: str) -> None:
    plugins = Plugins(load_entrypoints=False)
    with pytest.raises(PluginError, match=rf"'audit'.*'validate_post'.*{re.escape(kind)}"):
        plugins.register(wrapper(), name="audit")
    assert plugins.pm.get_plugin("audit") is None
    assert plugins.pm.hook.validate_post.get_hookimpls() == []


def test_a_wrapper_in_an_entry_point_warns_and_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    with_entry_points(
        monkeypatch,
        FakeEntryPoint("audit", NewStyleWrapper),
        FakeEntryPoint("paper", GoodPlugin),
    )
    with pytest.warns(PluginWarning, match="'audit'.*PluginError.*'validate_post'.*wrapper"):
        plugins = Plugins()
    assert plugins.pm.get_plugin("audit") is None
    assert "wrapper" in plugins.load_errors["audit"]
    assert list(plugins.platforms()) == ["paper"]


def test_a_wrapper_that_bypassed_register_is_skipped_not_run_as_a_function() -> None:
    class BannedWords:
        @hookimpl
        def validate_post(self, post: Post, platform: str, limits: Limits) -> list[Problem]:
            return [Problem(code="banned_word", message="no hoaxes", field="text")]

    plugins = Plugins(load_entrypoints=False)
    plugins.register(BannedWords(), name="banned")
    plugins.pm.register(NewStyleWrapper(), name="sneaky")  # past the check, on purpose
    with pytest.warns(PluginWarning, match="'sneaky'.*wrapper.*skipped"):
        problems = plugins.validate_post(Post("Ini hoaks"), "paper", Paper.limits)
    assert [problem.code for problem in problems] == ["banned_word"]


# -- the plugin SDK: one import path ---------------------------------------------------------


def test_the_sdk_exports_everything_with_a_docstring() -> None:
    import govsocial.adapters as sdk

    assert set(sdk.__all__) == set(dir(sdk)), "__dir__ and __all__ disagree"
    for name in sdk.__all__:
        value = getattr(sdk, name)
        assert value is not None, name
        assert (getattr(value, "__doc__", None) or "").strip(), f"{name} has no docstring"
    assert isinstance(sdk.CONTRACT_VERSION, int)
    assert sdk.Platform is govsocial.Platform and sdk.Post is govsocial.Post
    with pytest.raises(AttributeError):
        sdk.NotAName  # noqa: B018


def test_there_is_one_hookimpl_marker() -> None:
    import govsocial.adapters as sdk

    assert sdk.hookimpl is govsocial.hookimpl is hookspecs.hookimpl


def test_the_sdk_page_lists_every_export() -> None:
    import govsocial.adapters as sdk

    page = (ROOT / "docs" / "sdk.md").read_text(encoding="utf-8")
    missing = [name for name in sdk.__all__ if f"`{name}`" not in page]
    assert not missing, f"docs/sdk.md does not list {missing}"
    assert f"`CONTRACT_VERSION` (now `{sdk.CONTRACT_VERSION}`)" in page


def plugin_sources() -> list[Path]:
    roots = [*sorted((ROOT / "plugins").glob("*/src")), ROOT / "docs" / "example-plugin" / "src"]
    return [path for root in roots for path in sorted(root.rglob("*.py"))]


@pytest.mark.parametrize("path", plugin_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_import_govsocial_only_through_the_sdk(path: Path) -> None:
    """govsocial.testing is allowed too: a plugin's local server is test tooling."""
    import ast

    allowed = ("govsocial.adapters", "govsocial.testing")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules = (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level == 0
            else [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        for module in modules:
            if module == "govsocial" or module.startswith("govsocial."):
                assert module.startswith(allowed), (
                    f"{path.relative_to(ROOT)}:{node.lineno} imports {module}; "
                    "import it from govsocial.adapters"
                )


# -- listening hooks ------------------------------------------------------------------------


class SkckModel:
    """A real classifier plugin: SKCK questions the lexicon does not know."""

    def __init__(self, confidence: float = 0.8) -> None:
        self.confidence = confidence
        self.seen: list[tuple[str, str | None, str]] = []

    @hookimpl
    def classify_message(
        self, text: str, language: str | None, default: govsocial.Classification
    ) -> govsocial.Classification | None:
        self.seen.append((text, language, default.classifier))
        if "skck" not in text.lower():
            return None
        return govsocial.Classification(
            intent="question",
            confidence=self.confidence,
            classifier="polres-skck",
            reasons=("mentions SKCK",),
        )


def test_hook_classify_message(plugins: Plugins) -> None:
    text = "SKCK di polres"
    assert govsocial.classify(text).classifier == "govsocial.lexicon"
    model = SkckModel()
    plugins.register(model, name="skck")
    found = govsocial.classify(text, "id")
    assert (found.intent, found.classifier, found.reasons) == (
        "question",
        "polres-skck",
        ("mentions SKCK",),
    )
    assert model.seen == [(text, "id", "govsocial.lexicon")], "given the built-in answer"
    assert govsocial.classify("Terima kasih, mantap").classifier == "govsocial.lexicon"


def test_the_most_confident_classifier_wins(plugins: Plugins) -> None:
    plugins.register(SkckModel(confidence=0.2), name="unsure")
    assert govsocial.classify("SKCK di polres").classifier == "govsocial.lexicon"
    plugins.register(SkckModel(confidence=0.9), name="sure")
    assert govsocial.classify("SKCK di polres").classifier == "polres-skck"


def test_no_plugin_can_overrule_an_emergency(plugins: Plugins) -> None:
    class Dismissive:
        @hookimpl
        def classify_message(
            self, text: str, language: str | None, default: govsocial.Classification
        ) -> govsocial.Classification:
            return govsocial.Classification(intent="other", confidence=1.0, classifier="lazy")

    plugins.register(Dismissive(), name="lazy")
    found = govsocial.classify("tolong ada kebakaran di pasar")
    assert found.intent == "emergency" and found.classifier == "govsocial.lexicon"
    assert "emergency kept over lazy" in found.reasons
    assert govsocial.classify("Terima kasih").classifier == "lazy", "elsewhere it wins"


def test_a_broken_classifier_warns_and_the_built_in_answer_stands(plugins: Plugins) -> None:
    class Broken:
        @hookimpl
        def classify_message(self, text: str) -> object:
            if "x" in text:
                raise RuntimeError("model unreachable")
            return {"intent": "praise"}

    plugins.register(Broken(), name="broken")
    with pytest.warns(PluginWarning, match="broken.*classify_message.*model unreachable"):
        assert govsocial.classify("x mantap").classifier == "govsocial.lexicon"
    with pytest.warns(PluginWarning, match="broken.*dict from classify_message"):
        assert govsocial.classify("mantap").classifier == "govsocial.lexicon"


def test_hook_notify(plugins: Plugins) -> None:
    got: list[govsocial.Notice] = []

    class Pager:
        @hookimpl
        def notify(self, notice: govsocial.Notice) -> None:
            got.append(notice)

    class Down:
        @hookimpl
        def notify(self, notice: govsocial.Notice) -> None:
            raise ConnectionError("pager down")

    notice = govsocial.Notice(kind="emergency", subject="banjir", text="banjir sepinggang")
    assert plugins.notify(notice) == (0, 0), "nobody to tell"
    plugins.register(Pager(), name="pager")
    plugins.register(Down(), name="down")
    with pytest.warns(PluginWarning, match="down.*notify.*pager down"):
        assert plugins.notify(notice) == (1, 1)
    assert got == [notice], "the pager still got it"


def test_hook_register_escalation_targets(
    plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target registers itself; a registration that is no target warns and is left out;
    a second target of a taken name warns and the first stays (the escalation itself is
    tested against real servers in tests/test_escalation.py)."""
    monkeypatch.setenv("GOVSOCIAL_CRED_TIKET", "s" * 32)

    def target(name: str) -> govsocial.WebhookTarget:
        return govsocial.WebhookTarget(
            name=name, url="http://127.0.0.1:9/hook", secret="env:GOVSOCIAL_CRED_TIKET"
        )

    class NotATarget:
        @govsocial.hookimpl
        def register_escalation_targets(self, register: Callable[[object], None]) -> None:
            register(object())

    first, second = target("lapor-bridge"), target("lapor-bridge")
    plugins.register(first, name="first")
    plugins.register(NotATarget(), name="broken")
    with pytest.warns(PluginWarning, match="escalation target"):
        found = plugins.escalation_targets()
    assert found == {"lapor-bridge": first}
    assert isinstance(first, govsocial.EscalationTarget)
    plugins.unregister(plugins.pm.get_plugin("broken"))
    plugins.register(second, name="second")
    with pytest.warns(PluginWarning, match="two escalation targets"):
        kept = plugins.escalation_targets()["lapor-bridge"]
    assert kept is second, "the one registered later is called first, as pluggy orders"
