"""Memory of a loaded model for the full city: RSS of a process holding the Scorer.

Usage: python bench/recommender_memory.py [STORE]   (default bench/results/store, written by
bench/recommender_serving.py). Reports RSS after imports (the baseline) and after loading the
promoted artifact into a Scorer. Target: under 300 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    store = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results" / "store"
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
