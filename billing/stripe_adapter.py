"""The only module that talks to Stripe (stripe-python's StripeClient).

Every call that creates or moves money carries our own deterministic idempotency key, derived
from our ids (e.g. `pi:booking:42:card`), so rerunning a job or retrying after a timeout can
never charge twice. When Stripe cannot be reached, the call is retried with exponential backoff
under the same key; after the last attempt PaymentProviderUnavailable is raised and nothing in
our database changes (the caller's transaction rolls back, the booking stays as it was).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import stripe

from billing.errors import PaymentDeclined, PaymentProviderUnavailable
from billing.models import Payment
from billing.refunds import ProviderRefund

log = logging.getLogger(__name__)
T = TypeVar("T")

DECLINE_MESSAGES = {
    "insufficient_funds": "カードの利用可能額が不足しています。別のカードをお試しください。",
    "expired_card": "カードの有効期限が切れています。別のカードをお試しください。",
    "incorrect_cvc": "セキュリティコードが正しくありません。",
    "incorrect_number": "カード番号が正しくありません。",
    "processing_error": "カードの処理中にエラーが発生しました。時間をおいてお試しください。",
}
DEFAULT_DECLINE = (
    "カードが承認されませんでした。予約は仮押さえのままです。"
    "別のカードをお試しいただくか、請求書払いをお選びください。"
)


def decline_message(code: str | None, decline_code: str | None = None) -> str:
    return DECLINE_MESSAGES.get(
        decline_code or "", DECLINE_MESSAGES.get(code or "", DEFAULT_DECLINE)
    )


def as_dict(obj: Any) -> dict[str, Any]:
    """A plain, recursive dict of a Stripe object (stripe-python 16 objects are not dicts)."""
    if obj is None:
        return {}
    if hasattr(obj, "to_dict"):
        result: dict[str, Any] = obj.to_dict()
        return result
    return dict(obj)


def stripe_fee(intent: dict[str, Any]) -> int:
    """Stripe's fee for a succeeded intent, when its balance transaction was expanded (else 0)."""
    charge = intent.get("latest_charge")
    transaction = charge.get("balance_transaction") if isinstance(charge, dict) else None
    return int(transaction.get("fee") or 0) if isinstance(transaction, dict) else 0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    first_delay: float = 0.5
    factor: float = 2.0


