"""Listening to the public: what a message is, whom to tell, and how to answer a hoax.

A layer between scheduling and the inbox (docs/architecture.md): it needs the plugin host
(the ``classify_message`` and ``notify`` hooks) and offline validation (a clarification's
per-platform variants), and the inbox, which classifies every item it syncs, needs it.
Nothing here reads or writes the workspace.

- :func:`classify` (:mod:`~govsocial.listening.classify`): intent, sentiment, confidence
  and reasons, offline, Indonesian and English; the built-in rules and lexicon are
  :mod:`~govsocial.listening.rules`, :mod:`~govsocial.listening.lexicon`,
  :mod:`~govsocial.listening.normalise` and :mod:`~govsocial.listening.language`.
- :class:`EmailNotifier` (:mod:`~govsocial.listening.notify`): a ``notify`` hook that
  sends an email.
- :func:`clarification` (:mod:`~govsocial.listening.clarification`): a hoax
  clarification post, labelled the way Indonesian agencies label them.
- :mod:`~govsocial.listening.feeds`: fetching (conditionally, capped, public addresses
  only) and parsing (feedparser) RSS, Atom and GPR feeds, and the post an item becomes;
  the workspace service that drafts them is :mod:`govsocial.accountability.feeds`.
- :class:`WebhookTarget` and :class:`EmailTarget` (:mod:`~govsocial.listening.escalation`):
  the escalation targets shipped (a signed HMAC webhook, email); ``Inbox.escalate`` calls
  them.
"""

from govsocial.listening.clarification import VERDICTS, clarification, clarification_reply
from govsocial.listening.classify import classify
from govsocial.listening.escalation import EmailTarget, WebhookTarget
from govsocial.listening.notify import EmailNotifier

__all__ = [
    "VERDICTS",
    "EmailNotifier",
    "EmailTarget",
    "WebhookTarget",
    "clarification",
    "clarification_reply",
    "classify",
]
