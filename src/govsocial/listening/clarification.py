"""Hoax clarifications, labelled the way Indonesian agencies and fact-checkers label them.

:func:`clarification` writes the post an agency publishes to answer a false claim: the
verdict as a bracketed prefix (``[HOAKS] ...``), the claim, the facts, and the sources as
links, with a shorter variant for every installed platform whose limit the full text
exceeds (measured by that platform's own counter, checked with :func:`govsocial.validate`).
:func:`clarification_reply` is the short answer to a citizen who reported the claim, with
the clarification's link.

The verdicts (:data:`VERDICTS`) are the labels in use: Komdigi (the Ministry of
Communication and Digital Affairs, formerly Kominfo) titles its hoax reports ``[HOAKS]``
and ``[DISINFORMASI]``, and uses misinformasi / disinformasi / malinformasi in its digital
literacy material (after Wardle and Derakhshan's "information disorder"); Mafindo's
turnbackhoax.id titles its checks ``[SALAH]``, ``[BELUM TERBUKTI]`` or ``[BENAR]`` and
names categories such as *konten yang menyesatkan*; regional agencies answer a rumour that
turns out true with ``[FAKTA]`` and a statement with ``[KLARIFIKASI]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from govsocial.client.validation import validate
from govsocial.core.errors import ValidationError
from govsocial.core.models import Media, Post, PostRef, PostVariant
from govsocial.core.problem import Problem
from govsocial.core.text import find_urls, graphemes
from govsocial.plugin.manager import Plugins, default_plugins

__all__ = ["CLARIFICATION_LABEL", "VERDICTS", "clarification", "clarification_reply", "defang"]

#: Each verdict and what it says (the docs' table gives where each label comes from).
VERDICTS: dict[str, str] = {
    "HOAKS": "the claim is false and spread as news (Komdigi's label)",
    "DISINFORMASI": "false, and spread knowing it is false, to mislead (Komdigi)",
    "MISINFORMASI": "false, spread without knowing it is false (Komdigi)",
    "MALINFORMASI": "true, but spread to harm someone (Komdigi's literacy material)",
    "SALAH": "false (turnbackhoax.id)",
    "MENYESATKAN": "misleading: true parts used to give a false picture (turnbackhoax.id)",
    "BELUM TERBUKTI": "unproven: no credible evidence either way (turnbackhoax.id)",
    "BENAR": "true (turnbackhoax.id)",
    "FAKTA": "the circulating claim is true (agencies' own answers)",
    "KLARIFIKASI": "the agency's statement on a circulating claim",
}

#: The label of a clarification post (``labels={CLARIFICATION_LABEL: verdict}``): reports
#: count the posts that carry it.
CLARIFICATION_LABEL = "clarification"
MAX_SOURCES = 5
_HEADINGS = {"id": "Sumber", "en": "Sources"}
_SIZE_CODES = frozenset({"text_too_long", "text_too_many_bytes"})


def _invalid(code: str, message: str, field: str, hint: str | None = None) -> ValidationError:
    return ValidationError(
        [Problem(code=code, message=message, field=field)], subject="clarification", hint=hint
    )


def _verdict(verdict: str) -> str:
    label = " ".join(str(verdict).strip().strip("[]").upper().split())
    if label not in VERDICTS:
        raise _invalid(
            "unknown_verdict",
            f"{verdict!r} is not a verdict agencies use",
            "verdict",
            hint=f"one of: {', '.join(VERDICTS)}",
        )
    return label


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _loopback_http(text: str) -> bool:
    """Whether ``text`` is an ``http://`` link to this machine (a local test server's)."""
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    authority = parts.netloc.lower()
    plain = authority in (host, f"[{host}]") or authority.rsplit(":", 1)[0] in (
        host,
        f"[{host}]",
    )
    return parts.scheme == "http" and text.startswith("http://") and plain and host in _LOOPBACK


