"""The fuzz suite's shared settings: see ``_depth.py`` for its two depths."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Hypothesis warns when it shows a long failing input (a 70,000-character text is one
    on purpose); ``filterwarnings = error`` would make the warning the failure."""
    for item in items:
        if "tests/fuzz/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.filterwarnings("ignore:Generating overly large repr"))
