"""Small builders for delivery tests: feed articles and ad candidates in a fixed week."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marketplace.delivery.types import AdCandidate, FeedArticle
from marketplace.inventory.targeting import EVERYONE
from marketplace.vocab import ArticlePriority

START = datetime(2026, 11, 1, 15, 0, tzinfo=UTC)  # Monday 2026-11-02 00:00 in Tokyo
END = datetime(2026, 11, 8, 15, 0, tzinfo=UTC)


def article(number: int, priority: ArticlePriority = ArticlePriority.NORMAL) -> FeedArticle:
    return FeedArticle(
        article_id=number,
        title=f"記事{number}",
        summary="",
        url=f"https://example.jp/a/{number}",
        category="イベント",
        tags=(),
        priority=priority,
        published_at=START,
    )


def ad(booking_id: int, **overrides: Any) -> AdCandidate:
    values: dict[str, Any] = {
        "booking_id": booking_id,
        "placement_id": 1,
        "shop_id": booking_id,
        "shop_name": f"店{booking_id}",
        "shop_category": "restaurant",
        "creative_version_id": booking_id,
        "headline": "見出し",
        "body": "",
        "landing_url": f"https://shop{booking_id}.example.jp/",
        "tags": (),
        "targeting": EVERYONE,
        "share": 0.1,
        "starts_at": START,
        "ends_at": END,
        "unit_price_yen": 2750,
    }
    values.update(overrides)
    return AdCandidate(**values)
