"""Staff see forecast vs sold per placement-week (issue 20 item 3, staff part)."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.vocab import StaffRole
from portal_plugin.demo.inventory import seed_inventory
from tests.support.analytics_world import shop
from tests.support.marketplace_http import HTML, monday
from tests.support.page_text import visible_text
from tests.support.reach_traffic import traffic
from tests.support.reach_world import oversold_week
from tests.support.staff_http import log_in


def test_a_week_sold_beyond_its_residents_is_flagged_with_the_cause(
    client: TestClient, session: Session
) -> None:
    placement = seed_inventory(session)[0]
    traffic(session, placement)
    week = monday()
    extra_id = oversold_week(session, placement, week, [shop(session) for _ in range(3)])
    log_in(client, session, StaffRole.FINANCE)
    inventory = client.get("/staff/inventory", headers=HTML)
    assert "/staff/inventory/reach" in inventory.text
    page = client.get("/staff/inventory/reach", headers=HTML)
    assert page.status_code == 200
    text = visible_text(page.text).replace("\n", " ")
    assert placement.name in text
    assert f"{week:%m/%d} 5 / 4" in text
    assert "売りすぎ" in text
    assert f"予約 #{extra_id}:" in text
    assert "同じ住民向けの広告がほかにも売れていて、表示できる枠が足りない" in text
    # The other weeks sold nothing.
    assert "販売なし" in text
    english = visible_text(client.get("/staff/inventory/reach?lang=en", headers=HTML).text)
    assert "Oversold" in english


def test_reviewers_and_finance_only(client: TestClient, session: Session) -> None:
    assert (
        client.get("/staff/inventory/reach", headers=HTML, follow_redirects=False).status_code
        == 303
    )
    log_in(client, session, StaffRole.REVIEWER)
    assert client.get("/staff/inventory/reach", headers=HTML).status_code == 200
