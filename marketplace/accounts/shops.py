"""Shop sign-up, login, staff approval and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.passwords import hash_password, needs_rehash, verify_password
from marketplace.accounts.sessions import SIGNED_IN_STATUSES, end_shop_sessions
from marketplace.accounts.shop_names import ask_for_rename, renames_need_review
from marketplace.accounts.shop_profile import ShopProfile
from marketplace.audit import Actor, record
from marketplace.db import utcnow
from marketplace.errors import AlreadyExists, InvalidInput, NotFound
from marketplace.lifecycle import ShopUserRole
from marketplace.models import Shop, ShopApiToken, ShopUser
from marketplace.vocab import ShopStatus

TOKEN_PREFIX: Final = "pmk_"
LOGIN_ALLOWED: Final = SIGNED_IN_STATUSES


@dataclass(frozen=True)
class ShopLogin:
    user_id: int
    shop_id: int
    role: ShopUserRole
    shop_name: str
    session_version: int


def sign_up_shop(session: Session, email: str, password: str, profile: ShopProfile) -> ShopUser:
    """Create a pending shop and its owner account. Staff approve the shop before it books.

    The password is hashed before the address is looked up, so a taken address (AlreadyExists)
    costs as long as a new account and the answer's timing does not tell which it was.
    """
    password_hash = hash_password(password)
    if session.scalar(select(ShopUser.id).where(func.lower(ShopUser.email) == email)) is not None:
        raise AlreadyExists("このメールアドレスはすでに登録されています", field="email")
    shop = Shop(
        business_name=profile.business_name,
        business_name_kana=profile.business_name_kana,
        category=profile.category,
        district=profile.district,
        in_city=profile.in_city,
        contact_name=profile.contact_name,
        contact_email=email,
        contact_phone=profile.contact_phone,
        invoice_registration_number=profile.invoice_registration_number,
        status=ShopStatus.PENDING,
    )
    session.add(shop)
    session.flush()
    user = ShopUser(
        shop_id=shop.id, email=email, password_hash=password_hash, role=ShopUserRole.OWNER
    )
    session.add(user)
    session.flush()
    return user


def authenticate_shop_user(session: Session, email: str, password: str) -> ShopLogin | None:
    """The login for these credentials, or None; always spends one hash verification."""
    email = email.strip().lower()
    row = session.execute(
        select(ShopUser, Shop)
        .join(Shop, Shop.id == ShopUser.shop_id)
        .where(func.lower(ShopUser.email) == email, ShopUser.active.is_(True))
    ).first()
    user, shop = (row[0], row[1]) if row else (None, None)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if user is None or shop is None or shop.status not in LOGIN_ALLOWED:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return ShopLogin(user.id, shop.id, user.role, shop.business_name, user.session_version)


def pending_shops(session: Session) -> list[Shop]:
    return list(
        session.scalars(select(Shop).where(Shop.status == ShopStatus.PENDING).order_by(Shop.id))
    )


SHOP_DECISIONS: Final = {
    "approve": ({ShopStatus.PENDING, ShopStatus.SUSPENDED}, ShopStatus.APPROVED),
    "suspend": ({ShopStatus.PENDING, ShopStatus.APPROVED}, ShopStatus.SUSPENDED),
    "close": ({ShopStatus.PENDING, ShopStatus.APPROVED, ShopStatus.SUSPENDED}, ShopStatus.CLOSED),
}


def decide_shop(
    session: Session, shop_id: int, decision: str, actor: Actor, reason: str = ""
) -> Shop:
    """Staff approve, suspend or close a shop; every decision is audited."""
    if decision not in SHOP_DECISIONS:
        raise InvalidInput("操作が正しくありません", field="decision")
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("お店が見つかりません")
    allowed_from, target = SHOP_DECISIONS[decision]
    if shop.status not in allowed_from:
        raise InvalidInput(
            "現在の状態({status})ではこの操作はできません", field="decision", status=shop.status
        )
    if decision != "approve" and not reason.strip():
        raise InvalidInput("理由を入力してください", field="reason")
    shop.status = target
    details: dict[str, Any] = {}
    if target not in LOGIN_ALLOWED:
        # Its people are signed out everywhere and its software's tokens stop for good (a shop
        # approved again signs in and makes new ones).
        end_shop_sessions(session, shop.id)
        details["tokens_revoked"] = revoke_all_api_tokens(session, shop.id)
    record(
        session,
        actor,
        f"shop_{decision}",
        "shop",
        shop.id,
        shop_id=shop.id,
        reason=reason.strip(),
        **details,
    )
    return shop


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(
    session: Session, shop_id: int, user_id: int | None, name: str
) -> tuple[ShopApiToken, str]:
    """A new token; the secret is returned once and only its hash is stored."""
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise InvalidInput("トークン名は1〜80文字で入力してください", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ShopApiToken(
        shop_id=shop_id,
        created_by_user_id=user_id,
        name=name,
        prefix=secret[:12],
        token_hash=_token_hash(secret),
    )
    session.add(token)
    session.flush()
    return token, secret


def shop_tokens(session: Session, shop_id: int) -> list[ShopApiToken]:
    return list(
        session.scalars(
            select(ShopApiToken).where(ShopApiToken.shop_id == shop_id).order_by(ShopApiToken.id)
        )
    )


def revoke_api_token(session: Session, shop_id: int, token_id: int) -> None:
    token = session.get(ShopApiToken, token_id)
    if token is None or token.shop_id != shop_id:
        raise NotFound("トークンが見つかりません")
    token.revoked_at = token.revoked_at or utcnow()


def revoke_all_api_tokens(session: Session, shop_id: int) -> int:
    """Revoke every live token of a shop; returns how many were live."""
    now = utcnow()
    tokens = session.scalars(
        select(ShopApiToken).where(
            ShopApiToken.shop_id == shop_id, ShopApiToken.revoked_at.is_(None)
        )
    ).all()
    for token in tokens:
        token.revoked_at = now
    return len(tokens)


def authenticate_token(session: Session, secret: str, now: datetime | None = None) -> int | None:
    """The shop id for a live token of a shop allowed to log in, else None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        return None
    row = session.execute(
        select(ShopApiToken, Shop.status)
        .join(Shop, Shop.id == ShopApiToken.shop_id)
        .where(ShopApiToken.token_hash == _token_hash(secret), ShopApiToken.revoked_at.is_(None))
    ).first()
    if row is None or row[1] not in LOGIN_ALLOWED:
        return None
    row[0].last_used_at = now or utcnow()
    return row[0].shop_id


