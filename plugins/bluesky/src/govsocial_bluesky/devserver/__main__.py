"""Command line: `install` the npm tree, or `serve` a dev network until Ctrl-C."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from . import BlueskyDevServer, DevServerError, ensure_installed


def _progress(msg: str) -> None:
    print(f"[bluesky-devserver] {msg}", file=sys.stderr, flush=True)


def _install() -> int:
    began = time.monotonic()
    path = ensure_installed(_progress)
    _progress(f"ready in {time.monotonic() - began:.1f} s: {path}")
    return 0


def _serve(appview: bool, handles: list[str]) -> int:
    ensure_installed(_progress)
    server = BlueskyDevServer(appview=appview, accounts=handles)
    try:
        server.start()
        info = {
            "pds_url": server.pds_url,
            "plc_url": server.plc_url,
            "appview_url": server.appview_url,
            "accounts": [dataclasses.asdict(a) for a in server.accounts],
        }
        print(json.dumps(info), flush=True)
        _progress("running; press Ctrl-C to stop")
        code = server.wait()
        if code != 0:
            _progress(f"server exited with code {code}\n{server.stderr_tail()}")
        return code
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m govsocial_bluesky.devserver`."""
    parser = argparse.ArgumentParser(prog="python -m govsocial_bluesky.devserver")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="install the pinned @atproto/dev-env once")
    serve = sub.add_parser("serve", help="run a dev network until Ctrl-C")
    serve.add_argument("--appview", action="store_true", help="also run the AppView")
    serve.add_argument(
        "--account",
        action="append",
        dest="accounts",
        metavar="HANDLE",
        help="account to create (repeatable; default alice.test and bob.test)",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            return _install()
        return _serve(args.appview, args.accounts or ["alice.test", "bob.test"])
    except DevServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
