"""What an account may take from the environment and where it may send it in clear text.

An accounts file can be shared and versioned, so it may come from someone who should not
read the worker's environment. Two rules keep its ``env:`` references and ``base_url`` from
carrying secrets away:

- ``env:NAME`` resolves only a NAME matching one of the glob patterns in
  ``GOVSOCIAL_ENV_ALLOW`` (comma-separated; default :data:`DEFAULT_ENV_ALLOW`), and never
  one of govsocial's own settings: any ``GOVSOCIAL_*`` name outside ``GOVSOCIAL_CRED_*``
  (``GOVSOCIAL_SECRET_KEY``, ``GOVSOCIAL_DB`` with its password, ...), whatever the allow
  list says.
- An ``http://`` base URL is accepted only for a host matching ``GOVSOCIAL_ALLOW_HTTP``
  (comma-separated host globs; default: the loopback names :data:`DEFAULT_HTTP_HOSTS`), so
  tokens never cross a network in clear text unless the operator says so.

See docs/operations.md (Secrets) and docs/security.md.
"""

from __future__ import annotations

import os
import re
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from govsocial.core.errors import ConfigurationError

__all__ = [
    "ALLOW_HTTP_VARIABLE",
    "CREDENTIAL_PREFIX",
    "DEFAULT_ENV_ALLOW",
    "DEFAULT_HTTP_HOSTS",
    "ENV_ALLOW_VARIABLE",
    "check_env_reference",
    "env_reference_refusal",
    "http_refusal",
]

ENV_ALLOW_VARIABLE = "GOVSOCIAL_ENV_ALLOW"
ALLOW_HTTP_VARIABLE = "GOVSOCIAL_ALLOW_HTTP"
CREDENTIAL_PREFIX = "GOVSOCIAL_CRED_"
DEFAULT_ENV_ALLOW = ("GOVSOCIAL_CRED_*", "HUMAS_*")
"""Names an ``env:`` reference may use when ``GOVSOCIAL_ENV_ALLOW`` is not set:
``GOVSOCIAL_CRED_*`` (the documented prefix) and ``HUMAS_*`` (the public-relations office's
variables every example in the docs uses)."""
DEFAULT_HTTP_HOSTS = ("127.0.0.1", "localhost", "::1")
"""Hosts an ``http://`` base URL may name when ``GOVSOCIAL_ALLOW_HTTP`` is not set."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _patterns(variable: str, default: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """The patterns in ``variable`` (comma-separated), and whether they are the default."""
    raw = os.environ.get(variable)
    if raw is None:
        return default, True
    return tuple(p.strip() for p in raw.split(",") if p.strip()), False


def _described(patterns: tuple[str, ...], default: bool, variable: str) -> str:
    shown = ",".join(patterns) if patterns else "(nothing)"
    return f"{variable}={shown}" + (" (the default)" if default else "")


def env_reference_refusal(variable: str) -> tuple[str, str] | None:
    """Why ``env:variable`` may not be resolved, as (rule, fix); None when it may."""
    if not _NAME.fullmatch(variable):
        return (
            f"{variable!r} is not an environment variable name",
            "write env:NAME with NAME made of letters, digits and underscores",
        )
    upper = variable.upper()
    if upper.startswith("GOVSOCIAL_") and not upper.startswith(CREDENTIAL_PREFIX):
        return (
            "govsocial's own settings (GOVSOCIAL_* outside GOVSOCIAL_CRED_*, such as "
            "GOVSOCIAL_SECRET_KEY) are never credentials, whatever GOVSOCIAL_ENV_ALLOW says",
            f"keep the account's secret in its own variable, e.g. {CREDENTIAL_PREFIX}"
            "HUMAS_MASTODON_TOKEN",
        )
    patterns, default = _patterns(ENV_ALLOW_VARIABLE, DEFAULT_ENV_ALLOW)
    if any(fnmatchcase(variable, pattern) for pattern in patterns):
        return None
    keep = ",".join(patterns)
    return (
        f"only names matching {_described(patterns, default, ENV_ALLOW_VARIABLE)} may be read",
        f"rename the variable to start with {CREDENTIAL_PREFIX}, or allow it: "
        f"{ENV_ALLOW_VARIABLE}='{keep + ',' if keep else ''}{variable}'",
    )


def check_env_reference(variable: str, *, field: str, owner: str) -> None:
    """Refuse an ``env:variable`` reference the operator does not allow.

    :param field: the credential's field (``credentials.access_token``), named in the error.
    :param owner: who holds the reference (an account), named in the error.
    :raises ConfigurationError: the variable is not allowed; says which rule and the fix.
    """
    refusal = env_reference_refusal(variable)
    if refusal is None:
        return
    rule, fix = refusal
    raise ConfigurationError(
        f"{field} of {owner} refers to environment variable {variable}, which govsocial "
        f"refuses to read: {rule}",
        field=field,
        hint=fix,
    )


def _loopback_host(host: str) -> str:
    return host.strip("[]").lower()


def http_refusal(url: str) -> tuple[str, str] | None:
    """Why the ``http://`` URL ``url`` may not be used, as (rule, fix); None when it may.

    ``https://`` URLs (and anything else) are not this rule's business: None.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return None
    host = _loopback_host(parts.hostname or "")
    patterns, default = _patterns(ALLOW_HTTP_VARIABLE, DEFAULT_HTTP_HOSTS)
    if host and any(fnmatchcase(host, _loopback_host(p)) for p in patterns):
        return None
    keep = ",".join(patterns)
    return (
        f"http:// would send credentials in clear text to {host or 'an unnamed host'}; "
        f"only hosts in {_described(patterns, default, ALLOW_HTTP_VARIABLE)} may use it",
        f"use https://{parts.netloc}{parts.path}, or, for a local server, allow its host: "
        f"{ALLOW_HTTP_VARIABLE}='{keep + ',' if keep else ''}{host}'",
    )
