"""The one exception tree of govsocial.

Every error the library raises on purpose derives from :class:`GovSocialError`::

    GovSocialError
    ├── ValidationError          bad input: carries the list of Problems found (also a ValueError)
    ├── ConfigurationError       unknown platform, missing credential, unreadable file
    │   ├── NotFound             no such job, draft, person, delivery... (also a KeyError)
    │   └── AccountLocked        the key or an env: variable cannot open an account's
    │                            credentials here; its deliveries wait
    ├── NotPermitted             no valid appointment (SK) for the action on that account
    ├── AuditTampered            the audit log's hash chain is broken at ``seq``
    ├── PluginError              a plugin failed to load or broke its contract
    ├── AuthenticationError      the platform refused the credentials (expired, revoked)
    ├── PlatformError            the platform answered with an error (keeps its message)
    │   └── RateLimited          the platform says "slow down" (retry_after seconds)
    │       └── PublishPending   the platform accepted the post and is still processing it
    │                            (moderation, transcoding): look again, never send again
    ├── PublishOutcomeUnknown    a create call was sent but no answer came back:
    │   │                        the post may or may not exist; reconcile, never resend blindly
    │   └── ProcessingTimeout    the platform was still processing an accepted post when the
    │                            workspace's processing limit ran out
    └── NotSupported             the platform cannot do this at all (list mentions, ...)

Messages name the field, the limit and the fix where there is one. They never contain a
secret: adapters build them from platform answers and public identifiers only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from govsocial.core.problem import Problem

__all__ = [
    "AccountLocked",
    "AuthenticationError",
    "AuditTampered",
    "ConfigurationError",
    "GovSocialError",
    "NotFound",
    "NotPermitted",
    "PlatformError",
    "PluginError",
    "ProcessingTimeout",
    "PublishOutcomeUnknown",
    "PublishPending",
    "RateLimited",
    "ValidationError",
    "NotSupported",
]


class GovSocialError(Exception):
    """Base class of every govsocial error.

    :param message: what went wrong, in words a user can act on.
    :param field: the input field at fault, when there is one (``"text"``, ``"media[0].alt_text"``).
    :param hint: how to fix it, when the library knows.
    """

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.field = field
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text

    def __reduce__(self) -> tuple[Any, ...]:  # keep errors picklable across processes
        return (_rebuild, (type(self), self.__dict__))


def _rebuild(cls: type[GovSocialError], state: dict[str, Any]) -> GovSocialError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._render())
    return error


class ValidationError(GovSocialError, ValueError):
    """The input breaks a platform's limits or a house rule, or a model's own rules.

    ``problems`` lists every problem found, not only the first. Invalid input to a model
    (``Media()``, ``Account(base_url="ftp://...")``) raises it too, with ``subject`` naming
    the model. It is also a :class:`ValueError`, as pydantic's own error was, so
    ``except ValueError`` keeps catching bad input.

    :param problems: every problem found.
    :param platform: the platform the post was checked for, when there is one.
    :param subject: what was checked, for the message (``"post"``, ``"account"``).
    :param hint: how to fix it, when the library knows.
    """

    def __init__(
        self,
        problems: list[Problem],
        *,
        platform: str | None = None,
        subject: str = "post",
        hint: str | None = None,
    ) -> None:
        self.problems = list(problems)
        self.platform = platform
        where = f" for {platform}" if platform else ""
        lines = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems)
        first_field = problems[0].field if problems else None
        super().__init__(f"{subject} is not valid{where}: {lines}", field=first_field, hint=hint)


class ConfigurationError(GovSocialError):
    """Something the caller configured is missing or wrong: platform, account, credentials, file."""


class PluginError(GovSocialError):
    """A plugin could not be loaded or does not keep the plugin contract."""


class AuthenticationError(GovSocialError):
    """The platform rejected the account's credentials."""

    def __init__(
        self, message: str, *, platform: str | None = None, hint: str | None = None
    ) -> None:
        self.platform = platform
        super().__init__(message, field="credentials", hint=hint)


class PlatformError(GovSocialError):
    """The platform answered with an error; ``body`` keeps its message as it was given.

    :param platform: adapter name (``"mastodon"``).
    :param status: HTTP status code, when the error came over HTTP.
    :param body: the platform's error text (never request headers, never credentials).
    :param transient: the platform said the failure is temporary ("try again"), whatever
        the status: a worker tries the delivery again later where a repeat cannot duplicate.
    """

    def __init__(
        self,
        message: str,
        *,
        platform: str | None = None,
        status: int | None = None,
        body: str | None = None,
        hint: str | None = None,
        field: str | None = None,
        transient: bool = False,
    ) -> None:
        self.platform = platform
        self.status = status
        self.body = body
        self.transient = transient
        super().__init__(message, hint=hint, field=field)


