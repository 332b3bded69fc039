"""Media a draft names is read only from allowed places, only as far as the limit, and only
when its bytes are what they claim (security review findings 5 and 13, issue 13 part 3).

The URL tests run a real HTTP server on 127.0.0.1 that records every request it gets:
a refused URL means that server saw nothing. The platform is the fake one (tests/fakes.py),
extended to upload its media the way Mastodon or Bluesky do (through ``read_media``); its
server records what was uploaded.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from fakes import TOKEN, Paper, PaperServer
from govsocial import Media, validate
from govsocial.adapters import AdapterContext, Http, Limits, Platform, hookimpl
from govsocial.adapters.media_safety import (
    MediaPolicy,
    address_class,
    describe_bytes,
    type_mismatch,
)
from govsocial.client import AsyncClient
from govsocial.core.errors import PlatformError, ValidationError
from govsocial.core.models import Account, Post, PostRef, sniff_mime_type
from govsocial.plugin.manager import Plugins

pytestmark = pytest.mark.anyio

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


class MediaPaper(Paper):
    """Paper that uploads each medium's bytes with the post, as upload platforms do."""

    name = "mediapaper"
    title = "MediaPaper"
    limits = Limits(max_characters=500, max_media=4, max_image_bytes=64_000)

    async def publish(self, post: Post, *, idempotency_key: str) -> PostRef:
        digests = [hashlib.sha256(await self.read_media(m)).hexdigest() for m in post.media]
        response = await self.request(
            "POST",
            "/posts",
            json={"text": post.text + " " + json.dumps(digests)},
            headers={"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": idempotency_key},
            create=True,
        )
        return PostRef(platform=self.name, account=self.account, id=response.json()["id"])


class _Plugin:
    @hookimpl
    def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
        register(MediaPaper)


ACCOUNT = Account(
    platform="mediapaper",
    handle="@humas",
    base_url="https://paper.test",
    credentials={"access_token": TOKEN},
)


@pytest.fixture
def plugins() -> Plugins:
    fresh = Plugins(load_entrypoints=False)
    fresh.register(_Plugin(), name="mediapaper")
    return fresh


@pytest.fixture(autouse=True)
def _strict_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No allowed ranges, and the media root is a folder of this test's own."""
    monkeypatch.delenv("GOVSOCIAL_MEDIA_ALLOW_NETS", raising=False)
    monkeypatch.delenv("GOVSOCIAL_MEDIA_ROOTS", raising=False)
    (tmp_path / "media").mkdir()
    monkeypatch.chdir(tmp_path / "media")


# -- a loopback server that records whether it was hit ---------------------------------------


