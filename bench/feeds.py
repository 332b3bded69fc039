"""Measure what a feed poll costs: unchanged (a 304) against a full download with nothing new.

    python bench/feeds.py               # a 100-item feed, 30 polls of each kind
    python bench/feeds.py --items 500 --polls 50

A local HTTP server serves an RSS feed of ``--items`` items (about 600 bytes each) with an
ETag. The workspace (SQLite, in a temporary folder) follows it and drafts every item once;
then it polls ``--polls`` times with validators (the server answers 304) and ``--polls``
times through a server that ignores them (200 with the whole feed, every item already
seen): the baseline a feed without ETag or Last-Modified costs. Prints the median
seconds per poll, the bytes the server sent, and the first sync that drafted everything.
"""

from __future__ import annotations

import argparse
import http.server
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from govsocial.app import Workspace
from govsocial.core.models import Account
from govsocial.plugin.manager import Plugins


def feed(items: int) -> bytes:
    body = "".join(
        f"<item><title>Siaran pers nomor {i}: program layanan publik</title>"
        f"<link>https://humas.example.go.id/siaran/{i}</link><guid>siaran-{i}</guid>"
        f"<description><![CDATA[<p>{'Isi siaran pers. ' * 25}</p>]]></description></item>"
        for i in range(items)
    )
    return f"<rss version='2.0'><channel><title>Humas</title>{body}</channel></rss>".encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--polls", type=int, default=30)
    args = parser.parse_args()
    body = feed(args.items)
    sent = {"bytes": 0}
    honour = {"validators": True}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if honour["validators"] and self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            sent["bytes"] += len(body)

        def log_message(self, *a: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["GOVSOCIAL_MEDIA_ALLOW_NETS"] = "127.0.0.0/8"
    os.environ.setdefault("GOVSOCIAL_CRED_BENCH", "t")
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace.open(Path(folder) / "ws.db", plugins=Plugins(only=["mastodon"]))
        ws.add_account(
            "humas",
            Account(
                platform="mastodon",
                handle="@humas@mastodon.example",
                base_url="https://mastodon.example",
                credentials={"access_token": "env:GOVSOCIAL_CRED_BENCH"},
            ),
        )
        ws.add_person("siti", name="Siti")
        ws.follow_feed(
            f"http://127.0.0.1:{server.server_address[1]}/rss",
            accounts=["humas"],
            by="siti",
            name="humas",
        )
        started = time.perf_counter()
        first = ws.sync_feeds()
        drafting = time.perf_counter() - started
        assert first.total == args.items, first

        def polls(validators: bool) -> tuple[float, int]:
            honour["validators"] = validators
            sent["bytes"] = 0
            times = []
            for _ in range(args.polls):
                started = time.perf_counter()
                done = ws.sync_feeds()
                times.append(time.perf_counter() - started)
                assert done.total == 0 and not done.failed, done
            return statistics.median(times), sent["bytes"] // args.polls

        unchanged, unchanged_bytes = polls(True)
        full, full_bytes = polls(False)
        ws.close()
    server.shutdown()
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, load average {load:.1f}")
    print(f"feed of {args.items} items, {len(body):,} bytes; {args.polls} polls of each kind\n")
    print("| poll | median s | bytes sent per poll |")
    print("|---|---:|---:|")
    print(f"| unchanged, with ETag (304) | {unchanged:.4f} | {unchanged_bytes:,} |")
    print(f"| baseline: no validators (200, all seen) | {full:.4f} | {full_bytes:,} |")
    print(f"| first sync: {args.items} drafts made | {drafting:.3f} | {len(body):,} |")
    print(f"\n304 poll / full poll: {unchanged / full:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
