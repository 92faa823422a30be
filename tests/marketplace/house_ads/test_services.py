from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from marketplace.audit import Actor
from marketplace.calendar import start_of_tokyo_day
from marketplace.delivery.house import HouseAdCard, Surface
from marketplace.errors import InvalidInput
from marketplace.house_ads.counting import HouseAdCounter
from marketplace.house_ads.services import (
    HouseAdStatus,
    create_house_ad,
    house_ad_totals,
    last_day_of,
    live_house_ads,
    parse_house_ad,
    retire_house_ad,
    status_of,
    update_house_ad,
)
from marketplace.lifecycle import ActorKind
from marketplace.models import AuditEntry, HouseAd, HouseAdCount

STAFF = Actor(ActorKind.STAFF, None, "広報 一郎")
TODAY = date(2026, 12, 7)  # a Monday
NOON = start_of_tokyo_day(TODAY) + timedelta(hours=12)


def form(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "headline": "広告募集中",
        "body": "地域のお店の広告を募集しています。",
        "link_url": "/marketplace/shop/signup",
        "in_feed": "1",
        "side": "1",
        "first_day": "",
        "last_day": "",
    }
    values.update(changes)
    return values


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"headline": "  "}, "headline", "見出しを入力してください"),
        ({"headline": "あ" * 31}, "headline", "見出しは30文字以内"),
        ({"body": "あ" * 81}, "body", "本文は80文字以内"),
        ({"in_feed": "", "side": ""}, "in_feed", "表示する場所を1つ以上"),
        ({"link_url": "javascript:alert(1)"}, "link_url", "https://"),
        ({"link_url": "//evil.example/x"}, "link_url", "/ で始まるこのサイト内のパス"),
        ({"link_url": "/shop/signup x"}, "link_url", "/ で始まるこのサイト内のパス"),
        ({"link_url": "http://city.example.jp/"}, "link_url", "https://"),
        ({"first_day": "12/07"}, "first_day", "YYYY-MM-DD"),
        ({"first_day": "2026-12-10", "last_day": "2026-12-09"}, "last_day", "開始日以降"),
    ],
)
def test_bad_input_names_the_field(changes: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_house_ad(form(**changes), TODAY)
    assert refused.value.field == field
    assert message in refused.value.message


def test_a_schedule_runs_over_whole_tokyo_days() -> None:
    values = parse_house_ad(form(first_day="2026-12-08", last_day="2026-12-10"), TODAY)
    assert values.starts_at == datetime.fromisoformat("2026-12-07T15:00:00+00:00")
    assert values.ends_at == datetime.fromisoformat("2026-12-10T15:00:00+00:00")
    open_ended = parse_house_ad(form(), TODAY)
    assert open_ended.first_day == TODAY and open_ended.ends_at is None
    assert parse_house_ad(form(link_url="https://www.city.example.jp/"), TODAY).link_url == (
        "https://www.city.example.jp/"
    )


def test_create_edit_schedule_and_retire(session: Session) -> None:
    session.execute(delete(HouseAd))
    ad = create_house_ad(session, parse_house_ad(form(first_day="2026-12-08"), TODAY), STAFF)
    assert status_of(ad, NOON) is HouseAdStatus.SCHEDULED
    assert live_house_ads(session, NOON) == ()
    tomorrow = NOON + timedelta(days=1)
    assert live_house_ads(session, tomorrow) == (
        HouseAdCard(ad.id, "広告募集中", ad.body, "/marketplace/shop/signup", True, True),
    )
    update_house_ad(
        session, ad.id, parse_house_ad(form(side="", last_day="2026-12-08"), TODAY), STAFF
    )
    assert last_day_of(ad) == date(2026, 12, 8)
    assert live_house_ads(session, tomorrow)[0].side is False
    assert status_of(ad, tomorrow + timedelta(days=1)) is HouseAdStatus.ENDED
    retire_house_ad(session, ad.id, STAFF, now=tomorrow)
    assert status_of(ad, tomorrow) is HouseAdStatus.RETIRED
    assert live_house_ads(session, tomorrow) == ()
    with pytest.raises(InvalidInput, match="取り下げたお知らせは編集できません"):
        update_house_ad(session, ad.id, parse_house_ad(form(), TODAY), STAFF)
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject_type == "house_ad")
    ).all()
    assert actions == ["house_ad_created", "house_ad_updated", "house_ad_retired"]


def test_counts_are_written_as_rows_and_summed(session: Session) -> None:
    ad = create_house_ad(session, parse_house_ad(form(), TODAY), STAFF)
    session.flush()
    counter = HouseAdCounter()
    for _ in range(3):
        counter.shown(ad.id, Surface.FEED, NOON)
    counter.viewed(ad.id, Surface.FEED, NOON)
    counter.shown(ad.id, Surface.SIDE, NOON + timedelta(hours=1))
    factory = sessionmaker(bind=session.connection(), join_transaction_mode="create_savepoint")
    assert counter.flush(factory) == 2
    assert counter.flush(factory) == 0  # nothing new
    counter.viewed(ad.id, Surface.SIDE, NOON + timedelta(hours=1))
    assert counter.flush(factory) == 1
    totals = house_ad_totals(session, NOON - timedelta(days=30))
    assert totals[ad.id][Surface.FEED].shown == 3 and totals[ad.id][Surface.FEED].views == 1
    assert totals[ad.id][Surface.SIDE].shown == 1 and totals[ad.id][Surface.SIDE].views == 1
    assert session.scalar(select(HouseAdCount.shown).where(HouseAdCount.surface == "side")) == 1


def test_counts_that_cannot_be_written_wait_for_the_next_flush(session: Session) -> None:
    counter = HouseAdCounter()
    counter.shown(999_999_999, Surface.FEED, NOON)  # no such house ad: the insert fails

    class DatabaseDown:
        def begin(self) -> Session:
            raise ConnectionError("database down")

    assert counter.flush(DatabaseDown()) == 0  # type: ignore[arg-type]
    assert counter.pending() == {(999_999_999, Surface.FEED, NOON.replace(minute=0)): (1, 0)}
