"""The accountability commands of the ``govsocial`` command line.

``people``, ``appoint``, ``revoke``, ``rule``, ``drafts``, ``approve``, ``reject``,
``requests``, ``audit`` and ``archive`` act on the workspace named by ``--db``. ``--by``
(default ``$GOVSOCIAL_ACTOR``) names who acts, ``--key`` (default ``$GOVSOCIAL_KEY``) their
signing key when they sign. ``drafts show`` lists every media file of a draft with its
SHA-256: what an approval covers.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from govsocial.cli._common import (
    by_arg,
    media_args,
    models_json,
    needs_by,
    open_workspace,
    post_from_args,
    print_json,
    shown,
    signing_key,
)

if TYPE_CHECKING:
    from govsocial.accountability.governance import ContentRequest, Draft
    from govsocial.cli._common import Commands

__all__ = ["add_parsers"]


def add_parsers(commands: Commands) -> None:
    """Add the accountability subcommands to the main parser."""
    people = commands.add_parser("people", help="the people who act on the accounts")
    people_do = people.add_subparsers(dest="people_command", metavar="ACTION")
    add = people_do.add_parser("add", help="add (or update) a person")
    add.add_argument("id", help="a short handle, e.g. siti")
    add.add_argument("--name", required=True, help="full name")
    add.add_argument("--unit", help="unit (unit kerja), e.g. Diskominfo")
    add.add_argument(
        "--public-key",
        metavar="KEY",
        help="ed25519:... (printed by `govsocial keys new NAME`): the person signs from then on",
    )
    by_arg(add)
    people_do.add_parser("list", help="list people and their appointments")
    people.set_defaults(handler=_cmd_people)

    appoint = commands.add_parser(
        "appoint", help="appoint a person to accounts (or as head of office) under a decree"
    )
    appoint.add_argument("person")
    appoint.add_argument(
        "--to", action="append", default=[], metavar="ACCOUNT", help="an account (not for head)"
    )
    appoint.add_argument(
        "--role",
        required=True,
        choices=("head", "admin", "approver", "contributor"),
        help="head: head of office, workspace-wide (the first needs no --by)",
    )
    appoint.add_argument("--decree", required=True, help="the SK number, e.g. 800/123/SK/2026")
    appoint.add_argument("--from", dest="valid_from", required=True, metavar="YYYY-MM-DD")
    appoint.add_argument("--until", dest="valid_until", metavar="YYYY-MM-DD")
    by_arg(appoint)
    appoint.set_defaults(handler=_cmd_appoint)

    revoke = commands.add_parser("revoke", help="end a person's appointments now, saying why")
    revoke.add_argument("person")
    revoke.add_argument("--account", help="only the appointments on this account")
    revoke.add_argument("--reason", required=True, help="why, for the record")
    by_arg(revoke)
    revoke.set_defaults(handler=_cmd_revoke)

    rule = commands.add_parser("rule", help="set an account's approval rule")
    rule.add_argument("account")
    rule.add_argument("--approvers", type=int, default=1, help="approvals a draft needs")
    rule.add_argument(
        "--admin-needs-approval", action="store_true", help="admins' own posts need a draft too"
    )
    rule.add_argument(
        "--self-approval", action="store_true", help="let approvers approve their own drafts"
    )
    rule.add_argument(
        "--late-drafts-need-admin",
        action="store_true",
        help="a draft whose time passed while it waited stays approved for an admin to "
        "reschedule (default: published at once)",
    )
    by_arg(rule)
    rule.set_defaults(handler=_cmd_rule)

    drafts = commands.add_parser("drafts", help="list or add drafts")
    drafts_do = drafts.add_subparsers(dest="drafts_command", metavar="ACTION")
    listed = drafts_do.add_parser("list", help="list drafts")
    listed.add_argument("--status", choices=("pending", "approved", "rejected", "scheduled"))
    listed.add_argument("--json", action="store_true", help="print JSON")
    show = drafts_do.add_parser(
        "show", help="show one draft in full: text, variants, each media file and its SHA-256"
    )
    show.add_argument("draft_id")
    show.add_argument("--json", action="store_true", help="print JSON")
    proposed = drafts_do.add_parser("add", help="propose a post for approval")
    proposed.add_argument("text", help="the post text ('-' reads it from standard input)")
    proposed.add_argument("--to", action="append", required=True, metavar="ACCOUNT")
    proposed.add_argument("--at", help="when to publish once approved, with its offset")
    proposed.add_argument("--request", metavar="ID", help="the content request it answers")
    proposed.add_argument("--language", help="language code of the post, e.g. id")
    by_arg(proposed)
    media_args(proposed)
    drafts.set_defaults(handler=_cmd_drafts)

    approve = commands.add_parser("approve", help="approve a draft")
    approve.add_argument("draft_id")
    by_arg(approve)
    approve.set_defaults(handler=_cmd_approve)
    reject = commands.add_parser("reject", help="reject a draft, saying why")
    reject.add_argument("draft_id")
    reject.add_argument("--reason", required=True)
    by_arg(reject)
    reject.set_defaults(handler=_cmd_reject)

    requests = commands.add_parser("requests", help="content requests between units")
    requests_do = requests.add_subparsers(dest="requests_command", metavar="ACTION")
    requests_list = requests_do.add_parser("list", help="list content requests")
    requests_list.add_argument("--status", choices=("open", "drafted", "published"))
    asked = requests_do.add_parser("add", help="record a content request")
    asked.add_argument("--from-unit", required=True, help="the unit, e.g. 'Dinas Kesehatan'")
    asked.add_argument("--topic", required=True)
    asked.add_argument("--due", metavar="YYYY-MM-DD")
    asked.add_argument("--details")
    asked.add_argument("--attachment", action="append", default=[], metavar="NAME")
    by_arg(asked)
    fulfil = requests_do.add_parser("fulfil", help="answer a request with a draft")
    fulfil.add_argument("request_id")
    fulfil.add_argument("draft_id")
    by_arg(fulfil)
    requests.set_defaults(handler=_cmd_requests)

    audit = commands.add_parser("audit", help="read or verify the audit log")
    audit_do = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_list = audit_do.add_parser("list", help="print entries")
    audit_list.add_argument("--since", help="ISO date or time, e.g. 2026-11-01")
    audit_list.add_argument("--actor")
    audit_list.add_argument("--account")
    audit_list.add_argument("--json", action="store_true", help="print JSON lines")
    verify = audit_do.add_parser(
        "verify", help="check the hash chain, times, signatures and anchors"
    )
    verify.add_argument(
        "--anchor", metavar="SEQ:HASH", help="a head recorded earlier (detects a cut tail)"
    )
    verify.add_argument(
        "--published",
        action="append",
        default=[],
        metavar="TEXT",
        help="the text of an anchor post read back from the platform (repeatable)",
    )
    anchor = audit_do.add_parser(
        "anchor", help="post the audit log's head on ACCOUNT (a public anchor)"
    )
    anchor.add_argument("account", help="the workspace account to post it on")
    by_arg(anchor)
    audit.set_defaults(handler=_cmd_audit)

    institution = commands.add_parser("institution", help="show or set the institution's name")
    institution.add_argument("name", nargs="?", help="e.g. 'Dinas Kominfo Kota Contoh'")
    by_arg(institution)
    institution.set_defaults(handler=_cmd_institution)

    archive = commands.add_parser("archive", help="export the public record")
    archive_do = archive.add_subparsers(dest="archive_command", metavar="ACTION", required=True)
    export = archive_do.add_parser("export", help="write JSON Lines and an HTML index")
    export.add_argument("directory")
    export.add_argument("--period", help="2026-11 or 2026 (default: everything)")
    by_arg(export)
    archive.set_defaults(handler=_cmd_archive)


def _show_draft(draft: Draft, *, full: bool = False) -> str:
    when = f" at {draft.publish_at:%Y-%m-%d %H:%M}Z" if draft.publish_at else ""
    approvals = ", ".join(f"{a.person} ({a.decree})" for a in draft.approvals) or "none"
    lines = [
        f"draft {draft.id}  {draft.status}  by {draft.author} for "
        f"{', '.join(draft.accounts)}{when}",
        f"  approvals: {approvals}",
    ]
    if draft.reason:
        lines.append(f"  rejected: {draft.reason}")
    if draft.job_id:
        lines.append(f"  job {draft.job_id}")
    if draft.next_step:
        lines.append(f"  next: {draft.next_step}")
    lines.append(f"  {draft.post.text if full else draft.post.text[:200]}")
    if full:
        for platform, variant in sorted(draft.post.variants.items()):
            if variant.text is not None:
                lines.append(f"  variant {platform}: {variant.text}")
    # every media file with its digest: what an approval covers (docs/accountability.md)
    if draft.content is not None:
        lines += [f"  {m.describe()}" for m in draft.content.media]
        lines.append(f"  content {draft.content.digest}")
    else:
        lines += [
            f"  media[{i}] {m.source} (not pinned: drafted before content was pinned)"
            for i, m in enumerate(draft.post.media)
        ]
    return "\n".join(shown(line) for line in lines)


def _show_request(request: ContentRequest) -> str:
    due = f" due {request.due:%Y-%m-%d}" if request.due else ""
    turnaround = (
        f"  turnaround {request.turnaround / 3600:.1f} h" if request.turnaround is not None else ""
    )
    late = "  LATE" if request.late else ""
    return shown(
        f"request {request.id}  {request.status}  from {request.from_unit}: {request.topic}"
        f"{due}{turnaround}{late}"
    )


def _cmd_people(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        if args.people_command == "add":
            person = ws.add_person(
                args.id,
                name=args.name,
                unit=args.unit,
                public_key=args.public_key,
                by=args.by,
                key=signing_key(args),
            )
            signs = f"; signs with {person.public_key}" if person.public_key else ""
            print(shown(f"{person.id}: {person.name} ({person.unit or 'no unit'}){signs}"))
            return 0
        for person in ws.people():
            signs = "  signs" if person.public_key else ""
            print(shown(f"{person.id:<12} {person.name} ({person.unit or 'no unit'}){signs}"))
            for a in ws.appointments(person=person.id):
                until = a.valid_until.isoformat() if a.valid_until else "open"
                where = a.account or "(workspace)"
                revoked = (
                    f"  REVOKED {a.revoked_at:%Y-%m-%d}: {a.revoke_reason}" if a.revoked_at else ""
                )
                print(
                    shown(
                        f"  {a.role:<11} {where:<20} {a.decree}  {a.valid_from} .. {until}{revoked}"
                    )
                )
    return 0


def _cmd_appoint(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        for a in ws.appoint(
            args.person,
            accounts=args.to,
            role=args.role,
            decree=args.decree,
            valid_from=args.valid_from,
            valid_until=args.valid_until,
            by=args.by,
            key=signing_key(args),
        ):
            print(
                shown(f"{a.person} is {a.role} of {a.account or 'the workspace'} under {a.decree}")
            )
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        revoked = ws.revoke(
            args.person, args.account, by=args.by, key=signing_key(args), reason=args.reason
        )
        for a in revoked:
            print(
                shown(
                    f"{a.person} is no longer {a.role} of {a.account or 'the workspace'} "
                    f"(decree {a.decree}): {a.revoke_reason}"
                )
            )
    return 0


def _cmd_rule(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        rule = ws.set_approval_rule(
            args.account,
            approvers=args.approvers,
            admin_needs_approval=args.admin_needs_approval,
            self_approval=args.self_approval,
            late_drafts_need_admin=args.late_drafts_need_admin,
            by=args.by,
            key=signing_key(args),
        )
        print(shown(f"{args.account}: {rule.model_dump()}"))
    return 0


def _cmd_drafts(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        if args.drafts_command == "add":
            if args.by is None:
                raise needs_by("drafts add")
            draft = ws.add_draft(
                post_from_args(args),
                accounts=args.to,
                by=args.by,
                key=signing_key(args),
                at=args.at,
                request=args.request,
            )
            print(_show_draft(draft))
            return 0
        if args.drafts_command == "show":
            one = ws.draft(args.draft_id)
            if args.json:
                print_json(
                    one.model_dump(mode="json", exclude={"post": {"media": {"__all__": {"data"}}}})
                )
            else:
                print(_show_draft(one, full=True))
            return 0
        found = ws.drafts(status=getattr(args, "status", None))
        if getattr(args, "json", False):
            print_json(models_json(found))
        elif not found:
            print("no drafts")
        else:
            print("\n".join(_show_draft(d) for d in found))
    return 0


def _cmd_approve(args: argparse.Namespace) -> int:
    if args.by is None:
        raise needs_by("approve")
    with open_workspace(args) as ws:
        print(_show_draft(ws.approve(args.draft_id, by=args.by, key=signing_key(args))))
    return 0


def _cmd_reject(args: argparse.Namespace) -> int:
    if args.by is None:
        raise needs_by("reject")
    with open_workspace(args) as ws:
        print(
            _show_draft(
                ws.reject(args.draft_id, by=args.by, key=signing_key(args), reason=args.reason)
            )
        )
    return 0


def _cmd_requests(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        if args.requests_command == "add":
            made = ws.request_content(
                from_unit=args.from_unit,
                topic=args.topic,
                due=args.due,
                details=args.details,
                attachments=args.attachment,
                by=args.by,
                key=signing_key(args),
            )
            print(_show_request(made))
        elif args.requests_command == "fulfil":
            print(
                _show_request(
                    ws.fulfil(args.request_id, args.draft_id, by=args.by, key=signing_key(args))
                )
            )
        else:
            found = ws.requests(status=getattr(args, "status", None))
            print("\n".join(_show_request(r) for r in found) if found else "no content requests")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from govsocial.core.errors import AuditTampered, ConfigurationError

    with open_workspace(args) as ws:
        if args.audit_command == "list":
            for entry in ws.audit_log(args.since, actor=args.actor, account=args.account):
                if args.json:
                    # ASCII JSON: control and bidi characters arrive as \u escapes
                    print(json.dumps(entry.model_dump(mode="json"), separators=(",", ":")))
                else:
                    print(shown(entry.describe()))
            return 0
        if args.audit_command == "anchor":
            made = ws.publish_audit_anchor(args.account, by=args.by, key=signing_key(args))
            print(shown(f"anchored entry #{made.seq} (hash {made.hash}) at {made.url}"))
            return 0
        anchor = None
        if args.anchor:
            seq, _, digest = args.anchor.partition(":")
            if not seq.isdigit() or len(digest) != 64:
                raise ConfigurationError(
                    f"--anchor {args.anchor!r} is not SEQ:HASH",
                    field="anchor",
                    hint="use what `govsocial audit verify` printed as the head",
                )
            anchor = (int(seq), digest)
        try:
            count = ws.verify_audit(anchor=anchor, anchors=args.published)
        except AuditTampered as tampered:
            print(f"TAMPERED: {shown(tampered)}", file=sys.stderr)
            return 1
        head = ws.audit_head()
        head_text = f"{head.seq}:{head.hash}" if head else "empty"
        print(f"audit log verified: {count} entries; head {head_text}")
    return 0


def _cmd_archive(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        made = ws.export_archive(
            args.directory, period=args.period, by=args.by, key=signing_key(args)
        )
        print(
            f"{made.posts} posts, {made.interactions} replies and mentions, "
            f"{made.audit_entries} audit entries\n  {made.records}\n  {made.audit}\n  {made.index}"
        )
    return 0


def _cmd_institution(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        if args.name:
            ws.set_institution(args.name, by=args.by, key=signing_key(args))
        print(shown(ws.institution or "(not set: govsocial institution 'Dinas ...')"))
    return 0
