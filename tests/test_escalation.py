"""Escalation (issue 16, item 6): an inbox item handed to a ticket system, once.

The webhook target is tested against a real local HTTP server that checks the HMAC itself
(with :mod:`hmac`, not govsocial's helper), refuses stale or forged requests, opens one ticket
per ``Idempotency-Key`` and answers its reference; the email target against a real SMTP
server (aiosmtpd). The ticket is read back from the database, on SQLite and PostgreSQL. A
process killed with SIGKILL after the receiver opened the ticket and before the workspace
recorded it leads to one ticket, not two.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import govsocial
from fakes import TOKEN, PaperServer
from govsocial.app import Workspace
from govsocial.core.errors import (
    ConfigurationError,
    NotFound,
    NotPermitted,
    PlatformError,
    PublishOutcomeUnknown,
)
from govsocial.listening.escalation import verify_webhook, webhook_signature
from govsocial.plugin.manager import Plugins
from test_listening import Mailbox, free_port

SECRET = "rahasia-bersama-0123456789abcdef"


@dataclass
class Receiver:
    """A ticket system's webhook: what it received, and the tickets it opened."""

    port: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    tickets: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> ticket
    fail: int = 0  # answer 503 this many times first

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            stamp = self.headers.get("X-GovSocial-Timestamp", "")
            given = self.headers.get("X-GovSocial-Signature", "")
            expected = (
                "v1="
                + hmac.new(
                    SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256
                ).hexdigest()
            )
            fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 300
            genuine = hmac.compare_digest(expected, given) and fresh
            key = self.headers.get("Idempotency-Key", "")
            state.received.append(
                {"body": json.loads(body), "genuine": genuine, "key": key, "headers": self.headers}
            )
            if not genuine:
                return self._answer(401, {"error": "bad signature"})
            if state.fail > 0:
                state.fail -= 1
                return self._answer(503, {"error": "sibuk"})
            ticket = state.tickets.setdefault(key, f"LAPOR-{len(state.tickets) + 1:04d}")
            self._answer(200, {"ticket": ticket, "url": f"https://tiket.example/{ticket}"})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server (aiosmtpd) on this machine, as the EmailNotifier tests use."""
    from aiosmtpd.controller import Controller

    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture
def complaint(ws: Workspace, humas: str) -> str:
    server = PaperServer()
    server.citizen_post(
        "@humas Jalan Melati rusak parah sudah 3 bulan, tidak pernah diperbaiki", author="ani"
    )
    assert ws.pull_inbox(transport=server.transport()).total == 1
    [item] = ws.inbox()
    ws.add_person("siti", name="Siti")
    return item.id


def webhook(
    receiver: Receiver, secret: str = "env:GOVSOCIAL_CRED_TIKET"
) -> govsocial.WebhookTarget:
    return govsocial.WebhookTarget(name="lapor-bridge", url=receiver.url, secret=secret)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSOCIAL_CRED_TIKET", SECRET)
    monkeypatch.setenv("PAPER_TOKEN", TOKEN)


def test_a_webhook_escalation_is_signed_and_its_ticket_is_stored_once(
    ws: Workspace, plugins: Plugins, receiver: Receiver, complaint: str
) -> None:
    plugins.register(webhook(receiver), name="lapor-bridge")

    ticket = ws.escalate(complaint, to="lapor-bridge", by="siti", note="mohon ditindaklanjuti")

    assert ticket.reference == "LAPOR-0001" and ticket.url == "https://tiket.example/LAPOR-0001"
    [request] = receiver.received
    assert request["genuine"], "the receiver verified the HMAC"
    sent = request["body"]
    assert sent["text"].startswith("@humas Jalan Melati rusak")
    assert sent["intent"] == "complaint" and sent["item_id"] == complaint
    assert sent["note"] == "mohon ditindaklanjuti" and sent["escalated_by"] == "siti"
    assert sent["author"] is None and sent["author_name"] is None, "minimised by default"
    assert request["key"] == sent["id"]
    item = ws.inbox_item(complaint)
    assert (item.ticket, item.ticket_target) == ("LAPOR-0001", "lapor-bridge")
    assert item.escalated_at is not None
    [entry] = ws.audit_log(action="escalate")
    assert entry.actor == "siti" and entry.object == complaint
    assert entry.detail["ticket"] == "LAPOR-0001" and entry.detail["target"] == "lapor-bridge"
    assert "text" in entry.detail["fields"] and "Melati" not in json.dumps(entry.detail)
    assert SECRET not in json.dumps([e.detail for e in ws.audit_log()])

    again = ws.escalate(complaint, to="lapor-bridge", by="siti")

    assert again.reference == "LAPOR-0001"
    assert len(receiver.received) == 1, "the second escalation sent nothing"
    assert len(ws.audit_log(action="escalate")) == 1
    [row] = ws.escalations(complaint)
    assert row["status"] == "sent" and row["ticket"] == "LAPOR-0001"


def test_the_author_is_sent_only_when_asked(
    ws: Workspace, plugins: Plugins, receiver: Receiver, complaint: str
) -> None:
    plugins.register(webhook(receiver), name="lapor-bridge")
    ws.escalate(complaint, to="lapor-bridge", by="siti", include_author=True)
    assert receiver.received[0]["body"]["author"] == "ani"


def test_a_wrong_secret_is_refused_by_the_receiver_and_nothing_is_recorded(
    ws: Workspace, plugins: Plugins, receiver: Receiver, complaint: str
) -> None:
    plugins.register(webhook(receiver, secret="kunci-yang-salah"), name="lapor-bridge")
    with pytest.raises(PlatformError) as failed:
        ws.escalate(complaint, to="lapor-bridge", by="siti")
    assert "answered 401" in str(failed.value)
    assert [r["genuine"] for r in receiver.received] == [False]
    assert ws.inbox_item(complaint).ticket is None
    assert ws.escalations(complaint)[0]["status"] == "failed"
    assert "kunci-yang-salah" not in str(failed.value)


def test_a_failed_escalation_is_tried_again_with_the_same_id(
    ws: Workspace, plugins: Plugins, receiver: Receiver, complaint: str
) -> None:
    plugins.register(webhook(receiver), name="lapor-bridge")
    receiver.fail = 1
    with pytest.raises(PlatformError):
        ws.escalate(complaint, to="lapor-bridge", by="siti")
    ticket = ws.escalate(complaint, to="lapor-bridge", by="siti")
    assert ticket.reference == "LAPOR-0001"
    assert len({r["key"] for r in receiver.received}) == 1
    assert len(receiver.tickets) == 1


def test_the_signature_recipe_verifies_and_refuses_replays() -> None:
    body = b'{"id":"x"}'
    stamp = str(int(time.time()))
    signature = webhook_signature(SECRET.encode(), stamp, body)
    assert verify_webhook(SECRET.encode(), timestamp=stamp, signature=signature, body=body)
    assert not verify_webhook(b"other", timestamp=stamp, signature=signature, body=body)
    assert not verify_webhook(SECRET.encode(), timestamp=stamp, signature=signature, body=b"{}")
    old = str(int(time.time()) - 3600)
    replayed = webhook_signature(SECRET.encode(), old, body)
    assert not verify_webhook(SECRET.encode(), timestamp=old, signature=replayed, body=body)


def test_secrets_never_show_and_http_elsewhere_is_refused(receiver: Receiver) -> None:
    target = govsocial.WebhookTarget(name="t", url=receiver.url, secret=SECRET)
    assert SECRET not in repr(target) and SECRET not in repr(vars(target))
    with pytest.raises(ConfigurationError) as refused:
        govsocial.WebhookTarget(name="t", url="http://tiket.example/hook", secret=SECRET)
    assert refused.value.field == "url"
    with pytest.raises(ConfigurationError):
        govsocial.WebhookTarget(name="t", url="javascript:alert(1)", secret=SECRET)
    with pytest.raises(ConfigurationError) as refused:
        govsocial.WebhookTarget(name="t", url=receiver.url, secret="env:GOVSOCIAL_SECRET_KEY")
    assert refused.value.field == "secret"


def test_an_email_escalation_is_mailed_once_with_its_message_id_as_ticket(
    ws: Workspace, plugins: Plugins, smtp: tuple[Mailbox, int], complaint: str
) -> None:
    mailbox, port = smtp
    target = govsocial.EmailTarget(
        name="helpdesk",
        host="127.0.0.1",
        port=port,
        sender="govsocial@pemda.example",
        to=["lapor@pemda.example"],
    )
    plugins.register(target, name="helpdesk")

    ticket = ws.escalate(complaint, to="helpdesk", by="siti")

    [(sender, recipients, message)] = mailbox.received
    assert (sender, recipients) == ("govsocial@pemda.example", ["lapor@pemda.example"])
    assert message["Message-ID"] == ticket.reference
    assert ticket.reference.startswith("<escalation-") and "@pemda.example>" in ticket.reference
    body = message.get_content()
    assert "Jalan Melati rusak" in body and "ani" not in body.split("Pesan / message:")[0]
    assert ws.inbox_item(complaint).ticket == ticket.reference
    assert ws.escalate(complaint, to="helpdesk", by="siti") == ticket
    assert len(mailbox.received) == 1


def test_an_unknown_target_names_the_registered_ones_and_governance_applies(
    ws: Workspace, plugins: Plugins, receiver: Receiver, complaint: str
) -> None:
    plugins.register(webhook(receiver), name="lapor-bridge")
    with pytest.raises(NotFound) as missing:
        ws.escalate(complaint, to="lapor", by="siti")
    assert "lapor-bridge" in str(missing.value) and missing.value.field == "to"
    ws.add_person("kepala", name="Kepala")
    ws.add_person("tamu", name="Tamu")
    start = date.today() - timedelta(days=1)
    ws.appoint("kepala", role="head", decree="SK 1", valid_from=start, by="kepala")
    ws.appoint(
        "siti", accounts=["humas"], role="admin", decree="SK 2", valid_from=start, by="kepala"
    )
    with pytest.raises(NotPermitted):
        ws.escalate(complaint, to="lapor-bridge", by="tamu")
    assert receiver.received == []
    assert ws.escalate(complaint, to="lapor-bridge", by="siti").reference == "LAPOR-0001"
    assert ws.audit_log(action="escalate")[0].decree == "SK 2"


_ESCALATE_AND_DIE = """
import sys
from govsocial.app import Workspace
from govsocial.plugin.manager import Plugins
from fakes import PaperPlugin
import govsocial

