"""CSRF protection for cookie-authenticated, state-changing requests (synchronizer token).

The token lives in the signed session. Forms send it as the `csrf_token` field, scripts as the
`X-CSRF-Token` header. Requests without the session cookie (bearer-token APIs, webhooks) carry
no ambient authority and are left alone.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
SESSION_KEY = "csrf_token"


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


class CSRFMiddleware:
    """Must sit inside SessionMiddleware so that `scope["session"]` is populated."""

    def __init__(self, app: ASGIApp, session_cookie: str) -> None:
        self.app = app
        self.session_cookie = session_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.session_cookie not in request.cookies or "authorization" in request.headers:
            await self.app(scope, receive, send)
            return
        expected = scope.get("session", {}).get(SESSION_KEY)
        supplied = request.headers.get(HEADER)
        body_messages: list[Message] = []
        if supplied is None:
            supplied, body_messages = await _token_from_form(request, receive)
        if not (isinstance(expected, str) and supplied and hmac.compare_digest(expected, supplied)):
            await _refuse(scope, receive, send)
            return
        await self.app(scope, _replay(body_messages, receive), send)


async def _token_from_form(request: Request, receive: Receive) -> tuple[str | None, list[Message]]:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None, []
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    replay_request = Request(request.scope, _replay(list(messages), receive))
    form = await replay_request.form()
    value = form.get(FORM_FIELD)
    await form.close()
    return (value if isinstance(value, str) else None), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replaying_receive() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replaying_receive


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    message = "フォームの有効期限が切れました。ページを再読み込みしてもう一度お試しください。"
    accepts_html = "text/html" in Request(scope).headers.get("accept", "")
    response = (
        HTMLResponse(f"<p>{message}</p>", status_code=403)
        if accepts_html
        else JSONResponse({"error": {"code": "csrf_failed", "message": message}}, status_code=403)
    )
    await response(scope, receive, send)
