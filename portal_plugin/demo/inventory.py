"""Realistic demo inventory: two in-feed cards (after articles 3 and 8) and a side gadget card.

Prices follow municipal banner practice: about ¥11,000 a month for a banner, here sold as
weekly rotation shares (4 shares per week), tax included, 20 % off from 3 months (13 weeks),
30 % off from 6 months (26 weeks), and 1.5 × for businesses outside the city.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.inventory.pricing import DEFAULT_TARGETING_SURCHARGES, DEFAULT_TERM_DISCOUNTS
from marketplace.lifecycle import PlacementKind
from marketplace.models import Placement

DEMO_PLACEMENTS: Final[tuple[dict[str, Any], ...]] = (
    {
        "code": "feed-3",
        "name": "おすすめ記事 3件目の下(フィード内カード)",
        "description": "トップのおすすめ記事の3件目と4件目の間に表示される、最も目立つ枠です。",
        "kind": PlacementKind.IN_FEED,
        "feed_position": 3,
        "shares_per_week": 4,
        "price_per_share_week_yen": 2_750,
        "out_of_city_price_per_share_week_yen": 4_125,
    },
    {
        "code": "feed-8",
        "name": "おすすめ記事 8件目の下(フィード内カード)",
        "description": "フィードをよく読む方に届く、手頃な価格の枠です。",
        "kind": PlacementKind.IN_FEED,
        "feed_position": 8,
        "shares_per_week": 4,
        "price_per_share_week_yen": 1_650,
        "out_of_city_price_per_share_week_yen": 2_475,
    },
    {
        "code": "side-gadget",
        "name": "ガジェット欄のカード(サイド)",
        "description": "除雪車ナビなどのガジェットと並んで表示されるカードです。",
        "kind": PlacementKind.SIDE_GADGET,
        "feed_position": None,
        "shares_per_week": 6,
        "price_per_share_week_yen": 1_100,
        "out_of_city_price_per_share_week_yen": 1_650,
    },
)

CARD_RULES: Final = {
    "image_width": 600,
    "image_height": 314,
    "max_image_bytes": 300_000,
    "headline_max_chars": 30,
    "body_max_chars": 80,
}


def seed_inventory(session: Session) -> list[Placement]:
    """Create the demo placements that do not exist yet; safe to run again."""
    placements = []
    for spec in DEMO_PLACEMENTS:
        existing = session.scalar(select(Placement).where(Placement.code == spec["code"]))
        if existing is None:
            existing = Placement(
                **spec,
                **CARD_RULES,
                term_discounts=[dict(tier) for tier in DEFAULT_TERM_DISCOUNTS],
                targeting_surcharges=dict(DEFAULT_TARGETING_SURCHARGES),
                active=True,
            )
            session.add(existing)
        placements.append(existing)
    session.flush()
    return placements
