"""Billing's domain errors, in the shape every package shares (`marketplace.errors.DomainError`).

Messages are Japanese first: they reach shop owners and finance. Raise with a template and its
values (`BillingError("請求書 {number} が見つかりません", number=n)`), never a formatted string, so
the English catalogue can translate the template.
"""

from __future__ import annotations

from marketplace.errors import DomainError


class BillingError(DomainError):
    """Base class for billing domain errors: the request conflicts with the books as they are."""

    code = "billing_error"
    status = 409
    template = "お支払い・請求の操作を完了できませんでした"


class InvoiceAlreadyIssued(BillingError):
    """An issued invoice cannot be changed; correct it with a credit note."""

    code = "invoice_issued"


class InvoiceNotFound(BillingError):
    code = "not_found"
    status = 404
    template = "請求書が見つかりません"


class CreditExceedsInvoice(BillingError):
    """A credit note would credit more than what remains on the original invoice."""

    code = "credit_exceeds_invoice"


class RefundExceedsPayment(BillingError):
    """A refund would return more than what was paid."""

    code = "refund_exceeds_payment"


class UnbalancedTransaction(BillingError):
    """A ledger transaction's legs do not sum to zero (a programming error, never input)."""

    code = "unbalanced_transaction"
    status = 500


class LedgerImmutable(BillingError):
    """Ledger rows are append-only; correct them with a reversing entry."""

    code = "ledger_immutable"


class IssuerNotConfigured(BillingError):
    """INVOICE_ISSUER_NAME and INVOICE_ISSUER_REGISTRATION_NUMBER must be set to issue invoices."""

    code = "issuer_not_configured"


class BankAccountNotConfigured(IssuerNotConfigured):
    """INVOICE_BANK_ACCOUNT must be set: an invoice says where to pay it."""


class PaymentDeclined(BillingError):
    """The card issuer declined the payment; the message is safe to show to the shop."""

    code = "payment_declined"
    status = 402

    def __init__(self, template: str, decline_code: str | None = None) -> None:
        super().__init__(template)
        self.decline_code = decline_code


class PaymentProviderUnavailable(BillingError):
    """The payment provider could not be reached even after retries."""

    code = "provider_unavailable"
    status = 503


class PaymentNotAllowed(BillingError):
    """The payment cannot be made in the current state (already paid, wrong amount, …)."""

    code = "payment_not_allowed"
    status = 400
