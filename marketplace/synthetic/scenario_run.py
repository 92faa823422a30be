"""Run a delivery scenario (scenario.py) through the real delivery service.

A synthetic city is written to a real database (residents, articles, their reading history),
with the scenario's placements, shops, approved creatives and bookings. Simulated workers are
real `DeliveryService`s, each with its own event writer and worker id, that share state only
through that database, as deployed workers do: they serve the city's feed opens (a realistic
daily curve, `traffic.visit_schedule`), write their offers, impressions and slot counts, and
refresh from the database on a simulated clock. Staff pauses and resumes, late approvals and
disaster mode go through the marketplace's own services; a scripted restart replaces a worker
by a fresh one (new worker id, empty memory), as a redeploy does.

A day of traffic before the start (nothing live yet) gives the placements a history, from
which each booking gets the reach forecast its quote would have shown (delivery/forecast.py).

Delivery is measured with the one measure (`delivery/measured.py`: valid impressions over
the seen eligible slots, from the hourly rollups), and make-goods priced as billing prices them
(`DeliveryMeasure.credit_yen` on what the booking paid for the simulated days).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marketplace.audit import SYSTEM
from marketplace.bookings.controls import on_creative_approved, pause_booking, resume_booking
from marketplace.calendar import start_of_tokyo_day
from marketplace.db import make_session_factory
from marketplace.delivery.events import OpportunityEvent, hour_start
from marketplace.delivery.feed_policy import FeedRules
from marketplace.delivery.forecast import Forecast, SoldBooking, forecast
from marketplace.delivery.forecast_traffic import load_traffic
from marketplace.delivery.measure import DeliveryMeasure
from marketplace.delivery.measured import measure_booking
from marketplace.delivery.models import DeliveryRollup, EligibleSlotRollup
from marketplace.delivery.relevance import AdRelevance, RelevanceScorer
from marketplace.delivery.rollups import roll_up_hour
from marketplace.delivery.service import (
    DeliveryService,
    ServedAd,
    TrackingContext,
)
from marketplace.delivery.tracking import TokenSigner
from marketplace.delivery.types import Audience, reaches
from marketplace.delivery.writer import EventWriter
from marketplace.inventory.pricing import DEFAULT_TARGETING_SURCHARGES, RateCard, price_booking
from marketplace.lifecycle import BookingStatus, CreativeStatus, PlacementKind
from marketplace.models import Article, Booking, Creative, CreativeVersion, Placement, Shop
from marketplace.switches import set_disaster_mode
from marketplace.synthetic import SyntheticCity, generate_city
from marketplace.synthetic.ad_appeal import AdAppeal, draw_ad_appeal
from marketplace.synthetic.loader import load_city
from marketplace.synthetic.scenario import Scenario, ScenarioError
from marketplace.synthetic.traffic import city_audiences, visit_schedule
from marketplace.vocab import ShopStatus

FIRST_DAY = date(2026, 11, 2)  # a Monday
HISTORY_DAYS = 28
WARM_UP_DAYS = 1
FEED_SIZE = 10
LIVE_ARTICLES = 40
REFERENCE_RESIDENTS = 1500
UNIT_PRICE_YEN = 2_750
# Hours in which a booking was owed fewer impressions than this are too small to judge its
# hourly rate by (one impression more or less would swing it by half).
MIN_EXPECTED_PER_HOUR = 10.0
BROWSER = TrackingContext(bot=False, staff=False, rate_limited=False, ip_prefix="192.0.2.0")

ScorerFactory = Callable[[SyntheticCity], RelevanceScorer]


@dataclass(frozen=True)
class SimBooking:
    """A scenario booking as written to the database."""

    key: str
    booking_id: int
    placement_id: int
    share: Fraction
    live_from: datetime
    live_until: datetime
    billed_yen: int  # what the shop paid for [live_from, live_until)


def measure(session: Session, booking: SimBooking) -> DeliveryMeasure:
    """The one delivery measure (delivery/measured.py) of the booking up to its live end."""
    return measure_booking(
        session, session.get_one(Booking, booking.booking_id), until=booking.live_until
    )


@dataclass(frozen=True)
class BookingOutcome:
    booking_id: str
    share_bought: float
    forecast_share: float
    forecast_limit: str | None
    share_delivered: float
    deviation: float
    max_hourly_rate_ratio: float
    make_good_yen: int
    billed_yen: int
    impressions: int
    slots: int
    expected_clicks: float
    rotation_expected_clicks: float

    @property
    def shortfall_yen(self) -> int:
        """The shortfall priced at the booking's rate: billed × (bought − delivered) / bought."""
        if self.share_delivered >= self.share_bought:
            return 0
        return int(self.billed_yen * (1 - self.share_delivered / self.share_bought))


