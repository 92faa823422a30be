"""CSRF protection for cookie-authenticated, state-changing requests (synchronizer token).

The token lives in the signed session. Forms send it as the `csrf_token` field, scripts as the
`X-CSRF-Token` header. Requests without the session cookie (bearer-token APIs, webhooks) carry
no ambient authority and are left alone. A request that carries the cookie too is let through
without a token only when a valid bearer API token authenticates it, and then its session is
hidden from the app: the cookie never authenticates such a request. Any other `Authorization`
header (Basic, an unknown bearer token) changes nothing: the token is required.
Residents' forms (under `own_token_prefixes`) carry a token signed for the resident
instead (portal_plugin/resident_forms.py): their cards are rendered for the host, which never
sees the browser's session, and their routes check it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
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

    def __init__(
        self,
        app: ASGIApp,
        session_cookie: str,
        bearer_authenticates: Callable[[Request], Awaitable[bool]],
        own_token_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.session_cookie = session_cookie
        # Whether the request's `Authorization: Bearer` is a valid API token.
        self.bearer_authenticates = bearer_authenticates
        self.own_token_prefixes = own_token_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.own_token_prefixes and _own_path(scope).startswith(self.own_token_prefixes):
            await self.app(scope, receive, send)
            return
        if self.session_cookie not in request.cookies:
            await self.app(scope, receive, send)
            return
        if "authorization" in request.headers and await self.bearer_authenticates(request):
            # A copy: the session middleware outside still holds (and keeps) the real one.
            await self.app({**scope, "session": {}}, receive, send)
            return
        expected = scope.get("session", {}).get(SESSION_KEY)
        supplied = request.headers.get(HEADER)
        body_messages: list[Message] = []
        if supplied is None:
            supplied, body_messages = await _token_from_form(request, receive)
        if not (isinstance(expected, str) and supplied and _same(expected, supplied)):
            await _refuse(scope, receive, send)
            return
        await self.app(scope, _replay(body_messages, receive), send)


def _same(expected: str, supplied: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters (a header's 0x80+ bytes).
    return hmac.compare_digest(expected.encode(), supplied.encode())


def _own_path(scope: Scope) -> str:
    """The path inside the plugin, whatever prefix the host mounted it under."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


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
