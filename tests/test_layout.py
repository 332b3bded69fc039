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
