"""The data govsocial passes around: posts, media, accounts, references, results, metrics.

All are pydantic v2 models built on :class:`Model` (``Problem``, from
:mod:`govsocial.core.problem`, on pydantic's own base). Inputs (Post, Media, Account) and
outputs (PostRef, metrics, Interaction, Problem) are frozen: a value that was validated stays
valid.
Every model round-trips through JSON (``model_dump_json`` / ``model_validate_json``);
credentials are the one exception, on purpose: a SecretStr dumps as ``**********``.

Invalid input (``Media()``, ``Account(base_url="ftp://...")``, ``Post(text=123)``) raises
:class:`govsocial.ValidationError`, whose problems name each field at fault and what is
expected, and whose hint says how to fix it; never pydantic's own error. It is a ValueError,
as pydantic's was.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from govsocial.core._env import check_env_reference, http_refusal
from govsocial.core._html import (
    MUTED,
    card,
    escape,
    labels,
    link,
    multiline,
    muted,
    status,
    table,
)
from govsocial.core.errors import ConfigurationError, GovSocialError, ValidationError
from govsocial.core.problem import Problem

__all__ = [
    "METRIC_FIELDS",
    "Account",
    "AccountCheck",
    "AccountMetrics",
    "Activity",
    "Capability",
    "EventContext",
    "Interaction",
    "Media",
    "Model",
    "Post",
    "PostMetrics",
    "PostRef",
    "PostVariant",
    "Problem",
    "PublishResult",
    "VideoInfo",
    "LONE_SURROGATE",
    "describe_duration",
    "has_lone_surrogate",
    "refuse_lone_surrogates",
    "sniff_mime_type",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

# Magic numbers of the media types platforms accept. Sniffing beats trusting a file name.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"ftyp", 4, "video/mp4"),
)


# ISO BMFF brands (bytes 8-12 of an ``ftyp`` box) that are still images, not video.
_IMAGE_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic",
    b"mif1": "image/heic",
    b"msf1": "image/heic",
    b"avif": "image/avif",
    b"avis": "image/avif",
}


def sniff_mime_type(head: bytes) -> str | None:
    """The MIME type told by the first bytes of a file, or None when they say nothing known.

    Knows JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC, AVIF, MP4, MOV, WebM and Ogg (16 bytes
    suffice).
    """
    for signature, offset, mime in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if mime == "video/mp4":
                brand = head[8:12]
                if brand == b"qt  ":
                    return "video/quicktime"
                return _IMAGE_BRANDS.get(brand, mime)
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:2] == b"BM" and len(head) >= 14 and head[6:10] == b"\0\0\0\0":
        return "image/bmp"
    if head[:4] in (b"II*\0", b"MM\0*"):
        return "image/tiff"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    if head[:4] == b"OggS":
        return "video/ogg"
    return None


#: The shared metrics vocabulary (see docs/concepts.md).
METRIC_FIELDS: tuple[str, ...] = (
    "views",
    "reach",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "bookmarks",
    "clicks",
)


# -- invalid input: pydantic's errors become one govsocial.ValidationError ------------------

# What a pydantic error type expects, for the hint (the message already says it in pydantic's
# words; the hint says what to pass).
_EXPECTED = {
    "string_type": "a str",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "True or False",
    "bool_parsing": "True or False",
    "bytes_type": "bytes",
    "dict_type": "a dict",
    "list_type": "a list or tuple",
    "tuple_type": "a list or tuple",
    "path_type": "a file path (str or pathlib.Path)",
    "datetime_type": "a datetime or an ISO 8601 text such as 2026-01-01T09:00+07:00",
    "datetime_parsing": "a datetime or an ISO 8601 text such as 2026-01-01T09:00+07:00",
    "datetime_from_date_parsing": "a datetime or an ISO 8601 text such as 2026-01-01T09:00+07:00",
}


def _field_path(loc: tuple[int | str, ...]) -> str:
    """``("media", 0, "alt_text")`` -> ``media[0].alt_text``.

    A part that is not printable text (a key of the caller's, such as a label's name or an
    unknown field holding a line break) is shown quoted, ``labels['a\\nb']``, so a field
    path, and a message naming it, is always one line.
    """
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not part.isprintable():
            path += f"[{part!r}]"
        else:
            path += f".{part}" if path else part
    return path


def _words(name: str) -> str:
    """``PostRef`` -> ``post ref``: a class name as the subject of a message."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def _problem(model: type[BaseModel], error: Any) -> tuple[Problem, str | None]:
    """One pydantic error (an ``ErrorDetails`` dict) as a Problem naming its field, and the
    hint to fix it."""
    kind: str = error["type"]
    loc: tuple[int | str, ...] = tuple(error["loc"])
    context: dict[str, Any] = error.get("ctx") or {}
    field = _field_path(loc) or _words(model.__name__).replace(" ", "_")
    leaf = next((part for part in reversed(loc) if isinstance(part, str)), field)
    leaf = leaf if leaf.isprintable() else repr(leaf)
    message: str = error["msg"]
    hint: str | None = context.get("hint")
    if kind == "missing":
        message = "is required"
        hint = f"pass {leaf}=..."
    elif kind == "extra_forbidden":
        message = "is not a field here"
        if len(loc) == 1:
            known = ", ".join(model.model_fields)
            hint = f"check the spelling; {model.__name__} takes {known}"
        else:
            hint = "check the spelling"
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind in _EXPECTED:
        # only the input's type, never its value: it may be a credential
        message = f"{message} (got {type(error.get('input')).__name__})"
        hint = hint or f"give {leaf} as {_EXPECTED[kind]}"
    elif kind in ("model_type", "model_attributes_type"):
        expected = context.get("class_name", "the documented model")
        message = f"{message} (got {type(error.get('input')).__name__})"
        hint = f"pass {leaf} as {expected}(...) or a dict of its fields"
    return Problem(code=kind, message=message, field=field), hint


