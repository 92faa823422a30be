"""The delivery service one worker runs: feeds from memory, tracking, and a refresh loop.

Request handlers call `feed`, `impression` and `click`; none of them writes to the database.
Events go to the `EventWriter`; the decision data is a `Snapshot` swapped in by `refresh`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from marketplace.db import utcnow
from marketplace.delivery.choices import ChoiceBook
from marketplace.delivery.decision import AdDecider, DeliveryLedger
from marketplace.delivery.events import (
    OfferEvent,
    OpportunityEvent,
    TrackedEvent,
    hour_start,
    new_id,
)
from marketplace.delivery.exploration import ExplorationRules, explore, fresh_mask
from marketplace.delivery.feed_policy import (
    MAX_FEED_ITEMS,
    AdSlot,
    Feed,
    FeedRules,
    ad_positions,
    compose_pinned,
)
from marketplace.delivery.house import HouseRotation, HouseSlot, Surface
from marketplace.delivery.layout import HostLayout
from marketplace.delivery.offer_memory import OfferMemory
from marketplace.delivery.pacing import PacingParams
from marketplace.delivery.ranking import top_indices
from marketplace.delivery.relevance import AdRelevance, RelevanceScorer, score_many
from marketplace.delivery.rollups import LATE_HOURS, roll_up_recent
from marketplace.delivery.serving import (
    ARTICLE_PROPERTIES,
    EMPTY,
    Snapshot,
    load_snapshot,
)
from marketplace.delivery.shared_counts import SharedCountsReader
from marketplace.delivery.tracking import (
    CLIENT_KEY_LENGTH,
    AddressBudget,
    OfferToken,
    TokenSigner,
    TrackingTokenError,
    TrafficLimits,
    keyed_digest,
    prepared_hmac,
)
from marketplace.delivery.types import AdCandidate, Audience, FeedArticle
from marketplace.delivery.writer import EventWriter
from marketplace.errors import MarketplaceError
from marketplace.house_ads.counting import HouseAdCounter
from marketplace.lru import LruCache

log = logging.getLogger(__name__)

ROLLUP_SECONDS = 300.0
# An hour is rolled up this long after it ended, so that every worker's hourly shares (worked
# out from the rollups) include it.
HOUR_ROLLUP_DELAY = timedelta(seconds=30)
ROLLUP_ATTEMPTS = 3
# House ad counts are the city's own figures, not billing: written twice a minute, so that
# they add few write transactions (on SQLite, each one a moment other writers wait for).
HOUSE_COUNTS_SECONDS = 30.0
RANKING_CACHE = 50_000
DEFAULT_FEED_LIMIT = 10
MAX_FEED_LIMIT = MAX_FEED_ITEMS
# Rankings are kept this deep for ordinary feeds (a portal page asks for about ten items);
# longer ones are ranked to the maximum and cached apart.
SHORT_RANKING = 20
PRECOMPUTE_CHUNK = 2_000
SLOT_SHAPES = 1_024


class TrackingRefused(MarketplaceError):
    """A tracking request that must be answered with 400 and never counted; `reason` (in
    English, for the host's developers) says why."""

    code = "invalid_tracking_token"
    status = 400
    template = "無効な計測トークンです: {reason}"

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)
        self.reason = reason


class ServedAd(NamedTuple):
    slot: AdSlot
    impression_token: str
    click_token: str


class ServedHouse(NamedTuple):
    """A city house ad placed in a page, with its one-time view token."""

    slot: HouseSlot
    view_token: str


class ServedFeed(NamedTuple):
    items: tuple[FeedArticle | ServedAd | ServedHouse, ...]
    personalized: bool
    ads_suppressed: bool
    # Whether the ads were chosen with the resident's attributes (their consent in the token
    # and their own choice in the plugin both allow it).
    ads_personalized: bool = False


