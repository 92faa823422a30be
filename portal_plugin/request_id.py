"""Request ids: one id per HTTP request, in every log line written while it is handled.

`RequestIdMiddleware` takes the caller's `X-Request-ID` when it is a plausible id (a proxy or
the host portal may have made one already, so its lines and ours join up) and otherwise makes
one; it returns the id in the response's `X-Request-ID` header. The id lives in a context
variable, so code run for the request, on the event loop or in the thread pool (which copies
the context), logs it without passing it around (`portal_plugin.logs.RequestIdFilter`).

Installed in the plugin and, outermost, in a host: an inner instance finds the id already set
and passes the request through, so the id and the header are added once.

An id only has to be unique, not unguessable (it grants nothing), so it comes from `random`
rather than `os.urandom`: measured in the served feed, the system call cost ~30 µs a request
on this project's virtual machines, a tenth of the feed's CPU time.
"""

from __future__ import annotations

import random
import re
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
# Letters, digits and a few separators, at most 128: safe in a text log line and a header.
VALID_ID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")

_current: ContextVar[str | None] = ContextVar("portal_marketplace_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    return _current.get()


def new_request_id() -> str:
    return f"{random.getrandbits(128):032x}"


def incoming_request_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The caller's X-Request-ID when it is a plausible id; None otherwise."""
    for name, value in headers:
        if name == HEADER:
            return value.decode("ascii") if VALID_ID.fullmatch(value) else None
    return None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _current.get() is not None:
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope["headers"]) or new_request_id()
        header = (HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = _current.set(request_id)
        # Not reset when the app raises: Starlette's 500 handler and uvicorn's traceback line
        # run after this, in the same task (each request has its own), and carry the id too.
        await self.app(scope, receive, send_with_id)
        _current.reset(token)
