"""What the fuzz suite found, pinned: one test per bug, each with the input that broke it.

Each test states the property the fuzzer checks, over a small strategy, and pins with
``@example`` the input the fuzzer found, so the bug cannot come back unnoticed even in a run
whose random examples miss it. docs/security.md lists them (the fuzz suite's table).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from govsocial import ConfigurationError, GovSocialError

PINNED = settings(max_examples=25, database=None, deadline=None, derandomize=True)
# -- a time at either end of the calendar: OverflowError from the zone arithmetic ----------


@PINNED
@given(start=st.datetimes(timezones=st.just(UTC)), zone=st.sampled_from(["Asia/Jakarta", "UTC"]))
@example(start=datetime(1, 1, 1, tzinfo=UTC), zone="Asia/Jakarta")
@example(start=datetime(9999, 12, 31, 23, 59, tzinfo=UTC), zone="Asia/Jakarta")
def test_a_recurrence_starting_at_the_ends_of_the_calendar_is_refused(
    start: datetime, zone: str
) -> None:
    from govsocial.core.timing import YEARS, Recurrence

    try:
        rule = Recurrence.parse("FREQ=DAILY;COUNT=2", zone=zone, start=start)
    except ConfigurationError as error:
        assert error.field == "at" and not YEARS[0] <= start.year <= YEARS[1]
    else:
        assert rule.first is not None


@PINNED
@given(at=st.sampled_from(["0001-01-01T00:00-12:00", "9999-12-31T23:59+14:00", "0001-01-01T00:00"]))
@example(at="0001-01-01T00:00-12:00")
@example(at="9999-12-31T23:59+14:00")
@example(at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
def test_a_time_at_the_ends_of_the_calendar_is_a_configuration_error(at: str | datetime) -> None:
    from govsocial.core.timing import parse_when

    with pytest.raises(ConfigurationError, match="outside the years") as error:
        parse_when(at, zone="Asia/Jakarta", now=datetime.now(UTC))
    assert error.value.field == "at"


# -- validate(): an attached path that is a folder raised IsADirectoryError ----------------


@PINNED
@given(name=st.sampled_from(["folder", "folder/", "."]))
@example(name="folder")
def test_validate_reports_a_folder_attached_as_media(
    name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from govsocial import Media, Post, validate

    root = tmp_path_factory.getbasetemp()
    (root / "folder").mkdir(exist_ok=True)
    post = Post("Poster", media=[Media(path=root / name, alt_text="poster", mime_type="image/png")])
    problems = validate(post, "mastodon")
    assert "unreadable_media" in {p.code for p in problems}


# -- the accounts file: arrays or tables nested past the recursion limit --------------------


@PINNED
@given(depth=st.integers(1, 3_000), shape=st.sampled_from([("[", "]"), ("{ b = ", " }")]))
@example(depth=100_000, shape=("[", "]"))
@example(depth=100_000, shape=("{ b = ", " }"))
def test_an_accounts_file_nested_too_deeply_is_one_line_error(
    depth: int, shape: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from govsocial.client.accounts_file import load_accounts

    path = tmp_path_factory.mktemp("nested") / "accounts.toml"
    opening, closing = shape
    path.write_text("a = " + opening * depth + closing * depth, encoding="utf-8")
    with pytest.raises(ConfigurationError) as error:
        load_accounts(path)
    assert "\n" not in str(error.value)
    if depth > 10_000:  # past the recursion limit: named as such, not a RecursionError
        assert error.value.field == "accounts" and "too deeply" in str(error.value)


# -- archive export into a path that is a file: FileExistsError, after the audit entry ------


@PINNED
@given(kind=st.sampled_from(["file", "file/below"]))
@example(kind="file")
def test_an_archive_into_a_file_is_refused_and_not_audited(
    kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from govsocial.app import Workspace

    root = tmp_path_factory.mktemp("archive")
    (root / "file").write_text("not a folder", encoding="utf-8")
    with Workspace.open(str(root / "ws.db")) as ws:
        before = len(ws.audit_log())
        with pytest.raises(ConfigurationError) as error:
            ws.export_archive(root / kind)
        assert error.value.field == "directory"
        assert len(ws.audit_log()) == before, "an export that was not written is not audited"


# -- a platform answer nested past the recursion limit: RecursionError from every adapter ---


def _deep(depth: int) -> bytes:
    return b'{"data": ' + b"[" * depth + b"0" + b"]" * depth + b"}"


@PINNED
@given(depth=st.integers(0, 3_000), status=st.sampled_from([200, 400, 401, 500]))
@example(depth=100_000, status=200)
@example(depth=100_000, status=400)
def test_sdk_readers_take_json_nested_past_the_recursion_limit(depth: int, status: int) -> None:
    import httpx

    from govsocial.adapters import Platform, json_object, read_json

    response = httpx.Response(status, content=_deep(depth))
    try:
        body = read_json(response)
    except ValueError:
        assert depth > 500 and json_object(response) is None
    else:
        assert json_object(response) == body
    assert isinstance(Platform.error_message(response), str)


@pytest.mark.parametrize(
    "name", ["bluesky", "facebook", "instagram", "linkedin", "mastodon", "telegram", "threads", "x"]
)
def test_every_adapter_reads_an_error_answer_nested_too_deeply(name: str) -> None:
    import httpx

    from govsocial import platforms

    response = httpx.Response(400, content=_deep(100_000))
    cls = platforms()[name]
    assert isinstance(cls.error_message(response), str)


# -- a request that cannot be built: httpx.InvalidURL or UnicodeEncodeError escaped ----------


@PINNED
@given(
    ref_id=st.one_of(st.just("x" * 70_000), st.text(max_size=20)),
    token=st.one_of(st.just("token"), st.text(min_size=1, max_size=10)),
)
@example(ref_id="x" * 70_000, token="token")
@example(ref_id="1", token="t\u00f6ken")
def test_a_request_that_cannot_be_built_is_a_configuration_error(ref_id: str, token: str) -> None:
    import asyncio

    import httpx

    from govsocial import Account, PostRef, platforms
    from govsocial.adapters import AdapterContext, Http

    sent: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    account = Account(
        platform="mastodon",
        handle="@humas",
        base_url="https://social.example.go.id",
        credentials={"access_token": token},
    )

    async def delete() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
            adapter = platforms()["mastodon"](account, AdapterContext(http=Http(client)))
            await adapter.delete(PostRef(platform="mastodon", account=account, id=ref_id))

    try:
        asyncio.run(delete())
    except ConfigurationError as error:
        # an empty id is refused as the id; any other id that cannot be sent, as the request
        assert not sent and error.field == ("id" if not ref_id else "request")
        # a token of a character or two can be in any message ("@" in "@humas"); a real
        # one, never
        assert len(token) < 4 or token not in str(error)
    except GovSocialError:
        pass  # the fake server's answer, when the request could be sent


# -- Bluesky: a reference that is not an at:// URI (ValueError); a session answer that is
#    not an object (AttributeError); a token's expiry past any float (OverflowError) --------


@PINNED
@given(ref_id=st.one_of(st.sampled_from(["1", "", "at://did/x"]), st.text(max_size=20)))
@example(ref_id="1")
def test_bluesky_refuses_a_reference_that_is_not_its_own(ref_id: str) -> None:
    from govsocial import ValidationError

    aturi = pytest.importorskip("govsocial_bluesky.aturi")
    try:
        parsed = aturi.AtUri.parse(ref_id)
    except ValidationError as error:
        assert error.problems[0].code == "invalid_ref" and error.field == "ref.id"
    else:
        assert str(parsed) == ref_id


@PINNED
@given(body=st.one_of(st.none(), st.lists(st.integers()), st.integers(), st.text(max_size=5)))
@example(body=None)
def test_bluesky_a_session_answer_that_is_not_an_object_is_no_session(body: object) -> None:
    session = pytest.importorskip("govsocial_bluesky.session")
    with pytest.raises(ValueError, match="not a JSON object"):
        session.Session.from_answer(body)


@PINNED
@given(exp=st.one_of(st.integers(), st.floats(allow_nan=False)))
@example(exp=10**400)
def test_bluesky_a_token_expiry_past_any_float_is_no_expiry(exp: float) -> None:
    import base64
    import json

    session = pytest.importorskip("govsocial_bluesky.session")
    claims = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    found = session.jwt_expiry(f"e30.{claims}.sig")
    assert found is None or found == float(exp)


@example(depth=100_000)
@PINNED
@given(depth=st.integers(0, 3_000))
def test_bluesky_a_token_nested_past_the_recursion_limit_is_no_expiry(depth: int) -> None:
    import base64

    session = pytest.importorskip("govsocial_bluesky.session")
    payload = b"[" * depth + b"]" * depth
    claims = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    assert session.jwt_expiry(f"e30.{claims}.sig") is None


# -- a reference id holding "://" made the adapter's path a relative "URL" (ValueError) ------


@PINNED
@given(ref_id=st.sampled_from(["at://did:plc:abc/app.bsky.feed.post/3k", "a://b", "1"]))
@example(ref_id="at://did:plc:abc/app.bsky.feed.post/3k")
def test_an_id_holding_a_scheme_stays_under_the_base_url(ref_id: str) -> None:
    import asyncio
    import contextlib

    import httpx

    from govsocial import Account, PostRef, platforms
    from govsocial.adapters import AdapterContext, Http

    seen: list[httpx.URL] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={})

    account = Account(
        platform="facebook",
        handle="@humas",
        credentials={"page_id": "123", "page_access_token": "page-token-123456"},
    )

    async def metrics() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
            adapter = platforms()["facebook"](account, AdapterContext(http=Http(client)))
            await adapter.fetch_metrics([PostRef(platform="facebook", account=account, id=ref_id)])

    # the empty answer may not satisfy the adapter: where it asked is the point
    with contextlib.suppress(GovSocialError):
        asyncio.run(metrics())
    assert seen and all(url.host == "graph.facebook.com" for url in seen)


# -- a key holding a line break (an unknown field, a label's name) split the error in two ---


@PINNED
@given(key=st.text(min_size=1, max_size=8))
@example(key="\n\r\n\t\x0b\x0c")
@example(key="a\nb")
def test_a_field_name_from_the_input_keeps_the_error_on_one_line(
    key: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import json

    from govsocial import Post, ValidationError
    from govsocial.client.accounts_file import load_accounts

    with pytest.raises(ValidationError) as refused:
        Post("Halo", labels={key: 1})
    assert "\n" not in str(refused.value)
    path = tmp_path_factory.mktemp("accounts") / "accounts.toml"
    path.write_text(f"[humas]\n{json.dumps(key)} = 1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as error:
        load_accounts(path)
    assert "\n" not in str(error.value)


# -- Media(path="\x00"): built, then size() raised "ValueError: embedded null byte" ----------


@PINNED
@given(path=st.text(max_size=8).map(lambda t: t + "\x00" + t))
@example(path="\x00")
def test_a_media_path_holding_nul_is_refused(path: str) -> None:
    from govsocial import Media, ValidationError

    with pytest.raises(ValidationError) as error:
        Media(path=path, alt_text="poster")
    assert error.value.problems[0].code in ("path_nul", "lone_surrogate")


@PINNED
@given(path=st.text(max_size=8).map(lambda t: t + "\ud800"))
@example(path="\ud800")
def test_a_media_path_no_file_system_can_encode_is_refused(path: str) -> None:
    from govsocial import Media, ValidationError

    with pytest.raises(ValidationError) as error:
        Media(path=path, alt_text="poster")
    assert error.value.problems[0].code in ("path_nul", "lone_surrogate")


def test_a_file_name_that_is_not_utf8_is_still_a_path() -> None:
    """``\\udcff`` is how Python spells the byte 0xff of a file name that is not UTF-8."""
    from govsocial import Media

    assert Media(path="poster-\udcff.png", alt_text="poster").size() is None


# -- an actor named with a lone surrogate: recording the refusal raised UnicodeEncodeError ---


@PINNED
@given(by=st.text(max_size=6).map(lambda t: t + "\ud800"))
@example(by="\ud800")
def test_a_refused_actor_with_a_lone_surrogate_is_recorded_not_raised(
    by: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from datetime import timedelta

    from govsocial import Account, NotPermitted, Post
    from govsocial.app import Workspace

    with Workspace.open(str(tmp_path_factory.mktemp("ws") / "ws.db")) as ws:
        account = Account(
            platform="mastodon",
            handle="@humas",
            base_url="https://social.example.go.id",
            credentials={"access_token": "env:HUMAS_FUZZ_TOKEN"},
        )
        ws.add_account("humas", account)
        ws.add_person("budi", name="Budi")
        ws.appoint("budi", accounts=["humas"], role="admin", decree="SK-1", valid_from="2020-01-01")
        with pytest.raises(NotPermitted):
            ws.schedule(Post("Halo"), ["humas"], at=datetime.now(UTC) + timedelta(days=1), by=by)
        assert not ws.jobs()
        [refusal] = [e for e in ws.audit_log() if e.action.startswith("refused:")]
        assert refusal.actor == by.replace("\ud800", "\ufffd")
        assert ws.verify_audit() > 0


# -- `keys new` with a NUL in the name: os.open raised ValueError (found when the CLI grew) ---


def test_a_signing_key_file_name_with_a_nul_is_a_configuration_error(tmp_path: Path) -> None:
    from govsocial.workspace.signing import SigningKey

    with pytest.raises(ConfigurationError) as refused:
        SigningKey.generate().save(tmp_path / "a\x00.key")
    assert refused.value.field == "key" and "\x00" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []
