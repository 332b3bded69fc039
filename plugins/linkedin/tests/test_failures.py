"""Behaviour and failures against the LinkedIn emulator (real HTTP, faults injected).

Every test reads what the emulator STORED or RECEIVED. Tests that change an organization's
tokens use a fresh organization, so the session's Pages stay usable.
"""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import httpx
import pytest

from govsocial import Account, Client, Media, Post
from govsocial.client.validation import validate
from govsocial.core.errors import (
    AuthenticationError,
    PlatformError,
    PublishOutcomeUnknown,
    RateLimited,
    ValidationError,
)
from govsocial.testing import tiny_png, unique_text
from govsocial_linkedin import LinkedIn, from_little
from govsocial_linkedin.adapter import seconds_to_midnight_utc
from govsocial_linkedin.little import RESERVED
from govsocial_linkedin.testing import EmulatedLinkedIn, Org, little_plain, little_prefix

_numbers = itertools.count(30001)


@pytest.fixture
def client() -> Iterator[Client]:
    """httpx's own transport (its timeouts are exact at 1 s), few attempts."""
    with Client(
        transport=httpx.AsyncHTTPTransport(),
        timeout=httpx.Timeout(1.0),
        max_wait=5.0,
        max_attempts=3,
    ) as client:
        yield client


@pytest.fixture
def fresh(server: EmulatedLinkedIn) -> Org:
    """A new Page, with its own tokens."""
    number = next(_numbers)
    return server.emulator.add_org(number, f"Kelurahan {number}", followers=3)


def texts(server: EmulatedLinkedIn, org: Org) -> list[str]:
    return [little_plain(p["commentary"]) for p in server.emulator.posts_of(org.urn)]


def creates(server: EmulatedLinkedIn) -> list[dict[str, object]]:
    return [
        r for r in server.emulator.requests if r["method"] == "POST" and r["path"] == "/rest/posts"
    ]


# -- what goes over the wire ------------------------------------------------------------------


def test_every_api_request_carries_the_version_headers_and_encoded_urns(
    server: EmulatedLinkedIn, client: Client
) -> None:
    kominfo, warga = server.accounts
    ref = client.publish_one(
        Post(unique_text("Peta #Vaksin"), media=[Media(data=tiny_png(), alt_text="Peta")]),
        kominfo,
    ).ref
    assert ref is not None
    comment = client.reply(ref.model_copy(update={"account": warga}), "Buka Sabtu?")
    client.reply(comment.model_copy(update={"account": kominfo}), "Ya")
    client.fetch_metrics([ref])
    client.fetch_account_metrics(kominfo)
    client.fetch_replies(ref)
    client.fetch_mentions(kominfo)
    client.delete(ref)
    api = server.emulator.api_requests()
    paths = {r["path"].split("?")[0].split("/")[2] for r in api}
    assert {"posts", "images", "socialActions", "networkSizes"} <= paths
    assert {"organizationalEntityShareStatistics", "organizationalEntityNotifications"} <= paths
    for request in api:
        assert request["headers"]["linkedin-version"] == LinkedIn.api_version, request["path"]
        assert request["headers"]["x-restli-protocol-version"] == "2.0.0", request["path"]
        assert "/urn:li:" not in request["path"], "URNs in paths must be URL-encoded"
    [upload] = [r for r in server.emulator.requests if r["path"].startswith("/dms-uploads/")]
    assert upload["method"] == "PUT"
    assert "linkedin-version" not in upload["headers"]  # not an API call: the upload URL
    assert upload["headers"]["authorization"] == f"Bearer {server.kominfo.token}"


