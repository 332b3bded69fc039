from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from fakes import TOKEN
from govsocial import Account, Media, Post, PostMetrics, PostRef, PostVariant, Problem
from govsocial.core.errors import ConfigurationError

PNG = bytes.fromhex("89504e470d0a1a0a") + b"\0" * 16


def test_post_takes_text_positionally() -> None:
    assert Post("Halo").text == "Halo"
    assert Post(text="Halo") == Post("Halo")
    with pytest.raises(TypeError):
        Post("a", text="b")


@given(
    text=st.text(max_size=300),
    labels=st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=10), max_size=3),
    language=st.none() | st.sampled_from(["id", "en", "jv"]),
)
def test_post_round_trips_through_json(
    text: str, labels: dict[str, str], language: str | None
) -> None:
    post = Post(
        text,
        labels=labels,
        language=language,
        media=[Media(data=PNG, alt_text="alt")],
        variants={"bluesky": PostVariant(text=text[:10])},
    )
    assert Post.model_validate_json(post.model_dump_json()) == post


def test_post_is_frozen() -> None:
    with pytest.raises(PydanticValidationError):
        Post("a").text = "b"  # type: ignore[misc]


def test_variant_overrides_text_for_its_platform_only() -> None:
    post = Post("long text", variants={"bluesky": PostVariant(text="short")})
    assert post.for_platform("bluesky").text == "short"
    assert post.for_platform("mastodon").text == "long text"


def test_media_sniffs_its_type_from_content(tmp_path: Path) -> None:
    path = tmp_path / "picture.dat"
    path.write_bytes(PNG)
    assert Media(path=path).mime_type == "image/png"
    assert Media(data=b"\xff\xd8\xff\xe0" + b"\0" * 10).mime_type == "image/jpeg"
    assert Media(url="https://example.go.id/a.jpg").mime_type == "image/jpeg"
    assert Media(path=tmp_path / "missing.png").mime_type == "image/png"


def test_media_given_by_url_takes_its_type_from_the_path_not_the_query() -> None:
    assert Media(url="https://cdn.example.go.id/p/peta.jpg?w=1080&sig=ab").mime_type == "image/jpeg"
    assert Media(url="https://cdn.example.go.id/v/klip.mp4#t=3").mime_type == "video/mp4"


def test_media_needs_exactly_one_source() -> None:
    with pytest.raises(PydanticValidationError, match="exactly one"):
        Media()
    with pytest.raises(PydanticValidationError, match="exactly one"):
        Media(data=PNG, url="https://example.go.id/a.png")


def test_unreadable_media_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read media file") as caught:
        Media(path=tmp_path / "nope.png").read_bytes()
    assert caught.value.field == "media.path"


def test_account_hides_its_credentials() -> None:
    account = Account(platform="paper", handle="@humas", credentials={"access_token": TOKEN})
    for shown in (repr(account), str(account), account.model_dump_json()):
        assert TOKEN not in shown
    assert account.credential("access_token") == TOKEN


def test_credential_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    account = Account(
        platform="paper", handle="@humas", credentials={"access_token": "env:GS_TOKEN"}
    )
    monkeypatch.setenv("GS_TOKEN", "from-env")
    assert account.credential("access_token") == "from-env"
    monkeypatch.delenv("GS_TOKEN")
    with pytest.raises(ConfigurationError, match="GS_TOKEN"):
        account.credential("access_token")


def test_missing_credential_names_the_field() -> None:
    account = Account(platform="paper", handle="@humas")
    with pytest.raises(ConfigurationError) as caught:
        account.credential("access_token")
    assert caught.value.field == "credentials.access_token"


def test_base_url_must_be_http() -> None:
    with pytest.raises(PydanticValidationError, match="base_url"):
        Account(platform="paper", handle="@h", base_url="paper.test")


def test_metrics_default_to_none_not_zero() -> None:
    account = Account(platform="paper", handle="@h")
    ref = PostRef(platform="paper", account=account, id="1")
    metrics = PostMetrics(ref=ref, collected_at=datetime.now(UTC), likes=0)
    assert metrics.likes == 0 and metrics.views is None
    again = PostMetrics.model_validate_json(metrics.model_dump_json())
    assert again.likes == 0 and again.views is None


def test_problem_round_trips() -> None:
    problem = Problem(code="text_too_long", message="m", field="text", limit=300)
    assert Problem.model_validate_json(problem.model_dump_json()) == problem
