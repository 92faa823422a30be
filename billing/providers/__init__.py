"""Payment providers: bank transfer against an invoice (default) and Stripe."""

from billing.providers.bank_transfer import BankTransferProvider
from billing.providers.base import PaymentProvider, PaymentStart
from billing.providers.stripe import StripeProvider

__all__ = ["BankTransferProvider", "PaymentProvider", "PaymentStart", "StripeProvider"]
