"""No sequence of actions publishes a post without a valid appointment behind it (issues 6
and 12), as a hypothesis state machine.

A model of the rules, written independently of the implementation, predicts for every action
whether it must be allowed or refused; the workspace must agree, every refusal must leave an
audit entry. At each worker run the model decides, from the appointments *as they stand
then*, which planned posts may go out: from a draft with enough approvers still in force
(planned by one of them or by an admin in force), or an admin's own post while that admin is
in force and the rule lets admins post without approval. Each post the model refuses must
end ``refused`` (or missed, or cancelled), and every text on the server must be one the
model held legitimate when it went out. The audit chain must verify at every step.

People on the one governed account: ``a`` admin, ``b`` approver, ``c`` contributor, ``d`` an
approver whose decree ended yesterday, ``e`` with no appointment, ``f`` contributor and
approver at once (so self-approval can happen), ``h`` and ``g`` heads of office, ``s`` an
approver who signs. Heads revoke and appoint; revocations end every appointment of a person
at once. ``g`` and ``s`` sign (issue 12): only their own key makes their actions count, and a
key given for someone who does not sign is refused. Drafts may carry an image; swapping its
bytes before approval makes approval impossible, after approval keeps the post off the
server (the worker refuses it, after its authority check).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
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

PEOPLE = ("a", "b", "c", "d", "e", "f", "g", "h", "s")
SIGNERS = ("g", "s")  # registered with a public key: they sign every action
STAFF = ("a", "b", "c", "d", "e", "f", "s")  # those whose appointments are on the account
ROLES = ("admin", "approver", "contributor", "head")
# actors weighted toward those who may act, so that sequences reach the interesting states
# (a revoked admin's planned post, an approver revoked after approving) within few examples
PLANNERS = ("a", "a", "a", "b", "e", "h", None)
APPROVERS = ("b", "b", "f", "f", "s", "s", "c", "d")
HEADS = ("h", "h", "g", "g", "a")
# which key an actor passes: their own (only signers have one), none, or someone else's
KEYS = ("own", "own", "none", "other")


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


@dataclass
class JobModel:
    id: str
    text: str
    planner: str
    draft: DraftModel | None
    state: str = "planned"  # planned | cancelled | handled


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
        # the roles each person holds in force today (the model of the appointments table)
        self.roles: dict[str, set[str]] = {p: set() for p in PEOPLE}
        self.planned: list[JobModel] = []
        self.keys = {p: SigningKey.generate() for p in (*SIGNERS, "other")}
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
        start = today() - timedelta(days=10)
        self.ws.add_person("h", name="H", unit="Diskominfo")
        self.ws.appoint("h", role="head", decree="SK-h-head", valid_from=start)  # no by=: first
        for person in PEOPLE:
            signs = self.keys[person].public_key if person in SIGNERS else None
            self.ws.add_person(
                person, name=person.upper(), unit="Diskominfo", public_key=signs, by="h"
            )
        self.ws.appoint("g", role="head", decree="SK-g-head", valid_from=start, by="h")
        self.roles["h"].add("head")
        self.roles["g"].add("head")
        for person, role in (
            ("a", "admin"),
            ("b", "approver"),
            ("c", "contributor"),
            ("f", "contributor"),
            ("f", "approver"),
            ("s", "approver"),
        ):
            self.ws.appoint(
                person,
                accounts=[ACCOUNT],
                role=role,
                decree=f"SK-{person}-{role}",
                valid_from=start,
                by="h",
            )
            self.roles[person].add(role)
        self.ws.appoint(
            "d",
            accounts=[ACCOUNT],
            role="approver",
            decree="SK-d-old",
            valid_from=start,
            valid_until=today() - timedelta(days=1),
            by="h",
        )

    def _key(self, by: str | None, choice: str) -> tuple[SigningKey | None, bool] | None:
        """The key ``by`` passes for ``choice``, and whether the signature check lets it
        through; None when ``by`` has no key of their own to pass. ``auto``: their own key
        if they sign, else none (the walks below)."""
        if choice == "auto":
            choice = "own" if by in SIGNERS else "none"
        if choice == "own":
            own = self.keys.get(by) if by in SIGNERS else None
            return None if own is None else (own, True)
        if choice == "other":
            return self.keys["other"], False
        return None, by not in SIGNERS

    def _own(self, by: str | None) -> SigningKey | None:
        """The key a signer acts with (None for everyone else)."""
        return self.keys[by] if by in SIGNERS else None

    def _has(self, person: str | None, role: str) -> bool:
        return person is not None and role in self.roles[person]

    def _may_publish(self, job: JobModel) -> bool:
        """The model's own reading of the rules at publication: who is in force now."""
        if job.draft is None:
            return self._has(job.planner, "admin") and not self.admin_needs_approval
        draft = job.draft
        if draft.swapped:  # the worker re-reads the image: not the bytes approved
            return False
        valid = {
            p
            for p in draft.approvals
            if self._has(p, "approver") and (p != draft.author or self.self_approval)
        }
        planner_ok = job.planner in valid or self._has(job.planner, "admin")
        return len(valid) >= self.approvers_needed and planner_ok

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
    def draft(self, author: str, timed: bool, image: bool = False) -> DraftModel | None:
        text = self._text()
        made: list[str] = []
        path = self.directory / f"{text}.png" if image else None
        if path is not None:
            path.write_bytes(b"\x89PNG\r\n\x1a\n" + text.encode() * 4)
        media = [Media(path=path, alt_text="p")] if path is not None else []
        key = self._own(author)

        def act() -> None:
            draft = self.ws.add_draft(
                Post(text, media=media),
                accounts=[ACCOUNT],
                by=author,
                key=key,
                at=soon() if timed else None,
            )
            made.append(draft.id)

        allowed = self._has(author, "contributor") or self._has(author, "admin")
        if self._expect(allowed, act):
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

    @rule(draft=drafts, by=st.sampled_from(APPROVERS), key=st.sampled_from(KEYS))
    def approve(self, draft: DraftModel | None, by: str, key: str = "auto") -> None:
        if draft is None:
            return
        chosen = self._key(by, key)
        if chosen is None:
            return  # only a signer has a key of their own
        given, signed = chosen
        allowed = (
            signed
            and self._has(by, "approver")
            and draft.status == "pending"
            and by not in draft.approvals
            and (by != draft.author or self.self_approval)
            and not draft.swapped
        )
        if self._expect(allowed, lambda: self.ws.approve(draft.id, by=by, key=given)):
            draft.approvals.add(by)
            if len(draft.approvals) >= self.approvers_needed:
                draft.status = "scheduled" if draft.timed else "approved"
                if draft.timed:
                    job_id = self.ws.draft(draft.id).job_id
                    assert job_id is not None, "a timed draft is scheduled when approved"
                    self.planned.append(JobModel(job_id, draft.text, by, draft))

    @rule(draft=drafts, by=st.sampled_from(PEOPLE))
    def reject(self, draft: DraftModel | None, by: str) -> None:
        if draft is None:
            return
        allowed = self._has(by, "approver") and draft.status == "pending"
        key = self._own(by)
        if self._expect(allowed, lambda: self.ws.reject(draft.id, by=by, key=key, reason="no")):
            draft.status = "rejected"

    @rule(target=jobs, draft=drafts, by=st.sampled_from(PLANNERS[:-1]))
    def schedule_draft(self, draft: DraftModel | None, by: str) -> str | None:
        if draft is None:
            return None
        allowed = self._has(by, "admin") and draft.status == "approved"
        made: list[str] = []

        def act() -> None:
            made.append(
                self.ws.schedule(self.ws.draft(draft.id), at=soon(), by=by, key=self._own(by)).id
            )

        if self._expect(allowed, act):
            draft.status = "scheduled"
            self.planned.append(JobModel(made[0], draft.text, by, draft))
            return made[0]
        return None

    @rule(target=jobs, by=st.sampled_from(PLANNERS))
    def schedule_directly(self, by: str | None) -> str | None:
        text = self._text()
        allowed = self._has(by, "admin") and not self.admin_needs_approval
        made: list[str] = []

        def act() -> None:
            made.append(
                self.ws.schedule(Post(text), [ACCOUNT], at=soon(), by=by, key=self._own(by)).id
            )

        if self._expect(allowed, act):
            assert by is not None
            self.planned.append(JobModel(made[0], text, by, None))
            return made[0]
        return None

    @rule(job=jobs, by=st.sampled_from(PEOPLE))
    def cancel(self, job: str | None, by: str) -> None:
        if job is None:
            return
        key = self._own(by)
        if self._expect(self._has(by, "admin"), lambda: self.ws.cancel(job, by=by, key=key)):
            for planned in self.planned:
                if planned.id == job and planned.state == "planned":
                    planned.state = "cancelled"

    @rule(
        approvers=st.integers(1, 2),
        admin_needs_approval=st.booleans(),
        self_approval=st.booleans(),
        by=st.sampled_from(HEADS),
        key=st.sampled_from(KEYS),
    )
    def change_rule(
        self,
        approvers: int,
        admin_needs_approval: bool,
        self_approval: bool,
        by: str,
        key: str = "auto",
    ) -> None:
        chosen = self._key(by, key)
        if chosen is None:
            return
        given, signed = chosen

        def act() -> None:
            self.ws.set_approval_rule(
                ACCOUNT,
                approvers=approvers,
                admin_needs_approval=admin_needs_approval,
                self_approval=self_approval,
                by=by,
                key=given,
            )

        if self._expect(signed and self._has(by, "head"), act):
            self.approvers_needed = approvers
            self.admin_needs_approval = admin_needs_approval
            self.self_approval = self_approval

    @rule(
        person=st.sampled_from(("a", "a", "b", "b", "f", "c", "g", "h", "s")),
        by=st.sampled_from(HEADS),
        key=st.sampled_from(KEYS),
    )
    def revoke(self, person: str, by: str, key: str = "auto") -> None:
        if not self.roles[person]:
            return  # nothing in force to revoke: a ConfigurationError, not a permission
        chosen = self._key(by, key)
        if chosen is None:
            return
        given, signed = chosen
        other_heads = {p for p in PEOPLE if p != person and self._has(p, "head")}
        allowed = (
            signed
            and self._has(by, "head")
            and ("head" not in self.roles[person] or bool(other_heads))
        )

        def act() -> None:
            self.ws.revoke(person, by=by, key=given, reason="dicabut")

        if self._expect(allowed, act):
            self.roles[person] = set()

    @rule(
        person=st.sampled_from(PEOPLE),
        role=st.sampled_from(ROLES),
        by=st.sampled_from(HEADS),
        key=st.sampled_from(KEYS),
    )
    def appoint(self, person: str, role: str, by: str, key: str = "auto") -> None:
        accounts = None if role == "head" else [ACCOUNT]
        chosen = self._key(by, key)
        if chosen is None:
            return
        given, signed = chosen

        def act() -> None:
            self.ws.appoint(
                person,
                accounts=accounts,
                role=role,
                decree=f"SK-{person}-{role}-{self._text()}",
                valid_from=today() - timedelta(days=1),
                by=by,
                key=given,
            )

        if self._expect(signed and self._has(by, "head"), act):
            self.roles[person].add(role)

    @precondition(lambda self: self.counter > 0)
    @rule()
    def run_worker(self) -> None:
        # every post planned so far (at soon(): two minutes ahead) is due, none past the
        # misfire grace: each is published or refused in this run, never missed
        self.clock.now = max(self.clock.now, time.time() + 300)
        verdicts: dict[str, bool] = {}
        for job in self.planned:
            if job.state == "planned":  # every planned job is due by now: decided in this run
                verdicts[job.id] = self._may_publish(job)
                if verdicts[job.id]:
                    self.legit.add(job.text)
                job.state = "handled"
        run(self.ws, self.server, self.clock)
        for job_id, may in verdicts.items():
            states = {d.status for d in self.ws.job(job_id).deliveries}
            expected = {"published"} if may else {"refused"}
            assert states <= expected, f"job {job_id}: the model says {may}, got {states}"

    @invariant()
    def only_legitimate_posts_are_on_the_server(self) -> None:
        published = {str(p["text"]) for p in self.server.posts.values()}
        assert published <= self.legit, f"published without approval: {published - self.legit}"

    @invariant()
    def the_audit_log_verifies(self) -> None:
        if hasattr(self, "ws"):
            self.ws.verify_audit()


