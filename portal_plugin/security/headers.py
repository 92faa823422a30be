"""Security headers on every response, as a pure ASGI middleware."""

from __future__ import annotations

from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(self)",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = ("strict-transport-security", "max-age=31536000")


@lru_cache(maxsize=2)
def security_header_pairs(hsts: bool) -> tuple[tuple[bytes, bytes], ...]:
    """The headers as ASGI pairs, for endpoints that send their own (see fast_path.py)."""
    pairs = list(SECURITY_HEADERS.items()) + ([HSTS] if hsts else [])
    return tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs)


class SecurityHeadersMiddleware:
    """Adds each header the response did not set itself (a route may set a stricter one)."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        # Encoded once: the headers are added to every response.
        self.headers = security_header_pairs(hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                message["headers"] = [
                    *message.get("headers", ()),
                    *(pair for pair in defaults if pair[0] not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
