"""Outgoing mail: messages rendered from templates, sent over SMTP with aiosmtplib.

A message is a template under `templates/mail/`, one file per language
(`password_reset.ja.txt`, `password_reset.en.txt`) with a `subject` and a `body` block; Japanese
is the default and the fallback. Routes send mail after their response
(`mailer.send_after(response, mail)`), so a page answers as fast whether or not a mail goes
out (sign-up and password reset must not tell whether an address has an account), and a mail
server that is down never fails the request: the failure is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.responses import Response

from portal_plugin import i18n
from portal_plugin.settings import Settings

MAIL_TEMPLATE_DIR = Path(__file__).parent / "templates" / "mail"
log = logging.getLogger("portal_plugin.mail")


class MailNotSent(Exception):
    """The SMTP server refused the message or could not be reached."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer:
    """Renders and sends the plugin's mail with the SMTP settings of `Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._templates = Environment(
            loader=FileSystemLoader(str(MAIL_TEMPLATE_DIR)),
            autoescape=False,  # plain-text mail; values are never interpreted as markup
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    @property
    def enabled(self) -> bool:
        return self.settings.mail_enabled

    def link(self, path: str) -> str:
        """An absolute link for a mail, from PUBLIC_BASE_URL (never from a request's Host)."""
        assert path.startswith("/"), "a path of this site"
        return f"{self.settings.public_base_url or ''}{path}"

    def render(self, template: str, to: str, language: str | None = None, **values: Any) -> Mail:
        """`mail/<template>.<language>.txt` (Japanese when there is none) filled with `values`."""
        language = language or i18n.current_language.get()
        if language not in i18n.SUPPORTED_LANGUAGES:
            language = "ja"
        loaded = self._templates.select_template(
            [f"{template}.{language}.txt", f"{template}.ja.txt"]
        )
        context = loaded.new_context(values)
        subject = "".join(loaded.blocks["subject"](context)).strip()
        body = "".join(loaded.blocks["body"](context)).strip() + "\n"
        return Mail(to=to, subject=" ".join(subject.split()), body=body)

    def message(self, mail: Mail) -> EmailMessage:
        sender = self.settings.mail_from or ""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        domain = parseaddr(sender)[1].rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(mail.body, charset="utf-8")
        return message

    async def send(self, mail: Mail) -> None:
        """Send one mail now; raises MailNotSent when the server cannot take it."""
        if not self.enabled:
            raise MailNotSent("SMTP_HOST is not set")
        settings = self.settings
        try:
            await aiosmtplib.send(
                self.message(mail),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password,
                use_tls=settings.smtp_security == "tls",
                start_tls=settings.smtp_security == "starttls",
                timeout=settings.smtp_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailNotSent(f"{type(exc).__name__}: {exc}") from exc

    async def send_logged(self, mail: Mail) -> bool:
        """Send one mail; a failure is logged (without the body: it may hold a link) and False."""
        if not self.enabled:
            log.warning("mail %r to %s not sent: SMTP_HOST is not set", mail.subject, mail.to)
            return False
        try:
            await self.send(mail)
        except MailNotSent as exc:
            log.error("mail %r to %s not sent: %s", mail.subject, mail.to, exc)
            return False
        log.info("mail %r sent to %s", mail.subject, mail.to)
        return True

    def send_after(self, response: Response, mail: Mail) -> Response:
        """Send `mail` once `response` has gone out, keeping any background work it had."""
        tasks = BackgroundTasks()
        if response.background is not None:
            tasks.tasks.append(response.background)  # type: ignore[arg-type]
        tasks.tasks.append(BackgroundTask(self.send_logged, mail))
        response.background = tasks
        return response
