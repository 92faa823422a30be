"""Booking use cases: quote, hold for 15 minutes, confirm (billing calls this), cancel.

Services take a Session and primitives; the caller owns the transaction. Any raised error
must make the caller roll back, so a failed request writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.audit import Actor, record
from marketplace.bookings.cancellation import CancellationTerms, cancellation_terms
from marketplace.bookings.holds import HoldLimits, check_hold_limits
from marketplace.bookings.requests import BookingRequest
from marketplace.calendar import tokyo_date
from marketplace.creatives.services import placement_problems
from marketplace.db import utcnow
from marketplace.delivery.forecast import Forecast, SoldBooking, forecast
from marketplace.delivery.forecast_traffic import TrafficReader, load_traffic
from marketplace.delivery.layout import HostLayout
from marketplace.errors import (
    HoldExpired,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    ReachSoldOut,
    ReachTooNarrow,
    SharesUnavailable,
    ShopNotApproved,
)
from marketplace.flyers.services import check_flyer_weeks
from marketplace.inventory import stock
from marketplace.inventory.placements import check_servable
from marketplace.inventory.pricing import Quote, RateCard, price_booking
from marketplace.inventory.targeting import Targeting, parse_targeting
from marketplace.lifecycle import (
    BOOKING_TRANSITIONS,
    SOLD_STATUSES,
    ActorKind,
    BookingStatus,
    CreativeStatus,
    MarketplaceEventKind,
    check_transition,
)
from marketplace.locking import lock_by_id
from marketplace.models import (
    Booking,
    Creative,
    CreativeVersion,
    MarketplaceEvent,
    Placement,
    Shop,
)
from marketplace.vocab import ShopStatus

HOLD_DURATION: Final = timedelta(minutes=15)
BILLING: Final = Actor(ActorKind.SYSTEM, None, "billing")


@dataclass(frozen=True)
class PricedRequest:
    placement: Placement
    quote: Quote
    availability: list[stock.WeekAvailability]
    # What the booking can really get (None: the placement has no traffic to forecast from).
    reach: Forecast | None = None

    @property
    def fits(self) -> bool:
        return all(week.free >= self.quote.shares for week in self.availability)


def rate_card(placement: Placement) -> RateCard:
    return RateCard.from_columns(
        placement.price_per_share_week_yen,
        placement.out_of_city_price_per_share_week_yen,
        placement.term_discounts,
        placement.targeting_surcharges,
    )


def active_placement(session: Session, placement_id: int) -> Placement:
    placement = session.get(Placement, placement_id)
    if placement is None or not placement.active:
        raise NotFound("広告枠が見つかりません", field="placement_id")
    return placement


def _shop(session: Session, shop_id: int) -> Shop:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("お店が見つかりません")
    return shop


def check_creative(
    session: Session,
    shop_id: int,
    creative_id: int | None,
    placement: Placement,
    weeks: tuple[date, date] | None = None,
) -> None:
    """The creative is the shop's, fits the placement and (a flyer) is shown in every week
    from `weeks[0]` to `weeks[1]` (Mondays)."""
    if creative_id is None:
        return
    creative = session.get(Creative, creative_id)
    if creative is None or creative.shop_id != shop_id or creative.archived:
        raise NotFound("広告素材が見つかりません", field="creative_id")
    latest = session.scalar(
        select(CreativeVersion)
        .where(CreativeVersion.creative_id == creative_id)
        .order_by(CreativeVersion.version.desc())
        .limit(1)
    )
    problems = placement_problems(placement, latest, creative.kind) if latest else []
    if problems:
        raise InvalidInput(
            "この素材はこの枠の規格に合いません: {problems}",
            field="creative_id",
            problems="、".join(problems),
        )
    if weeks is not None:
        check_flyer_weeks(session, creative_id, *weeks)


def quote_booking(
    session: Session,
    shop_id: int,
    request: BookingRequest,
    now: datetime | None = None,
    host: HostLayout | None = None,
    *,
    traffic: TrafficReader = load_traffic,
) -> PricedRequest:
    """Price a request and show the availability of its weeks; writes nothing.

    A placement that no page of the host (`host`) would show is refused: it cannot be sold.
    The reach forecast reads the placement's traffic through `traffic` (a web process passes
    its `RecentTraffic`).
    """
    now = now or utcnow()
    shop = _shop(session, shop_id)
    placement = active_placement(session, request.placement_id)
    check_servable(session, placement, host or HostLayout())
    check_creative(
        session,
        shop_id,
        request.creative_id,
        placement,
        (request.first_week, request.last_week),
    )
    quote = price_booking(
        rate_card(placement),
        shares=request.shares,
        weeks=request.weeks,
        in_city=shop.in_city,
        targeted_dimensions=request.targeting.dimensions,
    )
    weeks = stock.availability(session, placement, request.week_starts, now)
    layout = host or HostLayout()
    return PricedRequest(
        placement,
        quote,
        weeks,
        forecast_request(session, placement, request, layout, now, traffic=traffic),
    )


def forecast_request(
    session: Session,
    placement: Placement,
    request: BookingRequest,
    host: HostLayout,
    now: datetime,
    *,
    traffic: TrafficReader = load_traffic,
) -> Forecast | None:
    """The reach forecast of a request, against the bookings already sold in its weeks."""
    return forecast_sale(
        session,
        placement,
        request.targeting,
        request.shares,
        (request.first_week, request.last_week),
        cap=host.frequency_cap,
        now=now,
        traffic=traffic,
    )


def forecast_sale(
    session: Session,
    placement: Placement,
    targeting: Targeting,
    shares: int,
    weeks: tuple[date, date],
    *,
    cap: int,
    now: datetime,
    sold_besides: int | None = None,
    traffic: TrafficReader = load_traffic,
) -> Forecast | None:
    """The reach forecast of `shares` over the Mondays `weeks` (first, last), against the
    bookings sold in those weeks (besides booking `sold_besides`: a sold booking's own)."""
    recent = traffic(session, placement.id, now)
    if recent is None:
        return None
    first_week, last_week = weeks
    query = select(Booking.shares, Booking.targeting).where(
        Booking.placement_id == placement.id,
        Booking.status.in_(SOLD_STATUSES | {BookingStatus.HELD}),
        Booking.first_week <= last_week,
        Booking.last_week >= first_week,
    )
    if sold_besides is not None:
        query = query.where(Booking.id != sold_besides)
    sold = session.execute(query).tuples()
    return forecast(
        recent,
        targeting,
        shares=shares,
        shares_per_week=placement.shares_per_week,
        days=((last_week - first_week).days // 7 + 1) * 7,
        cap=cap,
        sold=[
            SoldBooking(other / placement.shares_per_week, parse_targeting(reached))
            for other, reached in sold
        ],
    )


def check_reach(priced: PricedRequest) -> None:
    """Refuse what cannot be delivered: too few residents, or (nearly) sold out to them."""
    reach = priced.reach
    if reach is None or not reach.refused:
        return
    if reach.suppressed:
        raise ReachTooNarrow(field="targeting")
    raise ReachSoldOut(field="shares", percent=int(100 * reach.deliverable / reach.owed))


def _same_request(booking: Booking, request: BookingRequest) -> bool:
    return (
        booking.placement_id == request.placement_id
        and booking.first_week == request.first_week
        and booking.weeks == request.weeks
        and booking.shares == request.shares
        and booking.targeting == request.targeting.to_json()
    )


def _by_idempotency_key(session: Session, shop_id: int, key: str) -> Booking | None:
    return session.scalar(
        select(Booking).where(Booking.shop_id == shop_id, Booking.idempotency_key == key)
    )


def place_hold(
    session: Session,
    shop_id: int,
    request: BookingRequest,
    idempotency_key: str,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
    host: HostLayout | None = None,
    limits: HoldLimits | None = None,
    traffic: TrafficReader = load_traffic,
) -> Booking:
    """Reserve the shares for HOLD_DURATION. Re-sending the same key returns the same booking.

    A shop's own request (the web form, the API) passes the shop's `limits` (ready creative,
    caps, renewals); the demo seed books for shops directly without them.
    """
    now = now or utcnow()
    existing = _by_idempotency_key(session, shop_id, idempotency_key)
    if existing is not None:
        if not _same_request(existing, request):
            raise IdempotencyConflict(field="idempotency_key")
        return existing
    shop = _shop(session, shop_id)
    if shop.status is not ShopStatus.APPROVED:
        raise ShopNotApproved()
    if limits is not None:
        # One hold of a shop at a time, so two concurrent requests cannot both fit the caps;
        # the shop's cancels (their events reference the shop row) are not blocked by it.
        lock_by_id(session, Shop, shop_id, key_share=True)
        check_hold_limits(session, shop_id, request, limits, now)
    priced = quote_booking(session, shop_id, request, now, host, traffic=traffic)
    check_reach(priced)
    for week in priced.availability:
        # Fail fast without queueing on the week's lock; the locked UPDATE below decides.
        if week.free < request.shares:
            raise SharesUnavailable(
                field="first_week", week=week.week_start.isoformat(), free=week.free
            )
    quote = priced.quote
    booking = Booking(
        shop_id=shop_id,
        placement_id=priced.placement.id,
        creative_id=request.creative_id,
        created_by_user_id=user_id,
        shares=request.shares,
        first_week=request.first_week,
        last_week=request.last_week,
        weeks=request.weeks,
        targeting=request.targeting.to_json(),
        status=check_transition(
            "予約", BOOKING_TRANSITIONS, BookingStatus.DRAFT, BookingStatus.HELD
        ),
        hold_expires_at=now + HOLD_DURATION,
        in_city_rate=quote.in_city,
        unit_price_yen=quote.unit_price_yen,
        list_price_yen=quote.list_price_yen,
        discount_yen=quote.discount_yen,
        surcharge_yen=quote.surcharge_yen,
        total_yen=quote.total_yen,
        tax_yen=quote.tax_yen,
        idempotency_key=idempotency_key,
    )
    try:
        # A concurrent double submit with the same key waits here on the unique index.
        with session.begin_nested():
            session.add(booking)
            session.flush()
    except IntegrityError:
        existing = _by_idempotency_key(session, shop_id, idempotency_key)
        if existing is None:
            raise
        if not _same_request(existing, request):
            raise IdempotencyConflict(field="idempotency_key") from None
        return existing
    assert booking.hold_expires_at is not None
    stock.hold_shares(
        session,
        priced.placement,
        booking.id,
        request.week_starts,
        request.shares,
        now,
        booking.hold_expires_at,
    )
    return booking


def shop_booking(session: Session, shop_id: int, booking_id: int) -> Booking:
    """A booking of this shop; another shop's booking is reported as not found."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.shop_id != shop_id:
        raise NotFound("予約が見つかりません")
    return booking


def lock_booking(session: Session, booking_id: int, shop_id: int | None = None) -> Booking:
    booking = lock_by_id(session, Booking, booking_id)
    if booking is None or (shop_id is not None and booking.shop_id != shop_id):
        raise NotFound("予約が見つかりません")
    return booking


def creative_is_approved(session: Session, creative_id: int | None) -> bool:
    if creative_id is None:
        return False
    return (
        session.scalar(
            select(CreativeVersion.id).where(
                CreativeVersion.creative_id == creative_id,
                CreativeVersion.status == CreativeStatus.APPROVED,
            )
        )
        is not None
    )


def confirm_booking(
    session: Session,
    booking_id: int,
    *,
    shop_id: int | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Booking:
    """Turn a hold into a sale when the shop pays or accepts an invoice.

    Idempotent: confirming an already confirmed booking returns it unchanged. A hold that has
    lapsed is still confirmed if its shares are free; otherwise HoldExpired.
    """
    now = now or utcnow()
    booking = lock_booking(session, booking_id, shop_id)
    if booking.status in SOLD_STATUSES or booking.status is BookingStatus.COMPLETED:
        return booking
    if booking.status is BookingStatus.EXPIRED:
        raise HoldExpired()
    target = (
        BookingStatus.SCHEDULED
        if creative_is_approved(session, booking.creative_id)
        else BookingStatus.IN_REVIEW
    )
    check_transition("予約", BOOKING_TRANSITIONS, booking.status, target)
    placement = session.get_one(Placement, booking.placement_id)
    try:
        stock.sell_held_shares(
            session,
            placement,
            booking.id,
            stock.week_range(booking.first_week, booking.weeks),
            booking.shares,
            now,
        )
    except SharesUnavailable as exc:
        raise HoldExpired() from exc
    booking.status = target
    booking.confirmed_at = now
    session.add(
        MarketplaceEvent(
            kind=MarketplaceEventKind.BOOKING_CONFIRMED,
            booking_id=booking.id,
            shop_id=booking.shop_id,
            payload={"total_yen": booking.total_yen, "tax_yen": booking.tax_yen},
            occurred_at=now,
        )
    )
    record(
        session,
        actor or BILLING,
        "booking_confirmed",
        "booking",
        booking.id,
        shop_id=booking.shop_id,
        total_yen=booking.total_yen,
    )
    session.flush()
    return booking


def cancel_booking(
    session: Session,
    booking_id: int,
    actor: Actor,
    *,
    shop_id: int | None = None,
    by_city: bool = False,
    reason: str = "",
    now: datetime | None = None,
) -> tuple[Booking, CancellationTerms]:
    """Cancel under the stated policy, give unstarted weeks back and emit an event for billing."""
    now = now or utcnow()
    booking = lock_booking(session, booking_id, shop_id)
    previous = booking.status
    check_transition("予約", BOOKING_TRANSITIONS, previous, BookingStatus.CANCELLED)
    paid = previous in SOLD_STATUSES
    terms = cancellation_terms(
        weeks=tuple(stock.week_range(booking.first_week, booking.weeks)),
        total_yen=booking.total_yen,
        paid=paid,
        today=tokyo_date(now),
        by_city=by_city,
    )
    placement = session.get_one(Placement, booking.placement_id)
    stock.release_shares(
        session,
        placement,
        booking.id,
        terms.released_weeks if paid else stock.week_range(booking.first_week, booking.weeks),
        booking.shares,
        sold=paid,
        now=now,
    )
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.status_reason = reason.strip()[:1000]
    session.add(
        MarketplaceEvent(
            kind=MarketplaceEventKind.BOOKING_CANCELLED,
            booking_id=booking.id,
            shop_id=booking.shop_id,
            refund_yen=terms.refund_yen,
            payload={
                "previous_status": previous.value,
                "paid": paid,
                "by_city": by_city,
                "refunded_weeks": [week.isoformat() for week in terms.refunded_weeks],
                "total_yen": booking.total_yen,
                "reason": booking.status_reason,
            },
            occurred_at=now,
        )
    )
    record(
        session,
        actor,
        "booking_cancelled",
        "booking",
        booking.id,
        shop_id=booking.shop_id,
        reason=booking.status_reason,
        refund_yen=terms.refund_yen,
    )
    session.flush()
    return booking, terms
