"""`portal-marketplace refresh-model`: fold new interactions into the serving model."""

from __future__ import annotations

from pathlib import Path

import typer

from portal_plugin.cli.common import fail
from portal_plugin.cli.recommender_cmds import (
    code_version,
    target_store_option,
    tolerance_option,
)


def refresh_model_command(
    holdout_hours: int = typer.Option(
        24,
        "--holdout-hours",
        min=1,
        max=24 * 14,
        help="Check the refreshed model on the clicks of the last N hours.",
    ),
    epochs: int = typer.Option(
        3, "--epochs", min=1, max=50, help="Passes over the new interactions."
    ),
    store: Path | None = target_store_option(),
    tolerance: float = tolerance_option(),
) -> None:
    """Continue the promoted model on what is new since it was trained; promote if not worse.

    Between nightly `train` runs: new residents, articles and interactions are folded in with
    LightFM's fit_partial (no full retrain, same settings), then the same promotion gate as
    `train` decides. Run it every few hours (cron or the worker's schedule).
    """
    from marketplace.training.refresh import refresh_from_database
    from portal_plugin.cli.common import database_session, settings_or_exit
    from recommender.errors import RecommenderError

    settings = settings_or_exit()
    target = store if store is not None else Path(settings.model_store_dir)
    try:
        with database_session(settings) as session:
            outcome = refresh_from_database(
                session, target, code_version=code_version(), holdout_hours=holdout_hours,
                epochs=epochs, tolerance=tolerance,
            )  # fmt: skip
    except RecommenderError as exc:
        fail(str(exc))
    if outcome.version is None:
        typer.echo(f"no refresh: {outcome.reason} (serving {outcome.previous_version})")
        return
    state = "promoted" if outcome.promoted else "saved, NOT promoted"
    typer.echo(
        f"model {outcome.version} {state}: {outcome.reason}; folded in {outcome.new_pairs} "
        f"new pairs into {outcome.previous_version} (store: {target})"
    )
