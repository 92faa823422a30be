"""Signed-in sessions checked against the database on every request.

A signed cookie cannot be taken back, so the cookie alone never decides who is signed in: this
middleware (inside SessionMiddleware) compares the session's account version with the
account's (`marketplace.accounts.sessions`) and drops the sign-in when they differ, when the
account is inactive, or when its shop is suspended or closed. The rest of the session (the
CSRF token, the language) stays, so the request goes on as a signed-out one: a login redirect
for pages, 401 for the API. Requests without a signed-in session (residents, feeds, bearer
tokens) cost nothing here.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from marketplace.accounts.sessions import live_shop_login, live_staff_login
from portal_plugin.context import PluginContext


class SessionGuardMiddleware:
    def __init__(self, app: ASGIApp, ctx: PluginContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = scope.get("session")
        if scope["type"] == "http" and isinstance(session, dict):
            if "staff" in session:
                await self._check_staff(session)
            if "shop" in session:
                await self._check_shop(session)
        await self.app(scope, receive, send)

    async def _check_staff(self, session: dict[str, Any]) -> None:
        data = session["staff"]
        try:
            staff_id, version = int(data["id"]), int(data["v"])
        except (KeyError, TypeError, ValueError):
            del session["staff"]
            return
        live = await self.ctx.in_transaction(live_staff_login, staff_id)
        if live is None or live.session_version != version:
            del session["staff"]
        elif (data.get("role"), data.get("name")) != (live.role.value, live.display_name):
            # A changed role takes effect at once, without signing the person out.
            session["staff"] = {**data, "role": live.role.value, "name": live.display_name}

    async def _check_shop(self, session: dict[str, Any]) -> None:
        data = session["shop"]
        try:
            user_id, shop_id, version = int(data["user_id"]), int(data["shop_id"]), int(data["v"])
        except (KeyError, TypeError, ValueError):
            del session["shop"]
            return
        live = await self.ctx.in_transaction(live_shop_login, user_id)
        if live is None or live.session_version != version or live.shop_id != shop_id:
            del session["shop"]
        elif data.get("name") != live.shop_name:
            session["shop"] = {**data, "name": live.shop_name}
