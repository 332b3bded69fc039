"""The govsocial conformance suite, run against the LinkedIn emulator (govsocial_linkedin.testing).

LinkedIn has no local server, so the suite talks real HTTP to an emulator built from the
documented request and response shapes; every check reads what the emulator STORED.

The client uses httpx's own transport: govsocial's default aiohttp transport re-quotes URLs
and decodes the ``%3A`` of URL-encoded URNs, which Rest.li 2.0 forbids (the emulator refuses
it, see test_failures.py::test_the_default_transport_keeps_urns_encoded).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govsocial.adapters.platform import LocalServer
from govsocial.testing import PlatformConformance
from govsocial_linkedin import LinkedIn
from govsocial_linkedin.testing import EmulatedLinkedIn


class TestLinkedInConformance(PlatformConformance):
    platform = "linkedin"

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_server(cls, linkedin_server: EmulatedLinkedIn) -> Iterator[LocalServer]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(LinkedIn, "token_url", f"{linkedin_server.base_url}/oauth/v2/accessToken")
            yield linkedin_server
