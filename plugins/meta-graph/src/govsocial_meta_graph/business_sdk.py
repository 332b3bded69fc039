"""What Meta's own ``facebook-business`` SDK declares about the Graph API, read from its source.

An oracle for the Facebook and Instagram adapters' tests, written by Meta rather than by this
project: the SDK (PyPI ``facebook-business``, the test extra of govsocial-facebook and
govsocial-instagram) is generated from Meta's API specs, one class per Graph node in
``facebook_business/adobjects/``, with

- ``_field_types``: every field the node answers, with its type (``'Comment'``, ``'int'``...);
- one method per edge (``get_comments``, ``create_photo``, ``api_delete``...) holding the HTTP
  method, the endpoint (``'/comments'``, ``'/'`` for the node itself), the declared
  ``param_types`` and ``enums``, and the node class it answers with (``target_class``);
- enum classes (``Comment.Filter``, ``InsightsResult.Metric``) with their values.

The source is parsed with :mod:`ast` and never imported: the SDK's runtime (requests, curlify,
its global session) stays out of the tests, and nothing here needs the network.

:class:`BusinessSdk` answers :meth:`~BusinessSdk.request_problems`: given a Graph request
(method, path, query or form fields) and the node types its ids may be, what the SDK does not
declare: an unknown edge, parameter, field (``fields=a,b{c},d.filter(x)`` is read to every
depth) or enum value, or a value of the wrong type. :meth:`~BusinessSdk.answer_problems` does
the same for an answer's field names, so an emulator cannot answer fields Meta does not have.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["BusinessSdk", "Edge", "Node", "SdkMissing", "graph_path", "split_fields"]

#: Query and form names every Graph request may carry, which the SDK's edges do not declare:
#: the token and its proof, the field selection, the multiple-id lookup, cursor and time-based
#: paging (https://developers.facebook.com/docs/graph-api/results: ``since``/``until`` on any
#: edge that pages by time; the SDK declares them on a few edges only, e.g. not on
#: ``Page.get_feed``, so whether a given edge honours them is not something it can tell).
UNIVERSAL_PARAMS = frozenset(
    {
        "access_token",
        "appsecret_proof",
        "fields",
        "limit",
        "after",
        "before",
        "ids",
        "since",
        "until",
    }
)
#: Modifiers a field expansion may carry on any edge (``comments.limit(0).summary(true)``).
UNIVERSAL_MODIFIERS = frozenset({"limit", "summary", "after", "before"})
#: Field types that cannot have sub-fields (``Object`` and ``map`` can: the SDK leaves them
#: untyped, so their sub-fields go unchecked).
_PRIMITIVES = frozenset({"string", "int", "unsigned int", "float", "bool", "datetime"})


class SdkMissing(LookupError):
    """The ``facebook-business`` distribution is not installed (install the test extra)."""


@dataclass(frozen=True)
class Edge:
    """One SDK method: ``node.name`` sends ``method`` to ``/{id}{endpoint}``."""

    node: str
    name: str
    method: str
    endpoint: str
    params: Mapping[str, str]
    #: an enum type of ``params`` -> the SDK class and its enum class (``Comment``, ``Filter``)
    enums: Mapping[str, tuple[str, str]]
    target: str


@dataclass(frozen=True)
class Node:
    """One Graph node class of the SDK: its fields, edges and enum classes."""

    name: str
    fields: Mapping[str, str]
    edges: tuple[Edge, ...]
    enum_classes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def edge(self, method: str, endpoint: str) -> Edge | None:
        """The SDK method for ``method`` on ``endpoint`` (``'/comments'``; ``'/'`` the node)."""
        return next((e for e in self.edges if e.method == method and e.endpoint == endpoint), None)

    @property
    def readable_edges(self) -> dict[str, Edge]:
        """The GET edges, by name (a field list may expand them: ``comments.limit(0)``)."""
        return {
            e.endpoint.strip("/"): e for e in self.edges if e.method == "GET" and e.endpoint != "/"
        }


def split_fields(expression: str) -> list[str]:
    """``a,b.summary(x,y),c{d,e}`` split at its top-level commas."""
    out: list[str] = []
    depth = 0
    current = ""
    for char in expression:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if char == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += char
    out.append(current)
    return [item.strip() for item in out if item.strip()]


_ITEM = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<mods>(?:\.[A-Za-z_]+\([^()]*\))*)")
_MODIFIER = re.compile(r"\.([A-Za-z_]+)\(([^()]*)\)")


class BusinessSdk:
    """The installed ``facebook-business`` SDK, read (not imported) from its source."""

    def __init__(self, root: Path | None = None) -> None:
        if root is None:
            spec = importlib.util.find_spec("facebook_business")
            if spec is None or not spec.submodule_search_locations:
                raise SdkMissing(
                    "facebook-business is not installed: install the test extra "
                    "(scripts/install --test)"
                )
            root = Path(next(iter(spec.submodule_search_locations)))
        self.root = root
        self._nodes: dict[str, Node] = {}
        self._modules: dict[str, str] = {}

    @cached_property
    def version(self) -> str:
        """The distribution's version (``26.0.3``)."""
        return metadata.version("facebook-business")

    @cached_property
    def api_version(self) -> str:
        """The Graph API version the SDK was generated for (``v26.0``)."""
        tree = ast.parse((self.root / "apiconfig.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "API_VERSION":
                        assert isinstance(value, ast.Constant)
                        return str(value.value)
        raise SdkMissing("facebook_business/apiconfig.py names no API_VERSION")

    # -- reading the source -----------------------------------------------------------------

    def node(self, name: str) -> Node:
        """The node class ``name`` (``Page``, ``IGMedia``...); KeyError when the SDK has none."""
        if name not in self._nodes:
            module = self._modules.get(name, name.lower())
            path = self.root / "adobjects" / f"{module}.py"
            if not path.is_file():
                raise KeyError(f"facebook-business {self.version} has no node class {name}")
            self._nodes[name] = self._read(name, path)
        return self._nodes[name]

    def has_node(self, name: str) -> bool:
        """True when the SDK has a node class ``name`` (a field type may name one)."""
        try:
            self.node(name)
        except KeyError:
            return False
        return True

    def _read(self, name: str, path: Path) -> Node:
        tree = ast.parse(path.read_text())
        cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
        if cls is None:
            raise KeyError(f"{path.name} defines no class {name}")
        fields: dict[str, str] = {}
        enum_classes: dict[str, frozenset[str]] = {}
        edges: list[Edge] = []
        for item in cls.body:
            if isinstance(item, ast.Assign) and _target_name(item) == "_field_types":
                fields = {k: v for k, v in _literal_dict(item.value).items()}
            elif isinstance(item, ast.ClassDef) and item.name != "Field":
                enum_classes[item.name] = frozenset(
                    str(a.value.value)
                    for a in item.body
                    if isinstance(a, ast.Assign) and isinstance(a.value, ast.Constant)
                )
            elif isinstance(item, ast.FunctionDef):
                edge = self._edge(name, item)
                if edge is not None:
                    edges.append(edge)
        return Node(name, fields, tuple(edges), enum_classes)

    def _edge(self, node: str, function: ast.FunctionDef) -> Edge | None:
        params: dict[str, str] = {}
        enum_refs: dict[str, tuple[str, str]] = {}
        request: ast.Call | None = None
        for statement in ast.walk(function):
            if isinstance(statement, ast.ImportFrom) and statement.module:
                for alias in statement.names:
                    self._modules.setdefault(alias.name, statement.module.rsplit(".", 1)[-1])
            if isinstance(statement, ast.Assign) and _target_name(statement) == "param_types":
                params = _literal_dict(statement.value)
            elif isinstance(statement, ast.Assign) and _target_name(statement) == "enums":
                assert isinstance(statement.value, ast.Dict)
                for key, value in zip(statement.value.keys, statement.value.values, strict=True):
                    # 'filter_enum': Comment.Filter.__dict__.values()
                    chain = _attribute_chain(value)
                    if isinstance(key, ast.Constant) and len(chain) >= 2:
                        enum_refs[str(key.value)] = (chain[0], chain[1])
            elif (
                isinstance(statement, ast.Call)
                and isinstance(statement.func, ast.Name)
                and statement.func.id == "FacebookRequest"
            ):
                request = statement
        if request is None:
            return None
        keywords = {k.arg: k.value for k in request.keywords if k.arg}
        method = keywords.get("method")
        endpoint = keywords.get("endpoint")
        target = keywords.get("target_class")
        if not isinstance(method, ast.Constant) or not isinstance(endpoint, ast.Constant):
            return None
        return Edge(
            node=node,
            name=function.name,
            method=str(method.value),
            endpoint=str(endpoint.value),
            params=params,
            enums=enum_refs,
            target=target.id if isinstance(target, ast.Name) else "AbstractCrudObject",
        )

    def edge_enums(self, edge: Edge) -> dict[str, frozenset[str]]:
        """The values of each enum type ``edge``'s params use (``filter_enum``: ...)."""
        return {key: self.enum_values(*ref) for key, ref in edge.enums.items()}

    def enum_values(self, owner: str, enum_class: str) -> frozenset[str]:
        """The values of enum class ``owner.enum_class`` (``Comment``, ``Filter``)."""
        return self.node(owner).enum_classes.get(enum_class, frozenset())

    # -- checking ---------------------------------------------------------------------------

    def request_problems(
        self,
        candidates: Iterable[str],
        method: str,
        path: str,
        params: Mapping[str, str],
    ) -> list[str]:
        """What the SDK does not declare about a request, or [] when one node type fits it.

        ``path`` is the part after the version (``/123/comments``; ``/`` for ``?ids=``);
        ``candidates`` are the node types its id may be (``Page``, ``PagePost``...); the
        request is accepted when it fits at least one of them entirely.
        """
        return self.match(candidates, method, path, params)[1]

    def match(
        self,
        candidates: Iterable[str],
        method: str,
        path: str,
        params: Mapping[str, str],
    ) -> tuple[Edge | None, list[str]]:
        """The SDK edge that declares the request (and no problems), or the fewest problems."""
        parts = [p for p in path.split("/") if p]
        endpoint = "/" + parts[1] if len(parts) > 1 else "/"
        if len(parts) > 2:
            return None, [f"{method} {path}: the SDK has no edge below an edge"]
        missing: list[str] = []
        found: list[list[str]] = []
        for name in candidates:
            edge = self.node(name).edge(method, endpoint)
            if edge is None:
                missing.append(
                    f"{name} has no {method} {endpoint} in facebook-business {self.version}"
                )
                continue
            problems = self.params_problems(edge, params)
            if not problems:
                return edge, []
            found.append(problems)
        # the node types that have the edge explain best what is wrong with the request
        if found:
            return None, min(found, key=len)
        return None, missing or [f"{method} {path}: no candidate node"]

    def exchange_problems(
        self,
        candidates: Iterable[str],
        method: str,
        path: str,
        params: Mapping[str, str],
        answer: Any = None,
    ) -> list[str]:
        """:meth:`request_problems`, then, for a successful read, the answer's field names
        (a node's keys; each item of an edge's ``data``) against the node it reads."""
        edge, problems = self.match(candidates, method, path, params)
        if edge is None or method != "GET" or not isinstance(answer, dict) or "error" in answer:
            return problems
        if edge.endpoint != "/":
            items = answer.get("data")
            if not isinstance(items, list):
                return []
            return [p for item in items for p in self.answer_problems(edge.target, item)]
        if "ids" in params:
            return [p for item in answer.values() for p in self.answer_problems(edge.node, item)]
        return self.answer_problems(edge.node, answer)

    def params_problems(self, edge: Edge, params: Mapping[str, str]) -> list[str]:
        """The parameters (and the ``fields`` list) ``edge`` does not declare or type so."""
        where = f"{edge.node}.{edge.name}"
        problems: list[str] = []
        for raw, value in params.items():
            name = re.sub(r"\[\d*\]$", "", raw)  # attached_media[0]
            if re.fullmatch(r"source\d*", name) and value.startswith("<file "):
                # a multipart file: the SDK sends files as source, source1... (api.py add_file)
                continue
            if name == "fields":
                target = edge.node if edge.endpoint == "/" else edge.target
                problems += self.fields_problems(target, value)
            elif name in edge.params:
                problem = self.value_problem(edge.params[name], self.edge_enums(edge), value)
                if problem:
                    problems.append(f"{where} param {name}={value!r}: {problem}")
            elif name not in UNIVERSAL_PARAMS:
                problems.append(f"{where} declares no param {name!r}")
        return problems

    def fields_problems(self, node_name: str, expression: str) -> list[str]:
        """The names in a ``fields=`` list that node ``node_name`` has neither as a field
        nor as an edge, to every depth of ``{...}`` and every ``.modifier(value)``."""
        node = self.node(node_name)
        problems: list[str] = []
        for item in split_fields(expression):
            match = _ITEM.match(item)
            if match is None:
                problems.append(f"{node_name}: unreadable field {item!r}")
                continue
            name = match["name"]
            rest = item[match.end() :].strip()
            sub = rest[1:-1] if rest.startswith("{") and rest.endswith("}") else None
            if rest and sub is None:
                problems.append(f"{node_name}: unreadable field {item!r}")
                continue
            modifiers = _MODIFIER.findall(match["mods"])
            if name in node.fields:
                if modifiers:
                    problems.append(f"{node_name}.{name} is a field: it takes no {modifiers}")
                kind = _element_type(node.fields[name])
                if sub is not None and self.has_node(kind):
                    problems += self.fields_problems(kind, sub)
                elif sub is not None and kind in _PRIMITIVES:
                    problems.append(f"{node_name}.{name} is a {kind}: it has no sub-fields")
                continue
            edge = node.readable_edges.get(name)
            if edge is None:
                problems.append(
                    f"{node_name} has no field or edge {name!r} in facebook-business {self.version}"
                )
                continue
            for key, value in modifiers:
                if key in UNIVERSAL_MODIFIERS:
                    continue
                if key not in edge.params:
                    problems.append(f"{node_name}.{name} edge declares no param {key!r}")
                    continue
                problem = self.value_problem(edge.params[key], self.edge_enums(edge), value)
                if problem:
                    problems.append(f"{node_name}.{name}.{key}({value}): {problem}")
            if sub is not None:
                problems += self.fields_problems(edge.target, sub)
        return problems

    def answer_problems(self, node_name: str, answer: Any) -> list[str]:
        """The keys of a node's answer that are neither fields nor edges of ``node_name``."""
        if not isinstance(answer, dict):
            return []
        node = self.node(node_name)
        known = set(node.fields) | set(node.readable_edges)
        return [
            f"the answer has {key!r}, which {node_name} does not have in facebook-business "
            f"{self.version}"
            for key in answer
            if key not in known
        ]

    def value_problem(self, kind: str, enums: Mapping[str, frozenset[str]], value: str) -> str:
        """Why ``value`` (as sent on the wire) is not of the SDK type ``kind`` ('' if it is)."""
        if kind.startswith("list<") and kind.endswith(">"):
            inner = kind[5:-1]
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = None
            if inner in ("Object", "map"):
                return ""
            items = [str(x) for x in decoded] if isinstance(decoded, list) else value.split(",")
            for item in items:
                problem = self.value_problem(inner, enums, item.strip())
                if problem:
                    return problem
            return ""
        if kind in enums:
            return "" if value in enums[kind] else f"not one of {sorted(enums[kind])}"
        if kind == "bool":
            return "" if value.lower() in ("true", "false", "1", "0") else "not a bool"
        if kind in ("int", "unsigned int"):
            return "" if re.fullmatch(r"-?\d+", value) else "not an integer"
        if kind == "float":
            try:
                float(value)
            except ValueError:
                return "not a number"
        return ""


def _target_name(assign: ast.Assign) -> str | None:
    target = assign.targets[0] if len(assign.targets) == 1 else None
    return target.id if isinstance(target, ast.Name) else None


def _literal_dict(value: ast.expr) -> dict[str, str]:
    if not isinstance(value, ast.Dict):
        return {}
    return {
        str(k.value): str(v.value)
        for k, v in zip(value.keys, value.values, strict=True)
        if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
    }


def _attribute_chain(value: ast.expr) -> list[str]:
    """``Comment.Filter.__dict__.values()`` -> ``['Comment', 'Filter', '__dict__', 'values']``."""
    if isinstance(value, ast.Call):
        value = value.func
    names: list[str] = []
    while isinstance(value, ast.Attribute):
        names.append(value.attr)
        value = value.value
    if isinstance(value, ast.Name):
        names.append(value.id)
    return names[::-1]


def _element_type(kind: str) -> str:
    return kind[5:-1] if kind.startswith("list<") and kind.endswith(">") else kind


_VERSIONED = re.compile(r"^/v\d+\.\d+(?P<rest>/.*)?$")


def graph_path(path: str) -> str | None:
    """``/v26.0/123/comments`` -> ``/123/comments`` (``/`` for the root); None when ``path``
    is not a versioned Graph path (a media download, an unversioned token call)."""
    match = _VERSIONED.match(path)
    if match is None:
        return None
    return match["rest"] or "/"
