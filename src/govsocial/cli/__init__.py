"""The ``govsocial`` command line.

Without a workspace: ``platforms`` (installed adapters, versions, limits), ``validate``
(offline checks), ``publish`` (to accounts from a TOML file), ``check`` (what an account of
that file can do, asked of its platform) and ``demo`` (everything against local servers,
nothing to configure).

On the workspace named by ``--db`` (default ``$GOVSOCIAL_DB``, then ``./govsocial.db``),
which ``init`` creates (the other commands refuse one that does not exist, so a mistyped
``--db`` is an error rather than a new, empty workspace):

- scheduling: ``accounts import|list|refresh``, ``schedule``, ``enqueue``, ``jobs``,
  ``cancel``, ``reschedule``, ``worker``;
- keys: ``keys secret|check|rotate`` (the credential master key), ``keys new NAME`` (a
  person's signing key file for signed actions, needs no workspace);
- metrics: ``metrics collect``, ``report``;
- accountability: ``institution``, ``people add|list``, ``appoint``, ``revoke``, ``rule``,
  ``drafts add|list|show``, ``approve``, ``reject``, ``requests add|list|fulfil``,
  ``audit list|verify|anchor``, ``archive export``;
- the inbox: ``inbox sync|list|reply|assign|close|label|labels|escalate|forget|retention``,
  ``hours``, ``performance``;
- many workspaces in one database: ``workspaces list|create|archive``, ``--workspace
  NAME`` before any command to act in one of them, ``broadcast`` from one into others and
  ``broadcasts accept|stop``;
- listening: ``watch add|list|sync|stop`` (topics on platforms that allow search);
- the central narrative: ``feeds add|list|sync|remove`` (followed feeds whose items become
  drafts).

Offline: ``classify`` (what a message is).

Plugins add their own commands through the ``register_commands`` hook. Each command module
(:mod:`~govsocial.cli.publish`, :mod:`~govsocial.cli.schedule`, :mod:`~govsocial.cli.keys`,
:mod:`~govsocial.cli.governance`, :mod:`~govsocial.cli.inbox`,
:mod:`~govsocial.cli.listening`, :mod:`~govsocial.cli.performance`) adds its subcommands
with their handlers; the helpers they share are in ``govsocial.cli._common``.

Exit status: 0 success; 1 a post is invalid or the platform failed (see
:data:`EXIT_CODES`); 2 a usage, configuration or permission error; 130 interrupted.
docs/cli.md has the table, docs/cli-reference.md every command's ``--help``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from govsocial._version import __version__
from govsocial.cli import (
    governance,
    inbox,
    keys,
    listening,
    performance,
    publish,
    schedule,
    workspaces,
)
from govsocial.cli._common import post_from_args, shown
from govsocial.core.errors import (
    AuditTampered,
    AuthenticationError,
    ConfigurationError,
    GovSocialError,
    NotFound,
    NotPermitted,
    NotSupported,
    PlatformError,
    PluginError,
    PublishOutcomeUnknown,
    ValidationError,
)

if TYPE_CHECKING:
    from govsocial.plugin.manager import Plugins

__all__ = ["EXIT_CODES", "build_parser", "exit_code", "main", "post_from_args"]

#: The exit status for each error class; :func:`exit_code` walks an error's MRO, so a
#: subclass (``RateLimited``, a plugin's own error) gets its nearest ancestor's status.
#: 1: the input or the platform failed (fix the post, or try again later);
#: 2: the command line, the configuration or the actor's authority is wrong.
EXIT_CODES: dict[type[GovSocialError], int] = {
    ValidationError: 1,
    PlatformError: 1,
    AuthenticationError: 1,
    PublishOutcomeUnknown: 1,
    AuditTampered: 1,
    NotSupported: 1,
    ConfigurationError: 2,
    NotFound: 2,
    NotPermitted: 2,
    PluginError: 2,
    GovSocialError: 2,
}


def exit_code(error: GovSocialError) -> int:
    """The exit status for ``error``: that of the nearest class in its MRO in :data:`EXIT_CODES`."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 2  # pragma: no cover - GovSocialError itself is in the table


def build_parser(plugins: Plugins | None = None) -> argparse.ArgumentParser:
    """The ``govsocial`` argument parser, with every built-in command and its handler.

    :param plugins: whose ``register_commands`` hook adds commands after the built-in ones
        (None: only the built-in commands, as docs/cli-reference.md shows them).
    """
    parser = argparse.ArgumentParser(
        prog="govsocial",
        description="Publish, validate and measure an institution's social media posts.",
    )
    parser.add_argument("--version", action="version", version=f"govsocial {__version__}")
    parser.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="workspace: a file path, sqlite:///path or postgresql://... "
        "(default: $GOVSOCIAL_DB, then ./govsocial.db)",
    )
    parser.add_argument(
        "--workspace",
        default=None,
        metavar="NAME",
        help="one of the many workspaces registered in --db (`govsocial workspaces list`; "
        "default: $GOVSOCIAL_WORKSPACE, else --db is the workspace itself)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    publish.add_parsers(commands)
    schedule.add_parsers(commands)
    keys.add_parsers(commands)
    governance.add_parsers(commands)
    inbox.add_parsers(commands)
    listening.add_parsers(commands)
    performance.add_parsers(commands)
    workspaces.add_parsers(commands)
    publish.add_demo_parser(commands)
    if plugins is not None:
        plugins.register_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Plugins of the process-wide plugin system
    (:func:`govsocial.plugin.manager.default_plugins`) may add commands.
    """
    parser = build_parser()
    if argv is None:
        argv = sys.argv[1:]
    if _needs_plugins(argv, parser):
        # Plugins are loaded only when they can matter: a command of theirs, or the help
        # that lists every command. A built-in command parses the same with or without them.
        from govsocial.plugin.manager import default_plugins

        parser = build_parser(default_plugins())
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    handler = getattr(args, "handler", None)
    if handler is None:
        print(f"govsocial: error: command {args.command!r} has no handler", file=sys.stderr)
        return 2
    try:
        status = handler(args)
    except GovSocialError as error:
        print(f"govsocial: error: {shown(error)}", file=sys.stderr)
        return exit_code(error)
    except KeyboardInterrupt:
        print("govsocial: interrupted", file=sys.stderr)
        return 130
    return 0 if status is None else int(status)


def _needs_plugins(argv: Sequence[str], parser: argparse.ArgumentParser) -> bool:
    """Whether parsing ``argv`` can depend on plugins' commands: not when it names a built-in
    command of ``parser`` (skipping ``--db URL`` and ``--workspace NAME`` before it) or asks
    for ``--version`` first."""
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    words = iter(argv)
    for word in words:
        if word == "--version":
            return False
        if word in ("--db", "--workspace"):
            next(words, None)
        elif not word.startswith("-"):
            return word not in commands.choices
    return True


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
