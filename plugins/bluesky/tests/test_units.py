"""Offline pieces of the Bluesky adapter: TIDs, image headers, JWT expiry, AT URIs.

TID layout: https://atproto.com/specs/tid. The sample images were made with Pillow
(37 x 21 pixels; the rotated JPEG carries EXIF Orientation 6).
"""

from __future__ import annotations

import base64
import json
import struct
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from govsocial.testing import tiny_png
from govsocial_bluesky.aturi import AtUri, post_url
from govsocial_bluesky.imagesize import image_size
from govsocial_bluesky.session import Session, jwt_expiry
from govsocial_bluesky.tid import decode_tid, encode_tid, is_valid_tid, new_tid, tid_for_key

IMAGES = {
    "gif": (
        "R0lGODdhJQAVAIEAAP8AAAAAAAAAAAAAACwAAAAAJQAVAEAILwABCBxIsKDBgwgTKlzIsKHDhxAj"
        "SpxIsaLFixgzatzIsaPHjyBDihxJsqRJkgEBADs="
    ),
    "webp_lossy": (
        "UklGRk4AAABXRUJQVlA4IEIAAACQAwCdASolABUAPm02l0ikIyIhJWgAgA2JZwDPkoB+AAAr98Nw"
        "AP7wm0P/5BcsLrka//yA/5Af8gP/498Ql180AAA="
    ),
    "webp_alpha_vp8x": (
        "UklGRnIAAABXRUJQVlA4WAoAAAAQAAAAJAAAFAAAQUxQSAoAAAABB1DAiAhERP8DVlA4IEIAAACQ"
        "AwCdASolABUAPm02l0ikIyIhJWgAgA2JZwDPkoB+AAAr98NwAP7wm0P/5BcsLrka//yA/5Af8gP/"
        "498Ql180AAA="
    ),
    "webp_lossless": "UklGRhwAAABXRUJQVlA4TA8AAAAvJAAFAAcQ/Y/+ByKi/wEA",
    "jpeg_progressive": (
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0a"
        "HBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIy"
        "MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wgARCAAVACUDASIA"
        "AhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAX/xAAWAQEBAQAAAAAAAAAAAAAAAAAABQb/2gAM"
        "AwEAAhADEAAAAYombgAAAAD/xAAUEAEAAAAAAAAAAAAAAAAAAAAw/9oACAEBAAEFAn//xAAUEQEA"
        "AAAAAAAAAAAAAAAAAAAg/9oACAEDAQE/AV//xAAUEQEAAAAAAAAAAAAAAAAAAAAg/9oACAECAQE/"
        "AV//xAAUEAEAAAAAAAAAAAAAAAAAAAAw/9oACAEBAAY/An//xAAUEAEAAAAAAAAAAAAAAAAAAAAw"
        "/9oACAEBAAE/IX//2gAMAwEAAgADAAAAEAQQQQQf/8QAFBEBAAAAAAAAAAAAAAAAAAAAIP/aAAgB"
        "AwEBPxBf/8QAFBEBAAAAAAAAAAAAAAAAAAAAIP/aAAgBAgEBPxBf/8QAFBABAAAAAAAAAAAAAAAA"
        "AAAAMP/aAAgBAQABPxB//9k="
    ),
}
ROTATED_JPEG = (
    "/9j/4AAQSkZJRgABAQAAAQABAAD/4QAiRXhpZgAATU0AKgAAAAgAAQESAAMAAAABAAYAAAAAAAD/"
    "2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0"
    "Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAARCAAVACUDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEA"
    "AAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJx"
    "FDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNk"
    "ZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJ"
    "ytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQF"
    "BgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMz"
    "UvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3"
    "eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna"
    "4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDi6KKK+ZP3EKKKKACiiigAooooAKKKKACi"
    "iigD/9k="
)


# -- TIDs ----------------------------------------------------------------------------------


