"""Staff login and logout (reviewers, finance, administrators)."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.accounts.staff import authenticate_staff
from portal_plugin.auth import StaffPrincipal, current_staff, log_in_staff, log_out
from portal_plugin.security.login_guard import LoginThrottled, checked_login, refused_login
from portal_plugin.security.redirects import local_target
from portal_plugin.staff_menu import menu_for
from portal_plugin.web import plugin_path, render


def _safe_next(target: str | None, prefix: str) -> str:
    # Only the plugin's own pages: never off-site (open redirect), never the host's pages.
    return local_target(target, f"{prefix}/") or f"{prefix}/staff/"


async def login_page(request: Request) -> Response:
    return render(request, "staff/login.html", {"next": request.query_params.get("next", "")})


async def login(request: Request) -> Response:
    form = await request.form()
    email = str(form.get("email", ""))[:254]
    password = str(form.get("password", ""))[:1024]
    next_path = str(form.get("next", ""))

    def check(session: Session) -> StaffPrincipal | None:
        staff = authenticate_staff(session, email, password)
        return (
            None
            if staff is None
            else StaffPrincipal(staff.id, staff.role, staff.display_name, staff.session_version)
        )

    principal = await checked_login(request, "staff", email, check, can_reset_by_mail=False)
    if principal is None or isinstance(principal, LoginThrottled):
        return refused_login(request, "staff/login.html", principal, next_path, email)
    log_in_staff(request, principal)
    return RedirectResponse(
        _safe_next(next_path, request.scope.get("root_path", "")), status_code=303
    )


async def logout(request: Request) -> Response:
    await log_out(request)
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
