"""Small builders for marketplace tests: a shop, a placement, a creative, a reviewer, and a
booking clock."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from marketplace.accounts.staff import create_staff
from marketplace.audit import Actor
from marketplace.inventory.pricing import DEFAULT_TARGETING_SURCHARGES, DEFAULT_TERM_DISCOUNTS
from marketplace.lifecycle import ActorKind, CreativeStatus, PlacementKind
from marketplace.models import Creative, CreativeVersion, Placement, Shop
from marketplace.vocab import ShopStatus, StaffRole
from tests.support.images import png_bytes

NOW = datetime(2027, 3, 24, 1, 0, tzinfo=UTC)  # Wednesday 10:00 in Tokyo
WEEK = date(2027, 3, 29)  # the next Monday: the first week a booking made at NOW may start
_counter = itertools.count(1)
# A placement as the staff form sends it (strings), an in-feed card after the third article.
PLACEMENT_FORM: dict[str, str] = {
    "code": "feed-new",
    "name": "新しい枠",
    "kind": "in_feed",
    "feed_position": "3",
    "image_width": "600",
    "image_height": "314",
    "max_image_bytes": "300000",
    "headline_max_chars": "30",
    "body_max_chars": "80",
    "shares_per_week": "4",
    "price_per_share_week_yen": "2750",
    "out_of_city_price_per_share_week_yen": "4125",
}


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


def make_creative(
    session: Session, shop_id: int, status: CreativeStatus = CreativeStatus.IN_REVIEW
) -> Creative:
    """An in-feed ad creative of the shop whose one version is `status` (by default submitted
    for review: what a shop needs before it may hold shares)."""
    creative = Creative(shop_id=shop_id, name="テスト素材")
    session.add(creative)
    session.flush()
    image = png_bytes()
    session.add(
        CreativeVersion(
            creative_id=creative.id, version=1, headline="会津の地酒", body="季節の酒をどうぞ",
            landing_url="https://example.jp/", image_data=image,
            image_content_type="image/png", image_width=600, image_height=314,
            image_sha256=hashlib.sha256(image).hexdigest(), status=status,
        )
    )  # fmt: skip
    session.flush()
    return creative