def invalid_input(model: type[BaseModel], error: PydanticValidationError) -> ValidationError:
    """pydantic's ``error`` for input to ``model`` as a :class:`govsocial.ValidationError`.

    Each problem names its field (``media[0].alt_text``), says what is expected (never the
    value given, which may be a secret: only its type), and the error's hint says how to
    fix each.
    """
    details = error.errors(include_url=False)
    problems: list[Problem] = []
    hints: list[str] = []
    for detail in details:
        problem, hint = _problem(model, detail)
        problems.append(problem)
        if hint and hint not in hints:
            hints.append(hint)
    return ValidationError(problems, subject=_words(model.__name__), hint="; ".join(hints) or None)


#: fields whose values are platforms' own answers, kept as JSON and never sent again
_UNCHECKED = frozenset({"raw"})
_SURROGATE = re.compile("[\ud800-\udfff]")

#: what is wrong with a text holding a lone surrogate, and how to fix it
LONE_SURROGATE = (
    "contains a lone surrogate (U+D800 to U+DFFF), which is not a character: "
    "it cannot be stored or sent",
    "remove it; a file or argument that is not UTF-8 decodes to such code points, so "
    "save or type it as UTF-8",
)


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate: a code point U+D800 to U+DFFF, which no
    UTF-8 encoder, database or platform accepts (Python strings never pair them)."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def refuse_lone_surrogates(text: str, field: str, *, subject: str = "input") -> str:
    """``text`` itself, unless it holds a lone surrogate; for text that is not a model's
    field (a rejection's reason). Models refuse them in every field themselves.

    :raises ValidationError: it does, naming ``field`` (``subject`` names what was checked).
    """
    if has_lone_surrogate(text):
        message, hint = LONE_SURROGATE
        raise ValidationError(
            [Problem(code="lone_surrogate", message=message, field=field)],
            subject=subject,
            hint=hint,
        )
    return text


