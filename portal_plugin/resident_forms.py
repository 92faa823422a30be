"""Who a resident's own request is from, and proof that a resident's form came from their page.

Residents are identified by the host (`X-Portal-Resident`, added by the host to what it forwards
to the plugin), so their requests carry the host's ambient authority, and the plugin's cookie
CSRF check (for shop and staff sessions) does not cover them. Every resident form that changes
something (hide a shop, stop personalised ads, delete my data) therefore carries a token signed
for that resident's keyed id: a page another site makes the browser post cannot have one.
"""

from __future__ import annotations

from functools import lru_cache

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from analytics.retention import resident_key
from portal_plugin.auth import wants_html
from portal_plugin.context import context
from portal_plugin.i18n import gettext
from portal_plugin.identity import InvalidIdentityToken, ResidentIdentity
from portal_plugin.web import json_error, render

TOKEN_FIELD = "choice_token"
# Every resident form posts under this path, and only resident forms do: the session CSRF
# check leaves them to the token above (portal_plugin/security/csrf.py).
RESIDENT_FORMS_PREFIX = "/me/"
# A card stays on screen a while (a resident reads, comes back); a day is plenty.
TOKEN_MAX_AGE_SECONDS = 24 * 60 * 60


@lru_cache(maxsize=4)
def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="resident-choices")


def issue_token(secret: str, key: str) -> str:
    """A form token for the resident with keyed id `key`."""
    return str(_serializer(secret).dumps(key))


def token_matches(secret: str, token: str | None, key: str) -> bool:
    if not token or len(token) > 512:
        return False
    try:
        signed = _serializer(secret).loads(token, max_age=TOKEN_MAX_AGE_SECONDS)
    except BadData:
        return False
    return signed == key


class Resident:
    """The signed-in resident of a request: who they are and their keyed id."""

    def __init__(self, request: Request, identity: ResidentIdentity) -> None:
        settings = context(request).settings
        self.identity = identity
        self.key = resident_key(settings.portal_identity_secret, identity.external_id)
        self._secret = settings.secret_key

    def form_token(self) -> str:
        return issue_token(self._secret, self.key)

    def owns(self, token: str | None) -> bool:
        return token_matches(self._secret, token, self.key)


def resident_or_refusal(request: Request) -> Resident | Response:
    """The resident, or a 401 (page or JSON) for anonymous visitors and untrusted tokens."""
    try:
        identity = context(request).hooks.resolve_resident(request)
    except InvalidIdentityToken as exc:
        return refuse(request, 401, "invalid_resident_token", "住民トークンが無効です", exc.reason)
    if identity is None:
        return refuse(
            request,
            401,
            "no_resident",
            "会津若松+にログインすると、このページを使えます。",
        )
    return Resident(request, identity)


async def resident_form(request: Request, stale: str) -> tuple[Resident, FormData] | Response:
    """The resident and their posted form, or the refusal: 401 without a resident, 403 (with
    the `stale` message) when the form does not carry the token signed for them."""
    resident = resident_or_refusal(request)
    if isinstance(resident, Response):
        return resident
    form = await request.form()
    token = form.get(TOKEN_FIELD)
    if not resident.owns(token if isinstance(token, str) else None):
        return refuse(request, 403, "stale_form", stale)
    return resident, form


def optional_resident(request: Request) -> Resident | None:
    """The resident, or None for anonymous visitors (and untrusted tokens: no personal data)."""
    try:
        identity = context(request).hooks.resolve_resident(request)
    except InvalidIdentityToken:
        return None
    return None if identity is None else Resident(request, identity)


def refuse(
    request: Request, status: int, code: str, message: str, reason: str | None = None
) -> Response:
    text = gettext(message) + (f": {reason}" if reason else "")
    if wants_html(request):
        return render(request, "residents/refused.html", {"message": text}, status_code=status)
    return json_error(status, code, text)
