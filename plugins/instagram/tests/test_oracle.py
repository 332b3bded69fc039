"""The Instagram adapter held against Meta's own SDK (facebook-business) beyond its traffic.

Every request and answer of the other tests is checked by the ``_held_against_meta_sdk``
fixture (conftest.py); these tests check what the SDK declares that the adapter must match.
"""

from __future__ import annotations

import httpx
import pytest
import respx

from govsocial import Account, AsyncClient, PostRef
from govsocial_instagram import Instagram
from govsocial_instagram.adapter import INSIGHT_METRICS
from govsocial_meta_graph.business_sdk import BusinessSdk

BASE = f"https://graph.facebook.com/{Instagram.api_version}"
USER = "17841405822304914"
TOKEN = "EAAGm0PX4ZCpsBAKGfakefakefakeZDZD"


@pytest.mark.parametrize(
    ("node", "method", "endpoint"),
    [
        ("IGUser", "POST", "/media"),
        ("IGUser", "POST", "/media_publish"),
        ("IGUser", "GET", "/content_publishing_limit"),
        ("IGMedia", "GET", "/insights"),
        ("IGMedia", "POST", "/comments"),
        ("IGComment", "POST", "/replies"),
        ("IGComment", "DELETE", "/"),
        ("IGMedia", "DELETE", "/"),
    ],
)
def test_the_sdk_declares_each_operation(
    meta_sdk: BusinessSdk, node: str, method: str, endpoint: str
) -> None:
    assert meta_sdk.node(node).edge(method, endpoint) is not None


def test_every_insights_metric_is_in_the_sdk_s_metric_enum(meta_sdk: BusinessSdk) -> None:
    metrics = meta_sdk.enum_values("InsightsResult", "Metric")
    assert set(INSIGHT_METRICS) <= metrics, set(INSIGHT_METRICS) - metrics


@pytest.mark.anyio
async def test_a_post_is_deleted_as_the_sdk_declares() -> None:
    account = Account(
        platform="instagram",
        handle="@dinkes.kota",
        credentials={"ig_user_id": USER, "access_token": TOKEN},
    )
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        route = mock.delete(f"{BASE}/17890000000000001").respond(json={"success": True})
        async with AsyncClient(transport=httpx.AsyncHTTPTransport()) as client:
            await client.delete(
                PostRef(platform="instagram", account=account, id="17890000000000001")
            )
    assert route.called


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
