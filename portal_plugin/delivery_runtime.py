"""Starting and stopping the delivery service with the app (STARTUP_HOOKS / SHUTDOWN_HOOKS)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from marketplace.db import make_session_factory
from marketplace.delivery.exploration import ExplorationRules
from marketplace.delivery.feed_policy import FeedRules
from marketplace.delivery.history import history_scorer, impression_recorded, reference_audiences
from marketplace.delivery.precompute import ResidentPrecompute
from marketplace.delivery.recommender_scorer import HeldRecommenderScorer
from marketplace.delivery.relevance import AdRelevance, TagProfileScorer
from marketplace.delivery.service import DeliveryService
from marketplace.delivery.tracking import TokenSigner
from marketplace.delivery.types import Audience
from marketplace.delivery.writer import EventWriter
from portal_plugin.context import PluginContext
from recommender.artifact import promoted_version
from recommender.scorer import ScorerHolder

log = logging.getLogger(__name__)

SERVICE_KEY = "delivery"
MODEL_KEY = "delivery_model"
PRECOMPUTE_KEY = "delivery_precompute"
RELEVANCE_THREAD_KEY = "delivery_relevance_thread"
# How long stopping waits for the relevance thread to finish the step it is in (loading the
# history, ranking residents ahead); it checks for the stop between steps.
RELEVANCE_STOP_SECONDS = 30.0
# How many app lifespans share the running service: tests (and hosts) may enter the lifespan
# of one app several times at once; the service starts with the first and stops with the last.
USERS_KEY = "delivery_users"


def delivery_service(ctx: PluginContext) -> DeliveryService | None:
    service = ctx.services.get(SERVICE_KEY)
    return service if isinstance(service, DeliveryService) else None


def delivery_readiness(ctx: PluginContext) -> dict[str, object] | None:
    """How far this worker's delivery has come: model loaded, residents ranked ahead."""
    service = delivery_service(ctx)
    if service is None:
        return None
    precompute = ctx.services.get(PRECOMPUTE_KEY)
    return {
        "relevance_model": service.relevance_model,
        "residents_ranked_ahead": isinstance(precompute, ResidentPrecompute)
        and precompute.is_current(),
    }


async def start_delivery(ctx: PluginContext) -> None:
    users = int(ctx.services.get(USERS_KEY, 0))
    ctx.services[USERS_KEY] = users + 1
    if users and delivery_service(ctx) is not None:
        return
    settings = ctx.settings
    writer = EventWriter(ctx.engine, settings.delivery_spool_dir, stored=ctx.metrics.events_stored)
    # Its own sessions on the engine: the service's threads never share a request's session.
    session_factory = make_session_factory(ctx.engine)

    def impression_seen(offer_id: str) -> bool:
        with session_factory() as session:
            return impression_recorded(session, offer_id)

    service = DeliveryService(
        session_factory,
        writer,
        TokenSigner(settings.secret_key, settings.traffic_limits.impression_window_seconds),
        settings.portal_identity_secret,
        TagProfileScorer({}, {}),
        rules=FeedRules(
            ad_positions=settings.delivery_ad_positions,
            frequency_cap_per_day=settings.delivery_frequency_cap,
        ),
        host=settings.host_layout,
        refresh_seconds=settings.delivery_refresh_seconds,
        impression_seen=impression_seen,
        exploration=ExplorationRules(share=settings.delivery_exploration_share),
        limits=settings.traffic_limits,
    )
    await run_in_threadpool(service.start)
    ctx.services[SERVICE_KEY] = service
    loaded = ctx.hooks.long_lived_data_loaded
    reloader = ModelReloader(ScorerHolder(settings.model_store_dir), service, loaded)
    ctx.services[MODEL_KEY] = reloader
    precompute = ctx.services[PRECOMPUTE_KEY] = ResidentPrecompute(service, session_factory)
    # Relevance needs the history; the feed serves (non-personalized ranking) until it is ready.
    relevance = ctx.services[RELEVANCE_THREAD_KEY] = threading.Thread(
        target=_load_relevance,
        args=(
            service,
            reloader,
            precompute,
            session_factory,
            settings.delivery_refresh_seconds,
            loaded,
        ),
        name="delivery-relevance",
        daemon=True,
    )
    relevance.start()


