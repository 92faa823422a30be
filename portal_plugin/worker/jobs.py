"""The periodic jobs and their schedule (Asia/Tokyo). Each job owns its transactions.

A job is a function of a `JobEnv` that does its work in one or more transactions of its own and
returns one line saying what it did. The CLI's periodic commands call the same functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from portal_plugin.settings import Settings

if TYPE_CHECKING:
    from billing.stripe_adapter import StripeGateway


@dataclass(frozen=True)
class JobEnv:
    """What a job may use: the settings and a database (it opens its own transactions)."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    now: Callable[[], datetime] = field(default=utcnow)


@dataclass(frozen=True)
class Job:
    name: str
    label: str  # Japanese, for the staff page
    schedule: str  # Japanese, for the staff page and the README
    trigger: Callable[[tzinfo], BaseTrigger]
    run: Callable[[JobEnv], str]
    # Without a successful run for this long, the job is late (shown to admins and in /healthz).
    late_after: timedelta
    # SQLite's lock row lapses after this, so a crashed worker's lock frees itself.
    lease: timedelta = timedelta(minutes=30)
    # Jobs that must not overlap each other share a lock (training and the model refresh).
    lock: str = ""
    # A daily or monthly job whose time passed while no worker ran is run when a worker starts.
    catch_up: bool = False
    attempts: int = 3

    @property
    def lock_name(self) -> str:
        return self.lock or self.name


def every(**interval: int) -> Callable[[tzinfo], BaseTrigger]:
    return lambda zone: IntervalTrigger(timezone=zone, **interval)


def cron(**fields: int | str) -> Callable[[tzinfo], BaseTrigger]:
    return lambda zone: CronTrigger(timezone=zone, **fields)


# --- the jobs ------------------------------------------------------------------------------


def expire_holds(env: JobEnv) -> str:
    from marketplace.bookings.controls import expire_hold, expired_hold_ids

    now = env.now()
    with env.session_factory.begin() as session:
        candidates = expired_hold_ids(session, now)
    expired = 0
    # One transaction per booking: each locks one booking and its weeks, in order.
    for booking_id in candidates:
        with env.session_factory.begin() as session:
            expired += expire_hold(session, booking_id, now)
    return f"expired {expired} hold(s)"


def advance_schedule(env: JobEnv) -> str:
    from marketplace.bookings.controls import advance_schedule as advance

    with env.session_factory.begin() as session:
        changed = advance(session, env.now())
    return f"{changed} booking(s) changed status"


def cancellations(env: JobEnv) -> str:
    from billing.bookings import process_cancellations
    from portal_plugin.billing_setup import billing_config

    with env.session_factory.begin() as session:
        handled = process_cancellations(
            session, billing_config(env.settings), gateway=stripe_gateway(env.settings)
        )
    return f"{handled} cancellations handled"


def refresh_reach(env: JobEnv) -> str:
    from analytics.audience import refresh_live_bookings

    with env.session_factory.begin() as session:
        count = refresh_live_bookings(session, env.now())
    return f"saved the audience reach of {count} bookings"


def recognise(env: JobEnv, through: date | None = None) -> str:
    from billing.recognition import recognise_revenue

    day = through or tokyo_date(env.now())
    with env.session_factory.begin() as session:
        result = recognise_revenue(session, day)
    return f"recognised ¥{result.amount:,} in {result.transactions} transactions through {day}"


def make_goods(env: JobEnv) -> str:
    from billing.make_goods import run_make_goods
    from portal_plugin.billing_setup import billing_config

    today = tokyo_date(env.now())
    through = today - timedelta(days=1)
    with env.session_factory.begin() as session:
        done, unmeasured = run_make_goods(
            session,
            billing_config(env.settings),
            through=through,
            gateway=stripe_gateway(env.settings),
            today=today,
            # The cap the feed uses: the credit note's cause reads the reach forecast with it.
            cap=env.settings.delivery_frequency_cap,
        )
    credited = sum(r.credit_yen for r in done)
    refunded = sum(r.refund_yen for r in done)
    return (
        f"{len(done)} bookings handled through {through}: ¥{credited:,} credited, "
        f"¥{refunded:,} refunded; {len(unmeasured)} not measurable"
    )


def month_end(env: JobEnv) -> str:
    from billing.bookings import process_cancellations, run_month_end
    from billing.recognition import recognise_revenue
    from portal_plugin.billing_setup import billing_config

    config = billing_config(env.settings)
    day = tokyo_date(env.now())
    with env.session_factory.begin() as session:
        cancelled = process_cancellations(
            session, config, gateway=stripe_gateway(env.settings), today=day
        )
        result = run_month_end(session, config, day)
        recognised = recognise_revenue(session, day)
    return (
        f"{len(result.invoices)} invoices issued for {result.bookings_seen} bookings; "
        f"{cancelled} cancellations handled; ¥{recognised.amount:,} revenue recognised"
    )


