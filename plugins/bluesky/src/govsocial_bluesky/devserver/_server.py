"""Runs server.mjs (PLC + PDS, optionally AppView) as a child process."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import string
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ._install import (
    PACKAGE_DIR,
    DevServerError,
    cache_dir,
    ensure_installed,
    node_binary,
)

__all__ = ["BlueskyDevServer", "DevAccount", "DevServerStartError"]

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
_SERVER_SCRIPT = PACKAGE_DIR / "server.mjs"
_STDERR_LINES = 200
_STOP_TIMEOUT = 40.0
_START_ATTEMPTS = 3


class DevServerStartError(DevServerError):
    """The dev server process did not come up."""


@dataclass(frozen=True)
class DevAccount:
    """An account created on the dev PDS."""

    handle: str
    did: str
    password: str = field(repr=False)
    app_password: str | None = field(repr=False, default=None)


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (held open together so none repeats)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def _schema_name() -> str:
    """A per-run Postgres schema base name: letters and underscores only."""
    letters = "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))
    return f"govsocial_{letters}"


class _Pump(threading.Thread):
    """Reads a child's stream line by line in the background."""

    def __init__(self, stream: IO[str], keep: int) -> None:
        super().__init__(daemon=True)
        self._stream = stream
        self.lines: deque[str] = deque(maxlen=keep)
        self.first_line: str | None = None
        self.got_first = threading.Event()

    def run(self) -> None:
        try:
            for line in self._stream:
                if self.first_line is None:
                    self.first_line = line
                    self.got_first.set()
                self.lines.append(line.rstrip("\n"))
        except (OSError, ValueError):
            pass
        finally:
            self.got_first.set()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(list(self.lines)[-lines:])


