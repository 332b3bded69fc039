"""The ``govsocial keys`` commands: key files.

``keys new NAME`` writes a new Ed25519 signing key to ``NAME.key`` (or ``--out PATH``), mode
0600 and never over an existing file, and prints its public key, to register with
``govsocial people add ID --public-key ...``. Each subcommand is one entry of
:data:`SUBCOMMANDS`: another ``keys`` command is one more function and one more entry.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govsocial.cli._common import Commands

__all__ = ["SUBCOMMANDS", "add_parsers"]


def _add_new(keys_do: Commands) -> None:
    new = keys_do.add_parser("new", help="write a new signing key file and print its public key")
    new.add_argument("name", help="whose key, e.g. siti (the file is NAME.key)")
    new.add_argument("--out", metavar="PATH", help="where to write it (default: NAME.key)")
    new.set_defaults(keys_handler=_cmd_new)


def _cmd_new(args: argparse.Namespace) -> int:
    from govsocial.workspace.signing import SigningKey

    key = SigningKey.generate()
    path = key.save(Path(args.out) if args.out else Path(f"{args.name}.key"))
    print(key.public_key)
    print(f"key written to {path} (mode 0600): keep it like a password", flush=True)
    return 0


#: ``keys`` subcommands: each adds its parser (binding ``keys_handler``).
SUBCOMMANDS: list[Callable[[Commands], None]] = [_add_new]


def add_parsers(commands: Commands) -> None:
    """Add the ``keys`` command group and its subcommands to the main parser."""
    keys = commands.add_parser("keys", help="keys: signing key files for signed actions")
    keys_do = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    for add in SUBCOMMANDS:
        add(keys_do)
    keys.set_defaults(handler=_cmd_keys)


def _cmd_keys(args: argparse.Namespace) -> int:
    handler: Callable[[argparse.Namespace], int] = args.keys_handler
    return handler(args)
