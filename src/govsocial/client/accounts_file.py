"""Accounts from a TOML file, for the command line and scripts.

Each table is an account, named the way the team calls it::

    [humas-mastodon]
    platform = "mastodon"
    handle = "@humas@social.example.go.id"
    base_url = "https://social.example.go.id"
    credentials = { access_token = "env:HUMAS_MASTODON_TOKEN" }

Credential values should be ``env:NAME`` references: the secret stays in the environment,
the file can be shared and versioned. Because a shared file may come from someone who must
not read the worker's environment, each NAME must be allowed by ``GOVSOCIAL_ENV_ALLOW``
(default ``GOVSOCIAL_CRED_*`` and ``HUMAS_*``; never ``GOVSOCIAL_SECRET_KEY`` or another
govsocial setting), and an ``http://`` base_url must name a host in ``GOVSOCIAL_ALLOW_HTTP``
(default: loopback). A file breaking either rule is refused when it is loaded, before any
request (see docs/operations.md, Secrets).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from govsocial.core._env import check_env_reference
from govsocial.core.errors import ConfigurationError, ValidationError
from govsocial.core.models import Account

__all__ = ["load_accounts"]


def load_accounts(path: str | Path, *, check_env: bool = True) -> dict[str, Account]:
    """The accounts defined in the TOML file at ``path``, by name.

    :param check_env: refuse ``env:`` references to variables ``GOVSOCIAL_ENV_ALLOW`` does
        not allow (the default); a caller that checks them itself, and audits the refusal
        (``govsocial accounts import`` through the workspace), passes False.

    :raises ConfigurationError: the file is missing, not TOML (or nested past Python's
        recursion limit), or an account is malformed,
        names an environment variable it may not read or an ``http://`` server not allowed.
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
    except RecursionError:  # tomllib reads nested arrays and tables recursively
        raise ConfigurationError(
            f"accounts file {path} nests arrays or tables too deeply to be an accounts file",
            field="accounts",
            hint="docs/cli.md shows the format: one table per account",
        ) from None
    accounts: dict[str, Account] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ConfigurationError(
                f"{path}: {name!r} must be a table describing an account", field=name
            )
        try:
            accounts[name] = Account(**table)
        except ValidationError as exc:
            details = "; ".join(f"{p.field}: {p.message}" for p in exc.problems)
            raise ConfigurationError(
                f"{path}: account {name!r} is not valid: {details}", field=name, hint=exc.hint
            ) from None
        for field, secret in accounts[name].credentials.items() if check_env else ():
            value = secret.get_secret_value()
            if not value.startswith("env:"):
                continue
            try:
                check_env_reference(
                    value[4:], field=f"credentials.{field}", owner=f"account {name!r}"
                )
            except ConfigurationError as exc:
                raise ConfigurationError(
                    f"{path}: {exc.message}", field=f"{name}.credentials.{field}", hint=exc.hint
                ) from None
    return accounts
