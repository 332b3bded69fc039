"""What the listening hooks and adapters exchange: a message's :class:`Classification`, a
:class:`Notice`, the :class:`FoundPost` a platform's search returns (in a :class:`SearchPage`),
and an :class:`Escalation` with the :class:`Ticket` a target answers.

They live in the core because the hook specifications (``classify_message``, ``notify``,
``register_escalation_targets``) and the adapter contract (``Platform.search``) name them,
and a plugin builds them; the classifier and the shipped targets are in
:mod:`govsocial.listening`, watching in :mod:`govsocial.inbox.watches`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import regex
from pydantic import ConfigDict, Field, field_validator

from govsocial.core.errors import ConfigurationError
from govsocial.core.models import Model, PostRef

__all__ = [
    "INTENTS",
    "MAX_FOUND_AUTHOR",
    "MAX_FOUND_TEXT",
    "SENTIMENTS",
    "Classification",
    "FoundPost",
    "Intent",
    "Notice",
    "SearchPage",
    "Sentiment",
    "WatchQuery",
    "parse_query",
    "plain_line",
    "plain_text",
    "Escalation",
    "EscalationTarget",
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


#: The most characters of a found post's text that are kept (the longest platform, a
#: Telegram channel post, allows 4096; anything longer is hostile or broken).
MAX_FOUND_TEXT = 5000
#: The most characters of a found post's author handle or display name that are kept.
MAX_FOUND_AUTHOR = 200

# control and format characters (bidi overrides, zero-width spaces used to hide words, NUL),
# private-use characters and every space but the plain one; newline and tab are kept, and
# so are the zero-width joiner and non-joiner, which emoji and several scripts need
_HIDDEN = regex.compile(r"(?![\n\t \u200c\u200d])[\p{Cc}\p{Cf}\p{Co}\p{Z}]")
_SPACES = regex.compile(r"[ \t]+")
_LINE_EDGES = regex.compile(r" *\n *")
_BLANK_LINES = regex.compile(r"\n{3,}")


def plain_text(text: str, limit: int = MAX_FOUND_TEXT) -> str:
    """``text`` as govsocial keeps what strangers wrote: lone surrogates replaced, control
    and format characters (bidi overrides, zero-width characters, NUL) and other odd
    spaces made plain spaces, runs of blank lines shortened, cut to ``limit`` characters.

    HTML is not parsed here: an adapter whose platform sends HTML (Mastodon) turns it into
    text first, and everything shown in HTML is escaped where it is shown."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = _HIDDEN.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _BLANK_LINES.sub("\n\n", _LINE_EDGES.sub("\n", _SPACES.sub(" ", text))).strip()
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def plain_line(text: str | None, limit: int = MAX_FOUND_AUTHOR) -> str | None:
    """:func:`plain_text` on one line (an author's handle or name); None stays None."""
    if text is None:
        return None
    return plain_text(" ".join(text.split()), limit)


class FoundPost(Model):
    """A public post a platform's search found: someone's words about a watched topic.

    ``key`` is the post's id, unique on the platform (usually ``ref.id``; a Telegram message
    id is unique only in its chat, so there it is ``chat:message``). ``created_at`` is the
    date the author's app wrote (the author controls it); ``received_at`` is when the
    platform received the post by its own clock (Bluesky ``indexedAt``), None when it does
    not say. Text, author and name are made plain and bounded (:func:`plain_text`) when the
    model is built: a search answer is written by strangers.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    _surrogates_replaced: ClassVar[bool] = True

    ref: PostRef
    key: str = ""
    author: str
    author_name: str | None = None
    text: str
    created_at: datetime
    received_at: datetime | None = None

    @field_validator("text")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        return plain_text(value)

    @field_validator("author", "author_name")
    @classmethod
    def _plain_author(cls, value: str | None) -> str | None:
        return plain_line(value)

    def model_post_init(self, context: Any, /) -> None:
        """The key defaults to the ref's id."""
        if not self.key:
            object.__setattr__(self, "key", self.ref.id)

    @property
    def platform(self) -> str:
        """The platform the post is on."""
        return self.ref.platform


class SearchPage(Model):
    """What one search of a platform returned: the posts (oldest first) and where the next
    search starts.

    ``cursor`` is the adapter's own mark (the newest id or time it saw), kept by the
    workspace and given back to the next ``Platform.search`` so it reads only newer posts;
    None leaves the previous mark in place. ``complete`` is False when the adapter stopped
    at its page budget with more to read (the next search continues from ``cursor``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    posts: list[FoundPost] = Field(default_factory=list)
    cursor: str | None = None
    complete: bool = True
    #: requests the search made (each spends the account's rate budget)
    requests: int = 0


#: The longest query a watch takes (X's recent search takes 512 characters with operators;
#: a topic is a few words).
MAX_QUERY = 200
_WORD = regex.compile(r"[\p{L}\p{N}_][\p{L}\p{N}_'\-.]*")
_TAG = regex.compile(r"^#([\p{L}\p{N}_]{1,100})$")


@dataclass(frozen=True, slots=True)
class WatchQuery:
    """A watch's query, read: a ``#hashtag``, a ``"quoted phrase"``, or words (all of them).

    ``text`` is the query as given; ``words`` its words, case-folded; ``tag`` the hashtag
    without ``#`` (None unless a hashtag); ``phrase`` whether the words must appear
    together, in order.
    """

    text: str
    words: tuple[str, ...]
    tag: str | None = None
    phrase: bool = False

    def matches(self, text: str) -> bool:
        """Whether ``text`` is about this query, as govsocial checks it where the platform
        cannot search (Telegram): the hashtag as a whole tag, the phrase's words in order,
        or every word, each compared whole and case-folded."""
        found = [w.casefold() for w in _WORD.findall(text)]
        if self.tag is not None:
            tags = {t.casefold() for t in regex.findall(r"#([\p{L}\p{N}_]+)", text)}
            return self.tag.casefold() in tags
        if self.phrase:
            n = len(self.words)
            return any(tuple(found[i : i + n]) == self.words for i in range(len(found) - n + 1))
        present = set(found)
        return all(word in present for word in self.words)


def parse_query(query: str) -> WatchQuery:
    """Read a watch's query: ``#banjir`` (a hashtag), ``"jalan rusak"`` (a phrase) or
    ``banjir bandung`` (every word).

    :raises ConfigurationError: the query is empty, too long, holds a control character,
        or has no word to look for; the message names the field and the fix.
    """
    if not isinstance(query, str) or not query.strip():
        raise ConfigurationError(
            "a watch needs a query", field="query", hint='a word, a #hashtag or a "phrase"'
        )
    text = " ".join(query.split())
    if len(text) > MAX_QUERY:
        raise ConfigurationError(
            f"the query is {len(text)} characters; a watch takes up to {MAX_QUERY}",
            field="query",
            hint="watch a few words, or make several watches",
        )
    if regex.search(r"[\p{Cc}\p{Cf}]", text):
        raise ConfigurationError(
            "the query holds a control or invisible character",
            field="query",
            hint="type the words plainly",
        )
    tag = _TAG.match(text)
    if tag:
        return WatchQuery(text=text, words=(tag.group(1).casefold(),), tag=tag.group(1))
    phrase = len(text) > 2 and text[0] == text[-1] == '"'
    words = tuple(w.casefold() for w in _WORD.findall(text[1:-1] if phrase else text))
    if not words:
        raise ConfigurationError(
            f"the query {text!r} has no word to look for",
            field="query",
            hint='a word, a #hashtag or a "phrase"',
        )
    return WatchQuery(text=text, words=words, phrase=phrase)


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
