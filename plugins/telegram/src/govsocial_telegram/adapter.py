"""The Telegram adapter: a bot publishing to a channel it administers, through the Bot API.

Every call is ``POST {base_url}/bot<token>/<method>`` through the core's
:class:`govsocial.adapters.http.Http` session; the token is in the URL path, and the core scrubs it
from every message and log line (it is this adapter's one secret credential). What is
Telegram-specific lives here:

- text goes out with ``sendMessage`` as plain text (no ``parse_mode``, so nothing in it is
  taken for Markdown or HTML); one image with ``sendPhoto``, 2 to 10 with ``sendMediaGroup``
  (the text as the caption of the first). With images the text is a caption, which Telegram
  limits to 1024 characters: ``check_post`` refuses a longer one before anything is sent;
- replies use ``reply_parameters`` (``reply_to_message_id`` is the deprecated form) and go to
  the chat of the message replied to (a comment lives in the discussion group);
- Telegram has no idempotency key: a create whose answer is lost is PublishOutcomeUnknown;
- throttling is a 429 whose body says ``parameters.retry_after``; no headers;
- there are no post metrics in the Bot API; the account's followers are the channel's
  members (``getChatMemberCount``);
- replies and mentions are read from the bot's updates (see :mod:`govsocial_telegram.updates`).

API reference: https://core.telegram.org/bots/api
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from govsocial.adapters import (
    Account,
    AccountCheck,
    AccountMetrics,
    Activity,
    AdapterContext,
    AuthenticationError,
    ConfigurationError,
    FoundPost,
    GovSocialError,
    Interaction,
    Limits,
    LocalServer,
    Media,
    Platform,
    PlatformError,
    Post,
    PostMetrics,
    PostRef,
    Problem,
    PublishOutcomeUnknown,
    RateLimited,
    SearchPage,
    ValidationError,
    VideoLimits,
    parse_query,
    probe_video,
    scrub,
)
from govsocial_telegram.errors import (
    ADMIN_HINT,
    AUTH_HINT,
    answer_body,
    description_of,
    hint_for,
    migrate_to_chat_id,
    retry_after_of,
)
from govsocial_telegram.text import utf16_length
from govsocial_telegram.updates import (
    PAGE,
    UPDATE_TYPES,
    Inbox,
    account_key,
    chat_key,
    cursor_text,
    inbox_for,
    mentions_of,
    message_text,
    parse_cursor,
    replies_to,
)

__all__ = ["CAPTION_LIMIT", "DELETE_WINDOW", "Telegram"]

#: Characters of a photo caption (https://core.telegram.org/bots/api#sendphoto).
CAPTION_LIMIT = 1024
#: Seconds after sending during which a message can be deleted
#: (https://core.telegram.org/bots/api#deletemessage).
DELETE_WINDOW = 48 * 3600

_CHAT_ID = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?[0-9]{1,20})$")
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
}


def _video_facts(data: bytes) -> dict[str, int]:
    """``width``, ``height`` and ``duration`` (whole seconds) of a video, for sendVideo;
    empty when the video cannot be read here (no PyAV: Telegram works them out itself)."""
    try:
        info = probe_video(data)
    except GovSocialError:
        return {}
    return {"width": info.width, "height": info.height, "duration": max(1, round(info.duration))}


class Telegram(Platform):
    """A Telegram channel, published to by a bot that is one of its administrators.

    Credentials: ``bot_token`` (secret, from @BotFather) and ``chat_id`` (public: the
    channel's ``@username``, or its numeric id ``-100...`` for a private channel).
    """

    name: ClassVar[str] = "telegram"
    title: ClassVar[str] = "Telegram"
    credential_fields: ClassVar[tuple[str, ...]] = ("bot_token", "chat_id")
    secret_fields: ClassVar[tuple[str, ...] | None] = ("bot_token",)
    default_base_url: ClassVar[str | None] = "https://api.telegram.org"
    #: The Bot API has no idempotency key: a lost answer cannot be settled by repeating.
    idempotency_window: ClassVar[float | None] = None
    limits: ClassVar[Limits] = Limits(
        max_characters=4096,
        max_media=10,
        # sendPhoto takes photos; a GIF would need sendAnimation (not used).
        image_types=frozenset({"image/jpeg", "image/png", "image/webp"}),
        # sendVideo: "Telegram clients support MPEG4 videos"; bots upload up to 50 MB
        # (https://core.telegram.org/bots/api#sendvideo, #sending-files).
        video_types=frozenset({"video/mp4"}),
        max_image_bytes=10_000_000,
        max_video_bytes=50 * 1024 * 1024,
        video=VideoLimits(cover=True, source="https://core.telegram.org/bots/api#sendvideo"),
        alt_text=False,
        threads=True,
        delete=True,
        post_metrics=frozenset(),
        account_metrics=frozenset({"followers"}),
    )

    search_support: ClassVar[str | None] = (
        "no search in the Bot API: the posts of channels the bot is a member of, as the bot "
        "receives them (getUpdates), matched against the query by govsocial; only posts that "
        "arrive while govsocial reads updates (or within the 24 hours Telegram keeps unread "
        "ones) are seen"
    )

    def __init__(self, account: Account, context: AdapterContext) -> None:
        super().__init__(account, context)
        self._username: str | None = None  # the bot's, from getMe

    # -- offline -----------------------------------------------------------------------

    @classmethod
    def count_characters(cls, text: str, limits: Limits | None = None) -> int:
        """Length in UTF-16 code units, the unit of the Bot API's entity offsets.

        The documentation gives the limit in "characters" without naming the unit; this
        count is never below a code point or grapheme count, so it errs on the safe side.
        """
        return utf16_length(text)

    @classmethod
    def check_post(cls, post: Post, limits: Limits) -> list[Problem]:
        """With images or a video the text becomes a caption, which takes at most 1024
        characters."""
        if not post.media:
            return []
        length = cls.count_characters(post.text, limits)
        if length <= CAPTION_LIMIT:
            return []
        return [
            Problem(
                code="caption_too_long",
                message=(
                    f"with images, {cls.title} sends the text as the caption, which takes at "
                    f"most {CAPTION_LIMIT} characters; the text is {length}: shorten it by "
                    f"{length - CAPTION_LIMIT}, or publish the text alone and then the images "
                    "as a reply to it"
                ),
                field="text",
                platform=cls.name,
                limit=CAPTION_LIMIT,
            )
        ]

    @classmethod
    def check_account(cls, account: Account) -> None:
        """The credentials are there, and chat_id looks like ``@username`` or ``-100...``."""
        super().check_account(account)
        chat_id = account.credential("chat_id").strip()
        if not _CHAT_ID.match(chat_id):
            raise ConfigurationError(
                f"account {account.handle} on {cls.title} has chat_id {chat_id!r}, which is "
                "neither a @channelusername nor a numeric chat id",
                field="credentials.chat_id",
                hint="give the channel's public @username, or the numeric id of a private "
                "channel (it starts with -100; see docs/platforms/telegram.md)",
            )

    @classmethod
    def local_server(cls) -> AbstractContextManager[LocalServer]:
        """telegram-test-api (npm) on this machine; needs Node.js 20+ and npm on PATH."""
        from govsocial_telegram.localserver import TelegramTestServer

        return TelegramTestServer()

    # -- HTTP answers ----------------------------------------------------------------------

    @classmethod
    def retry_after(cls, response: httpx.Response) -> float | None:
        """``parameters.retry_after`` of the JSON body (Telegram sends no Retry-After header)."""
        asked = retry_after_of(answer_body(response))
        return asked if asked is not None else super().retry_after(response)

    @classmethod
    def error_message(cls, response: httpx.Response) -> str:
        """The answer's ``description``."""
        found = description_of(answer_body(response))
        return found if found is not None else super().error_message(response)

    @classmethod
    def is_throttled(cls, response: httpx.Response) -> bool:
        """HTTP 429, or an answer whose ``error_code`` is 429."""
        if response.status_code == 429:
            return True
        body = answer_body(response)
        return body is not None and body.get("error_code") == 429

    @classmethod
    def is_auth_failure(cls, response: httpx.Response) -> bool:
        """401 Unauthorized (a wrong or revoked token).

        A 404 "Not Found" is not taken for one: the Bot API answers it both for a token not
        even shaped like one and for a method the server does not know (a self-hosted Bot
        API server older than the method). :meth:`_call` tells them apart with ``getMe``.
        """
        return response.status_code == 401

    def error_for(self, response: httpx.Response) -> GovSocialError:
        return self._answer_error(response.status_code, answer_body(response), response)

    def _answer_error(
        self, status: int, body: dict[str, Any] | None, response: httpx.Response
    ) -> GovSocialError:
        code = body.get("error_code") if body is not None else None
        if isinstance(code, int) and not isinstance(code, bool) and status < 400:
            status = code  # an {"ok": false} answer that came with HTTP 200
        message = description_of(body) or self.error_message(response)
        who = self.account.handle
        if status == 401 or self.is_auth_failure(response):
            return AuthenticationError(
                f"{self.title} rejected the bot token of {who}: {message}",
                platform=self.name,
                hint=AUTH_HINT,
            )
        if status == 429 or self.is_throttled(response):
            return RateLimited(
                f"{self.title} flood control for {who}: {message}",
                retry_after=retry_after_of(body),
                platform=self.name,
                body=message,
            )
        new_chat = migrate_to_chat_id(body)
        if new_chat is not None:
            return PlatformError(
                f"{self.title} says the group {self._chat_id()} of {who} became a supergroup "
                f"with chat id {new_chat}: {message}",
                platform=self.name,
                status=status,
                body=message,
                field="credentials.chat_id",
                hint=f"set the account's chat_id to {new_chat}",
            )
        return PlatformError(
            f"{self.title} answered {status} for {who}: {message}",
            platform=self.name,
            status=status,
            body=message,
            hint=hint_for(message),
        )

    # -- calling the Bot API ---------------------------------------------------------------

    async def _call(
        self,
        method: str,
        *,
        create: bool = False,
        idempotency_key: str | None = None,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call ``method`` and return its ``result``; every failure is a GovSocialError."""
        token = quote(self.credential("bot_token"), safe=":")
        try:
            response = await self.request(
                "POST",
                f"/bot{token}/{method}",
                create=create,
                idempotency_key=idempotency_key,
                idempotent=idempotent,
                **kwargs,
            )
        except PlatformError as error:
            if error.status != 404 or isinstance(error, RateLimited):
                raise
            raise await self._not_found(method, error) from None
        body = answer_body(response)
        if body is None or "ok" not in body:
            if create:
                raise PublishOutcomeUnknown(
                    f"{self.title} answered {method} for {self.account.handle} (HTTP "
                    f"{response.status_code}) with a body that is not the Bot API's JSON, so "
                    "whether the message was sent is unknown",
                    platform=self.name,
                    account=self.account.handle,
                    idempotency_key=idempotency_key,
                    detail={"method": method, "body": self.snippet(response)},
                )
            raise self.unreadable(response, method)
        if body.get("ok") is not True:
            raise self._scrubbed(self._answer_error(response.status_code, body, response))
        if "result" not in body:
            if create:
                raise PublishOutcomeUnknown(
                    f"{self.title} accepted {method} for {self.account.handle} but its answer "
                    "has no result, so the new message id is unknown",
                    platform=self.name,
                    account=self.account.handle,
                    idempotency_key=idempotency_key,
                    detail={"method": method, "body": self.snippet(response)},
                )
            raise self.unreadable(response, method)
        return body["result"]

    async def _not_found(self, method: str, error: PlatformError) -> GovSocialError:
        """What a 404 means: a bad token (``getMe`` fails too) or an unknown method."""
        who = self.account.handle
        if method != "getMe":
            try:
                await self._call("getMe")
            except AuthenticationError as refused:
                return refused
            except GovSocialError:
                pass
            else:
                return PlatformError(
                    f"the {self.title} Bot API server at {self.base_url} does not know the "
                    f"method {method} ({error.body or 'Not Found'}); the bot token of {who} "
                    "works (getMe answered)",
                    platform=self.name,
                    status=404,
                    body=error.body,
                    hint=f"a self-hosted telegram-bot-api older than the Bot API version that "
                    f"added {method}: update it, or use https://api.telegram.org "
                    f"(https://core.telegram.org/bots/api#{method.lower()})",
                )
        return AuthenticationError(
            f"{self.title} rejected the bot token of {who}: {error.body or 'Not Found'} (404: "
            "the Bot API does not know this token's path, and getMe fails too)",
            platform=self.name,
            hint=AUTH_HINT,
        )

    def _chat_id(self) -> str:
        return self.credential("chat_id").strip()

    # -- publishing --------------------------------------------------------------------------

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        """``sendMessage``, ``sendPhoto`` or ``sendMediaGroup``, as the media ask."""
        key = idempotency_key or self.new_idempotency_key()
        problems = self.check_post(post, self.limits)
        if problems:  # validate() said so already; never send half of a post
            raise ValidationError(problems, platform=self.name)
        chat_id, reply = self._target(post.reply_to)
        if not post.media:
            payload: dict[str, Any] = {"chat_id": chat_id, "text": post.text, **reply}
            result = await self._call("sendMessage", json=payload, create=True, idempotency_key=key)
            return self._ref(result, chat_id, key)
        if len(post.media) == 1 and post.media[0].kind == "video":
            return await self._send_video(post, chat_id, reply, key)
        if len(post.media) == 1:
            return await self._send_photo(post, chat_id, reply, key)
        return await self._send_media_group(post, chat_id, reply, key)

    def _target(self, reply_to: PostRef | None) -> tuple[str, dict[str, Any]]:
        """The chat to send to, and ``reply_parameters`` when the post is a reply.

        A reply goes to the chat of the message it answers (``extra["chat_id"]``): a comment
        in the discussion group is answered in the group, a channel post in the channel.
        """
        if reply_to is None:
            return self._chat_id(), {}
        if not reply_to.id.isdigit():
            raise ConfigurationError(
                f"reply_to has id {reply_to.id!r}, which is not a {self.title} message id",
                field="reply_to",
                hint="reply to a PostRef or Interaction that govsocial-telegram returned",
            )
        chat_id = reply_to.extra.get("chat_id") or self._chat_id()
        return chat_id, {"reply_parameters": {"message_id": int(reply_to.id)}}

    async def _send_photo(
        self, post: Post, chat_id: str, reply: dict[str, Any], key: str
    ) -> PostRef:
        media = post.media[0]
        fields: dict[str, Any] = {"chat_id": chat_id, **reply}
        if post.text:
            fields["caption"] = post.text
        if media.url is not None:  # Telegram downloads it (photos by URL: up to 5 MB)
            fields["photo"] = media.url
            result = await self._call("sendPhoto", json=fields, create=True, idempotency_key=key)
        else:
            upload = await self._file(media, 0)
            result = await self._call(
                "sendPhoto",
                data=_form(fields),
                files={"photo": upload},
                create=True,
                idempotency_key=key,
            )
        return self._ref(result, chat_id, key)

    async def _send_video(
        self, post: Post, chat_id: str, reply: dict[str, Any], key: str
    ) -> PostRef:
        """``sendVideo``: the video with its size and duration (read from the file, so the
        app shows it right before it loads), streamable, and its cover when given."""
        media = post.media[0]
        fields: dict[str, Any] = {"chat_id": chat_id, "supports_streaming": True, **reply}
        if post.text:
            fields["caption"] = post.text
        if media.url is not None:  # Telegram downloads it (by URL: up to 20 MB)
            fields["video"] = media.url
            result = await self._call("sendVideo", json=fields, create=True, idempotency_key=key)
            return self._ref(result, chat_id, key)
        upload = await self._file(media, 0)
        fields |= _video_facts(upload[1])
        files = {"video": upload}
        if media.cover is not None:
            files["cover"] = await self._file(media.cover, 1)
            fields["cover"] = "attach://cover"
        result = await self._call(
            "sendVideo", data=_form(fields), files=files, create=True, idempotency_key=key
        )
        return self._ref(result, chat_id, key)

    async def _send_media_group(
        self, post: Post, chat_id: str, reply: dict[str, Any], key: str
    ) -> PostRef:
        items: list[dict[str, Any]] = []
        files: dict[str, tuple[str, bytes, str]] = {}
        for index, media in enumerate(post.media):
            kind = "video" if media.kind == "video" else "photo"
            item: dict[str, Any] = {"type": kind}
            if media.url is not None:
                item["media"] = media.url
            else:
                files[f"{kind}{index}"] = await self._file(media, index)
                item["media"] = f"attach://{kind}{index}"
                if kind == "video":
                    item |= {"supports_streaming": True, **_video_facts(files[f"{kind}{index}"][1])}
            if index == 0 and post.text:
                item["caption"] = post.text
            items.append(item)
        fields: dict[str, Any] = {"chat_id": chat_id, "media": items, **reply}
        if files:
            result = await self._call(
                "sendMediaGroup",
                data=_form(fields),
                files=files,
                create=True,
                idempotency_key=key,
            )
        else:
            result = await self._call(
                "sendMediaGroup", json=fields, create=True, idempotency_key=key
            )
        if not isinstance(result, list) or not result:
            raise self._lost(key, "sendMediaGroup", "an array of the messages sent")
        first = self._ref(result[0], chat_id, key)
        ids = [_message_id(message) for message in result]
        if any(message_id is None for message_id in ids):
            raise self._lost(key, "sendMediaGroup", "a message id for every item")
        extra = {**first.extra, "message_ids": ",".join(str(i) for i in ids)}
        return first.model_copy(update={"extra": extra})

    async def _file(self, media: Media, index: int) -> tuple[str, bytes, str]:
        data = await self.read_media(media)
        mime = media.mime_type or "application/octet-stream"
        if media.path is not None:
            name = media.path.name
        else:
            kind = "video" if media.kind == "video" else "photo"
            name = f"{kind}{index}{_EXTENSIONS.get(mime, '')}"
        return (name, data, mime)

    def _ref(self, message: Any, chat_id: str, key: str) -> PostRef:
        """Where a sent Message lives: its id, chat and (public channel) t.me link."""
        message_id = _message_id(message)
        if message_id is None:
            raise self._lost(key, "the send call", "the new message's id")
        assert isinstance(message, dict)
        chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
        assert isinstance(chat, dict)
        numeric = chat.get("id")
        stored_chat = str(numeric) if _is_int(numeric) else chat_id
        username = chat.get("username")
        if not isinstance(username, str) or not username:
            username = chat_id[1:] if chat_id.startswith("@") else None
        extra = {"chat_id": stored_chat}
        date = message.get("date")
        if isinstance(date, int) and not isinstance(date, bool):
            extra["date"] = str(_seconds(date))
        return PostRef(
            platform=self.name,
            account=self.account,
            id=str(message_id),
            url=_link(username, stored_chat, message_id),
            extra=extra,
        )

    def _lost(self, key: str, method: str, what: str) -> PublishOutcomeUnknown:
        return PublishOutcomeUnknown(
            f"{self.title} accepted {method} for {self.account.handle} but its answer lacks "
            f"{what}; the post exists but cannot be referred to",
            platform=self.name,
            account=self.account.handle,
            idempotency_key=key,
        )

    async def find_published(self, idempotency_key: str) -> PostRef | None:
        """Telegram cannot be asked which message a delivery made (no idempotency keys)."""
        raise NotImplementedError(
            "Telegram's Bot API has no idempotency keys and no way to list a channel's "
            "messages: check the channel by hand before publishing again"
        )

    # -- deleting ----------------------------------------------------------------------------

    async def delete(self, ref: PostRef) -> None:
        """``deleteMessage``, or ``deleteMessages`` for every message of an album.

        Telegram deletes only messages sent less than 48 hours ago
        (https://core.telegram.org/bots/api#deletemessage).
        """
        chat_id = ref.extra.get("chat_id") or self._chat_id()
        listed = ref.extra.get("message_ids", "")
        ids = [int(i) for i in listed.split(",") if i.strip().isdigit()] or (
            [int(ref.id)] if ref.id.isdigit() else []
        )
        if not ids:
            raise ConfigurationError(
                f"{ref.id!r} is not a {self.title} message id",
                field="ref.id",
                hint="delete a PostRef that govsocial-telegram returned",
            )
        try:
            if len(ids) == 1:
                payload: dict[str, Any] = {"chat_id": chat_id, "message_id": ids[0]}
                await self._call("deleteMessage", json=payload, idempotent=True)
            else:
                payload = {"chat_id": chat_id, "message_ids": ids}
                await self._call("deleteMessages", json=payload, idempotent=True)
        except PlatformError as error:
            if isinstance(error, RateLimited) or error.status != 400:
                raise
            raise self._delete_error(ref, error) from None

    def _delete_error(self, ref: PostRef, error: PlatformError) -> PlatformError:
        body = error.body or ""
        lowered = body.lower()
        sent = ref.extra.get("date", "")
        age = time.time() - int(sent) if sent.isdigit() else None
        if "not found" in lowered:
            return PlatformError(
                f"{self.title} has no message {ref.id} in {ref.extra.get('chat_id') or ''} to "
                f"delete: {body}",
                platform=self.name,
                status=error.status,
                body=body,
                hint="it may have been deleted already",
            )
        if "can't be deleted" in lowered or "cant be deleted" in lowered:
            hours = f" (it was sent {age / 3600:.0f} hours ago)" if age is not None else ""
            return PlatformError(
                f"{self.title} refused to delete message {ref.id}{hours}: {body}",
                platform=self.name,
                status=error.status,
                body=body,
                hint=(
                    "a bot can delete a message only within 48 hours of sending it; after "
                    "that, delete it by hand in the Telegram app as a channel administrator"
                    if age is None or age >= DELETE_WINDOW
                    else ADMIN_HINT
                ),
            )
        return error

    # -- reading -----------------------------------------------------------------------------

    async def fetch_metrics(self, refs: Sequence[PostRef]) -> list[PostMetrics]:
        """No request: the Bot API reports no views, reactions or forwards of a channel post.

        Every figure is None (unknown), never 0.
        """
        now = datetime.now(UTC)
        return [PostMetrics(ref=ref, collected_at=now) for ref in refs]

    async def fetch_account_metrics(self) -> AccountMetrics:
        """``getChatMemberCount``: the channel's subscribers, as ``followers``."""
        result = await self._call(
            "getChatMemberCount", json={"chat_id": self._chat_id()}, idempotent=True
        )
        if not _is_int(result):
            raise PlatformError(
                f"{self.title} answered getChatMemberCount for {self.account.handle} with "
                f"{result!r}, not a number",
                platform=self.name,
            )
        return AccountMetrics(
            account=self.account,
            collected_at=datetime.now(UTC),
            followers=result,
            raw={"member_count": result},
        )

    async def check(self) -> AccountCheck:
        """``getMe`` (the bot), ``getChatMember`` (the bot's rights in the channel: an
        administrator with *Post messages* posts, with *Delete messages* deletes) and
        ``getChatMemberCount`` (https://core.telegram.org/bots/api#getchatmember)."""
        with self.recording_calls() as log:
            try:
                me = await self._call("getMe")
            except AuthenticationError as error:
                return self.refused_check(error, log)
            bot = me if isinstance(me, dict) else {}
            try:
                member = await self._call(
                    "getChatMember",
                    json={"chat_id": self._chat_id(), "user_id": bot.get("id")},
                    idempotent=True,
                )
            except PlatformError as error:
                member = {"status": "unknown", "error": error.body or error.message}
            try:
                await self.fetch_account_metrics()
                counted: tuple[bool | None, str, str | None] = (
                    True,
                    "getChatMemberCount answered the subscribers",
                    None,
                )
            except PlatformError as error:
                counted = (False, error.body or error.message, error.hint or ADMIN_HINT)
        rights = member if isinstance(member, dict) else {}
        status = rights.get("status")
        username = bot.get("username")
        if status == "creator":
            can_post = can_delete = True
        else:
            admin = status == "administrator"
            can_post = admin and rights.get("can_post_messages", True) is not False
            can_delete = admin and rights.get("can_delete_messages") is True
        where = f"in {self._chat_id()}"
        if status == "unknown":
            why = f"getChatMember failed: {rights.get('error')}"
            post: tuple[bool | None, str, str | None] = (False, why, ADMIN_HINT)
            delete: tuple[bool | None, str, str | None] = (False, why, ADMIN_HINT)
        else:
            post = (
                (True, f"the bot is {status} {where} and may post messages", None)
                if can_post
                else (False, f"the bot is {status} {where} without 'Post messages'", ADMIN_HINT)
            )
            delete = (
                (True, f"the bot may delete messages {where} (those under 48 hours old)", None)
                if can_delete
                else (
                    False,
                    f"the bot is {status} {where} without 'Delete messages'",
                    "give the bot the 'Delete messages' right: channel > Administrators > the bot",
                )
            )
        return self.checked(
            log,
            identity=f"@{username}" if isinstance(username, str) and username else None,
            post=post,
            reply=(post[0], "a reply is a message in the channel or its discussion group", post[2]),
            delete=delete,
            metrics=(None, "", None),
            account_metrics=counted,
        )

    def inbox(self) -> Inbox:
        """The updates this account's bot has received in this process."""
        return inbox_for(self.base_url, self.credential("bot_token"))

    async def read_updates(self) -> Inbox:
        """Read a page of the bot's updates (``getUpdates``) into its inbox.

        The ``offset`` sent confirms only what every account of the bot has had stored by
        its workspace inbox (:meth:`Inbox.confirmable`): nothing, in a process that has not
        synced an inbox. One page: reading a second would confirm the first.
        """
        return (await self._read_page())[0]

    async def _read_page(self) -> tuple[Inbox, int]:
        """Read one page into the inbox; return it and how many updates the page had.

        A process that has read nothing yet first asks without an offset (confirming
        nothing) to learn which updates are waiting: only those may be confirmed, and the
        next page is read with the offset the stored cursors allow, when it confirms any.
        """
        inbox = self.inbox()
        async with inbox.lock():
            if inbox.read_to is None:
                page = await self._get_updates(None)
                inbox.add_updates(page)
                offset = inbox.confirmable(time.time())
                first = min(
                    (u["update_id"] for u in page if _is_int(_dict(u).get("update_id"))),
                    default=None,
                )
                if offset is None or first is None or offset <= first:
                    return inbox, len(page)  # the same page would come again
            page = await self._get_updates(inbox.confirmable(time.time()))
            return inbox, inbox.add_updates(page)

    async def _get_updates(self, offset: int | None) -> list[Any]:
        payload: dict[str, Any] = {
            "limit": PAGE,
            "timeout": 0,
            "allowed_updates": list(UPDATE_TYPES),
        }
        if offset is not None:
            payload["offset"] = offset
        # A repeat asks for the same offset, so it is harmless: idempotent.
        result = await self._call("getUpdates", json=payload, idempotent=True)
        if not isinstance(result, list):
            raise PlatformError(
                f"{self.title} answered getUpdates with {type(result).__name__}, "
                "not a list of updates",
                platform=self.name,
            )
        return result

    def _channel(self, ref: PostRef | None = None) -> set[str]:
        """The names of this account's channel: its chat_id, and the id a post was sent to."""
        names: set[str] = set()
        for value in (self._chat_id(), ref.extra.get("chat_id") if ref else None):
            if value:
                names.add(value.lower() if value.startswith("@") else value)
        return names

    async def fetch_replies(self, ref: PostRef) -> list[Interaction]:
        """Comments on the post in the channel's discussion group, and replies in the channel.

        Read from the bot's updates: the bot must be a member (best: an administrator) of the
        discussion group to receive its messages, and only comments that arrived while this
        process read updates (or in the 24 hours Telegram keeps unread ones) are known. It
        confirms no update the workspace inbox has not stored (:meth:`read_updates`).
        """
        return self._replies_in(await self.read_updates(), ref)

    async def fetch_mentions(self, *, since: datetime | None = None) -> list[Interaction]:
        """Messages the bot received that mention the channel's or the bot's ``@username``.

        A bot receives group messages mentioning itself; to see mentions of the channel in a
        group, the bot must be an administrator there (or have privacy mode off).
        """
        inbox = await self.read_updates()
        bot = await self._bot_username()
        return self._mentions_in(inbox.messages(), since, bot)

    async def fetch_activity(
        self,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
        posts: Sequence[PostRef] = (),
    ) -> Activity:
        """The comments on ``posts`` and the mentions, from one page of the bot's updates
        (``getUpdates``; ``getMe`` once for the bot's name), where reading per post asked
        ``getUpdates`` again for every post; what :meth:`fetch_replies` says about the
        bot's membership holds here too.

        The cursor (JSON) holds the offset this account's items are read to and the accounts
        known to share the bot. The offset sent to ``getUpdates`` confirms only updates that
        every account of the bot known to this process has had stored, as their cursors came
        back (see :class:`~govsocial_telegram.updates.Inbox`), never beyond this account's
        own cursor: a process killed before the inbox stored what it read loses nothing, as
        Telegram gives unconfirmed updates again. A cursor that is not one of these reads
        as no offset. One page (100 updates) per call: reading the next would confirm this
        one before it is stored; a full page adds a note that more are waiting.
        """
        me = account_key(self.account.key, self._chat_id())
        stored, peers = parse_cursor(cursor)
        inbox = self.inbox()
        # known before any wait, so that an account of the same bot reading meanwhile in
        # this process names it in its cursor
        inbox.learn(me, stored, peers, time.time())
        _inbox, count = await self._read_page()
        bot = await self._bot_username()
        # what this account answers for, and how far it was read, taken together (no wait)
        messages, read_to = inbox.messages(), inbox.read_to
        found: dict[str, Interaction] = {}
        for ref in posts:
            for reply in self._replies_from(messages, ref):
                found.setdefault(reply.ref.id, reply.model_copy(update={"thread_id": ref.id}))
        for mention in self._mentions_in(messages, since, bot):
            found.setdefault(mention.ref.id, mention)
        ordered = sorted(found.values(), key=lambda item: item.created_at)
        notes: tuple[str, ...] = ()
        if count >= PAGE:
            notes = (
                f"{self.title} has more than {PAGE} updates waiting for the bot: the next "
                "sync reads the next page (Telegram keeps unconfirmed updates 24 hours)",
            )
        offset = read_to if read_to is not None else stored
        return Activity(
            interactions=tuple(ordered),
            cursor=cursor_text(offset, inbox.known_peers(time.time())),
            notes=notes,
        )

    def _replies_in(self, inbox: Inbox, ref: PostRef) -> list[Interaction]:
        return self._replies_from(inbox.messages(), ref)

    def _replies_from(self, messages: list[dict[str, Any]], ref: PostRef) -> list[Interaction]:
        listed = ref.extra.get("message_ids", "")
        ids = {int(i) for i in listed.split(",") if i.strip().isdigit()}
        if ref.id.isdigit():
            ids.add(int(ref.id))
        if not ids:
            return []
        found = replies_to(messages, self._channel(ref), ids)
        return [self._interaction("reply", message, str(answers)) for message, answers in found]

    def _mentions_in(
        self, messages: list[dict[str, Any]], since: datetime | None, bot: str
    ) -> list[Interaction]:
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        names = {name for name in self._channel() if name.startswith("@")}
        if self.account.handle.startswith("@"):
            names.add(self.account.handle.lower())
        names.add("@" + bot.lower())
        found = []
        for message in mentions_of(messages, names, self._channel()):
            interaction = self._interaction("mention", message, None)
            if since is None or interaction.created_at > since:
                found.append(interaction)
        return found

    async def search(
        self, query: str, *, cursor: str | None = None, since: datetime | None = None
    ) -> SearchPage:
        """Channel posts the bot received (``channel_post`` updates: the bot is a member or
        admin of those channels) that match ``query`` (:meth:`WatchQuery.matches`), other
        than this account's own channel, dated at or after the cursor (the newest post's
        date, epoch seconds) or ``since``.

        The Bot API cannot search, so this sees only what reaches the bot (see
        :attr:`search_support`); each post's ``key`` is ``chat:message`` (a message id is
        unique only in its chat).
        """
        parsed = parse_query(query)
        inbox = await self.read_updates()
        floor: float | None = None
        if cursor and cursor.isdigit():
            floor = float(cursor)
        elif since is not None:
            floor = (since if since.tzinfo else since.replace(tzinfo=UTC)).timestamp()
        own = self._channel()
        posts = []
        for message in inbox.messages():
            chat = message.get("chat")
            if not isinstance(chat, dict) or chat.get("type") != "channel":
                continue
            if chat_key(chat) & own:
                continue
            text, _entities = message_text(message)
            if not text or not parsed.matches(text):
                continue
            found = self._interaction("mention", message, None)
            if floor is not None and found.created_at.timestamp() < floor:
                continue
            title = chat.get("title")
            posts.append(
                FoundPost(
                    ref=found.ref,
                    key=f"{found.ref.extra.get('chat_id')}:{found.ref.id}",
                    author=found.author or (f"@{chat['username']}" if chat.get("username") else ""),
                    author_name=found.author_name or (title if isinstance(title, str) else None),
                    text=text,
                    created_at=found.created_at,
                    received_at=found.created_at,
                )
            )
        newest = max((int(p.created_at.timestamp()) for p in posts), default=None)
        return SearchPage(
            posts=posts,
            cursor=str(newest) if newest is not None else None,
            requests=1,
        )

    async def _bot_username(self) -> str:
        if self._username is None:
            me = await self._call("getMe", json={}, idempotent=True)
            username = me.get("username") if isinstance(me, dict) else None
            if not isinstance(username, str) or not username:
                raise PlatformError(
                    f"{self.title} answered getMe without the bot's username", platform=self.name
                )
            self._username = username
        return self._username

    def _interaction(
        self, kind: str, message: dict[str, Any], in_reply_to_id: str | None
    ) -> Interaction:
        chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
        assert isinstance(chat, dict)
        chat_id = str(chat.get("id"))
        username = chat.get("username") if isinstance(chat.get("username"), str) else None
        message_id = int(message["message_id"])
        author, author_name = _author(message)
        text, _entities = message_text(message)
        date = message.get("date")
        return Interaction(
            kind="reply" if kind == "reply" else "mention",
            ref=PostRef(
                platform=self.name,
                account=self.account,
                id=str(message_id),
                url=_link(username, chat_id, message_id),
                extra={"chat_id": chat_id},
            ),
            author=author,
            author_name=author_name,
            text=text,
            created_at=(
                datetime.fromtimestamp(_seconds(date), UTC)
                if isinstance(date, int) and not isinstance(date, bool)
                else datetime.now(UTC)
            ),
            in_reply_to_id=in_reply_to_id,
        )

    # -- helpers ---------------------------------------------------------------------------

    def _scrubbed(self, error: GovSocialError) -> GovSocialError:
        secrets = list(self.iter_credentials())
        error.message = scrub(error.message, secrets)
        if isinstance(error, PlatformError) and error.body:
            error.body = scrub(error.body, secrets)
        error.args = (error._render(),)
        return error


# -- small helpers ------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _message_id(message: Any) -> int | None:
    if not isinstance(message, dict):
        return None
    value = message.get("message_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _seconds(value: int) -> int:
    """A Bot API date in seconds (telegram-test-api answers sendMessage in milliseconds)."""
    return value // 1000 if value > 100_000_000_000 else value


def _form(fields: dict[str, Any]) -> dict[str, str]:
    """Multipart form fields: objects JSON-serialized, as the Bot API asks."""
    return {
        name: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for name, value in fields.items()
    }


def _link(username: str | None, chat_id: str, message_id: int) -> str | None:
    """The t.me link of a message: public chats by username, private channels by id."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    if chat_id.startswith("-100") and chat_id[4:].isdigit():
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return None


def _author(message: dict[str, Any]) -> tuple[str, str | None]:
    """The ``@username`` (or id) and display name of who sent a message.

    ``sender_chat`` is set when a channel or an anonymous group admin sent it.
    """
    sender = message.get("sender_chat")
    if not isinstance(sender, dict):
        sender = message.get("from")
    if not isinstance(sender, dict):
        return "", None
    username = sender.get("username")
    handle = f"@{username}" if isinstance(username, str) and username else str(sender.get("id"))
    title = sender.get("title")
    if isinstance(title, str) and title:
        return handle, title
    names = [sender.get("first_name"), sender.get("last_name")]
    name = " ".join(n for n in names if isinstance(n, str) and n)
    return handle, name or None
