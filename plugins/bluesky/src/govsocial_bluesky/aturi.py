"""``at://`` URIs of records, and the bsky.app web address of a post.

A record's AT URI is ``at://<repo DID>/<collection NSID>/<record key>``
(https://atproto.com/specs/at-uri-scheme). A post's public page is
``https://bsky.app/profile/<handle or DID>/post/<record key>``.
"""

from __future__ import annotations

from typing import NamedTuple

from govsocial.adapters import Problem, ValidationError

__all__ = ["POST_COLLECTION", "AtUri", "post_url"]

POST_COLLECTION = "app.bsky.feed.post"


class AtUri(NamedTuple):
    """The parts of a record's AT URI."""

    repo: str
    collection: str
    rkey: str

    @classmethod
    def parse(cls, uri: str, *, field: str = "ref.id") -> AtUri:
        """Split ``at://repo/collection/rkey``.

        :param field: what ``uri`` is, for the error (``ref.id``, ``reply_to``).
        :raises ValidationError: ``uri`` is not the AT URI of a record (a ValueError too),
            as when a caller passes another platform's reference.
        """
        if not uri.startswith("at://"):
            raise _not_a_record(f"{uri!r} is not an at:// URI", field)
        parts = uri[len("at://") :].split("/")
        if len(parts) != 3 or not all(parts):
            raise _not_a_record(
                f"{uri!r} does not name a record (at://repo/collection/rkey)", field
            )
        return cls(*parts)

    def __str__(self) -> str:
        return f"at://{self.repo}/{self.collection}/{self.rkey}"


def _not_a_record(message: str, field: str) -> ValidationError:
    return ValidationError(
        [Problem(code="invalid_ref", message=message, field=field, platform="bluesky")],
        platform="bluesky",
        subject="post reference",
        hint="pass a reference to a Bluesky post, as publish returned it",
    )


def post_url(uri: str, handle: str | None = None) -> str | None:
    """The bsky.app page of the post at ``uri`` (by ``handle`` when known, else by DID)."""
    try:
        parsed = AtUri.parse(uri)
    except ValueError:
        return None
    if parsed.collection != POST_COLLECTION:
        return None
    who = (handle or "").lstrip("@") or parsed.repo
    return f"https://bsky.app/profile/{who}/post/{parsed.rkey}"
