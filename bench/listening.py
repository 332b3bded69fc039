"""Measure the built-in classifier: precision and recall per intent, and messages per second.

    python bench/listening.py              # both labelled sets, then the speed
    python bench/listening.py --repeat 20  # more passes for the speed figure

Reads the labelled sets in tests/data/ (``listening_labelled.jsonl``, the development set the
rules were written against, and ``listening_holdout.jsonl``, written after them), prints a
Markdown table per set (docs/listening.md publishes them) and the classification speed of
``govsocial.classify`` with no classifier plugin (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path

from govsocial.core.listening import INTENTS
from govsocial.listening.classify import classify
from govsocial.plugin.manager import Plugins

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = {
    "development set": "listening_labelled.jsonl",
    "second set": "listening_holdout.jsonl",
}


def rows(name: str) -> list[dict[str, object]]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def table(items: list[dict[str, object]], plugins: Plugins) -> str:
    hit, said, truth = Counter[str](), Counter[str](), Counter[str]()
    sentiment = language = 0
    for item in items:
        found = classify(str(item["text"]), plugins=plugins)
        said[found.intent] += 1
        truth[str(item["intent"])] += 1
        hit[found.intent] += found.intent == item["intent"]
        sentiment += found.sentiment == item["sentiment"]
        language += found.language == item["language"]
    lines = ["| intent | messages | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
    f1s = []
    for intent in INTENTS:
        p = hit[intent] / said[intent] if said[intent] else 0.0
        r = hit[intent] / truth[intent] if truth[intent] else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        f1s.append(f1)
        lines.append(f"| {intent} | {truth[intent]} | {p:.2f} | {r:.2f} | {f1:.2f} |")
    n = len(items)
    lines.append(
        f"| **all** | {n} | accuracy {sum(hit.values()) / n:.2f} | "
        f"macro-F1 {sum(f1s) / len(f1s):.2f} | |"
    )
    lines.append("")
    lines.append(f"sentiment right: {sentiment / n:.2f}; language right: {language / n:.2f}")
    return "\n".join(lines)


def speed(texts: list[str], repeat: int, plugins: Plugins) -> float:
    for text in texts:  # warm the caches (the slang list loads once)
        classify(text, plugins=plugins)
    start = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            classify(text, plugins=plugins)
    return repeat * len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="passes for the speed figure")
    args = parser.parse_args()
    plugins = Plugins(load_entrypoints=False)  # the built-in classifier alone
    everything: list[dict[str, object]] = []
    for title, name in SETS.items():
        items = rows(name)
        everything += items
        print(f"### {title} ({name}, {len(items)} messages)\n")
        print(table(items, plugins))
        print()
    print(f"### both sets ({len(everything)} messages)\n")
    print(table(everything, plugins))
    print()
    texts = [str(item["text"]) for item in everything]
    rate = speed(texts, args.repeat, plugins)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"classification speed: {rate:,.0f} messages/s "
        f"({len(texts)} messages x {args.repeat}, one process, load {load:.2f})"
    )


if __name__ == "__main__":
    main()
