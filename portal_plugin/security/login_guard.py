"""One login check for shops and staff: the throttle first, then the password through the gate.

Refused attempts cost one indexed read and no hash. The answer tells how long to wait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from marketplace.accounts.login_throttle import (
    LoginRefused,
    Realm,
    RecentRefusals,
    login_succeeded,
    start_login_attempt,
)
from marketplace.db import utcnow
from portal_plugin.context import PluginContext, context
from portal_plugin.i18n import gettext as _
from portal_plugin.security.hashing_gate import HashingBusy
from portal_plugin.security.ratelimit import lockout_message, wait_minutes
from portal_plugin.web import render

T = TypeVar("T")
REFUSALS_KEY = "login_refusals"


@dataclass(frozen=True)
class LoginThrottled:
    """The login was not tried: the page says why and for how long (`Retry-After`)."""

    message: str
    wait_seconds: int
    status: int


def client_host(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def checked_login(
    request: Request,
    realm: Realm,
    email: str,
    authenticate: Callable[[Session], T | None],
    *,
    can_reset_by_mail: bool,
) -> T | LoginThrottled | None:
    """`authenticate(session)`'s answer (None: wrong credentials), or why it was not tried."""
    ctx = context(request)
    host, now = client_host(request), utcnow()
    if ctx.hashing.full:  # answered before counting anything: a busy answer costs nothing
        return _busy(ctx.hashing.busy())
    refusals = _recent_refusals(ctx)
    started: int | LoginRefused | None = refusals.check(realm, email, host, now)
    if started is None:
        started = await ctx.in_transaction(start_login_attempt, realm, email, host, now)
    if isinstance(started, LoginRefused):
        refusals.remember(realm, email, host, started, now)
        return LoginThrottled(_refusal(started, can_reset_by_mail), started.wait_seconds, 429)
    try:
        found = await ctx.in_hashing_transaction(authenticate)
    except HashingBusy as busy:
        await ctx.in_transaction(login_succeeded, started)  # not tried: not a failure
        return _busy(busy)
    if found is not None:
        await ctx.in_transaction(login_succeeded, started)
    return found


def _recent_refusals(ctx: PluginContext) -> RecentRefusals:
    refusals = ctx.services.get(REFUSALS_KEY)
    if not isinstance(refusals, RecentRefusals):
        refusals = ctx.services[REFUSALS_KEY] = RecentRefusals()
    return refusals


def _busy(busy: HashingBusy) -> LoginThrottled:
    return LoginThrottled(busy.message_in(_), int(busy.params["seconds"]), busy.status)


def _refusal(refused: LoginRefused, can_reset_by_mail: bool) -> str:
    if refused.scope == "account":
        return lockout_message(refused.wait_seconds, can_reset_by_mail=can_reset_by_mail)
    return _(
        "この接続元からのログインの失敗が続いたため、ログインを一時的に止めています。"
        "あと {minutes} 分後に再度お試しください。"
    ).format(minutes=wait_minutes(refused.wait_seconds))


def refused_login(
    request: Request, template: str, outcome: LoginThrottled | None, next_path: str, email: str
) -> Response:
    """The login form again, saying why: wrong credentials (400), or not tried and how long to
    wait (429 throttled, 503 busy, with `Retry-After`)."""
    if outcome is None:
        error, status, headers = _("メールアドレスまたはパスワードが違います。"), 400, {}
    else:
        error, status = outcome.message, outcome.status
        headers = {"Retry-After": str(outcome.wait_seconds)}
    response = render(
        request,
        template,
        {"error": error, "next": next_path, "email": email},
        status_code=status,
    )
    response.headers.update(headers)
    return response
