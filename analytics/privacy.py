"""k-anonymity for audience figures, with complementary suppression.

The rule (also in docs/analytics.md):

1. Audience figures leave the system only as marginal breakdowns of one booking (or one
   placement) by ONE dimension at a time: age band, household type or district. Cross-tabs are
   never published, so cells of different dimensions cannot be combined.
2. Primary suppression: a cell reached by between 1 and k−1 distinct residents (k = 10) is
   suppressed: its residents, impressions and clicks are withheld. A cell with 0 residents
   describes nobody and is shown as 0.
3. Complementary suppression: the breakdown's total is published (it is what the shop paid
   for), so a lone suppressed cell could be recovered as total − visible cells. Within each
   dimension, while the suppressed cells together cover fewer than k residents, or fewer than
   two non-empty cells are suppressed, the smallest visible non-empty cell is suppressed too.
   What subtraction recovers is then only the sum of a group of at least two cells covering at
   least k residents.
4. If the whole breakdown covers fewer than k residents, every cell is suppressed.

Counts are distinct residents per cell; each resident falls in exactly one cell of a dimension
(residents without the attribute fall in the 「未登録」 cell), so cell counts add up.
"""

from __future__ import annotations

import pandas as pd

K_ANONYMITY = 10
DIMENSIONS = ("age_band", "household", "district")
BREAKDOWN_COLUMNS = ["dimension", "value", "residents", "impressions", "clicks"]
METRICS = ("residents", "impressions", "clicks")
UNKNOWN_VALUE = "unknown"


def suppress(breakdown: pd.DataFrame, k: int = K_ANONYMITY) -> pd.DataFrame:
    """Apply the rule to a breakdown (BREAKDOWN_COLUMNS, any dimensions).

    Returns the same rows with a boolean `suppressed` column; suppressed metrics become
    missing (pandas NA in nullable Int64 columns), never zero, so no one mistakes them for 0.
    """
    missing = [column for column in BREAKDOWN_COLUMNS if column not in breakdown.columns]
    if missing:
        raise ValueError(f"breakdown is missing columns {missing}")
    if (breakdown["residents"] < 0).any():
        raise ValueError("residents must not be negative")
    result = breakdown.reset_index(drop=True).copy()
    flags = pd.Series(False, index=result.index)
    for _, group in result.groupby("dimension", sort=False):
        flags.loc[_suppressed_cells(group["residents"], k)] = True
    result["suppressed"] = flags.to_numpy()
    for column in METRICS:
        result[column] = result[column].astype("Int64").mask(result["suppressed"])
    return result


def small_counts(counts: pd.Series, k: int = K_ANONYMITY) -> list[int]:
    """The index of every count to hide in a published series whose total is also published
    (e.g. a booking's impressions per day): rules 2–4 above, with the counts as the cells."""
    return _suppressed_cells(counts.astype("int64"), k)


def _suppressed_cells(residents: pd.Series, k: int) -> list[int]:
    if int(residents.sum()) < k:
        return list(residents.index)
    nonzero = residents[residents > 0]
    chosen = set(nonzero[nonzero < k].index)
    if not chosen:
        return []
    remaining = nonzero.drop(index=list(chosen)).sort_values(kind="stable")

    def needs_more() -> bool:
        return len(chosen) < 2 or int(residents.loc[list(chosen)].sum()) < k

    for index in remaining.index:
        if not needs_more():
            break
        chosen.add(index)
    if needs_more():
        # Not enough cells to hide the group: hide the whole breakdown.
        return list(residents.index)
    return sorted(chosen)


def recoverable_groups(published: pd.DataFrame, totals: dict[str, int]) -> dict[str, int]:
    """What an attacker learns by subtraction: per dimension, total − visible residents.

    Used by tests and by the export self-check: every value must be 0 or at least k.
    """
    recovered = {}
    for dimension, group in published.groupby("dimension", sort=False):
        visible = int(group.loc[~group["suppressed"], "residents"].sum())
        recovered[str(dimension)] = totals[str(dimension)] - visible
    return recovered