Governance.TestCase.settings = settings(
    # GOVSOCIAL_PROPERTY_EXAMPLES=200 for a deeper search (about a minute per 100)
    max_examples=int(os.environ.get("GOVSOCIAL_PROPERTY_EXAMPLES", "40")),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestGovernance = Governance.TestCase


# Paths the random search reaches only now and then, walked through the same model every run.


def _walk(*steps: tuple[str, tuple[object, ...]]) -> None:
    machine = Governance()
    try:
        machine.setup()
        made: dict[str, object] = {}
        for name, args in steps:
            real = tuple(made.get(a, a) if isinstance(a, str) else a for a in args)
            result = getattr(machine, name)(*real)
            made[f"${name}"] = result
            machine.only_legitimate_posts_are_on_the_server()
            machine.the_audit_log_verifies()
    finally:
        machine.teardown()


def test_a_revoked_admins_planned_post_is_refused() -> None:
    _walk(("schedule_directly", ("a",)), ("revoke", ("a", "h")), ("run_worker", ()))


def test_an_approver_revoked_after_approving_stops_the_draft() -> None:
    _walk(
        ("draft", ("c", True)),
        ("approve", ("$draft", "b")),
        ("revoke", ("b", "g")),
        ("run_worker", ()),
    )


def test_a_reappointed_admins_post_goes_out_and_a_rule_change_stops_another() -> None:
    _walk(
        ("schedule_directly", ("a",)),
        ("revoke", ("a", "h")),
        ("appoint", ("a", "admin", "g")),
        ("run_worker", ()),
        ("schedule_directly", ("a",)),
        ("change_rule", (1, True, False, "h")),
        ("run_worker", ()),
    )


def test_a_signers_approval_counts_only_with_their_own_key() -> None:
    _walk(
        ("draft", ("c", True)),
        ("approve", ("$draft", "s", "none")),
        ("approve", ("$draft", "s", "other")),
        ("approve", ("$draft", "b", "other")),
        ("approve", ("$draft", "s", "own")),
        ("run_worker", ()),
    )


def test_a_signing_head_revokes_only_with_their_key() -> None:
    _walk(
        ("schedule_directly", ("a",)),
        ("revoke", ("a", "g", "none")),
        ("revoke", ("a", "g", "own")),
        ("run_worker", ()),
    )


def test_an_image_swapped_after_approval_is_refused_at_publication() -> None:
    _walk(
        ("draft", ("c", True, True)),
        ("approve", ("$draft", "b", "none")),
        ("swap_image", ("$draft",)),
        ("run_worker", ()),
    )


def test_an_image_swapped_before_approval_cannot_be_approved() -> None:
    _walk(
        ("draft", ("c", True, True)),
        ("swap_image", ("$draft",)),
        ("approve", ("$draft", "s", "own")),
    )