class Recorder:
    """A real HTTP server on 127.0.0.1; ``answer`` says what to send, ``hits`` what came."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.sent = 0
        self.answer: Callable[[http.server.BaseHTTPRequestHandler], None] = self._png
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.hits.append(self.path)
                recorder.answer(self)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/poster.png", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @staticmethod
    def _png(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(len(PNG)))
        handler.end_headers()
        handler.wfile.write(PNG)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    try:
        yield server
    finally:
        server.close()


async def _publish(post: Post, plugins: Plugins, paper: PaperServer) -> object:
    async with AsyncClient(transport=paper.transport(), plugins=plugins) as client:
        [result] = await client.publish(post, [ACCOUNT])
    return result


# -- URLs ---------------------------------------------------------------------------------------


async def test_a_loopback_media_url_is_refused_and_the_server_sees_nothing(
    recorder: Recorder, plugins: Plugins
) -> None:
    paper = PaperServer()
    post = Post("Jadwal", media=[Media(url=recorder.url())])
    result = await _publish(post, plugins, paper)
    error = result.error  # type: ignore[attr-defined]
    assert isinstance(error, ValidationError)
    assert error.field == "media[0].url"
    assert "loopback" in str(error) and "GOVSOCIAL_MEDIA_ALLOW_NETS=127.0.0.1/32" in str(error)
    assert recorder.hits == [], "the refused server was contacted"
    assert paper.posts == {}, "nothing may be published"


async def test_a_name_that_resolves_to_loopback_is_refused(
    recorder: Recorder, plugins: Plugins
) -> None:
    paper = PaperServer()
    post = Post("x", media=[Media(data=PNG), Media(url=recorder.url(host="localhost"))])
    result = await _publish(post, plugins, paper)
    error = result.error  # type: ignore[attr-defined]
    assert isinstance(error, ValidationError) and error.field == "media[1].url"
    assert "localhost resolves to it" in str(error)
    assert recorder.hits == [] and paper.posts == {}


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/security-credentials/role", "metadata"),
        ("http://169.254.10.1/a.png", "link-local"),
        ("http://[fe80::1]/a.png", "link-local"),
        ("http://10.0.0.8/a.png", "private"),
        ("http://192.168.1.1/a.png", "private"),
        ("http://[fd00::1]/a.png", "unique-local"),
        ("http://224.0.0.1/a.png", "multicast"),
        ("http://0.0.0.0/a.png", "unspecified"),
        ("http://[::1]/a.png", "loopback"),
        ("http://[::ffff:127.0.0.1]/a.png", "loopback"),
        ("http://100.100.100.200/a.png", "metadata"),
        ("http://100.64.0.1/a.png", "carrier-grade NAT"),
    ],
)
async def test_every_non_public_address_class_is_refused_before_connecting(
    url: str, kind: str
) -> None:
    adapter = MediaPaper(ACCOUNT, AdapterContext(http=Http(httpx.AsyncClient())))
    with pytest.raises(ValidationError) as raised:
        await adapter.read_media(Media(url=url, mime_type="image/png"), field="media[0]")
    assert raised.value.field == "media[0].url"
    assert kind in str(raised.value)


async def test_an_allowed_range_lets_a_local_server_serve_media(
    recorder: Recorder, plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")
    paper = PaperServer()
    result = await _publish(Post("Jadwal", media=[Media(url=recorder.url())]), plugins, paper)
    assert result.error is None  # type: ignore[attr-defined]
    assert recorder.hits == ["/poster.png"]
    [stored] = paper.posts.values()
    assert hashlib.sha256(PNG).hexdigest() in str(stored["text"])


async def test_an_option_allows_a_range_too(recorder: Recorder) -> None:
    policy = MediaPolicy(
        roots=(Path.cwd(),), allow_nets=(__import__("ipaddress").ip_network("127.0.0.0/8"),)
    )
    http_ = Http(httpx.AsyncClient())
    adapter = MediaPaper(ACCOUNT, AdapterContext(http=http_, media_policy=policy))
    assert await adapter.read_media(Media(url=recorder.url())) == PNG
    assert recorder.hits == ["/poster.png"]


async def test_a_redirect_to_an_internal_address_is_not_followed(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")

    def redirect(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    recorder.answer = redirect
    adapter = MediaPaper(ACCOUNT, AdapterContext(http=Http(httpx.AsyncClient())))
    with pytest.raises(PlatformError, match="redirects are not followed"):
        await adapter.read_media(Media(url=recorder.url()))
    assert recorder.hits == ["/poster.png"]


def test_address_classes() -> None:
    import ipaddress

    assert address_class(ipaddress.ip_address("93.184.216.34")) is None
    assert address_class(ipaddress.ip_address("2606:4700::1111")) is None
    assert address_class(ipaddress.ip_address("127.0.0.1")) == "loopback"


# -- size: downloads and decompression stop at the limit ------------------------------------------


async def test_a_download_past_the_platform_limit_stops_reading(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")
    total = 64 * 1024 * 1024

    def endless(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        block = PNG + b"\0" * (65536 - len(PNG))
        try:
            while recorder.sent < total:
                handler.wfile.write(block)
                recorder.sent += len(block)
        except OSError:
            return

    recorder.answer = endless
    adapter = MediaPaper(ACCOUNT, AdapterContext(http=Http(httpx.AsyncClient())))
    with pytest.raises(ValidationError) as raised:
        await adapter.read_media(Media(url=recorder.url()), field="media[0]")
    assert raised.value.problems[0].code == "media_too_large"
    assert raised.value.field == "media[0].url"
    assert "64,000" in str(raised.value)
    recorder.thread.join(0.5)
    assert recorder.sent < total // 4, "the client kept reading past the limit"


async def test_a_gzip_bomb_is_refused_without_being_inflated(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip, built without 200 MB in memory
    block = b"\0" * (1024 * 1024)
    bomb = packer.compress(PNG) + b"".join(packer.compress(block) for _ in range(200))
    bomb += packer.flush()
    assert len(bomb) < 300_000

    def gzipped(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(bomb)))
        handler.end_headers()
        try:
            handler.wfile.write(bomb)
        except OSError:
            return

    recorder.answer = gzipped
    adapter = MediaPaper(ACCOUNT, AdapterContext(http=Http(httpx.AsyncClient())))
    tracemalloc.start()
    try:
        with pytest.raises(ValidationError) as raised:
            await adapter.read_media(Media(url=recorder.url()), field="media[0]")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raised.value.problems[0].code == "media_too_large"
    assert peak < 20 * 1024 * 1024, f"{peak:,} bytes allocated for a 64 kB limit"


async def test_a_gzip_answer_within_the_limit_is_decoded(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")
    packed = gzip.compress(PNG)

    def gzipped(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(packed)))
        handler.end_headers()
        handler.wfile.write(packed)

    recorder.answer = gzipped
    adapter = MediaPaper(ACCOUNT, AdapterContext(http=Http(httpx.AsyncClient())))
    assert await adapter.read_media(Media(url=recorder.url())) == PNG


# -- local paths: only under the media roots ------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.env"
    secret.write_bytes(PNG)  # even a real image is refused outside the roots
    return secret


def _paths(tmp_path: Path, outside: Path) -> list[Path]:
    link = tmp_path / "media" / "innocent.png"
    link.symlink_to(outside)
    return [Path("/etc/passwd"), Path("../secret.env"), Path("../../secret.env"), link]


async def test_files_outside_the_media_roots_are_refused_by_validate(
    tmp_path: Path, outside: Path, plugins: Plugins
) -> None:
    for path in _paths(tmp_path, outside):
        post = Post("x", media=[Media(path=path, mime_type="image/png")])
        problems = validate(post, "mediapaper", plugins=plugins)
        assert [p.code for p in problems] == ["media_outside_roots"], path
        assert problems[0].field == "media[0].path"
        assert "GOVSOCIAL_MEDIA_ROOTS" in problems[0].message


async def test_the_worker_refuses_them_at_publish_time_too(tmp_path: Path, outside: Path) -> None:
    """The author's process may have allowed the file; the reading process decides."""
    adapter = MediaPaper(ACCOUNT, AdapterContext(http=Http(httpx.AsyncClient())))
    for path in _paths(tmp_path, outside):
        with pytest.raises(ValidationError) as raised:
            await adapter.read_media(Media(path=path, mime_type="image/png"), field="media[2]")
        assert raised.value.field == "media[2].path"
        assert raised.value.problems[0].code == "media_outside_roots"


