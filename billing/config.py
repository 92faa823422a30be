"""Billing configuration, built once from the plugin's Settings and passed in."""

from __future__ import annotations

from dataclasses import dataclass

from billing.errors import IssuerNotConfigured
from billing.tax import RoundingMode
from marketplace.invoice_number import is_valid_invoice_registration_number


@dataclass(frozen=True)
class Issuer:
    name: str
    registration_number: str


@dataclass(frozen=True)
class BillingConfig:
    issuer_name: str | None = None
    issuer_registration_number: str | None = None
    rounding: RoundingMode = RoundingMode.FLOOR
    due_days: int = 30
    monthly_after_weeks: int = 5
    bank_account: str = ""

    def issuer(self) -> Issuer:
        """The issuer printed on every invoice; issuing without one is refused."""
        if not self.issuer_name or not self.issuer_registration_number:
            raise IssuerNotConfigured(
                "請求書の発行者が設定されていません"
                "(INVOICE_ISSUER_NAME と INVOICE_ISSUER_REGISTRATION_NUMBER)"
            )
        if not is_valid_invoice_registration_number(self.issuer_registration_number):
            raise IssuerNotConfigured(
                "INVOICE_ISSUER_REGISTRATION_NUMBER の登録番号が正しくありません"
            )
        return Issuer(self.issuer_name, self.issuer_registration_number)
