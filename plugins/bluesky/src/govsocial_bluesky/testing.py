"""Test helpers of the Bluesky plugin: a deterministic corpus of post texts for comparing
rich-text code with @atproto/api (``from govsocial_bluesky.testing import corpus``).

``corpus()`` returns the same list on every call and machine: hand-picked edge
cases first, then seeded random combinations of the same kinds of pieces.
Only long-established TLDs are used, so the corpus does not depend on which
snapshot of IANA's list either side ships.
"""

from __future__ import annotations

import random

SEED = 20261127

EMOJI = [
    "👨‍👩‍👧‍👦",  # family (ZWJ)
    "👩🏽‍💻",  # technologist, skin tone + ZWJ
    "🏳️‍🌈",  # rainbow flag (VS16 + ZWJ)
    "🏳️‍⚧️",
    "❤️‍🔥",
    "🧑🏿‍🤝‍🧑🏻",
    "🇮🇩",  # flag (regional indicators)
    "🇫🇷🇩🇪",
    "🇺",  # lone regional indicator
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",  # tag sequence
    "👍🏻",
    "👋🏿",
    "#️⃣",  # keycap
    "1️⃣",
    "✨",
    "☺︎",  # text presentation
    "🫶",
    "🙂‍↔️",
]
COMBINING = ["é", "é", "ñ", "Z̤̲̞", "ệ", "a\u0308\u0301", "\u0301", "o\u20dd", "ก\u0e34\u0e4a"]
SCRIPTS = [
    "日本語のテキスト",
    "中文字符测试",
    "한국어 문장",
    "नमस्ते दुनिया",
    "क्षत्रिय",
    "प्रधानमंत्री",
    "ਪੰਜਾਬੀ",
    "বাংলা ভাষা",
    "ภาษาไทยง่ายนิดเดียว",
    "مرحبا بالعالم",
    "שָׁלוֹם",
    "Привет, мир",
    "Ελληνικά",
    "Tiếng Việt có dấu",
]
INDONESIAN = [
    "Pemerintah Kabupaten mengumumkan jadwal vaksinasi gratis minggu depan.",
    "Informasi lebih lanjut hubungi kantor kelurahan setempat.",
    "Jangan lupa membawa KTP dan kartu keluarga.",
    "Selamat Hari Kemerdekaan Republik Indonesia ke-81!",
    "Layanan publik tetap buka pada hari Sabtu pukul 08.00-12.00 WIB.",
    "Waspada banjir: warga diimbau menjauhi bantaran sungai.",
]
URLS = [
    "https://example.com",
    "http://example.com/path/to/page",
    "https://www.kemenkeu.go.id/informasi-publik?id=42&lang=id",
    "https://en.wikipedia.org/wiki/Jakarta_(city)",
    "https://example.com/a_(b)_(c)",
    "https://example.com/search?q=%E6%97%A5%E6%9C%AC#frag",
    "https://例え.jp/パス",
    "https://example.com:8443/port",
    "http://127.0.0.1:3000/local",
    "https://xn--p1ai.xn--p1ai/",
    "HTTPS://EXAMPLE.COM/LOUD",
    "Https://example.com/mixed",
    "ftp://example.com/file",
    "https://t.co/abc123",
    "https://bsky.app/profile/alice.bsky.social/post/3k",
    "example.com",
    "www.example.org/news",
    "kemkes.go.id/berita",
    "Example.COM",
    "example.CO.uk/x",
    "sub.domain.example.net/a?b=c",
    "jdih.setneg.go.id",
    "foo.bar",
    "e.g.",
    "U.S.A.",
    "3.14",
    "v1.2.3",
    "file.txt",
    "image.png",
    "user@example.com",
    "http.cat/404",
    "httpbin.org/get",
    "https.example",
    "a.co",
    "x1.io",
    "1example.com",
    "example.test",
    "localhost:8080",
    "https://",
    "http://x",
]
URL_WRAPS = [
    ("", ""),
    ("", "."),
    ("", ","),
    ("", "!"),
    ("", "?"),
    ("", ":"),
    ("", ";"),
    ("", ".."),
    ("(", ")"),
    ("(", ")."),
    ("(see ", ")"),
    ('"', '"'),
    ("'", "'"),
    ("<", ">"),
    ("[", "]"),
    ("「", "」"),
    ("“", "”"),
    ("", ")"),
    ("", "/"),
    ("", "…"),
]
MENTIONS = [
    "@alice.bsky.social",
    "@bob.test",
    "@pemkot-bandung.go.id",
    "@x.com",
    "@Alice.Bsky.Social",
    "@alice.bsky.SOCIAL",
    "@alice",
    "@alice.",
    "@alice.bsky.social.",
    "@-alice.bsky.social",
    "@alice-.bsky.social",
    "@alice.bsky.social-",
    "@alice_b.bsky.social",
    "@al.ice.example.com",
    "@123.456",
    "@@alice.bsky.social",
    "\uff20alice.bsky.social",
    "@alice.bsky.social's",
    "@alice.bsky.social!",
    "@alice.bsky.socialé",
    "@did:plc:abc",
    "@xn--80ak6aa92e.com",
]
HASHTAGS = [
    "#tag",
    "#Tag",
    "\uff03全角",
    "#日本語",
    "#Indonesia",
    "#HUTRI81",
    "#123",
    "#2024",
    "#1st",
    "#tag!",
    "#tag...",
    "#tag's",
    "#c++",
    "#tag_with_underscores",
    "#tag-with-hyphens",
    "#🎉",
    "#🎉party",
    "#️⃣",
    "#\ufe0ftag",
    "#a\u200bb",
    "#a\u200db",
    "#a\u00adb",
    "#",
    "##tag",
    "#tag#tag2",
    "#tag.",
    "#.tag",
    "#!!!",
    "#_",
    "#नमस्ते",
    "#สวัสดี",
    "#café",
    "#ca\u0301fe\u0301",
    "#" + "a" * 64,
    "#" + "a" * 65,
    "#" + "ä" * 64,
    "#" + "🇮🇩" * 64,
    "#" + "🇮🇩" * 65,
    "#" + "x" * 63 + "!",
]
CASHTAGS = [
    "$AAPL",
    "$aapl",
    "$BTC",
    "$A",
    "$A1B2C",
    "$TOOLONG",
    "$5",
    "$1AB",
    "$AAPL.",
    "$AAPL's",
    "$AAPL\u2019",
]
SEPARATORS = [
    " ",
    " ",
    " ",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "\u3000",
    "\u00a0",
    "\u2028",
    "(",
    ", ",
    "",
    "- ",
    "、",
]


