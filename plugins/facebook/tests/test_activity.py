"""The inbox's read of a Page (issue 17): comments of many posts in one Graph request.

Against the emulator, counting the requests it received: the comments of 60 posts take two
multiple-id lookups (50 ids at most each) with field expansion, plus one read of the posts
the Page is tagged in, where reading post by post took 61. Every request and answer is held
against Meta's own SDK by the ``_held_against_meta_sdk`` fixture (conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from govsocial import Account, Client, Post, PostRef
from govsocial_facebook.testing import GraphEmulator


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(max_wait=5.0) as client:
        yield client


def publish(client: Client, author: Account, count: int) -> list[PostRef]:
    refs = []
    for n in range(count):
        [result] = client.publish(Post(f"Info layanan {n}"), [author])
        assert result.ok and result.ref is not None, result.error
        refs.append(result.ref)
    return refs


def test_comments_of_60_posts_take_two_lookups_and_the_mentions_one_read(
    emulator: GraphEmulator, client: Client
) -> None:
    humas, warga = emulator.accounts[:2]
    refs = publish(client, humas, 60)
    first = client.reply(refs[0].model_copy(update={"account": warga}), "Kapan buka?")
    client.reply(first.model_copy(update={"account": warga}), "Sabtu juga?")
    client.reply(refs[55].model_copy(update={"account": warga}), "Jalan rusak")
    client.publish(Post(f"{emulator.mention(humas)} mohon info"), [warga])
    before = len(emulator.requests())
    activity = client.fetch_activity(humas, posts=refs)
    received = emulator.requests()[before:]
    assert [(s.method, s.path) for s in received] == [
        ("GET", "/"),
        ("GET", "/"),
        ("GET", f"/{humas.credential('page_id')}/tagged"),
    ]
    assert [len(s.query["ids"].split(",")) for s in received[:2]] == [50, 10]
    found = {i.text: i for i in activity.interactions}
    assert set(found) >= {
        "Kapan buka?",
        "Sabtu juga?",
        "Jalan rusak",
        f"{emulator.pages[humas.credential('page_id')].name} mohon info",
    }
    answer = found["Sabtu juga?"]
    assert answer.kind == "reply" and answer.in_reply_to_id == first.id
    assert answer.thread_id == refs[0].id
    assert found["Jalan rusak"].thread_id == refs[55].id
    assert json.loads(activity.cursor or "")["seen"] is not None


def test_a_post_with_more_new_comments_than_a_page_reads_on_and_a_cursor_keeps_old_ones_out(
    emulator: GraphEmulator, client: Client
) -> None:
    humas, warga = emulator.accounts[:2]
    [post] = publish(client, humas, 1)
    citizen_view = post.model_copy(update={"account": warga})
    for n in range(130):
        client.reply(citizen_view, f"komentar {n}")
    before = len(emulator.requests())
    activity = client.fetch_activity(humas, posts=[post])
    received = emulator.requests()[before:]
    assert len({i.ref.id for i in activity.interactions if i.thread_id == post.id}) == 130
    comments = [s for s in received if s.path.endswith("/comments")]
    assert len(comments) == 1 and comments[0].query["order"] == "reverse_chronological"
    # the emulator's clock moves a second per object; the cursor, less the 10-minute
    # overlap, keeps the 130 out only once they are older than that: a new one arrives
    client.reply(citizen_view, "komentar baru")
    again = client.fetch_activity(humas, cursor=activity.cursor, posts=[post])
    assert "komentar baru" in {i.text for i in again.interactions}


@pytest.mark.parametrize("cursor", ["", "{", "[]", '{"seen": 5}', '{"seen": "kemarin"}'])
def test_an_unreadable_cursor_reads_from_since(
    emulator: GraphEmulator, client: Client, cursor: str
) -> None:
    humas, warga = emulator.accounts[:2]
    [post] = publish(client, humas, 1)
    client.reply(post.model_copy(update={"account": warga}), "Apakah gratis?")
    activity = client.fetch_activity(humas, cursor=cursor, posts=[post])
    replies = [i.text for i in activity.interactions if i.kind == "reply"]
    assert replies == ["Apakah gratis?"]
