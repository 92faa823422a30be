"""「あなたのデータ」 (`/me`): what the plugin holds about the resident, as a page and as a JSON
download, and 「データを削除」, which runs the same code as `portal-marketplace privacy forget`.

The resident is the one in the host's `X-Portal-Resident`, as on the other resident routes;
the delete form carries the token signed for that resident (portal_plugin/resident_forms.py).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from analytics.errors import UnknownResident
from analytics.resident_data import COUNTS, HeldData, held_data
from analytics.retention import ForgetResult, forget_resident
from marketplace.db import utcnow
from marketplace.delivery.choices import NO_CHOICES
from marketplace.errors import InvalidInput
from marketplace.personal_data import Retention, described_tables, retention_text
from marketplace.vocab import GADGETS
from portal_plugin.auth import wants_html
from portal_plugin.context import context
from portal_plugin.i18n import gettext
from portal_plugin.identity import ResidentIdentity
from portal_plugin.privacy_notice import RESIDENT_TRANSMISSIONS
from portal_plugin.resident_forms import Resident, resident_form, resident_or_refusal
from portal_plugin.routes.ad_choices import DONE_MESSAGES as CHOICE_MESSAGES
from portal_plugin.routes.ad_choices import STALE_FORM, remember
from portal_plugin.schema import metadata
from portal_plugin.web import plugin_path, render

DONE_MESSAGES = {
    **CHOICE_MESSAGES,  # the ad settings' forms on this page come back here
    "forgotten": "あなたのデータを削除しました。",
    "nothing": "削除するデータはありませんでした。",
}
COUNT_LABELS = {
    "article_views": "記事を見た",
    "article_clicks": "記事を開いた",
    "ads_shown": "広告を表示",
    "ad_views": "広告が画面に出た",
    "ad_clicks": "広告を押した",
}
assert set(COUNT_LABELS) == set(COUNTS)


def retention_rows(raw_event_months: int) -> list[dict[str, str]]:
    """How long each kind of record is kept, from the tables' own markers and the settings."""
    return [
        {
            "table": table.name,
            "title": gettext(described.title),
            "kept": retention_text(described.retention, raw_event_months, gettext),
        }
        for table, described in sorted(
            described_tables(metadata),
            # The profile first, then the resident's settings, then the records.
            key=lambda pair: (-list(Retention).index(pair[1].retention), pair[0].name),
        )
    ]


def _from_host(identity: ResidentIdentity) -> dict[str, Any]:
    return {
        "age_band": identity.age_band.value if identity.age_band else None,
        "household": identity.household.value if identity.household else None,
        "district": identity.district,
        "language": identity.language.value,
        "interests": list(identity.interests),
        "personalization_consent": identity.personalization_consent,
    }


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def data_document(
    identity: ResidentIdentity, held: HeldData, raw_event_months: int, now: datetime
) -> dict[str, Any]:
    """The download: everything the page shows, as codes and ISO times."""
    profile = None
    if held.profile is not None:
        profile = {k: _iso(v) for k, v in asdict(held.profile).items()}
        profile["interests"] = list(held.profile.interests)
        profile["gadgets"] = list(held.profile.gadgets)
    return {
        "generated_at": now.isoformat(),
        "external_id": identity.external_id,
        "from_host": _from_host(identity),
        "stored_profile": profile,
        "ad_settings": {
            "personalized_ads": held.personalized_ads,
            "updated_at": _iso(held.choices_updated_at),
            "hidden_shops": [
                {"shop_id": s.shop_id, "name": s.name, "hidden_at": s.hidden_at.isoformat()}
                for s in held.hidden_shops
            ],
        },
        "records_by_month": [asdict(month) for month in held.months],
        "retention": retention_rows(raw_event_months),
        "sent_to_others": list(RESIDENT_TRANSMISSIONS),
    }


async def _held(request: Request, resident: Resident) -> HeldData:
    return await context(request).in_transaction(
        held_data, resident.identity.external_id, resident.key
    )


async def my_data(request: Request) -> Response:
    resident = resident_or_refusal(request)
    if isinstance(resident, Response):
        return resident
    held = await _held(request, resident)
    done = request.query_params.get("done")
    months = context(request).settings.raw_event_retention_months
    return render(
        request,
        "residents/me.html",
        {
            "resident": resident,
            "identity": resident.identity,
            "held": held,
            "counts": [(name, COUNT_LABELS[name]) for name in COUNTS],
            "retention": retention_rows(months),
            "form_token": resident.form_token(),
            "consent": resident.identity.personalization_consent,
            "personalized_ads": held.personalized_ads,
            "hidden": held.hidden_shops,
            "back": "me",
            "gadget_names": [
                gettext(GADGETS.get(code, code))
                for code in (held.profile.gadgets if held.profile else ())
            ],
            "done": DONE_MESSAGES.get(done or ""),
        },
    )


async def my_data_download(request: Request) -> Response:
    resident = resident_or_refusal(request)
    if isinstance(resident, Response):
        return resident
    held = await _held(request, resident)
    now = utcnow()
    document = data_document(
        resident.identity, held, context(request).settings.raw_event_retention_months, now
    )
    day = now.strftime("%Y%m%d")
    return JSONResponse(
        document,
        headers={
            "Content-Disposition": f'attachment; filename="my-data-{day}.json"',
            "Cache-Control": "no-store",
        },
    )


def _forget(session: Session, external_id: str, secret: str, now: datetime) -> ForgetResult | None:
    try:
        return forget_resident(session, external_id, secret, now)
    except UnknownResident:
        return None


async def delete_my_data(request: Request) -> Response:
    """「データを削除」: forget_resident, as `privacy forget` runs it; shops' reports stay."""
    taken = await resident_form(request, STALE_FORM)
    if isinstance(taken, Response):
        return taken
    resident, form = taken
    if form.get("confirm") != "yes":
        raise InvalidInput("削除してよいか、確認の欄にチェックを入れてください", field="confirm")
    result = await context(request).in_transaction(
        _forget,
        resident.identity.external_id,
        context(request).settings.portal_identity_secret,
        utcnow(),
    )
    if result is not None:
        remember(request, resident, NO_CHOICES, "forgotten")
    done = "nothing" if result is None else "forgotten"
    if wants_html(request):
        return RedirectResponse(plugin_path(request, "resident_data") + f"?done={done}", 303)
    body: dict[str, object] = {"message": gettext(DONE_MESSAGES[done]), "deleted": done}
    if result is not None:
        body.update(
            interactions_deleted=result.interactions_deleted,
            ad_events_deleted=result.ad_events_deleted,
            ad_events_unlinked=result.ad_events_unlinked,
            choices_deleted=result.choices_deleted,
        )
    return JSONResponse(body)


routes = [
    Route("/me", my_data, methods=["GET"], name="resident_data"),
    Route("/me/data.json", my_data_download, methods=["GET"], name="resident_data_download"),
    Route("/me/data/delete", delete_my_data, methods=["POST"], name="resident_data_delete"),
]
