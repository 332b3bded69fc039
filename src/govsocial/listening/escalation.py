"""Escalation targets: where an inbox item goes when it belongs in a ticket system.

Two ship with govsocial; each is a plugin object that registers itself through the
``register_escalation_targets`` hook when it is registered::

    ws.plugins.register(govsocial.WebhookTarget(
        name="lapor-bridge", url="https://tiket.pemda.go.id/govsocial",
        secret="env:GOVSOCIAL_CRED_TIKET_SECRET",
    ))
    ws.escalate(item_id, to="lapor-bridge", by="siti")

- :class:`WebhookTarget` POSTs the case as JSON, signed with HMAC-SHA256 over the timestamp
  and the body (:func:`webhook_signature`; the receiver checks it with
  :func:`verify_webhook`, or the recipe in docs/listening.md), and reads the ticket from the
  JSON answer. The ``Idempotency-Key`` header is the escalation's id: the same on every
  attempt for one item and target, so a receiver that honours it opens one ticket however
  often it is sent (:attr:`WebhookTarget.deduplicates`).
- :class:`EmailTarget` mails the case (smtplib, as :class:`~govsocial.EmailNotifier`); the
  ticket reference is the email's ``Message-ID``, made from the escalation's id.

Secrets (the webhook's key, the SMTP password) come from ``env:NAME`` references to allowed
variables or from a :class:`pydantic.SecretStr`, and never appear in a repr, a log line or
an error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import smtplib
import time
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

import httpx
from pydantic import SecretStr

from govsocial.adapters import hookimpl
from govsocial.core._env import check_env_reference, http_refusal
from govsocial.core._html import safe_url
from govsocial.core.errors import ConfigurationError, PlatformError
from govsocial.core.listening import Escalation, EscalationTarget, Ticket
from govsocial.listening.notify import EmailNotifier, _one_line

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "EmailTarget",
    "WebhookTarget",
    "verify_webhook",
    "webhook_signature",
]

#: The header holding the signature: ``v1=`` and the hex HMAC-SHA256.
SIGNATURE_HEADER = "X-GovSocial-Signature"
#: The header holding the time of signing, in Unix seconds.
TIMESTAMP_HEADER = "X-GovSocial-Timestamp"
#: How old a signed request a receiver accepts by default, in seconds.
DEFAULT_TOLERANCE = 300
_MAX_ANSWER = 64 * 1024


def _secret(value: str | SecretStr, field: str, owner: str) -> SecretStr:
    """``value`` as a secret; an ``env:NAME`` value names an allowed variable, read at use."""
    if isinstance(value, SecretStr):
        return value
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{owner} needs a {field}", field=field)
    if value.startswith("env:"):
        check_env_reference(value[4:], field=field, owner=owner)
    return SecretStr(value)


def _open(secret: SecretStr, field: str, owner: str) -> bytes:
    value = secret.get_secret_value()
    if value.startswith("env:"):
        name = value[4:]
        check_env_reference(name, field=field, owner=owner)
        if not os.environ.get(name):
            raise ConfigurationError(
                f"environment variable {name} ({owner}'s {field}) is not set", field=field
            )
        value = os.environ[name]
    return value.encode("utf-8")


def webhook_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``timestamp``, a dot and ``body``, under ``secret``."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def verify_webhook(
    secret: bytes,
    *,
    timestamp: str,
    signature: str,
    body: bytes,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Whether a request a :class:`WebhookTarget` signed is genuine and fresh: the
    signature matches (compared in constant time) and the timestamp is within
    ``tolerance`` seconds of ``now``. A receiver in Python can call this; docs/listening.md
    gives the recipe for any language."""
    try:
        moment = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - moment) > tolerance:
        return False
    expected = webhook_signature(secret, timestamp, body)
    return hmac.compare_digest(expected, signature or "")


