from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.breakdowns import (
    advertiser_counts,
    advertiser_status,
    aging_summary,
    receivables_aging,
    revenue_by,
    sellthrough,
    sellthrough_by_placement,
)


def test_sellthrough_rates_and_zero_capacity() -> None:
    weeks = pd.DataFrame(
        {
            "placement": ["フィード3番目", "フィード3番目", "サイド"],
            "week_start": [date(2026, 4, 6), date(2026, 4, 13), date(2026, 4, 6)],
            "capacity": [12, 12, 0],
            "sold": [9, 12, 0],
        }
    )
    table = sellthrough(weeks)
    assert table["rate"].tolist() == [None, 0.75, 1.0]
    summary = sellthrough_by_placement(weeks).set_index("placement")
    assert summary.loc["フィード3番目", "rate"] == 21 / 24
    assert sellthrough(weeks.iloc[0:0]).columns.tolist()[-1] == "rate"


def test_revenue_by_category_labels_and_shares() -> None:
    frame = pd.DataFrame(
        {
            "booking_id": [1, 2, 3],
            "shop_id": [10, 10, 11],
            "category": ["restaurant", "restaurant", "sake-brewery"],
            "district": ["tsuruga", "tsuruga", "minato"],
            "month": [date(2026, 4, 1)] * 3,
            "revenue": [100, 200, 100],
        }
    )
    table = revenue_by(frame, "category")
    assert table["label"].tolist() == ["飲食店", "酒蔵・酒販"]
    assert table["shops"].tolist() == [1, 1]
    assert table["share"].tolist() == [0.75, 0.25]
    assert revenue_by(frame.iloc[0:0], "district").empty


def test_new_renewing_and_lapsed_advertisers() -> None:
    frame = pd.DataFrame(
        {
            "shop_id": [1, 1, 2, 3, 4],
            "shop_name": ["老舗", "老舗", "新店", "去った店", "昔の店"],
            "fiscal_year": [2025, 2026, 2026, 2025, 2024],
            "revenue": [100, 100, 50, 70, 10],
        }
    )
    status = advertiser_status(frame, 2026).set_index("shop_name")["status"].to_dict()
    assert status == {"老舗": "継続", "新店": "新規", "去った店": "離脱"}
    assert advertiser_counts(advertiser_status(frame, 2026)) == {"新規": 1, "継続": 1, "離脱": 1}
    assert advertiser_counts(advertiser_status(frame.iloc[0:0], 2026)) == {
        "新規": 0,
        "継続": 0,
        "離脱": 0,
    }


def test_receivables_aging_buckets() -> None:
    invoices = pd.DataFrame(
        {
            "invoice_number": ["A-1", "A-2", "A-3", "A-4"],
            "shop_name": ["店1", "店2", "店3", "店4"],
            "issued_on": [date(2026, 4, 1)] * 4,
            "due_on": [date(2026, 8, 1), date(2026, 7, 1), date(2026, 3, 1), date(2026, 7, 20)],
            "outstanding": [1000, 2000, 3000, 0],
        }
    )
    aging = receivables_aging(invoices, date(2026, 7, 15))
    assert aging["invoice_number"].tolist() == ["A-3", "A-2", "A-1"]
    assert aging["bucket"].tolist() == ["91日以上", "1〜30日", "期日前"]
    summary = aging_summary(aging).set_index("bucket")["outstanding"]
    assert summary["91日以上"] == 3000 and summary["31〜60日"] == 0
    assert (
        aging_summary(receivables_aging(invoices.iloc[0:0], date(2026, 7, 15)))["outstanding"].sum()
        == 0
    )
