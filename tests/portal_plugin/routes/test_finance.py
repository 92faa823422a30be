from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.calendar import fiscal_year, tokyo_date
from marketplace.db import utcnow
from marketplace.vocab import StaffRole
from portal_plugin.demo.history import seed_history
from tests.support.analytics_world import CONFIG
from tests.support.staff_http import log_in


def test_dashboard_requires_finance_staff(client: TestClient, session: Session) -> None:
    assert client.get("/finance/").status_code == 401
    assert (
        client.get("/finance/", headers={"accept": "text/html"}, follow_redirects=False).status_code
        == 303
    )
    log_in(client, session, StaffRole.REVIEWER)
    assert client.get("/finance/").status_code == 403
    assert client.get("/finance/export/months.csv").status_code == 403


def test_empty_year_says_so_and_exports_keep_headers(client: TestClient, session: Session) -> None:
    log_in(client, session, StaffRole.FINANCE)
    page = client.get("/finance/?fiscal_year=2031")
    assert page.status_code == 200
    assert "まだありません" in page.text
    assert not re.search(r"\bNaN\b|>nan<|Infinity", page.text)
    exported = client.get("/finance/export/receivables.csv?fiscal_year=2031")
    assert exported.status_code == 200
    assert exported.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows == [
        ["請求書番号", "店舗", "発行日", "支払期日", "未収額（円）", "期日超過日数", "経過区分"]
    ]


@pytest.mark.parametrize("raw", ["1999", "abc", "20266"])
def test_bad_fiscal_year_is_refused_clearly(client: TestClient, session: Session, raw: str) -> None:
    log_in(client, session, StaffRole.FINANCE)
    response = client.get(f"/finance/?fiscal_year={raw}")
    assert response.status_code == 422
    assert "fiscal_year" in response.json()["error"]["message"]


@pytest.mark.slow
def test_dashboard_with_history_charts_and_exports(client: TestClient, session: Session) -> None:
    today = tokyo_date(utcnow())
    seed_history(session, CONFIG, today=today, shops=12, years=1, seed=5)
    session.flush()
    log_in(client, session, StaffRole.FINANCE)
    year = fiscal_year(today)
    page = client.get(f"/finance/?fiscal_year={year}")
    assert page.status_code == 200
    assert "除雪車ナビ" in page.text and "を地域の広告で賄いました" in page.text
    assert 'type="application/json" id="chart-spec-revenue_vs_costs"' in page.text
    assert "<script>" not in page.text  # no inline script under the strict CSP
    png = client.get(f"/finance/charts/services.png?fiscal_year={year}")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    workbook = load_workbook(
        io.BytesIO(client.get(f"/finance/export/all.xlsx?fiscal_year={year}").content)
    )
    assert "月別の収入と運営費" in workbook.sheetnames
    assert client.get("/finance/export/nope.csv").status_code == 404
    assert client.get("/finance/charts/nope.png").status_code == 404
    assert date.today().year >= 2026
