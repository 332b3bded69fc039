"""Forgetting a citizen against real servers (issue 13, part 6): mastodon-mock, and the
Bluesky PDS + AppView.

A citizen replies to the workspace's post and mentions its account; the workspace syncs
both, answers the reply, forgets the citizen and syncs again. The erased messages do not
come back (the servers still serve them: Mastodon re-reads an overlap of mentions, and
replies to recent posts are read on every sync), the SQLite file and its write-ahead log hold
no byte of the texts, the handle or the Bluesky DID, the audit log says who asked and why
without the handle, and the citizen's next message arrives as usual.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from govsocial import Post
from govsocial.app import Workspace
from govsocial.client import AsyncClient, Client
from govsocial.core.models import Account
from govsocial.scheduling.worker import Worker
from govsocial.testing import eventually, unique_text

pytestmark = pytest.mark.slow

REASON = "Surat permohonan PDP 045/2026"


@pytest.fixture(params=["mastodon", "bluesky"])
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "mastodon":
        yield request.getfixturevalue("mastodon")
        return
    from govsocial_bluesky.localserver import BlueskyLocalServer

    with BlueskyLocalServer(request.getfixturevalue("bluesky_appview")) as local:
        yield local


def env_account(account: Account, prefix: str, monkeypatch: pytest.MonkeyPatch) -> Account:
    references = {}
    for field, secret in account.credentials.items():
        monkeypatch.setenv(f"{prefix}_{field.upper()}", secret.get_secret_value())
        references[field] = f"env:{prefix}_{field.upper()}"
    return Account(**account.model_dump(exclude={"credentials"}), credentials=references)


def parties(server: Any) -> tuple[Account, Account, list[bytes]]:
    """The agency's account, a citizen, and the strings that identify the citizen (to look
    for in the file). Neither is the agency account test_inbox_real.py syncs (the servers
    live for the whole session: a mention of that account here would be a third item there).
    """
    if server.accounts[0].platform == "mastodon":
        name = f"warga{uuid.uuid4().hex[:8]}"
        agency = server.new_account(f"humas{uuid.uuid4().hex[:8]}")
        citizen = server.new_account(name, display_name=f"Warga Rahasia {name}")
        return agency, citizen, [name.encode()]
    agency, citizen = server.accounts[1], server.accounts[0]  # alice is the agency elsewhere
    handle = citizen.handle.lstrip("@")
    did = httpx.get(
        f"{server.server.pds_url}/xrpc/com.atproto.identity.resolveHandle",
        params={"handle": handle},
        timeout=30,
    ).json()["did"]
    return agency, citizen, [handle.encode(), str(did).encode()]


def file_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, after a checkpoint by another connection."""
    other = sqlite3.connect(path)
    try:
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        other.close()
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_a_forgotten_citizen_leaves_no_trace_and_can_still_write(
    server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    author, citizen, identifiers = parties(server)
    platform = author.platform
    path = tmp_path / "ws.db"
    with Workspace.open(path) as ws:
        ws.add_account(
            "humas", env_account(author, f"GS_INBOX_FORGET_{platform.upper()}", monkeypatch)
        )
        job = ws.schedule(
            Post(unique_text("Jadwal posyandu")),
            ["humas"],
            at=datetime.now(UTC) + timedelta(seconds=30),
        )

        async def publish() -> None:
            async with AsyncClient(**ws.core.client_options()) as client:
                await Worker(ws, clock=lambda: time.time() + 31).run_due(client)

        asyncio.run(publish())
        [delivery] = ws.job(job.id).deliveries
        assert delivery.ref is not None, delivery.error

        question = unique_text("Alamat saya Jl. Melati nomor lima")
        mention = f"{server.mention(author)} {unique_text('NIK saya belum terdaftar')}"
        with Client() as client:
            client.reply(delivery.ref.model_copy(update={"account": citizen}), question)
            [sent] = client.publish(Post(mention), [citizen])
            assert sent.ok, sent.error

        def texts() -> set[str]:
            ws.pull_inbox()
            return {i.text for i in ws.inbox(None)}

        eventually(lambda: {question, mention} <= texts(), timeout=40, interval=1.0)
        reply = next(i for i in ws.inbox() if i.text == question)
        ws.reply(reply.id, unique_text("Terima kasih, kami cek"), by="siti")
        secrets = [question.encode(), mention.split(" ", 1)[1].encode(), *identifiers]
        held = file_bytes(path)
        assert all(s in held for s in secrets), "the check sees them while they are kept"

        # the citizen's items: these two, and on a shared server maybe an earlier
        # test's posts by the same account that notify this one
        theirs = len(ws.inbox(None))
        assert theirs >= 2 and all(i.author.lstrip("@") in citizen.handle for i in ws.inbox(None))
        done = ws.forget(citizen.handle, by="dpo", reason=REASON)

        assert (done.items, done.by_platform) == (theirs, {platform: theirs}), done
        assert done.scrubbed
        assert ws.pull_inbox().total == 0, "the erased messages are not synced again"
        assert ws.pull_inbox().total == 0
        assert [i.erased for i in ws.inbox(None)] == [True] * theirs
        answered = ws.inbox_item(reply.id)
        assert answered.status == "answered" and answered.responder == "siti"
        assert answered.response_seconds is not None, "the response time stays"
        held = file_bytes(path)
        for secret in secrets:
            assert secret not in held, secret
            assert secret.lower() not in held.lower(), secret
        [entry] = ws.audit_log(action="forget")
        assert (entry.actor, entry.detail["reason"], entry.detail["items"]) == (
            "dpo",
            REASON,
            theirs,
        )
        log = json.dumps([e.model_dump(mode="json") for e in ws.audit_log()])
        for secret in secrets:
            assert secret.decode() not in log

        later = f"{server.mention(author)} {unique_text('pertanyaan baru')}"
        with Client() as client:
            [again] = client.publish(Post(later), [citizen])
            assert again.ok, again.error
        eventually(lambda: later in texts(), timeout=40, interval=1.0)
        [new] = [i for i in ws.inbox(None) if i.text == later]
        assert not new.erased and not new.clock_skew
        assert ws.forget(citizen.handle, by="dpo", reason=REASON).items >= 1, "once more"
        assert ws.inbox_item(new.id).erased
