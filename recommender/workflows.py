"""End-to-end flows built from the parts: evaluate CSV files with the model and baselines."""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pandas as pd

from recommender.baselines import PopularityRecommender, SegmentPopularityRecommender
from recommender.columns import Columns
from recommender.config import LightFMConfig
from recommender.csv_input import read_csv
from recommender.dataset import Dataset, validate_features
from recommender.errors import DataError
from recommender.evaluation import evaluate
from recommender.model import LightFMRecommender
from recommender.selection import Progress, SearchSpace, select, select_epochs


def _with_path(path: Path, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


def build_train_dataset(
    train: pd.DataFrame,
    user_features: pd.DataFrame | None,
    item_features: pd.DataFrame | None,
) -> Dataset:
    """Training users are those with interactions; items also include featured cold items."""
    users = pd.unique(train[Columns.User].astype(str))
    known_user_features = None
    if user_features is not None:
        known_user_features = user_features[user_features[Columns.User].astype(str).isin(users)]
    items = None
    if item_features is not None:
        items = pd.unique(pd.concat([train[Columns.Item], item_features[Columns.Item]]).astype(str))
    return Dataset.construct(train, known_user_features, item_features, items=items)


def evaluate_csv(
    train_path: Path,
    test_path: Path,
    user_features_path: Path | None,
    item_features_path: Path | None,
    config: LightFMConfig,
    *,
    k: int = 10,
    segment_prefixes: tuple[str, ...] = ("age", "household"),
    space: SearchSpace | None = None,
    progress: Progress | None = None,
    candidates_path: Path | None = None,
) -> dict[str, Any]:
    """Read the CSVs, train the model and the baselines, and report warm/cold metrics.

    With a search ``space`` the model's settings and epochs are chosen on a validation split
    of TRAIN (``recommender.selection``) and reported under ``selected``; without one,
    ``config`` is used as it is. The ``collaborative`` baseline is LightFM with identity
    features only, its epochs chosen by early stopping on the same kind of split.
    """
    train = read_csv(train_path, Columns.Interactions)
    test = read_csv(test_path, Columns.Interactions)
    user_features = (
        read_csv(user_features_path, (Columns.User, Columns.Feature))
        if user_features_path
        else None
    )
    item_features = (
        read_csv(item_features_path, (Columns.Item, Columns.Feature))
        if item_features_path
        else None
    )
    _with_path(test_path, Dataset.construct, test[[Columns.User, Columns.Item]])  # validates ids
    if user_features is not None and user_features_path is not None:
        # Validate the whole file once (cold users' rows included) so errors name this file.
        _with_path(
            user_features_path, validate_features, user_features, Columns.User, "user_features"
        )
    label = train_path if item_features is None else f"{train_path} / {item_features_path}"
    dataset = _with_path(Path(str(label)), build_train_dataset, train, user_features, item_features)
    config = config.with_overrides(segment_prefixes=segment_prefixes)
    started = time.perf_counter()
    selection = None
    if space is not None:
        selection = select(dataset, config, space, progress=progress)
        config = selection.config
    model = LightFMRecommender(config).fit(dataset)
    training_seconds = time.perf_counter() - started
    segment = SegmentPopularityRecommender(segment_prefixes).fit(dataset)
    bare = Dataset(
        dataset.user_map, dataset.item_map, dataset.interactions, last_seen=dataset.last_seen
    )
    cf_config = LightFMConfig(random_state=config.random_state, num_threads=config.num_threads)
    if space is not None:
        cf_space = replace(space, budget_seconds=space.budget_seconds / 4)
        cf_config = cf_config.with_overrides(epochs=select_epochs(bare, cf_config, cf_space))
    models = {
        "model": model,
        "popularity": PopularityRecommender().fit(dataset),
        "segment_popularity": segment,
    }
    candidates = None
    if candidates_path is not None:
        candidates = read_csv(candidates_path, (Columns.Item,))[Columns.Item].tolist()
    report = evaluate(models, test, k=k, user_features=user_features, candidates=candidates)
    result = report.as_dict()
    # Fitted on the same ids without features, so measured on the same users apart.
    collaborative = evaluate({"collaborative": LightFMRecommender(cf_config).fit(bare)}, test, k=k)
    for group in ("warm", "cold"):
        result[group]["collaborative"] = asdict(
            getattr(collaborative, group).models["collaborative"]
        )
    result.update(
        {
            "training_seconds": round(training_seconds, 3),
            "settings": config.model_dump(mode="json"),
            "selected": selection.as_dict() if selection is not None else None,
            "collaborative_epochs": cf_config.epochs,
            "n_train_users": dataset.n_users,
            "n_items": dataset.n_items,
            "n_train_interactions": int(dataset.interactions.nnz),
            "segment_prefixes": list(segment_prefixes),
            "segment_features_found": segment.segment_features_found,
        }
    )
    return result
