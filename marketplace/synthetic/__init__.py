"""A deterministic synthetic Aizu-Wakamatsu: residents, articles, shops and their events.

Pure data generation (numpy and pandas, no database). The seed loader writes it to the database;
benchmarks use the kept ground truth to measure how relevant recommendations really are.
"""

from __future__ import annotations

from marketplace.synthetic.city import SyntheticCity, generate_city
from marketplace.synthetic.ground_truth import GroundTruth

__all__ = ["GroundTruth", "SyntheticCity", "generate_city"]
