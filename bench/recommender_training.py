"""Training time for the full Aizu-scale city (~115k residents, ~2M events) on this machine.

Usage: python bench/recommender_training.py [--residents 115000] [--threads 1,2]
       [--budget-seconds 120] [--no-selection]
Target: under 3 minutes on 2 cores with model selection (what `train` does by default), under 2
minutes for one fit with fixed settings. Prints wall and CPU time of each step: the machine is
shared, so CPU time is what the work itself cost.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from marketplace.synthetic.city_frames import city_frames, train_dataset
from recommender.config import LightFMConfig
from recommender.model import LightFMRecommender
from recommender.selection import SearchSpace, select


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=115_000)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--budget-seconds", type=float, default=120.0)
    parser.add_argument("--no-selection", action="store_true")
    args = parser.parse_args()
    print(f"cores available: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    started = time.perf_counter()
    frames = city_frames(args.residents, holdout_days=1, new_share=0.0)
    events = len(frames.city.events)
    print(
        f"synthetic city: {args.residents} residents, {events} events "
        f"({time.perf_counter() - started:.1f}s to generate and aggregate)"
    )
    started = time.perf_counter()
    dataset = train_dataset(frames)
    print(
        f"Dataset.construct: {dataset.n_users} users x {dataset.n_items} items, "
        f"{dataset.interactions.nnz} weighted pairs in {time.perf_counter() - started:.1f}s"
    )
    if not args.no_selection:
        load = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        selection = select(
            dataset, LightFMConfig(), SearchSpace(budget_seconds=args.budget_seconds)
        )
        chosen = selection.config
        picked = time.perf_counter() - started, time.process_time() - cpu
        LightFMRecommender(chosen).fit(dataset)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"selection ({len(selection.trials)} trials on {selection.validation['users_searched']}"
            f" users, {picked[0]:.1f}s wall / {picked[1]:.1f}s CPU) + final fit "
            f"({chosen.epochs} epochs, changes {selection.changes}): {seconds:.1f}s wall, "
            f"{cpu:.1f}s CPU, load average before {load:.1f}; target < 180s "
            f"{'OK' if seconds < 180 else 'OVER'} (CPU {'OK' if cpu < 180 else 'OVER'})"
        )
    for threads in (int(t) for t in args.threads.split(",")):
        config = LightFMConfig(num_threads=threads)
        load = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        LightFMRecommender(config).fit(dataset)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        # The machine may be shared: CPU time is what the fit itself consumed.
        print(f"  load average before: {load:.1f}; CPU time {cpu:.1f}s")
        print(
            f"fit (defaults: d={config.no_components}, {config.loss}, {config.epochs} epochs, "
            f"{threads} thread(s)): {seconds:.1f}s   target < 120s  "
            f"{'OK' if seconds < 120 else 'OVER'}"
        )


if __name__ == "__main__":
    main()
