"""Meta's shared answer parts: usage headers, error bodies, throttling codes (meta.py).

Header and body shapes from https://developers.facebook.com/docs/graph-api/overview/rate-limiting
and https://developers.facebook.com/docs/graph-api/guides/error-handling .
"""

from __future__ import annotations

import json

import httpx
from hypothesis import given
from hypothesis import strategies as st

from govsocial_facebook import Facebook
from govsocial_facebook.meta import (
    graph_error,
    is_throttle_code,
    regain_access_seconds,
    usage_rate_state,
)


def test_app_usage_header_is_read_as_percent_used() -> None:
    """The rate-limiting page's X-App-Usage example: call_count 28, total_time 25, cputime 25."""
    response = httpx.Response(
        200,
        headers={"X-App-Usage": '{"call_count":28,"total_time":25,"total_cputime":25}'},
    )
    state = usage_rate_state(response, now=1000.0)
    assert state is not None
    assert (state.limit, state.remaining, state.reset_at) == (100, 72, None)


def test_business_use_case_header_gives_the_worst_entry_and_the_regain_time() -> None:
    usage = {
        "1234": [
            {
                "type": "pages",
                "call_count": 40,
                "total_cputime": 95,
                "total_time": 10,
                "estimated_time_to_regain_access": 0,
            },
        ],
        "5678": [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 5,
                "total_time": 5,
                "estimated_time_to_regain_access": 3,
            },
        ],
    }
    response = httpx.Response(200, headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    state = usage_rate_state(response, now=1000.0)
    assert state is not None
    assert (state.remaining, state.reset_at) == (0, 1000.0 + 180)
    assert regain_access_seconds(response) == 180
    assert Facebook.retry_after(response) == 180


def test_no_usage_header_is_no_state() -> None:
    assert usage_rate_state(httpx.Response(200)) is None
    assert usage_rate_state(httpx.Response(200, headers={"X-App-Usage": "not json"})) is None


def test_throttle_codes() -> None:
    for code in (4, 17, 32, 613, 80001, 80002, 80014, 2, 341):
        assert is_throttle_code(code), code
    for code in (None, 1, 10, 100, 190, 200, 506, 80015):
        assert not is_throttle_code(code), code


def test_throttling_and_auth_are_recognised_in_http_400_and_403() -> None:
    throttled = httpx.Response(
        403, json={"error": {"message": "(#32) Page request limit reached", "code": 32}}
    )
    expired = httpx.Response(
        400, json={"error": {"message": "expired", "code": 190, "error_subcode": 463}}
    )
    other = httpx.Response(400, json={"error": {"message": "(#100) bad", "code": 100}})
    assert Facebook.is_throttled(throttled) and not Facebook.is_auth_failure(throttled)
    assert Facebook.is_auth_failure(expired) and not Facebook.is_throttled(expired)
    assert not Facebook.is_throttled(other) and not Facebook.is_auth_failure(other)


header_values = st.one_of(
    st.text(max_size=60),
    st.dictionaries(
        st.text(max_size=8), st.one_of(st.integers(), st.floats(), st.text(max_size=5), st.none())
    ).map(json.dumps),
    st.dictionaries(
        st.text(max_size=8),
        st.lists(
            st.dictionaries(
                st.sampled_from(
                    [
                        "call_count",
                        "total_time",
                        "total_cputime",
                        "estimated_time_to_regain_access",
                        "type",
                    ]
                ),
                st.one_of(st.integers(-5, 500), st.floats(allow_nan=True), st.text(max_size=3)),
            ),
            max_size=3,
        ),
    ).map(json.dumps),
)


@given(app=header_values, buc=header_values)
def test_usage_parsing_never_fails_and_stays_in_range(app: str, buc: str) -> None:
    try:
        response = httpx.Response(
            200, headers={"X-App-Usage": app, "X-Business-Use-Case-Usage": buc}
        )
    except (UnicodeEncodeError, ValueError):
        return  # not a value a header can carry
    state = usage_rate_state(response)
    if state is not None:
        assert state.limit == 100
        assert state.remaining is not None and 0 <= state.remaining <= 100
    wait = regain_access_seconds(response)
    assert wait is None or wait > 0


@given(
    body=st.recursive(
        st.one_of(st.none(), st.integers(), st.text(max_size=10), st.booleans()),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(
                st.sampled_from(["error", "message", "code", "error_subcode", "fbtrace_id"]),
                inner,
                max_size=4,
            ),
        ),
        max_leaves=10,
    )
)
def test_error_parsing_never_fails(body: object) -> None:
    response = httpx.Response(400, content=json.dumps(body).encode())
    error = graph_error(response)
    assert error is None or isinstance(error.message, str)
    assert isinstance(Facebook.error_message(response), str)
