"""Checkpoints in a JSON file, for crash tests and benchmarks that kill a process with SIGKILL.

A :class:`~govsocial.adapters.Checkpoints` store the next process reads back: the whole file
is rewritten to a temporary file, synced and renamed over the old one, so a kill leaves
either the old values or the new ones, never half a file. Values are kept per idempotency
key (unique per delivery), as ``{key: {name: value}}``, so a test can read the file itself.
A workspace keeps checkpoints in its database; this is for tests of an adapter or the upload
engine on their own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["FileCheckpoints"]


class FileCheckpoints:
    """Checkpoints in the JSON file at ``path`` (created on the first save)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self, account_key: str, idempotency_key: str) -> dict[str, str]:
        """The values saved for this delivery (empty when none)."""
        if not self.path.exists():
            return {}
        values: dict[str, str] = json.loads(self.path.read_text()).get(idempotency_key, {})
        return values

    def save(self, account_key: str, idempotency_key: str, values: dict[str, str]) -> None:
        """Replace the values saved for this delivery; on disk when this returns."""
        everything = json.loads(self.path.read_text()) if self.path.exists() else {}
        everything[idempotency_key] = values
        temporary = self.path.with_suffix(".tmp")
        with open(temporary, "w") as handle:
            json.dump(everything, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
