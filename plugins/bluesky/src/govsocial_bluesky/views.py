"""AppView answers (post views, threads, notifications) turned into govsocial models.

The shapes are those of the ``app.bsky.feed.defs`` and ``app.bsky.notification``
lexicons (https://docs.bsky.app/docs/api/app-bsky-feed-get-posts,
https://docs.bsky.app/docs/api/app-bsky-feed-get-post-thread,
https://docs.bsky.app/docs/api/app-bsky-notification-list-notifications).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from govsocial.adapters import Account, Interaction, PostMetrics, PostRef
from govsocial_bluesky.aturi import post_url

__all__ = [
    "COUNTS",
    "interaction",
    "metrics",
    "parse_datetime",
    "ref_extra",
    "thread_replies",
]

#: getPosts count fields by govsocial metric name.
COUNTS = {
    "likes": "likeCount",
    "reposts": "repostCount",
    "replies": "replyCount",
    "quotes": "quoteCount",
}
_THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"


def parse_datetime(value: object) -> datetime | None:
    """An aware datetime from an AT Protocol datetime string (None when unreadable)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def ref_extra(cid: str | None, record: Mapping[str, Any] | None) -> dict[str, str]:
    """A PostRef's ``extra``: the post's CID and, for a reply, its thread root."""
    extra: dict[str, str] = {}
    if cid:
        extra["cid"] = cid
    reply = (record or {}).get("reply")
    root = reply.get("root") if isinstance(reply, dict) else None
    if isinstance(root, dict) and isinstance(root.get("uri"), str):
        extra["root_uri"] = root["uri"]
        if isinstance(root.get("cid"), str):
            extra["root_cid"] = root["cid"]
    return extra


def metrics(ref: PostRef, view: Mapping[str, Any] | None, collected_at: datetime) -> PostMetrics:
    """A post's figures from its post view; all None when the AppView did not return it."""
    if view is None:
        return PostMetrics(ref=ref, collected_at=collected_at)
    values: dict[str, int | None] = {}
    raw: dict[str, Any] = {}
    for name, field in COUNTS.items():
        value = view.get(field)
        values[name] = value if isinstance(value, int) and not isinstance(value, bool) else None
        raw[field] = value
    if isinstance(view.get("indexedAt"), str):
        raw["indexedAt"] = view["indexedAt"]
    return PostMetrics(ref=ref, collected_at=collected_at, raw=raw, **values)


def interaction(
    view: Mapping[str, Any],
    *,
    kind: Literal["reply", "mention"],
    account: Account,
    fallback_time: datetime,
) -> Interaction | None:
    """An Interaction for a post view (or a notification, which has the same fields).

    ``account`` is the account that fetched it, so replying to it acts as that account.
    Returns None for a view without a URI or record.
    """
    uri, record = view.get("uri"), view.get("record")
    if not isinstance(uri, str) or not isinstance(record, dict):
        return None
    cid = view.get("cid") if isinstance(view.get("cid"), str) else None
    author = _mapping(view.get("author"))
    handle = str(author.get("handle") or author.get("did") or "")
    reply = _mapping(record.get("reply"))
    parent, root = _mapping(reply.get("parent")), _mapping(reply.get("root"))
    created = (
        parse_datetime(record.get("createdAt"))
        or parse_datetime(view.get("indexedAt"))
        or fallback_time
    )
    name = author.get("displayName")
    return Interaction(
        kind=kind,
        ref=PostRef(
            platform="bluesky",
            account=account,
            id=uri,
            url=post_url(uri, handle or None),
            extra=ref_extra(cid, record),
        ),
        author=handle,
        author_name=name if isinstance(name, str) and name else None,
        text=str(record.get("text") or ""),
        created_at=created,
        in_reply_to_id=parent.get("uri") if isinstance(parent.get("uri"), str) else None,
        thread_id=root.get("uri") if isinstance(root.get("uri"), str) else None,
        # the AppView's clock (it never sorts a post later than it saw it); createdAt is the
        # author's, and one post dated 2099 must not become the inbox's cursor
        received_at=parse_datetime(view.get("indexedAt")),
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def thread_replies(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every post view below a thread node, depth first (blocked or missing posts skipped)."""
    replies = node.get("replies")
    if not isinstance(replies, list):
        return
    for child in replies:
        if not isinstance(child, dict):
            continue
        if child.get("$type", _THREAD_VIEW) != _THREAD_VIEW:
            continue
        post = child.get("post")
        if isinstance(post, dict):
            yield post
        yield from thread_replies(child)
