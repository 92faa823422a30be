"""The incremental refresh on the synthetic city: what folding in a week buys, and its cost.

Usage: python bench/recommender_refresh.py [--residents 15000] [--config FILE | --budget-seconds N]

The nightly `train` saves a model trained up to its cut (a week before the newest event, by
default), so it serves blind to that week. Here: `train_and_promote` with a 7-day holdout
(settings chosen by validation within --budget-seconds, or fixed with --config; its holdout
report against the baselines is printed too), then `refresh_and_promote` folding in the next six days and
checking on the last day, through the same gate. Prints both models' precision@10 on that last
day and the CPU time of the refresh next to the nightly training's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from marketplace.synthetic import generate_city
from marketplace.synthetic.city_frames import END
from marketplace.training.data import TrainingFrames
from marketplace.training.pipeline import train_and_promote
from marketplace.training.refresh import refresh_and_promote
from recommender.artifact import read_info
from recommender.config import LightFMConfig
from recommender.selection import SearchSpace


def frames_of(residents: int) -> TrainingFrames:
    city = generate_city(residents, seed=0, end=END)
    people, articles, e = city.residents, city.articles.copy(), city.events
    articles.insert(0, "item_id", articles.external_id)
    events = pd.DataFrame(
        {
            "user_id": people.external_id.to_numpy()[e.resident_idx.to_numpy()],
            "item_id": articles.external_id.to_numpy()[e.article_idx.to_numpy()],
            "kind": e.kind.astype(str).to_numpy(),
            "occurred_at": e.occurred_at.reset_index(drop=True),
        }
    )
    consenting = people[people.personalization_consent]
    events = events[events.user_id.isin(consenting.external_id)]
    return TrainingFrames(events, consenting.reset_index(drop=True), articles, None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=15_000)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--budget-seconds", type=float, default=120.0)
    args = parser.parse_args()
    config = LightFMConfig.from_file(args.config) if args.config else LightFMConfig()
    space = None if args.config else SearchSpace(budget_seconds=args.budget_seconds)
    frames = frames_of(args.residents)
    print(f"# {args.residents} residents, {len(frames.events)} events of consenting residents")
    with tempfile.TemporaryDirectory() as store:
        cpu = time.process_time()
        nightly = train_and_promote(frames, store, config=config, code_version="bench", space=space)
        nightly_cpu = time.process_time() - cpu
        selection = read_info(store, nightly.version).selection
        cpu = time.process_time()
        refreshed = refresh_and_promote(frames, store, code_version="bench", holdout_hours=24)
        refresh_cpu = time.process_time() - cpu
    assert refreshed.report is not None
    print(f"nightly settings: {selection['changes'] if selection else 'fixed'}"
          + (f", cold_blend {selection['cold_blend']}" if selection else ""))  # fmt: skip
    print("| nightly holdout (last 7 days) | n | model | popularity | segment popularity |")
    print("| --- | --- | --- | --- | --- |")
    for group in ("warm", "cold"):
        block = getattr(nightly.report, group)
        p = {name: m.precision for name, m in block.models.items()}
        print(f"| {group} | {block.n_users} | {p['model']:.4f} | {p['popularity']:.4f} "
              f"| {p['segment_popularity']:.4f} |")  # fmt: skip
    print("| model | warm P@10 on the last day | cold P@10 | CPU s |")
    print("| --- | --- | --- | --- |")
    warm, cold = refreshed.report.warm, refreshed.report.cold
    for name, label, seconds in (
        ("current", "nightly model, trained up to 7 days before (reference)", nightly_cpu),
        ("model", f"refreshed: {refreshed.new_pairs} new pairs folded in", refresh_cpu),
    ):
        print(
            f"| {label} | {warm.models[name].precision:.4f} ({warm.n_users}) "
            f"| {cold.models[name].precision:.4f} ({cold.n_users}) | {seconds:.1f} |"
        )
    print(f"gate: {refreshed.reason}; promoted: {refreshed.promoted} (nightly {nightly.version})")


if __name__ == "__main__":
    main()
