"""Pluggable mail backends: console (default), memory (tests) and SMTP."""

from __future__ import annotations

import smtplib
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from flask import current_app


@dataclass(frozen=True)
class Mail:
    """One e-mail to send: a plain-text body and, for every e-mail the product writes,
    the same content as HTML (sent together as multipart/alternative)."""

    to: str
    subject: str
    body: str
    html: str | None = None


class MailBackend(Protocol):
    """Anything that can send a Mail; raising means 'try again later'."""

    def send(self, mail: Mail) -> None: ...


class ConsoleBackend:
    """Prints e-mails to standard output, both parts: the embedded default."""

    def send(self, mail: Mail) -> None:
        html = f"--- HTML part:\n{mail.html}\n" if mail.html else ""
        print(
            f"--- e-mail to {mail.to}: {mail.subject}\n{mail.body}{html}---",
            file=sys.stdout,
            flush=True,
        )


class MemoryBackend:
    """Keeps e-mails, both parts, in a list (`MemoryBackend.outbox`) for tests to inspect."""

    outbox: list[Mail] = []

    def send(self, mail: Mail) -> None:
        self.outbox.append(mail)


class SMTPBackend:
    """Sends through the SMTP server of the SMTP_* settings."""

    def send(self, mail: Mail) -> None:
        config: dict[str, Any] = current_app.config
        message = EmailMessage()
        message["From"] = config["MAIL_FROM"]
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        if mail.html is not None:  # multipart/alternative: the reader's client picks one
            message.add_alternative(mail.html, subtype="html")
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(message)


BACKENDS: dict[str, type[MailBackend]] = {
    "console": ConsoleBackend,
    "memory": MemoryBackend,
    "smtp": SMTPBackend,
}


def mail_backend() -> MailBackend:
    """The backend named by MAIL_BACKEND (or set on app.extensions for tests)."""
    override = current_app.extensions.get("mail_backend")
    if override is not None:
        return override
    return BACKENDS[current_app.config["MAIL_BACKEND"]]()
