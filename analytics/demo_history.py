"""Two fiscal years of realistic history for the demo city, through the real billing services.

`seed_history` books placements for the city's shops week by week, issues each booking's
qualified invoice, records bank transfers (some late, some still unpaid), cancels a few bookings
part-way with a credit note, and recognises revenue up to `today`, all with billing's own
functions, so the dashboard, shop reports and transparency page show figures that agree with
the books. Deterministic for a given seed. Idempotent: a database with history is left alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.costs import SYSTEM, rule_history, set_rule
from analytics.seeds import seed_services
from billing.config import BillingConfig
from billing.invoices import CreditDraft, LineDraft, issue_credit_note, issue_invoice
from billing.payments import record_bank_transfer
from billing.recognition import recognise_revenue
from billing.tax import tax_included_in
from marketplace.calendar import TOKYO, fiscal_year, fiscal_year_bounds, week_start
from marketplace.lifecycle import BookingStatus, PlacementKind
from marketplace.models import Booking, InventoryWeek, Placement, Shop
from marketplace.vocab import DISTRICTS, SHOP_CATEGORIES, ShopStatus


@dataclass(frozen=True)
class PlacementSeed:
    code: str
    name: str
    kind: PlacementKind
    shares_per_week: int
    price: int  # per share per week, tax included, in-city
    out_of_city_price: int


PLACEMENTS = (
    PlacementSeed("feed-3", "記事の間（3番目）", PlacementKind.IN_FEED, 12, 2_750, 3_850),
    PlacementSeed("feed-8", "記事の間（8番目）", PlacementKind.IN_FEED, 12, 2_200, 3_080),
    PlacementSeed("side-gadget", "サイドのお知らせ枠", PlacementKind.SIDE_GADGET, 8, 1_650, 2_310),
)
# 3–5 months: 20% off; 6+ months: 30% off (municipal banner practice).
TERM_DISCOUNTS = [{"min_weeks": 13, "percent": 20}, {"min_weeks": 26, "percent": 30}]


@dataclass(frozen=True)
class HistorySummary:
    bookings: int
    invoices: int
    payments: int
    credit_notes: int
    recognised_revenue: int
    skipped: bool = False


def ensure_placements(session: Session) -> list[Placement]:
    placements = []
    for seed in PLACEMENTS:
        found = session.scalar(select(Placement).where(Placement.code == seed.code))
        if found is None:
            found = Placement(
                code=seed.code,
                name=seed.name,
                kind=seed.kind,
                feed_position=int(seed.code.split("-")[1])
                if seed.kind is PlacementKind.IN_FEED
                else None,
                image_width=300,
                image_height=250,
                max_image_bytes=150_000,
                headline_max_chars=30,
                body_max_chars=80,
                shares_per_week=seed.shares_per_week,
                price_per_share_week_yen=seed.price,
                out_of_city_price_per_share_week_yen=seed.out_of_city_price,
                term_discounts=TERM_DISCOUNTS,
                targeting_surcharges={},
            )
            session.add(found)
            session.flush()
        placements.append(found)
    return placements


def _shops(session: Session, rng: random.Random, wanted: int) -> list[Shop]:
    shops = list(
        session.scalars(
            select(Shop).where(Shop.status == ShopStatus.APPROVED).order_by(Shop.id).limit(wanted)
        )
    )
    categories, districts = list(SHOP_CATEGORIES), list(DISTRICTS)
    for n in range(len(shops), wanted):
        shop = Shop(
            business_name=f"{DISTRICTS[districts[n % len(districts)]]}の{SHOP_CATEGORIES[categories[n % len(categories)]]} {n + 1}",
            business_name_kana=f"デモテンポ{n + 1}",
            category=categories[rng.randrange(len(categories))],
            district=districts[rng.randrange(len(districts))],
            in_city=rng.random() > 0.1,
            contact_name="会津 太郎",
            contact_email=f"demo-shop-{n + 1}@example.jp",
            status=ShopStatus.APPROVED,
        )
        session.add(shop)
        shops.append(shop)
    session.flush()
    return shops


def _inventory_week(session: Session, placement: Placement, monday: date) -> InventoryWeek:
    row = session.scalar(
        select(InventoryWeek).where(
            InventoryWeek.placement_id == placement.id, InventoryWeek.week_start == monday
        )
    )
    if row is None:
        row = InventoryWeek(
            placement_id=placement.id,
            week_start=monday,
            total_shares=placement.shares_per_week,
            sold_shares=0,
            held_shares=0,
        )
        session.add(row)
        session.flush()
    return row


def price(placement: Placement, shop: Shop, shares: int, weeks: int) -> tuple[int, int, int]:
    """(list price, discount, total) in yen, tax included, by the rate card's term discounts."""
    unit = (
        placement.price_per_share_week_yen
        if shop.in_city
        else placement.out_of_city_price_per_share_week_yen
    )
    list_price = unit * shares * weeks
    percent = max(
        (int(d["percent"]) for d in placement.term_discounts if weeks >= int(d["min_weeks"])),
        default=0,
    )
    discount = list_price * percent // 100
    return list_price, discount, list_price - discount


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TOKYO)


