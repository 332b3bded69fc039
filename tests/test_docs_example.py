"""The plugin tutorial teaches from a real, tested package, and cannot drift from it.

docs/writing-a-plugin.md builds docs/example-plugin (govsocial-papan) step by step. Every
fenced block there whose first line is ``# <path>`` must be a contiguous run of lines of
docs/example-plugin/<path>; that package runs the conformance suite in its own tests, so the
code a newcomer copies is code that passes it. The package must also be installed and
registered through its entry point (scripts/install does ``pip install -e docs/example-plugin``).
"""

from __future__ import annotations

import inspect
import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import govsocial

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "writing-a-plugin.md"
EXAMPLE = ROOT / "docs" / "example-plugin"
MARKER = re.compile(r"#\s+(\S+)")

Block = tuple[int, str, list[str]]  # line of the opening fence, marked path, code lines


def code_blocks(text: str) -> list[tuple[int, list[str]]]:
    """Every fenced block of a Markdown text: (line of its opening fence, its lines)."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    start = indent = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if stripped.startswith("```"):
            if current is None:
                current, start, indent = [], number, len(line) - len(stripped)
            else:
                blocks.append((start, current))
                current = None
        elif current is not None:
            current.append(line[indent:])
    assert current is None, f"{TUTORIAL.name}: the block opened on line {start} is not closed"
    return blocks


def marked_blocks() -> list[Block]:
    """The blocks whose first line names a file of the example package."""
    found = []
    for start, lines in code_blocks(TUTORIAL.read_text(encoding="utf-8")):
        marker = MARKER.fullmatch(lines[0].strip()) if lines else None
        if marker:
            found.append((start, marker.group(1), lines[1:]))
    return found


def mismatch(block: list[str], source: list[str]) -> str | None:
    """None when ``block`` is a contiguous run of ``source``; else where it departs from it."""
    block = [line.rstrip() for line in block]
    source = [line.rstrip() for line in source]
    if not block or not any(block):
        return "the block has no code after its marker line"
    best_at, best_length = 0, -1
    for at in range(len(source)):
        length = 0
        while length < len(block) and at + length < len(source):
            if source[at + length] != block[length]:
                break
            length += 1
        if length == len(block):
            return None
        if length > best_length:
            best_at, best_length = at, length
    expected = source[best_at + best_length] if best_at + best_length < len(source) else "<EOF>"
    return (
        f"block line {best_length + 1} {block[best_length]!r} does not follow; the file's "
        f"closest run (from its line {best_at + 1}) has {expected!r} there"
    )


BLOCKS = marked_blocks() if TUTORIAL.exists() else []


def test_the_tutorial_marks_the_code_it_shows() -> None:
    assert TUTORIAL.exists(), f"{TUTORIAL} is missing"
    shown = {path for _, path, _ in BLOCKS}
    for path in (
        "pyproject.toml",
        "src/govsocial_papan/__init__.py",
        "src/govsocial_papan/adapter.py",
        "src/govsocial_papan/server.py",
        "tests/test_conformance.py",
        "tests/test_papan.py",
    ):
        assert path in shown, f"{TUTORIAL.name} shows no block marked '# {path}'"


@pytest.mark.parametrize(
    ("start", "path", "lines"), BLOCKS, ids=[f"line{s}-{p}" for s, p, _ in BLOCKS]
)
def test_each_marked_block_is_an_excerpt_of_the_example(
    start: int, path: str, lines: list[str]
) -> None:
    where = f"{TUTORIAL.name} line {start}, block marked '# {path}'"
    source = (EXAMPLE / path).resolve()
    assert source.is_relative_to(EXAMPLE.resolve()), f"{where}: the path leaves the example"
    assert source.is_file(), f"{where}: docs/example-plugin/{path} does not exist"
    problem = mismatch(lines, source.read_text(encoding="utf-8").splitlines())
    assert problem is None, (
        f"{where}: not a contiguous excerpt of docs/example-plugin/{path}: {problem}"
    )


def test_the_example_plugin_is_registered_through_its_entry_point() -> None:
    install = "install it: .venv/bin/pip install -e docs/example-plugin"
    points = {point.name: point.value for point in entry_points(group="govsocial")}
    assert points.get("papan") == "govsocial_papan", f"no 'papan' entry point; {install}"
    import govsocial_papan

    assert Path(govsocial_papan.__file__).resolve().is_relative_to(EXAMPLE.resolve()), (
        f"govsocial_papan is imported from {govsocial_papan.__file__}, not the example; {install}"
    )
    found = govsocial.platforms().get("papan")
    # by name and file, not identity: an in-process pytester run (tests/test_testing_docs.py)
    # imports the example again and restores sys.modules afterwards, so the class govsocial
    # registered may come from an earlier import of the same file
    assert found is not None, "govsocial.platforms() has no 'papan'"
    assert (found.__module__, found.__qualname__) == ("govsocial_papan.adapter", "Papan")
    assert Path(inspect.getfile(found)).resolve().is_relative_to(EXAMPLE.resolve())
