"""Shop sign-up, login and logout, and the shop's API tokens."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.errors import InvalidInput, MarketplaceError
from marketplace.shop_accounts import (
    PROFILE_FIELDS,
    authenticate_shop_user,
    create_api_token,
    revoke_api_token,
    shop_profile_values,
    shop_tokens,
    sign_up_shop,
    update_profile,
)
from marketplace.shop_profile import OUTSIDE_CITY, parse_email, parse_password, parse_profile
from marketplace.vocab import DISTRICTS, SHOP_CATEGORIES
from portal_plugin.auth import ShopPrincipal, log_in_shop, log_out, require_shop
from portal_plugin.context import context
from portal_plugin.i18n import gettext as _
from portal_plugin.marketplace_web import (
    form_data,
    localize,
    path_id,
    run,
    shop_actor,
    shop_of,
    status_code,
)
from portal_plugin.routes.staff_auth import _safe_next
from portal_plugin.security.ratelimit import LOGIN_RULES, SIGNUP_RULES
from portal_plugin.web import plugin_path, render

SIGNUP_FIELDS = ("email", *PROFILE_FIELDS)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _signup_page(
    request: Request, values: dict[str, Any], error: MarketplaceError | None = None
) -> Response:
    return render(
        request,
        "shop/signup.html",
        {
            "values": values,
            "error": localize(error) if error else None,
            "error_field": error.field if error else None,
            "categories": SHOP_CATEGORIES,
            "districts": DISTRICTS,
            "outside": OUTSIDE_CITY,
        },
        status_code=status_code(error) if error else 200,
    )


async def signup_page(request: Request) -> Response:
    return _signup_page(request, {})


async def signup(request: Request) -> Response:
    data = await form_data(request)
    values = {key: str(data.get(key, ""))[:300] for key in SIGNUP_FIELDS}
    if not context(request).rate_limiter.hit(SIGNUP_RULES, "shop-signup", _client(request)):
        return render(
            request,
            "shop/signup.html",
            {
                "values": values,
                "error": _("登録の試行回数が多すぎます。しばらくしてからお試しください。"),
                "categories": SHOP_CATEGORIES,
                "districts": DISTRICTS,
                "outside": OUTSIDE_CITY,
            },
            status_code=429,
        )
    try:
        email = parse_email(data.get("email"))
        password = parse_password(data.get("password"))
        if password != str(data.get("password_confirm", "")):
            raise InvalidInput("確認用パスワードが一致しません", field="password_confirm")
        profile = parse_profile(data)
        user = await run(request, sign_up_shop, email, password, profile)
    except MarketplaceError as exc:
        return _signup_page(request, values, exc)
    log_in_shop(request, ShopPrincipal(user.shop_id, user.id, profile.business_name))
    return RedirectResponse(plugin_path(request, "shop_dashboard") + "?welcome=1", status_code=303)


async def login_page(request: Request) -> Response:
    return render(request, "shop/login.html", {"next": request.query_params.get("next", "")})


async def login(request: Request) -> Response:
    data = await form_data(request)
    email = str(data.get("email", ""))[:254]
    password = str(data.get("password", ""))[:1024]
    next_path = str(data.get("next", ""))
    if not context(request).rate_limiter.hit(
        LOGIN_RULES, "shop-login", _client(request), email.lower()
    ):
        return render(
            request,
            "shop/login.html",
            {
                "error": _("ログインの試行回数が多すぎます。しばらくしてからお試しください。"),
                "next": next_path,
                "email": email,
            },
            status_code=429,
        )
    found = await run(request, authenticate_shop_user, email, password)
    if found is None:
        return render(
            request,
            "shop/login.html",
            {
                "error": _("メールアドレスまたはパスワードが違います。"),
                "next": next_path,
                "email": email,
            },
            status_code=400,
        )
    log_in_shop(request, ShopPrincipal(found.shop_id, found.user_id, found.shop_name))
    target = _safe_next(next_path, request.scope.get("root_path", ""))
    if not next_path:
        target = plugin_path(request, "shop_dashboard")
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    log_out(request)
    return RedirectResponse(plugin_path(request, "shop_login"), status_code=303)


@require_shop
async def tokens_page(request: Request) -> Response:
    tokens = await run(request, shop_tokens, shop_of(request).shop_id)
    return render(request, "shop/tokens.html", {"tokens": tokens, "shop": shop_of(request)})


@require_shop
async def token_create(request: Request) -> Response:
    shop = shop_of(request)
    data = await form_data(request)
    try:
        _token, secret = await run(
            request, create_api_token, shop.shop_id, shop.user_id, str(data.get("name", ""))
        )
    except MarketplaceError as exc:
        tokens = await run(request, shop_tokens, shop.shop_id)
        return render(
            request,
            "shop/tokens.html",
            {"tokens": tokens, "shop": shop, "error": localize(exc)},
            status_code=status_code(exc),
        )
    tokens = await run(request, shop_tokens, shop.shop_id)
    return render(request, "shop/tokens.html", {"tokens": tokens, "shop": shop, "secret": secret})


@require_shop
async def token_revoke(request: Request) -> Response:
    try:
        await run(request, revoke_api_token, shop_of(request).shop_id, path_id(request))
    except MarketplaceError as exc:
        return render(request, "shop/message.html", {"error": localize(exc)}, status_code=404)
    return RedirectResponse(plugin_path(request, "shop_tokens"), status_code=303)


@require_shop
async def profile_page(request: Request) -> Response:
    values = await run(request, shop_profile_values, shop_of(request).shop_id)
    return _profile_page(request, values)


def _profile_page(
    request: Request,
    values: dict[str, Any],
    error: MarketplaceError | None = None,
    saved: bool = False,
) -> Response:
    return render(
        request,
        "shop/profile.html",
        {
            "values": values,
            "saved": saved,
            "error": localize(error) if error else None,
            "categories": SHOP_CATEGORIES,
            "districts": DISTRICTS,
            "outside": OUTSIDE_CITY,
        },
        status_code=status_code(error) if error else 200,
    )


@require_shop
async def profile_save(request: Request) -> Response:
    shop = shop_of(request)
    data = await form_data(request)
    values = {key: str(data.get(key, ""))[:300] for key in SIGNUP_FIELDS}
    try:
        profile = parse_profile(data)
        await run(request, update_profile, shop.shop_id, profile, shop_actor(request))
    except MarketplaceError as exc:
        return _profile_page(request, values, exc)
    return _profile_page(request, await run(request, shop_profile_values, shop.shop_id), saved=True)


routes = [
    Route("/shop/signup", signup_page, methods=["GET"], name="shop_signup"),
    Route("/shop/signup", signup, methods=["POST"], name="shop_signup_submit"),
    Route("/shop/login", login_page, methods=["GET"], name="shop_login"),
    Route("/shop/login", login, methods=["POST"], name="shop_login_submit"),
    Route("/shop/logout", logout, methods=["POST"], name="shop_logout"),
    Route("/shop/profile", profile_page, methods=["GET"], name="shop_profile"),
    Route("/shop/profile", profile_save, methods=["POST"], name="shop_profile_save"),
    Route("/shop/tokens", tokens_page, methods=["GET"], name="shop_tokens"),
    Route("/shop/tokens", token_create, methods=["POST"], name="shop_token_create"),
    Route("/shop/tokens/{id:int}/revoke", token_revoke, methods=["POST"], name="shop_token_revoke"),
]
