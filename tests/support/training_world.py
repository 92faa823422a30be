"""A small portal for training tests: families click 子育て, seniors click 健康・医療."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from marketplace.models import Article, InteractionEvent, Resident
from marketplace.vocab import AgeBand, ArticlePriority, Household, InteractionKind

END = datetime(2026, 10, 31, tzinfo=UTC)


def training_world(session: Session, n_residents: int = 80, n_articles: int = 24) -> None:
    """Families click 子育て, seniors click 健康・医療; every fourth resident withholds consent."""
    rng = np.random.default_rng(0)
    residents = []
    for i in range(n_residents):
        family = i % 2 == 0
        residents.append(
            Resident(
                external_id=f"resident-{i:06d}",
                age_band=AgeBand.AGE_30S if family else AgeBand.AGE_70_PLUS,
                household=Household.YOUNG_CHILDREN if family else Household.ELDERLY_ONLY,
                district="tsuruga",
                interests=["子育て"] if family else [],
                gadgets=[],
                personalization_consent=i % 4 != 3,
            )
        )
    articles = []
    for j in range(n_articles):
        published = END - timedelta(days=int(rng.integers(1, 40)))
        articles.append(
            Article(
                external_id=f"article-{j:05d}",
                title="お知らせ",
                url=f"https://www.city.aizuwakamatsu.fukushima.jp/docs/{j}/",
                category="子育て" if j % 2 == 0 else "健康・医療",
                tags=["保育園"] if j % 2 == 0 else ["健康相談"],
                priority=ArticlePriority.NORMAL,
                published_at=published,
                expires_at=None,
            )
        )
    session.add_all(residents + articles)
    session.flush()
    events = []
    for i, resident in enumerate(residents):
        own = [a for j, a in enumerate(articles) if j % 2 == i % 2]
        for article in rng.choice(len(own), size=6, replace=False):
            chosen = own[article]
            when = chosen.published_at + timedelta(hours=int(rng.integers(1, 200)))
            when = min(when, END)
            for kind in (InteractionKind.VIEW, InteractionKind.CLICK):
                events.append(
                    InteractionEvent(
                        resident_id=resident.id, article_id=chosen.id, kind=kind, occurred_at=when
                    )
                )
    session.add_all(events)
    session.flush()
