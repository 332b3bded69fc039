"""The Bluesky session is kept between clients: a new client or workspace does not log in.

Bluesky limits logins (``com.atproto.server.createSession``) to 30 per 5 minutes and 300 a
day per account (https://docs.bsky.app/docs/advanced-guides/rate-limits), so a worker
restart, a CLI run or an inbox sync that logs in each time spends them. The adapter hands
each new session to the client's ``on_credentials`` (a workspace seals it with the other
credentials); the next adapter uses its access token while valid, else refreshes it, and
logs in only when neither works.

Against the reference PDS (@atproto/dev-env, no AppView): requests are counted where httpx
sends them (``record_traffic``; the client uses httpx's own pool here, so that is one per
request the PDS receives), and every post is read back from the PDS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from govsocial import Client, Post, PostRef
from govsocial.app import Workspace
from govsocial.core.models import Account
from govsocial.testing import unique_text
from govsocial.testing.traffic import Exchange, record_traffic
from govsocial.workspace.credentials import new_key
from govsocial_bluesky import Bluesky
from govsocial_bluesky.aturi import AtUri
from govsocial_bluesky.devserver import BlueskyDevServer, DevAccount

LOGIN = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
#: dev-env signs its PDS's session tokens with this HS256 secret (@atproto/dev-env const.ts).
DEV_ENV_JWT_SECRET = b"jwt-secret"


@pytest.fixture(autouse=True)
def sealing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A workspace key (credentials are sealed) and httpx's own pool (every request passes
    through ``send``, where ``record_traffic`` counts it)."""
    monkeypatch.setenv("GOVSOCIAL_SECRET_KEY", new_key())
    monkeypatch.setenv("GOVSOCIAL_HTTP_TRANSPORT", "httpx")


@pytest.fixture(scope="module")
def pds(bluesky_server: BlueskyDevServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bluesky_server.pds_url, timeout=30) as raw:
        yield raw


def account_of(server: BlueskyDevServer, dev: DevAccount, password: str | None = None) -> Account:
    return Account(
        platform="bluesky",
        handle=dev.handle,
        base_url=server.pds_url,
        credentials={
            "identifier": dev.handle,
            "app_password": password or dev.app_password or dev.password,
        },
    )


def logins(exchanges: Sequence[Exchange]) -> int:
    return sum(e.path == LOGIN for e in exchanges)


def stored_text(pds: httpx.Client, uri: str) -> str | None:
    """The text of the post record at ``uri`` as the PDS holds it (None: no record)."""
    parts = AtUri.parse(uri)
    answer = pds.get(
        "/xrpc/com.atproto.repo.getRecord",
        params={"repo": parts.repo, "collection": parts.collection, "rkey": parts.rkey},
    )
    if answer.status_code == 400:
        return None
    answer.raise_for_status()
    text: str = answer.json()["value"]["text"]
    return text


def publish(ws: Workspace, text: str) -> PostRef:
    """Publish ``text`` on ``humas`` with the workspace's client (its ``on_credentials``
    keeps what the adapter renews)."""
    result = ws.core.client().publish_one(Post(text), ws.account("humas"))
    assert result.ok and result.ref is not None, result.error
    return result.ref


def kept_session(ws: Workspace) -> dict[str, str]:
    """How the workspace stores the account's ``session`` credential."""
    [row] = [r for r in ws.store.accounts() if r.name == "humas"]
    return dict(row.credentials.get("session") or {})


