"""The ``govsocial keys`` commands: the credential master key, and signing key files.

- ``keys secret`` prints a new random master key (``gsk_...``) for ``GOVSOCIAL_SECRET_KEY``,
  the key that seals a workspace's credentials;
- ``keys check`` says whether ``GOVSOCIAL_SECRET_KEY`` here opens every account (and which
  are locked);
- ``keys rotate`` re-seals every credential under a new key, read from
  ``$GOVSOCIAL_NEW_SECRET_KEY`` or standard input, never from the command line (where other
  users and the shell history would see it). docs/operations.md, "Keys", has the steps for
  rotating with workers running;
- ``keys new NAME`` writes a new Ed25519 signing key to ``NAME.key`` (or ``--out PATH``),
  mode 0600 and never over an existing file, and prints its public key, to register with
  ``govsocial people add ID --public-key ...`` (needs no workspace).

Each subcommand is one entry of :data:`SUBCOMMANDS`: another ``keys`` command is one more
function and one more entry.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from govsocial.cli._common import by_arg, locked_note, open_workspace, shown, signing_key

if TYPE_CHECKING:
    from govsocial.cli._common import Commands

__all__ = ["SUBCOMMANDS", "add_parsers"]


# -- keys new NAME: a signing key file ----------------------------------------------------


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


# -- keys secret, check, rotate: the credential master key ---------------------------------


def _add_secret(keys_do: Commands) -> None:
    secret = keys_do.add_parser(
        "secret", help="print a new random master key (gsk_...) for GOVSOCIAL_SECRET_KEY"
    )
    secret.set_defaults(keys_handler=_cmd_secret)


def _cmd_secret(args: argparse.Namespace) -> int:
    from govsocial.workspace.credentials import new_key

    print(new_key())
    return 0


def _add_check(keys_do: Commands) -> None:
    check = keys_do.add_parser(
        "check", help="whether GOVSOCIAL_SECRET_KEY here opens every account; locked accounts"
    )
    check.set_defaults(keys_handler=_check)


def _check(args: argparse.Namespace) -> int:
    from govsocial.core.errors import AccountLocked
    from govsocial.workspace.credentials import SECRET_KEY_VARIABLE

    with open_workspace(args) as ws:
        record = ws.core.key_record()
        if record is None:
            print("no credential is sealed in this workspace yet")
        else:
            print(f"sealed under key id {record.short_id}, derived with {record.describe()}")
            if not record.current:
                print(
                    "  an older derivation: `govsocial keys rotate` re-seals them under "
                    "today's (the same key may be given as the new one)"
                )
        if not os.environ.get(SECRET_KEY_VARIABLE):
            print(f"{SECRET_KEY_VARIABLE} is not set here")
        locks = ws.core.account_locks()
        trouble = 0
        for row in ws.store.accounts():
            try:
                ws.core.open_account(row.name, row)
                status = "opens here"
            except AccountLocked as error:
                status = f"cannot be opened here: {error.reason}"
                trouble += 1
            if row.name in locks:
                status += f"; {locked_note(locks[row.name])}"
                trouble += 1
            print(shown(f"{row.name:<20} {status}"))
    return 1 if trouble else 0


def _add_rotate(keys_do: Commands) -> None:
    rotate = keys_do.add_parser(
        "rotate",
        help="re-seal every credential under a new key ($GOVSOCIAL_NEW_SECRET_KEY or stdin)",
    )
    by_arg(rotate)
    rotate.set_defaults(keys_handler=_rotate)


def _new_key_from_input() -> str:
    from govsocial.workspace.credentials import NEW_SECRET_KEY_VARIABLE

    value = os.environ.get(NEW_SECRET_KEY_VARIABLE)
    if value:
        return value
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("new key: ")
    if getpass.getpass("the same again: ") != first:
        from govsocial.core.errors import ConfigurationError

        raise ConfigurationError(
            "the two entries of the new key differ", field=NEW_SECRET_KEY_VARIABLE
        )
    return first


def _rotate(args: argparse.Namespace) -> int:
    from govsocial.workspace.credentials import SECRET_KEY_VARIABLE

    new = _new_key_from_input()
    with open_workspace(args) as ws:
        done = ws.rotate_key(new, by=args.by, key=signing_key(args))
    old = done.old_key_id[:12] if done.old_key_id else "none"
    print(
        f"re-sealed {done.credentials} credentials of {len(done.accounts)} accounts under key "
        f"id {done.new_key_id[:12]} ({done.derivation}); the old key id was {old}"
    )
    print(
        f"now set {SECRET_KEY_VARIABLE} to the new key wherever a worker runs, and restart "
        "the workers: until then they lock the accounts they have not opened yet, and those "
        "deliveries wait"
    )
    return 0


#: ``keys`` subcommands: each adds its parser (binding ``keys_handler``).
SUBCOMMANDS: list[Callable[[Commands], None]] = [_add_new, _add_secret, _add_check, _add_rotate]


def add_parsers(commands: Commands) -> None:
    """Add the ``keys`` command group (``new NAME``, ``secret``, ``check``, ``rotate``) to the
    main parser."""
    keys = commands.add_parser(
        "keys", help="keys: signing key files, and the key that seals credentials"
    )
    keys_do = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    for add in SUBCOMMANDS:
        add(keys_do)
    keys.set_defaults(handler=_cmd_keys)


def _cmd_keys(args: argparse.Namespace) -> int:
    handler: Callable[[argparse.Namespace], int] = args.keys_handler
    return handler(args)
