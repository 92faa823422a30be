from __future__ import annotations

import csv
import io
from datetime import date

import pandas as pd
from openpyxl import load_workbook

from analytics.export import ReportTable, content_disposition, neutralise, to_csv, to_xlsx


def _table(frame: pd.DataFrame) -> ReportTable:
    return ReportTable("shops", "広告主", frame, {"name": "店名", "amount": "金額"})


def test_csv_has_bom_japanese_headers_and_neutralised_formulas() -> None:
    frame = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://x")', "+1", "-cmd", "@SUM(A1)", "鶴ヶ城そば"],
            "amount": pd.array([1, -2, 3, None, 5], dtype="Int64"),
        }
    )
    data = to_csv(_table(frame))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["店名", "金額"]
    assert [row[0] for row in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-cmd",
        "'@SUM(A1)",
        "鶴ヶ城そば",
    ]
    # Numbers are numbers (a negative amount is not a formula); missing is empty, never "nan".
    assert [row[1] for row in rows[1:]] == ["1", "-2", "3", "", "5"]


def test_empty_exports_keep_their_headers() -> None:
    empty = pd.DataFrame(columns=["name", "amount"])
    rows = list(csv.reader(io.StringIO(to_csv(_table(empty)).decode("utf-8-sig"))))
    assert rows == [["店名", "金額"]]
    workbook = load_workbook(io.BytesIO(to_xlsx([_table(empty)])))
    sheet = workbook.active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]] == ["店名", "金額"]
    assert sheet.max_row == 1


def test_xlsx_keeps_numbers_and_neutralises_text() -> None:
    frame = pd.DataFrame(
        {"name": ["=1+1", "店"], "amount": [1200, 30], "day": [date(2026, 4, 1)] * 2}
    )
    workbook = load_workbook(io.BytesIO(to_xlsx([_table(frame), _table(frame)])))
    assert workbook.sheetnames == ["広告主", "広告主 (2)"]
    sheet = workbook["広告主"]
    assert sheet["A2"].value == "'=1+1"
    assert sheet["B2"].value == 1200
    assert sheet["A2"].data_type == "s"


def test_neutralise_leaves_non_text_alone() -> None:
    assert neutralise(-5) == -5
    assert neutralise("\t=cmd") == "'\t=cmd"
    assert "filename*=UTF-8''" in content_disposition("収益.csv")
