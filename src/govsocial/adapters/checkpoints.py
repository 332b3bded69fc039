"""Checkpoints: what an adapter must remember about one delivery to resume it, not repeat it.

Some platforms publish in steps. Instagram and Threads first make a *container*, then
publish it; a retry after a crash between the two must publish the same container, not make
a second one (that would be a second post). The adapter saves such step results with
:meth:`govsocial.Platform.save_checkpoint` under the delivery's idempotency key, and reads
them back with :meth:`govsocial.Platform.checkpoint` when the delivery is tried again.

A plain :class:`~govsocial.Client` keeps checkpoints in memory (a retry in the same process
resumes). A :class:`~govsocial.Workspace` stores them with the delivery, committed the moment
they are saved, so a worker killed mid-publish is resumed by the next one.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Checkpoints", "MemoryCheckpoints"]


class Checkpoints(Protocol):
    """Where checkpoints live: one small string mapping per (account, idempotency key)."""

    def load(self, account_key: str, idempotency_key: str) -> dict[str, str]:
        """The values saved for this delivery (empty when none)."""
        ...

    def save(self, account_key: str, idempotency_key: str, values: dict[str, str]) -> None:
        """Replace the values saved for this delivery; durable when this returns."""
        ...


class MemoryCheckpoints:
    """Checkpoints kept for the life of the process (the default for a plain client)."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], dict[str, str]] = {}

    def load(self, account_key: str, idempotency_key: str) -> dict[str, str]:
        """A copy of the values saved for this delivery (empty when none)."""
        return dict(self._values.get((account_key, idempotency_key), {}))

    def save(self, account_key: str, idempotency_key: str, values: dict[str, str]) -> None:
        """Replace the values saved for this delivery (kept until the process ends)."""
        self._values[(account_key, idempotency_key)] = dict(values)
