"""How a workspace stores account credentials: never in plain text.

- A value ``env:NAME`` is stored as the reference ``{"env": "NAME"}`` and read from the
  environment each time it is used: the secret never touches the database. NAME must be
  allowed by ``GOVSOCIAL_ENV_ALLOW`` and is never ``GOVSOCIAL_SECRET_KEY`` (see
  :mod:`govsocial.core._env`); a refused reference is not stored.
- A credential the platform declares public (not in ``Platform.secret_names()``, such as
  Bluesky's ``identifier``, a handle) is stored as it is.
- Any other value is stored sealed (``{"sealed": "..."}``, Fernet: AES-128-CBC with an
  HMAC-SHA256) with a key derived by scrypt from ``GOVSOCIAL_SECRET_KEY`` and a random salt
  kept in the workspace. Without that variable, storing a secret is refused, naming both ways.

The key derivation is deliberately slow (scrypt), so a stolen database file plus a weak
passphrase still costs an attacker time; it runs once per workspace and process.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING

from pydantic import SecretStr

from govsocial.core._env import check_env_reference
from govsocial.core.errors import ConfigurationError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

__all__ = ["SECRET_KEY_VARIABLE", "Sealer"]

SECRET_KEY_VARIABLE = "GOVSOCIAL_SECRET_KEY"  # noqa: S105 - a variable name, not a secret


class Sealer:
    """Seals and opens credential values for one workspace.

    :param salt: the workspace's salt, created on first use through ``load_salt``/``save_salt``.
    """

    def __init__(
        self, load_salt: Callable[[], str | None], save_salt: Callable[[str], None]
    ) -> None:
        self._load_salt = load_salt
        self._save_salt = save_salt
        self._fernet: Fernet | None = None
        self._key_seen: str | None = None

    def __repr__(self) -> str:
        return "<Sealer>"

    def _cipher(self, *, purpose: str, field: str) -> Fernet:
        passphrase = os.environ.get(SECRET_KEY_VARIABLE)
        if not passphrase:
            raise ConfigurationError(
                f"{purpose} {field!r} needs {SECRET_KEY_VARIABLE}, which is not set",
                field=f"credentials.{field}",
                hint=(
                    f"write the credential as env:NAME to keep it in the environment, or set "
                    f"{SECRET_KEY_VARIABLE} to a long random passphrase to store it encrypted"
                ),
            )
        if self._fernet is None or self._key_seen != passphrase:
            from cryptography.fernet import Fernet

            salt = self._load_salt()
            if salt is None:
                salt = secrets.token_hex(16)
                self._save_salt(salt)
            key = hashlib.scrypt(
                passphrase.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1, dklen=32
            )
            self._fernet = Fernet(base64.urlsafe_b64encode(key))
            self._key_seen = passphrase
        assert self._fernet is not None
        return self._fernet

    def seal(
        self, credentials: Mapping[str, SecretStr], public: Collection[str] = ()
    ) -> dict[str, dict[str, str]]:
        """The stored form of an account's credentials.

        :param public: credential names that are not secret (Bluesky's ``identifier``, a
            handle): stored as they are.
        :raises ConfigurationError: an ``env:`` reference names a variable not allowed.
        """
        stored: dict[str, dict[str, str]] = {}
        for name, secret in credentials.items():
            value = secret.get_secret_value()
            if value.startswith("env:") and len(value) > 4:
                check_env_reference(value[4:], field=f"credentials.{name}", owner="an account")
                stored[name] = {"env": value[4:]}
                continue
            if name in public:
                stored[name] = {"plain": value}
                continue
            fernet = self._cipher(purpose="storing credential", field=name)
            token = fernet.encrypt(value.encode()).decode()
            stored[name] = {"sealed": token}
        return stored

    def open(self, stored: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
        """Credentials as an Account takes them (``env:NAME`` references stay references)."""
        from cryptography.fernet import InvalidToken

        opened: dict[str, str] = {}
        for name, entry in stored.items():
            if "env" in entry:
                opened[name] = f"env:{entry['env']}"
                continue
            if "plain" in entry:
                opened[name] = entry["plain"]
                continue
            fernet = self._cipher(purpose="reading credential", field=name)
            try:
                opened[name] = fernet.decrypt(entry["sealed"].encode()).decode()
            except InvalidToken:
                raise ConfigurationError(
                    f"credential {name!r} cannot be decrypted with this {SECRET_KEY_VARIABLE}",
                    field=f"credentials.{name}",
                    hint="set the same key the credential was stored with, or store it again",
                ) from None
        return opened
