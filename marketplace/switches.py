"""Portal-wide switches. Disaster mode suppresses every ad at once (delivery reads it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit import Actor, record
from marketplace.db import utcnow
from marketplace.models import PortalSettings

SETTINGS_ROW_ID = 1


def portal_settings(session: Session) -> PortalSettings:
    row = session.get(PortalSettings, SETTINGS_ROW_ID)
    if row is None:
        # The migration inserts the row; recreate it if someone deleted it.
        row = PortalSettings(id=SETTINGS_ROW_ID, disaster_mode=False, disaster_message="")
        session.add(row)
        session.flush()
    return row


def is_disaster_mode(session: Session) -> bool:
    """True while the city has switched every ad off."""
    value = session.scalar(
        select(PortalSettings.disaster_mode).where(PortalSettings.id == SETTINGS_ROW_ID)
    )
    return bool(value)


def set_disaster_mode(
    session: Session, actor: Actor, enabled: bool, message: str = "", now: datetime | None = None
) -> PortalSettings:
    row = portal_settings(session)
    row.disaster_mode = enabled
    row.disaster_message = message.strip()[:500] if enabled else ""
    row.disaster_mode_changed_at = now or utcnow()
    row.disaster_mode_changed_by_staff_id = actor.id
    record(
        session,
        actor,
        "disaster_mode_on" if enabled else "disaster_mode_off",
        "portal_settings",
        SETTINGS_ROW_ID,
        reason=row.disaster_message,
        at=row.disaster_mode_changed_at,
    )
    return row
