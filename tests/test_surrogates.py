"""Lone surrogates are refused where they enter (security review, finding 16).

A lone surrogate (U+D800 to U+DFFF) is not a character: no UTF-8 encoder, database or
platform takes it, and a command-line argument that is not UTF-8 decodes to one. Before,
``validate()`` passed it and ``schedule``, ``reject`` and ``Client.publish`` crashed on it
with a raw UnicodeEncodeError or PydanticSerializationError. Now the models refuse it with a
ValidationError naming the field, and nothing reaches the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fakes import paper_account
from govsocial import Account, Media, Post, ValidationError, validate
from govsocial.app import Workspace
from govsocial.cli import main
from govsocial.core.models import has_lone_surrogate, refuse_lone_surrogates
from govsocial.plugin.manager import Plugins

LONE = "\ud800"
IMAGE = "https://media.example.go.id/poster.png"

BAD_INPUT: dict[str, tuple[Callable[[], Any], str]] = {
    "text": (lambda: Post(f"Halo {LONE}"), "text"),
    "alt text": (
        lambda: Post("Halo", media=[Media(url=IMAGE, alt_text=f"poster {LONE}")]),
        "alt_text",
    ),
    "alt text as a dict": (
        lambda: Post("Halo", media=[{"url": IMAGE, "alt_text": LONE}]),
        "media[0].alt_text",
    ),
    "a label's value": (lambda: Post("Halo", labels={"campaign": LONE}), "labels"),
    "a label's name": (lambda: Post("Halo", labels={LONE: "x"}), "labels"),
    "a variant's text": (lambda: Post("Halo", variants={"paper": {"text": LONE}}), "variants"),
    "a content warning": (lambda: Post("Halo", content_warning=LONE), "content_warning"),
    "an account's name": (
        lambda: Account(platform="paper", handle="@humas", name=f"Humas {LONE}"),
        "name",
    ),
    "an account's handle": (lambda: Account(platform="paper", handle=f"@{LONE}"), "handle"),
}


@pytest.mark.parametrize("where", sorted(BAD_INPUT))
def test_the_models_refuse_a_lone_surrogate_naming_the_field(where: str) -> None:
    make, field = BAD_INPUT[where]
    with pytest.raises(ValidationError) as error:
        make()
    [problem] = error.value.problems
    assert problem.code == "lone_surrogate"
    assert problem.field is not None and problem.field.startswith(field)
    assert "lone surrogate" in str(error.value) and error.value.hint


def test_text_that_is_merely_unusual_is_kept() -> None:
    text = "Halo 👋🏽 नमस्ते \U0001f1ee\U0001f1e9 \u200d"
    assert Post(text).text == text and not has_lone_surrogate(text)
    assert has_lone_surrogate("a\udcff") and has_lone_surrogate(LONE)
    assert refuse_lone_surrogates(text, "reason") == text


def test_validate_refuses_before_any_check(plugins: Plugins) -> None:
    with pytest.raises(ValidationError, match="text: contains a lone surrogate"):
        validate(Post(LONE), "paper", plugins=plugins)


def test_the_validate_command_exits_1_naming_the_field(
    plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", f"Halo {LONE}", "-p", "paper"]) == 1
    err = capsys.readouterr().err
    assert "govsocial: error: post is not valid: text: contains a lone surrogate" in err


def test_schedule_and_draft_refuse_and_write_nothing(ws: Workspace, humas: str) -> None:
    with pytest.raises(ValidationError, match="text"):
        ws.schedule(Post(f"Halo {LONE}"), accounts=[humas], at="2099-01-01T09:00+07:00")
    ws.add_person("siti", name="Siti")
    with pytest.raises(ValidationError, match="alt_text"):
        ws.add_draft(
            Post("Halo", media=[Media(url=IMAGE, alt_text=LONE)]), accounts=[humas], by="siti"
        )
    assert ws.jobs() == [] and ws.drafts() == []


def test_reject_refuses_a_reason_with_a_lone_surrogate_and_keeps_the_draft_pending(
    ws: Workspace, humas: str
) -> None:
    ws.add_person("siti", name="Siti")
    ws.add_person("budi", name="Budi")
    for person, role in (("siti", "contributor"), ("budi", "approver")):
        ws.appoint(
            person, accounts=[humas], role=role, decree="800/1/SK/2026", valid_from="2026-01-01"
        )
    draft = ws.add_draft(Post("Halo"), accounts=[humas], by="siti")
    entries = len(ws.audit_log())
    with pytest.raises(ValidationError) as error:
        ws.reject(draft.id, by="budi", reason=f"typo {LONE}")
    assert error.value.field == "reason"
    assert ws.draft(draft.id).status == "pending"
    assert len(ws.audit_log()) == entries
    assert ws.reject(draft.id, by="budi", reason="typo").status == "rejected"


def test_a_person_named_with_a_lone_surrogate_is_refused(ws: Workspace) -> None:
    with pytest.raises(ValidationError) as error:
        ws.add_person("siti", name=f"Siti {LONE}")
    assert error.value.field == "name"
    assert ws.people() == []


def test_text_that_is_no_model_field_is_refused_by_the_store(ws: Workspace) -> None:
    """The last net: any text a database cannot encode is a ValidationError, not a crash."""
    with pytest.raises(ValidationError, match="lone surrogate"):
        ws.store.set_meta("institution", LONE)
    assert ws.store.meta("institution") is None


def test_non_utf8_arguments_to_schedule_are_an_error_not_a_traceback(
    tmp_path: Path, plugins: Plugins
) -> None:
    """``-m govsocial.cli`` with bytes that are not UTF-8: Python decodes them with
    surrogateescape, to lone surrogates."""
    db = tmp_path / "ws.db"
    with Workspace.open(db, plugins=plugins) as ws:
        ws.add_account("humas", paper_account())
    env = {**os.environ, "GOVSOCIAL_LOAD_PLUGINS": "", "PYTHONUTF8": "1"}
    argv = [sys.executable.encode(), b"-m", b"govsocial.cli", b"--db", os.fsencode(db)]
    argv += [b"schedule", b"Halo \xff\xfe", b"--to", b"humas", b"--at", b"2099-01-01T09:00+07:00"]
    done = subprocess.run(argv, capture_output=True, env=env, timeout=120, cwd=tmp_path)
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1, stderr
    assert "Traceback" not in stderr and "lone surrogate" in stderr
    with Workspace.open(db, plugins=plugins) as ws:
        assert ws.jobs() == []
