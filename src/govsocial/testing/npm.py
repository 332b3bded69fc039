"""Install a pinned npm package tree: local servers and test tools (telegram-test-api, Prism,
twitter-text).

A plugin keeps a ``package.json`` and ``package-lock.json`` in a folder and calls
:func:`install` with it; the tree goes once into ``~/.cache/govsocial/npm/<name>-<lock hash>``
(``GOVSOCIAL_CACHE_DIR`` moves it), shared by every test session and safe against two
sessions installing at once. Needs ``npm`` on PATH the first time.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from govsocial.core.errors import ConfigurationError

__all__ = ["NpmError", "install", "npm_available"]

_MARKER = ".govsocial-installed"


class NpmError(ConfigurationError):
    """npm is missing or ``npm ci`` failed (the message ends with npm's output)."""


def npm_available() -> bool:
    """True when ``npm`` and ``node`` are on PATH."""
    return shutil.which("npm") is not None and shutil.which("node") is not None


def install(package_dir: Path, name: str, *, timeout: float = 900.0) -> Path:
    """Install ``package_dir``'s locked tree (once) and return its ``node_modules`` folder."""
    lock = (package_dir / "package-lock.json").read_bytes()
    base = os.environ.get("GOVSOCIAL_CACHE_DIR")
    root = Path(base) if base else Path.home() / ".cache" / "govsocial"
    target = root / "npm" / f"{name}-{hashlib.sha256(lock).hexdigest()[:12]}"
    if (target / _MARKER).exists():
        return target / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        raise NpmError(
            f"npm not found, so {name} cannot be installed",
            hint="install Node.js 20 or newer, with npm",
        )
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # another session may be installing right now
        if not (target / _MARKER).exists():
            for manifest in ("package.json", "package-lock.json"):
                shutil.copyfile(package_dir / manifest, target / manifest)
            try:
                done = subprocess.run(  # noqa: S603 - the npm found on PATH
                    [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                    cwd=target,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise NpmError(f"npm ci for {name} took over {timeout:.0f} s") from None
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
                raise NpmError(f"npm ci for {name} failed (exit {done.returncode})\n{tail}")
            (target / _MARKER).write_text("ok\n")
    return target / "node_modules"
