from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from fakes import TOKEN
from govsocial import Account, Media, Post, PostMetrics, PostRef, PostVariant, Problem
from govsocial.core import models
from govsocial.core.errors import ConfigurationError, GovSocialError, ValidationError

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
    with pytest.raises(ValidationError, match="exactly one") as none:
        Media()
    with pytest.raises(ValidationError, match="exactly one") as two:
        Media(path="poster.png", url="https://example.go.id/a.png")
    assert "(got none)" in str(none.value) and "(got path, url)" in str(two.value)
    for caught in (none, two):
        [problem] = caught.value.problems
        assert (problem.field, problem.code) == ("media", "media_source")
        assert caught.value.hint is not None and "Media(path=" in caught.value.hint


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
    with pytest.raises(ValidationError, match="base_url") as caught:
        Account(platform="paper", handle="@h", base_url="paper.test")
    assert caught.value.field == "base_url"
    assert "https:// or http:// (got no scheme)" in caught.value.problems[0].message
    with pytest.raises(ValidationError, match=r"got ftp://\)") as ftp:
        Account(platform="paper", handle="@h", base_url="ftp://humas:s3cret@files.go.id")
    assert "s3cret" not in str(ftp.value)  # the address may carry a password
    assert ftp.value.hint is not None and "base_url='https://" in ftp.value.hint


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


# -- invalid input raises govsocial.ValidationError, never pydantic's own -------------------


def _invalid(make: Callable[[], object]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        make()
    error = caught.value
    assert not isinstance(error, PydanticValidationError)
    assert isinstance(error, GovSocialError) and isinstance(error, ValueError)
    assert error.__cause__ is None and error.__suppress_context__  # pydantic's text shows input
    return error


def test_a_missing_field_is_named_with_the_fix() -> None:
    account = _invalid(lambda: Account(handle="@humas"))  # type: ignore[call-arg]
    assert account.field == "platform" and account.problems[0].code == "missing"
    assert str(account) == "account is not valid: platform: is required (pass platform=...)"
    ref = _invalid(lambda: PostRef(platform="paper", id="1"))  # type: ignore[call-arg]
    assert ref.field == "account" and "pass account=" in (ref.hint or "")
    assert str(ref).startswith("post ref is not valid: account: is required")


def test_a_wrong_type_says_what_is_expected() -> None:
    error = _invalid(lambda: Post(text=123))  # type: ignore[arg-type]
    assert error.field == "text"
    assert error.problems[0].message == "Input should be a valid string (got int)"
    assert error.hint == "give text as a str"
    assert str(_invalid(lambda: Post(123))) == str(error)  # type: ignore[arg-type]


def test_a_misspelled_field_lists_the_right_ones() -> None:
    error = _invalid(lambda: Post(txt="halo"))  # type: ignore[call-arg]
    assert error.field == "txt" and error.problems[0].code == "extra_forbidden"
    assert error.hint is not None and "Post takes text, media, language" in error.hint


def test_a_nested_problem_names_its_full_path() -> None:
    error = _invalid(lambda: Post("halo", media=[Media(data=PNG), {"alt_text": "poster"}]))  # type: ignore[list-item]
    assert [p.field for p in error.problems] == ["media[1]"]
    assert "give exactly one of path=, data= or url= (got none)" in str(error)
    metrics = _invalid(lambda: PostMetrics(ref={"platform": "p", "id": "1"}, collected_at="x"))  # type: ignore[arg-type]
    assert [p.field for p in metrics.problems] == ["ref.account", "collected_at"]


def test_every_problem_is_reported_not_only_the_first() -> None:
    error = _invalid(lambda: Account(platform=1, handle=None, base_url="x"))  # type: ignore[arg-type]
    assert [p.field for p in error.problems] == ["platform", "handle", "base_url"]
    assert error.hint is not None and error.hint.count(";") == 2


def test_a_credential_never_appears_in_the_error() -> None:
    error = _invalid(
        lambda: Account(platform="paper", handle="@h", credentials={"access_token": [TOKEN]})  # type: ignore[dict-item]
    )
    assert error.field == "credentials.access_token"
    assert TOKEN not in str(error) and TOKEN not in repr(error.problems)
    assert "(got list)" in str(error)


def test_validating_stored_data_raises_the_same_error() -> None:
    assert _invalid(lambda: Post.model_validate({"text": 1})).field == "text"
    error = _invalid(lambda: Post.model_validate_json('{"media": [{"path": "a", "url": "b"}]}'))
    assert error.field == "media[0]"


def _public_models() -> list[type[BaseModel]]:
    """Every pydantic model a user or a plugin author can reach: govsocial's exports, the
    SDK's (``govsocial.adapters``) and the core models module's."""
    import govsocial
    import govsocial.adapters

    found: dict[str, type[BaseModel]] = {}
    for module in (govsocial, govsocial.adapters, models):
        for name in module.__all__:
            value = getattr(module, name)
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value is not models.Model
            ):
                found[value.__qualname__] = value
    return sorted(found.values(), key=lambda model: model.__name__)


MODELS = _public_models()


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_public_model_raises_our_error(model: type[BaseModel]) -> None:
    if model is Problem:
        pytest.skip(
            "Problem is defined in core/problem.py, below core/errors.py which names it: "
            "raising ValidationError there would make an import cycle"
        )
    assert issubclass(model, models.Model)
    error = _invalid(lambda: model(**{name: object() for name in model.model_fields}))
    assert error.problems
    for problem in error.problems:
        assert problem.field is not None
        assert problem.field.split(".")[0].split("[")[0] in model.model_fields
        assert problem.message and "object at 0x" not in problem.message


def test_models_stay_frozen_and_picklable() -> None:
    account = Account(platform="paper", handle="@h", credentials={"access_token": TOKEN})
    post = Post(
        "halo", media=[Media(data=PNG)], reply_to=PostRef(platform="paper", account=account, id="1")
    )
    assert pickle.loads(pickle.dumps(post)) == post
    assert pickle.loads(pickle.dumps(account)) == account
    with pytest.raises(PydanticValidationError):  # as before: assignment is refused
        post.text = "b"  # type: ignore[misc]
    error = _invalid(lambda: Media())
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), str(again), again.problems) == (
        ValidationError,
        str(error),
        error.problems,
    )


def test_the_accounts_file_still_reports_a_bad_account_as_configuration(tmp_path: Path) -> None:
    from govsocial.client.accounts_file import load_accounts

    path = tmp_path / "accounts.toml"
    path.write_text('[humas]\nplatform = "mastodon"\nhandle = "@h"\nbase_url = "ftp://x.go.id"\n')
    with pytest.raises(ConfigurationError, match="account 'humas' is not valid: base_url: ") as bad:
        load_accounts(path)
    assert bad.value.field == "humas"
    assert bad.value.hint is not None and "https://" in bad.value.hint
