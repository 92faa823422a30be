"""Measure LightFM settings on the synthetic city: features, normalisation, loss, size, epochs.

Usage: python bench/recommender_tuning.py [--residents 30000] [--configs NAME,...]
Prints one row per setting: warm and cold precision@10/recall@10 and fit time, next to the
popularity baselines measured on the same split.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from marketplace.synthetic.city_frames import city_frames, train_dataset
from recommender.baselines import (
    PopularityRecommender,
    SegmentPopularityRecommender,
)
from recommender.config import LightFMConfig
from recommender.evaluation import evaluate
from recommender.model import LightFMRecommender

BASE = LightFMConfig()  # the chosen defaults; each row changes one or two settings
SETTINGS: dict[str, dict[str, object]] = {
    "defaults": {},
    "no cold correction": {"cold_correction": False},
    "normalize": {"normalize_features": True},
    "normalize without cold correction": {"normalize_features": True, "cold_correction": False},
    "no user identity": {"user_identity": False},
    "no item identity": {"item_identity": False},
    "identity only (pure CF)": {"_drop_features": True},
    "bpr": {"loss": "bpr"},
    "logistic": {"loss": "logistic"},
    "d=16": {"no_components": 16},
    "d=64": {"no_components": 64},
    "epochs=5": {"epochs": 5},
    "epochs=20": {"epochs": 20},
    "max_sampled=10": {"max_sampled": 10},
    "unweighted": {"use_weights": False},
    "alpha=1e-5": {"item_alpha": 1e-5, "user_alpha": 1e-5},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=30_000)
    parser.add_argument("--configs", default=",".join(SETTINGS))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    frames = city_frames(args.residents)
    dataset = train_dataset(frames)
    bare = train_dataset(frames)
    print(
        f"# {args.residents} residents, {dataset.interactions.nnz} training pairs, "
        f"{len(frames.test)} holdout clicks, {len(frames.candidates)} live candidates"
    )
    print("| setting | warm P@10 | warm R@10 | cold P@10 | cold R@10 | warm AUC | fit CPU s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    baselines = {
        "popularity": PopularityRecommender().fit(dataset),
        "segment popularity": SegmentPopularityRecommender().fit(dataset),
    }
    for name, model in baselines.items():
        _row(name, model, frames, 0.0)
    for name in args.configs.split(","):
        overrides = dict(SETTINGS[name])
        drop = bool(overrides.pop("_drop_features", False))
        overrides.setdefault("num_threads", args.threads)
        config = BASE.with_overrides(**overrides)
        data = bare if not drop else _without_features(bare)
        started = time.process_time()  # CPU seconds: robust on a shared machine
        model = LightFMRecommender(config).fit(data)
        _row(name, model, frames, time.process_time() - started)


def _without_features(dataset):  # type: ignore[no-untyped-def]
    from recommender.dataset import Dataset

    return Dataset(dataset.user_map, dataset.item_map, dataset.interactions, None, None)


def _row(name, model, frames, seconds):  # type: ignore[no-untyped-def]
    report = evaluate(
        {name: model},
        frames.test,
        k=10,
        user_features=frames.user_features,
        candidates=frames.candidates,
    )
    w, c = report.warm.models[name], report.cold.models[name]
    print(
        f"| {name} | {w.precision:.4f} | {w.recall:.4f} | {c.precision:.4f} | {c.recall:.4f} "
        f"| {w.auc:.3f} | {seconds:.1f} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
