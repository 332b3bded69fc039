"""Mastodon's character counting (StatusLengthValidator), restated as tests."""

from __future__ import annotations

from govsocial_mastodon.text import MENTION_RE, count_characters, find_mentions

LIMIT = 500


def _over_limit(text: str = "", spoiler_text: str = "") -> bool:
    return count_characters(text, spoiler_text=spoiler_text) > LIMIT


# --- the cases of Mastodon's own validator spec ----------------------------------


def test_content_warning_over_the_limit() -> None:
    assert _over_limit(spoiler_text="a" * 520)


def test_text_over_the_limit() -> None:
    assert _over_limit("a" * 520)


def test_text_and_content_warning_add_up() -> None:
    assert count_characters("b" * 251, spoiler_text="a" * 250) == 501
    assert _over_limit("b" * 251, spoiler_text="a" * 250)


def test_space_separated_url_counts_as_23() -> None:
    link = "http://" + "b" * 30 + ".com/example"
    assert count_characters("a" * 476 + " " + link) == 500
    assert not _over_limit("a" * 476 + " " + link)


def test_url_glued_to_a_word_is_not_a_link_and_counts_in_full() -> None:
    link = "http://" + "b" * 30 + ".com/example"
    assert count_characters("a" * 476 + link) == 476 + len(link)
    assert _over_limit("a" * 476 + link)


def test_overly_long_url_counts_in_full() -> None:
    text = "http://example.com/valid?" + "#foo?" * 1000
    assert count_characters(text) == len(text)


def test_remote_mention_counts_only_the_user_name() -> None:
    text = "a" * 475 + " @alice@" + "b" * 30 + ".com"
    assert count_characters(text) == 475 + 1 + len("@alice")
    assert not _over_limit(text)


def test_mention_with_overly_long_domain_counts_in_full() -> None:
    text = "@alice@" + "b" * 500 + ".com"
    assert count_characters(text) == len(text)
    assert _over_limit(text)


def test_emoji_count_as_one_character() -> None:
    assert count_characters("✨" * 500) == 500
    assert count_characters("🏳️‍⚧️" * 500) == 500
    assert not _over_limit("🏳️‍⚧️" * 500)


# --- further cases -------------------------------------------------------------


def test_indonesian_text_counts_its_characters() -> None:
    text = "Pemerintah Kabupaten mengumumkan jadwal vaksinasi gratis minggu depan."
    assert count_characters(text) == len(text)
    text = "Selamat Hari Kemerdekaan Republik Indonesia ke-81! 🇮🇩🎉"
    assert count_characters(text) == len(text) - 1  # the flag: two code points, one character


def test_urls_with_scheme_count_as_url_length() -> None:
    text = "Info: https://www.kemenkeu.go.id/informasi-publik/detail?id=1234&lang=id."
    assert count_characters(text) == len("Info: ") + 23 + 1
    assert count_characters(text, url_length=30) == len("Info: ") + 30 + 1
    assert count_characters("https://a.co") == 23  # short URLs count 23 too
    two = "https://example.com/a\nhttps://example.org/b"
    assert count_characters(two) == 23 + 1 + 23
    wiki = "(https://id.wikipedia.org/wiki/Jakarta_(kota))"
    assert count_characters(wiki) == 1 + 23 + 1


def test_urls_without_scheme_count_in_full() -> None:
    for text in ["kemkes.go.id/berita", "www.example.org", "example.com/a?b=c"]:
        assert count_characters(text) == len(text)
    assert count_characters("http://localhost:3000/x") == len("http://localhost:3000/x")


def test_local_and_remote_mentions() -> None:
    assert count_characters("@alice halo") == len("@alice halo")
    assert count_characters("halo @alice@mastodon.social!") == len("halo @alice!")
    assert count_characters("@a@x.org @b@y.org") == len("@a @b")
    assert count_characters("@Alice.Smith@social.example.go.id") == len("@Alice.Smith")
    # Not mentions: inside a word or URL, or followed by "@", "://" or a Latin accent.
    for text in ["user@example.com", "a=@b@c.org", "x/@b@c.org", "@b@c.org@d", "@bé@c.org"]:
        assert count_characters(text) == len(text)


def test_mention_inside_a_url_is_part_of_the_url() -> None:
    text = "https://example.com/foo,@alice@example.org"
    assert count_characters(text) == 23


def test_blank_text_counts_nothing() -> None:
    assert count_characters("") == 0
    assert count_characters("   \n\t\u3000") == 0
    assert count_characters("   ", spoiler_text="CW") == 2


def test_devanagari_counts_the_higher_ruby_3_number() -> None:
    assert count_characters("नमस्ते") == 4  # JavaScript (Unicode 15.1+) says 3
    assert count_characters("क्षत्रिय") == 5


def test_mention_regex_and_finder() -> None:
    match = MENTION_RE.search("hi @alice@mastodon.social")
    assert match is not None
    assert (match.group(1), match.group(2)) == ("alice@mastodon.social", "alice")
    assert find_mentions("hi @alice and @bob@example.org.") == [
        (3, 9, "alice"),
        (14, 30, "bob@example.org"),
    ]
