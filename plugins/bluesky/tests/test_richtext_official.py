"""Our rich-text code against the OFFICIAL @atproto/api RichText, on a generated corpus.

The pinned @atproto/api comes from the Bluesky devserver's npm tree (the version
@atproto/dev-env 0.6.7 uses, installed once by ``devserver.ensure_installed()``);
``node/richtext.mjs`` runs once over the whole corpus with that tree's Node 22.  Without npm the
tests are skipped on a developer machine and fail on CI (env ``CI`` set).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import pytest

from govsocial_bluesky import devserver, richtext
from govsocial_bluesky.testing import corpus

NODE_DIR = Path(__file__).parent / "node"


CORPUS = corpus()


def _unavailable(reason: str) -> NoReturn:
    """Skip on a developer machine, fail on CI."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def atproto_api() -> Path:
    """The devserver's npm tree (which pins @atproto/api), with the runner script beside it."""
    if not devserver.npm_available():
        _unavailable("npm not found: install Node.js 20+ to compare with @atproto/api")
    target = devserver.ensure_installed()
    shutil.copy2(NODE_DIR / "richtext.mjs", target / "richtext.mjs")
    return target


@pytest.fixture(scope="session")
def official(atproto_api: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """What the official RichText makes of every corpus string."""
    corpus_file = tmp_path_factory.mktemp("richtext") / "corpus.json"
    corpus_file.write_text(json.dumps(CORPUS), encoding="utf-8")
    done = subprocess.run(
        [str(devserver.node_binary()), str(atproto_api / "richtext.mjs"), str(corpus_file)],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    results: list[dict[str, Any]] = json.loads(done.stdout.decode("utf-8"))
    assert len(results) == len(CORPUS)
    return results


def _ours(text: str) -> list[dict[str, Any]]:
    """Our facets in the official JSON form, mentions carrying the handle as their DID."""
    spans = richtext.detect_facets(text)
    handles = {span.value: span.value for span in spans if span.kind == "mention"}
    return richtext.to_facets(spans, handles)


def _theirs(facets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Official facets without the optional top-level ``$type``."""
    return [{"index": facet["index"], "features": facet["features"]} for facet in facets]


def _report(mismatches: list[tuple[str, object, object]]) -> str:
    lines = [f"{len(mismatches)} of {len(CORPUS)} strings differ:"]
    lines += [
        f"  {text!r}: official {theirs!r}, ours {ours!r}" for text, theirs, ours in mismatches
    ]
    return "\n".join(lines[:40])


def test_corpus_is_large_and_deterministic() -> None:
    assert len(CORPUS) >= 400
    assert corpus() == CORPUS


def test_grapheme_length_matches(official: list[dict[str, Any]]) -> None:
    mismatches: list[tuple[str, object, object]] = [
        (text, result["graphemeLength"], richtext.grapheme_length(text))
        for text, result in zip(CORPUS, official, strict=True)
        if result["graphemeLength"] != richtext.grapheme_length(text)
    ]
    assert not mismatches, _report(mismatches)


def test_byte_length_matches(official: list[dict[str, Any]]) -> None:
    mismatches: list[tuple[str, object, object]] = [
        (text, result["length"], richtext.byte_length(text))
        for text, result in zip(CORPUS, official, strict=True)
        if result["length"] != richtext.byte_length(text)
    ]
    assert not mismatches, _report(mismatches)


def test_detected_facets_match(official: list[dict[str, Any]]) -> None:
    mismatches: list[tuple[str, object, object]] = [
        (text, _theirs(result["facets"]), _ours(text))
        for text, result in zip(CORPUS, official, strict=True)
        if _theirs(result["facets"]) != _ours(text)
    ]
    assert not mismatches, _report(mismatches)


def test_corpus_exercises_every_kind_of_facet(official: list[dict[str, Any]]) -> None:
    kinds = {
        feature["$type"].rpartition("#")[2]
        for result in official
        for facet in result["facets"]
        for feature in facet["features"]
    }
    assert kinds == {"link", "mention", "tag"}
    with_facets = sum(1 for result in official if result["facets"])
    assert with_facets >= 200


def test_tld_lists_nearly_agree(atproto_api: Path) -> None:
    """The npm ``tlds`` list that @atproto/api uses and ours differ only by recent changes."""
    npm_list = json.loads((atproto_api / "node_modules" / "tlds" / "index.json").read_text("utf-8"))
    theirs = {name for name in npm_list if name.isascii()}
    ours = set(richtext._known_tlds())
    assert len(theirs ^ ours) <= 30, sorted(theirs ^ ours)


def test_to_facets_drops_unresolved_mentions() -> None:
    spans = richtext.detect_facets("hi @alice.bsky.social and @bob.test #tag https://example.com")
    facets = richtext.to_facets(spans, {"alice.bsky.social": "did:plc:alice"})
    features = [facet["features"][0] for facet in facets]
    assert features == [
        {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"},
        {"$type": "app.bsky.richtext.facet#tag", "tag": "tag"},
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com"},
    ]
    assert facets[0]["index"] == {"byteStart": 3, "byteEnd": 21}