def _lone_surrogate(value: Any) -> bool:
    """Whether ``value`` (a text, or a dict, list or tuple of texts) holds a lone surrogate."""
    if isinstance(value, str):
        return has_lone_surrogate(value)
    if isinstance(value, SecretStr):
        return _lone_surrogate(value.get_secret_value())
    if isinstance(value, dict):
        return any(_lone_surrogate(k) or _lone_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_lone_surrogate(item) for item in value)
    return False


def _custom(code: str, message: str, hint: str) -> PydanticCustomError:
    """An error for a validator to raise: pydantic keeps the location, we keep the hint."""
    return PydanticCustomError(code, "{message}", {"message": message, "hint": hint})


class Model(BaseModel):
    """The base of govsocial's models: invalid input raises :class:`govsocial.ValidationError`.

    Construction (``Model(...)``), ``model_validate`` and ``model_validate_json`` turn
    pydantic's error into one ValidationError whose problems name each field at fault, so
    callers catch one error tree. Nested models report their full path (``media[0].path``).
    """

    def __init__(self, /, **data: Any) -> None:
        try:
            # what BaseModel.__init__ does, without one more Python frame per model made
            self.__pydantic_validator__.validate_python(data, self_instance=self)
        except PydanticValidationError as error:
            # from None: pydantic's text shows the input values, and a value may be a secret
            raise invalid_input(type(self), error) from None

    # pydantic validates nested models without calling __init__, so their errors stay
    # inside the outer error (with the full path) instead of being wrapped as value errors.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("*", mode="after")
    @classmethod
    def _no_lone_surrogates(cls, value: Any, info: ValidationInfo) -> Any:
        """Refuse text with a lone surrogate: it cannot be encoded, stored or sent, so it
        would fail later, inside a transaction or a request (security review, finding 16)."""
        if info.field_name not in _UNCHECKED and _lone_surrogate(value):
            if cls._surrogates_replaced and isinstance(value, str):
                return _SURROGATE.sub("\ufffd", value)
            raise _custom("lone_surrogate", *LONE_SURROGATE)
        return value

    #: True on models of what others wrote (a citizen's reply): a lone surrogate there is
    #: replaced with U+FFFD, so the message is kept, instead of refused.
    _surrogates_replaced: ClassVar[bool] = False

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate ``obj`` (a dict or a model) as this model; see pydantic's method.

        :raises ValidationError: ``obj`` is not valid, with one problem per field at fault.
        """
        try:
            return super().model_validate(obj, *args, **kwargs)
        except PydanticValidationError as error:
            raise invalid_input(cls, error) from None

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any
    ) -> Self:
        """Validate the JSON text ``json_data`` as this model; see pydantic's method.

        :raises ValidationError: the JSON is not valid or does not fit, with one problem per
            field at fault.
        """
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except PydanticValidationError as error:
            raise invalid_input(cls, error) from None


class VideoInfo(Model):
    """A video's facts as its file states them (:meth:`Media.video_info`).

    ``duration`` in seconds; ``width`` and ``height`` in pixels as displayed (rotation
    applied); ``frame_rate`` in frames per second; ``video_codec`` and ``audio_codec``
    in FFmpeg's names (``h264``, ``hevc``, ``vp9``, ``aac``, ``opus``; None: no audio);
    ``bitrate`` in bits per second (None when the file does not say); ``size`` in bytes;
    ``container`` FFmpeg's format name (``mov,mp4,m4a,3gp,3g2,mj2`` for MP4 and MOV).
    """

    model_config = _FROZEN

    duration: float
    width: int
    height: int
    frame_rate: float | None = None
    video_codec: str
    audio_codec: str | None = None
    audio_channels: int | None = None
    bitrate: int | None = None
    size: int
    container: str

    @property
    def aspect_ratio(self) -> float:
        """Width over height (0.5625 for 9:16 portrait, 1.777... for 16:9)."""
        return self.width / self.height if self.height else 0.0

    @property
    def orientation(self) -> Literal["portrait", "landscape", "square"]:
        """``portrait``, ``landscape`` or ``square``."""
        if self.width == self.height:
            return "square"
        return "portrait" if self.height > self.width else "landscape"

    def summary(self) -> str:
        """One line for messages: ``1080x1920, 42 s, 30 fps, h264/aac``."""
        rate = f", {self.frame_rate:g} fps" if self.frame_rate else ""
        audio = f"/{self.audio_codec}" if self.audio_codec else ", no audio"
        return (
            f"{self.width}x{self.height}, {describe_duration(self.duration)}{rate}, "
            f"{self.video_codec}{audio}"
        )


def describe_duration(seconds: float) -> str:
    """``0.5 s``, ``42 s``, ``3 min``, ``2 min 20 s``, ``1 h 5 min``: for people."""
    if seconds < 60:
        return f"{seconds:g} s" if seconds < 10 else f"{round(seconds)} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


class Media(Model):
    """An image or video to attach: exactly one of ``path``, ``data`` or ``url``.

    ``mime_type`` is sniffed from the content when not given (falling back to the file
    name). ``alt_text`` describes the media for people who cannot see it.

    A video may also carry a ``cover`` (an image :class:`Media`: the thumbnail platforms
    show before it plays) and ``captions`` (an SRT or WebVTT file, in
    ``captions_language``, a BCP 47 tag such as ``"id"``). :meth:`video_info` reads its
    duration, size in pixels, frame rate and codecs (docs/video.md).
    """

    model_config = _FROZEN

    path: Path | None = None
    data: bytes | None = Field(default=None, repr=False)
    url: str | None = None
    alt_text: str = ""
    mime_type: str | None = None
    cover: Media | None = None
    captions: Path | None = None
    captions_language: str | None = None

    @field_validator("path")
    @classmethod
    def _a_file_name(cls, value: Path | None) -> Path | None:
        """Refuse a path no file system names a file by: one holding NUL, or a code point
        the file system's encoding cannot write (``"\ud800"``; the ``"\udcff"`` of a file
        name that is not UTF-8 is fine). Every look at it (its size, its type) would raise."""
        if value is None:
            return value
        if "\x00" in str(value):
            raise _custom(
                "path_nul",
                "a file path cannot hold a NUL character",
                "check where the path came from; give the file's real name",
            )
        try:
            os.fsencode(value)
        except UnicodeEncodeError:
            message, hint = LONE_SURROGATE
            raise _custom("lone_surrogate", message, hint) from None
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Media:
        given = [name for name in ("path", "data", "url") if getattr(self, name) is not None]
        if len(given) != 1:
            raise _custom(
                "media_source",
                "give exactly one of path=, data= or url= "
                f"(got {', '.join(given) if given else 'none'})",
                "Media(path='poster.png', alt_text=...) for a file, data=b'...' for bytes "
                "in memory, url='https://...' for a file on the web",
            )
        if self.mime_type is None:
            object.__setattr__(self, "mime_type", self._guess_mime_type())
        if self.cover is not None and self.cover.kind != "image":
            raise _custom(
                "cover_not_image",
                f"a video's cover must be an image, not {self.cover.mime_type or 'unknown'}",
                "cover=Media(path='cover.jpg') with a JPEG or PNG still",
            )
        if self.captions is not None and self.captions.suffix.lower() not in (".srt", ".vtt"):
            raise _custom(
                "captions_type",
                f"captions {self.captions.name} are not .srt or .vtt",
                "give captions as SubRip (.srt) or WebVTT (.vtt); convert other formats first",
            )
        if (self.cover is not None or self.captions is not None) and self.kind == "image":
            raise _custom(
                "video_only",
                "cover= and captions= belong to a video; this media is an image",
                "drop cover= and captions=, or attach the video they belong to",
            )
        return self

    def _guess_mime_type(self) -> str | None:
        head = b""
        if self.data is not None:
            head = self.data[:16]
        elif self.path is not None:
            try:  # a regular file only: a pipe or device would block or never end
                if os.path.isfile(self.path):
                    with open(self.path, "rb") as handle:
                        head = handle.read(16)
            except OSError:
                head = b""
        sniffed = sniff_mime_type(head)
        if sniffed:
            return sniffed
        # a URL's query and fragment are not part of the file name (…/a.jpg?w=1 is a JPEG)
        name = str(self.path) if self.path is not None else urlsplit(self.url or "").path
        guessed, _ = mimetypes.guess_type(name)
        return guessed

    @property
    def source(self) -> str:
        """A short description of where the bytes come from, for messages."""
        if self.path is not None:
            return str(self.path)
        if self.url is not None:
            return self.url
        return f"<{len(self.data or b'')} bytes>"

    @property
    def kind(self) -> Literal["image", "video", "other"]:
        """What the file is, from its MIME type: ``image``, ``video`` or ``other``."""
        mime = self.mime_type or ""
        if mime.startswith("image/"):
            return "image"
        if mime.startswith("video/"):
            return "video"
        return "other"

    def size(self) -> int | None:
        """Size in bytes when it can be known offline (None for a URL or a missing file)."""
        if self.data is not None:
            return len(self.data)
        if self.path is not None:
            try:
                return os.stat(self.path).st_size
            except OSError:
                return None
        return None

    def video_info(self) -> VideoInfo:
        """The video's duration, size, frame rate, codecs and bit rate, read from its file.

        Reading needs PyAV (``pip install 'govsocial[video]'``); results are cached per file.
        A URL is not fetched for this: ``govsocial.validate`` checks a URL video's rules
        when the adapter downloads it.

        :raises ConfigurationError: PyAV is missing, the media is a URL, or the file
            cannot be read.
        :raises ValidationError: the file is not a readable video (``video_unreadable``).
        """
        from govsocial.core._video_probe import read_facts

        if self.url is not None:
            raise ConfigurationError(
                f"media {self.url} is a URL; its video facts are read once it is fetched",
                field="media.url",
            )
        source: bytes | Path = self.data if self.data is not None else Path(self.path or "")
        return VideoInfo(**read_facts(source, field="media"))

    def read_bytes(self) -> bytes:
        """The media's bytes, for a path or data source, read as they are: no checks.

        Adapters read media with ``Platform.read_media`` instead, which confines paths to
        the media roots, sniffs the type and caps the size (docs/media-hosts.md).

        :raises ConfigurationError: the file cannot be read, or the media is a URL.
        """
        if self.data is not None:
            return self.data
        if self.path is not None:
            try:
                return Path(self.path).read_bytes()
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot read media file {self.path}: {exc.strerror or exc}",
                    field="media.path",
                    hint="check the path and its permissions",
                ) from None
        raise ConfigurationError(f"media {self.url} is a URL; fetch it first", field="media.url")


class PostVariant(Model):
    """A per-platform override of a post's text, media or language."""

    model_config = _FROZEN

    text: str | None = None
    media: tuple[Media, ...] | None = None
    language: str | None = None


