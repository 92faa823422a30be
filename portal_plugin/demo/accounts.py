"""Demo accounts with documented passwords, so a newcomer can sign in as staff or as a shop.

Only the demo seeds them (`portal-marketplace seed`); the README lists them. The shop account
belongs to the first demo shop that has a live campaign, so its pages show bookings, invoices
and reports from the first start. Idempotent: an address that already exists is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.passwords import hash_password
from marketplace.accounts.staff import create_staff
from marketplace.lifecycle import ShopUserRole
from marketplace.models import Booking, Shop, ShopUser, StaffUser
from marketplace.vocab import ShopStatus, StaffRole
from portal_plugin.demo.campaigns import DEMO_KEY_PREFIX

# Public on purpose: the README prints them. A real installation creates its own accounts.
DEMO_PASSWORD: Final = "aizu-demo-password"
DEMO_SHOP_EMAIL: Final = "shop@demo.example.jp"


@dataclass(frozen=True)
class DemoStaff:
    role: StaffRole
    email: str
    name: str


DEMO_STAFF: Final = (
    DemoStaff(StaffRole.ADMIN, "admin@demo.example.jp", "デモ 管理者"),
    DemoStaff(StaffRole.REVIEWER, "reviewer@demo.example.jp", "デモ 審査担当"),
    DemoStaff(StaffRole.FINANCE, "finance@demo.example.jp", "デモ 会計担当"),
)


def demo_shop(session: Session) -> Shop | None:
    """The shop the demo shop account signs in to: the first with a demo campaign."""
    return session.scalar(
        select(Shop)
        .join(Booking, Booking.shop_id == Shop.id)
        .where(Shop.status == ShopStatus.APPROVED)
        .where(Booking.idempotency_key.startswith(DEMO_KEY_PREFIX))
        .order_by(Booking.id)
        .limit(1)
    )


def seed_demo_accounts(session: Session) -> int:
    """Create the demo's staff and shop accounts that do not exist yet; returns how many."""
    made = 0
    for staff in DEMO_STAFF:
        if session.scalar(select(StaffUser.id).where(StaffUser.email == staff.email)) is None:
            create_staff(session, staff.email, staff.name, DEMO_PASSWORD, staff.role)
            made += 1
    taken = session.scalar(select(ShopUser.id).where(func.lower(ShopUser.email) == DEMO_SHOP_EMAIL))
    shop = None if taken is not None else demo_shop(session)
    if shop is not None:
        session.add(
            ShopUser(
                shop_id=shop.id,
                email=DEMO_SHOP_EMAIL,
                password_hash=hash_password(DEMO_PASSWORD),
                role=ShopUserRole.OWNER,
            )
        )
        session.flush()
        made += 1
    return made
