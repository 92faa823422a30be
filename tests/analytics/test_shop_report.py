from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.privacy import K_ANONYMITY
from analytics.shop_report import BookingFacts, build_shop_report, shop_daily

BOOKING = BookingFacts(
    booking_id=7,
    shop_id=3,
    shop_name="鶴ヶ城そば",
    placement_name="フィード3番目",
    first_day=date(2026, 6, 1),
    last_day=date(2026, 6, 7),
    shares=3,
    shares_per_week=12,
    billed_yen=33_000,
)


def _audience(scale: int = 1) -> pd.DataFrame:
    rows = [
        ("age_band", "30-39", 40 * scale, 400 * scale, 8 * scale),
        ("age_band", "70+", 5 * scale, 50 * scale, 1 * scale),
        ("age_band", "40-49", 20 * scale, 200 * scale, 2 * scale),
        ("household", "single", 65 * scale, 650 * scale, 11 * scale),
        ("district", "tsuruga", 30 * scale, 300 * scale, 5 * scale),
        ("district", "unknown", 35 * scale, 350 * scale, 6 * scale),
    ]
    return pd.DataFrame(rows, columns=["dimension", "value", "residents", "impressions", "clicks"])


def test_report_totals_daily_ctr_and_share() -> None:
    daily = pd.DataFrame(
        {
            "day": [date(2026, 6, 1), date(2026, 6, 2)],
            "impressions": [300, 350],
            "clicks": [6, 5],
            "eligible_slots": [1200, 1400],
        }
    )
    report = build_shop_report(BOOKING, daily, _audience(), _audience(10), other_shops=3)
    assert report.impressions == 650 and report.clicks == 11
    assert report.share_delivered == 0.25 and report.owed == 650
    assert list(report.daily["owed"][:2]) == [300, 350]
    # Half the offers were seen: half the eligible slots count, and so twice the share.
    seen_half = build_shop_report(BOOKING, daily, _audience(), _audience(10), Fraction(1, 2))
    assert seen_half.share_delivered == 0.5 and seen_half.owed == 325
    assert len(report.daily) == 7  # days without delivery are shown as 0, not left out
    assert report.daily.loc[6, "ctr"] is None
    assert report.daily.loc[0, "share_bought"] == 0.25
    audience = report.audience.set_index(["dimension", "value"])
    assert bool(audience.loc[("age_band", "70+"), "suppressed"])
    # complementary: 40-49 (20) is hidden too, so 70+ cannot be recovered as 650 − 400 − 200.
    assert bool(audience.loc[("age_band", "40-49"), "suppressed"])
    assert audience.loc[("district", "unknown"), "value_label"] == "未登録"
    assert audience.loc[("age_band", "30-39"), "placement_ctr"] == 80 / 4000
    assert "resident_id" not in report.audience.columns


def test_report_for_a_booking_without_delivery_says_so() -> None:
    empty = pd.DataFrame(columns=["day", "impressions", "clicks", "eligible_slots"])
    report = build_shop_report(BOOKING, empty, _audience().iloc[0:0], _audience().iloc[0:0])
    assert not report.has_data
    assert report.ctr is None and report.share_delivered is None
    assert report.daily["impressions"].sum() == 0
    assert list(report.audience.columns)[:2] == ["dimension", "dimension_label"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 12)).map(lambda p: (p[0], min(p[0], p[1]))),
        min_size=1,
        max_size=14,
    )
)
def test_a_shops_daily_table_never_shows_or_lets_it_work_out_a_small_count(
    days: list[tuple[int, int]],
) -> None:
    """Whatever the days, every shown count is 0 or ≥ k, and the exact total minus the shown
    days is 0, ≥ k, or the whole total (nothing shown)."""
    frame = pd.DataFrame(
        {
            "day": [date(2026, 6, 1) + timedelta(days=n) for n in range(len(days))],
            "impressions": [i for i, _ in days],
            "clicks": [c for _, c in days],
            "ctr": [None] * len(days),
        }
    )
    shown = shop_daily(frame)
    for column in ("impressions", "clicks"):
        visible = [int(v) for v in shown[column].dropna()]
        assert all(v == 0 or v >= K_ANONYMITY for v in visible)
        left = int(frame[column].sum()) - sum(visible)
        assert left == 0 or left >= K_ANONYMITY or not any(visible)
    assert list(shown.columns) == ["day", "impressions", "clicks", "ctr", "protected"]
