"""Use cases for city staff accounts."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.passwords import hash_password, needs_rehash, verify_password
from marketplace.db import utcnow
from marketplace.models import StaffUser
from marketplace.vocab import StaffRole

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffAlreadyExists(Exception):
    """`staff create` for an address already on staff (command line only, not a web error)."""


class InvalidEmail(ValueError):
    pass


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise InvalidEmail("メールアドレスの形式が正しくありません")
    return email


def create_staff(
    session: Session, email: str, display_name: str, password: str, role: StaffRole
) -> StaffUser:
    email = normalise_email(email)
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffAlreadyExists(email)
    staff = StaffUser(
        email=email, display_name=display_name, password_hash=hash_password(password), role=role
    )
    session.add(staff)
    session.flush()
    return staff


def authenticate_staff(session: Session, email: str, password: str) -> StaffUser | None:
    """The active staff user with these credentials, or None; always spends a hash check."""
    try:
        email = normalise_email(email)
    except InvalidEmail:
        verify_password(None, password)
        return None
    staff = session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == email, StaffUser.active.is_(True))
    )
    if not verify_password(staff.password_hash if staff else None, password) or staff is None:
        return None
    if needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    staff.last_login_at = utcnow()
    return staff
