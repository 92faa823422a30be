from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from portal_plugin.cli import serve_cmds
from portal_plugin.cli.main import app
from portal_plugin.mail import Mailer
from portal_plugin.settings import load_settings
from tests.support.cli import point_cli_at
from tests.support.mail import free_port

runner = CliRunner()


def test_demo_serve_keeps_mail_in_a_folder_with_links_to_itself(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_cli_at(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'cli.db'}")
    sink_port = free_port()
    for name in serve_cmds.demo_mail_environment("h", 1, 1):
        monkeypatch.setenv(name, "")  # restored after the test; serve sets them

    def uvicorn_run(*args: Any, **kwargs: Any) -> None:
        # Stands in for uvicorn (a server would never return): what a worker would do on a
        # password reset, with the settings a worker reads from the environment.
        mailer = Mailer(load_settings())
        mail = mailer.render(
            "password_reset",
            "soba@example.jp",
            name="鶴ヶ城そば",
            link=mailer.link("/marketplace/shop/reset/x"),
            minutes=30,
            expires_at="20:30",
        )
        anyio.run(mailer.send, mail)

    monkeypatch.setattr(serve_cmds.uvicorn, "run", uvicorn_run)
    folder = tmp_path / "var" / "mail"
    result = runner.invoke(
        app,
        ["serve", "--port", "8131", "--mail-sink", str(folder), "--mail-sink-port", str(sink_port)],
    )
    assert result.exit_code == 0, result.output
    assert f"{folder.resolve()}/" in result.output.replace("\n", "")
    [written] = list(folder.glob("*.txt"))
    text = written.read_text(encoding="utf-8")
    assert "http://127.0.0.1:8131/marketplace/shop/reset/x" in text
    assert "From: 会津若松+ 広告（デモ） <no-reply@demo.aizu.example>" in text