class Post(Model):
    """Something to publish: text, media, language, labels and per-platform variants.

    ``Post("Halo")`` is the short form of ``Post(text="Halo")``. ``labels`` are free
    key/value tags for reporting (``{"program": "vaksinasi"}``); they are never sent.
    ``reply_to`` makes the post a reply (a thread when it is your own post).
    """

    model_config = _FROZEN

    text: str = ""
    media: tuple[Media, ...] = ()
    language: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    variants: dict[str, PostVariant] = Field(default_factory=dict)
    reply_to: PostRef | None = None
    content_warning: str | None = None

    def __init__(self, text: str | None = None, /, **data: Any) -> None:
        if text is not None:
            if "text" in data:
                raise TypeError("Post() got text both positionally and as text=")
            data["text"] = text
        super().__init__(**data)

    # nested posts (a Job's) are validated by pydantic directly: their errors keep their path
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def for_platform(self, platform: str) -> Post:
        """This post with the variant for ``platform`` applied (itself when there is none)."""
        variant = self.variants.get(platform)
        if variant is None:
            return self
        changes: dict[str, Any] = {}
        if variant.text is not None:
            changes["text"] = variant.text
        if variant.media is not None:
            changes["media"] = variant.media
        if variant.language is not None:
            changes["language"] = variant.language
        return self.model_copy(update=changes)

    def _repr_html_(self) -> str:
        """A card for notebooks: text, media with alt text, labels and variants."""
        return post_html(self)