PROFILE_FIELDS: Final = (
    "business_name",
    "business_name_kana",
    "category",
    "district",
    "contact_name",
    "contact_phone",
    "invoice_registration_number",
)


NAME_FIELDS: Final = ("business_name", "business_name_kana")


def update_profile(
    session: Session, shop_id: int, profile: ShopProfile, actor: Actor, now: datetime | None = None
) -> Shop:
    """A shop edits its own profile; the change is audited. Prices already quoted stay.

    A shop that residents already see by name (approved, or advertising) does not rename itself:
    the new name waits for staff review (`shop_names.ask_for_rename`). The caller has checked
    the name against the ad standards (`shop_names.check_shop_name`).
    """
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("お店が見つかりません")
    reviewed = renames_need_review(session, shop)
    changes = {}
    for field in PROFILE_FIELDS:
        if reviewed and field in NAME_FIELDS:
            continue
        new = getattr(profile, field)
        if getattr(shop, field) != new:
            changes[field] = str(new)
            setattr(shop, field, new)
    shop.in_city = profile.in_city
    if reviewed:
        ask_for_rename(
            session,
            shop,
            profile.business_name,
            profile.business_name_kana,
            actor,
            now or utcnow(),
        )
    if changes:
        record(
            session,
            actor,
            "shop_profile_updated",
            "shop",
            shop.id,
            shop_id=shop.id,
            changes=changes,
        )
    return shop


def shop_profile_values(session: Session, shop_id: int) -> dict[str, str]:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("お店が見つかりません")
    values = {field: getattr(shop, field) or "" for field in PROFILE_FIELDS}
    # The form shows the name asked for, so saving other fields keeps the request.
    if shop.pending_business_name is not None:
        values["current_name"] = shop.business_name
        values["business_name"] = shop.pending_business_name
        values["business_name_kana"] = shop.pending_business_name_kana or ""
    values["email"] = shop.contact_email
    values["status"] = shop.status.value
    return values
