"""Every public name in govsocial says what it is: a docstring on each module, class,
function, method and property that a user or a plugin author can reach.

Public means: a module whose path has no part starting with ``_`` (or a private module's
names that a public package re-exports), a name in its ``__all__`` (or, without one, every
top-level name it defines without a leading ``_``), and the methods and properties a public
class defines itself. A method that overrides a documented one inherits its docstring, as
``inspect.getdoc`` reads it (an adapter's ``publish`` is documented on ``Platform``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from types import ModuleType

import govsocial

#: names pydantic or the standard library put on classes; they are documented upstream
_INHERITED = {"model_config", "model_fields", "model_computed_fields"}


def _modules() -> Iterator[ModuleType]:
    for info in pkgutil.walk_packages(govsocial.__path__, "govsocial."):
        name = info.name
        if name.endswith("__main__"):
            continue
        yield importlib.import_module(name)


def _public_names(module: ModuleType) -> list[str]:
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return list(declared)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", None) == module.__name__
        and (inspect.isclass(value) or inspect.isfunction(value))
    ]


def _is_private_module(name: str) -> bool:
    return any(part.startswith("_") for part in name.split(".")[1:])


def _members(cls: type) -> Iterator[tuple[str, object]]:
    for name, value in vars(cls).items():
        if name.startswith("_") or name in _INHERITED:
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, property):
            yield name, value


def _missing() -> list[str]:
    missing: list[str] = []
    seen: set[int] = set()
    for module in _modules():
        private = _is_private_module(module.__name__)
        if not private and not (module.__doc__ or "").strip():
            missing.append(f"{module.__name__} (module)")
        if private and module.__name__ != "govsocial._deprecated":
            continue
        for name in _public_names(module):
            value = getattr(module, name, None)
            if value is None or id(value) in seen:
                continue
            if not (inspect.isclass(value) or inspect.isroutine(value)):  # constants, aliases
                continue
            seen.add(id(value))
            where = f"{getattr(value, '__module__', module.__name__)}.{name}"
            if not inspect.getdoc(value):
                missing.append(where)
            if inspect.isclass(value) and value.__module__.startswith("govsocial"):
                for member, attr in _members(value):
                    doc = attr.__doc__ if isinstance(attr, property) else None
                    doc = doc or inspect.getdoc(getattr(value, member, attr))
                    if not doc:
                        missing.append(f"{where}.{member}")
    return sorted(set(missing))


def test_every_public_name_has_a_docstring() -> None:
    missing = _missing()
    assert not missing, (
        f"{len(missing)} public names have no docstring; say what each is for:\n  "
        + "\n  ".join(missing)
    )
