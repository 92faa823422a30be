"""Shop reports: what each booking delivered, for the shop itself and for finance staff."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from analytics.shop_report import ShopReport, report_tables
from analytics.shop_report_source import load_shop_report, shop_bookings
from marketplace.vocab import StaffRole
from portal_plugin.auth import ShopPrincipal, require_shop, require_staff
from portal_plugin.context import context
from portal_plugin.export_responses import table_download
from portal_plugin.routes.finance import REPORT_HELPERS
from portal_plugin.web import json_error, render


async def _report(request: Request, shop_id: int | None) -> ShopReport:
    booking_id = int(request.path_params["id"])

    def work(session: Session) -> ShopReport:
        return load_shop_report(session, booking_id, shop_id)

    return await context(request).in_transaction(work)


def _page(request: Request, report: ShopReport, base: str, *, for_shop: bool) -> Response:
    tables = report_tables(report, for_shop=for_shop)
    return render(
        request,
        "shop/report.html",
        {"r": report, "tables": tables, "export_base": base, **REPORT_HELPERS},
    )


def _download(request: Request, report: ShopReport, *, for_shop: bool) -> Response:
    key = request.path_params["table"]
    tables = report_tables(report, for_shop=for_shop)
    table = next((t for t in tables if t.key == key), None)
    if table is None:
        return json_error(404, "not_found", "その表はありません")
    return table_download([table], "csv", f"booking-{report.booking.booking_id}-{key}")


@require_shop
async def shop_report_list(request: Request) -> Response:
    shop: ShopPrincipal = request.state.shop
    bookings = await context(request).in_transaction(shop_bookings, shop.shop_id)
    return render(request, "shop/reports.html", {"bookings": bookings})


@require_shop
async def shop_report_page(request: Request) -> Response:
    shop: ShopPrincipal = request.state.shop
    report = await _report(request, shop.shop_id)
    return _page(
        request,
        report,
        f"{request.scope.get('root_path', '')}/shop/reports/{report.booking.booking_id}",
        for_shop=True,
    )


@require_shop
async def shop_report_csv(request: Request) -> Response:
    shop: ShopPrincipal = request.state.shop
    return _download(request, await _report(request, shop.shop_id), for_shop=True)


@require_staff(StaffRole.FINANCE, StaffRole.REVIEWER)
async def staff_report_page(request: Request) -> Response:
    report = await _report(request, None)
    return _page(
        request,
        report,
        f"{request.scope.get('root_path', '')}/finance/bookings/{report.booking.booking_id}/report",
        for_shop=False,
    )


@require_staff(StaffRole.FINANCE, StaffRole.REVIEWER)
async def staff_report_csv(request: Request) -> Response:
    return _download(request, await _report(request, None), for_shop=False)


routes = [
    Route("/shop/reports", shop_report_list, methods=["GET"], name="shop_reports"),
    Route("/shop/reports/{id:int}", shop_report_page, methods=["GET"], name="shop_report"),
    Route(
        "/shop/reports/{id:int}/{table:str}.csv",
        shop_report_csv,
        methods=["GET"],
        name="shop_report_csv",
    ),
    Route(
        "/finance/bookings/{id:int}/report",
        staff_report_page,
        methods=["GET"],
        name="staff_shop_report",
    ),
    Route(
        "/finance/bookings/{id:int}/report/{table:str}.csv",
        staff_report_csv,
        methods=["GET"],
        name="staff_shop_report_csv",
    ),
]
