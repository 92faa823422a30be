"""What every request handler of the plugin can reach: settings, database, hooks, limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from marketplace.db import make_engine, make_session_factory, run_transaction
from marketplace.delivery.forecast_traffic import RecentTraffic
from portal_plugin.hooks import PortalHooks
from portal_plugin.mail import Mailer
from portal_plugin.metrics import ServingMetrics
from portal_plugin.security.hashing_gate import HashingGate
from portal_plugin.security.ratelimit import RateLimiter
from portal_plugin.settings import Settings

T = TypeVar("T")


@dataclass
class PluginContext:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    hooks: PortalHooks
    rate_limiter: RateLimiter
    mailer: Mailer
    hashing: HashingGate
    # Long-lived in-memory services (scorer, decision cache, event writer) register here.
    services: dict[str, Any]
    # What this process counts for /metrics (feed latency, events stored).
    metrics: ServingMetrics = field(default_factory=ServingMetrics)
    # Placements' recent traffic for quotes and holds, one reading per placement a few minutes.
    recent_traffic: RecentTraffic = field(default_factory=RecentTraffic)

    @classmethod
    def build(
        cls, settings: Settings, hooks: PortalHooks | None = None, engine: Engine | None = None
    ) -> PluginContext:
        engine = engine or make_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=make_session_factory(engine),
            hooks=hooks or PortalHooks(settings),
            rate_limiter=RateLimiter(settings.rate_limit_storage_url),
            mailer=Mailer(settings),
            hashing=HashingGate(settings.password_hash_concurrency, settings.password_hash_queue),
            services={},
            metrics=ServingMetrics(settings.prometheus_multiproc_dir),
        )

    async def in_transaction(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work(session, *args)` in one transaction on a worker thread; commit or roll back."""

        return await run_in_threadpool(run_transaction, self.session_factory, work, *args, **kwargs)

    async def in_hashing_transaction(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`in_transaction` for work that hashes or checks a password: through the gate."""
        return await self.hashing.run(run_transaction, self.session_factory, work, *args, **kwargs)


def context(request: Request) -> PluginContext:
    ctx: PluginContext = request.app.state.ctx
    return ctx
