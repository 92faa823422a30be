"""Billing objects built from Settings once per app (and per CLI command)."""

from __future__ import annotations

import logging

from billing.config import BillingConfig
from billing.errors import IssuerNotConfigured
from billing.providers.stripe import StripeProvider
from billing.stripe_adapter import StripeGateway
from billing.tax import RoundingMode
from portal_plugin.context import PluginContext
from portal_plugin.i18n import gettext as _
from portal_plugin.settings import Settings

logger = logging.getLogger(__name__)


def billing_config(settings: Settings) -> BillingConfig:
    return BillingConfig(
        issuer_name=settings.invoice_issuer_name,
        issuer_registration_number=settings.invoice_issuer_registration_number,
        rounding=RoundingMode(settings.invoice_tax_rounding),
        due_days=settings.invoice_due_days,
        monthly_after_weeks=settings.invoice_monthly_after_weeks,
        bank_account=settings.invoice_bank_account,
    )


def invoicing_unavailable(exc: IssuerNotConfigured) -> str:
    """What a shop reads when the city has not finished configuring invoices; the operator's
    one-line reason goes to the log."""
    logger.error("invoice refused: %s", exc)
    return _(
        "ただいま請求書を発行できないため、お申し込みを確定できません。仮押さえはそのままです。時間をおいてお試しいただくか、市の担当窓口にお問い合わせください。"
    )


def stripe_provider(settings: Settings) -> StripeProvider | None:
    """None when STRIPE_API_KEY is not set: Stripe methods are then simply not offered."""
    if not settings.stripe_api_key:
        return None
    gateway = StripeGateway(
        settings.stripe_api_key,
        api_base=settings.stripe_api_base,
        max_network_retries=settings.stripe_max_network_retries,
    )
    return StripeProvider(gateway, billing_config(settings))


def provider_for(ctx: PluginContext) -> StripeProvider | None:
    if "billing.stripe" not in ctx.services:
        ctx.services["billing.stripe"] = stripe_provider(ctx.settings)
    provider: StripeProvider | None = ctx.services["billing.stripe"]
    return provider
