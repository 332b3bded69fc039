"""Recent search for watched topics, through Prism against the X API v2 spec (contract):
every request and answer is checked against the OpenAPI document, and the emulator holds
what was posted. A Free-level app's 403 client-not-enrolled becomes NotSupported, saying why.
"""

from __future__ import annotations

import uuid

import pytest

from govsocial import Post
from govsocial.client import AsyncClient
from govsocial.core.errors import NotSupported
from govsocial_x.testing import Emulator

pytestmark = pytest.mark.anyio


async def test_another_user_s_post_is_found_and_the_next_search_starts_after_it(
    checked_emulator: Emulator,
) -> None:
    agency, citizen = checked_emulator.accounts[:2]
    word = f"banjir{uuid.uuid4().hex[:8]}"
    async with AsyncClient(max_wait=5.0) as c:
        about = await c.publish_one(Post(f"Air naik di jalan Merdeka {word} & <rusak>"), citizen)
        await c.publish_one(Post(f"Pasar malam {uuid.uuid4().hex[:8]}"), citizen)
        assert about.ok and about.ref is not None, about.error
        first = await c.search(agency, word)
        [found] = first.posts
        assert found.ref.id == about.ref.id and found.key == about.ref.id
        stored = checked_emulator.stored_post(about.ref)
        assert stored is not None and found.text == stored["text"]
        assert found.author == f"@{checked_emulator.user_of(citizen).username}"
        assert first.cursor == about.ref.id and first.complete
        again = await c.search(agency, word, cursor=first.cursor)
        assert again.posts == []
        later = await c.publish_one(Post(f"{word} sudah surut"), citizen)
        third = await c.search(agency, word, cursor=first.cursor)
        assert [p.ref.id for p in third.posts] == [later.ref.id if later.ref else None]


async def test_an_app_whose_level_has_no_search_is_told_so(checked_emulator: Emulator) -> None:
    checked_emulator.search_enrolled = False
    try:
        async with AsyncClient(max_wait=5.0) as c:
            with pytest.raises(NotSupported, match="does not let this app search") as refused:
                await c.search(checked_emulator.accounts[0], "banjir")
    finally:
        checked_emulator.search_enrolled = True
    assert refused.value.action == "search"
    assert "access level" in str(refused.value)
