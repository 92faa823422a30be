"""Staff pages for trust and safety: shop approval, the review queue, ad standards, the audit
log and the disaster-mode switch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.accounts.shop_names import decide_rename, pending_renames
from marketplace.accounts.shops import decide_shop
from marketplace.audit import recent_entries, record
from marketplace.bookings.holds import (
    REPEATED_EXPIRY_COUNT,
    REPEATED_EXPIRY_WINDOW,
    repeated_expiries,
)
from marketplace.db import utcnow
from marketplace.errors import InvalidInput, MarketplaceError
from marketplace.flyers.services import flyer_pages
from marketplace.models import Shop
from marketplace.queries import all_shops
from marketplace.review.services import approve_version, reject_version, review_item, review_queue
from marketplace.review.standards import name_flags, save_policy
from marketplace.switches import portal_settings, set_disaster_mode
from marketplace.vocab import DISTRICTS, SHOP_CATEGORIES, StaffRole
from portal_plugin.auth import require_staff
from portal_plugin.errors import localize
from portal_plugin.labels import CREATIVE_STATUS_LABELS
from portal_plugin.marketplace_web import (
    current_policy,
    form_data,
    path_id,
    policy_path,
    run,
    staff_actor,
)
from portal_plugin.web import plugin_path, render

R, F = StaffRole.REVIEWER, StaffRole.FINANCE


def _staff_page(
    request: Request, template: str, values: dict[str, Any], status: int = 200
) -> Response:
    values.update(staff=request.state.staff, labels=CREATIVE_STATUS_LABELS)
    return render(request, template, values, status_code=status)


@require_staff(R, F)
async def hub(request: Request) -> Response:
    settings = await run(request, portal_settings)
    return _staff_page(request, "staff/marketplace/hub.html", {"settings": settings})


@require_staff(R, F)
async def disaster_mode(request: Request) -> Response:
    data = await form_data(request)
    enabled = data.get("enabled") == "1"
    await run(
        request, set_disaster_mode, staff_actor(request), enabled, str(data.get("message", ""))
    )
    return RedirectResponse(plugin_path(request, "staff_marketplace"), status_code=303)


@require_staff(R)
async def shops_page(request: Request) -> Response:
    now = utcnow()
    shops = await run(request, all_shops)
    lapsing = await run(request, repeated_expiries, now)
    return _staff_page(
        request,
        "staff/marketplace/shops.html",
        {
            "shops": shops,
            "lapsing": lapsing,
            "lapse_days": REPEATED_EXPIRY_WINDOW.days,
            "lapse_count": REPEATED_EXPIRY_COUNT,
            "categories": SHOP_CATEGORIES,
            "districts": DISTRICTS,
        },
    )


@require_staff(R)
async def shop_decision(request: Request) -> Response:
    data = await form_data(request)
    await run(
        request,
        decide_shop,
        path_id(request),
        str(data.get("decision", "")),
        staff_actor(request),
        str(data.get("reason", ""))[:1000],
    )
    return RedirectResponse(plugin_path(request, "staff_shops"), status_code=303)


@require_staff(R)
async def queue_page(request: Request) -> Response:
    items = await run(request, review_queue)
    policy = current_policy(request)
    renames = [
        PendingRename(shop, [rule.label for rule in name_flags(policy, shop.pending_business_name)])
        for shop in await run(request, pending_renames)
        if shop.pending_business_name is not None
    ]
    return _staff_page(
        request, "staff/marketplace/queue.html", {"items": items, "renames": renames}
    )


@dataclass(frozen=True)
class PendingRename:
    shop: Shop
    flags: list[str]


@require_staff(R)
async def rename_decision(request: Request) -> Response:
    data = await form_data(request)
    decision = str(data.get("decision", ""))
    if decision not in {"approve", "reject"}:
        raise InvalidInput("承認か却下を選んでください", field="decision")
    await run(
        request,
        decide_rename,
        path_id(request),
        decision == "approve",
        staff_actor(request),
        current_policy(request),
        str(data.get("reason", ""))[:1000],
    )
    return RedirectResponse(plugin_path(request, "staff_review_queue"), status_code=303)


@require_staff(R)
async def review_page(request: Request) -> Response:
    item = await run(request, review_item, path_id(request))
    pages = await run(request, flyer_pages, item.version.id)
    return _staff_page(
        request,
        "staff/marketplace/review.html",
        {"item": item, "policy": current_policy(request), "pages": pages},
    )


@require_staff(R)
async def approve(request: Request) -> Response:
    data = await form_data(request)
    await run(
        request,
        approve_version,
        path_id(request),
        staff_actor(request),
        str(data.get("note", "")),
    )
    return RedirectResponse(plugin_path(request, "staff_review_queue"), status_code=303)


@require_staff(R)
async def reject(request: Request) -> Response:
    data = await form_data(request)
    await run(
        request,
        reject_version,
        path_id(request),
        staff_actor(request),
        str(data.get("rule", "")),
        str(data.get("reason", ""))[:1000],
        current_policy(request),
    )
    return RedirectResponse(plugin_path(request, "staff_review_queue"), status_code=303)


@require_staff(R, F)
async def audit_page(request: Request) -> Response:
    subject = request.query_params.get("subject") or None
    entries = await run(request, recent_entries, limit=300, subject_type=subject)
    return _staff_page(
        request, "staff/marketplace/audit.html", {"entries": entries, "subject": subject}
    )


@require_staff(R)
async def standards_page(request: Request) -> Response:
    policy = current_policy(request)
    return _staff_page(
        request, "staff/marketplace/standards.html", {"source": policy.source, "policy": policy}
    )


@require_staff()
async def standards_save(request: Request) -> Response:
    """Only administrators change the standards; the full new text goes to the audit log."""
    data = await form_data(request)
    source = str(data.get("policy", "")).replace("\r\n", "\n")
    try:
        policy = save_policy(policy_path(request), source)
    except MarketplaceError as exc:
        return _staff_page(
            request,
            "staff/marketplace/standards.html",
            {"source": source, "policy": None, "error": localize(exc)},
            exc.status,
        )

    def audit(session: Any) -> None:
        record(
            session,
            staff_actor(request),
            "ad_standards_updated",
            "ad_standards",
            None,
            digest=policy.digest,
            version=policy.version,
            source=policy.source,
        )

    await run(request, audit)
    return RedirectResponse(
        plugin_path(request, "staff_ad_standards") + "?saved=1", status_code=303
    )


routes = [
    Route("/staff/marketplace/", hub, methods=["GET"], name="staff_marketplace"),
    Route("/staff/disaster-mode", disaster_mode, methods=["POST"], name="staff_disaster_mode"),
    Route("/staff/shops", shops_page, methods=["GET"], name="staff_shops"),
    Route(
        "/staff/shops/{id:int}/rename",
        rename_decision,
        methods=["POST"],
        name="staff_shop_rename",
    ),
    Route(
        "/staff/shops/{id:int}/decision",
        shop_decision,
        methods=["POST"],
        name="staff_shop_decision",
    ),
    Route("/staff/review", queue_page, methods=["GET"], name="staff_review_queue"),
    Route("/staff/review/{id:int}", review_page, methods=["GET"], name="staff_review"),
    Route("/staff/review/{id:int}/approve", approve, methods=["POST"], name="staff_review_approve"),
    Route("/staff/review/{id:int}/reject", reject, methods=["POST"], name="staff_review_reject"),
    Route("/staff/audit", audit_page, methods=["GET"], name="staff_audit"),
    Route("/staff/ad-standards", standards_page, methods=["GET"], name="staff_ad_standards"),
    Route("/staff/ad-standards", standards_save, methods=["POST"], name="staff_ad_standards_save"),
]