class WebhookTarget:
    """An escalation target that POSTs each case to ``url``, signed (HMAC-SHA256).

    The body is the :class:`~govsocial.Escalation` as JSON (keys sorted, UTF-8). Headers:
    ``X-GovSocial-Timestamp`` (Unix seconds), ``X-GovSocial-Signature``
    (:func:`webhook_signature`), ``Idempotency-Key`` (the escalation's id). The answer must be
    a 2xx JSON object whose ``reference_field`` holds the ticket's reference (and
    ``url_field`` a link to it, when given).

    :param name: how ``ws.escalate(..., to=name)`` names it.
    :param url: where to POST (``https://``; ``http://`` only for hosts in
        ``GOVSOCIAL_ALLOW_HTTP``, loopback by default).
    :param secret: the shared key (``env:NAME`` reads an allowed variable at each send).
    :param reference_field: the answer's field holding the ticket reference.
    :param url_field: the answer's field holding a link to the ticket.
    :param timeout: seconds to wait for the receiver.
    """

    #: a receiver honours ``Idempotency-Key``: sending one case again opens no new ticket
    deduplicates = True

    def __init__(
        self,
        *,
        name: str,
        url: str,
        secret: str | SecretStr,
        reference_field: str = "ticket",
        url_field: str | None = "url",
        timeout: float = 10.0,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError("an escalation target needs a name", field="name")
        checked = safe_url(url)
        if checked is None or checked != url:
            raise ConfigurationError(
                f"{url!r} is not an https:// address", field="url", hint="https://tiket..."
            )
        refusal = http_refusal(url)
        if refusal is not None:
            raise ConfigurationError(f"webhook {url}: {refusal[0]}", field="url", hint=refusal[1])
        self.name = name.strip()
        self.url = url
        self._secret = _secret(secret, "secret", f"the webhook target {self.name!r}")
        self.reference_field = reference_field
        self.url_field = url_field
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"WebhookTarget(name={self.name!r}, url={self.url!r})"

    @hookimpl
    def register_escalation_targets(self, register: Callable[[EscalationTarget], None]) -> None:
        """Register this target."""
        register(self)

    def request(self, escalation: Escalation, *, now: float | None = None) -> httpx.Request:
        """The signed request that sends ``escalation``."""
        body = json.dumps(
            escalation.payload(), ensure_ascii=False, sort_keys=True, separators=(",", ":")
        ).encode("utf-8")
        timestamp = str(int(time.time() if now is None else now))
        secret = _open(self._secret, "secret", f"the webhook target {self.name!r}")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: webhook_signature(secret, timestamp, body),
            "Idempotency-Key": escalation.id,
        }
        return httpx.Request("POST", self.url, content=body, headers=headers)

    def escalate(self, escalation: Escalation) -> Ticket:
        """POST the case; the ticket the receiver answered.

        :raises PlatformError: unreachable, an error status, or no ticket in the answer
            (the receiver's message kept, cut to 300 characters).
        """
        request = self.request(escalation)
        try:
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=False) as client,
                client.stream(
                    request.method, request.url, headers=request.headers, content=request.content
                ) as answer,
            ):
                body = b""
                for chunk in answer.iter_bytes():
                    body += chunk
                    if len(body) > _MAX_ANSWER:
                        raise PlatformError(
                            f"the webhook {self.name!r} answered more than {_MAX_ANSWER} bytes",
                            platform=self.name,
                            status=answer.status_code,
                        )
                status = answer.status_code
        except httpx.HTTPError as exc:
            raise PlatformError(
                f"the webhook {self.name!r} at {self.url} could not be reached: "
                f"{type(exc).__name__}",
                platform=self.name,
                transient=True,
            ) from None
        text = body.decode("utf-8", "replace")
        if not 200 <= status < 300:
            raise PlatformError(
                f"the webhook {self.name!r} answered {status}: {_one_line(text, 300)}",
                platform=self.name,
                status=status,
                body=text[:300],
                transient=status in (429, 500, 502, 503, 504),
            )
        try:
            found = json.loads(text)
        except ValueError:
            found = None
        reference = found.get(self.reference_field) if isinstance(found, dict) else None
        if (
            not isinstance(reference, (str, int))
            or isinstance(reference, bool)
            or not str(reference).strip()
        ):
            raise PlatformError(
                f"the webhook {self.name!r} answered {status} without a ticket in its "
                f"{self.reference_field!r} field: {_one_line(text, 300)}",
                platform=self.name,
                status=status,
                body=text[:300],
                hint=f'answer a JSON object such as {{"{self.reference_field}": "T-123"}}',
            )
        link = found.get(self.url_field) if self.url_field and isinstance(found, dict) else None
        return Ticket(
            reference=_one_line(str(reference), 200),
            url=safe_url(link) if isinstance(link, str) else None,
        )


