"""CSV and XLSX downloads of any report table (XLSX written by openpyxl)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook

from reports.selectors.base import Table

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def table_csv(table: Table, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    writer = csv.writer(response)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(
            ["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in row]
        )
    return response


def table_xlsx(table: Table, filename: str) -> HttpResponse:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=table.title[:31] or "report")
    sheet.append([str(c) for c in table.columns])
    for row in table.rows:
        sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
