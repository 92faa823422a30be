"""Who is making a request, and the guards routes use to require a role.

Staff and shop users log in with cookie sessions; the session stores ids, the role and the
account's session version, which `security.sessions.SessionGuardMiddleware` checks against the
database on every request (logout, a new password, suspension and closing end sessions).
Residents are identified by the host portal (see `hooks.resolve_resident`), never by a session.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from marketplace.accounts.sessions import end_sessions
from marketplace.accounts.shops import authenticate_token
from marketplace.vocab import StaffRole
from portal_plugin.context import context
from portal_plugin.web import plugin_path

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class StaffPrincipal:
    staff_id: int
    role: StaffRole
    display_name: str
    session_version: int


def current_staff(request: Request) -> StaffPrincipal | None:
    data = request.session.get("staff")
    if not isinstance(data, dict):
        return None
    try:
        return StaffPrincipal(
            int(data["id"]), StaffRole(data["role"]), str(data["name"]), int(data["v"])
        )
    except (KeyError, ValueError, TypeError):
        return None


def log_in_staff(request: Request, principal: StaffPrincipal) -> None:
    # A fresh session on login prevents session fixation.
    request.session.clear()
    request.session["staff"] = {
        "id": principal.staff_id,
        "role": principal.role.value,
        "name": principal.display_name,
        "v": principal.session_version,
    }


async def log_out(request: Request) -> None:
    """End this session and every other session of the same account (a copied cookie too)."""
    staff, shop = current_staff(request), current_shop(request)
    if staff is not None:
        await context(request).in_transaction(end_sessions, "staff", staff.staff_id)
    if shop is not None and shop.user_id is not None:
        await context(request).in_transaction(end_sessions, "shop", shop.user_id)
    request.session.clear()


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def require_staff(*roles: StaffRole) -> Callable[[Endpoint], Endpoint]:
    """Allow staff with one of `roles` (admins always); others get a login redirect or 401/403."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            principal = current_staff(request)
            if principal is None:
                if wants_html(request):
                    login = plugin_path(request, "staff_login")
                    target = quote(request.url.path)
                    return RedirectResponse(f"{login}?next={target}", status_code=303)
                return JSONResponse(
                    {"error": {"code": "unauthenticated", "message": "ログインが必要です"}},
                    status_code=401,
                )
            if principal.role is not StaffRole.ADMIN and principal.role not in roles:
                return JSONResponse(
                    {"error": {"code": "forbidden", "message": "この操作の権限がありません"}},
                    status_code=403,
                )
            request.state.staff = principal
            return await endpoint(request)

        guarded.required_roles = tuple(roles)  # type: ignore[attr-defined]
        return guarded

    return decorate


@dataclass(frozen=True)
class ShopPrincipal:
    shop_id: int
    # None when the request authenticated with an API token rather than a person's login.
    user_id: int | None
    shop_name: str
    # None for an API token, which has no session.
    session_version: int | None


def current_shop(request: Request) -> ShopPrincipal | None:
    data = request.session.get("shop")
    if not isinstance(data, dict):
        return None
    try:
        return ShopPrincipal(
            int(data["shop_id"]), int(data["user_id"]), str(data["name"]), int(data["v"])
        )
    except (KeyError, ValueError, TypeError):
        return None


def log_in_shop(request: Request, principal: ShopPrincipal) -> None:
    request.session.clear()
    request.session["shop"] = {
        "shop_id": principal.shop_id,
        "user_id": principal.user_id,
        "name": principal.shop_name,
        "v": principal.session_version,
    }


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def bearer_authenticates(request: Request) -> bool:
    """Whether `Authorization: Bearer` carries a valid API token: a shop's, or the host CMS's."""
    token = bearer_token(request)
    if token is None:
        return False
    ctx = context(request)
    if ctx.hooks.authenticate_article_push(request):
        return True
    return await ctx.in_transaction(authenticate_token, token) is not None


def require_shop(endpoint: Endpoint) -> Endpoint:
    """Allow a logged-in shop user, or an API client with a shop's bearer token."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        token = bearer_token(request)
        principal: ShopPrincipal | None = None
        if token is not None:
            shop_id = await context(request).in_transaction(authenticate_token, token)
            if shop_id is None:
                return JSONResponse(
                    {"error": {"code": "unauthenticated", "message": "APIトークンが無効です"}},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            principal = ShopPrincipal(shop_id, None, "", None)
        else:
            principal = current_shop(request)
        if principal is None:
            if wants_html(request):
                login = plugin_path(request, "shop_login")
                return RedirectResponse(f"{login}?next={quote(request.url.path)}", status_code=303)
            return JSONResponse(
                {"error": {"code": "unauthenticated", "message": "ログインが必要です"}},
                status_code=401,
            )
        request.state.shop = principal
        return await endpoint(request)

    guarded.requires_shop = True  # type: ignore[attr-defined]
    return guarded
