"""What the bot has received through ``getUpdates``, kept so replies and mentions can be read.

The Bot API has no "replies to this post" or "mentions of this channel" call. A bot sees
messages only as updates (https://core.telegram.org/bots/api#getupdates), and an update is
gone once confirmed: a ``getUpdates`` with an ``offset`` higher than its ``update_id``
confirms it, and it is never given again; unconfirmed ones are kept by Telegram for at most
24 hours. So the adapter reads updates into an :class:`Inbox` (one per bot per process,
shared by every account using that bot) and answers ``fetch_activity``, ``fetch_replies``,
``fetch_mentions`` and ``search`` from what the inbox holds.

Confirming is what loses messages, so it follows what the workspace inbox has stored (the
cursor ``fetch_activity`` returns, which the inbox stores in the transaction that stores the
items and gives back on the next call): :meth:`Inbox.confirmable` is the lowest offset every
account of the bot known to the process has stored, and nothing is confirmed while one of
them has not had its stored offset come back in this process. See
``docs/platforms/telegram.md`` for the guarantee.

Comments on a channel post live in the channel's linked discussion group: Telegram copies
each post there as a message with ``is_automatic_forward`` (its ``forward_origin`` names the
channel and the post's id), and a comment is a message in the group replying to that copy
(https://core.telegram.org/bots/api#message). The functions below find them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from govsocial_telegram.text import utf16_slice

__all__ = [
    "KEPT_FOR",
    "MAX_OFFSET",
    "PAGE",
    "UPDATE_TYPES",
    "Inbox",
    "account_key",
    "chat_key",
    "cursor_text",
    "inbox_for",
    "mentions_of",
    "parse_cursor",
    "replies_to",
]

#: The update kinds asked for: messages (comments, mentions) and posts, new or edited.
UPDATE_TYPES: tuple[str, ...] = ("message", "edited_message", "channel_post", "edited_channel_post")

MessageKey = tuple[str, int]

#: Seconds Telegram keeps an update nobody confirmed ("not kept longer than 24 hours",
#: https://core.telegram.org/bots/api#getting-updates); an account of the bot that has not
#: synced for this long stops holding the others' confirmations back.
KEPT_FOR = 24 * 3600
#: Updates one getUpdates answers at most (its ``limit``, 1-100).
PAGE = 100
#: The highest offset a cursor may hold: an ``update_id`` is a Bot API Integer without the
#: "more than 32 significant bits" note some ids carry, so it is below 2**31.
MAX_OFFSET = 2**31
#: Accounts (of one bot) a cursor names at most; more are left out, the least recent first.
MAX_PEERS = 64
#: The longest cursor read; a longer one is garbage.
MAX_CURSOR = 8192
_PEER = re.compile(r"^[0-9a-f]{16}$")


class Inbox:
    """Messages one bot received, by (chat id, message id), and what may be confirmed.

    ``read_to`` is one past the highest ``update_id`` read in this process (None: nothing
    read yet). ``stored`` is, per account of the bot (a digest, :func:`account_key`), the
    offset its workspace inbox has stored, as its cursor came back; ``peers`` is when each
    account known to share the bot last synced (epoch seconds), from this process and from
    the cursors that came back. At most ``capacity`` messages are kept; the oldest go first.
    """

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self.read_to: int | None = None
        self.stored: dict[str, int] = {}
        self.peers: dict[str, float] = {}
        self._messages: OrderedDict[MessageKey, dict[str, Any]] = OrderedDict()
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def __len__(self) -> int:
        return len(self._messages)

    def lock(self) -> asyncio.Lock:
        """A lock (per event loop) so that one reader at a time confirms updates."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def learn(
        self, account: str, stored: int | None, peers: Mapping[str, float], now: float
    ) -> None:
        """``account`` syncs now; its inbox has stored up to ``stored`` (None: unknown, so
        nothing is confirmed until it is known) and its cursor named ``peers``."""
        for key, seen in peers.items():
            self.peers[key] = max(self.peers.get(key, 0.0), min(seen, now))
        self.peers[account] = now
        if stored is None:
            self.stored.pop(account, None)
        else:
            self.stored[account] = stored
        self._expire(now)

    def known_peers(self, now: float) -> dict[str, int]:
        """The accounts known to share the bot and when each last synced (whole seconds),
        the most recent :data:`MAX_PEERS`, for a cursor."""
        self._expire(now)
        return {key: int(seen) for key, seen in self.peers.items()}

    def confirmable(self, now: float) -> int | None:
        """The ``offset`` a read may send: the lowest offset stored by every account of the
        bot known here, never above what this process has read; None (confirm nothing)
        when nothing was read yet, no account is known, or one of them has not had its
        stored offset come back in this process."""
        self._expire(now)
        if self.read_to is None or not self.peers:
            return None
        offsets = [self.stored.get(key) for key in self.peers]
        if any(offset is None for offset in offsets):
            return None
        return min(min(o for o in offsets if o is not None), self.read_to)

    def _expire(self, now: float) -> None:
        recent = sorted(self.peers.items(), key=lambda item: item[1], reverse=True)
        self.peers = {k: seen for k, seen in recent[:MAX_PEERS] if seen >= now - KEPT_FOR}
        for key in [k for k in self.stored if k not in self.peers]:
            del self.stored[key]

    def add_updates(self, updates: Iterable[Any]) -> int:
        """Keep the messages of ``updates``; move ``read_to`` past them; return how many
        came."""
        count = 0
        for update in updates:
            if not isinstance(update, dict):
                continue
            update_id = update.get("update_id")
            if isinstance(update_id, int) and not isinstance(update_id, bool):
                self.read_to = max(self.read_to or 0, update_id + 1)
            for kind in UPDATE_TYPES:
                message = update.get(kind)
                if isinstance(message, dict):
                    self.add(message)
            count += 1
        return count

    def add(self, message: dict[str, Any]) -> None:
        """Keep ``message`` (an edited one replaces the earlier version)."""
        key = _key(message)
        if key is None:
            return
        self._messages[key] = message
        self._messages.move_to_end(key)
        while len(self._messages) > self.capacity:
            self._messages.popitem(last=False)

    def messages(self) -> list[dict[str, Any]]:
        """Every message kept, oldest first."""
        return sorted(self._messages.values(), key=_order)