class BlueskyDevServer:
    """The Bluesky reference servers (@atproto/dev-env), for tests and demos.

    Use as a context manager. After start(): pds_url, plc_url, appview_url
    (None without appview) and accounts (one DevAccount per handle).
    """

    def __init__(
        self,
        *,
        appview: bool = False,
        accounts: Sequence[str] = ("alice.test", "bob.test"),
        postgres_url: str | None = None,
        redis_host: str = "127.0.0.1:6379",
        startup_timeout: float = 120,
    ) -> None:
        self.appview = appview
        self.handles = tuple(accounts)
        self.postgres_url = postgres_url or os.environ.get(
            "GOVSOCIAL_TEST_POSTGRES", DEFAULT_POSTGRES_URL
        )
        self.redis_host = redis_host
        self.startup_timeout = startup_timeout
        self.pds_url = ""
        self.plc_url = ""
        self.appview_url: str | None = None
        self.accounts: list[DevAccount] = []
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._stdout: _Pump | None = None
        self._stderr: _Pump | None = None
        self._tmpdir: Path | None = None
        self._schema: str | None = None

    def __repr__(self) -> str:
        state = "running" if self._proc is not None else "stopped"
        return f"BlueskyDevServer(appview={self.appview}, pds_url={self.pds_url!r}, {state})"

    # ---- lifecycle --------------------------------------------------------
    def start(self) -> BlueskyDevServer:
        """Install if needed, launch the network and wait until it is ready."""
        if self._proc is not None:
            return self
        install_dir = ensure_installed()
        began = time.monotonic()
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                self._launch(install_dir)
                break
            except DevServerStartError as exc:
                if "EADDRINUSE" not in str(exc) or attempt == _START_ATTEMPTS:
                    raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _config(self, install_dir: Path) -> dict[str, Any]:
        passwords = {h: secrets.token_urlsafe(18) for h in self.handles}
        cfg: dict[str, Any] = {
            "modules_dir": str(install_dir),
            "appview": self.appview,
            "accounts": [{"handle": h, "password": p} for h, p in passwords.items()],
            "app_password_name": "govsocial",
            "cleanup_dir": str(self._tmpdir),
        }
        if self.appview:
            plc, pds, bsky, ozone = _free_ports(4)
            self._schema = _schema_name()
            cfg.update(
                plc_port=plc,
                pds_port=pds,
                bsky_port=bsky,
                ozone_port=ozone,
                postgres_url=self.postgres_url,
                postgres_schema=self._schema,
                redis_host=self.redis_host,
            )
        else:
            plc, pds = _free_ports(2)
            cfg.update(plc_port=plc, pds_port=pds)
        return cfg

    def _launch(self, install_dir: Path) -> None:
        self._tmpdir = Path(tempfile.mkdtemp(prefix="govsocial-bsky-"))
        config = self._config(install_dir)
        env = dict(os.environ)
        env["TMPDIR"] = str(self._tmpdir)  # PDS data dirs land here
        env["GOVSOCIAL_BSKY_DEVSERVER_CONFIG"] = json.dumps(config)
        if self.appview:
            env["DB_POSTGRES_URL"] = self.postgres_url
            env["REDIS_HOST"] = self.redis_host
        self._proc = subprocess.Popen(  # noqa: S603 - our own node binary and script
            [str(node_binary()), str(_SERVER_SCRIPT)],
            cwd=install_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=False,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._stdout = _Pump(self._proc.stdout, keep=20)
        self._stderr = _Pump(self._proc.stderr, keep=_STDERR_LINES)
        self._stdout.start()
        self._stderr.start()
        ready = self._stdout.got_first.wait(self.startup_timeout)
        line = self._stdout.first_line
        if not ready or line is None:
            if ready:
                try:
                    why = f"exited with code {self._proc.wait(timeout=5)}"
                except subprocess.TimeoutExpired:
                    why = "closed its stdout"
            else:
                why = f"not ready after {self.startup_timeout:.0f} s"
            self.stop()
            raise DevServerStartError(self._failure(why))
        try:
            self._read_ready(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            self.stop()
            raise DevServerStartError(self._failure(f"bad ready line ({exc})")) from None

    def _failure(self, why: str) -> str:
        tail = self._stderr.tail() if self._stderr is not None else ""
        kind = "Bluesky dev network (with AppView)" if self.appview else "Bluesky dev PDS"
        return f"{kind} failed to start: {why}\n--- server stderr (tail) ---\n{tail}"

    def _read_ready(self, ready: dict[str, Any]) -> None:
        self.pds_url = str(ready["pds_url"])
        self.plc_url = str(ready["plc_url"])
        appview = ready.get("appview_url")
        self.appview_url = str(appview) if appview else None
        self.accounts = [
            DevAccount(
                handle=str(a["handle"]),
                did=str(a["did"]),
                password=str(a["password"]),
                app_password=str(a["app_password"]) if a.get("app_password") else None,
            )
            for a in ready["accounts"]
        ]

    def stop(self) -> None:
        """Close stdin (the server then shuts down), wait, then kill if needed."""
        proc, self._proc = self._proc, None
        if proc is not None:
            clean = self._stop_process(proc)
            if not clean and self._schema is not None:
                self._drop_schema(self._schema)
        for pump in (self._stdout, self._stderr):
            if pump is not None:
                pump.join(timeout=5)
        if proc is not None:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    @staticmethod
    def _stop_process(proc: subprocess.Popen[str]) -> bool:
        """Stop the child; True if it shut down by itself with exit code 0."""
        if proc.poll() is None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            return proc.wait(timeout=_STOP_TIMEOUT) == 0
        except subprocess.TimeoutExpired:
            pass
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return False

    def _drop_schema(self, schema: str) -> None:
        """Drop the Postgres schemas of a run that did not shut down cleanly."""
        cfg: dict[str, str] = {"drop_schema": schema, "postgres_url": self.postgres_url}
        cfg["modules_dir"] = str(cache_dir())
        env = dict(os.environ, GOVSOCIAL_BSKY_DEVSERVER_CONFIG=json.dumps(cfg))
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(  # noqa: S603 - our own node binary and script
                [str(node_binary()), str(_SERVER_SCRIPT)],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=60,
                check=False,
            )

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def wait(self) -> int:
        """Block until the server process exits; return its exit code."""
        if self._proc is None:
            return 0
        return self._proc.wait()

    def stderr_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote to stderr."""
        return self._stderr.tail(lines) if self._stderr is not None else ""

    def __enter__(self) -> BlueskyDevServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
