from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.artifact import Artifact, load_artifact, promote, save_artifact
from recommender.dataset import Dataset
from recommender.model import LightFMRecommender
from recommender.scorer import Scorer, ScorerHolder
from recommender.state import ModelState
from tests.support.recommender_world import COLD_FAMILY


@pytest.fixture(scope="module")
def fitted() -> LightFMRecommender:
    from tests.support.recommender_world import small_world

    interactions, users, items = small_world()
    config = {"no_components": 8, "epochs": 30, "learning_rate": 0.1}
    return LightFMRecommender(config).fit(Dataset.construct(interactions, users, items))


@pytest.fixture(scope="module")
def scorer(fitted: LightFMRecommender, tmp_path_factory: pytest.TempPathFactory) -> Scorer:
    store = tmp_path_factory.mktemp("store")
    info = save_artifact(store, ModelState.from_model(fitted), code_version="test")
    return Scorer(load_artifact(store, info.version))


def test_scorer_matches_the_model_for_warm_and_cold_users(
    fitted: LightFMRecommender, scorer: Scorer
) -> None:
    for user in ("u00", "u01", "u33"):
        expected = fitted.recommend([user], 5)
        got = scorer.top_k(user, 5)
        assert [s.item_id for s in got] == list(expected.item_id)
    expected = fitted.recommend(["new-family"], 5, user_features=COLD_FAMILY)
    got = scorer.top_k("new-family", 5, features=list(COLD_FAMILY.feature))
    assert [s.item_id for s in got] == list(expected.item_id)
    # Scores differ only by the per-user bias, which the scorer leaves out (same ranking).
    diffs = np.array([s.score for s in got]) - expected.score.to_numpy()
    np.testing.assert_allclose(diffs, diffs[0], atol=1e-4)


def test_no_consent_means_no_profile_and_no_history(
    fitted: LightFMRecommender, scorer: Scorer
) -> None:
    popular = scorer.top_k(None, 5, consent=True)
    for user, features in (("u00", ()), ("new-family", tuple(COLD_FAMILY.feature))):
        anonymous = scorer.top_k(user, 5, consent=False, features=features)
        assert [s.item_id for s in anonymous] == [s.item_id for s in popular]
    counts = np.asarray(fitted.dataset.interactions.getnnz(axis=0))
    top = fitted.dataset.item_map.to_external(np.argsort(-counts, kind="stable")[:1])
    assert popular[0].item_id == top[0]


def test_filters(scorer: Scorer) -> None:
    live = scorer.item_mask(["i00", "i01", "i02", "i15", "unknown"])
    got = scorer.top_k("u00", 10, candidates=live, exclude=["i01"], exclude_seen=False)
    assert {s.item_id for s in got} <= {"i00", "i02", "i15"}
    assert [s.item_id for s in got][-1] == "i15"
    assert scorer.top_k("u00", 0) == []


def test_new_items_are_ranked_from_their_features(scorer: Scorer) -> None:
    extended = scorer.with_new_items(
        {"fresh-kids": ["category:子育て", "tag:new-tag"], "fresh-health": ["category:健康・医療"]}
    )
    assert extended.n_items == scorer.n_items + 2 and scorer.n_items == 20
    only_new = extended.item_mask(["fresh-kids", "fresh-health"])
    family = extended.top_k("u00", 2, candidates=only_new)
    senior = extended.top_k("u01", 2, candidates=only_new)
    assert family[0].item_id == "fresh-kids" and senior[0].item_id == "fresh-health"
    assert scorer.with_new_items({"i00": ["category:子育て"]}) is scorer


def test_holder_swaps_atomically_and_keeps_the_previous_model(
    fitted: LightFMRecommender, tmp_path: Path
) -> None:
    holder = ScorerHolder(tmp_path)
    assert not holder.reload() and holder.current is None
    assert holder.last_error is not None and "no promoted model" in holder.last_error
    state = ModelState.from_model(fitted)
    first = save_artifact(tmp_path, state, code_version="a").version
    promote(tmp_path, first)
    assert holder.reload() and holder.version == first
    assert not holder.reload()  # unchanged
    from datetime import UTC, datetime

    second = save_artifact(
        tmp_path, state, code_version="b", now=datetime(2030, 1, 1, tzinfo=UTC)
    ).version
    promote(tmp_path, second)
    (tmp_path / "versions" / second / "state.npz").write_bytes(b"garbage")
    assert not holder.reload()
    assert holder.version == first and "checksum" in str(holder.last_error)

    # Readers on other threads always see a complete scorer while reloads happen.
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(200):
                current = holder.current
                assert current is not None and len(current.top_k("u00", 3)) == 3
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(5):
        holder.reload()
    for t in threads:
        t.join()
    assert not errors


