"""Analysis and plot helpers over synthetic metrics frames (the shape of ws.metrics_frame)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402 - only once matplotlib is known to exist

from govsocial.analytics.analysis import (  # noqa: E402
    ENGAGEMENT_FIGURES,
    FIGURES,
    NO_LABEL,
    SUMMARY_COLUMNS,
    Period,
    cadence,
    engagement,
    engagement_rate,
    follower_growth,
    latest,
    summary,
    top_posts,
)
from govsocial.analytics.plots import (  # noqa: E402
    figure_to_png,
    plot_cadence,
    plot_engagement,
    plot_followers,
)
from govsocial.core.errors import ConfigurationError  # noqa: E402

NAN = float("nan")
POST_COLUMNS = ["platform", "account", "post_id", "url", "labels", "published_at", "collected_at"]
ACCOUNT_COLUMNS = ["platform", "account", "collected_at", "followers", "following", "posts"]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def post(
    platform: str,
    account: str,
    post_id: str,
    published: str,
    collected: str,
    labels: dict[str, str] | None = None,
    **figures: float,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "platform": platform,
        "account": account,
        "post_id": post_id,
        "url": f"https://{platform}.test/{post_id}",
        "labels": labels,
        "published_at": utc(published),
        "collected_at": utc(collected),
    }
    row.update({name: float(figures.get(name, NAN)) for name in FIGURES})
    return row


def posts_frame(rows: list[dict[str, Any]]) -> Any:
    frame = pd.DataFrame(rows, columns=[*POST_COLUMNS, *FIGURES])
    for column in ("published_at", "collected_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.as_unit("ns")
    for column in FIGURES:
        frame[column] = frame[column].astype("float64")
    return frame


def accounts_frame(rows: list[tuple[str, str, str, float]]) -> Any:
    frame = pd.DataFrame(
        [
            {
                "platform": p,
                "account": a,
                "collected_at": utc(t),
                "followers": f,
                "following": NAN,
                "posts": NAN,
            }
            for p, a, t, f in rows
        ],
        columns=ACCOUNT_COLUMNS,
    )
    frame["collected_at"] = pd.to_datetime(frame["collected_at"], utc=True).dt.as_unit("ns")
    for column in ("followers", "following", "posts"):
        frame[column] = frame[column].astype("float64")
    return frame


VAKSIN = {"program": "vaksinasi"}
BOTH = {"program": "vaksinasi", "pimpinan": "walikota"}
WALIKOTA = {"pimpinan": "walikota"}


@pytest.fixture
def posts() -> Any:
    m = "mastodon"
    b = "bluesky"
    return posts_frame(
        [
            # m1: two snapshots; the later one counts. Mastodon reports no views, no quotes.
            post(
                m,
                "pemkot-masto",
                "m1",
                "2026-11-03T02:00",
                "2026-11-04T00:00",
                BOTH,
                likes=5,
                reposts=1,
                replies=0,
            ),
            post(
                m,
                "pemkot-masto",
                "m1",
                "2026-11-03T02:00",
                "2026-11-10T00:00",
                BOTH,
                likes=10,
                reposts=2,
                replies=3,
            ),
            # m2: 1 November 01:00 in Jakarta, still 31 October in UTC.
            post(
                m,
                "pemkot-masto",
                "m2",
                "2026-10-31T18:00",
                "2026-11-05T00:00",
                {},
                likes=4,
                reposts=0,
                replies=1,
            ),
            # m0: October, the previous period.
            post(
                m,
                "pemkot-masto",
                "m0",
                "2026-10-20T03:00",
                "2026-10-25T00:00",
                VAKSIN,
                likes=8,
                reposts=2,
                replies=0,
            ),
            post(
                b,
                "pemkot-bsky",
                "b1",
                "2026-11-15T05:00",
                "2026-11-16T06:00",
                VAKSIN,
                likes=20,
                reposts=5,
                replies=2,
                quotes=1,
            ),
            # b2: 1 December 01:00 in Jakarta, still November in UTC.
            post(b, "pemkot-bsky", "b2", "2026-11-30T18:00", "2026-12-01T00:00", None, likes=100),
            post(
                b,
                "pemkot-bsky",
                "b0",
                "2026-10-10T03:00",
                "2026-10-11T00:00",
                None,
                likes=10,
                reposts=0,
                replies=0,
                quotes=0,
            ),
            # d1: the platform gave no figures at all.
            post(m, "dinkes-masto", "d1", "2026-11-20T03:00", "2026-11-21T00:00", WALIKOTA),
        ]
    )


@pytest.fixture
def accounts() -> Any:
    return accounts_frame(
        [
            ("mastodon", "pemkot-masto", "2026-10-25T00:00", 900),
            ("mastodon", "pemkot-masto", "2026-11-01T00:00", 1000),
            ("mastodon", "pemkot-masto", "2026-11-09T00:00", 1100),
            ("mastodon", "pemkot-masto", "2026-11-30T12:00", 1200),
            ("mastodon", "pemkot-masto", "2026-12-05T00:00", 1300),
            ("bluesky", "pemkot-bsky", "2026-11-16T00:00", 500),
            ("bluesky", "pemkot-bsky", "2026-11-29T00:00", NAN),
            ("mastodon", "dinkes-masto", "2026-10-30T00:00", 200),
            ("mastodon", "dinkes-masto", "2026-11-25T00:00", 250),
            # An account that never posted.
            ("bluesky", "humas-bsky", "2026-10-15T00:00", 300),
            ("bluesky", "humas-bsky", "2026-11-20T00:00", 320),
        ]
    )


def empty_posts() -> Any:
    return posts_frame([])


def empty_accounts() -> Any:
    return accounts_frame([])


def same(actual: Any, expected: float) -> bool:
    if math.isnan(expected):
        return bool(math.isnan(actual))
    return bool(actual == pytest.approx(expected, rel=1e-12))


def check_row(row: Any, **expected: float) -> None:
    for name, value in expected.items():
        assert same(row[name], value), f"{name}: {row[name]!r} != {value!r}"


# --- Period -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "label", "unit"),
    [
        ("2026-11", "2026-10-31T17:00", "2026-11-30T17:00", "2026-11", "month"),
        ("2026-W48", "2026-11-22T17:00", "2026-11-29T17:00", "2026-W48", "week"),
        ("2026-w5", "2026-01-25T17:00", "2026-02-01T17:00", "2026-W05", "week"),
        ("2026-W53", "2026-12-27T17:00", "2027-01-03T17:00", "2026-W53", "week"),
        ("2026-Q4", "2026-09-30T17:00", "2026-12-31T17:00", "2026-Q4", "quarter"),
        ("2026", "2025-12-31T17:00", "2026-12-31T17:00", "2026", "year"),
        ("2026-11-03", "2026-11-02T17:00", "2026-11-03T17:00", "2026-11-03", "day"),
        (
            " 2026-11-01 .. 2026-11-15 ",
            "2026-10-31T17:00",
            "2026-11-15T17:00",
            "2026-11-01..2026-11-15",
            "days",
        ),
    ],
)
def test_period_parse_every_form_in_jakarta(
    text: str, start: str, end: str, label: str, unit: str
) -> None:
    period = Period.parse(text)
    assert (period.start, period.end) == (utc(start), utc(end))
    assert (period.label, period.unit, period.zone) == (label, unit, "Asia/Jakarta")
    assert str(period) == label


def test_month_boundaries_differ_between_jakarta_and_utc(posts: Any, accounts: Any) -> None:
    in_utc = Period.parse("2026-11", zone="UTC")
    assert (in_utc.start, in_utc.end) == (utc("2026-11-01T00:00"), utc("2026-12-01T00:00"))
    jakarta = summary(posts, accounts, "2026-11")
    utc_rows = summary(posts, accounts, in_utc)
    # m2 (31 Oct 18:00 UTC) is November in Jakarta; b2 (30 Nov 18:00 UTC) is December there.
    assert jakarta.loc["mastodon", "posts"] == 3
    assert jakarta.loc["bluesky", "posts"] == 1
    assert utc_rows.loc["mastodon", "posts"] == 2
    assert utc_rows.loc["bluesky", "posts"] == 2
    assert utc_rows.attrs["zone"] == "UTC"


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("2026-11", "2026-10"),
        ("2026-01", "2025-12"),
        ("2026-03", "2026-02"),
        ("2026-W48", "2026-W47"),
        ("2026-W01", "2025-W52"),
        ("2027-W01", "2026-W53"),
        ("2026-Q1", "2025-Q4"),
        ("2026-Q3", "2026-Q2"),
        ("2026", "2025"),
        ("2026-03-01", "2026-02-28"),
        ("2026-11-01..2026-11-15", "2026-10-17..2026-10-31"),
    ],
)
def test_previous_period(text: str, previous: str) -> None:
    period = Period.parse(text)
    before = period.previous()
    assert before.label == previous
    assert before.end == period.start
    assert before == Period.parse(previous)


def test_previous_of_a_custom_period_has_the_same_length() -> None:
    period = Period(utc("2026-11-01T06:00"), utc("2026-11-01T18:00"), "afternoon")
    before = period.previous()
    assert (before.start, before.end) == (utc("2026-10-31T18:00"), utc("2026-11-01T06:00"))
    assert before.unit == "custom"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2026-13", "months 1 to 12"),
        ("2026-Q5", "quarters 1 to 4"),
        ("2025-W53", "2025 has no ISO week 53"),
        ("2026-02-30", "does not exist"),
        ("2026-11-15..2026-11-01", "after it ends"),
        ("Nov 2026", "cannot read period 'Nov 2026'"),
        ("", "cannot read period ''"),
        ("0000", "year 0"),
    ],
)
def test_bad_period_text_names_the_accepted_forms(text: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Period.parse(text)
    assert caught.value.field == "period"
    assert words in caught.value.message
    hint = caught.value.hint or ""
    for example in ("2026-11", "2026-W48", "2026-Q4", "2026-11-03", "2026-11-01..2026-11-15"):
        assert example in hint
    assert "2026-W48" in str(caught.value)


def test_bad_period_values() -> None:
    with pytest.raises(ConfigurationError, match="written as text") as caught:
        Period.parse(202611)  # type: ignore[arg-type]
    assert caught.value.field == "period"
    with pytest.raises(ConfigurationError) as zone_error:
        Period.parse("2026-11", zone="Asia/Djakarta")
    assert zone_error.value.field == "timezone"
    with pytest.raises(ConfigurationError, match="aware datetime"):
        Period(datetime(2026, 11, 1), utc("2026-11-02T00:00"), "naive")
    with pytest.raises(ConfigurationError, match="start before it ends"):
        Period(utc("2026-11-02T00:00"), utc("2026-11-01T00:00"), "backwards")
    with pytest.raises(ConfigurationError) as by_error:
        summary(empty_posts(), empty_accounts(), 202611)  # type: ignore[arg-type]
    assert by_error.value.field == "period"


# --- latest, engagement, engagement rate ---------------------------------------------------


def test_latest_keeps_the_newest_snapshot_of_each_post(posts: Any) -> None:
    newest = latest(posts)
    assert len(newest) == 7
    m1 = newest[newest["post_id"] == "m1"].iloc[0]
    assert m1["collected_at"] == utc("2026-11-10T00:00")
    check_row(m1, likes=10, reposts=2, replies=3, quotes=NAN, views=NAN)
    assert list(newest.columns)[: len(POST_COLUMNS)] == POST_COLUMNS


def test_engagement_leaves_missing_figures_out_and_is_nan_when_all_missing() -> None:
    frame = posts_frame(
        [
            post("x", "a", "1", "2026-11-02T00:00", "2026-11-03T00:00", likes=3, quotes=2),
            post("x", "a", "2", "2026-11-02T00:00", "2026-11-03T00:00"),
            post("x", "a", "3", "2026-11-02T00:00", "2026-11-03T00:00", likes=0, reposts=0),
            post("x", "a", "4", "2026-11-02T00:00", "2026-11-03T00:00", views=50),
        ]
    )
    values = list(engagement(frame))
    assert values[0] == 5
    assert math.isnan(values[1])
    assert values[2] == 0
    assert math.isnan(values[3])  # views are not engagement
    assert ENGAGEMENT_FIGURES == ("likes", "reposts", "replies", "quotes")


def test_engagement_rate_uses_followers_at_or_before_the_latest_collection(
    posts: Any, accounts: Any
) -> None:
    rated = engagement_rate(posts, accounts).set_index("post_id")
    check_row(rated.loc["m1"], engagement=15, followers=1100, engagement_rate=15 / 1100)
    check_row(rated.loc["m2"], engagement=5, followers=1000, engagement_rate=5 / 1000)
    # Collected exactly when the account snapshot was: "at or before" includes it.
    check_row(rated.loc["m0"], engagement=10, followers=900, engagement_rate=10 / 900)
    # The latest account snapshot does not report followers: the last known count is used.
    check_row(rated.loc["b2"], engagement=100, followers=500, engagement_rate=0.2)
    # No account snapshot at or before the collection.
    check_row(rated.loc["b0"], engagement=10, followers=NAN, engagement_rate=NAN)
    # No figures at all.
    check_row(rated.loc["d1"], engagement=NAN, followers=200, engagement_rate=NAN)


def test_engagement_rate_is_nan_with_zero_followers() -> None:
    frame = posts_frame([post("x", "a", "1", "2026-11-02T00:00", "2026-11-03T00:00", likes=4)])
    rated = engagement_rate(frame, accounts_frame([("x", "a", "2026-11-01T00:00", 0)]))
    check_row(rated.iloc[0], engagement=4, followers=0, engagement_rate=NAN)


# --- summary ---------------------------------------------------------------------------------


def test_summary_by_platform(posts: Any, accounts: Any) -> None:
    table = summary(posts, accounts, "2026-11")
    assert list(table.columns) == list(SUMMARY_COLUMNS)
    assert list(table.index) == ["bluesky", "mastodon"]
    assert table.index.name == "platform"
    assert table.attrs == {"period": "2026-11", "by": "platform", "zone": "Asia/Jakarta"}
    check_row(
        table.loc["mastodon"],
        posts=3,
        views=NAN,
        likes=14,
        reposts=2,
        replies=4,
        quotes=NAN,
        engagement=20,
        engagement_rate=20 / 2100,
        followers=1450,
        follower_growth=350,
        posts_per_week=3 / (30 / 7),
        posts_change=2.0,
        likes_change=0.75,
        engagement_change=1.0,
    )
    check_row(
        table.loc["bluesky"],
        posts=1,
        views=NAN,
        likes=20,
        reposts=5,
        replies=2,
        quotes=1,
        engagement=28,
        engagement_rate=28 / 500,
        followers=820,
        follower_growth=20,
        posts_per_week=1 / (30 / 7),
        posts_change=0.0,
        likes_change=1.0,
        engagement_change=1.8,
    )
    assert table["posts"].dtype == "int64"


def test_summary_by_account_includes_an_account_without_posts(posts: Any, accounts: Any) -> None:
    table = summary(posts, accounts, "2026-11", by="account")
    assert list(table.index) == ["dinkes-masto", "humas-bsky", "pemkot-bsky", "pemkot-masto"]
    check_row(
        table.loc["humas-bsky"],
        posts=0,
        likes=NAN,
        engagement=NAN,
        engagement_rate=NAN,
        followers=320,
        follower_growth=20,
        posts_per_week=0,
        posts_change=NAN,
        likes_change=NAN,
    )
    # The platform gave no figures for d1: missing, never 0.
    check_row(
        table.loc["dinkes-masto"],
        posts=1,
        views=NAN,
        likes=NAN,
        reposts=NAN,
        engagement=NAN,
        engagement_rate=NAN,
        followers=250,
        follower_growth=50,
        posts_change=NAN,
    )
    # No snapshot before November: growth unknown.
    check_row(table.loc["pemkot-bsky"], posts=1, followers=500, follower_growth=NAN)
    check_row(
        table.loc["pemkot-masto"],
        posts=2,
        likes=14,
        engagement=20,
        followers=1200,
        follower_growth=300,
        engagement_rate=20 / 2100,
        posts_change=1.0,
    )


def test_summary_by_label_explodes_labels(posts: Any, accounts: Any) -> None:
    table = summary(posts, accounts, Period.parse("2026-11"), by="label")
    assert list(table.index) == ["pimpinan: walikota", "program: vaksinasi", NO_LABEL]
    check_row(
        table.loc["pimpinan: walikota"],
        posts=2,
        likes=10,
        engagement=15,
        engagement_rate=15 / 1100,
        followers=NAN,
        follower_growth=NAN,
        posts_change=NAN,
    )
    check_row(
        table.loc["program: vaksinasi"],
        posts=2,
        likes=30,
        quotes=1,
        engagement=43,
        engagement_rate=43 / 1600,
        posts_change=1.0,
        likes_change=2.75,
        engagement_change=3.3,
    )
    check_row(
        table.loc[NO_LABEL],
        posts=1,
        likes=4,
        engagement=5,
        posts_change=0.0,
        likes_change=-0.6,
        engagement_change=-0.5,
    )


def test_summary_rejects_unknown_by(posts: Any, accounts: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        summary(posts, accounts, "2026-11", by="program")
    assert caught.value.field == "by"
    assert "platform, account, label" in (caught.value.hint or "")


def test_summary_rejects_frames_without_the_columns(accounts: Any) -> None:
    with pytest.raises(ConfigurationError, match="lacks the columns post_id") as caught:
        summary(pd.DataFrame({"platform": [], "account": []}), accounts, "2026-11")
    assert caught.value.field == "posts"
    with pytest.raises(ConfigurationError, match="must be a pandas DataFrame"):
        summary([], accounts, "2026-11")


@pytest.mark.parametrize("by", ["platform", "account", "label"])
def test_summary_of_empty_frames_is_empty(by: str) -> None:
    table = summary(empty_posts(), empty_accounts(), "2026-11", by=by)
    assert table.empty
    assert list(table.columns) == list(SUMMARY_COLUMNS)
    assert table.index.name == by


def test_summary_with_accounts_but_no_posts(accounts: Any) -> None:
    table = summary(empty_posts(), accounts, "2026-11", by="account")
    assert list(table["posts"]) == [0, 0, 0, 0]
    assert table["likes"].isna().all()
    assert list(table["followers"]) == [250, 320, 500, 1200]


# --- top posts, follower growth, cadence ---------------------------------------------------


def test_top_posts_sorted_descending_nan_last(posts: Any, accounts: Any) -> None:
    top = top_posts(posts, "2026-11")
    assert list(top["post_id"]) == ["b1", "m1", "m2", "d1"]
    assert list(top["engagement"])[:3] == [28, 15, 5]
    assert math.isnan(top["engagement"].iloc[3])
    assert list(top.columns) == [
        "platform",
        "account",
        "post_id",
        "url",
        "published_at",
        *FIGURES,
        "engagement",
    ]
    assert top["url"].iloc[0] == "https://bluesky.test/b1"
    assert list(top_posts(posts, "2026-11", n=2, by="likes")["post_id"]) == ["b1", "m1"]
    rated = top_posts(posts, "2026-11", by="engagement_rate", accounts=accounts)
    assert list(rated["post_id"]) == ["b1", "m1", "m2", "d1"]
    assert rated["engagement_rate"].iloc[0] == pytest.approx(0.056)


def test_top_posts_bad_input(posts: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        top_posts(posts, "2026-11", by="engagement_rate")
    assert caught.value.field == "by"
    with pytest.raises(ConfigurationError) as count:
        top_posts(posts, "2026-11", n=-1)
    assert count.value.field == "n"
    assert top_posts(empty_posts(), "2026-11").empty


def test_follower_growth(accounts: Any) -> None:
    growth = follower_growth(accounts, "2026-11").set_index("account")
    assert list(growth.columns) == ["platform", "start", "end", "change", "start_at", "end_at"]
    check_row(growth.loc["pemkot-masto"], start=900, end=1200, change=300)
    assert growth.loc["pemkot-masto", "start_at"] == utc("2026-10-25T00:00")
    assert growth.loc["pemkot-masto", "end_at"] == utc("2026-11-30T12:00")
    check_row(growth.loc["pemkot-bsky"], start=NAN, end=500, change=NAN)
    check_row(growth.loc["humas-bsky"], start=300, end=320, change=20)
    check_row(growth.loc["dinkes-masto"], start=200, end=250, change=50)
    october = follower_growth(accounts, "2026-10").set_index("account")
    assert list(october.index) == ["humas-bsky", "dinkes-masto", "pemkot-masto"]
    check_row(october.loc["humas-bsky"], start=NAN, end=300, change=NAN)
    assert follower_growth(empty_accounts(), "2026-11").empty


def test_cadence_counts_local_days_and_weeks(posts: Any) -> None:
    days = cadence(posts, "2026-11")
    assert len(days) == 30
    assert days.index[0] == date(2026, 11, 1)
    assert list(days.columns) == ["bluesky", "mastodon"]
    assert days.loc[date(2026, 11, 1), "mastodon"] == 1  # m2, in Jakarta time
    assert int(days.to_numpy().sum()) == 4
    weeks = cadence(posts, "2026-Q4")
    assert weeks.index.name == "week"
    assert weeks.index[0] == date(2026, 9, 28)
    assert int(weeks["mastodon"].sum()) == 4
    assert int(weeks["bluesky"].sum()) == 3  # b0, b1 and b2 (1 December in Jakarta)
    empty = cadence(empty_posts(), "2026-11")
    assert len(empty) == 30 and empty.columns.empty


# --- plots ---------------------------------------------------------------------------------


def test_plot_engagement(posts: Any, accounts: Any) -> None:
    figure = plot_engagement(summary(posts, accounts, "2026-11"))
    assert isinstance(figure, Figure)
    axes = figure.axes[0]
    assert axes.get_title() == "Engagement by platform, 2026-11"
    hatches = {patch.get_hatch() for patch in axes.patches}
    assert len(hatches) == len(ENGAGEMENT_FIGURES)  # apart in grayscale, not by colour alone
    assert [t.get_text() for t in axes.get_legend().get_texts()] == [
        "Likes",
        "Reposts",
        "Replies",
        "Quotes",
    ]
    png = figure_to_png(figure)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    empty = plot_engagement(summary(empty_posts(), empty_accounts(), "2026-11", by="label"))
    assert empty.axes[0].get_title() == "Engagement by label, 2026-11"
    with pytest.raises(ConfigurationError):
        plot_engagement(pd.DataFrame({"x": [1]}))


def test_plot_followers(accounts: Any) -> None:
    figure = plot_followers(accounts, "2026-11")
    axes = figure.axes[0]
    assert axes.get_title() == "Followers, 2026-11"
    lines = axes.get_lines()
    assert len(lines) == 4
    assert len({(line.get_marker(), line.get_linestyle()) for line in lines}) == 4
    pemkot = next(line for line in lines if line.get_label() == "pemkot-masto (mastodon)")
    assert list(pemkot.get_ydata()) == [900, 1000, 1100, 1200]  # baseline, then November
    assert figure_to_png(figure).startswith(b"\x89PNG")
    empty = plot_followers(empty_accounts(), "2026-11")
    assert empty.axes[0].get_title() == "Followers, 2026-11"
    assert figure_to_png(empty).startswith(b"\x89PNG")


def test_plot_cadence(posts: Any) -> None:
    figure = plot_cadence(posts, "2026-11")
    axes = figure.axes[0]
    assert axes.get_title() == "Posts per day, 2026-11"
    assert len(axes.patches) == 2 * 30
    weekly = plot_cadence(posts, "2026-Q4")
    assert weekly.axes[0].get_title() == "Posts per week, 2026-Q4"
    assert figure_to_png(weekly).startswith(b"\x89PNG")
    empty = plot_cadence(empty_posts(), "2026-11")
    assert empty.axes[0].get_title() == "Posts per day, 2026-11"
    assert figure_to_png(empty).startswith(b"\x89PNG")
