"""Row locks: the shop lock a hold takes must not block rows that reference the shop."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, delete, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from marketplace.locking import lock_by_id
from marketplace.models import Creative, Shop
from tests.support.marketplace_factories import make_shop


def add_creative(engine: Engine, shop_id: int, lock_timeout: str) -> None:
    """Insert a creative of the shop (its foreign key takes FOR KEY SHARE on the shop row)."""
    with Session(engine) as writer, writer.begin():
        writer.execute(text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
        writer.add(Creative(shop_id=shop_id, name="参照する行"))
        writer.flush()


@pytest.mark.postgres
def test_a_key_share_lock_lets_a_referencing_row_in_where_a_plain_one_blocks(
    engine: Engine, database_url: str
) -> None:
    """A cancel writes an event referencing the shop while a hold of the same shop holds the
    shop row: FOR UPDATE made them deadlock (the soak found it); FOR NO KEY UPDATE does not."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks need PostgreSQL")
    with Session(engine) as setup, setup.begin():
        shop_id = make_shop(setup, business_name="ロック試験商店").id
    try:
        with Session(engine) as locker, locker.begin():
            lock_by_id(locker, Shop, shop_id, key_share=True)
            add_creative(engine, shop_id, "2s")  # would wait and time out if blocked
        with Session(engine) as locker, locker.begin():
            lock_by_id(locker, Shop, shop_id)
            with pytest.raises(OperationalError, match="lock timeout"):
                add_creative(engine, shop_id, "200ms")
    finally:
        with Session(engine) as cleanup, cleanup.begin():
            cleanup.execute(delete(Creative).where(Creative.shop_id == shop_id))
            cleanup.execute(delete(Shop).where(Shop.id == shop_id))
