from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.privacy import K_ANONYMITY, recoverable_groups, suppress


def _breakdown(dimension: str, cells: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dimension": dimension,
            "value": list(cells),
            "residents": list(cells.values()),
            "impressions": [r * 7 for r in cells.values()],
            "clicks": [r // 3 for r in cells.values()],
        }
    )


def test_small_cell_is_suppressed_with_a_complement() -> None:
    published = suppress(_breakdown("age_band", {"20-29": 4, "30-39": 40, "40-49": 25, "70+": 60}))
    hidden = set(published.loc[published["suppressed"], "value"])
    # 4 alone could be recovered as total − visible; the next smallest cell hides with it.
    assert hidden == {"20-29", "40-49"}
    assert published.loc[published["value"] == "20-29", "impressions"].isna().all()
    assert recoverable_groups(published, {"age_band": 129}) == {"age_band": 29}


def test_subtraction_from_the_total_never_recovers_a_single_small_cell() -> None:
    cells = {"single": 3, "couple": 5, "young_children": 12, "elderly_only": 300}
    published = suppress(_breakdown("household", cells))
    total = sum(cells.values())
    recovered = recoverable_groups(published, {"household": total})["household"]
    assert recovered >= K_ANONYMITY
    assert published["suppressed"].sum() >= 2


def test_zero_cells_stay_visible_and_tiny_totals_hide_everything() -> None:
    published = suppress(_breakdown("district", {"tsuruga": 0, "minato": 50}))
    assert not published["suppressed"].any()
    tiny = suppress(_breakdown("district", {"tsuruga": 3, "minato": 4}))
    assert tiny["suppressed"].all()
    assert tiny["residents"].isna().all()


def test_a_lone_small_cell_without_enough_others_hides_the_whole_breakdown() -> None:
    published = suppress(_breakdown("age_band", {"20-29": 9, "30-39": 0, "70+": 30}))
    # Suppressing 9 with its only complement (30) is fine: group of two, 39 residents.
    assert published["suppressed"].sum() == 2


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=8),
        min_size=1,
        max_size=3,
    )
)
def test_no_breakdown_lets_subtraction_reveal_a_group_below_k(tables: list[list[int]]) -> None:
    frames = [
        _breakdown(f"dim{i}", {f"v{j}": count for j, count in enumerate(counts)})
        for i, counts in enumerate(tables)
    ]
    published = suppress(pd.concat(frames, ignore_index=True))
    totals = {f"dim{i}": sum(counts) for i, counts in enumerate(tables)}
    for dimension, recovered in recoverable_groups(published, totals).items():
        hidden = published[(published["dimension"] == dimension) & published["suppressed"]]
        # What subtraction yields is nothing, or a group of ≥ k residents…
        assert recovered == 0 or recovered >= K_ANONYMITY or totals[dimension] < K_ANONYMITY
        # …spread over at least two non-empty cells unless the whole breakdown is hidden.
        if recovered > 0 and len(hidden) != len(published[published["dimension"] == dimension]):
            original = frames[int(dimension[3:])]
            nonzero_hidden = original[original["value"].isin(hidden["value"])]["residents"] > 0
            assert nonzero_hidden.sum() >= 2
        visible = published[(published["dimension"] == dimension) & ~published["suppressed"]]
        assert not ((visible["residents"] > 0) & (visible["residents"] < K_ANONYMITY)).any()