def _source(url: Any, field: str, *, known_domain: bool = True) -> str:
    """``url`` when it is one https link that every platform reads as one link.

    :param known_domain: the host must end in a known top-level domain (a platform's own
        post URL, which it gave, is trusted there, and so is a local test server's
        ``http://`` link to this machine).
    """
    text = url.strip() if isinstance(url, str) else ""
    whole = bool(text) and not any(c.isspace() or not c.isprintable() for c in text)
    if known_domain and whole:
        spans = find_urls(text, require_scheme=True)
        whole = len(spans) == 1 and spans[0].start == 0 and spans[0].end == len(text)
    secure = text.lower().startswith("https://") or (not known_domain and _loopback_http(text))
    if not (secure and whole and len(text) <= 2000):
        raise _invalid(
            "invalid_source",
            f"{field} is not one https:// link",
            field,
            hint="give the page's full address, such as https://www.komdigi.go.id/berita/...",
        )
    authority = text.split("://", 1)[1].split("/", 1)[0]
    if "@" in authority:
        raise _invalid(
            "invalid_source",
            f"{field} names a user before its host, which hides where it leads",
            field,
        )
    return text


def defang(text: str) -> str:
    """``text`` with every link and domain made unclickable (``bansos-cair[.]xyz``,
    ``hxxps://``): a clarification quotes a scam's address, and must not link to it."""
    out, last = [], 0
    for span in find_urls(text, require_scheme=False):
        scheme, sep, remainder = span.text.partition("://")
        if not sep:
            scheme, remainder = "", span.text
        host, slash, path = remainder.partition("/")
        scheme = scheme.lower().replace("http", "hxxp") + sep
        out += [text[last : span.start], scheme, host.replace(".", "[.]"), slash, path]
        last = span.end
    out.append(text[last:])
    return "".join(out)


def _shorten(text: str, graphemes_kept: int) -> str:
    """``text`` cut to at most ``graphemes_kept`` graphemes at a word, with an ellipsis."""
    parts = graphemes(text)
    if len(parts) <= graphemes_kept:
        return text
    cut = "".join(parts[: max(0, graphemes_kept - 1)]).rstrip()
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0].rstrip(" ,.;:")
    return f"{cut}…" if cut else ""


def _compose(
    label: str, claim: str, facts: str, sources: Sequence[str], hashtags: str, heading: str
) -> str:
    parts = [f"[{label}] {claim}".strip()]
    if facts:
        parts.append(facts)
    if sources:
        if len(sources) == 1:
            parts.append(f"{heading}: {sources[0]}")
        else:
            parts.append(f"{heading}:\n" + "\n".join(sources))
    if hashtags:
        parts.append(hashtags)
    return "\n\n".join(parts)


def _fits(text: str, platform: str, language: str, plugins: Plugins) -> bool:
    problems = validate(Post(text, language=language), platform, plugins=plugins)
    return not any(p.code in _SIZE_CODES for p in problems)


def _variant(
    label: str,
    claim: str,
    facts: str,
    sources: Sequence[str],
    hashtags: str,
    heading: str,
    platform: str,
    language: str,
    plugins: Plugins,
) -> str | None:
    """The richest text that fits ``platform``: all sources, then the first, then less of
    the facts, then less of the claim; None when even the label and a link do not fit."""
    first = sources[:1]
    tries = [
        (claim, facts, sources, hashtags),
        (claim, facts, first, hashtags),
        (claim, facts, first, ""),
    ]
    for c, f, s, h in tries:
        text = _compose(label, c, f, s, h, heading)
        if _fits(text, platform, language, plugins):
            return text

    def best(
        whole: str, build: Any
    ) -> str | None:  # the longest prefix of ``whole`` that fits, by bisection
        low, high, found = 0, len(graphemes(whole)), None
        while low <= high:
            middle = (low + high) // 2
            text = build(_shorten(whole, middle))
            if _fits(text, platform, language, plugins):
                found, low = text, middle + 1
            else:
                high = middle - 1
        return found

    with_facts = best(facts, lambda f: _compose(label, claim, f, first, "", heading))
    if (
        with_facts is not None
        and facts
        and with_facts != _compose(label, claim, "", first, "", heading)
    ):
        return with_facts
    return best(claim, lambda c: _compose(label, c, "", first, "", heading))


