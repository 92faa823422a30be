"""The delivery service one worker runs: feeds from memory, tracking, and a refresh loop.

Request handlers call `feed`, `impression` and `click`; none of them writes to the database.
Events go to the `EventWriter`; the decision data is a `Snapshot` swapped in by `refresh`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from marketplace.db import utcnow
from marketplace.delivery.decision import AdDecider, DeliveryLedger
from marketplace.delivery.events import OfferEvent, OpportunityEvent, TrackedEvent, new_id
from marketplace.delivery.feed_policy import AdSlot, Feed, FeedRules, ad_positions, compose_pinned
from marketplace.delivery.offer_memory import OfferMemory
from marketplace.delivery.pacing import PacingParams
from marketplace.delivery.ranking import top_indices
from marketplace.delivery.relevance import AdRelevance, RelevanceScorer, score_many
from marketplace.delivery.rollups import roll_up_recent
from marketplace.delivery.serving import (
    ARTICLE_PROPERTIES,
    EMPTY,
    Snapshot,
    load_snapshot,
)
from marketplace.delivery.shared_counts import SharedCountsReader
from marketplace.delivery.tracking import (
    OfferToken,
    TokenSigner,
    TrackingTokenError,
)
from marketplace.delivery.types import AdCandidate, Audience, FeedArticle
from marketplace.delivery.writer import EventWriter
from marketplace.keyed_hash import HmacSha256

log = logging.getLogger(__name__)

ROLLUP_SECONDS = 300.0
RANKING_CACHE = 50_000
DEFAULT_FEED_LIMIT = 10
MAX_FEED_LIMIT = 50
# Rankings are kept this deep for ordinary feeds (a portal page asks for about ten items);
# longer ones are ranked to the maximum and cached apart.
SHORT_RANKING = 20
PRECOMPUTE_CHUNK = 2_000
SLOT_SHAPES = 1_024


class TrackingRefused(Exception):
    """A tracking request that must be answered with 400 and never counted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ServedAd(NamedTuple):
    slot: AdSlot
    impression_token: str
    click_token: str


class ServedFeed(NamedTuple):
    items: tuple[FeedArticle | ServedAd, ...]
    personalized: bool
    ads_suppressed: bool


@dataclass(frozen=True)
class TrackingContext:
    """What the request tells about validity; the service decides whether it is billable."""

    bot: bool
    staff: bool
    rate_limited: bool
    ip_prefix: str | None


