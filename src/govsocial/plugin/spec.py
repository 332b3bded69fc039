"""Every hook a govsocial plugin can implement. One place, each documented.

Hooks are synchronous. They are for discovery (which platforms exist), offline checks
(house rules), classification and events (an archiver or audit sink listening to
publishing, a person told of an emergency). No hook publishes: publishing loops over
adapters in the core, so one failing plugin cannot abort a publish to other accounts. Only
the listening hooks may reach the network (``notify`` sends, a ``classify_message`` may ask a
hosted model, an escalation target registered by ``register_escalation_targets`` opens a
ticket); the inbox calls them after an item is stored, outside any transaction.

Implement a hook with the :data:`govsocial.adapters.hookimpl` marker (also served as
``govsocial.hookimpl``) in a module or class that is registered through the ``govsocial``
entry-point group (see docs/plugins.md). Implementations are called in pluggy's order:
``tryfirst=True`` ones first, ``trylast=True`` ones last, and otherwise the most recently
registered first; each on its own guard, so one that raises is reported and the others
still run. Wrappers (``wrapper=True``, ``hookwrapper=True``) are refused at registration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

from govsocial.adapters import hookimpl

if TYPE_CHECKING:
    from govsocial.adapters.media import MediaHost
    from govsocial.adapters.platform import Limits, Platform
    from govsocial.core.listening import Classification, EscalationTarget, Notice
    from govsocial.core.models import (
        Account,
        EventContext,
        Post,
        PostRef,
        Problem,
        PublishResult,
    )

__all__ = ["hookimpl", "hookspec"]

#: Marks the hook specifications below.
hookspec = pluggy.HookspecMarker("govsocial")


@hookspec
def register_platforms(register: Callable[[type[Platform]], None]) -> None:
    """Register platform adapters.

    Call ``register(PlatformSubclass)`` once per adapter. The core builds ``register``, so
    it can refuse a second adapter with a name that is already taken (the one registered
    first in call order wins, so a ``tryfirst=True`` implementation can replace an adapter,
    and a warning names both).

    :param register: the function to call with each :class:`govsocial.Platform` subclass.
    :return: nothing.

    .. versionadded:: 0.1.0
    """


@hookspec
def register_media_hosts(register: Callable[[type[MediaHost]], None]) -> None:
    """Register media hosts: places that make a local file reachable at a public URL.

    Instagram and Threads fetch media from public URLs; a media host uploads local files
    for them (an S3 bucket, the agency's CDN). Call ``register(MediaHostSubclass)`` once per
    host; its ``name`` is how configuration refers to it. The built-in ``directory`` host
    (:class:`govsocial.adapters.media.DirectoryHost`) is always there.

    :param register: the function to call with each :class:`govsocial.MediaHost` subclass.
    :return: nothing.

    .. versionadded:: 0.2.0
    """


@hookspec
def validate_post(post: Post, platform: str, limits: Limits) -> list[Problem] | None:
    """Add house rules to offline validation (for example "every image needs alt text").

    Called by ``govsocial.validate`` after the platform's own checks, once per platform.

    :param post: the post, with ``platform``'s variant already applied.
    :param platform: the platform name the post is being checked for.
    :param limits: the limits in force for that platform.
    :return: the problems found (an empty list or None when there are none).

    .. versionadded:: 0.1.0
    """


@hookspec
def publish_started(
    post: Post, account: Account, idempotency_key: str, context: EventContext
) -> None:
    """An event: a post is about to be sent to ``account``.

    Exceptions raised here are reported as warnings and never stop the publish. An
    implementation may leave out ``context`` (pluggy passes only the arguments it names).

    :param post: the post, with the account's platform variant applied.
    :param account: the account it goes to.
    :param idempotency_key: the key that identifies this delivery.
    :param context: where the event belongs: workspace, job, delivery and actor (every field
        None for a direct ``Client`` publish).
    :return: nothing.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       The ``context`` argument.
    """


@hookspec
def publish_finished(post: Post, result: PublishResult, context: EventContext) -> None:
    """An event: publishing ``post`` to one account ended, well or badly.

    Archivers and audit sinks listen here. ``result.ok`` tells which; ``result.error`` holds
    the error. Exceptions raised here are reported as warnings. An implementation may leave
    out ``context``.

    :param post: the post, with the account's platform variant applied.
    :param result: the outcome for one account.
    :param context: where the event belongs: workspace, job, delivery and actor (every field
        None for a direct ``Client`` publish).
    :return: nothing.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       The ``context`` argument.
    """


@hookspec
def post_deleted(ref: PostRef, context: EventContext) -> None:
    """An event: the post at ``ref`` was deleted on its platform.

    An implementation may leave out ``context``.

    :param ref: where the post was.
    :param context: where the event belongs: workspace, job, delivery and actor (every field
        None for a direct ``Client`` delete).
    :return: nothing.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       The ``context`` argument.
    """


@hookspec
def classify_message(
    text: str, language: str | None, default: Classification
) -> Classification | None:
    """Classify a message (an inbox item, a watched post): replace or refine the built-in answer.

    ``govsocial.classify`` asks every implementation and keeps the answer with the highest
    ``confidence`` (the built-in one on a tie); an ``emergency`` from any classifier is
    never overruled, so a plugin cannot hide one. Set ``classifier`` to your plugin's name:
    the inbox records which classifier decided. A hosted model is a network call: keep it
    short (a timeout of a few seconds) and return None when it fails, so the built-in
    answer stands.

    :param text: the message as written (a citizen's words: untrusted).
    :param language: ``"id"``, ``"en"``... when the caller knows it, else None.
    :param default: the built-in classifier's answer (its ``reasons`` say why).
    :return: a :class:`govsocial.Classification`, or None to leave it to the others.

    .. versionadded:: 0.3.0
    """


@hookspec
def notify(notice: Notice) -> None:
    """An event: something a person should know now (an emergency reached the inbox).

    Deliver ``notice`` (an email, a chat message, a pager); govsocial ships
    :class:`govsocial.EmailNotifier`. Called after the item is stored, once per item
    (retried at the next sync while no implementation has delivered it); an exception is
    reported as a warning, and the other implementations still run. ``notice.text`` is a
    citizen's message: never interpret it as markup or headers.

    :param notice: what happened, where, and the message that raised it.
    :return: nothing.

    .. versionadded:: 0.3.0
    """


@hookspec
def register_escalation_targets(register: Callable[[EscalationTarget], None]) -> None:
    """Register places inbox items can be escalated to (a ticket system: SP4N-LAPOR!, a
    helpdesk).

    Call ``register(target)`` once per target: an object with a ``name`` (how
    ``ws.escalate(item_id, to=name)`` names it) and an ``escalate(escalation) -> Ticket``
    method (:class:`govsocial.EscalationTarget`). govsocial ships two,
    :class:`govsocial.WebhookTarget` (a signed HTTPS POST) and
    :class:`govsocial.EmailTarget`; each registers itself when registered as a plugin. A
    name already taken is refused with a warning (the first registered in call order
    stays). ``escalate`` is called by the inbox outside any transaction and may reach the
    network; set a short timeout.

    :param register: the function to call with each target.
    :return: nothing.

    .. versionadded:: 0.3.0
    """


if TYPE_CHECKING:
    import argparse


@hookspec
def register_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add commands to the ``govsocial`` command line.

    ``commands`` is the main parser's subcommands (argparse's, the object
    ``add_subparsers()`` returns): call ``commands.add_parser(name, help=...)``, add the
    command's arguments to the parser it returns, and bind the command's handler with
    ``parser.set_defaults(handler=function)``. The handler takes the parsed
    ``argparse.Namespace`` (``args.db`` holds the global ``--db``) and returns the exit status
    (None counts as 0); a :class:`govsocial.GovSocialError` it raises is printed and exits
    with the status docs/cli.md gives for its class. The built-in commands are added first,
    so a plugin cannot replace one: a taken name makes the hook fail with a warning.

    :param commands: the ``govsocial`` parser's subcommands, to add parsers to.
    :return: nothing.

    .. versionadded:: 0.2.0
    """
