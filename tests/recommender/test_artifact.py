from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender.artifact import (
    ArtifactNotFoundError,
    CorruptArtifactError,
    IncompatibleArtifactError,
    list_versions,
    load_artifact,
    promote,
    promoted_version,
    save_artifact,
)
from recommender.dataset import Dataset
from recommender.model import LightFMRecommender
from recommender.state import ModelState


@pytest.fixture(scope="module")
def state() -> ModelState:
    from tests.support.recommender_world import small_world

    interactions, users, items = small_world()
    model = LightFMRecommender({"no_components": 4, "epochs": 2}).fit(
        Dataset.construct(interactions, users, items)
    )
    return ModelState.from_model(model)


def _save(store: Path, state: ModelState, second: int = 0) -> str:
    from datetime import UTC, datetime

    info = save_artifact(
        store,
        state,
        code_version="test",
        metrics={"warm": {"precision": 0.1}},
        data_window={"start": "2026-01-01", "end": "2026-02-01"},
        config={"epochs": 2},
        now=datetime(2026, 3, 1, 0, 0, second, tzinfo=UTC),
    )
    return info.version


def test_save_load_round_trip(tmp_path: Path, state: ModelState) -> None:
    version = _save(tmp_path, state)
    assert version.startswith("20260301T000000Z-")
    loaded = load_artifact(tmp_path, version)
    assert loaded.info.metrics == {"warm": {"precision": 0.1}}
    assert loaded.info.data_window["end"] == "2026-02-01"
    assert loaded.info.n_users == 60 and loaded.info.n_items == 20
    for name, array in state.arrays().items():
        np.testing.assert_array_equal(getattr(loaded.state, name), array)
    # Nothing half-written is left behind.
    assert [p.name for p in tmp_path.iterdir()] == ["versions"]


def test_promote_and_list(tmp_path: Path, state: ModelState) -> None:
    with pytest.raises(ArtifactNotFoundError, match="no promoted model"):
        load_artifact(tmp_path)
    first, second = _save(tmp_path, state, 1), _save(tmp_path, state, 2)
    promote(tmp_path, first)
    assert promoted_version(tmp_path) == first
    assert load_artifact(tmp_path).info.version == first
    promote(tmp_path, second)
    assert load_artifact(tmp_path).info.version == second
    listed = list_versions(tmp_path)
    assert [v for _, v, _ in listed] == [first, second]
    assert all(err is None for _, _, err in listed)
    with pytest.raises(ArtifactNotFoundError, match="no model version 'nope'"):
        promote(tmp_path, "nope")


def test_corrupt_state_is_refused(tmp_path: Path, state: ModelState) -> None:
    version = _save(tmp_path, state)
    path = tmp_path / "versions" / version / "state.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptArtifactError, match="checksum"):
        load_artifact(tmp_path, version)
    with pytest.raises(CorruptArtifactError):
        promote(tmp_path, version)
    path.unlink()
    with pytest.raises(CorruptArtifactError, match="missing"):
        load_artifact(tmp_path, version)


def test_incompatible_or_unreadable_manifest_is_refused(tmp_path: Path, state: ModelState) -> None:
    version = _save(tmp_path, state)
    manifest = tmp_path / "versions" / version / "manifest.json"
    raw = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**raw, "format_version": 99}))
    with pytest.raises(IncompatibleArtifactError, match="artifact format 99"):
        load_artifact(tmp_path, version)
    manifest.write_text("{not json")
    with pytest.raises(CorruptArtifactError, match="unreadable manifest"):
        load_artifact(tmp_path, version)
    listed = list_versions(tmp_path)
    assert listed[0][0] is None and "unreadable" in str(listed[0][2])


def test_inconsistent_shapes_are_refused(tmp_path: Path, state: ModelState) -> None:
    arrays = state.arrays()
    arrays["item_bias"] = arrays["item_bias"][:-1]
    with pytest.raises(Exception, match="item_bias has shape"):
        ModelState.from_arrays(arrays)
