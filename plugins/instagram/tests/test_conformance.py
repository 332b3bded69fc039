"""The govsocial conformance suite, against the Instagram emulator (govsocial_instagram.testing).

Instagram cannot do some of the suite's steps as written, and each such test is overridden
here, explicitly:

- every post needs an image or video ("text-only posts are impossible"): the steps that publish
  ``Post(text)`` publish the same text with a JPEG attached;
- images are JPEG only (the suite's image is a PNG): the alt text test uses a JPEG;
- the delete test publishes with an image (``DELETE /{ig-media-id}``);
- caption @mentions can only be received as webhooks, not listed: the mentions test checks the
  ``tags`` edge instead (posts the account is tagged in).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from govsocial import Account, Media, Post
from govsocial.adapters.media import DirectoryHost
from govsocial.adapters.platform import METRIC_FIELDS, LocalServer
from govsocial.client import Client
from govsocial.client.validation import validate
from govsocial.core.errors import AuthenticationError
from govsocial.testing import PlatformConformance, eventually, tiny_png, unique_text
from govsocial_instagram.testing import tiny_jpeg


def with_image(text: str, alt: str = "Poster layanan publik") -> Post:
    return Post(text, media=[Media(data=tiny_jpeg(), alt_text=alt)])


class TestInstagramConformance(PlatformConformance):
    platform = "instagram"

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_server(cls, instagram_server: LocalServer) -> LocalServer:
        return instagram_server

    @pytest.fixture(scope="class")
    @classmethod
    def client(cls, instagram_server: Any) -> Iterator[Client]:
        """Instagram downloads media from public URLs: the client needs a media host."""
        host = DirectoryHost(instagram_server.media_dir, instagram_server.base_url + "/media")
        with Client(media_host=host, max_wait=5.0) as client:
            yield client

    # -- offline: a plain text post is not a valid Instagram post --------------------------

    def test_validate_accepts_a_plain_post(self) -> None:
        """A caption with an image is fine; the same caption alone is refused, saying why."""
        text = "Selamat pagi, warga! #InfoPublik"
        assert validate(with_image(text), self.platform) == []
        problems = validate(Post(text), self.platform)
        assert [p.code for p in problems] == ["media_required"]
        assert problems[0].field == "media"
        assert "needs an image or video" in problems[0].message

    def test_validate_reports_text_over_the_limit(self) -> None:
        cls = self.adapter_class()
        problems = validate(with_image("a" * (cls.limits.max_characters + 1)), self.platform)
        assert [p.code for p in problems] == ["text_too_long"]
        assert problems[0].field == "text"
        assert problems[0].limit == cls.limits.max_characters == 2200

    # -- against the emulator: the same steps, with an image --------------------------------

    def test_publish_reaches_the_server(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        text = unique_text("Halo warga")
        ref = self.publish(client, with_image(text), conformance_server.accounts[0])
        assert ref.platform == self.platform
        assert ref.id and ref.url
        stored = conformance_server.stored_post(ref)
        assert stored is not None, "the server has no such post"
        assert text in conformance_server.stored_text(stored)

    def test_publish_image_with_alt_text(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """The suite's PNG is refused offline (JPEG only); a JPEG keeps its alt text."""
        alt = "Peta lokasi vaksinasi di balai kota"
        png = Post(unique_text(), media=[Media(data=tiny_png(), alt_text=alt)])
        assert "unsupported_media_type" in [p.code for p in validate(png, self.platform)]
        ref = self.publish(client, with_image(unique_text(), alt), conformance_server.accounts[0])
        stored = conformance_server.stored_post(ref)
        assert stored is not None
        assert conformance_server.stored_alt_texts(stored) == [alt]

    def test_one_bad_account_does_not_stop_the_others(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        good = conformance_server.accounts[0]
        token = "wrong-" + uuid.uuid4().hex
        credentials = {"ig_user_id": good.credential("ig_user_id"), "access_token": token}
        bad = Account(**good.model_dump(exclude={"credentials"}), credentials=credentials)
        results = client.publish(with_image(unique_text()), [bad, good])
        assert [r.ok for r in results] == [False, True]
        assert isinstance(results[0].error, AuthenticationError)
        assert "code 190" in str(results[0].error)
        assert token not in str(results[0].error) and token not in repr(results[0])

    def test_delete_removes_it_from_the_server(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        """``DELETE /{ig-media-id}`` (instagram_manage_contents): the post is gone."""
        assert self.adapter_class().limits.delete
        ref = self.publish(client, with_image(unique_text()), conformance_server.accounts[0])
        assert conformance_server.stored_post(ref) is not None
        client.delete(ref)
        assert conformance_server.stored_post(ref) is None

    def test_metrics_follow_the_declared_vocabulary(
        self, conformance_server: LocalServer, client: Client
    ) -> None:
        author, fan = conformance_server.accounts[:2]
        ref = self.publish(client, with_image(unique_text()), author)
        conformance_server.like(ref, fan)
        [metrics] = client.fetch_metrics([ref])
        assert metrics.ref == ref
        assert metrics.likes == 1
        declared = self.adapter_class().limits.post_metrics
        for name in METRIC_FIELDS:
            value = getattr(metrics, name)
            if name in declared:
                assert value is None or isinstance(value, int), f"{name}: {value!r}"
            else:
                assert value is None, f"{name} is not declared, so it must be None, not {value!r}"

    def test_reply_and_read_replies(self, conformance_server: LocalServer, client: Client) -> None:
        author, citizen = conformance_server.accounts[:2]
        ref = self.publish(client, with_image(unique_text("Jadwal vaksinasi")), author)
        question = unique_text("Apakah buka hari Sabtu?")
        citizen_view = ref.model_copy(update={"account": citizen})
        reply_ref = client.reply(citizen_view, Post(question))
        assert reply_ref.account == citizen

        def found() -> Any:
            return [i for i in client.fetch_replies(ref) if question in i.text]

        [interaction] = eventually(found, timeout=5)
        assert interaction.kind == "reply"
        assert interaction.in_reply_to_id == ref.id
        answer = unique_text("Ya, buka pukul 08.00")
        answer_ref = client.reply(interaction, answer)
        stored = conformance_server.stored_post(answer_ref)
        assert stored is not None
        assert answer in conformance_server.stored_text(stored)
        assert stored["parent_id"] == interaction.ref.id  # a reply to the comment, not the post

    def test_mentions(self, conformance_server: LocalServer, client: Client) -> None:
        """Caption @mentions arrive only as webhooks; the API lists posts an account is
        tagged in (GET /{ig-user-id}/tags), so the emulator tags the author in a citizen's
        post as the Instagram app would, and fetch_mentions must find it."""
        author, citizen = conformance_server.accounts[:2]
        text = f"{conformance_server.mention(author)} {unique_text('mohon info')}"
        ref = self.publish(client, with_image(text), citizen)
        conformance_server.tag(ref.id, author)  # type: ignore[attr-defined]
        found = [i for i in client.fetch_mentions(author) if text in i.text]
        assert [i.kind for i in found] == ["mention"]
        assert found[0].author == citizen.handle.lstrip("@")
        assert found[0].ref.id == ref.id
