"""Bank transfer to the city's own account: no external service, matched by the CSV import."""

from __future__ import annotations

from sqlalchemy.orm import Session

from billing.config import BillingConfig
from billing.models import Invoice, PaymentMethod
from billing.providers.base import PaymentStart


class BankTransferProvider:
    methods = frozenset({PaymentMethod.BANK_TRANSFER})

    def __init__(self, config: BillingConfig) -> None:
        self.config = config

    def start_invoice_payment(
        self, session: Session, invoice: Invoice, method: PaymentMethod
    ) -> PaymentStart:
        account = self.config.payment_account()
        return PaymentStart(
            method,
            None,
            f"{account} へ、振込依頼人名の前に参照番号 {invoice.payment_reference} を付けて"
            f"お振込みください。",
        )
