"""The govsocial conformance suite, against the YouTube emulator (govsocial_youtube.testing).

YouTube cannot do some of the suite's steps as written, and each such test is overridden
here, explicitly:

- a post is one video ("a YouTube post is a video"): the steps that publish ``Post(text)``
  publish the same text with a short generated video, whose first line becomes its title;
- images are not posts: the image step checks that validate refuses one and that an image
  given as the video's cover becomes its thumbnail on the server;
- YouTube's API cannot list mentions: the mentions step checks NotSupported says why.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from govsocial import Account, Media, Post
from govsocial.adapters.platform import METRIC_FIELDS, LocalServer
from govsocial.client import Client
from govsocial.client.validation import validate
from govsocial.core.errors import AuthenticationError, NotSupported
from govsocial.testing import PlatformConformance, tiny_png, unique_text
from govsocial_youtube.testing import YouTubeEmulator

CLIP: list[bytes] = []


def with_video(text: str, **media: Any) -> Post:
    return Post(text, media=[Media(data=CLIP[0], **media)])


class TestYouTubeConformance(PlatformConformance):
    platform = "youtube"

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _clip(cls, clip: bytes) -> None:
        """The session's test video, for with_video()."""
        CLIP[:] = [clip]

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_server(cls, emulator: YouTubeEmulator) -> LocalServer:
        return emulator

    @pytest.fixture(scope="class")
    @classmethod
    def client(cls) -> Iterator[Client]:
        with Client(max_wait=5.0) as client:
            yield client

    def test_validate_accepts_a_plain_post(self) -> None:
        """A text with a video is fine; the same text alone is refused, saying why."""
        text = "Selamat pagi, warga! #InfoPublik"
        assert validate(with_video(text), self.platform) == []
        problems = validate(Post(text), self.platform)
        assert [p.code for p in problems] == ["media_required"]
        assert "a YouTube post is a video" in problems[0].message

    def test_validate_reports_text_over_the_limit(self) -> None:
        cls = self.adapter_class()
        text = "Judul\n" + "a" * (cls.limits.max_characters - 5)
        problems = validate(with_video(text), self.platform)
        assert "text_too_long" in [p.code for p in problems]

    def test_publish_reaches_the_server(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        text = unique_text("Halo warga")
        ref = self.publish(client, with_video(text), conformance_server.accounts[0])
        assert ref.platform == self.platform and ref.id
        assert ref.url == f"https://www.youtube.com/watch?v={ref.id}"
        stored = conformance_server.stored_post(ref)
        assert stored is not None, "the server has no such video"
        assert text in conformance_server.stored_text(stored)
        assert stored["snippet"]["title"] == text

    def test_publish_image_with_alt_text(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """An image alone is refused offline; as a video's cover it becomes the thumbnail."""
        emulator: Any = conformance_server
        png = Post(unique_text(), media=[Media(data=tiny_png(), alt_text="Peta")])
        assert "image_not_allowed" in [p.code for p in validate(png, self.platform)]
        post = with_video(unique_text("Sampul"), cover=Media(data=tiny_png()))
        ref = self.publish(client, post, conformance_server.accounts[0])
        assert emulator.thumbnails[ref.id] == tiny_png()

    def test_one_bad_account_does_not_stop_the_others(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        good = conformance_server.accounts[0]
        secret = self.adapter_class().secret_names()
        wrong = {
            name: ("wrong-" + uuid.uuid4().hex) if name in secret else value.get_secret_value()
            for name, value in good.credentials.items()
        }
        bad = Account(**good.model_dump(exclude={"credentials"}), credentials=wrong)
        results = client.publish(with_video(unique_text()), [bad, good])
        assert [r.ok for r in results] == [False, True]
        assert isinstance(results[0].error, AuthenticationError)
        for name in secret:
            assert wrong[name] not in str(results[0].error)
            assert wrong[name] not in repr(results[0])

    def test_delete_removes_it_from_the_server(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        ref = self.publish(client, with_video(unique_text()), conformance_server.accounts[0])
        assert conformance_server.stored_post(ref) is not None
        client.delete(ref)
        assert conformance_server.stored_post(ref) is None

    def test_metrics_follow_the_declared_vocabulary(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        author, fan = conformance_server.accounts[:2]
        ref = self.publish(client, with_video(unique_text()), author)
        conformance_server.like(ref, fan)
        [metrics] = client.fetch_metrics([ref])
        assert metrics.ref == ref
        assert (metrics.likes, metrics.views, metrics.replies) == (1, 0, 0)
        declared = self.adapter_class().limits.post_metrics
        for name in METRIC_FIELDS:
            if name not in declared:
                assert getattr(metrics, name) is None, name

    def test_reply_and_read_replies(self, conformance_server: LocalServer, client: Client) -> None:
        author, citizen = conformance_server.accounts[:2]
        ref = self.publish(client, with_video(unique_text("Jadwal vaksinasi")), author)
        question = unique_text("Apakah buka hari Sabtu?")
        reply_ref = client.reply(ref.model_copy(update={"account": citizen}), Post(question))
        assert reply_ref.account == citizen
        [interaction] = [i for i in client.fetch_replies(ref) if question in i.text]
        assert interaction.kind == "reply"
        assert interaction.in_reply_to_id == ref.id
        answer = unique_text("Ya, buka pukul 08.00")
        answer_ref = client.reply(interaction, answer)
        stored = conformance_server.stored_post(answer_ref)
        assert stored is not None
        assert answer in conformance_server.stored_text(stored)
        assert stored["parent"] == interaction.ref.id  # an answer in the comment's thread
        [metrics] = client.fetch_metrics([ref])
        assert metrics.replies == 2

    def test_mentions(self, conformance_server: LocalServer, client: Client) -> None:
        """YouTube's API has no mentions: NotSupported, saying so."""
        with pytest.raises(NotSupported, match="cannot list mentions"):
            client.fetch_mentions(conformance_server.accounts[0])
