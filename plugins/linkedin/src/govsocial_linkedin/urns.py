"""LinkedIn URNs: organizations, posts, comments, and how they go into URLs.

Rest.li 2.0 wants every URN URL-encoded in paths and query values
(``urn:li:organization:123`` -> ``urn%3Ali%3Aorganization%3A123``), while the structural
characters of ``List(...)`` stay as they are.
https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/protocol-version
"""

from __future__ import annotations

import re
from urllib.parse import quote

from govsocial.adapters import ConfigurationError

__all__ = [
    "comment_parts",
    "encode",
    "is_comment",
    "organization_urn",
    "post_url",
    "restli_list",
    "restli_object",
]

_ORGANIZATION = re.compile(r"(?:urn:li:(?:organization|company):)?(\d+)")
# urn:li:comment:(urn:li:activity:123,456) - the object the comment is on, then its id
_COMMENT = re.compile(r"urn:li:comment:\((?P<object>urn:li:[A-Za-z]+:[^,()]+),(?P<id>[^,()]+)\)")


def organization_urn(value: str) -> str:
    """``urn:li:organization:N`` for an organization URN or its numeric id.

    :raises ConfigurationError: ``value`` is neither.
    """
    match = _ORGANIZATION.fullmatch(value.strip())
    if match is None:
        raise ConfigurationError(
            f"the LinkedIn organization {value!r} is not an organization URN or numeric id",
            field="credentials.organization",
            hint="give the Page's id as urn:li:organization:12345 or 12345 (LinkedIn shows it "
            "in the Page admin view URL: linkedin.com/company/12345/admin)",
        )
    return f"urn:li:organization:{match.group(1)}"


def encode(urn: str) -> str:
    """``urn`` encoded for a URL path segment or query value."""
    return quote(urn, safe="")


def restli_list(urns: list[str]) -> str:
    """A Rest.li 2.0 ``List(...)`` of encoded URNs."""
    return "List(" + ",".join(encode(urn) for urn in urns) + ")"


def restli_object(values: dict[str, str | int]) -> str:
    """A Rest.li 2.0 object ``(key:value,...)``, keys sorted as LinkedIn's own client writes
    them (``linkedin-api-client``'s encoder; Rest.li objects are unordered)."""
    return "(" + ",".join(f"{encode(k)}:{encode(str(values[k]))}" for k in sorted(values)) + ")"


def is_comment(urn: str) -> bool:
    return urn.startswith("urn:li:comment:")


def comment_parts(urn: str) -> tuple[str, str] | None:
    """``(object URN, comment id)`` of a comment URN, or None when it is not one."""
    match = _COMMENT.fullmatch(urn)
    if match is None:
        return None
    return match.group("object"), match.group("id")


def post_url(urn: str) -> str:
    """The public address of a post."""
    return f"https://www.linkedin.com/feed/update/{urn}/"
