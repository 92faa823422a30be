"""Starting and stopping the delivery service with the app (STARTUP_HOOKS / SHUTDOWN_HOOKS)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from marketplace.db import make_session_factory, utcnow
from marketplace.delivery.feed_policy import FeedRules
from marketplace.delivery.models import AdImpression
from marketplace.delivery.relevance import AdRelevance, RelevanceScorer, TagProfileScorer
from marketplace.delivery.service import DeliveryService
from marketplace.delivery.tracking import TokenSigner
from marketplace.delivery.types import Audience
from marketplace.delivery.writer import EventWriter
from marketplace.models import Article, InteractionEvent, Resident
from portal_plugin.context import PluginContext

log = logging.getLogger(__name__)

SERVICE_KEY = "delivery"
HISTORY_DAYS = 30
HISTORY_ROWS = 150_000
REFERENCE_RESIDENTS = 1_000


def delivery_service(ctx: PluginContext) -> DeliveryService | None:
    service = ctx.services.get(SERVICE_KEY)
    return service if isinstance(service, DeliveryService) else None


async def start_delivery(ctx: PluginContext) -> None:
    settings = ctx.settings
    writer = EventWriter(ctx.engine, settings.delivery_spool_dir)
    # Its own sessions on the engine: the service's threads never share a request's session.
    session_factory = make_session_factory(ctx.engine)

    def impression_seen(offer_id: str) -> bool:
        with session_factory() as session:
            return session.get(AdImpression, offer_id) is not None

    service = DeliveryService(
        session_factory,
        writer,
        TokenSigner(settings.secret_key),
        settings.portal_identity_secret,
        TagProfileScorer({}, {}),
        rules=FeedRules(
            ad_positions=settings.delivery_ad_positions,
            frequency_cap_per_day=settings.delivery_frequency_cap,
        ),
        refresh_seconds=settings.delivery_refresh_seconds,
        impression_seen=impression_seen,
    )
    await run_in_threadpool(service.start)
    ctx.services[SERVICE_KEY] = service
    # Relevance needs the history; the feed serves (non-personalized ranking) until it is ready.
    threading.Thread(
        target=_load_relevance,
        args=(ctx, service, session_factory),
        name="delivery-relevance",
        daemon=True,
    ).start()


async def stop_delivery(ctx: PluginContext) -> None:
    service = ctx.services.pop(SERVICE_KEY, None)
    if isinstance(service, DeliveryService):
        await run_in_threadpool(service.stop)


def _load_relevance(
    ctx: PluginContext, service: DeliveryService, session_factory: sessionmaker[Session]
) -> None:
    try:
        with session_factory() as session:
            scorer = _recommender_scorer(ctx)
            name = "lightfm"
            if scorer is None:
                scorer, name = _history_scorer(session), "tag_profile"
            reference = _reference(session)
    except Exception:
        log.exception("delivery relevance not loaded; ads are paced without relevance")
        return
    service.use_scorer(scorer, AdRelevance(scorer, reference), name)


def _recommender_scorer(ctx: PluginContext) -> RelevanceScorer | None:
    from marketplace.delivery.recommender_scorer import RecommenderScorer
    from recommender.scorer import ScorerHolder

    holder = ScorerHolder(ctx.settings.model_store_dir)
    if not holder.reload() or holder.current is None:
        return None
    return RecommenderScorer(holder.current)


def _history_scorer(session: Session) -> TagProfileScorer:
    since = utcnow() - timedelta(days=HISTORY_DAYS)
    rows = session.execute(
        select(
            Resident.external_id,
            Resident.age_band,
            Resident.household,
            Article.category,
            Article.tags,
        )
        .select_from(InteractionEvent)
        .join(Resident, Resident.id == InteractionEvent.resident_id)
        .join(Article, Article.id == InteractionEvent.article_id)
        .where(InteractionEvent.occurred_at >= since, Resident.personalization_consent.is_(True))
        .order_by(InteractionEvent.occurred_at.desc())
        .limit(HISTORY_ROWS)
    ).tuples()
    return TagProfileScorer.fit(
        (
            key,
            age.value if age else None,
            household.value if household else None,
            (f"category:{category}", *(f"tag:{t}" for t in tags or ())),
        )
        for key, age, household, category, tags in rows
    )


def _reference(session: Session) -> list[Audience]:
    residents = session.scalars(
        select(Resident)
        .where(Resident.personalization_consent.is_(True))
        .order_by(Resident.id)
        .limit(REFERENCE_RESIDENTS)
    )
    return [
        Audience(
            key=r.external_id,
            age_band=r.age_band.value if r.age_band else None,
            household=r.household.value if r.household else None,
            district=r.district,
            interests=tuple(r.interests or ()),
            consent=True,
        )
        for r in residents
    ]
