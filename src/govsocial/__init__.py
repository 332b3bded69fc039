"""govsocial: run a government institution's social media well, from Python.

Publish, schedule and measure posts on every platform through one interface. The names
below are the public API; everything else lives in documented submodules (``govsocial.core.errors``,
``govsocial.adapters.platform``, ``govsocial.adapters.http``, ``govsocial.testing``) or is private.

Heavy modules (pydantic models, httpx) load on first use, so ``import govsocial`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from govsocial import _deprecated
from govsocial._version import __version__
from govsocial.plugin.spec import hookimpl

if TYPE_CHECKING:
    from govsocial.adapters.media import DirectoryHost, MediaHost
    from govsocial.adapters.platform import Limits, Platform
    from govsocial.app import Workspace
    from govsocial.client import AsyncClient, Client
    from govsocial.client.validation import count_characters, validate
    from govsocial.core.errors import (
        AuthenticationError,
        ConfigurationError,
        GovSocialError,
        PlatformError,
        PluginError,
        PublishOutcomeUnknown,
        RateLimited,
        ValidationError,
    )
    from govsocial.core.models import (
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
    "AuthenticationError": "govsocial.core.errors",
    "ConfigurationError": "govsocial.core.errors",
    "GovSocialError": "govsocial.core.errors",
    "PlatformError": "govsocial.core.errors",
    "PluginError": "govsocial.core.errors",
    "PublishOutcomeUnknown": "govsocial.core.errors",
    "RateLimited": "govsocial.core.errors",
    "ValidationError": "govsocial.core.errors",
    "Account": "govsocial.core.models",
    "AccountMetrics": "govsocial.core.models",
    "Interaction": "govsocial.core.models",
    "Media": "govsocial.core.models",
    "Post": "govsocial.core.models",
    "PostMetrics": "govsocial.core.models",
    "PostRef": "govsocial.core.models",
    "PostVariant": "govsocial.core.models",
    "Problem": "govsocial.core.models",
    "PublishResult": "govsocial.core.models",
    "DirectoryHost": "govsocial.adapters.media",
    "MediaHost": "govsocial.adapters.media",
    "Limits": "govsocial.adapters.platform",
    "Platform": "govsocial.adapters.platform",
    "count_characters": "govsocial.client.validation",
    "validate": "govsocial.client.validation",
    "Workspace": "govsocial.app",
}

_deprecated.install()


def platforms() -> dict[str, type[Platform]]:
    """Every installed platform adapter by name: ``{"mastodon": MastodonPlatform, ...}``."""
    from govsocial.plugin.manager import default_plugins

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
