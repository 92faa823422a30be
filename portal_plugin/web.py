"""Rendering pages and JSON errors the same way everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.templating import Jinja2Templates

from portal_plugin import i18n
from portal_plugin.ad_cards import live_preview_card, version_card
from portal_plugin.dates import date_range, day_label, tokyo_time
from portal_plugin.labels import creative_field_label, label, targeting_label
from portal_plugin.security.csrf import csrf_token

TEMPLATE_DIR = Path(__file__).parent / "templates"


def build_templates() -> Jinja2Templates:
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    environment.globals["yen"] = format_yen
    environment.globals["version_card"] = version_card
    environment.globals["live_preview_card"] = live_preview_card
    environment.globals["date_range"] = date_range
    environment.globals["day_label"] = day_label
    environment.globals["tokyo_time"] = tokyo_time
    environment.globals["label"] = label
    environment.globals["targeting_label"] = targeting_label
    environment.globals["creative_field_label"] = creative_field_label
    return Jinja2Templates(env=environment)


def format_yen(amount: int | None) -> str:
    return "—" if amount is None else f"¥{amount:,}"


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    ctx = request.app.state.ctx
    values = {
        "request": request,
        "lang": i18n.current_language.get(),
        "chrome": ctx.hooks.page_chrome(request),
        "csrf_token": csrf_token(request.session) if "session" in request.scope else "",
        "prefix": request.scope.get("root_path", ""),
    }
    values.update(context or {})
    return templates.TemplateResponse(request, template, values, status_code=status_code)


def plugin_path(request: Request, name: str, **path_params: Any) -> str:
    """The path of one of the plugin's own routes, under whatever prefix the host mounted it.

    `request.url_for` resolves names against the outermost router, which in a host portal is
    the host's, so plugin route names are not found there.
    """
    own_path = request.app.url_path_for(name, **path_params)
    return str(request.scope.get("root_path", "")) + str(own_path)


def json_error(status_code: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **extra}}, status_code=status_code
    )


def validation_error(exc: ValidationError) -> JSONResponse:
    fields = [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]
    return json_error(422, "invalid_input", "入力内容に誤りがあります", fields=fields)
