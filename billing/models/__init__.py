"""Billing's tables. Importing this package registers them and the immutability guards."""

from billing.models.bank import BankStatementImport, BankTransaction, BankTransactionStatus
from billing.models.events import ProcessedMarketplaceEvent, StripeEvent
from billing.models.guards import install_guards
from billing.models.invoices import (
    DocumentKind,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceTaxTotal,
    PaymentMethod,
)
from billing.models.ledger import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction
from billing.models.payments import Payment, PaymentStatus, Refund, RefundStatus

install_guards()

__all__ = [
    "AccountKind",
    "BankStatementImport",
    "BankTransaction",
    "BankTransactionStatus",
    "DocumentKind",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "InvoiceTaxTotal",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "ProcessedMarketplaceEvent",
    "Refund",
    "RefundStatus",
    "StripeEvent",
]
