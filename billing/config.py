"""Billing configuration, built once from the plugin's Settings and passed in."""

from __future__ import annotations

from dataclasses import dataclass

from billing.errors import BankAccountNotConfigured, IssuerNotConfigured
from billing.tax import RoundingMode
from marketplace.accounts.registration_number import is_valid_invoice_registration_number


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

    def payment_account(self) -> str:
        """The bank account printed on every invoice; an invoice no one can pay is refused."""
        if not self.bank_account.strip():
            raise BankAccountNotConfigured(
                "請求書の振込先口座が設定されていません(INVOICE_BANK_ACCOUNT)"
            )
        return self.bank_account.strip()
