"""Shop passwords: reset by email (ask for a link, open it, set a new password once), and
change while signed in.

Asking answers the same page whether or not the address has an account, and the mail goes
out after the response, so neither the page nor its timing tells. A reset ends every session
the account had and a notice of the change is mailed to the account; a change while signed in
ends every other session and keeps this one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.accounts.password_reset import (
    RESET_LINK_MINUTES,
    change_password,
    check_reset_claim,
    link_expiry,
    read_reset_token,
    reset_password,
    reset_target,
    reset_token,
)
from marketplace.accounts.shop_profile import parse_email, parse_password
from marketplace.db import utcnow
from marketplace.errors import InvalidInput, MarketplaceError, PermissionDenied
from portal_plugin.auth import log_in_shop, require_shop
from portal_plugin.context import context
from portal_plugin.errors import localize
from portal_plugin.i18n import gettext as _
from portal_plugin.mail import Mail
from portal_plugin.marketplace_web import form_data, run, run_hashing, shop_of
from portal_plugin.security.ratelimit import RESET_ADDRESS_RULES, RESET_EMAIL_RULES, wait_minutes
from portal_plugin.web import plugin_path, render


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _forgot_page(
    request: Request, values: dict[str, Any] | None = None, status_code: int = 200, **extra: Any
) -> Response:
    ctx = context(request)
    return render(
        request,
        "shop/password_forgot.html",
        {
            "values": values or {},
            "minutes": RESET_LINK_MINUTES,
            "mail_enabled": ctx.mailer.enabled,
            **extra,
        },
        status_code=status_code,
    )


async def forgot_page(request: Request) -> Response:
    return _forgot_page(request)


async def forgot(request: Request) -> Response:
    ctx = context(request)
    data = await form_data(request)
    raw_email = str(data.get("email", ""))[:254]
    limiter = ctx.rate_limiter
    if not limiter.hit(RESET_ADDRESS_RULES, "password-reset-address", _client(request)):
        wait = limiter.retry_after(RESET_ADDRESS_RULES, "password-reset-address", _client(request))
        return _forgot_page(
            request,
            {"email": raw_email},
            429,
            error=_(
                "お申し込みが続いたため、受付を一時止めています。"
                "あと {minutes} 分後に再度お試しください。"
            ).format(minutes=wait_minutes(wait)),
        )
    try:
        email = parse_email(raw_email)
    except MarketplaceError as exc:
        return _forgot_page(
            request, {"email": raw_email}, exc.status, error=localize(exc), error_field="email"
        )
    response = _forgot_page(request, sent_to=email)
    # A few links per address and hour (mail bombing); beyond that the same page, and no mail.
    if not limiter.hit(RESET_EMAIL_RULES, "password-reset-email", email):
        return response
    target = await run(request, reset_target, email)
    if target is None:
        return response
    mailer = ctx.mailer
    token = reset_token(ctx.settings.secret_key, target)
    expires = link_expiry(utcnow()).astimezone(ZoneInfo(ctx.settings.timezone))
    mail = mailer.render(
        "password_reset",
        target.email,
        name=target.shop_name,
        link=mailer.link(plugin_path(request, "shop_password_reset", token=token)),
        minutes=RESET_LINK_MINUTES,
        expires_at=_clock(expires),
    )
    return mailer.send_after(response, mail)


def _clock(moment: datetime) -> str:
    return f"{moment.year}/{moment.month}/{moment.day} {moment:%H:%M}"


def _reset_page(request: Request, token: str, status_code: int = 200, **extra: Any) -> Response:
    return render(
        request,
        "shop/password_reset.html",
        {"token": token, "forgot_url": plugin_path(request, "shop_password_forgot"), **extra},
        status_code=status_code,
    )


async def reset_page(request: Request) -> Response:
    token = str(request.path_params["token"])
    try:
        claim = read_reset_token(context(request).settings.secret_key, token)
        await run(request, check_reset_claim, claim)
    except MarketplaceError as exc:
        return _reset_page(request, token, exc.status, link_error=localize(exc))
    return _reset_page(request, token)


async def reset(request: Request) -> Response:
    ctx = context(request)
    token = str(request.path_params["token"])
    data = await form_data(request)
    try:
        claim = read_reset_token(ctx.settings.secret_key, token)
    except MarketplaceError as exc:
        return _reset_page(request, token, exc.status, link_error=localize(exc))
    try:
        password = parse_password(data.get("password"))
        if password != str(data.get("password_confirm", "")):
            raise InvalidInput("確認用パスワードが一致しません", field="password_confirm")
    except MarketplaceError as exc:
        return _reset_page(request, token, exc.status, error=localize(exc), error_field=exc.field)
    try:
        email = await run_hashing(request, reset_password, claim, password)
    except MarketplaceError as exc:
        return _reset_page(request, token, exc.status, link_error=localize(exc))
    # This browser starts signed out too: every session of the account has just ended.
    request.session.pop("shop", None)
    response = RedirectResponse(plugin_path(request, "shop_login") + "?reset=1", status_code=303)
    return ctx.mailer.send_after(response, _changed_notice(request, email))


def _change_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    return render(request, "shop/password_change.html", extra, status_code=status_code)


@require_shop
async def change_page(request: Request) -> Response:
    return _change_page(request)


@require_shop
async def change(request: Request) -> Response:
    ctx = context(request)
    shop = shop_of(request)
    if shop.user_id is None:
        raise PermissionDenied("パスワードはログインした本人だけが変更できます")
    data = await form_data(request)
    try:
        password = parse_password(data.get("password"))
        if password != str(data.get("password_confirm", "")):
            raise InvalidInput("確認用パスワードが一致しません", field="password_confirm")
        email, version = await run_hashing(
            request, change_password, shop.user_id, str(data.get("current_password", "")), password
        )
    except MarketplaceError as exc:
        return _change_page(request, exc.status, error=localize(exc), error_field=exc.field)
    # Every other session has ended; this one goes on, as a fresh session under the new version.
    log_in_shop(request, replace(shop, session_version=version))
    return ctx.mailer.send_after(_change_page(request, saved=True), _changed_notice(request, email))


def _changed_notice(request: Request, email: str) -> Mail:
    ctx = context(request)
    return ctx.mailer.render(
        "password_changed",
        email,
        when=_clock(utcnow().astimezone(ZoneInfo(ctx.settings.timezone))),
        forgot_link=ctx.mailer.link(plugin_path(request, "shop_password_forgot")),
    )


routes = [
    Route("/shop/password", change_page, methods=["GET"], name="shop_password_change"),
    Route("/shop/password", change, methods=["POST"], name="shop_password_change_submit"),
    Route("/shop/password/forgot", forgot_page, methods=["GET"], name="shop_password_forgot"),
    Route("/shop/password/forgot", forgot, methods=["POST"], name="shop_password_forgot_submit"),
    Route(
        "/shop/password/reset/{token:str}",
        reset_page,
        methods=["GET"],
        name="shop_password_reset",
    ),
    Route(
        "/shop/password/reset/{token:str}",
        reset,
        methods=["POST"],
        name="shop_password_reset_submit",
    ),
]
