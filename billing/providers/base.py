"""What every payment provider offers to the checkout: start paying an invoice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from billing.models import Invoice, PaymentMethod


@dataclass(frozen=True)
class PaymentStart:
    """What the shop must do next: nothing, transfer money, or follow a link/voucher."""

    method: PaymentMethod
    payment_id: int | None
    instructions: str
    next_action_url: str | None = None


class PaymentProvider(Protocol):
    methods: frozenset[PaymentMethod]

    def start_invoice_payment(
        self, session: Session, invoice: Invoice, method: PaymentMethod
    ) -> PaymentStart:
        """Begin collecting what is owed on `invoice` with `method`."""
        ...
