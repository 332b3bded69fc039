"""What the listening hooks exchange: a message's :class:`Classification` and a :class:`Notice`.

They live in the core because the hook specifications (``classify_message``, ``notify``)
name them, and a plugin builds them; the classifier itself is in
:mod:`govsocial.listening`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from govsocial.core.models import Model

__all__ = ["INTENTS", "SENTIMENTS", "Classification", "Intent", "Notice", "Sentiment"]

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
