"""One shop can never reach another shop's objects: it gets the answer a missing id gets.

Shop A owns a hold and an ad; shop B, logged in through the same forms, asks for them by id over
every shop route that takes an id. The owner's own request proves the ids are real.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold
from marketplace.calendar import tokyo_date, week_start
from marketplace.db import utcnow
from marketplace.inventory.targeting import Targeting
from marketplace.lifecycle import CreativeStatus
from marketplace.models import Creative, CreativeVersion, Shop
from tests.proof.callers import Caller, build_callers
from tests.support.marketplace_factories import make_placement

MISSING = 999_999


@pytest.fixture
def callers(app: Starlette, session: Session, client: Any) -> Iterator[dict[str, Caller]]:
    yield build_callers(app, session)


def shop_id_of(session: Session, caller: Caller) -> int:
    names = [m for m in caller.private if m.endswith("商店")]
    shop_id = session.scalar(select(Shop.id).where(Shop.business_name == names[0]))
    assert shop_id is not None
    return shop_id


def owned_objects(session: Session, shop_id: int) -> dict[str, int]:
    placement = make_placement(session)
    first_week = week_start(tokyo_date(utcnow())) + timedelta(weeks=3)
    request = BookingRequest(placement.id, first_week, 2, 1, Targeting())
    booking = place_hold(session, shop_id, request, "cross-shop-hold-1", now=utcnow())
    creative = Creative(shop_id=shop_id, name="A店の秘密の素材")
    session.add(creative)
    session.flush()
    version = CreativeVersion(
        creative_id=creative.id, version=1, headline="A店の見出し", body="", landing_url="https://a.example.jp/",
        image_data=b"x", image_content_type="image/png", image_width=600, image_height=314,
        image_sha256="0" * 64, status=CreativeStatus.IN_REVIEW,
    )  # fmt: skip
    session.add(version)
    session.commit()
    return {"booking": booking.id, "creative": creative.id, "version": version.id}


ROUTES = [
    ("GET", "/shop/bookings/{booking}", {}),
    ("GET", "/api/marketplace/bookings/{booking}", {}),
    ("GET", "/shop/bookings/{booking}/pay", {}),
    ("GET", "/shop/reports/{booking}", {}),
    ("GET", "/shop/creatives/{creative}", {}),
    ("GET", "/creative-images/{version}", {}),
    ("POST", "/shop/bookings/{booking}/cancel", {"data": {"reason": "x"}}),
    ("POST", "/api/marketplace/bookings/{booking}/cancel", {"json": {}}),
    ("POST", "/api/marketplace/bookings/{booking}/confirm", {"json": {}}),
]


def call(
    caller: Caller, method: str, template: str, kwargs: dict[str, Any], values: dict[str, int]
) -> Any:
    extra = dict(kwargs)
    if method == "POST":
        extra["headers"] = {"X-CSRF-Token": caller.csrf_token()}
    return caller.request(method, template.format(**values), **extra)


def test_other_shop_gets_what_a_missing_id_gets(
    session: Session, callers: dict[str, Caller]
) -> None:
    owner, other = callers["shop"], callers["other_shop"]
    ids = owned_objects(session, shop_id_of(session, owner))
    missing = dict.fromkeys(ids, MISSING)
    problems = []
    for method, template, kwargs in ROUTES:
        absent = call(other, method, template, kwargs, missing)
        foreign = call(other, method, template, kwargs, ids)
        if foreign.status_code != absent.status_code or foreign.status_code < 400:
            problems.append(
                f"{method} {template}: other shop got {foreign.status_code}, a missing id "
                f"{absent.status_code}"
            )
        for marker in ("A店の秘密の素材", "A店の見出し", *owner.private):
            if marker in foreign.text:
                problems.append(f"{method} {template}: other shop sees {marker!r}")
    # The ids are real: the owner reaches its own booking and ad.
    assert owner.request("GET", f"/shop/bookings/{ids['booking']}").status_code == 200
    assert owner.request("GET", f"/shop/creatives/{ids['creative']}").status_code == 200
    assert not problems, "\n".join(problems)