db, url, item, marker = sys.argv[1:5]
plugins = Plugins(load_entrypoints=False)
plugins.register(PaperPlugin(), name="paper")
target = govsocial.WebhookTarget(name="lapor-bridge", url=url, secret="env:GOVSOCIAL_CRED_TIKET")
original = target.escalate
def escalate(escalation):
    ticket = original(escalation)
    open(marker, "w").write(ticket.reference)  # the receiver opened it; not recorded yet
    import time; time.sleep(600)
target.escalate = escalate
plugins.register(target, name="lapor-bridge")
with Workspace.open(db, plugins=plugins) as ws:
    ws.escalate(item, to="lapor-bridge", by="siti")
"""


def test_a_process_killed_after_the_ticket_opened_leads_to_one_ticket(
    ws: Workspace, plugins: Plugins, receiver: Receiver, complaint: str, tmp_path: Path
) -> None:
    marker = tmp_path / "opened"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    log = tmp_path / "escalate.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", _ESCALATE_AND_DIE, ws.url, receiver.url, complaint, str(marker)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while not (marker.exists() and marker.read_text()):
                assert process.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert ws.inbox_item(complaint).ticket is None, "killed before the ticket was recorded"
    assert ws.escalations(complaint)[0]["status"] == "sending"
    plugins.register(webhook(receiver), name="lapor-bridge")

    ticket = ws.escalate(complaint, to="lapor-bridge", by="siti")

    assert ticket.reference == "LAPOR-0001"
    assert len(receiver.tickets) == 1, "the receiver opened one ticket"
    assert len({r["key"] for r in receiver.received}) == 1, "sent again under the same id"
    assert ws.inbox_item(complaint).ticket == "LAPOR-0001"


def test_an_interrupted_email_is_not_resent_without_being_asked(
    ws: Workspace, plugins: Plugins, smtp: tuple[Mailbox, int], complaint: str
) -> None:
    mailbox, port = smtp
    with ws.store.transaction() as cur:  # as a process killed while mailing leaves it
        ws.store.inbox.start_escalation(cur, complaint, "helpdesk", "abc123", "siti", time.time())
    target = govsocial.EmailTarget(
        name="helpdesk",
        host="127.0.0.1",
        port=port,
        sender="g@pemda.example",
        to=["l@pemda.example"],
    )
    plugins.register(target, name="helpdesk")
    with pytest.raises(PublishOutcomeUnknown):
        ws.escalate(complaint, to="helpdesk", by="siti")
    assert mailbox.received == []
    ticket = ws.escalate(complaint, to="helpdesk", by="siti", resend=True)
    assert ticket.reference == "<escalation-abc123@pemda.example>"
    assert len(mailbox.received) == 1


def test_inbox_escalate_on_the_command_line(
    ws: Workspace,
    plugins: Plugins,
    receiver: Receiver,
    complaint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from govsocial.cli import main

    if ws.store.engine != "sqlite":
        pytest.skip("the command line is the same on both engines")
    plugins.register(webhook(receiver), name="lapor-bridge")
    argv = ["--db", ws.url, "inbox", "escalate", complaint, "--to", "lapor-bridge", "--by", "siti"]
    assert main(argv) == 0
    assert "ticket LAPOR-0001  https://tiket.example/LAPOR-0001" in capsys.readouterr().out
    assert main(argv) == 0
    assert "ticket LAPOR-0001" in capsys.readouterr().out
    assert len(receiver.received) == 1
    assert main([*argv[:-4], "--to", "nowhere", "--by", "siti"]) == 2
    assert "no escalation target named 'nowhere'" in capsys.readouterr().err


def test_two_escalations_at_the_same_moment_open_one_ticket(
    ws: Workspace, plugins: Plugins, receiver: Receiver, complaint: str
) -> None:
    plugins.register(webhook(receiver), name="lapor-bridge")
    others = [Workspace.open(ws.url, plugins=plugins) for _ in range(2)]
    barrier = threading.Barrier(2)
    tickets: list[str] = []

    def escalate(other: Workspace) -> None:
        barrier.wait()
        tickets.append(other.escalate(complaint, to="lapor-bridge", by="siti").reference)

    threads = [threading.Thread(target=escalate, args=(other,)) for other in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for other in others:
        other.close()
    assert tickets == ["LAPOR-0001", "LAPOR-0001"]
    assert len(receiver.tickets) == 1, "one ticket, however many requests carried the id"
    assert {r["key"] for r in receiver.received} == {ws.escalations(complaint)[0]["escalation"]}
    assert ws.inbox_item(complaint).ticket == "LAPOR-0001"