@dataclass(frozen=True)
class ScenarioResult:
    bookings: tuple[BookingOutcome, ...]
    max_abs_deviation: float
    ctr_lift: float
    feeds: int

    def as_json(self) -> dict[str, object]:
        return {
            "bookings": [
                {
                    "booking_id": b.booking_id,
                    "share_bought": round(b.share_bought, 6),
                    "forecast_share": round(b.forecast_share, 6),
                    "forecast_limit": b.forecast_limit,
                    "share_delivered": round(b.share_delivered, 6),
                    "deviation": round(b.deviation, 6),
                    "max_hourly_rate_ratio": round(b.max_hourly_rate_ratio, 4),
                    "make_good_yen": b.make_good_yen,
                    "impressions": b.impressions,
                    "slots": b.slots,
                }
                for b in self.bookings
            ],
            "max_abs_deviation": round(self.max_abs_deviation, 6),
            "ctr_lift": round(self.ctr_lift, 4),
            "feeds": self.feeds,
        }


class _SimWriter(EventWriter):
    """The real writer, written from the simulation's loop (no thread: the clock is simulated);
    it remembers the slots each feed opened, for the rotation baseline."""

    opened: list[OpportunityEvent]

    def __init__(self, engine: Engine, spool: Path, worker_id: str) -> None:
        super().__init__(engine, spool, worker_id=worker_id)
        self.opened = []

    def submit(self, event: object) -> None:  # type: ignore[override]
        if isinstance(event, OpportunityEvent):
            self.opened.append(event)
        super().submit(event)  # type: ignore[arg-type]


class _Workers:
    def __init__(
        self,
        engine: Engine,
        spool: Path,
        scorer: RelevanceScorer,
        reference: Sequence[Audience],
        rules: FeedRules,
        count: int,
    ) -> None:
        self.engine = engine
        self._spool = spool
        self._scorer = scorer
        self._relevance = AdRelevance(scorer, reference)
        self._rules = rules
        self._starts = 0
        self._rolled_until: datetime | None = None  # the hours before it are rolled up
        self.services = [self._start(n) for n in range(count)]

    def _start(self, n: int) -> DeliveryService:
        self._starts += 1
        writer = _SimWriter(self.engine, self._spool, f"sim-{n}-{self._starts}")
        service = DeliveryService(
            make_session_factory(self.engine),
            writer,
            TokenSigner("s" * 40),
            "r" * 40,
            self._scorer,
            rules=self._rules,
        )
        service.use_scorer(self._scorer, self._relevance, "simulation")
        return service

    def restart(self, n: int, now: datetime) -> None:
        old = self.services[n]
        self._write(old)  # a graceful stop reports its counts and drains the queue
        self.services[n] = fresh = self._start(n)
        fresh.refresh(now)

    def tick(self, now: datetime) -> None:
        # Every event so far goes into the database.
        for service in self.services:
            self._write(service)
        # Deployed workers re-roll the last hours every ROLLUP_SECONDS, for events that land
        # late. Here nothing lands late, and pacing reads only the hours before this one: the
        # hours that ended are rolled up once, complete, when the next begins.
        hour = hour_start(now)
        if self._rolled_until != hour:
            self.services[0].roll_up(now, hours=1)
            self._rolled_until = hour
        for service in self.services:
            service.refresh(now)

    def drain(self) -> None:
        for service in self.services:
            self._write(service)

    @staticmethod
    def _write(service: DeliveryService) -> None:
        """The worker's eligible slots counted so far handed to its writer (as its refresh
        does), and everything queued written."""
        for count in service.ledger.drain_eligible():
            service.writer.submit(count)
        service.writer.write_queued()


