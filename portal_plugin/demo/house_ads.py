"""The city's demo house ads: its ad recruitment and a notice about one of its own services."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.calendar import start_of_tokyo_day, tokyo_date
from marketplace.db import utcnow
from marketplace.models import HouseAd

SIGNUP_PATH = "/marketplace/shop/signup"  # the demo portal mounts the plugin at /marketplace

DEMO_HOUSE_ADS: Final[tuple[dict[str, Any], ...]] = (
    {
        "headline": "広告募集中 地域のお店の広告を掲載しませんか",
        "body": "1週間から申し込めます。広告収入は住民向けサービスの運営費に充てられます。",
        "link_url": SIGNUP_PATH,
        "in_feed": True,
        "side": True,
    },
    {
        "headline": "除雪車ナビで除雪車の現在地を確認",
        "body": "大雪の朝の外出前に。ガジェット欄から無料で使えます。",
        "link_url": "https://www.city.aizuwakamatsu.fukushima.jp/",
        "in_feed": False,
        "side": True,
    },
)


def seed_house_ads(session: Session, now: datetime | None = None) -> int:
    """Create the demo house ads that do not exist yet (by headline); returns how many."""
    starts = start_of_tokyo_day(tokyo_date(now or utcnow()))
    existing = set(session.scalars(select(HouseAd.headline)))
    made = 0
    for spec in DEMO_HOUSE_ADS:
        if spec["headline"] not in existing:
            session.add(HouseAd(**spec, starts_at=starts))
            made += 1
    session.flush()
    return made
