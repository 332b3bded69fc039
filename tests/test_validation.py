"""Offline validation: each bad input gets a Problem naming the field and the limit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import govsocial
from fakes import Paper
from govsocial import Media, Post, PostRef, PostVariant, hookimpl
from govsocial.adapters.platform import Platform
from govsocial.client.validation import MAX_TEXT_CODE_POINTS, blocking
from govsocial.core.errors import ConfigurationError
from govsocial.core.models import Account
from govsocial.plugin.house_rules import AltTextRequired
from govsocial.plugin.manager import Plugins

PNG = bytes.fromhex("89504e470d0a1a0a") + b"\0" * 16


def codes(post: Post) -> list[str]:
    return [p.code for p in govsocial.validate(post, "paper")]


def test_a_fine_post_has_no_problems(plugins: Plugins) -> None:
    assert govsocial.validate(Post("Halo warga"), "paper") == []


def test_unknown_platform_is_a_configuration_error(plugins: Plugins) -> None:
    with pytest.raises(ConfigurationError, match="unknown platform 'myspace'") as caught:
        govsocial.validate(Post("x"), "myspace")
    assert caught.value.field == "platform"
    assert "paper" in str(caught.value)


def test_empty_post(plugins: Plugins) -> None:
    assert codes(Post("  \n")) == ["empty"]


def test_text_over_the_limit_names_field_limit_and_fix(plugins: Plugins) -> None:
    [problem] = govsocial.validate(Post("x" * 21), "paper")
    assert (problem.code, problem.field, problem.limit, problem.platform) == (
        "text_too_long",
        "text",
        20,
        "paper",
    )
    assert "shorten it by 1" in problem.message


def test_a_text_of_megabytes_is_refused_without_counting_it(
    plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting such a text as X does takes seconds; nothing counts or scans it."""

    def never(*args: object, **kwargs: object) -> int:
        raise AssertionError("a text over the cap was counted")

    monkeypatch.setattr(Paper, "count_characters", classmethod(never))
    monkeypatch.setattr(Paper, "check_post", classmethod(never))
    text = "halo https://example.go.id/x " * (MAX_TEXT_CODE_POINTS // 29 + 1)
    [problem] = govsocial.validate(Post(text), "paper")
    assert (problem.code, problem.field, problem.limit) == ("text_too_long", "text", 20)
    assert f"{len(text):,} code points" in problem.message
    assert f"{MAX_TEXT_CODE_POINTS:,}" in problem.message
    # at the cap it is counted as usual
    monkeypatch.undo()
    found = govsocial.validate(Post("x" * MAX_TEXT_CODE_POINTS), "paper")
    assert f"text is {MAX_TEXT_CODE_POINTS} characters" in found[0].message
    assert "text_too_many_bytes" in [p.code for p in found]  # the other checks ran too


def test_bytes_cap_is_checked_separately(plugins: Plugins) -> None:
    assert codes(Post("ß" * 20 + "é")) == ["text_too_long", "text_too_many_bytes"]
    assert codes(Post("日本語" * 5)) == ["text_too_many_bytes"]


def test_too_many_media(plugins: Plugins) -> None:
    media = [Media(data=PNG, alt_text="a")] * 3
    assert codes(Post("x", media=media)) == ["too_many_media"]


def test_unsupported_media_type(plugins: Plugins) -> None:
    assert codes(Post("x", media=[Media(data=b"%PDF-1.4 ...", mime_type="application/pdf")])) == [
        "unsupported_media_type"
    ]


def test_undetectable_media_type(plugins: Plugins) -> None:
    assert codes(Post("x", media=[Media(data=b"????????")])) == ["unknown_media_type"]


def test_oversize_image(plugins: Plugins) -> None:
    [problem] = govsocial.validate(Post("x", media=[Media(data=PNG + b"\0" * 1000)]), "paper")
    assert problem.code == "media_too_large" and problem.limit == 1000
    assert problem.field == "media[0].data"


def test_unreadable_media_file(plugins: Plugins, tmp_path: Path) -> None:
    problems = govsocial.validate(Post("x", media=[Media(path=tmp_path / "gone.png")]), "paper")
    assert [p.code for p in problems] == ["unreadable_media"]
    assert problems[0].field == "media[0].path"


def test_invalid_media_url(plugins: Plugins) -> None:
    assert "invalid_url" in codes(Post("x", media=[Media(url="ftp://x/a.png")]))


def test_alt_text_too_long(plugins: Plugins) -> None:
    [problem] = govsocial.validate(Post("x", media=[Media(data=PNG, alt_text="a" * 11)]), "paper")
    assert (problem.code, problem.field, problem.limit) == (
        "alt_text_too_long",
        "media[0].alt_text",
        10,
    )


def test_variant_is_what_gets_checked(plugins: Plugins) -> None:
    post = Post("x" * 50, variants={"paper": PostVariant(text="short")})
    assert govsocial.validate(post, "paper") == []


def test_variant_for_an_unknown_platform(plugins: Plugins) -> None:
    post = Post("x", variants={"friendster": PostVariant(text="y")})
    [problem] = govsocial.validate(post, "paper")
    assert (problem.code, problem.field) == ("unknown_variant", "variants.friendster")


def test_reply_to_another_platform(plugins: Plugins) -> None:
    other = PostRef(
        platform="bluesky", account=Account(platform="bluesky", handle="a"), id="at://x"
    )
    assert codes(Post("x", reply_to=other)) == ["reply_to_other_platform"]


def test_house_rule_alt_text_required(plugins: Plugins) -> None:
    post = Post("x", media=[Media(data=PNG, alt_text="ok"), Media(data=PNG)])
    assert codes(post) == []
    plugins.register(AltTextRequired(), name="alt-text-required")
    [problem] = govsocial.validate(post, "paper")
    assert (problem.code, problem.field) == ("alt_text_required", "media[1].alt_text")


def test_count_characters_uses_the_platform(plugins: Plugins) -> None:
    assert govsocial.count_characters("👨‍👩‍👧‍👦 ok", "paper") == 4


def test_alt_text_on_a_platform_without_it_is_a_warning_that_does_not_block(
    plugins: Plugins,
) -> None:
    class NoAlt(Paper):
        name = "noalt"
        title = "NoAlt"
        limits = Paper.limits.model_copy(update={"alt_text": False})

    class NoAltPlugin:
        @hookimpl
        def register_platforms(self, register: Callable[[type[Platform]], None]) -> None:
            register(NoAlt)

    plugins.register(NoAltPlugin(), name="noalt")
    post = Post("Peta", media=[Media(data=PNG, alt_text="Peta kota")])
    [problem] = govsocial.validate(post, "noalt")
    assert (problem.code, problem.severity) == ("alt_text_unsupported", "warning")
    assert "goes without its description" in problem.message
    assert blocking([problem]) == []
