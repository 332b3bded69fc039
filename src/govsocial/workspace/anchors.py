"""Audit anchors: the log's head published as a post, outside the database.

Someone who can write to the database can rewrite the audit log and recompute its hash
chain; a signature stops them only for people who sign. An anchor is the head (entry
number, the first 32 hex digits of its hash, its date) posted as a normal post on an account
the agency chooses (a dedicated transparency account is typical). Once it is public, anyone
can hold the database to it: read the posts back from the platform and pass their text to
``ws.verify_audit(anchors=[...])``, which names any entry that differs.

The text (:meth:`~govsocial.workspace.audit.AuditAnchor.text`)::

    govsocial audit anchor of Dinas Kominfo: entry #42, hash 3f2a9c…(32 hex digits),
    2026-12-06T07:15:02Z. Anyone may hold the audit log to this post.

32 hex digits are 128 bits: forging a log whose entry has the same prefix is out of reach.
"""

from __future__ import annotations

from typing import Any

from govsocial.core.errors import ConfigurationError, GovSocialError
from govsocial.core.models import Post
from govsocial.core.timing import from_epoch
from govsocial.workspace.audit import AuditAnchor
from govsocial.workspace.core import WorkspaceCore

__all__ = ["ANCHOR_HASH_DIGITS", "publish"]

#: How many hex digits of the head's hash an anchor carries.
ANCHOR_HASH_DIGITS = 32


def publish(
    core: WorkspaceCore, account: str, *, by: str | None = None, **client_options: Any
) -> AuditAnchor:
    """Post the current head on ``account`` now; return the anchor (with the post's URL).

    The post and its audit entry (``publish_audit_anchor``, naming the entry anchored and
    the post) are the record; the entry comes after the head it anchors.

    :raises NotPermitted: ``by`` may not post on the governed account, or did not sign.
    :raises ConfigurationError: the log is empty.
    :raises GovSocialError: the platform refused the post.
    """
    decrees = core.authority.authorize("publish_audit_anchor", by, [account], obj=None)
    with core.store.transaction() as tx:
        last = core.store.audit.last(tx)
    if last is None:
        raise ConfigurationError(
            "the audit log is empty: there is nothing to anchor yet", field="audit"
        )
    seq, digest, at = last
    anchor = AuditAnchor(seq=seq, hash=digest[:ANCHOR_HASH_DIGITS], at=from_epoch(at))
    target = core.account(account)
    with core.using_client(**client_options) as client:
        [result] = client.publish(Post(anchor.text(core.institution)), [target])
    with core.store.transaction() as tx:
        core.record(
            tx,
            by,
            "publish_audit_anchor" if result.ok else "publish_audit_anchor_failed",
            obj=result.ref.id if result.ref else None,
            account=account,
            decree=decrees[account],
            detail={
                "seq": seq,
                "hash": anchor.hash,
                "url": result.ref.url if result.ref else None,
                "error": str(result.error) if result.error else None,
            },
        )
    if not result.ok or result.ref is None:
        raise result.error or GovSocialError("the anchor was not published")
    return anchor.model_copy(update={"url": result.ref.url})
