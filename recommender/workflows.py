"""End-to-end flows built from the parts: evaluate CSV files with the model and baselines."""

from __future__ import annotations

import time
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
) -> dict[str, Any]:
    """Read the CSVs, train the model and the baselines, and report warm/cold metrics."""
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
    started = time.perf_counter()
    model = LightFMRecommender(config).fit(dataset)
    training_seconds = time.perf_counter() - started
    segment = SegmentPopularityRecommender(segment_prefixes).fit(dataset)
    models = {
        "model": model,
        "popularity": PopularityRecommender().fit(dataset),
        "segment_popularity": segment,
    }
    report = evaluate(models, test, k=k, user_features=user_features)
    result = report.as_dict()
    result.update(
        {
            "training_seconds": round(training_seconds, 3),
            "settings": config.model_dump(),
            "n_train_users": dataset.n_users,
            "n_items": dataset.n_items,
            "n_train_interactions": int(dataset.interactions.nnz),
            "segment_prefixes": list(segment_prefixes),
            "segment_features_found": segment.segment_features_found,
        }
    )
    return result
