"""The CLI's docs follow its parser, and the CLI package keeps its shape.

docs/cli-reference.md is generated from ``--help`` (govsocial.cli._reference) and must be
regenerated when a command changes; docs/cli.md, docs/index.md and the package docstring
name every command; command modules import only the shared ``_common`` module of the CLI.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import sys
from pathlib import Path

import pytest

import govsocial.cli
from govsocial.cli import build_parser
from govsocial.cli._reference import reference_markdown

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "src" / "govsocial" / "cli"


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


@pytest.mark.skipif(
    sys.version_info >= (3, 13),
    reason="argparse lays help out differently from Python 3.13; the page is made on 3.11/3.12",
)
def test_docs_cli_reference_is_up_to_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "37")  # the page must not depend on this terminal
    page = (ROOT / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    assert page == reference_markdown(), (
        "docs/cli-reference.md is out of date: regenerate it with "
        "python -m govsocial.cli._reference > docs/cli-reference.md"
    )


def test_the_reference_has_every_command_and_action() -> None:
    page = reference_markdown()
    for name, parser in commands(build_parser()).items():
        assert f"\n### govsocial {name}\n" in page
        for action in [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]:
            for sub in action.choices:
                assert f"\n#### govsocial {name} {sub}\n" in page
    assert "usage: govsocial inbox reply [-h] [--by PERSON] [--key PATH] item_id text" in page


def test_every_command_is_named_in_the_docs_and_the_package_docstring() -> None:
    cli_page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    [index_line] = [line for line in index.splitlines() if "(cli.md)" in line]
    assert "(cli-reference.md)" in index_line and "(cli-reference.md)" in cli_page
    for name in commands(build_parser()):
        word = re.compile(rf"(?<![\w-]){name}(?![\w-])")
        assert word.search(govsocial.cli.__doc__ or ""), f"govsocial.cli's docstring: {name}"
        assert word.search(index_line), f"docs/index.md's command line entry: {name}"
        assert f"govsocial [--db URL] {name}" in cli_page or f"govsocial {name}" in cli_page, name


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_command_modules_import_no_other_part_of_the_cli_but_common() -> None:
    """No module the package imports imports ``govsocial.cli`` back, so there is no cycle.

    (``__main__`` and ``_reference`` are entry points on top: they import the package.)"""
    command_modules = ("publish", "schedule", "keys", "governance", "inbox", "performance")
    for path in CLI.glob("*.py"):
        if path.stem in ("__init__", "__main__", "_reference"):
            continue
        imported = _imports(path)
        assert "govsocial.cli" not in imported, f"{path.name} imports govsocial.cli back"
        if path.stem in command_modules:
            cli_parts = {name for name in imported if name.startswith("govsocial.cli.")}
            allowed = {
                "govsocial.cli._common",
                "govsocial.cli.demo",
                "govsocial.cli.platform_table",
            }
            assert {n.rsplit(".", 1)[0] if n.count(".") > 2 else n for n in cli_parts} <= allowed
            module = importlib.import_module(f"govsocial.cli.{path.stem}")
            assert callable(module.add_parsers) and not hasattr(module, "HANDLERS")
        assert "type: ignore" not in path.read_text(encoding="utf-8"), path.name


def test_every_built_in_command_has_a_handler() -> None:
    for name, parser in commands(build_parser()).items():
        assert callable(parser.get_default("handler")), name
