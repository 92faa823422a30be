"""Billing's domain errors. Messages are Japanese first: they reach shop owners and finance."""

from __future__ import annotations


class BillingError(Exception):
    """Base class for billing domain errors."""


class InvoiceAlreadyIssued(BillingError):
    """An issued invoice cannot be changed; correct it with a credit note."""


class InvoiceNotFound(BillingError):
    pass


class CreditExceedsInvoice(BillingError):
    """A credit note would credit more than what remains on the original invoice."""


class RefundExceedsPayment(BillingError):
    """A refund would return more than what was paid."""


class UnbalancedTransaction(BillingError):
    """A ledger transaction's legs do not sum to zero."""


class LedgerImmutable(BillingError):
    """Ledger rows are append-only; correct them with a reversing entry."""


class IssuerNotConfigured(BillingError):
    """INVOICE_ISSUER_NAME and INVOICE_ISSUER_REGISTRATION_NUMBER must be set to issue invoices."""


class PaymentDeclined(BillingError):
    """The card issuer declined the payment; `message` is safe to show to the shop."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class PaymentProviderUnavailable(BillingError):
    """The payment provider could not be reached even after retries."""


class PaymentNotAllowed(BillingError):
    """The payment cannot be made in the current state (already paid, wrong amount, …)."""
