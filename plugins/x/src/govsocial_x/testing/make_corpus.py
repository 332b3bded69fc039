# ruff: noqa: RUF001 - the corpus holds look-alike characters on purpose
"""Build the weighted-length corpus and its expected figures from the official twitter-text.

Run from a clone of the repository (needs npm and node)::

    .venv/bin/python -m govsocial_x.testing.make_corpus

It writes ``plugins/x/tests/data/twitter_text_corpus.json``: every string with the weighted
length that twitter-text 3.1.0 (npm, config v3) gives it. ``test_text.py`` compares
``govsocial_x.text.weighted_length`` with those figures, and re-runs twitter-text over the
committed strings to prove the figures are current. The strings are fixed pieces written
for X's rules (emoji sequences, CJK, URLs with and without a scheme, Indonesian
government domains, NFC cases) and seeded random mixtures of them.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[3] / "tests"  # plugins/x/tests of the clone
CORPUS = TESTS / "data" / "twitter_text_corpus.json"
NODE_DIR = TESTS / "node"

EMOJI = [
    "😀",
    "🎉",
    "🙏",
    "👍",
    "🔥",
    "✅",
    "❌",
    "⚠️",
    "⚠",
    "❤️",
    "❤",
    "☺️",
    "☺",
    "✨",
    "⭐",
    "©",
    "©️",
    "®",
    "®️",
    "™",
    "™️",
    "‼️",
    "⁉️",
    "↔️",
    "#️⃣",
    "1️⃣",
    "*️⃣",
    "🔟",
    "🅰️",
    # skin tones
    "👍🏽",
    "👋🏻",
    "🙏🏾",
    "🧕🏿",
    "👶🏼",
    "💪🏽",
    "🤝",
    "👌🏿",
    # ZWJ sequences of several Emoji versions
    "👨‍👩‍👧‍👦",
    "👩‍💻",
    "👨🏽‍⚕️",
    "👩🏿‍🏫",
    "🏳️‍🌈",
    "🏴‍☠️",
    "👁️‍🗨️",
    "👩‍❤️‍💋‍👨",
    "👨‍❤️‍👨",
    "🏃‍♀️",
    "🏃🏽‍♂️",
    "🤷‍♀️",
    "🤷🏻‍♂️",
    "🦸‍♂️",
    "👨‍🦰",
    "👩🏻‍🦳",
    "👮‍♀️",
    "🧑‍🤝‍🧑",
    "🧑‍🎄",
    "🧑‍💻",
    "🧔‍♂️",
    "❤️‍🔥",
    "😮‍💨",
    "🧑‍🦯",
    "🐕‍🦺",
    "🐈‍⬛",
    "🏳️‍⚧️",
    "👁‍🗨",
    "🏃‍♀",
    "👨‍👨‍👦",
    "👩‍👩‍👧‍👧",
    # flags and tag sequences
    "🇮🇩",
    "🇯🇵",
    "🇺🇸",
    "🇪🇺",
    "🇺🇳",
    "🇲🇾",
    "🇸🇬",
    "🇮",
    "🇦🇦",
    "🏴󠁧󠁢󠁥󠁮󠁧󠁿",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    # newer single emoji
    "🥲",
    "🫠",
    "🪿",
    "🩷",
    "🥰",
    "🤩",
    "🦜",
    "🧋",
    # bare joiners and selectors
    "\ufe0f",
    "\u200d",
    "a\ufe0e",
    "\u2764\ufe0e",
]

CJK = [
    "政府公告",
    "こんにちは",
    "안녕하세요",
    "ｶﾀｶﾅ",
    "ＡＢＣ１２３",
    "中文。",
    "東京都",
    "日本語のテキスト",
    "한국어",
    "漢字かなカナ",
]

OTHER_SCRIPTS = [
    "Привет",
    "Γειά σου",
    "مرحبا بكم",
    "שלום",
    "สวัสดี",
    "नमस्ते",
    "ꦧꦱꦗꦮ",
    "ᬅᬓ᭄ᬱᬭ",
    "ᮞᮥᮔ᮪ᮓ",
    "𝕏 𝔸𝕡𝕚",
    "ﬁ",
    "Ω",
    "ß",
]

PUNCTUATION = [
    "…",
    "—",
    "–",
    "“kutipan”",
    "‘a’",
    "′″",
    "€",
    "•",
    "·",
    "\u00a0",
    "\u200b",
    "\u3000",
    "\u2028",
    "\t",
    "\n",
    "\r\n",
    "¡",
    "¿",
    "«»",
    "‰",
    "†",
    "\u2060",
    "\u202f",
    "\u2066",
]

NFC = [
    "e\u0301",
    "Cafe\u0301",
    "\u1100\u1161",
    "\u1112\u1161\u11ab",
    "A\u030a",
    "\u212b",
    "n\u0303o",
    "\u0041\u0300\u0301",
    "o\u0308\u0304",
    "\u2126",
    "\u00c5",
    "i\u0307",
]

URLS_WITH_SCHEME = [
    "https://www.indonesia.go.id",
    "http://kemkes.go.id/id/berita?x=1",
    "https://jakarta.go.id/layanan/",
    "https://x.com/humas/status/1346889436626259968",
    "https://t.co/abc123XYZ",
    "https://en.wikipedia.org/wiki/Jakarta_(city)",
    "https://bit.ly/3xYz",
    "HTTPS://EXAMPLE.COM",
    "https://sub.dinas.jatengprov.go.id/a/b/c.html#frag",
    "https://a.b.c.d.e.f.go.id",
    "https://192.168.0.1/",
    "https://localhost:8080",
    "https://bücher.de",
    "https://例え.jp",
    "https://pemda.desa.id",
    "https://www.bps.go.id/id/statistics-table?subject=519&tahun=2023",
    "ftp://example.com",
    "https://example.com.",
    "(https://example.com)",
    "https://example.com/?q=a,b",
    "https://example.com/path!",
    "https://example.com:8443/x",
    "https://lapor.go.id/laporan?id=12345&ref=twitter",
    "http://www.kominfo.go.id/content/detail/123/judul-berita/0/berita_satker",
    "https://sekolah.sch.id/ppdb",
    "https://kampus.ac.id/~dosen",
    "https://toko.co.id/produk?warna=merah",
    "https://www.mysite.music/",
    "https://shop.xyz",
    "https://t.co/" + "a" * 41,
    "https://example.com/" + "p" * 300,
    "https://-bad.com",
    "https://under_score.example.com",
    "https://example.c",
    "https://xn--bcher-kva.de",
    "https://example.com/a(b)c",
    "https://example.com/%E2%9C%93",
    "https://example.com/ünicode",
    "http://example.com/path;param",
    "https://instagram.com/p/abc/?utm_source=ig",
]

URLS_WITHOUT_SCHEME = [
    "kemkes.go.id",
    "www.jakarta.go.id/berita",
    "indonesia.go.id",
    "lapor.go.id.",
    "bps.go.id/publikasi",
    "desa.id",
    "sekolah.sch.id",
    "kampus.ac.id",
    "example.co.id",
    "polri.go.id?x=1",
    "foo.bar",
    "foo.invalidtld",
    "a.b",
    "versi 1.2.3",
    "e.g.",
    "user@kemkes.go.id",
    "@kemkes.go.id",
    "#kemkes.go.id",
    "$kemkes.go.id",
    "jakarta.go.id/jalan_(raya)",
    "bücher.de",
    "mysite.music",
    "shop.xyz",
    "info.gov",
    "t.co/abc",
    "example.com/",
    "-example.com",
    "_example.com",
    "x.com/humas",
    "pemilu2024.kpu.go.id",
    "covid19.go.id/peta-sebaran",
    "jdih.kemenkeu.go.id",
    "bandung.go.id,",
    "surabaya.go.id!",
    "www.bi.go.id)",
    "ojk.go.id/id/Pages/FAQ.aspx",
    "sub_domain.example.com",
    "example.COM",
    "a-b.id",
    "12345.id",
]

INDONESIAN = [
    "Selamat pagi, warga!",
    "Jadwal vaksinasi hari Sabtu pukul 08.00 WIB di Balai Kota.",
    "Info lengkap: ",
    "Mohon maaf atas ketidaknyamanan ini.",
    "Pelayanan KTP-el buka Senin–Jumat.",
    "#InfoPublik",
    "#JakartaBersih",
    "@humas_jabar",
    "@KemenkesRI",
    "$BBCA",
    "Terima kasih 🙏",
    "Hati-hati di jalan!",
    "Pemadaman listrik: 10.00–12.00",
    "Rp 1.500.000,-",
    "Sumber: BPS (2023)",
    "No. 12/2024",
    "Tel. (021) 500-454",
    "Kab. Bandung Barat",
    "RT 05/RW 02",
    "Waktu: 19.30 WITA",
]

SEPARATORS = [" ", "", "\n", ", ", " (", ") ", ": ", "\u3000", "。", " — "]


def fixed_strings() -> list[str]:
    """The hand-written strings of the corpus, one kind of piece at a time."""
    texts: list[str] = ["", " ", "a", "Hello world", "a" * 280, "a" * 281, "政" * 140, "政" * 141]
    for group in (EMOJI, CJK, OTHER_SCRIPTS, PUNCTUATION, NFC):
        texts.extend(group)
    for url in URLS_WITH_SCHEME + URLS_WITHOUT_SCHEME:
        texts.append(url)
        texts.append(f"Info lengkap: {url}")
        texts.append(f"{url} 🎉")
    texts.extend(INDONESIAN)
    texts.append(" ".join(INDONESIAN))
    texts.append("😀" * 140)
    texts.append("😀" * 141)
    texts.append("🇮🇩" * 141)
    texts.append("👨‍👩‍👧‍👦" * 140)
    texts.append("https://kemkes.go.id " * 12)
    texts.append("日本kemkes.go.id")
    texts.append("kemkes.go.id日本")
    texts.append("😀kemkes.go.id")
    texts.append("kemkes.go.id😀")
    texts.append("https://kemkes.go.id/😀")
    texts.append("https://kemkes.go.id/path😀")
    texts.append("a.go.id.b.go.id")
    texts.append("kemkes.go.id/a https://b.go.id c.id")
    return texts


def random_strings(count: int, seed: int = 20240501) -> list[str]:
    """``count`` seeded random mixtures of the pieces (the same on every run)."""
    rng = random.Random(seed)  # noqa: S311 - a seeded, repeatable corpus, not a secret
    pools = [
        EMOJI,
        CJK,
        OTHER_SCRIPTS,
        PUNCTUATION,
        NFC,
        URLS_WITH_SCHEME,
        URLS_WITHOUT_SCHEME,
        INDONESIAN,
        INDONESIAN,
    ]
    texts: list[str] = []
    for _ in range(count):
        pieces = [rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 8))]
        text = pieces[0]
        for piece in pieces[1:]:
            text += rng.choice(SEPARATORS) + piece
        texts.append(text)
    return texts


def corpus_strings() -> list[str]:
    """The whole corpus: fixed strings then random ones, without repeats."""
    seen: set[str] = set()
    texts = []
    for text in fixed_strings() + random_strings(450):
        if text not in seen:
            seen.add(text)
            texts.append(text)
    return texts


def twitter_text_counts(texts: list[str], node_modules: Path) -> list[int]:
    """The weighted lengths twitter-text gives ``texts`` (runs node)."""
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        ["node", str(NODE_DIR / "count.cjs"), str(node_modules)],  # noqa: S607 - node on PATH
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return [int(entry["weighted_length"]) for entry in json.loads(done.stdout)]


def main() -> int:
    """Write the corpus with twitter-text's figures; the exit status."""
    from govsocial.testing.npm import install

    node_modules = install(NODE_DIR, "govsocial-x")
    texts = corpus_strings()
    counts = twitter_text_counts(texts, node_modules)
    entries = [{"text": t, "weighted_length": c} for t, c in zip(texts, counts, strict=True)]
    document = {
        "source": "twitter-text 3.1.0 (npm), parseTweet with its default config (v3)",
        "generator": "govsocial_x.testing.make_corpus",
        "entries": entries,
    }
    CORPUS.write_text(json.dumps(document, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {len(entries)} strings to {CORPUS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
