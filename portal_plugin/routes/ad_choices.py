"""Residents' ad choices where they see ads: hide a shop, stop personalised ads, undo either.

The choice is stored by the plugin (marketplace/delivery/choices.py), honoured from this
worker's next feed at once and by the other workers at their next refresh, and told to the host
through the `consent_changed` hook. Forms work without JavaScript (303 to 「広告の設定」 with a
confirmation); resident-choices.js posts the same forms and answers on the card itself (JSON).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from marketplace.db import utcnow
from marketplace.delivery import choices
from marketplace.delivery.choices import AdChoices
from marketplace.errors import InvalidInput
from portal_plugin.auth import wants_html
from portal_plugin.context import context
from portal_plugin.delivery_runtime import delivery_service
from portal_plugin.hooks import ConsentChange
from portal_plugin.i18n import gettext
from portal_plugin.resident_forms import Resident, optional_resident, resident_form
from portal_plugin.web import plugin_path, render

log = logging.getLogger(__name__)

Change = Literal["hide_shop", "show_shop", "personalized_ads", "forgotten"]
DONE_MESSAGES: dict[str, str] = {
    "hide_shop": "このお店の広告を表示しないようにしました。",
    "show_shop": "このお店の広告を、また表示するようにしました。",
    "personalized_off": "好みに合わせた広告を停止しました。広告はあなたの情報を使わずに選びます。",
    "personalized_on": "好みに合わせた広告を再開しました。",
}


STALE_FORM = "ページの有効期限が切れました。ページを再読み込みしてからもう一度お試しください。"


def _shop_id(raw: object) -> int:
    text = raw if isinstance(raw, str) else ""
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise InvalidInput("お店の指定が正しくありません", field="shop_id")
    return int(text)


def remember(
    request: Request,
    resident: Resident,
    chosen: AdChoices,
    what: Change,
    shop_id: int | None = None,
) -> None:
    """After the commit: this worker's next feed honours the choice; the host is told."""
    service = delivery_service(context(request))
    if service is not None:
        service.choices.remember(resident.key, chosen)
    change = ConsentChange(
        external_id=resident.identity.external_id,
        what=what,
        personalized_ads=chosen.personalized_ads,
        hidden_shop_ids=tuple(sorted(chosen.hidden_shops)),
        shop_id=shop_id,
    )
    try:
        context(request).hooks.consent_changed(request, change)
    except Exception:  # the host's trouble must not undo the resident's choice
        log.exception("the host's consent_changed hook failed (%s)", what)


Work = Callable[[Session, str, datetime], AdChoices]


async def _apply(
    request: Request,
    parse: Callable[[FormData], tuple[Work, Change, str, int | None]],
) -> Response:
    """Who (401 without a resident), proof the form is theirs (403), what (422), then do it."""
    taken = await resident_form(request, STALE_FORM)
    if isinstance(taken, Response):
        return taken
    resident, form = taken
    work, what, done, shop_id = parse(form)
    chosen = await context(request).in_transaction(work, resident.key, utcnow())
    remember(request, resident, chosen, what, shop_id)
    if wants_html(request):
        # The settings page the form was on: 「広告について」, or 「あなたのデータ」 (/me).
        page = "resident_data" if form.get("back") == "me" else "about_ads"
        target = plugin_path(request, page) + f"?done={done}"
        return RedirectResponse(target, status_code=303)
    return JSONResponse(
        {
            "message": gettext(DONE_MESSAGES[done]),
            "personalized_ads": chosen.personalized_ads,
            "hidden_shop_ids": sorted(chosen.hidden_shops),
            "settings_url": plugin_path(request, "about_ads"),
        }
    )


async def hide_shop(request: Request) -> Response:
    def parse(form: FormData) -> tuple[Work, Change, str, int | None]:
        shop_id = _shop_id(form.get("shop_id"))

        def work(session: Session, key: str, now: datetime) -> AdChoices:
            return choices.hide_shop(session, key, shop_id, now)

        return work, "hide_shop", "hide_shop", shop_id

    return await _apply(request, parse)


async def show_shop(request: Request) -> Response:
    shop_id = int(request.path_params["shop_id"])

    def parse(form: FormData) -> tuple[Work, Change, str, int | None]:
        def work(session: Session, key: str, now: datetime) -> AdChoices:
            return choices.show_shop(session, key, shop_id, now)

        return work, "show_shop", "show_shop", shop_id

    return await _apply(request, parse)


async def personalized_ads(request: Request) -> Response:
    def parse(form: FormData) -> tuple[Work, Change, str, int | None]:
        value = form.get("personalized")
        if value not in ("on", "off"):
            raise InvalidInput("on か off を指定してください", field="personalized")
        allowed = value == "on"

        def work(session: Session, key: str, now: datetime) -> AdChoices:
            return choices.set_personalized_ads(session, key, allowed, now)

        return work, "personalized_ads", "personalized_on" if allowed else "personalized_off", None

    return await _apply(request, parse)


def choices_view(session: Session, key: str) -> dict[str, object]:
    """What the settings show: the resident's choices and the names of the shops they hid."""
    held = choices.choices_of(session, key)
    return {
        "personalized_ads": held.personalized_ads,
        "hidden": [
            {"shop_id": shop_id, "name": name, "hidden_at": at}
            for shop_id, name, at in choices.hidden_shops(session, key)
        ],
    }


async def about_ads(request: Request) -> Response:
    """「広告について」: how ads are chosen, and (for a resident) their own ad settings."""
    resident = optional_resident(request)
    view: dict[str, object] = {"resident": resident, "done": None}
    if resident is not None:
        view.update(await context(request).in_transaction(choices_view, resident.key))
        view["form_token"] = resident.form_token()
        done = request.query_params.get("done")
        if done in DONE_MESSAGES:
            view["done"] = DONE_MESSAGES[done]
    return render(request, "residents/about_ads.html", view)


routes = [
    Route("/about-ads", about_ads, methods=["GET"], name="about_ads"),
    Route("/me/hidden-shops", hide_shop, methods=["POST"], name="resident_hide_shop"),
    Route(
        "/me/hidden-shops/{shop_id:int}/show",
        show_shop,
        methods=["POST"],
        name="resident_show_shop",
    ),
    Route(
        "/me/personalized-ads", personalized_ads, methods=["POST"], name="resident_personalized_ads"
    ),
]
