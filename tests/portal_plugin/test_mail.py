from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from portal_plugin.mail import Mail, Mailer, MailNotSent
from portal_plugin.mail_sink import MailSink, start_sink
from tests.support.mail import MAIL_FROM, free_port, mail_settings
from tests.support.settings import make_settings

VALUES = {
    "name": "鶴ヶ城そば",
    "link": "https://plus.example.jp/marketplace/shop/reset/abc",
    "minutes": 30,
    "expires_at": "2026年12月4日 20:30",
}


def mailer(port: int) -> Mailer:
    return Mailer(make_settings("sqlite://", **mail_settings(port)))


def test_japanese_is_the_default_and_english_is_available() -> None:
    ja = mailer(2525).render("password_reset", "soba@example.jp", **VALUES)
    assert ja.subject == "【会津若松+ 広告】パスワード再設定のご案内"
    assert "鶴ヶ城そば 様" in ja.body and VALUES["link"] in ja.body and "30 分" in ja.body
    en = mailer(2525).render("password_reset", "soba@example.jp", language="en", **VALUES)
    assert en.subject == "[Aizuwakamatsu+ Ads] Resetting your password"
    assert "works for 30 minutes" in en.body
    # An unknown language falls back to Japanese rather than failing.
    assert mailer(2525).render("password_reset", "a@b.jp", language="fr", **VALUES) == Mail(
        "a@b.jp", ja.subject, ja.body
    )


def test_a_template_missing_a_value_fails_loudly_instead_of_sending_a_blank() -> None:
    with pytest.raises(Exception, match="link"):
        mailer(2525).render("password_reset", "a@b.jp", name="x", minutes=30, expires_at="x")


def test_a_mail_reaches_the_smtp_server_with_its_japanese_intact(
    mail_sink: tuple[MailSink, int],
) -> None:
    sink, port = mail_sink
    sender = mailer(port)
    mail = sender.render("password_reset", "soba@example.jp", **VALUES)
    anyio.run(sender.send, mail)
    [received] = sink.to("soba@example.jp")
    assert received.subject == mail.subject
    assert received.body.strip() == mail.body.strip()
    assert received.message["From"] == MAIL_FROM
    assert received.message["Message-ID"].endswith("@city.example.jp>")
    assert received.message["Auto-Submitted"] == "auto-generated"


def test_the_sink_writes_each_mail_as_a_readable_file(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    port = free_port()
    controller, _sink = start_sink("127.0.0.1", port, folder)
    try:
        sender = mailer(port)
        anyio.run(sender.send, sender.render("password_reset", "soba@example.jp", **VALUES))
    finally:
        controller.stop()
    [written] = list(folder.glob("*.txt"))
    assert written.name.endswith("-soba@example.jp.txt")
    text = written.read_text(encoding="utf-8")
    assert "Subject: 【会津若松+ 広告】パスワード再設定のご案内" in text
    assert VALUES["link"] in text  # not base64: a newcomer can read and follow it


def test_a_route_sends_after_its_response_and_a_dead_server_only_logs(
    mail_sink: tuple[MailSink, int], caplog: pytest.LogCaptureFixture
) -> None:
    sink, port = mail_sink
    live, dead = mailer(port), mailer(free_port())

    def endpoint(sender: Mailer):
        async def handle(request: Request) -> Response:
            mail = sender.render("password_reset", "soba@example.jp", **VALUES)
            return sender.send_after(PlainTextResponse("受け付けました"), mail)

        return handle

    app = Starlette(routes=[Route("/live", endpoint(live)), Route("/dead", endpoint(dead))])
    with TestClient(app) as client, caplog.at_level(logging.INFO, "portal_plugin.mail"):
        assert client.get("/live").text == "受け付けました"
        assert len(sink.to("soba@example.jp")) == 1
        assert client.get("/dead").status_code == 200  # the page never fails on mail
    failure = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failure and "not sent" in failure[0].getMessage()
    assert VALUES["link"] not in caplog.text  # the link is a secret: never in the logs


def test_without_smtp_host_nothing_is_sent_and_send_says_why() -> None:
    sender = Mailer(make_settings("sqlite://"))
    assert not sender.enabled
    with pytest.raises(MailNotSent, match="SMTP_HOST"):
        anyio.run(sender.send, Mail("a@b.jp", "s", "b"))
