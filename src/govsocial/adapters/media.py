"""Media hosts: put a local file where a platform can download it.

Instagram and Threads do not take uploads: they fetch each image or video from a public URL.
A post whose media is a local file (``Media(path=...)`` or ``Media(data=...)``) therefore
needs a media host, which copies the bytes somewhere public and returns the URL. Give one to
the client (``Client(media_host=...)``). A plugin can ship its own host (an S3 bucket, the
agency's CDN) as a :class:`MediaHost` subclass and make it discoverable by name through the
``register_media_hosts`` hook.

The one built in, :class:`DirectoryHost`, writes into a directory that a web server already
publishes (most agencies have a website): ``DirectoryHost("/var/www/media",
"https://dinas.example.go.id/media")``.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

__all__ = ["DirectoryHost", "MediaHost"]


class MediaHost(ABC):
    """Makes bytes reachable at a public URL. Subclass it and implement :meth:`upload`."""

    #: the short name plugins register the host under (``register_media_hosts``).
    name: ClassVar[str]

    @abstractmethod
    async def upload(self, data: bytes, *, mime_type: str | None, filename: str | None) -> str:
        """Store ``data`` and return a URL anyone on the internet can GET it from."""

    async def aclose(self) -> None:  # noqa: B027 - optional, empty by default
        """Release what the host holds."""


class DirectoryHost(MediaHost):
    """Writes each file into ``directory``, which a web server serves at ``base_url``.

    File names are the SHA-256 of the content (plus an extension), so uploading the same
    image twice stores it once and a URL never changes meaning.
    """

    name = "directory"

    def __init__(self, directory: str | Path, base_url: str) -> None:
        self.directory = Path(directory)
        self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"<DirectoryHost {self.directory} at {self.base_url}>"

    async def upload(self, data: bytes, *, mime_type: str | None, filename: str | None) -> str:
        """Write ``data`` under its SHA-256 name (once) and return its public URL."""
        suffix = (mimetypes.guess_extension(mime_type) if mime_type else None) or (
            Path(filename).suffix if filename else ""
        )
        name = hashlib.sha256(data).hexdigest() + (suffix or "")
        target = self.directory / name
        if not target.exists():
            await asyncio.to_thread(self._write, target, data)
        return f"{self.base_url}/{name}"

    def _write(self, target: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # a name of its own per upload: two uploads of the same file may run at once
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        partial.write_bytes(data)
        partial.replace(target)  # atomic: a platform never fetches half a file
