"""The reader of Meta's facebook-business SDK refuses what the SDK does not declare.

The Facebook and Instagram tests hold their traffic to it; these tests show the check is not
vacuous: each kind of mistake an adapter could make is caught.
"""

from __future__ import annotations

import sys

import pytest

from govsocial_meta_graph.business_sdk import BusinessSdk, graph_path, split_fields


@pytest.fixture(scope="module")
def sdk() -> BusinessSdk:
    return BusinessSdk()


def test_the_sdk_is_read_without_importing_it(sdk: BusinessSdk) -> None:
    assert sdk.api_version.startswith("v") and sdk.version
    assert sdk.node("Page").fields["fan_count"] == "unsigned int"
    assert "facebook_business.api" not in sys.modules


def test_a_documented_request_passes(sdk: BusinessSdk) -> None:
    params = {
        "fields": "id,message,from{id,name},created_time,parent{id},permalink_url",
        "filter": "stream",
        "order": "chronological",
        "limit": "100",
    }
    assert sdk.request_problems(["PagePost", "Comment"], "GET", "/1_2/comments", params) == []


@pytest.mark.parametrize(
    ("method", "path", "params", "words"),
    [
        ("POST", "/1/feed", {"mesage": "x"}, "declares no param 'mesage'"),
        ("GET", "/1/comments", {"filter": "strem"}, "not one of ['stream', 'toplevel']"),
        ("GET", "/1", {"fields": "followers_count,fans_count"}, "no field or edge 'fans_count'"),
        ("GET", "/1", {"fields": "comments.filter(strem)"}, "not one of"),
        ("GET", "/1", {"fields": "comments{id,mesage}"}, "no field or edge 'mesage'"),
        ("POST", "/1/photos", {"published": "maybe"}, "not a bool"),
        ("POST", "/1/feeds", {}, "has no POST /feeds"),
    ],
)
def test_each_kind_of_mistake_is_caught(
    sdk: BusinessSdk, method: str, path: str, params: dict[str, str], words: str
) -> None:
    problems = sdk.request_problems(["PagePost", "Page"], method, path, params)
    assert any(words in p for p in problems), problems


def test_an_answer_with_a_field_meta_does_not_have_is_caught(sdk: BusinessSdk) -> None:
    [problem] = sdk.answer_problems("Page", {"id": "1", "followers_count": 3, "uploaded": True})
    assert "'uploaded'" in problem


def test_paths_and_field_lists_are_read_as_graph_writes_them() -> None:
    assert graph_path("/v26.0/1_2/comments") == "/1_2/comments"
    assert graph_path("/v26.0") == "/"
    assert graph_path("/media/a.png") is None
    assert split_fields("a,b.summary(x,y),c{d,e}") == ["a", "b.summary(x,y)", "c{d,e}"]
