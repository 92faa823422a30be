"""The shop's billing pages: invoices (HTML and PDF), payments, and paying a booking."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from billing.bookings import accept_invoice
from billing.errors import IssuerNotConfigured, PaymentNotAllowed
from billing.models import Invoice, Payment, PaymentMethod, PaymentStatus
from billing.payments import card_payment
from billing.providers.base import PaymentStart
from billing.rendering import invoice_body_html, invoice_pdf
from billing.shop_views import shop_billing, shop_invoice
from marketplace.bookings.services import shop_booking
from portal_plugin.auth import require_shop
from portal_plugin.billing_setup import billing_config, invoicing_unavailable, provider_for
from portal_plugin.context import context
from portal_plugin.marketplace_web import path_id, shop_of
from portal_plugin.routes.billing_finance import pdf_response
from portal_plugin.security.headers import CONTENT_SECURITY_POLICY
from portal_plugin.web import render

# Only the card page loosens the policy, and only for Stripe's own origins.
STRIPE_CSP = (
    CONTENT_SECURITY_POLICY.replace(
        "script-src 'self'", "script-src 'self' https://js.stripe.com"
    ).replace("connect-src 'self'", "connect-src 'self' https://api.stripe.com")
    + "; frame-src https://js.stripe.com https://hooks.stripe.com"
)
INVOICE_METHODS = {
    "bank_transfer": PaymentMethod.BANK_TRANSFER,
    "konbini": PaymentMethod.KONBINI,
    "customer_balance": PaymentMethod.CUSTOMER_BALANCE,
}


def _message(request: Request, text: str, status: int) -> Response:
    return render(request, "billing/shop_message.html", {"message": text}, status_code=status)


@require_shop
async def billing_page(request: Request) -> Response:
    data = await context(request).in_transaction(shop_billing, shop_of(request).shop_id)
    return render(request, "billing/shop_billing.html", {"data": data})


async def _own_invoice(request: Request) -> tuple[Invoice, Any]:
    ctx = context(request)
    result: tuple[Invoice, Any] = await ctx.in_transaction(
        shop_invoice,
        billing_config(ctx.settings),
        shop_of(request).shop_id,
        request.path_params["number"],
    )
    return result


@require_shop
async def invoice_page(request: Request) -> Response:
    invoice, view = await _own_invoice(request)
    prefix = request.scope.get("root_path", "")
    online = provider_for(context(request)) is not None
    return render(
        request,
        "billing/invoice.html",
        {
            "invoice": invoice,
            "body": invoice_body_html(view),
            "owed": view.position.outstanding,
            "pay_online": online and not invoice.is_credit_note and view.position.outstanding > 0,
            "pdf_url": f"{prefix}/shop/billing/invoices/{invoice.number}/pdf",
            "back_url": f"{prefix}/shop/billing",
        },
    )


@require_shop
async def invoice_pdf_download(request: Request) -> Response:
    invoice, view = await _own_invoice(request)
    return pdf_response(invoice, invoice_pdf(view))


def _pay_invoice(
    session: Session, ctx: Any, shop_id: int, number: str, method: PaymentMethod
) -> PaymentStart:
    invoice, _ = shop_invoice(session, billing_config(ctx.settings), shop_id, number)
    provider = provider_for(ctx)
    if provider is None:
        raise PaymentNotAllowed("オンライン決済は現在ご利用いただけません")
    return provider.start_invoice_payment(session, invoice, method)


@require_shop
async def pay_invoice(request: Request) -> Response:
    ctx = context(request)
    form = await request.form()
    method = INVOICE_METHODS.get(str(form.get("method", "")))
    if method is None or method is PaymentMethod.BANK_TRANSFER:
        return _message(request, "お支払方法を選んでください", 400)
    start = await ctx.in_transaction(
        _pay_invoice, ctx, shop_of(request).shop_id, request.path_params["number"], method
    )
    return render(
        request,
        "billing/shop_message.html",
        {"message": start.instructions, "link": start.next_action_url},
    )


def _pay_view(session: Session, shop_id: int, booking_id: int) -> Any:
    return shop_booking(session, shop_id, booking_id)


@require_shop
async def pay_page(request: Request) -> Response:
    ctx = context(request)
    booking = await ctx.in_transaction(_pay_view, shop_of(request).shop_id, path_id(request))
    publishable = ctx.settings.stripe_publishable_key if provider_for(ctx) else None
    response = render(
        request,
        "billing/pay.html",
        {
            "booking": booking,
            "publishable_key": publishable,
            "stripe_online": provider_for(ctx) is not None,
        },
    )
    if publishable:
        response.headers["content-security-policy"] = STRIPE_CSP
    return response


def _accept(
    session: Session, ctx: Any, shop_id: int, booking_id: int, method: PaymentMethod
) -> tuple[Invoice, Any]:
    invoice = accept_invoice(
        session, billing_config(ctx.settings), booking_id, shop_id=shop_id, method=method
    )
    start = None
    if method is not PaymentMethod.BANK_TRANSFER:
        provider = provider_for(ctx)
        if provider is None:
            raise PaymentNotAllowed("オンライン決済は現在ご利用いただけません")
        start = provider.start_invoice_payment(session, invoice, method)
    return invoice, start


@require_shop
async def accept(request: Request) -> Response:
    """Confirm the hold by accepting an invoice (bank transfer, konbini or Stripe transfer)."""
    ctx = context(request)
    form = await request.form()
    method = INVOICE_METHODS.get(str(form.get("method", "")))
    if method is None:
        return _message(request, "お支払方法を選んでください", 400)
    try:
        invoice, start = await ctx.in_transaction(
            _accept, ctx, shop_of(request).shop_id, path_id(request), method
        )
    except IssuerNotConfigured as exc:
        return _message(request, invoicing_unavailable(exc), 503)
    if start is not None and start.next_action_url:
        return render(
            request,
            "billing/shop_message.html",
            {"message": start.instructions, "link": start.next_action_url},
        )
    prefix = request.scope.get("root_path", "")
    return RedirectResponse(f"{prefix}/shop/billing/invoices/{invoice.number}", status_code=303)


def _card_intent(session: Session, ctx: Any, shop_id: int, booking_id: int) -> dict[str, Any]:
    provider = provider_for(ctx)
    if provider is None:
        raise PaymentNotAllowed("カード決済は現在ご利用いただけません")
    payment = provider.start_card_payment(session, booking_id, shop_id)
    return {"client_secret": payment.client_secret, "payment_id": payment.id}


@require_shop
async def card_intent(request: Request) -> Response:
    """JSON for Stripe.js: the PaymentIntent's client secret (sent with X-CSRF-Token)."""
    ctx = context(request)
    data = await ctx.in_transaction(_card_intent, ctx, shop_of(request).shop_id, path_id(request))
    return JSONResponse(data)


