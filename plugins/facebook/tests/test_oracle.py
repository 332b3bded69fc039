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


# -- what the SDK does that the adapter does not yet (issue 14) ------------------------------


def test_the_sdk_signs_every_call_with_the_app_secret(meta_sdk: BusinessSdk) -> None:
    """facebook_business/session.py: appsecret_proof = HMAC-SHA256(key=app secret,
    msg=access token), hex, on every request when the session has an app secret."""
    source = (meta_sdk.root / "session.py").read_text()
    assert "params['appsecret_proof'] = self._gen_appsecret_proof()" in source
    assert "self.app_secret.encode('utf-8')" in source
    assert "msg=self.access_token.encode('utf-8')" in source
    assert "digestmod=hashlib.sha256" in source


@pytest.mark.anyio
async def test_the_adapter_signs_calls_as_the_sdk_does() -> None:
    import hashlib
    import hmac

    import httpx
    import respx

    from govsocial import Account, AsyncClient, PostRef

    token, secret, page = "EAAGfakeRespxToken9876543210", "app-secret-0123", "104000000000001"
    account = Account(
        platform="facebook",
        handle="humas.kota",
        credentials={"page_id": page, "page_access_token": token, "app_secret": secret},
    )
    expected = hmac.new(secret.encode(), msg=token.encode(), digestmod=hashlib.sha256).hexdigest()
    graph = f"https://graph.facebook.com/{Facebook.api_version}"
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        route = mock.delete(f"{graph}/{page}_1").respond(json={"success": True})
        async with AsyncClient(transport=httpx.AsyncHTTPTransport()) as client:
            await client.delete(PostRef(platform="facebook", account=account, id=f"{page}_1"))
    sent = route.calls.last.request
    assert sent.url.params.get("appsecret_proof") == expected or (
        f"appsecret_proof={expected}".encode() in sent.content
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_the_sdks_video_uploader_speaks_the_protocol_the_adapter_and_emulator_use(
    meta_sdk: BusinessSdk,
) -> None:
    """facebook_business/video_uploader.py: start with file_size, transfer the window
    [start_offset, end_offset) as the file video_file_chunk until the two are equal, go on
    from error_data's window after subcode 1363037, finish with the session, then wait for
    status.video_status 'ready'."""
    source = (meta_sdk.root / "video_uploader.py").read_text()
    assert "'file_size': context.file_size," in source
    assert "'upload_phase': 'transfer'," in source
    assert "'start_offset': context.start_offset," in source
    assert "'video_file_chunk'" in source
    assert "chunk = f.read(self._end_offset - self._start_offset)" in source
    assert "while self._start_offset != self._end_offset:" in source
    assert "subcode == 1363037" in source
    assert "body['error']['error_data']['start_offset']" in source
    assert "'upload_phase': 'finish'," in source
    assert "if status != 'ready':" in source
    declared = meta_sdk.node("Page")
    videos = declared.edge("POST", "/videos")
    reels = declared.edge("POST", "/video_reels")
    assert videos is not None and reels is not None
    assert {"upload_phase", "file_size", "upload_session_id", "start_offset"} <= set(videos.params)
    assert {"upload_phase", "video_id", "video_state", "description"} <= set(reels.params)
    assert "PUBLISHED" in meta_sdk.enum_values("AdVideo", "VideoState")
    status = meta_sdk.node("VideoStatusUploadingPhase")
    assert "bytes_transferred" in status.fields