def _edge_cases() -> list[str]:
    cases: list[str] = [
        "",
        " ",
        "Hello world",
        "\r\n",
        "a\r\nb",
        "नमस्ते",
        "क्‍ष",
        "अनुच्छेद",
        "ẞ",
        "\u200d",
        "a\u200d",
        "\ufeffBOM start",
        "🇮🇩🇮🇩🇮🇩",
        "🇮🇩🇮",
        "x" * 300,
        "é" * 300,
        "👨‍👩‍👧‍👦" * 50,
        "नमस्ते " * 40,
    ]
    cases += EMOJI + COMBINING + SCRIPTS + INDONESIAN
    for url in URLS:
        for before, after in URL_WRAPS[:4]:
            cases.append(f"Baca {before}{url}{after} sekarang")
    for index, (before, after) in enumerate(URL_WRAPS):
        url = URLS[index % 8]
        cases.append(f"{before}{url}{after}")
        cases.append(f"Tautan {before}{URLS[15 + index % 10]}{after}")
    cases += [f"Halo {mention} apa kabar?" for mention in MENTIONS]
    cases += [f"({mention})" for mention in MENTIONS[:8]]
    cases += [f"cc:{mention}" for mention in MENTIONS[:3]]
    cases += [f"{mention}" for mention in MENTIONS]
    cases += [f"Ayo ikut {tag} hari ini" for tag in HASHTAGS]
    cases += [f"{tag}" for tag in HASHTAGS]
    cases += [f"x{tag}" for tag in HASHTAGS[:3]]
    cases += [f"Saham {cash} naik" for cash in CASHTAGS]
    cases += [f"({cash})" for cash in CASHTAGS[:4]]
    cases += [
        "https://example.com/a https://example.com/b",
        "https://example.com/a\nhttps://example.com/b",
        "example.com,example.org",
        "(https://example.com/foo)bar",
        "see: https://example.com/x.) and more",
        "https://example.com/#tag #tag",
        "https://example.com/@alice.bsky.social @alice.bsky.social",
        "#tag https://example.com #tag2",
        "email: user@example.com or @user.example.com",
        "\u3000#tag\u3000@alice.bsky.social\u3000example.com",
        "\u00a0#nbsp",
        "\u2028#ls",
        "\ufeff#bom",
        "line1\nexample.com\nline3",
        "line1\rexample.com",
        "(example.com/path_(x))",
        "https://example.com/((a))",
        "https://example.com/a)b(c",
        "$AAPL $GOOG $TSLA",
        "#a #b #c #d #e",
        "@a.com @b.org @c.net",
    ]
    return cases


def _random_cases(count: int) -> list[str]:
    rnd = random.Random(SEED)  # noqa: S311 - a seeded, repeatable corpus, not a secret
    pools = [
        EMOJI,
        COMBINING,
        SCRIPTS,
        INDONESIAN,
        URLS,
        MENTIONS,
        HASHTAGS[:-6],
        CASHTAGS,
        ["kata", "dan", "yang", "di", "untuk", "Hari", "ini", "123", "...", "!"],
    ]
    cases: list[str] = []
    for _ in range(count):
        parts: list[str] = []
        for _ in range(rnd.randint(2, 7)):
            piece = rnd.choice(rnd.choice(pools))
            if rnd.random() < 0.15:
                before, after = rnd.choice(URL_WRAPS)
                piece = f"{before}{piece}{after}"
            parts.append(piece)
            parts.append(rnd.choice(SEPARATORS))
        cases.append("".join(parts[:-1]))
    return cases


def corpus() -> list[str]:
    """The corpus: edge cases, then seeded random combinations (no duplicates)."""
    seen: set[str] = set()
    out: list[str] = []
    for text in _edge_cases() + _random_cases(400):
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out
