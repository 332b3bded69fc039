"""Offline units: Meta's error and usage readers, caption counting, validation problems."""

from __future__ import annotations

import json

import httpx
from hypothesis import given
from hypothesis import strategies as st

from govsocial import Media, Post, PostRef, validate
from govsocial_instagram import Instagram, meta
from govsocial_instagram.testing import tiny_jpeg
from govsocial_instagram.text import hashtags, mentions, utf16_length


def answer(body: object, status: int = 400, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_parse_error_reads_every_documented_field() -> None:
    error = meta.parse_error(
        answer(
            {
                "error": {
                    "message": "The image size is too large.",
                    "type": "OAuthException",
                    "code": 36000,
                    "error_subcode": 2207004,
                    "is_transient": False,
                    "error_user_title": "Image size too large",
                    "error_user_msg": "It should be less than 8 MiB.",
                    "fbtrace_id": "A6LJ",
                }
            }
        )
    )
    assert error == meta.MetaError(
        message="The image size is too large.",
        type="OAuthException",
        code=36000,
        subcode=2207004,
        user_title="Image size too large",
        user_message="It should be less than 8 MiB.",
        fbtrace_id="A6LJ",
        is_transient=False,
    )
    assert error.describe() == (
        "The image size is too large.: It should be less than 8 MiB. "
        "(code 36000, subcode 2207004, fbtrace_id A6LJ)"
    )
    assert meta.parse_error(httpx.Response(502, text="<html>Bad gateway</html>")) is None


def test_throttling_codes_and_the_spam_restriction() -> None:
    for code in (4, 17, 32, 613, 80001, 80002):
        assert Instagram.is_throttled(answer({"error": {"message": "x", "code": code}}))
    spam = answer(
        {"error": {"message": "We restrict certain activity", "code": 4, "error_subcode": 2207051}}
    )
    assert not Instagram.is_throttled(spam)
    limit = answer({"error": {"message": "limit", "code": 9, "error_subcode": 2207042}})
    assert not Instagram.is_throttled(limit)  # a 24-hour limit: not retried within the call
    assert Instagram.is_throttled(httpx.Response(429))
    assert Instagram.is_auth_failure(answer({"error": {"message": "bad", "code": 190}}))
    assert not Instagram.is_auth_failure(answer({"error": {"message": "perm", "code": 10}}))


def test_usage_headers_become_a_rate_state() -> None:
    business = {
        "17841": [
            {
                "type": "instagram",
                "call_count": 91,
                "total_cputime": 12,
                "total_time": 40,
                "estimated_time_to_regain_access": 3,
            }
        ]
    }
    response = answer(
        {},
        200,
        **{
            "X-Business-Use-Case-Usage": json.dumps(business),
            "X-App-Usage": json.dumps({"call_count": 20}),
        },
    )
    state = meta.usage_state(response.headers, now=1000.0)
    assert state is not None
    assert (state.limit, state.remaining, state.reset_at) == (100, 9, 1180.0)
    assert Instagram.retry_after(response) == 180.0
    assert meta.usage_state(httpx.Headers({"X-App-Usage": "not json"})) is None
    assert Instagram.rate_state(answer({}, 200)) is None


def test_caption_counting() -> None:
    assert utf16_length("Halo 👋") == 7
    assert Instagram.count_characters("Hello world") == 11
    assert hashtags("#Info #vaksin2026 bukan#tag ##dua") == ["Info", "vaksin2026"]
    assert mentions("@dinkes.kota, @warga_1. email@x.id") == ["dinkes.kota", "warga_1"]


@given(st.integers(min_value=0, max_value=40))
def test_hashtag_limit_is_reported_exactly_above_30(count: int) -> None:
    text = " ".join(f"#tag{i}" for i in range(count))
    post = Post(text, media=[Media(data=tiny_jpeg())])
    problems = validate(post, "instagram")
    codes = [p.code for p in problems]
    assert ("too_many_hashtags" in codes) == (count > 30)
    # Instagram announced five (Dec 2025): a warning from six up to the documented 30
    assert ("many_hashtags" in codes) == (5 < count <= 30)
    assert all(p.severity == "warning" for p in problems if p.code == "many_hashtags")


def test_validation_problems_name_the_limit_and_the_fix() -> None:
    mentions_post = Post(" ".join(f"@user{i}" for i in range(21)), media=[Media(data=tiny_jpeg())])
    [problem] = validate(mentions_post, "instagram")
    assert (problem.code, problem.limit, problem.field) == ("too_many_mentions", 20, "text")
    video = Media(url="https://x.example/v.mp4", mime_type="video/mp4", alt_text="Senam")
    codes = [p.code for p in validate(Post("Senam", media=[video]), "instagram")]
    assert codes == ["alt_text_unsupported"]
    parent = PostRef(platform="instagram", account=_account(), id="1789")
    reply = Post("Terima kasih", reply_to=parent)
    assert validate(reply, "instagram") == []  # a comment needs no media
    with_media = Post("x", reply_to=parent, media=[Media(data=tiny_jpeg())])
    assert [p.code for p in validate(with_media, "instagram")] == ["media_not_allowed"]
    eleven = Post("x", media=[Media(data=tiny_jpeg())] * 11)
    assert [p.code for p in validate(eleven, "instagram")] == ["too_many_media"]
    assert Instagram.limits.max_media == 10 and Instagram.limits.delete is True


def _account():  # type: ignore[no-untyped-def]
    from govsocial import Account

    return Account(
        platform="instagram",
        handle="@dinkes.kota",
        credentials={"ig_user_id": "1784", "access_token": "t0ken-fake"},
    )