def run_scenario(
    scenario: Scenario,
    engine: Engine,
    scorer_factory: ScorerFactory,
    spool: Path,
    *,
    refresh_seconds: float = 60.0,
) -> ScenarioResult:
    """Run `scenario` on `engine` (a migrated, empty database); see the module docstring."""
    start = start_of_tokyo_day(FIRST_DAY)
    warm_up = start - timedelta(days=WARM_UP_DAYS)
    end = start + timedelta(days=scenario.days)
    city = generate_city(
        scenario.residents,
        n_articles=600,
        n_shops=50,
        days=HISTORY_DAYS,
        seed=scenario.seed,
        end=warm_up,
    )
    rng = np.random.default_rng(scenario.seed + 1)
    appeal = draw_ad_appeal(city.ground_truth, [b.category for b in scenario.bookings], rng)
    with Session(engine) as session, session.begin():
        load_city(session, city)
        # The newest articles stay live: the feed needs a page of them, not the archive.
        newest = select(Article.id).order_by(Article.published_at.desc()).limit(LIVE_ARTICLES)
        session.execute(update(Article).where(Article.id.not_in(newest)).values(expires_at=warm_up))
        booked = _write_bookings(session, scenario, appeal, start)
    audiences = city_audiences(city)
    picks = rng.choice(len(audiences), size=min(len(audiences), REFERENCE_RESIDENTS), replace=False)
    reference = [audiences[i] for i in picks if audiences[i].consent]
    rules = FeedRules(frequency_cap_per_day=scenario.frequency_cap)
    workers = _Workers(engine, spool, scorer_factory(city), reference, rules, scenario.workers)
    index = {external: i for i, external in enumerate(city.residents["external_id"])}
    column = {b.booking_id: n for n, b in enumerate(booked)}
    clicks = appeal.click_probability(np.arange(scenario.residents))  # (residents, bookings)

    # Residents come as often as they read before: the history the forecast learns from.
    activity = np.bincount(
        city.events["resident_idx"].to_numpy(), minlength=scenario.residents
    ).astype(np.float64)
    visits = visit_schedule(rng, scenario.residents, FIRST_DAY - timedelta(days=WARM_UP_DAYS),
                            WARM_UP_DAYS + math.ceil(scenario.days), activity=activity)  # fmt: skip
    controls = _controls(scenario, booked, start)
    forecasts: dict[int, Forecast] = {}
    personal = np.zeros(len(booked))
    rotation_sum = np.zeros(len(booked))
    rotation_slots = np.zeros(len(booked))
    live = _Liveness(scenario, booked, start)
    next_tick: datetime | None = None
    feeds = 0
    for visit in visits:
        if visit.at >= end:
            break
        if not forecasts and visit.at >= start:
            workers.drain()
            forecasts = _forecasts(engine, scenario, booked, start)
        while controls and controls[0][0] <= visit.at:
            _, action = controls.pop(0)
            action(workers)
        if next_tick is None or visit.at >= next_tick:
            workers.tick(visit.at)
            next_tick = visit.at + timedelta(seconds=refresh_seconds)
        worker = workers.services[int(rng.integers(len(workers.services)))]
        audience = audiences[visit.resident_idx]
        writer = worker.writer
        assert isinstance(writer, _SimWriter)
        writer.opened.clear()
        served = worker.feed(audience, FEED_SIZE, visit.at)
        feeds += 1
        resident = index[audience.key]
        for event in writer.opened:
            for n, booking in enumerate(booked):
                if booking.placement_id == event.placement_id and live.reaches(
                    n, audience, visit.at
                ):
                    rotation_sum[n] += event.slots * clicks[resident, n]
                    rotation_slots[n] += event.slots
        for item in served.items:
            if isinstance(item, ServedAd):
                offer = worker.read_impression(item.impression_token)
                worker.impression(offer, BROWSER, visit.at)
                personal[column[offer.booking_id]] += clicks[resident, column[offer.booking_id]]
    workers.drain()
    if not forecasts:
        forecasts = _forecasts(engine, scenario, booked, start)
    with Session(engine) as session, session.begin():
        hour = warm_up
        while hour < end:
            roll_up_hour(session, hour)
            hour += timedelta(hours=1)
    outcomes = []
    with Session(engine) as session:
        for n, booking in enumerate(booked):
            outcomes.append(
                _outcome(
                    session,
                    booking,
                    forecasts[booking.booking_id],
                    personal[n],
                    rotation_sum[n] / rotation_slots[n] if rotation_slots[n] else 0.0,
                )
            )
    personal_clicks = sum(o.expected_clicks for o in outcomes)
    rotation_clicks = sum(o.rotation_expected_clicks for o in outcomes)
    return ScenarioResult(
        bookings=tuple(outcomes),
        max_abs_deviation=max(abs(o.deviation) for o in outcomes),
        ctr_lift=personal_clicks / rotation_clicks if rotation_clicks else 0.0,
        feeds=feeds,
    )


