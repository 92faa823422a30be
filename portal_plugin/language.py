"""Pure ASGI middleware that picks the UI language for each request."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_plugin import i18n

COOKIE = "pm_lang"


class LanguageMiddleware:
    def __init__(self, app: ASGIApp, default: str = "ja") -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        chosen = request.query_params.get("lang")
        language = i18n.negotiate_language(
            chosen,
            request.cookies.get(COOKIE),
            request.headers.get("accept-language"),
            self.default,
        )
        token = i18n.current_language.set(language)
        scope.setdefault("state", {})["language"] = language

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and chosen in i18n.SUPPORTED_LANGUAGES:
                headers = MutableHeaders(scope=message)
                headers.append(
                    "set-cookie", f"{COOKIE}={language}; Path=/; Max-Age=31536000; SameSite=Lax"
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            i18n.current_language.reset(token)
