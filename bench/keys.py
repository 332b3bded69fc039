"""Benchmark the credential key derivation, and what opening an account costs after it.

    python bench/keys.py               # 5 runs of each derivation, medians
    python bench/keys.py --repeat 9

- a passphrase: scrypt at OWASP's parameters (N=2^17, r=8, p=1: 128 MiB of memory), what
  govsocial derives from a ``GOVSOCIAL_SECRET_KEY`` that is not a generated key;
- the derivation earlier versions used (scrypt N=2^14), which old workspaces still open with;
- a key from ``govsocial keys secret``: HKDF-SHA256 (no stretching: it is already random);
- opening one account's sealed credential once the key is derived (cached per process),
  which is what a worker pays per delivery when the account is not in its own cache.

Each derivation runs with the cache bypassed; the figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from govsocial.app import Workspace
from govsocial.core.models import Account
from govsocial.plugin.manager import Plugins
from govsocial.workspace import credentials
from govsocial.workspace.credentials import KeyRecord, new_key

PASSPHRASE = "kata sandi panjang untuk ruang kerja humas kota"


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    """The median of ``repeat`` timed calls of ``work``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def derivation(secret: str, record: KeyRecord) -> Callable[[], bytes]:
    raw = credentials._derived.__wrapped__  # the derivation without the process cache

    def work() -> bytes:
        return raw(secret, record.kdf, os.urandom(16).hex(), record.n, record.r, record.p)

    return work


def opening(repeat: int) -> float:
    """Seconds to open one sealed credential with the derived key cached."""
    os.environ["GOVSOCIAL_SECRET_KEY"] = PASSPHRASE
    with tempfile.TemporaryDirectory() as folder:
        plugins = Plugins()
        with Workspace.open(Path(folder) / "ws.db", plugins=plugins) as ws:
            ws.add_account(
                "humas",
                Account(
                    platform="mastodon",
                    handle="@humas@example.go.id",
                    base_url="https://example.go.id",
                    credentials={"access_token": "bench-token-" + "x" * 32},
                ),
            )
            ws.account("humas")  # the derivation, once
            start = time.perf_counter()
            for _ in range(repeat):
                ws.account("humas")
            return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    salt = "00" * 16
    rows = [
        (
            "passphrase: scrypt N=2^17, r=8, p=1 (OWASP; 128 MiB)",
            derivation(PASSPHRASE, KeyRecord("scrypt", salt, 2**17, 8, 1)),
        ),
        (
            "before: scrypt N=2^14, r=8, p=1 (earlier versions; 16 MiB)",
            derivation(PASSPHRASE, KeyRecord("scrypt", salt, 2**14, 8, 1)),
        ),
        (
            "generated key: HKDF-SHA256",
            derivation(new_key(), KeyRecord("hkdf-sha256", salt)),
        ),
    ]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| derivation | median |")
    print("|---|---:|")
    for label, work in rows:
        seconds = median_seconds(work, args.repeat)
        shown = f"{seconds * 1000:.1f} ms" if seconds >= 0.001 else f"{seconds * 1e6:.0f} µs"
        print(f"| {label} | {shown} |")
    per_open = opening(200)
    print(f"| opening one sealed credential, key cached | {per_open * 1e6:.0f} µs |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
