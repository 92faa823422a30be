"""Training time for the full Aizu-scale city (~115k residents, ~2M events) on this machine.

Usage: python bench/recommender_training.py [--residents 115000] [--threads 1,2]
Target: under 2 minutes on 2 cores, with the default settings. Prints the time of each step.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.city_frames import city_frames, train_dataset
from recommender.config import LightFMConfig
from recommender.model import LightFMRecommender


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=115_000)
    parser.add_argument("--threads", default="1,2")
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
