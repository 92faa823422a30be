"""「あなたのデータ」 (/me): what the plugin holds about a resident, as a page and a JSON file, and
「データを削除」, which forgets them as `privacy forget` does while shops' reports and the city's
figures stay exactly the same."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from analytics.dashboard import load_dashboard
from analytics.retention import resident_key
from analytics.shop_report_source import load_shop_report
from analytics.transparency import load_transparency
from marketplace.calendar import TOKYO, fiscal_year, tokyo_date, week_start
from marketplace.db import utcnow
from marketplace.delivery.choices import hide_shop, set_personalized_ads
from marketplace.delivery.models import AdOffer
from marketplace.models import Article, InteractionEvent, Resident
from marketplace.vocab import AgeBand, Household, InteractionKind
from portal_plugin.app import create_app
from portal_plugin.identity import HEADER, ResidentIdentity, mint_token
from tests.support.analytics_world import book, deliver, shop
from tests.support.delivery_world import BROWSER
from tests.support.resident_hooks import RecordingHooks
from tests.support.settings import TEST_IDENTITY_SECRET, make_settings

HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
TOKEN = re.compile(r'name="choice_token" value="([^"]+)"')
_n = itertools.count(1)


def identity(external_id: str) -> ResidentIdentity:
    return ResidentIdentity(
        external_id=external_id,
        age_band=AgeBand.AGE_30S,
        household=Household.YOUNG_CHILDREN,
        district="tsuruga",
        interests=("子育て", "イベント"),
        personalization_consent=True,
    )


def headers(external_id: str, accept: dict[str, str] = HTML) -> dict[str, str]:
    return {HEADER: mint_token(TEST_IDENTITY_SECRET, identity(external_id)), **accept}


@dataclasses.dataclass
class City:
    resident: str  # the resident's pseudonymous id, new for each test
    article_id: int
    booking_id: int
    shop_id: int
    delivered_at: datetime  # two Tokyo months: the resident's records fall in both


@pytest.fixture
def city(world_engine: Engine) -> City:
    """The resident has a stored profile, two article records, ad records in two months among
    29 other residents (rolled up), a hidden shop and personalised ads off."""
    n = next(_n)
    me = f"resident-my-data-{n}"
    key = resident_key(TEST_IDENTITY_SECRET, me)
    now = utcnow()
    monday = week_start(tokyo_date(now)) - timedelta(weeks=6)
    with Session(world_engine) as session, session.begin():
        owner = shop(session, "マイデータ試験そば")
        booking = book(session, owner, monday, weeks=6)
        resident = Resident(
            external_id=me,
            age_band=AgeBand.AGE_30S,
            household=Household.YOUNG_CHILDREN,
            district="tsuruga",
            interests=["子育て"],
            gadgets=["snow-plough"],
            personalization_consent=True,
        )
        session.add(resident)
        article = Article(
            external_id=f"my-data-article-{n}",
            title="子育て支援のお知らせ",
            summary="試験の記事",
            url="https://www.city.aizuwakamatsu.fukushima.jp/my-data",
            category="子育て",
            tags=[],
            published_at=now - timedelta(days=50),
        )
        session.add(article)
        session.flush()
        first = datetime.combine(monday + timedelta(days=1), time(19), tzinfo=TOKYO)
        second = first + timedelta(weeks=5)
        for at, kind in ((first, InteractionKind.VIEW), (second, InteractionKind.CLICK)):
            session.add(
                InteractionEvent(
                    resident_id=resident.id, article_id=article.id, kind=kind, occurred_at=at
                )
            )
        for at in (first, second):
            viewers = [(key, "30-39", "young_children", "tsuruga")] + [
                (
                    resident_key(TEST_IDENTITY_SECRET, f"other-{at.day}-{n}"),
                    "30-39",
                    "couple",
                    "tsuruga",
                )
                for other in range(29)
            ]
            deliver(session, booking, viewers, at, clicks_every=1 if at is first else 0)
        hide_shop(session, key, owner.id, now)
        set_personalized_ads(session, key, False, now)
        return City(me, article.id, booking.id, owner.id, first)


@pytest.fixture
def hooks_and_client(
    city: City, world_engine: Engine, tmp_path: Path
) -> Iterator[tuple[RecordingHooks, TestClient]]:
    url = world_engine.url.render_as_string(hide_password=False)
    settings = make_settings(url, delivery_spool_dir=tmp_path / "spool")
    hooks = RecordingHooks(settings)
    app = create_app(settings, hooks, engine=world_engine)
    with TestClient(app, base_url="https://testserver", headers=BROWSER) as client:
        yield hooks, client


def test_my_data_needs_a_resident(hooks_and_client: tuple[RecordingHooks, TestClient]) -> None:
    _, client = hooks_and_client
    for path in ("/me", "/me/data.json"):
        assert client.get(path, headers=HTML).status_code == 401
    refused = client.get("/me", headers={HEADER: "not-a-token", **HTML})
    assert refused.status_code == 401 and "住民トークンが無効です" in refused.text


def test_my_data_page_shows_what_is_held_and_for_how_long(
    hooks_and_client: tuple[RecordingHooks, TestClient], city: City
) -> None:
    _, client = hooks_and_client
    page = client.get("/me", headers=headers(city.resident))
    assert page.status_code == 200, page.text
    text = page.text
    for shown in (
        "30代",
        "未就学児のいる",
        "鶴城",
        "子育て、イベント",
        "同意している",
        city.resident,
    ):
        assert shown in text, shown
    assert "マイデータ試験そば" in text and "また表示する" in text  # the hidden shop
    assert "好みに合わせた広告を再開" in text  # personalised ads are off
    first = city.delivered_at.strftime("%Y-%m")
    second = (city.delivered_at + timedelta(weeks=5)).strftime("%Y-%m")
    rows = dict(re.findall(r'<tr><th scope="row"[^>]*>([\d-]+)</th>(.*?)</tr>', text))
    cells = {
        month: re.findall(r'<td class="num"[^>]*>(\d+)</td>', row) for month, row in rows.items()
    }
    # article views, article clicks, ads shown, ads on screen, ad clicks
    assert cells == {first: ["1", "0", "1", "1", "1"], second: ["0", "1", "1", "1", "0"]}
    assert "13か月" in text and "あなたがデータを削除するまで" in text
    assert 'href="/me/data.json"' in text and "データを削除" in text


def test_my_data_downloads_as_a_json_file(
    hooks_and_client: tuple[RecordingHooks, TestClient], city: City
) -> None:
    _, client = hooks_and_client
    answer = client.get("/me/data.json", headers=headers(city.resident, JSON))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert re.fullmatch(
        r'attachment; filename="my-data-\d{8}\.json"', answer.headers["content-disposition"]
    )
    assert answer.headers["cache-control"] == "no-store"
    data = json.loads(answer.content)
    assert data["external_id"] == city.resident
    assert data["from_host"]["household"] == "young_children"
    assert data["stored_profile"]["gadgets"] == ["snow-plough"]
    assert data["ad_settings"]["personalized_ads"] is False
    assert [s["shop_id"] for s in data["ad_settings"]["hidden_shops"]] == [city.shop_id]
    totals = {
        name: sum(month[name] for month in data["records_by_month"])
        for name in ("article_views", "article_clicks", "ads_shown", "ad_views", "ad_clicks")
    }
    assert totals == {
        "article_views": 1,
        "article_clicks": 1,
        "ads_shown": 2,
        "ad_views": 2,
        "ad_clicks": 1,
    }
    tables = {row["table"] for row in data["retention"]}
    assert {"ad_offers", "interaction_events", "residents", "resident_hidden_shops"} <= tables
    assert data["sent_to_others"] == []
    # Another resident's download holds none of it.
    other = client.get("/me/data.json", headers=headers("someone-else", JSON)).json()
    assert other["records_by_month"] == [] and other["stored_profile"] is None


def figures(session: Session, booking_id: int) -> Any:
    """A shop's report and the city's finance figures, as plain comparable values."""
    year = fiscal_year(tokyo_date(utcnow()))
    return plain(
        (
            load_shop_report(session, booking_id),
            load_dashboard(session, year, tokyo_date(utcnow())),
            load_transparency(session, year),
        )
    )


def plain(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return value.to_dict("split")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def test_deleting_my_data_forgets_me_and_leaves_reports_and_finance_unchanged(
    hooks_and_client: tuple[RecordingHooks, TestClient], city: City, world_engine: Engine
) -> None:
    hooks, client = hooks_and_client
    me = headers(city.resident)
    token = TOKEN.search(client.get("/me", headers=me).text)
    assert token
    with Session(world_engine) as session:
        before = figures(session, city.booking_id)
    assert before[0]["impressions"] == 60 and before[0]["clicks"] == 30

    refused = client.post("/me/data/delete", data={"confirm": "yes"}, headers=me)
    assert refused.status_code == 403  # no form token: another site cannot make the browser
    unconfirmed = client.post(
        "/me/data/delete", data={"choice_token": token.group(1)}, headers={**me, **JSON}
    )
    assert unconfirmed.status_code == 422

    answer = client.post(
        "/me/data/delete",
        data={"choice_token": token.group(1), "confirm": "yes"},
        headers=me,
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/me?done=forgotten"
    page = client.get(answer.headers["location"], headers=me).text
    assert "あなたのデータを削除しました" in page and "あなたの記録はありません" in page
    assert hooks.changes[-1].what == "forgotten" and hooks.changes[-1].external_id == city.resident
    assert hooks.changes[-1].hidden_shop_ids == ()

    key = resident_key(TEST_IDENTITY_SECRET, city.resident)
    with Session(world_engine) as session:
        assert session.scalar(select(func.count()).where(AdOffer.resident_key == key)) == 0
        assert session.scalar(select(Resident).where(Resident.external_id == city.resident)) is None
        events = select(func.count()).where(InteractionEvent.article_id == city.article_id)
        assert session.scalar(events) == 0
        assert figures(session, city.booking_id) == before

    again = client.post(
        "/me/data/delete",
        data={"choice_token": token.group(1), "confirm": "yes"},
        headers={**me, **JSON},
    )
    assert again.status_code == 200 and again.json()["deleted"] == "nothing"