async def test_a_file_under_a_configured_root_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plugins: Plugins
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "poster.png").write_bytes(PNG)
    (tmp_path / "media" / "local.png").write_bytes(PNG)
    media = [Media(path=shared / "poster.png"), Media(path="local.png")]
    paper = PaperServer()
    result = await _publish(Post("x", media=media), plugins, paper)
    assert isinstance(result.error, ValidationError)  # type: ignore[attr-defined]
    assert result.error.field == "media[0].path"  # type: ignore[attr-defined]
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ROOTS", os.pathsep.join([str(shared), "."]))
    result = await _publish(Post("x", media=media), plugins, paper)
    assert result.error is None  # type: ignore[attr-defined]
    [stored] = paper.posts.values()
    assert str(stored["text"]).count(hashlib.sha256(PNG).hexdigest()) == 2


async def test_a_device_or_pipe_under_a_root_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ROOTS", "/dev")
    adapter = MediaPaper(ACCOUNT, AdapterContext(http=Http(httpx.AsyncClient())))
    with pytest.raises(ValidationError, match="not a regular file"):
        await adapter.read_media(Media(path="/dev/zero", mime_type="image/png"))


# -- the type comes from the bytes ---------------------------------------------------


async def test_a_text_file_declared_png_is_refused_naming_the_file_and_its_bytes(
    plugins: Plugins,
) -> None:
    Path("worker-secret.env").write_text("GOVSOCIAL_SECRET_KEY=abc\n")
    media = Media(path="worker-secret.env", mime_type="image/png")
    [problem] = validate(Post("x", media=[media]), "mediapaper", plugins=plugins)
    assert problem.code == "media_type_mismatch" and problem.field == "media[0].path"
    assert "worker-secret.env" in problem.message and "text" in problem.message
    # and at publish time, validate or not
    paper = PaperServer()
    adapter = MediaPaper(
        ACCOUNT, AdapterContext(http=Http(httpx.AsyncClient(transport=paper.transport())))
    )
    with pytest.raises(ValidationError, match="its bytes are text"):
        await adapter.publish(Post("x", media=[media]), idempotency_key="k")
    assert paper.posts == {}


