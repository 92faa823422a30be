"""Every route of the app, called as every party: the expected answer and no one else's data.

The routes come from the app's own route table, the rules from portal_plugin/access_policy.py,
and how to call each route from PROBES below. A route missing from either table fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from marketplace.vocab import StaffRole
from portal_plugin.access_policy import ROUTE_ACCESS, STAFF_PARTIES, Party, access_for, staff
from tests.conftest import TEST_ARTICLE_API_KEY
from tests.proof.callers import Caller, build_callers
from tests.proof.routetable import route_table

ARTICLE = {
    "title": "マトリクス試験の記事",
    "summary": "アクセス制御の試験で使う記事です。",
    "url": "https://www.city.aizuwakamatsu.fukushima.jp/matrix",
    "category": "行政手続き",
    "tags": [],
    "published_at": "2026-04-01T09:00:00+09:00",
}


# An event type the billing code ignores: proves a signed delivery is accepted, changes nothing.
STRIPE_EVENT = {
    "id": "evt_matrix_0001",
    "object": "event",
    "type": "customer.created",
    "data": {"object": {"id": "cus_matrix", "object": "customer"}},
}


@dataclass(frozen=True)
class Probe:
    """How to call one route, and what it answers to allowed and refused callers."""

    method: str
    path: str
    ok: frozenset[int]
    unauthenticated: int = 401  # callers without the credentials the route needs
    forbidden: int = 403  # logged-in staff or shops of the wrong role
    kwargs: dict[str, Any] = field(default_factory=dict)
    shows_own_data: bool = False  # an allowed caller must see their own private data


def probe(method: str, path: str, *ok: int, **options: Any) -> Probe:
    return Probe(method, path, frozenset(ok), **options)


PROBES: dict[str, Probe] = {
    "health": probe("GET", "/healthz", 200),
    "resident_me": probe("GET", "/api/me", 200, shows_own_data=True),
    "list_articles": probe("GET", "/api/articles", 200),
    "put_article": probe("PUT", "/api/articles/matrix-1", 200, 201, kwargs={"json": ARTICLE}),
    "feed_fragment": probe(
        "GET", "/fragment/feed", 200, kwargs={"headers": {"accept": "text/html"}}
    ),
    "staff_login": probe("GET", "/staff/login", 200),
    "staff_login_submit": probe(
        "POST",
        "/staff/login",
        400,
        kwargs={
            "data": {"email": "nobody-{caller}@city.example.jp", "password": "wrong", "next": ""}
        },
    ),
    "staff_logout": probe("POST", "/staff/logout", 303),
    "staff_home": probe("GET", "/staff/", 200, unauthenticated=303, shows_own_data=True),
    "static": probe("GET", "/static/portal.css", 200),
    "api_feed": probe("GET", "/api/feed", 200),
    "ad_impression": probe("GET", "/i/forged-token", 400),
    "ad_click": probe("GET", "/c/forged-token", 400),
    "stripe_webhook": probe(
        "POST", "/billing/stripe/webhook", 200, unauthenticated=400, kwargs={"json": STRIPE_EVENT}
    ),
    "billing_invoices": probe("GET", "/staff/billing/invoices", 200),
    "billing_invoice": probe("GET", "/staff/billing/invoices/T-NONE-0001", 404),
    "billing_invoice_pdf": probe("GET", "/staff/billing/invoices/T-NONE-0001/pdf", 404),
    "billing_aging": probe("GET", "/staff/billing/aging", 200),
    "billing_bank": probe("GET", "/staff/billing/bank", 200),
    "billing_bank_import": probe("POST", "/staff/billing/bank/import", 400, kwargs={"data": {}}),
    "billing_bank_resolve": probe(
        "POST", "/staff/billing/bank/999999/resolve", 400, kwargs={"data": {"action": "?"}}
    ),
    "billing_refunds": probe("GET", "/staff/billing/refunds", 200),
    "billing_refund_paid_out": probe("POST", "/staff/billing/refunds/999999/paid-out", 400, 404),
    "shop_signup": probe("GET", "/shop/signup", 200),
    "shop_signup_submit": probe("POST", "/shop/signup", 400, 422, kwargs={"data": {"email": "x"}}),
    "shop_login": probe("GET", "/shop/login", 200),
    "shop_login_submit": probe(
        "POST",
        "/shop/login",
        400,
        kwargs={"data": {"email": "nobody-{caller}@example.jp", "password": "wrong", "next": ""}},
    ),
    "shop_logout": probe("POST", "/shop/logout", 303),
    "shop_tokens": probe("GET", "/shop/tokens", 200),
    "shop_token_create": probe("POST", "/shop/tokens", 400, 422, kwargs={"data": {"name": ""}}),
    "shop_token_revoke": probe("POST", "/shop/tokens/999999/revoke", 404),
    "shop_dashboard": probe("GET", "/shop/", 200, shows_own_data=True),
    "shop_availability": probe("GET", "/shop/availability", 200),
    "shop_book": probe("GET", "/shop/book", 200),
    "shop_quote": probe("GET", "/shop/book/quote", 400, 422),
    "shop_hold": probe("POST", "/shop/bookings", 400, 422, kwargs={"data": {}}),
    "shop_booking": probe("GET", "/shop/bookings/999999", 404),
    "shop_confirm": probe("POST", "/shop/bookings/999999/confirm", 404),
    "shop_cancel": probe("POST", "/shop/bookings/999999/cancel", 404),
    "shop_creatives": probe("GET", "/shop/creatives", 200),
    "shop_creative_new": probe("GET", "/shop/creatives/new", 200),
    "shop_creative_create": probe("POST", "/shop/creatives", 400, 422, kwargs={"data": {}}),
    "shop_creative": probe("GET", "/shop/creatives/999999", 404),
    "shop_creative_edit": probe("POST", "/shop/creatives/999999", 404, kwargs={"data": {}}),
    "creative_image": probe("GET", "/creative-images/999999", 404),
    "staff_marketplace": probe("GET", "/staff/marketplace/", 200),
    "staff_disaster_mode": probe("POST", "/staff/disaster-mode", 303, 400, kwargs={"data": {}}),
    "staff_shops": probe("GET", "/staff/shops", 200),
    "staff_shop_decision": probe(
        "POST", "/staff/shops/999999/decision", 404, kwargs={"data": {"decision": "approve"}}
    ),
    "staff_review_queue": probe("GET", "/staff/review", 200),
    "staff_review": probe("GET", "/staff/review/999999", 404),
    "staff_review_approve": probe("POST", "/staff/review/999999/approve", 404, kwargs={"data": {}}),
    "staff_review_reject": probe("POST", "/staff/review/999999/reject", 422, kwargs={"data": {}}),
    "staff_audit": probe("GET", "/staff/audit", 200),
    "staff_ad_standards": probe("GET", "/staff/ad-standards", 200),
    "staff_ad_standards_save": probe("POST", "/staff/ad-standards", 422, kwargs={"data": {}}),
    "staff_inventory": probe("GET", "/staff/inventory", 200),
    "staff_placement_save": probe("POST", "/staff/placements", 422, kwargs={"data": {}}),
    "staff_placement": probe("GET", "/staff/placements/999999", 404),
    "staff_booking_pause": probe("POST", "/staff/bookings/999999/pause", 422, kwargs={"data": {}}),
    "staff_booking_resume": probe(
        "POST", "/staff/bookings/999999/resume", 404, kwargs={"data": {}}
    ),
    "staff_booking_cancel": probe(
        "POST", "/staff/bookings/999999/cancel", 422, kwargs={"data": {}}
    ),
    "placements": probe("GET", "/api/marketplace/placements", 200),
    "availability": probe("GET", "/api/marketplace/availability", 200, 422),
    "quote": probe("POST", "/api/marketplace/quotes", 422, kwargs={"json": {}}),
    "list_bookings": probe("GET", "/api/marketplace/bookings", 200),
    "hold": probe("POST", "/api/marketplace/bookings", 422, kwargs={"json": {}}),
    "get_booking": probe("GET", "/api/marketplace/bookings/999999", 404),
    "confirm": probe("POST", "/api/marketplace/bookings/999999/confirm", 404, kwargs={"json": {}}),
    "cancel": probe("POST", "/api/marketplace/bookings/999999/cancel", 404, kwargs={"json": {}}),
    "list_creatives": probe("GET", "/api/marketplace/creatives", 200),
    "create": probe("POST", "/api/marketplace/creatives", 422, kwargs={"json": {}}),
    "openapi": probe("GET", "/openapi.json", 200),
    "finance_dashboard": probe("GET", "/finance/", 200),
    "finance_export": probe("GET", "/finance/export/nothing.csv", 404),
    "finance_chart": probe("GET", "/finance/charts/nothing.png", 404),
    "finance_costs": probe("GET", "/finance/costs", 200),
    "finance_costs_save": probe("POST", "/finance/costs", 400, 422, kwargs={"data": {}}),
    "finance_allocation_save": probe("POST", "/finance/allocation", 400, 422, kwargs={"data": {}}),
    "transparency": probe("GET", "/transparency", 200),
    "shop_profile": probe("GET", "/shop/profile", 200, shows_own_data=True),
    "shop_profile_save": probe("POST", "/shop/profile", 400, 422, kwargs={"data": {}}),
    "shop_booking_creative": probe(
        "POST", "/shop/bookings/999999/creative", 422, kwargs={"data": {}}
    ),
    "shop_reports": probe("GET", "/shop/reports", 200),
    "shop_report": probe("GET", "/shop/reports/999999", 404),
    "shop_report_csv": probe("GET", "/shop/reports/999999/daily.csv", 404),
    "staff_shop_report": probe("GET", "/finance/bookings/999999/report", 404),
    "staff_shop_report_csv": probe("GET", "/finance/bookings/999999/report/daily.csv", 404),
    "choose_creative": probe(
        "POST", "/api/marketplace/bookings/999999/creative", 404, 422, kwargs={"json": {}}
    ),
    "api_staff_review_queue": probe("GET", "/api/marketplace/staff/review-queue", 200),
    "api_staff_approve": probe(
        "POST", "/api/marketplace/staff/creative-versions/999999/approve", 404, kwargs={"json": {}}
    ),
    "api_staff_reject": probe(
        "POST",
        "/api/marketplace/staff/creative-versions/999999/reject",
        404,
        422,
        kwargs={"json": {}},
    ),
    "api_staff_shop_decision": probe(
        "POST",
        "/api/marketplace/staff/shops/999999/decision",
        404,
        422,
        kwargs={"json": {"decision": "approve"}},
    ),
    "api_staff_booking_pause": probe(
        "POST", "/api/marketplace/staff/bookings/999999/pause", 404, 422, kwargs={"json": {}}
    ),
    "api_staff_booking_resume": probe(
        "POST", "/api/marketplace/staff/bookings/999999/resume", 404, 422, kwargs={"json": {}}
    ),
    "api_staff_disaster_mode": probe("GET", "/api/marketplace/staff/disaster-mode", 200),
    "api_staff_disaster_mode_switch": probe(
        "POST", "/api/marketplace/staff/disaster-mode", 422, kwargs={"json": {}}
    ),
    "billing_invoice_css": probe("GET", "/billing/invoice.css", 200),
    "shop_billing": probe("GET", "/shop/billing", 200),
    "shop_invoice": probe("GET", "/shop/billing/invoices/T-NONE-0001", 404),
    "shop_invoice_pdf": probe("GET", "/shop/billing/invoices/T-NONE-0001/pdf", 404),
    "shop_invoice_pay": probe(
        "POST", "/shop/billing/invoices/T-NONE-0001/pay", 400, kwargs={"data": {}}
    ),
    "shop_pay": probe("GET", "/shop/bookings/999999/pay", 404),
    "shop_pay_invoice": probe(
        "POST", "/shop/bookings/999999/pay/invoice", 400, kwargs={"data": {}}
    ),
    "shop_pay_card": probe("POST", "/shop/bookings/999999/pay/card", 400, kwargs={"data": {}}),
    "shop_pay_card_return": probe("GET", "/shop/bookings/999999/pay/card/return", 404),
}


def test_every_route_has_an_access_rule_and_a_probe(app: Starlette) -> None:
    entries = route_table(app)
    names = {entry.name for entry in entries}
    unnamed = [f"{e.method} {e.path}" for e in entries if not e.name]
    by_name: dict[str, set[str]] = {}
    for entry in entries:
        by_name.setdefault(entry.name, set()).add(f"{entry.method} {entry.path}")
    shared = {name: sorted(places) for name, places in by_name.items() if len(places) > 1}
    assert not shared, f"route names must be unique so each has its own rule: {shared}"
    assert not unnamed, f"routes without a name cannot carry an access rule: {unnamed}"
    for entry in entries:
        access_for(entry.name)  # raises MissingAccessRule naming the route
        assert entry.name in PROBES, f"route {entry.name!r} has no probe in {__name__}.PROBES"
        assert PROBES[entry.name].method == entry.method or entry.method == "GET"
    assert set(ROUTE_ACCESS) <= names, (
        f"rules for routes that no longer exist: {set(ROUTE_ACCESS) - names}"
    )
    assert set(PROBES) <= names, f"probes for routes that no longer exist: {set(PROBES) - names}"


def test_guards_in_code_agree_with_the_declared_policy(app: Starlette) -> None:
    for entry in route_table(app):
        declared = access_for(entry.name)
        if getattr(entry.endpoint, "requires_shop", False):
            assert declared.allowed == {Party.SHOP}, f"{entry.name}: require_shop, policy differs"
        roles = getattr(entry.endpoint, "required_roles", None)
        if roles is None:
            continue
        assert declared.allowed == staff(*roles, why="").allowed, (
            f"{entry.name}: require_staff{tuple(r.value for r in roles)} but the policy says "
            f"{sorted(declared.allowed)}"
        )


@pytest.fixture
def callers(app: Starlette, session: Session, client: Any) -> Iterator[dict[str, Caller]]:
    # `client` runs the app's lifespan once; the callers share the app with their own cookies.
    yield build_callers(app, session)


def expected_status(probe: Probe, route_name: str, caller: Caller) -> frozenset[int]:
    access = access_for(route_name)
    if access.allows(caller.party):
        return probe.ok
    staff_only = access.allowed <= STAFF_PARTIES
    if staff_only and caller.party in STAFF_PARTIES:
        return frozenset({probe.forbidden})  # logged in as staff, but not in the right role
    # Everyone else has no credential this route knows: a shop is no one on staff pages,
    # staff are no one on shop pages, and a resident token opens neither.
    return frozenset({probe.unauthenticated})


def personalised(kwargs: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """Fill "{caller}" in form values, so per-account limits (login) do not mix callers up."""
    result = dict(kwargs)
    if isinstance(result.get("data"), dict):
        result["data"] = {
            key: value.format(caller=caller.name) if isinstance(value, str) else value
            for key, value in result["data"].items()
        }
    return result


def may_see(viewer: Caller, owner: Caller) -> bool:
    """Whose private data a party may see: staff oversee shops (approval, review, billing)."""
    return viewer.party in STAFF_PARTIES and owner.party is Party.SHOP


def check_cell(route_name: str, caller: Caller, callers: dict[str, Caller]) -> list[str]:
    """Call one route as one party; return what is wrong (nothing when the cell holds)."""
    probe = PROBES[route_name]
    access = access_for(route_name)
    kwargs = personalised(probe.kwargs, caller)
    if probe.method not in {"GET", "HEAD"} and caller.has_session:
        # Authorisation is under test here, not CSRF (test_security covers that): callers
        # with a session send their token as a page script would.
        kwargs["headers"] = {**kwargs.get("headers", {}), "X-CSRF-Token": caller.csrf_token()}
    answer = caller.request(probe.method, probe.path, **kwargs)
    expected = expected_status(probe, route_name, caller)
    cell = f"{probe.method} {probe.path} as {caller.name}"
    problems = []
    if answer.status_code not in expected:
        problems.append(
            f"{cell}: {answer.status_code}, expected {sorted(expected)}; {answer.text[:160]!r}"
        )
    body = answer.text
    for other in callers.values():
        if other is caller or may_see(caller, other):
            continue
        leaked = [marker for marker in other.private if marker in body]
        if leaked:
            problems.append(f"{cell}: shows {other.name}'s data {leaked}")
    if TEST_ARTICLE_API_KEY in body:
        problems.append(f"{cell}: echoes the article API key")
    shown = any(marker in body for marker in caller.private)
    if probe.shows_own_data and access.allows(caller.party) and caller.private and not shown:
        problems.append(f"{cell}: does not show the caller's own data")
    return problems


def test_every_route_answers_each_party_as_declared(callers: dict[str, Caller]) -> None:
    # Logging out ends the staff sessions the other cells need, so it goes last.
    order = sorted(PROBES, key=lambda name: (name.endswith("_logout"), name))
    problems = [
        problem
        for route_name in order
        for caller in callers.values()
        for problem in check_cell(route_name, caller, callers)
    ]
    assert not problems, "\n".join(problems)


def test_staff_roles_cover_every_staff_role() -> None:
    assert {Party(role.value) for role in StaffRole} == STAFF_PARTIES