class Account(Model):
    """An account on a platform, with the credentials to act as it.

    Credential values are SecretStr: they print as ``**********``. A value ``env:NAME`` is
    read from the environment variable NAME when it is used, so files can name secrets
    without holding them; NAME must be allowed by ``GOVSOCIAL_ENV_ALLOW`` (default
    ``GOVSOCIAL_CRED_*`` and ``HUMAS_*``) and is never one of govsocial's own settings such
    as ``GOVSOCIAL_SECRET_KEY``. An ``http://`` base_url is refused unless its host is in
    ``GOVSOCIAL_ALLOW_HTTP`` (default: loopback only). See docs/operations.md (Secrets).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: str
    handle: str
    base_url: str | None = None
    credentials: dict[str, SecretStr] = Field(default_factory=dict)
    timezone: str = "Asia/Jakarta"
    name: str | None = None

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            scheme = urlsplit(value).scheme
            got = f"{scheme}://" if scheme and "://" in value else "no scheme"
            raise _custom(
                "base_url_scheme",
                f"base_url must start with https:// or http:// (got {got})",
                "write the server's address in full, e.g. base_url='https://mastodon.go.id'",
            )
        refusal = http_refusal(value)
        if refusal is not None:
            rule, fix = refusal
            raise _custom("base_url_http", f"base_url {value} refused: {rule}", fix)
        return value

    @property
    def key(self) -> str:
        """A stable identifier of this account: platform, handle and server."""
        return f"{self.platform}:{self.handle}@{self.base_url or ''}"

    def credential(self, name: str) -> str:
        """The secret value of credential ``name``, resolving ``env:NAME`` references.

        :raises ConfigurationError: the credential is missing, its variable is not allowed
            (``GOVSOCIAL_ENV_ALLOW``) or is unset.
        """
        secret = self.credentials.get(name)
        if secret is None:
            raise ConfigurationError(
                f"account {self.handle} on {self.platform} has no credential {name!r}",
                field=f"credentials.{name}",
                hint=f"pass credentials={{{name!r}: ...}} "
                "(an env:NAME reference keeps the secret out of files)",
            )
        value = secret.get_secret_value()
        if value.startswith("env:"):
            variable = value[4:]
            check_env_reference(
                variable, field=f"credentials.{name}", owner=f"{self.handle} on {self.platform}"
            )
            resolved = os.environ.get(variable)
            if not resolved:
                raise ConfigurationError(
                    f"credential {name!r} of {self.handle} refers to environment variable "
                    f"{variable}, which is not set",
                    field=f"credentials.{name}",
                    hint=f"export {variable}=...",
                )
            return resolved
        return value

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Account):
            return NotImplemented
        return self.key == other.key and self.credentials == other.credentials


class PostRef(Model):
    """Where a published post lives: platform, account, native id and public URL.

    ``extra`` holds what a platform needs besides the id (Bluesky's ``cid``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: str
    account: Account
    id: str
    url: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.platform, self.account.key, self.id))