async def test_downloaded_bytes_are_sniffed_too(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ALLOW_NETS", "127.0.0.0/8")

    def html(handler: http.server.BaseHTTPRequestHandler) -> None:
        body = b"<html><body>internal dashboard</body></html>"
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    recorder.answer = html
    adapter = MediaPaper(ACCOUNT, AdapterContext(http=Http(httpx.AsyncClient())))
    with pytest.raises(ValidationError, match="an HTML page") as raised:
        await adapter.read_media(Media(url=recorder.url()), field="media[0]")
    assert raised.value.field == "media[0].url"


def test_a_declared_type_other_than_the_bytes_is_refused(plugins: Plugins) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\0" * 40
    [problem] = validate(
        Post("x", media=[Media(data=jpeg, mime_type="image/png")]), "mediapaper", plugins=plugins
    )
    assert problem.code == "media_type_mismatch"
    assert "declared image/png but its bytes are image/jpeg" in problem.message


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (PNG[:16], "image/png"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
        (b"\x1a\x45\xdf\xa3\x01\x00\x00\x00", "video/webm"),
        (b"OggS\x00\x02\x00\x00", "video/ogg"),
        (b"BM\x8a\x00\x00\x00\x00\x00\x00\x00\x8a\x00\x00\x00", "image/bmp"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
    ],
)
def test_magic_numbers(head: bytes, mime: str) -> None:
    assert sniff_mime_type(head) == mime
    assert type_mismatch(head, mime) is None


def test_a_mov_declared_mp4_is_the_same_container() -> None:
    assert type_mismatch(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/mp4") is None


def test_what_bytes_look_like() -> None:
    assert describe_bytes(b"hello\n") == "text"
    assert describe_bytes(b"%PDF-1.7") == "a PDF document"
    assert describe_bytes(b"\x7fELF\x02") == "an executable program"
    assert describe_bytes(b"") == "empty"


def test_a_service_started_in_the_filesystem_root_has_no_default_media_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir("/")
    policy = MediaPolicy.from_environment()
    assert policy.roots == ()
    with pytest.raises(ValidationError, match="filesystem root"):
        policy.check_path("/etc/passwd", field="media[0].path")


# -- every platform answer is bounded too ---------------------------------------------------------


async def test_a_gzip_bomb_platform_answer_is_refused_once_without_being_inflated(
    recorder: Recorder,
) -> None:
    from govsocial.adapters.http import new_http_client
    from govsocial.adapters.transport import MAX_ANSWER_BYTES

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1024 * 1024)
    bomb = packer.compress(b'{"followers": 1') + b"".join(
        packer.compress(block) for _ in range(200)
    )
    bomb += packer.compress(b"}") + packer.flush()

    def gzipped(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(bomb)))
        handler.end_headers()
        handler.wfile.write(bomb)

    recorder.answer = gzipped
    account = Account(
        platform="paper",
        handle="@humas",
        base_url=recorder.url(path=""),
        credentials={"access_token": TOKEN},
    )
    client = new_http_client()
    try:
        adapter = Paper(account, AdapterContext(http=Http(client)))
        tracemalloc.start()
        try:
            with pytest.raises(PlatformError, match="reading stopped there"):
                await adapter.fetch_account_metrics()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        await client.aclose()
    assert recorder.hits == ["/me"], "a flood is not asked for again"
    assert peak < MAX_ANSWER_BYTES * 2.5, f"{peak:,} bytes allocated for a 200 MB bomb"


async def test_an_answer_announcing_more_than_the_cap_is_not_read(recorder: Recorder) -> None:
    from govsocial.adapters.http import new_http_client

    def huge(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(10**12))
        handler.end_headers()
        try:
            while True:
                handler.wfile.write(b" " * 65536)
                recorder.sent += 65536
        except OSError:
            return

    recorder.answer = huge
    account = Account(
        platform="paper",
        handle="@humas",
        base_url=recorder.url(path=""),
        credentials={"access_token": TOKEN},
    )
    client = new_http_client()
    try:
        adapter = Paper(account, AdapterContext(http=Http(client)))
        with pytest.raises(PlatformError, match="reading stopped there"):
            await adapter.fetch_account_metrics()
    finally:
        await client.aclose()
    recorder.thread.join(0.5)
    assert recorder.sent < 64 * 1024 * 1024


async def test_a_gzip_platform_answer_within_the_cap_still_reads(recorder: Recorder) -> None:
    from govsocial.adapters.http import new_http_client

    packed = gzip.compress(b'{"followers": 7}')

    def gzipped(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(packed)))
        handler.end_headers()
        handler.wfile.write(packed)

    recorder.answer = gzipped
    account = Account(
        platform="paper",
        handle="@humas",
        base_url=recorder.url(path=""),
        credentials={"access_token": TOKEN},
    )
    client = new_http_client()
    try:
        metrics = await Paper(account, AdapterContext(http=Http(client))).fetch_account_metrics()
    finally:
        await client.aclose()
    assert metrics.followers == 7


