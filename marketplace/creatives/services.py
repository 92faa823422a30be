"""Creatives: validated content, immutable versions, and what may be shown.

Every edit adds a version that goes to review with its automatic pre-check flags. Older
unapproved versions are superseded; the approved one keeps running until a newer version is
approved, so an edit never takes a running ad off the portal or puts unreviewed text on it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.creatives.images import ProcessedImage
from marketplace.creatives.urls import validate_landing_url
from marketplace.db import utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.lifecycle import (
    BOOKING_TRANSITIONS,
    CREATIVE_TRANSITIONS,
    BookingStatus,
    CreativeKind,
    CreativeStatus,
    check_transition,
)
from marketplace.models import Booking, Creative, CreativeVersion, Placement
from marketplace.review.standards import Policy, precheck

HEADLINE_MAX: Final = 40
BODY_MAX: Final = 120
NAME_MAX: Final = 80


@dataclass(frozen=True)
class CreativeText:
    name: str
    headline: str
    body: str
    landing_url: str


def _clean(value: str) -> str:
    value = unicodedata.normalize("NFC", value or "").strip()
    return "".join(ch for ch in value if ch == "\n" or unicodedata.category(ch) != "Cc")


def parse_creative_text(name: str, headline: str, body: str, landing_url: str) -> CreativeText:
    name, headline, body = _clean(name), _clean(headline).replace("\n", " "), _clean(body)
    if not name:
        raise InvalidInput("素材名を入力してください", field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput("素材名は{n}文字以内で入力してください", field="name", n=NAME_MAX)
    if not headline:
        raise InvalidInput("見出しを入力してください", field="headline")
    if len(headline) > HEADLINE_MAX:
        raise InvalidInput(
            "見出しは{n}文字以内で入力してください", field="headline", n=HEADLINE_MAX
        )
    if len(body) > BODY_MAX:
        raise InvalidInput("本文は{n}文字以内で入力してください", field="body", n=BODY_MAX)
    # A shop without a website leaves the link empty: its ad then opens the shop's page.
    landing = validate_landing_url(landing_url) if (landing_url or "").strip() else ""
    return CreativeText(name, headline, body, landing)


def placement_problems(
    placement: Placement, version: CreativeVersion, kind: CreativeKind = CreativeKind.AD
) -> list[str]:
    """Why a version does not fit a placement's creative rules (empty when it fits).

    A flyer's card shows its first page in a frame of its own, so the placement's image rules
    (made for banners) do not apply to it; the text limits do.
    """
    problems = []
    if len(version.headline) > placement.headline_max_chars:
        problems.append(f"見出しは{placement.headline_max_chars}文字以内")
    if len(version.body) > placement.body_max_chars:
        problems.append(f"本文は{placement.body_max_chars}文字以内")
    if kind is CreativeKind.FLYER:
        return problems
    if len(version.image_data) > placement.max_image_bytes:
        problems.append(f"画像は{placement.max_image_bytes // 1000}KB以内")
    slot_aspect = placement.image_width / placement.image_height
    if abs(version.image_width / version.image_height - slot_aspect) > slot_aspect * 0.05:
        problems.append(f"画像の縦横比は {placement.image_width}:{placement.image_height}")
    if version.image_width < placement.image_width:
        problems.append(f"画像の幅は{placement.image_width}px以上")
    return problems


def shop_creative(session: Session, shop_id: int, creative_id: int) -> Creative:
    creative = session.get(Creative, creative_id)
    if creative is None or creative.shop_id != shop_id:
        raise NotFound("広告素材が見つかりません")
    return creative


def shop_creatives(session: Session, shop_id: int) -> list[Creative]:
    return list(
        session.scalars(
            select(Creative)
            .where(Creative.shop_id == shop_id, Creative.archived.is_(False))
            .order_by(Creative.id.desc())
        )
    )


def versions(session: Session, creative_id: int) -> list[CreativeVersion]:
    return list(
        session.scalars(
            select(CreativeVersion)
            .where(CreativeVersion.creative_id == creative_id)
            .order_by(CreativeVersion.version.desc())
        )
    )


def approved_version(session: Session, creative_id: int) -> CreativeVersion | None:
    """The only version that may be shown to residents, if any."""
    return session.scalar(
        select(CreativeVersion).where(
            CreativeVersion.creative_id == creative_id,
            CreativeVersion.status == CreativeStatus.APPROVED,
        )
    )


def add_version(
    session: Session,
    creative: Creative,
    text: CreativeText,
    image: ProcessedImage,
    policy: Policy,
    user_id: int | None,
    more_text: dict[str, str] | None = None,
) -> CreativeVersion:
    """A new version in review, older unapproved ones superseded. `more_text` is pre-checked
    along with the creative's own text (a flyer's pages: what is printed on them)."""
    now = utcnow()
    for older in versions(session, creative.id):
        if older.status in (
            CreativeStatus.DRAFT,
            CreativeStatus.IN_REVIEW,
            CreativeStatus.REJECTED,
        ):
            older.status = check_transition(
                "広告素材", CREATIVE_TRANSITIONS, older.status, CreativeStatus.SUPERSEDED
            )
    number = (
        session.scalar(
            select(func.max(CreativeVersion.version)).where(
                CreativeVersion.creative_id == creative.id
            )
        )
        or 0
    ) + 1
    flags = precheck(
        policy,
        {
            "headline": text.headline,
            "body": text.body,
            "landing_url": text.landing_url,
            **(more_text or {}),
        },
    )
    version = CreativeVersion(
        creative_id=creative.id,
        version=number,
        headline=text.headline,
        body=text.body,
        landing_url=text.landing_url,
        image_data=image.data,
        image_content_type=image.content_type,
        image_width=image.width,
        image_height=image.height,
        image_sha256=image.sha256,
        status=check_transition(
            "広告素材", CREATIVE_TRANSITIONS, CreativeStatus.DRAFT, CreativeStatus.IN_REVIEW
        ),
        precheck_flags=[flag.to_json() for flag in flags],
        created_by_user_id=user_id,
        created_at=now,
        submitted_at=now,
    )
    creative.name = text.name
    session.add(version)
    session.flush()
    return version


def resubmit_bookings(session: Session, creative_id: int) -> None:
    """Bookings that a rejection of this creative had stopped go back to review with it."""
    for booking in session.scalars(
        select(Booking).where(
            Booking.creative_id == creative_id, Booking.status == BookingStatus.REJECTED
        )
    ):
        booking.status = check_transition(
            "予約", BOOKING_TRANSITIONS, booking.status, BookingStatus.IN_REVIEW
        )
        booking.status_reason = ""


def create_creative(
    session: Session,
    shop_id: int,
    text: CreativeText,
    image: ProcessedImage,
    policy: Policy,
    user_id: int | None = None,
) -> CreativeVersion:
    creative = Creative(shop_id=shop_id, name=text.name)
    session.add(creative)
    session.flush()
    return add_version(session, creative, text, image, policy, user_id)


def edit_creative(
    session: Session,
    shop_id: int,
    creative_id: int,
    text: CreativeText,
    image: ProcessedImage | None,
    policy: Policy,
    user_id: int | None = None,
) -> CreativeVersion:
    """A new version; without a new image, the latest version's image is kept."""
    creative = shop_creative(session, shop_id, creative_id)
    if creative.kind is not CreativeKind.AD:
        raise NotFound("広告素材が見つかりません")  # a flyer is edited with its pages
    if image is None:
        latest = versions(session, creative.id)[0]
        image = ProcessedImage(
            latest.image_data, latest.image_content_type, latest.image_width, latest.image_height
        )
    version = add_version(session, creative, text, image, policy, user_id)
    resubmit_bookings(session, creative.id)
    return version


def version_with_owner(session: Session, version_id: int) -> tuple[CreativeVersion, int] | None:
    """A creative version and the id of the shop that owns it, or None."""
    version = session.get(CreativeVersion, version_id)
    if version is None:
        return None
    return version, session.get_one(Creative, version.creative_id).shop_id
