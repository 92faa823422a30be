from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.models import Shop
from portal_plugin.demo.history import seed_history
from tests.support.analytics_world import CONFIG


def test_transparency_page_without_revenue_says_so(client: TestClient) -> None:
    page = client.get("/transparency")
    assert page.status_code == 200
    assert "まだありません" in page.text
    assert "おすすめをやめるには" in page.text


@pytest.mark.slow
def test_transparency_page_shows_aggregates_only(client: TestClient, session: Session) -> None:
    seed_history(session, CONFIG, today=tokyo_date(utcnow()), shops=12, years=1, seed=2)
    session.flush()
    page = client.get("/transparency")
    assert page.status_code == 200
    assert "除雪車ナビ" in page.text and "<meter" in page.text
    assert re.search(r"¥[0-9,]+", page.text)
    names = session.scalars(select(Shop.business_name)).all()
    assert names and not any(name in page.text for name in names)  # a count, never a name
    assert "style=" not in page.text  # strict CSP: no inline styles


def test_transparency_page_carries_the_external_transmission_notice(client: TestClient) -> None:
    """外部送信規律: what residents' devices send, to whom; outside services for shops only."""
    page = client.get("/transparency").text
    notice = page[page.index('<h2 id="external">') :]
    assert "外部送信規律" in notice
    assert "このサービス（会津若松市）" in notice and "IPアドレス" in notice
    assert "外部の事業者に、あなたの情報を送ることはありません" in notice
    assert "Stripe, Inc." in notice and "住民の情報は送りません" in notice
    english = client.get("/transparency?lang=en").text
    assert "Under the Telecommunications Business Act" in english and "Stripe, Inc." in english
