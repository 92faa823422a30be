"""What one shop may hold at once, and which shops keep letting holds lapse.

A hold reserves shares without payment, so without limits one shop can make every week look
sold out to its rivals (issue 16 item 1). The limits are checked before a hold is written: a
ready creative (submitted or approved), a cap per placement-week and over all the shop's holds
at once, and a bound on holding the same weeks again after a hold lapsed or was cancelled
unpaid (a "renewal"). The hourly and daily count of holds is the web layer's rate limit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from marketplace.audit import SYSTEM, record
from marketplace.bookings.requests import BookingRequest
from marketplace.errors import CreativeRequired, HoldLimitExceeded
from marketplace.lifecycle import BookingStatus, CreativeStatus
from marketplace.models import Booking, Creative, CreativeVersion, Shop

# A creative in one of these states is ready enough to hold for: staff can review it in time.
READY_CREATIVE: Final = frozenset({CreativeStatus.IN_REVIEW, CreativeStatus.APPROVED})
# Holds of the same weeks count as renewals of each other within this time.
RENEWAL_WINDOW: Final = timedelta(hours=24)
# A shop whose holds lapsed unpaid this many times within the window is shown to staff.
REPEATED_EXPIRY_COUNT: Final = 3
REPEATED_EXPIRY_WINDOW: Final = timedelta(days=7)
UNPAID_ENDINGS: Final = (BookingStatus.EXPIRED, BookingStatus.CANCELLED)


@dataclass(frozen=True)
class HoldLimits:
    """Per shop: unpaid held shares of one placement-week, held share-weeks over all
    placements at once, and renewals of the same weeks within RENEWAL_WINDOW."""

    max_shares_per_week: int = 2
    max_share_weeks: int = 52
    max_renewals: int = 2

    def __post_init__(self) -> None:
        assert self.max_shares_per_week >= 1 and self.max_share_weeks >= 1
        assert self.max_renewals >= 0


@dataclass(frozen=True)
class HeldSpan:
    placement_id: int
    first_week: date
    weeks: int
    shares: int

    def week_starts(self) -> tuple[date, ...]:
        return tuple(self.first_week + timedelta(weeks=n) for n in range(self.weeks))


def over_week_limit(
    held: list[HeldSpan], request: BookingRequest, limit: int
) -> tuple[date, int] | None:
    """The first requested week where this shop's held shares plus the request pass `limit`,
    with the shares already held there; None when every week fits."""
    per_week: Counter[date] = Counter()
    for span in held:
        if span.placement_id == request.placement_id:
            for week in span.week_starts():
                per_week[week] += span.shares
    for week in request.week_starts:
        if per_week[week] + request.shares > limit:
            return week, per_week[week]
    return None


def held_share_weeks(held: list[HeldSpan]) -> int:
    return sum(span.shares * span.weeks for span in held)


def live_holds(session: Session, shop_id: int, now: datetime) -> list[HeldSpan]:
    rows = session.execute(
        select(Booking.placement_id, Booking.first_week, Booking.weeks, Booking.shares).where(
            Booking.shop_id == shop_id,
            Booking.status == BookingStatus.HELD,
            Booking.hold_expires_at > now,
        )
    ).tuples()
    return [HeldSpan(*row) for row in rows]


def has_ready_creative(session: Session, shop_id: int, creative_id: int | None) -> bool:
    """The named creative (or, with none named, any of the shop's creatives) has its latest
    version submitted for review or approved."""
    latest = (
        select(CreativeVersion.creative_id, func.max(CreativeVersion.version).label("version"))
        .group_by(CreativeVersion.creative_id)
        .subquery()
    )
    query = (
        select(CreativeVersion.id)
        .join(
            latest,
            (latest.c.creative_id == CreativeVersion.creative_id)
            & (latest.c.version == CreativeVersion.version),
        )
        .join(Creative, Creative.id == CreativeVersion.creative_id)
        .where(
            Creative.shop_id == shop_id,
            Creative.archived.is_(False),
            CreativeVersion.status.in_(READY_CREATIVE),
        )
        .limit(1)
    )
    if creative_id is not None:
        query = query.where(Creative.id == creative_id)
    return session.scalar(query) is not None


def earlier_holds_of_weeks(
    session: Session, shop_id: int, request: BookingRequest, now: datetime
) -> int:
    """Unpaid holds of this shop on any of these weeks that lapsed or were cancelled and
    began within RENEWAL_WINDOW (a hold began HOLD_DURATION before it was due to lapse)."""
    return (
        session.scalar(
            select(func.count(Booking.id)).where(
                Booking.shop_id == shop_id,
                Booking.placement_id == request.placement_id,
                Booking.status.in_(UNPAID_ENDINGS),
                Booking.confirmed_at.is_(None),
                Booking.hold_expires_at > now - RENEWAL_WINDOW,
                Booking.first_week <= request.last_week,
                Booking.last_week >= request.first_week,
            )
        )
        or 0
    )


def check_hold_limits(
    session: Session, shop_id: int, request: BookingRequest, limits: HoldLimits, now: datetime
) -> None:
    """Raise CreativeRequired or HoldLimitExceeded (naming the limit) for a hold over them."""
    if not has_ready_creative(session, shop_id, request.creative_id):
        raise CreativeRequired(field="creative_id")
    held = live_holds(session, shop_id, now)
    crowded = over_week_limit(held, request, limits.max_shares_per_week)
    if crowded is not None:
        week, already = crowded
        raise HoldLimitExceeded(
            "1つの広告枠の1週間に同時に仮押さえできるのは{limit}枠までです"
            "({week} の週はすでに{held}枠を仮押さえしています)。"
            "お支払いを済ませるか、枠数を減らしてください",
            field="shares",
            limit=limits.max_shares_per_week,
            week=week.isoformat(),
            held=already,
        )
    total = held_share_weeks(held)
    if total + request.shares * request.weeks > limits.max_share_weeks:
        raise HoldLimitExceeded(
            "同時に仮押さえできるのは合計{limit}枠・週(枠数×週数)までです"
            "(仮押さえ中 {held}、今回 {asked})。"
            "お支払いを済ませるか、不要な仮押さえを取り消してください",
            field="weeks",
            limit=limits.max_share_weeks,
            held=total,
            asked=request.shares * request.weeks,
        )
    earlier = earlier_holds_of_weeks(session, shop_id, request, now)
    if earlier > limits.max_renewals:
        raise HoldLimitExceeded(
            "同じ広告枠の同じ週を、お支払いなしで仮押さえし直せるのは24時間に{limit}回までです"
            "(すでに{count}回仮押さえし、期限切れか取り消しになっています)。"
            "お支払いの準備ができてからお申し込みください",
            field="first_week",
            limit=limits.max_renewals,
            count=earlier,
        )


@dataclass(frozen=True)
class RepeatedExpiry:
    shop_id: int
    business_name: str
    expired: int
    last_expired_at: datetime


def _expired_since(since: datetime, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Booking.status == BookingStatus.EXPIRED,
        Booking.confirmed_at.is_(None),
        Booking.hold_expires_at > since,
        Booking.hold_expires_at <= now,
    )


def note_expiry(session: Session, shop_id: int, now: datetime) -> bool:
    """After a hold of this shop lapsed: audit the shop each time its lapsed holds in the
    window reach a multiple of REPEATED_EXPIRY_COUNT. True when an entry was written."""
    count = (
        session.scalar(
            select(func.count(Booking.id)).where(
                Booking.shop_id == shop_id, *_expired_since(now - REPEATED_EXPIRY_WINDOW, now)
            )
        )
        or 0
    )
    if count == 0 or count % REPEATED_EXPIRY_COUNT:
        return False
    record(
        session,
        SYSTEM,
        "holds_repeatedly_expired",
        "shop",
        shop_id,
        shop_id=shop_id,
        expired=count,
        days=REPEATED_EXPIRY_WINDOW.days,
    )
    return True


def repeated_expiries(session: Session, now: datetime) -> list[RepeatedExpiry]:
    """Shops whose holds lapsed unpaid at least REPEATED_EXPIRY_COUNT times in the window,
    most first: staff see them on the shops page."""
    expired = func.count(Booking.id)
    rows = session.execute(
        select(Shop.id, Shop.business_name, expired, func.max(Booking.hold_expires_at))
        .join(Booking, Booking.shop_id == Shop.id)
        .where(*_expired_since(now - REPEATED_EXPIRY_WINDOW, now))
        .group_by(Shop.id, Shop.business_name)
        .having(expired >= REPEATED_EXPIRY_COUNT)
        .order_by(expired.desc(), Shop.id)
    ).tuples()
    return [
        RepeatedExpiry(shop_id, name, count, last)
        for shop_id, name, count, last in rows
        if last is not None
    ]
