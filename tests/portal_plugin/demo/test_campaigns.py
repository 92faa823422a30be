from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.delivery.layout import HostLayout
from marketplace.delivery.serving import load_snapshot
from marketplace.models import InventoryWeek
from portal_plugin.demo.campaigns import CAMPAIGNS, seed_demo_campaigns
from portal_plugin.demo.inventory import seed_inventory
from tests.support.delivery_factories import START
from tests.support.marketplace_factories import make_shop


def test_demo_campaigns_are_sold_in_the_inventory_and_served(session: Session) -> None:
    seed_inventory(session)
    for category in {c[1] for c in CAMPAIGNS}:
        make_shop(session, category=category)
    now = START
    assert seed_demo_campaigns(session, now) == len(CAMPAIGNS)
    assert seed_demo_campaigns(session, now) == 0  # idempotent
    sold = session.scalar(select(func.max(InventoryWeek.sold_shares)))
    assert sold == 3  # one share of each placement is kept for the demo flyers
    snapshot = load_snapshot(session, now, HostLayout())
    ours = [
        b
        for b in snapshot.bookings
        if b.headline.startswith(("会津", "健康", "子育て", "新酒", "雪囲い", "新米"))
    ]
    assert len(ours) >= len(CAMPAIGNS) - 1
    assert {b.share for b in ours} <= {1 / 6, 2 / 6, 0.25, 0.5}
    assert any(b.targeting.dimensions for b in ours)
    # The gadget column's placement is sold and served too, with the approved images' sizes.
    side = snapshot.side
    assert len(side) == 1 and snapshot.candidates[side[0]]
    assert all(b.image_width == 600 and b.image_height == 314 for b in ours)
