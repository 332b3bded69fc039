"""Rich notebook display (``_repr_html_``) of posts, publish results and jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from fakes import TOKEN, paper_account
from govsocial import Media, Post, PostRef, PostVariant, PublishResult
from govsocial.core.errors import PlatformError
from govsocial.scheduling.jobs import Delivery, Job

PNG = bytes.fromhex("89504e470d0a1a0a") + b"\0" * 16
ACCOUNT = paper_account(token=TOKEN)
REF = PostRef(platform="paper", account=ACCOUNT, id="42", url="https://paper.test/@humas/42")


class Tags(HTMLParser):
    """Collects the start tags and the attributes of links, to check the HTML's structure."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self.hrefs.extend(value or "" for name, value in attrs if name == "href")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(markup: str) -> Tags:
    tags = Tags()
    tags.feed(markup)
    tags.close()
    return tags


def test_post_html_escapes_text_and_keeps_line_breaks() -> None:
    post = Post('Halo <script>alert("x")</script> & selamat\nbaris dua', labels={"a": "<b>"})
    markup = post._repr_html_()
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; selamat<br>baris dua" in markup
    assert "a: &lt;b&gt;" in markup
    tags = parse(markup)
    assert "script" not in tags.tags and "b" not in tags.tags
    assert 'Halo <script>alert("x")</script> & selamat' in "".join(tags.text)


def test_post_html_shows_media_alt_text_labels_and_variants() -> None:
    post = Post(
        "Vaksinasi gratis",
        media=[
            Media(data=PNG, alt_text="Poster <jadwal> vaksinasi"),
            Media(url="https://cdn.example.go.id/video.mp4"),
        ],
        labels={"program": "vaksinasi", "pimpinan": "walikota"},
        variants={"bluesky": PostVariant(text="Singkat\nsaja", language="id")},
        content_warning="info",
    )
    markup = post._repr_html_()
    assert "Poster &lt;jadwal&gt; vaksinasi" in markup
    assert "image image/png, 24 bytes" in markup
    assert "no alt text" in markup  # the video has none: said, not hidden
    assert "program: vaksinasi" in markup and "pimpinan: walikota" in markup
    assert "variant: bluesky" in markup and "Singkat<br>saja" in markup
    assert parse(markup).hrefs == ["https://cdn.example.go.id/video.mp4"]
    assert "<img" not in markup and "<link" not in markup and "<style" not in markup


def test_publish_result_html_shows_account_status_and_link() -> None:
    markup = PublishResult(account=ACCOUNT, ref=REF)._repr_html_()
    assert "@humas" in markup and "paper" in markup
    assert "published" in markup
    assert parse(markup).hrefs == ["https://paper.test/@humas/42"]
    assert TOKEN not in markup


def test_failed_publish_result_html_shows_the_escaped_error() -> None:
    error = PlatformError("server said <nope>", platform="paper", status=500, body="")
    markup = PublishResult(account=ACCOUNT, error=error)._repr_html_()
    assert "failed" in markup
    assert "PlatformError: " in markup and "&lt;nope&gt;" in markup and "<nope>" not in markup
    assert parse(markup).hrefs == []
    assert TOKEN not in markup


def test_only_web_addresses_become_links() -> None:
    ref = REF.model_copy(update={"url": "javascript:alert(1)"})
    markup = PublishResult(account=ACCOUNT, ref=ref)._repr_html_()
    assert parse(markup).hrefs == []
    assert "javascript:alert(1)" in markup  # shown as text, not as a link


def test_job_html_shows_status_and_each_delivery() -> None:
    due = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)

    def delivery(account: str, status: str, **extra: object) -> Delivery:
        return Delivery(
            id=account,
            account=account,
            status=status,
            scheduled_at=due,
            due_at=due,
            idempotency_key="k-" + account,
            **extra,
        )

    job = Job(
        id="0123456789abcdef",
        post=Post("Pengumuman <penting>", labels={"program": "vaksinasi"}),
        created_at=due - timedelta(days=1),
        deliveries=(
            delivery("humas-mastodon", "published", ref=REF, attempts=1),
            delivery("humas-bluesky", "failed", error="refused <x>", error_type="PlatformError"),
            delivery("humas-lain", "cancelled"),
        ),
    )
    markup = job._repr_html_()
    assert job.status == "partial" and "partial" in markup
    assert "Job 01234567" in markup
    assert "Pengumuman &lt;penting&gt;" in markup and "program: vaksinasi" in markup
    for name in ("humas-mastodon", "humas-bluesky", "humas-lain"):
        assert name in markup
    for status in ("published", "failed", "cancelled"):
        assert f">{status}<" in markup
    assert "2026-11-02 02:00:00 UTC" in markup
    assert "PlatformError: refused &lt;x&gt;" in markup
    tags = parse(markup)
    assert tags.hrefs == ["https://paper.test/@humas/42"]
    assert tags.tags.count("tr") == 4 + 1 + 3  # post table, delivery head, deliveries


def test_job_without_deliveries_says_so() -> None:
    job = Job(id="j", post=Post(""), created_at=datetime(2026, 1, 1, tzinfo=UTC))
    markup = job._repr_html_()
    assert "no deliveries" in markup and "(no text)" in markup
