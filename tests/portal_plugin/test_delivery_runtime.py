"""The running server picks up a newly promoted recommender model without a restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from portal_plugin.app import create_app
from portal_plugin.delivery_runtime import MODEL_KEY, ModelReloader
from portal_plugin.hooks import PortalHooks
from portal_plugin.settings import Settings
from recommender.artifact import POINTER, STATE, promote, save_artifact
from recommender.state import ModelState
from tests.support.delivery_world import BROWSER, World, build_world, running_delivery_service
from tests.support.settings import make_settings

REFRESH = 0.2


def popularity_model(item_ids: list[str], favourite: str) -> ModelState:
    """A model whose non-personalised ranking puts ``favourite`` first.

    The feed's residents are unknown to it and have no matching features, so their ranking
    is this popularity order: which model serves is visible in the feed itself.
    """
    n, d = len(item_ids), 2
    popularity = np.arange(n, 0, -1, dtype=np.float32)
    popularity[item_ids.index(favourite)] = n + 10
    f32 = np.float32
    return ModelState(
        user_ids=np.array(["someone-else"]),
        item_ids=np.array(item_ids),
        user_feature_names=np.zeros(0, dtype=str),
        item_feature_names=np.zeros(0, dtype=str),
        user_bias=np.zeros(1, f32),
        user_embedding=np.zeros((1, d), f32),
        item_bias=np.zeros(n, f32),
        item_embedding=np.zeros((n, d), f32),
        user_attr_bias=np.zeros(0, f32),
        user_attr_embedding=np.zeros((0, d), f32),
        item_attr_bias=np.zeros(0, f32),
        item_attr_embedding=np.zeros((0, d), f32),
        seen_indptr=np.zeros(2, np.int64),
        seen_indices=np.zeros(0, np.int32),
        item_popularity=popularity,
        normalize_features=np.array(True),
    )


@pytest.fixture
def world(world_engine: Engine) -> World:
    return build_world(world_engine)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "models"


def runtime_settings(world: World, tmp_path: Path, store: Path) -> Settings:
    url = world.engine.url.render_as_string(hide_password=False)
    return make_settings(
        url,
        delivery_spool_dir=tmp_path / "spool",
        delivery_refresh_seconds=REFRESH,
        model_store_dir=store,
    )


@pytest.fixture
def client(world: World, tmp_path: Path, store: Path) -> Iterator[TestClient]:
    settings = runtime_settings(world, tmp_path, store)
    app = create_app(settings, engine=world.engine)
    with TestClient(app, base_url="https://testserver", headers=BROWSER) as client:
        yield client


def reloader(client: TestClient) -> ModelReloader:
    found = client.app.state.ctx.services[MODEL_KEY]  # type: ignore[attr-defined]
    assert isinstance(found, ModelReloader)
    return found


def wait_for(condition: Callable[[], bool], seconds: float = 10 * REFRESH + 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def first_regular(client: TestClient, token: str) -> int:
    response = client.get("/api/feed", params={"limit": 10}, headers={"X-Portal-Resident": token})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return next(int(i["id"]) for i in items if i["type"] == "article" and i["priority"] == "normal")


def save(store: Path, state: ModelState, second: int) -> str:
    moment = datetime(2026, 11, 1, 0, 0, second, tzinfo=UTC)
    return save_artifact(store, state, code_version="test", now=moment).version


def test_a_promoted_model_serves_without_restart_and_a_corrupt_one_is_refused(
    client: TestClient, store: Path, resident_token: Callable[..., str]
) -> None:
    live = running_delivery_service(client)
    wait_for(lambda: live.relevance_model == "tag_profile")  # nothing promoted yet
    articles = [a.article_id for a in live.snapshot.regular]
    assert len(articles) >= 3
    ids = [f"article:{a}" for a in articles]
    a_first, b_first, c_first = articles[-1], articles[-2], articles[-3]
    token = resident_token("r-reload", personalization_consent=True)

    model_a = save(store, popularity_model(ids, f"article:{a_first}"), 1)
    promote(store, model_a)
    wait_for(lambda: live.relevance_model == "lightfm")
    assert reloader(client).holder.version == model_a
    assert first_regular(client, token) == a_first

    # Promote B into the running server: within the refresh interval the feed ranks by B.
    model_b = save(store, popularity_model(ids, f"article:{b_first}"), 2)
    promote(store, model_b)
    promoted_at = time.monotonic()
    wait_for(lambda: first_regular(client, token) == b_first)
    assert time.monotonic() - promoted_at < 5 * REFRESH + 2
    assert reloader(client).holder.version == model_b

    # A corrupt artifact promoted behind the checks' back: B keeps serving.
    model_c = save(store, popularity_model(ids, f"article:{c_first}"), 3)
    (store / "versions" / model_c / STATE).write_bytes(b"garbage")
    (store / POINTER).write_text(model_c + "\n", encoding="utf-8")  # promote() would refuse it
    before = live.relevance_model, reloader(client).holder.version
    # The reload is attempted (and refused) on the next poll.
    wait_for(lambda: reloader(client).holder.last_error is not None)
    time.sleep(3 * REFRESH)
    assert "checksum" in str(reloader(client).holder.last_error)
    assert (live.relevance_model, reloader(client).holder.version) == before
    assert first_regular(client, token) == b_first


class LoadsCounted(PortalHooks):
    loads = 0

    def long_lived_data_loaded(self) -> None:
        self.loads += 1


def test_the_host_hears_each_time_long_lived_data_is_loaded(
    world: World, tmp_path: Path, store: Path
) -> None:
    """Process tuning (the `serve` command freezes the loaded objects) is the host's choice:
    the plugin only says when its model and rankings are loaded."""
    settings = runtime_settings(world, tmp_path, store)
    hooks = LoadsCounted(settings)
    app = create_app(settings, hooks, engine=world.engine)
    with TestClient(app, base_url="https://testserver", headers=BROWSER) as client:
        live = running_delivery_service(client)
        wait_for(lambda: live.relevance_model == "tag_profile" and hooks.loads >= 1)
        heard = hooks.loads
        ids = [f"article:{a.article_id}" for a in live.snapshot.regular]
        promote(store, save(store, popularity_model(ids, ids[0]), 1))
        wait_for(lambda: live.relevance_model == "lightfm" and hooks.loads > heard)
