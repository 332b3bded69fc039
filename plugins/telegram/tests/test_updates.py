"""The inbox and the reply/mention matching, on Update and Message shapes of
https://core.telegram.org/bots/api#update and https://core.telegram.org/bots/api#message."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from govsocial_telegram.text import utf16_length, utf16_slice
from govsocial_telegram.updates import (
    KEPT_FOR,
    MAX_PEERS,
    Inbox,
    cursor_text,
    mentions_of,
    parse_cursor,
    replies_to,
)

CHANNEL = {"id": -1001, "type": "channel", "username": "humas_kota"}
GROUP = {"id": -1002, "type": "supergroup"}


def message(message_id: int, date: int, **fields: Any) -> dict[str, Any]:
    return {"message_id": message_id, "chat": GROUP, "date": date, **fields}


COPY = message(
    10,
    100,
    is_automatic_forward=True,
    forward_origin={"type": "channel", "chat": CHANNEL, "message_id": 7, "date": 99},
)


def test_a_reply_listed_before_its_parent_still_joins_the_thread() -> None:
    comment = message(11, 105, text="tanya", reply_to_message=COPY)
    answer = message(12, 101, text="jawab", reply_to_message={"message_id": 11, "chat": GROUP})
    unrelated = message(13, 106, text="lain", reply_to_message={"message_id": 99, "chat": GROUP})
    found = replies_to([answer, COPY, comment, unrelated], {"@humas_kota"}, {7})
    assert [(m["text"], to) for m, to in found] == [("jawab", 11), ("tanya", 7)]


def test_a_comment_on_another_post_or_channel_is_not_a_reply() -> None:
    other_post = {**COPY, "forward_origin": {**COPY["forward_origin"], "message_id": 8}}
    comment = message(11, 105, text="tanya", reply_to_message=other_post)
    assert replies_to([comment], {"@humas_kota"}, {7}) == []
    assert replies_to([message(11, 105, text="x", reply_to_message=COPY)], {"@lain"}, {7}) == []


def test_the_inbox_keeps_the_newest_messages_and_moves_the_offset() -> None:
    inbox = Inbox(capacity=2)
    updates = [{"update_id": 40 + i, "message": message(i, 100 + i, text=str(i))} for i in range(3)]
    assert inbox.add_updates(updates) == 3
    assert inbox.read_to == 43
    assert [m["text"] for m in inbox.messages()] == ["1", "2"]


def test_mentions_ignore_the_channel_itself_and_other_names() -> None:
    own = {**message(1, 100, text="@humas_kota"), "chat": CHANNEL}
    own["entities"] = [{"type": "mention", "offset": 0, "length": 11}]
    other = message(
        2, 101, text="@lain_kota", entities=[{"type": "mention", "offset": 0, "length": 10}]
    )
    caption = message(
        3,
        102,
        caption="foto @HUMAS_KOTA",
        caption_entities=[{"type": "mention", "offset": 5, "length": 11}],
    )
    found = mentions_of([own, other, caption], {"@humas_kota"}, {"@humas_kota", "-1001"})
    assert [m["message_id"] for m in found] == [3]


@given(st.text(), st.text(), st.text())
def test_utf16_slice_finds_what_utf16_offsets_point_at(
    before: str, middle: str, after: str
) -> None:
    text = before + middle + after
    assert utf16_length(text) == len(text.encode("utf-16-le")) // 2
    sliced = utf16_slice(text, utf16_length(before), utf16_length(middle))
    assert sliced == middle.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def test_only_what_every_known_account_stored_is_confirmable() -> None:
    inbox = Inbox()
    now = 1_800_000_000.0
    assert inbox.confirmable(now) is None  # nothing read, no account known
    inbox.add_updates([{"update_id": 49, "message": message(1, 100, text="x")}])
    assert inbox.confirmable(now) is None  # no account's cursor came back
    inbox.learn("a" * 16, 40, {"b" * 16: now - 60}, now)
    assert inbox.confirmable(now) is None  # b is known to share the bot; its offset is not
    inbox.learn("b" * 16, 30, {}, now)
    assert inbox.confirmable(now) == 30  # the lower of the two
    inbox.learn("b" * 16, 90, {}, now)
    assert inbox.confirmable(now) == 40
    inbox.learn("a" * 16, 90, {}, now)
    assert inbox.confirmable(now) == 50  # never above what was read
    inbox.learn("a" * 16, None, {}, now)  # a's cursor is garbage: confirm nothing
    assert inbox.confirmable(now) is None


def test_an_account_not_seen_for_a_day_stops_holding_the_others_back() -> None:
    inbox = Inbox()
    now = 1_800_000_000.0
    inbox.add_updates([{"update_id": 49, "message": message(1, 100, text="x")}])
    inbox.learn("a" * 16, 40, {"b" * 16: now - KEPT_FOR - 1, "c" * 16: now + 10**9}, now)
    assert set(inbox.known_peers(now)) == {"a" * 16, "c" * 16}
    assert inbox.known_peers(now)["c" * 16] == int(now)  # a future date counts as now
    assert inbox.confirmable(now) is None  # c still holds it back, for a day at most
    assert inbox.confirmable(now + KEPT_FOR + 1) is None  # a itself went quiet too
    inbox.learn("a" * 16, 40, {}, now + KEPT_FOR + 1)
    assert inbox.confirmable(now + KEPT_FOR + 1) == 40


def test_a_cursor_names_at_most_max_peers_accounts() -> None:
    inbox = Inbox()
    now = 1_800_000_000.0
    many = {f"{n:016x}": now - n for n in range(MAX_PEERS * 2)}
    inbox.learn("a" * 16, 5, many, now)
    peers = inbox.known_peers(now)
    assert len(peers) == MAX_PEERS and "a" * 16 in peers
    offset, parsed = parse_cursor(cursor_text(5, peers))
    assert offset == 5 and set(parsed) == set(peers)
