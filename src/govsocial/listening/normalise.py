"""Turning a message into the words the classifier reads: Indonesian slang, typos and all.

:func:`normalise` lower-cases the text, drops links and @mentions, keeps a hashtag's word,
splits it into words, squeezes repeated letters (``tolonggg`` is ``tolong``), undoes the
``2`` of reduplication (``rusak2`` is ``rusak``), replaces Indonesian slang with the
standard word (``gmn`` is ``bagaimana``, ``udh`` is ``sudah``, ``tdk`` is ``tidak``) and
corrects a one-letter typo in an emergency word (``kebakran`` is ``kebakaran``).

The slang list is indoNLP's ``SLANG_DATA`` (indoNLP, MIT licence), itself the *Kamus
Alay* (Colloquial Indonesian Lexicon) of Salsabila, Ali, Yosef and Ade (IALP 2018), about
4,300 entries; :data:`EXTRA_SLANG` adds what a public-service inbox needs and the list
lacks. A word the classifier knows, or a common English word, is never replaced: the list
maps ``it`` to ``itu`` and ``so`` to ``sok``, which would break English and mixed messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import regex

from govsocial.listening import lexicon

__all__ = ["EXTRA_SLANG", "Normalised", "indonesian_words", "normalise"]

#: Slang and typos the Kamus Alay lacks, for messages to a public-service account.
EXTRA_SLANG: dict[str, str] = {
    "tolongin": "tolong",
    "tulung": "tolong",
    "tlong": "tolong",
    "bnjr": "banjir",
    "bajir": "banjir",
    "banjirr": "banjir",
    "kbakaran": "kebakaran",
    "kbakar": "kebakar",
    "gmpa": "gempa",
    "lngsor": "longsor",
    "laka": "kecelakaan",
    "lakalantas": "kecelakaan",
    "kcelakaan": "kecelakaan",
    "drurat": "darurat",
    "mimin": "admin",
    "minn": "admin",
    "hoaxx": "hoax",
    "hoakss": "hoaks",
    "hoax?": "hoax",
    "bener": "benar",
    "beneran": "beneran",
    "dibales": "dibalas",
    "bales": "balas",
    "rame": "ramai",
    "fb": "facebook",
    "ig": "instagram",
    "gaes": "teman",
    "pls": "please",
    "plz": "please",
    "pliss": "please",
    "plis": "please",
    "u": "you",
    "ur": "your",
    "r": "are",
    "thx": "thanks",
    "ty": "thanks",
    "tq": "thanks",
    "makasi": "makasih",
    "mksh": "makasih",
    "trimakasih": "makasih",
    "terimakasih": "makasih",
    "gercep": "gercep",
    "lemot": "lemot",
    "ngantri": "antre",
    "ngantre": "antre",
    "antri": "antre",
    "gabisa": "enggak bisa",
    "gbsa": "enggak bisa",
    "ngga": "enggak",
    "nggak": "enggak",
    "ndak": "enggak",
    "gk": "enggak",
    "gak": "enggak",
    "ga": "enggak",
    "g": "enggak",
    "tdk": "tidak",
    "tak": "tidak",
    "blm": "belum",
    "blom": "belum",
    "udh": "sudah",
    "udah": "sudah",
    "sdh": "sudah",
    "dah": "sudah",
    "skrg": "sekarang",
    "skrng": "sekarang",
    "sekrg": "sekarang",
    "cpt": "cepat",
    "cepet": "cepat",
    "gmn": "bagaimana",
    "gmna": "bagaimana",
    "knp": "kenapa",
    "knpa": "kenapa",
    "kpn": "kapan",
    "dmn": "dimana",
    "brp": "berapa",
    "bgt": "banget",
    "bngt": "banget",
    "dgn": "dengan",
    "yg": "yang",
    "dr": "dari",
    "jln": "jalan",
    "jl": "jalan",
    "rmh": "rumah",
    "tlg": "tolong",
    "tlng": "tolong",
    "mhn": "mohon",
    "sy": "saya",
    "aq": "aku",
    "dijalan": "di jalan",
    "dirumah": "di rumah",
    "dont": "dont",
    "cant": "cant",
}

_URL = regex.compile(r"(?i)\b(?:https?://|www\.)\S+")
_MENTION = regex.compile(r"(?<!\w)@[\w.\-]+(?:@[\w.\-]+)?")
_TOKEN = regex.compile(r"\p{Extended_Pictographic}|[?!.,;:]|[\p{L}\p{M}\p{N}']+")
_REDUPLICATED = regex.compile(r"^(\p{L}{2,}?)2(nya|an|kan|lah)?$")
_LONG_RUN = regex.compile(r"(\p{L})\1{2,}")
_DOUBLE = regex.compile(r"(\p{L})\1")


@dataclass
class Normalised:
    """A message as the classifier reads it.

    :ivar words: the normalised words, in order (punctuation marks kept as words).
    :ivar raw: the words as written (lower-cased), for language detection and reasons.
    :ivar changed: the replacements made, ``(written, read as)``.
    """

    words: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)


@cache
def _slang() -> dict[str, str]:
    """The Kamus Alay (through indoNLP) with govsocial's additions on top."""
    from indoNLP.preprocessing.slang_data import SLANG_DATA

    table = {str(k).casefold(): str(v).casefold() for k, v in SLANG_DATA.items()}
    table.update(EXTRA_SLANG)
    return table


