"""New passwords for shop accounts: reset by a signed, expiring, single-use mailed link, or
changed while signed in. Either ends every other session of the account.

The link carries an itsdangerous timed signature over the account id and its session version
(salted for this purpose, keyed with the installation's secret). Nothing is stored: a reset
raises the session version in the same UPDATE that checks it, so a link works once, and a
logout or password change made after it was sent also retires it. The same raise ends every
session the account had (`marketplace.accounts.sessions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.passwords import hash_password, verify_password
from marketplace.accounts.sessions import SIGNED_IN_STATUSES, end_sessions
from marketplace.errors import InvalidInput, MarketplaceError
from marketplace.models import Shop, ShopUser

RESET_LINK_MINUTES: Final = 30
_SALT: Final = "marketplace.shop-password-reset"


class ResetLinkInvalid(MarketplaceError):
    code = "reset_link_invalid"
    status = 400
    template = (
        "このリンクは正しくありません。メールのリンクをそのまま開くか、もう一度お申し込みください。"
    )


class ResetLinkExpired(MarketplaceError):
    code = "reset_link_expired"
    status = 410
    template = "このリンクの有効期限（{minutes}分）が切れています。もう一度お申し込みください。"


class ResetLinkUsed(MarketplaceError):
    code = "reset_link_used"
    status = 410
    template = (
        "このリンクはもう使えません（すでに使われたか、その後パスワードが変更されています）。"
        "必要なら、もう一度お申し込みください。"
    )


@dataclass(frozen=True)
class ResetTarget:
    """Whom to write to, and the link's claim."""

    user_id: int
    email: str
    shop_name: str
    session_version: int


@dataclass(frozen=True)
class ResetClaim:
    user_id: int
    session_version: int


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def reset_target(session: Session, email: str) -> ResetTarget | None:
    """The account a reset for `email` would go to, or None (unknown, inactive, shop closed)."""
    row = session.execute(
        select(ShopUser.id, ShopUser.email, ShopUser.session_version, Shop.business_name)
        .join(Shop, Shop.id == ShopUser.shop_id)
        .where(
            func.lower(ShopUser.email) == email.strip().lower(),
            ShopUser.active.is_(True),
            Shop.status.in_(SIGNED_IN_STATUSES),
        )
    ).first()
    if row is None:
        return None
    return ResetTarget(row.id, row.email, row.business_name, row.session_version)


def reset_token(secret: str, target: ResetTarget) -> str:
    return _serializer(secret).dumps([target.user_id, target.session_version])


def read_reset_token(secret: str, token: str, max_age: timedelta | None = None) -> ResetClaim:
    """The claim of a well-signed, unexpired link; raises ResetLinkInvalid or ResetLinkExpired."""
    max_age = max_age or timedelta(minutes=RESET_LINK_MINUTES)
    if len(token) > 200:
        raise ResetLinkInvalid()
    try:
        value = _serializer(secret).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise ResetLinkExpired(minutes=RESET_LINK_MINUTES) from None
    except BadSignature:
        raise ResetLinkInvalid() from None
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)):
        raise ResetLinkInvalid()
    return ResetClaim(user_id=value[0], session_version=value[1])


def check_reset_claim(session: Session, claim: ResetClaim) -> None:
    """Raise ResetLinkUsed unless the link can still set a password (shown before the form)."""
    row = session.execute(
        select(ShopUser.session_version)
        .join(Shop, Shop.id == ShopUser.shop_id)
        .where(
            ShopUser.id == claim.user_id,
            ShopUser.active.is_(True),
            Shop.status.in_(SIGNED_IN_STATUSES),
        )
    ).first()
    if row is None or row.session_version != claim.session_version:
        raise ResetLinkUsed()


def reset_password(session: Session, claim: ResetClaim, new_password: str) -> str:
    """Set the new password once and end every session; returns the account's email.

    The check and the change are one UPDATE, so two uses of one link cannot both succeed.
    """
    password_hash = hash_password(new_password)
    allowed_shops = select(Shop.id).where(Shop.status.in_(SIGNED_IN_STATUSES))
    email = session.scalar(
        update(ShopUser)
        .where(
            ShopUser.id == claim.user_id,
            ShopUser.session_version == claim.session_version,
            ShopUser.active.is_(True),
            ShopUser.shop_id.in_(allowed_shops),
        )
        .values(password_hash=password_hash, session_version=ShopUser.session_version + 1)
        .returning(ShopUser.email)
        .execution_options(synchronize_session=False)
    )
    if email is None:
        raise ResetLinkUsed()
    return str(email)


def change_password(session: Session, user_id: int, current: str, new: str) -> tuple[str, int]:
    """Check the current password and set the new one; returns the email and the new version.

    The caller's own session continues under the returned version; all others end.
    """
    user = session.get(ShopUser, user_id)
    if user is None or not verify_password(user.password_hash, current):
        raise InvalidInput("現在のパスワードが違います", field="current_password")
    if new == current:
        raise InvalidInput("新しいパスワードは現在のものと違うものにしてください", field="password")
    user.password_hash = hash_password(new)
    session.flush()
    return user.email, end_sessions(session, "shop", user.id)


def link_expiry(now: datetime) -> datetime:
    return now + timedelta(minutes=RESET_LINK_MINUTES)
