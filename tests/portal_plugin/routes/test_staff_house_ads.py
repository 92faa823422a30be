"""Staff manage the city's house ads; staff cannot sell a placement no page shows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.accounts.staff import create_staff
from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.models import HouseAd, Placement
from marketplace.vocab import StaffRole
from portal_plugin.app import create_app
from portal_plugin.demo.inventory import seed_inventory
from tests.support.marketplace_factories import PLACEMENT_FORM
from tests.support.marketplace_http import HTML, post_form, staff_login
from tests.support.settings import make_settings

PASSWORD = "staff-password-1"
TODAY = tokyo_date(utcnow()).isoformat()


def staff_app(
    url: str, engine: Engine, factory: sessionmaker[Session], **settings: object
) -> Starlette:
    app = create_app(make_settings(url, **settings), engine=engine)
    app.state.ctx.session_factory = factory
    return app


def staff_client(app: Starlette, session: Session, role: StaffRole) -> TestClient:
    email = f"{role.value}-house@city.example.jp"
    create_staff(session, email, f"{role.value} 職員", PASSWORD, role)
    session.flush()
    client = TestClient(app, base_url="https://testserver")
    staff_login(client, email, PASSWORD)
    return client


@pytest.fixture
def reviewer(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session], session: Session
) -> Iterator[TestClient]:
    session.execute(delete(HouseAd))
    app = staff_app(database_url, engine, session_factory)
    with staff_client(app, session, StaffRole.REVIEWER) as client:
        yield client


def test_reviewers_create_edit_and_retire_house_ads(reviewer: TestClient, session: Session) -> None:
    preset = reviewer.get("/staff/house-ads?preset=recruitment", headers=HTML)
    assert preset.status_code == 200
    assert 'value="/shop/signup"' in preset.text  # the shop sign-up of this mount
    assert "広告募集中 地域のお店の広告を掲載しませんか" in preset.text
    refused = post_form(
        reviewer,
        "/staff/house-ads",
        {"headline": "広告募集中", "link_url": "javascript:alert(1)", "in_feed": "1"},
        "/staff/house-ads",
    )
    assert refused.status_code == 422
    assert "リンク先" in refused.text and 'aria-invalid="true"' in refused.text
    created = post_form(
        reviewer,
        "/staff/house-ads",
        {
            "headline": "広告募集中",
            "body": "地域のお店の広告を募集しています。",
            "link_url": "/marketplace/shop/signup",
            "in_feed": "1",
            "side": "1",
            "first_day": TODAY,
        },
        "/staff/house-ads",
    )
    assert created.status_code == 303
    ad = session.scalars(select(HouseAd)).one()
    page = reviewer.get("/staff/house-ads", headers=HTML).text
    assert "広告募集中" in page and f"{TODAY} 〜 終了日なし" in page and "掲載中" in page
    edit = reviewer.get(f"/staff/house-ads/{ad.id}", headers=HTML).text
    assert f'name="house_ad_id" value="{ad.id}"' in edit and f'value="{TODAY}"' in edit
    post_form(
        reviewer,
        "/staff/house-ads",
        {
            "house_ad_id": str(ad.id),
            "headline": "広告募集中(12月)",
            "link_url": "/marketplace/shop/signup",
            "side": "1",
            "first_day": TODAY,
            "last_day": str(date.fromisoformat(TODAY) + timedelta(days=20)),
        },
        "/staff/house-ads",
    )
    session.refresh(ad)
    assert ad.headline == "広告募集中(12月)" and not ad.in_feed and ad.ends_at is not None
    retired = post_form(reviewer, f"/staff/house-ads/{ad.id}/retire", {}, "/staff/house-ads")
    assert retired.status_code == 303
    session.refresh(ad)
    assert ad.retired_at is not None
    assert re.search(r"取り下げ</span>", reviewer.get("/staff/house-ads", headers=HTML).text)


def test_finance_staff_do_not_manage_house_ads(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session], session: Session
) -> None:
    app = staff_app(database_url, engine, session_factory)
    with staff_client(app, session, StaffRole.FINANCE) as finance:
        assert finance.get("/staff/house-ads", headers=HTML).status_code == 403
        assert "市のお知らせ枠" not in finance.get("/staff/", headers=HTML).text


def test_admins_cannot_add_a_placement_no_page_shows(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session], session: Session
) -> None:
    session.execute(update(Placement).values(active=False))
    seed_inventory(session)
    app = staff_app(database_url, engine, session_factory, delivery_side_slots=0)
    with staff_client(app, session, StaffRole.ADMIN) as admin:
        page = admin.get("/staff/inventory", headers=HTML).text
        # The demo's gadget placement is still active, but this host has no gadget column.
        assert "住民のページに表示されないため販売を止めている枠:" in page
        assert "ガジェット欄に広告を表示する場所がありません" in page
        response = post_form(
            admin,
            "/staff/placements",
            {**PLACEMENT_FORM, "code": "feed-3-again", "term_discounts": "", "active": "1"},
            "/staff/inventory",
        )
        assert response.status_code == 422
        assert "フィードの3件目には枠「おすすめ記事 3件目の下(フィード内カード)」" in response.text
