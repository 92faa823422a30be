from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from analytics.demo_history import seed_history
from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.models import Shop
from tests.portal_plugin.test_finance_routes import CONFIG


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
