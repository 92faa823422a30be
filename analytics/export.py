"""The one way tables leave the system: CSV (UTF-8 with BOM) and Excel, formula-safe.

Spreadsheet programs execute a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some
also tab or carriage return) as a formula. Every text cell that starts with one of these is
prefixed with a single quote, so it is shown as text. Numbers stay numbers: a negative amount
is a number, not text, and is never a formula.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXCEL_SHEET_TITLE_MAX = 31


@dataclass(frozen=True)
class ReportTable:
    """A table as shown on a page and exported: a key for URLs, a title, columns with labels."""

    key: str
    title: str
    frame: pd.DataFrame
    labels: Mapping[str, str] = field(default_factory=dict)
    # Columns that exports keep (codes a spreadsheet can join on) but pages do not show: a
    # person reads the label column next to them.
    export_only: frozenset[str] = frozenset()

    @property
    def columns(self) -> list[str]:
        return [str(column) for column in self.frame.columns]

    @property
    def shown(self) -> list[bool]:
        """Per column, whether a page shows it."""
        return [column not in self.export_only for column in self.columns]

    @property
    def headers(self) -> list[str]:
        return [self.labels.get(column, column) for column in self.columns]

    def rows(self) -> list[list[Any]]:
        """Plain Python values; missing numbers become None (shown as a dash, never NaN)."""
        return [[_plain(value) for value in row] for row in self.frame.itertuples(index=False)]


def neutralise(value: Any) -> Any:
    """Make a cell safe for spreadsheets: text that looks like a formula becomes literal text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        # numpy scalars → Python scalars
        return value.item()
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_csv(table: ReportTable) -> bytes:
    """CSV with a UTF-8 BOM so that Excel opens Japanese text correctly; headers always."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(header) for header in table.headers])
    for row in table.rows():
        writer.writerow(
            [neutralise(_text(value)) if isinstance(value, str) else _text(value) for value in row]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(tables: Sequence[ReportTable]) -> bytes:
    """One worksheet per table, headers in bold-free first row, text cells neutralised."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    used: set[str] = set()
    for table in tables:
        title = _sheet_title(table.title, used)
        sheet = workbook.create_sheet(title)
        sheet.append([neutralise(header) for header in table.headers])
        for row in table.rows():
            sheet.append([_excel_value(value) for value in row])
        for index, header in enumerate(table.headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(
                10, min(40, len(header) * 2 + 2)
            )
    if not tables:
        workbook.create_sheet("empty")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _excel_value(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones; the report's times are already in Tokyo.
        return value.replace(tzinfo=None)
    return value


def _sheet_title(title: str, used: set[str]) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:EXCEL_SHEET_TITLE_MAX]
    cleaned = cleaned or "sheet"
    candidate, number = cleaned, 2
    while candidate in used:
        suffix = f" ({number})"
        candidate = cleaned[: EXCEL_SHEET_TITLE_MAX - len(suffix)] + suffix
        number += 1
    used.add(candidate)
    return candidate


def content_disposition(filename: str) -> str:
    """An attachment header; ASCII fallback plus the RFC 5987 UTF-8 name."""
    from urllib.parse import quote

    ascii_name = "".join(ch if ch.isascii() and ch not in '"\\;' else "_" for ch in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
