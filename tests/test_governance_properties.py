"""No sequence of actions publishes an unapproved post (issue 6), as a hypothesis state machine.

A model of the rules, written independently of the implementation, predicts for every action
whether it must be allowed or refused; the workspace must agree, every refusal must leave an
audit entry, and after each worker run every text on the server must be one the model holds
legitimate: from a draft with enough valid approvals, or an admin's own post while the rule
lets admins post without approval. The audit chain must verify at every step.

People on the one governed account: ``a`` admin, ``b`` approver, ``c`` contributor, ``d`` an
approver whose decree ended yesterday, ``e`` with no appointment, ``f`` contributor and
approver at once (so self-approval can happen), ``g`` an approver who signs (issue 12: only
their own key makes their approval count). Drafts may carry an image; swapping its bytes
before approval makes approval impossible, after approval keeps the post off the server.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from fakes import TOKEN, Clock, PaperPlugin, PaperServer, paper_account, run, soon
from govsocial import Media, Post, SigningKey
from govsocial.app import Workspace
from govsocial.core.errors import NotPermitted
from govsocial.plugin.manager import Plugins, reset_default_plugins

PEOPLE = ("a", "b", "c", "d", "e", "f")


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


ACCOUNT = "humas"


@dataclass
class DraftModel:
    id: str
    author: str
    text: str
    timed: bool
    status: str = "pending"
    approvals: set[str] = field(default_factory=set)
    image: Path | None = None
    swapped: bool = False


class Governance(RuleBasedStateMachine):
    drafts = Bundle("drafts")
    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        os.environ["GOVSOCIAL_CRED_PROPS_TOKEN"] = TOKEN
        self.directory = Path(tempfile.mkdtemp(prefix="gs-props-"))
        self.plugins = Plugins(load_entrypoints=False)
        self.plugins.register(PaperPlugin(), name="paper")
        reset_default_plugins(self.plugins)
        self.ws = Workspace.open(self.directory / "ws.db", plugins=self.plugins)
        self.server, self.clock = PaperServer(), Clock()
        self.legit: set[str] = set()
        self.approvers_needed, self.admin_needs_approval, self.self_approval = 1, False, False
        self.counter = 0
        self.keys = {"g": SigningKey.generate(), "other": SigningKey.generate()}
        self.roots = os.environ.get("GOVSOCIAL_MEDIA_ROOTS")
        os.environ["GOVSOCIAL_MEDIA_ROOTS"] = str(self.directory)

    def teardown(self) -> None:
        self.ws.close()
        reset_default_plugins(None)
        if self.roots is None:
            os.environ.pop("GOVSOCIAL_MEDIA_ROOTS", None)
        else:
            os.environ["GOVSOCIAL_MEDIA_ROOTS"] = self.roots
        shutil.rmtree(self.directory, ignore_errors=True)

    @initialize()
    def setup(self) -> None:
        self.ws.add_account(
            ACCOUNT,
            paper_account(token="env:GOVSOCIAL_CRED_PROPS_TOKEN"),
        )
        for person in PEOPLE:
            self.ws.add_person(person, name=person.upper(), unit="Diskominfo")
        self.ws.add_person("g", name="G", public_key=self.keys["g"].public_key)
        start = today() - timedelta(days=10)
        for person, role in (
            ("a", "admin"),
            ("b", "approver"),
            ("c", "contributor"),
            ("f", "contributor"),
            ("f", "approver"),
            ("g", "approver"),
        ):
            self.ws.appoint(
                person,
                accounts=[ACCOUNT],
                role=role,
                decree=f"SK-{person}-{role}",
                valid_from=start,
                by="g" if person == "g" else None,
                key=self.keys["g"] if person == "g" else None,
            )
        self.ws.appoint(
            "d",
            accounts=[ACCOUNT],
            role="approver",
            decree="SK-d-old",
            valid_from=start,
            valid_until=today() - timedelta(days=1),
        )

    def _text(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    def _expect(self, allowed: bool, action: object) -> bool:
        """Run ``action``; check it was allowed or refused (and logged) as the model says."""
        refusals = len([e for e in self.ws.audit_log() if e.action.startswith("refused:")])
        try:
            action()  # type: ignore[operator]
        except NotPermitted:
            assert not allowed, "the model says this must be allowed"
            after = len([e for e in self.ws.audit_log() if e.action.startswith("refused:")])
            assert after == refusals + 1, "a refusal is audit-logged"
            return False
        assert allowed, "the model says this must be refused"
        return True

    @rule(target=drafts, author=st.sampled_from(PEOPLE), timed=st.booleans(), image=st.booleans())
    def draft(self, author: str, timed: bool, image: bool) -> DraftModel | None:
        text = self._text()
        made: list[str] = []
        path = self.directory / f"{text}.png" if image else None
        if path is not None:
            path.write_bytes(b"\x89PNG\r\n\x1a\n" + text.encode() * 4)
        media = [Media(path=path, alt_text="p")] if path is not None else []

        def act() -> None:
            draft = self.ws.add_draft(
                Post(text, media=media),
                accounts=[ACCOUNT],
                by=author,
                at=soon() if timed else None,
            )
            made.append(draft.id)

        if self._expect(author in ("a", "c", "f"), act):
            return DraftModel(made[0], author, text, timed, image=path)
        return None

    @rule(draft=drafts)
    def swap_image(self, draft: DraftModel | None) -> None:
        """The image's bytes change on disk: nobody approves or publishes the new ones."""
        if draft is None or draft.image is None:
            return
        self.counter += 1
        draft.image.write_bytes(b"\x89PNG\r\n\x1a\n" + f"swap{self.counter}".encode() * 4)
        draft.swapped = True
        published = {str(p["text"]) for p in self.server.posts.values()}
        if draft.text not in published:
            self.legit.discard(draft.text)

    @rule(
        draft=drafts,
        by=st.sampled_from((*PEOPLE, "g")),
        key=st.sampled_from(("none", "own", "other")),
    )
    def approve(self, draft: DraftModel | None, by: str, key: str) -> None:
        if draft is None:
            return
        signs = by == "g"
        allowed = (
            by in ("b", "f", "g")
            and (key == "own" if signs else key == "none")
            and draft.status == "pending"
            and by not in draft.approvals
            and (by != draft.author or self.self_approval)
            and not draft.swapped
        )
        given = {"none": None, "own": self.keys.get(by), "other": self.keys["other"]}[key]
        if key == "own" and given is None:
            return  # only g has a key of their own
        if self._expect(allowed, lambda: self.ws.approve(draft.id, by=by, key=given)):
            draft.approvals.add(by)
            if len(draft.approvals) >= self.approvers_needed:
                draft.status = "scheduled" if draft.timed else "approved"
                if draft.timed and not draft.swapped:
                    self.legit.add(draft.text)

    @rule(draft=drafts, by=st.sampled_from(PEOPLE))
    def reject(self, draft: DraftModel | None, by: str) -> None:
        if draft is None:
            return
        allowed = by in ("b", "f") and draft.status == "pending"
        if self._expect(allowed, lambda: self.ws.reject(draft.id, by=by, reason="no")):
            draft.status = "rejected"

    @rule(target=jobs, draft=drafts, by=st.sampled_from(PEOPLE))
    def schedule_draft(self, draft: DraftModel | None, by: str) -> str | None:
        if draft is None:
            return None
        allowed = by == "a" and draft.status == "approved"
        made: list[str] = []

        def act() -> None:
            made.append(self.ws.schedule(self.ws.draft(draft.id), at=soon(), by=by).id)

        if self._expect(allowed, act):
            draft.status = "scheduled"
            if not draft.swapped:
                self.legit.add(draft.text)
            return made[0]
        return None

    @rule(target=jobs, by=st.sampled_from((*PEOPLE, None)))
    def schedule_directly(self, by: str | None) -> str | None:
        text = self._text()
        allowed = by == "a" and not self.admin_needs_approval
        made: list[str] = []

        def act() -> None:
            made.append(self.ws.schedule(Post(text), [ACCOUNT], at=soon(), by=by).id)

        if self._expect(allowed, act):
            self.legit.add(text)
            return made[0]
        return None

    @rule(job=jobs, by=st.sampled_from(PEOPLE))
    def cancel(self, job: str | None, by: str) -> None:
        if job is not None:
            self._expect(by == "a", lambda: self.ws.cancel(job, by=by))

    @rule(
        approvers=st.integers(1, 2), admin_needs_approval=st.booleans(), self_approval=st.booleans()
    )
    def change_rule(self, approvers: int, admin_needs_approval: bool, self_approval: bool) -> None:
        self.ws.set_approval_rule(
            ACCOUNT,
            approvers=approvers,
            admin_needs_approval=admin_needs_approval,
            self_approval=self_approval,
            by="a",
        )
        self.approvers_needed = approvers
        self.admin_needs_approval = admin_needs_approval
        self.self_approval = self_approval

    @precondition(lambda self: self.counter > 0)
    @rule()
    def run_worker(self) -> None:
        self.clock.now += 600
        run(self.ws, self.server, self.clock)

    @invariant()
    def only_legitimate_posts_are_on_the_server(self) -> None:
        published = {str(p["text"]) for p in self.server.posts.values()}
        assert published <= self.legit, f"published without approval: {published - self.legit}"

    @invariant()
    def the_audit_log_verifies(self) -> None:
        if hasattr(self, "ws"):
            self.ws.verify_audit()


Governance.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestGovernance = Governance.TestCase
