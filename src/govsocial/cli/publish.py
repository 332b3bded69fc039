"""The commands that need no workspace: ``platforms``, ``validate``, ``publish``, ``check`` and
``demo``.

``publish`` and ``check`` read their accounts from a TOML file (``--accounts``, default
``accounts.toml``);
``demo`` starts local servers and needs nothing at all.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from govsocial.cli._common import ProgressBar, media_args, post_from_args, print_json, shown

if TYPE_CHECKING:
    from govsocial.cli._common import Commands

__all__ = ["add_parsers"]


def add_parsers(commands: Commands) -> None:
    """Add ``platforms``, ``validate``, ``publish`` and ``demo`` to the main parser."""
    platforms = commands.add_parser(
        "platforms", help="list installed platform adapters and their limits"
    )
    platforms.add_argument("--json", action="store_true", help="print JSON instead of a table")
    platforms.add_argument(
        "--markdown", action="store_true", help="print the capability table of docs/platforms.md"
    )
    platforms.set_defaults(handler=_cmd_platforms)

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
    media_args(validate)
    validate.add_argument("--json", action="store_true", help="print problems as JSON")
    validate.set_defaults(handler=_cmd_validate)

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
    media_args(publish)
    publish.add_argument("--json", action="store_true", help="print results as JSON")
    publish.set_defaults(handler=_cmd_publish)

    check = commands.add_parser(
        "check",
        help="ask an account's platform what the account can do (post, reply, delete, "
        "metrics), what is missing and the fix",
        description="Calls the platform's cheapest read endpoints (the token's identity, its "
        "permissions or scopes, rate-limit headers) and prints, for post, reply, delete, "
        "metrics and account metrics: yes, no (with the fix) or ? (the platform does not "
        "say). Exit status 1 when the credentials are refused or something is missing.",
    )
    check.add_argument("account", metavar="ACCOUNT", help="account name in the accounts file")
    check.add_argument(
        "--accounts",
        default="accounts.toml",
        metavar="FILE",
        help="accounts file (default: accounts.toml)",
    )
    check.add_argument("--json", action="store_true", help="print the check as JSON")
    check.set_defaults(handler=_cmd_check)


def add_demo_parser(commands: Commands) -> None:
    """Add ``demo``; the main parser lists it last, after the workspace commands."""
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
    demo.set_defaults(handler=_cmd_demo)


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
        print_json(rows)
        return 0
    for name, error in plugins.load_errors.items():
        print(shown(f"(plugin {name} failed to load: {error})"), file=sys.stderr)
    if not rows:
        if plugins.load_errors:
            failed = shown(", ".join(plugins.load_errors))
            print(f"No platform adapter loaded: {failed} failed (above).")
            return 1
        print(
            "No platform adapters installed. Try: pip install govsocial-mastodon govsocial-bluesky"
        )
        return 0
    widths = [max(len(str(row[key])) for row in rows) for key in ("name", "distribution")]
    for row in rows:
        print(f"{row['name']:<{widths[0]}}  {row['distribution']:<{widths[1]}}  {row['limits']}")
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
        print_json([p.model_dump() for p in all_problems])
    elif not all_problems:
        print(f"OK for {', '.join(names)}")
    else:
        for problem in all_problems:
            where = f"{problem.field}: " if problem.field else ""
            note = " (warning)" if problem.severity == "warning" else ""
            print(shown(f"{problem.platform}: {where}{problem.message} [{problem.code}]{note}"))
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
    with Client(on_progress=ProgressBar()) as client:  # a bar for large videos, on a terminal
        results = client.publish(post, [accounts[name] for name in names])
    failed = 0
    output = []
    for name, result in zip(names, results, strict=True):
        if result.ok and result.ref is not None:
            output.append({"account": name, "ok": True, "id": result.ref.id, "url": result.ref.url})
            if not args.json:
                print(shown(f"{name}: published {result.ref.url or result.ref.id}"))
        else:
            failed += 1
            output.append({"account": name, "ok": False, "error": str(result.error)})
            if not args.json:
                print(shown(f"{name}: FAILED {type(result.error).__name__}: {result.error}"))
    if args.json:
        print_json(output)
    return 1 if failed else 0


_MARKS = {True: "yes", False: "NO", None: "?"}


def _cmd_check(args: argparse.Namespace) -> int:
    from govsocial.client import Client
    from govsocial.client.accounts_file import load_accounts
    from govsocial.core.errors import ConfigurationError

    accounts = load_accounts(args.accounts)
    if args.account not in accounts:
        raise ConfigurationError(
            f"no account named {args.account} in {args.accounts} (it has: {', '.join(accounts)})",
            field="account",
        )
    account = accounts[args.account]
    with Client() as client:
        found = client.check(account)
    if args.json:
        print(found.model_dump_json(indent=2, exclude={"account": {"credentials"}}))
        return 0 if found.token_ok and not found.missing else 1
    head = f"{args.account} ({account.platform} {account.handle}): "
    if not found.token_ok:
        head += f"the credentials were REFUSED: {found.error}"
    else:
        head += "the credentials work" + (f", as {found.identity}" if found.identity else "")
    print(shown(head))
    width = max(len(c.name) for c in found.capabilities) if found.capabilities else 0
    for capability in found.capabilities:
        mark = _MARKS[capability.ok]
        print(shown(f"  {capability.name:<{width}}  {mark:<3}  {capability.detail}"))
    if found.missing:
        print("Missing, and the fix:")
        for capability in found.missing:
            print(shown(f"  {capability.name}: {capability.fix or capability.detail}"))
    if found.scopes is not None:
        print(shown(f"Granted: {', '.join(found.scopes) or 'nothing'}"))
    if found.expires_at is not None:
        print(shown(f"Expires: {found.expires_at.isoformat()}"))
    for path, words in found.rate.items():
        print(shown(f"Rate limit: {path}: {words}"))
    for note in found.notes:
        print(shown(f"Note: {note}"))
    print(shown(f"Asked: {', '.join(found.calls) or 'nothing'}"))
    return 0 if found.token_ok and not found.missing else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from govsocial.cli.demo import run_demo

    return run_demo(only=args.platform)
