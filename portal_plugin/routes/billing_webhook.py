"""POST {prefix}/billing/stripe/webhook: Stripe's signed events."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from billing.errors import BillingError
from billing.webhooks import InvalidWebhook, handle_event, verify
from portal_plugin.billing_setup import provider_for
from portal_plugin.context import context
from portal_plugin.web import json_error

log = logging.getLogger(__name__)


async def stripe_webhook(request: Request) -> Response:
    ctx = context(request)
    provider = provider_for(ctx)
    secret = ctx.settings.stripe_webhook_secret
    if provider is None or secret is None:
        return json_error(404, "not_configured", "Stripe is not configured")
    payload = await request.body()  # the raw bytes: the signature covers them exactly
    try:
        event = verify(payload, request.headers.get("stripe-signature"), secret)
    except InvalidWebhook as exc:
        log.warning("refused Stripe webhook: %s", exc)
        return json_error(400, "invalid_signature", str(exc))
    try:
        outcome = await ctx.in_transaction(handle_event, provider, event)
    except BillingError as exc:
        # Not applied (nothing stored): a 500 makes Stripe retry; reconcile also recovers it.
        log.error("Stripe event %s not applied: %s", event["id"], exc)
        return json_error(500, "not_applied", str(exc))
    return JSONResponse({"received": True, "outcome": outcome})


routes = [Route("/billing/stripe/webhook", stripe_webhook, methods=["POST"], name="stripe_webhook")]