class DeliveryService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        writer: EventWriter,
        signer: TokenSigner,
        resident_secret: str,
        scorer: RelevanceScorer,
        *,
        rules: FeedRules | None = None,
        params: PacingParams | None = None,
        refresh_seconds: float = 2.0,
        reference: Sequence[Audience] = (),
        impression_seen: Callable[[str], bool] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.writer = writer
        self.signer = signer
        self.rules = rules or FeedRules()
        self.scorer = scorer
        self.refresh_seconds = refresh_seconds
        self.snapshot: Snapshot = EMPTY
        self.ledger = DeliveryLedger()
        self.decider = AdDecider(
            self.ledger,
            params or PacingParams(),
            self.rules.frequency_cap_per_day,
            AdRelevance(scorer, reference),
        )
        self._resident_hmac = HmacSha256(resident_secret.encode())
        self._impressions = OfferMemory()
        self._clicks = OfferMemory()
        self._impression_seen = impression_seen
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_refresh_error: str | None = None
        self.relevance_model = "loading"
        self._scorer_version = 0
        self._shared_counts = SharedCountsReader(writer.worker_id)
        self._rules_for: tuple[Mapping[int, int], FeedRules] | None = None
        self._slot_shapes: dict[tuple[object, ...], dict[int, int]] = {}
        self._ranked: OrderedDict[tuple[object, ...], tuple[FeedArticle, ...]] = OrderedDict()

    @property
    def scorer_version(self) -> int:
        """Counts scorer swaps: cached rankings and relevance belong to one version."""
        return self._scorer_version

    def use_scorer(self, scorer: RelevanceScorer, relevance: AdRelevance, name: str) -> None:
        """Swap in a newly loaded scorer (each attribute assignment is atomic)."""
        self.scorer = scorer
        self.decider.relevance = relevance
        self.relevance_model = name
        self._scorer_version += 1

    # -- refresh -----------------------------------------------------------------------------

    def refresh(self, now: datetime | None = None) -> bool:
        """Reload the snapshot and the other workers' counts; keep the old ones on failure."""
        now = now or utcnow()
        try:
            with self.session_factory() as session:
                snapshot = load_snapshot(session, now, self.rules.ad_positions)
                shared = self._shared_counts.read(session, snapshot.bookings, now)
        except Exception as exc:  # a database outage must not stop the feed
            self.last_refresh_error = str(exc)
            log.warning("delivery refresh failed, serving the previous snapshot: %s", exc)
            return False
        if snapshot.articles == self.snapshot.articles:
            # The same articles: keep the previous objects, so the caches keyed on them (the
            # scorer's item matrix, encoded JSON, rankings) keep hitting.
            snapshot = replace(snapshot, articles=self.snapshot.articles)
            snapshot.__dict__.update(
                {k: v for k, v in self.snapshot.__dict__.items() if k in ARTICLE_PROPERTIES}
            )
        self.snapshot = snapshot
        self.ledger.shared = shared
        self.last_refresh_error = None
        return True

    def start(self) -> None:
        self.writer.start()
        self.refresh()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="delivery-refresh", daemon=True)
        self._thread.start()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self.writer.stop()

    def _loop(self) -> None:
        next_rollup = time.monotonic() + ROLLUP_SECONDS
        while not self._stop.wait(self.refresh_seconds):
            self.refresh()
            if time.monotonic() >= next_rollup:
                next_rollup = time.monotonic() + ROLLUP_SECONDS
                self.roll_up()

    def roll_up(self, now: datetime | None = None) -> int:
        """Refresh the recent hourly rollups; several workers may race, one of them wins."""
        try:
            with self.session_factory.begin() as session:
                return roll_up_recent(session, now or utcnow())
        except Exception as exc:  # the next round (or another worker) will redo it
            log.warning("delivery rollup failed: %s", exc)
            return 0

    # -- feeds -------------------------------------------------------------------------------

    def resident_key(self, external_id: str) -> str:
        return self._resident_hmac.digest(external_id.encode()).hex()[:32]

    def viewer(self, audience: Audience) -> Audience:
        """The audience as delivery keeps it: keyed hash for caps, the id only for scoring."""
        if audience.key is None:
            return audience
        return Audience(
            self.resident_key(audience.key),
            audience.age_band,
            audience.household,
            audience.district,
            audience.interests,
            audience.consent,
            scoring_id=audience.key,
        )

    def feed(self, audience: Audience, limit: int, now: datetime | None = None) -> ServedFeed:
        now = now or utcnow()
        snapshot = self.snapshot
        audience = self.viewer(audience)
        articles = self._rank_articles(audience, snapshot, limit)
        slot_placements = snapshot.slots
        placements_offered: dict[int, int] = {}

        def pick(position: int, configured: int, shops: frozenset[int]) -> AdSlot | None:
            placement_id = slot_placements.get(configured)
            if placement_id is None:
                return None
            placements_offered[placement_id] = placements_offered.get(placement_id, 0) + 1
            candidates = snapshot.candidates.get(placement_id, ())
            ad = self.decider.pick(candidates, audience, shops, now)
            if ad is None:
                return None
            return AdSlot(ad, position, new_id())

        if snapshot.disaster:
            feed = Feed(tuple(articles[:limit]), ads_suppressed=True)
        else:
            feed = compose_pinned(articles, limit, self._slots(articles, limit, snapshot), pick)
        return ServedFeed(
            items=self._record(feed, audience, placements_offered, now),
            personalized=audience.personalized,
            ads_suppressed=feed.ads_suppressed,
        )

    def _slots(
        self, articles: Sequence[FeedArticle], limit: int, snapshot: Snapshot
    ) -> Mapping[int, int]:
        """Where this feed's ad slots go (`ad_positions`), for articles in feed order.

        The positions only depend on the rules, the limit, how many articles there are and how
        many notices lead them, so they are worked out once for each such shape.
        """
        rules = self._rules(snapshot.slots)
        # `_rank_articles` puts the pinned notices first and no notice among the rest.
        notices = min(len(snapshot.notices), self.rules.max_notices, limit)
        shape = (rules.ad_positions, limit, len(articles), notices)
        slots = self._slot_shapes.get(shape)
        if slots is None:
            if len(self._slot_shapes) >= SLOT_SHAPES:
                self._slot_shapes.clear()
            slots = self._slot_shapes[shape] = dict(ad_positions(articles, limit, rules))
        return slots

    def _rules(self, slot_placements: Mapping[int, int]) -> FeedRules:
        """The feed rules with the placements' positions (built once per snapshot)."""
        cached = self._rules_for
        if cached is None or cached[0] is not slot_placements:
            rules = FeedRules(
                ad_positions=tuple(sorted(slot_placements)) or self.rules.ad_positions,
                max_ad_fraction=self.rules.max_ad_fraction,
                frequency_cap_per_day=self.rules.frequency_cap_per_day,
                max_notices=self.rules.max_notices,
            )
            cached = self._rules_for = (slot_placements, rules)
        return cached[1]

    def _rank_articles(
        self, audience: Audience, snapshot: Snapshot, limit: int
    ) -> list[FeedArticle]:
        """Pinned notices, then regular articles: by relevance when personalized, else newest.

        Already in feed order: `pin_notices` would leave the list as it is.

        A personalized ranking is cached per article set, scorer and resident (it only changes
        when one of those does), and worked out ahead for known residents by `precompute`.
        """
        notices = snapshot.notices[: self.rules.max_notices]
        regular = snapshot.regular
        if not audience.personalized or not regular:
            return [*notices, *regular[:limit]]
        depth = ranking_depth(limit)
        # The version before the scorer: a scorer swapped in between is cached under the old
        # version, which is never asked for again, never the other way round.
        key = (snapshot.articles_version, self._scorer_version, audience.recommender_id, depth)
        ranked = self._ranked.get(key)
        if ranked is None:
            scores = np.asarray([self.scorer.score(audience, snapshot.regular_items)])
            ranked = self._remember(key, regular, top_indices(scores, depth)[0])
        return [*notices, *ranked[:limit]]

    def _remember(
        self, key: tuple[object, ...], regular: Sequence[FeedArticle], top: np.ndarray
    ) -> tuple[FeedArticle, ...]:
        ranked = tuple(regular[i] for i in top.tolist())
        self._ranked[key] = ranked
        if len(self._ranked) > RANKING_CACHE:
            self._ranked.popitem(last=False)
        return ranked

    def precompute(self, audiences: Sequence[Audience], *, articles: bool = True) -> int:
        """Rank the articles and score the live ads for known residents ahead of their visits.

        What a resident's first feed would work out one by one (a scoring pass over the
        articles and the ads), done in bulk for many residents: a few vectorised products
        instead of one per first visit. `articles=False` scores the ads only (the rankings
        depend on the articles and the model alone). Returns how many residents were done.
        """
        snapshot = self.snapshot
        version = self._scorer_version  # before the scorer: see `_rank_articles`
        scorer = self.scorer
        viewers = [self.viewer(a) for a in audiences if a.personalized][-RANKING_CACHE:]
        regular = snapshot.regular
        if not viewers or not regular:
            return 0
        depth = ranking_depth(DEFAULT_FEED_LIMIT)
        for start in range(0, len(viewers) if articles else 0, PRECOMPUTE_CHUNK):
            chunk = viewers[start : start + PRECOMPUTE_CHUNK]
            top = top_indices(score_many(scorer, chunk, snapshot.regular_items), depth)
            for audience, row in zip(chunk, top, strict=True):
                key = (snapshot.articles_version, version, audience.recommender_id, depth)
                self._remember(key, regular, row)
        ads = {ad.item_id: ad for live in snapshot.candidates.values() for ad in live}
        self.decider.relevance.fill(viewers, list(ads.values()))
        return len(viewers)

    def _record(
        self, feed: Feed, audience: Audience, placements: dict[int, int], now: datetime
    ) -> tuple[FeedArticle | ServedAd, ...]:
        for placement_id, slots in placements.items():
            self.writer.submit(OpportunityEvent(placement_id, slots, now))
        age, household, district = audience.segment
        items: list[FeedArticle | ServedAd] = []
        for item in feed.items:
            if isinstance(item, FeedArticle):
                items.append(item)
                continue
            ad = item.ad
            self.writer.submit(
                OfferEvent(  # positional, in the field order: the feed's hottest constructor
                    item.offer_id,
                    ad.booking_id,
                    ad.placement_id,
                    ad.creative_version_id,
                    ad.shop_id,
                    audience.key,
                    age,
                    household,
                    district,
                    audience.personalized,
                    item.position,
                    self.writer.worker_id,
                    now,
                )
            )
            token = OfferToken(
                item.offer_id, ad.booking_id, ad.creative_version_id, audience.key or ""
            )
            items.append(ServedAd(item, *self.signer.tokens(token)))
        return tuple(items)

    # -- tracking ----------------------------------------------------------------------------

    def read_impression(self, token: str) -> OfferToken:
        try:
            return self.signer.read_impression(token)
        except TrackingTokenError as exc:
            raise TrackingRefused(exc.reason) from None

    def read_click(self, token: str) -> OfferToken:
        try:
            return self.signer.read_click(token)
        except TrackingTokenError as exc:
            raise TrackingRefused(exc.reason) from None

    def impression(self, offer: OfferToken, context: TrackingContext) -> None:
        """Count the impression once; replays raise TrackingRefused."""
        if not self._impressions.add(offer.offer_id):
            raise TrackingRefused("already counted")
        reason = _invalid_reason(context)
        self.writer.submit(
            TrackedEvent(
                "impression", offer.offer_id, offer.booking_id, utcnow(),
                reason is None, reason, context.ip_prefix,
            )
        )  # fmt: skip

    def click(self, offer: OfferToken, context: TrackingContext) -> str:
        """Count the click once and return the approved landing URL to redirect to."""
        landing = self.snapshot.landing_urls.get(offer.creative_version_id)
        if landing is None:
            raise TrackingRefused("creative not approved")
        if not self._clicks.add(offer.offer_id):
            raise TrackingRefused("already counted")
        reason = _invalid_reason(context)
        if reason is None and not self._had_impression(offer.offer_id):
            reason = "no_impression"
        self.writer.submit(
            TrackedEvent(
                "click", offer.offer_id, offer.booking_id, utcnow(),
                reason is None, reason, context.ip_prefix,
            )
        )  # fmt: skip
        return landing

    def _had_impression(self, offer_id: str) -> bool:
        if offer_id in self._impressions:
            return True
        if self._impression_seen is None:
            return False
        # Another worker may have counted it: the database is the shared truth.
        try:
            return self._impression_seen(offer_id)
        except Exception as exc:  # database down: still count the click and redirect
            log.warning("impression lookup failed, click recorded without impression: %s", exc)
            return False


def ranking_depth(limit: int) -> int:
    return SHORT_RANKING if limit <= SHORT_RANKING else MAX_FEED_LIMIT


def _invalid_reason(context: TrackingContext) -> str | None:
    if context.bot:
        return "bot"
    if context.staff:
        return "staff_preview"
    if context.rate_limited:
        return "rate_limited"
    return None


__all__ = ["AdCandidate", "DeliveryService", "ServedAd", "ServedFeed", "TrackingRefused"]
