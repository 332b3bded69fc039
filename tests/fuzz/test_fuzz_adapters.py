"""Fuzz every installed adapter with random platform answers (issue 13, item 7).

Each adapter (found through ``govsocial.platforms()``, so a new plugin is fuzzed too) talks
to an ``httpx.MockTransport`` that answers each request with a random status and a random
body: JSON of any shape (hypothesis ``recursive``), JSON whose keys are the names the
adapter's own source looks for (so the fuzzer gets past "not the expected shape" into the
code reading fields), text that is not JSON, and JSON nested past Python's recursion limit.
Publishing, deleting, metrics, replies, mentions and the idempotency look-up each either
return their documented type or raise a GovSocialError: a KeyError, TypeError,
AttributeError, RecursionError or pydantic error escaping is a bug. No request leaves the
process, and an adapter that keeps asking (a cursor that never ends) is a failure too.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz._depth import DEPTHS, scaled
from fuzz.strategies import hostile_text, json_values, keyed_json
from govsocial import GovSocialError, Media, Post, platforms
from govsocial.adapters.http import Http
from govsocial.adapters.platform import AdapterContext, Platform
from govsocial.core.models import Account, AccountMetrics, Interaction, PostMetrics, PostRef
from govsocial.testing import tiny_png

#: adapters not fuzzed, and why
LEFT_OUT = {
    "papan": "the tutorial's example plugin (docs/example-plugin): its code is the tutorial's "
    "text and reads only well-formed answers, to stay short",
}
PLATFORMS = {name: cls for name, cls in platforms().items() if name not in LEFT_OUT}
#: the most requests one call may make before the fuzzer calls it a loop
MAX_REQUESTS = 60
#: what an answer's status may be (5xx and 429 included: with one attempt, none is retried)
STATUSES = [200] * 12 + [201, 202, 204, 301, 400, 401, 403, 404, 409, 413, 422, 429, 500, 503]
_WORD = re.compile(r"^[A-Za-z_@$][A-Za-z0-9_.:$/@-]{0,48}$")


def source_words(adapter: type[Platform]) -> list[str]:
    """The short string constants in the adapter's package: the field names it reads."""
    package = Path(inspect.getfile(adapter)).parent
    words: set[str] = set()
    for path in package.rglob("*.py"):
        if any(part in ("testing", "devserver") for part in path.parts) or path.stem in (
            "testing",
            "localserver",
        ):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _WORD.match(node.value)
            ):
                words.add(node.value)
    return sorted(words)


WORDS = {name: source_words(cls) for name, cls in PLATFORMS.items()}


def too_deep() -> bytes:
    return b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@dataclass(frozen=True)