def purge(env: JobEnv, months: int | None = None) -> str:
    from analytics.retention import purge_raw_events

    with env.session_factory.begin() as session:
        result = purge_raw_events(
            session, env.now(), months or env.settings.raw_event_retention_months
        )
    return (
        f"deleted events before {result.cutoff.isoformat()}: {result.offers} offers, "
        f"{result.impressions} impressions, {result.clicks} clicks, "
        f"{result.opportunities} slot counts, {result.interactions} interactions "
        f"({result.snapshots} bookings' audience reach saved first)"
    )


def train(env: JobEnv) -> str:
    """The nightly training with the CLI's defaults (settings chosen within 120 CPU s)."""
    from marketplace.training.data import load_training_frames
    from marketplace.training.pipeline import train_and_promote
    from portal_plugin.code_version import code_version
    from recommender.config import LightFMConfig
    from recommender.selection import SearchSpace

    with env.session_factory.begin() as session:
        frames = load_training_frames(session)
    outcome = train_and_promote(
        frames,
        Path(env.settings.model_store_dir),
        config=LightFMConfig().with_overrides(num_threads=1),
        code_version=code_version(),
        space=SearchSpace(budget_seconds=120.0, k=10),
    )
    state = "promoted" if outcome.promoted else "saved, NOT promoted"
    return f"model {outcome.version} {state}: {outcome.reason}"


def refresh_model(env: JobEnv) -> str:
    from marketplace.training.refresh import refresh_from_database
    from portal_plugin.code_version import code_version

    with env.session_factory.begin() as session:
        outcome = refresh_from_database(
            session, Path(env.settings.model_store_dir), code_version=code_version()
        )
    if outcome.version is None:
        return f"no refresh: {outcome.reason} (serving {outcome.previous_version})"
    state = "promoted" if outcome.promoted else "saved, NOT promoted"
    return (
        f"model {outcome.version} {state}: {outcome.reason}; folded in {outcome.new_pairs} "
        f"new pairs into {outcome.previous_version}"
    )


def reconcile_stripe(env: JobEnv) -> str:
    import time
    from collections.abc import Iterator
    from contextlib import contextmanager

    from billing.webhooks import reconcile
    from portal_plugin.billing_setup import stripe_provider

    provider = stripe_provider(env.settings)
    if provider is None:
        return "Stripe is not configured"

    @contextmanager
    def scope() -> Iterator[Session]:
        with env.session_factory.begin() as session:
            yield session

    results = reconcile(scope, provider, int(time.time()) - 3 * 86_400)
    applied = sum(1 for result in results if result[2] != "duplicate")
    return f"{len(results)} Stripe events listed, {applied} applied now"


def stripe_gateway(settings: Settings) -> StripeGateway | None:
    from portal_plugin.billing_setup import stripe_provider

    provider = stripe_provider(settings)
    return provider.gateway if provider else None


MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

JOBS: tuple[Job, ...] = (
    Job("expire_holds", "仮押さえの期限切れ", "1分ごと", every(minutes=1), expire_holds,
        late_after=10 * MINUTE, lease=10 * MINUTE),
    Job("advance_schedule", "予約の掲載開始・終了", "5分ごと", every(minutes=5),
        advance_schedule, late_after=30 * MINUTE, lease=10 * MINUTE),
    Job("cancellations", "キャンセルの減額・返金", "5分ごと", every(minutes=5), cancellations,
        late_after=30 * MINUTE),
    Job("refresh_reach", "配信到達数の集計", "10分ごと", every(minutes=10), refresh_reach,
        late_after=HOUR),
    Job("reconcile_stripe", "Stripeイベントの照合", "毎時5分", cron(minute=5),
        reconcile_stripe, late_after=2 * HOUR),
    Job("recognise", "売上の計上（日割り）", "毎日 0:20", cron(hour=0, minute=20), recognise,
        late_after=DAY + 2 * HOUR, catch_up=True),
    Job("make_goods", "配信不足の補償", "毎日 0:40", cron(hour=0, minute=40), make_goods,
        late_after=DAY + 2 * HOUR, catch_up=True),
    Job("train", "推薦モデルの学習", "毎日 2:00", cron(hour=2, minute=0), train,
        late_after=DAY + 2 * HOUR, lease=3 * HOUR, lock="recommender_model"),
    Job("refresh_model", "推薦モデルの差分更新", "3時間ごと（0:15から）",
        cron(hour="*/3", minute=15), refresh_model, late_after=4 * HOUR, lease=HOUR,
        lock="recommender_model"),
    Job("purge", "保存期間を過ぎたイベントの削除", "毎日 3:30", cron(hour=3, minute=30),
        purge, late_after=DAY + 2 * HOUR, catch_up=True),
    Job("month_end", "月末の請求書発行", "毎月末日 9:00", cron(day="last", hour=9, minute=0),
        month_end, late_after=32 * DAY, lease=2 * HOUR),
)  # fmt: skip

JOBS_BY_NAME = {job.name: job for job in JOBS}


def jobs_for(settings: Settings) -> tuple[Job, ...]:
    """The jobs this deployment runs: Stripe's reconciliation only where Stripe is set up."""
    return tuple(job for job in JOBS if job.name != "reconcile_stripe" or settings.stripe_api_key)
