from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from analytics.costs import cost_history, current_rule
from analytics.seeds import seed_services
from marketplace.vocab import StaffRole
from tests.support.staff_http import csrf_from, log_in


@pytest.fixture
def finance_client(client: TestClient, session: Session) -> TestClient:
    seed_services(session)
    log_in(client, session, StaffRole.FINANCE)
    return client


def _token(client: TestClient) -> str:
    return csrf_from(client.get("/finance/costs?fiscal_year=2026").text)


def test_finance_records_and_edits_a_cost_with_history(
    finance_client: TestClient, session: Session
) -> None:
    token = _token(finance_client)
    for amount in ("1,200,000", "1300000"):
        response = finance_client.post(
            "/finance/costs",
            data={
                "csrf_token": token,
                "fiscal_year": "2026",
                "service": "aizukko-plus",
                "month": "0",
                "amount_yen": amount,
                "note": "予算",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
    history = cost_history(session, 2026)
    assert [(h.old_amount_yen, h.new_amount_yen) for h in history] == [
        (1_200_000, 1_300_000),
        (None, 1_200_000),
    ]
    assert history[0].changed_by_name == "finance 職員"
    page = finance_client.get("/finance/costs?fiscal_year=2026")
    assert "¥1,300,000" in page.text and "finance 職員" in page.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount_yen", "-5", "負の値"),
        ("amount_yen", "12.5", "整数"),
        ("service", "no-such", "登録されていません"),
        ("fiscal_year", "1900", "年度"),
        ("month", "13", "月"),
    ],
)
def test_bad_cost_input_is_refused_with_a_clear_message(
    finance_client: TestClient, session: Session, field: str, value: str, message: str
) -> None:
    data = {
        "csrf_token": _token(finance_client),
        "fiscal_year": "2026",
        "service": "snow-plough",
        "month": "0",
        "amount_yen": "100",
    }
    data[field] = value
    response = finance_client.post("/finance/costs", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert cost_history(session, 2026) == []  # nothing half-written


def test_finance_sets_the_priority_rule(finance_client: TestClient, session: Session) -> None:
    response = finance_client.post(
        "/finance/allocation",
        data={
            "csrf_token": _token(finance_client),
            "fiscal_year": "2026",
            "method": "priority",
            "rank_snow-plough": "2",
            "rank_portal-operations": "1",
            "rank_maternal-health": "3",
            "rank_aizukko-plus": "4",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    rule = current_rule(session)
    assert rule.method.value == "priority"
    assert rule.priority_order[:2] == ("portal-operations", "snow-plough")
    bad = finance_client.post(
        "/finance/allocation",
        data={"csrf_token": _token(finance_client), "fiscal_year": "2026", "method": "dice"},
    )
    assert bad.status_code == 422 and "配分方法" in bad.text


def test_posting_without_csrf_token_is_refused(finance_client: TestClient) -> None:
    response = finance_client.post(
        "/finance/costs",
        data={"fiscal_year": "2026", "service": "snow-plough", "month": "0", "amount_yen": "1"},
    )
    assert response.status_code == 403