class Answer:
    """One answer of the fuzzed server, shown whole in a failure report."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def __repr__(self) -> str:
        body = self.body if len(self.body) < 300 else self.body[:300] + b"..."
        return f"Answer({self.status}, {self.headers!r}, {body!r})"

    def response(self) -> httpx.Response:
        return httpx.Response(self.status, headers=list(self.headers), content=self.body)


@st.composite
def answers(draw: st.DrawFn, words: list[str]) -> Answer:
    """One random answer: a status and a body, JSON (keyed by ``words`` or not) or not."""
    status = draw(st.sampled_from(STATUSES))
    kind = draw(st.sampled_from(["keyed"] * 6 + ["json", "json", "text", "empty", "deep"]))
    headers = [(b"content-type", draw(st.sampled_from([b"application/json", b"text/html"])))]
    if draw(st.integers(0, 5)) == 0:  # headers a rate limiter or a redirect reads
        name = draw(st.sampled_from([b"retry-after", b"x-rate-limit-reset", b"location"]))
        value = draw(st.one_of(st.sampled_from(["1", "-1", "nan", "1e400", ""]), hostile_text(8)))
        headers.append(
            (name, value.encode("utf-8", "surrogatepass").replace(b"\r", b"").replace(b"\n", b""))
        )
    if kind == "keyed":
        body = json.dumps(draw(keyed_json(words))).encode("utf-8", "surrogatepass")
    elif kind == "json":
        body = json.dumps(draw(json_values())).encode("utf-8", "surrogatepass")
    elif kind == "text":
        body = draw(
            st.one_of(
                st.binary(max_size=64),
                hostile_text().map(lambda t: t.encode("utf-8", "surrogatepass")),
            )
        )
    elif kind == "deep":
        body = too_deep()
    else:
        body = b""
    return Answer(status, tuple(headers), body)


def _account(cls: type[Platform]) -> Account:
    """An account of ``cls``'s platform seen by no earlier run: adapters keep caches per
    server and per token (limits, a bot's updates), and each run must start afresh."""
    fresh = uuid.uuid4().hex[:12]
    credentials = {name: f"fuzz-{name}-{fresh}" for name in cls.credential_fields}
    for name in cls.credential_fields:
        if name in ("page_id", "ig_user_id", "user_id", "chat_id"):
            credentials[name] = "1234567890"
        if name == "organization":
            credentials[name] = "urn:li:organization:1234"
        if name == "identifier":
            credentials[name] = "humas.example.com"
    return Account(
        platform=cls.name,
        handle="@humas",
        base_url=f"https://fuzz-{fresh}.example" if cls.default_base_url is None else None,
        credentials=credentials,
    )


REF_IDS = [
    "1",
    "123_456",
    "at://did:plc:abc/app.bsky.feed.post/3k",
    "urn:li:share:1",
    "-1",
    "x" * 300,
    "",
]


async def _no_sleep(_: float) -> None:
    return None


CALLS: dict[str, Callable[[Platform, PostRef], Coroutine[Any, Any, Any]]] = {
    "publish": lambda a, r: a.publish(Post("Halo warga"), idempotency_key="fuzz-key-1"),
    "publish_image": lambda a, r: a.publish(
        Post("Poster", media=[Media(data=tiny_png(), alt_text="poster")]),
        idempotency_key="fuzz-key-2",
    ),
    "reply": lambda a, r: a.publish(Post("Terima kasih", reply_to=r), idempotency_key="fuzz-key-3"),
    "delete": lambda a, r: a.delete(r),
    "fetch_metrics": lambda a, r: a.fetch_metrics([r]),
    "fetch_account_metrics": lambda a, r: a.fetch_account_metrics(),
    "fetch_replies": lambda a, r: a.fetch_replies(r),
    "fetch_mentions": lambda a, r: a.fetch_mentions(since=datetime(2026, 1, 1, tzinfo=UTC)),
    "find_published": lambda a, r: a.find_published("fuzz-key-1"),
    "get_limits": lambda a, r: a.get_limits(),
}


def _check_type(call: str, value: Any) -> None:
    """What each call returns, when it returns."""
    if call.startswith(("publish", "reply")):
        assert isinstance(value, PostRef)
    elif call == "fetch_metrics":
        assert isinstance(value, list) and all(isinstance(m, PostMetrics) for m in value)
    elif call == "fetch_account_metrics":
        assert isinstance(value, AccountMetrics)
    elif call in ("fetch_replies", "fetch_mentions"):
        assert isinstance(value, list) and all(isinstance(i, Interaction) for i in value)
    elif call == "find_published":
        assert value is None or isinstance(value, PostRef)


def run_call(name: str, call: str, ref_id: str, answer: Callable[[], Answer]) -> int:
    """Run adapter ``name``'s ``call`` against ``answer``; return the number of requests."""
    cls = PLATFORMS[name]
    account = _account(cls)
    asked = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal asked
        asked += 1
        if asked > MAX_REQUESTS:
            return httpx.Response(400, json={"error": "the fuzzer stops here"})
        return answer().response()

    try:
        ref = PostRef(platform=name, account=account, id=ref_id)
    except GovSocialError:  # a lone surrogate: refused before any adapter sees it
        return 0

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            http = Http(client, max_attempts=1, max_wait=0.0, sleep=_no_sleep)
            adapter = cls(account, AdapterContext(http=http))
            try:
                try:
                    value = await CALLS[call](adapter, ref)
                except GovSocialError as error:
                    assert str(error)
                except NotImplementedError:  # find_published's documented "cannot be asked"
                    assert call == "find_published"
                else:
                    _check_type(call, value)
            finally:
                await adapter.aclose()

    asyncio.run(go())
    return asked


@pytest.mark.parametrize("name", sorted(PLATFORMS))
@pytest.mark.parametrize("depth", DEPTHS)
def test_random_answers_raise_only_govsocial_errors(depth: settings, name: str) -> None:
    @scaled(depth, 2)
    @given(
        call=st.sampled_from(sorted(CALLS)),
        ref_id=st.one_of(st.sampled_from(REF_IDS), hostile_text(12)),
        data=st.data(),
    )
    def check(call: str, ref_id: str, data: st.DataObject) -> None:
        asked = run_call(name, call, ref_id, lambda: data.draw(answers(WORDS[name])))
        assert asked <= MAX_REQUESTS, f"{name}.{call} kept asking: a loop on random answers"

    check()


@pytest.mark.parametrize("name", sorted(PLATFORMS))
@pytest.mark.parametrize("call", sorted(CALLS))
def test_an_answer_nested_past_the_recursion_limit_is_a_govsocial_error(
    name: str, call: str
) -> None:
    """JSON 100,000 levels deep: Python's json module raises RecursionError reading it."""
    run_call(name, call, "1", lambda: Answer(200, (), too_deep()))
