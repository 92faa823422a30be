"""The `portal-marketplace` command."""

from __future__ import annotations

import sys

import typer

from portal_plugin.cli import (
    articles_cmds,
    backup_cmds,
    billing_cmds,
    db_cmds,
    identity_cmds,
    marketplace_cmds,
    model_refresh,
    privacy_cmds,
    recommender_cmds,
    report_cmds,
    seed_cmds,
    serve_cmds,
    simulate_cmds,
    staff_cmds,
    worker_cmds,
)

app = typer.Typer(
    name="portal-marketplace",
    help="Local-shop ad marketplace for the 会津若松+ citizen portal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cmds.app, name="db", help="Database migrations.")
app.add_typer(articles_cmds.app, name="articles", help="Municipal articles from the host CMS.")
app.add_typer(staff_cmds.app, name="staff", help="City staff accounts.")
app.add_typer(billing_cmds.app, name="billing", help="Invoices, payments and the ledger.")
app.add_typer(report_cmds.app, name="report", help="Finance reports: the offset of running costs.")
app.add_typer(privacy_cmds.app, name="privacy", help="Residents' data: forget, retention.")
app.add_typer(simulate_cmds.app, name="simulate", help="Simulations on a synthetic city.")
app.add_typer(marketplace_cmds.app, name="marketplace", help="Ad marketplace jobs and set-up.")
app.command("seed")(seed_cmds.seed)
app.command("serve")(serve_cmds.serve)
app.command("worker")(worker_cmds.worker)
app.command("backup")(backup_cmds.backup_command)
app.command("restore")(backup_cmds.restore_command)
app.command("resident-token")(identity_cmds.resident_token)
app.add_typer(
    recommender_cmds.recommender_app, name="recommender", help="Benchmark the recommender."
)
app.add_typer(recommender_cmds.models_app, name="models", help="Recommender model versions.")
app.command("train")(recommender_cmds.train_command)
app.command("refresh-model")(model_refresh.refresh_model_command)


def main() -> None:
    # typer/click exit with 2 and a usage line for unknown options; keep that contract.
    sys.exit(app())
