"""Replay synthetic-city traffic through the real feed policy and ad decision code.

Two runs over the same visits: the personalized decision (pacing × relevance from a scorer
trained on the city's history) and a non-personalized rotation (pacing alone). Each run is
scored against the city's hidden ground truth, which neither run can see.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

import numpy as np

from marketplace.calendar import start_of_tokyo_day, week_start
from marketplace.delivery.decision import AdDecider, DeliveryLedger, SharedCounts
from marketplace.delivery.feed_policy import AdSlot, FeedRules, compose_feed
from marketplace.delivery.measure import DeliveryMeasure
from marketplace.delivery.pacing import PacingParams
from marketplace.delivery.relevance import (
    AdRelevance,
    RelevanceScorer,
    ScoredItem,
    UniformScorer,
)
from marketplace.delivery.types import AdCandidate, Audience, FeedArticle
from marketplace.inventory.targeting import parse_targeting
from marketplace.synthetic import SyntheticCity, generate_city
from marketplace.synthetic.ad_appeal import AdAppeal, draw_ad_appeal
from marketplace.synthetic.traffic import Visit, city_audiences, visit_schedule
from marketplace.vocab import ArticlePriority

PLACEMENT_ID = 1
WEEKLY_SHARES = 20
FEED_SIZE = 10

# (shop category, shares of WEEKLY_SHARES, targeting): a mix of sizes and audiences.
BOOKING_PLAN: tuple[tuple[str, int, dict[str, list[str]]], ...] = (
    ("restaurant", 3, {}),
    ("sake-brewery", 2, {}),
    ("beauty", 2, {}),
    ("agriculture", 2, {}),
    ("hotel", 1, {}),
    ("lacquerware", 1, {}),
    ("clinic", 2, {"age_bands": ["60-69", "70+"]}),
    ("childcare", 1, {"households": ["young_children", "school_children"]}),
    (
        "construction",
        1,
        {
            "districts": [
                "ohto",
                "higashiyama",
                "kawahigashi",
                "minato",
                "kita-aizu",
                "takada",
                "monden",
            ]
        },
    ),
    ("education", 1, {"interests": ["学校", "子育て", "スポーツ・文化"]}),
)


@dataclass(frozen=True)
class BookingResult:
    booking_id: int
    shop_category: str
    share_bought: float
    share_delivered: float
    deviation: float
    expected_clicks: float
    rotation_expected_clicks: float
    impressions: int


@dataclass(frozen=True)
class SimulationResult:
    bookings: tuple[BookingResult, ...]
    max_abs_deviation: float
    ctr_lift: float
    visits: int
    opportunities: int
    # (hour, booking id, delivered ÷ promised) for the chart, personalized run.
    timeline: tuple[tuple[datetime, int, float], ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        return {
            "bookings": [
                {
                    "booking_id": b.booking_id,
                    "share_bought": round(b.share_bought, 6),
                    "share_delivered": round(b.share_delivered, 6),
                    "deviation": round(b.deviation, 6),
                    "expected_clicks": round(b.expected_clicks, 3),
                    "rotation_expected_clicks": round(b.rotation_expected_clicks, 3),
                }
                for b in self.bookings
            ],
            "max_abs_deviation": round(self.max_abs_deviation, 6),
            "ctr_lift": round(self.ctr_lift, 4),
        }


@dataclass
class _Run:
    impressions: dict[int, int]
    clicks: dict[int, float]
    opportunities: int
    timeline: list[tuple[datetime, int, float]]
    eligible: dict[int, int]  # booking -> slots it was eligible for (the one measure)


ScorerFactory = Callable[[SyntheticCity], RelevanceScorer]


def simulate(
    scorer_factory: ScorerFactory,
    *,
    days: int = 7,
    residents: int = 20_000,
    seed: int = 0,
    first_day: date | None = None,
    params: PacingParams | None = None,
) -> SimulationResult:
    """Simulate `days` of feeds for a synthetic city of `residents` (see module docstring)."""
    if days < 1 or residents < 100:
        raise ValueError("need days >= 1 and residents >= 100")
    start_day = week_start(first_day or date(2026, 11, 2))
    history_end = start_of_tokyo_day(start_day)
    city = generate_city(
        residents, n_articles=800, n_shops=200, days=60, seed=seed, end=history_end
    )
    rng = np.random.default_rng(seed + 1)
    ends = start_of_tokyo_day(start_day + timedelta(days=days))
    appeal = draw_ad_appeal(city.ground_truth, [c for c, _, _ in BOOKING_PLAN], rng)
    bookings = _bookings(city, appeal, history_end, ends)
    audiences = city_audiences(city)
    # Clicks from the ads' appeal, which has parts of its own the scorer cannot see
    # (ad_appeal.py): the lift is not the generator's structure found again.
    click_p = appeal.click_probability(np.arange(residents))
    visits = visit_schedule(rng, residents, start_day, days)
    articles = _filler_articles()
    params = params or PacingParams()
    reference = [
        audiences[i] for i in rng.choice(residents, size=min(residents, 1500), replace=False)
    ]
    personal_relevance = AdRelevance(_CachedScorer(scorer_factory(city)), reference)
    rotation_relevance = AdRelevance(UniformScorer(), [])
    personal = _run(visits, audiences, bookings, click_p, articles, personal_relevance, params)
    rotation = _run(visits, audiences, bookings, click_p, articles, rotation_relevance, params)

    results = []
    for booking in bookings:
        shown = personal.impressions[booking.booking_id]
        measure = DeliveryMeasure(
            Fraction(booking.share).limit_denominator(WEEKLY_SHARES),
            personal.eligible.get(booking.booking_id, 0),
            shown,
        )
        delivered = float(measure.share_delivered or 0)
        results.append(
            BookingResult(
                booking_id=booking.booking_id,
                shop_category=booking.shop_category,
                share_bought=booking.share,
                share_delivered=delivered,
                deviation=(delivered - booking.share) / booking.share,
                expected_clicks=personal.clicks[booking.booking_id],
                rotation_expected_clicks=rotation.clicks[booking.booking_id],
                impressions=shown,
            )
        )
    personal_ctr = sum(personal.clicks.values()) / max(1, sum(personal.impressions.values()))
    rotation_ctr = sum(rotation.clicks.values()) / max(1, sum(rotation.impressions.values()))
    return SimulationResult(
        bookings=tuple(results),
        max_abs_deviation=max(abs(r.deviation) for r in results),
        ctr_lift=personal_ctr / rotation_ctr if rotation_ctr else 0.0,
        visits=len(visits),
        opportunities=personal.opportunities,
        timeline=tuple(personal.timeline),
    )


def _run(
    visits: Sequence[Visit],
    audiences: Sequence[Audience],
    bookings: Sequence[AdCandidate],
    click_p: np.ndarray,
    articles: Sequence[FeedArticle],
    relevance: AdRelevance,
    params: PacingParams,
) -> _Run:
    rules = FeedRules()
    ledger = DeliveryLedger()
    decider = AdDecider(ledger, params, rules.frequency_cap_per_day, relevance)
    column = {b.booking_id: i for i, b in enumerate(bookings)}
    impressions = {b.booking_id: 0 for b in bookings}
    clicks = {b.booking_id: 0.0 for b in bookings}
    timeline: list[tuple[datetime, int, float]] = []
    opportunities = 0
    next_mark: datetime | None = None
    for number, visit in enumerate(visits):
        if next_mark is None or visit.at >= next_mark:
            if next_mark is not None:
                timeline.extend(_mark(next_mark, bookings, ledger))
            next_mark = visit.at.replace(minute=0, second=0) + timedelta(hours=1)
            # Each hour's pace, catch-up included, as workers get it from the database.
            ledger.shared = SharedCounts(hourly_pace=ledger.local_hourly_pace(bookings, visit.at))
        audience = audiences[visit.resident_idx]

        def pick(
            position: int,
            configured: int,
            shops: frozenset[int],
            audience: Audience = audience,
            visit: Visit = visit,
            number: int = number,
        ) -> AdSlot | None:
            ad = decider.pick(bookings, audience, shops, visit.at)
            return None if ad is None else AdSlot(ad, position, f"sim-{number}-{position}")

        feed = compose_feed(articles, FEED_SIZE, rules, pick)
        opportunities += feed.opportunities
        for slot in feed.ads:
            booking_id = slot.ad.booking_id
            impressions[booking_id] += 1
            clicks[booking_id] += float(click_p[visit.resident_idx, column[booking_id]])
    if next_mark is not None:
        timeline.extend(_mark(next_mark, bookings, ledger))
    return _Run(impressions, clicks, opportunities, timeline, ledger.local_totals()[1])


def _measure(booking: AdCandidate, ledger: DeliveryLedger) -> DeliveryMeasure:
    """The one delivery measure of a booking so far (every offer is seen in the simulation)."""
    offers, eligible = ledger.local_totals()
    return DeliveryMeasure(
        Fraction(booking.share).limit_denominator(WEEKLY_SHARES),
        eligible.get(booking.booking_id, 0),
        offers.get(booking.booking_id, 0),
    )


def _mark(
    at: datetime, bookings: Sequence[AdCandidate], ledger: DeliveryLedger
) -> list[tuple[datetime, int, float]]:
    """Delivered ÷ owed per booking at `at`, on the one measure."""
    marks = []
    for b in bookings:
        measure = _measure(b, ledger)
        owed = measure.owed
        marks.append((at, b.booking_id, float(measure.impressions / owed) if owed else 0.0))
    return marks


class _CachedScorer:
    """Scores each (resident, item) once: the simulation asks the same questions often."""

    def __init__(self, inner: RelevanceScorer) -> None:
        self._inner = inner
        self._cache: dict[tuple[str | None, str], float] = {}  # (resident, item)

    def score(self, audience: Audience, items: Sequence[ScoredItem]) -> list[float]:
        missing = [item for item in items if (audience.key, item.item_id) not in self._cache]
        if missing:
            for item, value in zip(missing, self._inner.score(audience, missing), strict=True):
                self._cache[(audience.key, item.item_id)] = value
        return [self._cache[(audience.key, item.item_id)] for item in items]


def _bookings(
    city: SyntheticCity, appeal: AdAppeal, starts: datetime, ends: datetime
) -> list[AdCandidate]:
    shops = city.shops[city.shops["status"] == "approved"].reset_index(drop=True)
    bookings = []
    for number, (category, shares, targeting) in enumerate(BOOKING_PLAN, start=1):
        matching = shops.index[shops["category"] == category]
        row = shops.loc[int(matching[0])] if len(matching) else shops.loc[number]
        # Tags from the article categories this kind of shop speaks to, as a shop would write.
        tags = appeal.tags[number - 1]
        bookings.append(
            AdCandidate(
                booking_id=number,
                placement_id=PLACEMENT_ID,
                shop_id=number,
                shop_name=str(row["business_name"]),
                shop_category=category,
                creative_version_id=number,
                headline=f"{row['business_name']}のお知らせ",
                body="",
                landing_url=f"https://example.jp/shops/{number}",
                tags=tags,
                targeting=parse_targeting(targeting),
                share=shares / WEEKLY_SHARES,
                starts_at=starts,
                ends_at=ends,
                unit_price_yen=2_750,
            )
        )
    return bookings


def _filler_articles() -> list[FeedArticle]:
    published = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        FeedArticle(i, f"記事{i}", "", f"https://example.jp/a/{i}", "イベント", (),
                    ArticlePriority.NORMAL, published)
        for i in range(1, FEED_SIZE + 1)
    ]  # fmt: skip


@dataclass(frozen=True)
class LiftInterval:
    """CTR lift over several seeds: the mean and its 95% confidence interval (Student's t)."""

    lifts: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.lifts))

    @property
    def half_width(self) -> float:
        from scipy import stats

        n = len(self.lifts)
        if n < 2:
            return float("nan")
        spread = float(np.std(self.lifts, ddof=1)) / math.sqrt(n)
        return float(stats.t.ppf(0.975, n - 1)) * spread

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def lift_over_seeds(
    scorer_factory: ScorerFactory, seeds: Sequence[int], **options: Any
) -> tuple[LiftInterval, list[SimulationResult]]:
    """Run the simulation once per seed (a new city, new ads, new visits each time)."""
    results = [simulate(scorer_factory, seed=seed, **options) for seed in seeds]
    return LiftInterval(tuple(r.ctr_lift for r in results)), results