class StripeGateway:
    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        max_network_retries: int = 2,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if api_base:
            self.client = stripe.StripeClient(
                api_key, base_addresses={"api": api_base}, max_network_retries=max_network_retries
            )
        else:
            self.client = stripe.StripeClient(api_key, max_network_retries=max_network_retries)
        self.retry = retry or RetryPolicy()
        self.sleep = sleep

    def _call(self, fn: Callable[..., T], *args: Any, key: str | None, **params: Any) -> T:
        options = {"idempotency_key": key} if key else {}
        delay = self.retry.first_delay
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return fn(*args, params=params, options=options) if params or options else fn(*args)
            except stripe.APIConnectionError as exc:
                if attempt == self.retry.attempts:
                    raise PaymentProviderUnavailable(
                        "決済サービスに接続できません。時間をおいてお試しください(予約はそのままです)。"
                    ) from exc
                log.warning("Stripe unreachable (attempt %d, key %s); retrying", attempt, key)
                self.sleep(delay)
                delay *= self.retry.factor
        raise AssertionError("unreachable")

    # Customers -------------------------------------------------------------------------
    def ensure_customer(self, shop_id: int, name: str, email: str) -> str:
        customer = self._call(
            self.client.v1.customers.create,
            key=f"customer:shop:{shop_id}",
            name=name,
            email=email,
            metadata={"shop_id": str(shop_id)},
        )
        return str(customer.id)

    # PaymentIntents ----------------------------------------------------------------------
    def card_intent(self, *, amount: int, customer: str, key: str, metadata: dict[str, str]) -> Any:
        """A card PaymentIntent for Stripe.js to confirm in the browser (3-D Secure when asked)."""
        return self._call(
            self.client.v1.payment_intents.create,
            key=key,
            amount=amount,
            currency="jpy",
            customer=customer,
            payment_method_types=["card"],
            payment_method_options={"card": {"request_three_d_secure": "automatic"}},
            metadata=metadata,
        )

    def confirm_card(self, intent_id: str, payment_method: str, key: str) -> Any:
        """Server-side confirmation (saved card); a decline raises PaymentDeclined."""
        try:
            # Attach, then confirm: two plain calls that both Stripe and localstripe accept.
            self._call(
                self.client.v1.payment_intents.update,
                intent_id,
                key=f"{key}:attach",
                payment_method=payment_method,
            )
            return self._call(self.client.v1.payment_intents.confirm, intent_id, key=key)
        except stripe.CardError as exc:
            error = exc.error
            code = getattr(error, "code", None) if error else None
            decline = getattr(error, "decline_code", None) if error else None
            raise PaymentDeclined(decline_message(code, decline), decline_code=code) from exc

    def _confirmed_intent(
        self,
        method: str,
        *,
        amount: int,
        customer: str,
        key: str,
        metadata: dict[str, str],
        data: dict[str, Any],
        options: dict[str, Any],
    ) -> Any:
        return self._call(
            self.client.v1.payment_intents.create,
            key=key,
            amount=amount,
            currency="jpy",
            customer=customer,
            payment_method_types=[method],
            payment_method_data={"type": method, **data},
            payment_method_options={method: options},
            confirm=True,
            metadata=metadata,
        )

    def konbini_intent(
        self,
        *,
        amount: int,
        customer: str,
        key: str,
        name: str,
        email: str,
        expires_after_days: int,
        metadata: dict[str, str],
    ) -> Any:
        """A konbini payment, confirmed now: the shop gets a voucher and pays in a store."""
        if not 120 <= amount <= 300_000:
            raise PaymentDeclined("コンビニ払いは120円以上300,000円以下のお支払いに限られます。")
        return self._confirmed_intent(
            "konbini",
            amount=amount,
            customer=customer,
            key=key,
            metadata=metadata,
            data={"billing_details": {"name": name, "email": email}},
            options={"expires_after_days": expires_after_days},
        )

    def bank_transfer_intent(
        self, *, amount: int, customer: str, key: str, metadata: dict[str, str]
    ) -> Any:
        """A Japan bank transfer to a virtual account (customer_balance)."""
        return self._confirmed_intent(
            "customer_balance",
            amount=amount,
            customer=customer,
            key=key,
            metadata=metadata,
            data={},
            options={
                "funding_type": "bank_transfer",
                "bank_transfer": {"type": "jp_bank_transfer"},
            },
        )

    def retrieve_intent(self, intent_id: str) -> Any:
        """The intent's current state, with its charge's balance transaction (for the fee)."""
        return self._call(
            self.client.v1.payment_intents.retrieve,
            intent_id,
            key=None,
            expand=["latest_charge.balance_transaction"],
        )

    # Refunds -----------------------------------------------------------------------------
    def refund(self, payment: Payment, amount: int, key: str) -> ProviderRefund:
        assert payment.provider_reference
        refund = self._call(
            self.client.v1.refunds.create,
            key=key,
            payment_intent=payment.provider_reference,
            amount=amount,
            metadata={"payment_id": str(payment.id)},
        )
        return ProviderRefund(str(refund.id), refund.status == "succeeded")

    def retrieve_refund(self, refund_id: str) -> Any:
        return self._call(self.client.v1.refunds.retrieve, refund_id, key=None)

    # Events ------------------------------------------------------------------------------
    def recent_events(self, created_after: int, limit: int = 100) -> list[Any]:
        """Events since `created_after` (unix time), oldest first, following pagination."""
        events: list[Any] = []
        params: dict[str, Any] = {"created": {"gte": created_after}, "limit": limit}
        while True:
            page = self._call(self.client.v1.events.list, key=None, **params)
            events.extend(page.data)
            if not page.has_more or not page.data:
                break
            params["starting_after"] = page.data[-1].id
        return sorted(events, key=lambda e: (e.created, e.id))
