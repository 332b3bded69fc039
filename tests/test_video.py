"""Videos read from their own bytes, and held offline against each platform's video rules.

Every video here is made in the test run by PyAV (govsocial.testing.video), so the facts a
rule talks about (duration, size, frame rate, codec) are set on purpose and then read back
from the file, not assumed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from govsocial import ConfigurationError, Media, Post, ValidationError, validate
from govsocial.adapters import Limits, VideoLimits
from govsocial.adapters.media_safety import MediaPolicy
from govsocial.client.video_rules import video_problems
from govsocial.core import _video_probe as video_module
from govsocial.core.video import VideoInfo, describe_duration, probe_video
from govsocial.testing import tiny_png

pytest.importorskip("av")

from govsocial.testing.video import make_video


@pytest.fixture(scope="module")
def short_portrait() -> bytes:
    return make_video(width=360, height=640, seconds=4, fps=30)


@pytest.fixture(scope="module")
def long_and_slow() -> bytes:
    """200 seconds at one frame a second: long by its header, small in bytes."""
    return make_video(width=64, height=64, seconds=200, fps=1)


def codes(problems: list) -> set[str]:  # type: ignore[type-arg]
    return {p.code for p in problems}


# -- reading ---------------------------------------------------------------------------


def test_a_video_is_read_for_its_duration_size_rate_and_codecs(short_portrait: bytes) -> None:
    info = probe_video(short_portrait)
    assert (info.width, info.height) == (360, 640)
    assert info.duration == pytest.approx(4.0, abs=0.1)
    assert info.frame_rate == pytest.approx(30)
    assert (info.video_codec, info.audio_codec, info.audio_channels) == ("h264", "aac", 1)
    assert info.size == len(short_portrait)
    assert info.orientation == "portrait" and info.aspect_ratio == pytest.approx(0.5625)
    assert "mp4" in info.container


def test_webm_with_vp9_and_opus_is_read_too() -> None:
    data = make_video(container="webm", codec="libvpx-vp9", seconds=0.5, width=64, height=64)
    info = Media(data=data).video_info()
    assert (info.video_codec, info.audio_codec) == ("vp9", "opus")


def test_a_file_path_is_read_and_remembered_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "klip.mp4"
    make_video(path, seconds=1, width=64, height=64)
    reads: list[object] = []
    real = video_module._read

    def counting(*args: object) -> object:
        reads.append(args[0])
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(video_module, "_read", counting)
    first = probe_video(path)
    assert probe_video(path) == first and len(reads) == 1, "eight platforms, one read"
    make_video(path, seconds=3, width=64, height=64)  # same name, new content
    assert probe_video(path).duration == pytest.approx(3, abs=0.1)
    assert len(reads) == 2


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 64,
        b"not a video at all " * 40,
        tiny_png(),
        b"\x00\x00\x00\x18ftypmp42" + b"\xff" * 200,  # an MP4 header with garbage after it
    ],
    ids=["empty", "zeros", "text", "png", "broken-mp4"],
)
def test_what_is_not_a_readable_video_is_a_validation_error_naming_the_field(
    data: bytes,
) -> None:
    with pytest.raises(ValidationError) as caught:
        probe_video(data, field="media[0]")
    [problem] = caught.value.problems
    assert problem.code == "video_unreadable" and problem.field == "media[0]"
    assert "MP4" in (caught.value.hint or "")


def test_a_cut_off_video_is_refused_not_crashed_on(short_portrait: bytes) -> None:
    for cut in (32, 200, len(short_portrait) // 2):
        try:
            info = probe_video(short_portrait[:cut])
        except ValidationError as error:
            assert error.problems[0].code == "video_unreadable"
        else:  # FFmpeg may still read a header; the facts must then be sane
            assert info.width == 360 and info.duration >= 0


def test_without_pyav_validation_warns_what_it_did_not_check(
    short_portrait: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # import av -> ImportError
    monkeypatch.setattr(video_module, "_cache", type(video_module._cache)())
    with pytest.raises(ConfigurationError, match=r"govsocial\[video\]"):
        probe_video(short_portrait)
    problems = validate(Post("Klip", media=[Media(data=short_portrait)]), "x")
    [unchecked] = [p for p in problems if p.code == "video_unchecked"]
    assert unchecked.severity == "warning" and "govsocial[video]" in unchecked.message


def test_a_url_video_is_not_fetched_to_be_read() -> None:
    with pytest.raises(ConfigurationError, match="URL"):
        Media(url="https://example.go.id/klip.mp4").video_info()


# -- the rules, offline ------------------------------------------------------------------


def test_too_long_for_x_says_the_span_and_the_length_in_minutes(long_and_slow: bytes) -> None:
    problems = validate(Post("Klip", media=[Media(data=long_and_slow)]), "x")
    [problem] = [p for p in problems if p.code == "video_duration"]
    assert "X needs 0.5 s to 2 min 20 s; this is 3 min 20 s: cut it" in problem.message
    assert problem.field == "media[0]" and problem.limit == 140
    assert "docs.x.com" in problem.message


def test_instagram_refuses_one_frame_a_second_and_mpeg4_video() -> None:
    slow = make_video(width=64, height=64, seconds=4, fps=1)
    assert "video_frame_rate" in codes(validate(Post("R", media=[Media(data=slow)]), "instagram"))
    mpeg4 = make_video(width=64, height=64, seconds=4, fps=24, codec="mpeg4")
    problems = validate(Post("R", media=[Media(data=mpeg4)]), "instagram")
    [codec] = [p for p in problems if p.code == "video_codec"]
    assert "hevc" in codec.message and "mpeg4" in codec.message


def test_x_refuses_a_video_narrower_than_one_to_three() -> None:
    narrow = make_video(width=64, height=256, seconds=1)  # 1:4
    problems = validate(Post("K", media=[Media(data=narrow)]), "x")
    [ratio] = [p for p in problems if p.code == "video_aspect_ratio"]
    assert "64x256" in ratio.message and "crop or pad" in ratio.message


def test_a_video_within_the_rules_passes_on_every_platform_that_takes_video(
    short_portrait: bytes,
) -> None:
    post = Post("Klip layanan", media=[Media(data=short_portrait)])
    for platform in ("x", "instagram", "threads", "mastodon"):
        assert not [p for p in validate(post, platform) if p.code.startswith("video")], platform


def test_rules_in_people_s_units() -> None:
    info = VideoInfo(
        duration=720,
        width=3840,
        height=2160,
        frame_rate=120,
        video_codec="h264",
        audio_codec="aac",
        audio_channels=6,
        bitrate=60_000_000,
        size=1,
        container="mov",
    )
    rules = VideoLimits(
        min_duration=3,
        max_duration=600,
        max_width=1920,
        max_pixels=8_294_400 // 2,
        max_frame_rate=60,
        max_audio_channels=2,
        max_bitrate=25_000_000,
        source="https://example.test/specs",
    )
    problems = video_problems(info, rules, title="TikTok", field="media[0]")
    messages = {p.code: p.message for p in problems}
    assert messages["video_duration"].startswith(
        "TikTok needs 3 s to 10 min; this is 12 min: cut it"
    )
    assert "up to 1920 px wide; this is 3840 px" in messages["video_width"]
    assert "at most 60 frames per second; this has 120" in messages["video_frame_rate"]
    assert "mix it down to stereo" in messages["audio_channels"]
    assert "60.0 Mbit/s" in messages["video_bitrate"]
    assert "video_resolution" in messages
    assert all(m.endswith("(https://example.test/specs)") for m in messages.values())


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "0.5 s"), (42, "42 s"), (180, "3 min"), (140, "2 min 20 s"), (3900, "1 h 5 min")],
)
def test_durations_are_said_as_people_say_them(seconds: float, text: str) -> None:
    assert describe_duration(seconds) == text


def test_mastodon_takes_its_video_rules_from_the_servers_configuration() -> None:
    from govsocial.plugin.manager import default_plugins
    from govsocial_mastodon.adapter import limits_from_instance

    refined = limits_from_instance(
        {
            "configuration": {
                "media_attachments": {"video_frame_rate_limit": 30, "video_matrix_limit": 4000}
            }
        },
        default_plugins().platform("mastodon").limits,
    )
    assert refined.video is not None
    assert (refined.video.max_frame_rate, refined.video.max_pixels) == (30, 4000)
    sixty = make_video(width=64, height=64, seconds=1, fps=60)
    problems = validate(Post("K", media=[Media(data=sixty)]), "mastodon", limits=refined)
    assert {"video_frame_rate", "video_resolution"} <= codes(problems)


# -- GIFs, covers, captions ------------------------------------------------------------


def test_x_takes_gifs_up_to_15_mib_while_stills_stop_at_5() -> None:
    gif = b"GIF89a" + bytes(6 * 2**20)
    png = tiny_png() + bytes(6 * 2**20)
    assert "media_too_large" not in codes(validate(Post("G", media=[Media(data=gif)]), "x"))
    assert "media_too_large" in codes(validate(Post("P", media=[Media(data=png)]), "x"))
    huge_gif = b"GIF89a" + bytes(16 * 2**20)
    [large] = [
        p
        for p in validate(Post("G", media=[Media(data=huge_gif)]), "x")
        if p.code == "media_too_large"
    ]
    assert large.limit == 15 * 2**20


def test_a_cover_must_be_an_image_and_captions_srt_or_vtt(short_portrait: bytes) -> None:
    with pytest.raises(ValidationError, match="cover must be an image"):
        Media(data=short_portrait, cover=Media(data=short_portrait))
    with pytest.raises(ValidationError, match=r"not \.srt or \.vtt"):
        Media(data=short_portrait, captions="teks.txt")
    with pytest.raises(ValidationError, match="belong to a video"):
        Media(data=tiny_png(), captions="teks.srt")


def test_where_covers_and_captions_are_not_sent_validation_says_so(
    short_portrait: bytes, tmp_path: Path
) -> None:
    captions = tmp_path / "teks.srt"
    captions.write_text("1\n00:00:00,000 --> 00:00:02,000\nSelamat pagi\n", encoding="utf-8")
    media = Media(data=short_portrait, cover=Media(data=tiny_png()), captions=captions)
    problems = validate(Post("K", media=[media]), "x", media_policy=MediaPolicy(roots=(tmp_path,)))
    warned = {p.code: p for p in problems if p.severity == "warning"}
    assert {"cover_unsupported", "captions_unsupported"} <= set(warned)
    assert warned["captions_unsupported"].field == "media[0].captions"


def test_captions_are_checked_where_a_platform_takes_them(
    short_portrait: bytes, tmp_path: Path
) -> None:
    from govsocial.client.validation import _check_media
    from govsocial.plugin.manager import default_plugins

    cls = default_plugins().platform("x")
    rules = cls.limits.video
    assert rules is not None
    limits: Limits = cls.limits.model_copy(
        update={"video": rules.model_copy(update={"captions": True, "cover": True})}
    )
    policy = MediaPolicy(roots=(tmp_path,))
    good = tmp_path / "baik.vtt"
    good.write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nSelamat pagi\n", encoding="utf-8")
    bad = tmp_path / "rusak.vtt"
    bad.write_text("1\n00:00:00,000 --> 00:00:02,000\nSRT named vtt\n", encoding="utf-8")
    latin = tmp_path / "latin.srt"
    latin.write_bytes("1\n00:00:00,000 --> 00:00:02,000\nCaf\xe9 ok\n".encode("latin-1"))
    outside = Path(sys.prefix) / "pyvenv.cfg"

    def problems_for(captions: Path) -> set[str]:
        media = Media(data=short_portrait, captions=captions.with_suffix(captions.suffix))
        return codes(_check_media(0, media, cls, limits, policy))

    assert not {c for c in problems_for(good) if c.startswith("captions")}
    assert "captions_format" in problems_for(bad)
    assert "captions_encoding" in problems_for(latin)
    assert "captions_unreadable" in problems_for(tmp_path / "hilang.srt")
    if outside.exists():
        renamed = tmp_path.parent / "luar.srt"
        renamed.write_text("1\n00:00:00,000 --> 00:00:01,000\nx\n", encoding="utf-8")
        assert "media_outside_roots" in problems_for(renamed)
