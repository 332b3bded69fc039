"""govsocial: run a government institution's social media well, from Python.

Publish, schedule and measure posts on every platform through one interface. The names
below are the public API; everything else lives in documented submodules (``govsocial.errors``,
``govsocial.platform``, ``govsocial.http``, ``govsocial.testing``) or is private.

Heavy modules (pydantic models, httpx) load on first use, so ``import govsocial`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from govsocial._version import __version__
from govsocial.hookspecs import hookimpl

if TYPE_CHECKING:
    from govsocial.client import AsyncClient, Client
    from govsocial.errors import (
        AuthenticationError,
        ConfigurationError,
        GovSocialError,
        PlatformError,
        PluginError,
        PublishOutcomeUnknown,
        RateLimited,
        ValidationError,
    )
    from govsocial.media_host import DirectoryHost, MediaHost
    from govsocial.models import (
        Account,
        AccountMetrics,
        Interaction,
        Media,
        Post,
        PostMetrics,
        PostRef,
        PostVariant,
        Problem,
        PublishResult,
    )
    from govsocial.platform import Limits, Platform
    from govsocial.validation import count_characters, validate
    from govsocial.workspace import Workspace

__all__ = [
    "Account",
    "AccountMetrics",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConfigurationError",
    "GovSocialError",
    "Interaction",
    "DirectoryHost",
    "Limits",
    "Media",
    "MediaHost",
    "Platform",
    "PlatformError",
    "PluginError",
    "Post",
    "PostMetrics",
    "PostRef",
    "PostVariant",
    "Problem",
    "PublishOutcomeUnknown",
    "PublishResult",
    "RateLimited",
    "ValidationError",
    "Workspace",
    "__version__",
    "count_characters",
    "hookimpl",
    "platforms",
    "validate",
]

_LAZY = {
    "AsyncClient": "govsocial.client",
    "Client": "govsocial.client",
    "AuthenticationError": "govsocial.errors",
    "ConfigurationError": "govsocial.errors",
    "GovSocialError": "govsocial.errors",
    "PlatformError": "govsocial.errors",
    "PluginError": "govsocial.errors",
    "PublishOutcomeUnknown": "govsocial.errors",
    "RateLimited": "govsocial.errors",
    "ValidationError": "govsocial.errors",
    "Account": "govsocial.models",
    "AccountMetrics": "govsocial.models",
    "Interaction": "govsocial.models",
    "Media": "govsocial.models",
    "Post": "govsocial.models",
    "PostMetrics": "govsocial.models",
    "PostRef": "govsocial.models",
    "PostVariant": "govsocial.models",
    "Problem": "govsocial.models",
    "PublishResult": "govsocial.models",
    "DirectoryHost": "govsocial.media_host",
    "MediaHost": "govsocial.media_host",
    "Limits": "govsocial.platform",
    "Platform": "govsocial.platform",
    "count_characters": "govsocial.validation",
    "validate": "govsocial.validation",
    "Workspace": "govsocial.workspace",
}


def platforms() -> dict[str, type[Platform]]:
    """Every installed platform adapter by name: ``{"mastodon": MastodonPlatform, ...}``."""
    from govsocial.plugins import default_plugins

    return dict(default_plugins().platforms())


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'govsocial' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