def test_every_reserved_character_is_escaped_and_round_trips(
    server: EmulatedLinkedIn, client: Client
) -> None:
    """https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format"""
    text = unique_text(
        "Info (penting) [1] {jadwal} <b> @warga a|b *tebal* _miring_ ~coret~ C# #1 \\ akhir "
        "#VaksinGratis"
    )
    ref = client.publish_one(Post(text), server.accounts[0]).ref
    assert ref is not None
    stored = server.emulator.posts[ref.id]
    sent = stored["sent_commentary"]
    assert stored["commentary"] == sent, "LinkedIn would have cut the post"
    assert sent.count("{hashtag|\\#|VaksinGratis}") == 1  # rendered as a hashtag
    body = sent.replace("{hashtag|\\#|VaksinGratis}", "")
    for position, char in enumerate(body):  # every reserved character is preceded by "\"
        if char in RESERVED and (position == 0 or body[position - 1] != "\\"):
            assert char == "\\" and body[position + 1] in RESERVED, body[position:]
    assert little_plain(stored["commentary"]) == text
    assert from_little(stored["commentary"]) == text


def test_the_emulator_cuts_unescaped_commentary_as_linkedin_does() -> None:
    """The check above can fail: raw text is cut at its first reserved character."""
    assert little_prefix("Jadwal (Senin) buka") == "Jadwal "
    assert little_prefix("Halo #warga, cek {hashtag|\\#|info} \\(ok\\)") == (
        "Halo #warga, cek {hashtag|\\#|info} \\(ok\\)"
    )


