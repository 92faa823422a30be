from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from marketplace.models import Article, InteractionEvent, Resident
from marketplace.recommender_frames import interactions_from_events, resident_features
from marketplace.training import train_and_promote
from marketplace.training_data import load_training_frames
from marketplace.vocab import AgeBand, ArticlePriority, Household, InteractionKind
from recommender.artifact import list_versions, load_artifact, promoted_version
from recommender.config import LightFMConfig
from recommender.errors import DataError

END = datetime(2026, 10, 31, tzinfo=UTC)
CONFIG = LightFMConfig(no_components=8, epochs=5, num_threads=1)


def _world(session: Session, n_residents: int = 80, n_articles: int = 24) -> None:
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


def test_load_training_frames_reads_only_consenting_residents(session: Session) -> None:
    _world(session)
    frames = load_training_frames(session)
    assert len(frames.residents) == 60  # 80 minus every fourth
    assert set(frames.residents.age_band) == {"30-39", "70+"}
    assert not frames.events.user_id.isin(["resident-000003", "resident-000007"]).any()
    assert set(frames.events.kind) == {"view", "click"}
    assert str(frames.events.occurred_at.dt.tz) == "UTC"
    assert frames.articles.published_at.dt.tz is not None
    assert frames.ads is None
    features = resident_features(frames.residents)
    assert {"age:30-39", "household:young_children", "interest:子育て"} <= set(features.feature)


def test_train_promotes_first_then_only_if_not_worse(session: Session, tmp_path: Path) -> None:
    _world(session)
    frames = load_training_frames(session)
    first = train_and_promote(frames, tmp_path, config=CONFIG, code_version="t", holdout_days=10)
    assert first.promoted and promoted_version(tmp_path) == first.version
    assert first.report.warm.n_users > 0
    warm = first.report.warm.models
    assert warm["model"].precision >= warm["popularity"].precision
    artifact = load_artifact(tmp_path)
    assert artifact.info.data_window["trained_until"] <= artifact.info.data_window["end"]
    assert artifact.info.metrics["warm"]["model"]["precision"] == warm["model"].precision

    # The same data and settings again: the current model is evaluated on the same holdout.
    second = train_and_promote(frames, tmp_path, config=CONFIG, code_version="t", holdout_days=10)
    assert "current" in second.report.warm.models
    assert second.previous_version == first.version
    assert second.promoted  # identical training (one thread) cannot be worse
    # An impossible bar keeps the previous model serving, but the new version is kept.
    worse = CONFIG.with_overrides(epochs=1, learning_rate=1e-6)
    third = train_and_promote(frames, tmp_path, config=worse, code_version="t", holdout_days=10)
    assert not third.promoted and "<" in third.reason
    assert promoted_version(tmp_path) == second.version
    assert len(list_versions(tmp_path)) == 3


def test_train_refuses_an_empty_database(session: Session, tmp_path: Path) -> None:
    frames = load_training_frames(session)
    with pytest.raises(DataError, match="no interaction events"):
        train_and_promote(frames, tmp_path, config=CONFIG, code_version="t")


def test_interactions_weigh_clicks_and_decay_with_age() -> None:
    now = datetime(2026, 1, 31, tzinfo=UTC)
    events = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b"],
            "item_id": ["x", "x", "y", "x"],
            "kind": ["view", "click", "view", "view"],
            "occurred_at": [now, now, now - timedelta(days=30), now - timedelta(days=60)],
        }
    )
    out = interactions_from_events(events, now, half_life_days=30).set_index(["user_id", "item_id"])
    assert out.loc[("a", "x"), "weight"] == pytest.approx(4.0)  # view 1 + click 3
    assert out.loc[("a", "y"), "weight"] == pytest.approx(0.5)
    assert out.loc[("b", "x"), "weight"] == pytest.approx(0.25)
    assert out.loc[("a", "y"), "timestamp"] == pd.Timestamp(now - timedelta(days=30))
    with pytest.raises(ValueError, match="unknown kind 'share'"):
        interactions_from_events(events.assign(kind="share"), now)