def test_new_tid_is_valid_and_carries_the_current_time() -> None:
    before = time.time_ns() // 1000
    tid = new_tid()
    after = time.time_ns() // 1000
    assert is_valid_tid(tid)
    micros, clock_id = decode_tid(tid)
    assert before <= micros <= after
    assert 0 <= clock_id < 1024


def test_tid_encoding_matches_the_spec_examples() -> None:
    assert encode_tid(0, 0) == "2222222222222"
    assert is_valid_tid("3jzfcijpj2z2a")
    assert decode_tid(encode_tid(1_724_171_495_793_000, 512)) == (1_724_171_495_793_000, 512)


@pytest.mark.parametrize(
    "value",
    ["", "3jzfcijpj2z2", "3jzfcijpj2z2aa", "kjzfcijpj2z2a", "3jzfcijpj2z2A", "3jzfcijpj2z21"],
)
def test_invalid_tids_are_refused(value: str) -> None:
    assert not is_valid_tid(value)


def test_tid_for_key_keeps_tids_and_maps_other_keys_deterministically() -> None:
    tid = new_tid()
    assert tid_for_key(tid) == tid
    assert tid_for_key("b3f1c2d4-uuid") == tid_for_key("b3f1c2d4-uuid")
    assert tid_for_key("b3f1c2d4-uuid") != tid_for_key("b3f1c2d4-uuie")


@given(st.text())
def test_any_key_maps_to_a_valid_tid_in_a_plausible_decade(key: str) -> None:
    assume(not is_valid_tid(key))  # a TID given as the key is kept as it is ("aaaaaaaaaaaaa")
    tid = tid_for_key(key)
    assert is_valid_tid(tid)
    micros, _ = decode_tid(tid)
    assert 1_672_531_200_000_000 <= micros < 1_672_531_200_000_000 + 3650 * 86400 * 10**6


# -- image headers -------------------------------------------------------------------------


def test_png_size() -> None:
    assert image_size(tiny_png()) == (1, 1)
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", 640, 480)
    assert image_size(header + b"\x08\x02\x00\x00\x00") == (640, 480)


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_sizes_of_real_images(name: str) -> None:
    assert image_size(base64.b64decode(IMAGES[name])) == (37, 21)


def test_jpeg_rotated_by_exif_reports_display_size() -> None:
    assert image_size(base64.b64decode(ROTATED_JPEG)) == (21, 37)


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image", b"\xff\xd8\xff\xe0\x00", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"GIF89a"],
)
def test_unreadable_headers_give_none(data: bytes) -> None:
    assert image_size(data) is None


# -- sessions and URIs ---------------------------------------------------------------------


def _jwt(claims: dict[str, object]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{payload}.sig"


def test_jwt_expiry_is_read_without_verification() -> None:
    assert jwt_expiry(_jwt({"exp": 1700000000})) == 1700000000.0
    assert jwt_expiry(_jwt({"sub": "x"})) is None
    assert jwt_expiry("not-a-jwt") is None
    assert jwt_expiry("a.%%%.c") is None


def test_session_repr_shows_no_token() -> None:
    session = Session.from_answer(
        {"accessJwt": _jwt({"exp": 1}), "refreshJwt": _jwt({"exp": 2}), "did": "did:plc:x"}
    )
    assert "eyJ" not in repr(session)
    assert not session.access_usable()


def test_at_uri_and_post_url() -> None:
    uri = "at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a"
    assert AtUri.parse(uri) == ("did:plc:abc", "app.bsky.feed.post", "3jzfcijpj2z2a")
    assert str(AtUri.parse(uri)) == uri
    assert post_url(uri, "@humas.test") == "https://bsky.app/profile/humas.test/post/3jzfcijpj2z2a"
    assert post_url(uri) == "https://bsky.app/profile/did:plc:abc/post/3jzfcijpj2z2a"
    with pytest.raises(ValueError):
        AtUri.parse("https://bsky.app/profile/x")
