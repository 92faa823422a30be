"""The parties that call the plugin in access tests, each with its own cookie jar."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.accounts.staff import create_staff
from marketplace.models import Shop
from marketplace.vocab import ShopStatus, StaffRole
from portal_plugin.access_policy import Party
from portal_plugin.identity import HEADER, ResidentIdentity, mint_token
from tests.support.marketplace_http import SIGNUP, sign_up
from tests.support.settings import TEST_ARTICLE_API_KEY, TEST_IDENTITY_SECRET

STRIPE_API_KEY = "sk_test_proofmatrix"
STRIPE_WEBHOOK_SECRET = "whsec_proofmatrix"
PASSWORD = "matrix password that is long enough"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Caller:
    name: str
    party: Party
    client: TestClient
    headers: dict[str, str] = field(default_factory=dict)
    # Strings that belong to this caller alone; no other caller may ever see them.
    private: frozenset[str] = frozenset()
    # Signs a raw body (Stripe webhooks); the signature header is added to the request.
    signer: Callable[[bytes], dict[str, str]] | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if "json" in kwargs:
            kwargs["content"] = json.dumps(kwargs.pop("json")).encode()
            headers["content-type"] = "application/json"
        if self.signer is not None and "content" in kwargs:
            headers.update(self.signer(kwargs["content"]))
        return self.client.request(method, path, headers=headers, follow_redirects=False, **kwargs)

    def csrf_token(self) -> str:
        """The token of this caller's session, read from a form as a browser would."""
        page = self.client.get("/staff/login")
        match = CSRF_FIELD.search(page.text)
        assert match, "the login form carries no CSRF token"
        return match.group(1)

    @property
    def has_session(self) -> bool:
        # Any page that renders a form gives the caller a session (it holds the CSRF token).
        return "pm_session" in self.client.cookies


def stripe_signature(payload: bytes, secret: str = STRIPE_WEBHOOK_SECRET) -> dict[str, str]:
    """The Stripe-Signature header Stripe would send (scheme v1: HMAC-SHA256 of "t.payload")."""
    timestamp = int(time.time())
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={digest}"}


def csrf_token_of(client: TestClient) -> str:
    match = CSRF_FIELD.search(client.get("/staff/login").text)
    assert match, "the login form carries no CSRF token"
    return match.group(1)


def log_in_staff(client: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf_token_of(client)
    return client.post(
        "/staff/login",
        data={"email": email, "password": password, "csrf_token": token, "next": ""},
        follow_redirects=False,
    )


def sign_up_shop_caller(name: str, client: TestClient, session: Session) -> Caller:
    """A shop that signed up through the form and was approved: logged in with its session."""
    suffix = {"shop": "shop-a", "other_shop": "shop-b"}.get(name, name.replace("_", "-"))
    values = {
        **SIGNUP,
        "email": f"{suffix}@shops.example.jp",
        "business_name": f"マトリクス{suffix}商店",
        "contact_name": f"担当 {suffix}",
    }
    answer = sign_up(client, **values)
    assert answer.status_code == 303, f"{name} could not sign up: {answer.text[:300]}"
    session.execute(
        update(Shop)
        .where(Shop.business_name == values["business_name"])
        .values(status=ShopStatus.APPROVED)
    )
    session.commit()
    private = frozenset({values["email"], values["business_name"], values["contact_name"]})
    return Caller(name, Party.SHOP, client, private=private)


def build_callers(app: Starlette, session: Session) -> dict[str, Caller]:
    """Anonymous, two residents, the host CMS and one staff user per role, all logged in."""

    addresses = iter(range(10, 250))

    def new_client() -> TestClient:
        # Each party calls from its own address, as real ones do (limits are per address).
        address = f"192.0.2.{next(addresses)}"
        return TestClient(app, base_url="https://testserver", client=(address, 50000))

    callers = {
        "anonymous": Caller("anonymous", Party.ANYONE, new_client()),
        "host_cms": Caller(
            "host_cms",
            Party.HOST_CMS,
            new_client(),
            headers={"Authorization": f"Bearer {TEST_ARTICLE_API_KEY}"},
        ),
    }
    callers["stripe"] = Caller("stripe", Party.STRIPE, new_client(), signer=stripe_signature)
    for name in ("resident", "other_resident"):
        external_id = f"matrix-{name.replace('_', '-')}"
        token = mint_token(TEST_IDENTITY_SECRET, ResidentIdentity(external_id=external_id))
        callers[name] = Caller(
            name,
            Party.RESIDENT,
            new_client(),
            headers={HEADER: token},
            private=frozenset({external_id}),
        )
    for name in ("shop", "other_shop"):
        callers[name] = sign_up_shop_caller(name, new_client(), session)
    for role in (StaffRole.REVIEWER, StaffRole.FINANCE, StaffRole.ADMIN):
        email = f"matrix-{role.value}@city.example.jp"
        display_name = f"マトリクス{role.value}担当"
        create_staff(session, email, display_name, PASSWORD, role)
        session.commit()
        client = new_client()
        answer = log_in_staff(client, email)
        assert answer.status_code == 303, f"{role.value} could not log in: {answer.status_code}"
        callers[role.value] = Caller(
            role.value,
            Party(role.value),
            client,
            private=frozenset({email, display_name}),
        )
    return callers
