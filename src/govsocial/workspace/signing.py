"""Signed actions: a person's Ed25519 key, and who is acting with it right now.

Signing is opt-in per person. A person registered with a public key
(``ws.add_person("siti", name=..., public_key=key.public_key)``) must sign every action they
take: each ``by=`` method takes ``key=``, and is refused (:class:`~govsocial.NotPermitted`)
without the private key that matches. The audit entry the action writes then carries an
Ed25519 signature over a canonical JSON payload (:func:`signed_payload`), which
``verify_audit()`` checks against the key the log itself registered. Rewriting who approved,
even with the hash chain recomputed, no longer verifies.

The cryptography is the ``cryptography`` package's Ed25519, not govsocial's own.

- **Public key** text: ``ed25519:`` followed by the standard base64 of the 32 raw bytes.
- **Key file**: the private key as unencrypted PKCS#8 PEM, written with mode 0600; never
  overwritten. Keep it like a password: whoever holds the file can act as the person.
- **Signature**: the standard base64 of the 64-byte Ed25519 signature of the UTF-8 bytes of
  :func:`signed_payload`.

A key is handed to an action through :func:`acting` (the ``key=`` of every ``by=`` method
does it): the audit log signs the entries whose actor is that person while the block runs.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from govsocial.core.errors import ConfigurationError

__all__ = [
    "PAYLOAD_VERSION",
    "PUBLIC_KEY_PREFIX",
    "SigningKey",
    "acting",
    "acting_key",
    "signed",
    "check_public_key",
    "signed_payload",
    "verify_signature",
]

#: How a public key's text begins.
PUBLIC_KEY_PREFIX = "ed25519:"
#: The ``v`` field of every signed payload.
PAYLOAD_VERSION = "govsocial-audit-signature/1"


class SigningKey:
    """A person's Ed25519 private key.

    ``SigningKey.generate()`` makes one; ``key.save(path)`` writes it (mode 0600, never over
    an existing file); ``SigningKey.load(path)`` reads it back; ``key.public_key`` is the text
    to register with ``ws.add_person(..., public_key=...)``. Its repr never shows the key.
    """

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._public = PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode("ascii")

    @classmethod
    def generate(cls) -> SigningKey:
        """A new random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: str | Path) -> SigningKey:
        """The key saved at ``path`` by :meth:`save` (or any unencrypted PKCS#8 Ed25519 PEM).

        :raises ConfigurationError: the file cannot be read or holds no Ed25519 key.
        """
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read signing key file {path}: {exc.strerror or exc}",
                field="key",
                hint="make one with `govsocial keys new NAME` or SigningKey.generate().save(path)",
            ) from None
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            private = None
        if not isinstance(private, Ed25519PrivateKey):
            raise ConfigurationError(
                f"{path} holds no unencrypted Ed25519 private key",
                field="key",
                hint="give the file `govsocial keys new` wrote",
            )
        return cls(private)

    def save(self, path: str | Path) -> Path:
        """Write the key to ``path`` (mode 0600); return the path.

        :raises ConfigurationError: a file is already there (a key is never overwritten:
            the old one may be the only copy), or it cannot be written.
        """
        target = Path(path)
        pem = self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(target, flags, 0o600)
        except FileExistsError:
            raise ConfigurationError(
                f"{target} already exists: a signing key is never overwritten",
                field="key",
                hint="choose another file name, or move the old key away first",
            ) from None
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            raise ConfigurationError(
                f"cannot write signing key file {str(target)!r}: "
                f"{getattr(exc, 'strerror', None) or exc}",
                field="key",
            ) from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return target

    @property
    def public_key(self) -> str:
        """The public key as text: ``ed25519:`` and the base64 of its 32 bytes."""
        return self._public

    def sign(self, payload: bytes) -> str:
        """The base64 Ed25519 signature of ``payload``."""
        return base64.b64encode(self._private.sign(payload)).decode("ascii")

    def __repr__(self) -> str:
        return f"<SigningKey {self._public}>"


