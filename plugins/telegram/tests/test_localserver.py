"""The adapter against telegram-test-api (npm): what the SERVER stored and delivered.

telegram-test-api serves sendMessage, deleteMessage, getUpdates and getMe itself; sendPhoto,
sendVideo, sendMediaGroup, deleteMessages, getChatMemberCount and the 401 for unknown tokens
come from the launcher in front of it (localserver_npm/server.js). Users commenting in the
discussion group are telegram-test-api client messages, shaped as
https://core.telegram.org/bots/api#message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from govsocial import Account, Client, Media, Post, PostRef
from govsocial.core.errors import AuthenticationError, PlatformError
from govsocial.testing import tiny_png, unique_text
from govsocial_telegram.localserver import TelegramTestServer


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(max_wait=5.0) as client:
        yield client


@pytest.fixture
def server(telegram_server: TelegramTestServer) -> TelegramTestServer:
    return telegram_server


@pytest.fixture
def humas(server: TelegramTestServer) -> Account:
    return server.accounts[0]


def publish(client: Client, post: Post, account: Account) -> PostRef:
    [result] = client.publish(post, [account])
    assert result.ok, result.error
    assert result.ref is not None
    return result.ref


def test_text_is_stored_as_sent_without_parse_mode(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    text = "*bukan tebal* <b>bukan HTML</b> _ " + unique_text()
    ref = publish(client, Post(text), humas)
    stored = server.stored_post(ref)
    assert stored is not None
    assert stored["text"] == text
    assert "parse_mode" not in stored
    assert stored["chat_id"] == humas.credential("chat_id")
    assert ref.extra["chat_id"] == humas.credential("chat_id")


def test_an_album_is_stored_as_messages_with_the_caption_on_the_first_and_deleted_whole(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    text = unique_text("Galeri posyandu")
    media = [Media(data=tiny_png()), Media(data=tiny_png()), Media(data=tiny_png())]
    ref = publish(client, Post(text, media=media), humas)
    ids = ref.extra["message_ids"].split(",")
    assert len(ids) == 3 and ids[0] == ref.id
    stored = [server.stored_post(ref.model_copy(update={"id": i})) for i in ids]
    assert all(s is not None for s in stored)
    assert [s.get("caption") for s in stored if s] == [text, None, None]
    assert len({s["media_group_id"] for s in stored if s}) == 1
    client.delete(ref)
    assert [server.stored_post(ref.model_copy(update={"id": i})) for i in ids] == [None] * 3


def test_a_video_is_sent_with_its_size_duration_and_cover(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    pytest.importorskip("av")
    from govsocial.testing.video import make_video

    video = make_video(width=360, height=640, seconds=3)
    text = unique_text("Video posyandu")
    ref = publish(
        client, Post(text, media=[Media(data=video, cover=Media(data=tiny_png()))]), humas
    )
    stored = server.stored_post(ref)
    assert stored is not None and stored["caption"] == text
    sent = stored["video"]
    assert (sent["width"], sent["height"], sent["duration"]) == (360, 640, 3)
    assert sent["file_size"] == len(video) and sent["file_name"] == "video0.mp4"
    assert sent["cover"][0]["file_size"] == len(tiny_png())
    assert server.stored_media_kinds(stored) == ["video"]


def test_an_album_of_a_photo_and_a_video_keeps_each_kind(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    pytest.importorskip("av")
    from govsocial.testing.video import make_video

    media = [Media(data=tiny_png()), Media(data=make_video(width=64, height=64, seconds=1))]
    ref = publish(client, Post(unique_text("Album"), media=media), humas)
    ids = ref.extra["message_ids"].split(",")
    stored = [server.stored_post(ref.model_copy(update={"id": i})) for i in ids]
    assert [server.stored_media_kinds(s) for s in stored if s] == [["image"], ["video"]]
    video = stored[1]
    assert video is not None and video["video"]["width"] == 64


def test_a_thread_reply_to_an_own_post_is_stored_with_reply_parameters(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    first = publish(client, Post(unique_text("Bagian 1")), humas)
    second = client.reply(first, "Bagian 2")
    stored = server.stored_post(second)
    assert stored is not None
    assert stored["reply_parameters"] == {"message_id": int(first.id)}
    assert "reply_to_message_id" not in stored  # the deprecated form is not used


def test_comments_in_the_discussion_group_are_replies_and_can_be_answered(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    post = publish(client, Post(unique_text("Jadwal vaksinasi")), humas)
    other = publish(client, Post(unique_text("Pengumuman lain")), humas)
    question = server.comment(post, "Apakah buka hari Sabtu?")
    server.comment(other, "Komentar untuk pos lain")

    [reply] = client.fetch_replies(post)
    assert reply.kind == "reply"
    assert reply.text == "Apakah buka hari Sabtu?"
    assert reply.in_reply_to_id == post.id
    assert reply.ref.id == question.id
    assert reply.ref.extra["chat_id"] == str(server.discussion_group(humas)["id"])
    assert reply.author.startswith("@warga_")

    answer = client.reply(reply, "Ya, buka pukul 08.00")
    stored = server.stored_post(answer)
    assert stored is not None
    assert stored["text"] == "Ya, buka pukul 08.00"
    assert stored["chat_id"] == str(server.discussion_group(humas)["id"])
    assert stored["reply_parameters"] == {"message_id": int(question.id)}

    # a user answers the comment: part of the thread, replying to the comment; earlier
    # comments, already confirmed with getUpdates, are still known from the inbox
    server.comment(post, "Terima kasih", reply_to=int(question.id))
    replies = client.fetch_replies(post)
    assert [(r.text, r.in_reply_to_id) for r in replies] == [
        ("Apakah buka hari Sabtu?", post.id),
        ("Terima kasih", question.id),
    ]


def test_mentions_of_the_channel_are_found_and_since_filters_them(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    text = f"Halo {server.mention(humas)}, {unique_text('mohon info banjir')}"
    server.user_message(humas, text)
    server.user_message(humas, f"@warga_kota {unique_text('bukan untuk humas')}")
    server.user_message(humas, "kata humas_kota tanpa @ bukan sebutan")
    [mention] = client.fetch_mentions(humas)
    assert mention.kind == "mention"
    assert mention.text == text
    assert client.fetch_mentions(humas, since=datetime.now(UTC) + timedelta(minutes=1)) == []


def test_mentions_of_the_bot_count_too(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    text = f"@humas_kota_bot {unique_text('tolong')}"
    server.user_message(humas, text)
    assert [m.text for m in client.fetch_mentions(humas)] == [text]


def test_account_metrics_are_the_channel_member_count(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    server.set_members(humas, 1234)
    metrics = client.fetch_account_metrics(humas)
    assert metrics.followers == 1234
    assert metrics.following is None and metrics.posts is None


def test_post_metrics_are_all_unknown(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    ref = publish(client, Post(unique_text()), humas)
    [metrics] = client.fetch_metrics([ref])
    assert metrics.ref == ref
    assert metrics.model_dump(exclude={"ref", "collected_at", "raw"}) == dict.fromkeys(
        ("views", "reach", "likes", "reposts", "replies", "quotes", "bookmarks", "clicks")
    )


def test_a_wrong_token_is_an_authentication_error_and_no_log_line_shows_it(
    client: Client, server: TelegramTestServer, humas: Account, caplog: pytest.LogCaptureFixture
) -> None:
    """With the core's DEBUG logging on and failing requests (401, then a 400), the token
    appears in no log record, error message or repr."""
    token = "999999:" + "A" * 35
    public = humas.model_dump(exclude={"credentials"})
    bad = Account(
        **public, credentials={"bot_token": token, "chat_id": humas.credential("chat_id")}
    )
    wrong_chat = Account(
        **public,
        credentials={"bot_token": humas.credential("bot_token"), "chat_id": "-1009999999999"},
    )
    with caplog.at_level(logging.DEBUG):
        [result] = client.publish(Post(unique_text()), [bad])
        with pytest.raises(PlatformError) as failed:
            client.fetch_account_metrics(wrong_chat)
    assert isinstance(result.error, AuthenticationError)
    assert "@BotFather" in str(result.error)
    assert "chat not found" in str(failed.value)
    assert any("-> 401" in record.getMessage() for record in caplog.records)
    assert any("-> 400" in record.getMessage() for record in caplog.records)
    shown = [
        caplog.text,
        *(record.getMessage() for record in caplog.records),
        str(result.error),
        repr(result),
        repr(result.error),
        str(failed.value),
        repr(client.async_client.adapter(bad)),
    ]
    real = humas.credential("bot_token")
    for text in shown:
        assert token not in text
        assert real not in text


def test_a_method_the_server_does_not_know_is_not_read_as_a_bad_token(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    """The Bot API answers 404 "Not Found" for an unknown method (an older self-hosted server
    without deleteMessages) as for a malformed token; getMe tells them apart."""
    media = [Media(data=tiny_png()), Media(data=tiny_png())]
    ref = publish(client, Post(unique_text("Album"), media=media), humas)
    ids = ref.extra["message_ids"].split(",")
    server.retire_method("deleteMessages")
    try:
        with pytest.raises(PlatformError) as failed:
            client.delete(ref)
    finally:
        server.retire_method("deleteMessages", retired=False)
    assert not isinstance(failed.value, AuthenticationError)
    assert "does not know the method deleteMessages" in str(failed.value)
    assert "getMe answered" in str(failed.value)
    assert "telegram-bot-api" in (failed.value.hint or "")
    assert humas.credential("bot_token") not in str(failed.value)
    stored = [server.stored_post(ref.model_copy(update={"id": i})) for i in ids]
    assert all(s is not None for s in stored), "nothing was deleted"
    client.delete(ref)
    assert [server.stored_post(ref.model_copy(update={"id": i})) for i in ids] == [None] * 2


def test_check_reads_the_bots_rights_in_the_channel(
    client: Client, server: TelegramTestServer, humas: Account
) -> None:
    before = len(server.history(humas))
    found = client.check(humas)
    assert found.token_ok and found.identity == "@humas_kota_bot"
    assert [(c.name, c.ok) for c in found.capabilities] == [
        ("post", True),
        ("reply", True),
        ("delete", True),
        ("metrics", False),  # the Bot API gives no figures for messages
        ("account_metrics", True),
    ]
    assert found.calls == [
        f"POST /bot***/{method}" for method in ("getMe", "getChatMember", "getChatMemberCount")
    ]
    assert len(server.history(humas)) == before  # a check sends nothing
    server.set_rights(humas, {"can_delete_messages": False})
    try:
        no_delete = client.check(humas)
        server.set_rights(humas, {"status": "member"})
        member = client.check(humas)
    finally:
        server.set_rights(humas, {})
    delete = no_delete.capability("delete")
    assert delete is not None and delete.ok is False and "Delete messages" in (delete.fix or "")
    assert [c.name for c in member.missing] == ["post", "reply", "delete", "metrics"]
    post = member.capability("post")
    assert post is not None and "administrator" in (post.fix or "")
    assert humas.credential("bot_token") not in found.model_dump_json()


def test_the_inbox_read_takes_one_getupdates_for_every_post(
    server: TelegramTestServer, humas: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fetch_activity: comments on any of the posts and the mentions from one getUpdates
    (and one getMe for the bot's name), where reading per post asked again for each post;
    each comment threaded to its post."""
    from govsocial.testing.traffic import record_traffic

    monkeypatch.setenv("GOVSOCIAL_HTTP_TRANSPORT", "httpx")  # every request through send()
    with Client() as client:
        posts = [publish(client, Post(unique_text(f"Info {n}")), humas) for n in range(5)]
        server.comment(posts[1], "Apakah gratis?")
        server.comment(posts[4], "Di mana lokasinya?")
        mention = f"Halo {server.mention(humas)}, {unique_text('mohon info')}"
        server.user_message(humas, mention)
        with record_traffic() as exchanges:
            activity = client.fetch_activity(humas, posts=posts)
    methods = [e.path.rsplit("/", 1)[-1] for e in exchanges]
    assert methods.count("getUpdates") == 1 and set(methods) <= {"getUpdates", "getMe"}
    found = {i.text: i for i in activity.interactions}
    assert found["Apakah gratis?"].thread_id == posts[1].id
    assert found["Di mana lokasinya?"].thread_id == posts[4].id
    assert found[mention].kind == "mention"
    # nothing confirmed (no inbox stored them yet); the cursor says how far they were read
    pending = server.pending_updates(humas)
    assert {u["message"].get("text") for u in pending} >= {"Apakah gratis?", mention}
    assert activity.cursor is not None
    assert json.loads(activity.cursor)["offset"] == max(u["update_id"] for u in pending) + 1
