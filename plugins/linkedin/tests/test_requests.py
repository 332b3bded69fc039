"""Request and response shapes, against respx stand-ins built from LinkedIn's documented examples.

Each test names the learn.microsoft.com page its requests and fake answers follow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from govsocial import Account, AsyncClient, Media, Post, PostRef
from govsocial_linkedin import LinkedIn
from govsocial_linkedin.adapter import seconds_to_midnight_utc

pytestmark = pytest.mark.anyio

API = "https://api.linkedin.com"
TOKEN = "AQXdSP_W41_UPs5ioT_t8HESyODB4FqbkJ8LrV_5mff4gPODzOYR"
ORG = "urn:li:organization:2414183"
SHARE = "urn:li:share:6844785523593134080"


def account(**credentials: str) -> Account:
    values = {"organization": "2414183", "access_token": TOKEN, **credentials}
    return Account(platform="linkedin", handle="Devtestco", credentials=values)


def client() -> AsyncClient:
    return AsyncClient(transport=httpx.AsyncHTTPTransport(), max_wait=5.0)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router


def assert_versioned(request: httpx.Request) -> None:
    assert request.headers["LinkedIn-Version"] == LinkedIn.api_version
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


# -- posts ------------------------------------------------------------------------------------


async def test_a_text_post_is_created_as_the_organization(mock: respx.MockRouter) -> None:
    """https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
    "Create a Text-Only Post": 201, empty body, the URN in x-restli-id."""
    create = mock.post(f"{API}/rest/posts").respond(201, headers={"x-restli-id": SHARE})
    async with client() as linkedin:
        result = await linkedin.publish_one(Post("Sample text Post (1/2) #Informasi"), account())
    assert result.ok, result.error
    assert result.ref is not None
    assert result.ref.id == SHARE
    assert result.ref.url == f"https://www.linkedin.com/feed/update/{SHARE}/"
    request = create.calls.last.request
    assert_versioned(request)
    assert json.loads(request.content) == {
        "author": ORG,
        "commentary": "Sample text Post \\(1/2\\) {hashtag|\\#|Informasi}",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


async def test_an_image_post_uploads_then_references_the_image(mock: respx.MockRouter) -> None:
    """https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api
    "Initialize Image Upload" answer, and the upload with PUT to uploadUrl (another host:
    no version headers); the post then carries content.media {id, altText}."""
    upload_url = (
        "https://www.linkedin.com/dms-uploads/C4E10AQFoyyAjHPMQuQ/uploaded-image/0"
        "?ca=vector_ads&cn=uploads&m=AQJbrN86Zm265gAAAYBJNSFDLc9zA3_LsFOaGkEdHSN29MHCu_QjA0pnlg"
        "&app=1953784&sync=0&v=beta&ut=2H-6GD5R82M9I1"
    )
    image = "urn:li:image:C4E10AQFoyyAjHPMQuQ"
    initialize = mock.post(f"{API}/rest/images", params={"action": "initializeUpload"}).respond(
        200,
        json={
            "value": {
                "uploadUrlExpiresAt": 1650567510704,
                "uploadUrl": upload_url,
                "image": image,
            }
        },
    )
    put = mock.put(upload_url).respond(201)
    create = mock.post(f"{API}/rest/posts").respond(201, headers={"x-restli-id": SHARE})
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    post = Post("Peta", media=[Media(data=png, alt_text="Peta lokasi vaksinasi")])
    async with client() as linkedin:
        result = await linkedin.publish_one(post, account())
    assert result.ok, result.error
    assert_versioned(initialize.calls.last.request)
    assert json.loads(initialize.calls.last.request.content) == {
        "initializeUploadRequest": {"owner": ORG}
    }
    uploaded = put.calls.last.request
    assert uploaded.content == png
    assert uploaded.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "LinkedIn-Version" not in uploaded.headers
    assert "X-Restli-Protocol-Version" not in uploaded.headers
    body = json.loads(create.calls.last.request.content)
    assert body["content"] == {"media": {"id": image, "altText": "Peta lokasi vaksinasi"}}


async def test_the_token_never_goes_to_an_upload_host_outside_linkedin(
    mock: respx.MockRouter,
) -> None:
    mock.post(f"{API}/rest/images").respond(
        200,
        json={"value": {"uploadUrl": "https://uploads.example.net/x", "image": "urn:li:image:X"}},
    )
    put = mock.put("https://uploads.example.net/x").respond(201)
    mock.post(f"{API}/rest/posts").respond(201, headers={"x-restli-id": SHARE})
    async with client() as linkedin:
        result = await linkedin.publish_one(
            Post("x", media=[Media(data=b"\x89PNG\r\n\x1a\n" + b"0" * 8)]), account()
        )
    assert result.ok, result.error
    assert "Authorization" not in put.calls.last.request.headers


async def test_delete_encodes_the_urn(mock: respx.MockRouter) -> None:
    """https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
    "Delete Posts": DELETE /rest/posts/{encoded URN}, 204."""
    route = mock.delete(url__regex=r"/rest/posts/").respond(204)
    ref = PostRef(platform="linkedin", account=account(), id=SHARE)
    async with client() as linkedin:
        await linkedin.delete(ref)
    request = route.calls.last.request
    assert request.url.raw_path == b"/rest/posts/urn%3Ali%3Ashare%3A6844785523593134080"
    assert_versioned(request)


# -- comments ---------------------------------------------------------------------------------


def comment(native: str, text: str, **extra: object) -> dict[str, object]:
    """A comment shaped like the answers on
    https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api"""
    obj = "urn:li:activity:6844785523593134080"
    return {
        "actor": "urn:li:person:R4fxA2YD9Z",
        "agent": "urn:li:person:R4fxA2YD9Z",
        "commentUrn": f"urn:li:comment:({obj},{native})",
        "created": {"actor": "urn:li:person:R4fxA2YD9Z", "time": 1633640500000},
        "id": native,
        "lastModified": {"actor": "urn:li:person:R4fxA2YD9Z", "time": 1633640500000},
        "message": {"attributes": [], "text": text},
        "object": obj,
        **extra,
    }


async def test_replies_are_read_with_their_nested_comments(mock: respx.MockRouter) -> None:
    """ "Get Comments on Shares" and "Get Comments on Comments"."""
    top = comment(
        "6844790000000000001", "Buka hari Sabtu?", commentsSummary={"aggregatedTotalComments": 1}
    )
    nested = comment("6844790000000000002", "Ya, pukul 08.00", parentComment=top["commentUrn"])
    routes = mock.get(url__regex=r"/rest/socialActions/").mock(
        side_effect=[
            httpx.Response(200, json={"paging": {"start": 0, "count": 100}, "elements": [top]}),
            httpx.Response(200, json={"paging": {"start": 0, "count": 100}, "elements": [nested]}),
        ]
    )
    ref = PostRef(platform="linkedin", account=account(), id=SHARE)
    async with client() as linkedin:
        replies = await linkedin.fetch_replies(ref)
    assert [r.text for r in replies] == ["Buka hari Sabtu?", "Ya, pukul 08.00"]
    assert replies[0].in_reply_to_id == SHARE
    assert replies[1].in_reply_to_id == top["commentUrn"]
    assert replies[0].ref.id == top["commentUrn"]
    assert replies[0].author == "urn:li:person:R4fxA2YD9Z"
    paths = [call.request.url.raw_path.split(b"?")[0] for call in routes.calls]
    assert paths == [
        b"/rest/socialActions/urn%3Ali%3Ashare%3A6844785523593134080/comments",
        b"/rest/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A6844785523593134080"
        b"%2C6844790000000000001%29/comments",
    ]


async def test_a_reply_to_a_comment_is_a_nested_comment_as_the_organization(
    mock: respx.MockRouter,
) -> None:
    """ "Create a Nested Comment": POST to the parent comment, with object and parentComment."""
    parent = comment("6844790000000000001", "Buka hari Sabtu?")
    created = comment("6844790000000000003", "Ya", parentComment=parent["commentUrn"], actor=ORG)
    route = mock.post(url__regex=r"/rest/socialActions/").respond(201, json=created)
    to = PostRef(
        platform="linkedin",
        account=account(),
        id=str(parent["commentUrn"]),
        extra={"object": str(parent["object"])},
    )
    async with client() as linkedin:
        ref = await linkedin.reply(to, "Ya")
    assert ref.id == created["commentUrn"]
    request = route.calls.last.request
    assert_versioned(request)
    assert request.url.raw_path.startswith(b"/rest/socialActions/urn%3Ali%3Acomment%3A%28")
    assert json.loads(request.content) == {
        "actor": ORG,
        "object": "urn:li:activity:6844785523593134080",
        "message": {"text": "Ya"},
        "parentComment": parent["commentUrn"],
    }


# -- metrics ----------------------------------------------------------------------------------


async def test_post_metrics_come_from_share_statistics_in_one_batch(
    mock: respx.MockRouter,
) -> None:
    """https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/share-statistics
    "Retrieve Statistics for Specific Shares" / "... UGC Posts": shares=List(...)."""
    second = "urn:li:share:6844785523593134081"
    ugc = "urn:li:ugcPost:6844785523593134082"

    def stats(urn: str, key: str, views: int) -> dict[str, object]:
        return {
            "totalShareStatistics": {
                "uniqueImpressionsCount": views // 2,
                "shareCount": 2,
                "engagement": 0.0351,
                "clickCount": 7,
                "likeCount": 11,
                "impressionCount": views,
                "commentCount": 3,
            },
            key: urn,
            "organizationalEntity": ORG,
        }

    route = mock.get(url__regex=r"/rest/organizationalEntityShareStatistics").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "paging": {"count": 10, "start": 0, "links": []},
                    "elements": [stats(SHARE, "share", 400)],
                },
            ),
            httpx.Response(
                200,
                json={
                    "paging": {"count": 10, "start": 0, "links": []},
                    "elements": [stats(ugc, "ugcPost", 90)],
                },
            ),
        ]
    )
    refs = [PostRef(platform="linkedin", account=account(), id=i) for i in (SHARE, second, ugc)]
    async with client() as linkedin:
        metrics = await linkedin.fetch_metrics(refs)
    assert route.call_count == 2
    first_query = route.calls[0].request.url.raw_path.split(b"?", 1)[1].decode()
    assert first_query == (
        "q=organizationalEntity&organizationalEntity=urn%3Ali%3Aorganization%3A2414183"
        "&shares=List(urn%3Ali%3Ashare%3A6844785523593134080,"
        "urn%3Ali%3Ashare%3A6844785523593134081)"
    )
    assert "ugcPosts=List(urn%3Ali%3AugcPost%3A6844785523593134082)" in str(
        route.calls[1].request.url
    )
    shown = [(m.views, m.reach, m.likes, m.replies, m.reposts, m.clicks) for m in metrics]
    assert shown == [(400, 200, 11, 3, 2, 7), (None,) * 6, (90, 45, 11, 3, 2, 7)]
    assert metrics[0].quotes is None and metrics[0].bookmarks is None


async def test_followers_come_from_network_sizes(mock: respx.MockRouter) -> None:
    """https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-network-size
    sample response {"firstDegreeSize": 219145}."""
    route = mock.get(url__regex=r"/rest/networkSizes/").respond(
        200, json={"firstDegreeSize": 219145}
    )
    async with client() as linkedin:
        metrics = await linkedin.fetch_account_metrics(account())
    assert metrics.followers == 219145
    assert metrics.following is None and metrics.posts is None
    assert route.calls.last.request.url.raw_path == (
        b"/rest/networkSizes/urn%3Ali%3Aorganization%3A2414183?edgeType=COMPANY_FOLLOWED_BY_MEMBER"
    )


async def test_mentions_come_from_share_mention_notifications(mock: respx.MockRouter) -> None:
    """https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-social-action-notifications
    pull finder (q=criteria); the mentioning post read with GET /rest/posts/{urn}."""
    notifications = mock.get(url__regex=r"/rest/organizationalEntityNotifications").respond(
        200,
        json={
            "paging": {"start": 0, "count": 100},
            "elements": [
                {
                    "action": "SHARE_MENTION",
                    "organizationalEntity": ORG,
                    "sourcePost": SHARE,
                    "lastModifiedAt": 1633640500000,
                }
            ],
        },
    )
    mock.get(url__regex=r"/rest/posts/").respond(
        200,
        json={
            "id": SHARE,
            "author": "urn:li:person:R4fxA2YD9Z",
            "commentary": "Terima kasih @[Devtestco](urn:li:organization:2414183) \\(mantap\\)",
            "createdAt": 1633640400000,
        },
    )
    async with client() as linkedin:
        [mention] = await linkedin.fetch_mentions(account())
    assert mention.kind == "mention"
    assert mention.text == "Terima kasih @Devtestco (mantap)"
    assert mention.ref.id == SHARE
    query = parse_qs(notifications.calls.last.request.url.query.decode())
    assert query["q"] == ["criteria"] and query["actions"] == ["List(SHARE_MENTION)"]
    assert query["organizationalEntity"] == [ORG]


# -- tokens and throttling --------------------------------------------------------------------


async def test_a_401_refreshes_the_token_and_repeats_the_request(mock: respx.MockRouter) -> None:
    """https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens
    Step 2: POST grant_type=refresh_token to www.linkedin.com/oauth/v2/accessToken."""
    new_token = "AQUvlL_DYEzvT2wz1QJiEPeLioeA"
    rotated = "AQWAft_WjYZKwuWXLC5hQlghgTam"
    sizes = mock.get(url__regex=r"/rest/networkSizes/").mock(
        side_effect=[
            httpx.Response(
                401,
                json={
                    "status": 401,
                    "serviceErrorCode": 65601,
                    "code": "REVOKED_ACCESS_TOKEN",
                    "message": "The token used in the request has expired",
                },
            ),
            httpx.Response(200, json={"firstDegreeSize": 10}),
        ]
    )
    token = mock.post("https://www.linkedin.com/oauth/v2/accessToken").respond(
        200,
        json={
            "access_token": new_token,
            "expires_in": 5184000,
            "refresh_token": rotated,
            "refresh_token_expires_in": 525600,
        },
    )
    told: list[dict[str, str]] = []
    linkedin = AsyncClient(
        transport=httpx.AsyncHTTPTransport(),
        on_credentials=lambda _account, values: told.append(values),
    )
    async with linkedin:
        metrics = await linkedin.fetch_account_metrics(
            account(refresh_token="AQW-old", client_id="86abcdef", client_secret="s3cr3t-value")
        )
    assert metrics.followers == 10
    assert parse_qs(token.calls.last.request.content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["AQW-old"],
        "client_id": ["86abcdef"],
        "client_secret": ["s3cr3t-value"],
    }
    assert told == [{"access_token": new_token, "refresh_token": rotated}]
    assert sizes.calls.last.request.headers["Authorization"] == f"Bearer {new_token}"


async def test_a_429_waits_for_midnight_utc_and_so_fails_fast(mock: respx.MockRouter) -> None:
    """https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits"""
    if seconds_to_midnight_utc() < 60:
        pytest.skip("too close to midnight UTC")
    route = mock.get(url__regex=r"/rest/networkSizes/").respond(
        429,
        json={
            "status": 429,
            "message": "Resource level throttle limit for calls to this resource is reached.",
        },
    )
    from govsocial.core.errors import RateLimited

    async with client() as linkedin:
        with pytest.raises(RateLimited) as raised:
            await linkedin.fetch_account_metrics(account())
    assert route.call_count == 1
    assert raised.value.retry_after is not None
    assert abs(raised.value.retry_after - seconds_to_midnight_utc()) < 30


async def test_a_429_with_retry_after_is_retried(mock: respx.MockRouter) -> None:
    """Infrastructure-protection 429s (the rate-limits page) may come with a short wait."""
    route = mock.get(url__regex=r"/rest/networkSizes/").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "0"}, json={"status": 429}),
            httpx.Response(200, json={"firstDegreeSize": 4}),
        ]
    )
    async with client() as linkedin:
        metrics = await linkedin.fetch_account_metrics(account())
    assert metrics.followers == 4 and route.call_count == 2
