"""How a workspace stores account credentials: never in plain text, under one key.

- A value ``env:NAME`` is stored as the reference ``{"env": "NAME"}`` and read from the
  environment each time it is used: the secret never touches the database. NAME must be
  allowed by ``GOVSOCIAL_ENV_ALLOW`` and is never ``GOVSOCIAL_SECRET_KEY`` (see
  :mod:`govsocial.core._env`); a refused reference is not stored.
- A credential the platform declares public (not in ``Platform.secret_names()``, such as
  Bluesky's ``identifier``, a handle) is stored as it is.
- Any other value is stored sealed (``{"sealed": "..."}``, Fernet: AES-128-CBC with an
  HMAC-SHA256) under a key derived from ``GOVSOCIAL_SECRET_KEY``. Without that variable,
  storing a secret is refused, naming both ways.

The key (docs/operations.md, "Keys"):

- ``GOVSOCIAL_SECRET_KEY`` must be at least :data:`MIN_KEY_BYTES` bytes. A key made by
  :func:`new_key` (``govsocial keys secret``: ``gsk_`` and 32 random bytes) is used through
  HKDF-SHA256; anything else is a passphrase, stretched with scrypt at OWASP's parameters
  (N=2^17, r=8, p=1: 0.4-1.4 s and 128 MiB, once per process; docs/performance.md).
- A workspace records which key seals its credentials: a :class:`KeyRecord` with the
  derivation, its salt and a key id (an HMAC of the derived key, never the key itself).
  Sealing under another key is refused, so a workspace never holds credentials that no one
  key opens; :meth:`govsocial.Workspace.rotate_key` moves them all to a new key at once.
- Credentials sealed before key records existed (scrypt N=2^14, a bare salt) still open;
  ``govsocial keys rotate`` re-seals them under the current derivation.
- Opening fails with :class:`~govsocial.core.errors.AccountLocked`, which the worker turns
  into a locked account whose deliveries wait instead of failing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from pydantic import SecretStr

from govsocial.core._env import check_env_reference
from govsocial.core.errors import AccountLocked, ConfigurationError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

__all__ = [
    "KEY_PREFIX",
    "MIN_KEY_BYTES",
    "NEW_SECRET_KEY_VARIABLE",
    "SECRET_KEY_VARIABLE",
    "KeyRecord",
    "KeyRotation",
    "Sealed",
    "Sealer",
    "check_key",
    "derive",
    "new_key",
]

logger = logging.getLogger("govsocial.credentials")

SECRET_KEY_VARIABLE = "GOVSOCIAL_SECRET_KEY"  # noqa: S105 - a variable name, not a secret
#: where ``govsocial keys rotate`` reads the new key (when standard input does not give it)
NEW_SECRET_KEY_VARIABLE = "GOVSOCIAL_NEW_SECRET_KEY"  # noqa: S105 - a variable name
#: the shortest key accepted, in bytes (UTF-8): 256 bits for a random key
MIN_KEY_BYTES = 32
#: how a key made by :func:`new_key` starts; anything else is a passphrase
KEY_PREFIX = "gsk_"
#: scrypt's cost for passphrases (OWASP Password Storage Cheat Sheet: N=2^17, r=8, p=1)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
#: what credentials were sealed with before key records (earlier versions of govsocial)
LEGACY_SCRYPT_N = 2**14

_GENERATE = (
    "generate one with `govsocial keys secret`, or "
    "python -c \"import secrets; print('gsk_' + secrets.token_urlsafe(32))\""
)
_legacy_warned: set[str] = set()  # salts already warned about, once per process


def new_key() -> str:
    """A new random key for ``GOVSOCIAL_SECRET_KEY``: ``gsk_`` and 32 random bytes in
    URL-safe base64 (47 characters), used without stretching (it needs none)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _raw_key(value: str) -> bytes | None:
    """The 32 random bytes of a key made by :func:`new_key`; None for a passphrase."""
    if not value.startswith(KEY_PREFIX):
        return None
    body = value[len(KEY_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def check_key(value: str | None, *, variable: str = SECRET_KEY_VARIABLE) -> str:
    """``value`` if it can be a key, else a :class:`ConfigurationError` naming ``variable``,
    the limit and how to make one.

    :raises ConfigurationError: unset, shorter than :data:`MIN_KEY_BYTES` bytes, or starting
        with ``gsk_`` without being a key :func:`new_key` made.
    """
    if not value:
        raise ConfigurationError(
            f"{variable} is not set",
            field=variable,
            hint=f"set it to a key of at least {MIN_KEY_BYTES} bytes; {_GENERATE}",
        )
    size = len(value.encode())
    if size < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"{variable} is {size} bytes long; a key must be at least {MIN_KEY_BYTES} bytes",
            field=variable,
            hint=_GENERATE,
        )
    if value.startswith(KEY_PREFIX) and _raw_key(value) is None:
        raise ConfigurationError(
            f"{variable} starts with {KEY_PREFIX!r} but is not a key `govsocial keys secret` made "
            "(gsk_ and 32 bytes in URL-safe base64): it looks cut or mistyped",
            field=variable,
            hint=f"copy the whole key, or {_GENERATE}",
        )
    return value


@dataclass(frozen=True)
class KeyRecord:
    """Which key seals a workspace's credentials, kept in the workspace: how the Fernet key
    is derived from ``GOVSOCIAL_SECRET_KEY`` and the key id. Never the key itself.

    :param kdf: ``"scrypt"`` (a passphrase) or ``"hkdf-sha256"`` (a key from :func:`new_key`).
    :param salt: the per-workspace salt, hex.
    :param n: scrypt's cost (r, p: its block size and parallelism).
    :param id: an HMAC-SHA256 of the derived key (hex); None for credentials sealed before
        key records existed, whose key can only be checked by opening one.
    """

    kdf: str
    salt: str
    n: int = 0
    r: int = 0
    p: int = 0
    id: str | None = None

    @property
    def legacy(self) -> bool:
        """Sealed before key records existed (no key id; scrypt N=2^14)."""
        return self.id is None

    @property
    def short_id(self) -> str:
        """The key id's first 12 characters, to show (``"(none)"`` for legacy)."""
        return self.id[:12] if self.id else "(none)"

    def describe(self) -> str:
        """The derivation in words: ``scrypt (N=2^17, r=8, p=1)``."""
        if self.kdf == "scrypt":
            return f"scrypt (N=2^{self.n.bit_length() - 1}, r={self.r}, p={self.p})"
        return "HKDF-SHA256 (a random key from `govsocial keys secret`)"

    @property
    def current(self) -> bool:
        """Whether the derivation is today's (a legacy or weaker one: rotate)."""
        return not self.legacy and (self.kdf != "scrypt" or self.n >= SCRYPT_N)

    def to_json(self) -> str:
        """The record as stored."""
        values: dict[str, object] = {"id": self.id, "kdf": self.kdf, "salt": self.salt}
        if self.kdf == "scrypt":
            values.update(n=self.n, r=self.r, p=self.p)
        return json.dumps(values, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> KeyRecord:
        """A record as stored by :meth:`to_json`."""
        values = json.loads(text)
        return cls(
            kdf=str(values["kdf"]),
            salt=str(values["salt"]),
            n=int(values.get("n", 0)),
            r=int(values.get("r", 0)),
            p=int(values.get("p", 0)),
            id=values.get("id"),
        )

    @classmethod
    def legacy_record(cls, salt: str) -> KeyRecord:
        """What credentials sealed before key records were sealed with."""
        return cls(kdf="scrypt", salt=salt, n=LEGACY_SCRYPT_N, r=8, p=1)

    @classmethod
    def new(cls, secret: str) -> KeyRecord:
        """A record for sealing under ``secret`` (already checked), with a fresh salt; this
        derives the key (slow for a passphrase; cached)."""
        salt = secrets.token_hex(16)
        if _raw_key(secret) is not None:
            record = cls(kdf="hkdf-sha256", salt=salt)
        else:
            record = cls(kdf="scrypt", salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
        return replace(record, id=key_id(derive(secret, record)))


@lru_cache(maxsize=16)
def _derived(secret: str, kdf: str, salt: str, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    if kdf == "hkdf-sha256":
        raw = _raw_key(secret)
        if raw is not None:
            return HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=bytes.fromhex(salt),
                info=b"govsocial credentials",
            ).derive(raw)
        # not a generated key: it cannot be this workspace's; derive something that fails
        # the key id check rather than an error that says less
        return hashlib.sha256(b"not a generated key" + secret.encode()).digest()
    if kdf != "scrypt":
        raise ConfigurationError(
            f"the workspace's credentials use key derivation {kdf!r}, unknown to this govsocial",
            field=SECRET_KEY_VARIABLE,
            hint="upgrade govsocial",
        )
    return Scrypt(salt=bytes.fromhex(salt), length=32, n=n, r=r, p=p).derive(secret.encode())


def derive(secret: str, record: KeyRecord) -> bytes:
    """The 32-byte key ``record``'s derivation makes of ``secret``; computed once per
    process for each key and salt (the worker never pays for it per delivery)."""
    return _derived(secret, record.kdf, record.salt, record.n, record.r, record.p)


def key_id(derived: bytes) -> str:
    """The id of a derived key: an HMAC-SHA256 under it of a fixed text (32 hex digits).
    It tells keys apart without revealing them."""
    return hmac.new(derived, b"govsocial key id", hashlib.sha256).hexdigest()[:32]


def _fernet(derived: bytes) -> Fernet:
    from cryptography.fernet import Fernet

    return Fernet(base64.urlsafe_b64encode(derived))


@dataclass
class Sealed:
    """Credentials in their stored form, and the key record they were sealed under (None
    when nothing needed sealing): the record must be the workspace's when they are stored."""

    values: dict[str, dict[str, str]]
    key: KeyRecord | None = None


@dataclass
class KeyRotation:
    """What :meth:`govsocial.Workspace.rotate_key` did: the key ids before and after (never
    a key), the new derivation, and the accounts whose credentials were re-sealed."""

    old_key_id: str | None
    new_key_id: str
    derivation: str
    accounts: list[str] = field(default_factory=list)
    credentials: int = 0


class Sealer:
    """Seals and opens credential values for one workspace.

    :param load_record: the workspace's key record (None: nothing sealed yet).
    :param sealed_sample: one sealed value from the workspace (None: none), to check a key
        against credentials sealed before key records.
    """

    def __init__(
        self,
        load_record: Callable[[], KeyRecord | None],
        sealed_sample: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._load_record = load_record
        self._sealed_sample = sealed_sample

    def __repr__(self) -> str:
        return "<Sealer>"

    def record(self) -> KeyRecord | None:
        """The workspace's key record as stored now (None: nothing sealed yet)."""
        return self._load_record()

    # -- sealing -------------------------------------------------------------------------

    def seal(self, credentials: Mapping[str, SecretStr], public: Collection[str] = ()) -> Sealed:
        """The stored form of an account's credentials, and the key record used.

        :param public: credential names that are not secret (Bluesky's ``identifier``, a
            handle): stored as they are.
        :raises ConfigurationError: an ``env:`` reference names a variable not allowed; a
            secret needs ``GOVSOCIAL_SECRET_KEY`` and it is unset, shorter than 32 bytes, or
            not the key the workspace's credentials are sealed with.
        """
        stored: dict[str, dict[str, str]] = {}
        fernet: Fernet | None = None
        record: KeyRecord | None = None
        for name, secret in credentials.items():
            value = secret.get_secret_value()
            if value.startswith("env:") and len(value) > 4:
                check_env_reference(value[4:], field=f"credentials.{name}", owner="an account")
                stored[name] = {"env": value[4:]}
                continue
            if name in public:
                stored[name] = {"plain": value}
                continue
            if fernet is None:
                record, derived = self._sealing_key(name)
                fernet = _fernet(derived)
            stored[name] = {"sealed": fernet.encrypt(value.encode()).decode()}
        return Sealed(stored, record)

    def _sealing_key(self, field: str) -> tuple[KeyRecord, bytes]:
        passphrase = os.environ.get(SECRET_KEY_VARIABLE)
        if not passphrase:
            raise ConfigurationError(
                f"storing credential {field!r} needs {SECRET_KEY_VARIABLE}, which is not set",
                field=f"credentials.{field}",
                hint=(
                    f"write the credential as env:NAME to keep it in the environment, or set "
                    f"{SECRET_KEY_VARIABLE} to a key of at least {MIN_KEY_BYTES} bytes to "
                    f"store it encrypted ({_GENERATE})"
                ),
            )
        check_key(passphrase)
        record = self._load_record()
        if record is None:
            record = KeyRecord.new(passphrase)
            return record, derive(passphrase, record)
        if record.legacy:
            sample = self._sealed_sample()
            if sample is None:  # an old salt, but nothing sealed under it: start afresh
                record = KeyRecord.new(passphrase)
                return record, derive(passphrase, record)
            derived = derive(passphrase, record)
            if not _opens(derived, sample):
                raise self.second_key(record, field)
            return replace(record, id=key_id(derived)), derived
        derived = derive(passphrase, record)
        if key_id(derived) != record.id:
            raise self.second_key(record, field)
        return record, derived

    @staticmethod
    def second_key(record: KeyRecord, field: str) -> ConfigurationError:
        """The refusal to seal ``field`` under a key other than the workspace's."""
        return ConfigurationError(
            f"{SECRET_KEY_VARIABLE} is not the key this workspace's credentials are sealed "
            f"with (key id {record.short_id}): storing credential {field!r} under a second "
            "key would leave credentials that no one key opens",
            field=SECRET_KEY_VARIABLE,
            hint=(
                "set the workspace's key (`govsocial keys check` shows its id), or move "
                f"every credential to the new key first: {NEW_SECRET_KEY_VARIABLE}=... "
                "govsocial keys rotate"
            ),
        )

    # -- opening -------------------------------------------------------------------------

    def open(
        self,
        stored: Mapping[str, Mapping[str, str]],
        *,
        secret: str | None = None,
        batch: dict[str, Fernet] | None = None,
        optional: Collection[str] = (),
    ) -> dict[str, str]:
        """Credentials as an Account takes them (``env:NAME`` references stay references).

        :param secret: the key to open them with (default: ``$GOVSOCIAL_SECRET_KEY``).
        :param batch: a dict shared by the calls opening one batch of accounts (a worker's
            claim): the key record is read and the key derived once for all of them.
        :param optional: credential names left out, instead of locking the account, when
            they cannot be opened (what an adapter keeps only to save work, such as a login
            session: ``Platform.cached_credentials``).
        :raises AccountLocked: a sealed value cannot be opened with the key (unset, too
            short, another key); ``account`` is None: the caller names the account.
        """
        opened: dict[str, str] = {}
        fernet: Fernet | None = None
        for name, entry in stored.items():
            if "env" in entry:
                opened[name] = f"env:{entry['env']}"
                continue
            if "plain" in entry:
                opened[name] = entry["plain"]
                continue
            try:
                if fernet is None:
                    fernet = batch.get("key") if batch is not None else None
                if fernet is None:
                    fernet = _fernet(self._opening_key(name, secret))
                    if batch is not None:
                        batch["key"] = fernet
                opened[name] = _decrypt(fernet, name, entry["sealed"])
            except AccountLocked:
                if name in optional:
                    continue
                raise
        return opened

    def _opening_key(self, field: str, secret: str | None) -> bytes:
        secret = secret if secret is not None else os.environ.get(SECRET_KEY_VARIABLE)
        if not secret:
            raise _locked(
                f"credential {field!r} is sealed, and {SECRET_KEY_VARIABLE} is not set",
                field,
                f"set {SECRET_KEY_VARIABLE} to the workspace's key (`govsocial keys check` "
                "shows its id) where this runs",
            )
        record = self._load_record()
        if record is None:
            raise _locked(
                f"credential {field!r} is sealed, but the workspace records no key for it",
                field,
                "import the account's credentials again",
            )
        if record.legacy:
            if record.salt not in _legacy_warned:
                _legacy_warned.add(record.salt)
                logger.warning(
                    "this workspace's credentials are sealed the way earlier govsocial did "
                    "(scrypt N=2^14, no key id): run `govsocial keys rotate` to re-seal them "
                    "under today's derivation (docs/operations.md, Keys)"
                )
            return derive(secret, record)
        size = len(secret.encode())
        if size < MIN_KEY_BYTES:
            raise _locked(
                f"credential {field!r} cannot be opened: {SECRET_KEY_VARIABLE} is {size} bytes "
                f"long, shorter than the {MIN_KEY_BYTES} bytes every key has, so it is not the "
                f"key the workspace's credentials are sealed with (key id {record.short_id})",
                field,
                f"set {SECRET_KEY_VARIABLE} to the workspace's key",
            )
        derived = derive(secret, record)
        if key_id(derived) != record.id:
            raise _locked(
                f"credential {field!r} cannot be opened: {SECRET_KEY_VARIABLE} is not the key "
                f"the workspace's credentials are sealed with (key id {record.short_id})",
                field,
                f"set {SECRET_KEY_VARIABLE} to that key (`govsocial keys check` tells whether "
                "a key fits); if it is lost, import the account's credentials again",
            )
        return derived

    # -- rotation ------------------------------------------------------------------------

    def reseal(
        self,
        stored: Mapping[str, Mapping[str, Mapping[str, str]]],
        *,
        old_secret: str | None,
        new_secret: str,
        new_record: KeyRecord,
    ) -> tuple[dict[str, dict[str, dict[str, str]]], int]:
        """Every account's credentials (``stored``: name -> stored form) re-sealed under
        ``new_secret``, and how many values were; ``env:`` and public values unchanged.

        :raises ConfigurationError: a sealed value cannot be opened with ``old_secret``
            (naming the account and the credential): nothing may be re-sealed then.
        """
        new_fernet = _fernet(derive(new_secret, new_record))
        resealed: dict[str, dict[str, dict[str, str]]] = {}
        count = 0
        for account, values in stored.items():
            opened = {}
            try:
                if any("sealed" in entry for entry in values.values()):
                    opened = self.open(values, secret=old_secret or "")
            except AccountLocked as locked:
                raise ConfigurationError(
                    f"account {account!r}: {locked.message}; nothing was re-sealed",
                    field=locked.field,
                    hint=(
                        f"run it with the current key in {SECRET_KEY_VARIABLE}; an account "
                        "whose credentials no key opens must be imported again first"
                    ),
                ) from None
            out: dict[str, dict[str, str]] = {}
            for name, entry in values.items():
                if "sealed" in entry:
                    token = new_fernet.encrypt(opened[name].encode()).decode()
                    out[name] = {"sealed": token}
                    count += 1
                else:
                    out[name] = dict(entry)
            resealed[account] = out
        return resealed, count


def _opens(derived: bytes, token: str) -> bool:
    from cryptography.fernet import InvalidToken

    try:
        _fernet(derived).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def _decrypt(fernet: Fernet, name: str, sealed: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return fernet.decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise _locked(
            f"credential {name!r} cannot be decrypted with this {SECRET_KEY_VARIABLE}",
            name,
            "set the key it was sealed with, or import the account's credentials again",
        ) from None


def _locked(reason: str, field: str, hint: str) -> AccountLocked:
    return AccountLocked(reason, reason=reason, field=f"credentials.{field}", hint=hint)
