"""Shared web plumbing for the marketplace pages and API: transactions, form values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from starlette.requests import Request

from marketplace.audit import Actor
from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold
from marketplace.delivery.layout import HostLayout
from marketplace.errors import HoldRateLimited, NotFound
from marketplace.lifecycle import ActorKind
from marketplace.models import Booking
from marketplace.review.standards import DEFAULT_POLICY_PATH, Policy, load_policy
from portal_plugin.auth import ShopPrincipal, StaffPrincipal
from portal_plugin.context import context
from portal_plugin.security.ratelimit import wait_minutes

T = TypeVar("T")


async def run(request: Request, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service in one transaction: all of it is written, or (on any error) nothing."""
    return await context(request).in_transaction(work, *args, **kwargs)


async def run_hashing(request: Request, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`run` for a service that hashes or checks a password (bounded: HashingGate)."""
    return await context(request).in_hashing_transaction(work, *args, **kwargs)


def host_layout(request: Request) -> HostLayout:
    """Where the host's pages show ads (what may be sold): from the settings."""
    return context(request).settings.host_layout


async def hold_for_shop(
    request: Request, booking_request: BookingRequest, key: str, now: datetime
) -> Booking:
    """A shop's own hold (web form or API): rate-limited per shop, within the shop's limits."""
    shop = shop_of(request)
    ctx = context(request)
    rules = ctx.settings.hold_rate_rules
    if not ctx.rate_limiter.hit(rules, "shop-hold", str(shop.shop_id)):
        raise HoldRateLimited(
            field="shop",
            per_hour=ctx.settings.hold_rate_per_hour,
            per_day=ctx.settings.hold_rate_per_day,
            minutes=wait_minutes(
                ctx.rate_limiter.retry_after(rules, "shop-hold", str(shop.shop_id))
            ),
        )
    return await run(
        request,
        place_hold,
        shop.shop_id,
        booking_request,
        key,
        user_id=shop.user_id,
        now=now,
        host=host_layout(request),
        limits=ctx.settings.hold_limits,
        traffic=ctx.recent_traffic,
    )


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
