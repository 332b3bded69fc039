"""The ``govsocial`` command line.

Subcommands: ``platforms`` (installed adapters, versions, limits), ``validate`` (offline
checks), ``publish`` (to accounts from a TOML file) and ``demo`` (everything against local
servers, nothing to configure). Exit status: 0 success, 1 a post failed or is invalid,
2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from govsocial._version import __version__
from govsocial.core.errors import GovSocialError

if TYPE_CHECKING:
    from govsocial.core.models import Post

__all__ = ["main"]


def _media_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--image", action="append", default=[], metavar="PATH", help="attach an image (repeatable)"
    )
    parser.add_argument(
        "--alt",
        action="append",
        default=[],
        metavar="TEXT",
        help="alt text for the image in the same position (repeatable)",
    )


def _build_parser() -> argparse.ArgumentParser:
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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    platforms = commands.add_parser(
        "platforms", help="list installed platform adapters and their limits"
    )
    platforms.add_argument("--json", action="store_true", help="print JSON instead of a table")
    platforms.add_argument(
        "--markdown", action="store_true", help="print the capability table of docs/platforms.md"
    )

    validate = commands.add_parser(
        "validate", help="check a post against platforms' limits, offline"
    )
    validate.add_argument("text", help="the post text ('-' reads it from standard input)")
    validate.add_argument(
        "--platform",
        "-p",
        action="append",
        default=[],
        help="platform to check for (repeatable; default: all)",
    )
    _media_args(validate)
    validate.add_argument("--json", action="store_true", help="print problems as JSON")

    publish = commands.add_parser("publish", help="publish a post to accounts from a TOML file")
    publish.add_argument("text", help="the post text ('-' reads it from standard input)")
    publish.add_argument(
        "--accounts",
        default="accounts.toml",
        metavar="FILE",
        help="accounts file (default: accounts.toml)",
    )
    publish.add_argument(
        "--to",
        action="append",
        default=[],
        metavar="NAME",
        help="account name in the file (repeatable; default: all)",
    )
    publish.add_argument("--language", help="language code of the post, e.g. id")
    _media_args(publish)
    publish.add_argument("--json", action="store_true", help="print results as JSON")

    from govsocial.cli import governance as governance_cli
    from govsocial.cli import inbox as inbox_cli
    from govsocial.cli import schedule as schedule_cli

    schedule_cli.add_parsers(commands, _media_args)
    governance_cli.add_parsers(commands, _media_args)
    inbox_cli.add_parsers(commands)

    demo = commands.add_parser(
        "demo", help="publish a sample post to local servers and read it back"
    )
    demo.add_argument(
        "--platform",
        "-p",
        action="append",
        default=[],
        help="only these platforms (default: every one with a local server)",
    )
    return parser


def post_from_args(args: argparse.Namespace) -> Post:
    from govsocial.core.models import Media, Post

    text = sys.stdin.read() if args.text == "-" else args.text
    if len(args.alt) > len(args.image):
        raise GovSocialError(
            f"{len(args.alt)} --alt given for {len(args.image)} --image",
            field="alt",
            hint="give one --alt after each --image",
        )
    alts = args.alt + [""] * (len(args.image) - len(args.alt))
    media = [
        Media(path=Path(path), alt_text=alt) for path, alt in zip(args.image, alts, strict=True)
    ]
    return Post(text, media=media, language=getattr(args, "language", None))


def _cmd_platforms(args: argparse.Namespace) -> int:
    from govsocial.plugin.manager import default_plugins

    plugins = default_plugins()
    found = plugins.platforms()
    if args.markdown:
        from govsocial.cli.platform_table import platforms_markdown

        print(platforms_markdown(found), end="")
        return 0
    rows = []
    for name, cls in found.items():
        version = plugins.distribution(name) or cls.__module__.split(".")[0]
        rows.append(
            {
                "name": name,
                "title": cls.title,
                "distribution": version,
                "limits": cls.limits.summary(),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(
            "No platform adapters installed. Try: pip install govsocial-mastodon govsocial-bluesky"
        )
        return 0
    widths = [max(len(str(row[key])) for row in rows) for key in ("name", "distribution")]
    for row in rows:
        print(f"{row['name']:<{widths[0]}}  {row['distribution']:<{widths[1]}}  {row['limits']}")
    for name, error in plugins.load_errors.items():
        print(f"(plugin {name} failed to load: {error})", file=sys.stderr)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from govsocial.client.validation import blocking, validate
    from govsocial.plugin.manager import default_plugins

    post = post_from_args(args)
    names = args.platform or list(default_plugins().platforms())
    all_problems = []
    for name in names:
        all_problems += validate(post, name)
    if args.json:
        print(json.dumps([p.model_dump() for p in all_problems], indent=2))
    elif not all_problems:
        print(f"OK for {', '.join(names)}")
    else:
        for problem in all_problems:
            where = f"{problem.field}: " if problem.field else ""
            note = " (warning)" if problem.severity == "warning" else ""
            print(f"{problem.platform}: {where}{problem.message} [{problem.code}]{note}")
    return 1 if blocking(all_problems) else 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from govsocial.client import Client
    from govsocial.client.accounts_file import load_accounts
    from govsocial.core.errors import ConfigurationError

    accounts = load_accounts(args.accounts)
    names = args.to or list(accounts)
    unknown = [name for name in names if name not in accounts]
    if unknown:
        raise ConfigurationError(
            f"no account named {', '.join(unknown)} in {args.accounts} "
            f"(it has: {', '.join(accounts)})",
            field="to",
        )
    post = post_from_args(args)
    with Client() as client:
        results = client.publish(post, [accounts[name] for name in names])
    failed = 0
    output = []
    for name, result in zip(names, results, strict=True):
        if result.ok and result.ref is not None:
            output.append({"account": name, "ok": True, "id": result.ref.id, "url": result.ref.url})
            if not args.json:
                print(f"{name}: published {result.ref.url or result.ref.id}")
        else:
            failed += 1
            output.append({"account": name, "ok": False, "error": str(result.error)})
            if not args.json:
                print(f"{name}: FAILED {type(result.error).__name__}: {result.error}")
    if args.json:
        print(json.dumps(output, indent=2))
    return 1 if failed else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from govsocial.cli.demo import run_demo

    return run_demo(only=args.platform)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    from govsocial.cli import governance as governance_cli
    from govsocial.cli import inbox as inbox_cli
    from govsocial.cli import schedule as schedule_cli

    handlers = {
        "platforms": _cmd_platforms,
        "validate": _cmd_validate,
        "publish": _cmd_publish,
        "demo": _cmd_demo,
        **schedule_cli.HANDLERS,
        **governance_cli.HANDLERS,
        **inbox_cli.HANDLERS,
    }
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return handlers[args.command](args)
    except GovSocialError as error:
        print(f"govsocial: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("govsocial: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
