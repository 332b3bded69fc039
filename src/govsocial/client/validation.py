"""Offline validation: every problem a post has for a platform, before anything is sent.

:func:`validate` applies the post's variant for the platform, runs the generic checks
against the adapter's declared :class:`~govsocial.adapters.platform.Limits` (text length as the
platform counts it, bytes, media count, type, size and alt text, variants), the adapter's
own ``check_post`` and every plugin's ``validate_post`` house rules. It returns a list of
:class:`~govsocial.core.models.Problem`; an empty list means the post is fine.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

from govsocial.adapters.media_safety import MediaPolicy, mismatch_problem
from govsocial.adapters.platform import Limits, Platform
from govsocial.client.video_rules import captions_problem, video_problems
from govsocial.core.errors import ConfigurationError, ValidationError
from govsocial.core.models import Media, Post, Problem
from govsocial.core.text import utf8_length
from govsocial.core.video import probe_video
from govsocial.plugin.manager import Plugins, default_plugins

__all__ = ["MAX_TEXT_CODE_POINTS", "blocking", "count_characters", "validate"]

#: Text longer than this is refused at once, without counting it as any platform does: no
#: platform takes a post near it (Facebook's 63,206 characters is the longest), and counting
#: a text of megabytes the way X does (every link found and weighed) takes seconds.
MAX_TEXT_CODE_POINTS = 200_000


def count_characters(text: str, platform: str, *, plugins: Plugins | None = None) -> int:
    """``text``'s length as ``platform`` counts it, with its default limits (offline).

    :raises ConfigurationError: no adapter for ``platform`` is installed.
    """
    cls = (plugins or default_plugins()).platform(platform)
    return cls.count_characters(text, cls.limits)


def validate(
    post: Post,
    platform: str,
    *,
    limits: Limits | None = None,
    plugins: Plugins | None = None,
    media_policy: MediaPolicy | None = None,
) -> list[Problem]:
    """Every problem ``post`` has for ``platform``; ``[]`` when it can be sent.

    Media files are checked where this runs: a file outside the media roots is a problem
    (``media_outside_roots``, and it is not read), and a file's or data's bytes must be an
    image or video of the declared type (``media_type_mismatch``). A URL's address and bytes
    are checked when it is downloaded.

    :param limits: the limits to check against (default: the adapter's declared ones; an
        online client passes the server's own, e.g. a Mastodon instance's).
    :param media_policy: the media roots (default: ``GOVSOCIAL_MEDIA_ROOTS``, else the
        working directory; see :mod:`govsocial.adapters.media_safety`).
    :raises ConfigurationError: no adapter for ``platform`` is installed.
    """
    plugins = plugins or default_plugins()
    cls = plugins.platform(platform)
    limits = limits or cls.limits
    known = plugins.platforms()
    problems = [
        Problem(
            code="unknown_variant",
            message=f"variant for unknown platform {name!r} (installed: {', '.join(known)})",
            field=f"variants.{name}",
            platform=platform,
        )
        for name in post.variants
        if name not in known
    ]
    effective = post.for_platform(platform)
    if len(effective.text) > MAX_TEXT_CODE_POINTS:
        problems.append(
            Problem(
                code="text_too_long",
                message=(
                    f"text is {len(effective.text):,} code points; govsocial checks no text over "
                    f"{MAX_TEXT_CODE_POINTS:,} and {cls.title} takes at most "
                    f"{limits.max_characters:,} characters: shorten it"
                ),
                field="text",
                limit=limits.max_characters,
                platform=platform,
            )
        )
        return problems
    problems += _check(effective, cls, limits, media_policy)
    problems += cls.check_post(effective, limits)
    problems += plugins.validate_post(effective, platform, limits)
    return [p if p.platform else p.model_copy(update={"platform": platform}) for p in problems]


def _check(
    post: Post, cls: type[Platform], limits: Limits, policy: MediaPolicy | None
) -> list[Problem]:
    problems: list[Problem] = []
    if not post.text.strip() and not post.media:
        problems.append(
            Problem(
                code="empty",
                message="the post has no text and no media; write something to publish",
                field="text",
            )
        )
    length = cls.count_characters(post.text, limits)
    if length > limits.max_characters:
        problems.append(
            Problem(
                code="text_too_long",
                message=(
                    f"text is {length} characters as {cls.title} counts them; the limit is "
                    f"{limits.max_characters}: shorten it by {length - limits.max_characters} "
                    f"or add a shorter variant for {cls.name}"
                ),
                field="text",
                limit=limits.max_characters,
            )
        )
    if limits.max_bytes is not None:
        size = utf8_length(post.text)
        if size > limits.max_bytes:
            problems.append(
                Problem(
                    code="text_too_many_bytes",
                    message=(
                        f"text is {size} bytes in UTF-8; {cls.title} takes at most "
                        f"{limits.max_bytes}: shorten it"
                    ),
                    field="text",
                    limit=limits.max_bytes,
                )
            )
    total = length if length > limits.max_characters else cls.count_post(post, limits)
    if total > limits.max_characters and length <= limits.max_characters:
        problems.append(
            Problem(
                code="text_too_long",
                message=(
                    f"text and content warning together are {total} characters as "
                    f"{cls.title} counts them; the limit is {limits.max_characters}: "
                    "shorten one of them"
                ),
                field="content_warning",
                limit=limits.max_characters,
            )
        )
    if post.reply_to is not None and post.reply_to.platform != cls.name:
        problems.append(
            Problem(
                code="reply_to_other_platform",
                message=(
                    f"reply_to is a {post.reply_to.platform} post; a {cls.name} post can only "
                    f"reply to a {cls.name} post: set reply_to in a variant or per account"
                ),
                field="reply_to",
            )
        )
    if len(post.media) > limits.max_media:
        problems.append(
            Problem(
                code="too_many_media",
                message=(
                    f"{len(post.media)} media attached; {cls.title} takes at most "
                    f"{limits.max_media}: remove {len(post.media) - limits.max_media}"
                ),
                field="media",
                limit=limits.max_media,
            )
        )
    rules = cls.video_rules(post, limits)
    if rules != limits.video:  # this kind of post (a Reel, a Story) has rules of its own
        limits = limits.model_copy(update={"video": rules})
    for index, media in enumerate(post.media):
        needs_policy = media.path is not None or media.captions is not None
        if (needs_policy or media.cover is not None) and policy is None:
            policy = MediaPolicy.from_environment()
        problems += _check_media(index, media, cls, limits, policy)
    return problems


def _head(path: str | os.PathLike[str], size: int = 32) -> bytes | None:
    """The first ``size`` bytes of the regular file at ``path``, None when it cannot be read."""
    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(path, flags)
    except OSError:
        return None
    try:  # a directory opens too, on Linux: look at what it is before reading
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, size)
    except OSError:
        return None
    finally:
        os.close(fd)


def _check_media(
    index: int,
    media: Media,
    cls: type[Platform],
    limits: Limits,
    policy: MediaPolicy | None,
    field: str | None = None,
) -> list[Problem]:
    problems: list[Problem] = []
    field = field or f"media[{index}]"
    head: bytes | None = media.data[:32] if media.data is not None else None
    if media.path is not None and policy is not None:
        resolved = policy.resolve_path(media.path)
        if resolved is None:  # not read, not even its size: it is none of our business
            return [policy.outside_roots(media.path, field=f"{field}.path")]
        head = _head(resolved)
    if media.url is not None:
        parts = urlsplit(media.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(
                Problem(
                    code="invalid_url",
                    message=f"media URL {media.url!r} is not an http(s) URL",
                    field=f"{field}.url",
                )
            )
    if media.path is not None and (media.size() is None or head is None):
        problems.append(
            Problem(
                code="unreadable_media",
                message=f"media file {media.path} cannot be read "
                "(missing, no permission, or not a regular file)",
                field=f"{field}.path",
            )
        )
    accepted = limits.image_types | limits.video_types
    if media.mime_type is None:
        problems.append(
            Problem(
                code="unknown_media_type",
                message=(
                    f"cannot tell the type of {media.source}; pass mime_type= "
                    f"(accepted: {', '.join(sorted(accepted))})"
                ),
                field=f"{field}.mime_type",
            )
        )
    elif media.mime_type not in accepted:
        problems.append(
            Problem(
                code="unsupported_media_type",
                message=(
                    f"{cls.title} does not take {media.mime_type} ({media.source}); accepted: "
                    f"{', '.join(sorted(accepted)) or 'none'}"
                ),
                field=f"{field}.mime_type",
            )
        )
    if head is not None and media.mime_type in accepted:
        mismatch = mismatch_problem(head, media, field=field)
        if mismatch is not None:
            problems.append(mismatch)
    size = media.size()
    cap = limits.max_image_bytes if media.kind == "image" else limits.max_video_bytes
    if media.mime_type == "image/gif" and limits.max_gif_bytes is not None:
        cap = limits.max_gif_bytes
    if size is not None and cap is not None and size > cap:
        problems.append(
            Problem(
                code="media_too_large",
                message=(
                    f"{media.source} is {size:,} bytes; {cls.title} takes {media.kind}s up to "
                    f"{cap:,} bytes: resize or recompress it"
                ),
                field=f"{field}.data" if media.data is not None else f"{field}.path",
                limit=cap,
            )
        )
    if media.alt_text:
        if not limits.alt_text:
            problems.append(
                Problem(
                    code="alt_text_unsupported",
                    message=f"{cls.title} has no alt text: the image goes without its "
                    "description (say what it shows in the text if it matters)",
                    field=f"{field}.alt_text",
                    severity="warning",
                )
            )
        elif limits.max_alt_text is not None:
            alt_length = cls.count_alt_text(media.alt_text)
            if alt_length > limits.max_alt_text:
                problems.append(
                    Problem(
                        code="alt_text_too_long",
                        message=(
                            f"alt text is {alt_length} characters; {cls.title} takes at most "
                            f"{limits.max_alt_text}: shorten it"
                        ),
                        field=f"{field}.alt_text",
                        limit=limits.max_alt_text,
                    )
                )
    elif limits.alt_text_required:
        problems.append(
            Problem(
                code="alt_text_missing",
                message=f"{cls.title} requires alt text on every image",
                field=f"{field}.alt_text",
            )
        )
    if media.kind == "video" and media.mime_type in accepted and head is not None:
        problems += _check_video(media, field, cls, limits, policy)
    return problems


def _check_video(
    media: Media, field: str, cls: type[Platform], limits: Limits, policy: MediaPolicy | None
) -> list[Problem]:
    """The platform's video rules, the cover and the captions of a readable video."""
    problems: list[Problem] = []
    rules = limits.video
    if rules is not None:
        source: bytes | Path
        if media.data is not None:
            source = media.data
        else:
            resolved = policy.resolve_path(media.path) if policy and media.path else None
            source = resolved or Path(media.path or "")
        try:
            info = probe_video(source, field=field)
        except ValidationError as error:
            problems += error.problems
        except ConfigurationError as error:  # PyAV missing: say what was not checked
            problems.append(
                Problem(
                    code="video_unchecked",
                    message=f"{cls.title}'s video rules (duration, size, frame rate, codecs) "
                    f"were not checked: {error.message}",
                    field=field,
                    severity="warning",
                )
            )
        else:
            problems += video_problems(info, rules, title=cls.title, field=field)
    if media.cover is not None:
        if rules is None or not rules.cover:
            problems.append(
                Problem(
                    code="cover_unsupported",
                    message=f"{cls.title} takes no cover image through govsocial: the video "
                    "goes with the platform's own thumbnail",
                    field=f"{field}.cover",
                    severity="warning",
                )
            )
        else:
            cover_limits = limits.model_copy(update={"alt_text_required": False})
            problems += _check_media(0, media.cover, cls, cover_limits, policy, f"{field}.cover")
    if media.captions is not None:
        if rules is None or not rules.captions:
            problems.append(
                Problem(
                    code="captions_unsupported",
                    message=f"{cls.title} takes no captions file through govsocial: burn the "
                    "captions into the picture if the video needs them",
                    field=f"{field}.captions",
                    severity="warning",
                )
            )
        else:
            captions = media.captions
            resolved = policy.resolve_path(captions) if policy is not None else captions
            if resolved is None and policy is not None:
                problems.append(policy.outside_roots(captions, field=f"{field}.captions"))
            else:
                problem = captions_problem(
                    captions, _head(resolved or captions, 4096), field=f"{field}.captions"
                )
                if problem is not None:
                    problems.append(problem)
    return problems


def blocking(problems: list[Problem]) -> list[Problem]:
    """The problems that stop a post from going out (errors, not warnings)."""
    return [problem for problem in problems if problem.severity == "error"]
