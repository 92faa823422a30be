"""One answer for every error: JSON for API clients, a page for people.

Routes let `DomainError`s (marketplace, billing, analytics) propagate; the plugin app's
exception handler answers with the error's status, code, field and message in the request's
language. Routes catch an error themselves only to show it inside the form that caused it.
Starlette's own HTTP errors (an unknown path: 404, a wrong method: 405) and unexpected
exceptions (500) are answered the same way (`http_error_handler`, `server_error_handler`), so a
browser never gets a bare JSON body and an API client never gets a page.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from marketplace.errors import DomainError
from portal_plugin.auth import wants_html
from portal_plugin.i18n import gettext
from portal_plugin.request_id import current_request_id
from portal_plugin.web import render

log = logging.getLogger(__name__)


def localize(exc: DomainError) -> str:
    """The error's message in the request's language (English from the .po catalogue)."""
    return exc.message_in(gettext)


def error_json(exc: DomainError) -> JSONResponse:
    body: dict[str, Any] = {"code": exc.code, "message": localize(exc)}
    if exc.field:
        body["field"] = exc.field
    return JSONResponse({"error": body}, status_code=exc.status, headers=exc.headers)


def answers_json(request: Request) -> bool:
    """The API (under /api/) always answers JSON; elsewhere, browsers (asking for HTML) get a page.

    The same rule as the app's other errors (`portal_plugin.auth.wants_html`).
    """
    root = str(request.scope.get("root_path", ""))
    path = str(request.scope.get("path", ""))
    if path.startswith(root):
        path = path[len(root) :]
    return path.startswith("/api/") or not wants_html(request)


async def domain_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if exc.status >= 500:
        log.error("%s (%s) on %s %s", exc.code, exc.message, request.method, request.url.path)
    if answers_json(request):
        return error_json(exc)
    page = error_page(request, localize(exc), exc.status)
    page.headers.update(exc.headers)
    return page


def error_page(request: Request, message: str, status: int) -> Response:
    # The page keeps the signed-in user's menu, so they can carry on from it.
    if getattr(request.state, "shop", None) is not None:
        area = "shop"
    elif getattr(request.state, "staff", None) is not None:
        area = "staff"
    else:
        area = ""
    return render(request, "error.html", {"error": message, "area": area}, status_code=status)


class PageNotFound(DomainError):
    code = "not_found"
    status = 404
    template = "ページが見つかりません"


class MethodNotAllowed(DomainError):
    code = "method_not_allowed"
    status = 405
    template = "この操作はできません"


class ServerFault(DomainError):
    code = "server_error"
    status = 500
    template = "サーバーで問題が発生しました。時間をおいてお試しください。"


HTTP_ERRORS: dict[int, type[DomainError]] = {404: PageNotFound, 405: MethodNotAllowed}


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's HTTPExceptions: 404 and 405 as domain errors; others with their detail."""
    assert isinstance(exc, HTTPException)
    known = HTTP_ERRORS.get(exc.status_code)
    if known is not None:
        response = await domain_error_handler(request, known())
    elif answers_json(request):
        response = JSONResponse(
            {"error": {"code": "http_error", "message": str(exc.detail)}},
            status_code=exc.status_code,
        )
    else:
        response = error_page(request, str(exc.detail), exc.status_code)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """An unexpected exception (uvicorn logs its traceback with the request id). Outside the
    app's middleware, so the page is plain: no session, menu or host chrome to rely on."""
    fault = ServerFault()
    request_id = current_request_id()
    if answers_json(request):
        answer = error_json(fault)
        if request_id:
            answer.headers["X-Request-ID"] = request_id
        return answer
    message = localize(fault)
    reference = f"<p><small>{request_id}</small></p>" if request_id else ""
    return HTMLResponse(
        f"<!doctype html><meta charset=utf-8><title>500</title><p role=alert>{message}</p>"
        f"{reference}",
        status_code=500,
        # Sent past RequestIdMiddleware (Starlette answers a 500 outside all middleware).
        headers={"X-Request-ID": request_id} if request_id else None,
    )
