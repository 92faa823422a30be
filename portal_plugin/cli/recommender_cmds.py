"""`portal-marketplace recommender evaluate`, `models list` and `train`."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from portal_plugin.cli.common import fail

recommender_app = typer.Typer(no_args_is_help=True, help="Benchmark the recommender.")
models_app = typer.Typer(no_args_is_help=True, help="Versions in the model store.")
console = Console()


def _clean(value: Any) -> Any:
    # JSON has no NaN: an undefined metric (e.g. no cold users) is null.
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


@recommender_app.command("evaluate")
def evaluate_command(
    train: Path = typer.Option(..., "--train", help="CSV: user_id,item_id[,weight][,timestamp]"),
    test: Path = typer.Option(..., "--test", help="CSV: user_id,item_id"),
    user_features: Path | None = typer.Option(
        None, "--user-features", help="CSV: user_id,feature[,value] (e.g. age:30-39)"
    ),
    item_features: Path | None = typer.Option(
        None, "--item-features", help="CSV: item_id,feature[,value] (e.g. tag:除雪)"
    ),
    k: int = typer.Option(10, "--k", min=1, max=1000, help="List length."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed for training."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    config: Path | None = typer.Option(
        None, "--config", help="JSON object overriding model settings (unknown keys refused)."
    ),
    segment: str = typer.Option(
        "age,household", "--segment", help="Feature prefixes that define a user segment."
    ),
) -> None:
    """Train on TRAIN, rank every item for each TEST user, and compare with popularity.

    Test users absent from TRAIN are cold users, scored from their features. Training items
    are excluded for warm users. Row numbers in error messages are file line numbers.
    """
    from recommender.config import LightFMConfig
    from recommender.errors import RecommenderError
    from recommender.workflows import evaluate_csv

    try:
        settings = LightFMConfig.from_file(config) if config else LightFMConfig()
        settings = settings.with_overrides(random_state=seed)
        started = time.perf_counter()
        result = evaluate_csv(
            train, test, user_features, item_features, settings, k=k,
            segment_prefixes=tuple(p.strip() for p in segment.split(",") if p.strip()),
        )  # fmt: skip
    except RecommenderError as exc:
        fail(str(exc))
    result["total_seconds"] = round(time.perf_counter() - started, 3)
    result = _clean(result)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    table = Table(title=f"precision/recall@{k}, AUC and coverage (training items excluded)")
    for column in ("users", "model", "n", "precision", "recall", "auc", "coverage"):
        table.add_column(column)
    for group in ("warm", "cold"):
        block = result[group]
        for name in ("model", "popularity", "segment_popularity"):
            m = block[name]
            table.add_row(
                group, name, str(block["n_users"]),
                *(f"{m[x]:.4f}" if m[x] is not None else "-"
                  for x in ("precision", "recall", "auc", "coverage")),
            )  # fmt: skip
    console.print(table)
    console.print(
        f"trained in {result['training_seconds']:.1f}s; dropped test rows: "
        f"{result['dropped_test_rows']}; settings: {json.dumps(result['settings'])}"
    )


def _store_option() -> Any:
    return typer.Option(
        Path("var/models"), "--store", envvar="MODEL_STORE_DIR", help="Model store directory."
    )


@models_app.command("list")
def list_command(store: Path = _store_option()) -> None:
    """Show the model versions, their metrics, and which one serves."""
    from recommender.artifact import list_versions, promoted_version

    versions = list_versions(store)
    if not versions:
        typer.echo(f"no models in {store}")
        return
    current = promoted_version(store)
    table = Table(title=f"models in {store}")
    for column in ("", "version", "created", "window", "warm P@k", "cold P@k", "users", "note"):
        table.add_column(column)
    for info, version, error in versions:
        mark = "*" if version == current else ""
        if info is None:
            table.add_row(mark, version, "", "", "", "", "", f"unusable: {error}")
            continue
        warm = info.metrics.get("warm", {}).get("model", {}).get("precision")
        cold = info.metrics.get("cold", {}).get("model", {}).get("precision")
        window = f"{(info.data_window.get('start') or '')[:10]} → {(info.data_window.get('end') or '')[:10]}"
        table.add_row(
            mark, version, info.created_at[:19], window,
            f"{warm:.4f}" if isinstance(warm, float) else "-",
            f"{cold:.4f}" if isinstance(cold, float) else "-",
            str(info.n_users), f"code {info.code_version}",
        )  # fmt: skip
    # Piped output gets a wide console, so version ids are not folded across lines.
    out = console if console.is_terminal else Console(width=200)
    out.print(table)
    out.print("* = promoted (serving)")


def _code_version() -> str:
    """Package version plus the git commit when run from a checkout."""
    import subprocess

    from recommender import __version__

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+{commit}" if commit else __version__


def train_command(
    holdout_days: int = typer.Option(
        7, "--holdout-days", min=1, max=60, help="Evaluate on the clicks of the last N days."
    ),
    k: int = typer.Option(10, "--k", min=1, max=100, help="List length for the holdout check."),
    config: Path | None = typer.Option(
        None, "--config", help="JSON object overriding model settings (unknown keys refused)."
    ),
    store: Path | None = typer.Option(
        None, "--store", help="Model store directory (default: MODEL_STORE_DIR setting)."
    ),
    tolerance: float = typer.Option(
        0.0,
        "--tolerance",
        min=0.0,
        max=0.5,
        help="Promote if holdout precision is at least (1 - tolerance) x the current model's.",
    ),
    refit: bool = typer.Option(
        False,
        "--refit/--no-refit",
        help="Retrain on the whole window before saving (default: save the evaluated model).",
    ),
    threads: int = typer.Option(
        1, "--threads", min=1, max=64, help="Training threads (1 measured fastest here)."
    ),
) -> None:
    """Train the recommender from the database, check it on a holdout, promote if not worse."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from marketplace.training import train_and_promote
    from marketplace.training_data import load_training_frames
    from portal_plugin.cli.common import database_session, settings_or_exit
    from recommender.config import LightFMConfig
    from recommender.errors import RecommenderError

    settings = settings_or_exit()
    target = store if store is not None else Path(settings.model_store_dir)
    try:
        model_config = LightFMConfig.from_file(config) if config else LightFMConfig()
        if config is None or "num_threads" not in json.loads(config.read_text()):
            model_config = model_config.with_overrides(num_threads=threads)
    except RecommenderError as exc:
        fail(str(exc))
    with Progress(
        TextColumn("{task.description:<14}"), BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
    ) as bar:  # fmt: skip
        tasks: dict[str, Any] = {}

        def report(stage: str, fraction: float) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=1.0)
            bar.update(tasks[stage], completed=fraction)

        report("read database", 0.0)
        with database_session(settings) as session:
            frames = load_training_frames(session)
        report("read database", 1.0)
        try:
            outcome = train_and_promote(
                frames, target, config=model_config, code_version=_code_version(),
                holdout_days=holdout_days, k=k, tolerance=tolerance, refit=refit,
                progress=report,
            )  # fmt: skip
        except RecommenderError as exc:
            fail(str(exc))
    result = outcome.report.as_dict()
    for group in ("warm", "cold"):
        block = result[group]
        parts = [
            f"{name} {block[name]['precision']:.4f}"
            for name in ("model", "popularity", "segment_popularity", "current")
            if name in block
        ]
        typer.echo(
            f"holdout {group} ({block['n_users']} residents) precision@{k}: " + ", ".join(parts)
        )
    state = "promoted" if outcome.promoted else "saved, NOT promoted"
    typer.echo(f"model {outcome.version} {state}: {outcome.reason} (store: {target})")
