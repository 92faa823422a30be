"""Four weeks of aggregate traffic on a placement, for reach forecasts (quotes, staff pages)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.delivery.models import SlotOpportunity
from marketplace.models import Article, InteractionEvent, Placement, Resident
from marketplace.vocab import AgeBand, Household, InteractionKind


def traffic(session: Session, placement: Placement) -> None:
    """Four weeks of visits: 200 residents in their 40s in sakaemachi, 30 over 70 in
    tsuruga and 5 over 70 in ikki, each reading an article a day; 235 slots a day."""
    now = utcnow()
    article = Article(
        external_id="reach-1", title="お知らせ", summary="", url="https://example.jp/1",
        category="イベント", tags=[], published_at=now - timedelta(days=40),
    )  # fmt: skip
    session.add(article)
    groups = [(AgeBand("40-49"), "sakaemachi", 200), (AgeBand("70+"), "tsuruga", 30),
              (AgeBand("70+"), "ikki", 5)]  # fmt: skip
    n = 0
    for age, district, count in groups:
        for _ in range(count):
            n += 1
            resident = Resident(
                external_id=f"reach-{n}", age_band=age, household=Household("single"),
                district=district, interests=[], personalization_consent=True,
            )  # fmt: skip
            session.add(resident)
            session.flush()
            for day in range(28):
                session.add(
                    InteractionEvent(
                        resident_id=resident.id, article_id=article.id,
                        kind=InteractionKind.VIEW, occurred_at=now - timedelta(days=day, hours=3),
                    )
                )  # fmt: skip
    hour = now.replace(minute=0, second=0, microsecond=0)
    for day in range(28):
        session.add(
            SlotOpportunity(
                batch_id=f"reach-{day}", placement_id=placement.id,
                hour_start=hour - timedelta(days=day, hours=2), worker_id="w", slots=235,
            )
        )  # fmt: skip
    session.flush()
