"""Pinned content: the exact post an approval covers, media bytes included.

A draft pins its content when it is written: the text, language, labels, variants and
warning as they are, and for every media file (the post's and each variant's) the SHA-256
of its bytes. The content digest (:attr:`PinnedContent.digest`) is the SHA-256 of that
record as canonical JSON; an approval names it (and a signed approval signs it), the job
carries it, and the worker holds the job's post to it before sending
(:func:`check_pinned`), so a file swapped after approval is refused, not published.

What is pinned, per kind of media:

- ``Media(path=...)``: the path and the SHA-256 of the file's bytes (read under the media
  roots, as a publish reads them). The worker reads the file once, checks the digest and
  sends exactly the bytes it checked.
- ``Media(data=...)``: the SHA-256 of the bytes (they are in the post itself).
- ``Media(url=...)``: the URL only. govsocial does not fetch a URL when a draft is written
  or approved (the bytes live on a server the workspace does not control, and Instagram and
  Threads fetch them themselves at publication), so its bytes are not pinned; approvers see
  "URL, bytes not pinned". Where the bytes must be pinned, attach the file (``path=``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import ConfigDict

from govsocial.adapters import media_safety
from govsocial.core.errors import ConfigurationError, GovSocialError, ValidationError
from govsocial.core.models import Media, Model, Post, PostVariant

__all__ = ["MediaMismatch", "PinnedContent", "PinnedMedia", "check_pinned", "pin"]

_FROZEN = ConfigDict(frozen=True)
#: The most bytes read from one media file to pin or check it (larger files are refused).
MAX_PINNED_BYTES = 1 << 30


class PinnedMedia(Model):
    """One media file of a pinned post: where it is, and the digest of its bytes."""

    model_config = _FROZEN

    #: where in the post: ``media[0]``, ``variants.x.media[1]``
    field: str
    kind: Literal["path", "data", "url"]
    #: the path or URL (None for data)
    source: str | None = None
    #: hex SHA-256 of the bytes (None for a URL: not pinned)
    sha256: str | None = None
    size: int | None = None
    mime_type: str | None = None
    alt_text: str = ""

    def describe(self) -> str:
        """One line for an approver: ``media[0] poster.png image/png 10,482 bytes sha256 ab12…``."""
        name = self.source if self.source is not None else "(bytes in the post)"
        if self.sha256 is None:
            return f"{self.field} {name} (URL, bytes not pinned)"
        size = f" {self.size:,} bytes" if self.size is not None else ""
        return f"{self.field} {name} {self.mime_type or '?'}{size} sha256 {self.sha256}"


class PinnedContent(Model):
    """What an approval covers: the post's digest and each media file's."""

    model_config = _FROZEN

    #: ``sha256:`` and the hex SHA-256 of the canonical record of the post (see module doc)
    digest: str
    media: tuple[PinnedMedia, ...] = ()


class MediaMismatch(Model):
    """A media file whose bytes are not those approved."""

    model_config = _FROZEN

    field: str
    source: str
    approved: str
    found: str

    def message(self) -> str:
        """Names the file and both digests."""
        return (
            f"{self.field} {self.source} is not the file that was approved: its sha256 is "
            f"{self.found}, the approved one {self.approved}"
        )


def _media_items(post: Post) -> Iterator[tuple[str, Media]]:
    for index, media in enumerate(post.media):
        yield f"media[{index}]", media
    for platform in sorted(post.variants):
        variant = post.variants[platform]
        for index, media in enumerate(variant.media or ()):
            yield f"variants.{platform}.media[{index}]", media


def _read(media: Media, field: str) -> bytes:
    """The bytes of path or data media, read as a publish reads them."""
    if media.data is not None:
        return media.data
    assert media.path is not None
    policy = media_safety.MediaPolicy.from_environment()
    path = policy.check_path(media.path, field=f"{field}.path")
    try:
        return media_safety.read_file(path, MAX_PINNED_BYTES, field=field)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read media file {media.path} ({field}): {exc.strerror or exc}",
            field=f"{field}.path",
            hint="check the path and its permissions",
        ) from None


def _pinned_media(field: str, media: Media, data: bytes | None) -> PinnedMedia:
    if media.url is not None:
        return PinnedMedia(
            field=field,
            kind="url",
            source=media.url,
            mime_type=media.mime_type,
            alt_text=media.alt_text,
        )
    assert data is not None
    return PinnedMedia(
        field=field,
        kind="path" if media.path is not None else "data",
        source=str(media.path) if media.path is not None else None,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        mime_type=media.mime_type,
        alt_text=media.alt_text,
    )


def _digest(post: Post, media: tuple[PinnedMedia, ...]) -> str:
    record: dict[str, Any] = post.model_dump(mode="json", exclude={"media"})
    for variant in record.get("variants", {}).values():
        variant.pop("media", None)
    record["media"] = [m.model_dump(mode="json") for m in media]
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def pin(post: Post) -> PinnedContent:
    """Pin ``post`` as it is now: every media file read and digested.

    :raises ValidationError: a media file lies outside the media roots or is too large.
    :raises ConfigurationError: a media file cannot be read.
    """
    media = tuple(
        _pinned_media(field, m, None if m.url is not None else _read(m, field))
        for field, m in _media_items(post)
    )
    return PinnedContent(digest=_digest(post, media), media=media)


def check_pinned(post: Post, pinned: PinnedContent) -> tuple[Post, list[MediaMismatch], str]:
    """Hold ``post`` (a job's) to ``pinned`` (what was approved).

    Returns the post to send, whose path media is replaced by the very bytes checked (so the
    file cannot change between the check and the upload), the media whose bytes differ, and
    the digest of the post as it is now (``!= pinned.digest`` when anything differs, the text
    included).

    :raises GovSocialError: a media file cannot be read any more (the message names it).
    """
    approved = {m.field: m for m in pinned.media}
    mismatches: list[MediaMismatch] = []
    found: list[PinnedMedia] = []
    replaced: dict[str, Media] = {}
    for field, media in _media_items(post):
        try:
            data = None if media.url is not None else _read(media, field)
        except (ConfigurationError, ValidationError) as error:
            raise GovSocialError(
                f"{field} {media.source} cannot be checked against the approved content: "
                f"{error.message if isinstance(error, ConfigurationError) else error}"
            ) from None
        now = _pinned_media(field, media, data)
        found.append(now)
        before = approved.get(field)
        if now.sha256 is not None and (before is None or before.sha256 != now.sha256):
            mismatches.append(
                MediaMismatch(
                    field=field,
                    source=media.source,
                    approved=before.sha256 if before and before.sha256 else "(none)",
                    found=now.sha256,
                )
            )
        if media.path is not None and data is not None:
            replaced[field] = Media(data=data, alt_text=media.alt_text, mime_type=media.mime_type)
    digest = _digest(post, tuple(found))
    return _with_media(post, replaced), mismatches, digest


def _with_media(post: Post, replaced: dict[str, Media]) -> Post:
    if not replaced:
        return post
    media = tuple(replaced.get(f"media[{i}]", m) for i, m in enumerate(post.media))
    variants: dict[str, PostVariant] = {}
    for platform, variant in post.variants.items():
        if variant.media is None:
            variants[platform] = variant
            continue
        swapped = tuple(
            replaced.get(f"variants.{platform}.media[{i}]", m) for i, m in enumerate(variant.media)
        )
        variants[platform] = variant.model_copy(update={"media": swapped})
    return post.model_copy(update={"media": media, "variants": variants})
