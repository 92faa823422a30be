"""Reading what delivery serves from the database into immutable in-memory snapshots.

The feed never queries the database to rank: a refresh loop calls `load_snapshot` (and reads
the other workers' counts, shared_counts.py) every few seconds and swaps the results in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, defer

from marketplace.articles.services import PRIORITY_ORDER
from marketplace.calendar import start_of_tokyo_day, tokyo_date, week_start
from marketplace.delivery.house import HouseAdCard
from marketplace.delivery.layout import HostLayout, lay_out
from marketplace.delivery.relevance import ScoredItem, article_item
from marketplace.delivery.types import AdCandidate, FeedArticle
from marketplace.flyers.links import click_target
from marketplace.flyers.periods import shown_window
from marketplace.house_ads.services import live_house_ads
from marketplace.inventory.placements import placement_spot
from marketplace.inventory.targeting import parse_targeting
from marketplace.lifecycle import DELIVERABLE_STATUSES, BookingStatus, CreativeStatus
from marketplace.models import Article, Booking, Creative, CreativeVersion, Placement, Shop
from marketplace.switches import is_disaster_mode
from marketplace.vocab import ArticlePriority, ShopStatus

ARTICLE_POOL = 300
OWED_NOT_SERVING = (BookingStatus.PAUSED, BookingStatus.IN_REVIEW)
MAX_AD_TAGS = 8


@dataclass(frozen=True)
class Snapshot:
    loaded_at: datetime
    disaster: bool
    slots: dict[int, int]  # feed position -> in-feed placement id
    candidates: dict[int, tuple[AdCandidate, ...]]  # placement id -> live bookings
    # Approved creative version -> where its click leads (an https URL, or a plugin path).
    landing_urls: dict[int, str]
    articles: tuple[FeedArticle, ...]  # live articles, non-personalized order
    tag_vocabulary: frozenset[str] = field(default_factory=frozenset)
    side: tuple[int, ...] = ()  # the gadget column's placement ids, in order
    house_ads: tuple[HouseAdCard, ...] = ()  # the city's live house ads, for unfilled slots

    @cached_property
    def articles_version(self) -> int:
        """Changes whenever the live articles (or their priority) change."""
        return hash(
            tuple((a.article_id, a.priority, a.title, a.published_at) for a in self.articles)
        )

    @cached_property
    def notices(self) -> tuple[FeedArticle, ...]:
        """Urgent notices, then important ones, newest first."""
        urgent = [a for a in self.articles if a.priority is ArticlePriority.URGENT]
        important = [a for a in self.articles if a.priority is ArticlePriority.IMPORTANT]
        return tuple(urgent + important)

    @cached_property
    def regular(self) -> tuple[FeedArticle, ...]:
        return tuple(a for a in self.articles if not a.is_notice)

    @cached_property
    def regular_items(self) -> tuple[ScoredItem, ...]:
        return tuple(article_item(a) for a in self.regular)

    @property
    def bookings(self) -> list[AdCandidate]:
        return [b for group in self.candidates.values() for b in group]


# The cached properties that depend on the articles alone (a refresh with the same articles
# carries them over).
ARTICLE_PROPERTIES = frozenset({"articles_version", "notices", "regular", "regular_items"})

EMPTY = Snapshot(datetime.min, False, {}, {}, {}, ())


def load_snapshot(session: Session, now: datetime, host: HostLayout) -> Snapshot:
    articles = _articles(session, now)
    vocabulary = frozenset(tag for a in articles for tag in a.tags)
    placements = list(session.scalars(select(Placement).where(Placement.active.is_(True))))
    layout = lay_out((placement_spot(p) for p in placements), host)
    shares = {p.id: p.shares_per_week for p in placements}
    today = tokyo_date(now)
    rows = session.execute(
        select(Booking, Shop, CreativeVersion, Creative.kind)
        .join(Shop, Shop.id == Booking.shop_id)
        .join(Creative, Creative.id == Booking.creative_id)
        .join(CreativeVersion, CreativeVersion.creative_id == Booking.creative_id)
        .where(Booking.status.in_(DELIVERABLE_STATUSES))
        .where(Booking.placement_id.in_(list(layout.served) or [-1]))
        .where(Booking.first_week <= week_start(today) + timedelta(days=7))
        .where(Booking.last_week >= week_start(today))
        .where(Shop.status == ShopStatus.APPROVED)
        .where(CreativeVersion.status == CreativeStatus.APPROVED)
        # A flyer whose 掲載期間 has passed is not shown, whatever was booked.
        .where(or_(CreativeVersion.shown_until.is_(None), CreativeVersion.shown_until >= today))
        # The image's bytes are served by their own route; every refresh would load them.
        .options(defer(CreativeVersion.image_data))
    ).all()
    candidates: dict[int, list[AdCandidate]] = {}
    for booking, shop, version, kind in rows:
        starts_at = start_of_tokyo_day(booking.first_week)
        ends_at = start_of_tokyo_day(booking.last_week + timedelta(days=7))
        if version.shown_from is not None and version.shown_until is not None:
            starts_at, ends_at = shown_window(
                version.shown_from, version.shown_until, starts_at, ends_at
            )
        candidate = AdCandidate(
            booking_id=booking.id,
            placement_id=booking.placement_id,
            shop_id=shop.id,
            shop_name=shop.business_name,
            shop_category=shop.category,
            creative_version_id=version.id,
            headline=version.headline,
            body=version.body,
            landing_url=version.landing_url,
            image_width=version.image_width,
            image_height=version.image_height,
            tags=extract_tags(f"{version.headline} {version.body}", vocabulary),
            targeting=parse_targeting(booking.targeting),
            share=booking.shares / shares[booking.placement_id],
            starts_at=starts_at,
            ends_at=ends_at,
            unit_price_yen=booking.unit_price_yen,
            kind=kind.value,
            sale_from=version.sale_from,
            sale_until=version.sale_until,
        )
        candidates.setdefault(booking.placement_id, []).append(candidate)
    for candidate in _owed_not_serving(session, list(layout.served), today, shares):
        candidates.setdefault(candidate.placement_id, []).append(candidate)
    # Clicks may arrive up to two hours after the offer, so every approved version keeps its URL.
    landing = {
        int(version_id): click_target(kind, str(url), int(creative_id), int(shop_id))
        for version_id, url, kind, creative_id, shop_id in session.execute(
            select(
                CreativeVersion.id,
                CreativeVersion.landing_url,
                Creative.kind,
                Creative.id,
                Creative.shop_id,
            )
            .join(Creative, Creative.id == CreativeVersion.creative_id)
            .where(CreativeVersion.status == CreativeStatus.APPROVED)
        ).tuples()
    }
    return Snapshot(
        loaded_at=now,
        disaster=is_disaster_mode(session),
        slots=layout.feed,
        side=layout.side,
        candidates={p: tuple(sorted(c, key=lambda b: b.booking_id)) for p, c in candidates.items()},
        landing_urls=landing,
        articles=articles,
        tag_vocabulary=vocabulary,
        house_ads=live_house_ads(session, now),
    )


def _owed_not_serving(
    session: Session, placements: list[int], today: date, shares: dict[int, int]
) -> list[AdCandidate]:
    """Bookings in their weeks that may not be shown now (paused by staff, creative awaiting
    review): never shown, but their eligible slots are counted, so they are owed them and catch
    up once they serve again (docs/delivery.md, "What a booking gets")."""
    rows = session.execute(
        select(Booking, Shop)
        .join(Shop, Shop.id == Booking.shop_id)
        .where(Booking.status.in_(OWED_NOT_SERVING))
        .where(Booking.placement_id.in_(placements or [-1]))
        .where(Booking.first_week <= week_start(today) + timedelta(days=7))
        .where(Booking.last_week >= week_start(today))
        .where(Shop.status == ShopStatus.APPROVED)
    ).all()
    return [
        AdCandidate(
            booking_id=booking.id,
            placement_id=booking.placement_id,
            shop_id=shop.id,
            shop_name=shop.business_name,
            shop_category=shop.category,
            creative_version_id=0,
            headline="",
            body="",
            landing_url="",
            tags=(),
            targeting=parse_targeting(booking.targeting),
            share=booking.shares / shares[booking.placement_id],
            starts_at=start_of_tokyo_day(booking.first_week),
            ends_at=start_of_tokyo_day(booking.last_week + timedelta(days=7)),
            unit_price_yen=booking.unit_price_yen,
            serving=False,
        )
        for booking, shop in rows
    ]


def _articles(session: Session, now: datetime) -> tuple[FeedArticle, ...]:
    # Columns, not ORM objects: this runs every refresh, on a thread sharing the GIL with the
    # feed, and plain rows cost a fraction of mapped instances.
    statement = (
        select(
            Article.id,
            Article.title,
            Article.summary,
            Article.url,
            Article.category,
            Article.tags,
            Article.priority,
            Article.published_at,
        )
        .where(Article.published_at <= now)
        .where(or_(Article.expires_at.is_(None), Article.expires_at > now))
        .order_by(PRIORITY_ORDER, Article.published_at.desc(), Article.id.desc())
        .limit(ARTICLE_POOL)
    )
    return tuple(
        FeedArticle(
            article_id=article_id,
            title=title,
            summary=summary,
            url=url,
            category=category,
            tags=tuple(tags or ()),
            priority=priority,
            published_at=published_at,
        )
        for article_id, title, summary, url, category, tags, priority, published_at in (
            session.execute(statement).tuples()
        )
    )


def extract_tags(text: str, vocabulary: Iterable[str]) -> tuple[str, ...]:
    """Tags of the article vocabulary that an ad's text mentions, longest first.

    Creatives carry no tags of their own; the words a shop writes are what the recommender
    can relate to residents' reading, so an ad mentioning 「紅葉」 is scored like 紅葉 articles.
    """
    found = [t for t in sorted(vocabulary, key=lambda t: (-len(t), t)) if t and t in text]
    kept: list[str] = []
    for tag in found:
        if not any(tag in longer for longer in kept):
            kept.append(tag)
    return tuple(kept[:MAX_AD_TAGS])
