"""A real Mastodon API server on this machine: mastodon-mock, for the demo and the tests.

:class:`MastodonMockServer` starts ``mastodon_mock serve --in-memory`` on a free port of
127.0.0.1, waits until it answers, and makes accounts with access tokens through the
mock's control plane (``/api/v1/_mock/``). It follows
:class:`govsocial.adapters.platform.LocalServer`,
so the conformance suite and ``govsocial demo`` can use it, and adds fault injection
(forced status, latency, malformed body, hung connection, 429 with rate headers).

Everything here reads the server directly with httpx, never through the adapter, so a
test can check what the server stored rather than what the adapter says it sent.
mastodon-mock comes with the ``local`` extra: ``pip install govsocial-mastodon[local]``.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import html
import importlib.util
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx

from govsocial.adapters import Account, ConfigurationError, PostRef

__all__ = ["FaultEffect", "MastodonMockServer"]

FaultEffect = Literal["status", "latency", "malformed", "timeout", "ratelimit"]

_HOST = "127.0.0.1"


class MastodonMockServer:
    """A mastodon-mock process with accounts, as a context manager.

    :param usernames: the accounts to make; the first publishes, the second replies,
        mentions and likes (``humas`` is the agency, ``warga`` a citizen).
    :param startup_timeout: seconds to wait for the server to answer.
    """

    def __init__(
        self,
        usernames: Sequence[str] = ("humas", "warga"),
        *,
        startup_timeout: float = 30.0,
    ) -> None:
        if len(usernames) < 2:
            raise ValueError("a local server needs at least two accounts")
        self.usernames = tuple(usernames)
        self.startup_timeout = startup_timeout
        self.accounts: list[Account] = []
        self.base_url = ""
        self._account_ids: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._http: httpx.Client | None = None

    def __repr__(self) -> str:
        state = self.base_url or "not started"
        return f"<MastodonMockServer {state} accounts={len(self.accounts)}>"

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> MastodonMockServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> MastodonMockServer:
        """Start the server and make the accounts (a no-op when already started)."""
        if self._process is not None:
            return self
        if importlib.util.find_spec("mastodon_mock") is None:
            raise ConfigurationError(
                "mastodon-mock is not installed, so no local Mastodon server can start",
                hint="pip install 'govsocial-mastodon[local]'",
            )
        self._workdir = tempfile.TemporaryDirectory(prefix="govsocial-mastodon-")
        atexit.register(self.stop)
        try:
            for attempt in range(3):
                port = _free_port()
                self._spawn(port)
                if self._wait_until_ready(last_attempt=attempt == 2):
                    break
            self._http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(10.0))
            for username in self.usernames:
                self.accounts.append(self.new_account(username))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server: terminate, then kill if it does not go within 3 s."""
        if self._http is not None:
            self._http.close()
            self._http = None
        process, self._process = self._process, None
        if process is not None:
            _end(process)
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
        atexit.unregister(self.stop)

    def _spawn(self, port: int) -> None:
        assert self._workdir is not None
        self.base_url = f"http://{_HOST}:{port}"
        log = open(Path(self._workdir.name) / "server.log", "ab")  # noqa: SIM115 - the child owns it
        with log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [
                    *_command(),
                    "serve",
                    "--in-memory",
                    "--host",
                    _HOST,
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                cwd=self._workdir.name,  # no stray .mastodon_mock.toml or pyproject is read
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    def _wait_until_ready(self, *, last_attempt: bool) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                if last_attempt:
                    raise RuntimeError(f"mastodon_mock exited early:\n{self._log_tail()}")
                self._process = None
                return False
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"mastodon_mock did not answer within {self.startup_timeout:g} s:\n{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        if self._workdir is None:
            return ""
        path = Path(self._workdir.name) / "server.log"
        try:
            return path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    # -- accounts ------------------------------------------------------------------------

    def new_account(self, username: str, display_name: str | None = None) -> Account:
        """Make a fresh local account with an access token (not added to ``accounts``)."""
        body = self._control(
            "POST",
            "/api/v1/_mock/dev_user",
            json={
                "username": username,
                "display_name": display_name or username.capitalize(),
            },
        )
        account = Account(
            platform="mastodon",
            handle=f"@{username}@{_HOST}:{self.base_url.rsplit(':', 1)[1]}",
            base_url=self.base_url,
            credentials={"access_token": body["access_token"]},
            name=body.get("display_name") or username,
        )
        self._account_ids[account.key] = str(body["id"])
        return account

    def account_id(self, account: Account) -> str:
        """The server's id of ``account``."""
        return self._account_ids[account.key]

    def revoke_token(self, account: Account) -> None:
        """Revoke ``account``'s access token on the server (``POST /oauth/revoke``)."""
        response = self._client().post(
            "/oauth/revoke", data={"token": account.credential("access_token")}
        )
        response.raise_for_status()

    def mention(self, account: Account) -> str:
        """The text that mentions ``account`` in a post: ``@username``."""
        return "@" + _username(account)

    # -- reading what the server stored --------------------------------------------------

    def stored_post(self, ref: PostRef) -> dict[str, Any] | None:
        """The status as the server has it, read as its owner; None when it has none."""
        response = self._client().get(
            f"/api/v1/statuses/{quote(ref.id, safe='')}", headers=_auth(ref.account)
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def stored_text(self, stored: dict[str, Any]) -> str:
        """The plain text of a stored status's HTML content."""
        content = str(stored.get("content") or "")
        content = re.sub(r"<br\s*/?>", "\n", content)
        content = re.sub(r"</p>\s*<p[^>]*>", "\n\n", content)
        return html.unescape(re.sub(r"<[^>]+>", "", content)).strip()

    def stored_alt_texts(self, stored: dict[str, Any]) -> list[str]:
        """The descriptions of a stored status's media attachments, in order."""
        attachments = stored.get("media_attachments") or []
        return [str(media.get("description") or "") for media in attachments]

    def stored_media_kinds(self, stored: dict[str, Any]) -> list[str]:
        """The ``type`` of each stored media attachment (``image``, ``video``, ``gifv``)."""
        return [str(media.get("type")) for media in stored.get("media_attachments") or []]

    def account_statuses(self, account: Account) -> list[dict[str, Any]]:
        """The newest statuses (up to 40) the server holds for ``account``."""
        response = self._client().get(
            f"/api/v1/accounts/{self.account_id(account)}/statuses",
            params={"limit": "40"},
            headers=_auth(account),
        )
        response.raise_for_status()
        statuses: list[dict[str, Any]] = response.json()
        return statuses

    def all_statuses(self, account: Account) -> list[dict[str, Any]]:
        """Every status the server holds for ``account``, newest first (every page)."""
        found: list[dict[str, Any]] = []
        params = {"limit": "40"}
        while True:
            response = self._client().get(
                f"/api/v1/accounts/{self.account_id(account)}/statuses",
                params=params,
                headers=_auth(account),
            )
            response.raise_for_status()
            page: list[dict[str, Any]] = response.json()
            if not page:
                return found
            found += page
            params["max_id"] = str(page[-1]["id"])

    # -- acting as other users -------------------------------------------------------------

    def like(self, ref: PostRef, by: Account) -> None:
        """Make ``by`` favourite the status at ``ref``."""
        response = self._client().post(
            f"/api/v1/statuses/{quote(ref.id, safe='')}/favourite", headers=_auth(by)
        )
        response.raise_for_status()

    def repost(self, ref: PostRef, by: Account) -> None:
        """Make ``by`` boost (reblog) the status at ``ref``."""
        response = self._client().post(
            f"/api/v1/statuses/{quote(ref.id, safe='')}/reblog", headers=_auth(by)
        )
        response.raise_for_status()

    # -- fault injection -------------------------------------------------------------------

    def inject(
        self,
        effect: FaultEffect = "status",
        *,
        method: str | None = None,
        path: str | None = None,
        path_regex: str | None = None,
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        truncate: bool = True,
        count: int | None = 1,
    ) -> str:
        """Add a fault rule; returns its id.

        :param effect: ``status`` (answer ``status`` with ``body``), ``latency`` (wait
            ``delay`` s, then answer normally), ``malformed`` (200 with a body that is not
            JSON), ``timeout`` (hold the connection at least 30 s, then answer normally) or
            ``ratelimit`` (the mock's own 429, which adds ``Retry-After: 300``).
        :param method: only this HTTP method (default: any).
        :param path: only this path (``*`` globs allowed); ``path_regex`` for a regex.
        :param count: how many matching requests it applies to (None: until cleared).
        """
        effect_spec: dict[str, Any] = {
            "type": effect,
            "delay_ms": int(delay * 1000),
            "truncate": truncate,
            "headers": headers or {},
        }
        if status is not None:
            effect_spec["status"] = status
        if body is not None:
            effect_spec["body"] = body
        rule = {
            "match": {
                "methods": [method.upper()] if method else None,
                "path": path,
                "path_regex": path_regex,
            },
            "effect": effect_spec,
            "count": count,
        }
        return str(self._control("POST", "/api/v1/_mock/faults", json=rule)["id"])

    def rate_limit(
        self,
        *,
        reset_in: float,
        method: str | None = None,
        path: str | None = None,
        limit: int = 300,
        count: int | None = 1,
    ) -> str:
        """Answer 429 the way Mastodon does: X-RateLimit headers, the reset as ISO 8601.

        Unlike the mock's ``ratelimit`` effect, no ``Retry-After`` is sent (Mastodon's
        rack-attack responder sends none), so a client has to read ``X-RateLimit-Reset``.
        """
        reset = datetime.now(UTC) + timedelta(seconds=reset_in)
        return self.inject(
            "status",
            method=method,
            path=path,
            status=429,
            body={"error": "Too many requests"},
            headers={
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.isoformat(timespec="microseconds").replace(
                    "+00:00", "Z"
                ),
            },
            count=count,
        )

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules still active, with their remaining counts."""
        rules: list[dict[str, Any]] = self._control("GET", "/api/v1/_mock/faults")
        return rules

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._control("DELETE", "/api/v1/_mock/faults")

    # -- plumbing --------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        if self._http is None:
            raise RuntimeError("the server is not running: use it as a context manager")
        return self._http

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        client = self._http or httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(10.0))
        try:
            response = client.request(method, path, **kwargs)
        finally:
            if client is not self._http:
                client.close()
        response.raise_for_status()
        return response.json()


def _command() -> list[str]:
    """The mastodon_mock console script next to this Python, else ``python -m``."""
    for name in ("mastodon_mock", "mastodon_mock.exe"):
        script = Path(sys.executable).with_name(name)
        if script.exists():
            return [str(script)]
    return [sys.executable, "-m", "mastodon_mock"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to kill it when its parent goes away.

    An in-memory mock has nothing to save, so SIGKILL. Linux sends it when the *thread*
    that started the child ends, so start servers from a thread that outlives them.
    """
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=3)  # uvicorn waits for hung requests; do not wait for it long
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _auth(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.credential('access_token')}"}


def _username(account: Account) -> str:
    return account.handle.lstrip("@").split("@", 1)[0]
