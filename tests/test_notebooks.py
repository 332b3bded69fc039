"""The example notebooks run from top to bottom against the local servers.

docs/notebooks/metrics.ipynb is executed with nbclient in a python3 kernel running this
interpreter (the project's virtual environment), as a reader would run it: every cell must
succeed, and the summary by label must show the labels the notebook's posts carry.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")
pytest.importorskip("pandas")
pytest.importorskip("matplotlib")
pytest.importorskip("govsocial_mastodon")

from jupyter_client.manager import AsyncKernelManager  # noqa: E402 - only once nbclient is known

ROOT = Path(__file__).resolve().parents[1]
METRICS = ROOT / "docs" / "notebooks" / "metrics.ipynb"


class ThisPythonKernel(AsyncKernelManager):
    """A kernel started with this interpreter, whatever the python3 kernelspec names."""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command: list[str] = super().format_kernel_cmd(extra_arguments)
        return [sys.executable, *command[1:]]


def text_of(cell: Any) -> str:
    """Everything a code cell showed: streams, results (text and HTML) and errors."""
    parts: list[str] = []
    for output in cell.get("outputs", []):
        parts.append(str(output.get("text", "")))
        data = output.get("data", {})
        parts.extend(str(data.get(kind, "")) for kind in ("text/plain", "text/html"))
    return "\n".join(parts)


def test_metrics_notebook_runs_against_the_local_servers() -> None:
    notebook = nbformat.read(METRICS, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), (
        "commit the notebook with its outputs cleared"
    )
    notebook.cells.insert(
        0, nbformat.v4.new_code_cell("import sys\nprint('kernel python:', sys.executable)")
    )
    executed = run_notebook(notebook)
    assert f"kernel python: {sys.executable}" in text_of(executed.cells[0])
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        assert not errors, f"cell failed:\n{cell.source}\n{errors}"
        assert cell.execution_count is not None, cell.source
    [summary] = [c for c in executed.cells if "summary" in c.get("metadata", {}).get("tags", [])]
    shown = text_of(summary)
    assert "program: vaksinasi" in shown and "pimpinan: walikota" in shown


def run_notebook(notebook: Any) -> Any:
    """Execute ``notebook`` (already read) in the notebooks' folder; return it with outputs."""
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        kernel_manager_class=ThisPythonKernel,
        timeout=180,
        resources={"metadata": {"path": str(METRICS.parent)}},
    )
    client.execute()
    return notebook
