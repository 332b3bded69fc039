"""The govsocial conformance suite, against the TikTok emulator (govsocial_tiktok.testing).

TikTok cannot do some of the suite's steps as written, and each such test is overridden
here, explicitly:

- every post needs a video or photos ("text alone cannot be posted"): the steps that publish
  ``Post(text)`` publish the same text with a JPEG photo;
- photos are JPEG or WebP only (the suite's image is a PNG): the image test uses a JPEG;
- no alt text, no delete, no comments or mentions through the API: the delete test skips
  (``limits.delete`` is False); replies and mentions must raise NotSupported.

The suite publishes six times from its first account, which is exactly TikTok's 6 init
calls a minute per token: a seventh publishing step in the suite would wait a minute (more
than the client's ``max_wait``) and fail with RateLimited, as it would against TikTok.

The server is the adapter's own ``local_server()`` (the emulator on a local port), so the
suite's video step uploads a video made in the run through the chunked PUT.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from govsocial import Account, Media, Post
from govsocial.adapters.media import DirectoryHost
from govsocial.adapters.platform import LocalServer
from govsocial.client import Client
from govsocial.client.validation import validate
from govsocial.core.errors import AuthenticationError, NotSupported
from govsocial.testing import PlatformConformance, unique_text


def tiny_jpeg() -> bytes:
    """A 2x2 JPEG made with Pillow (a test dependency of govsocial)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


def with_photo(text: str) -> Post:
    return Post(text, media=[Media(data=tiny_jpeg(), mime_type="image/jpeg")])


class TestTikTokConformance(PlatformConformance):
    platform = "tiktok"

    @pytest.fixture(scope="class")
    @classmethod
    def client(cls, conformance_server: Any) -> Iterator[Client]:
        """TikTok pulls photos from public URLs: the client needs a media host."""
        host = DirectoryHost(conformance_server.media_dir, conformance_server.base_url + "/media")
        with Client(media_host=host, max_wait=5.0) as client:
            yield client

    def test_validate_accepts_a_plain_post(self) -> None:
        """A caption with a photo is fine; the caption alone is refused, saying why."""
        text = "Selamat pagi, warga! #InfoPublik"
        assert validate(with_photo(text), self.platform) == []
        problems = validate(Post(text), self.platform)
        assert [p.code for p in problems] == ["media_required"]
        assert "text alone cannot be posted" in problems[0].message

    def test_validate_reports_text_over_the_limit(self) -> None:
        problems = validate(with_photo("a" * 2201), self.platform)
        assert [p.code for p in problems] == ["text_too_long"]
        assert problems[0].limit == 2200

    def test_publish_reaches_the_server(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        text = unique_text("Halo warga")
        ref = self.publish(client, with_photo(text), conformance_server.accounts[0])
        assert ref.platform == self.platform and ref.id
        stored = conformance_server.stored_post(ref)
        assert stored is not None, "the server has no such post"
        assert text in conformance_server.stored_text(stored)

    def test_publish_image_with_alt_text(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """The suite's PNG is refused offline (JPEG or WebP only); a JPEG is posted."""
        png = Post(unique_text(), media=[Media(data=self._png(), alt_text="Peta")])
        assert "unsupported_media_type" in [p.code for p in validate(png, self.platform)]
        ref = self.publish(client, with_photo(unique_text()), conformance_server.accounts[0])
        stored = conformance_server.stored_post(ref)
        assert stored is not None
        assert conformance_server.stored_media_kinds(stored) == ["image"]  # type: ignore[attr-defined]

    @staticmethod
    def _png() -> bytes:
        from govsocial.testing import tiny_png

        return tiny_png()

    def test_one_bad_account_does_not_stop_the_others(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        good = conformance_server.accounts[0]
        token, refresh = "wrong-" + uuid.uuid4().hex, "wrong-" + uuid.uuid4().hex
        credentials = {
            **{k: v.get_secret_value() for k, v in good.credentials.items()},
            "access_token": token,
            "refresh_token": refresh,
        }
        bad = Account(**good.model_dump(exclude={"credentials"}), credentials=credentials)
        results = client.publish(with_photo(unique_text()), [bad, good])
        assert [r.ok for r in results] == [False, True]
        assert isinstance(results[0].error, AuthenticationError)
        for secret in (token, refresh, "aw_client_secret"):
            assert secret not in str(results[0].error) and secret not in repr(results[0])

    def test_metrics_follow_the_declared_vocabulary(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        author, fan = conformance_server.accounts[:2]
        ref = self.publish(client, with_photo(unique_text()), author)
        conformance_server.like(ref, fan)
        [metrics] = client.fetch_metrics([ref])
        assert metrics.ref == ref
        assert metrics.likes == 1 and metrics.views == 0 and metrics.replies == 0
        assert metrics.reposts is None and metrics.raw["share_count"] == 0

    def test_reply_and_read_replies(self, conformance_server: LocalServer, client: Client) -> None:
        """No comments through TikTok's API: reading them is NotSupported, with the reason."""
        ref = self.publish(client, with_photo(unique_text()), conformance_server.accounts[0])
        with pytest.raises(NotSupported, match="offer no comments"):
            client.fetch_replies(ref)

    def test_mentions(self, conformance_server: LocalServer, client: Client) -> None:
        with pytest.raises(NotSupported, match="offer no mentions"):
            client.fetch_mentions(conformance_server.accounts[0])
