"""Shared web plumbing for the marketplace pages and API: errors, labels, transactions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse

from marketplace.ad_standards import DEFAULT_POLICY_PATH, Policy, load_policy
from marketplace.audit import Actor
from marketplace.errors import (
    AlreadyExists,
    HoldExpired,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    MarketplaceError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    SharesUnavailable,
    ShopNotApproved,
)
from marketplace.lifecycle import ActorKind, BookingStatus, CreativeStatus
from portal_plugin.auth import ShopPrincipal, StaffPrincipal
from portal_plugin.context import context
from portal_plugin.i18n import gettext as _

T = TypeVar("T")

STATUS_CODES: Final[dict[type[MarketplaceError], int]] = {
    PayloadTooLarge: 413,
    InvalidInput: 422,
    NotFound: 404,
    PermissionDenied: 403,
    ShopNotApproved: 403,
    SharesUnavailable: 409,
    HoldExpired: 409,
    IdempotencyConflict: 409,
    AlreadyExists: 409,
    InvalidTransition: 409,
}

# Source strings for the labels; templates translate them with _().
BOOKING_STATUS_LABELS: Final = {
    BookingStatus.DRAFT: "下書き",
    BookingStatus.HELD: "仮押さえ中",
    BookingStatus.EXPIRED: "仮押さえ期限切れ",
    BookingStatus.IN_REVIEW: "素材審査中",
    BookingStatus.APPROVED: "承認済み",
    BookingStatus.SCHEDULED: "掲載予定",
    BookingStatus.LIVE: "掲載中",
    BookingStatus.COMPLETED: "掲載終了",
    BookingStatus.REJECTED: "不承認",
    BookingStatus.PAUSED: "一時停止中",
    BookingStatus.CANCELLED: "キャンセル済み",
}
CREATIVE_STATUS_LABELS: Final = {
    CreativeStatus.DRAFT: "下書き",
    CreativeStatus.IN_REVIEW: "審査中",
    CreativeStatus.APPROVED: "承認済み(掲載可)",
    CreativeStatus.REJECTED: "差し戻し",
    CreativeStatus.SUPERSEDED: "旧版",
}


def status_code(exc: MarketplaceError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]  # type: ignore[index]
    return 400


def localize(exc: MarketplaceError) -> str:
    """The error in the request's language: translate the template, then fill it in."""
    params = {
        key: _(value) if isinstance(value, str) else value for key, value in exc.params.items()
    }
    return _(exc.template).format(**params)


def error_json(exc: MarketplaceError) -> JSONResponse:
    body: dict[str, Any] = {"code": exc.code, "message": localize(exc)}
    if exc.field:
        body["field"] = exc.field
    return JSONResponse({"error": body}, status_code=status_code(exc))


async def run(request: Request, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service in one transaction: all of it is written, or (on any error) nothing."""
    return await context(request).in_transaction(work, *args, **kwargs)


def policy_path(request: Request) -> Path:
    return context(request).settings.ad_standards_path or DEFAULT_POLICY_PATH


def current_policy(request: Request) -> Policy:
    return load_policy(policy_path(request))


def shop_of(request: Request) -> ShopPrincipal:
    principal: ShopPrincipal = request.state.shop
    return principal


def shop_actor(request: Request) -> Actor:
    principal = shop_of(request)
    return Actor(
        ActorKind.SHOP, principal.user_id, principal.shop_name or f"shop {principal.shop_id}"
    )


def staff_actor(request: Request) -> Actor:
    principal: StaffPrincipal = request.state.staff
    return Actor(ActorKind.STAFF, principal.staff_id, principal.display_name)


def path_id(request: Request, name: str = "id") -> int:
    value = request.path_params[name]
    if not isinstance(value, int) or not 0 < value < 2**62:
        raise NotFound()
    return value


async def form_data(request: Request) -> dict[str, Any]:
    """Form fields as a dict; repeated fields (checkboxes) become lists."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        values = form.getlist(key)
        data[key] = values if len(values) > 1 or key.startswith("targeting.") else values[0]
    return data


def targeting_from_form(data: dict[str, Any]) -> dict[str, list[str]]:
    return {
        key.removeprefix("targeting."): [str(v) for v in value]
        for key, value in data.items()
        if key.startswith("targeting.") and isinstance(value, list)
    }
