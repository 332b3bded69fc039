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


def test_the_inbox_read_after_a_cursor_is_spec_checked(checked_emulator: Emulator) -> None:
    """``fetch_activity`` twice through Prism (every request and answer checked against
    the OpenAPI document): the second read sends ``since_id`` and finds only what is new."""
    from govsocial import Client, Post
    from govsocial.testing import unique_text

    author, citizen = checked_emulator.accounts[:2]
    name = checked_emulator.mention(author)
    first_words, second_words = unique_text("pertanyaan"), unique_text("pertanyaan")
    with Client() as client:
        [sent] = client.publish(Post(f"{name} {first_words}"), [citizen])
        assert sent.ok, sent.error
        first = client.fetch_activity(author)
        [sent] = client.publish(Post(f"{name} {second_words}"), [citizen])
        assert sent.ok, sent.error
        second = client.fetch_activity(author, cursor=first.cursor)
    assert any(first_words in i.text for i in first.interactions)
    texts = [i.text for i in second.interactions]
    assert any(second_words in t for t in texts) and not any(first_words in t for t in texts)
