"""Reading Meta's answers: the error object, throttling codes, usage headers.

Examples from https://developers.facebook.com/docs/graph-api/overview/rate-limiting and
https://developers.facebook.com/docs/graph-api/guides/error-handling; the property tests feed
arbitrary header and body values, which must never raise or leave the budget's range.
"""

from __future__ import annotations

import json

import httpx
from hypothesis import given
from hypothesis import strategies as st

from govsocial_meta_graph import MetaError, parse_error, regain_seconds, usage_state


def test_app_usage_header_is_read_as_percent_used() -> None:
    """The rate-limiting page's X-App-Usage example: call_count 28, total_time 25, cputime 25."""
    headers = httpx.Headers({"X-App-Usage": '{"call_count":28,"total_time":25,"total_cputime":25}'})
    state = usage_state(headers, now=1000.0)
    assert state is not None
    assert (state.limit, state.remaining, state.reset_at) == (100, 72, None)


def test_business_use_case_usage_gives_the_worst_entry_and_the_regain_time() -> None:
    usage = {
        "1234": [
            {
                "type": "pages",
                "call_count": 40,
                "total_cputime": 95,
                "total_time": 10,
                "estimated_time_to_regain_access": 0,
            }
        ],
        "5678": [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 5,
                "total_time": 5,
                "estimated_time_to_regain_access": 3,
            }
        ],
    }
    headers = httpx.Headers({"X-Business-Use-Case-Usage": json.dumps(usage)})
    state = usage_state(headers, now=1000.0)
    assert state is not None
    assert (state.remaining, state.reset_at) == (0, 1000.0 + 180)
    assert regain_seconds(headers) == 180


def test_no_usage_header_is_no_state() -> None:
    assert usage_state(httpx.Headers()) is None
    assert usage_state(httpx.Headers({"X-App-Usage": "not json"})) is None


def test_every_documented_error_field_is_read() -> None:
    body = {
        "error": {
            "message": "Error validating access token: Session has expired",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 463,
            "is_transient": False,
            "error_user_title": "Session expired",
            "error_user_msg": "Log in again.",
            "fbtrace_id": "EJplcsCHuLu",
        }
    }
    error = parse_error(httpx.Response(400, json=body))
    assert error == MetaError(
        message="Error validating access token: Session has expired",
        type="OAuthException",
        code=190,
        subcode=463,
        fbtrace_id="EJplcsCHuLu",
        user_title="Session expired",
        user_message="Log in again.",
        is_transient=False,
    )
    assert error.is_token and error.is_expired and not error.is_throttle
    assert error.meaning == "the token expired"
    assert error.describe() == (
        "Error validating access token: Session has expired: Log in again. "
        "(code 190, subcode 463, fbtrace_id EJplcsCHuLu)"
    )
    assert parse_error(httpx.Response(502, text="<html>Bad gateway</html>")) is None


def test_throttling_codes_and_the_spam_restriction() -> None:
    for code in (4, 17, 32, 613, 80001, 80002, 80014):
        assert MetaError("x", code=code).is_throttle, code
    for code in (None, 1, 2, 10, 100, 190, 80015):
        assert not MetaError("x", code=code).is_throttle, code
    assert not MetaError("restricted", code=4, subcode=2207051).is_throttle
    assert MetaError("x", code=200).is_permission
    assert not MetaError("revoked", code=190, subcode=460).is_expired


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
def test_usage_reading_never_fails_and_stays_in_range(app: str, buc: str) -> None:
    try:
        headers = httpx.Headers({"X-App-Usage": app, "X-Business-Use-Case-Usage": buc})
        headers.get("x-app-usage")
    except (UnicodeEncodeError, ValueError):
        return  # not a value a header can carry
    state = usage_state(headers)
    if state is not None:
        assert state.limit == 100
        assert state.remaining is not None and 0 <= state.remaining <= 100
    wait = regain_seconds(headers)
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
    error = parse_error(httpx.Response(400, content=json.dumps(body).encode()))
    assert error is None or isinstance(error.describe(), str)