def _outcome(
    session: Session,
    booking: SimBooking,
    predicted: Forecast,
    expected_clicks: float,
    rotation_ctr: float,
) -> BookingOutcome:
    measured = measure(session, booking)
    bought = float(booking.share)
    target = min(bought, predicted.share)
    delivered = float(measured.share_delivered or 0)
    return BookingOutcome(
        booking_id=booking.key,
        share_bought=bought,
        forecast_share=predicted.share,
        forecast_limit=None if predicted.limit is None else predicted.limit.value,
        share_delivered=delivered,
        deviation=delivered / target - 1 if target else 0.0,
        max_hourly_rate_ratio=_max_hourly_ratio(session, booking, target * measured.view_rate),
        make_good_yen=measured.credit_yen(booking.billed_yen),
        billed_yen=booking.billed_yen,
        impressions=measured.impressions,
        slots=measured.eligible_slots,
        expected_clicks=expected_clicks,
        rotation_expected_clicks=measured.impressions * rotation_ctr,
    )


def _max_hourly_ratio(session: Session, booking: SimBooking, rate: Fraction | float) -> float:
    """The booking's highest hourly delivery over its even rate (the target share of that
    hour's seen eligible slots), over the hours owed at least MIN_EXPECTED_PER_HOUR."""
    window = (booking.live_from, booking.live_until)
    eligible = dict(
        session.execute(
            select(EligibleSlotRollup.hour_start, EligibleSlotRollup.slots).where(
                EligibleSlotRollup.booking_id == booking.booking_id,
                EligibleSlotRollup.hour_start >= window[0],
                EligibleSlotRollup.hour_start < window[1],
            )
        )
        .tuples()
        .all()
    )
    shown = dict(
        session.execute(
            select(DeliveryRollup.hour_start, func.sum(DeliveryRollup.impressions))
            .where(
                DeliveryRollup.booking_id == booking.booking_id,
                DeliveryRollup.hour_start >= window[0],
                DeliveryRollup.hour_start < window[1],
            )
            .group_by(DeliveryRollup.hour_start)
        )
        .tuples()
        .all()
    )
    ratios = [
        int(shown.get(hour) or 0) / (float(rate) * slots)
        for hour, slots in eligible.items()
        if float(rate) * slots >= MIN_EXPECTED_PER_HOUR
    ]
    return max(ratios, default=0.0)


