from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.calendar import tokyo_date
from marketplace.delivery.layout import HostLayout
from marketplace.delivery.serving import load_snapshot
from marketplace.flyers.services import current_flyers, flyer_pages
from marketplace.models import InventoryWeek, Placement, Shop
from portal_plugin.demo.campaigns import CAMPAIGNS, seed_demo_campaigns
from portal_plugin.demo.flyers import FLYERS, seed_demo_flyers
from portal_plugin.demo.inventory import seed_inventory
from tests.support.delivery_factories import START
from tests.support.marketplace_factories import make_shop


def test_demo_flyers_go_through_the_upload_path_fill_the_inventory_and_are_served(
    session: Session,
) -> None:
    seed_inventory(session)
    for category in {c[1] for c in CAMPAIGNS} | {f.category for f in FLYERS}:
        make_shop(session, category=category)
    seed_demo_campaigns(session, START)
    assert seed_demo_flyers(session, START) == len(FLYERS)
    assert seed_demo_flyers(session, START) == 0  # idempotent
    in_feed = (
        select(func.min(InventoryWeek.sold_shares), func.max(InventoryWeek.sold_shares))
        .join(Placement, Placement.id == InventoryWeek.placement_id)
        .where(Placement.code.in_(["feed-3", "feed-8"]))
    )
    assert session.execute(in_feed).one() == (4, 4)  # the in-feed weeks sold out, not over
    today = tokyo_date(START)
    for flyer in FLYERS:
        shop = session.scalars(select(Shop).where(Shop.category == flyer.category)).first()
        assert shop is not None and shop.public_phone == flyer.phone
        [version] = current_flyers(session, shop.id, today)
        pages = flyer_pages(session, version.id)
        assert len(pages) == 2 and str(flyer.items[0][1]) in pages[0].text.replace(",", "")
    served = [c for c in load_snapshot(session, START, HostLayout()).bookings if c.kind == "flyer"]
    assert len(served) == sum(1 for f in FLYERS if f.placement)
