"""A small fake of the Stripe API for what localstripe lacks: konbini and customer_balance.

Which path uses which server:
- cards, refunds of cards, customers, signed webhooks: **localstripe** (real third-party fake);
- konbini and Japan bank transfer (customer_balance) PaymentIntents, their refunds, and the
  events list used by `billing reconcile`: **this fake**.

It returns the objects Stripe documents (payment_intent with `next_action.
konbini_display_details` / `display_bank_transfer_instructions`, refund, event, list), replays
the stored response for a repeated Idempotency-Key as Stripe does, and signs events with Stripe's
real scheme (`t=…,v1=HMAC-SHA256(secret, "t.payload")`). `fail_next(n)` drops the next n
connections without answering, as an unreachable Stripe would.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

# The webhook secret of the app that the fake_stripe_client fixture builds.
FAKE_STRIPE_WEBHOOK_SECRET = "whsec_fake"
_ids = itertools.count(1)


def _new_id(prefix: str) -> str:
    return f"{prefix}_fake{next(_ids):08d}"


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn Stripe's form encoding (a[b][c]=v, a[0]=v) into nested dicts."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def fee_for(amount: int) -> int:
    """An illustrative processing fee (3.6%, rounded down) so the fee postings are exercised."""
    return amount * 36 // 1000


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class FakeStripe:
    def __init__(self) -> None:
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, idempotency key
        self._drop = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeStripe:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, count: int) -> None:
        self._drop = count

    # What a shop does outside our system --------------------------------------------------
    def customer_pays(self, intent_id: str) -> dict[str, Any]:
        """The shop paid at the konbini / the transfer arrived: succeed and emit the event."""
        intent = self.intents[intent_id]
        amount = intent["amount"]
        fee = fee_for(amount)
        # Always returned expanded here (real Stripe expands it when asked, as our client does).
        charge = {
            "id": _new_id("ch"),
            "object": "charge",
            "amount": amount,
            "balance_transaction": {
                "id": _new_id("txn"),
                "object": "balance_transaction",
                "amount": amount,
                "fee": fee,
                "net": amount - fee,
                "currency": "jpy",
            },
        }
        intent.update(
            status="succeeded", amount_received=amount, next_action=None, latest_charge=charge
        )
        return self._event("payment_intent.succeeded", intent)

    def _event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {
            "id": _new_id("evt"),
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "type": kind,
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": json.loads(json.dumps(obj))},
        }
        self.events.append(event)
        return event

    # HTTP ------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _respond(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                url = urlparse(self.path)
                key = self.headers.get("Idempotency-Key")
                fake.requests.append((method, url.path, key))
                with fake._lock:
                    if fake._drop > 0:
                        fake._drop -= 1
                        self.close_connection = True
                        self.connection.close()
                        return
                length = int(self.headers.get("Content-Length") or 0)
                form = self.rfile.read(length).decode() if length else url.query
                params = _nest(parse_qsl(form, keep_blank_values=True))
                if key and method == "POST" and key in fake.idempotent:
                    self._respond(*fake.idempotent[key])
                    return
                status, body = fake.route(method, url.path, params)
                if key and method == "POST":
                    fake.idempotent[key] = (status, body)
                self._respond(status, body)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        return Handler

    def route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "customers"] and method == "POST":
            return 200, {"id": _new_id("cus"), "object": "customer", **params}
        if parts[:2] == ["v1", "payment_intents"]:
            if len(parts) == 2 and method == "POST":
                return 200, self._create_intent(params)
            if len(parts) == 3 and parts[2] in self.intents:
                return 200, self.intents[parts[2]]
        if parts[:2] == ["v1", "refunds"]:
            if len(parts) == 2 and method == "POST":
                return self._refund(params)
            if len(parts) == 3 and parts[2] in self.refunds:
                return 200, self.refunds[parts[2]]
        if parts[:2] == ["v1", "events"] and method == "GET":
            since = int(params.get("created", {}).get("gte", 0))
            data = [e for e in self.events if e["created"] >= since]
            return 200, {
                "object": "list",
                "url": "/v1/events",
                "has_more": False,
                "data": data[::-1],
            }
        return 404, {"error": {"type": "invalid_request_error", "message": f"No such route {path}"}}

    def _create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        intent_id = _new_id("pi")
        method_type = params["payment_method_types"]["0"]
        amount = int(params["amount"])
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": params["currency"],
            "customer": params.get("customer"),
            "client_secret": f"{intent_id}_secret_fake",
            "payment_method_types": [method_type],
            "metadata": params.get("metadata", {}),
            "status": "requires_payment_method",
            "next_action": None,
            "last_payment_error": None,
            "latest_charge": None,
        }
        if params.get("confirm") == "true":
            intent["status"] = "requires_action"
            if method_type == "konbini":
                days = int(params["payment_method_options"]["konbini"]["expires_after_days"])
                intent["next_action"] = {
                    "type": "konbini_display_details",
                    "konbini_display_details": {
                        "expires_at": int(time.time()) + days * 86_400,
                        "hosted_voucher_url": f"https://payments.stripe.com/konbini/voucher/{intent_id}",
                        "stores": {"familymart": {"confirmation_number": "12345"}},
                    },
                }
            elif method_type == "customer_balance":
                intent["next_action"] = {
                    "type": "display_bank_transfer_instructions",
                    "display_bank_transfer_instructions": {
                        "type": "jp_bank_transfer",
                        "amount_remaining": amount,
                        "currency": "jpy",
                        "reference": None,
                        "hosted_instructions_url": f"https://payments.stripe.com/instructions/{intent_id}",
                        "financial_addresses": [
                            {
                                "type": "zengin",
                                "zengin": {
                                    "account_holder_name": "ｽﾄﾗｲﾌﾟｼﾞﾔﾊﾟﾝ(ｶ",
                                    "account_number": "1234567",
                                    "account_type": "futsu",
                                    "bank_code": "0009",
                                    "bank_name": "三井住友銀行",
                                    "branch_code": "950",
                                    "branch_name": "東京第二支店",
                                },
                            }
                        ],
                    },
                }
        self.intents[intent_id] = intent
        return intent

    def _refund(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(params.get("payment_intent", ""))
        amount = int(params["amount"])
        refunded = sum(
            r["amount"]
            for r in self.refunds.values()
            if r["payment_intent"] == params.get("payment_intent")
        )
        if (
            intent is None
            or intent["status"] != "succeeded"
            or refunded + amount > intent["amount"]
        ):
            return 400, {
                "error": {
                    "type": "invalid_request_error",
                    "code": "amount_too_large",
                    "message": "Refund amount is greater than unrefunded amount",
                }
            }
        # Konbini and bank transfer refunds are paid out later: Stripe answers "pending".
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": "jpy",
            "payment_intent": intent["id"],
            "status": "pending",
            "metadata": params.get("metadata", {}),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    def settle_refund(self, refund_id: str) -> dict[str, Any]:
        self.refunds[refund_id]["status"] = "succeeded"
        return self._event("refund.updated", self.refunds[refund_id])
