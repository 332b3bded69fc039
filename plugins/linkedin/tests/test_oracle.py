"""The Rest.li encoding held byte for byte against LinkedIn's own client, linkedin-api-client.

Every request of the other tests is checked by the ``_held_against_linkedin_api_client``
fixture (conftest.py); here a corpus of URNs and query values, chosen for the characters
Rest.li treats specially (``:``, ``,``, ``(``, ``)``, spaces, non-ASCII), goes through both.
"""

from __future__ import annotations

import pytest
from linkedin_api.clients.restli.utils import decoder, encoder

from govsocial_linkedin.urns import encode, restli_list, restli_object

URNS = [
    "urn:li:organization:2414183",
    "urn:li:company:1001",
    "urn:li:share:7295588489876647936",
    "urn:li:ugcPost:7123456789012345678",
    "urn:li:activity:7123456789012345678",
    "urn:li:comment:(urn:li:activity:7123456789012345678,7123456789012345999)",
    "urn:li:comment:(urn:li:ugcPost:712345,71234)",
    "urn:li:image:C4D22AQH_abc-DEF~123",
    "urn:li:person:ab CD/ef?g=h&i",
    "urn:li:organization:Dinas Kominfo (Kota) \u2012 ünïcödé",
]


@pytest.mark.parametrize("urn", URNS)
def test_a_urn_is_encoded_as_linkedin_s_client_encodes_it(urn: str) -> None:
    assert encode(urn) == encoder.encode(urn)
    assert decoder.decode(encode(urn)) == urn


@pytest.mark.parametrize("size", [1, 2, 20])
def test_a_list_is_encoded_as_linkedin_s_client_encodes_it(size: int) -> None:
    urns = (URNS * 3)[:size]
    assert restli_list(urns) == encoder.encode(urns)
    assert decoder.decode(restli_list(urns)) == urns


@pytest.mark.parametrize(
    "values",
    [
        {"start": 1764979200000, "end": 1765584000000},
        {"end": 2, "start": 1},
        {"actor": "urn:li:organization:2414183", "count": 100},
    ],
)
def test_an_object_is_encoded_as_linkedin_s_client_encodes_it(values: dict[str, int | str]) -> None:
    official = encoder.encode({k: str(v) for k, v in values.items()})
    assert restli_object(values) == official
    assert decoder.decode(restli_object(values)) == {k: str(v) for k, v in values.items()}
