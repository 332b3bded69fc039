"""The layered package: old 0.1 module paths still work for one release, and warn."""

from __future__ import annotations

import importlib
import warnings

import pytest

from govsocial._deprecated import MOVED


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_module_path_forwards_to_its_new_home_and_warns(old: str, new: str) -> None:
    module = importlib.import_module(new)
    public = [name for name in vars(module) if not name.startswith("_")]
    assert public, f"{new} defines nothing public"
    name = getattr(module, "__all__", public)[0]
    stub = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=f"import {name} from {new}"):
        value = getattr(stub, name)
    assert value is getattr(module, name)


def test_the_old_workspace_path_still_gives_the_facade() -> None:
    import govsocial
    import govsocial.workspace

    with pytest.warns(DeprecationWarning, match="use govsocial.Workspace"):
        facade = govsocial.workspace.Workspace
    assert facade is govsocial.Workspace


def test_an_unknown_name_on_an_old_path_is_an_attribute_error() -> None:
    stub = importlib.import_module("govsocial.errors")
    with warnings.catch_warnings(), pytest.raises(AttributeError):
        warnings.simplefilter("error")
        stub.NoSuchThing  # noqa: B018


def _cycles() -> list[list[str]]:
    """Strongly connected groups of govsocial modules (every kind of import counts)."""
    grimp = pytest.importorskip("grimp")  # comes with import-linter, in the dev extra
    graph = grimp.build_graph("govsocial", include_external_packages=False)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_in_the_package() -> None:
    """Zero cycles, counting imports inside functions and under TYPE_CHECKING."""
    assert _cycles() == []


def test_the_npm_helper_and_the_demo_import_without_pytest() -> None:
    """``scripts/install`` and ``govsocial demo`` run without the test extra: nothing they
    import may need pytest (the conformance suite does, so it loads only when asked for)."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['pytest'] = None\n"
        "from govsocial.testing.npm import install\n"
        "import govsocial.cli.demo, govsocial.testing.emulator\n"
        "import govsocial.testing\n"
        "try:\n"
        "    govsocial.testing.PlatformConformance\n"
        "except ImportError:\n"
        "    print('suite needs pytest')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "suite needs pytest\n"
