from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.models import Article, InteractionEvent, Resident, Shop
from marketplace.synthetic import generate_city
from marketplace.synthetic.loader import load_city


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_small_city_loads_every_row_and_keeps_external_ids(session: Session) -> None:
    city = generate_city(300, n_articles=40, n_shops=10, days=14, seed=3)
    summary = load_city(session, city)
    assert not summary.skipped
    assert count(session, Resident) == 300
    assert count(session, Article) == 40
    assert count(session, Shop) == 10
    assert count(session, InteractionEvent) == len(city.events) == summary.events
    first = session.scalar(select(Resident).where(Resident.external_id == "resident-000001"))
    assert first is not None
    assert first.age_band is not None and first.age_band.value == city.residents.iloc[0]["age_band"]


def test_events_point_at_the_right_resident_and_article(session: Session) -> None:
    city = generate_city(200, n_articles=30, n_shops=5, days=7, seed=4)
    load_city(session, city)
    expected = Counter(city.residents["external_id"].iloc[city.events["resident_idx"]].tolist())
    rows = session.execute(
        select(Resident.external_id, func.count())
        .join(InteractionEvent, InteractionEvent.resident_id == Resident.id)
        .group_by(Resident.external_id)
    ).all()
    assert dict(rows) == dict(expected)
    earliest = session.scalar(select(func.min(InteractionEvent.occurred_at)))
    assert earliest is not None and earliest.tzinfo is not None


def test_seeding_twice_reuses_the_existing_city(session: Session) -> None:
    city = generate_city(100, n_articles=20, n_shops=5, days=7, seed=5)
    load_city(session, city)
    again = load_city(session, city)
    assert again.skipped
    assert count(session, Resident) == 100