class RateLimited(PlatformError):
    """The platform asks the client to wait ``retry_after`` seconds (None when it did not say)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None,
        platform: str | None = None,
        status: int | None = 429,
        body: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        hint = f"retry after {retry_after:.0f} s" if retry_after is not None else "retry later"
        super().__init__(message, platform=platform, status=status, body=body, hint=hint)


class PublishPending(RateLimited):
    """The platform accepted the post and is still processing it (TikTok's moderation,
    a video's transcoding): not a failure, and never a reason to send the post again.

    ``retry_after`` is when it is worth looking again (seconds); ``detail`` what the
    platform gave to look it up by (``{"publish_id": ...}``, also kept in the delivery's
    checkpoint). Publishing the same delivery again with the same idempotency key only
    looks; a workspace's worker keeps the delivery ``processing`` and looks again after
    ``retry_after`` (:meth:`govsocial.adapters.Platform.resume_processing`), any worker,
    after any restart. It is a :class:`RateLimited`, so code that waits and retries on a
    rate limit does the right thing with it too.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        platform: str | None = None,
        detail: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after, platform=platform, status=None)
        self.detail = dict(detail or {})
        self.hint = (
            f"{platform or 'the platform'} accepted the post and is still processing it; "
            f"look again in {retry_after:.0f} s: publishing the same delivery again only "
            "looks, it never sends the post twice"
        )
        Exception.__init__(self, self._render())


class PublishOutcomeUnknown(GovSocialError):
    """A create call left the machine but its answer never came back.

    The post may exist. Do not publish again: reconcile first, using ``idempotency_key``
    (Mastodon's Idempotency-Key, Bluesky's record key) and ``account``.
    """

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        account: str,
        idempotency_key: str | None,
        detail: dict[str, str] | None = None,
    ) -> None:
        self.platform = platform
        self.account = account
        self.idempotency_key = idempotency_key
        self.detail = dict(detail or {})
        super().__init__(
            message,
            hint="look the post up before any new attempt; never resend blindly",
        )


class ProcessingTimeout(PublishOutcomeUnknown):
    """The platform accepted the post but was still processing it when the workspace's
    ``processing_limit`` ran out (48 h by default). The post may yet appear: a person looks
    at the account in the platform's app; govsocial never sends it again."""


class NotPermitted(GovSocialError):
    """The actor may not do this on this account: no appointment, the wrong role, an
    expired or not yet valid decree, an approval rule. The attempt itself is audit-logged.

    ``actor``, ``action`` and ``account`` say who tried what where.
    """

    def __init__(
        self,
        message: str,
        *,
        actor: str | None,
        action: str,
        account: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.actor = actor
        self.action = action
        self.account = account
        super().__init__(message, field="by", hint=hint)


class AuditTampered(GovSocialError):
    """The audit log does not verify: entry ``seq`` was edited, removed or inserted."""

    def __init__(self, message: str, *, seq: int, problems: list[str] | None = None) -> None:
        self.seq = seq
        #: every finding, when verification found several (the message lists the first few)
        self.problems = problems or [message]
        super().__init__(
            message,
            hint="restore the database from a backup or archive export, and investigate "
            "who had write access to it",
        )


class NotFound(ConfigurationError, KeyError):
    """A lookup found nothing: no job, draft, person, inbox item or delivery with that id
    or name.

    It is a :class:`KeyError` (so a :class:`LookupError`) too, so ``except KeyError`` code
    written for a lookup keeps working. ``field`` names what was looked up.
    """

    def __str__(self) -> str:
        # KeyError's own __str__ quotes its argument; a message reads better as it is.
        return self._render()


class AccountLocked(ConfigurationError):
    """An account's credentials cannot be opened where this runs: ``GOVSOCIAL_SECRET_KEY`` is
    missing, too short or not the key they were sealed with, or an ``env:`` variable they
    name is not set (or not allowed).

    The worker marks the account locked and leaves its deliveries waiting (``scheduled``, no
    attempt counted); once the key or the variable is back, the next worker run unlocks the
    account and publishes them. ``account`` names the account (None when the error comes from
    sealing, before the account exists), ``reason`` says what failed, ``hint`` the fix.
    """

    def __init__(
        self,
        message: str,
        *,
        account: str | None = None,
        reason: str = "",
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.account = account
        self.reason = reason or message
        super().__init__(message, field=field, hint=hint)


class NotSupported(GovSocialError):
    """The platform cannot do this at all, for any account: its API offers no way to.

    An adapter raises it from a method it cannot implement (``fetch_mentions`` where the
    platform has no mentions endpoint, ``fetch_replies`` where replies cannot be listed).
    The inbox sync skips that account and kind quietly, and the conformance suite skips the
    check instead of failing it. ``platform`` names the platform and ``action`` what it
    cannot do, when given.
    """

    def __init__(
        self,
        message: str,
        *,
        platform: str | None = None,
        action: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.platform = platform
        self.action = action
        super().__init__(message, hint=hint)
