"""HTTP responses for exported tables: every download goes through `analytics.export`."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import Response

from analytics.export import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    ReportTable,
    content_disposition,
    to_csv,
    to_xlsx,
)

EXPORT_FORMATS = ("csv", "xlsx")


def table_download(tables: Sequence[ReportTable], fmt: str, filename: str) -> Response:
    """CSV (first table, UTF-8 with BOM) or an Excel workbook with one sheet per table."""
    headers = {"content-disposition": content_disposition(f"{filename}.{fmt}")}
    headers["cache-control"] = "no-store"
    if fmt == "csv":
        return Response(to_csv(tables[0]), media_type=CSV_MEDIA_TYPE, headers=headers)
    return Response(to_xlsx(tables), media_type=XLSX_MEDIA_TYPE, headers=headers)
