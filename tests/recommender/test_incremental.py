from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.artifact import (
    ArtifactNotFoundError,
    CorruptArtifactError,
    load_training_state,
    save_artifact,
)
from recommender.dataset import Dataset
from recommender.incremental import IDENTITY, TrainingState, resume
from recommender.model import LightFMRecommender
from recommender.state import ModelState
from tests.support.recommender_world import small_world

CONFIG = {"no_components": 8, "epochs": 4, "num_threads": 1}


@pytest.fixture(scope="module")
def fitted() -> LightFMRecommender:
    interactions, users, items = small_world()
    return LightFMRecommender(CONFIG).fit(Dataset.construct(interactions, users, items))


def test_fit_partial_continues_where_fit_stopped(fitted: LightFMRecommender) -> None:
    in_steps = LightFMRecommender({**CONFIG, "epochs": 2}).fit(fitted.dataset).fit_partial(2)
    np.testing.assert_array_equal(
        in_steps.item_representations.embeddings, fitted.item_representations.embeddings
    )


def test_resume_on_the_same_data_is_the_same_model(fitted: LightFMRecommender) -> None:
    state = TrainingState.from_arrays(TrainingState.of(fitted).arrays())
    again = resume(fitted.config, fitted.dataset, state)
    np.testing.assert_array_equal(
        again.user_representations.embeddings, fitted.user_representations.embeddings
    )
    assert (
        again.recommend(["u00"], 5).item_id.tolist()
        == fitted.recommend(["u00"], 5).item_id.tolist()
    )


def test_resume_lays_out_new_users_items_and_tags(fitted: LightFMRecommender) -> None:
    interactions, users, items = small_world()
    newcomer = pd.DataFrame({"user_id": ["u99"], "item_id": ["i99"], "weight": [1.0]})
    grown = Dataset.construct(
        pd.concat([newcomer, interactions], ignore_index=True),
        pd.concat([users, pd.DataFrame({"user_id": ["u99"], "feature": ["age:70+"]})]),
        pd.concat([items, pd.DataFrame({"item_id": ["i99"], "feature": ["tag:新しい"]})]),
    )
    state = TrainingState.of(fitted)
    model = resume(fitted.config, grown, state)
    lightfm, old = model.lightfm, fitted.lightfm
    rows = list(state.item_rows)
    for name in (f"{IDENTITY}i03", "category:子育て", "tag:t1"):
        new_row = list(TrainingState.of(model).item_rows).index(name)
        np.testing.assert_array_equal(
            lightfm.item_embeddings[new_row], old.item_embeddings[rows.index(name)]
        )
    new_rows = TrainingState.of(model).item_rows
    fresh = list(new_rows).index(f"{IDENTITY}i99")
    assert (
        lightfm.item_biases[fresh] == 0.0 and lightfm.item_embedding_gradients[fresh].min() == 1.0
    )
    assert np.abs(lightfm.item_embeddings[fresh]).max() <= 0.5 / 8
    # Training goes on from there, on the new pair only, and knows the whole history.
    only_new = Dataset.construct(
        newcomer, items=grown.item_map.external_ids, users=grown.user_map.external_ids
    )
    before = model.user_representations.embeddings.copy()
    model.fit_partial(2, interactions=only_new.interactions)
    changed = np.flatnonzero(np.abs(model.user_representations.embeddings - before).sum(axis=1) > 0)
    assert "u99" in set(grown.user_map.external_ids[changed])
    assert model.recommend(["u00"], 30).item_id.isin(["i99"]).any()  # ranks the new item too


def test_training_state_is_kept_with_the_artifact_and_verified(
    fitted: LightFMRecommender, tmp_path: Path
) -> None:
    plain = save_artifact(tmp_path, ModelState.from_model(fitted), code_version="t")
    with pytest.raises(ArtifactNotFoundError, match="kept no training state"):
        load_training_state(tmp_path, plain.version)
    info = save_artifact(
        tmp_path, ModelState.from_model(fitted), code_version="t", training=TrainingState.of(fitted)
    )
    state = load_training_state(tmp_path, info.version)
    np.testing.assert_array_equal(
        state.parameters["user_embeddings"], fitted.lightfm.user_embeddings
    )
    path = tmp_path / "versions" / info.version / "training.npz"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CorruptArtifactError, match="does not match"):
        load_training_state(tmp_path, info.version)
