"""Facebook's reading of Meta's answers (govsocial_facebook.meta), over govsocial_meta_graph:
the two temporary codes it adds, and the adapter's throttling, auth and retry decisions.
"""

from __future__ import annotations

import json

import httpx

from govsocial_facebook import Facebook
from govsocial_facebook.meta import is_throttle_code


def test_business_use_case_regain_time_is_the_retry_wait() -> None:
    usage = {"5678": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 3}]}
    response = httpx.Response(200, headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    assert Facebook.retry_after(response) == 180


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
