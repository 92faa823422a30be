from __future__ import annotations

import pandas as pd
import pytest

from recommender.dataset import Dataset
from tests.support.recommender_world import small_world


@pytest.fixture
def world() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return small_world()


@pytest.fixture
def dataset(world: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> Dataset:
    interactions, user_features, item_features = world
    return Dataset.construct(interactions, user_features, item_features)
