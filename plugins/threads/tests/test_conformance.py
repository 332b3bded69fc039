"""The govsocial conformance suite, against the Threads emulator (govsocial_threads.testing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govsocial.adapters.media import DirectoryHost
from govsocial.adapters.platform import LocalServer
from govsocial.client import Client
from govsocial.testing import PlatformConformance
from govsocial_threads.testing import ThreadsEmulator


class TestThreadsConformance(PlatformConformance):
    platform = "threads"

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_server(cls, emulator: ThreadsEmulator) -> LocalServer:
        return emulator

    @pytest.fixture(scope="class")
    @classmethod
    def client(cls, emulator: ThreadsEmulator) -> Iterator[Client]:
        """Threads downloads media from public URLs: the client needs a media host."""
        host = DirectoryHost(emulator.media_dir, emulator.base_url + "/media")
        with Client(media_host=host, max_wait=5.0) as client:
            yield client
