from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.config import LightFMConfig
from recommender.dataset import Dataset
from recommender.errors import ConfigError, NotFittedError, UnknownIdError
from recommender.model import LightFMRecommender, normalize_rows
from tests.support.recommender_world import COLD_FAMILY, COLD_SENIOR

FAST = {"no_components": 8, "epochs": 30, "num_threads": 1, "learning_rate": 0.1}


@pytest.fixture
def model(dataset: Dataset) -> LightFMRecommender:
    return LightFMRecommender(FAST).fit(dataset)


def test_config_refuses_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ConfigError, match="config key 'n_components'"):
        LightFMConfig.from_mapping({"n_components": 8})
    with pytest.raises(ConfigError, match="config key 'loss'"):
        LightFMConfig.from_mapping({"loss": "hinge"})
    with pytest.raises(ConfigError, match="config key 'epochs'"):
        LightFMConfig.from_mapping({"epochs": 0})
    assert LightFMConfig.from_mapping({"epochs": 3}).epochs == 3


def test_config_from_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.json"
    path.write_text('{"loss": "bpr", "no_components": 16}')
    assert LightFMConfig.from_file(path).loss == "bpr"
    path.write_text('{"losss": "bpr"}')
    with pytest.raises(ConfigError, match="'losss'"):
        LightFMConfig.from_file(path)
    path.write_text("[1]")
    with pytest.raises(ConfigError, match="JSON object"):
        LightFMConfig.from_file(path)


def test_not_fitted_model_raises() -> None:
    with pytest.raises(NotFittedError, match="call fit"):
        LightFMRecommender().recommend(["u00"], 5)


def test_recommend_returns_ranked_unseen_items(model: LightFMRecommender, dataset: Dataset) -> None:
    recs = model.recommend(["u00", "u01"], 3)
    assert list(recs.columns) == ["user_id", "item_id", "score", "rank"]
    assert recs.groupby("user_id").size().to_dict() == {"u00": 3, "u01": 3}
    assert (
        recs.groupby("user_id")["rank"].apply(list)
        == pd.Series({"u00": [1, 2, 3], "u01": [1, 2, 3]})
    ).all()
    for user, group in recs.groupby("user_id"):
        assert group.score.is_monotonic_decreasing
        row = dataset.interactions[dataset.user_map.to_internal([user])[0]]
        seen = set(dataset.item_map.to_external(row.indices))
        assert not seen & set(group.item_id)
    # The family user gets family items, the senior user senior items.
    family, senior = recs[recs.user_id == "u00"], recs[recs.user_id == "u01"]
    assert (family.item_id < "i10").all() and (senior.item_id >= "i10").all()


def test_exclude_seen_false_and_candidates(model: LightFMRecommender) -> None:
    recs = model.recommend(["u00"], 20, exclude_seen=False)
    assert len(recs) == 20
    limited = model.recommend(["u00"], 5, exclude_seen=False, candidates=["i15", "i03", "i16"])
    assert set(limited.item_id) <= {"i15", "i03", "i16"}
    assert limited.item_id.iloc[0] == "i03"  # the only family item among the candidates
    with pytest.raises(UnknownIdError, match="candidate item_id 'nope'"):
        model.recommend(["u00"], 5, candidates=["nope"])


def test_cold_users_are_scored_from_their_features(model: LightFMRecommender) -> None:
    features = pd.concat([COLD_FAMILY, COLD_SENIOR])
    recs = model.recommend(["new-family", "new-senior"], 5, user_features=features)
    family = recs[recs.user_id == "new-family"].item_id
    senior = recs[recs.user_id == "new-senior"].item_id
    assert (family < "i10").mean() >= 0.8
    assert (senior >= "i10").mean() >= 0.8


def test_unknown_users_raise_or_fall_back(model: LightFMRecommender) -> None:
    with pytest.raises(UnknownIdError, match="user_id 'stranger' is not in the training data"):
        model.recommend(["stranger"], 5)
    recs = model.recommend(["stranger"], 5, on_unknown="featureless")
    assert len(recs) == 5


def test_new_items_are_scored_from_their_tags(model: LightFMRecommender) -> None:
    ids, reps = model.new_item_representations(
        pd.DataFrame(
            {
                "item_id": ["fresh-kids", "fresh-health"],
                "feature": ["category:子育て", "category:健康・医療"],
            }
        )
    )
    assert list(ids) == ["fresh-kids", "fresh-health"]
    family = model.user_representations.embeddings[model.dataset.user_map.to_internal(["u00"])[0]]
    scores = reps.embeddings @ family + reps.biases
    assert scores[0] > scores[1]


def test_single_thread_training_is_reproducible(dataset: Dataset) -> None:
    a = LightFMRecommender(FAST).fit(dataset).recommend(["u00", "u07"], 5)
    b = LightFMRecommender(FAST).fit(dataset).recommend(["u00", "u07"], 5)
    pd.testing.assert_frame_equal(a, b)


def test_epoch_callback_and_settings(dataset: Dataset) -> None:
    calls: list[tuple[int, int]] = []
    LightFMRecommender({**FAST, "epochs": 3}).fit(
        dataset, on_epoch=lambda d, t: calls.append((d, t))
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]
    for overrides in (
        {"normalize_features": True},
        {"user_identity": False},
        {"loss": "bpr"},
        {"loss": "warp-kos"},
        {"use_weights": False},
    ):
        recs = (
            LightFMRecommender({**FAST, "epochs": 2, **overrides})
            .fit(dataset)
            .recommend(["u00"], 3)
        )
        assert len(recs) == 3


def test_identity_off_without_features_is_a_config_error() -> None:
    ds = Dataset.construct(pd.DataFrame({"user_id": ["a"], "item_id": ["x"]}))
    with pytest.raises(ConfigError, match="identity features are off"):
        LightFMRecommender({**FAST, "user_identity": False}).fit(ds)


def test_normalize_rows_divides_by_row_sum() -> None:
    import scipy.sparse as sp

    m = sp.csr_matrix(np.array([[1.0, 3.0], [0.0, 0.0]], dtype=np.float32))
    np.testing.assert_allclose(normalize_rows(m).toarray(), [[0.25, 0.75], [0.0, 0.0]])


def test_cold_correction_moves_cold_users_towards_their_warm_peers(dataset: Dataset) -> None:
    def gap(config: dict[str, object]) -> float:
        model = LightFMRecommender(config).fit(dataset)
        users = model.score_users(["new-family"], user_features=COLD_FAMILY)[1][0]
        family = [f"u{u:02d}" for u in range(0, 60, 2)]
        warm = model.score_users(family)[1].mean(axis=0)
        # Compare rankings through centred scores: the per-user constant does not matter.
        return float(np.abs((users - users.mean()) - (warm - warm.mean())).mean())

    assert gap({**FAST, "cold_correction": True}) < gap({**FAST, "cold_correction": False})
