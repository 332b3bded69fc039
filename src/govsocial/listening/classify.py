"""``govsocial.classify``: the built-in classifier, refined or replaced by plugins.

The built-in answer (:func:`~govsocial.listening.rules.lexicon_classify`) is given to every
``classify_message`` hook implementation; the answer with the highest confidence wins (the
built-in one on a tie). An emergency is never overruled: when any classifier, built-in or
plugin, says ``emergency``, the most confident emergency answer wins, whatever the others
say, and its reasons say so.
"""

from __future__ import annotations

from govsocial.core.listening import Classification
from govsocial.listening.rules import lexicon_classify
from govsocial.plugin.manager import Plugins, default_plugins

__all__ = ["MAX_CLASSIFIED_CHARS", "classify"]

#: How much of a message the built-in classifier reads (a reply is far shorter; a hostile
#: megabyte of text costs no more than this).
MAX_CLASSIFIED_CHARS = 4000


def classify(
    text: str, language: str | None = None, *, plugins: Plugins | None = None
) -> Classification:
    """What ``text`` is: intent, sentiment, confidence and the reasons, offline.

    ::

        >>> govsocial.classify("gmn cara perpanjang ktp min?").intent
        'question'

    :param text: any message: an inbox item, a watched post, a line typed at the CLI.
    :param language: ``"id"`` or ``"en"`` when known (default: detected).
    :param plugins: the plugin system whose ``classify_message`` hooks may refine the
        answer (default: the process-wide one).
    """
    default = lexicon_classify(text[:MAX_CLASSIFIED_CHARS], language)
    answers = [default, *(plugins or default_plugins()).classify_message(text, language, default)]
    emergencies = [a for a in answers if a.intent == "emergency"]
    if emergencies:
        best = max(emergencies, key=lambda a: a.confidence)
        overruled = [a.classifier for a in answers if a.intent != "emergency"]
        if overruled and max(a.confidence for a in answers) > best.confidence:
            note = f"emergency kept over {', '.join(dict.fromkeys(overruled))}"
            best = best.model_copy(update={"reasons": (*best.reasons, note)})
        return best
    return max(answers, key=lambda a: a.confidence)  # max keeps the first of equals
