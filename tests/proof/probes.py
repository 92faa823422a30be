"""How to call every route of the app in the access and security tests, and what it answers.

tests/proof/test_access_matrix.py fails when a route has no probe here, or a probe no route.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    "about_ads": probe("GET", "/about-ads", 200, kwargs={"headers": {"accept": "text/html"}}),
    # Without the form token signed for the resident: refused as a stale form (403).
    "resident_hide_shop": probe("POST", "/me/hidden-shops", 403, kwargs={"data": {"shop_id": "1"}}),
    "resident_show_shop": probe("POST", "/me/hidden-shops/1/show", 403, kwargs={"data": {}}),
    "resident_personalized_ads": probe(
        "POST", "/me/personalized-ads", 403, kwargs={"data": {"personalized": "off"}}
    ),
    "resident_data": probe(
        "GET", "/me", 200, shows_own_data=True, kwargs={"headers": {"accept": "text/html"}}
    ),
    "resident_data_download": probe("GET", "/me/data.json", 200, shows_own_data=True),
    "resident_data_delete": probe(
        "POST", "/me/data/delete", 403, kwargs={"data": {"confirm": "yes"}}
    ),
    "list_articles": probe("GET", "/api/articles", 200),
    "put_article": probe("PUT", "/api/articles/matrix-1", 200, 201, kwargs={"json": ARTICLE}),
    "feed_fragment": probe(
        "GET", "/fragment/feed", 200, kwargs={"headers": {"accept": "text/html"}}
    ),
    "side_fragment": probe(
        "GET", "/fragment/side", 200, kwargs={"headers": {"accept": "text/html"}}
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
    "house_ad_view": probe("GET", "/h/forged-token", 400),
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
    "shop_password_forgot": probe("GET", "/shop/password/forgot", 200),
    "shop_password_forgot_submit": probe(
        "POST", "/shop/password/forgot", 422, kwargs={"data": {"email": "not an address"}}
    ),
    "shop_password_reset": probe("GET", "/shop/password/reset/not-a-link", 400),
    "shop_password_reset_submit": probe(
        "POST", "/shop/password/reset/not-a-link", 400, kwargs={"data": {}}
    ),
    "shop_password_change": probe("GET", "/shop/password", 200),
    "shop_password_change_submit": probe("POST", "/shop/password", 422, kwargs={"data": {}}),
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
    "staff_shop_rename": probe(
        "POST", "/staff/shops/999999/rename", 404, kwargs={"data": {"decision": "approve"}}
    ),
    "staff_review_queue": probe("GET", "/staff/review", 200),
    "staff_review": probe("GET", "/staff/review/999999", 404),
    "staff_review_approve": probe("POST", "/staff/review/999999/approve", 404, kwargs={"data": {}}),
    "staff_review_reject": probe("POST", "/staff/review/999999/reject", 422, kwargs={"data": {}}),
    "staff_audit": probe("GET", "/staff/audit", 200),
    "staff_jobs": probe("GET", "/staff/jobs", 200),
    # Refused alike to everyone but administrators (and this machine's scraper): 403.
    "metrics": probe("GET", "/metrics", 200, unauthenticated=403),
    "staff_ad_standards": probe("GET", "/staff/ad-standards", 200),
    "staff_ad_standards_save": probe("POST", "/staff/ad-standards", 422, kwargs={"data": {}}),
    "staff_inventory": probe("GET", "/staff/inventory", 200),
    "staff_reach": probe("GET", "/staff/inventory/reach", 200),
    "staff_placement_save": probe("POST", "/staff/placements", 422, kwargs={"data": {}}),
    "staff_placement": probe("GET", "/staff/placements/999999", 404),
    "staff_house_ads": probe("GET", "/staff/house-ads", 200),
    "staff_house_ad_save": probe("POST", "/staff/house-ads", 422, kwargs={"data": {}}),
    "staff_house_ad": probe("GET", "/staff/house-ads/999999", 404),
    "staff_house_ad_retire": probe("POST", "/staff/house-ads/999999/retire", 404),
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
    "shop_flyer_new": probe("GET", "/shop/flyers/new", 200),
    "shop_flyer_create": probe("POST", "/shop/flyers", 400, 422, kwargs={"data": {}}),
    "shop_flyer": probe("GET", "/shop/flyers/999999", 404),
    "shop_flyer_edit": probe("POST", "/shop/flyers/999999", 404, 422, kwargs={"data": {}}),
    "flyer_viewer": probe("GET", "/flyers/999999", 404),
    "flyer_page_image": probe("GET", "/flyer-pages/999999/1", 404),
    "shop_page": probe("GET", "/shops/999999", 404),
    "shop_page_settings": probe("GET", "/shop/page", 200),
    "shop_page_settings_save": probe("POST", "/shop/page", 303, kwargs={"data": {}}),
}
