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

__all__ = ["prism_proxy", "spec_path"]

SPEC_NAME = "x-api-v2-openapi.json"


def spec_path() -> Path | None:
    """The X API v2 OpenAPI spec, or None when it is absent.

    ``$GOVSOCIAL_SPECS_DIR`` when set; otherwise ``shared/specs/`` beside the clone this
    module is in (``../shared/specs``) or beside any folder above it, so a clone made
    elsewhere under the same workspace finds it. The spec is read where it is, never copied
    into the project.
    """
    configured = os.environ.get("GOVSOCIAL_SPECS_DIR")
    candidates = [Path(configured) / SPEC_NAME] if configured else []
    here = Path(__file__).resolve()
    candidates += [folder / "shared" / "specs" / SPEC_NAME for folder in here.parents]
    return next((path for path in candidates if path.is_file()), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def prism_proxy(upstream: str, node_modules: Path, *, spec: Path) -> Iterator[str]:
    """Run Prism proxying to ``upstream`` until the block ends; yields its base URL."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH")
    cli = node_modules / "@stoplight" / "prism-cli" / "dist" / "index.js"
    port = _free_port()
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the process's life
        prefix="prism-", suffix=".log", delete=False
    )
    process = subprocess.Popen(  # noqa: S603 - the node found on PATH and Prism's script
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
