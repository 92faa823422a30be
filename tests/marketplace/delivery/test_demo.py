from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.delivery.demo import CAMPAIGNS, seed_demo_campaigns
from marketplace.delivery.serving import load_snapshot
from marketplace.demo_seed import seed_inventory
from marketplace.models import InventoryWeek
from tests.marketplace.delivery.factories import START
from tests.marketplace.factories import make_shop


def test_demo_campaigns_are_sold_in_the_inventory_and_served(session: Session) -> None:
    seed_inventory(session)
    for category in {c[1] for c in CAMPAIGNS}:
        make_shop(session, category=category)
    now = START
    assert seed_demo_campaigns(session, now) == len(CAMPAIGNS)
    assert seed_demo_campaigns(session, now) == 0  # idempotent
    sold = session.scalar(select(func.max(InventoryWeek.sold_shares)))
    assert sold == 4
    snapshot = load_snapshot(session, now, (3, 8))
    ours = [
        b
        for b in snapshot.bookings
        if b.headline.startswith(("会津", "健康", "子育て", "新酒", "雪囲い"))
    ]
    assert len(ours) >= len(CAMPAIGNS) - 1
    assert {b.share for b in ours} <= {0.25, 0.5}
    assert any(b.targeting.dimensions for b in ours)
