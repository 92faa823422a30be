"""Writing to and reading the append-only audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.lifecycle import ActorKind
from marketplace.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None
    name: str = ""


SYSTEM = Actor(ActorKind.SYSTEM, None, "system")


def record(
    session: Session,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: int | None,
    *,
    shop_id: int | None = None,
    creative_version_id: int | None = None,
    rule: str = "",
    reason: str = "",
    at: datetime | None = None,
    **details: Any,
) -> AuditEntry:
    """Append one entry; `at` is when it happened (now, unless the caller was given a clock)."""
    entry = AuditEntry(
        occurred_at=at or utcnow(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name[:120],
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        shop_id=shop_id,
        creative_version_id=creative_version_id,
        rule=rule[:120],
        reason=reason,
        details=details,
    )
    session.add(entry)
    session.flush()
    return entry


def recent_entries(
    session: Session, *, limit: int = 200, subject_type: str | None = None
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if subject_type:
        query = query.where(AuditEntry.subject_type == subject_type)
    return list(session.scalars(query))
