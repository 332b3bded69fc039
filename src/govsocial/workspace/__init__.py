"""Layer 4, the workspace core: accounts, credentials, the audit chain, people and authority.

What every service above needs from a workspace, and nothing more.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    # 0.1 had the facade here; it is govsocial.Workspace (govsocial.app) now.
    if name == "Workspace":
        warnings.warn(
            "govsocial.workspace.Workspace is deprecated since govsocial 0.2 and goes in 0.3: "
            "use govsocial.Workspace",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module("govsocial.app").Workspace
    raise AttributeError(f"module 'govsocial.workspace' has no attribute {name!r}")