def login_session(pds: httpx.Client, dev: DevAccount) -> dict[str, Any]:
    """A session made here, by hand (what another client could have kept)."""
    answer = pds.post(LOGIN, json={"identifier": dev.handle, "password": dev.app_password})
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def forged(token: str, *, exp_in: float, key: bytes = DEV_ENV_JWT_SECRET) -> str:
    """``token`` with its ``exp`` moved to ``exp_in`` seconds from now, signed with ``key``
    (the dev PDS's own: a token it accepts until then; another: one it cannot verify)."""
    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = int(time.time() + exp_in)

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def test_a_workspace_opened_again_publishes_without_logging_in(
    bluesky_server: BlueskyDevServer, tmp_path: Path, pds: httpx.Client
) -> None:
    alice = bluesky_server.accounts[0]
    path = tmp_path / "ws.db"
    with Workspace.open(path) as ws:
        ws.add_account("humas", account_of(bluesky_server, alice))
        first_text = unique_text("Jadwal posyandu")
        with record_traffic() as first:
            publish(ws, first_text)
        assert logins(first) == 1
        [login] = [e for e in first if e.path == LOGIN]
        assert login.response is not None
        answer = login.response.json()
        kept = kept_session(ws)
        assert set(kept) == {"sealed"}, "kept sealed, like the app password"
        shown = json.dumps([r.credentials for r in ws.store.accounts()])
        assert answer["accessJwt"] not in shown and answer["refreshJwt"] not in shown
    with Workspace.open(path) as ws:  # a worker restarted, a CLI run, the next sync
        text = unique_text("Info layanan")
        with record_traffic() as second:
            ref = publish(ws, text)
        assert logins(second) == 0, [e.path for e in second]
        assert [e.path for e in second if e.path == REFRESH] == []
        sent = {e.request.headers.get("authorization") for e in second}
        assert f"Bearer {answer['accessJwt']}" in sent, "the kept access token was used"
    assert stored_text(pds, ref.id) == text
    assert AtUri.parse(ref.id).repo == alice.did


def test_a_kept_session_past_its_access_token_is_refreshed_not_logged_in(
    bluesky_server: BlueskyDevServer, tmp_path: Path, pds: httpx.Client
) -> None:
    alice = bluesky_server.accounts[0]
    made = login_session(pds, alice)
    made["accessJwt"] = forged(made["accessJwt"], exp_in=-3600)  # expired an hour ago
    with Workspace.open(tmp_path / "ws.db") as ws:
        ws.add_account("humas", account_of(bluesky_server, alice))
        account = ws.account("humas")
        ws.core.store_refreshed_credentials(account, {"session": json.dumps(made)})
        text = unique_text("Pengumuman")
        with record_traffic() as exchanges:
            ref = publish(ws, text)
        assert [e.path for e in exchanges if e.path in (LOGIN, REFRESH)] == [REFRESH]
        assert stored_text(pds, ref.id) == text
        renewed = next(e for e in exchanges if e.path == REFRESH).response
        assert renewed is not None
        reopened = ws.account("humas").credential("session")
        assert json.loads(reopened)["refreshJwt"] == renewed.json()["refreshJwt"]


def _revoked(pds: httpx.Client, alice: DevAccount, bob: DevAccount) -> str:
    """A session whose refresh token the PDS revoked (deleteSession), its access token
    expired: the refresh is refused (ExpiredToken), only a login works."""
    made = login_session(pds, alice)
    pds.post(
        "/xrpc/com.atproto.server.deleteSession",
        headers={"Authorization": f"Bearer {made['refreshJwt']}"},
    ).raise_for_status()
    made["accessJwt"] = forged(made["accessJwt"], exp_in=-3600)
    return json.dumps(made)


def _unverifiable(pds: httpx.Client, alice: DevAccount, bob: DevAccount) -> str:
    """Tokens that look valid for hours but are signed with another key: the PDS answers
    InvalidToken to the call and to the refresh."""
    made = login_session(pds, alice)
    for name in ("accessJwt", "refreshJwt"):
        made[name] = forged(made[name], exp_in=3600, key=b"another key")
    return json.dumps(made)


def _others(pds: httpx.Client, alice: DevAccount, bob: DevAccount) -> str:
    """Bob's valid session kept on Alice's account: used, it would post in Bob's repo."""
    return json.dumps(login_session(pds, bob))


def _header_split(pds: httpx.Client, alice: DevAccount, bob: DevAccount) -> str:
    made = login_session(pds, alice)
    made["accessJwt"] += "\r\nX-Injected: 1"
    return json.dumps(made)


