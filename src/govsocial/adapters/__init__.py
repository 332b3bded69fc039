"""The plugin SDK: everything a platform adapter is written against, from one import path.

::

    from govsocial.adapters import AdapterContext, Limits, Platform, Post, PostRef, hookimpl

A plugin imports from here only (its tests may also use :mod:`govsocial.testing`). The
names, by what they are for (docs/sdk.md describes each):

- the contract: :class:`Platform`, :class:`Limits` (with :class:`VideoLimits`),
  :class:`AdapterContext`,
  :class:`LocalServer`, ``CredentialsListener``, :data:`hookimpl`, :data:`CONTRACT_VERSION`;
- HTTP: :class:`Http`, :class:`Endpoint`, :class:`RateState`, :class:`RateBudget`,
  :func:`header_int`, :func:`scrub`, ``DEFAULT_TIMEOUT``;
- reading answers: :func:`json_object`, :func:`read_json`, :func:`as_dict`, :func:`as_int`,
  :func:`is_id`, :func:`parse_time`; building paths from ids: :func:`path_segment`;
- OAuth 2.0 token renewal (the ``refresh_token`` grant, once for concurrent callers):
  :class:`TokenRefresh`, :class:`TokenAnswer`, :func:`read_token_answer`,
  :func:`expiry_after`;
- multi-step publishing and media: :class:`Checkpoints`, :class:`MemoryCheckpoints`,
  :class:`MediaHost`, :class:`DirectoryHost`;
- the models an adapter takes and returns: :class:`Account`, :class:`Post`,
  :class:`PostRef`, :class:`Media`, :class:`Problem`, :class:`PostMetrics`,
  :class:`AccountMetrics`, :class:`Interaction`, :class:`Activity`, :class:`PublishResult`,
  ``METRIC_FIELDS``;
- searching (``Platform.search``): :class:`FoundPost`, :class:`SearchPage`,
  :func:`parse_query` (a watch's query, read: hashtag, phrase or words);
- the errors it raises: :class:`GovSocialError`, :class:`PlatformError`,
  :class:`AuthenticationError`, :class:`RateLimited`, :class:`PublishOutcomeUnknown`,
  :class:`PublishPending` (accepted, still processing: the worker looks again later),
  :class:`ValidationError`, :class:`ConfigurationError`, :class:`NotSupported`;
- ``SecretStr`` (pydantic's), the type of every value in ``Account.credentials``;
- counting text: :func:`grapheme_count`, :func:`graphemes`, :func:`utf8_length`,
  :func:`find_urls`, :class:`Span`, :func:`top_level_domains`;
- reading a video's facts: :func:`probe_video`, :class:`VideoInfo`;
- large files in resumable chunks (``Platform.upload``): :class:`UploadProtocol`,
  :class:`ResumableUpload`, :class:`UploadProgress`, :class:`UploadExpired`, :func:`poll`.

This is layer 1 of the package: it imports only the core. Names load on first use, so
``import govsocial`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pydantic import SecretStr

    from govsocial.adapters.answers import (
        as_dict,
        as_int,
        is_id,
        json_object,
        parse_time,
        path_segment,
        read_json,
    )
    from govsocial.adapters.checkpoints import Checkpoints, MemoryCheckpoints
    from govsocial.adapters.http import (
        DEFAULT_TIMEOUT,
        Endpoint,
        Http,
        RateBudget,
        RateState,
        header_int,
        scrub,
    )
    from govsocial.adapters.media import DirectoryHost, MediaHost
    from govsocial.adapters.oauth import (
        TokenAnswer,
        TokenRefresh,
        expiry_after,
        read_token_answer,
    )
    from govsocial.adapters.platform import (
        METRIC_FIELDS,
        AdapterContext,
        CallLog,
        CredentialsListener,
        Limits,
        LocalServer,
        Platform,
        VideoLimits,
    )
    from govsocial.adapters.upload import (
        ResumableUpload,
        UploadExpired,
        UploadProgress,
        UploadProtocol,
        poll,
    )
    from govsocial.core.errors import (
        AuthenticationError,
        ConfigurationError,
        GovSocialError,
        NotSupported,
        PlatformError,
        PublishOutcomeUnknown,
        PublishPending,
        RateLimited,
        ValidationError,
    )
    from govsocial.core.listening import FoundPost, SearchPage, parse_query
    from govsocial.core.models import (
        Account,
        AccountCheck,
        AccountMetrics,
        Activity,
        Capability,
        Interaction,
        Media,
        Post,
        PostMetrics,
        PostRef,
        Problem,
        PublishResult,
    )
    from govsocial.core.text import (
        Span,
        find_urls,
        grapheme_count,
        graphemes,
        top_level_domains,
        utf8_length,
    )
    from govsocial.core.video import VideoInfo, probe_video

#: The version of the adapter contract this govsocial offers: the names exported here, the
#: ``Platform`` methods the core calls and their signatures, and the hooks of
#: :mod:`govsocial.plugin.spec`. It goes up by one only when an adapter written for the
#: previous number stops working unchanged (a name removed, a signature changed, a new
#: method the core calls with no default). Additions do not change it, and neither do
#: deprecations: what is deprecated keeps working, with a DeprecationWarning, for one
#: minor release of govsocial. A plugin declares the govsocial versions it works with in its
#: ``pyproject.toml`` (``govsocial>=0.2.0.dev0,<0.3``); it may also check this number at
#: import to fail early with a clear message.
CONTRACT_VERSION = 1

#: Marks a function or method as a hook implementation (``@hookimpl``); the one marker of
#: the ``govsocial`` project, also served as ``govsocial.hookimpl`` and
#: ``govsocial.plugin.spec.hookimpl``. The hooks are listed in docs/plugins.md.
hookimpl = pluggy.HookimplMarker("govsocial")

__all__ = [
    "CONTRACT_VERSION",
    "DEFAULT_TIMEOUT",
    "METRIC_FIELDS",
    "Account",
    "AccountCheck",
    "AccountMetrics",
    "Activity",
    "AdapterContext",
    "AuthenticationError",
    "CallLog",
    "Capability",
    "Checkpoints",
    "ConfigurationError",
    "CredentialsListener",
    "DirectoryHost",
    "Endpoint",
    "FoundPost",
    "GovSocialError",
    "Http",
    "Interaction",
    "Limits",
    "LocalServer",
    "Media",
    "MediaHost",
    "MemoryCheckpoints",
    "NotSupported",
    "Platform",
    "PlatformError",
    "Post",
    "PostMetrics",
    "PostRef",
    "Problem",
    "PublishOutcomeUnknown",
    "PublishPending",
    "PublishResult",
    "RateBudget",
    "RateLimited",
    "RateState",
    "ResumableUpload",
    "SearchPage",
    "SecretStr",
    "Span",
    "TokenAnswer",
    "TokenRefresh",
    "UploadExpired",
    "UploadProgress",
    "UploadProtocol",
    "ValidationError",
    "VideoInfo",
    "VideoLimits",
    "as_dict",
    "as_int",
    "expiry_after",
    "find_urls",
    "grapheme_count",
    "graphemes",
    "header_int",
    "hookimpl",
    "is_id",
    "json_object",
    "parse_query",
    "path_segment",
    "read_json",
    "read_token_answer",
    "parse_time",
    "poll",
    "probe_video",
    "scrub",
    "top_level_domains",
    "utf8_length",
]

_HOMES = {
    "govsocial.adapters.answers": (
        "as_dict",
        "as_int",
        "is_id",
        "json_object",
        "parse_time",
        "path_segment",
        "read_json",
    ),
    "govsocial.adapters.checkpoints": ("Checkpoints", "MemoryCheckpoints"),
    "govsocial.adapters.http": (
        "DEFAULT_TIMEOUT",
        "Endpoint",
        "Http",
        "RateBudget",
        "RateState",
        "header_int",
        "scrub",
    ),
    "govsocial.adapters.media": ("DirectoryHost", "MediaHost"),
    "govsocial.adapters.oauth": (
        "TokenAnswer",
        "TokenRefresh",
        "expiry_after",
        "read_token_answer",
    ),
    "govsocial.adapters.upload": (
        "ResumableUpload",
        "UploadExpired",
        "UploadProgress",
        "UploadProtocol",
        "poll",
    ),
    "govsocial.adapters.platform": (
        "METRIC_FIELDS",
        "AdapterContext",
        "CallLog",
        "CredentialsListener",
        "Limits",
        "LocalServer",
        "Platform",
        "VideoLimits",
    ),
    "govsocial.core.errors": (
        "AuthenticationError",
        "ConfigurationError",
        "GovSocialError",
        "NotSupported",
        "PlatformError",
        "PublishOutcomeUnknown",
        "PublishPending",
        "RateLimited",
        "ValidationError",
    ),
    "govsocial.core.listening": ("FoundPost", "SearchPage", "parse_query"),
    "govsocial.core.models": (
        "Account",
        "AccountCheck",
        "AccountMetrics",
        "Activity",
        "Capability",
        "Interaction",
        "Media",
        "Post",
        "PostMetrics",
        "PostRef",
        "Problem",
        "PublishResult",
    ),
    "pydantic": ("SecretStr",),
    "govsocial.core.text": (
        "Span",
        "find_urls",
        "grapheme_count",
        "graphemes",
        "top_level_domains",
        "utf8_length",
    ),
    "govsocial.core.video": ("VideoInfo", "probe_video"),
}
_LAZY = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'govsocial.adapters' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
