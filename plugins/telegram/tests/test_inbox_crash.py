"""The workspace inbox on Telegram survives a process killed between reading updates and
storing them (telegram-test-api, whose getUpdates the launcher answers with the Bot API's
offset semantics: an update is given again until a later call's offset confirms it).

Each sync runs in a real subprocess; the one to kill blocks where the inbox would store what
it read (a hook the test gives the child), is killed with SIGKILL there, and a new process
syncs. Every citizen message must then be in the workspace inbox exactly once: Telegram gives
an unconfirmed update again, and the adapter confirms only what the inbox stored (the cursor
it keeps in the transaction that stores the items). Hostile cursors read as no offset.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from govsocial import Account
from govsocial.adapters import AdapterContext, Http
from govsocial.app import Workspace
from govsocial.testing import unique_text
from govsocial_telegram import Telegram
from govsocial_telegram.localserver import TelegramTestServer
from govsocial_telegram.updates import MAX_OFFSET, account_key, cursor_text, inbox_for

pytestmark = pytest.mark.slow

#: The child: open the workspace, run the syncs given (a JSON list: a list of account names,
#: or null for every account), and block forever where the inbox would store the items of an
#: account named in GS_BLOCK, after saying so in GS_SIGNALS.
CHILD = """
import json, os, sys, time
from pathlib import Path
from govsocial.app import Workspace
from govsocial.inbox import items

block = set(filter(None, os.environ.get("GS_BLOCK", "").split(",")))
signals = Path(os.environ["GS_SIGNALS"])
original = items.Inbox._store_items

def store(self, name, *args, **kwargs):
    if name in block:
        (signals / (name + ".read")).write_text("read, not stored")
        while True:
            time.sleep(3600)
    return original(self, name, *args, **kwargs)

items.Inbox._store_items = store
with Workspace.open(sys.argv[1]) as ws:
    for accounts in json.loads(sys.argv[2]):
        result = ws.pull_inbox(accounts)
        print(json.dumps({"new": result.new, "failed": result.failed}), flush=True)
"""


@pytest.fixture
def server(telegram_server: TelegramTestServer) -> TelegramTestServer:
    return telegram_server


def env_account(account: Account, prefix: str, monkeypatch: pytest.MonkeyPatch) -> Account:
    """``account`` with its credentials as ``env:`` references (the children inherit them)."""
    references = {}
    for name, secret in account.credentials.items():
        monkeypatch.setenv(f"{prefix}_{name.upper()}", secret.get_secret_value())
        references[name] = f"env:{prefix}_{name.upper()}"
    return Account(**account.model_dump(exclude={"credentials"}), credentials=references)


def sharing_the_bot(server: TelegramTestServer) -> Account:
    """The second channel (warga_kota), published to by the first account's bot."""
    humas, warga = server.accounts[:2]
    return Account(
        platform="telegram",
        handle=warga.handle,
        base_url=server.base_url,
        credentials={
            "bot_token": humas.credential("bot_token"),
            "chat_id": warga.credential("chat_id"),
        },
        name=warga.name,
    )


