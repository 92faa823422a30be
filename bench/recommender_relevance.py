"""Relevance on the synthetic city: the model against global and segment popularity.

Usage: python bench/recommender_relevance.py [--residents 115000] [--threads 1]
Split: the last 14 days are the holdout; relevant = a click in the holdout. 10% of the residents
active before the cut are hidden as newly registered (cold users, scored from their profile).
Ranking is over the articles a feed could show during the holdout (published in the last 21
days and not expired); training items are excluded for warm residents.
"""

from __future__ import annotations

import argparse
import json
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=115_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=JSON", help="override a setting"
    )
    args = parser.parse_args()
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    frames = city_frames(args.residents)
    dataset = train_dataset(frames)
    config = LightFMConfig().with_overrides(num_threads=args.threads, **overrides)
    started = time.perf_counter()
    model = LightFMRecommender(config).fit(dataset)
    fit_seconds = time.perf_counter() - started
    models = {
        "model": model,
        "popularity": PopularityRecommender().fit(dataset),
        "segment_popularity": SegmentPopularityRecommender().fit(dataset),
    }
    report = evaluate(
        models, frames.test, k=10, user_features=frames.user_features,
        candidates=frames.candidates,
    )  # fmt: skip
    print(
        f"# {args.residents} residents, {dataset.interactions.nnz} training pairs, "
        f"{len(frames.test)} holdout clicks, {len(frames.candidates)} live articles; "
        f"fit {fit_seconds:.1f}s ({config.no_components} components, {config.epochs} epochs)"
    )
    print("| residents | n | ranker | precision@10 | recall@10 | AUC | coverage |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for group_name in ("warm", "cold"):
        group = getattr(report, group_name)
        for name, m in group.models.items():
            print(
                f"| {group_name} | {group.n_users} | {name} | {m.precision:.4f} | "
                f"{m.recall:.4f} | {m.auc:.3f} | {m.coverage:.3f} |"
            )
    print()
    print(
        "| residents | model / popularity (P@10) | model / segment popularity (P@10) "
        "| model / popularity (R@10) | model / segment popularity (R@10) |"
    )
    print("| --- | --- | --- | --- | --- |")
    for group_name in ("warm", "cold"):
        ms = getattr(report, group_name).models
        m, p, s = ms["model"], ms["popularity"], ms["segment_popularity"]
        print(
            f"| {group_name} | {m.precision / p.precision:.2f} | {m.precision / s.precision:.2f} "
            f"| {m.recall / p.recall:.2f} | {m.recall / s.recall:.2f} |"
        )


if __name__ == "__main__":
    main()