HOSTILE = {
    "revoked": _revoked,
    "unverifiable": _unverifiable,
    "another account's": _others,
    "a header split": _header_split,
    "not JSON": lambda *_: "{not json",
    "not a session": lambda *_: json.dumps({"accessJwt": 1, "did": []}),
    "deeply nested": lambda *_: "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_kept_session_that_does_not_work_falls_back_to_one_login(
    bluesky_server: BlueskyDevServer, tmp_path: Path, pds: httpx.Client, kind: str
) -> None:
    alice, bob = bluesky_server.accounts[0], bluesky_server.accounts[1]
    kept = HOSTILE[kind](pds, alice, bob)
    with Workspace.open(tmp_path / "ws.db") as ws:
        ws.add_account("humas", account_of(bluesky_server, alice))
        ws.core.store_refreshed_credentials(ws.account("humas"), {"session": kept})
        text = unique_text("Info vaksin")
        with record_traffic() as exchanges:
            ref = publish(ws, text)
        assert logins(exchanges) == 1
        for e in exchanges:
            assert "X-Injected" not in e.request.headers
    assert AtUri.parse(ref.id).repo == alice.did, "posted as the account, nobody else"
    assert stored_text(pds, ref.id) == text
    with Workspace.open(tmp_path / "ws.db") as ws:  # the new session was kept instead
        with record_traffic() as again:
            publish(ws, unique_text("Info vaksin lagi"))
        assert logins(again) == 0


def test_a_kept_session_found_unusable_is_not_tried_again(
    bluesky_server: BlueskyDevServer, tmp_path: Path, pds: httpx.Client
) -> None:
    """The kept pair refused and the login failing (a wrong app password): the next call
    of the same client logs in straight away, without sending the refused tokens again."""
    alice = bluesky_server.accounts[0]
    made = json.loads(_unverifiable(pds, alice, alice))
    with Workspace.open(tmp_path / "ws.db") as ws:
        ws.add_account("humas", account_of(bluesky_server, alice, password="wrong-pass-word"))
        ws.core.store_refreshed_credentials(ws.account("humas"), {"session": json.dumps(made)})
        account = ws.account("humas")
        client = ws.core.client()
        with record_traffic() as first:
            assert not client.publish_one(Post(unique_text("Satu")), account).ok
        with record_traffic() as second:
            assert not client.publish_one(Post(unique_text("Dua")), account).ok
    refused = {f"Bearer {made['accessJwt']}", f"Bearer {made['refreshJwt']}"}
    assert refused <= {e.request.headers.get("authorization") for e in first}
    assert not refused & {e.request.headers.get("authorization") for e in second}
    assert [e.path for e in second] == [LOGIN]


