"""The built-in classifier: rules and a lexicon with negation, Indonesian and English.

:func:`lexicon_classify` reads a message in four steps:

1. **Normalise** (:func:`~govsocial.listening.normalise.normalise`): slang, typos,
   repeated letters.
2. **Language** (:func:`~govsocial.listening.language.detect_language`), unless given.
3. **Evidence**: each word and phrase of :mod:`govsocial.listening.lexicon` found adds to
   an intent's score and to the sentiment, with a reason naming it. A negator (``tidak``,
   ``enggak``, ``kurang``, ``not``, ``never``...) turns the next words around, up to three
   and not past ``tapi``/``but`` or a punctuation mark: ``tidak bagus`` and ``not helpful``
   are negative, ``tidak buruk`` is not.
4. **Rules**, in this order:

   - *emergency* (never missed): a strong emergency word (``kebakaran``, ``tenggelam``,
     ``fire``...), a cry for help (``tolong!``, ``tolong tolong``, ``please help``), or a
     hazard (``banjir``, ``longsor``, ``gempa``) unless it is only spoken of as a recurring
     or past problem (``setiap hujan banjir``, with no sign of now), as a figure of speech
     (``banjir pujian``), or directly negated (``tidak banjir``), or asked about as a
     claim going round (``hoaks``) with no sign of now;
   - *hoax report*: a hoax word (``hoaks``, ``palsu``, ``penipuan``, ``fake``...), or a
     claim going round (``beredar``, ``viral``, ``pesan berantai``) asked about;
   - *complaint*: something wrong; praise words beside something wrong are sarcasm, and a
     complaint; a question about something wrong (``kenapa jalan rusak tidak pernah
     diperbaiki?``) is a complaint;
   - *question*: a question mark, a question word or an opener (``mau tanya``, ``mohon
     info``); thanks beside it is politeness;
   - *praise*: thanks, or praise words with nothing wrong;
   - *other*: nothing of the above (greetings, promotion, chatter).

The confidence is the margin between the winning intent's score and the next one's,
squashed into 0.5-0.95 (an emergency word or a hoax word gives 0.9 at least).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from govsocial.core.listening import Classification, Intent, Sentiment
from govsocial.listening import lexicon as lx
from govsocial.listening.language import detect_language
from govsocial.listening.normalise import indonesian_words, normalise

__all__ = ["CLASSIFIER_NAME", "lexicon_classify"]

#: How the built-in classifier names itself in a :class:`Classification`.
CLASSIFIER_NAME = "govsocial.lexicon"

_PUNCT = frozenset({"?", "!", ".", ",", ";", ":"})
_REQUEST_AFTER_TOLONG = frozenset(
    {"ya", "info", "infokan", "jawab", "balas", "cek", "kasih", "sampaikan", "perhatikan",
     "perbaiki", "periksa", "tindak", "lihat", "tanggapi", "respon", "follow", "share",
     "bagikan", "jelaskan", "klarifikasi", "dong", "admin", "min", "pak", "bu"}
)  # fmt: skip
_PEOPLE = frozenset(
    {"anak", "orang", "adik", "ibu", "bapak", "ayah", "nenek", "kakek", "balita", "bayi",
     "suami", "istri", "child", "son", "daughter", "kid", "mother", "father", "grandmother"}
)  # fmt: skip


@dataclass
class _Evidence:
    score: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(
            ("question", "complaint", "praise", "hoax_report", "emergency", "other"), 0.0
        )
    )
    positive: float = 0.0
    negative: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def add(self, intent: str, weight: float, reason: str) -> None:
        self.score[intent] += weight
        self.reasons.append(reason)


@cache
def _by_first_word(phrases: tuple[tuple[str, ...], ...]) -> dict[str, list[tuple[str, ...]]]:
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        index.setdefault(phrase[0], []).append(phrase)
    return index


def _phrases(words: Sequence[str], phrases: tuple[tuple[str, ...], ...]) -> list[tuple[int, str]]:
    """Where each phrase starts in ``words``, with the phrase as text."""
    index = _by_first_word(phrases)
    found = []
    for i, word in enumerate(words):
        for phrase in index.get(word, ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                found.append((i, " ".join(phrase)))
    return found


def _negated(words: Sequence[str]) -> list[bool]:
    """For each word, whether a negator before it reaches it."""
    out = [False] * len(words)
    reach = 0
    for i, word in enumerate(words):
        if word in _PUNCT or word in lx.CLAUSE_BREAKS:
            reach = 0
            continue
        if reach > 0:
            out[i] = True
            reach -= 1
            if word in lx.POSITIVE or word in lx.NEGATIVE:
                reach = 0  # a negator turns the first judging word it reaches
        if word in lx.NEGATORS:
            reach = 3
    return out


def _is_cry(words: Sequence[str], i: int) -> bool:
    """Whether ``tolong``/``help`` at ``i`` is a cry for help, not a polite "please".

    ``tolong`` is a cry unless a request follows it (``tolong diperbaiki``, ``tolong info``);
    ``help`` is one when it ends a sentence, is shouted, or asks for someone to come.
    """
    after = words[i + 1] if i + 1 < len(words) else None
    if after is None or after in ("!", "tolong", "help", "kami", "saya", "aku", "kita", "us"):
        return True
    if words[i] == "tolong":
        if after.startswith("di") and len(after) > 4 and after not in ("dia", "dirumah"):
            return False
        return after not in _REQUEST_AFTER_TOLONG
    if after in ("me", "?"):
        return "!" in words[i:] or any(w in lx.URGENCY for w in words if w != "help")
    return after in ("segera", "cepat", "sekarang", "darurat", "now", "urgent", "please")


def _emergency(
    words: Sequence[str], negated: list[bool], ev: _Evidence, asks: bool, opener: bool
) -> bool:
    """Add the emergency evidence; whether the message is an emergency."""
    strong, hazards, cries = [], [], []
    for i, word in enumerate(words):
        if word in ("hilang", "missing") and any(w in _PEOPLE for w in words[max(0, i - 3) : i]):
            strong.append(f"{words[i - 1]} {word}" if words[i - 1] in _PEOPLE else word)
            continue
        if word in lx.EMERGENCY_STRONG and not (negated[i] and i > 0 and _direct(words, i)):
            strong.append(word)
        elif word in lx.EMERGENCY_HAZARD and not (negated[i] and _direct(words, i)):
            after = words[i + 1] if i + 1 < len(words) else ""
            if word == "banjir" and after in lx.FIGURATIVE:
                ev.reasons.append(f"figure of speech: '{word} {after}'")
                continue
            if word in ("angin", "rob", "puting", "tumbang", "bencana"):
                continue  # only in phrases below
            hazards.append(word)
        elif word in ("tolong", "help") and _is_cry(words, i):
            cries.append(word)
    phrases = [p for _, p in _phrases(words, lx.EMERGENCY_PHRASES)]
    phrases = [p for p in phrases if p not in ("minta tolong", "help me") or cries]
    urgent = [w for w in words if w in lx.URGENCY and w not in ("tolong", "help")]
    urgent += cries
    habitual = [w for w in words if w in lx.HABITUAL]
    hoax = [w for w in words if w in lx.HOAX]
    grateful = [w for w in words if w in lx.GRATITUDE]
    circulating = asks and any(w in lx.CIRCULATING for w in words)
    if opener and hazards and not (strong or phrases or cries or urgent):
        ev.reasons.append(f"hazard '{hazards[0]}' in a question")
        return False
    if (hoax or circulating) and not urgent and (strong or hazards):
        # "katanya ada tsunami susulan, hoaks bukan?": a claim to check, nobody in danger
        ev.add("hoax_report", 1.5, f"'{(strong or hazards)[0]}' asked about as a hoax")
        return False
    for word in strong:
        ev.add("emergency", 3.0, f"emergency word '{word}'")
    for phrase in phrases:
        ev.add("emergency", 3.0, f"emergency phrase '{phrase}'")
    for word in cries:
        ev.add("emergency", 2.5, f"cry for help '{word}'")
    if strong or phrases or cries:
        for word in hazards:
            ev.add("emergency", 1.0, f"hazard '{word}'")
        return True
    if not hazards:
        return False
    if (habitual or grateful) and not urgent:
        if grateful:
            ev.reasons.append(f"hazard '{hazards[0]}' in thanks")
        else:
            ev.add("complaint", 1.5, f"hazard '{hazards[0]}' recurring or past")
            ev.negative += 1.0
        return False
    for word in hazards:
        ev.add("emergency", 3.0, f"hazard '{word}'")
    if urgent:
        ev.add("emergency", 0.5, f"happening now: '{urgent[0]}'")
    return True


def _direct(words: Sequence[str], i: int) -> bool:
    """Whether the word at ``i`` directly follows a negator (``tidak banjir``)."""
    return i > 0 and words[i - 1] in lx.NEGATORS


def _sentiment_words(words: Sequence[str], negated: list[bool], ev: _Evidence) -> None:
    for i, word in enumerate(words):
        near = words[max(0, i - 1) : i + 2]
        stress = any(w in lx.INTENSIFIERS for w in near if w != word)
        if word in lx.POSITIVE:
            weight = 1.0 if stress or word not in lx.WEAK_POSITIVE else 0.5
            if negated[i]:
                ev.negative += 1.0
                ev.add("complaint", 1.5, f"negated praise '{_before(words, i)} {word}'")
            else:
                ev.positive += weight
                ev.add("praise", weight, f"praise word '{word}'")
        elif word in lx.NEGATIVE:
            weight = 1.0 if stress or word not in lx.WEAK_NEGATIVE else 0.5
            if negated[i] and _direct(words, i):
                ev.positive += 0.5
                ev.add("praise", 0.75, f"negated complaint word '{words[i - 1]} {word}'")
            else:
                ev.negative += weight
                ev.add("complaint", weight, f"complaint word '{word}'")
        elif _direct(words, i) and _undone(word):
            ev.negative += 1.0
            ev.add("complaint", 1.5, f"not done: '{words[i - 1]} {word}'")


def _undone(word: str) -> bool:
    """A verb (``diperbaiki``, ``mengalir``, ``fixed``): negated, a thing not done."""
    if (
        word.startswith(("di", "me", "ber", "ter"))
        and len(word) > 5
        and word
        not in (
            "dimana",
            "dirumah",
            "merah",
            "berapa",
            "bersama",
        )
    ):
        return True
    return word.endswith("ed") and len(word) > 4


def _before(words: Sequence[str], i: int) -> str:
    """The negator that reaches the word at ``i``."""
    for j in range(i - 1, max(-1, i - 4), -1):
        if words[j] in lx.NEGATORS:
            return " ".join(words[j:i])
    return words[i - 1] if i > 0 else ""


def lexicon_classify(text: str, language: str | None = None) -> Classification:
    """Classify ``text`` with the built-in rules and lexicon (offline, no model).

    :param language: ``"id"`` or ``"en"`` when known (default: detected); it is reported,
        and both languages' words are read either way (messages mix them).
    """
    read = normalise(text, language)
    if language is None:
        language = detect_language(read.raw, indonesian_words())
        if language == "en":
            read = normalise(text, "en")
    words = read.words
    ev = _Evidence()
    for written, meant in read.changed[:5]:
        ev.reasons.append(f"read '{written}' as '{meant}'")
    negated = _negated(words)
    question_phrases = _phrases(words, lx.QUESTION_PHRASES)
    asks = (
        "?" in words
        or any(w in lx.QUESTION_WORDS for w in words[:3])
        or bool(_phrases(words, lx.CHECKING))
    )
    emergency = _emergency(words, negated, ev, asks, bool(question_phrases))
    hoax = [w for w in words if w in lx.HOAX]
    circulating = [w for w in words if w in lx.CIRCULATING]
    for word in hoax:
        ev.add("hoax_report", 3.0, f"hoax word '{word}'")
    if circulating and (asks or hoax):
        ev.add("hoax_report", 1.0 + 0.5 * len(circulating), f"claim going round '{circulating[0]}'")
    _sentiment_words(words, negated, ev)
    for _, phrase in _phrases(words, lx.COMPLAINT_PHRASES):
        ev.add("complaint", 2.0, f"complaint phrase '{phrase}'")
        ev.negative += 1.0
    thanks = _phrases(words, lx.THANKS)
    for _, phrase in thanks:
        ev.add("praise", 1.0, f"thanks '{phrase}'")
    for _, phrase in question_phrases:
        ev.add("question", 2.0, f"question opener '{phrase}'")
    if "?" in words:
        ev.add("question", 2.0, "a question mark")
    qwords = [w for w in words if w in lx.QUESTION_WORDS]
    if "?" in words:
        qwords += [w for w in words if w in lx.WEAK_QUESTION_WORDS]
    if qwords:
        ev.add("question", min(1.5, 0.5 * len(qwords)), f"question word '{qwords[0]}'")
    for _, phrase in _phrases(words, lx.GREETINGS):
        ev.add("other", 2.5, f"greeting '{phrase}'")
    spam = [w for w in words if w in lx.SPAM]
    if len(spam) >= 2 or any(w in ("slot", "gacor", "judi", "togel", "maxwin") for w in spam):
        ev.add("other", 4.0, f"promotion or spam '{spam[0]}'")
    intent, confidence = _decide(ev, emergency, words, bool(question_phrases))
    sentiment = _sentiment(ev, intent)
    return Classification(
        intent=intent,
        sentiment=sentiment,
        confidence=round(confidence, 3),
        reasons=tuple(dict.fromkeys(ev.reasons)),
        classifier=CLASSIFIER_NAME,
        language=language,
    )


def _decide(
    ev: _Evidence, emergency: bool, words: Sequence[str], opener: bool
) -> tuple[Intent, float]:
    score = ev.score
    if emergency:
        return "emergency", min(0.99, 0.85 + 0.03 * score["emergency"])
    if score["other"] >= 4.0 and score["hoax_report"] < 3.0:
        return "other", 0.8
    if score["hoax_report"] >= 2.0:
        return "hoax_report", min(0.95, 0.7 + 0.05 * score["hoax_report"])
    complaint, praise, question = score["complaint"], score["praise"], score["question"]
    wrong = complaint >= 1.0 and ev.negative >= 1.0
    sarcastic = any(w in lx.SARCASM_EMOJI for w in words)
    if wrong and praise > 0 and (sarcastic or complaint >= praise * 0.75):
        ev.reasons.append("sarcasm or mixed: praise words beside something wrong")
        return "complaint", _margin(complaint + praise, question)
    if praise > 0 and any(w in lx.SARCASM_EMOJI for w in words):
        ev.reasons.append("sarcasm: praise words with an eye-roll")
        return "complaint", 0.6
    if wrong and not opener and (complaint >= 1.5 or any(w in lx.RHETORICAL for w in words)):
        return "complaint", _margin(complaint + 1.0, max(question, praise))
    if score["other"] >= 2.5 and question < 2.0 and complaint < 1.0:
        return "other", _margin(score["other"], max(question, praise))
    if question >= 2.0 or (question >= 1.0 and complaint < 1.0 and praise < 1.5):
        return "question", _margin(question, max(complaint, praise))
    if praise >= 1.0 and praise > complaint:
        return "praise", _margin(praise, max(complaint, question))
    if complaint >= 1.0:
        return "complaint", _margin(complaint, max(question, praise))
    if question > 0:
        return "question", _margin(question, 0.0) - 0.1
    return "other", 0.5


def _margin(top: float, second: float) -> float:
    return 0.5 + 0.45 * (top - second) / (top + 1.0) if top > second else 0.5


def _sentiment(ev: _Evidence, intent: str) -> Sentiment:
    if intent == "emergency":
        return "negative"
    if intent == "praise":
        return "positive" if ev.negative < ev.positive else "neutral"
    if intent == "complaint":
        return "negative"
    if ev.negative > ev.positive + 0.25:
        return "negative"
    if ev.positive > ev.negative + 0.25:
        return "positive"
    return "neutral"
