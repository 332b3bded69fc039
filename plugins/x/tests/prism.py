"""Prism (``@stoplight/prism-cli``) in proxy mode in front of the emulator.

``prism proxy <spec> <upstream> --errors`` checks every request against the X API v2
OpenAPI spec before forwarding it, and every answer before returning it; with ``--errors``
a violation turns into an error answer (422 for a request, 500 for an answer) instead of a
warning, so a test whose traffic breaks the spec fails. Prism also logs each violation; the
log is kept so tests can show it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["SPEC", "prism_proxy", "spec_path"]

REPO = Path(__file__).resolve().parents[3]
SPEC = REPO.parent / "shared" / "specs" / "x-api-v2-openapi.json"
NODE_DIR = Path(__file__).resolve().parent / "node"


def spec_path() -> Path | None:
    """The X API v2 OpenAPI spec beside the repository, or None when it is absent."""
    return SPEC if SPEC.is_file() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def prism_proxy(upstream: str, node_modules: Path, *, spec: Path = SPEC) -> Iterator[str]:
    """Run Prism proxying to ``upstream`` until the block ends; yields its base URL."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH")
    cli = node_modules / "@stoplight" / "prism-cli" / "dist" / "index.js"
    port = _free_port()
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the process's life
        prefix="prism-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [
            node,
            str(cli),
            "proxy",
            str(spec),
            upstream,
            "--errors",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Prism exited: {Path(log.name).read_text()[-2000:]}")
            try:
                httpx.get(base + "/2/users/me", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("Prism did not start within 120 s") from None
                time.sleep(0.25)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()
        Path(log.name).unlink(missing_ok=True)
