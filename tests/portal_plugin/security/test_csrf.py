"""CSRF is skipped only for a request a valid bearer API token authenticates (issue 16, item 7).

Before, any `Authorization` header at all skipped the check, so `Basic …` beside a session
cookie let a state-changing request through on the cookie alone.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.accounts.shops import create_api_token
from marketplace.accounts.staff import create_staff
from marketplace.models import Shop, ShopApiToken
from marketplace.switches import is_disaster_mode
from marketplace.vocab import ShopStatus, StaffRole
from tests.support.marketplace_http import HTML, sign_up, staff_login

ADMIN = "csrf-admin@city.example.jp"
PASSWORD = "a staff password that is long enough"


def _signed_up_shop(client: TestClient, session: Session, email: str) -> Shop:
    assert sign_up(client, email=email).status_code == 303
    shop = session.scalars(select(Shop).where(Shop.contact_email == email)).one()
    shop.status = ShopStatus.APPROVED
    session.flush()
    return shop


def _tokens(session: Session, shop: Shop) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(ShopApiToken).where(ShopApiToken.shop_id == shop.id)
        )
        or 0
    )


def test_basic_authorization_beside_a_session_cookie_still_needs_the_csrf_token(
    client: TestClient, session: Session
) -> None:
    shop = _signed_up_shop(client, session, "basic@example.jp")
    for authorization in ("Basic c2hvcDpwYXNzd29yZA==", "Bearer pm_not-a-token", "Bearer "):
        answer = client.post(
            "/shop/tokens",
            data={"name": "forged"},
            headers={**HTML, "Authorization": authorization},
            follow_redirects=False,
        )
        assert answer.status_code == 403, (authorization, answer.status_code)
        assert "フォームの有効期限" in answer.text
    assert _tokens(session, shop) == 0


def test_a_valid_bearer_token_never_lets_the_staff_cookie_act(
    app: Starlette, client: TestClient, session: Session
) -> None:
    shop = _signed_up_shop(client, session, "bearer@example.jp")
    _token, secret = create_api_token(session, shop.id, None, "api")
    create_staff(session, ADMIN, "管理者", PASSWORD, StaffRole.ADMIN)
    session.commit()
    admin = TestClient(app, base_url="https://testserver")
    staff_login(admin, ADMIN, PASSWORD)
    answer = admin.post(
        "/staff/disaster-mode",
        data={"enabled": "1", "message": "偽の災害"},
        headers={"Authorization": f"Bearer {secret}"},
        follow_redirects=False,
    )
    assert answer.status_code == 401, answer.text
    session.expire_all()
    assert not is_disaster_mode(session)
    # The admin's own session was not touched by the bearer request.
    assert admin.get("/staff/", follow_redirects=False).status_code == 200


def test_a_valid_bearer_token_acts_as_its_own_shop_not_the_cookies(
    app: Starlette, client: TestClient, session: Session
) -> None:
    cookie_shop = _signed_up_shop(client, session, "cookie@example.jp")
    other = TestClient(app, base_url="https://testserver")
    token_shop = _signed_up_shop(other, session, "token@example.jp")
    _token, secret = create_api_token(session, token_shop.id, None, "api")
    session.commit()
    answer = client.post(
        "/shop/tokens",
        data={"name": "by the API"},
        headers={**HTML, "Authorization": f"Bearer {secret}"},
        follow_redirects=False,
    )
    assert answer.status_code == 200, answer.text
    assert _tokens(session, cookie_shop) == 0
    assert _tokens(session, token_shop) == 2
