"""A local SMTP sink (aiosmtpd) for the demo and the tests: it keeps mail instead of sending it.

Each message it receives is kept in `messages` and, when it has a folder, written there as a
readable text file (headers decoded, the text body as UTF-8), newest last by name, so a
newcomer running `make demo` can open `var/mail/` and follow a password-reset link.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class CapturedMail:
    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    message: EmailMessage

    def as_text(self) -> str:
        return (
            f"From: {self.message['From']}\n"
            f"To: {', '.join(self.recipients)}\n"
            f"Date: {self.message['Date']}\n"
            f"Subject: {self.subject}\n\n{self.body}"
        )


class MailSink:
    """The aiosmtpd handler: accepts every message for any recipient and keeps it."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.messages: list[CapturedMail] = []
        self._lock = threading.Lock()
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(preferencelist=("plain",))
        captured = CapturedMail(
            sender=str(envelope.mail_from),
            recipients=tuple(str(r) for r in envelope.rcpt_tos),
            subject=str(message["Subject"] or ""),
            body=part.get_content() if part is not None else "",
            message=message,
        )
        with self._lock:
            self.messages.append(captured)
            count = len(self.messages)
        if self.directory is not None:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            recipient = re.sub(r"[^A-Za-z0-9@._-]", "_", captured.recipients[0])[:80]
            name = f"{stamp}-{count:03d}-{recipient}.txt"
            (self.directory / name).write_text(captured.as_text(), encoding="utf-8")
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[CapturedMail]:
        """The messages received for `address`, oldest first."""
        with self._lock:
            return [m for m in self.messages if address.lower() in map(str.lower, m.recipients)]


def start_sink(host: str, port: int, directory: Path | None = None) -> tuple[Controller, MailSink]:
    """Listen on host:port in a background thread; `controller.stop()` ends it."""
    sink = MailSink(directory)
    controller = Controller(sink, hostname=host, port=port)
    controller.start()
    return controller, sink
