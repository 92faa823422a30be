"""`portal-marketplace serve`: the demo portal with the plugin mounted under /marketplace."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
import uvicorn

from portal_plugin.cli.common import fail, settings_or_exit
from portal_plugin.cli.process_tuning import cap_malloc_arenas
from portal_plugin.logs import uvicorn_log_config
from portal_plugin.mail_sink import start_sink

DEMO_MAIL_FROM = "会津若松+ 広告（デモ） <no-reply@demo.aizu.example>"


def demo_mail_environment(host: str, port: int, sink_port: int) -> dict[str, str]:
    """Mail settings that send every message to the local sink, with links to this server."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink_port),
        "SMTP_SECURITY": "none",
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "MAIL_FROM": DEMO_MAIL_FROM,
        "PUBLIC_BASE_URL": f"http://{host}:{port}",
    }


MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_folder(workers: int) -> Iterator[None]:
    """With several workers, a fresh folder where each keeps its metrics' counts (see
    portal_plugin/metrics.py), removed at the end. An operator's own folder is kept but
    emptied first: counts left from an earlier run would be added to this one's."""
    if workers == 1 and MULTIPROC_VARIABLE not in os.environ:
        yield
        return
    own = os.environ.get(MULTIPROC_VARIABLE)
    if own:
        folder = Path(own)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
    else:
        folder = Path(tempfile.mkdtemp(prefix="portal-marketplace-metrics-"))
        os.environ[MULTIPROC_VARIABLE] = str(folder)
    try:
        yield
    finally:
        if not own:
            shutil.rmtree(folder, ignore_errors=True)
            os.environ.pop(MULTIPROC_VARIABLE, None)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, envvar="PORT", help="Port."),
    workers: int = typer.Option(1, "--workers", min=1, max=32, help="uvicorn worker processes."),
    mail_sink: Path | None = typer.Option(
        None,
        "--mail-sink",
        help="Demo: keep outgoing mail in this folder (a local SMTP sink) instead of sending it.",
    ),
    mail_sink_port: int = typer.Option(8025, "--mail-sink-port", min=1, max=65535),
) -> None:
    """Serve the demo portal."""
    if mail_sink is not None:
        # Set before the settings are read, here and in every worker uvicorn starts.
        os.environ.update(demo_mail_environment(host, port, mail_sink_port))
    settings = settings_or_exit()  # fail fast with one line before uvicorn starts
    try:
        cap_malloc_arenas()  # here and, through MALLOC_ARENA_MAX, in every worker it starts
    except ValueError as exc:
        fail(str(exc))
    if mail_sink is not None:
        try:
            controller, _sink = start_sink("127.0.0.1", mail_sink_port, mail_sink)
        except OSError as exc:
            fail(f"cannot start the mail sink on 127.0.0.1:{mail_sink_port}: {exc}")
        typer.echo(
            f"mail (password reset links, account notices) is not sent: each message is written "
            f"to {mail_sink.resolve()}/ as a text file, newest last (ls {mail_sink}/)"
        )
    typer.echo(f"serving the demo portal on http://{host}:{port}/ (plugin under /marketplace)")
    try:
        with metrics_folder(workers):
            uvicorn.run(
                "portal_plugin.cli.process_tuning:create_served_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_config=uvicorn_log_config(settings.log_format),
                log_level="info",
                proxy_headers=False,
            )
    finally:
        if mail_sink is not None:
            controller.stop()
