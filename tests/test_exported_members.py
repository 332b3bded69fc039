"""Every public name is exported, and nothing private is."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import typing
from typing import Any

import pytest

import govsocial
import govsocial.core.errors


def test_all_is_complete_and_importable() -> None:
    public = {name for name in dir(govsocial) if not name.startswith("_")} | {"__version__"}
    assert set(govsocial.__all__) == public
    for name in govsocial.__all__:
        assert getattr(govsocial, name) is not None, name


def test_the_design_names_exist() -> None:
    for name in (
        "Post",
        "Media",
        "Account",
        "Client",
        "AsyncClient",
        "platforms",
        "validate",
        "hookimpl",
        "PublishResult",
        "PostRef",
        "count_characters",
    ):
        assert name in govsocial.__all__


def test_import_is_light() -> None:
    """``import govsocial`` must not pull in httpx, pydantic or any plugin."""
    code = (
        "import sys, govsocial; "
        "heavy = [m for m in ('httpx', 'pydantic', 'govsocial_mastodon', 'govsocial_bluesky', "
        "'pandas', 'matplotlib') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# -- everything a user can catch or receive is exported ---------------------------------


def _govsocial_classes() -> dict[str, type]:
    """Every class defined in a govsocial module, by name: the namespace that resolves
    annotations written under TYPE_CHECKING."""
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(govsocial.__path__, "govsocial."):
        if info.name.split(".")[1] in ("cli", "testing"):  # tools on top, not vocabulary
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__.startswith("govsocial"):
                found.setdefault(value.__name__, value)
    return found


def _classes_in(hint: Any) -> set[type]:
    """The govsocial classes a type hint names (``list[Job]``, ``InboxItem | None``...)."""
    found: set[type] = set()
    if isinstance(hint, type) and hint.__module__.startswith("govsocial"):
        found.add(hint)
    for arg in typing.get_args(hint):
        found |= _classes_in(arg)
    return found


# Deprecated 0.1 plumbing still on the facade (each warns and goes in 0.3), and the store
# itself, which is the engine below the services rather than something a user handles.
PLUMBING = {"account_row", "new_delivery", "store"}


def _returned_classes(cls: type) -> dict[str, set[type]]:
    import pandas as pd  # DataFrame methods name it under TYPE_CHECKING

    namespace = {**_govsocial_classes(), "pd": pd}
    returned: dict[str, set[type]] = {}
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or name in PLUMBING:
            continue
        function = member.fget if isinstance(member, property) else member
        if not callable(function):
            continue
        module = sys.modules[function.__module__]
        hints = typing.get_type_hints(function, globalns=vars(module), localns=namespace)
        if "return" in hints:
            returned[name] = _classes_in(hints["return"])
    return returned


@pytest.mark.parametrize("owner", ["Workspace", "Client", "AsyncClient"])
def test_everything_a_public_method_returns_is_exported(owner: str) -> None:
    missing = {
        f"{owner}.{method} -> {cls.__module__}.{cls.__qualname__}"
        for method, classes in _returned_classes(getattr(govsocial, owner)).items()
        for cls in classes
        if getattr(govsocial, cls.__name__, None) is not cls
    }
    assert not missing, f"export these from govsocial: {sorted(missing)}"


def test_the_returned_classes_are_found() -> None:
    """The check above sees through annotations (else it could pass by finding nothing)."""
    returned = _returned_classes(govsocial.Workspace)
    assert govsocial.Job in returned["jobs"]
    assert govsocial.Report in returned["report"]
    assert govsocial.AuditHead in returned["audit_head"]
    assert _returned_classes(govsocial.Client)["publish"] == {govsocial.PublishResult}


def test_every_error_class_is_exported() -> None:
    errors = [
        value
        for value in vars(govsocial.core.errors).values()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == "govsocial.core.errors"
    ]
    assert govsocial.GovSocialError in errors and len(errors) > 5
    missing = [cls.__name__ for cls in errors if getattr(govsocial, cls.__name__, None) is not cls]
    assert not missing, f"export these from govsocial: {missing}"


def test_lookups_that_fail_are_key_errors_too() -> None:
    """``except KeyError`` written for a lookup keeps working when it raises NotFound."""
    error = govsocial.NotFound("no job 'x'", field="job_id", hint="ws.jobs() lists them")
    assert isinstance(error, govsocial.GovSocialError)
    assert isinstance(error, KeyError) and isinstance(error, LookupError)
    assert str(error) == "no job 'x' (ws.jobs() lists them)"  # not quoted like a KeyError


def test_bad_input_is_a_value_error_too() -> None:
    """``except ValueError`` caught pydantic's error before; it catches ours."""
    with pytest.raises(ValueError, match="exactly one"):
        govsocial.Media()
