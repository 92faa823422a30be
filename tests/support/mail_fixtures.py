"""A real SMTP sink (aiosmtpd, the same one the demo runs) for tests that send mail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from portal_plugin.app import create_app
from portal_plugin.mail_sink import MailSink, start_sink
from tests.support.mail import SINK_HOST, free_port, mail_settings
from tests.support.settings import make_settings


@pytest.fixture
def mail_sink() -> Iterator[tuple[MailSink, int]]:
    """A listening sink and its port; everything sent to it is kept in `sink.messages`."""
    port = free_port()
    controller, sink = start_sink(SINK_HOST, port)
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def mail_app(
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    mail_sink: tuple[MailSink, int],
) -> Starlette:
    """The plugin app, in the test's rolled-back transaction, sending its mail to the sink."""
    settings = make_settings(database_url, **mail_settings(mail_sink[1]))
    app = create_app(settings, engine=engine)
    app.state.ctx.session_factory = session_factory
    return app
