"""Launcher for the real Bluesky reference servers (@atproto/dev-env from npm).

Used by the Bluesky plugin's tests, the conformance suite and `govsocial demo`.
`ensure_installed()` puts the pinned npm tree (with its own Node 22) in a cache
folder once; `BlueskyDevServer` runs PLC + PDS (SQLite, about a second) or, with
``appview=True``, the full network with the AppView (needs PostgreSQL and Redis).

    with BlueskyDevServer() as server:
        alice = server.accounts[0]
        ...  # talk XRPC to server.pds_url as alice.handle / alice.app_password

Command line: ``python -m govsocial_bluesky.devserver install`` and
``python -m govsocial_bluesky.devserver serve [--appview]``.
"""

from __future__ import annotations

from ._install import (
    DevServerError,
    DevServerInstallError,
    cache_dir,
    ensure_installed,
    is_installed,
    node_binary,
    npm_available,
)
from ._server import BlueskyDevServer, DevAccount, DevServerStartError

__all__ = [
    "BlueskyDevServer",
    "DevAccount",
    "DevServerError",
    "DevServerInstallError",
    "DevServerStartError",
    "cache_dir",
    "ensure_installed",
    "is_installed",
    "node_binary",
    "npm_available",
]
