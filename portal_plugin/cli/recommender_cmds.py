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
from portal_plugin.code_version import code_version

recommender_app = typer.Typer(no_args_is_help=True, help="Benchmark the recommender.")
models_app = typer.Typer(no_args_is_help=True, help="Versions in the model store.")
console = Console()


def _clean(value: Any) -> Any:
    # JSON has no NaN: an undefined metric (e.g. no cold users) is null.
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def target_store_option() -> Any:
    return typer.Option(
        None, "--store", help="Model store directory (default: MODEL_STORE_DIR setting)."
    )


def tolerance_option() -> Any:
    return typer.Option(
        0.0, "--tolerance", min=0.0, max=0.5,
        help="Promote if holdout precision is at least (1 - tolerance) x the current model's.",
    )  # fmt: skip


def _budget_option() -> Any:
    return typer.Option(
        120.0, "--budget-seconds", min=1.0, max=86_400.0,
        help="CPU seconds for choosing settings and epochs on a validation split, final fit "
        "included (a busy machine takes longer in wall time).",
    )  # fmt: skip


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
    budget_seconds: float = _budget_option(),
    candidates: Path | None = typer.Option(
        None, "--candidates", help="CSV: item_id; rank only these items (e.g. live articles)."
    ),
) -> None:
    """Train on TRAIN, rank every item for each TEST user, and compare with the baselines.

    Settings and epochs are chosen on a validation split of TRAIN within --budget-seconds,
    unless --config fixes them. Test users absent from TRAIN are cold users, scored from their
    features. Training items are excluded for warm users. Row numbers in error messages are
    file line numbers.
    """
    from recommender.config import LightFMConfig
    from recommender.errors import RecommenderError
    from recommender.selection import SearchSpace
    from recommender.workflows import evaluate_csv

    try:
        settings = LightFMConfig.from_file(config) if config else LightFMConfig()
        settings = settings.with_overrides(random_state=seed)
        space = None if config else SearchSpace(budget_seconds=budget_seconds, k=k, seed=seed)
        started = time.perf_counter()
        result = evaluate_csv(
            train, test, user_features, item_features, settings, k=k,
            segment_prefixes=tuple(p.strip() for p in segment.split(",") if p.strip()),
            space=space, candidates_path=candidates,
            progress=None if as_json else (lambda message: console.print(f"[dim]{message}[/]")),
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
        for name in ("model", "popularity", "segment_popularity", "collaborative"):
            m = block[name]
            table.add_row(
                group, name, str(block["n_users"]),
                *(f"{m[x]:.4f}" if m[x] is not None else "-"
                  for x in ("precision", "recall", "auc", "coverage")),
            )  # fmt: skip
    console.print(table)
    console.print(
        f"trained in {result['training_seconds']:.1f}s (selection included); dropped test rows: "
        f"{result['dropped_test_rows']}; collaborative epochs: {result['collaborative_epochs']}"
    )
    selected = result["selected"]
    if selected is None:
        console.print(f"fixed settings (--config): {json.dumps(result['settings'])}")
    else:
        console.print(f"selected: {_selection_summary(selected)}")


def _selection_summary(selected: dict[str, Any]) -> str:
    """One line: epochs, what changed, and the validation score it was chosen by."""
    changes = ", ".join(f"{k}={v}" for k, v in selected.get("changes", {}).items() if k != "epochs")
    validation = selected.get("validation", {})
    score = next((v for k, v in validation.items() if k.startswith("precision@")), None)
    trials = len(selected.get("trials", []))
    return (
        f"{selected.get('epochs')} epochs, {changes or 'starting settings'}; "
        f"validation {validation.get('method', '?')} split, precision {score} "
        f"({trials} trials in {selected.get('seconds')}s)"
    )


@recommender_app.command("sample-data")
def sample_data_command(
    out: Path = typer.Option(..., "--out", help="Directory for the CSV files (created)."),
    shape: str = typer.Option(
        "ratings", "--shape", help="ratings (dense, 2 user features, plain rows) or city."
    ),
    users: int = typer.Option(
        1_000, "--users", min=50, max=200_000, help="Users (ratings) or residents (city)."
    ),
    seed: int = typer.Option(0, "--seed", min=0),
) -> None:
    """Write a generated dataset as train/test/feature CSVs for `recommender evaluate`.

    `ratings` is shaped like a public movie-ratings set (dense, age and gender only, no
    weights or timestamps; evaluate it with --segment age,gender). `city` is the synthetic
    Aizu-Wakamatsu: sparse, many resident attributes, click/view weights with timestamps,
    the last 14 days held out and a tenth of the residents hidden as newcomers.
    """
    import pandas as pd

    from recommender.columns import Columns

    if shape == "ratings":
        from recommender.sample_data import make_ratings

        data = make_ratings(users, seed=seed)
        train, test = data.train, data.test
        user_features, item_features = data.user_features, data.item_features
    elif shape == "city":
        from marketplace.synthetic.city_frames import city_frames

        frames = city_frames(users, seed=seed)
        train = frames.train.assign(
            **{Columns.Datetime: frames.train[Columns.Datetime].dt.strftime("%Y-%m-%dT%H:%M:%SZ")}
        )
        test, user_features, item_features = frames.test, frames.user_features, frames.item_features
        live = pd.DataFrame({Columns.Item: frames.candidates})
    else:
        fail(f"--shape must be ratings or city, not {shape!r}")
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, pd.DataFrame] = {
        "train.csv": train, "test.csv": test,
        "user_features.csv": user_features, "item_features.csv": item_features,
    }  # fmt: skip
    if shape == "city":
        files["candidates.csv"] = live  # articles a feed could show during the holdout
    for name, frame in files.items():
        frame.to_csv(out / name, index=False)
    typer.echo(
        f"wrote {', '.join(files)} to {out}: {len(train)} training rows, {len(test)} test rows"
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
    columns = ("", "version", "created", "window", "warm P@k", "cold P@k", "users", "settings",
               "validation P@k", "note")  # fmt: skip
    for column in columns:
        table.add_column(column)
    for info, version, error in versions:
        mark = "*" if version == current else ""
        if info is None:
            table.add_row(mark, version, *[""] * (len(columns) - 3), f"unusable: {error}")
            continue
        warm = info.metrics.get("warm", {}).get("model", {}).get("precision")
        cold = info.metrics.get("cold", {}).get("model", {}).get("precision")
        window = f"{(info.data_window.get('start') or '')[:10]} → {(info.data_window.get('end') or '')[:10]}"
        table.add_row(
            mark, version, info.created_at[:19], window,
            f"{warm:.4f}" if isinstance(warm, float) else "-",
            f"{cold:.4f}" if isinstance(cold, float) else "-",
            str(info.n_users), *_settings_cells(info.config, info.selection),
            f"code {info.code_version}",
        )  # fmt: skip
    # Piped output gets a wide console, so version ids are not folded across lines.
    out = console if console.is_terminal else Console(width=200)
    out.print(table)
    out.print("* = promoted (serving)")


def _settings_cells(config: dict[str, Any], selection: dict[str, Any] | None) -> tuple[str, str]:
    """What `models list` shows of the settings: chosen ones with their validation score."""
    if not selection:
        return f"fixed: {config.get('epochs', '?')} epochs", "-"
    changes = ", ".join(
        f"{k}={v}" for k, v in selection.get("changes", {}).items() if k != "epochs"
    )
    validation = selection.get("validation", {})
    score = next((v for k, v in validation.items() if k.startswith("precision@")), None)
    cells = f"{selection.get('epochs')} epochs" + (f", {changes}" if changes else "")
    return cells, f"{score:.4f}" if isinstance(score, float) else "-"


def train_command(
    holdout_days: int = typer.Option(
        7, "--holdout-days", min=1, max=60, help="Evaluate on the clicks of the last N days."
    ),
    k: int = typer.Option(10, "--k", min=1, max=100, help="List length for the holdout check."),
    config: Path | None = typer.Option(
        None, "--config", help="JSON object overriding model settings (unknown keys refused)."
    ),
    store: Path | None = target_store_option(),
    tolerance: float = tolerance_option(),
    refit: bool = typer.Option(
        False,
        "--refit/--no-refit",
        help="Retrain on the whole window before saving (default: save the evaluated model).",
    ),
    threads: int = typer.Option(
        1, "--threads", min=1, max=64, help="Training threads (1 measured fastest here)."
    ),
    budget_seconds: float = _budget_option(),
) -> None:
    """Train the recommender from the database, check it on a holdout, promote if not worse.

    Settings and epochs are chosen on a validation split within --budget-seconds, unless
    --config fixes them.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from marketplace.training.data import load_training_frames
    from marketplace.training.pipeline import train_and_promote
    from portal_plugin.cli.common import database_session, settings_or_exit
    from recommender.config import LightFMConfig
    from recommender.errors import RecommenderError
    from recommender.selection import SearchSpace

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
                frames, target, config=model_config, code_version=code_version(),
                holdout_days=holdout_days, k=k, tolerance=tolerance, refit=refit,
                space=None if config else SearchSpace(budget_seconds=budget_seconds, k=k),
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
    from recommender.artifact import read_info

    selection = read_info(target, outcome.version).selection
    typer.echo(f"selected: {_selection_summary(selection)}" if selection else "fixed settings")
