"""The plugin author's reference pages are correct: their code runs and they miss nothing.

docs/testing-plugins.md: every Python block that starts with a file name is put where it
says (``src/govsocial_papan/testing.py`` becomes the module ``govsocial_papan.testing``;
``tests/...`` files go into a fresh test folder), and pytest runs that folder under
warnings-as-errors against the example plugin: the emulator skeleton passes the whole
conformance suite. The other Python blocks must at least compile.

docs/limits.md: every ``Limits`` field and every public name of ``govsocial.core.text`` has
its row, and the values the page shows are the ones the code gives.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from govsocial.adapters.platform import Limits, Platform
from govsocial.core import text as text_module
from govsocial.core.text import find_urls, grapheme_count, utf8_length

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
TESTING = ROOT / "docs" / "testing-plugins.md"
LIMITS = ROOT / "docs" / "limits.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
MARKER = re.compile(r"#\s+((?:src|tests)/\S+\.py)")


def python_blocks(page: Path) -> list[tuple[str | None, str]]:
    """Each ```python block of ``page``: (the file its first line names, or None; its code)."""
    found = []
    for code in BLOCK.findall(page.read_text(encoding="utf-8")):
        first, _, rest = code.partition("\n")
        marker = MARKER.fullmatch(first.strip())
        found.append((marker.group(1), rest) if marker else (None, code))
    return found


# -- docs/testing-plugins.md ------------------------------------------------------------------


def test_every_unmarked_block_compiles() -> None:
    unmarked = [code for path, code in python_blocks(TESTING) if path is None]
    assert unmarked, "the page has blocks that are not files"
    for code in unmarked:
        compile(code, str(TESTING), "exec")


def test_the_fixture_snippets_are_classmethods() -> None:
    """A class-scoped fixture defined as an instance method is an error under pytest 9."""
    for _, code in python_blocks(TESTING):
        for fixture in re.finditer(r'@pytest\.fixture\(scope="class"\)\n(\s*)(\S.*)', code):
            assert fixture.group(2) == "@classmethod", fixture.group(0)


def test_the_marked_blocks_run_the_suite_against_the_emulator_skeleton(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("govsocial_papan")
    files = dict(block for block in python_blocks(TESTING) if block[0] is not None)
    assert set(files) == {
        "src/govsocial_papan/testing.py",
        "tests/conftest.py",
        "tests/test_conformance.py",
        "tests/test_registration.py",
        "tests/test_emulated.py",
    }
    # as if the plugin shipped the skeleton: the module govsocial_papan.testing
    skeleton = types.ModuleType("govsocial_papan.testing")
    skeleton.__file__ = str(TESTING)
    exec(compile(files.pop("src/govsocial_papan/testing.py"), str(TESTING), "exec"), vars(skeleton))
    monkeypatch.setitem(__import__("sys").modules, "govsocial_papan.testing", skeleton)
    for path, code in files.items():
        pytester.path.joinpath(Path(path).name).write_text(code, encoding="utf-8")
    result = pytester.runpytest(
        "-W", "error", "-p", "no:cacheprovider", "--import-mode=importlib", "-rs"
    )
    # the suite, the registration, the emulated test; the video step skips (no video types),
    # and so does the activity read (the skeleton reads per post)
    result.assert_outcomes(passed=15 + 1 + 1, skipped=2)


# -- docs/limits.md ---------------------------------------------------------------------------


def rows(page: Path) -> dict[str, str]:
    """The table rows of ``page`` by the name in their first cell."""
    found = {}
    for line in page.read_text(encoding="utf-8").splitlines():
        cell = re.match(r"\| `(\w+)(?:\([^`]*\))?` \|", line)
        if cell:
            found[cell.group(1)] = line
    return found


def test_every_limits_field_has_its_meaning_unit_and_default() -> None:
    documented = rows(LIMITS)
    for name, field in Limits.model_fields.items():
        assert name in documented, f"docs/limits.md has no row for Limits.{name}"
        cells = [c.strip() for c in documented[name].strip("|").split("|")]
        assert len(cells) == 5 and all(cells), f"Limits.{name}: fill every column"
        if field.is_required():
            assert cells[2] == "required", name
        elif field.default is None:
            assert cells[2] == "None", name
        elif isinstance(field.default, bool | int):
            assert cells[2] == str(field.default), name


def test_every_text_helper_is_documented() -> None:
    documented = rows(LIMITS)
    for name in text_module.__all__:
        assert name in documented, f"docs/limits.md has no row for govsocial.core.text.{name}"


def test_the_values_the_limits_page_shows() -> None:
    class Papan(Platform):
        limits = Limits(max_characters=280, url_length=23)

    assert Papan.count_characters("Jadwal: https://dinkes.example.go.id/jadwal/vaksinasi") == 31
    text = "Lihat https://dinkes.example.go.id/jadwal dan kemkes.go.id."
    assert [s.text for s in find_urls(text, require_scheme=True)] == [
        "https://dinkes.example.go.id/jadwal"
    ]
    assert [s.text for s in find_urls(text, require_scheme=False)] == [
        "https://dinkes.example.go.id/jadwal",
        "kemkes.go.id",
    ]
    assert (grapheme_count("नमस्ते"), grapheme_count("नमस्ते", indic_conjuncts=False)) == (3, 4)
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
    assert (grapheme_count(family), len(family), utf8_length(family)) == (1, 7, 25)
    assert "👨‍👩‍👧‍👦" in LIMITS.read_text(encoding="utf-8")
    assert Limits(max_characters=280, max_media=2, max_image_bytes=1_000_000).summary() == (
        "280 chars, 2 media, images <= 1 MB"
    )
