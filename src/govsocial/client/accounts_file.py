"""Accounts from a TOML file, for the command line and scripts.

Each table is an account, named the way the team calls it::

    [humas-mastodon]
    platform = "mastodon"
    handle = "@humas@social.example.go.id"
    base_url = "https://social.example.go.id"
    credentials = { access_token = "env:HUMAS_MASTODON_TOKEN" }

Credential values should be ``env:NAME`` references: the secret stays in the environment,
the file can be shared and versioned.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from govsocial.core.errors import ConfigurationError, ValidationError
from govsocial.core.models import Account

__all__ = ["load_accounts"]


def load_accounts(path: str | Path) -> dict[str, Account]:
    """The accounts defined in the TOML file at ``path``, by name.

    :raises ConfigurationError: the file is missing, not TOML, or an account is malformed.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read accounts file {path}: {exc.strerror or exc}",
            field="accounts",
            hint="pass --accounts FILE (see docs/cli.md for its format)",
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"accounts file {path} is not UTF-8 text (byte {exc.start})",
            field="accounts",
            hint="save it as UTF-8; docs/cli.md shows the format",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            f"accounts file {path} is not valid TOML: {exc}",
            field="accounts",
            hint="fix the line named; docs/cli.md shows the format",
        ) from None
    accounts: dict[str, Account] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ConfigurationError(
                f"{path}: {name} must be a table ([{name}]) describing an account", field=name
            )
        try:
            accounts[name] = Account(**table)
        except ValidationError as exc:
            details = "; ".join(f"{p.field}: {p.message}" for p in exc.problems)
            raise ConfigurationError(
                f"{path}: account {name!r} is not valid: {details}", field=name, hint=exc.hint
            ) from None
    return accounts
