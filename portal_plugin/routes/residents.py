"""Resolving the current resident from the host, with clear refusals."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal_plugin.context import context
from portal_plugin.identity import InvalidIdentityToken, ResidentIdentity
from portal_plugin.web import json_error


class ResidentRefused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def resolve_resident(request: Request) -> ResidentIdentity | None:
    """The resident from the host hook; raises ResidentRefused (401) for an untrusted token."""
    try:
        return context(request).hooks.resolve_resident(request)
    except InvalidIdentityToken as exc:
        raise ResidentRefused(
            json_error(401, "invalid_resident_token", f"住民トークンが無効です: {exc.reason}")
        ) from None


async def me(request: Request) -> Response:
    try:
        identity = resolve_resident(request)
    except ResidentRefused as refused:
        return refused.response
    if identity is None:
        return json_error(401, "no_resident", "住民としてログインしていません")
    return JSONResponse(
        {
            "external_id": identity.external_id,
            "age_band": identity.age_band,
            "household": identity.household,
            "district": identity.district,
            "language": identity.language,
            "interests": list(identity.interests),
            "personalization_consent": identity.personalization_consent,
        }
    )


routes = [Route("/api/me", me, methods=["GET"], name="resident_me")]
