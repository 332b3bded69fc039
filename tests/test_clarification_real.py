"""A hoax report answered with a clarification's link, on a real server (mastodon-mock):
the clarification is published by a worker, a citizen's report arrives in the inbox, and
the answer holding the clarification's link is read back from the server, as a reply to
the report (issue 16, item 4). The command line does the same for a second report.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import govsocial
from govsocial.app import Workspace
from govsocial.client import AsyncClient, Client
from govsocial.core.models import Account
from govsocial.scheduling.worker import Worker
from govsocial.testing import eventually, unique_text


def env_account(account: Account, prefix: str, monkeypatch: pytest.MonkeyPatch) -> Account:
    references = {}
    for field, secret in account.credentials.items():
        monkeypatch.setenv(f"{prefix}_{field.upper()}", secret.get_secret_value())
        references[field] = f"env:{prefix}_{field.upper()}"
    return Account(**account.model_dump(exclude={"credentials"}), credentials=references)


def test_a_hoax_report_is_answered_with_the_clarifications_link_on_mastodon(
    mastodon: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from govsocial.cli import main

    author, citizen = mastodon.accounts[:2]
    db = tmp_path / "ws.db"
    with Workspace.open(db) as ws:
        ws.add_account("humas", env_account(author, "GOVSOCIAL_CRED_CLARIFY_MASTODON", monkeypatch))
        claim = unique_text("Bansos cair lewat tautan bansos-cair.xyz")
        job = ws.schedule(
            govsocial.clarification(
                claim=claim,
                verdict="HOAKS",
                facts="Bansos hanya disalurkan lewat bank Himbara dan PT Pos Indonesia.",
                sources=["https://dinsos.example.go.id/siaran-pers/bansos"],
            ),
            ["humas"],
            at=datetime.now(UTC) + timedelta(seconds=30),
        )

        async def publish() -> None:
            async with AsyncClient(**ws.core.client_options()) as client:
                await Worker(ws, clock=lambda: time.time() + 31).run_due(client)

        asyncio.run(publish())
        [delivery] = ws.job(job.id).deliveries
        assert delivery.ref is not None and delivery.ref.url, delivery.error
        stored = mastodon.stored_post(delivery.ref)
        assert stored is not None
        assert mastodon.stored_text(stored).startswith("[HOAKS] ")

        reports = [
            unique_text("Min, pesan berantai bansos lewat tautan itu hoaks ya?"),
            unique_text("Is this message about free bansos a hoax?"),
        ]
        with Client() as client:
            sent = [
                client.reply(delivery.ref.model_copy(update={"account": citizen}), text)
                for text in reports
            ]

        def both() -> Any:
            ws.pull_inbox()
            found = ws.inbox(intent="hoax_report")
            return found if len(found) >= 2 else None

        items = {item.remote_id: item for item in eventually(both, timeout=40, interval=1.0)}
        first, second = items[sent[0].id], items[sent[1].id]

        answer = ws.answer_with_clarification(first.id, job)
        on_server = mastodon.stored_post(answer)
        assert on_server is not None
        text = mastodon.stored_text(on_server)
        assert delivery.ref.url in text and "[HOAKS]" in text
        assert text.startswith("Terima kasih atas laporannya"), "in the report's language"
        assert on_server["in_reply_to_id"] == first.remote_id
        assert ws.inbox_item(first.id).status == "answered"

    capsys.readouterr()
    assert main(["--db", str(db), "inbox", "clarify", second.id, delivery.id]) == 0
    assert "answered with the clarification" in capsys.readouterr().out
    with Workspace.open(db) as ws:
        answered = ws.inbox_item(second.id)
        assert answered.status == "answered" and answered.response_id is not None
        ref = answer.model_copy(update={"id": answered.response_id})
        on_server = mastodon.stored_post(ref)
        assert on_server is not None and on_server["in_reply_to_id"] == second.remote_id
        text = mastodon.stored_text(on_server)
        assert text.startswith("Thank you for reporting it") and delivery.ref.url in text
        entries = [e for e in ws.audit_log(action="reply") if e.detail.get("clarification")]
        assert {e.detail["item"] for e in entries} == {first.id, second.id}
        assert {e.detail["clarification_job"] for e in entries} == {job.id}
