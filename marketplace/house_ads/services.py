"""House ads: staff create, edit, schedule and retire the city's own ads; serving reads the live.

Services take a Session and primitives; the caller owns the transaction. Days are Tokyo days:
a house ad runs from the start of its first day to the end of its last (open-ended without one).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from marketplace.audit import Actor, record
from marketplace.calendar import start_of_tokyo_day, tokyo_date
from marketplace.creatives.urls import MAX_URL_LENGTH, validate_landing_url
from marketplace.db import utcnow
from marketplace.delivery.house import HouseAdCard, Surface
from marketplace.errors import InvalidInput, NotFound
from marketplace.models import HouseAd, HouseAdCount

HEADLINE_MAX = 30
BODY_MAX = 80
# A path on the portal's own site: /…, not //host (another site) and no scheme.
_SITE_PATH = re.compile(r"/(?!/)[A-Za-z0-9\-._~!$&'()*+,;=:@%/?#]*")


class HouseAdStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    RETIRED = "retired"


STATUS_LABELS: dict[HouseAdStatus, str] = {
    HouseAdStatus.SCHEDULED: "掲載予定",
    HouseAdStatus.LIVE: "掲載中",
    HouseAdStatus.ENDED: "掲載終了",
    HouseAdStatus.RETIRED: "取り下げ",
}


@dataclass(frozen=True)
class HouseAdInput:
    headline: str
    body: str
    link_url: str
    in_feed: bool
    side: bool
    first_day: date
    last_day: date | None

    @property
    def starts_at(self) -> datetime:
        return start_of_tokyo_day(self.first_day)

    @property
    def ends_at(self) -> datetime | None:
        if self.last_day is None:
            return None
        return start_of_tokyo_day(self.last_day + timedelta(days=1))


def _day(raw: Any, field: str, label: str) -> date | None:
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "{label}は YYYY-MM-DD の形で入力してください", field=field, label=label
        ) from None


def parse_link(raw: Any) -> str:
    """https:// to a public host, or a path on the portal's own site (/marketplace/shop/signup)."""
    link = str(raw or "").strip()
    if link.startswith("/"):
        if len(link) > MAX_URL_LENGTH or not _SITE_PATH.fullmatch(link):
            raise InvalidInput(
                "リンク先は https:// で始まるURLか、/ で始まるこのサイト内のパスにしてください",
                field="link_url",
            )
        return link
    try:
        return validate_landing_url(link)
    except InvalidInput as exc:
        exc.field = "link_url"
        raise


def parse_house_ad(data: Mapping[str, Any], today: date) -> HouseAdInput:
    """Validate staff input; InvalidInput names the field."""
    headline = " ".join(str(data.get("headline") or "").split())
    if not headline:
        raise InvalidInput("見出しを入力してください", field="headline")
    if len(headline) > HEADLINE_MAX:
        raise InvalidInput(
            "見出しは{n}文字以内で入力してください", field="headline", n=HEADLINE_MAX
        )
    body = str(data.get("body") or "").strip()
    if len(body) > BODY_MAX:
        raise InvalidInput("本文は{n}文字以内で入力してください", field="body", n=BODY_MAX)
    in_feed, side = bool(data.get("in_feed")), bool(data.get("side"))
    if not (in_feed or side):
        raise InvalidInput("表示する場所を1つ以上選んでください", field="in_feed")
    first_day = _day(data.get("first_day"), "first_day", "掲載開始日") or today
    last_day = _day(data.get("last_day"), "last_day", "掲載終了日")
    if last_day is not None and last_day < first_day:
        raise InvalidInput("掲載終了日は開始日以降にしてください", field="last_day")
    return HouseAdInput(
        headline, body, parse_link(data.get("link_url")), in_feed, side, first_day, last_day
    )


def status_of(ad: HouseAd, now: datetime) -> HouseAdStatus:
    if ad.retired_at is not None:
        return HouseAdStatus.RETIRED
    if ad.ends_at is not None and ad.ends_at <= now:
        return HouseAdStatus.ENDED
    return HouseAdStatus.LIVE if ad.starts_at <= now else HouseAdStatus.SCHEDULED


