from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from marketplace.accounts.shop_profile import (
    parse_email,
    parse_password,
    parse_profile,
    registration_number_is_valid,
)
from marketplace.accounts.shops import (
    authenticate_shop_user,
    authenticate_token,
    create_api_token,
    decide_shop,
    revoke_api_token,
    sign_up_shop,
)
from marketplace.audit import Actor
from marketplace.errors import AlreadyExists, InvalidInput
from marketplace.lifecycle import ActorKind
from marketplace.vocab import ShopStatus

PROFILE = {
    "business_name": "鶴ヶ城そば",
    "business_name_kana": "ツルガジョウソバ",
    "category": "restaurant",
    "district": "tsuruga",
    "contact_name": "会津 花子",
    "contact_phone": "0242-00-0000",
    "invoice_registration_number": "T7000012050002",
}
STAFF = Actor(ActorKind.STAFF, 1, "管理者")


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("T7000012050002", True),  # 国税庁's corporate number
        ("T1000012050002", False),  # wrong check digit
        ("T700001205000", False),
        ("7000012050002", False),
        ("T70000120500021", False),
    ],
)
def test_registration_number_check_digit(number: str, valid: bool) -> None:
    assert registration_number_is_valid(number) is valid


def test_profile_validation_names_fields() -> None:
    assert parse_profile(PROFILE).in_city
    assert not parse_profile({**PROFILE, "district": "outside"}).in_city
    for field, value in [
        ("business_name", ""),
        ("category", "casino"),
        ("district", "shibuya"),
        ("invoice_registration_number", "T1000012050002"),
        ("business_name_kana", "つるがじょう"),
        ("contact_phone", "call me"),
    ]:
        with pytest.raises(InvalidInput) as error:
            parse_profile({**PROFILE, field: value})
        assert error.value.field == field
    with pytest.raises(InvalidInput):
        parse_email("not-an-email")
    with pytest.raises(InvalidInput):
        parse_password("short")


def test_sign_up_login_approve(session: Session) -> None:
    user = sign_up_shop(session, "soba@example.jp", "correct horse battery", parse_profile(PROFILE))
    login = authenticate_shop_user(session, "SOBA@example.jp ", "correct horse battery")
    assert login is not None and login.shop_id == user.shop_id
    assert authenticate_shop_user(session, "soba@example.jp", "wrong password!") is None
    with pytest.raises(AlreadyExists):
        sign_up_shop(session, "soba@example.jp", "another password", parse_profile(PROFILE))
    shop = decide_shop(session, user.shop_id, "approve", STAFF)
    assert shop.status is ShopStatus.APPROVED
    with pytest.raises(InvalidInput):
        decide_shop(session, user.shop_id, "suspend", STAFF)  # needs a reason
    decide_shop(session, user.shop_id, "suspend", STAFF, "税の滞納")
    assert authenticate_shop_user(session, "soba@example.jp", "correct horse battery") is None


def test_api_tokens(session: Session) -> None:
    user = sign_up_shop(session, "api@example.jp", "correct horse battery", parse_profile(PROFILE))
    token, secret = create_api_token(session, user.shop_id, user.id, "POSレジ")
    assert secret.startswith("pmk_") and token.token_hash != secret
    assert authenticate_token(session, secret) == user.shop_id
    assert authenticate_token(session, secret + "x") is None
    revoke_api_token(session, user.shop_id, token.id)
    assert authenticate_token(session, secret) is None