def test_the_session_is_in_no_repr_log_or_error(
    bluesky_server: BlueskyDevServer,
    tmp_path: Path,
    pds: httpx.Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A kept session that does not work and a wrong app password: the publish fails with
    an authentication error, and neither the kept tokens nor the fresh ones show in it, in
    the logs, or in any repr."""
    caplog.set_level(logging.DEBUG)
    alice = bluesky_server.accounts[0]
    made = json.loads(_unverifiable(pds, alice, alice))
    secrets = [made["accessJwt"], made["refreshJwt"]]
    wrong = "wrong-app-pass-word"
    with Workspace.open(tmp_path / "ws.db") as ws:
        ws.add_account("humas", account_of(bluesky_server, alice, password=wrong))
        account = ws.account("humas")
        ws.core.store_refreshed_credentials(account, {"session": json.dumps(made)})
        account = ws.account("humas")
        client = ws.core.client()
        with record_traffic() as exchanges:
            result = client.publish_one(Post(unique_text("Gagal")), account)
        assert not result.ok
        adapter = client.async_client.adapter(account)
        assert isinstance(adapter, Bluesky)
        shown = " ".join(
            [
                str(result.error),
                repr(result),
                result.model_dump_json(),
                repr(account),
                str(account),
                account.model_dump_json(),
                repr(adapter),
                repr(ws),
                caplog.text,
            ]
        )
        assert json.dumps(made) not in shown
        for secret in [*secrets, wrong]:
            assert secret not in shown
        assert logins(exchanges) == 1, "the kept session refused, one login tried"
    # the good password again: the fresh session it gets shows nowhere either
    caplog.clear()
    with Workspace.open(tmp_path / "ws.db") as ws:
        ws.add_account("humas", account_of(bluesky_server, alice))
        with record_traffic() as exchanges:
            publish(ws, unique_text("Berhasil"))
        fresh = [e.response.json() for e in exchanges if e.path == LOGIN and e.response]
        assert fresh, "the replaced credentials dropped the kept session"
        account = ws.account("humas")
        adapter = ws.core.client().async_client.adapter(account)
        shown = " ".join([repr(account), repr(adapter), repr(ws), caplog.text])
        for answer in fresh:
            assert answer["accessJwt"] not in shown and answer["refreshJwt"] not in shown


def env_account(
    server: BlueskyDevServer, dev: DevAccount, monkeypatch: pytest.MonkeyPatch
) -> Account:
    """The account as docs/platforms/bluesky.md sets it up: the app password in the
    environment."""
    monkeypatch.setenv("GOVSOCIAL_CRED_SESSION_KEPT", dev.app_password or "")
    return Account(
        platform="bluesky",
        handle=dev.handle,
        base_url=server.pds_url,
        credentials={"identifier": dev.handle, "app_password": "env:GOVSOCIAL_CRED_SESSION_KEPT"},
    )


def test_with_an_env_app_password_and_no_key_nothing_is_stored_and_nothing_warns(
    bluesky_server: BlueskyDevServer,
    tmp_path: Path,
    pds: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without GOVSOCIAL_SECRET_KEY the session cannot be sealed: it is not stored, and
    that is no warning (it only costs a login in the next process)."""
    monkeypatch.delenv("GOVSOCIAL_SECRET_KEY")
    with Workspace.open(tmp_path / "ws.db") as ws:
        ws.add_account(
            "humas", env_account(bluesky_server, bluesky_server.accounts[0], monkeypatch)
        )
        text = unique_text("Info")
        ref = publish(ws, text)
        assert kept_session(ws) == {}
    assert stored_text(pds, ref.id) == text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_process_without_the_key_opens_the_account_and_logs_in(
    bluesky_server: BlueskyDevServer,
    tmp_path: Path,
    pds: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An env: app password and a key: the session is kept sealed. A process without the
    key (a CLI run where only the worker has it) still opens the account, which the
    password alone allows: the session it cannot open is left out, and it logs in."""
    alice = bluesky_server.accounts[0]
    path = tmp_path / "ws.db"
    with Workspace.open(path) as ws:
        ws.add_account("humas", env_account(bluesky_server, alice, monkeypatch))
        publish(ws, unique_text("Info"))
        assert set(kept_session(ws)) == {"sealed"}
    monkeypatch.delenv("GOVSOCIAL_SECRET_KEY")
    with Workspace.open(path) as ws:
        opened = ws.core.open_account("humas")  # what a worker does before claiming
        assert "session" not in opened.credentials
        text = unique_text("Tanpa kunci")
        with record_traffic() as exchanges:
            ref = publish(ws, text)
        assert logins(exchanges) == 1
    assert stored_text(pds, ref.id) == text


def test_a_bare_client_hands_the_session_to_its_listener_and_the_next_one_uses_it(
    bluesky_server: BlueskyDevServer, pds: httpx.Client
) -> None:
    """Without a workspace: ``Client(on_credentials=...)`` is told the session, and an
    account given it as its ``session`` credential logs in no more."""
    alice = bluesky_server.accounts[0]
    account = account_of(bluesky_server, alice)
    told: dict[str, str] = {}
    with Client(on_credentials=lambda _account, values: told.update(values)) as client:
        assert client.publish_one(Post(unique_text("Satu")), account).ok
    assert set(told) == {"session"}
    again = Account(
        **account.model_dump(exclude={"credentials"}),
        credentials={
            "identifier": alice.handle,
            "app_password": alice.app_password or "",
            "session": told["session"],
        },
    )
    text = unique_text("Dua")
    with Client() as client, record_traffic() as exchanges:
        result = client.publish_one(Post(text), again)
    assert result.ok and result.ref is not None, result.error
    assert logins(exchanges) == 0
    assert stored_text(pds, result.ref.id) == text
