"""The reviewers' side: the queue, and approve or reject decisions that are always audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit import Actor, record
from marketplace.bookings.controls import on_creative_approved, on_creative_rejected
from marketplace.db import utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.lifecycle import CREATIVE_TRANSITIONS, CreativeStatus, check_transition
from marketplace.locking import lock_by_id
from marketplace.models import Creative, CreativeVersion, Shop
from marketplace.review.standards import Policy

REASON_MAX = 1000


@dataclass(frozen=True)
class QueueItem:
    version: CreativeVersion
    creative: Creative
    shop: Shop


def review_queue(session: Session) -> list[QueueItem]:
    rows = session.execute(
        select(CreativeVersion, Creative, Shop)
        .join(Creative, Creative.id == CreativeVersion.creative_id)
        .join(Shop, Shop.id == Creative.shop_id)
        .where(CreativeVersion.status == CreativeStatus.IN_REVIEW)
        .order_by(CreativeVersion.submitted_at, CreativeVersion.id)
    ).all()
    return [QueueItem(version, creative, shop) for version, creative, shop in rows]


def review_item(session: Session, version_id: int) -> QueueItem:
    row = session.execute(
        select(CreativeVersion, Creative, Shop)
        .join(Creative, Creative.id == CreativeVersion.creative_id)
        .join(Shop, Shop.id == Creative.shop_id)
        .where(CreativeVersion.id == version_id)
    ).first()
    if row is None:
        raise NotFound("広告素材が見つかりません")
    return QueueItem(row[0], row[1], row[2])


def _lock_version(session: Session, version_id: int) -> CreativeVersion:
    version = lock_by_id(session, CreativeVersion, version_id)
    if version is None:
        raise NotFound("広告素材が見つかりません")
    return version


def approve_version(
    session: Session, version_id: int, actor: Actor, note: str = "", now: datetime | None = None
) -> CreativeVersion:
    """Approve; the previously approved version of the creative is superseded."""
    now = now or utcnow()
    version = _lock_version(session, version_id)
    check_transition("広告素材", CREATIVE_TRANSITIONS, version.status, CreativeStatus.APPROVED)
    previous = session.scalar(
        select(CreativeVersion).where(
            CreativeVersion.creative_id == version.creative_id,
            CreativeVersion.status == CreativeStatus.APPROVED,
        )
    )
    if previous is not None:
        previous.status = check_transition(
            "広告素材", CREATIVE_TRANSITIONS, previous.status, CreativeStatus.SUPERSEDED
        )
        # The partial unique index allows one approved version: retire the old one first.
        session.flush()
    version.status = CreativeStatus.APPROVED
    version.decided_at = now
    version.decided_by_staff_id = actor.id
    version.decision_reason = note.strip()[:REASON_MAX]
    creative = session.get_one(Creative, version.creative_id)
    record(
        session,
        actor,
        "creative_approved",
        "creative_version",
        version.id,
        shop_id=creative.shop_id,
        creative_version_id=version.id,
        reason=version.decision_reason,
        flags=len(version.precheck_flags),
        superseded=previous.id if previous else None,
    )
    on_creative_approved(session, version.creative_id, now)
    return version


def reject_version(
    session: Session,
    version_id: int,
    actor: Actor,
    rule_id: str,
    reason: str,
    policy: Policy,
    now: datetime | None = None,
) -> CreativeVersion:
    """Reject with the ad-standards rule broken (or "other") and a reason the shop will read."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("却下の理由を入力してください(お店に表示されます)", field="reason")
    if rule_id != "other" and policy.rule(rule_id) is None:
        raise InvalidInput("該当する基準を一覧から選んでください", field="rule")
    version = _lock_version(session, version_id)
    version.status = check_transition(
        "広告素材", CREATIVE_TRANSITIONS, version.status, CreativeStatus.REJECTED
    )
    rule = policy.rule(rule_id)
    label = rule.label if rule else "その他"
    version.decided_at = now or utcnow()
    version.decided_by_staff_id = actor.id
    version.decision_reason = f"【{label}】{reason}"[:REASON_MAX]
    creative = session.get_one(Creative, version.creative_id)
    record(
        session,
        actor,
        "creative_rejected",
        "creative_version",
        version.id,
        shop_id=creative.shop_id,
        creative_version_id=version.id,
        rule=rule_id,
        reason=reason,
        policy_digest=policy.digest,
    )
    on_creative_rejected(session, version.creative_id, version.decision_reason)
    return version