class Children:
    """Runs sync processes; kills any still running at the end (by its pid)."""

    def __init__(self, workspace: Path, signals: Path) -> None:
        self.workspace = workspace
        self.signals = signals
        self.running: list[subprocess.Popen[str]] = []

    def start(self, syncs: list[list[str] | None], block: str = "") -> subprocess.Popen[str]:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(self.workspace), json.dumps(syncs)],
            env={**os.environ, "GS_BLOCK": block, "GS_SIGNALS": str(self.signals)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.running.append(child)
        return child

    def sync(self, syncs: list[list[str] | None]) -> list[dict[str, Any]]:
        """Run ``syncs`` in a new process to the end; what each sync said."""
        child = self.start(syncs)
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        said = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        # a full page is reported (more are waiting); nothing else may fail
        assert all("updates waiting" in f for s in said for f in s["failed"].values()), said
        return said

    def kill_while_storing(self, syncs: list[list[str] | None], account: str) -> None:
        """Run ``syncs`` in a new process and kill it (SIGKILL) once it has read what
        ``account`` has and is about to store it."""
        child = self.start(syncs, block=account)
        signal_file = self.signals / f"{account}.read"
        deadline = time.monotonic() + 300  # a guard against hanging, not a timed assertion
        while not signal_file.exists():
            if child.poll() is not None:
                raise AssertionError(f"the sync ended before storing: {child.communicate()}")
            if time.monotonic() > deadline:
                raise AssertionError("the sync never came to store")
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
        signal_file.unlink()

    def close(self) -> None:
        for child in self.running:
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
                child.wait(30)
            for stream in (child.stdout, child.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture
def children(tmp_path: Path) -> Iterator[Children]:
    signals = tmp_path / "signals"
    signals.mkdir()
    runner = Children(tmp_path / "ws.db", signals)
    try:
        yield runner
    finally:
        runner.close()


def texts_of(ws: Workspace, account: str) -> Counter[str]:
    return Counter(item.text for item in ws.conversations.items(None, account=account))


def citizens_write(server: TelegramTestServer, bot: Account, mention: str, count: int) -> set[str]:
    """``count`` citizens mention ``mention`` in the discussion group of ``bot``'s channel."""
    texts = {f"{mention} {unique_text('mohon info')} {n}" for n in range(count)}
    for text in sorted(texts):
        server.user_message(bot, text)
    return texts


def test_a_process_killed_before_the_inbox_stored_loses_no_message(
    server: TelegramTestServer, children: Children, monkeypatch: pytest.MonkeyPatch
) -> None:
    """150 citizen messages (more than one getUpdates page); the first sync is killed with
    SIGKILL after reading, before storing. New processes then bring every message exactly
    once, a page per sync, and at the end Telegram holds nothing unconfirmed."""
    humas = server.accounts[0]
    with Workspace.open(children.workspace) as ws:
        ws.add_account("humas", env_account(humas, "GOVSOCIAL_CRED_TGCRASH1", monkeypatch))
    sent = citizens_write(server, humas, "@humas_kota", 150)

    children.kill_while_storing([None], "humas")
    with Workspace.open(children.workspace) as ws:
        assert texts_of(ws, "humas") == Counter()
    assert len(server.pending_updates(humas)) == 100  # nothing was confirmed

    said = children.sync([None])  # the first page again
    assert said[0]["new"] == {"humas": 100}
    assert "more than 100 updates waiting" in said[0]["failed"]["humas"]
    said = children.sync([None])  # confirms the stored page, reads the rest
    assert said[0]["new"] == {"humas": 50}
    children.sync([None])
    with Workspace.open(children.workspace) as ws:
        assert texts_of(ws, "humas") == Counter(sent)  # each once
    assert server.pending_updates(humas) == []  # all stored, so all confirmed


def test_two_accounts_of_one_bot_lose_nothing_when_one_is_killed_storing(
    server: TelegramTestServer, children: Children, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two channels published to by one bot. A process syncs the first account (storing)
    and is killed while storing the second's: the first's read must not have confirmed the
    second's messages. The next processes bring every message of both, each once."""
    humas = server.accounts[0]
    warga = sharing_the_bot(server)
    with Workspace.open(children.workspace) as ws:
        ws.add_account("humas", env_account(humas, "GOVSOCIAL_CRED_TGCRASH2A", monkeypatch))
        ws.add_account("warga", env_account(warga, "GOVSOCIAL_CRED_TGCRASH2B", monkeypatch))
    for_humas = citizens_write(server, humas, "@humas_kota", 3)
    for_warga = citizens_write(server, humas, "@warga_kota", 3)
    children.sync([None])
    with Workspace.open(children.workspace) as ws:
        assert texts_of(ws, "humas") == Counter(for_humas)
        assert texts_of(ws, "warga") == Counter(for_warga)
        with ws.core.store.transaction() as cur:
            cursors = [ws.core.store.inbox.cursor(cur, n, "activity") for n in ("humas", "warga")]
    keys = {account_key(a.key, a.credential("chat_id")) for a in (humas, warga)}
    assert all(set(json.loads(c or "{}")["peers"]) == keys for c in cursors), cursors

    for_humas |= citizens_write(server, humas, "@humas_kota", 3)
    for_warga |= citizens_write(server, humas, "@warga_kota", 3)
    # humas syncs and stores; then warga reads and is killed before storing
    children.kill_while_storing([["humas"], ["warga"]], "warga")
    with Workspace.open(children.workspace) as ws:
        assert texts_of(ws, "humas") == Counter(for_humas)
        assert len(texts_of(ws, "warga")) == 3

    for_humas |= citizens_write(server, humas, "@humas_kota", 2)
    for_warga |= citizens_write(server, humas, "@warga_kota", 2)
    children.sync([["humas"]])  # one account alone first: it must not confirm warga's
    children.sync([None])
    children.sync([None])
    with Workspace.open(children.workspace) as ws:
        assert texts_of(ws, "humas") == Counter(for_humas)
        assert texts_of(ws, "warga") == Counter(for_warga)
    children.sync([None])
    assert server.pending_updates(humas) == []  # both stored everything: all confirmed


HOSTILE = [
    "not json",
    "",
    "null",
    "[]",
    '"offset"',
    '{"offset": -5}',
    '{"offset": 0}',
    '{"offset": true}',
    '{"offset": 1.5}',
    '{"offset": "12"}',
    '{"offset": null}',
    '{"offset": 99999999999999999999999999999}',
    f'{{"offset": {MAX_OFFSET + 1}}}',
    '{"offset": 1' + "0" * 5000 + "}",
    "[" * 100_000 + "]" * 100_000,  # too long
    '{"offset": ' + "[" * 4000 + "]" * 4000 + "}",  # too deep for the JSON parser
    '{"peers": {"zz": 1, "0123456789abcdef": "x", "fedcba9876543210": -1}}',
    '{"peers": ' + json.dumps({f"{n:016x}": 1e308 for n in range(200)}) + "}",
    '{"offset": 5, "peers": [1, 2]}',
    "\x00\ud800",
]


@pytest.mark.anyio
@pytest.mark.parametrize("cursor", HOSTILE, ids=range(len(HOSTILE)))
async def test_a_hostile_cursor_confirms_nothing(server: TelegramTestServer, cursor: str) -> None:
    """A cursor that is not one the adapter wrote reads as no offset: the read confirms
    nothing (the server still holds the update), and the next cursor is a sound one."""
    humas = server.accounts[0]
    text = f"@humas_kota {unique_text('kursor')}"
    server.user_message(humas, text)
    async with httpx.AsyncClient() as client:
        adapter = Telegram(humas, AdapterContext(http=Http(client)))
        # a process that has read already: the hostile offset must not be taken
        await adapter.fetch_activity(cursor=None)
        activity = await adapter.fetch_activity(cursor=cursor)
    assert text in [i.text for i in activity.interactions]
    assert text in [u["message"].get("text") for u in server.pending_updates(humas)]
    assert activity.cursor is not None
    assert (
        json.loads(activity.cursor)["offset"]
        == inbox_for(humas.base_url or "", humas.credential("bot_token")).read_to
    )


@pytest.mark.anyio
async def test_a_cursor_confirms_no_further_than_its_own_offset(
    server: TelegramTestServer,
) -> None:
    """A sound cursor from an earlier sync confirms what it says was stored, no more: the
    updates after its offset stay at the server until a cursor covering them comes back."""
    humas = server.accounts[0]
    first = f"@humas_kota {unique_text('pertama')}"
    server.user_message(humas, first)
    async with httpx.AsyncClient() as client:
        adapter = Telegram(humas, AdapterContext(http=Http(client)))
        stored = await adapter.fetch_activity()  # as if the inbox stored this
        second = f"@humas_kota {unique_text('kedua')}"
        server.user_message(humas, second)
        await adapter.fetch_activity(cursor=stored.cursor)
        assert [u["message"]["text"] for u in server.pending_updates(humas)] == [second]
        # a cursor with the highest offset it may hold confirms no more than this
        # process has read
        me = account_key(humas.key, humas.credential("chat_id"))
        await adapter.fetch_activity(cursor=cursor_text(MAX_OFFSET, {me: int(time.time())}))
    assert [u["message"]["text"] for u in server.pending_updates(humas)] == []


@pytest.mark.anyio
async def test_searches_and_per_post_reads_confirm_nothing_the_inbox_has_not_stored(
    server: TelegramTestServer,
) -> None:
    """A watch's search, fetch_mentions and fetch_replies read the same updates as the
    inbox: they must not confirm what the inbox read and has not stored yet."""
    humas = server.accounts[0]
    text = f"@humas_kota {unique_text('banjir')}"
    server.user_message(humas, text)
    async with httpx.AsyncClient() as client:
        adapter = Telegram(humas, AdapterContext(http=Http(client)))
        read = await adapter.fetch_activity()  # read; the inbox has not stored it yet
        await adapter.search("banjir")
        assert [m.text for m in await adapter.fetch_mentions()] == [text]
        await adapter.search("banjir")
        assert [u["message"]["text"] for u in server.pending_updates(humas)] == [text]
        await adapter.fetch_activity(cursor=read.cursor)  # stored: its cursor came back
    assert server.pending_updates(humas) == []