def _forecasts(
    engine: Engine, scenario: Scenario, booked: Sequence[SimBooking], start: datetime
) -> dict[int, Forecast]:
    """What each booking's quote would have said at the start, the earlier bookings sold."""
    found: dict[int, Forecast] = {}
    with Session(engine) as session:
        for n, (spec, booking) in enumerate(zip(scenario.bookings, booked, strict=True)):
            traffic = load_traffic(session, booking.placement_id, start)
            if traffic is None:
                raise ScenarioError(f"bookings.{n}", "its placement opened no slot to forecast")
            sold = [
                SoldBooking(float(other.share), scenario.bookings[m].parsed_targeting)
                for m, other in enumerate(booked[:n])
                if other.placement_id == booking.placement_id
            ]
            placement = scenario.placement(spec.placement)
            found[booking.booking_id] = forecast(
                traffic,
                spec.parsed_targeting,
                shares=spec.shares,
                shares_per_week=placement.shares,
                days=(booking.live_until - booking.live_from).total_seconds() / 86_400,
                cap=scenario.frequency_cap,
                sold=sold,
            )
    return found


class _Liveness:
    """Whether a booking is live (started, not ended, not paused, no disaster) and reaches a
    viewer: the slots it could have had, for the rotation baseline."""

    def __init__(self, scenario: Scenario, booked: Sequence[SimBooking], start: datetime) -> None:
        self._windows = []
        for spec, booking in zip(scenario.bookings, booked, strict=True):
            off = [
                (start + _days(a), start + _days(b)) for a, b in [*spec.pauses, *scenario.disaster]
            ]
            self._windows.append(
                (booking.live_from, booking.live_until, off, spec.parsed_targeting)
            )

    def reaches(self, n: int, audience: Audience, at: datetime) -> bool:
        live_from, live_until, off, targeting = self._windows[n]
        if not live_from <= at < live_until or any(a <= at < b for a, b in off):
            return False
        return reaches(targeting, audience)


Action = Callable[[_Workers], None]


def _controls(
    scenario: Scenario, booked: Sequence[SimBooking], start: datetime
) -> list[tuple[datetime, Action]]:
    """Staff and operator actions at their moments: late approvals, pauses, disaster mode,
    restarts; each goes through the marketplace's own service in its own transaction."""
    actions: list[tuple[datetime, Action]] = []

    def in_transaction(step: Callable[[Session, datetime], object], at: datetime) -> Action:
        def act(workers: _Workers) -> None:
            with Session(workers.engine) as session, session.begin():
                step(session, at)

        return act

    for spec, booking in zip(scenario.bookings, booked, strict=True):
        if spec.start_day > 0:
            at = start + _days(spec.start_day)
            actions.append((at, in_transaction(_approver(booking.booking_id), at)))
        for pause_from, pause_until in spec.pauses:
            at = start + _days(pause_from)
            actions.append((at, in_transaction(_pauser(booking.booking_id), at)))
            back = start + _days(pause_until)
            actions.append((back, in_transaction(_resumer(booking.booking_id), back)))
    for disaster_from, disaster_until in scenario.disaster:
        at = start + _days(disaster_from)
        actions.append((at, in_transaction(_disaster(True), at)))
        back = start + _days(disaster_until)
        actions.append((back, in_transaction(_disaster(False), back)))
    for worker, day in scenario.restarts:
        at = start + _days(day)
        actions.append((at, _restarter(worker, at)))
    actions.sort(key=lambda pair: pair[0])
    return actions


def _approver(booking_id: int) -> Callable[[Session, datetime], object]:
    """The reviewer approves the creative late: the booking goes live mid-week."""

    def approve(session: Session, at: datetime) -> object:
        creative_id = session.get_one(Booking, booking_id).creative_id
        assert creative_id is not None
        session.execute(
            CreativeVersion.__table__.update()  # type: ignore[attr-defined]
            .where(CreativeVersion.creative_id == creative_id)
            .values(status=CreativeStatus.APPROVED)
        )
        return on_creative_approved(session, creative_id, at)

    return approve


def _pauser(booking_id: int) -> Callable[[Session, datetime], object]:
    return lambda session, at: pause_booking(session, booking_id, SYSTEM, "シナリオの停止", at)


def _resumer(booking_id: int) -> Callable[[Session, datetime], object]:
    return lambda session, at: resume_booking(session, booking_id, SYSTEM, at)


def _disaster(enabled: bool) -> Callable[[Session, datetime], object]:
    return lambda session, at: set_disaster_mode(session, SYSTEM, enabled, "訓練", at)


