"""Issue 16 item 5: a shop renamed itself 「会津若松市役所(公式のお知らせ)」 and its live ad
carried that name within seconds. New names of advertising shops wait for staff; names that
pass for the city are refused at sign-up and rename."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import confirm_booking, place_hold
from marketplace.calendar import start_of_tokyo_day
from marketplace.delivery.layout import HostLayout
from marketplace.delivery.serving import load_snapshot
from marketplace.inventory.targeting import EVERYONE
from marketplace.lifecycle import BookingStatus, CreativeStatus
from marketplace.models import AuditEntry, Shop
from marketplace.review.standards import load_policy, name_flags
from marketplace.vocab import ShopStatus, StaffRole
from portal_plugin.demo.inventory import seed_inventory
from tests.support.marketplace_factories import make_creative
from tests.support.marketplace_http import HTML, SIGNUP, monday, post_form, sign_up
from tests.support.staff_http import csrf_from as csrf_in
from tests.support.staff_http import log_in

PROFILE = {k: v for k, v in SIGNUP.items() if k not in ("email", "password", "password_confirm")}
IMPOSTOR = "会津若松市役所（公式のお知らせ）"


def the_shop(session: Session) -> Shop:
    shop = session.scalars(select(Shop).where(Shop.contact_email == "soba@example.jp")).one()
    session.refresh(shop)
    return shop


def advertising_shop(client: TestClient, session: Session) -> tuple[Shop, object]:
    """A signed-in, approved shop with an approved ad booked and paid: the moment the ad runs."""
    placement = seed_inventory(session)[0]
    sign_up(client)
    shop = the_shop(session)
    shop.status = ShopStatus.APPROVED
    creative = make_creative(session, shop.id, CreativeStatus.APPROVED)
    request = BookingRequest(placement.id, monday(), 1, 1, EVERYONE, creative_id=creative.id)
    booking = place_hold(session, shop.id, request, "rename-0001")
    confirm_booking(session, booking.id)
    assert booking.status is BookingStatus.SCHEDULED
    session.flush()
    return shop, start_of_tokyo_day(monday()) + timedelta(hours=12)


def names_on_ads(session: Session, when: object) -> set[str]:
    session.expire_all()
    snapshot = load_snapshot(session, when, HostLayout())  # type: ignore[arg-type]
    return {ad.shop_name for ads in snapshot.candidates.values() for ad in ads}


def rename(client: TestClient, name: str) -> object:
    return post_form(client, "/shop/profile", {**PROFILE, "business_name": name}, "/shop/profile")


def test_an_advertisers_new_name_shows_only_after_a_reviewer_approves_it(
    app: Starlette, client: TestClient, session: Session
) -> None:
    shop, live = advertising_shop(client, session)
    assert names_on_ads(session, live) == {"鶴ヶ城そば"}

    asked = rename(client, "鶴ヶ城そば 本店")
    assert asked.status_code == 200  # type: ignore[attr-defined]
    assert "確認待ち" in asked.text  # type: ignore[attr-defined]
    assert the_shop(session).business_name == "鶴ヶ城そば"
    assert names_on_ads(session, live) == {"鶴ヶ城そば"}
    public = client.get(f"/shops/{shop.id}", headers=HTML)
    assert "鶴ヶ城そば" in public.text and "本店" not in public.text
    # Saving other fields keeps the request (the form shows the name asked for).
    again = rename(client, "鶴ヶ城そば 本店")
    assert "確認待ち" in again.text  # type: ignore[attr-defined]

    with TestClient(app, base_url="https://testserver") as staff:
        log_in(staff, session, StaffRole.REVIEWER)
        queue = staff.get("/staff/review", headers=HTML)
        assert "店名の変更申請" in queue.text and "鶴ヶ城そば 本店" in queue.text
        decided = staff.post(
            f"/staff/shops/{shop.id}/rename",
            data={"decision": "approve", "csrf_token": csrf_in(queue.text)},
            headers=HTML,
            follow_redirects=False,
        )
        assert decided.status_code == 303, decided.text
    assert the_shop(session).business_name == "鶴ヶ城そば 本店"
    assert the_shop(session).pending_business_name is None
    assert names_on_ads(session, live) == {"鶴ヶ城そば 本店"}
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.shop_id == shop.id).order_by(AuditEntry.id)
    ).all()
    assert [a for a in actions if a.startswith("shop_rename")] == [
        "shop_rename_requested",
        "shop_rename_approved",
    ]


def test_a_rejected_name_needs_a_reason_and_leaves_the_old_one(
    app: Starlette, client: TestClient, session: Session
) -> None:
    shop, _live = advertising_shop(client, session)
    rename(client, "そば処つるがじょう")
    with TestClient(app, base_url="https://testserver") as staff:
        log_in(staff, session, StaffRole.REVIEWER)
        token = csrf_in(staff.get("/staff/review", headers=HTML).text)
        path = f"/staff/shops/{shop.id}/rename"
        no_reason = staff.post(path, data={"decision": "reject", "csrf_token": token}, headers=HTML)
        assert no_reason.status_code == 422 and "却下の理由" in no_reason.text
        rejected = staff.post(
            path,
            data={"decision": "reject", "reason": "登記の名称と違います", "csrf_token": token},
            headers=HTML,
            follow_redirects=False,
        )
        assert rejected.status_code == 303
        nothing = staff.post(path, data={"decision": "approve", "csrf_token": token}, headers=HTML)
        assert nothing.status_code == 409
    shop = the_shop(session)
    assert (shop.business_name, shop.pending_business_name) == ("鶴ヶ城そば", None)
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "shop_rename_rejected")
    ).one()
    assert entry.reason == "登記の名称と違います"
    assert entry.details["new_name"] == "そば処つるがじょう"


def test_asking_for_the_current_name_again_withdraws_the_request(
    client: TestClient, session: Session
) -> None:
    advertising_shop(client, session)
    rename(client, "そば処つるがじょう")
    assert the_shop(session).pending_business_name == "そば処つるがじょう"
    withdrawn = rename(client, "鶴ヶ城そば")
    assert "確認待ち" not in withdrawn.text  # type: ignore[attr-defined]
    assert the_shop(session).pending_business_name is None


def test_a_shop_not_yet_approved_renames_itself_at_once(
    client: TestClient, session: Session
) -> None:
    sign_up(client)
    renamed = rename(client, "そば処つるがじょう")
    assert renamed.status_code == 200  # type: ignore[attr-defined]
    assert the_shop(session).business_name == "そば処つるがじょう"


CITY_LOOKALIKES = [
    IMPOSTOR,
    "会津若松市役所(公式のお知らせ)",
    "市 役 所 だより",
    "市　役　所",  # full-width spaces
    "市\u200b役所",  # a zero-width space
    "巿役所前そば",  # 巿 (U+5DFF) looks like 市
    "會津若松市 観光案内",
    "市からのお知らせ",
    "ＳＯＢＡ公式ショップ",
    "行政サービスセンター",
    "会津若松・市役所",
]


@pytest.mark.parametrize("name", CITY_LOOKALIKES)
def test_a_name_passing_for_the_city_is_refused_at_sign_up(
    client: TestClient, session: Session, name: str
) -> None:
    refused = sign_up(client, business_name=name)
    assert refused.status_code == 422
    assert "この店名は登録できません" in refused.text
    assert "市役所・行政をよそおう表現" in refused.text
    assert session.scalars(select(Shop)).all() == []


@pytest.mark.parametrize("name", [IMPOSTOR, "市　役　所 公式"])
def test_a_name_passing_for_the_city_is_refused_at_rename(
    client: TestClient, session: Session, name: str
) -> None:
    advertising_shop(client, session)
    refused = rename(client, name)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "この店名は登録できません" in refused.text  # type: ignore[attr-defined]
    shop = the_shop(session)
    assert (shop.business_name, shop.pending_business_name) == ("鶴ヶ城そば", None)


@pytest.mark.parametrize(
    "name", ["鶴ヶ城そば", "会津塗 山田漆器店", "若松食堂", "市川商店", "七日町カフェ"]
)
def test_ordinary_names_pass(name: str) -> None:
    assert name_flags(load_policy(), name) == []


def test_the_english_reason_names_the_rule(client: TestClient) -> None:
    refused = post_form(
        client,
        "/shop/signup?lang=en",
        {**SIGNUP, "business_name": IMPOSTOR},
        "/shop/signup?lang=en",
    )
    assert "This shop name cannot be used" in refused.text
    assert "Passing for the city hall" in refused.text