def test_holder_uses_the_given_loader(fitted: LightFMRecommender, tmp_path: Path) -> None:
    state = ModelState.from_model(fitted)
    version = save_artifact(tmp_path, state, code_version="x").version
    promote(tmp_path, version)
    loaded: list[str] = []

    def loader(store: str | Path, v: str) -> Artifact:
        loaded.append(v)
        return load_artifact(store, v)

    holder = ScorerHolder(tmp_path, loader=loader)
    assert holder.reload() and loaded == [version]
    assert isinstance(holder.current, Scorer)
    assert pd.Index(holder.current.item_ids).is_unique


def test_artifact_recommender_ranks_like_the_model_it_came_from(
    fitted: LightFMRecommender, scorer: Scorer
) -> None:
    from recommender.frozen import ArtifactRecommender

    frozen = ArtifactRecommender(scorer).fit(fitted.dataset)
    for user in ("u00", "u01"):
        assert list(frozen.recommend([user], 5).item_id) == list(
            fitted.recommend([user], 5).item_id
        )
    cold = frozen.recommend(["new-family"], 5, user_features=COLD_FAMILY)
    expected = fitted.recommend(["new-family"], 5, user_features=COLD_FAMILY)
    assert list(cold.item_id) == list(expected.item_id)


def test_item_popularity_follows_the_asked_order_and_refuses_unknown_items(
    scorer: Scorer,
) -> None:
    ids = [str(i) for i in scorer.item_ids[:3]]
    forward, backward = scorer.item_popularity(ids), scorer.item_popularity(ids[::-1])
    assert forward.tolist() == backward.tolist()[::-1]
    by_rank = {r.item_id: r.score for r in scorer.top_k(None, scorer.n_items, consent=False)}
    assert forward.tolist() == pytest.approx([by_rank[i] for i in ids])
    with pytest.raises(KeyError, match="nope"):
        scorer.item_popularity([ids[0], "nope"])


def test_cold_residents_by_segment_popularity_survive_save_and_load(tmp_path: Path) -> None:
    from recommender.frozen import ArtifactRecommender
    from tests.support.recommender_world import COLD_SENIOR, small_world

    interactions, users, items = small_world()
    config = {"no_components": 8, "epochs": 5, "cold_blend": 0.5}
    model = LightFMRecommender(config).fit(Dataset.construct(interactions, users, items))
    info = save_artifact(tmp_path, ModelState.from_model(model), code_version="test")
    scorer = Scorer(load_artifact(tmp_path, info.version))
    assert scorer.cold_by_segment
    for cold in (COLD_FAMILY, COLD_SENIOR):
        user = str(cold.user_id.iloc[0])
        expected = model.recommend([user], 5, user_features=cold)
        got = scorer.top_k(user, 5, features=list(cold.feature))
        assert [s.item_id for s in got] == list(expected.item_id)
        frozen = ArtifactRecommender(scorer).fit(model.dataset)
        assert list(frozen.recommend([user], 5, user_features=cold).item_id) == list(
            expected.item_id
        )
    # Families get 子育て items (i00-i09), seniors 健康 ones (i10-i19).
    family = scorer.top_k("x", 3, features=list(COLD_FAMILY.feature))
    assert all(int(s.item_id[1:]) < 10 for s in family)
    senior = scorer.top_k("y", 3, features=list(COLD_SENIOR.feature))
    assert all(int(s.item_id[1:]) >= 10 for s in senior)
    # Warm residents still get their own vector, and without consent nothing personal.
    assert scorer.user_vector("u00") is not None
    popular = scorer.top_k(None, 3, consent=False, features=list(COLD_SENIOR.feature))
    assert [s.item_id for s in popular] == [s.item_id for s in scorer.top_k(None, 3, consent=False)]
    # New items join the blend (with no popularity of their own yet).
    grown = scorer.with_new_items({"i99": ["category:子育て"]})
    scores = grown.fallback_scores(list(COLD_FAMILY.feature))
    assert len(scores) == grown.n_items and np.isfinite(scores).all()
    assert grown.fallback_scores(list(COLD_FAMILY.feature), ["i99"])[0] == scores[-1]
