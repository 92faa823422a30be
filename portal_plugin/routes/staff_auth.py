"""Staff login and logout (reviewers, finance, administrators)."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.staff import authenticate_staff
from portal_plugin.auth import StaffPrincipal, current_staff, log_in_staff, log_out
from portal_plugin.context import context
from portal_plugin.i18n import gettext as _
from portal_plugin.security.ratelimit import LOGIN_RULES
from portal_plugin.staff_menu import menu_for
from portal_plugin.web import plugin_path, render


def _safe_next(target: str | None, prefix: str) -> str:
    # Only same-site paths: never an absolute URL or a scheme-relative one (open redirect).
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{prefix}/staff/"


async def login_page(request: Request) -> Response:
    return render(request, "staff/login.html", {"next": request.query_params.get("next", "")})


async def login(request: Request) -> Response:
    ctx = context(request)
    form = await request.form()
    email = str(form.get("email", ""))[:254]
    password = str(form.get("password", ""))[:1024]
    next_path = str(form.get("next", ""))
    client = request.client.host if request.client else "unknown"
    if not ctx.rate_limiter.hit(LOGIN_RULES, "staff-login", client, email.lower()):
        return render(
            request,
            "staff/login.html",
            {
                "error": _("ログインの試行回数が多すぎます。しばらくしてからお試しください。"),
                "next": next_path,
            },
            status_code=429,
        )

    def check(session: Session) -> StaffPrincipal | None:
        staff = authenticate_staff(session, email, password)
        return None if staff is None else StaffPrincipal(staff.id, staff.role, staff.display_name)

    principal = await ctx.in_transaction(check)
    if principal is None:
        return render(
            request,
            "staff/login.html",
            {
                "error": _("メールアドレスまたはパスワードが違います。"),
                "next": next_path,
                "email": email,
            },
            status_code=400,
        )
    log_in_staff(request, principal)
    return RedirectResponse(
        _safe_next(next_path, request.scope.get("root_path", "")), status_code=303
    )


async def logout(request: Request) -> Response:
    log_out(request)
    return RedirectResponse(plugin_path(request, "staff_login"), status_code=303)


async def staff_home(request: Request) -> Response:
    principal = current_staff(request)
    if principal is None:
        return RedirectResponse(plugin_path(request, "staff_login"), status_code=303)
    menu = [
        {"url": plugin_path(request, entry.route_name), "label": entry.label}
        for entry in menu_for(principal.role)
    ]
    return render(request, "staff/home.html", {"staff": principal, "staff_menu": menu})


routes = [
    Route("/staff/login", login_page, methods=["GET"], name="staff_login"),
    Route("/staff/login", login, methods=["POST"], name="staff_login_submit"),
    Route("/staff/logout", logout, methods=["POST"], name="staff_logout"),
    Route("/staff/", staff_home, methods=["GET"], name="staff_home"),
]