def test_a_video_goes_in_parts_and_a_cut_part_is_sent_again_alone(
    server: EmulatedLinkedIn, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/videos-api:
    initializeUpload gives one URL per part; each PUT answers an ETag; finalizeUpload names
    them in order. A part answered 500 is sent again once; the parts before it are not."""
    pytest.importorskip("av")
    from govsocial.testing.video import make_video

    monkeypatch.setattr(server.emulator, "video_part_size", 256 * 1024)
    video = make_video(width=64, height=64, seconds=4) + bytes(800 * 1024)  # four parts
    from govsocial_linkedin import adapter as linkedin_adapter

    monkeypatch.setattr(linkedin_adapter._VideoParts, "chunk_size", 256 * 1024)
    server.emulator.inject("PUT", "/dms-uploads/video/", status=500)  # the first part, once
    ref = client.publish_one(
        Post(unique_text("Video"), media=[Media(data=video)]), server.accounts[0]
    ).ref
    assert ref is not None
    stored = server.stored_post(ref)
    assert stored is not None and server.stored_media_kinds(stored) == ["video"]
    held = server.emulator.videos[stored["content"]["media"]["id"]]
    assert held["status"] == "AVAILABLE" and held["bytes"] == video
    puts = [r["path"] for r in server.emulator.requests if r["method"] == "PUT"]
    parts = -(-len(video) // (256 * 1024))
    assert parts == 4
    assert [p.rsplit("/", 1)[1] for p in puts] == ["0", *map(str, range(parts))]


def test_a_video_upload_address_on_another_host_gets_no_bytes_and_no_token(
    server: EmulatedLinkedIn, client: Client
) -> None:
    """An initializeUpload answer (a proxy, a compromised gateway) naming an upload URL on an
    attacker's host: nothing is PUT there, and the post is not made."""
    pytest.importorskip("av")
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from govsocial.testing.video import make_video

    hits: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            hits.append(self.headers.get("Authorization", ""))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    evil = HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        # localhost reaches the recorder, but is not the API's host (127.0.0.1)
        url = f"http://localhost:{evil.server_port}/steal"
        server.emulator.inject(
            "POST",
            "/rest/videos",
            status=200,
            body={
                "value": {
                    "video": "urn:li:video:C5505AQevil",
                    "uploadToken": "",
                    "uploadInstructions": [{"uploadUrl": url, "firstByte": 0, "lastByte": 9}],
                }
            },
        )
        video = Media(data=make_video(width=64, height=64, seconds=4))
        result = client.publish_one(Post(unique_text("Video"), media=[video]), server.accounts[0])
    finally:
        evil.shutdown()
        evil.server_close()
    assert not result.ok and "unexpected host" in str(result.error)
    assert hits == []
    assert not [r for r in server.emulator.requests if r["path"] == "/rest/posts"]


def test_a_multi_image_post_keeps_each_alt_text(server: EmulatedLinkedIn, client: Client) -> None:
    """https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api"""
    alts = ["Peta kecamatan utara", "Peta kecamatan selatan"]
    post = Post(unique_text(), media=[Media(data=tiny_png(), alt_text=alt) for alt in alts])
    ref = client.publish_one(post, server.accounts[0]).ref
    assert ref is not None
    stored = server.stored_post(ref)
    assert stored is not None and "multiImage" in stored["content"]
    assert server.stored_alt_texts(stored) == alts
    for image in stored["content"]["multiImage"]["images"]:
        assert server.emulator.images[image["id"]]["bytes"] == tiny_png()


def test_a_reply_to_a_nested_comment_joins_its_top_level_comment(
    server: EmulatedLinkedIn, client: Client
) -> None:
    """https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api"""
    kominfo, warga = server.accounts
    ref = client.publish_one(Post(unique_text()), kominfo).ref
    assert ref is not None
    question = client.reply(ref.model_copy(update={"account": warga}), "Pertanyaan")
    answer = client.reply(question.model_copy(update={"account": kominfo}), "Jawaban")
    again = client.reply(answer.model_copy(update={"account": warga}), "Terima kasih")
    stored = server.emulator.comments
    assert stored[answer.id]["parentComment"] == question.id
    assert stored[again.id]["parentComment"] == question.id
    replies = client.fetch_replies(ref)
    assert [r.text for r in replies] == ["Pertanyaan", "Jawaban", "Terima kasih"]
    assert [r.in_reply_to_id for r in replies] == [ref.id, question.id, question.id]
    client.delete(answer.model_copy(update={"account": kominfo}))
    assert answer.id not in server.emulator.comments


def test_mentions_since_leave_out_older_ones(server: EmulatedLinkedIn, client: Client) -> None:
    kominfo, warga = server.accounts
    first = f"{server.mention(kominfo)} {unique_text('lama')}"
    client.publish_one(Post(first), warga)
    [older] = [m for m in client.fetch_mentions(kominfo) if first.split(" ", 1)[1] in m.text]
    assert older.text == "@DinasKominfo " + first.split(" ", 1)[1]
    assert older.author == server.warga.urn
    second = f"{server.mention(kominfo)} {unique_text('baru')}"
    client.publish_one(Post(second), warga)
    newer = client.fetch_mentions(kominfo, since=older.created_at)
    assert first.split(" ", 1)[1] not in " ".join(m.text for m in newer)


# -- throttling, outages, timeouts ------------------------------------------------------------


def test_a_429_is_the_daily_limit_and_fails_fast_until_midnight_utc(
    server: EmulatedLinkedIn, client: Client, fresh: Org
) -> None:
    """https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits :
    429, no rate-limit headers, limits reset at midnight UTC."""
    if seconds_to_midnight_utc() < 60:
        pytest.skip("too close to midnight UTC: the wait would be within max_wait")
    server.emulator.inject(
        "POST",
        "/rest/posts",
        status=429,
        count=None,
        body={
            "status": 429,
            "message": "Resource level throttle limit for calls to this resource is reached.",
        },
    )
    result = client.publish_one(Post(unique_text()), server.account(fresh))
    error = result.error
    assert isinstance(error, RateLimited)
    assert error.retry_after is not None
    assert abs(error.retry_after - seconds_to_midnight_utc()) < 30
    assert error.retry_after > 5.0  # above max_wait: no sleeping
    assert "midnight UTC" in str(error) and "throttle limit" in str(error)
    assert len(creates(server)) == 1, "a daily limit is not retried"
    assert texts(server, fresh) == []


def test_a_503_is_retried_and_one_post_is_stored(
    server: EmulatedLinkedIn, client: Client, fresh: Org
) -> None:
    server.emulator.inject(
        "POST",
        "/rest/posts",
        status=503,
        count=1,
        body={"status": 503, "message": "Service Unavailable"},
    )
    text = unique_text("Jadwal posyandu")
    result = client.publish_one(Post(text), server.account(fresh))
    assert result.ok, result.error
    assert len(creates(server)) == 2
    assert texts(server, fresh) == [text]


def test_a_timeout_after_the_create_was_sent_is_an_unknown_outcome_never_resent(
    server: EmulatedLinkedIn, client: Client, fresh: Org
) -> None:
    server.emulator.inject("POST", "/rest/posts", delay_after=2.5)
    text = unique_text("Pengumuman")
    result = client.publish_one(Post(text), server.account(fresh), idempotency_key="umum-1")
    assert isinstance(result.error, PublishOutcomeUnknown)
    assert result.error.idempotency_key == "umum-1"
    assert len(creates(server)) == 1, "a create that may have arrived is never resent"
    assert texts(server, fresh) == [text]  # it did arrive: reconcile, do not resend


def test_a_repeat_of_the_same_text_is_a_clear_duplicate_error(
    server: EmulatedLinkedIn, client: Client, fresh: Org
) -> None:
    text = unique_text("Sama")
    assert client.publish_one(Post(text), server.account(fresh)).ok
    again = client.publish_one(Post(text), server.account(fresh))
    assert isinstance(again.error, PlatformError)
    assert again.error.status == 422
    assert "same content already exists" in str(again.error)
    assert "DUPLICATE_POST" in str(again.error)
    assert texts(server, fresh) == [text]


def test_an_inactive_version_names_the_pinned_one_and_the_fix(
    server: EmulatedLinkedIn, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LinkedIn, "api_version", "202301")
    with pytest.raises(PlatformError) as raised:
        client.fetch_account_metrics(server.accounts[0])
    assert raised.value.status == 426
    assert "202301" in str(raised.value) and "upgrade govsocial-linkedin" in str(raised.value)


def test_the_emulator_refuses_a_request_without_a_version(server: EmulatedLinkedIn) -> None:
    """Sent with urllib: httpx traffic is held to carry the version (conftest.py)."""
    asked = urllib.request.Request(
        f"{server.base_url}/rest/networkSizes/urn%3Ali%3Aorganization%3A1001"
        "?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
        headers={
            "Authorization": f"Bearer {server.kominfo.token}",
            "X-Restli-Protocol-Version": "2.0.0",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(asked, timeout=5)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["code"] == "VERSION_MISSING"


# -- tokens -----------------------------------------------------------------------------------


def test_an_expired_token_is_refreshed_once_stored_and_used(
    server: EmulatedLinkedIn, fresh: Org
) -> None:
    """https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens"""
    stored: list[dict[str, str]] = []
    server.emulator.expire(fresh.token)
    account = server.account(fresh)
    with Client(
        transport=httpx.AsyncHTTPTransport(),
        on_credentials=lambda _account, values: stored.append(values),
    ) as client:
        results = client.publish(Post(unique_text()), [account])
        second = client.publish_one(Post(unique_text()), account)
    assert results[0].ok, results[0].error
    assert second.ok, second.error
    [values] = stored
    new_token = values["access_token"]
    assert new_token != fresh.token and server.emulator.tokens[new_token] == fresh.urn
    assert "refresh_token" not in values  # LinkedIn did not rotate it
    refreshes = [r for r in server.emulator.requests if r["path"] == "/oauth/v2/accessToken"]
    assert len(refreshes) == 1
    assert "linkedin-version" not in refreshes[0]["headers"]
    sent = [r["headers"]["authorization"] for r in creates(server)]
    assert sent == [f"Bearer {fresh.token}", f"Bearer {new_token}", f"Bearer {new_token}"]
    assert len(server.emulator.posts_of(fresh.urn)) == 2


def test_a_scheduled_refresh_renews_the_token_before_it_fails(
    server: EmulatedLinkedIn, fresh: Org
) -> None:
    """https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens"""
    stored: list[dict[str, str]] = []
    account = server.account(fresh)
    with Client(
        transport=httpx.AsyncHTTPTransport(),
        on_credentials=lambda _account, values: stored.append(values),
    ) as client:
        assert client.refresh_credentials(account) is True
        result = client.publish_one(Post(unique_text()), account)
    assert result.ok, result.error
    [values] = stored
    assert server.emulator.tokens[values["access_token"]] == fresh.urn
    sent = [r["headers"]["authorization"] for r in creates(server)]
    assert sent == [f"Bearer {values['access_token']}"]


def test_an_expired_token_without_refresh_says_to_reauthorise(
    server: EmulatedLinkedIn, client: Client, fresh: Org
) -> None:
    server.emulator.expire(fresh.token)
    account = Account(
        platform="linkedin",
        handle=fresh.name,
        base_url=server.base_url,
        credentials={"organization": fresh.urn, "access_token": fresh.token},
    )
    result = client.publish_one(Post(unique_text()), account)
    error = result.error
    assert isinstance(error, AuthenticationError)
    assert "expired" in str(error) and "re-authorise" in str(error)
    assert "w_organization_social" in str(error)
    assert fresh.token not in str(error) and fresh.token not in repr(result)
    assert texts(server, fresh) == []


def test_a_rejected_refresh_token_is_an_authentication_error(
    server: EmulatedLinkedIn, client: Client, fresh: Org
) -> None:
    server.emulator.expire(fresh.token)
    bad = "AQW-revoked-refresh-token"
    result = client.publish_one(Post(unique_text()), server.account(fresh, refresh_token=bad))
    error = result.error
    assert isinstance(error, AuthenticationError)
    assert "refresh token" in str(error) and "re-authorise" in str(error)
    assert bad not in str(error) and fresh.client_secret not in str(error)
    assert texts(server, fresh) == []


# -- malformed answers ------------------------------------------------------------------------


def test_a_create_answer_without_x_restli_id_is_a_clear_error(
    server: EmulatedLinkedIn, client: Client, fresh: Org
) -> None:
    server.emulator.inject("POST", "/rest/posts", status=201, body={})
    result = client.publish_one(Post(unique_text()), server.account(fresh))
    assert isinstance(result.error, PlatformError)
    assert "x-restli-id" in str(result.error) and "check the Page" in str(result.error)


def test_a_malformed_statistics_answer_is_a_platform_error(
    server: EmulatedLinkedIn, client: Client
) -> None:
    ref = client.publish_one(Post(unique_text()), server.accounts[0]).ref
    assert ref is not None
    server.emulator.inject(
        "GET", "/rest/organizationalEntityShareStatistics", status=200, raw='{"elements": ['
    )
    with pytest.raises(PlatformError) as raised:
        client.fetch_metrics([ref])
    assert "not the JSON expected" in str(raised.value)
    assert not isinstance(raised.value, ValueError)


def test_an_image_is_uploaded_once_per_delivery_even_when_the_create_fails(
    server: EmulatedLinkedIn, client: Client, fresh: Org
) -> None:
    server.emulator.inject(
        "POST", "/rest/posts", status=500, body={"status": 500, "message": "Internal Server Error"}
    )
    post = Post(unique_text(), media=[Media(data=tiny_png(), alt_text="Denah")])
    account = server.account(fresh)
    failed = client.publish_one(post, account, idempotency_key="denah-1")
    assert isinstance(failed.error, PlatformError) and failed.error.status == 500
    done = client.publish_one(post, account, idempotency_key="denah-1")
    assert done.ok, done.error
    uploads = [r for r in server.emulator.requests if r["path"].startswith("/rest/images")]
    assert len(uploads) == 1, "the checkpointed image was uploaded again"


def test_the_default_transport_keeps_urns_encoded(server: EmulatedLinkedIn) -> None:
    with Client(max_wait=5.0) as client:
        ref = client.publish_one(Post(unique_text()), server.accounts[0]).ref
        assert ref is not None
        client.delete(ref)
    assert ref.id not in server.emulator.posts


# -- comments and duplicates -----------------------------------------------------------------


def comments(server: EmulatedLinkedIn) -> list[dict[str, object]]:
    return [
        r
        for r in server.emulator.requests
        if r["method"] == "POST" and str(r["path"]).endswith("/comments")
    ]


def test_a_reply_over_1250_characters_is_refused_offline_and_never_sent(
    server: EmulatedLinkedIn, client: Client, fresh: Org
) -> None:
    """A reply is a comment, and comments take 1,250 characters (posts 3,000)."""
    account = server.account(fresh)
    post = client.publish_one(Post(unique_text("Info")), account)
    assert post.ok and post.ref is not None
    too_long = Post("a" * 1251, reply_to=post.ref)
    problems = validate(too_long, "linkedin")
    assert [(p.code, p.limit, p.field) for p in problems] == [("reply_too_long", 1250, "text")]
    assert "1,250" in problems[0].message and "comments-api" in problems[0].message
    before = len(comments(server))
    result = client.publish_one(too_long, account)
    assert isinstance(result.error, ValidationError)
    assert len(comments(server)) == before, "nothing was sent"
    fits = client.publish_one(Post("b" * 1250, reply_to=post.ref), account)
    assert fits.ok, fits.error
    assert validate(Post("c" * 3000), "linkedin") == []  # a post still takes 3,000


def test_a_lost_create_answer_is_recovered_from_duplicate_post_exactly_once(
    server: EmulatedLinkedIn, fresh: Org
) -> None:
    """The create reached LinkedIn but its answer was lost; the next attempt of the SAME
    delivery is refused as DUPLICATE_POST naming the post, which is then returned: one post."""
    server.emulator.inject("POST", "/rest/posts", delay_after=2.5)
    text = unique_text("Pengumuman banjir")
    account = server.account(fresh)
    with Client(
        transport=httpx.AsyncHTTPTransport(), timeout=httpx.Timeout(1.0), max_wait=5.0
    ) as client:
        first = client.publish_one(Post(text), account, idempotency_key="banjir-7")
        assert isinstance(first.error, PublishOutcomeUnknown)
        again = client.publish_one(Post(text), account, idempotency_key="banjir-7")
        assert again.ok, again.error
        found = client.find_published(account, "banjir-7")
        other = client.publish_one(Post(text), account, idempotency_key="another-delivery")
    [stored] = server.emulator.posts_of(fresh.urn)
    assert again.ref is not None and again.ref.id == stored["id"]
    assert found is not None and found.id == stored["id"]
    assert len(creates(server)) == 3  # the lost one, the refused repeat, the other delivery
    # another delivery with the same text is not taken for this one: an error naming the post
    assert isinstance(other.error, PlatformError)
    assert stored["id"] in str(other.error) and "same content already exists" in str(other.error)


def test_check_reads_the_scopes_by_token_introspection(
    server: EmulatedLinkedIn, client: Client, fresh: Org
) -> None:
    account = server.account(fresh)
    found = client.check(account)
    assert found.token_ok
    assert found.scopes == [
        "r_organization_social",
        "rw_organization_admin",
        "w_organization_social",
    ]
    assert found.expires_at is not None
    assert all(c.ok for c in found.capabilities)
    assert found.calls[-1] == "POST /oauth/v2/introspectToken"
    server.emulator.scopes[fresh.token] = ["r_organization_social"]
    narrow = client.check(account)
    assert [c.name for c in narrow.missing] == ["post", "reply", "delete", "metrics"]
    post = narrow.capability("post")
    assert post is not None and "w_organization_social" in post.detail
    assert texts(server, fresh) == []  # a check posts nothing
    dumped = narrow.model_dump_json()
    assert fresh.token not in dumped and fresh.client_secret not in dumped