async def test_a_request_sets_its_own_cap(recorder: Recorder) -> None:
    from govsocial.adapters.http import new_http_client

    account = Account(
        platform="paper",
        handle="@humas",
        base_url=recorder.url(path=""),
        credentials={"access_token": TOKEN},
    )
    client = new_http_client()
    try:
        adapter = Paper(account, AdapterContext(http=Http(client)))
        with pytest.raises(PlatformError, match="more than 10 bytes"):
            await adapter.request("GET", "/poster.png", max_bytes=10)
        assert (await adapter.request("GET", "/poster.png", max_bytes=len(PNG))).content == PNG
    finally:
        await client.aclose()


async def test_a_name_that_rebinds_to_loopback_after_the_check_is_refused_at_connect(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the first lookup says public, the one for the connection says loopback."""
    import asyncio.base_events
    import socket

    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])

    async def rebinding(self: object, host: str, port: object, **kwargs: object) -> list[object]:
        assert host == "media.rebind.test"
        address = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 0))]

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", rebinding)
    adapter = MediaPaper(ACCOUNT, AdapterContext(http=Http(httpx.AsyncClient())))
    with pytest.raises(ValidationError, match="loopback") as raised:
        await adapter.read_media(
            Media(url=recorder.url(host="media.rebind.test")), field="media[0]"
        )
    assert raised.value.field == "media[0].url"
    assert recorder.hits == []


# -- the worker decides, under its own settings ----------------------------------------------------


def test_a_worker_refuses_a_file_the_author_was_allowed_to_attach(
    tmp_path: Path, plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The author's process allowed the folder; the worker's does not: nothing is uploaded."""
    import asyncio
    import time

    from fakes import soon
    from govsocial.app import Workspace
    from govsocial.scheduling.worker import Worker

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "poster.png").write_bytes(PNG)
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)
    account = Account(
        platform="mediapaper",
        handle="@humas",
        base_url="https://paper.test",
        credentials={"access_token": "env:PAPER_TOKEN"},
    )
    paper = PaperServer()
    with Workspace.open(str(tmp_path / "ws.db"), plugins=plugins) as ws:
        ws.add_account("humas", account)
        monkeypatch.setenv("GOVSOCIAL_MEDIA_ROOTS", str(shared))  # the author's setting
        post = Post("Jadwal posyandu", media=[Media(path=shared / "poster.png")])
        job = ws.schedule(post, ["humas"], at=soon(30))
        monkeypatch.delenv("GOVSOCIAL_MEDIA_ROOTS")  # the worker's: its working directory

        async def work() -> None:
            options = ws.core.client_options()
            async with AsyncClient(transport=paper.transport(), **options) as client:
                await Worker(ws, clock=lambda: time.time() + 31).run_due(client)

        asyncio.run(work())
        [delivery] = ws.job(job.id).deliveries
    assert delivery.status == "failed"
    assert delivery.error is not None and "outside the media folders" in delivery.error
    assert paper.posts == {}


def test_an_archive_hashes_only_files_under_the_media_roots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A draft naming a file outside the media folders (a key, /etc/shadow) must not get
    that file's hash and size into an archive: the archive reads as publishing reads."""
    import hashlib

    from govsocial.analytics.archive import _media_record

    media_root = tmp_path / "arsip-media"
    media_root.mkdir()
    inside = media_root / "poster.png"
    inside.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(3 * 2**20))  # read a MiB at a time
    secret = tmp_path / "kunci.pem"
    secret.write_bytes(b"-----BEGIN PRIVATE KEY-----\n")
    monkeypatch.setenv("GOVSOCIAL_MEDIA_ROOTS", str(media_root))
    kept = _media_record({"path": str(inside), "mime_type": "image/png"})
    assert kept["sha256"] == hashlib.sha256(inside.read_bytes()).hexdigest()
    assert kept["bytes"] == inside.stat().st_size
    refused = _media_record({"path": str(secret), "mime_type": "image/png"})
    assert "sha256" not in refused and "bytes" not in refused
    assert "outside the media folders" in refused["note"]
    escape = media_root / "link.png"
    escape.symlink_to(secret)
    assert "sha256" not in _media_record({"path": str(escape), "mime_type": "image/png"})
