"""Telling a person now: :class:`EmailNotifier`, a ``notify`` hook that sends an email.

Register one on the workspace's plugin system and every emergency that reaches the inbox
is mailed to the people on duty::

    ws.plugins.register(govsocial.EmailNotifier(
        host="smtp.pemda.go.id", port=587, starttls=True,
        sender="govsocial@pemda.go.id", to=["piket-humas@pemda.go.id"],
        username="govsocial", password="env:GOVSOCIAL_CRED_SMTP",
    ))

The recipients are fixed when the notifier is made; nothing in a notice (a citizen's words)
can add one, and the subject is one line with every control character replaced, so a
message cannot inject a header. The password is never shown in a repr or an error.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

import regex
from pydantic import SecretStr

from govsocial.adapters import hookimpl
from govsocial.core._env import check_env_reference
from govsocial.core.errors import ConfigurationError
from govsocial.core.listening import Notice

__all__ = ["EmailNotifier"]

_CONTROL = regex.compile(r"[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+")
_ADDRESS = regex.compile(r"^[^\s@<>,;\"'()\[\]\\]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")


def _address(value: str, field: str) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise ConfigurationError(
            f"{value!r} is not an email address",
            field=field,
            hint="a plain address such as piket@pemda.go.id, without a display name",
        )
    return value


def _secret(value: str) -> str:
    """``value``, or the allowed environment variable an ``env:NAME`` value names."""
    if not value.startswith("env:"):
        return value
    name = value[4:]
    check_env_reference(name, field="password", owner="the email notifier")
    if name not in os.environ:
        raise ConfigurationError(
            f"environment variable {name} (the email notifier's password) is not set",
            field="password",
        )
    return os.environ[name]


def _one_line(text: str, limit: int) -> str:
    line = " ".join(_CONTROL.sub(" ", text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class EmailNotifier:
    """A ``notify`` hook implementation that emails each notice (smtplib, standard library).

    :param host: the SMTP server.
    :param port: its port (25, 587 with ``starttls``, 465 with ``tls``).
    :param sender: the From address.
    :param to: the people to tell (fixed here; a notice never adds one).
    :param starttls: upgrade the connection with STARTTLS before logging in.
    :param tls: connect over TLS from the start (port 465).
    :param username: the login, when the server needs one.
    :param password: its password (``env:NAME`` reads an allowed environment variable).
    :param kinds: the notice kinds to send (default: emergencies only).
    :param timeout: seconds to wait for the server.
    """

    def __init__(
        self,
        *,
        host: str,
        sender: str,
        to: Iterable[str],
        port: int = 25,
        starttls: bool = False,
        tls: bool = False,
        username: str | None = None,
        password: str | SecretStr | None = None,
        kinds: Iterable[str] = ("emergency",),
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = _address(sender, "sender")
        self.to = tuple(_address(a, "to") for a in to)
        if not self.to:
            raise ConfigurationError("an email notifier needs a recipient", field="to")
        if starttls and tls:
            raise ConfigurationError(
                "starttls and tls are two ways to the same end", field="tls", hint="pick one"
            )
        self.starttls = starttls
        self.tls = tls
        self.username = username
        self._password = SecretStr(password) if isinstance(password, str) else password
        self.kinds = frozenset(kinds)
        self.timeout = timeout

    def __repr__(self) -> str:
        return (
            f"EmailNotifier(host={self.host!r}, port={self.port}, sender={self.sender!r}, "
            f"to={list(self.to)!r})"
        )

    def message(self, notice: Notice) -> EmailMessage:
        """The email for ``notice``: a one-line subject and a plain-text body."""
        message = EmailMessage(policy=SMTP)
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        message["Subject"] = _one_line(f"[govsocial] {notice.subject}", 200)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[1])
        lines = [
            f"Jenis / kind: {notice.kind}",
            f"Akun / account: {notice.account or '-'} ({notice.platform or '-'})",
            f"Diterima / received: {notice.received_at.isoformat() if notice.received_at else '-'}",
            f"Dari / from: {_one_line(notice.author or '-', 200)}",
            f"Tautan / link: {notice.url or '-'}",
            f"Butir / item: {notice.item_id or '-'}",
        ]
        if notice.classification is not None:
            c = notice.classification
            decided = f"{c.intent} ({c.confidence:.2f}, {c.classifier})"
            lines.append(f"Klasifikasi / classified: {decided}")
        lines += ["", "Pesan / message:", notice.text]
        message.set_content("\n".join(lines))
        return message

    @hookimpl
    def notify(self, notice: Notice) -> None:
        """Send ``notice`` when its kind is one this notifier sends.

        :raises smtplib.SMTPException: the server refused it (reported by the host as a
            warning; the next sync tries again).
        """
        if notice.kind not in self.kinds:
            return
        self.send(self.message(notice))

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` to :attr:`to` through the server (not a hook: the escalation
        target :class:`govsocial.EmailTarget` sends through it too).

        :raises smtplib.SMTPException: the server refused it.
        :raises OSError: the server cannot be reached.
        """
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username is not None:
                password = self._password.get_secret_value() if self._password else ""
                smtp.login(self.username, _secret(password))
            smtp.send_message(message, from_addr=self.sender, to_addrs=list(self.to))
