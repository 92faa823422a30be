"""Memory of a loaded model for the full city: RSS of a process holding the Scorer.

Usage: python bench/recommender_memory.py [STORE]   (default bench/results/store, written by
bench/recommender_serving.py; if it holds no model, one is trained on the full city first in a
child process, so its memory does not count). Reports RSS after imports (the baseline) and
after loading the promoted artifact into a Scorer. Target: under 300 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


TRAIN = """
import os, sys
sys.path.insert(0, "{root}")
from marketplace.synthetic.city_frames import city_frames, train_dataset
from recommender.artifact import promote, save_artifact
from recommender.model import LightFMRecommender
from recommender.state import ModelState
model = LightFMRecommender().fit(train_dataset(city_frames(115_000)))
info = save_artifact(os.environ["BENCH_STORE"], ModelState.from_model(model), code_version="bench")
promote(os.environ["BENCH_STORE"], info.version)
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    store = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results" / "store"
    if not (store / "PROMOTED").exists():
        import subprocess

        subprocess.run(
            [sys.executable, "-c", TRAIN.format(root=Path(__file__).resolve().parent.parent)],
            check=True,
            env={**__import__("os").environ, "BENCH_STORE": str(store)},
        )
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    from recommender.artifact import load_artifact
    from recommender.scorer import Scorer

    before = rss_mb()
    artifact = load_artifact(store)
    scorer = Scorer(artifact)
    scorer.top_k(str(artifact.state.user_ids[0]), 20)
    after = rss_mb()
    arrays = sum(a.nbytes for a in artifact.state.arrays().values()) / 2**20
    print(
        f"model {artifact.info.version}: {artifact.info.n_users} users, "
        f"{artifact.info.n_items} items; arrays {arrays:.1f} MB"
    )
    print(f"RSS after imports (baseline): {before:.1f} MB")
    print(f"RSS with the model loaded:    {after:.1f} MB (model adds {after - before:.1f} MB)")
    print(f"target < 300 MB: {'OK' if after < 300 else 'OVER'}")


if __name__ == "__main__":
    main()
