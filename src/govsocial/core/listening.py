"""What the listening hooks exchange: a message's :class:`Classification`, a :class:`Notice`,
and an :class:`Escalation` with the :class:`Ticket` a target answers.

They live in the core because the hook specifications (``classify_message``, ``notify``,
``register_escalation_targets``) name them, and a plugin builds them; the classifier and
the shipped targets are in :mod:`govsocial.listening`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import ConfigDict, Field

from govsocial.core.models import Model

__all__ = [
    "INTENTS",
    "SENTIMENTS",
    "Classification",
    "Escalation",
    "EscalationTarget",
    "Intent",
    "Notice",
    "Sentiment",
    "Ticket",
]

Intent = Literal["question", "complaint", "praise", "hoax_report", "emergency", "other"]
Sentiment = Literal["negative", "neutral", "positive"]

#: Every intent, in the order the docs and tables show them.
INTENTS: tuple[Intent, ...] = (
    "question",
    "complaint",
    "praise",
    "hoax_report",
    "emergency",
    "other",
)
#: Every sentiment.
SENTIMENTS: tuple[Sentiment, ...] = ("negative", "neutral", "positive")


class Classification(Model):
    """What a message is: its intent and sentiment, how sure the classifier is, and why.

    ``reasons`` are the words and rules that decided (``"emergency word 'banjir'"``,
    ``"negation: 'tidak bagus'"``): they may quote the writer's words, so a workspace keeps
    them in one column that is erased with the message. ``classifier`` names who decided
    (``"govsocial.lexicon"``, a plugin's name, or ``"person"`` after a re-label).
    """

    model_config = ConfigDict(frozen=True)
    _surrogates_replaced: ClassVar[bool] = True  # reasons quote what others wrote

    intent: Intent
    sentiment: Sentiment = "neutral"
    confidence: float = Field(ge=0.0, le=1.0)
    reasons: tuple[str, ...] = ()
    classifier: str = "unknown"
    #: the language the text was read as (``"id"``, ``"en"``), when known
    language: str | None = None


class Notice(Model):
    """Something a person should know now: an emergency in the inbox, a spike in a topic.

    Sent to every ``notify`` hook implementation (an email, a chat message, a pager).
    ``text`` is the message that raised it (a citizen's words: treat it as untrusted).
    """

    model_config = ConfigDict(frozen=True)
    _surrogates_replaced: ClassVar[bool] = True

    kind: Literal["emergency"] | str
    subject: str
    text: str
    account: str | None = None
    platform: str | None = None
    item_id: str | None = None
    url: str | None = None
    author: str | None = None
    received_at: datetime | None = None
    classification: Classification | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Escalation(Model):
    """An inbox item handed to a ticket system (SP4N-LAPOR!, the agency's helpdesk).

    What is sent is kept to what a case officer needs to act (personal data minimisation,
    UU PDP): the citizen's message, where and when it arrived, the public link to it, its
    classification, who escalated it and their note. The author's handle and name are left
    out unless the person escalating asks for them (``include_author=True``): the public
    link already leads to the author for whoever must answer them there.

    ``id`` is the same for every attempt to send this item to this target: a target that
    can deduplicate (a webhook receiver) must treat a repeated ``id`` as the same ticket.
    """

    model_config = ConfigDict(frozen=True)
    _surrogates_replaced: ClassVar[bool] = True  # the message is a citizen's words

    id: str
    target: str
    item_id: str
    account: str
    platform: str
    kind: str
    text: str
    url: str | None = None
    received_at: datetime
    intent: str | None = None
    sentiment: str | None = None
    escalated_by: str | None = None
    note: str | None = None
    #: the author's handle and display name, only with ``include_author=True``
    author: str | None = None
    author_name: str | None = None

    def payload(self) -> dict[str, Any]:
        """The fields as JSON values (what the webhook sends)."""
        return self.model_dump(mode="json")


class Ticket(Model):
    """A target's answer: the reference of the ticket it opened, and a link when it has one."""

    model_config = ConfigDict(frozen=True)
    _surrogates_replaced: ClassVar[bool] = True

    reference: str = Field(min_length=1, max_length=500)
    url: str | None = None


@runtime_checkable
class EscalationTarget(Protocol):
    """Where inbox items can be escalated: a ``name`` and a blocking ``escalate`` call.

    Register one through the ``register_escalation_targets`` hook. ``escalate`` sends the
    case and returns the :class:`Ticket` the other side opened; it raises to say it was not
    sent (a :class:`govsocial.GovSocialError` keeping the other side's message). It runs
    outside any transaction, once per item and target unless it failed or its process died
    before the ticket was recorded: then the same :attr:`Escalation.id` is sent again.
    """

    name: str

    def escalate(self, escalation: Escalation) -> Ticket:
        """Send ``escalation``; the ticket opened."""
        ...
