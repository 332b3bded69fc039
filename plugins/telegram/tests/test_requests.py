"""Request and response shapes, against respx stand-ins built from the Bot API documentation.

Each test names the https://core.telegram.org/bots/api section its requests and answers
follow. These cover, among others, the methods telegram-test-api lacks (sendPhoto,
sendMediaGroup, deleteMessages, getChatMemberCount) with the documented shapes.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from govsocial import Account, Media, Post, PostRef
from govsocial.adapters import AdapterContext, Http
from govsocial.client.validation import validate
from govsocial.core.errors import ConfigurationError, PlatformError
from govsocial.testing import tiny_png
from govsocial_telegram import Telegram
from govsocial_telegram import testing as support
from govsocial_telegram.errors import ADMIN_HINT
from govsocial_telegram.updates import cursor_text

ACCOUNT, BASE, TOKEN = support.ACCOUNT, support.BASE, support.TOKEN
CHANNEL, GROUP, CHANNEL_ID, GROUP_ID = (
    support.CHANNEL,
    support.GROUP,
    support.CHANNEL_ID,
    support.GROUP_ID,
)
ok, failed, channel_post, body, multipart = (
    support.ok,
    support.failed,
    support.channel_post,
    support.body,
    support.multipart,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def adapter() -> AsyncIterator[Telegram]:
    async with httpx.AsyncClient() as client:
        yield Telegram(
            ACCOUNT, AdapterContext(http=Http(client, sleep=support.Sleeps(), max_wait=30))
        )


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(
        using="httpx", base_url=f"{BASE}/bot{TOKEN}", assert_all_called=False
    ) as router:
        yield router


def ref(message_id: int, **extra: str) -> PostRef:
    return PostRef(
        platform="telegram",
        account=ACCOUNT,
        id=str(message_id),
        extra={"chat_id": str(CHANNEL_ID), **extra},
    )


# -- publishing --------------------------------------------------------------------------------


async def test_text_goes_out_as_plain_text_with_sendmessage(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """https://core.telegram.org/bots/api#sendmessage: chat_id and text; no parse_mode, so
    Markdown/HTML characters in the text are sent as they are."""
    route = api.post("/sendMessage").respond(json=ok(channel_post(42, text="*Halo* <b>warga</b>")))
    made = await adapter.publish(Post("*Halo* <b>warga</b>"), idempotency_key="k1")
    assert body(route.calls.last.request) == {
        "chat_id": "@humas_kota",
        "text": "*Halo* <b>warga</b>",
    }
    assert made.id == "42"
    assert made.url == "https://t.me/humas_kota/42"
    assert made.extra == {"chat_id": str(CHANNEL_ID), "date": "1718000000"}


async def test_a_reply_uses_reply_parameters_in_the_chat_of_the_message_replied_to(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """https://core.telegram.org/bots/api#replyparameters (reply_to_message_id is the older
    form). A comment lives in the discussion group, so the answer goes there."""
    route = api.post("/sendMessage").mock(
        side_effect=[
            httpx.Response(200, json=ok(channel_post(43, text="Bagian 2"))),
            httpx.Response(
                200, json=ok({"message_id": 77, "chat": GROUP, "date": 1718000100, "text": "Ya"})
            ),
        ]
    )
    await adapter.publish(Post("Bagian 2", reply_to=ref(42)), idempotency_key="k2")
    assert body(route.calls[0].request) == {
        "chat_id": str(CHANNEL_ID),
        "text": "Bagian 2",
        "reply_parameters": {"message_id": 42},
    }
    comment = PostRef(
        platform="telegram", account=ACCOUNT, id="76", extra={"chat_id": str(GROUP_ID)}
    )
    answer = await adapter.publish(Post("Ya", reply_to=comment), idempotency_key="k3")
    assert body(route.calls[1].request) == {
        "chat_id": str(GROUP_ID),
        "text": "Ya",
        "reply_parameters": {"message_id": 76},
    }
    assert answer.url == f"https://t.me/c/{str(GROUP_ID)[4:]}/77"


async def test_one_image_is_uploaded_with_sendphoto_and_the_text_as_caption(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """https://core.telegram.org/bots/api#sendphoto, uploaded as multipart/form-data
    (https://core.telegram.org/bots/api#sending-files)."""
    photo = [{"file_id": "AgAC", "file_unique_id": "AQAD", "width": 1, "height": 1}]
    route = api.post("/sendPhoto").respond(json=ok(channel_post(44, photo=photo, caption="Peta")))
    made = await adapter.publish(
        Post("Peta", media=[Media(data=tiny_png())], reply_to=ref(40)), idempotency_key="k4"
    )
    parts = multipart(route.calls.last.request)
    assert parts["photo"] == tiny_png()
    assert parts["caption"] == b"Peta"
    assert parts["chat_id"] == str(CHANNEL_ID).encode()
    assert json.loads(parts["reply_parameters"]) == {"message_id": 40}
    assert made.id == "44"


async def test_an_image_url_is_passed_for_telegram_to_download(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """https://core.telegram.org/bots/api#sendphoto: "pass an HTTP URL as a String for
    Telegram to get a photo from the Internet"."""
    route = api.post("/sendPhoto").respond(json=ok(channel_post(45, photo=[])))
    url = "https://example.go.id/peta.png"
    await adapter.publish(Post("", media=[Media(url=url)]), idempotency_key="k5")
    assert body(route.calls.last.request) == {"chat_id": "@humas_kota", "photo": url}


async def test_two_to_ten_images_go_as_one_album_keeping_every_message_id(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """https://core.telegram.org/bots/api#sendmediagroup with InputMediaPhoto items
    (https://core.telegram.org/bots/api#inputmediaphoto): uploads named attach://<name>,
    the caption on the first item; the answer is an array of the Messages sent."""
    answer = [channel_post(50 + i, media_group_id="1360", photo=[]) for i in range(3)]
    route = api.post("/sendMediaGroup").respond(json=ok(answer))
    media = [
        Media(data=tiny_png()),
        Media(url="https://example.go.id/b.png"),
        Media(data=tiny_png()),
    ]
    made = await adapter.publish(Post("Galeri", media=media), idempotency_key="k6")
    parts = multipart(route.calls.last.request)
    assert json.loads(parts["media"]) == [
        {"type": "photo", "media": "attach://photo0", "caption": "Galeri"},
        {"type": "photo", "media": "https://example.go.id/b.png"},
        {"type": "photo", "media": "attach://photo2"},
    ]
    assert parts["photo0"] == parts["photo2"] == tiny_png()
    assert made.id == "50"
    assert made.extra["message_ids"] == "50,51,52"


async def test_an_album_of_urls_goes_as_json(adapter: Telegram, api: respx.MockRouter) -> None:
    """https://core.telegram.org/bots/api#sendmediagroup with URLs only: no upload needed."""
    route = api.post("/sendMediaGroup").respond(
        json=ok([channel_post(60, photo=[]), channel_post(61, photo=[])])
    )
    urls = ["https://example.go.id/a.png", "https://example.go.id/b.png"]
    await adapter.publish(Post("", media=[Media(url=u) for u in urls]), idempotency_key="k7")
    assert body(route.calls.last.request) == {
        "chat_id": "@humas_kota",
        "media": [{"type": "photo", "media": u} for u in urls],
    }


# -- deleting ----------------------------------------------------------------------------------


async def test_delete_one_message_and_a_whole_album(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """https://core.telegram.org/bots/api#deletemessage and #deletemessages (1-100 ids)."""
    one = api.post("/deleteMessage").respond(json=ok(True))
    many = api.post("/deleteMessages").respond(json=ok(True))
    await adapter.delete(ref(42))
    await adapter.delete(ref(50, message_ids="50,51,52"))
    assert body(one.calls.last.request) == {"chat_id": str(CHANNEL_ID), "message_id": 42}
    assert body(many.calls.last.request) == {
        "chat_id": str(CHANNEL_ID),
        "message_ids": [50, 51, 52],
    }


async def test_deleting_after_48_hours_names_the_window(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """https://core.telegram.org/bots/api#deletemessage: "A message can only be deleted if it
    was sent less than 48 hours ago". The refusal's text is the one bots commonly receive."""
    api.post("/deleteMessage").respond(
        400, json=failed(400, "Bad Request: message can't be deleted")
    )
    old = str(int(time.time()) - 50 * 3600)
    with pytest.raises(PlatformError) as refused:
        await adapter.delete(ref(42, date=old))
    assert "48 hours" in str(refused.value)
    assert "sent 50 hours ago" in str(refused.value)
    fresh = str(int(time.time()) - 60)
    with pytest.raises(PlatformError) as rights:
        await adapter.delete(ref(42, date=fresh))
    assert ADMIN_HINT in str(rights.value)


async def test_deleting_a_message_already_gone_says_so(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    api.post("/deleteMessage").respond(
        400, json=failed(400, "Bad Request: message to delete not found")
    )
    with pytest.raises(PlatformError, match="deleted already"):
        await adapter.delete(ref(42))


# -- reading -----------------------------------------------------------------------------------


async def test_account_metrics_are_getchatmembercount(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """https://core.telegram.org/bots/api#getchatmembercount: "Returns Int on success"."""
    route = api.post("/getChatMemberCount").respond(json=ok(15204))
    metrics = await adapter.fetch_account_metrics()
    assert body(route.calls.last.request) == {"chat_id": "@humas_kota"}
    assert (metrics.followers, metrics.following, metrics.posts) == (15204, None, None)


async def test_post_metrics_ask_nothing_and_know_nothing(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """The Bot API has no method giving a channel post's views or reactions
    (https://core.telegram.org/bots/api#available-methods)."""
    [metrics] = await adapter.fetch_metrics([ref(42)])
    assert api.calls.call_count == 0
    for name in ("views", "reach", "likes", "reposts", "replies", "quotes", "bookmarks", "clicks"):
        assert getattr(metrics, name) is None


def update(update_id: int, kind: str = "message", **message: object) -> dict[str, object]:
    """An Update (https://core.telegram.org/bots/api#update)."""
    return {"update_id": update_id, kind: message}


def automatic_copy(message_id: int, post_id: int) -> dict[str, object]:
    """The discussion group's copy of a channel post: is_automatic_forward, forward_origin of
    type "channel" (https://core.telegram.org/bots/api#messageoriginchannel)."""
    return {
        "message_id": message_id,
        "chat": GROUP,
        "sender_chat": CHANNEL,
        "date": 1718000001,
        "is_automatic_forward": True,
        "forward_origin": {
            "type": "channel",
            "chat": CHANNEL,
            "message_id": post_id,
            "date": 1718000000,
        },
        "text": "Jadwal vaksinasi",
    }


USER = {
    "id": 5001,
    "is_bot": False,
    "first_name": "Sari",
    "last_name": "Dewi",
    "username": "sari_d",
}


async def test_replies_come_from_updates_and_only_a_stored_offset_confirms_them(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """https://core.telegram.org/bots/api#getupdates: an offset confirms every update below
    it, so fetch_replies (nothing stored) sends none, and fetch_activity sends the one its
    stored cursor holds; comments reply to the post's automatic copy in the discussion
    group."""
    copy = automatic_copy(300, 42)
    first_page = [
        update(7, **copy),
        update(
            8,
            message_id=301,
            chat=GROUP,
            date=1718000050,
            text="Buka hari Sabtu?",
            message_thread_id=300,
            reply_to_message=copy,
            **{"from": USER},
        ),
        update(
            9, message_id=302, chat=GROUP, date=1718000060, text="Obrolan lain", **{"from": USER}
        ),
    ]
    edited = update(
        10,
        "edited_message",
        message_id=301,
        chat=GROUP,
        date=1718000050,
        edit_date=1718000070,
        text="Apakah buka hari Sabtu?",
        message_thread_id=300,
        reply_to_message=copy,
        **{"from": USER},
    )
    route = api.post("/getUpdates").mock(
        side_effect=[
            httpx.Response(200, json=ok(first_page)),
            httpx.Response(200, json=ok([edited])),
            httpx.Response(200, json=ok([])),
        ]
    )
    api.post("/getMe").respond(200, json=ok({"id": 1, "is_bot": True, "username": "humas_bot"}))
    post = ref(42)
    [reply] = await adapter.fetch_replies(post)
    assert (reply.text, reply.in_reply_to_id, reply.ref.id) == ("Buka hari Sabtu?", "42", "301")
    assert (reply.author, reply.author_name) == ("@sari_d", "Sari Dewi")
    assert reply.ref.extra == {"chat_id": str(GROUP_ID)}
    [again] = await adapter.fetch_replies(post)
    assert again.text == "Apakah buka hari Sabtu?"
    activity = await adapter.fetch_activity(cursor=cursor_text(11, {}), posts=[post])
    assert [i.text for i in activity.interactions] == ["Apakah buka hari Sabtu?"]
    first, second, third = (body(call.request) for call in route.calls)
    assert "offset" not in first and "offset" not in second
    assert first["allowed_updates"] == [
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
    ]
    assert third["offset"] == 11
    assert json.loads(activity.cursor or "")["offset"] == 11


async def test_replies_are_found_from_the_older_forward_fields_too(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """Before Bot API 7.0 a forward carried forward_from_chat and forward_from_message_id
    (https://core.telegram.org/bots/api-changelog#december-29-2023)."""
    legacy_copy = {
        "message_id": 400,
        "chat": GROUP,
        "date": 1718000001,
        "is_automatic_forward": True,
        "forward_from_chat": CHANNEL,
        "forward_from_message_id": 42,
        "text": "Jadwal",
    }
    api.post("/getUpdates").respond(
        json=ok(
            [
                update(
                    20,
                    message_id=401,
                    chat=GROUP,
                    date=1718000100,
                    text="Terima kasih",
                    reply_to_message=legacy_copy,
                    **{"from": USER},
                )
            ]
        )
    )
    [reply] = await adapter.fetch_replies(ref(42))
    assert reply.text == "Terima kasih"
    assert reply.in_reply_to_id == "42"


async def test_mentions_use_the_entities_utf16_offsets(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """https://core.telegram.org/bots/api#messageentity: offset and length in UTF-16 code
    units; a "mention" entity is an @username."""
    text = "🙏🏽 Tolong @humas_kota, jalan rusak"
    api.post("/getUpdates").respond(
        json=ok(
            [
                update(
                    30,
                    message_id=500,
                    chat=GROUP,
                    date=1718000200,
                    text=text,
                    entities=[{"type": "mention", "offset": 12, "length": 11}],
                    **{"from": USER},
                )
            ]
        )
    )
    api.post("/getMe").respond(
        json=ok(
            {"id": 110201543, "is_bot": True, "first_name": "Humas", "username": "humas_kota_bot"}
        )
    )
    [mention] = await adapter.fetch_mentions()
    assert mention.text == text
    assert mention.kind == "mention"


async def test_a_webhook_on_the_bot_is_a_clear_error(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """getUpdates "will not work if an outgoing webhook is set up"
    (https://core.telegram.org/bots/api#getupdates); Telegram answers 409 Conflict."""
    api.post("/getUpdates").respond(
        409,
        json=failed(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
            "to delete the webhook first",
        ),
    )
    with pytest.raises(PlatformError, match="a bot of its own"):
        await adapter.fetch_replies(ref(42))


# -- errors with a hint -------------------------------------------------------------------------


async def test_a_bot_that_is_not_a_channel_admin_is_told_how_to_fix_it(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    api.post("/sendMessage").respond(
        403, json=failed(403, "Forbidden: bot is not a member of the channel chat")
    )
    with pytest.raises(PlatformError) as refused:
        await adapter.publish(Post("Halo"), idempotency_key="k8")
    assert refused.value.status == 403
    assert "bot is not a member of the channel chat" in str(refused.value)
    assert "administrator" in str(refused.value) and "Post messages" in str(refused.value)


async def test_a_group_that_became_a_supergroup_names_the_new_chat_id(
    adapter: Telegram, api: respx.MockRouter
) -> None:
    """https://core.telegram.org/bots/api#responseparameters: migrate_to_chat_id."""
    api.post("/sendMessage").respond(
        400,
        json=failed(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=-1001987654321,
        ),
    )
    with pytest.raises(PlatformError) as moved:
        await adapter.publish(Post("Halo"), idempotency_key="k9")
    assert moved.value.field == "credentials.chat_id"
    assert "set the account's chat_id to -1001987654321" in str(moved.value)


async def test_base_url_replaces_the_default_server(api: respx.MockRouter) -> None:
    """A local Bot API server (https://core.telegram.org/bots/api#using-a-local-bot-api-server)
    or a proxy is given as base_url."""
    account = Account(
        platform="telegram",
        handle="@humas_kota",
        base_url="https://tg.example.go.id/",
        credentials={"bot_token": TOKEN, "chat_id": "@humas_kota"},
    )
    with respx.mock(using="httpx") as local:
        route = local.post(f"https://tg.example.go.id/bot{TOKEN}/sendMessage").respond(
            json=ok(channel_post(1, text="x"))
        )
        async with httpx.AsyncClient() as client:
            adapter = Telegram(account, AdapterContext(http=Http(client)))
            await adapter.publish(Post("x"), idempotency_key="k10")
    assert route.called


# -- offline -----------------------------------------------------------------------------------


def test_text_limits_count_utf16_code_units() -> None:
    """https://core.telegram.org/bots/api#sendmessage: 1-4096 characters."""
    assert Telegram.count_characters("Halo") == 4
    assert Telegram.count_characters("🇮🇩") == 4  # two regional indicators, two units each
    assert validate(Post("a" * 4096), "telegram") == []
    assert [p.code for p in validate(Post("😀" * 2049), "telegram")] == ["text_too_long"]


def test_a_caption_over_1024_is_refused_before_sending() -> None:
    """https://core.telegram.org/bots/api#sendphoto: caption 0-1024 characters."""
    assert validate(Post("a" * 1024, media=[Media(data=tiny_png())]), "telegram") == []
    [problem] = validate(Post("a" * 1025, media=[Media(data=tiny_png())]), "telegram")
    assert (problem.code, problem.field, problem.limit) == ("caption_too_long", "text", 1024)
    assert "1024" in problem.message and "reply" in problem.message


def test_eleven_images_are_too_many() -> None:
    """https://core.telegram.org/bots/api#sendmediagroup: 2-10 items."""
    media = [Media(data=tiny_png())] * 11
    assert [p.code for p in validate(Post("x", media=media), "telegram")] == ["too_many_media"]


def test_chat_id_must_be_a_username_or_a_number() -> None:
    Telegram.check_account(ACCOUNT)
    Telegram.check_account(
        Account(
            platform="telegram", handle="x", credentials={"bot_token": TOKEN, "chat_id": "-1001"}
        )
    )
    bad = Account(
        platform="telegram", handle="x", credentials={"bot_token": TOKEN, "chat_id": "t.me/x"}
    )
    with pytest.raises(ConfigurationError) as wrong:
        Telegram.check_account(bad)
    assert wrong.value.field == "credentials.chat_id"
