"""Signed-in sessions that end when they should: one session version per account.

A login records the account's `session_version` in its cookie. Each request checks the cookie's
version against the account's (`live_shop_login`, `live_staff_login`); raising the version
(`end_sessions`) ends every session of that account at once: logout, a new password, a reset.
A shop that is suspended or closed, or an account made inactive, fails the check as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.models import Shop, ShopUser, StaffUser
from marketplace.vocab import ShopStatus, StaffRole

AccountKind = Literal["shop", "staff"]
# The shop statuses whose people may be signed in (a pending shop prepares its ads).
SIGNED_IN_STATUSES = frozenset({ShopStatus.PENDING, ShopStatus.APPROVED})


@dataclass(frozen=True)
class LiveShopLogin:
    shop_id: int
    session_version: int
    shop_name: str


@dataclass(frozen=True)
class LiveStaffLogin:
    session_version: int
    role: StaffRole
    display_name: str


def live_shop_login(session: Session, user_id: int) -> LiveShopLogin | None:
    """The shop user's current session version and shop, or None if it may not be signed in."""
    row = session.execute(
        select(ShopUser.session_version, ShopUser.shop_id, Shop.business_name, Shop.status)
        .join(Shop, Shop.id == ShopUser.shop_id)
        .where(ShopUser.id == user_id, ShopUser.active.is_(True))
    ).first()
    if row is None or row.status not in SIGNED_IN_STATUSES:
        return None
    return LiveShopLogin(row.shop_id, row.session_version, row.business_name)


def live_staff_login(session: Session, staff_id: int) -> LiveStaffLogin | None:
    """The staff member's current session version and role, or None if no longer active."""
    row = session.execute(
        select(StaffUser.session_version, StaffUser.role, StaffUser.display_name).where(
            StaffUser.id == staff_id, StaffUser.active.is_(True)
        )
    ).first()
    return None if row is None else LiveStaffLogin(row[0], row[1], row[2])


def end_sessions(session: Session, kind: AccountKind, account_id: int) -> int:
    """End every session of one account; returns the new version (for a session to continue)."""
    model = ShopUser if kind == "shop" else StaffUser
    new_version = session.scalar(
        update(model)
        .where(model.id == account_id)
        .values(session_version=model.session_version + 1)
        .returning(model.session_version)
    )
    if new_version is None:
        raise LookupError(f"no {kind} account {account_id}")
    return int(new_version)


def end_shop_sessions(session: Session, shop_id: int) -> None:
    """End every session of every person of one shop (suspension, closing)."""
    session.execute(
        update(ShopUser)
        .where(ShopUser.shop_id == shop_id)
        .values(session_version=ShopUser.session_version + 1)
    )
