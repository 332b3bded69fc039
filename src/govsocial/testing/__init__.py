"""Test helpers for adapter authors, and the conformance suite every adapter runs.

Use it from your plugin's tests::

    import pytest
    from govsocial.testing import PlatformConformance

    class TestConformance(PlatformConformance):
        platform = "myplatform"

See :mod:`govsocial.testing.conformance` for the suite, :mod:`govsocial.testing.emulator`
for emulated platforms, :mod:`govsocial.testing.pytest_plugin` for the shared fixtures and
:mod:`govsocial.testing.npm` for installing the local servers' npm packages.

The names below load on first use: the suite needs pytest, but ``govsocial.testing.npm``
(which the demo and ``scripts/install`` use to install local servers) must work without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from govsocial.testing.conformance import (
        PlatformConformance,
        eventually,
        tiny_png,
        unique_text,
        use_plugins,
    )

__all__ = ["PlatformConformance", "eventually", "tiny_png", "unique_text", "use_plugins"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        value = getattr(importlib.import_module("govsocial.testing.conformance"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'govsocial.testing' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
