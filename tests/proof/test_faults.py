"""Injected faults. Each test says what it broke and what it then checked.

- Stripe (localstripe) is down while a shop starts a card payment, then comes back.
- The promoted recommender artifact is corrupted on disk, then reloaded.
- PostgreSQL connections are killed while feeds are being served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import stripe
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from billing.errors import PaymentProviderUnavailable
from billing.models import PaymentStatus
from billing.providers.stripe import StripeProvider
from billing.stripe_adapter import RetryPolicy, StripeGateway
from marketplace.lifecycle import BookingStatus
from recommender.artifact import promote, promoted_version, save_artifact
from recommender.dataset import Dataset
from recommender.model import LightFMRecommender
from recommender.scorer import ScorerHolder
from recommender.state import ModelState
from tests.support.localstripe import Localstripe
from tests.support.recommender_world import small_world

pytestmark = pytest.mark.fault
API_KEY = "sk_test_faults"


class KeyRecorder:
    """Wraps the gateway's single call path to record every idempotency key it sends."""

    def __init__(self, gateway: StripeGateway) -> None:
        self.keys: list[str | None] = []
        self.outcomes: list[str] = []
        original = gateway._call

        def recording_call(fn: Any, *args: Any, key: str | None, **params: Any) -> Any:
            self.keys.append(key)
            try:
                result = original(fn, *args, key=key, **params)
            except PaymentProviderUnavailable:
                self.outcomes.append("unavailable")
                raise
            self.outcomes.append("ok")
            return result

        gateway._call = recording_call  # type: ignore[method-assign]


@pytest.mark.stripe
def test_stripe_down_then_up_payments_resume_under_the_same_idempotency_keys(
    session: Session, make_shop: Any, hold: Any, billing_config: Any, tmp_path: Path
) -> None:
    stripe_server = Localstripe(tmp_path)
    gateway = StripeGateway(
        API_KEY,
        api_base=stripe_server.url,
        max_network_retries=0,
        retry=RetryPolicy(attempts=3, first_delay=0.0),
        sleep=lambda _: None,
    )
    recorder = KeyRecorder(gateway)
    provider = StripeProvider(gateway, billing_config)
    shop = make_shop()
    booking = hold(shop)

    # Broken: Stripe is not running at all (connection refused on every retry).
    with pytest.raises(PaymentProviderUnavailable):
        provider.start_card_payment(session, booking.id, shop.id)
    failed_keys = list(recorder.keys)
    # Checked: the shop's hold is untouched and nothing was half-recorded.
    assert booking.status is BookingStatus.HELD
    assert recorder.outcomes == ["unavailable"] and len(failed_keys) == 1

    stripe_server.start()
    try:
        payment = provider.start_card_payment(session, booking.id, shop.id)
        # Checked: the first call after recovery repeats the key of the call that failed.
        assert recorder.keys[1] == failed_keys[0]
        assert payment.status is PaymentStatus.PENDING and payment.provider_reference.startswith(
            "pi_"
        )

        # Broken again: Stripe dies after the PaymentIntent exists, then comes back.
        stripe_server.stop()
        assert provider.start_card_payment(session, booking.id, shop.id).id == payment.id
        stripe_server.start()
        client = stripe.StripeClient(API_KEY, base_addresses={"api": stripe_server.url}, max_network_retries=0)  # fmt: skip
        method = client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "cvc": "123",
                },
            }
        )
        provider.confirm_card(session, payment, str(method.id))
        # Checked: paid once, for the whole booking, and Stripe holds exactly one intent for it.
        assert payment.status is PaymentStatus.SUCCEEDED
        assert booking.status is not BookingStatus.HELD
        intents = client.v1.payment_intents.list(params={"limit": 100}).data
        ours = [
            intent.to_dict()
            for intent in intents
            if (intent.to_dict().get("metadata") or {}).get("booking_id") == str(booking.id)
        ]
        assert len(ours) == 1 and ours[0]["amount"] == booking.total_yen
    finally:
        stripe_server.stop()


def _fitted_state(seed: int) -> ModelState:
    interactions, users, items = small_world(seed)
    config = {"no_components": 8, "epochs": 10, "learning_rate": 0.1, "random_state": seed}
    model = LightFMRecommender(config).fit(Dataset.construct(interactions, users, items))
    return ModelState.from_model(model)


def test_corrupt_model_artifact_keeps_the_previous_model_serving(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    store = tmp_path / "models"
    first = save_artifact(store, _fitted_state(1), code_version="v1").version
    promote(store, first)
    holder = ScorerHolder(store)
    assert holder.reload() and holder.version == first
    before = {user: holder.current.top_k(user, 5) for user in ("u00", "u01", "u02")}  # type: ignore[union-attr]

    second = save_artifact(
        store, _fitted_state(2), code_version="v2", now=datetime(2031, 1, 1, tzinfo=UTC)
    ).version
    promote(store, second)
    # Broken: flip bytes in the middle of the promoted model's arrays, as a bad disk or a
    # half-finished copy would, keeping the file's size.
    state_file = next((store / "versions" / second).glob("*.npz"))
    data = bytearray(state_file.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    state_file.write_bytes(bytes(data))

    # Checked: the reload refuses it, says why, and the previous model keeps answering the same.
    assert promoted_version(store) == second
    assert holder.reload() is False
    assert holder.version == first and holder.last_error
    after = {user: holder.current.top_k(user, 5) for user in before}  # type: ignore[union-attr]
    assert after == before
    # And a process starting now (no previous model in memory) refuses it too, without crashing.
    fresh = ScorerHolder(store)
    assert fresh.reload() is False and fresh.current is None and fresh.last_error


@pytest.mark.postgres
def test_feed_keeps_serving_while_database_connections_are_killed(
    settings: Any, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("kills PostgreSQL backends; needs TEST_DATABASE_URL")
    from sqlalchemy import create_engine

    from portal_plugin.app import create_app

    app = create_app(settings)  # its own engine and pool, like a real worker
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    statuses: list[int] = []
    with TestClient(app, base_url="https://testserver") as client:
        for round_number in range(5):
            for _ in range(10):
                statuses.append(client.get("/api/feed").status_code)
                statuses.append(client.get("/api/articles").status_code)
            # Broken: every other connection to this database is terminated mid-load.
            with admin.connect() as connection:
                killed = connection.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar()
            assert killed is not None and (round_number > 0 or killed >= 1)
        for _ in range(10):
            statuses.append(client.get("/api/feed").status_code)
            statuses.append(client.get("/api/articles").status_code)
    admin.dispose()
    # Checked: every request after every kill was answered (pool_pre_ping replaces dead
    # connections; the delivery service serves its last snapshot while it cannot refresh).
    assert statuses == [200] * len(statuses)
