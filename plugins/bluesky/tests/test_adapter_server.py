"""The Bluesky adapter against a real PDS (@atproto/dev-env, no AppView).

Every assertion reads what the PDS stored, with plain XRPC calls that bypass the adapter:
com.atproto.repo.getRecord / listRecords and com.atproto.sync.getBlob.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from govsocial import AsyncClient, Client, validate
from govsocial.adapters.media_safety import MediaPolicy
from govsocial.core.errors import AuthenticationError
from govsocial.core.models import Account, Media, Post, PostRef
from govsocial.testing import tiny_png, unique_text
from govsocial_bluesky import Bluesky
from govsocial_bluesky.aturi import AtUri
from govsocial_bluesky.devserver import BlueskyDevServer, DevAccount

POST = "app.bsky.feed.post"
#: dev-env signs its PDS's session tokens with this HS256 secret (@atproto/dev-env const.ts).
DEV_ENV_JWT_SECRET = b"jwt-secret"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def alice(bluesky_server: BlueskyDevServer) -> DevAccount:
    return bluesky_server.accounts[0]


@pytest.fixture(scope="module")
def bob(bluesky_server: BlueskyDevServer) -> DevAccount:
    return bluesky_server.accounts[1]


def account_of(server: BlueskyDevServer, dev: DevAccount, secret: str | None = None) -> Account:
    return Account(
        platform="bluesky",
        handle=dev.handle,
        base_url=server.pds_url,
        credentials={
            "identifier": dev.handle,
            "app_password": secret or dev.app_password or dev.password,
        },
    )


@pytest.fixture(scope="module")
def account(bluesky_server: BlueskyDevServer, alice: DevAccount) -> Account:
    return account_of(bluesky_server, alice)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with Client(max_wait=5.0) as client:
        yield client


@pytest.fixture(scope="module")
def pds(bluesky_server: BlueskyDevServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bluesky_server.pds_url, timeout=30) as raw:
        yield raw


def stored(pds: httpx.Client, uri: str) -> dict[str, Any] | None:
    parts = AtUri.parse(uri)
    response = pds.get(
        "/xrpc/com.atproto.repo.getRecord",
        params={"repo": parts.repo, "collection": parts.collection, "rkey": parts.rkey},
    )
    if response.status_code == 400 and response.json().get("error") == "RecordNotFound":
        return None
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def list_posts(pds: httpx.Client, did: str) -> list[str]:
    uris: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"repo": did, "collection": POST, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = pds.get("/xrpc/com.atproto.repo.listRecords", params=params).json()
        uris += [record["uri"] for record in page["records"]]
        cursor = page.get("cursor")
        if not cursor or not page["records"]:
            return uris


def publish(client: Client, post: Post, account: Account, key: str | None = None) -> PostRef:
    result = client.publish_one(post, account, idempotency_key=key)
    assert result.ok, f"publish failed: {result.error!r}"
    assert result.ref is not None
    return result.ref


def png(width: int, height: int) -> bytes:
    """A real (grey) PNG of the given size, made with zlib."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_facets_select_link_mention_and_tag_bytes(
    client: Client, account: Account, bob: DevAccount, pds: httpx.Client
) -> None:
    link = "https://example.go.id/vaksin?kota=Jayapura"
    text = f"Jadwal 💉 é dari {link} — tanya @{bob.handle} #InfoPublik 🇮🇩 {unique_text('')}"
    ref = publish(client, Post(text), account)
    record = stored(pds, ref.id)
    assert record is not None
    raw = record["value"]["text"].encode("utf-8")
    assert record["value"]["text"] == text
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for facet in record["value"]["facets"]:
        [feature] = facet["features"]
        selected = raw[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode("utf-8")
        seen[feature["$type"].rsplit("#", 1)[1]] = (selected, feature)
    assert seen["link"] == (link, {"$type": "app.bsky.richtext.facet#link", "uri": link})
    assert seen["mention"][0] == f"@{bob.handle}"
    assert seen["mention"][1]["did"] == bob.did
    assert seen["tag"] == (
        "#InfoPublik",
        {"$type": "app.bsky.richtext.facet#tag", "tag": "InfoPublik"},
    )


def test_four_images_with_alt_text_and_aspect_ratio(
    client: Client, account: Account, alice: DevAccount, pds: httpx.Client
) -> None:
    sizes = [(40, 30), (30, 40), (64, 16), (25, 25)]
    images = [png(w, h) for w, h in sizes]
    alts = [f"Infografis {i}: jadwal posyandu" for i in range(4)]
    media = [Media(data=data, alt_text=alt) for data, alt in zip(images, alts, strict=True)]
    ref = publish(client, Post(unique_text("Empat gambar"), media=media), account)
    record = stored(pds, ref.id)
    assert record is not None
    embed = record["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [image["alt"] for image in embed["images"]] == alts
    assert [
        (i["aspectRatio"]["width"], i["aspectRatio"]["height"]) for i in embed["images"]
    ] == sizes
    for image, data in zip(embed["images"], images, strict=True):
        assert image["image"]["mimeType"] == "image/png"
        blob = pds.get(
            "/xrpc/com.atproto.sync.getBlob",
            params={"did": alice.did, "cid": image["image"]["ref"]["$link"]},
        )
        assert blob.status_code == 200, blob.text
        assert blob.content == data


def test_same_idempotency_key_never_makes_a_second_record(
    client: Client, account: Account, alice: DevAccount, pds: httpx.Client
) -> None:
    key = Bluesky.new_idempotency_key()
    post = Post(unique_text("Sekali saja"))
    before = list_posts(pds, alice.did)
    first = publish(client, post, account, key)
    second = publish(client, post, account, key)
    after = list_posts(pds, alice.did)
    assert second.id == first.id
    assert second.extra["cid"] == first.extra["cid"]
    assert AtUri.parse(first.id).rkey == key
    assert len(after) == len(before) + 1
    found = client.find_published(account, key)
    assert found is not None and found.id == first.id
    assert client.find_published(account, Bluesky.new_idempotency_key()) is None


def test_a_non_tid_key_is_reconciled_too(
    client: Client, account: Account, alice: DevAccount, pds: httpx.Client
) -> None:
    key = "jadwal-2026-01-01/akun-7"
    post = Post(unique_text("Kunci bebas"))
    before = len(list_posts(pds, alice.did))
    first = publish(client, post, account, key)
    assert publish(client, post, account, key).id == first.id
    assert len(list_posts(pds, alice.did)) == before + 1
    found = client.find_published(account, key)
    assert found is not None and found.id == first.id


def test_thread_stores_root_and_parent(client: Client, account: Account, pds: httpx.Client) -> None:
    root = publish(client, Post(unique_text("Utas 1/3")), account)
    second = publish(client, Post(unique_text("Utas 2/3"), reply_to=root), account)
    third = publish(client, Post(unique_text("Utas 3/3"), reply_to=second), account)
    root_strong = {"uri": root.id, "cid": root.extra["cid"]}
    second_record, third_record = stored(pds, second.id), stored(pds, third.id)
    assert second_record is not None and third_record is not None
    assert second_record["value"]["reply"] == {"root": root_strong, "parent": root_strong}
    assert third_record["value"]["reply"] == {
        "root": root_strong,
        "parent": {"uri": second.id, "cid": second.extra["cid"]},
    }
    assert third.extra["root_uri"] == root.id


def test_delete_removes_the_record(
    client: Client, account: Account, alice: DevAccount, pds: httpx.Client
) -> None:
    ref = publish(client, Post(unique_text("Akan dihapus")), account)
    assert stored(pds, ref.id) is not None
    client.delete(ref)
    assert stored(pds, ref.id) is None
    assert ref.id not in list_posts(pds, alice.did)


def _expired_copy(token: str) -> str:
    """``token`` with exp an hour ago, re-signed as dev-env's PDS signs (HS256)."""
    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["iat"] = int(time.time()) - 7200
    claims["exp"] = int(time.time()) - 3600

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(DEV_ENV_JWT_SECRET, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@pytest.mark.anyio
async def test_session_renewed_before_expiry_and_on_expired_token(
    account: Account, alice: DevAccount, pds: httpx.Client
) -> None:
    async with AsyncClient(max_wait=5.0) as client:
        adapter = client.adapter(account)
        assert isinstance(adapter, Bluesky)
        first = await adapter.session()

        # 1. The access token is about to expire: refreshSession before the call.
        first.access_expires_at = time.time() + 5
        ref = (await client.publish_one(Post(unique_text("segar")), account)).ref
        assert ref is not None and stored(pds, ref.id) is not None
        second = await adapter.session()
        # A refresh rotates the refresh token (a new jti); the access token may come out
        # byte-identical when issued within the same second, so it cannot tell.
        assert second is not first and second.refresh_jwt != first.refresh_jwt
        assert second.did == alice.did

        # 2. The PDS itself says ExpiredToken: renew, then send the create once more.
        expired = _expired_copy(second.access_jwt)
        check = pds.get(
            "/xrpc/com.atproto.server.getSession", headers={"Authorization": f"Bearer {expired}"}
        )
        if check.json().get("error") != "ExpiredToken":
            pytest.skip(f"cannot forge an expired dev-env token: {check.text}")
        second.access_jwt, second.access_expires_at = expired, None
        result = await client.publish_one(Post(unique_text("kedaluwarsa")), account)
        assert result.ok, result.error
        assert result.ref is not None and stored(pds, result.ref.id) is not None
        assert (await adapter.session()).access_jwt != expired


def test_wrong_app_password_is_an_authentication_error(
    bluesky_server: BlueskyDevServer, alice: DevAccount, client: Client
) -> None:
    secret = "wrong-app-pass-word"
    bad = account_of(bluesky_server, alice, secret)
    result = client.publish_one(Post(unique_text()), bad)
    assert isinstance(result.error, AuthenticationError)
    assert "App passwords" in str(result.error)
    assert secret not in str(result.error)
    assert secret not in repr(result)


# -- video ------------------------------------------------------------------------------


def blob_bytes(pds: httpx.Client, did: str, blob: dict[str, object]) -> bytes:
    ref = blob["ref"]
    assert isinstance(ref, dict)
    response = pds.get("/xrpc/com.atproto.sync.getBlob", params={"did": did, "cid": ref["$link"]})
    assert response.status_code == 200, response.text
    return response.content


def test_a_video_with_alt_text_and_captions_is_stored_as_an_embed_video(
    bluesky_server: BlueskyDevServer,
    alice: DevAccount,
    pds: httpx.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("av")
    from govsocial.testing.video import make_video

    monkeypatch.setenv("GOVSOCIAL_MEDIA_ROOTS", str(tmp_path))
    video = tmp_path / "klip.mp4"
    data = make_video(video, width=360, height=640, seconds=1)
    captions = tmp_path / "klip.vtt"
    captions.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nSelamat pagi\n", encoding="utf-8")
    media = Media(path=video, alt_text="Petugas menyapa warga", captions=captions)
    post = Post(unique_text("Video layanan"), media=[media], language="id")
    assert validate(post, "bluesky") == []
    with Client() as client:
        [result] = client.publish(post, [account_of(bluesky_server, alice)])
    assert result.ok, result.error
    record = stored(pds, result.ref.id)
    assert record is not None
    embed = record["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["alt"] == "Petugas menyapa warga"
    assert embed["aspectRatio"] == {"width": 360, "height": 640}
    assert embed["video"]["mimeType"] == "video/mp4"
    assert blob_bytes(pds, alice.did, embed["video"]) == data
    [caption] = embed["captions"]
    assert caption["lang"] == "id" and caption["file"]["mimeType"] == "text/vtt"
    assert blob_bytes(pds, alice.did, caption["file"]) == captions.read_bytes()


def test_bluesky_refuses_a_video_with_images_and_srt_captions_offline(tmp_path: Path) -> None:
    pytest.importorskip("av")
    from govsocial.testing.video import make_video

    srt = tmp_path / "teks.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nHalo\n", encoding="utf-8")
    video = Media(data=make_video(width=64, height=64, seconds=1), captions=srt)
    post = Post("Video dan foto", media=[video, Media(data=tiny_png(), alt_text="foto")])
    problems = validate(post, "bluesky", media_policy=MediaPolicy(roots=(tmp_path,)))
    codes = {p.code for p in problems}
    assert {"video_not_alone", "captions_format", "captions_language"} <= codes


def test_a_video_longer_than_three_minutes_is_refused_offline() -> None:
    pytest.importorskip("av")
    from govsocial.testing.video import make_video

    long = make_video(width=64, height=64, seconds=200, fps=1)
    [problem] = [
        p
        for p in validate(Post("Panjang", media=[Media(data=long)]), "bluesky")
        if p.code == "video_duration"
    ]
    assert "at most 3 min; this is 3 min 20 s" in problem.message


def test_check_logs_in_reads_the_session_and_writes_nothing(
    bluesky_server: BlueskyDevServer,
    alice: DevAccount,
    client: Client,
    account: Account,
    pds: httpx.Client,
) -> None:
    def records() -> list[Any]:
        answer = pds.get(
            "/xrpc/com.atproto.repo.listRecords",
            params={"repo": alice.did, "collection": "app.bsky.feed.post", "limit": 100},
        )
        listed: list[Any] = answer.json()["records"]
        return listed

    before = records()
    found = client.check(account)
    assert found.token_ok and found.identity == f"@{alice.handle}"
    for name in ("post", "reply", "delete"):
        capability = found.capability(name)
        assert capability is not None and capability.ok is True
    # the app password itself is checked: a login even when the adapter holds a session
    assert "POST /xrpc/com.atproto.server.createSession" in found.calls
    assert "GET /xrpc/com.atproto.server.getSession" in found.calls
    assert records() == before
    secret = "wrong-app-pass-word"
    refused = client.check(account_of(bluesky_server, alice, secret))
    assert not refused.token_ok and secret not in refused.model_dump_json()
