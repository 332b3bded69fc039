"""Run an aiohttp application as a real HTTP server in a thread, for emulated platforms.

Where a platform has no local server (X, Facebook, Instagram, Threads, LinkedIn), a plugin's
tests emulate its documented endpoints with a small stateful aiohttp app and serve it with
:func:`serve` (or the ``emulators`` fixture of :mod:`govsocial.testing.pytest_plugin`); the
adapter then talks real HTTP to it, and the test reads what the emulator stored. An emulator
lives in the plugin's package as ``govsocial_<platform>.testing``, so tests import it like any
module; it is built from the platform's documentation, and its answers should be checked
against the platform's published examples or spec. docs/testing-plugins.md has a skeleton.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

__all__ = ["serve"]


@contextmanager
def serve(app: web.Application, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on a free port until the block ends; yields its base URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(app, access_log=None)
    port: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, host, 0)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only here
        assert server is not None
        port.append(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="govsocial-emulator", daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("the emulator did not start within 30 s")
    try:
        yield f"http://{host}:{port[0]}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
