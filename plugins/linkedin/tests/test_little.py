"""The little text format and the offline checks (no network).

https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govsocial import Account, Media, Post, PostRef, validate
from govsocial.core.errors import ConfigurationError
from govsocial.testing import tiny_png
from govsocial_linkedin import LinkedIn, from_little, to_little
from govsocial_linkedin.little import RESERVED
from govsocial_linkedin.testing import little_plain, little_prefix
from govsocial_linkedin.urns import comment_parts, organization_urn

ALL_RESERVED = "| { } @ [ ] ( ) < > # * _ ~ \\"
text_with_markup = st.text(
    alphabet=st.sampled_from([*"ab #@[](){}|<>*_~\\:1 \n", "é", "😀", "\uff03"]), max_size=60
)


def test_the_reserved_characters_are_the_documented_fifteen() -> None:
    assert set(ALL_RESERVED.replace(" ", "")) == RESERVED
    assert len(RESERVED) == 15


def test_every_reserved_character_is_escaped_with_a_backslash() -> None:
    assert to_little(ALL_RESERVED) == (
        "\\| \\{ \\} \\@ \\[ \\] \\( \\) \\< \\> \\# \\* \\_ \\~ \\\\"
    )
    assert little_prefix(to_little(ALL_RESERVED)) == to_little(ALL_RESERVED)


def test_hashtags_become_the_documented_hashtag_template() -> None:
    assert to_little("Ayo #Vaksin dan #vaksin_lengkap!") == (
        "Ayo {hashtag|\\#|Vaksin} dan {hashtag|\\#|vaksin\\_lengkap}!"
    )
    assert to_little("C# #1 ##a") == "C\\# \\#1 \\#\\#a"  # not hashtags: escaped text


def test_a_little_mention_passes_through_and_reads_as_the_name() -> None:
    text = "Terima kasih @[Devtestco](urn:li:organization:2414183)!"
    assert to_little(text) == text
    assert from_little(text, mentions="name") == "Terima kasih @Devtestco!"
    assert LinkedIn.count_characters(text) == len("Terima kasih Devtestco!")


@given(text_with_markup)
def test_any_text_round_trips(text: str) -> None:
    little = to_little(text)
    assert from_little(little) == text
    assert little_plain(little) == text  # the emulator's independent reading agrees
    assert little_prefix(little) == little  # and LinkedIn would not cut it


def test_characters_are_counted_unescaped_in_utf16_units() -> None:
    assert LinkedIn.count_characters("(a) #b") == 6
    assert LinkedIn.count_characters("😀") == 2
    assert validate(Post("(" * 3000), "linkedin") == []
    [problem] = validate(Post("(" * 3001), "linkedin")
    assert problem.code == "text_too_long" and problem.limit == 3000


def test_offline_validation_of_media_and_replies() -> None:
    png = Media(data=tiny_png(), alt_text="x" * 4087)
    assert [p.code for p in validate(Post("a", media=[png]), "linkedin")] == ["alt_text_too_long"]
    many = [Media(data=tiny_png()) for _ in range(21)]
    assert "too_many_media" in [p.code for p in validate(Post("a", media=many), "linkedin")]
    account = Account(
        platform="linkedin", handle="x", credentials={"organization": "1", "access_token": "t"}
    )
    ref = PostRef(platform="linkedin", account=account, id="urn:li:share:1")
    codes = [
        p.code
        for p in validate(Post("a", reply_to=ref, media=[Media(data=tiny_png())]), "linkedin")
    ]
    assert codes == ["media_in_reply_unsupported"]


@pytest.mark.parametrize(
    "given_value", ["2414183", "urn:li:organization:2414183", " urn:li:company:2414183 "]
)
def test_the_organization_is_normalised(given_value: str) -> None:
    assert organization_urn(given_value) == "urn:li:organization:2414183"


def test_a_wrong_organization_is_a_configuration_error_naming_the_field() -> None:
    account = Account(
        platform="linkedin",
        handle="x",
        credentials={"organization": "dinas-kominfo", "access_token": "t"},
    )
    with pytest.raises(ConfigurationError) as raised:
        LinkedIn.check_account(account)
    assert raised.value.field == "credentials.organization"


def test_comment_urns_are_split_into_object_and_id() -> None:
    urn = "urn:li:comment:(urn:li:activity:6844785523593134080,6844790000000000001)"
    assert comment_parts(urn) == ("urn:li:activity:6844785523593134080", "6844790000000000001")
    assert comment_parts("urn:li:share:1") is None
