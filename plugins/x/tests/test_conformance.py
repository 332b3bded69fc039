"""The shared conformance suite against the X emulator, through Prism.

Every request the adapter sends and every answer the emulator gives passes through Prism
in proxy mode with ``--errors``: a request or answer that breaks the X API v2 OpenAPI spec
becomes an error answer, and the test fails.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govsocial.testing import PlatformConformance
from govsocial_x.testing import Emulator


class TestConformance(PlatformConformance):
    platform = "x"

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_server(cls, checked_emulator: Emulator) -> Iterator[Emulator]:
        yield checked_emulator
