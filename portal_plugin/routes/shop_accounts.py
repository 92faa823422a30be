"""Shop sign-up, login and logout, and the shop's API tokens."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.accounts.password_reset import reset_target
from marketplace.accounts.shop_names import check_shop_name
from marketplace.accounts.shop_profile import (
    OUTSIDE_CITY,
    parse_email,
    parse_password,
    parse_profile,
)
from marketplace.accounts.shops import (
    PROFILE_FIELDS,
    authenticate_shop_user,
    create_api_token,
    revoke_api_token,
    shop_profile_values,
    shop_tokens,
    sign_up_shop,
    update_profile,
)
from marketplace.errors import AlreadyExists, InvalidInput, MarketplaceError
from marketplace.vocab import DISTRICTS, SHOP_CATEGORIES
from portal_plugin.auth import ShopPrincipal, log_in_shop, log_out, require_shop
from portal_plugin.context import context
from portal_plugin.errors import localize
from portal_plugin.i18n import gettext as _
from portal_plugin.marketplace_web import (
    current_policy,
    form_data,
    path_id,
    run,
    run_hashing,
    shop_actor,
    shop_of,
)
from portal_plugin.security.login_guard import LoginThrottled, checked_login, refused_login
from portal_plugin.security.ratelimit import SIGNUP_NOTICE_RULES, SIGNUP_RULES
from portal_plugin.security.redirects import local_target
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
        status_code=error.status if error else 200,
    )


async def signup_page(request: Request) -> Response:
    return _signup_page(request, {})


# A new address and one that already has an account get the same answer (a redirect to the
# login page, not signed in); the owner of the address is told by mail which it was.
async def signup(request: Request) -> Response:
    ctx = context(request)
    data = await form_data(request)
    values = {key: str(data.get(key, ""))[:300] for key in SIGNUP_FIELDS}
    if not ctx.rate_limiter.hit(SIGNUP_RULES, "shop-signup", _client(request)):
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
        check_shop_name(current_policy(request), profile.business_name)
    except MarketplaceError as exc:
        return _signup_page(request, values, exc)
    # Not signed in either way: signing in the new account at once would tell the two apart.
    response = RedirectResponse(
        plugin_path(request, "shop_login") + "?signed_up=1", status_code=303
    )
    try:
        await run_hashing(request, sign_up_shop, email, password, profile)
    except AlreadyExists as exc:
        if exc.field != "email":
            raise
        return await _mail_existing_owner(request, response, email)
    mailer = ctx.mailer
    welcome = mailer.render(
        "shop_signup_welcome",
        email,
        name=profile.business_name,
        login_link=mailer.link(plugin_path(request, "shop_login")),
    )
    return mailer.send_after(response, welcome)


async def _mail_existing_owner(request: Request, response: Response, email: str) -> Response:
    ctx = context(request)
    # A few notices per account and hour, so sign-ups cannot be used to flood an inbox.
    if not ctx.rate_limiter.hit(SIGNUP_NOTICE_RULES, "shop-signup-notice", email):
        return response
    target = await run(request, reset_target, email)
    if target is None:  # the account is closed or inactive: nothing to tell
        return response
    mailer = ctx.mailer
    notice = mailer.render(
        "shop_signup_existing",
        target.email,
        name=target.shop_name,
        login_link=mailer.link(plugin_path(request, "shop_login")),
        forgot_link=mailer.link(plugin_path(request, "shop_password_forgot")),
    )
    return mailer.send_after(response, notice)


async def login_page(request: Request) -> Response:
    notice = None
    if request.query_params.get("signed_up") == "1":
        notice = _(
            "登録を受け付けました。登録したメールアドレスとパスワードでログインしてください。"
            "ご案内をメールでお送りしています。"
        )
    elif request.query_params.get("reset") == "1":
        notice = _(
            "パスワードを再設定しました。ほかの端末でのログインはすべて終了しています。"
            "新しいパスワードでログインしてください。"
        )
    return render(
        request,
        "shop/login.html",
        {"next": request.query_params.get("next", ""), "notice": notice},
    )


async def login(request: Request) -> Response:
    data = await form_data(request)
    email = str(data.get("email", ""))[:254]
    password = str(data.get("password", ""))[:1024]
    next_path = str(data.get("next", ""))
    found = await checked_login(
        request,
        "shop",
        email,
        partial(authenticate_shop_user, email=email, password=password),
        can_reset_by_mail=True,
    )
    if found is None or isinstance(found, LoginThrottled):
        return refused_login(request, "shop/login.html", found, next_path, email)
    log_in_shop(
        request,
        ShopPrincipal(found.shop_id, found.user_id, found.shop_name, found.session_version),
    )
    # Only back to a shop page: never a staff page (a link could carry one) or off-site.
    shop_area = request.scope.get("root_path", "") + "/shop/"
    target = local_target(next_path, shop_area) or plugin_path(request, "shop_dashboard")
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    await log_out(request)
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
            status_code=exc.status,
        )
    tokens = await run(request, shop_tokens, shop.shop_id)
    return render(request, "shop/tokens.html", {"tokens": tokens, "shop": shop, "secret": secret})


@require_shop
async def token_revoke(request: Request) -> Response:
    await run(request, revoke_api_token, shop_of(request).shop_id, path_id(request))
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
        status_code=error.status if error else 200,
    )


@require_shop
async def profile_save(request: Request) -> Response:
    shop = shop_of(request)
    data = await form_data(request)
    values = {key: str(data.get(key, ""))[:300] for key in SIGNUP_FIELDS}
    try:
        profile = parse_profile(data)
        check_shop_name(current_policy(request), profile.business_name)
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