@cache
def indonesian_words() -> frozenset[str]:
    """Every word of the slang list, written and meant: evidence that a text is Indonesian."""
    table = _slang()
    return frozenset(table) | frozenset(w for v in table.values() for w in v.split())


@cache
def _known() -> frozenset[str]:
    """Words kept as written: the classifier's own words and common English words."""
    words: set[str] = set(lexicon.ENGLISH)
    for name in dir(lexicon):
        value = getattr(lexicon, name)
        if isinstance(value, frozenset):
            words |= {w for w in value if isinstance(w, str)}
        elif isinstance(value, tuple):
            for phrase in value:
                if isinstance(phrase, tuple):
                    words |= {w for w in phrase if isinstance(w, str)}
    # the informal spellings are read through the slang list, not kept
    return frozenset(words - set(EXTRA_SLANG) - {"gak", "ga", "nggak", "gw", "lu", "lo"})


def _distance_at_most_one(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


@cache
def _emergency_targets() -> tuple[str, ...]:
    return tuple(
        w
        for w in sorted(lexicon.EMERGENCY_STRONG | lexicon.EMERGENCY_HAZARD)
        if len(w) >= 5 and w.isalpha()
    )


@cache
def _fix_typo(word: str) -> str | None:
    """The emergency word ``word`` is one typo away from, if any (and it is not a word
    near one on purpose, such as ``banjar`` or ``gempar``)."""
    if len(word) < 5 or word in lexicon.NOT_EMERGENCY or not word.isalpha():
        return None
    for target in _emergency_targets():
        if target[0] != word[0] and target[-1] != word[-1]:
            continue
        if _distance_at_most_one(word, target):
            return target
    return None


def _read(word: str, known: frozenset[str], slang: dict[str, str]) -> tuple[str, bool]:
    """One written word as the classifier reads it, and whether it was changed."""
    if word in known:
        return word, False
    if word in slang:
        return slang[word], True
    candidates = []
    squeezed = _LONG_RUN.sub(r"\1\1", word)
    candidates.append(squeezed)
    candidates.append(_DOUBLE.sub(r"\1", squeezed))
    for candidate in candidates:
        if candidate in known:
            return candidate, True
        if candidate in slang:
            return slang[candidate], True
    for suffix in ("nya", "lah", "kah"):  # syaratnya, bisakah: the root is known
        if word.endswith(suffix) and word[: -len(suffix)] in known:
            return word[: -len(suffix)], True
    for candidate in (word, candidates[-1]):
        fixed = _fix_typo(candidate)
        if fixed is not None:
            return fixed, True
    return (candidates[0], candidates[0] != word)


def normalise(text: str, language: str | None = None) -> Normalised:
    """``text`` as the classifier reads it (see the module's description).

    :param language: ``"en"`` reads only govsocial's own additions to the slang list, not
        the Kamus Alay (which would read English ``past`` as ``pasti``); default: any.
    """
    known = _known()
    slang = EXTRA_SLANG if language == "en" else _slang()
    text = _URL.sub(" ", text.casefold())
    text = _MENTION.sub(" ", text)
    text = text.replace("#", " ").replace("\u2019", "'")
    out = Normalised()
    for match in _TOKEN.finditer(text):
        token = match.group()
        token = token.strip("'")
        if not token:
            continue
        token = token.replace("n't", "nt").replace("'", "")
        redup = _REDUPLICATED.match(token)
        if redup is not None:
            token = redup.group(1)
        out.raw.append(token)
        if not token[0].isalnum():
            out.words.append(token)
            continue
        read, changed = _read(token, known, slang)
        if changed and read != token:
            out.changed.append((token, read))
        out.words.extend(read.split())
    return out
