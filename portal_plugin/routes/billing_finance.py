"""Finance staff pages: invoices, aging, bank statement import and review queue, refunds."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from billing import bank_import, refunds
from billing.errors import BillingError
from billing.models import Invoice, RefundStatus
from billing.rendering import PRINT_CSS, invoice_body_html, invoice_pdf, invoice_view
from billing.reports import (
    aging,
    invoice_by_number,
    recent_bank_transactions,
    recent_invoices,
    recent_refunds,
)
from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.vocab import StaffRole
from portal_plugin.auth import require_staff
from portal_plugin.billing_setup import billing_config
from portal_plugin.context import context
from portal_plugin.errors import localize
from portal_plugin.web import plugin_path, render

MAX_CSV_BYTES = 2_000_000


@require_staff(StaffRole.FINANCE)
async def invoices_page(request: Request) -> Response:
    rows = await context(request).in_transaction(recent_invoices)
    return render(request, "billing/finance_invoices.html", {"rows": rows})


async def _load_invoice(request: Request) -> tuple[Invoice, object]:
    ctx = context(request)
    config = billing_config(ctx.settings)
    number = request.path_params["number"]

    def load(session: Session) -> tuple[Invoice, object]:
        invoice = invoice_by_number(session, number)
        if invoice is None:
            raise HTTPException(404)
        return invoice, invoice_view(session, config, invoice)

    result: tuple[Invoice, object] = await ctx.in_transaction(load)
    return result


@require_staff(StaffRole.FINANCE)
async def invoice_page(request: Request) -> Response:
    invoice, view = await _load_invoice(request)
    return render(
        request,
        "billing/invoice.html",
        {"invoice": invoice, "body": invoice_body_html(view)},  # type: ignore[arg-type]
    )


@require_staff(StaffRole.FINANCE)
async def invoice_pdf_download(request: Request) -> Response:
    invoice, view = await _load_invoice(request)
    return pdf_response(invoice, invoice_pdf(view))  # type: ignore[arg-type]


def pdf_response(invoice: Invoice, pdf: bytes) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoice.number}.pdf"'},
    )


@require_staff(StaffRole.FINANCE)
async def aging_page(request: Request) -> Response:
    today = tokyo_date(utcnow())
    rows = await context(request).in_transaction(aging, today)
    return render(request, "billing/aging.html", {"rows": rows, "as_of": today})


def _bank_state(session: Session) -> dict[str, object]:
    return {
        "queue": bank_import.review_queue(session),
        "recent": recent_bank_transactions(session),
    }


@require_staff(StaffRole.FINANCE)
async def bank_page(request: Request) -> Response:
    state = await context(request).in_transaction(_bank_state)
    return render(request, "billing/bank.html", state)


@require_staff(StaffRole.FINANCE)
async def bank_upload(request: Request) -> Response:
    ctx = context(request)
    message, status = "", 200
    async with request.form(max_files=1) as form:
        upload = form.get("statement")
        if upload is None or isinstance(upload, str):
            message, status = "CSV ファイルを選んでください", 400
            data, filename = b"", ""
        else:
            data, filename = (
                await upload.read(MAX_CSV_BYTES + 1),
                upload.filename or "statement.csv",
            )
    if status == 200 and len(data) > MAX_CSV_BYTES:
        message, status = "ファイルが大きすぎます(2MB まで)", 400
    elif status == 200:
        try:
            result = await ctx.in_transaction(
                bank_import.import_statement,
                data,
                filename=filename,
                staff_id=request.state.staff.staff_id,
            )
            message = (
                f"{result.rows}件を取り込み、{result.matched}件を照合、"
                f"{result.review}件を確認待ちにしました"
            )
        except BillingError as exc:
            message, status = localize(exc), 400
    state = await ctx.in_transaction(_bank_state)
    return render(request, "billing/bank.html", {**state, "message": message}, status_code=status)


@require_staff(StaffRole.FINANCE)
async def bank_resolve(request: Request) -> Response:
    ctx = context(request)
    form = await request.form()
    transaction_id = int(request.path_params["transaction_id"])
    action = str(form.get("action", ""))
    try:
        if action == "assign":
            await ctx.in_transaction(
                bank_import.resolve_to_invoice, transaction_id, str(form.get("invoice_number", ""))
            )
        elif action == "dismiss":
            await ctx.in_transaction(bank_import.dismiss, transaction_id, str(form.get("note", "")))
        else:
            raise BillingError("操作を選んでください")
    except BillingError as exc:
        state = await ctx.in_transaction(_bank_state)
        return render(
            request, "billing/bank.html", {**state, "message": localize(exc)}, status_code=400
        )
    return RedirectResponse(plugin_path(request, "billing_bank"), status_code=303)


@require_staff(StaffRole.FINANCE)
async def refunds_page(request: Request) -> Response:
    rows = await context(request).in_transaction(recent_refunds)
    return render(
        request,
        "billing/refunds.html",
        {"rows": rows, "PENDING_PAYOUT": RefundStatus.PENDING_PAYOUT},
    )


@require_staff(StaffRole.FINANCE)
async def refund_paid_out(request: Request) -> Response:
    ctx = context(request)
    refund_id = int(request.path_params["refund_id"])
    try:
        await ctx.in_transaction(refunds.mark_paid_out, refund_id, tokyo_date(utcnow()))
    except BillingError as exc:
        rows = await ctx.in_transaction(recent_refunds)
        return render(
            request,
            "billing/refunds.html",
            {"rows": rows, "message": localize(exc), "PENDING_PAYOUT": RefundStatus.PENDING_PAYOUT},
            status_code=400,
        )
    return RedirectResponse(plugin_path(request, "billing_refunds"), status_code=303)


async def invoice_css(request: Request) -> Response:
    """Billing's own invoice stylesheet, so the page and the PDF share one design."""
    return FileResponse(PRINT_CSS, media_type="text/css")


routes = [
    Route("/billing/invoice.css", invoice_css, name="billing_invoice_css"),
    Route("/staff/billing/invoices", invoices_page, name="billing_invoices"),
    Route("/staff/billing/invoices/{number}", invoice_page, name="billing_invoice"),
    Route("/staff/billing/invoices/{number}/pdf", invoice_pdf_download, name="billing_invoice_pdf"),
    Route("/staff/billing/aging", aging_page, name="billing_aging"),
    Route("/staff/billing/bank", bank_page, name="billing_bank"),
    Route("/staff/billing/bank/import", bank_upload, methods=["POST"], name="billing_bank_import"),
    Route(
        "/staff/billing/bank/{transaction_id:int}/resolve",
        bank_resolve,
        methods=["POST"],
        name="billing_bank_resolve",
    ),
    Route("/staff/billing/refunds", refunds_page, name="billing_refunds"),
    Route(
        "/staff/billing/refunds/{refund_id:int}/paid-out",
        refund_paid_out,
        methods=["POST"],
        name="billing_refund_paid_out",
    ),
]