def check_public_key(text: str, *, field: str = "public_key") -> str:
    """``text`` when it is a public key govsocial can verify with (``ed25519:<base64>``).

    :raises ConfigurationError: it is not.
    """
    _public(text, field=field)
    return text


def _public(text: str, *, field: str = "public_key") -> Ed25519PublicKey:
    problem = "it does not start with 'ed25519:'"
    if isinstance(text, str) and text.startswith(PUBLIC_KEY_PREFIX):
        try:
            raw = base64.b64decode(text[len(PUBLIC_KEY_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 32:
            return Ed25519PublicKey.from_public_bytes(raw)
        problem = "its base64 part is not 32 bytes"
    raise ConfigurationError(
        f"{text!r} is not an Ed25519 public key: {problem}",
        field=field,
        hint="pass the public_key of a govsocial.SigningKey (`govsocial keys new NAME` prints it)",
    )


@functools.lru_cache(maxsize=1024)
def _parsed(public_key: str) -> Ed25519PublicKey:
    return _public(public_key)


def verify_signature(public_key: str, payload: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``public_key``'s signature of ``payload``."""
    try:
        raw = base64.b64decode(signature, validate=True)
        _parsed(public_key).verify(raw, payload)
    except (InvalidSignature, ConfigurationError, binascii.Error, ValueError):
        return False
    return True


def signed_payload(
    *,
    seq: int,
    prev_hash: str,
    at: float,
    actor: str | None,
    action: str,
    obj: str | None,
    account: str | None,
    decree: str | None,
    detail: dict[str, Any],
) -> bytes:
    """The bytes an audit entry's signature covers.

    The JSON object ``{"account", "action", "actor", "at", "decree", "detail", "object",
    "prev_hash", "seq", "v"}`` with keys sorted, no spaces (separators ``,`` and ``:``),
    non-ASCII characters as themselves, encoded as UTF-8. ``at`` is the entry's time as
    epoch seconds written with six decimals (``"1764982800.123456"``); ``detail`` is the
    entry's detail object (an approval's holds ``content``, the digest of what was approved);
    ``v`` is :data:`PAYLOAD_VERSION`. Binding ``seq`` and ``prev_hash`` fixes the entry's
    place in the chain: rewriting an earlier entry invalidates every later signature.
    """
    body = {
        "v": PAYLOAD_VERSION,
        "seq": seq,
        "prev_hash": prev_hash,
        "at": f"{at:.6f}",
        "actor": actor,
        "action": action,
        "object": obj,
        "account": account,
        "decree": decree,
        "detail": detail,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


_ACTING: contextvars.ContextVar[tuple[str, SigningKey] | None] = contextvars.ContextVar(
    "govsocial_acting_key", default=None
)


@contextmanager
def acting(by: str | None, key: SigningKey | None) -> Iterator[None]:
    """While the block runs, ``by`` acts with ``key``: their permission checks accept it and
    the audit entries they write are signed with it. Nothing happens for no key."""
    if key is None or by is None:
        yield
        return
    token = _ACTING.set((by, key))
    try:
        yield
    finally:
        _ACTING.reset(token)


def acting_key(by: str | None) -> SigningKey | None:
    """The key ``by`` acts with in this block (None: they gave none)."""
    found = _ACTING.get()
    if found is None or by is None or found[0] != by:
        return None
    return found[1]


_P = ParamSpec("_P")
_R = TypeVar("_R")


def signed(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run a service method that takes ``by=`` and ``key=`` with ``by`` acting with ``key``
    (:func:`acting`), so a service called directly signs as the
    :class:`~govsocial.Workspace` facade does: its permission checks accept the key and its
    audit entries are signed with it. Nothing changes without ``key=``."""

    @functools.wraps(method)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        by, key = kwargs.get("by"), kwargs.get("key")
        with acting(
            by if isinstance(by, str) else None, key if isinstance(key, SigningKey) else None
        ):
            return method(*args, **kwargs)

    return run
