"""`portal-marketplace serve`: the demo portal with the plugin mounted under /marketplace."""

from __future__ import annotations

import typer
import uvicorn

from portal_plugin.cli.common import fail, settings_or_exit
from portal_plugin.process_memory import cap_malloc_arenas


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, envvar="PORT", help="Port."),
    workers: int = typer.Option(1, "--workers", min=1, max=32, help="uvicorn worker processes."),
) -> None:
    """Serve the demo portal."""
    settings_or_exit()  # fail fast with one line before uvicorn starts
    try:
        cap_malloc_arenas()  # here and, through MALLOC_ARENA_MAX, in every worker it starts
    except ValueError as exc:
        fail(str(exc))
    typer.echo(f"serving the demo portal on http://{host}:{port}/ (plugin under /marketplace)")
    uvicorn.run(
        "portal_plugin.demo.app:create_demo_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
    )
