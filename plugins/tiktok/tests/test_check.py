"""``govsocial check`` for a TikTok account, against the emulator: the creator and what
creator_info allows (privacy levels, the longest video, interactions turned off), whether
the app is audited as TikTok last showed it, the init calls left, and refusals."""

from __future__ import annotations

from typing import Any

from govsocial import Account, Client, Media, Post
from govsocial.testing.video import make_video
from govsocial_tiktok.testing import TikTokEmulator


def with_credentials(account: Account, **extra: str) -> Account:
    return Account(
        **account.model_dump(exclude={"credentials"}),
        credentials={
            **{k: v.get_secret_value() for k, v in account.credentials.items()},
            **extra,
        },
    )


def notes(found: Any, start: str) -> str:
    [note] = [n for n in found.notes if n.startswith(start)]
    return str(note)


def video() -> Post:
    return Post("Klip", media=[Media(data=make_video(width=360, height=640, seconds=4, fps=30))])


def test_check_says_what_creator_info_allows(
    server: TikTokEmulator, fresh: Account, client: Client
) -> None:
    user = next(u for u in server.users.values() if f"@{u.username}" == fresh.handle)
    user.privacy_level_options = ["MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    user.max_video_post_duration_sec = 180
    user.comment_disabled = True
    found = client.check(fresh)
    assert found.token_ok
    assert found.identity == f"@{user.username} ({user.username.title()})"
    assert notes(found, "privacy levels").endswith("MUTUAL_FOLLOW_FRIENDS, SELF_ONLY")
    assert notes(found, "longest video") == "longest video this creator may post: 180 s"
    assert "comments" in notes(found, "turned off") and "stitches" in notes(found, "turned off")
    assert "not known to be audited" in notes(found, "app:")
    assert found.rate["init calls"].startswith("6 of 6")
    figures = found.capability("account_metrics")
    assert figures is not None and figures.ok is True
    assert found.calls == [
        "POST /v2/post/publish/creator_info/query/",
        "GET /v2/user/info/",
    ]


def test_after_tiktok_refuses_an_unaudited_app_check_says_so(
    server: TikTokEmulator, fresh: Account, client: Client
) -> None:
    server.unaudited = True
    [refused] = client.publish(video(), [fresh])
    assert refused.error is not None and server.posts_of(fresh) == [], refused.error
    assert "unaudited_client" in str(refused.error), refused.error
    found = client.check(fresh)
    assert "NOT audited" in notes(found, "app:") and "SELF_ONLY" in notes(found, "app:")
    post = found.capability("post")
    assert post is not None and "SELF_ONLY" in post.detail


def test_after_a_public_post_check_says_the_app_is_audited(
    server: TikTokEmulator, fresh: Account, client: Client
) -> None:
    [result] = client.publish(video(), [fresh])
    assert result.ok, result.error
    [stored] = server.posts_of(fresh)
    assert stored["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert notes(client.check(fresh), "app:").startswith("app: audited")


def test_a_privacy_level_the_creator_lacks_and_a_revoked_token_are_said(
    server: TikTokEmulator, fresh: Account, client: Client
) -> None:
    user = next(u for u in server.users.values() if f"@{u.username}" == fresh.handle)
    user.privacy_level_options = ["SELF_ONLY"]
    found = client.check(with_credentials(fresh, privacy_level="PUBLIC_TO_EVERYONE"))
    post = found.capability("post")
    assert post is not None and post.ok is False and post.fix is not None
    assert "SELF_ONLY" in post.fix

    server.revoke(fresh.credential("access_token"))
    bare = Account(
        **fresh.model_dump(exclude={"credentials"}),
        credentials={"access_token": fresh.credential("access_token")},
    )
    refused = client.check(bare)
    assert refused.token_ok is False and refused.error is not None
    assert fresh.credential("access_token") not in str(refused.model_dump())