async def stop_delivery(ctx: PluginContext) -> None:
    users = max(0, int(ctx.services.get(USERS_KEY, 1)) - 1)
    ctx.services[USERS_KEY] = users
    if users:
        return
    ctx.services.pop(PRECOMPUTE_KEY, None)
    reloader = ctx.services.pop(MODEL_KEY, None)
    if isinstance(reloader, ModelReloader):
        reloader.stopped.set()
    # Joined, not left running: it queries the database, and a host (or a test) disposes of
    # the engine once the plugin has stopped.
    relevance = ctx.services.pop(RELEVANCE_THREAD_KEY, None)
    if isinstance(relevance, threading.Thread):
        await run_in_threadpool(relevance.join, RELEVANCE_STOP_SECONDS)
        if relevance.is_alive():
            log.warning(
                "delivery relevance still working %.0f s after stop", RELEVANCE_STOP_SECONDS
            )
    service = ctx.services.pop(SERVICE_KEY, None)
    if isinstance(service, DeliveryService):
        await run_in_threadpool(service.stop)


class ModelReloader:
    """Serves the promoted recommender model and swaps in a newly promoted one, no restart.

    The feed reads the holder's current scorer per request (``HeldRecommenderScorer``);
    ``poll`` only notices a changed promoted pointer, loads the new artifact off to the side
    and, once it is complete, tells the service so its ranking caches start afresh. A version
    that fails to load is not retried (artifacts are immutable); the previous model serves.
    """

    def __init__(
        self,
        holder: ScorerHolder,
        service: DeliveryService,
        loaded: Callable[[], None] = lambda: None,
    ) -> None:
        self.holder = holder
        self.loaded = loaded
        self.scorer = HeldRecommenderScorer(holder)
        self.stopped = threading.Event()
        self._service = service
        self.reference: list[Audience] = []
        self._failed: str | None = None

    def poll(self) -> bool:
        """True if a newly promoted model now serves the feed."""
        promoted = promoted_version(self.holder.store)
        if promoted is None or promoted in (self.holder.version, self._failed):
            return False
        if not self.holder.reload():
            self._failed = promoted if self.holder.version != promoted else None
            return False
        self._failed = None
        log.info("recommender model %s now serves the feed", self.holder.version)
        self._service.use_scorer(self.scorer, AdRelevance(self.scorer, self.reference), "lightfm")
        self.loaded()
        return True

    def poll_safely(self) -> bool:
        try:
            return self.poll()
        except Exception:  # the feed must keep serving whatever the model store does
            log.exception("recommender model reload failed; the previous model serves")
            return False


def _load_relevance(
    service: DeliveryService,
    reloader: ModelReloader,
    precompute: ResidentPrecompute,
    session_factory: sessionmaker[Session],
    interval: float,
    loaded: Callable[[], None],
) -> None:
    try:
        with session_factory() as session:
            reloader.reference = reference_audiences(session)
            if not reloader.poll():
                scorer = history_scorer(session)
                service.use_scorer(scorer, AdRelevance(scorer, reloader.reference), "tag_profile")
                loaded()
    except Exception:
        if service.stopped:  # the app shut down (and its database may be gone) meanwhile
            return
        log.exception("delivery relevance not loaded; ads are paced without relevance")
    while not reloader.stopped.is_set():
        try:
            # The rankings and relevance just worked out are long-lived, like the model.
            precompute.run_if_changed(then=loaded)
        except Exception:  # first feeds are then ranked on the request path, as before
            if service.stopped:
                return
            log.exception("residents' rankings not worked out ahead")
        if reloader.stopped.wait(interval):
            return
        reloader.poll_safely()
