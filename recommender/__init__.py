"""A LightFM hybrid recommender for the portal: DataFrames in, DataFrames out.

This package imports no database code; ``marketplace`` feeds it from the database.
"""

from __future__ import annotations

__version__ = "0.1.0"