def seed_history(
    session: Session,
    config: BillingConfig,
    *,
    today: date,
    years: int = 2,
    shops: int = 40,
    seed: int = 0,
) -> HistorySummary:
    """Create `years` fiscal years of bookings and money up to `today`, plus booked weeks ahead."""
    if session.scalar(select(func.count()).select_from(Booking)):
        return HistorySummary(0, 0, 0, 0, 0, skipped=True)
    rng = random.Random(seed)
    current_year = fiscal_year(today)
    first_year = current_year - years + 1
    seed_services(session, range(first_year - 1, current_year + 1))
    if not rule_history(session):
        # The demo city pays the snow-plough map first: the service residents ask about most.
        set_rule(session, "priority", ["snow-plough", "maternal-health"], SYSTEM)
    placements = ensure_placements(session)
    shop_rows = _shops(session, rng, shops)
    start, _ = fiscal_year_bounds(first_year)
    horizon = week_start(today) + timedelta(weeks=10)
    counts = {"bookings": 0, "invoices": 0, "payments": 0, "credits": 0}
    monday = week_start(start)
    while monday <= horizon:
        # Demand grows over the two years as more shops learn about the portal.
        growth = 1 + (monday - start).days / 365
        for _ in range(rng.choices([0, 1, 2, 3, 4], weights=[1, 3, 4, 2, int(2 * growth)])[0]):
            placement = rng.choice(placements)
            shop = rng.choice(shop_rows)
            weeks = rng.choice([4, 4, 8, 13, 13, 26])
            shares = rng.choice([1, 1, 2, 3])
            _book(session, config, rng, placement, shop, monday, weeks, shares, today, counts)
        monday += timedelta(weeks=1)
    result = recognise_revenue(session, today)
    return HistorySummary(
        counts["bookings"], counts["invoices"], counts["payments"], counts["credits"], result.amount
    )


def _book(
    session: Session,
    config: BillingConfig,
    rng: random.Random,
    placement: Placement,
    shop: Shop,
    first: date,
    weeks: int,
    shares: int,
    today: date,
    counts: dict[str, int],
) -> None:
    key = f"demo-{placement.code}-{shop.id}-{first.isoformat()}"
    if session.scalar(
        select(Booking.id).where(Booking.shop_id == shop.id, Booking.idempotency_key == key)
    ):
        return  # this shop already booked this placement from this week
    mondays = [first + timedelta(weeks=n) for n in range(weeks)]
    inventory = [_inventory_week(session, placement, m) for m in mondays]
    if any(row.sold_shares + row.held_shares + shares > row.total_shares for row in inventory):
        return  # sold out: a real shop would have picked other weeks
    list_price, discount, total = price(placement, shop, shares, weeks)
    confirmed_on = first - timedelta(days=rng.randint(5, 20))
    if confirmed_on > today:
        return
    last_day = mondays[-1] + timedelta(days=6)
    status = BookingStatus.COMPLETED if last_day < today else BookingStatus.LIVE
    if first > today:
        status = BookingStatus.SCHEDULED
    booking = Booking(
        shop_id=shop.id,
        placement_id=placement.id,
        shares=shares,
        first_week=mondays[0],
        last_week=mondays[-1],
        weeks=weeks,
        targeting={},
        status=status,
        in_city_rate=shop.in_city,
        unit_price_yen=list_price // (shares * weeks),
        list_price_yen=list_price,
        discount_yen=discount,
        surcharge_yen=0,
        total_yen=total,
        tax_yen=tax_included_in(total, 10, config.rounding),
        idempotency_key=key,
        confirmed_at=_at(confirmed_on),
    )
    session.add(booking)
    for row in inventory:
        row.sold_shares += shares
    session.flush()
    counts["bookings"] += 1
    invoice = issue_invoice(
        session,
        config,
        shop_id=shop.id,
        lines=[
            LineDraft(
                description=f"{placement.name} {shares}シェア × {weeks}週（{mondays[0]:%Y/%m/%d}〜）",
                amount=total,
                booking_id=booking.id,
                service_start=mondays[0],
                service_end=last_day,
            )
        ],
        issue_date=confirmed_on,
        booking_id=booking.id,
    )
    counts["invoices"] += 1
    roll = rng.random()
    if roll < 0.85:
        # Most shops pay by transfer within the month; some pay late, a few not yet.
        paid_on = confirmed_on + timedelta(days=rng.randint(3, 25 if roll < 0.75 else 70))
        if paid_on <= today:
            record_bank_transfer(
                session, invoice, invoice.total, reference=f"D{invoice.id:06d}", value_date=paid_on
            )
            counts["payments"] += 1
    if rng.random() < 0.07 and weeks >= 8:
        _cancel_part_way(session, config, booking, invoice.id, invoice.lines[0].id, today, counts)


def _cancel_part_way(
    session: Session,
    config: BillingConfig,
    booking: Booking,
    invoice_id: int,
    line_id: int,
    today: date,
    counts: dict[str, int],
) -> None:
    """The shop stops after half its weeks: the unused weeks are credited (the policy's refund)."""
    kept = booking.weeks // 2
    cancel_from = booking.first_week + timedelta(weeks=kept)
    cancelled_on = cancel_from - timedelta(days=3)
    if cancelled_on > today:
        return
    credit = booking.total_yen * (booking.weeks - kept) // booking.weeks
    issue_credit_note(
        session,
        config,
        original_invoice_id=invoice_id,
        credits=[
            CreditDraft(
                line_id,
                credit,
                service_start=cancel_from,
                service_end=booking.last_week + timedelta(days=6),
            )
        ],
        reason="お客様都合による途中解約（未使用週の返金）",
        issue_date=cancelled_on,
    )
    for offset in range(kept, booking.weeks):
        monday = booking.first_week + timedelta(weeks=offset)
        row = session.scalar(
            select(InventoryWeek).where(
                InventoryWeek.placement_id == booking.placement_id,
                InventoryWeek.week_start == monday,
            )
        )
        if row is not None:
            row.sold_shares -= booking.shares
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = _at(cancelled_on)
    counts["credits"] += 1
