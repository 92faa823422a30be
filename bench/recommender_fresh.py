"""Fresh articles on the synthetic city: top-10 rate of a new article vs an old twin, and the
precision exploration costs.

Usage: python bench/recommender_fresh.py [--residents 15000] [--twins 20] [--share 0.05]
       [--config FILE | --budget-seconds 120]

A model is trained up to the cut (settings chosen by validation unless --config). For --twins
old live articles (with training history) a brand-new twin with the same category and tags is
added, scored from its tags as a newly published article is. For warm residents with holdout
clicks, the bench counts how often an old article and how often its twin reach the resident's
top 10, without exploration (the reference) and with it (the twins fresh). Then it measures
warm precision@10 on the holdout clicks over the live articles, training items excluded, with
and without exploring the articles the model has never seen.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from marketplace.delivery.exploration import ExplorationRules, explore
from marketplace.synthetic.city_frames import city_frames, train_dataset
from recommender.artifact import Artifact, ArtifactInfo
from recommender.config import LightFMConfig
from recommender.model import LightFMRecommender
from recommender.scorer import Scorer
from recommender.selection import SearchSpace, select
from recommender.state import ModelState

VISIBLE = 10
DEPTH = 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=15_000)
    parser.add_argument("--twins", type=int, default=20)
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--budget-seconds", type=float, default=120.0)
    parser.add_argument("--users", type=int, default=4_000, help="warm residents measured")
    args = parser.parse_args()
    frames = city_frames(args.residents)
    dataset = train_dataset(frames)
    started = time.process_time()
    if args.config:
        config = LightFMConfig.from_file(args.config)
        label = f"fixed {args.config}"
    else:
        selection = select(
            dataset, LightFMConfig(), SearchSpace(budget_seconds=args.budget_seconds)
        )
        config, label = selection.config, f"selected {selection.changes}"
    model = LightFMRecommender(config).fit(dataset)
    print(f"# {args.residents} residents; model {label}; {time.process_time() - started:.0f} CPU s")
    info = ArtifactInfo("bench", datetime.now(UTC).isoformat(), "bench", 1)
    scorer = Scorer(Artifact(info, ModelState.from_model(model)))
    rules = ExplorationRules(share=args.share)

    trained = np.asarray(dataset.interactions.getnnz(axis=0) > 0)
    live = pd.Index(frames.candidates.astype(str))
    known_live = [i for i in live if trained[dataset.item_map.lookup([i])[0]]]
    rng = np.random.default_rng(0)
    originals = sorted(rng.choice(known_live, size=args.twins, replace=False).tolist())
    features = frames.item_features.groupby("item_id").feature.apply(list)
    twins = {f"twin-of-{i}": features[i] for i in originals}
    grown = scorer.with_new_items(twins)
    pool = list(live) + list(twins)
    items = grown.item_matrix(pool)
    fresh = np.isin(pool, list(twins))

    users = _warm_test_users(frames, dataset, args.users)
    vectors = np.vstack([grown.user_vector(u) for u in users])
    scores = vectors @ items.T
    seen = _seen(dataset, users, pool)
    scores[seen] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :DEPTH]
    explored = explore(scores, top, fresh, users, pool, rules, VISIBLE)
    position = {item: n for n, item in enumerate(pool)}
    print(f"| ranking | old article in top {VISIBLE} | its new twin | old / new |")
    print("| --- | --- | --- | --- |")
    for name, ranking in (
        ("no exploration (reference)", top),
        (f"exploration {args.share:.0%}", explored),
    ):
        shown = ranking[:, :VISIBLE]
        old = np.mean([(shown == position[i]).any(axis=1).mean() for i in originals])
        new = np.mean([(shown == position[t]).any(axis=1).mean() for t in twins])
        ratio = old / new if new else float("inf")
        print(f"| {name} | {old:.4f} | {new:.4f} | {ratio:.2f} |")

    # Precision: the real holdout, exploring the live articles the model never saw.
    unseen = np.array([not trained[dataset.item_map.lookup([i])[0]] for i in live])
    base_scores = (vectors @ scorer.item_matrix(list(live)).T).astype(np.float64)
    base_scores[_seen(dataset, users, list(live))] = -np.inf
    base_top = np.argsort(-base_scores, axis=1, kind="stable")[:, :DEPTH]
    with_explore = explore(base_scores, base_top, unseen, users, list(live), rules, VISIBLE)
    relevant = _relevant(frames, dataset, users, list(live))
    print(f"| ranking | warm P@{VISIBLE} (training items excluded) | users |")
    print("| --- | --- | --- |")
    judged = relevant.any(axis=1)  # users with at least one relevant item, as evaluate does
    for name, ranking in (("no exploration (reference)", base_top), ("exploration", with_explore)):
        hits = np.take_along_axis(relevant, ranking[:, :VISIBLE], axis=1).sum(axis=1)
        print(f"| {name} | {hits[judged].mean() / VISIBLE:.4f} | {int(judged.sum())} |")


def _warm_test_users(frames, dataset, limit):  # type: ignore[no-untyped-def]
    clicked = pd.unique(frames.test.user_id.astype(str))
    warm = [u for u in clicked if dataset.user_map.lookup([u])[0] >= 0]
    return sorted(warm)[:limit]


def _seen(dataset, users, pool):  # type: ignore[no-untyped-def]
    rows = dataset.user_map.lookup(users)
    cols = dataset.item_map.lookup(pool)
    history = dataset.interactions[rows][:, np.maximum(cols, 0)].toarray() > 0
    history[:, cols < 0] = False
    return history


def _relevant(frames, dataset, users, pool):  # type: ignore[no-untyped-def]
    index = {item: n for n, item in enumerate(pool)}
    rows = {user: n for n, user in enumerate(users)}
    relevant = np.zeros((len(users), len(pool)), dtype=bool)
    for user, item in frames.test[["user_id", "item_id"]].astype(str).itertuples(index=False):
        if user in rows and item in index:
            relevant[rows[user], index[item]] = True
    return relevant & ~_seen(dataset, users, pool)


if __name__ == "__main__":
    main()
