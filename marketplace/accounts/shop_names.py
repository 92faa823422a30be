"""A shop's name: refused when it passes for the city, and reviewed when an advertiser renames.

Ads and the shop page carry the shop's name, so a shop that advertises could rename itself
「会津若松市役所(公式のお知らせ)」 and its live ad would say so at once (issue 16 item 5). A
name that the ad standards' impersonation rules find is refused at sign-up and rename; a new
name of a shop that is approved or advertises waits in `pending_business_name` until a reviewer
approves it, and the old name keeps showing until then.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from marketplace.audit import Actor, record
from marketplace.db import utcnow
from marketplace.errors import InvalidInput, InvalidTransition, NotFound
from marketplace.lifecycle import SOLD_STATUSES, CreativeStatus
from marketplace.locking import lock_by_id
from marketplace.models import Booking, Creative, CreativeVersion, Shop
from marketplace.review.standards import Policy, name_flags
from marketplace.vocab import ShopStatus


def check_shop_name(policy: Policy, name: str) -> None:
    """Refuse a name that imitates the city (full-width, spaced or look-alike forms too)."""
    found = name_flags(policy, name)
    if found:
        raise InvalidInput(
            "この店名は登録できません: 広告掲載基準の「{rule}」に当たります。"
            "市役所や市の公式の発信と誤解されるおそれのある名前(会津若松市、市役所、公式、"
            "行政など)は使えません",
            field="business_name",
            rule=found[0].label,
        )


def renames_need_review(session: Session, shop: Shop) -> bool:
    """An approved shop, or one with an approved creative or a sold booking, is seen by
    residents under its name: a new name waits for staff."""
    if shop.status is ShopStatus.APPROVED:
        return True
    approved_creative = exists().where(
        CreativeVersion.creative_id == Creative.id,
        Creative.shop_id == shop.id,
        CreativeVersion.status == CreativeStatus.APPROVED,
    )
    sold = exists().where(Booking.shop_id == shop.id, Booking.status.in_(SOLD_STATUSES))
    return bool(session.scalar(select(approved_creative | sold)))


def ask_for_rename(
    session: Session, shop: Shop, name: str, kana: str, actor: Actor, now: datetime
) -> bool:
    """Keep a new name for review (True), or withdraw a pending one when the shop asks for
    its current name again (False). The caller has checked the name against the standards."""
    if (name, kana) == (shop.business_name, shop.business_name_kana):
        shop.pending_business_name = shop.pending_business_name_kana = None
        shop.name_change_requested_at = None
        return False
    if (name, kana) == (shop.pending_business_name, shop.pending_business_name_kana):
        return True
    shop.pending_business_name, shop.pending_business_name_kana = name, kana
    shop.name_change_requested_at = now
    record(
        session,
        actor,
        "shop_rename_requested",
        "shop",
        shop.id,
        shop_id=shop.id,
        old_name=shop.business_name,
        new_name=name,
    )
    return True


def pending_renames(session: Session) -> list[Shop]:
    return list(
        session.scalars(
            select(Shop)
            .where(Shop.pending_business_name.is_not(None))
            .order_by(Shop.name_change_requested_at, Shop.id)
        )
    )


def decide_rename(
    session: Session,
    shop_id: int,
    approve: bool,
    actor: Actor,
    policy: Policy,
    reason: str = "",
    now: datetime | None = None,
) -> Shop:
    """A reviewer approves the pending name (it then shows everywhere) or rejects it with a
    reason; either is audited with the old and the new name."""
    shop = lock_by_id(session, Shop, shop_id)
    if shop is None:
        raise NotFound("お店が見つかりません")
    new_name, new_kana = shop.pending_business_name, shop.pending_business_name_kana
    if new_name is None:
        raise InvalidTransition(
            "店名の変更申請がないため、承認も却下もできません", field="decision"
        )
    reason = reason.strip()[:1000]
    if approve:
        check_shop_name(policy, new_name)
    elif not reason:
        raise InvalidInput("却下の理由を入力してください", field="reason")
    old_name = shop.business_name
    if approve:
        shop.business_name, shop.business_name_kana = new_name, new_kana or ""
    shop.pending_business_name = shop.pending_business_name_kana = None
    shop.name_change_requested_at = None
    record(
        session,
        actor,
        "shop_rename_approved" if approve else "shop_rename_rejected",
        "shop",
        shop.id,
        shop_id=shop.id,
        reason=reason,
        old_name=old_name,
        new_name=new_name,
        decided_at=(now or utcnow()).isoformat(),
    )
    return shop