@dataclass(frozen=True)
class TrackingContext:
    """What the request tells about validity; the service decides whether it is billable."""

    bot: bool
    staff: bool
    rate_limited: bool
    ip_prefix: str | None
    # The requesting client's key (`DeliveryService.client_key`); an impression whose token was
    # issued to another client is invalid (`other_client`).
    client_key: str = ""


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
        host: HostLayout | None = None,
        params: PacingParams | None = None,
        refresh_seconds: float = 2.0,
        reference: Sequence[Audience] = (),
        impression_seen: Callable[[str], bool] | None = None,
        exploration: ExplorationRules | None = None,
        limits: TrafficLimits | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.writer = writer
        self.signer = signer
        self.rules = rules or FeedRules()
        self.host = host or HostLayout(ad_positions=self.rules.ad_positions)
        self.exploration = exploration or ExplorationRules()
        self._fresh: LruCache[tuple[object, ...], tuple[np.ndarray, int]] = LruCache(2)
        self.scorer = scorer
        self.refresh_seconds = refresh_seconds
        self.snapshot: Snapshot = EMPTY
        self.ledger = DeliveryLedger()
        self.choices = ChoiceBook()
        self.decider = AdDecider(
            self.ledger,
            params or PacingParams(),
            self.rules.frequency_cap_per_day,
            AdRelevance(scorer, reference),
        )
        self._resident_hmac = prepared_hmac(resident_secret.encode())
        # Anonymous feeds with ads per anonymised address, in this worker (tracking.py).
        self.limits = limits or TrafficLimits()
        self.anonymous_feeds = AddressBudget(self.limits.anonymous_feeds_per_minute)
        self._impressions = OfferMemory()
        self.house_counts = HouseAdCounter()
        self._house_rotation = HouseRotation()
        self._clicks = OfferMemory()
        self._impression_seen = impression_seen
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_refresh_error: str | None = None
        self.relevance_model = "loading"
        self._scorer_version = 0
        self._shared_counts = SharedCountsReader(writer.worker_id)
        self._hour_rolled: datetime | None = None
        self._rules_for: LruCache[tuple[int, ...], FeedRules] = LruCache(16)
        # Client keys per (anonymised address, User-Agent), see client_key.
        self._client_keys: LruCache[tuple[str, str], str] = LruCache(CLIENT_KEYS_REMEMBERED)
        self._slot_shapes: LruCache[tuple[object, ...], dict[int, int]] = LruCache(SLOT_SHAPES)
        self._ranked: LruCache[tuple[object, ...], tuple[FeedArticle, ...]] = LruCache(
            RANKING_CACHE
        )

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
        hour = hour_start(now)
        if self._hour_rolled != hour and now - hour >= HOUR_ROLLUP_DELAY:
            # The hour just ended, rolled up for the hourly shares (`shared_counts.py`).
            self._hour_rolled = hour
            self.roll_up(now, hours=1)
        self._report_eligible()
        try:
            with self.session_factory() as session:
                snapshot = load_snapshot(session, now, self.host)
                shared = self._shared_counts.read(session, snapshot.bookings, now)
                self.choices.reload(session)
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

    def _report_eligible(self) -> None:
        """Hand the eligible slots counted since the last refresh to the writer: a few rows per
        booking and refresh (like the placements' slot counts), read back by other workers."""
        for count in self.ledger.drain_eligible():
            self.writer.submit(count)

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
        self._report_eligible()
        self.writer.stop()
        self.house_counts.flush(self.session_factory)

    def _loop(self) -> None:
        next_rollup = time.monotonic() + ROLLUP_SECONDS
        next_house_flush = time.monotonic() + HOUSE_COUNTS_SECONDS
        while not self._stop.wait(self.refresh_seconds):
            self.refresh()
            if time.monotonic() >= next_house_flush:
                next_house_flush = time.monotonic() + HOUSE_COUNTS_SECONDS
                self.house_counts.flush(self.session_factory)
            if time.monotonic() >= next_rollup:
                next_rollup = time.monotonic() + ROLLUP_SECONDS
                self.roll_up()

    def roll_up(self, now: datetime | None = None, hours: int = LATE_HOURS) -> int:
        """Refresh the recent hourly rollups; several workers may race, one of them wins.

        On SQLite a transaction that reads and then writes fails at once when another
        connection (the event writer) committed in between, so it is tried a few times.
        """
        for attempt in range(ROLLUP_ATTEMPTS):
            try:
                with self.session_factory.begin() as session:
                    return roll_up_recent(session, now or utcnow(), hours)
            except Exception as exc:  # the next round (or another worker) will redo it
                if attempt + 1 == ROLLUP_ATTEMPTS:
                    log.warning("delivery rollup failed: %s", exc)
                else:
                    time.sleep(0.05 * (attempt + 1))
        return 0

    # -- feeds -------------------------------------------------------------------------------

    def resident_key(self, external_id: str) -> str:
        return keyed_digest(self._resident_hmac, external_id.encode()).hex()[:32]

    def client_key(self, address_prefix: str, user_agent: str) -> str:
        """A keyed hash of the client's anonymised address and User-Agent (16 hex digits),
        put in each offer's tokens so its impression can be tied to the client served.

        Remembered per (address, User-Agent): 0.8 µs a feed instead of 2.5 µs for the HMAC.
        Only the User-Agent's first 256 characters count, so the cache's memory stays bounded
        (16,384 entries of at most ~300 bytes of key)."""
        user_agent = user_agent[:USER_AGENT_KEPT]
        client = (address_prefix, user_agent)
        known = self._client_keys.get(client)
        if known is not None:
            return known
        message = f"client:{address_prefix}|{user_agent}".encode(errors="replace")
        key = keyed_digest(self._resident_hmac, message).hex()[:CLIENT_KEY_LENGTH]
        return self._client_keys.put(client, key)

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

    def feed(
        self,
        audience: Audience,
        limit: int,
        now: datetime | None = None,
        *,
        client: str = "",
        ads: bool = True,
    ) -> ServedFeed:
        """The feed; `client` goes into the offers' tokens. Without `ads` (an anonymous client
        over its address's budget): articles only, no offer made and no slot counted."""
        now = now or utcnow()
        snapshot = self.snapshot
        audience = self.viewer(audience)
        articles = self._rank_articles(audience, snapshot, limit)
        if not ads:
            return ServedFeed(tuple(articles[:limit]), audience.personalized, False)
        ad_viewer, hidden = self._ad_viewer(audience)
        slot_placements = snapshot.slots
        placements_offered: dict[int, int] = {}
        house_on_page: set[int] = set()

        def pick(
            position: int, configured: int, shops: frozenset[int]
        ) -> AdSlot | HouseSlot | None:
            placement_id = slot_placements.get(configured)
            if placement_id is None:
                return None
            placements_offered[placement_id] = placements_offered.get(placement_id, 0) + 1
            candidates = snapshot.candidates.get(placement_id, ())
            ad = self.decider.pick(
                candidates, ad_viewer, shops | hidden if hidden else shops, now, hidden
            )
            if ad is None:
                return self._house_slot(snapshot, Surface.FEED, position, house_on_page)
            return AdSlot(ad, position, new_id())

        if snapshot.disaster:
            feed = Feed(tuple(articles[:limit]), ads_suppressed=True)
            # No ad is shown, but the slots that would have opened are owed to the bookings.
            for configured in self._slots(articles, limit, snapshot).values():
                placement_id = slot_placements.get(configured)
                if placement_id is not None:
                    candidates = snapshot.candidates.get(placement_id, ())
                    self.decider.eligible(candidates, ad_viewer, hidden, now)
        else:
            feed = compose_pinned(articles, limit, self._slots(articles, limit, snapshot), pick)
        return ServedFeed(
            items=self._record(feed, ad_viewer, placements_offered, now, client),
            personalized=audience.personalized,
            ads_suppressed=feed.ads_suppressed,
            ads_personalized=ad_viewer.personalized,
        )

    def _ad_viewer(self, audience: Audience) -> tuple[Audience, frozenset[int]]:
        """The viewer as the ad decision may see them, and the shops they hid: their own
        choices, on top of the consent in their token."""
        choices = None if audience.key is None else self.choices.get(audience.key)
        if choices is None:
            return audience, frozenset()
        return choices.for_ads(audience), choices.hidden_shops

    def side(
        self,
        audience: Audience,
        now: datetime | None = None,
        *,
        client: str = "",
        ads: bool = True,
    ) -> tuple[ServedAd | ServedHouse, ...]:
        """The gadget column's cards (side-gadget placements, in column order).

        Each card is its own slot of its placement, decided like a feed slot (a slot no booking
        fills shows a house ad, if one is live); a shop appears at most once in the column,
        and never a shop the resident hid. Nothing in disaster mode.
        """
        now = now or utcnow()
        snapshot = self.snapshot
        if not snapshot.side or not ads:
            return ()
        ad_viewer, hidden = self._ad_viewer(self.viewer(audience))
        if snapshot.disaster:  # nothing shown; the slots are owed to the bookings all the same
            for placement_id in snapshot.side:
                candidates = snapshot.candidates.get(placement_id, ())
                self.decider.eligible(candidates, ad_viewer, hidden, now)
            return ()
        shops: set[int] = set(hidden)
        house_on_page: set[int] = set()
        slots: list[AdSlot | HouseSlot] = []
        for placement_id in snapshot.side:
            candidates = snapshot.candidates.get(placement_id, ())
            ad = self.decider.pick(candidates, ad_viewer, frozenset(shops), now, hidden)
            position = len(slots) + 1
            if ad is not None:
                shops.add(ad.shop_id)
                slots.append(AdSlot(ad, position, new_id()))
            else:
                house = self._house_slot(snapshot, Surface.SIDE, position, house_on_page)
                if house is not None:
                    slots.append(house)
        offered = dict.fromkeys(snapshot.side, 1)
        served = self._record(Feed(tuple(slots)), ad_viewer, offered, now, client)
        return tuple(item for item in served if not isinstance(item, FeedArticle))

    def _house_slot(
        self, snapshot: Snapshot, surface: Surface, position: int, on_page: set[int]
    ) -> HouseSlot | None:
        """A house ad for a slot no booking filled, each at most once per page; or none."""
        if not snapshot.house_ads:
            return None
        house = self._house_rotation.pick(snapshot.house_ads, surface, on_page)
        if house is None:
            return None
        on_page.add(house.house_ad_id)
        return HouseSlot(house, position, new_id(), surface)

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
            slots = self._slot_shapes.put(shape, dict(ad_positions(articles, limit, rules)))
        return slots

    def _rules(self, slot_placements: Mapping[int, int]) -> FeedRules:
        """The feed rules with the placements' positions (built once per set of positions)."""
        positions = tuple(sorted(slot_placements)) or self.rules.ad_positions
        rules = self._rules_for.get(positions)
        if rules is None:
            rules = self._rules_for.put(
                positions,
                FeedRules(
                    ad_positions=positions,
                    max_ad_fraction=self.rules.max_ad_fraction,
                    frequency_cap_per_day=self.rules.frequency_cap_per_day,
                    max_notices=self.rules.max_notices,
                ),
            )
        return rules

    def _rank_articles(
        self, audience: Audience, snapshot: Snapshot, limit: int
    ) -> list[FeedArticle]:
        """Pinned notices, then regular articles: by relevance when personalized, else newest.

        Already in feed order: `pin_notices` would leave the list as it is.

        A personalized ranking is cached per article set, scorer, fresh articles and resident
        (it only changes when one of those does), and worked out ahead for known residents by
        `precompute`. It includes exploration (`exploration.py`): the notices stay above it
        and ad slots are placed after it.
        """
        notices = snapshot.notices[: self.rules.max_notices]
        regular = snapshot.regular
        if not audience.personalized or not regular:
            return [*notices, *regular[:limit]]
        depth = ranking_depth(limit)
        fresh, fresh_version = self._fresh_articles(snapshot)
        # The version before the scorer: a scorer swapped in between is cached under the old
        # version, which is never asked for again, never the other way round.
        key = (
            snapshot.articles_version,
            self._scorer_version,
            fresh_version,
            audience.recommender_id,
            depth,
        )
        ranked = self._ranked.get(key)
        if ranked is None:
            scores = np.asarray([self.scorer.score(audience, snapshot.regular_items)])
            top = self._explore(scores, top_indices(scores, depth), fresh, [audience], snapshot)
            ranked = self._remember(key, regular, top[0])
        return [*notices, *ranked[:limit]]

    def _fresh_articles(self, snapshot: Snapshot) -> tuple[np.ndarray, int]:
        """Which regular articles are fresh (at the snapshot's time), and a number that changes
        when that does. Worked out once per article set and hour, not on every request."""
        now = snapshot.loaded_at
        stamp = (snapshot.articles_version, now.replace(minute=0, second=0, microsecond=0))
        found = self._fresh.get(stamp)
        if found is None:
            mask = fresh_mask(snapshot.regular, now, self.exploration)
            found = self._fresh.put(stamp, (mask, hash(tuple(np.flatnonzero(mask).tolist()))))
        return found

    def _explore(
        self,
        scores: np.ndarray,
        top: np.ndarray,
        fresh: np.ndarray,
        audiences: Sequence[Audience],
        snapshot: Snapshot,
    ) -> np.ndarray:
        if not fresh.any() or self.exploration.share == 0:
            return top
        ids = [item.item_id for item in snapshot.regular_items]
        # The keyed hash, not the resident's id: which residents explore is nobody's business.
        keys = [audience.key or "" for audience in audiences]
        visible = min(top.shape[1], DEFAULT_FEED_LIMIT)
        return explore(scores, top, fresh, keys, ids, self.exploration, visible)

    def _remember(
        self, key: tuple[object, ...], regular: Sequence[FeedArticle], top: np.ndarray
    ) -> tuple[FeedArticle, ...]:
        return self._ranked.put(key, tuple(regular[i] for i in top.tolist()))

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
        fresh, fresh_version = self._fresh_articles(snapshot)
        for start in range(0, len(viewers) if articles else 0, PRECOMPUTE_CHUNK):
            chunk = viewers[start : start + PRECOMPUTE_CHUNK]
            scores = score_many(scorer, chunk, snapshot.regular_items)
            top = self._explore(scores, top_indices(scores, depth), fresh, chunk, snapshot)
            for audience, row in zip(chunk, top, strict=True):
                key = (
                    snapshot.articles_version,
                    version,
                    fresh_version,
                    audience.recommender_id,
                    depth,
                )
                self._remember(key, regular, row)
        ads = {ad.item_id: ad for live in snapshot.candidates.values() for ad in live if ad.serving}
        self.decider.relevance.fill(viewers, list(ads.values()))
        return len(viewers)

    def _record(
        self,
        feed: Feed,
        audience: Audience,
        placements: dict[int, int],
        now: datetime,
        client: str = "",
    ) -> tuple[FeedArticle | ServedAd | ServedHouse, ...]:
        for placement_id, slots in placements.items():
            self.writer.submit(OpportunityEvent(placement_id, slots, now))
        age, household, district = audience.segment
        items: list[FeedArticle | ServedAd | ServedHouse] = []
        for item in feed.items:
            if isinstance(item, FeedArticle):
                items.append(item)
                continue
            if isinstance(item, HouseSlot):  # the city's own: counted apart, never an offer
                self.house_counts.shown(item.house.house_ad_id, item.surface, now)
                items.append(ServedHouse(item, self.signer.house_view_token(item)))
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
                item.offer_id, ad.booking_id, ad.creative_version_id, audience.key or "", client
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

    def house_view(self, token: str, bot: bool) -> None:
        """Count a house ad's view once (not a bot's); replays and bad tokens are refused."""
        try:
            view = self.signer.read_house_view(token)
        except TrackingTokenError as exc:
            raise TrackingRefused(exc.reason) from None
        if not self._impressions.add(view.view_id):
            raise TrackingRefused("already counted")
        if not bot:
            self.house_counts.viewed(view.house_ad_id, view.surface, utcnow())

    def impression(
        self, offer: OfferToken, context: TrackingContext, now: datetime | None = None
    ) -> None:
        """Count the impression once; replays raise TrackingRefused."""
        if not self._impressions.add(offer.offer_id):
            raise TrackingRefused("already counted")
        reason = _invalid_reason(context, offer)
        self.writer.submit(
            TrackedEvent(
                "impression", offer.offer_id, offer.booking_id, now or utcnow(),
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


CLIENT_KEYS_REMEMBERED = 16384
USER_AGENT_KEPT = 256


def ranking_depth(limit: int) -> int:
    return SHORT_RANKING if limit <= SHORT_RANKING else MAX_FEED_LIMIT


def _invalid_reason(context: TrackingContext, offer: OfferToken | None = None) -> str | None:
    if context.bot:
        return "bot"
    if context.staff:
        return "staff_preview"
    if offer is not None and offer.client_key != context.client_key:
        return "other_client"
    if context.rate_limited:
        return "rate_limited"
    return None


__all__ = [
    "AdCandidate",
    "DeliveryService",
    "ServedAd",
    "ServedFeed",
    "ServedHouse",
    "TrackingRefused",
]
