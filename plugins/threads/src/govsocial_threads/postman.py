"""Meta's Threads API Postman collection, read as an oracle for the Threads adapter's tests.

Meta publishes no SDK and no OpenAPI document for Threads; its own Postman collection
(github.com/fbsamples/threads_api, ``postman/threads-api.postman_collection.json``) is the
nearest thing written by the platform: every request with its query parameters (optional
ones as disabled entries), the default ``fields`` lists and metric lists as collection
variables (``fields_threads``, ``metrics_post``...), and an example answer per request.

The file is not copied into this project: it is read where the workspace keeps it,
``shared/specs/threads-api.postman_collection.json`` (its licence beside it), found as
:func:`collection_path` says. Nothing here needs the network.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["COLLECTION_NAME", "Collection", "Route", "collection_path", "template"]

COLLECTION_NAME = "threads-api.postman_collection.json"
#: Names the collection carries in its auth settings rather than on each request, and cursor
#: paging, which it shows on the user's lists only but which every Graph list takes
#: (``paging.cursors.after`` in its own example answers of the replies and conversation).
UNIVERSAL_PARAMS = frozenset({"access_token", "after", "before"})
#: Field-list variables that describe the same object, a Threads media object: the collection
#: asks posts for one and replies for the other, but a post may be a reply and the reverse.
MEDIA_FIELDS = ("fields_threads", "fields_replies")
#: Parameters whose values the collection enumerates (as literals or a comma list variable):
#: a value outside them is a finding.
ENUMERATED = frozenset({"media_type", "grant_type", "reply_control", "search_type", "metric"})
_VARIABLE = re.compile(r"^\{\{(\w+)\}\}$")
_VERSION = re.compile(r"^v\d+\.\d+$")


def collection_path() -> Path | None:
    """The collection, or None when it is absent.

    ``$GOVSOCIAL_SPECS_DIR`` when set; otherwise ``shared/specs/`` beside the clone this
    module is in (``../shared/specs``) or beside any folder above it, so a clone made
    elsewhere under the same workspace finds it (as the X and Mastodon specs are found).
    """
    configured = os.environ.get("GOVSOCIAL_SPECS_DIR")
    candidates = [Path(configured) / COLLECTION_NAME] if configured else []
    here = Path(__file__).resolve()
    candidates += [folder / "shared" / "specs" / COLLECTION_NAME for folder in here.parents]
    return next((path for path in candidates if path.is_file()), None)


def template(path: str) -> str:
    """A request path as the collection's routes are keyed: version dropped, the node id
    (``me``, a number, a ``{{variable}}``) as ``{id}``; ``/v1.0/123/insights`` ->
    ``/{id}/insights``."""
    parts = [p for p in path.split("/") if p]
    if parts and _VERSION.match(parts[0]):
        parts = parts[1:]
    if parts and (parts[0] == "me" or parts[0].isdigit() or _VARIABLE.match(parts[0])):
        parts[0] = "{id}"
    return "/" + "/".join(parts)


@dataclass
class Route:
    """Every request of the collection with one method and path template, merged."""

    method: str
    path: str
    #: parameter -> the values the collection shows for it (literals and variables' lists)
    params: dict[str, set[str]] = field(default_factory=dict)
    #: the example answers (decoded), in the collection's order
    examples: list[Any] = field(default_factory=list)


class Collection:
    """The Postman collection: its routes, variables and example answers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        raw: dict[str, Any] = json.loads(path.read_text())
        self.name = str(raw["info"]["name"])
        self.variables: dict[str, str] = {
            str(v["key"]): str(v.get("value") or "") for v in raw.get("variable", [])
        }
        self.routes: dict[tuple[str, str], Route] = {}
        for item in _requests(raw["item"]):
            request = item["request"]
            url = request["url"]
            key = (str(request["method"]), template("/".join(url.get("path", []))))
            route = self.routes.setdefault(key, Route(*key))
            for query in url.get("query", []):
                values = route.params.setdefault(str(query["key"]), set())
                values.update(self._values(str(query.get("value") or "")))
            for answer in item.get("response", []):
                decoded = _decode(answer.get("body") or "")
                if decoded is not None:
                    route.examples.append(decoded)

    def _values(self, value: str) -> set[str]:
        variable = _VARIABLE.match(value)
        if variable is None:
            return set(_top_level(value))
        if variable[1] in MEDIA_FIELDS:
            return {v for name in MEDIA_FIELDS for v in _top_level(self.variables.get(name, ""))}
        return set(_top_level(self.variables.get(variable[1], "")))

    def route(self, method: str, path: str) -> Route | None:
        """The route a request goes to (``path`` as sent, version included), or None."""
        return self.routes.get((method, template(path)))

    def request_problems(self, method: str, path: str, params: Mapping[str, str]) -> list[str]:
        """What the collection does not show about a request: its route, a parameter, a
        ``fields`` name or an enumerated value ([] when it shows all of it)."""
        route = self.route(method, path)
        where = f"{method} {template(path)}"
        if route is None:
            return [f"{where} is not in Meta's {self.name} collection"]
        problems: list[str] = []
        for name, value in params.items():
            if name in UNIVERSAL_PARAMS:
                continue
            if name not in route.params:
                problems.append(f"{where}: the collection shows no parameter {name!r}")
            elif name == "fields" or name in ENUMERATED:
                unknown = sorted(set(_top_level(value)) - route.params[name])
                if unknown:
                    problems.append(f"{where}: {name} {unknown} not in the collection's {name}")
        return problems

    def answer_problems(
        self, method: str, path: str, params: Mapping[str, str], answer: Any
    ) -> list[str]:
        """The keys of a successful answer that neither the route's example answers nor the
        request's ``fields`` list show (an emulator answering what Meta never sends)."""
        route = self.route(method, path)
        if route is None or not route.examples or not isinstance(answer, dict):
            return []
        if "error" in answer:
            return []
        asked = set(_top_level(params.get("fields", ""))) | {"id"}
        top: set[str] = set()
        items: set[str] = set()
        for example in route.examples:
            if isinstance(example, dict):
                top |= set(example)
                for item in example.get("data") or []:
                    if isinstance(item, dict):
                        items |= set(item)
        where = f"{method} {template(path)}"
        problems = [
            f"{where}: the answer has {key!r}, which Meta's example answers do not"
            for key in answer
            if key not in top | asked
        ]
        for item in answer.get("data") or []:
            if isinstance(item, dict):
                problems += [
                    f"{where}: an item of the answer has {key!r}, which Meta's examples do not"
                    for key in item
                    if key not in items | asked
                ]
        return problems


def _requests(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        if "item" in item:
            yield from _requests(item["item"])
        elif "request" in item:
            yield item


def _top_level(value: str) -> list[str]:
    """``a,b{c,d},e`` -> ``[a, b, e]`` (a nested list names sub-fields of ``b``)."""
    names, depth, current = [], 0, ""
    for char in value:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current)
            current = ""
        elif depth == 0:
            current += char
    names.append(current)
    return [n.strip() for n in names if n.strip()]


def _decode(body: str) -> Any:
    """An example body as JSON. Meta's examples sometimes write ``<string>`` unquoted and
    elide list items with ``...``: both are mended (quoted; dropped) before decoding."""
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        mended = re.sub(r"(?<![\"\w])<(\w+)>(?![\"\w])", r'"<\1>"', body)
        mended = re.sub(r",\s*\.\.\.\s*(?=[\]}])", "", mended)
        try:
            return json.loads(mended)
        except ValueError:
            return None
