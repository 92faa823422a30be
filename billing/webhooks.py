"""Stripe webhook events: verified, stored once, applied by re-reading the object.

The event id is inserted under a unique constraint in the same transaction as the event's
effect, so a duplicate delivery (or a concurrent one) is a no-op and a failed effect leaves no
trace, letting Stripe's retry or `billing reconcile` apply it later.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.models import Refund, StripeEvent
from billing.providers.stripe import StripeProvider
from billing.refunds import mark_refund_succeeded
from billing.stripe_adapter import as_dict

log = logging.getLogger(__name__)


class InvalidWebhook(Exception):
    """Bad signature, stale timestamp or unreadable payload: answer 400. Only Stripe reads the
    answer (the webhook route), so it is not a `DomainError` with a Japanese message."""


def verify(payload: bytes, signature: str | None, secret: str, tolerance: int = 300) -> Any:
    """Check the Stripe-Signature header against the raw body; return the event."""
    if not signature:
        raise InvalidWebhook("missing Stripe-Signature header")
    try:
        return stripe.Webhook.construct_event(payload, signature, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(f"signature verification failed: {exc.user_message or exc}") from None
    except ValueError as exc:
        raise InvalidWebhook(f"unreadable payload: {exc}") from None


def handle_event(session: Session, provider: StripeProvider, event: Any) -> str:
    """Apply one event exactly once; returns a short outcome for logs and reconcile output."""
    event = as_dict(event)
    obj = event["data"]["object"]
    record = StripeEvent(
        event_id=str(event["id"]),
        type=str(event["type"]),
        object_id=str(obj.get("id", ""))[:120] or None,
        outcome="processing",
    )
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        return "duplicate"
    outcome = _apply(session, provider, str(event["type"]), obj)
    record.outcome = outcome[:32]
    session.flush()
    return outcome


def _apply(session: Session, provider: StripeProvider, kind: str, obj: Any) -> str:
    object_type = obj.get("object")
    if object_type == "payment_intent":
        # Events can arrive out of order: trust the object's current state, not the event's.
        intent = provider.gateway.retrieve_intent(str(obj["id"]))
        return provider.sync_intent(session, intent)
    if object_type == "refund":
        return _sync_refund(session, provider, str(obj["id"]))
    if object_type == "charge" and kind == "charge.refunded":
        refunds = (obj.get("refunds") or {}).get("data") or []
        outcomes = [_sync_refund(session, provider, str(r["id"])) for r in refunds]
        return ",".join(outcomes) or "no refunds"
    log.info("Stripe event %s for %s is not handled; ignored", kind, object_type)
    return "ignored"


def _sync_refund(session: Session, provider: StripeProvider, refund_id: str) -> str:
    refund = session.execute(
        select(Refund).where(Refund.provider_reference == refund_id)
    ).scalar_one_or_none()
    if refund is None:
        log.info("refund %s is not ours; ignored", refund_id)
        return "unknown"
    current = provider.gateway.retrieve_refund(refund_id)
    if as_dict(current).get("status") == "succeeded":
        return "refund succeeded" if mark_refund_succeeded(session, refund) else "duplicate"
    return f"refund {as_dict(current).get('status')}"


def reconcile(
    session_scope: Any, provider: StripeProvider, created_after: int
) -> list[tuple[str, str, str]]:
    """Apply every recent event we have not stored yet; each in its own transaction."""
    results = []
    for event in provider.gateway.recent_events(created_after):
        with session_scope() as session:
            outcome = handle_event(session, provider, event)
            results.append((str(event.id), str(event.type), outcome))
    return results