class PublishResult(Model):
    """The outcome of publishing to one account: ``ok`` with a ``ref``, or an ``error``."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    account: Account
    ref: PostRef | None = None
    error: GovSocialError | None = None
    idempotency_key: str | None = None

    @property
    def ok(self) -> bool:
        """True when the post is published: no error and a reference to it."""
        return self.error is None and self.ref is not None

    def _repr_html_(self) -> str:
        """A card for notebooks: the account, published or the error, the link."""
        return result_html(self)

    @field_serializer("error")
    def _error_to_json(self, error: GovSocialError | None) -> dict[str, str | None] | None:
        if error is None:
            return None
        return {"type": type(error).__name__, "message": str(error), "field": error.field}

    @field_validator("error", mode="before")
    @classmethod
    def _error_from_json(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return GovSocialError(value.get("message", ""), field=value.get("field"))
        return value


class PostMetrics(Model):
    """A post's figures at one moment. None means the platform does not report that figure."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: PostRef
    collected_at: datetime
    views: int | None = None
    reach: int | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    bookmarks: int | None = None
    clicks: int | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class AccountMetrics(Model):
    """An account's figures at one moment. None means the platform does not report it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: Account
    collected_at: datetime
    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


#: The actions ``govsocial check`` reports, in order.
CAPABILITIES: tuple[str, ...] = ("post", "reply", "delete", "metrics", "account_metrics")


class Capability(Model):
    """Whether an account can do one thing, as :meth:`Client.check` found it.

    ``ok`` is True (it can), False (it cannot: ``fix`` says what to do) or None (the cheap
    reads a check makes cannot tell; ``detail`` says why). ``name`` is one of
    :data:`CAPABILITIES`: post, reply, delete, metrics (post figures), account_metrics.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    ok: bool | None
    detail: str
    fix: str | None = None


