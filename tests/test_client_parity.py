"""Client and AsyncClient cannot drift: the same options, methods, parameters and docstrings.

The sync facade repeats AsyncClient's signatures and docstrings in full, so IDEs, ``help()``
and Jupyter's ``Client?`` show them; these tests keep the copies the same, and keep
``ClientOptions`` (for code that passes options on) in step with both constructors.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from govsocial import AsyncClient, Client, ClientOptions

# Names that differ on purpose: the closing verb, the async-only adapter accessor (its
# methods are coroutines bound to the client's loop: use ``client.run`` and
# ``client.async_client.adapter``), and the facade's own bridge to its loop.
RENAMED = {"aclose": "close"}
ASYNC_ONLY = {"adapter"}
SYNC_ONLY = {"run", "async_client"}


def public_members(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in vars(cls).items()
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    }


def shape(function: Callable[..., Any]) -> list[tuple[str, Any, Any, Any]]:
    """Each parameter's name, kind, default and annotation (annotations are strings here)."""
    return [
        (p.name, p.kind, p.default, p.annotation)
        for p in inspect.signature(function).parameters.values()
    ]


def pairs() -> list[tuple[str, str]]:
    names = set(public_members(AsyncClient)) - ASYNC_ONLY
    return sorted((name, RENAMED.get(name, name)) for name in names)


def test_both_classes_have_the_same_public_methods() -> None:
    async_names = set(public_members(AsyncClient))
    sync_names = set(public_members(Client))
    assert {RENAMED.get(n, n) for n in async_names - ASYNC_ONLY} == sync_names - SYNC_ONLY
    assert async_names >= ASYNC_ONLY and sync_names >= SYNC_ONLY


@pytest.mark.parametrize(("async_name", "sync_name"), pairs())
def test_each_method_takes_the_same_parameters(async_name: str, sync_name: str) -> None:
    async_method = getattr(AsyncClient, async_name)
    sync_method = getattr(Client, sync_name)
    assert inspect.iscoroutinefunction(async_method)
    assert not inspect.iscoroutinefunction(sync_method)
    assert shape(sync_method) == shape(async_method)
    assert (
        inspect.signature(sync_method).return_annotation
        == inspect.signature(async_method).return_annotation
    )


@pytest.mark.parametrize(("async_name", "sync_name"), pairs())
def test_each_method_has_the_same_docstring(async_name: str, sync_name: str) -> None:
    async_doc = getattr(AsyncClient, async_name).__doc__
    sync_doc = getattr(Client, sync_name).__doc__
    assert sync_doc, f"Client.{sync_name} has no docstring"
    if async_name in RENAMED:
        return  # close() and aclose() say the same in their own words
    assert sync_doc == async_doc


def test_every_sync_only_member_is_documented() -> None:
    for name in SYNC_ONLY | {"close"}:
        member = public_members(Client)[name]
        assert (member.fget if isinstance(member, property) else member).__doc__, name


def test_the_constructors_take_the_same_options() -> None:
    """``Client(...)`` shows every option AsyncClient has, with the same defaults."""
    sync_init = shape(Client.__init__)
    assert sync_init == shape(AsyncClient.__init__)
    assert len(sync_init) == 13  # self and 12 options: none hidden behind **kwargs
    assert all(kind is not inspect.Parameter.VAR_KEYWORD for _, kind, _, _ in sync_init)


def test_the_class_docstrings_document_the_same_options() -> None:
    def params(doc: str | None) -> list[str]:
        assert doc is not None
        return [line.strip() for line in doc[doc.index(":param") :].splitlines()]

    assert params(Client.__doc__) == params(AsyncClient.__doc__)


def test_client_options_names_every_option_with_its_type() -> None:
    options = {
        name: annotation for name, _, _, annotation in shape(AsyncClient.__init__) if name != "self"
    }
    written = {
        name: getattr(hint, "__forward_arg__", hint)
        for name, hint in ClientOptions.__annotations__.items()
    }
    assert written == options
    assert not ClientOptions.__required_keys__  # every option has a default