class EmailTarget:
    """An escalation target that emails each case; the ticket reference is its Message-ID.

    The recipients (the helpdesk's address, the LAPOR! liaison officer) are fixed here; the
    subject is one line, so a citizen's words cannot add a header or a recipient. Takes the
    SMTP settings of :class:`~govsocial.EmailNotifier`.

    :param name: how ``ws.escalate(..., to=name)`` names it.
    """

    #: a resent email is a second email: a case whose send was interrupted is not resent
    #: without ``resend=True``
    deduplicates = False

    def __init__(
        self,
        *,
        name: str,
        host: str,
        sender: str,
        to: Iterable[str],
        port: int = 25,
        starttls: bool = False,
        tls: bool = False,
        username: str | None = None,
        password: str | SecretStr | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError("an escalation target needs a name", field="name")
        self.name = name.strip()
        self._mailer = EmailNotifier(
            host=host,
            sender=sender,
            to=to,
            port=port,
            starttls=starttls,
            tls=tls,
            username=username,
            password=password,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        mailer = self._mailer
        return (
            f"EmailTarget(name={self.name!r}, host={mailer.host!r}, port={mailer.port}, "
            f"to={list(mailer.to)!r})"
        )

    @hookimpl
    def register_escalation_targets(self, register: Callable[[EscalationTarget], None]) -> None:
        """Register this target."""
        register(self)

    def message(self, escalation: Escalation) -> EmailMessage:
        """The email for ``escalation``."""
        mailer = self._mailer
        domain = mailer.sender.rsplit("@", 1)[1]
        message = EmailMessage(policy=SMTP)
        message["From"] = mailer.sender
        message["To"] = ", ".join(mailer.to)
        subject = f"[govsocial] Eskalasi / escalation {escalation.item_id}: {escalation.text[:80]}"
        message["Subject"] = _one_line(subject, 200)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = f"<escalation-{escalation.id}@{domain}>"
        lines = [
            f"Butir / item: {escalation.item_id}",
            f"Akun / account: {escalation.account} ({escalation.platform}, {escalation.kind})",
            f"Diterima / received: {escalation.received_at.isoformat()}",
            f"Tautan / link: {escalation.url or '-'}",
            f"Klasifikasi / classified: {escalation.intent or '-'}, {escalation.sentiment or '-'}",
            f"Dieskalasi oleh / escalated by: {escalation.escalated_by or '-'}",
        ]
        if escalation.author is not None:
            lines.append(f"Dari / from: {_one_line(escalation.author, 200)}")
        if escalation.note:
            lines += ["", "Catatan / note:", escalation.note]
        lines += ["", "Pesan / message:", escalation.text]
        message.set_content("\n".join(lines))
        return message

    def escalate(self, escalation: Escalation) -> Ticket:
        """Mail the case; its Message-ID is the ticket reference.

        :raises PlatformError: the server refused it or cannot be reached.
        """
        message = self.message(escalation)
        try:
            self._mailer.send(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise PlatformError(
                f"the email target {self.name!r} could not send: {type(exc).__name__}: "
                f"{_one_line(str(exc), 200)}",
                platform=self.name,
                transient=True,
            ) from None
        return Ticket(reference=str(message["Message-ID"]))
