from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.delivery.history import reference_audiences
from marketplace.delivery.types import Audience
from portal_plugin import delivery_runtime
from portal_plugin.delivery_runtime import delivery_service


def delivery_threads() -> set[threading.Thread]:
    names = ("delivery-refresh", "delivery-writer", "delivery-relevance")
    return {t for t in threading.enumerate() if t.name in names and t.is_alive()}


def test_overlapping_lifespans_of_one_app_share_one_service_and_stop_it(app: Starlette) -> None:
    """Two clients on one app (as the flow tests do) used to leave a service running; the
    relevance thread, which queries the database, used to outlive the app's stop (and then
    held a connection of an engine its owner had disposed of)."""
    before = delivery_threads()
    with TestClient(app, base_url="https://testserver"):
        service = delivery_service(app.state.ctx)
        assert service is not None
        with TestClient(app, base_url="https://testserver"):
            assert delivery_service(app.state.ctx) is service
        assert delivery_service(app.state.ctx) is service and not service.stopped
    assert service.stopped
    assert delivery_service(app.state.ctx) is None
    assert delivery_threads() - before == set()
    with TestClient(app, base_url="https://testserver"):  # a later lifespan starts afresh
        again = delivery_service(app.state.ctx)
        assert again is not None and again is not service
    assert again.stopped and delivery_threads() - before == set()


def test_stopping_waits_for_the_relevance_thread_mid_query(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped while the relevance thread is still reading the history, the plugin waits for
    it: nothing of the plugin's touches the engine once the host may dispose of it."""
    reading = threading.Event()

    def slow_reference(session: Session) -> list[Audience]:
        reading.set()
        time.sleep(0.5)  # a big city's history
        return reference_audiences(session)

    monkeypatch.setattr(delivery_runtime, "reference_audiences", slow_reference)
    before = delivery_threads()
    with TestClient(app, base_url="https://testserver"):
        assert reading.wait(5)
    assert delivery_threads() - before == set()