class AccountCheck(Model):
    """What an account can do on its platform, from the platform's cheapest reads.

    ``token_ok`` says whether the platform accepted the credentials at all; ``identity``
    is who they belong to as the platform names it; ``scopes`` the permissions or scopes the
    platform reports for the token (None: it does not say); ``rate`` the rate-limit figures
    its answers carried; ``calls`` the requests made (``GET /api/v1/accounts/...``), so a
    reader knows what was asked. ``capabilities`` has one :class:`Capability` per action.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: Account
    checked_at: datetime
    token_ok: bool
    identity: str | None = None
    scopes: list[str] | None = None
    expires_at: datetime | None = None
    rate: dict[str, str] = Field(default_factory=dict)
    capabilities: list[Capability] = Field(default_factory=list)
    calls: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    error: str | None = None

    @property
    def missing(self) -> list[Capability]:
        """The capabilities the account lacks (``ok`` is False)."""
        return [c for c in self.capabilities if c.ok is False]

    def capability(self, name: str) -> Capability | None:
        """The capability called ``name``, if the check reported it."""
        return next((c for c in self.capabilities if c.name == name), None)


class Interaction(Model):
    """A reply to one of the account's posts, or a mention of the account.

    ``ref`` points at the interaction itself (reply to it with ``Client.reply``);
    ``in_reply_to_id`` is the native id of the post it answers, when known.
    ``created_at`` is the date the author's app wrote, which the author controls;
    ``received_at`` is when the platform received it by the platform's own clock (Bluesky
    ``indexedAt``, the Mastodon notification's time), None when the platform does not say.
    The inbox orders, pages and times items by ``received_at``, never by ``created_at``.
    ``thread_id`` is the native id of the post that starts the conversation, when the
    platform says (Bluesky's reply root, X's ``conversation_id``, Facebook's post): the
    inbox threads a reply read from notifications to the post it answers with it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    _surrogates_replaced: ClassVar[bool] = True  # a citizen's text is kept, not refused

    kind: Literal["reply", "mention"]
    ref: PostRef
    author: str
    author_name: str | None = None
    text: str
    created_at: datetime
    in_reply_to_id: str | None = None
    received_at: datetime | None = None
    thread_id: str | None = None

    @property
    def platform(self) -> str:
        """The platform the interaction happened on (that of the post it refers to)."""
        return self.ref.platform


class Activity(Model):
    """What one :meth:`~govsocial.adapters.Platform.fetch_activity` call read: the replies
    and mentions that arrived since the previous call, and where the next call starts.

    ``cursor`` is the adapter's own opaque text (a notification id, a date, a JSON object):
    the inbox stores it per account in the same transaction as the items, and gives it back
    on the next call; None keeps the previous one. ``notes`` says what the read could not
    reach (a page cap hit before the previous cursor), for the sync's problems.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    interactions: tuple[Interaction, ...] = ()
    cursor: str | None = None
    notes: tuple[str, ...] = ()


Post.model_rebuild()


@dataclass(frozen=True, slots=True)
class EventContext:
    """Where an event belongs, for the event hooks (``publish_started``, ``publish_finished``,
    ``post_deleted``).

    Every field is None for a direct :class:`~govsocial.Client` publish or delete; a
    workspace's worker says which workspace, job and delivery the event is part of. It never
    holds a secret (no credentials, no database password).

    :param workspace: the workspace the event belongs to (its name or address, without any
        password), None outside a workspace.
    :param job_id: the scheduled job, when the event is part of one.
    :param delivery_id: the delivery (one post to one account at one time) within the job.
    :param actor: who acted (a person's id in the workspace), when known.

    .. versionadded:: 0.2.0
    """

    workspace: str | None = None
    job_id: str | None = None
    delivery_id: str | None = None
    actor: str | None = None


# -- rich display in notebooks (Post._repr_html_, PublishResult._repr_html_) ---------


def _account_html(account: Account) -> str:
    where = f" ({account.platform}"
    where += f", {account.base_url})" if account.base_url else ")"
    return escape(account.handle) + muted(where)


def _ref_html(ref: PostRef) -> str:
    return link(ref.url, ref.url) if ref.url else escape(ref.id)


def _media_html(media: Sequence[Media]) -> str:
    items = []
    for item in media:
        size = item.size()
        what = f"{item.kind} {item.mime_type or 'unknown type'}"
        if size is not None:
            what += f", {size:,} bytes"
        source = link(item.url) if item.url else escape(item.path.name if item.path else "")
        alt = escape(item.alt_text) if item.alt_text else "<strong>no alt text</strong>"
        items.append(
            f"<li>{escape(what)}{' ' + source if source else ''}<br>"
            f"<span style='{MUTED}'>alt:</span> {alt}</li>"
        )
    return "<ul style='margin:0;padding-left:1.2em'>" + "".join(items) + "</ul>"


def _variant_html(variant: PostVariant) -> str:
    parts = []
    if variant.text is not None:
        parts.append(multiline(variant.text))
    if variant.media is not None:
        parts.append(_media_html(variant.media) if variant.media else muted("no media"))
    if variant.language is not None:
        parts.append(muted(f"language: {variant.language}"))
    return "<br>".join(parts) or muted("(no change)")


def post_html(post: Post) -> str:
    """A card for ``post``: text, media with alt text, labels, variants and reply target."""
    rows: list[list[str]] = [["text", multiline(post.text) if post.text else muted("(empty)")]]
    if post.content_warning:
        rows.append(["content warning", escape(post.content_warning)])
    if post.media:
        rows.append(["media", _media_html(post.media)])
    if post.language:
        rows.append(["language", escape(post.language)])
    if post.labels:
        rows.append(["labels", labels(post.labels)])
    if post.reply_to is not None:
        rows.append(["reply to", _ref_html(post.reply_to)])
    for platform, variant in post.variants.items():
        rows.append([f"variant: {platform}", _variant_html(variant)])
    return card("post", "Post", table(rows, side=True))


def result_html(result: PublishResult) -> str:
    """A card for one account's publish outcome: the account, ok or the error, the link."""
    rows: list[list[str]] = [["account", _account_html(result.account)]]
    if result.ok and result.ref is not None:
        rows.append(["status", "published"])
        rows.append(["link", _ref_html(result.ref)])
    else:
        rows.append(["status", status("failed" if result.error is not None else "no reference")])
        if result.error is not None:
            rows.append(["error", f"{escape(type(result.error).__name__)}: {escape(result.error)}"])
    return card("result", "Publish result", table(rows, side=True))
