"""Billing settings: validated at start-up, turned into BillingConfig and a Stripe provider."""

from __future__ import annotations

import pytest

from billing.tax import RoundingMode
from portal_plugin.billing_setup import billing_config, stripe_provider
from portal_plugin.settings import SettingsError, load_settings

SECRETS = {"SECRET_KEY": "s" * 40, "PORTAL_IDENTITY_SECRET": "p" * 40}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    for name in ("INVOICE_ISSUER_NAME", "INVOICE_ISSUER_REGISTRATION_NUMBER", "STRIPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_issuer_number_check_digit_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOICE_ISSUER_REGISTRATION_NUMBER", "T1000012050002")
    with pytest.raises(SettingsError, match=r"INVOICE_ISSUER_REGISTRATION_NUMBER: .*check digit"):
        load_settings()


def test_settings_become_billing_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOICE_ISSUER_NAME", " 会津若松市 ")
    monkeypatch.setenv("INVOICE_ISSUER_REGISTRATION_NUMBER", "T7000012050002")
    monkeypatch.setenv("INVOICE_TAX_ROUNDING", "half_up")
    settings = load_settings()
    config = billing_config(settings)
    assert config.issuer().name == "会津若松市"
    assert config.rounding is RoundingMode.HALF_UP
    assert stripe_provider(settings) is None  # no key: bank transfer only


def test_bad_rounding_and_publishable_key_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOICE_TAX_ROUNDING", "banker")
    with pytest.raises(SettingsError, match="INVOICE_TAX_ROUNDING"):
        load_settings()
    monkeypatch.delenv("INVOICE_TAX_ROUNDING")
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "sk_test_oops")
    with pytest.raises(SettingsError, match="STRIPE_PUBLISHABLE_KEY"):
        load_settings()


def test_stripe_provider_uses_the_configured_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_abc")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:8420")
    provider = stripe_provider(load_settings())
    assert provider is not None
    assert (
        provider.gateway.client._requestor._options.base_addresses["api"] == "http://127.0.0.1:8420"
    )
