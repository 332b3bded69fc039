"""govsocial: run a government institution's social media well, from Python.

Publish, schedule and measure posts on every platform through one interface. The names
below are the public API: the clients and the workspace, every error a caller can catch, and
every value a public method returns (``Job``, ``Draft``, ``InboxItem``, ``Report``...).
Everything else lives in documented submodules (``govsocial.core.errors``,
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
    from govsocial.accountability.broadcast import Broadcast, BroadcastTarget
    from govsocial.accountability.feeds import Feed, FeedItemRecord, FeedSync
    from govsocial.accountability.governance import (
        Appointment,
        Approval,
        ApprovalRule,
        ContentRequest,
        Draft,
        Person,
    )
    from govsocial.adapters.media import DirectoryHost, MediaHost
    from govsocial.adapters.platform import Limits, Platform
    from govsocial.analytics.analysis import Period
    from govsocial.analytics.archive import ArchiveExport
    from govsocial.analytics.collection import Collected
    from govsocial.analytics.performance import PerformanceReport
    from govsocial.analytics.report import Report
    from govsocial.app import Workspace
    from govsocial.client import AsyncClient, Client, ClientOptions
    from govsocial.client.validation import count_characters, validate
    from govsocial.core.errors import (
        AccountLocked,
        AuditTampered,
        AuthenticationError,
        ConfigurationError,
        GovSocialError,
        NotFound,
        NotPermitted,
        NotSupported,
        PlatformError,
        PluginError,
        ProcessingTimeout,
        PublishOutcomeUnknown,
        PublishPending,
        RateLimited,
        ValidationError,
    )
    from govsocial.core.listening import (
        Classification,
        Escalation,
        EscalationTarget,
        FoundPost,
        Notice,
        SearchPage,
        Ticket,
    )
    from govsocial.core.models import (
        Account,
        AccountCheck,
        AccountMetrics,
        Activity,
        Capability,
        EventContext,
        Interaction,
        Media,
        Post,
        PostMetrics,
        PostRef,
        PostVariant,
        Problem,
        PublishResult,
        VideoInfo,
    )
    from govsocial.core.timing import Recurrence
    from govsocial.inbox.erasure import Erasure
    from govsocial.inbox.items import InboxItem, SyncResult
    from govsocial.inbox.service_hours import ServiceHours
    from govsocial.inbox.watches import Spike, Watch, WatchedPost, WatchSync
    from govsocial.listening import (
        VERDICTS,
        EmailNotifier,
        clarification,
        clarification_reply,
        classify,
    )
    from govsocial.listening.escalation import EmailTarget, WebhookTarget
    from govsocial.plugin.manager import Plugins, PluginWarning
    from govsocial.scheduling.jobs import Delivery, Job
    from govsocial.workspace.audit import AuditAnchor, AuditEntry, AuditHead
    from govsocial.workspace.content import PinnedContent, PinnedMedia
    from govsocial.workspace.credentials import KeyRotation
    from govsocial.workspace.signing import SigningKey
    from govsocial.workspace.tenancy import Workspaces

__all__ = [
    "Account",
    "AccountCheck",
    "AccountLocked",
    "AccountMetrics",
    "Activity",
    "Capability",
    "Appointment",
    "Approval",
    "ApprovalRule",
    "ArchiveExport",
    "AsyncClient",
    "AuditAnchor",
    "AuditEntry",
    "AuditHead",
    "AuditTampered",
    "AuthenticationError",
    "Classification",
    "Client",
    "ClientOptions",
    "Collected",
    "ConfigurationError",
    "ContentRequest",
    "Delivery",
    "DirectoryHost",
    "Draft",
    "Erasure",
    "EmailNotifier",
    "EmailTarget",
    "Escalation",
    "EscalationTarget",
    "EventContext",
    "FoundPost",
    "Feed",
    "FeedItemRecord",
    "FeedSync",
    "GovSocialError",
    "InboxItem",
    "Interaction",
    "Job",
    "KeyRotation",
    "Limits",
    "Media",
    "MediaHost",
    "NotFound",
    "NotPermitted",
    "NotSupported",
    "Notice",
    "PerformanceReport",
    "Period",
    "Person",
    "PinnedContent",
    "PinnedMedia",
    "Platform",
    "PlatformError",
    "PluginError",
    "PluginWarning",
    "Plugins",
    "Post",
    "PostMetrics",
    "PostRef",
    "PostVariant",
    "Problem",
    "ProcessingTimeout",
    "PublishOutcomeUnknown",
    "PublishPending",
    "PublishResult",
    "VideoInfo",
    "RateLimited",
    "Recurrence",
    "Report",
    "SearchPage",
    "ServiceHours",
    "SigningKey",
    "Spike",
    "SyncResult",
    "Ticket",
    "VERDICTS",
    "ValidationError",
    "Watch",
    "WatchSync",
    "WatchedPost",
    "WebhookTarget",
    "Workspace",
    "Workspaces",
    "Broadcast",
    "BroadcastTarget",
    "__version__",
    "clarification",
    "clarification_reply",
    "classify",
    "count_characters",
    "hookimpl",
    "platforms",
    "validate",
]

# name -> the module it lives in; each loads on first use (PEP 562)
_LAZY = {
    "AsyncClient": "govsocial.client",
    "Client": "govsocial.client",
    "ClientOptions": "govsocial.client",
    "AccountLocked": "govsocial.core.errors",
    "AuditTampered": "govsocial.core.errors",
    "AuthenticationError": "govsocial.core.errors",
    "ConfigurationError": "govsocial.core.errors",
    "GovSocialError": "govsocial.core.errors",
    "NotFound": "govsocial.core.errors",
    "NotPermitted": "govsocial.core.errors",
    "NotSupported": "govsocial.core.errors",
    "PlatformError": "govsocial.core.errors",
    "PluginError": "govsocial.core.errors",
    "ProcessingTimeout": "govsocial.core.errors",
    "PublishOutcomeUnknown": "govsocial.core.errors",
    "PublishPending": "govsocial.core.errors",
    "RateLimited": "govsocial.core.errors",
    "ValidationError": "govsocial.core.errors",
    "Account": "govsocial.core.models",
    "AccountCheck": "govsocial.core.models",
    "AccountMetrics": "govsocial.core.models",
    "Activity": "govsocial.core.models",
    "Capability": "govsocial.core.models",
    "EventContext": "govsocial.core.models",
    "Interaction": "govsocial.core.models",
    "Media": "govsocial.core.models",
    "Post": "govsocial.core.models",
    "PostMetrics": "govsocial.core.models",
    "PostRef": "govsocial.core.models",
    "PostVariant": "govsocial.core.models",
    "Problem": "govsocial.core.models",
    "PublishResult": "govsocial.core.models",
    "VideoInfo": "govsocial.core.models",
    "Recurrence": "govsocial.core.timing",
    "DirectoryHost": "govsocial.adapters.media",
    "MediaHost": "govsocial.adapters.media",
    "Limits": "govsocial.adapters.platform",
    "Platform": "govsocial.adapters.platform",
    "PluginWarning": "govsocial.plugin.manager",
    "Plugins": "govsocial.plugin.manager",
    "count_characters": "govsocial.client.validation",
    "validate": "govsocial.client.validation",
    "Workspace": "govsocial.app",
    "Workspaces": "govsocial.workspace.tenancy",
    # the workspace's vocabulary: what its methods return
    "AuditAnchor": "govsocial.workspace.audit",
    "AuditEntry": "govsocial.workspace.audit",
    "AuditHead": "govsocial.workspace.audit",
    "PinnedContent": "govsocial.workspace.content",
    "PinnedMedia": "govsocial.workspace.content",
    "SigningKey": "govsocial.workspace.signing",
    "KeyRotation": "govsocial.workspace.credentials",
    "Delivery": "govsocial.scheduling.jobs",
    "Job": "govsocial.scheduling.jobs",
    "Appointment": "govsocial.accountability.governance",
    "Approval": "govsocial.accountability.governance",
    "ApprovalRule": "govsocial.accountability.governance",
    "ContentRequest": "govsocial.accountability.governance",
    "Draft": "govsocial.accountability.governance",
    "Person": "govsocial.accountability.governance",
    "Broadcast": "govsocial.accountability.broadcast",
    "BroadcastTarget": "govsocial.accountability.broadcast",
    "Erasure": "govsocial.inbox.erasure",
    "InboxItem": "govsocial.inbox.items",
    "Classification": "govsocial.core.listening",
    "Notice": "govsocial.core.listening",
    "FoundPost": "govsocial.core.listening",
    "SearchPage": "govsocial.core.listening",
    "Spike": "govsocial.inbox.watches",
    "Watch": "govsocial.inbox.watches",
    "WatchedPost": "govsocial.inbox.watches",
    "WatchSync": "govsocial.inbox.watches",
    "Escalation": "govsocial.core.listening",
    "EscalationTarget": "govsocial.core.listening",
    "Ticket": "govsocial.core.listening",
    "EmailTarget": "govsocial.listening.escalation",
    "WebhookTarget": "govsocial.listening.escalation",
    "Feed": "govsocial.accountability.feeds",
    "FeedItemRecord": "govsocial.accountability.feeds",
    "FeedSync": "govsocial.accountability.feeds",
    "VERDICTS": "govsocial.listening.clarification",
    "EmailNotifier": "govsocial.listening.notify",
    "clarification": "govsocial.listening.clarification",
    "clarification_reply": "govsocial.listening.clarification",
    "classify": "govsocial.listening.classify",
    "SyncResult": "govsocial.inbox.items",
    "ServiceHours": "govsocial.inbox.service_hours",
    "Period": "govsocial.analytics.analysis",
    "ArchiveExport": "govsocial.analytics.archive",
    "Collected": "govsocial.analytics.collection",
    "PerformanceReport": "govsocial.analytics.performance",
    "Report": "govsocial.analytics.report",
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
