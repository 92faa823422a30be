"""Flyers: creatives of kind `flyer`, with their pages and dates, and what residents may see.

A flyer goes through the creatives' own machinery (versions, review, the pre-check, bookings),
so everything that holds for an ad holds for it. What is added: the pages, whose printed text
is pre-checked with the title, and the 掲載期間 outside which nobody but the shop and the city
sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.creatives.images import ProcessedImage
from marketplace.creatives.services import (
    CreativeText,
    add_version,
    resubmit_bookings,
    versions,
)
from marketplace.errors import InvalidInput, NotFound
from marketplace.flyers.files import FlyerFile, PageFile
from marketplace.flyers.periods import FlyerPeriods, every_week_shown
from marketplace.lifecycle import CreativeKind, CreativeStatus
from marketplace.models import Creative, CreativeVersion, FlyerPage, Shop
from marketplace.review.standards import Policy
from marketplace.vocab import ShopStatus

# The pre-check reads this much of each page's text (a whole printed flyer is short).
PRECHECK_CHARS = 5_000


@dataclass(frozen=True)
class PublicFlyer:
    creative: Creative
    version: CreativeVersion
    shop: Shop
    pages: list[FlyerPage]


def periods_of(version: CreativeVersion) -> FlyerPeriods | None:
    if version.shown_from is None or version.shown_until is None:
        return None
    return FlyerPeriods(
        version.shown_from, version.shown_until, version.sale_from, version.sale_until
    )


def _add_flyer_version(
    session: Session,
    creative: Creative,
    text: CreativeText,
    periods: FlyerPeriods,
    file: FlyerFile,
    policy: Policy,
    user_id: int | None,
) -> CreativeVersion:
    printed = {
        f"page_{number}": page.text[:PRECHECK_CHARS]
        for number, page in enumerate(file.pages, start=1)
        if page.text
    }
    version = add_version(session, creative, text, file.thumbnail, policy, user_id, printed)
    version.shown_from, version.shown_until = periods.shown_from, periods.shown_until
    version.sale_from, version.sale_until = periods.sale_from, periods.sale_until
    for number, page in enumerate(file.pages, start=1):
        session.add(
            FlyerPage(
                creative_version_id=version.id,
                number=number,
                image_data=page.image.data,
                image_content_type=page.image.content_type,
                image_width=page.image.width,
                image_height=page.image.height,
                image_sha256=page.image.sha256,
                text=page.text,
            )
        )
    session.flush()
    return version


def create_flyer(
    session: Session,
    shop_id: int,
    text: CreativeText,
    periods: FlyerPeriods,
    file: FlyerFile,
    policy: Policy,
    user_id: int | None = None,
) -> CreativeVersion:
    creative = Creative(shop_id=shop_id, name=text.name, kind=CreativeKind.FLYER)
    session.add(creative)
    session.flush()
    return _add_flyer_version(session, creative, text, periods, file, policy, user_id)


def shop_flyer(session: Session, shop_id: int, creative_id: int) -> Creative:
    creative = session.get(Creative, creative_id)
    if creative is None or creative.shop_id != shop_id or creative.kind is not CreativeKind.FLYER:
        raise NotFound("チラシが見つかりません")
    return creative


def edit_flyer(
    session: Session,
    shop_id: int,
    creative_id: int,
    text: CreativeText,
    periods: FlyerPeriods,
    file: FlyerFile | None,
    policy: Policy,
    user_id: int | None = None,
) -> CreativeVersion:
    """A new version for review; without a new file, the latest version's pages are kept."""
    creative = shop_flyer(session, shop_id, creative_id)
    if file is None:
        file = _file_of(session, versions(session, creative.id)[0])
    version = _add_flyer_version(session, creative, text, periods, file, policy, user_id)
    resubmit_bookings(session, creative.id)
    return version


