"""What every request handler of the plugin can reach: settings, database, hooks, limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from marketplace.db import make_engine, make_session_factory
from portal_plugin.hooks import PortalHooks
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
    # Long-lived in-memory services (scorer, decision cache, event writer) register here.
    services: dict[str, Any]

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
            services={},
        )

    async def in_transaction(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work(session, *args)` in one transaction on a worker thread; commit or roll back."""

        def run() -> T:
            with self.session_factory.begin() as session:
                return work(session, *args, **kwargs)

        return await run_in_threadpool(run)


def context(request: Request) -> PluginContext:
    ctx: PluginContext = request.app.state.ctx
    return ctx