def _card_return(session: Session, ctx: Any, shop_id: int, booking_id: int) -> Payment | None:
    provider = provider_for(ctx)
    payment = card_payment(session, shop_id, booking_id)
    if provider is None or payment is None or payment.provider_reference is None:
        return payment
    # After Stripe.js (and 3-D Secure) the browser comes back here: read the intent's state.
    provider.sync_intent(session, provider.gateway.retrieve_intent(payment.provider_reference))
    return payment


@require_shop
async def card_return(request: Request) -> Response:
    ctx = context(request)
    payment = await ctx.in_transaction(
        _card_return, ctx, shop_of(request).shop_id, path_id(request)
    )
    if payment is None:
        return _message(request, "お支払いが見つかりません", 404)
    if payment.status is PaymentStatus.SUCCEEDED:
        return _message(
            request,
            "お支払いが完了し、お申し込みが確定しました。請求書(領収)をご確認ください。",
            200,
        )
    if payment.status is PaymentStatus.FAILED:
        return _message(request, payment.failure_message or "カードが承認されませんでした。", 402)
    return _message(request, "お支払いを確認中です。確定するとお知らせします。", 202)


routes = [
    Route("/shop/billing", billing_page, name="shop_billing"),
    Route("/shop/billing/invoices/{number}", invoice_page, name="shop_invoice"),
    Route("/shop/billing/invoices/{number}/pdf", invoice_pdf_download, name="shop_invoice_pdf"),
    Route(
        "/shop/billing/invoices/{number}/pay",
        pay_invoice,
        methods=["POST"],
        name="shop_invoice_pay",
    ),
    Route("/shop/bookings/{id:int}/pay", pay_page, name="shop_pay"),
    Route("/shop/bookings/{id:int}/pay/invoice", accept, methods=["POST"], name="shop_pay_invoice"),
    Route("/shop/bookings/{id:int}/pay/card", card_intent, methods=["POST"], name="shop_pay_card"),
    Route("/shop/bookings/{id:int}/pay/card/return", card_return, name="shop_pay_card_return"),
]