def account_key(key: str, chat_id: str) -> str:
    """How a cursor names an account of the bot: a digest of its key and chat id."""
    return hashlib.sha256(f"{key}\n{chat_id}".encode()).hexdigest()[:16]


def parse_cursor(text: str | None) -> tuple[int | None, dict[str, float]]:
    """The stored offset and the peers of a cursor :func:`cursor_text` wrote; anything
    else (not JSON, too long or deep, wrong types, an offset out of 1..2**31) reads as
    no offset and no peers: nothing is confirmed on its word."""
    if not isinstance(text, str) or not text or len(text) > MAX_CURSOR:
        return None, {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, {}
    if not isinstance(data, dict):
        return None, {}
    offset = data.get("offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 < offset <= MAX_OFFSET:
        offset = None
    peers: dict[str, float] = {}
    listed = data.get("peers")
    if isinstance(listed, dict):
        for key, seen in list(listed.items())[:MAX_PEERS]:
            if (
                isinstance(key, str)
                and _PEER.match(key)
                and isinstance(seen, int | float)
                and not isinstance(seen, bool)
                and math.isfinite(seen)
                and seen > 0
            ):
                peers[key] = float(seen)
    return offset, peers


def cursor_text(offset: int | None, peers: Mapping[str, int]) -> str:
    """The cursor ``fetch_activity`` returns: the offset this account's items are read to,
    and the accounts known to share the bot (with when each last synced)."""
    data: dict[str, Any] = {"v": 1, "peers": dict(peers)}
    if offset is not None:
        data["offset"] = offset
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


_INBOXES: dict[str, Inbox] = {}


def inbox_for(base_url: str, bot_token: str) -> Inbox:
    """The process-wide inbox of one bot (keyed by a digest: the token itself is not kept)."""
    digest = hashlib.sha256(f"{base_url}\n{bot_token}".encode()).hexdigest()
    inbox = _INBOXES.get(digest)
    if inbox is None:
        inbox = _INBOXES[digest] = Inbox()
    return inbox


def clear_inboxes() -> None:
    """Forget every inbox (for tests)."""
    _INBOXES.clear()


# -- reading messages -------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def chat_key(chat: dict[str, Any]) -> set[str]:
    """The ways a chat object can be named: its numeric id and ``@username`` (lower case)."""
    names: set[str] = set()
    chat_id = _int(chat.get("id"))
    if chat_id is not None:
        names.add(str(chat_id))
    username = chat.get("username")
    if isinstance(username, str) and username:
        names.add("@" + username.lower())
    return names


def _key(message: dict[str, Any]) -> MessageKey | None:
    message_id = _int(message.get("message_id"))
    chat_id = _int(_dict(message.get("chat")).get("id"))
    if message_id is None or chat_id is None:
        return None
    return (str(chat_id), message_id)


def _order(message: dict[str, Any]) -> tuple[int, int]:
    return (_int(message.get("date")) or 0, _int(message.get("message_id")) or 0)


def _origin(message: dict[str, Any]) -> tuple[set[str], int] | None:
    """The channel and post a forwarded message came from (``forward_origin``, or the
    ``forward_from_chat``/``forward_from_message_id`` pair of older API versions)."""
    origin = _dict(message.get("forward_origin"))
    if origin.get("type") == "channel":
        post_id = _int(origin.get("message_id"))
        if post_id is not None:
            return chat_key(_dict(origin.get("chat"))), post_id
    legacy_id = _int(message.get("forward_from_message_id"))
    if legacy_id is not None:
        return chat_key(_dict(message.get("forward_from_chat"))), legacy_id
    return None


def _copies_post(message: dict[str, Any], channel: set[str], post_ids: set[int]) -> bool:
    """Whether ``message`` is the discussion group's automatic copy of one of the posts."""
    if not message.get("is_automatic_forward"):
        return False
    origin = _origin(message)
    return origin is not None and bool(origin[0] & channel) and origin[1] in post_ids


def replies_to(
    messages: list[dict[str, Any]], channel: set[str], post_ids: set[int]
) -> list[tuple[dict[str, Any], int]]:
    """The messages answering the channel post ``post_ids`` (a post, or one album), oldest first.

    ``channel`` names the channel (:func:`chat_key`). Returns (message, id it replies to)
    pairs: comments in the discussion group (replying to the post's automatic copy, or to
    another comment of the thread), and the channel's own posts replying to the post.
    A comment on the post itself is reported as replying to the post's own id.
    """
    roots: set[MessageKey] = set()  # the post's copies in discussion groups
    for message in messages:
        chat = str(_int(_dict(message.get("chat")).get("id")))
        if _copies_post(message, channel, post_ids):
            roots.add((chat, _int(message.get("message_id")) or 0))
        parent = _dict(message.get("reply_to_message"))
        if parent and _copies_post(parent, channel, post_ids):
            roots.add((chat, _int(parent.get("message_id")) or 0))
    first_post = min(post_ids)
    thread: dict[MessageKey, int] = dict.fromkeys(roots, first_post)
    found: dict[MessageKey, tuple[dict[str, Any], int]] = {}
    changed = True
    while changed:  # a reply may come before its parent in a list sorted by date
        changed = False
        for message in messages:
            key = _key(message)
            if key is None or key in found or key in roots or message.get("is_automatic_forward"):
                continue
            parent = _dict(message.get("reply_to_message"))
            parent_id = _int(parent.get("message_id"))
            answers: int | None = None
            if parent_id is not None and (key[0], parent_id) in thread:
                answers = thread[(key[0], parent_id)] if (key[0], parent_id) in roots else parent_id
            elif chat_key(_dict(message.get("chat"))) & channel and parent_id in post_ids:
                answers = parent_id  # the channel continuing its own post
            else:
                thread_id = _int(message.get("message_thread_id"))
                if thread_id is not None and (key[0], thread_id) in roots:
                    answers = first_post
            if answers is not None:
                found[key] = (message, answers)
                thread[key] = key[1]
                changed = True
    return sorted(found.values(), key=lambda pair: _order(pair[0]))


def message_text(message: dict[str, Any]) -> tuple[str, list[Any]]:
    """A message's text and entities, or its caption and caption entities."""
    text = message.get("text")
    if isinstance(text, str):
        entities = message.get("entities")
        return text, entities if isinstance(entities, list) else []
    caption = message.get("caption")
    if isinstance(caption, str):
        entities = message.get("caption_entities")
        return caption, entities if isinstance(entities, list) else []
    return "", []


def mentions_of(
    messages: list[dict[str, Any]], names: set[str], exclude_chats: set[str]
) -> list[dict[str, Any]]:
    """Messages with a ``mention`` entity naming one of ``names`` (``@username``, lower case).

    Messages in ``exclude_chats`` (the channel itself) are left out.
    """
    found = []
    for message in messages:
        if chat_key(_dict(message.get("chat"))) & exclude_chats:
            continue
        text, entities = message_text(message)
        for entity in entities:
            entity = _dict(entity)
            offset, length = _int(entity.get("offset")), _int(entity.get("length"))
            if entity.get("type") != "mention" or offset is None or length is None:
                continue
            if utf16_slice(text, offset, length).lower() in names:
                found.append(message)
                break
    return sorted(found, key=_order)
