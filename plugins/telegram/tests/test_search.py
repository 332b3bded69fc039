"""Watching on Telegram against telegram-test-api: the Bot API has no search, so a watch sees
the channel posts the bot receives, matched by govsocial. Another channel posts about the
topic without mentioning the agency; the bot finds it, and neither its own channel's post
nor an unrelated one."""

from __future__ import annotations

import uuid

import pytest

from govsocial import Post
from govsocial.client import AsyncClient
from govsocial_telegram.localserver import TelegramTestServer

pytestmark = pytest.mark.anyio


async def test_a_channel_post_about_the_topic_is_found_and_the_own_channel_left_out(
    telegram_server: TelegramTestServer,
) -> None:
    agency, partner = telegram_server.accounts[:2]
    word = f"banjir{uuid.uuid4().hex[:6]}"
    channel = {
        "id": telegram_server.channel_id(partner),
        "type": "channel",
        "title": "Warga Kota",
        "username": "warga_kota",
    }
    about = telegram_server.user_message(
        agency, f"Air naik di jalan Merdeka, #{word}", chat=channel, sender_chat=channel
    )
    telegram_server.user_message(agency, "Pasar malam ramai", chat=channel, sender_chat=channel)
    # a user in the discussion group is not a channel post: that is the inbox's business
    telegram_server.user_message(agency, f"{word} juga di sini")
    async with AsyncClient() as client:
        [own] = await client.publish(Post(f"Info {word} dari humas"), [agency])
        assert own.ok, own.error
        page = await client.search(agency, f"#{word}")
        [found] = page.posts
        assert found.ref.id == str(about["message_id"])
        assert found.key == f"{channel['id']}:{about['message_id']}"
        assert found.text == about["text"] and found.author == "@warga_kota"
        assert page.cursor == str(about["date"])
        later = await client.search(agency, word, cursor=page.cursor)
        assert [p.key for p in later.posts] == [found.key], "the cursor's second is re-read"
