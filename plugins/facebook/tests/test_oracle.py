"""The Graph emulator held against Meta's own SDK (facebook-business), so it cannot drift.

Every request and answer of the other tests is checked by the ``_held_against_meta_sdk``
fixture (conftest.py); these tests check what the emulator itself accepts.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from govsocial_facebook import Facebook
from govsocial_facebook.testing import READABLE_FIELDS, GraphEmulator
from govsocial_meta_graph.business_sdk import BusinessSdk


@pytest.mark.parametrize("node", sorted(READABLE_FIELDS))
def test_every_field_the_emulator_answers_is_in_the_sdk(meta_sdk: BusinessSdk, node: str) -> None:
    declared = meta_sdk.node(node)
    known = set(declared.fields) | set(declared.readable_edges)
    assert READABLE_FIELDS[node] <= known, READABLE_FIELDS[node] - known


def test_the_emulator_refuses_a_field_graph_does_not_have(emulator: GraphEmulator) -> None:
    """Asked with urllib, not httpx: the SDK check of every httpx exchange would refuse it."""
    page = next(iter(emulator.pages.values()))
    asked = urllib.request.Request(
        f"{emulator.base_url}/{Facebook.api_version}/{page.id}?fields=followers_count,fans_count",
        headers={"Authorization": f"Bearer {page.token}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(asked, timeout=10)
    assert refused.value.code == 400
    error = json.loads(refused.value.read())["error"]
    assert error["code"] == 100
    assert "(fans_count)" in error["message"]


def test_the_adapter_speaks_the_sdks_graph_version(meta_sdk: BusinessSdk) -> None:
    """The SDK is generated for one Graph version; the adapter must call that one."""
    assert Facebook.api_version == meta_sdk.api_version
