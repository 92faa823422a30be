"""Two fiscal years of realistic history for the demo city, through the real billing services.

`seed_history` books placements for the city's shops week by week, issues each booking's
qualified invoice, records bank transfers (some late, some still unpaid), cancels a few bookings
part-way with a credit note, and recognises revenue up to `today`, all with billing's own
functions. Each booking carries an approved creative of its shop, as the shop's own review would
have given it, so weeks that have passed are completed and current ones live (never left
「素材審査中」), so the dashboard, shop reports and transparency page show figures that agree with
the books. Deterministic for a given seed. Idempotent: a database with history is left alone.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.costs import SYSTEM, rule_history, set_rule
from analytics.seeds import seed_services
from billing.bookings import accept_invoice, process_cancellations, run_month_end
from billing.config import BillingConfig
from billing.models import Invoice
from billing.payments import invoice_position, record_bank_transfer
from billing.recognition import next_month, recognise_revenue
from marketplace.audit import SYSTEM as AUDIT_SYSTEM
from marketplace.bookings.controls import advance_schedule
from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import cancel_booking, place_hold
from marketplace.calendar import TOKYO, fiscal_year, fiscal_year_bounds, week_start
from marketplace.errors import MarketplaceError
from marketplace.inventory.targeting import Targeting
from marketplace.lifecycle import CreativeStatus
from marketplace.models import Creative, CreativeVersion, Placement, Shop
from marketplace.vocab import DISTRICTS, SHOP_CATEGORIES, ShopStatus
from portal_plugin.demo.campaigns import card_image
from portal_plugin.demo.inventory import seed_inventory


@dataclass(frozen=True)
class HistorySummary:
    bookings: int
    invoices: int
    payments: int
    credit_notes: int
    recognised_revenue: int
    skipped: bool = False


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


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TOKYO)


@dataclass(order=True)
class _Step:
    day: date
    order: int
    kind: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False, default_factory=dict)


@dataclass
class _Run:
    """What every step of the history needs: the books, the dice, the diary, the tallies."""

    session: Session
    config: BillingConfig
    rng: random.Random
    calendar: _Calendar
    today: date
    counts: dict[str, int]
    creatives: dict[tuple[int, int], int] = field(default_factory=dict)  # (shop, placement)


class _Calendar:
    """Things that happen on given days, done in date order (the ledger is written as it goes)."""

    def __init__(self) -> None:
        self.steps: list[_Step] = []
        self.counter = 0

    def add(self, day: date, kind: str, **payload: Any) -> None:
        self.counter += 1
        heapq.heappush(self.steps, _Step(day, self.counter, kind, payload))

    def pop(self) -> _Step | None:
        return heapq.heappop(self.steps) if self.steps else None


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
    # Invoices, not bookings, mark a seeded history: the demo's live campaigns come first.
    if session.scalar(select(func.count()).select_from(Invoice)):
        return HistorySummary(0, 0, 0, 0, 0, skipped=True)
    rng = random.Random(seed)
    current_year = fiscal_year(today)
    first_year = current_year - years + 1
    seed_services(session, range(first_year - 1, current_year + 1))
    if not rule_history(session):
        # The demo city pays the snow-plough map first: the service residents ask about most.
        set_rule(session, "priority", ["snow-plough", "maternal-health"], SYSTEM)
    placements = seed_inventory(session)  # marketplace's demo rate card
    shop_rows = _shops(session, rng, shops)
    start, _ = fiscal_year_bounds(first_year)
    calendar = _Calendar()
    monday = week_start(start) + timedelta(weeks=3)
    horizon = week_start(today) + timedelta(weeks=10)
    while monday <= horizon:
        # Demand grows over the two years as more shops learn about the portal.
        growth = 1 + (monday - start).days / 365
        for _ in range(rng.choices([0, 1, 2, 3, 4], weights=[1, 3, 4, 2, int(2 * growth)])[0]):
            booked_on = monday - timedelta(days=rng.randint(8, 20))
            if booked_on <= today:
                calendar.add(
                    booked_on,
                    "book",
                    placement=rng.choice(placements),
                    shop=rng.choice(shop_rows),
                    first_week=monday,
                    weeks=rng.choice([4, 4, 8, 13, 13, 26]),
                    shares=rng.choice([1, 1, 1, 2]),
                )
        monday += timedelta(weeks=1)
    month = start
    while month <= today:
        closing = next_month(month) - timedelta(days=1)
        if closing <= today:
            calendar.add(closing, "month_end")
        month = next_month(month)
    counts = {"bookings": 0, "invoices": 0, "payments": 0, "credits": 0}
    run = _Run(session, config, rng, calendar, today, counts)
    while (step := calendar.pop()) is not None:
        _run(run, step)
    advance_schedule(session, _at(today))  # scheduled weeks that have come or gone
    result = recognise_revenue(session, today)
    return HistorySummary(
        counts["bookings"], counts["invoices"], counts["payments"], counts["credits"], result.amount
    )


def _run(run: _Run, step: _Step) -> None:
    session, config, counts = run.session, run.config, run.counts
    if step.kind == "book":
        _book(run, step)
    elif step.kind == "month_end":
        for invoice in run_month_end(session, config, step.day).invoices:
            counts["invoices"] += 1
            _schedule_payment(run, invoice.id, step.day)
    elif step.kind == "pay":
        invoice = session.get_one(Invoice, step.payload["invoice_id"])
        owed = invoice_position(session, invoice.id).outstanding
        if owed > 0:
            record_bank_transfer(
                session, invoice, owed, reference=f"D{invoice.id:06d}", value_date=step.day
            )
            counts["payments"] += 1
    elif step.kind == "cancel":
        booking_id = step.payload["booking_id"]
        cancel_booking(
            session, booking_id, AUDIT_SYSTEM, reason="お客様都合による途中解約", now=_at(step.day)
        )
        counts["credits"] += process_cancellations(session, config, gateway=None, today=step.day)


def _schedule_payment(run: _Run, invoice_id: int, issued: date) -> None:
    roll = run.rng.random()
    if roll < 0.9:
        # Most shops pay by transfer within the month; some pay late, a few not yet.
        paid_on = issued + timedelta(days=run.rng.randint(3, 25 if roll < 0.8 else 75))
        if paid_on <= run.today:
            run.calendar.add(paid_on, "pay", invoice_id=invoice_id)


def _book(run: _Run, step: _Step) -> None:
    session, counts = run.session, run.counts
    shop: Shop = step.payload["shop"]
    placement: Placement = step.payload["placement"]
    first_week: date = step.payload["first_week"]
    weeks: int = step.payload["weeks"]
    now = _at(step.day)
    request = BookingRequest(
        placement_id=placement.id,
        first_week=first_week,
        weeks=weeks,
        shares=step.payload["shares"],
        targeting=Targeting(),
        creative_id=_creative(run, shop, placement, now),
    )
    try:
        with session.begin_nested():
            hold = place_hold(
                session, shop.id, request, f"demo-{counts['bookings']}-{step.order}", now=now
            )
            invoice = accept_invoice(session, run.config, hold.id, shop_id=shop.id, now=now)
    except MarketplaceError:
        return  # sold out: a real shop would have picked other weeks
    counts["bookings"] += 1
    counts["invoices"] += 1
    _schedule_payment(run, invoice.id, step.day)
    if weeks >= 8 and run.rng.random() < 0.08:
        cancel_on = first_week + timedelta(weeks=weeks // 2) - timedelta(days=3)
        if cancel_on <= run.today:
            run.calendar.add(cancel_on, "cancel", booking_id=hold.id)


# What a shop of each category says in its banner: (headline after the shop's name, body, colour).
SHOP_COPY: dict[str, tuple[str, str, str]] = {
    "restaurant": ("のランチ", "地元の食材で作る日替わり定食をどうぞ。", "#b45309"),
    "sake-brewery": ("の地酒", "会津の米と水で仕込んだお酒をご用意しています。", "#1d4ed8"),
    "confectionery": ("の銘菓", "贈り物やお土産に、季節の和菓子をどうぞ。", "#a16207"),
    "lacquerware": ("の会津塗", "職人の手仕事の器と箸を取りそろえています。", "#7f1d1d"),
    "retail": ("のお買い得情報", "毎日の暮らしの品を、お求めやすく。", "#15803d"),
    "beauty": ("のご予約受付中", "カットやカラーのご相談はお気軽に。", "#9d174d"),
    "clinic": ("の健康相談", "かかりつけとして、気になることをご相談ください。", "#0f766e"),
    "childcare": ("の体験教室", "お子さまの習い事、無料体験を受け付けています。", "#be185d"),
    "education": ("の無料体験授業", "一人ひとりに合わせて指導します。", "#4338ca"),
    "real-estate": ("の住まい探し", "市内の賃貸・売買物件をご案内します。", "#334155"),
    "auto": ("の冬タイヤ交換", "点検とタイヤ交換のご予約を承ります。", "#1e3a8a"),
    "construction": ("のリフォーム相談", "雪囲いや屋根の修理もお任せください。", "#475569"),
    "hotel": ("のご宿泊プラン", "温泉と会津の郷土料理でおもてなしします。", "#92400e"),
    "services": ("のくらしのサービス", "クリーニングや配達のご用命をどうぞ。", "#0e7490"),
    "agriculture": ("の朝どれ野菜", "農家直送の新鮮な野菜と果物です。", "#3f6212"),
}
DEFAULT_COPY = ("のご案内", "地域のお店です。お気軽にお立ち寄りください。", "#334155")


def _creative(run: _Run, shop: Shop, placement: Placement, now: datetime) -> int:
    """The shop's approved creative for this placement, made the first time it books there."""
    key = (shop.id, placement.id)
    found = run.creatives.get(key)
    if found is not None:
        return found
    tail, body, colour = SHOP_COPY.get(shop.category, DEFAULT_COPY)
    headline = (shop.business_name + tail)[: placement.headline_max_chars]
    creative = Creative(shop_id=shop.id, name=headline[:40])
    run.session.add(creative)
    run.session.flush()
    image = card_image(colour, placement.image_width, placement.image_height, headline)
    run.session.add(
        CreativeVersion(
            creative_id=creative.id, version=1, headline=headline,
            body=body[: placement.body_max_chars], landing_url=f"https://example.jp/shops/{shop.id}",
            image_data=image, image_content_type="image/png", image_width=placement.image_width,
            image_height=placement.image_height, image_sha256=hashlib.sha256(image).hexdigest(),
            status=CreativeStatus.APPROVED, submitted_at=now, decided_at=now,
        )
    )  # fmt: skip
    run.session.flush()
    run.creatives[key] = creative.id
    return creative.id