def clarification(
    *,
    claim: str,
    verdict: str,
    facts: str,
    sources: Sequence[str],
    image: Media | None = None,
    language: str = "id",
    hashtags: Sequence[str] = (),
    labels: dict[str, str] | None = None,
    plugins: Plugins | None = None,
) -> Post:
    """A hoax clarification post: ``[VERDICT] claim``, the facts, the sources as links.

    ::

        post = govsocial.clarification(
            claim="Pesan berantai: bansos cair lewat tautan bansos-cair.xyz",
            verdict="HOAKS",
            facts="Bansos hanya disalurkan lewat bank Himbara dan PT Pos. Dinas Sosial "
                  "tidak pernah meminta data lewat tautan.",
            sources=["https://dinsos.example.go.id/siaran-pers/123"],
        )

    Every installed platform whose limit the full text exceeds gets a shorter variant
    (the first source only, then fewer words of the facts, then of the claim); the label
    and a link are always kept. The post is labelled ``{"clarification": verdict}``.

    :param claim: the claim going round, in a line; any link or domain in it (or in
        ``facts``) is defanged (``bansos-cair[.]xyz``), so the post never links to a scam.
    :param verdict: one of :data:`VERDICTS` (``"HOAKS"``, ``"DISINFORMASI"``, ...; case
        and brackets are ignored).
    :param facts: what is true, in a few sentences.
    :param sources: one to five ``https://`` links to the evidence (an official page, a
        fact-check).
    :param image: an image to attach (a Komdigi-style stamped picture), with alt text.
    :param language: the post's language (``"id"`` writes ``Sumber``, ``"en"`` ``Sources``).
    :param hashtags: added at the end where they fit (``"#LawanHoaks"``).
    :param labels: more labels for reports (the clarification label is always set).
    :raises ValidationError: an unknown verdict, an empty claim or facts, no source, or a
        source that is not one https link (each names the field).
    """
    label = _verdict(verdict)
    claim = defang(" ".join(str(claim).split()))
    facts = defang(str(facts).strip())
    if not claim:
        raise _invalid("empty_claim", "the claim is empty", "claim", hint="say what is going round")
    if not facts:
        raise _invalid("empty_facts", "the facts are empty", "facts", hint="say what is true")
    if isinstance(sources, str) or not sources:
        raise _invalid(
            "no_source",
            "a clarification needs at least one source link",
            "sources",
            hint="a list of https:// links, such as the official statement",
        )
    if len(sources) > MAX_SOURCES:
        raise _invalid(
            "too_many_sources",
            f"{len(sources)} sources; at most {MAX_SOURCES}",
            "sources",
            hint="keep the strongest",
        )
    links = [_source(url, f"sources[{i}]") for i, url in enumerate(sources)]
    tags = " ".join(t if t.startswith("#") else f"#{t}" for t in hashtags)
    heading = _HEADINGS.get(language, _HEADINGS["en"])
    text = _compose(label, claim, facts, links, tags, heading)
    plugins = plugins or default_plugins()
    variants: dict[str, PostVariant] = {}
    for platform in plugins.platforms():
        if _fits(text, platform, language, plugins):
            continue
        shorter = _variant(label, claim, facts, links, tags, heading, platform, language, plugins)
        if shorter is not None:
            variants[platform] = PostVariant(text=shorter)
    return Post(
        text,
        media=(image,) if image is not None else (),
        language=language,
        labels={**(labels or {}), CLARIFICATION_LABEL: label},
        variants=variants,
    )


def clarification_reply(link: str | PostRef, verdict: str, *, language: str = "id") -> Post:
    """The answer to a citizen who reported a claim: thanks, the verdict and the link.

    ``ws.reply(item_id, govsocial.clarification_reply(ref, "HOAKS"))`` answers a hoax report
    in the inbox with the published clarification (``ref`` is its :class:`PostRef` or URL).

    :raises ValidationError: an unknown verdict, or a link that is not one https link.
    """
    label = _verdict(verdict)
    url = link.url if isinstance(link, PostRef) else link
    if url is None:
        raise _invalid(
            "invalid_source",
            "the clarification has no link yet",
            "link",
            hint="publish it first, then answer with its PostRef",
        )
    url = _source(url, "link", known_domain=not isinstance(link, PostRef))
    if language == "id":
        text = f"Terima kasih atas laporannya. Hasil penelusuran kami: [{label}]. Penjelasan: {url}"
    else:
        text = f"Thank you for reporting it. Our finding: [{label}]. The facts: {url}"
    return Post(text, language=language, labels={"clarification_reply": label})