def _columns(values: HouseAdInput) -> dict[str, Any]:
    return {
        "headline": values.headline,
        "body": values.body,
        "link_url": values.link_url,
        "in_feed": values.in_feed,
        "side": values.side,
        "starts_at": values.starts_at,
        "ends_at": values.ends_at,
    }


def create_house_ad(session: Session, values: HouseAdInput, actor: Actor) -> HouseAd:
    ad = HouseAd(**_columns(values), created_by_staff_id=actor.id)
    session.add(ad)
    session.flush()
    record(session, actor, "house_ad_created", "house_ad", ad.id, headline=ad.headline)
    return ad


def get_house_ad(session: Session, house_ad_id: int) -> HouseAd:
    ad = session.get(HouseAd, house_ad_id)
    if ad is None:
        raise NotFound("市のお知らせ枠が見つかりません")
    return ad


def update_house_ad(
    session: Session, house_ad_id: int, values: HouseAdInput, actor: Actor
) -> HouseAd:
    ad = get_house_ad(session, house_ad_id)
    if ad.retired_at is not None:
        raise InvalidInput("取り下げたお知らせは編集できません。新しく作成してください")
    columns = _columns(values)
    changed = {k: str(v) for k, v in columns.items() if getattr(ad, k) != v}
    for key, value in columns.items():
        setattr(ad, key, value)
    record(session, actor, "house_ad_updated", "house_ad", ad.id, changes=changed)
    return ad


def retire_house_ad(
    session: Session, house_ad_id: int, actor: Actor, now: datetime | None = None
) -> HouseAd:
    """Take a house ad down for good (it stays listed, with its counts)."""
    ad = get_house_ad(session, house_ad_id)
    if ad.retired_at is None:
        ad.retired_at = now or utcnow()
        record(session, actor, "house_ad_retired", "house_ad", ad.id, headline=ad.headline)
    return ad


def list_house_ads(session: Session) -> list[HouseAd]:
    return list(session.scalars(select(HouseAd).order_by(HouseAd.starts_at.desc(), HouseAd.id)))


def live_house_ads(session: Session, now: datetime) -> tuple[HouseAdCard, ...]:
    """The house ads serving may show now, oldest first (the order they take turns in)."""
    rows = session.execute(
        select(
            HouseAd.id,
            HouseAd.headline,
            HouseAd.body,
            HouseAd.link_url,
            HouseAd.in_feed,
            HouseAd.side,
        )
        .where(HouseAd.retired_at.is_(None), HouseAd.starts_at <= now)
        .where(or_(HouseAd.ends_at.is_(None), HouseAd.ends_at > now))
        .order_by(HouseAd.id)
    ).tuples()
    return tuple(HouseAdCard(*row) for row in rows)


@dataclass(frozen=True)
class HouseAdTotals:
    shown: int = 0
    views: int = 0


def house_ad_totals(session: Session, since: datetime) -> dict[int, dict[Surface, HouseAdTotals]]:
    """Times placed and seen per house ad and surface since `since` (the city's own figures)."""
    rows = session.execute(
        select(
            HouseAdCount.house_ad_id,
            HouseAdCount.surface,
            func.sum(HouseAdCount.shown),
            func.sum(HouseAdCount.views),
        )
        .where(HouseAdCount.hour_start >= since)
        .group_by(HouseAdCount.house_ad_id, HouseAdCount.surface)
    ).tuples()
    totals: dict[int, dict[Surface, HouseAdTotals]] = {}
    for house_ad_id, surface, shown, views in rows:
        totals.setdefault(house_ad_id, {})[Surface(surface)] = HouseAdTotals(
            int(shown or 0), int(views or 0)
        )
    return totals


def first_day_of(ad: HouseAd) -> date:
    return tokyo_date(ad.starts_at)


def last_day_of(ad: HouseAd) -> date | None:
    return None if ad.ends_at is None else tokyo_date(ad.ends_at) - timedelta(days=1)