def _restarter(worker: int, at: datetime) -> Action:
    return lambda workers: workers.restart(worker, at)


def _days(days: float) -> timedelta:
    return timedelta(seconds=round(days * 86_400))


def _write_bookings(
    session: Session, scenario: Scenario, appeal: AdAppeal, start: datetime
) -> list[SimBooking]:
    placements: dict[str, Placement] = {}
    for kind in scenario.placements:
        placement = Placement(
            code=kind.key,
            name=f"シナリオ枠 {kind.key}",
            kind=PlacementKind.SIDE_GADGET if kind.side else PlacementKind.IN_FEED,
            feed_position=kind.feed_position,
            image_width=600,
            image_height=314,
            max_image_bytes=300_000,
            headline_max_chars=40,
            body_max_chars=80,
            shares_per_week=kind.shares,
            price_per_share_week_yen=UNIT_PRICE_YEN,
            out_of_city_price_per_share_week_yen=UNIT_PRICE_YEN,
            term_discounts=[],
            targeting_surcharges=dict(DEFAULT_TARGETING_SURCHARGES),
        )
        session.add(placement)
        placements[kind.key] = placement
    session.flush()
    booked = []
    for n, spec in enumerate(scenario.bookings):
        placement = placements[spec.placement]
        shop = Shop(
            business_name=f"シナリオ商店{n + 1}",
            category=spec.category,
            district="tsuruga",
            in_city=True,
            contact_name="会津 太郎",
            contact_email=f"scenario{n + 1}@example.jp",
            status=ShopStatus.APPROVED,
        )
        session.add(shop)
        session.flush()
        creative = Creative(shop_id=shop.id, name=spec.id)
        session.add(creative)
        session.flush()
        late = spec.start_day > 0
        session.add(
            CreativeVersion(
                creative_id=creative.id, version=1, headline=appeal.headlines[n], body="",
                landing_url=f"https://shop{shop.id}.example.jp/", image_data=b"",
                image_content_type="image/png", image_width=600, image_height=314,
                image_sha256="0" * 64,
                status=CreativeStatus.IN_REVIEW if late else CreativeStatus.APPROVED,
            )
        )  # fmt: skip
        live_from = start + _days(spec.start_day)
        live_until = start + _days(scenario.end_of(spec))
        first_week = FIRST_DAY + timedelta(weeks=int(spec.start_day // 7))
        weeks = max(1, math.ceil((spec.end_day or scenario.days) / 7) - int(spec.start_day // 7))
        quote = price_booking(
            RateCard(UNIT_PRICE_YEN, UNIT_PRICE_YEN, (), DEFAULT_TARGETING_SURCHARGES),
            shares=spec.shares,
            weeks=weeks,
            in_city=True,
            targeted_dimensions=spec.parsed_targeting.dimensions,
        )
        booking = Booking(
            shop_id=shop.id, placement_id=placement.id, creative_id=creative.id,
            shares=spec.shares, first_week=first_week,
            last_week=first_week + timedelta(weeks=weeks - 1), weeks=weeks,
            targeting=spec.parsed_targeting.to_json(),
            status=BookingStatus.IN_REVIEW if late else BookingStatus.LIVE,
            in_city_rate=True, unit_price_yen=quote.unit_price_yen,
            list_price_yen=quote.list_price_yen, discount_yen=quote.discount_yen,
            surcharge_yen=quote.surcharge_yen, total_yen=quote.total_yen, tax_yen=quote.tax_yen,
            idempotency_key=f"scenario-{spec.id}",
        )  # fmt: skip
        session.add(booking)
        session.flush()
        booked_days = weeks * 7
        live_days = (live_until - live_from).total_seconds() / 86_400
        booked.append(
            SimBooking(
                key=spec.id,
                booking_id=booking.id,
                placement_id=placement.id,
                share=Fraction(spec.shares, placement.shares_per_week),
                live_from=live_from,
                live_until=live_until,
                billed_yen=int(quote.total_yen * live_days / booked_days),
            )
        )
    return booked
