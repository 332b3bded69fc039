"""The X adapter held against what X itself publishes, beside Prism and the OpenAPI document.

- twitter-text's own conformance suite (``data/twitter-text-conformance/validate.yml``,
  Apache-2.0, see its README): every weighted-length and validity case of the current
  configuration (v3) passes, the invalid characters U+FFFE and U+FFFF included.
- X's own SDK, xdk: every request body and answer of every test is checked by the
  ``_held_against_xdk`` fixture (conftest.py); here, where xdk and the shared 2.159 document
  disagree, the differences are pinned, and the adapter reads xdk's names too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import yaml

from govsocial import Account, AsyncClient, GovSocialError, Post, PostRef, validate
from govsocial_x.testing.xdk_models import (
    NOT_IN_XDK,
    PROBLEM_PREFIX,
    RENAMED_IN_XDK,
    model_problems,
)
from govsocial_x.text import MAX_WEIGHTED_LENGTH, is_valid, weighted_length

HERE = Path(__file__).resolve().parent
SUITE = yaml.safe_load(
    (HERE / "data" / "twitter-text-conformance" / "validate.yml").read_text("utf-8")
)["tests"]
#: The sections that run twitter-text's current (default, v3) configuration: the Ruby and
#: Java conformance runners use config v3 for these; the others force v1 (140 characters)
#: or v2 (no emoji discount), configurations X no longer uses.
CURRENT = ("WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest")
CASES = [
    pytest.param(case["text"], case["expected"], id=f"{section}: {case['description']}")
    for section in CURRENT
    for case in SUITE[section]
]
BASE = "https://api.x.com"


def test_the_suite_is_the_one_expected() -> None:
    """A truncated or swapped file would pass every case it no longer holds."""
    assert len(CASES) >= 20
    texts = [case.values[0] for case in CASES]
    assert any("\ufffe" in t and "\uffff" in t for t in texts)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_twitter_text_conformance(text: str, expected: dict[str, Any]) -> None:
    assert weighted_length(text) == expected["weightedLength"]
    assert is_valid(text) is expected["valid"]


def test_a_post_with_an_invalid_character_does_not_validate() -> None:
    """What the conformance case means for a user: validate() refuses the post, and says why."""
    [problem] = validate(Post("Jadwal vaksinasi \ufffe hari ini"), "x")
    assert problem.code == "invalid_characters"
    assert "U+FFFE" in problem.message
    assert validate(Post("Jadwal vaksinasi hari ini"), "x") == []


def test_a_post_of_the_limit_is_valid_and_one_more_is_not() -> None:
    assert is_valid("a" * MAX_WEIGHTED_LENGTH)
    assert not is_valid("a" * (MAX_WEIGHTED_LENGTH + 1))
    assert not is_valid("")


# -- xdk --------------------------------------------------------------------------------------


def test_the_differences_between_xdk_and_the_shared_document_still_hold() -> None:
    """Each tolerated difference is real in the installed xdk; when xdk drops one, this fails
    and the tolerance should go."""
    import xdk.schemas as schemas

    declared = {
        name
        for model in (schemas.Post, schemas.PostPublicMetrics, schemas.UserPublicMetrics)
        for name in model.model_fields
    }
    for old, new in RENAMED_IN_XDK.items():
        assert new in declared and old not in declared, (old, new)
    assert "media_type" in NOT_IN_XDK[("POST", "/2/media/upload")]
    assert "media_type" not in schemas.MediaUploadRequest.model_fields
    literal = schemas.ResourceNotFoundProblem.model_fields["type"].annotation
    assert str(literal).count(PROBLEM_PREFIX[1]) == 1, literal


def test_xdk_refuses_a_misspelt_request_field() -> None:
    """The check is not vacuous: xdk's models allow extra keys, the walk does not."""
    import xdk.schemas as schemas

    assert model_problems(schemas.CreatePostsRequest, {"text": "hi"}) == []
    [problem] = model_problems(schemas.CreatePostsRequest, {"txt": "hi"})
    assert "'txt'" in problem
    nested = {"text": "hi", "reply": {"in_reply_to_tweet_id": "1", "exclude_user_ids": ["2"]}}
    [problem] = model_problems(schemas.CreatePostsRequest, nested)
    assert "reply" in problem and "'exclude_user_ids'" in problem


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router


def account() -> Account:
    return Account(platform="x", handle="@humas_kota", credentials={"access_token": "t0k3n"})


@pytest.mark.anyio
async def test_metrics_read_the_names_of_x_s_newer_document(mock: respx.MockRouter) -> None:
    """xdk's names (repost_count, post_count), as X's newer document answers them."""
    metrics = {
        "repost_count": 3,
        "reply_count": 4,
        "like_count": 5,
        "quote_count": 6,
        "bookmark_count": 7,
        "impression_count": 8,
    }
    mock.get(f"{BASE}/2/tweets").respond(
        json={
            "data": [
                {"id": "1", "text": "x", "edit_history_post_ids": ["1"], "public_metrics": metrics}
            ]
        }
    )
    mock.get(f"{BASE}/2/users/me").respond(
        json={
            "data": {
                "id": "9",
                "name": "Humas",
                "username": "humas_kota",
                "public_metrics": {
                    "followers_count": 10,
                    "following_count": 2,
                    "post_count": 42,
                    "listed_count": 0,
                },
            }
        }
    )
    async with AsyncClient(transport=httpx.AsyncHTTPTransport()) as client:
        [post] = await client.fetch_metrics([PostRef(platform="x", account=account(), id="1")])
        mine = await client.fetch_account_metrics(account())
    assert (post.reposts, post.replies, post.likes, post.views) == (3, 4, 5, 8)
    assert mine.posts == 42


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_a_delete_xdk_reads_as_not_done_is_not_a_success(mock: respx.MockRouter) -> None:
    """xdk's DeletePostsResponse: ``data.deleted`` (required boolean) says whether it happened."""
    mock.delete(f"{BASE}/2/tweets/1").respond(json={"data": {"deleted": False}})
    async with AsyncClient(transport=httpx.AsyncHTTPTransport()) as client:
        with pytest.raises(GovSocialError, match=r"(?i)delet"):
            await client.delete(PostRef(platform="x", account=account(), id="1"))
