"""A Bot API server on this machine: telegram-test-api (npm), for the demo and the tests.

:class:`TelegramTestServer` installs the pinned telegram-test-api 4.2.1 (once, into a cache),
starts it through ``localserver_npm/server.js`` on a free port of 127.0.0.1 and gives two
accounts, each a bot administering a channel that has a linked discussion group. It follows
:class:`govsocial.adapters.platform.LocalServer`.

telegram-test-api itself serves ``sendMessage``, ``deleteMessage`` and ``getMe``, keeps
what bots sent, and takes messages "from users" (``POST /sendMessage``) that bots then
receive as updates. The launcher answers ``getUpdates`` as the Bot API does (an update is
given again until a later call's ``offset`` confirms it; the package's own ignores
``offset`` and confirms each update on its first read), and adds what the package lacks (a
401 for unknown tokens, ``sendPhoto``, ``sendVideo``, ``sendMediaGroup``, ``deleteMessages``,
``getChatMemberCount``, ``getChatMember`` for the bot itself, and a 404 "Not Found" for a
retired method).
Telegram's own behaviour that no test server reproduces, copying a channel post into the
discussion group (``is_automatic_forward``), is done here by :meth:`comment`, with the
message shapes of https://core.telegram.org/bots/api#message.

Everything here reads the server directly with httpx, never through the adapter.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from govsocial.adapters import Account, ConfigurationError, PostRef
from govsocial.testing.npm import install
from govsocial_telegram.text import utf16_length

#: The folder holding package.json, package-lock.json and server.js.
PACKAGE_DIR = Path(__file__).resolve().parent / "localserver_npm"

__all__ = ["TelegramTestServer"]

_HOST = "127.0.0.1"
_MENTION = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
#: The service account Telegram shows as the sender of automatic forwards.
_TELEGRAM_SERVICE = {"id": 777000, "is_bot": False, "first_name": "Telegram"}


class TelegramTestServer:
    """telegram-test-api with two channel accounts, as a context manager.

    :param channels: the channel usernames; the first publishes, the others comment and
        mention. Each gets a bot, a channel ``-100...`` and a discussion group.
    """

    def __init__(
        self,
        channels: Sequence[str] = ("humas_kota", "warga_kota"),
        *,
        startup_timeout: float = 30.0,
    ) -> None:
        if len(channels) < 2:
            raise ValueError("a local server needs at least two accounts")
        self.channels = tuple(channels)
        self.startup_timeout = startup_timeout
        self.accounts: list[Account] = []
        self.base_url = ""
        self._groups: dict[str, dict[str, Any]] = {}  # channel chat id -> discussion group
        self._channel_chats: dict[str, dict[str, Any]] = {}
        self._forwards: dict[tuple[str, str], dict[str, Any]] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._http: httpx.Client | None = None
        self._users = 5000

    def __repr__(self) -> str:
        return (
            f"<TelegramTestServer {self.base_url or 'not started'} accounts={len(self.accounts)}>"
        )

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> TelegramTestServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> TelegramTestServer:
        """Install (once) and start the server, and make the accounts."""
        if self._process is not None:
            return self
        node = shutil.which("node")
        if node is None:
            raise ConfigurationError(
                "node is not on PATH, so no local Telegram server can start",
                hint="install Node.js 20 or newer, with npm",
            )
        modules = install(PACKAGE_DIR, "telegram-test-api")
        bots, chats = self._plan()
        self._workdir = tempfile.TemporaryDirectory(prefix="govsocial-telegram-")
        atexit.register(self.stop)
        try:
            self._spawn(node, modules, {"host": _HOST, "bots": bots, "chats": chats})
            self._http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(10.0))
            for bot, name in zip(bots, self.channels, strict=True):
                chat = self._channel_chats[bot["chat_id"]]
                self.accounts.append(
                    Account(
                        platform="telegram",
                        handle=f"@{name}",
                        base_url=self.base_url,
                        credentials={"bot_token": bot["token"], "chat_id": bot["chat_id"]},
                        name=chat["title"],
                    )
                )
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server: terminate, then kill if it does not go within 3 s."""
        if self._http is not None:
            self._http.close()
            self._http = None
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
        atexit.unregister(self.stop)

    def _plan(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        bots: list[dict[str, Any]] = []
        chats: list[dict[str, Any]] = []
        for index, name in enumerate(self.channels):
            bot_id = 700000 + index
            channel = {
                "id": -1001000000000 - index,
                "type": "channel",
                "title": name.replace("_", " ").title(),
                "username": name,
                "members": 0,
            }
            group = {
                "id": -1002000000000 - index,
                "type": "supergroup",
                "title": f"Diskusi {channel['title']}",
                "members": 0,
            }
            chats += [channel, group]
            self._channel_chats[str(channel["id"])] = channel
            self._groups[str(channel["id"])] = group
            bots.append(
                {
                    "token": f"{bot_id}:{secrets.token_urlsafe(26)}",
                    "id": bot_id,
                    "username": f"{name}_bot",
                    "first_name": channel["title"],
                    "chat_id": str(channel["id"]),
                }
            )
        return bots, chats

    def _spawn(self, node: str, modules: Path, config: dict[str, Any]) -> None:
        assert self._workdir is not None
        log = open(Path(self._workdir.name) / "server.log", "ab")  # noqa: SIM115 - the child owns it
        with log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [node, str(PACKAGE_DIR / "server.js"), str(modules)],
                cwd=self._workdir.name,
                env={**os.environ, "GOVSOCIAL_TELEGRAM_CONFIG": json.dumps(config)},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        assert self._process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self._process.poll() is not None:
                raise RuntimeError(f"telegram-test-api did not start:\n{self._log_tail()}")
            ready, _, _ = select.select([self._process.stdout], [], [], left)
            if ready:
                chunk = os.read(self._process.stdout.fileno(), 256)
                if not chunk:
                    raise RuntimeError(f"telegram-test-api exited:\n{self._log_tail()}")
                line += chunk
        port = int(json.loads(line.decode().splitlines()[0])["port"])
        self.base_url = f"http://{_HOST}:{port}"

    def _wait_until_ready(self) -> None:
        account = self.accounts[0]
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if self._client().post(f"/bot{_token(account)}/getMe").status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"telegram-test-api did not answer:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        if self._workdir is None:
            return ""
        try:
            return (Path(self._workdir.name) / "server.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    # -- the LocalServer protocol -----------------------------------------------------------

    def mention(self, account: Account) -> str:
        """The text that mentions ``account``'s channel: ``@username``."""
        return account.handle if account.handle.startswith("@") else "@" + account.handle

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The message as the server keeps it for the bot of ``ref.account``; None when gone."""
        chat = ref.extra.get("chat_id") or ref.account.credential("chat_id")
        for item in self.history(ref.account):
            message = item.get("message") or {}
            stored_chat = message.get("chat_id", (message.get("chat") or {}).get("id"))
            if str(item.get("messageId")) == ref.id and str(stored_chat) == chat:
                return {**message, "message_id": item["messageId"]}
        return None

    def stored_text(self, stored: dict[str, Any]) -> str:
        """The message's text, or its caption."""
        return str(stored.get("text") or stored.get("caption") or "")

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        """Always empty: Telegram has no alt text for photos."""
        return []

    def stored_media_kinds(self, stored: dict[str, Any]) -> list[str]:
        """``image`` for a photo message, ``video`` for a video message."""
        return ["image"] * bool(stored.get("photo")) + ["video"] * bool(stored.get("video"))

    def like(self, ref: PostRef, by: Account) -> None:
        """Nothing to do: reactions are not part of telegram-test-api, and the adapter reads
        no reaction counts (the Bot API gives a channel's bot no post metrics to ask for)."""

    # -- more than the protocol ---------------------------------------------------------------

    def history(self, account: Account) -> list[dict[str, Any]]:
        """Everything the server keeps for ``account``'s bot (sent by it or to it), oldest first."""
        response = self._client().post("/getUpdatesHistory", json={"token": _token(account)})
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["result"]
        return items

    def pending_updates(self, account: Account) -> list[dict[str, Any]]:
        """The updates waiting for ``account``'s bot (``getUpdates`` without an offset,
        which confirms nothing), oldest first, at most 100."""
        response = self._client().post(f"/bot{_token(account)}/getUpdates", json={})
        response.raise_for_status()
        updates: list[dict[str, Any]] = response.json()["result"]
        return updates

    def confirm_updates(self, account: Account) -> None:
        """Confirm every update waiting for ``account``'s bot, as a reader that kept them
        would (``getUpdates`` with an offset past the last one)."""
        while updates := self.pending_updates(account):
            last = max(int(update["update_id"]) for update in updates)
            response = self._client().post(
                f"/bot{_token(account)}/getUpdates", json={"offset": last + 1, "limit": 1}
            )
            response.raise_for_status()

    def channel_id(self, account: Account) -> int:
        """The numeric id of ``account``'s channel."""
        return int(account.credential("chat_id"))

    def discussion_group(self, account: Account) -> dict[str, Any]:
        """The Chat object of the discussion group linked to ``account``'s channel."""
        return dict(self._groups[account.credential("chat_id")])

    def set_members(self, account: Account, count: int) -> None:
        """Set the member count ``getChatMemberCount`` answers for ``account``'s channel."""
        response = self._client().post(
            "/_govsocial/members", json={"chat_id": account.credential("chat_id"), "count": count}
        )
        response.raise_for_status()

    def set_rights(self, account: Account, rights: dict[str, Any]) -> None:
        """Set what ``getChatMember`` answers for ``account``'s bot in its channel: fields of
        ChatMemberAdministrator (``{"can_delete_messages": False}``), or ``{"status":
        "member"}``; ``{}`` restores an administrator who may post and delete."""
        answer = self._client().post(
            "/_govsocial/rights",
            json={"chat_id": account.credential("chat_id"), "rights": rights},
        )
        answer.raise_for_status()

    def retire_method(self, method: str, *, retired: bool = True) -> None:
        """Make the server answer ``method`` with 404 "Not Found", as the Bot API answers a
        method it does not know (a self-hosted server older than the method)."""
        answer = self._client().post(
            "/_govsocial/retire", json={"method": method, "retired": retired}
        )
        answer.raise_for_status()

    def new_user(self, first_name: str = "Warga") -> dict[str, Any]:
        """A User object for someone writing in a group."""
        self._users += 1
        return {
            "id": self._users,
            "is_bot": False,
            "first_name": first_name,
            "username": f"{first_name.lower()}_{self._users}",
        }

    def comment(
        self,
        ref: PostRef,
        text: str,
        *,
        user: dict[str, Any] | None = None,
        reply_to: int | None = None,
    ) -> PostRef:
        """A user comments on the channel post ``ref`` in the linked discussion group.

        The first comment makes the group's automatic copy of the post (as Telegram does when
        the post is published). ``reply_to`` answers another comment of the thread instead.
        Returns the comment, as the post's account (its bot) sees it.
        """
        account = ref.account
        group = self.discussion_group(account)
        copy = self._automatic_copy(ref)
        parent = copy if reply_to is None else self._group_message(account, reply_to)
        message = self.user_message(
            account,
            text,
            user=user,
            chat=group,
            reply_to_message=parent,
            message_thread_id=copy["message_id"],
        )
        return PostRef(
            platform="telegram",
            account=account,
            id=str(message["message_id"]),
            extra={"chat_id": str(group["id"])},
        )

    def user_message(
        self,
        account: Account,
        text: str,
        *,
        user: dict[str, Any] | None = None,
        chat: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A user writes ``text`` in ``chat`` (default: the discussion group), seen by
        ``account``'s bot; ``@username`` words become mention entities. Returns the message."""
        chat = chat or self.discussion_group(account)
        entities = [
            {
                "type": "mention",
                "offset": utf16_length(text[: m.start()]),
                "length": utf16_length(m.group()),
            }
            for m in _MENTION.finditer(text)
        ]
        message: dict[str, Any] = {
            "from": user or self.new_user(),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
            **fields,
        }
        if entities:
            message["entities"] = entities
        return self._deliver(account, message)

    def _automatic_copy(self, ref: PostRef) -> dict[str, Any]:
        key = (ref.account.key, ref.id)
        copy = self._forwards.get(key)
        if copy is not None:
            return copy
        stored = self.stored_post(ref)
        if stored is None:
            raise ValueError(f"the server has no post {ref.id} to comment on")
        channel = dict(self._channel_chats[ref.account.credential("chat_id")])
        channel.pop("members", None)
        message = {
            "from": _TELEGRAM_SERVICE,
            "sender_chat": channel,
            "chat": self.discussion_group(ref.account),
            "date": int(time.time()),
            "is_automatic_forward": True,
            "forward_origin": {
                "type": "channel",
                "chat": channel,
                "message_id": int(ref.id),
                "date": int(time.time()),
            },
            "text": self.stored_text(stored),
        }
        copy = self._forwards[key] = self._deliver(ref.account, message)
        return copy

    def _group_message(self, account: Account, message_id: int) -> dict[str, Any]:
        for item in self.history(account):
            if item.get("messageId") == message_id and "chat" in (item.get("message") or {}):
                message: dict[str, Any] = {**item["message"], "message_id": message_id}
                message.pop("botToken", None)
                message.pop("reply_to_message", None)
                return message
        raise ValueError(f"no message {message_id} in the discussion group")

    def _deliver(self, account: Account, message: dict[str, Any]) -> dict[str, Any]:
        """Hand ``message`` to telegram-test-api as a user message for ``account``'s bot."""
        marker = secrets.token_hex(8)
        response = self._client().post(
            "/sendMessage", json={**message, "botToken": _token(account), "govsocial": marker}
        )
        response.raise_for_status()
        for item in reversed(self.history(account)):
            if (item.get("message") or {}).get("govsocial") == marker:
                delivered: dict[str, Any] = {**message, "message_id": item["messageId"]}
                return delivered
        raise RuntimeError("telegram-test-api did not keep the message")

    def _client(self) -> httpx.Client:
        if self._http is None:
            raise RuntimeError("the server is not running: use it as a context manager")
        return self._http


def _token(account: Account) -> str:
    return account.credential("bot_token")


def _die_with_parent() -> None:
    """In the child, before exec: have Linux kill it when the parent goes away."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
