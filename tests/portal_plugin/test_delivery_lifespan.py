from __future__ import annotations

import threading

from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal_plugin.delivery_runtime import delivery_service


def delivery_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name in ("delivery-refresh", "delivery-writer")}


def test_overlapping_lifespans_of_one_app_share_one_service_and_stop_it(app: Starlette) -> None:
    """Two clients on one app (as the flow tests do) used to leave a service running."""
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
