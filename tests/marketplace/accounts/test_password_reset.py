from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from marketplace.accounts.password_reset import (
    ResetLinkExpired,
    ResetLinkInvalid,
    ResetLinkUsed,
    change_password,
    check_reset_claim,
    read_reset_token,
    reset_password,
    reset_target,
    reset_token,
)
from marketplace.accounts.passwords import verify_password
from marketplace.accounts.sessions import end_sessions, live_shop_login
from marketplace.accounts.shop_profile import ShopProfile
from marketplace.accounts.shops import sign_up_shop
from marketplace.errors import InvalidInput
from marketplace.models import Shop, ShopUser
from marketplace.vocab import ShopStatus

SECRET = "s" * 40
PROFILE = ShopProfile(
    "鶴ヶ城そば", "ツルガジョウソバ", "restaurant", "tsuruga", "会津 花子", "", None
)
OLD, NEW = "correct horse battery", "a brand new passphrase"


def shop_user(session: Session) -> ShopUser:
    user = sign_up_shop(session, "soba@example.jp", OLD, PROFILE)
    session.flush()
    return user


def test_a_link_sets_a_password_once_and_ends_every_session(session: Session) -> None:
    user = shop_user(session)
    target = reset_target(session, "Soba@Example.jp ")
    assert target is not None and target.session_version == 0
    claim = read_reset_token(SECRET, reset_token(SECRET, target))
    check_reset_claim(session, claim)
    assert reset_password(session, claim, NEW) == "soba@example.jp"
    session.expire_all()
    assert verify_password(session.get_one(ShopUser, user.id).password_hash, NEW)
    assert live_shop_login(session, user.id).session_version == 1  # type: ignore[union-attr]
    with pytest.raises(ResetLinkUsed):
        reset_password(session, claim, "a third passphrase")
    with pytest.raises(ResetLinkUsed):
        check_reset_claim(session, claim)


def test_a_logout_after_the_mail_retires_the_link(session: Session) -> None:
    user = shop_user(session)
    target = reset_target(session, "soba@example.jp")
    assert target is not None
    claim = read_reset_token(SECRET, reset_token(SECRET, target))
    end_sessions(session, "shop", user.id)
    with pytest.raises(ResetLinkUsed):
        reset_password(session, claim, NEW)


def test_expired_forged_and_other_installations_links_are_refused(session: Session) -> None:
    shop_user(session)
    target = reset_target(session, "soba@example.jp")
    assert target is not None
    token = reset_token(SECRET, target)
    with pytest.raises(ResetLinkExpired):
        read_reset_token(SECRET, token, max_age=timedelta(seconds=-1))
    with pytest.raises(ResetLinkInvalid):
        read_reset_token("another installation's secret key!!", token)
    with pytest.raises(ResetLinkInvalid):
        read_reset_token(SECRET, token[:-2] + "AA")
    with pytest.raises(ResetLinkInvalid):
        read_reset_token(SECRET, "x" * 500)


def test_no_link_for_unknown_addresses_or_closed_shops(session: Session) -> None:
    user = shop_user(session)
    assert reset_target(session, "nobody@example.jp") is None
    claim = read_reset_token(SECRET, reset_token(SECRET, reset_target(session, "soba@example.jp")))  # type: ignore[arg-type]
    session.get_one(Shop, user.shop_id).status = ShopStatus.CLOSED
    session.flush()
    assert reset_target(session, "soba@example.jp") is None
    with pytest.raises(ResetLinkUsed):
        reset_password(session, claim, NEW)


def test_changing_needs_the_current_password_and_a_different_one(session: Session) -> None:
    user = shop_user(session)
    with pytest.raises(InvalidInput) as wrong:
        change_password(session, user.id, "not the password", NEW)
    assert wrong.value.field == "current_password"
    with pytest.raises(InvalidInput):
        change_password(session, user.id, OLD, OLD)
    assert change_password(session, user.id, OLD, NEW) == ("soba@example.jp", 1)
