"""No secret reaches a log, a repr or an error message: a whole session, scanned.

Runs against the real local servers of both in-tree platforms, with every logger at DEBUG
(govsocial's, httpx's, aiohttp's), through successes and failures (a wrong token, a wrong
app password, a server error), then searches everything a user could see for every secret.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from govsocial import Client, Media, Post
from govsocial.core.models import Account
from govsocial.testing import tiny_png

pytest.importorskip("govsocial_mastodon")
pytest.importorskip("govsocial_bluesky")


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    for name in ("govsocial", "httpx", "httpcore", "aiohttp"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield caplog


def with_secret(account: Account, name: str, value: str) -> Account:
    credentials = {k: v.get_secret_value() for k, v in account.credentials.items()}
    return Account(
        **account.model_dump(exclude={"credentials"}), credentials={**credentials, name: value}
    )


def test_a_whole_session_leaks_no_secret(debug_logs: pytest.LogCaptureFixture) -> None:
    from govsocial_bluesky.devserver import npm_available
    from govsocial_bluesky.localserver import BlueskyLocalServer
    from govsocial_mastodon.localserver import MastodonMockServer

    if not npm_available():
        pytest.skip("npm not available for the Bluesky server")
    seen: list[str] = []
    with MastodonMockServer() as mastodon, BlueskyLocalServer(appview=False) as bluesky:
        good = [mastodon.accounts[0], bluesky.accounts[0]]
        wrong_token = "wrong-token-" + uuid.uuid4().hex
        wrong_password = "wrong-pass-" + uuid.uuid4().hex
        bad = [
            with_secret(mastodon.accounts[0], "access_token", wrong_token),
            with_secret(bluesky.accounts[0], "app_password", wrong_password),
        ]
        post = Post(
            "Uji kebocoran rahasia #InfoPublik https://example.go.id",
            media=[Media(data=tiny_png(), alt_text="gambar uji")],
        )
        with Client(max_wait=1.0) as client:
            results = client.publish(post, good + bad)
            seen += [repr(r) for r in results] + [str(r.error) for r in results if r.error]
            seen += [r.model_dump_json() for r in results]
            assert [r.ok for r in results] == [True, True, False, False]
            for result in results[:2]:
                assert result.ref is not None
                seen += [repr(result.ref), repr(client.async_client.adapter(result.ref.account))]
                client.delete(result.ref)
            mastodon.inject(
                "status",
                method="POST",
                path="/api/v1/statuses",
                status=500,
                body={"error": "database unavailable"},
            )
            [failed] = client.publish(Post("gagal"), good[:1])
            assert not failed.ok
            seen += [repr(failed), str(failed.error)]
        secrets = [wrong_token, wrong_password]
        for account in good:
            cls = client.async_client.plugins.platform(account.platform)
            secrets += [
                account.credential(name)
                for name in cls.secret_names()
                if name in account.credentials  # an optional one (Bluesky's kept session)
            ]
            # what the adapter holds besides: Bluesky's session tokens, told to on_credentials
            secrets += list(client.async_client.adapter(account).iter_credentials())
    seen += [record.getMessage() for record in debug_logs.records]
    seen += [str(record.args) for record in debug_logs.records]
    assert debug_logs.records, "expected DEBUG logs from the session"
    for secret in secrets:
        for text in seen:
            assert secret not in text, f"a secret leaked into: {text[:200]}"
