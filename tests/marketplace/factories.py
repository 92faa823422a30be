"""Small builders for marketplace tests: a shop, a placement, a login."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from marketplace.audit import Actor
from marketplace.lifecycle import ActorKind, PlacementKind
from marketplace.models import Placement, Shop
from marketplace.pricing import DEFAULT_TARGETING_SURCHARGES, DEFAULT_TERM_DISCOUNTS
from marketplace.staff import create_staff
from marketplace.vocab import ShopStatus, StaffRole

_counter = itertools.count(1)


def make_shop(session: Session, *, status: ShopStatus = ShopStatus.APPROVED, **fields: Any) -> Shop:
    n = next(_counter)
    values: dict[str, Any] = {
        "business_name": f"会津テスト商店{n}",
        "category": "restaurant",
        "district": "tsuruga",
        "in_city": True,
        "contact_name": "会津 太郎",
        "contact_email": f"shop{n}@example.jp",
        "status": status,
    }
    values.update(fields)
    shop = Shop(**values)
    session.add(shop)
    session.flush()
    return shop


def make_placement(session: Session, **fields: Any) -> Placement:
    n = next(_counter)
    values: dict[str, Any] = {
        "code": f"feed-test-{n}",
        "name": f"テスト枠{n}",
        "kind": PlacementKind.IN_FEED,
        "feed_position": 3,
        "image_width": 600,
        "image_height": 314,
        "max_image_bytes": 300_000,
        "headline_max_chars": 30,
        "body_max_chars": 80,
        "shares_per_week": 4,
        "price_per_share_week_yen": 2_750,
        "out_of_city_price_per_share_week_yen": 4_125,
        "term_discounts": list(DEFAULT_TERM_DISCOUNTS),
        "targeting_surcharges": dict(DEFAULT_TARGETING_SURCHARGES),
    }
    values.update(fields)
    placement = Placement(**values)
    session.add(placement)
    session.flush()
    return placement


def make_reviewer(session: Session) -> Actor:
    n = next(_counter)
    staff = create_staff(
        session,
        f"reviewer{n}@city.example.jp",
        f"審査 花子{n}",
        "reviewer-password",
        StaffRole.REVIEWER,
    )
    return Actor(ActorKind.STAFF, staff.id, staff.display_name)
