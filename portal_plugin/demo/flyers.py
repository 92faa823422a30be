"""Demo flyers (チラシ) and shop pages, so the demo feed shows flyers from the first start.

Three approved synthetic shops fill in their shop page and upload a printed flyer: a PDF made
here with weasyprint and sent through the real upload path (sandboxed rendering, text
extraction, the ad-standards pre-check), then approved. Two of them are booked, one share each,
on the in-feed placements for the four weeks the demo campaigns run (the campaigns leave that
share free); the third is only on its shop page. Dates follow the day the demo is seeded.
Idempotent: a shop that already has a flyer is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import weasyprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit import Actor
from marketplace.calendar import tokyo_date, week_start
from marketplace.creatives.services import parse_creative_text
from marketplace.db import utcnow
from marketplace.flyers.files import process_pdf
from marketplace.flyers.periods import FlyerPeriods
from marketplace.flyers.services import create_flyer
from marketplace.inventory.stock import sell_held_shares
from marketplace.lifecycle import ActorKind, BookingStatus, CreativeKind
from marketplace.models import Booking, Creative, Placement, Shop
from marketplace.review.services import approve_version
from marketplace.review.standards import load_policy
from marketplace.vocab import ShopStatus
from portal_plugin.demo.campaigns import WEEKS

DEMO_KEY_PREFIX = "demo-flyer-"
DEMO_REVIEWER = Actor(ActorKind.STAFF, None, "デモ審査")


@dataclass(frozen=True)
class DemoFlyer:
    category: str
    placement: str | None  # booked on this in-feed placement this week, or only on the shop page
    headline: str
    note: str
    address: str
    hours: str
    closed: str
    phone: str
    colour: str
    items: tuple[tuple[str, int], ...]  # (item, price in yen) printed on the flyer


FLYERS: Final = (
    DemoFlyer(
        "retail", "feed-3", "週末の生鮮市 野菜・果物が お買い得", "会津産の旬の野菜をそろえました。",
        "会津若松市 神指町 大字北四合 1-2", "9:00〜21:00", "1月1日", "0242-00-1111", "#c2410c",
        (("会津産 白菜 1玉", 198), ("りんご(ふじ)5個", 498), ("地元産 コシヒカリ 5kg", 2380),
         ("長ねぎ 3本", 158), ("生しいたけ 1パック", 128), ("会津地鶏 もも肉 100g", 298)),
    ),
    DemoFlyer(
        "agriculture", "feed-8", "直売所の冬野菜まつり", "雪の下で甘くなった野菜を朝どりで。",
        "会津若松市 河東町 南高野 字高塚山 10", "8:30〜17:00", "毎週水曜日", "0242-00-2222",
        "#15803d",
        (("雪下キャベツ 1玉", 180), ("会津身不知柿 6個", 600), ("大根 1本", 120),
         ("じゃがいも 1袋", 250), ("手作りこんにゃく", 200), ("身欠きにしん 1袋", 450)),
    ),
    DemoFlyer(
        "clinic", None, "冬の健康応援セール", "薬剤師に気軽にご相談ください。",
        "会津若松市 中央 1-3-5", "9:00〜20:00(日曜は18:00まで)", "年末年始", "0242-00-3333",
        "#1d4ed8",
        (("マスク 50枚入", 398), ("ハンドクリーム", 298), ("のど飴", 158),
         ("使い捨てカイロ 30個", 698), ("ばんそうこう", 248), ("入浴剤 詰め合わせ", 598)),
    ),
)  # fmt: skip


def flyer_pdf(flyer: DemoFlyer, shop_name: str, sale: str) -> bytes:
    """A two-page A4 flyer (front: prices; back: the shop's details) with real text."""
    rows = "".join(
        f'<div class="item"><span>{name}</span><b>{price:,}<small>円</small></b></div>'
        for name, price in flyer.items
    )
    css = (
        "@page { size: A4; margin: 10mm } body { font-family: IPAexGothic; color: #222 } "
        f"h1 {{ background: {flyer.colour}; color: #fff; padding: 8mm; font-size: 30pt; margin: 0 }} "
        ".sale { font-size: 18pt; font-weight: bold; margin: 4mm 0 } "
        ".grid { display: flex; flex-wrap: wrap } .item { width: 46%; margin: 2%; border: 2px solid "
        f"{flyer.colour}; padding: 4mm; font-size: 13pt }} .item b {{ display: block; "
        f"font-size: 30pt; color: {flyer.colour}; text-align: right }} "
        ".back { page-break-before: always; font-size: 16pt } .back h2 { font-size: 24pt }"
    )
    html = (
        f"<html><head><style>{css}</style></head><body>"
        f"<h1>{flyer.headline}</h1><p class='sale'>{sale}</p><div class='grid'>{rows}</div>"
        f"<div class='back'><h2>{shop_name}</h2><p>{flyer.note}</p><p>住所 {flyer.address}</p>"
        f"<p>営業時間 {flyer.hours}</p><p>定休日 {flyer.closed}</p><p>電話 {flyer.phone}</p>"
        "<p>※ 価格は税込です。数量に限りがあります。</p></div></body></html>"
    )
    return bytes(weasyprint.HTML(string=html).write_pdf())


def seed_demo_flyers(session: Session, now: datetime | None = None) -> int:
    """Create the demo flyers that do not exist yet; returns how many were made."""
    now = now or utcnow()
    today = tokyo_date(now)
    monday = week_start(today)
    periods = FlyerPeriods(
        today,
        monday + timedelta(weeks=WEEKS, days=-1),
        today + timedelta(days=1),
        today + timedelta(days=3),
    )
    placements = {
        p.code: p for p in session.scalars(select(Placement).where(Placement.active.is_(True)))
    }
    policy = load_policy()
    made = 0
    for number, flyer in enumerate(FLYERS):
        shop = session.scalar(
            select(Shop)
            .where(Shop.status == ShopStatus.APPROVED, Shop.category == flyer.category)
            .order_by(Shop.id)
            .limit(1)
        )
        if shop is None or session.scalar(
            select(Creative.id).where(
                Creative.shop_id == shop.id, Creative.kind == CreativeKind.FLYER
            )
        ):
            continue
        shop.address, shop.opening_hours = flyer.address, flyer.hours
        shop.closed_days, shop.public_phone = flyer.closed, flyer.phone
        sale = f"特売 {periods.sale_from:%-m月%-d日}〜{periods.sale_until:%-m月%-d日}"
        text = parse_creative_text(f"折込チラシ {monday:%-m月}", flyer.headline, flyer.note, "")
        version = create_flyer(
            session,
            shop.id,
            text,
            periods,
            process_pdf(flyer_pdf(flyer, shop.business_name, sale)),
            policy,
        )
        approve_version(session, version.id, DEMO_REVIEWER, "デモ用のチラシ", now)
        placement = placements.get(flyer.placement or "")
        if placement is not None:
            key = f"{DEMO_KEY_PREFIX}{number}"
            _book(session, shop, placement, version.creative_id, key, now)
        made += 1
    return made


def _book(
    session: Session, shop: Shop, placement: Placement, creative_id: int, key: str, now: datetime
) -> None:
    first = week_start(tokyo_date(now))
    weeks = [first + timedelta(weeks=n) for n in range(WEEKS)]
    price = placement.price_per_share_week_yen * WEEKS
    booking = Booking(
        shop_id=shop.id, placement_id=placement.id, creative_id=creative_id, shares=1,
        first_week=weeks[0], last_week=weeks[-1], weeks=WEEKS, targeting={},
        status=BookingStatus.LIVE,
        in_city_rate=True, unit_price_yen=placement.price_per_share_week_yen,
        list_price_yen=price, discount_yen=0,
        surcharge_yen=0, total_yen=price, tax_yen=price * 10 // 110, idempotency_key=key,
        confirmed_at=now,
    )  # fmt: skip
    session.add(booking)
    session.flush()
    sell_held_shares(session, placement, booking.id, weeks, 1, now)
