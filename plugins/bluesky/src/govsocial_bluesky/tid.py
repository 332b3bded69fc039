"""AT Protocol Timestamp Identifiers (TIDs), the record keys of Bluesky posts.

A TID is a 64-bit integer written as 13 characters of base32-sortable
(``234567abcdefghijklmnopqrstuvwxyz``): the top bit is 0, the next 53 bits are
microseconds since the UNIX epoch, the last 10 bits a random "clock identifier"
(https://atproto.com/specs/tid). ``app.bsky.feed.post`` records take TID keys
(https://atproto.com/specs/record-key), and a PDS refuses a create whose key is
already used, which is what makes a repeated publish harmless.

govsocial's idempotency keys are TIDs when the adapter made them
(:func:`new_tid`). A key made elsewhere (a UUID from a scheduler, say) is mapped
to a TID by :func:`tid_for_key`, deterministically, so the same key always names
the same record.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

__all__ = ["ALPHABET", "decode_tid", "encode_tid", "is_valid_tid", "new_tid", "tid_for_key"]

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_LENGTH = 13
_CLOCK_BITS = 10
_MAX_MICROS = (1 << 53) - 1

# Derived keys get a timestamp inside [2023-01-01, 2033-01-01): plausible to any reader
# of the key, and ~3.2e17 possible values (timestamp x clock id) keep collisions negligible.
_DERIVED_START_US = 1_672_531_200_000_000
_DERIVED_SPAN_US = 10 * 365 * 24 * 3600 * 1_000_000


def encode_tid(micros: int, clock_id: int) -> str:
    """The TID for ``micros`` since the epoch and a clock id in [0, 1023]."""
    if not 0 <= micros <= _MAX_MICROS:
        raise ValueError(f"timestamp {micros} does not fit in 53 bits")
    if not 0 <= clock_id < 1 << _CLOCK_BITS:
        raise ValueError(f"clock id {clock_id} is not in [0, 1023]")
    value = (micros << _CLOCK_BITS) | clock_id
    chars = []
    for _ in range(_LENGTH):
        chars.append(ALPHABET[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))


def decode_tid(tid: str) -> tuple[int, int]:
    """``(microseconds, clock_id)`` of a valid TID.

    :raises ValueError: ``tid`` is not a valid TID.
    """
    if not is_valid_tid(tid):
        raise ValueError(f"{tid!r} is not a valid TID")
    value = 0
    for char in tid:
        value = (value << 5) | ALPHABET.index(char)
    return value >> _CLOCK_BITS, value & ((1 << _CLOCK_BITS) - 1)


def is_valid_tid(value: str) -> bool:
    """Whether ``value`` has TID syntax (13 base32-sortable characters, top bit 0)."""
    return len(value) == _LENGTH and _TID.match(value) is not None


def new_tid(now_us: int | None = None) -> str:
    """A fresh TID from the current time in microseconds and a random clock id."""
    micros = time.time_ns() // 1000 if now_us is None else now_us
    return encode_tid(micros, secrets.randbelow(1 << _CLOCK_BITS))


def tid_for_key(key: str) -> str:
    """The record key for idempotency key ``key``: the key itself when it is a TID.

    Any other key is hashed (SHA-256 of its UTF-8 bytes); the first 8 bytes of the
    digest, as a big-endian integer, give the clock id (its low 10 bits) and a timestamp
    (the rest, reduced modulo ten years and added to 2023-01-01T00:00:00Z). The result is
    a valid TID that depends on ``key`` alone, so every retry of a delivery names the same
    record, on any machine.
    """
    if is_valid_tid(key):
        return key
    number = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    clock_id = number & ((1 << _CLOCK_BITS) - 1)
    micros = _DERIVED_START_US + (number >> _CLOCK_BITS) % _DERIVED_SPAN_US
    return encode_tid(micros, clock_id)
