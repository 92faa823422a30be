"""Sending mail to a local sink in tests: a free port and the settings that point at it."""

from __future__ import annotations

import socket

SINK_HOST = "127.0.0.1"
PUBLIC_BASE_URL = "https://plus.example.jp"
MAIL_FROM = "会津若松+ 広告 <no-reply@city.example.jp>"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((SINK_HOST, 0))
        return int(probe.getsockname()[1])


def mail_settings(port: int) -> dict[str, object]:
    """Settings overrides that send mail to a sink on `port` of this machine."""
    return {
        "smtp_host": SINK_HOST,
        "smtp_port": port,
        "smtp_security": "none",
        "mail_from": MAIL_FROM,
        "public_base_url": PUBLIC_BASE_URL,
        "smtp_timeout_seconds": 5,
    }
