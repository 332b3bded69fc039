"""Old module paths that moved when the package was cut into layers (0.2), kept for one release.

``govsocial.platform``, ``govsocial.errors``, ``govsocial.plugins`` and the rest of the
flat 0.1 layout are no files any more: :class:`MovedModules`, installed on ``sys.meta_path``
when ``govsocial`` is imported, makes each old path a small module whose ``__getattr__``
imports the new home, warns with a :class:`DeprecationWarning` naming it, and returns the
object itself (so ``isinstance`` checks and ``except`` clauses keep working). The table
below is the one docs/architecture.md prints; the stubs import nothing at load time, so
they add no edge to the layer graph.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

__all__ = ["MOVED", "MovedModules", "install"]

#: old module path -> its new home
MOVED: dict[str, str] = {
    "govsocial.errors": "govsocial.core.errors",
    "govsocial.models": "govsocial.core.models",
    "govsocial.text": "govsocial.core.text",
    "govsocial.timing": "govsocial.core.timing",
    "govsocial.platform": "govsocial.adapters.platform",
    "govsocial.http": "govsocial.adapters.http",
    "govsocial.transport": "govsocial.adapters.transport",
    "govsocial.answers": "govsocial.adapters.answers",
    "govsocial.checkpoints": "govsocial.adapters.checkpoints",
    "govsocial.media_host": "govsocial.adapters.media",
    "govsocial.hookspecs": "govsocial.plugin.spec",
    "govsocial.plugins": "govsocial.plugin.manager",
    "govsocial.house_rules": "govsocial.plugin.house_rules",
    "govsocial.validation": "govsocial.client.validation",
    "govsocial.accounts": "govsocial.client.accounts_file",
    "govsocial.credentials": "govsocial.workspace.credentials",
    "govsocial.audit": "govsocial.workspace.audit",
    "govsocial.governance": "govsocial.accountability.governance",
    "govsocial.jobs": "govsocial.scheduling.jobs",
    "govsocial.worker": "govsocial.scheduling.worker",
    "govsocial.service_hours": "govsocial.inbox.service_hours",
    "govsocial.collection": "govsocial.analytics.collection",
    "govsocial.frames": "govsocial.analytics.frames",
    "govsocial.analysis": "govsocial.analytics.analysis",
    "govsocial.plots": "govsocial.analytics.plots",
    "govsocial.report": "govsocial.analytics.report",
    "govsocial.performance": "govsocial.analytics.performance",
    "govsocial.archive": "govsocial.analytics.archive",
    "govsocial.npm": "govsocial.testing.npm",
    "govsocial.demo": "govsocial.cli.demo",
    "govsocial.platform_table": "govsocial.cli.platform_table",
}


def forward(old: str, new: str) -> Any:
    """A module ``__getattr__`` for ``old`` that forwards every name to ``new``, warning."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = getattr(importlib.import_module(new), name)
        warnings.warn(
            f"{old} is deprecated since govsocial 0.2 and goes in 0.3: "
            f"import {name} from {new} instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return value

    return __getattr__


class MovedModules:
    """Finds the old module paths in :data:`MOVED` and loads each as a forwarding stub.

    A meta-path finder and loader by protocol (``find_spec``, ``create_module``,
    ``exec_module``), not by subclassing :mod:`importlib.abc`, whose import would cost
    ``import govsocial`` about 15 ms.
    """

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for an old path in :data:`MOVED`; None (not ours) for every other name."""
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, cast("Loader", self))

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        """None: the import system makes a plain module."""
        return None

    def exec_module(self, module: ModuleType) -> None:
        """Make ``module`` forward every name to its new home, warning."""
        new = MOVED[module.__name__]
        module.__doc__ = f"Deprecated: moved to {new} (see docs/architecture.md)."
        module.__getattr__ = forward(module.__name__, new)  # type: ignore[method-assign]


def install() -> None:
    """Put :class:`MovedModules` first on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModules())