def _file_of(session: Session, version: CreativeVersion) -> FlyerFile:
    pages = tuple(
        PageFile(
            ProcessedImage(
                page.image_data, page.image_content_type, page.image_width, page.image_height
            ),
            page.text,
        )
        for page in flyer_pages(session, version.id)
    )
    thumbnail = ProcessedImage(
        version.image_data, version.image_content_type, version.image_width, version.image_height
    )
    return FlyerFile(pages, thumbnail)


def flyer_pages(session: Session, version_id: int) -> list[FlyerPage]:
    return list(
        session.scalars(
            select(FlyerPage)
            .where(FlyerPage.creative_version_id == version_id)
            .order_by(FlyerPage.number)
        )
    )


@dataclass(frozen=True)
class PageAccess:
    page: FlyerPage
    version: CreativeVersion
    shop_id: int


def page_with_owner(session: Session, version_id: int, number: int) -> PageAccess | None:
    row = session.execute(
        select(FlyerPage, CreativeVersion, Creative.shop_id)
        .join(CreativeVersion, CreativeVersion.id == FlyerPage.creative_version_id)
        .join(Creative, Creative.id == CreativeVersion.creative_id)
        .where(FlyerPage.creative_version_id == version_id, FlyerPage.number == number)
    ).first()
    return None if row is None else PageAccess(row[0], row[1], int(row[2]))


def is_public(version: CreativeVersion, today: date) -> bool:
    """Approved and within its 掲載期間: what anyone may see."""
    periods = periods_of(version)
    return version.status is CreativeStatus.APPROVED and (
        periods is None or periods.shown_on(today)
    )


def public_flyer(session: Session, creative_id: int, today: date) -> PublicFlyer:
    """The flyer as residents see it; NotFound when it is not approved, not (or no longer)
    within its 掲載期間, or its shop is not approved."""
    row = session.execute(
        select(Creative, CreativeVersion, Shop)
        .join(CreativeVersion, CreativeVersion.creative_id == Creative.id)
        .join(Shop, Shop.id == Creative.shop_id)
        .where(
            Creative.id == creative_id,
            Creative.kind == CreativeKind.FLYER,
            Creative.archived.is_(False),
            CreativeVersion.status == CreativeStatus.APPROVED,
            Shop.status == ShopStatus.APPROVED,
        )
    ).first()
    if row is None or not is_public(row[1], today):
        raise NotFound("このチラシは掲載期間が終わったか、掲載されていません")
    creative, version, shop = row
    return PublicFlyer(creative, version, shop, flyer_pages(session, version.id))


def current_flyers(session: Session, shop_id: int, today: date) -> list[CreativeVersion]:
    """A shop's approved flyers within their 掲載期間, the newest first."""
    return list(
        session.scalars(
            select(CreativeVersion)
            .join(Creative, Creative.id == CreativeVersion.creative_id)
            .where(
                Creative.shop_id == shop_id,
                Creative.kind == CreativeKind.FLYER,
                Creative.archived.is_(False),
                CreativeVersion.status == CreativeStatus.APPROVED,
                CreativeVersion.shown_from <= today,
                CreativeVersion.shown_until >= today,
            )
            .order_by(CreativeVersion.shown_from.desc(), CreativeVersion.id.desc())
        )
    )


def check_flyer_weeks(
    session: Session, creative_id: int | None, first_week: date, last_week: date
) -> None:
    """A flyer may be booked only for weeks in which it is shown (its latest version's dates)."""
    if creative_id is None:
        return
    creative = session.get(Creative, creative_id)
    if creative is None or creative.kind is not CreativeKind.FLYER:
        return
    latest = versions(session, creative_id)
    periods = periods_of(latest[0]) if latest else None
    if periods is not None and not every_week_shown(periods, first_week, last_week):
        raise InvalidInput(
            "チラシの掲載期間({start}〜{end})に1日もかからない週は申し込めません",
            field="creative_id",
            start=periods.shown_from.isoformat(),
            end=periods.shown_until.isoformat(),
        )
