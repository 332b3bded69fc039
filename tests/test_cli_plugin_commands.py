"""Commands that plugins add through the ``register_commands`` hook, run through main().

The hook itself has its ``test_hook_register_commands`` in test_plugins.py; here: a plugin
that breaks, one that takes a built-in name, a handler's errors and exit status, and that a
built-in command does not wait for plugins to load.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import pytest

from govsocial import hookimpl
from govsocial.cli import main
from govsocial.core.errors import NotPermitted, PlatformError
from govsocial.plugin.manager import Plugins, PluginWarning

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


class Greeter:
    """Adds ``greet NAME``; remembers how often its hook ran."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def register_commands(self, commands: Commands) -> None:
        self.calls += 1
        greet = commands.add_parser("greet", help="say hello to someone")
        greet.add_argument("name")
        greet.add_argument("--fail", choices=("platform", "permission", "bug"))
        greet.set_defaults(handler=self.greet)

    def greet(self, args: argparse.Namespace) -> int | None:
        if args.fail == "platform":
            raise PlatformError("the platform is down", platform="paper", status=503)
        if args.fail == "permission":
            raise NotPermitted(f"{args.name} may not greet", actor=args.name, action="greet")
        if args.fail == "bug":
            raise KeyError("a bug, not a govsocial error")
        print(f"Halo, {args.name}!")
        return None


class Broken:
    @hookimpl
    def register_commands(self, commands: Commands) -> None:
        raise RuntimeError("the plugin's own bug")


class Usurper:
    @hookimpl
    def register_commands(self, commands: Commands) -> None:
        commands.add_parser("publish", help="not the real publish")


class Handless:
    @hookimpl
    def register_commands(self, commands: Commands) -> None:
        commands.add_parser("idle", help="a command without a handler")


def test_a_plugin_command_runs_and_its_errors_exit_as_the_table_says(
    plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    plugins.register(Greeter(), name="greeter")
    assert main(["greet", "Siti"]) == 0, "a handler returning None succeeded"
    assert capsys.readouterr().out == "Halo, Siti!\n"
    assert main(["greet", "Siti", "--fail", "platform"]) == 1
    assert capsys.readouterr().err == "govsocial: error: the platform is down\n"
    assert main(["greet", "Budi", "--fail", "permission"]) == 2
    assert "Budi may not greet" in capsys.readouterr().err
    with pytest.raises(KeyError):
        main(["greet", "Siti", "--fail", "bug"])
    with pytest.raises(SystemExit) as usage:
        main(["greet"])
    assert usage.value.code == 2
    assert "the following arguments are required: name" in capsys.readouterr().err


def test_the_help_lists_plugin_commands(
    plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    plugins.register(Greeter(), name="greeter")
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    listed = capsys.readouterr().out
    assert "greet" in listed and "say hello to someone" in listed
    assert main([]) == 2
    assert "say hello to someone" in capsys.readouterr().out


def test_a_plugin_whose_hook_raises_warns_and_the_cli_still_works(
    plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    plugins.register(Broken(), name="broken")
    plugins.register(Greeter(), name="greeter")
    with pytest.warns(PluginWarning, match="'broken' failed in register_commands: RuntimeError"):
        assert main(["greet", "Ani"]) == 0
    assert capsys.readouterr().out == "Halo, Ani!\n"
    with pytest.warns(PluginWarning, match="broken"), pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    listed = capsys.readouterr().out
    assert "say hello to someone" in listed and "publish a post to accounts" in listed


def test_a_plugin_cannot_replace_a_built_in_command(
    plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    plugins.register(Usurper(), name="usurper")
    warned = pytest.warns(PluginWarning, match="'usurper' failed in register_commands.*publish")
    with warned, pytest.raises(SystemExit):
        main(["nope"])
    assert main(["validate", "x" * 25, "-p", "paper"]) == 1, "the built-in still answers"
    assert "limit is 20" in capsys.readouterr().out


def test_a_plugin_command_without_a_handler_is_a_usage_error(
    plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    plugins.register(Handless(), name="handless")
    assert main(["idle"]) == 2
    assert "command 'idle' has no handler" in capsys.readouterr().err


def test_a_built_in_command_does_not_load_plugins_commands(
    plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    greeter = Greeter()
    plugins.register(greeter, name="greeter")
    assert main(["validate", "Halo", "-p", "paper"]) == 0
    with pytest.raises(SystemExit):
        main(["--version"])
    assert greeter.calls == 0
    assert main(["--db", "unused.db", "greet", "Ani"]) == 0
    assert greeter.calls == 1
