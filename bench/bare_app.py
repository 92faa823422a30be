"""The reference for bench/feed_throughput.py: a bare Starlette endpoint, constant JSON body.

The body is as large as a real feed response (BARE_BODY_BYTES), so the comparison measures what
the feed costs beyond HTTP and JSON framing.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_bare_app() -> Starlette:
    size = int(os.environ.get("BARE_BODY_BYTES", "2000"))
    body = ('{"items":"' + "x" * max(0, size - 12) + '"}').encode()

    async def constant(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/feed", constant)])
