"""Loading plugins and calling their hooks, through one small typed class.

:class:`Plugins` owns a pluggy PluginManager. It loads every entry point of the
``govsocial`` group on its own guard (a broken plugin warns and is skipped, the host goes
on), honours ``GOVSOCIAL_LOAD_PLUGINS`` (a comma-separated list of entry-point or
distribution names to load; empty loads none), checks that every hook implementation
matches a spec (a misspelled hook is an error, not a silent no-op), and offers typed
methods for each hook so no caller touches ``pm.hook`` directly.

Implementations are called in pluggy's order (``tryfirst`` ones first, ``trylast`` ones
last, and otherwise the most recently registered first), each on its own guard: one that
raises is reported as a :class:`PluginWarning` and the others still run. Wrappers
(``wrapper=True``, ``hookwrapper=True``) are refused when a plugin is registered: a wrapper
surrounds the call of all the other implementations, which the per-implementation guard
cannot give it (docs/plugins.md says more).
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Callable, Iterable
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy

from govsocial.adapters.platform import Limits, Platform
from govsocial.core.errors import ConfigurationError, PluginError
from govsocial.core.listening import Classification, EscalationTarget, Notice
from govsocial.core.models import Account, EventContext, Post, PostRef, Problem, PublishResult
from govsocial.plugin import spec as hookspecs

if TYPE_CHECKING:
    from govsocial.adapters.media import MediaHost

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginWarning",
    "Plugins",
    "default_plugins",
    "reset_default_plugins",
]

ENTRY_POINT_GROUP = "govsocial"


class PluginWarning(UserWarning):
    """A plugin failed to load or to run a hook; the host went on without it."""


class Plugins:
    """The plugin system: a pluggy manager plus typed calls to each hook.

    :param load_entrypoints: load the ``govsocial`` entry points (False in tests that
        register fake plugins by hand).
    :param only: load only these entry-point or distribution names (default: the
        ``GOVSOCIAL_LOAD_PLUGINS`` variable when set, else all).
    """

    def __init__(self, *, load_entrypoints: bool = True, only: Iterable[str] | None = None) -> None:
        self.pm = pluggy.PluginManager("govsocial")
        self.pm.add_hookspecs(hookspecs)
        self.load_errors: dict[str, str] = {}
        self._distributions: dict[str, str] = {}  # plugin name -> "distribution version"
        self._platform_plugins: dict[str, str] = {}  # platform name -> plugin name
        self._platforms: dict[str, type[Platform]] | None = None
        if only is None:
            env = os.environ.get("GOVSOCIAL_LOAD_PLUGINS")
            only = (
                None if env is None else [name.strip() for name in env.split(",") if name.strip()]
            )
        self._only = None if only is None else set(only)
        if load_entrypoints:
            self.load_entrypoints()

    # -- loading -------------------------------------------------------------------------

    def load_entrypoints(self) -> None:
        """Load every allowed entry point of the group, each on its own guard."""
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = entry_point.dist.name if entry_point.dist is not None else ""
            if self._only is not None and not ({entry_point.name, dist} & self._only):
                continue
            if self.pm.get_plugin(entry_point.name) is not None:
                continue
            try:
                plugin = entry_point.load()
                self.pm.register(plugin, name=entry_point.name)
                self.pm.check_pending()
                self._refuse_wrappers(plugin)
                if entry_point.dist is not None:
                    self._distributions[entry_point.name] = (
                        f"{entry_point.dist.name} {entry_point.dist.version}"
                    )
            except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the host
                registered = self.pm.get_plugin(entry_point.name)
                if registered is not None:
                    self.pm.unregister(registered)
                self.load_errors[entry_point.name] = f"{type(exc).__name__}: {exc}"
                warnings.warn(
                    f"govsocial plugin {entry_point.name!r} ({dist or 'unknown distribution'}) "
                    f"failed to load and was skipped: {type(exc).__name__}: {exc}",
                    PluginWarning,
                    stacklevel=2,
                )
        self._platforms = None

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object (module or instance) by hand, checking its hooks.

        :raises PluginError: a hook no spec declares (a misspelled name), or a wrapper
            (``wrapper=True`` or ``hookwrapper=True``), which this host does not run; the
            plugin is then not registered.
        """
        registered = self.pm.register(plugin, name=name)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(plugin)
            raise PluginError(f"plugin {registered!r} has a hook no spec knows: {exc}") from None
        self._refuse_wrappers(plugin)
        self._platforms = None

    def unregister(self, plugin: object) -> None:
        """Remove a registered plugin; its hooks are no longer called."""
        self.pm.unregister(plugin)
        self._platforms = None

    def _refuse_wrappers(self, plugin: object) -> None:
        """Unregister ``plugin`` and raise PluginError when it implements a hook as a wrapper.

        The host calls each implementation on its own guard, so that one failing plugin
        never stops the others; a wrapper would run around all of them, and would see
        neither their exceptions (the guard keeps them) nor a result (the ``register_*``
        hooks return nothing). Refusing it here says so at once, instead of running its
        generator as a plain function that does nothing.
        """
        for caller in self.pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper):
                    kind = "wrapper=True" if impl.wrapper else "hookwrapper=True"
                    self.pm.unregister(plugin)
                    raise PluginError(
                        f"plugin {impl.plugin_name!r} implements hook {caller.name!r} as a "
                        f"wrapper ({kind}); govsocial calls each implementation on its own "
                        "guard and runs no wrappers: implement the hook as a plain function "
                        "(order it with tryfirst=True or trylast=True)"
                    )

    def check_pending(self) -> None:
        """Raise PluginError when a registered plugin implements a hook no spec declares."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(str(exc)) from None

    def distribution(self, platform: str) -> str | None:
        """ "distribution version" of the package that registered ``platform``, when known."""
        self.platforms()
        plugin = self._platform_plugins.get(platform)
        return self._distributions.get(plugin) if plugin is not None else None

    # -- register_platforms ----------------------------------------------------------------

    def platforms(self) -> dict[str, type[Platform]]:
        """Every registered adapter by name (computed once, until plugins change)."""
        if self._platforms is None:
            found: dict[str, type[Platform]] = {}
            plugin_name = ""

            def register(cls: type[Platform]) -> None:
                if not (isinstance(cls, type) and issubclass(cls, Platform)):
                    raise PluginError(f"register() takes a Platform subclass, not {cls!r}")
                name = getattr(cls, "name", None)
                if not isinstance(name, str) or not name:
                    raise PluginError(f"{cls.__qualname__} has no platform name")
                if name in found and found[name] is not cls:
                    warnings.warn(
                        f"two adapters claim platform {name!r}: {found[name].__module__} "
                        f"(kept) and {cls.__module__} (ignored)",
                        PluginWarning,
                        stacklevel=2,
                    )
                    return
                found[name] = cls
                self._platform_plugins[name] = plugin_name

            for impl in self._in_call_order("register_platforms"):
                plugin_name = impl.plugin_name
                self._guarded(impl, "register_platforms", register=register)
            self._platforms = dict(sorted(found.items()))
        return self._platforms

    # -- register_media_hosts --------------------------------------------------------------

    def media_hosts(self) -> dict[str, type[MediaHost]]:
        """Every media host by name: the built-in ``directory`` and those plugins register."""
        from govsocial.adapters.media import DirectoryHost, MediaHost

        found: dict[str, type[MediaHost]] = {DirectoryHost.name: DirectoryHost}

        def register(cls: type[MediaHost]) -> None:
            if not (isinstance(cls, type) and issubclass(cls, MediaHost)):
                raise PluginError(f"register() takes a MediaHost subclass, not {cls!r}")
            found.setdefault(cls.name, cls)

        for impl in self._in_call_order("register_media_hosts"):
            self._guarded(impl, "register_media_hosts", register=register)
        return found

    def platform(self, name: str) -> type[Platform]:
        """The adapter for ``name``.

        :raises ConfigurationError: no plugin registers it (the message lists those that do).
        """
        platforms = self.platforms()
        try:
            return platforms[name]
        except KeyError:
            known = ", ".join(platforms) or "none: install a plugin such as govsocial-mastodon"
            raise ConfigurationError(
                f"unknown platform {name!r} (installed: {known})",
                field="platform",
                hint=f"pip install govsocial-{name}" if name.isidentifier() else None,
            ) from None

    # -- validate_post ---------------------------------------------------------------------

    def validate_post(self, post: Post, platform: str, limits: Limits) -> list[Problem]:
        """Every implementation's problems with ``post`` on ``platform``, in pluggy's order."""
        problems: list[Problem] = []
        for impl in self._in_call_order("validate_post"):
            found = self._guarded(
                impl, "validate_post", post=post, platform=platform, limits=limits
            )
            if found:
                problems.extend(found)
        return problems

    # -- events ----------------------------------------------------------------------------

    def publish_started(
        self,
        post: Post,
        account: Account,
        idempotency_key: str,
        context: EventContext | None = None,
    ) -> None:
        """Tell every ``publish_started`` implementation (None: a direct publish)."""
        self._event(
            "publish_started",
            post=post,
            account=account,
            idempotency_key=idempotency_key,
            context=context or EventContext(),
        )

    def publish_finished(
        self, post: Post, result: PublishResult, context: EventContext | None = None
    ) -> None:
        """Tell every ``publish_finished`` implementation (None: a direct publish)."""
        self._event("publish_finished", post=post, result=result, context=context or EventContext())

    def post_deleted(self, ref: PostRef, context: EventContext | None = None) -> None:
        """Tell every ``post_deleted`` implementation (None: a direct delete)."""
        self._event("post_deleted", ref=ref, context=context or EventContext())

    def register_commands(
        self, commands: argparse._SubParsersAction[argparse.ArgumentParser]
    ) -> None:
        """Let each plugin add commands to the ``govsocial`` parser's ``commands``.

        A plugin whose hook raises (a taken command name, a bug) is reported as a
        :class:`PluginWarning`; the commands of the others, and the built-in ones, stay.
        """
        self._event("register_commands", commands=commands)

    # -- listening -------------------------------------------------------------------------

    def classify_message(
        self, text: str, language: str | None, default: Classification
    ) -> list[Classification]:
        """Every implementation's answer for ``text`` (those that gave one), in call order.

        An answer that is not a :class:`Classification` is reported as a
        :class:`PluginWarning` and left out.
        """
        answers: list[Classification] = []
        for impl in self._in_call_order("classify_message"):
            answer = self._guarded(
                impl, "classify_message", text=text, language=language, default=default
            )
            if answer is None:
                continue
            if not isinstance(answer, Classification):
                warnings.warn(
                    f"govsocial plugin {impl.plugin_name!r} returned "
                    f"{type(answer).__name__} from classify_message, not a Classification",
                    PluginWarning,
                    stacklevel=2,
                )
                continue
            answers.append(answer)
        return answers

    def notify(self, notice: Notice) -> tuple[int, int]:
        """Give ``notice`` to every ``notify`` implementation: ``(delivered, failed)``.

        One that raises is reported as a :class:`PluginWarning` and counted as failed.
        """
        delivered = failed = 0
        for impl in self._in_call_order("notify"):
            ok = self._guarded(impl, "notify", _ok=True, notice=notice)
            if ok:
                delivered += 1
            else:
                failed += 1
        return delivered, failed

    def escalation_targets(self) -> dict[str, EscalationTarget]:
        """Every escalation target by name, as the ``register_escalation_targets`` hooks
        register them (a name taken already warns; the first in call order stays)."""
        found: dict[str, EscalationTarget] = {}

        def register(target: EscalationTarget) -> None:
            name = getattr(target, "name", None)
            if (
                not isinstance(name, str)
                or not name
                or not callable(getattr(target, "escalate", None))
            ):
                raise PluginError(
                    f"register() takes an escalation target (a name and escalate()), not {target!r}"
                )
            if name in found and found[name] is not target:
                warnings.warn(
                    f"two escalation targets are named {name!r}: the first registered is kept",
                    PluginWarning,
                    stacklevel=2,
                )
                return
            found[name] = target

        for impl in self._in_call_order("register_escalation_targets"):
            self._guarded(impl, "register_escalation_targets", register=register)
        return dict(sorted(found.items()))

    def _event(self, hook_name: str, **kwargs: Any) -> None:
        for impl in self._in_call_order(hook_name):
            self._guarded(impl, hook_name, **kwargs)

    def _in_call_order(self, hook_name: str) -> list[pluggy.HookImpl]:
        """The hook's implementations in the order pluggy calls them.

        pluggy keeps them ordered from last to first call (``trylast`` ones at the start,
        ``tryfirst`` ones at the end, later registrations after earlier ones) and calls them
        in reverse; so does this host. A wrapper that reached the manager without
        :meth:`register` (through ``pm.register``) is skipped with a warning, never run as a
        plain function.
        """
        caller: pluggy.HookCaller = getattr(self.pm.hook, hook_name)
        ordered: list[pluggy.HookImpl] = []
        for impl in reversed(caller.get_hookimpls()):
            if impl.wrapper or impl.hookwrapper:
                warnings.warn(
                    f"govsocial plugin {impl.plugin_name!r} implements {hook_name} as a "
                    "wrapper, which govsocial does not run: it was skipped",
                    PluginWarning,
                    stacklevel=3,
                )
                continue
            ordered.append(impl)
        return ordered

    def _guarded(
        self, impl: pluggy.HookImpl, hook_name: str, _ok: bool = False, **kwargs: Any
    ) -> Any:
        """Call one implementation; its result (None when it raised, reported as a warning).
        With ``_ok``, True when it returned and False when it raised."""
        function: Callable[..., Any] = impl.function
        try:
            arguments = {name: kwargs[name] for name in impl.argnames}
            # as pluggy does: a parameter with a default gets the value when the call has one
            arguments.update((name, kwargs[name]) for name in impl.kwargnames if name in kwargs)
            result = function(**arguments)
            return True if _ok else result
        except Exception as exc:  # noqa: BLE001 - a plugin's bug is reported, not propagated
            warnings.warn(
                f"govsocial plugin {impl.plugin_name!r} failed in {hook_name}: "
                f"{type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=3,
            )
            return False if _ok else None


_default: Plugins | None = None


def default_plugins() -> Plugins:
    """The process-wide plugin system, loading entry points on first use."""
    global _default
    if _default is None:
        _default = Plugins()
    return _default


def reset_default_plugins(plugins: Plugins | None = None) -> Plugins | None:
    """Replace (or forget, with None) the process-wide plugin system; for tests and hosts.

    Returns the one it replaced (None when none was loaded yet), so a caller can put it back.
    """
    global _default
    before, _default = _default, plugins
    return before
